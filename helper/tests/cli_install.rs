//! `install`, `status`, `uninstall` and one helper per data directory, as a
//! user runs them (HOME and XDG_CONFIG_HOME point into a temporary directory).

#![allow(clippy::unwrap_used)] // test code

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;
use common::Running;

const BIN: &str = env!("CARGO_BIN_EXE_webburn-helper");

fn helper(home: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .arg("--data-dir")
        .arg(home.join("data"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[cfg(unix)]
#[test]
fn install_status_uninstall_with_an_xdg_autostart_entry() {
    let home = tempfile::tempdir().unwrap();
    let out = helper(
        home.path(),
        &["install", "--method", "xdg", "--", "--port", "47999"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let entry = home.path().join(".config/autostart/webburn-helper.desktop");
    let contents = std::fs::read_to_string(&entry).unwrap();
    assert!(
        contents.contains(&format!("Exec={BIN} serve --port 47999\n")),
        "{contents}"
    );
    let status = text(&helper(home.path(), &["status"]));
    assert!(
        status.contains("autostart: ") && status.contains("(xdg)"),
        "{status}"
    );
    assert!(status.contains("running: no"), "{status}");
    let out = helper(home.path(), &["uninstall"]);
    assert!(out.status.success() && !entry.exists(), "{}", text(&out));
    assert!(text(&helper(home.path(), &["status"])).contains("not installed"));
    assert!(text(&helper(home.path(), &["uninstall"])).contains("nothing to remove"));
}

#[cfg(unix)]
#[test]
fn a_systemd_unit_is_written_and_a_missing_user_session_is_said_plainly() {
    let home = tempfile::tempdir().unwrap();
    let out = helper(home.path(), &["install", "--method", "systemd"]);
    let unit = home
        .path()
        .join(".config/systemd/user/webburn-helper.service");
    let contents = std::fs::read_to_string(&unit).unwrap();
    assert!(
        contents.contains(&format!("ExecStart={BIN} serve\n")),
        "{contents}"
    );
    // This machine has no systemd user session: the unit is written, and
    // the failure says how to enable it.
    if !out.status.success() {
        assert!(
            text(&out).contains("systemctl --user enable --now webburn-helper"),
            "{}",
            text(&out)
        );
    }
    assert!(helper(home.path(), &["uninstall"]).status.success());
    assert!(!unit.exists());
    let bad = helper(home.path(), &["install", "--method", "cron"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// The Run value as `reg query` prints it, if it exists.
#[cfg(windows)]
fn run_value() -> Option<String> {
    let out = Command::new("reg")
        .args([
            "query",
            r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run",
            "/v",
            "webburn-helper",
        ])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(windows)]
#[test]
fn install_status_uninstall_with_the_run_key() {
    let home = tempfile::tempdir().unwrap();
    let out = helper(home.path(), &["install", "--", "--port", "47999"]);
    assert!(out.status.success(), "{}", text(&out));
    let value = run_value().expect("the Run value is written");
    // The windowless twin beside the helper starts at login.
    assert!(
        value.contains("webburn-helperw.exe\" serve --port 47999"),
        "{value}"
    );
    let status = text(&helper(home.path(), &["status"]));
    assert!(status.contains("(windows-run)"), "{status}");
    let out = helper(home.path(), &["uninstall"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(run_value(), None, "uninstall removes the value");
    assert!(text(&helper(home.path(), &["status"])).contains("not installed"));
}

#[test]
fn one_helper_per_data_directory_and_status_finds_it() {
    let home = tempfile::tempdir().unwrap();
    let mut first = Running(
        Command::new(BIN)
            .env("HOME", home.path())
            .arg("--data-dir")
            .arg(home.path().join("data"))
            .args(["serve", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut ready = String::new();
    BufReader::new(first.0.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    let port = ready
        .trim()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let second = helper(home.path(), &["serve", "--port", "0"]);
    let said = text(&second);
    assert_eq!(second.status.code(), Some(1), "{said}");
    assert!(
        said.contains("already running") && said.contains(&format!("pid {}", first.0.id())),
        "{said}"
    );
    assert!(said.contains(&format!("127.0.0.1:{port}")), "{said}");
    let status = text(&helper(home.path(), &["status"]));
    assert!(
        status.contains(&format!("running: pid {}", first.0.id())),
        "{status}"
    );
    assert!(status.contains("serving, helper 0."), "{status}");
    drop(first);
    // The lock went with the process: a new helper starts.
    assert!(text(&helper(home.path(), &["status"])).contains("running: no"));
}

/// Whether `certutil -d sql:DB -L -n NAME` finds the entry.
#[cfg(target_os = "linux")]
fn nss_has(db: &Path, name: &str) -> bool {
    Command::new("certutil")
        .arg("-d")
        .arg(format!("sql:{}", db.display()))
        .args(["-L", "-n", name])
        .output()
        .unwrap()
        .status
        .success()
}

#[cfg(target_os = "linux")]
#[test]
fn install_trusts_the_local_authority_in_nss_and_uninstall_takes_it_out() {
    if Command::new("certutil").arg("-H").output().is_err() {
        common::prerequisite_missing("certutil (libnss3-tools)");
    }
    let home = tempfile::tempdir().unwrap();
    // A Firefox profile that exists already (its own NSS database).
    let profile = home.path().join(".mozilla/firefox/abcd1234.default-esr");
    std::fs::create_dir_all(&profile).unwrap();
    let made = Command::new("certutil")
        .arg("-d")
        .arg(format!("sql:{}", profile.display()))
        .args(["-N", "--empty-password"])
        .output()
        .unwrap();
    assert!(made.status.success());
    let out = helper(home.path(), &["install", "--method", "xdg"]);
    assert!(out.status.success(), "{}", text(&out));
    let chromium = home.path().join(".pki/nssdb");
    for db in [&chromium, &profile] {
        assert!(
            nss_has(db, "webburn local CA"),
            "{}: {}",
            db.display(),
            text(&out)
        );
    }
    let status = text(&helper(home.path(), &["status"]));
    assert!(
        status.contains("https/wss: local certificate authority"),
        "{status}"
    );
    let tls = home.path().join("data/tls");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(tls.join("ca.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key is the user's alone");
    }
    // The helper then also listens with TLS, on the next port.
    let mut serve = Running(
        Command::new(BIN)
            .env("HOME", home.path())
            .arg("--data-dir")
            .arg(home.path().join("data"))
            .args(["serve", "--port", "0", "--tray", "off", "--recorder"])
            .arg(format!(
                "emulated:{},profile=disk",
                home.path().join("d.img").display()
            ))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(serve.0.stdout.take().unwrap()).lines();
    let ready = lines.next().unwrap().unwrap();
    let tls_line = lines.next().unwrap().unwrap();
    assert!(ready.starts_with("webburn-helper listening on"), "{ready}");
    assert!(tls_line.contains("https://127.0.0.1:"), "{tls_line}");
    drop(serve);
    // A second install keeps one entry; uninstall leaves none.
    assert!(
        helper(home.path(), &["install", "--method", "xdg"])
            .status
            .success()
    );
    let out = helper(home.path(), &["uninstall"]);
    assert!(out.status.success(), "{}", text(&out));
    for db in [&chromium, &profile] {
        assert!(
            !nss_has(db, "webburn local CA"),
            "{} keeps a trust entry",
            db.display()
        );
    }
    assert!(!tls.exists(), "the authority's files are gone");
    let status = text(&helper(home.path(), &["status"]));
    assert!(status.contains("https/wss: off"), "{status}");
}
