//! While a disk is written its block device is held exclusively (`O_EXCL`,
//! the kernel's claim that mounts take too): nothing mounts it meanwhile,
//! and it mounts again as soon as the write ends. A real block device (a
//! loop device over an ext4 image) stands for the stick; the kernel's own
//! `mount` is what is refused.

#![cfg(target_os = "linux")] // O_EXCL on a block device is Linux's claim
#![allow(clippy::unwrap_used)] // a test: a failed step is a failed test

use std::process::Command;

use webburn_emulated::{EmulatedRecorder, EmulatedSpec};
use webburn_engine::devices::Recorder;
use webburn_engine::{EngineConfig, WriteEngine};
use webburn_tests::{pattern, prerequisite_missing};

/// Undoes the loop device (and a mount left by a failed check) whatever happens.
struct Loop {
    dev: String,
    mnt: std::path::PathBuf,
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.mnt).output();
        let _ = Command::new("losetup").args(["-d", &self.dev]).output();
    }
}

fn ok(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[test]
fn nothing_mounts_a_disk_while_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let backing = dir.path().join("stick.ext4");
    std::fs::write(&backing, vec![0u8; 16 << 20]).unwrap();
    let made = ok(Command::new("mkfs.ext4").args(["-q", "-F"]).arg(&backing));
    let Some(loop_dev) =
        made.and_then(|_| ok(Command::new("losetup").args(["-f", "--show"]).arg(&backing)))
    else {
        prerequisite_missing("root, losetup and mkfs.ext4 (a loop device stands for the stick)");
    };
    let block = loop_dev.trim_start_matches("/dev/").to_owned();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let _undo = Loop {
        dev: loop_dev.clone(),
        mnt: mnt.clone(),
    };
    let mount = || {
        Command::new("mount")
            .arg(&loop_dev)
            .arg(&mnt)
            .output()
            .unwrap()
    };
    // The write goes to an emulated disk, slowly; the recorder names the
    // loop device as the disk it writes.
    let spec = EmulatedSpec::parse(&format!(
        "emulated:{},profile=disk,capacity=8MiB,speed=2MB/s",
        dir.path().join("image.img").display()
    ))
    .unwrap();
    let disk = block.clone();
    let rec = Recorder::from_transport(
        "sg:/dev/sg-test".into(),
        Box::new(EmulatedRecorder::open(spec).unwrap()),
    )
    .with_system_disks(move |_| vec![disk.clone()], false);
    let engine = WriteEngine::new(EngineConfig::default());
    engine.put_recorder(rec).unwrap();
    engine.put_bytes_per_sector(2048).unwrap();
    let data = pattern(4 << 20, 1);
    let (tx, rx) = std::sync::mpsc::channel();
    let (ew, dw) = (&engine, &data);
    std::thread::scope(|s| {
        let writer = s.spawn(move || {
            ew.write_section(&dw[..], None, 0, 2048, |a| {
                let _ = tx.send(a.last_written_lba);
            })
        });
        // Under way: the drive has taken data (4 MiB at 2 MB/s take 2 s).
        while rx.recv().expect("the write ended") < 0 {}
        assert!(engine.write_in_progress(), "the write still runs");
        let refused = mount();
        assert!(
            !refused.status.success(),
            "{loop_dev} was mounted while it was written"
        );
        writer.join().unwrap().unwrap();
    });
    let after = mount();
    assert!(
        after.status.success(),
        "the disk did not mount after the write: {}",
        String::from_utf8_lossy(&after.stderr)
    );
}
