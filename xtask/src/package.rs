//! `cargo xtask package`: the .deb (cargo-deb, metadata in helper/Cargo.toml)
//! with the helper, the page, a systemd user unit and the udev rule for
//! optical drives; then checked: its file list, and the helper unpacked
//! from it serving the installed page.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::{root, run, tools};

/// What the package must carry.
const FILES: [&str; 10] = [
    "./usr/bin/webburn-helper",
    "./usr/lib/udev/rules.d/70-webburn.rules",
    "./usr/lib/systemd/user/webburn-helper.service",
    "./usr/share/webburn/www/index.html",
    "./usr/share/webburn/www/app.js",
    "./usr/share/webburn/www/common.js",
    "./usr/share/webburn/www/kiosk.html",
    "./usr/share/webburn/www/kiosk.js",
    "./usr/share/webburn/www/pkg/webburn_web.js",
    "./usr/share/webburn/www/pkg/webburn_web_bg.wasm",
];

/// Builds the .deb from the built page in target/www; returns its path.
pub(crate) fn build_deb() -> Result<PathBuf> {
    let bin = tools::cargo_deb()?;
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut deb = crate::cargo();
    deb.env("PATH", &path).args(["deb", "-p", "webburn-helper"]);
    eprintln!("xtask: cargo deb -p webburn-helper");
    let out = deb
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run cargo deb")?;
    if !out.status.success() {
        bail!("cargo deb failed");
    }
    let printed = String::from_utf8_lossy(&out.stdout);
    let deb_path = printed
        .lines()
        .rev()
        .map(|l| PathBuf::from(l.trim()))
        .find(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("deb")))
        .context("cargo deb named no .deb")?;
    check(&deb_path)?;
    Ok(deb_path)
}

fn http_get(port: u16, path: &str) -> Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    Ok(text)
}

/// Starts `helper` (a command up to its global options) as `serve --port
/// 0`, reads its ready line and fails unless it serves the page installed
/// beside it; then ends it.
pub(crate) fn serves_installed_page(mut helper: Command, what: &str) -> Result<()> {
    let mut child = helper
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {what}"))?;
    let mut ready = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut ready)?;
    }
    let port = ready
        .trim()
        .strip_prefix("webburn-helper listening on http://127.0.0.1:")
        .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok());
    let page = port.map(|p| http_get(p, "/"));
    let _ = child.kill();
    let _ = child.wait();
    let page = page.with_context(|| format!("{what} printed no ready line"))??;
    if !page.contains("<title>webburn</title>") {
        bail!("{what} does not serve the installed page");
    }
    Ok(())
}

/// The package lists every file, and its helper serves its own page.
fn check(deb: &Path) -> Result<()> {
    let list = Command::new("dpkg-deb").arg("-c").arg(deb).output()?;
    let list = String::from_utf8_lossy(&list.stdout);
    for f in FILES {
        if !list.lines().any(|l| l.ends_with(f)) {
            bail!("{} lacks {f}", deb.display());
        }
    }
    let unpacked = root().join("target/debian/unpacked");
    let _ = std::fs::remove_dir_all(&unpacked);
    let mut x = Command::new("dpkg-deb");
    x.arg("-x").arg(deb).arg(&unpacked);
    run(x, "dpkg-deb -x (the package unpacked)")?;
    let mut helper = Command::new(unpacked.join("usr/bin/webburn-helper"));
    helper.arg("--data-dir").arg(unpacked.join("data"));
    serves_installed_page(helper, "the packaged helper")?;
    eprintln!(
        "xtask: {}: {} files checked; unpacked, its helper serves the installed page",
        deb.display(),
        FILES.len()
    );
    Ok(())
}
