//! The Windows tray under Wine on an X display (Xvfb): `serve --tray on`
//! prints its ready line only once `Shell_NotifyIconW` has taken the icon,
//! and stops with an error when it cannot. What the menu shows is tested as
//! plain data with the helper's unit tests.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::wine;
use crate::{root, run, tools};

/// An X display number no server uses: no socket and no lock file.
fn free_display() -> Option<u32> {
    (90..400).find(|n| {
        !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
    })
}

/// Shows the Windows helper's tray on a private Xvfb display.
pub(super) fn check(prefix: &Path, exe: &Path) -> Result<()> {
    tools::desktop()?;
    let n = free_display().context("no free X display number")?;
    let display = format!(":{n}");
    let mut xvfb = Command::new("Xvfb")
        .args([&display, "-screen", "0", "800x600x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start Xvfb")?;
    let result = shown_on(prefix, exe, &display, n);
    let _ = xvfb.kill();
    let _ = xvfb.wait();
    result
}

fn shown_on(prefix: &Path, exe: &Path, display: &str, n: u32) -> Result<()> {
    let started = Instant::now();
    while !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
        if started.elapsed() > Duration::from_secs(10) {
            bail!("Xvfb did not start");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Wine's desktop process starts with the first program of a prefix:
    // wait until the tests' has ended so the next one sees this display.
    let mut idle = Command::new("wineserver");
    idle.env("WINEPREFIX", prefix).arg("-w");
    run(idle, "wineserver -w (the prefix idle)")?;
    let data = root().join("target/windows/tray-data");
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data)?;
    let mut helper = wine(prefix)
        .env("DISPLAY", display)
        .arg(exe)
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--port", "0", "--tray", "on"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start the Windows helper under Wine")?;
    let stdout = helper.stdout.take().context("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let ready = rx
        .recv_timeout(Duration::from_secs(120))
        .unwrap_or_default();
    let _ = helper.kill();
    let _ = helper.wait();
    let mut log = String::new();
    if let Some(mut e) = helper.stderr.take() {
        let _ = e.read_to_string(&mut log);
    }
    let mut idle = Command::new("wineserver");
    idle.env("WINEPREFIX", prefix).arg("-w");
    run(idle, "wineserver -w (Wine's desktop ended)")?;
    if !ready.starts_with("webburn-helper listening on") || !log.contains("tray icon shown") {
        bail!("the Windows tray was not shown under Wine on Xvfb: {ready}{log}");
    }
    eprintln!("xtask: the Windows helper's notification-area icon was shown under Wine (Xvfb)");
    Ok(())
}
