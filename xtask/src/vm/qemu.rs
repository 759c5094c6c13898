//! The guest machine: QEMU under software emulation with the test devices,
//! its serial console read line by line on a thread.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// What the guest is given.
#[derive(Debug)]
pub(super) struct Machine {
    /// The kernel image.
    pub kernel: PathBuf,
    /// The initramfs archive.
    pub initrd: PathBuf,
    /// scsi-hd on virtio-scsi, INQUIRY product WB-SG (the SG_IO burn).
    pub sg_image: PathBuf,
    /// scsi-hd on virtio-scsi, INQUIRY product WB-WS (the WebSocket burn).
    pub ws_image: PathBuf,
    /// usb-storage on qemu-xhci (the USB Bulk-Only burn).
    pub usb_image: PathBuf,
    /// An iSCSI LUN passed through as scsi-generic: (portal, target IQN).
    pub optical: Option<(String, String)>,
    /// Host 127.0.0.1:`host_port` is forwarded to the guest's `guest_port`.
    pub host_port: u16,
    /// See `host_port`.
    pub guest_port: u16,
    /// Everything the console printed goes here.
    pub console_log: PathBuf,
    /// Host folders shared over 9p (virtio): (mount tag, folder, read-only).
    pub shares: Vec<(String, PathBuf, bool)>,
}

/// A running guest.
#[derive(Debug)]
pub(super) struct Vm {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

fn raw_drive(id: &str, image: &Path) -> String {
    format!(
        "if=none,id={id},format=raw,cache=writeback,file={}",
        image.display()
    )
}

impl Machine {
    fn command(&self) -> Command {
        let mut q = Command::new("qemu-system-x86_64");
        q.args([
            "-accel", "tcg", "-machine", "q35", "-cpu", "max", "-smp", "2",
        ])
        .args(["-m", "1024", "-nodefaults", "-no-reboot"])
        .args(["-display", "none", "-serial", "stdio", "-monitor", "none"])
        .arg("-kernel")
        .arg(&self.kernel)
        .arg("-initrd")
        .arg(&self.initrd)
        .args(["-append", "console=ttyS0 panic=-1 loglevel=4"])
        .args(["-device", "virtio-scsi-pci,id=scsi0"])
        .args(["-drive", &raw_drive("sg", &self.sg_image)])
        .args(["-device", "scsi-hd,drive=sg,bus=scsi0.0,product=WB-SG"])
        .args(["-drive", &raw_drive("ws", &self.ws_image)])
        .args(["-device", "scsi-hd,drive=ws,bus=scsi0.0,product=WB-WS"])
        .args(["-device", "qemu-xhci,id=xhci"])
        .args(["-drive", &raw_drive("usb", &self.usb_image)])
        .args(["-device", "usb-storage,bus=xhci.0,drive=usb"]);
        if let Some((portal, iqn)) = &self.optical {
            q.args([
                "-drive",
                &format!(
                    "if=none,id=optical,driver=iscsi,transport=tcp,portal={portal},target={iqn},lun=1"
                ),
            ])
            .args(["-device", "scsi-generic,drive=optical,bus=scsi0.0"]);
        }
        q.args([
            "-netdev",
            &format!(
                "user,id=net0,restrict=off,hostfwd=tcp:127.0.0.1:{}-10.0.2.15:{}",
                self.host_port, self.guest_port
            ),
        ])
        .args(["-device", "virtio-net-pci,netdev=net0,romfile="]);
        for (tag, folder, readonly) in &self.shares {
            q.arg("-virtfs").arg(format!(
                "local,path={},mount_tag={tag},security_model=passthrough{}",
                folder.display(),
                if *readonly { ",readonly=on" } else { "" }
            ));
        }
        q
    }

    /// Boots the guest.
    pub(super) fn start(&self) -> Result<Vm> {
        let mut child = self
            .command()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start qemu-system-x86_64")?;
        let stdout = child.stdout.take().context("qemu has no stdout")?;
        let stdin = child.stdin.take();
        let mut log = std::fs::File::create(&self.console_log)?;
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let line = line.trim_end_matches('\r').to_owned();
                let _ = writeln!(log, "{line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Vm {
            child,
            stdin,
            lines,
        })
    }
}

impl Vm {
    /// Console lines starting with "WEBBURN " (without it), printed as they
    /// come, until one starts with `until`; fails after `timeout` or if the
    /// guest reports a failure.
    pub(super) fn read_until(&mut self, until: &str, timeout: Duration) -> Result<Vec<String>> {
        let deadline = Instant::now() + timeout;
        let mut said = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let Some(msg) = line.strip_prefix("WEBBURN ") else {
                        continue;
                    };
                    eprintln!("vm: {msg}");
                    if msg.starts_with("failed") {
                        bail!("the guest failed: {msg}");
                    }
                    let done = msg.starts_with(until);
                    said.push(msg.to_owned());
                    if done {
                        return Ok(said);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    bail!("the guest did not say {until:?} within {timeout:?}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    bail!("the guest's console closed before it said {until:?}")
                }
            }
        }
    }

    /// Sends a line to the guest's console.
    pub(super) fn tell(&mut self, line: &str) -> Result<()> {
        let stdin = self.stdin.as_mut().context("the console is closed")?;
        writeln!(stdin, "{line}")?;
        stdin.flush()?;
        Ok(())
    }

    /// Waits for QEMU to exit after the guest powered off.
    pub(super) fn wait(mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!("qemu exited with {status}");
                }
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("qemu did not exit within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Vm {
    /// A guest left running (a failed run) is stopped; it is our own child.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
