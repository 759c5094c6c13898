//! The local certificate authority in the user's trust stores: `install`
//! makes it (see `state::local_ca`) and adds it where the user's browsers
//! look, `uninstall` takes it out again and deletes it.
//!
//! On Linux, Chromium and Firefox read NSS databases: `~/.pki/nssdb`
//! (Chromium, GNOME Web's certificate dialogs) and each Firefox profile's
//! `cert9.db`; NSS's `certutil` (Debian: libnss3-tools) edits them. Elsewhere
//! the person adds it once by hand (docs/operators.md gives the Windows and macOS
//! commands); `install` says where the certificate is.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::state::local_ca::{LocalCa, NAME};

/// The NSS databases of `home` the authority goes into: Chromium's (made
/// when missing) and every Firefox profile's that exists.
fn nss_databases(home: &Path) -> Vec<PathBuf> {
    let mut dbs = vec![home.join(".pki/nssdb")];
    for firefox in [
        home.join(".mozilla/firefox"),
        home.join("snap/firefox/common/.mozilla/firefox"),
    ] {
        if let Ok(entries) = std::fs::read_dir(&firefox) {
            let mut profiles: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.join("cert9.db").is_file())
                .collect();
            profiles.sort();
            dbs.extend(profiles);
        }
    }
    dbs
}

/// Runs certutil; `None` when it is not installed.
fn certutil(args: &[&str]) -> Option<bool> {
    Command::new("certutil")
        .args(args)
        .output()
        .ok()
        .map(|o| o.status.success())
}

fn sql(db: &Path) -> String {
    format!("sql:{}", db.display())
}

/// Makes the authority (unless it exists) and trusts it in the user's NSS
/// databases; returns lines to print.
pub(super) fn install(data_dir: &Path, home: &Path) -> Result<Vec<String>, String> {
    let ca = LocalCa::of(data_dir);
    let cert = ca.create().map_err(|e| e.to_string())?;
    let mut said = vec![format!(
        "local certificate authority (for https:// and wss:// on 127.0.0.1): {}",
        cert.display()
    )];
    if !cfg!(target_os = "linux") {
        said.push(format!(
            "  add it to your trusted roots once (docs/operators.md, \"The local certificate authority\"): {}",
            cert.display()
        ));
        return Ok(said);
    }
    let cert = cert.to_string_lossy().into_owned();
    for db in nss_databases(home) {
        let dir = sql(&db);
        if !db.join("cert9.db").is_file() {
            let _ = std::fs::create_dir_all(&db);
            if certutil(&["-d", &dir, "-N", "--empty-password"]).is_none() {
                said.push(format!(
                    "  certutil (libnss3-tools) is not installed: import {cert} into your \
                     browsers' certificate authorities yourself"
                ));
                return Ok(said);
            }
        }
        // A second install replaces the entry rather than adding another.
        let _ = certutil(&["-d", &dir, "-D", "-n", NAME]);
        match certutil(&["-d", &dir, "-A", "-t", "C,,", "-n", NAME, "-i", &cert]) {
            Some(true) => said.push(format!("  trusted in {}", db.display())),
            _ => said.push(format!("  could not add it to {}", db.display())),
        }
    }
    Ok(said)
}

/// Takes the authority out of the user's NSS databases and deletes it;
/// returns lines to print.
pub(super) fn uninstall(data_dir: &Path, home: &Path) -> Result<Vec<String>, String> {
    let ca = LocalCa::of(data_dir);
    let mut said = Vec::new();
    if cfg!(target_os = "linux") {
        for db in nss_databases(home) {
            let dir = sql(&db);
            // Every entry of that name (there is one, unless added by hand too).
            let mut removed = false;
            for _ in 0..8 {
                if certutil(&["-d", &dir, "-D", "-n", NAME]) != Some(true) {
                    break;
                }
                removed = true;
            }
            if removed {
                said.push(format!("removed: {NAME} from {}", db.display()));
            }
        }
    }
    if cfg!(windows) {
        // The current user's root store, where the operators' guide's command (or
        // the certificate dialog) put it.
        let removed = Command::new("certutil")
            .args(["-user", "-delstore", "Root", NAME])
            .output()
            .is_ok_and(|o| o.status.success());
        if removed {
            said.push(format!("removed: {NAME} from your trusted roots"));
        }
    }
    if ca.exists() {
        if cfg!(target_os = "macos") {
            said.push(format!(
                "  remove \"{NAME}\" from your trusted roots too (docs/operators.md, \"The local certificate authority\")"
            ));
        }
        ca.remove().map_err(|e| e.to_string())?;
        said.push(format!(
            "removed: the local certificate authority ({})",
            ca.cert_path().display()
        ));
    }
    Ok(said)
}
