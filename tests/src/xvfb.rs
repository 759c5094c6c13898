//! A private X display (Xvfb) for programs that need one: the tray tests'
//! desktop and WebKitGTK's MiniBrowser, which has no headless mode.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running Xvfb; stopped when dropped.
#[derive(Debug)]
pub struct Xvfb {
    /// `:N`.
    pub display: String,
    child: Child,
}

impl Xvfb {
    /// Starts Xvfb on a display number it picks itself (`-displayfd`, so
    /// tests starting displays side by side never collide), one screen of
    /// `width`x`height` at 24 bits, no TCP.
    pub fn start(width: u32, height: u32) -> Result<Xvfb, String> {
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-nolisten", "tcp", "-screen", "0"])
            .arg(format!("{width}x{height}x24"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("Xvfb: {e}"))?;
        // Xvfb writes the number once it accepts clients.
        let mut line = String::new();
        let read = child
            .stdout
            .take()
            .map(|out| BufReader::new(out).read_line(&mut line));
        let number = line.trim();
        if !matches!(read, Some(Ok(n)) if n > 0) || number.parse::<u32>().is_err() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("Xvfb did not say its display ({line:?})"));
        }
        Ok(Xvfb {
            display: format!(":{number}"),
            child,
        })
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM, so Xvfb removes its socket and lock file (a killed one
        // leaves them behind and the display number stays taken).
        let terminated = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while terminated && std::time::Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
