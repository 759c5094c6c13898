//! The emulated recorder's CDB interpreter, fed command sequences: the
//! first byte picks the medium, then each command is a CDB length, the CDB,
//! a data direction and a data length (its data-out bytes follow). State
//! carries from command to command (writes, a closed session, an open tray,
//! Test Write), as on a drive.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use webburn_emulated::{EmulatedRecorder, EmulatedSpec, Medium};
use webburn_scsi::transport::{DataDirection, ScsiCommand, ScsiTransport};

const MEDIA: [Medium; 5] = [
    Medium::BdR,
    Medium::DvdPlusR,
    Medium::DvdMinusR,
    Medium::CdR,
    Medium::RemovableDisk,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, mut rest)) = data.split_first() else {
        return;
    };
    // On tmpfs when there is one: SYNCHRONIZE CACHE fsyncs the image.
    let base = std::path::Path::new("/dev/shm");
    let base = if base.is_dir() { base.to_path_buf() } else { std::env::temp_dir() };
    let dir = base.join(format!("webburn-fuzz-{}", std::process::id()));
    let image = dir.join("r.img");
    let _ = std::fs::create_dir_all(&dir);
    for state in ["", ".closed", ".ejected"] {
        let _ = std::fs::remove_file(format!("{}{state}", image.display()));
    }
    let mut spec = EmulatedSpec::new(&image, MEDIA[usize::from(pick) % MEDIA.len()]);
    spec.capacity = 2048;
    let Ok(mut r) = EmulatedRecorder::open(spec) else {
        return;
    };
    for _ in 0..16 {
        let Some((&len, tail)) = rest.split_first() else {
            break;
        };
        let cdb_len = 6 + usize::from(len % 11);
        if tail.len() < cdb_len + 3 {
            break;
        }
        let (cdb, tail) = tail.split_at(cdb_len);
        let direction = tail[0] % 3;
        let data_len = usize::from(u16::from_le_bytes([tail[1], tail[2]])) % 70_000;
        let tail = &tail[3..];
        let mut buf = vec![0u8; data_len];
        let out = tail.len().min(data_len);
        buf[..out].copy_from_slice(&tail[..out]);
        rest = if direction == 1 { &tail[out..] } else { tail };
        let data = match direction {
            0 => DataDirection::None,
            1 => DataDirection::ToDevice(&buf),
            _ => DataDirection::FromDevice(&mut buf),
        };
        let _ = r.execute(ScsiCommand {
            cdb,
            data,
            timeout: Duration::from_millis(50),
        });
    }
});
