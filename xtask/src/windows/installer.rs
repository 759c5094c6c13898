//! The Windows installer: built by NSIS (`makensis`, packaging/windows/
//! webburn.nsi) from the release helper and the built page, then tried
//! under Wine as a person would: installed silently without administrator
//! rights, its files, Run value and Apps entry checked, the installed
//! helper serving the page installed beside it, then uninstalled and
//! checked gone.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::wine;
use crate::{package, root, run};

/// The user's local application data in a Wine prefix (any user name).
fn local_app_data(prefix: &Path) -> Option<PathBuf> {
    let users = std::fs::read_dir(prefix.join("drive_c/users")).ok()?;
    users
        .filter_map(Result::ok)
        .map(|u| u.path().join("AppData/Local"))
        .find(|d| d.join("Programs/webburn").exists())
}

/// Where the installed helper lives in a Wine prefix.
fn install_dir(prefix: &Path) -> Option<PathBuf> {
    local_app_data(prefix).map(|d| d.join("Programs/webburn"))
}

/// `reg query KEY [/v VALUE]` under Wine: its output, or `None` if absent.
fn reg_query(prefix: &Path, key: &str, value: Option<&str>) -> Option<String> {
    let mut q = wine(prefix);
    q.args(["reg", "query", key]);
    if let Some(v) = value {
        q.args(["/v", v]);
    }
    let out = q.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

const RUN_KEY: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run";
const APPS_KEY: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\webburn";

/// Builds the installer from `helper` and the page in `www`; returns it.
pub(super) fn build(helper: &Path, www: &Path) -> Result<PathBuf> {
    let version = env!("CARGO_PKG_VERSION");
    let out_dir = root().join("target/windows");
    std::fs::create_dir_all(&out_dir)?;
    let setup = out_dir.join(format!("webburn-helper-{version}-windows.exe"));
    let mut nsis = std::process::Command::new("makensis");
    nsis.arg("-V2")
        .arg(format!("-DVERSION={version}"))
        .arg(format!("-DHELPER={}", helper.display()))
        .arg(format!(
            "-DHELPERW={}",
            helper.with_file_name("webburn-helperw.exe").display()
        ))
        .arg(format!("-DWWW={}", www.display()))
        .arg(format!("-DOUTFILE={}", setup.display()))
        .arg(root().join("packaging/windows/webburn.nsi"));
    run(
        nsis,
        "makensis packaging/windows/webburn.nsi (the Windows installer)",
    )?;
    Ok(setup)
}

/// Installs `setup` silently in `prefix`, checks what it put in place and
/// that the installed helper serves its page, uninstalls and checks that
/// nothing is left.
pub(super) fn check(prefix: &Path, setup: &Path) -> Result<()> {
    let mut install = wine(prefix);
    install.arg(setup).arg("/S");
    run(
        install,
        "the installer, silently, under Wine (no administrator)",
    )?;
    let dir = install_dir(prefix).context("the installer made no Programs\\webburn folder")?;
    for f in [
        "webburn-helper.exe",
        "uninstall.exe",
        "www/index.html",
        "www/pkg/webburn_web_bg.wasm",
    ] {
        if !dir.join(f).is_file() {
            bail!("the installer did not install {f}");
        }
    }
    let run_value = reg_query(prefix, RUN_KEY, Some("webburn-helper")).unwrap_or_default();
    if !run_value.contains(r#"\webburn-helperw.exe" serve"#) {
        bail!("the installer wrote no Run value: {run_value}");
    }
    let apps = reg_query(prefix, APPS_KEY, None).unwrap_or_default();
    if !apps.contains("webburn helper") || !apps.contains("uninstall.exe") {
        bail!("the installer added no Apps entry: {apps}");
    }
    let data = tempfile_dir()?;
    let mut helper = wine(prefix);
    helper
        .arg(dir.join("webburn-helper.exe"))
        .arg("--data-dir")
        .arg(&data);
    package::serves_installed_page(helper, "the installed Windows helper")?;
    let _ = std::fs::remove_dir_all(&data);
    // `install` makes the local certificate authority in the user's local
    // application data, its key sealed with DPAPI; the uninstaller removes it.
    let mut ca = wine(prefix);
    ca.arg(dir.join("webburn-helper.exe")).arg("install");
    run(
        ca,
        "webburn-helper install (the local certificate authority)",
    )?;
    let key = local_app_data(prefix)
        .map(|d| d.join("webburn/tls/ca.key"))
        .context("no local application data folder in the prefix")?;
    let sealed = std::fs::read(&key).with_context(|| format!("{}", key.display()))?;
    if sealed.windows(11).any(|w| w == b"PRIVATE KEY") {
        bail!("the certificate authority's key is stored in the clear");
    }
    let mut uninstall = wine(prefix);
    uninstall.arg(dir.join("uninstall.exe")).arg("/S");
    run(uninstall, "the uninstaller, silently, under Wine")?;
    // NSIS's uninstaller runs from a copy in %TEMP% and returns at once.
    let started = Instant::now();
    while dir.exists() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(200));
    }
    if dir.exists() {
        bail!("the uninstaller left {}", dir.display());
    }
    if reg_query(prefix, RUN_KEY, Some("webburn-helper")).is_some() {
        bail!("the uninstaller left the Run value");
    }
    if reg_query(prefix, APPS_KEY, None).is_some() {
        bail!("the uninstaller left the Apps entry");
    }
    if key.exists() {
        bail!("the uninstaller left the certificate authority's key");
    }
    eprintln!(
        "xtask: {}: installed without administrator under Wine, served its page, uninstalled cleanly",
        setup.display()
    );
    Ok(())
}

/// A fresh data directory for the installed helper's run.
fn tempfile_dir() -> Result<PathBuf> {
    let dir = root().join("target/windows/installed-data");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
