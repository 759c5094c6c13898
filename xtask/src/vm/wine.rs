//! The Windows helper's SCSI pass-through against real SCSI devices: the
//! guest mounts the host's tree read-only over 9p (so the host's Wine and
//! its libraries are there) and a copy of the test prefix read-write, maps
//! drive D: to the optical drive (tgt's DVD+R over iSCSI) and E: to the
//! scsi-hd, and runs webburn-helper.exe under Wine, whose
//! IOCTL_SCSI_PASS_THROUGH_DIRECT becomes SG_IO on those devices. The host
//! then compares both images with the data byte for byte.

use std::time::Duration;

use anyhow::{Context, Result};
use sha2::Digest as _;

use super::{IMAGE_BYTES, check_result, compare, free_port, initramfs, pattern, prepare, tgt};
use crate::{run, windows};

/// Bytes burned through each device (whole 2048-byte sectors).
const DATA_BYTES: usize = 4 << 20;

/// Builds the Windows helper, readies a prefix for the guest, boots it and
/// checks both burns.
pub(super) fn run_windows_helper() -> Result<()> {
    crate::tools::rust_target(windows::TARGET)?;
    crate::tools::windows_packages()?;
    // The build the Windows tier tested (the guest checks SPTI, not speed).
    let exe = windows::tested_helper()?;
    let test_prefix = windows::prefix()?;
    let prepared = prepare("wine")?;
    let work = &prepared.work;
    // A copy of the test prefix with D: an optical drive and E: a disk.
    let prefix = work.join("prefix");
    let mut copy = std::process::Command::new("cp");
    copy.arg("-a").arg(&test_prefix).arg(&prefix);
    run(copy, "cp -a the Wine prefix for the guest")?;
    for (letter, kind) in [("d:", "cdrom"), ("e:", "hd")] {
        let mut reg = windows::wine(&prefix);
        reg.args([
            "reg",
            "add",
            r"HKLM\Software\Wine\Drives",
            "/v",
            letter,
            "/t",
            "REG_SZ",
            "/d",
            kind,
            "/f",
        ]);
        run(reg, &format!("Wine: drive {letter} is a {kind}"))?;
    }
    let mut flush = std::process::Command::new("wineserver");
    flush.env("WINEPREFIX", &prefix).arg("-w");
    run(flush, "wineserver -w (the registry saved)")?;

    let sg_data = pattern(DATA_BYTES, 21);
    let optical_data = pattern(DATA_BYTES, 22);
    let optical_image = work.join("optical.img");
    let target = tgt::Target::start(free_port()?, &optical_image, &work.join("tgtd.log"))?;
    let mut machine = prepared.machine(
        Some((target.portal.clone(), tgt::IQN.to_owned())),
        IMAGE_BYTES,
    )?;
    machine.shares = vec![
        ("host".into(), "/".into(), true),
        ("prefix".into(), prefix.clone(), false),
    ];
    let env = format!(
        "PORT={}\nRELAY={}\nOPTICAL=1\nWINE=1\nEXE={}\n",
        machine.host_port,
        machine.guest_port,
        exe.display()
    );
    let data: Vec<(&str, &[u8])> = vec![("sg.bin", &sg_data), ("optical.bin", &optical_data)];
    let archive = initramfs(&prepared.kernel, &prepared.helper, &data, &env, &[])?;
    std::fs::write(&machine.initrd, archive)?;
    eprintln!(
        "xtask: booting the guest for the Windows helper under Wine (console in {})",
        machine.console_log.display()
    );
    let mut vm = machine.start()?;
    let said = vm.read_until("poweroff", Duration::from_secs(900))?;
    vm.wait(Duration::from_secs(30))?;
    drop(target);
    for line in said.iter().filter(|l| l.starts_with("wine ")) {
        println!("vm: {line}");
    }
    check_result(&said, "wine-sg")?;
    check_result(&said, "wine-optical")?;
    compare(
        "Windows helper, SPTI under Wine -> SG_IO (scsi-hd)",
        &machine.sg_image,
        &sg_data,
    )?;
    let summary = said
        .iter()
        .find_map(|l| l.strip_prefix("result wine-optical "))
        .context("no optical summary")?;
    let want = format!("{:x}", sha2::Sha256::digest(&optical_data));
    if !(summary.contains(&format!("\"sha256\":\"{want}\""))
        && summary.contains("\"verified\":true"))
    {
        anyhow::bail!("the DVD+R burn under Wine did not verify the data's SHA-256: {summary}");
    }
    let disc = std::fs::read(&optical_image).context("the DVD+R's backing file")?;
    if disc.get(..optical_data.len()) != Some(&optical_data[..]) {
        anyhow::bail!("the DVD+R written through SPTI under Wine differs from the data");
    }
    println!(
        "vm: Windows helper, SPTI under Wine -> tgt's DVD+R: {} bytes identical, disc closed and verified",
        optical_data.len()
    );
    Ok(())
}
