//! The emulated optical writer: tgt's MMC target (an empty backing file is a
//! blank DVD+R) served over iSCSI on the host's 127.0.0.1, for QEMU to pass
//! into the guest as a SCSI generic device.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The target's name.
pub(super) const IQN: &str = "iqn.2026-11.org.webburn.vm:optical";

/// A tgtd of our own, stopped (by its PID) when dropped.
#[derive(Debug)]
pub(super) struct Target {
    child: Child,
    control_port: u16,
    /// `127.0.0.1:PORT` of the iSCSI portal.
    pub portal: String,
}

impl Target {
    fn tgtadm(&self, args: &[&str]) -> Result<()> {
        let out = Command::new("tgtadm")
            .arg("-C")
            .arg(self.control_port.to_string())
            .args(["--lld", "iscsi"])
            .args(args)
            .output()
            .context("cannot run tgtadm")?;
        if !out.status.success() {
            bail!(
                "tgtadm {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    /// Starts tgtd on `port` with one MMC LUN backed by `image` (created empty).
    pub(super) fn start(port: u16, image: &Path, log: &Path) -> Result<Target> {
        std::fs::File::create(image)?;
        // A control port of our own keeps clear of a system tgtd (port 0).
        let control_port = 7000 + port % 1000;
        let child = Command::new("tgtd")
            .args(["-f", "-C", &control_port.to_string()])
            .arg("--iscsi")
            .arg(format!("portal=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log)?)
            .spawn()
            .context("cannot start tgtd")?;
        let target = Target {
            child,
            control_port,
            portal: format!("127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while target
            .tgtadm(&["--op", "show", "--mode", "target"])
            .is_err()
        {
            if Instant::now() > deadline {
                bail!("tgtd did not answer within 10 s (see {})", log.display());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        target.tgtadm(&["--op", "new", "--mode", "target", "--tid", "1", "-T", IQN])?;
        let store = image.display().to_string();
        target.tgtadm(&[
            "--op",
            "new",
            "--mode",
            "logicalunit",
            "--tid",
            "1",
            "--lun",
            "1",
            "--device-type",
            "cd",
            "--backing-store",
            &store,
        ])?;
        target.tgtadm(&[
            "--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL",
        ])?;
        Ok(target)
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
