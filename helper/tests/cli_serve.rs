//! `webburn-helper serve` and `webburn-helper pair` as a user runs them:
//! config file and flags, the ready line, the page, a clean stop on SIGTERM,
//! and pairing approved, denied, listed and revoked from the command line.

#![allow(clippy::unwrap_used)] // support functions of the tests, not product code

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use webburn_helper::state::pairing_store::{PairingStore, Status};

mod common;
use common::Running;

const BIN: &str = env!("CARGO_BIN_EXE_webburn-helper");

fn helper(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .unwrap()
}

/// Sends `method path` with `headers` (each ending in CRLF) on its own
/// connection; the whole answer.
fn http(port: u16, method: &str, path: &str, headers: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn http_get(port: u16, path: &str) -> String {
    http(port, "GET", path, "")
}

/// Stops `child` as the system's service manager would: SIGTERM, which it
/// must answer by exiting cleanly within 10 s.
#[cfg(unix)]
fn stop(child: &mut std::process::Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = std::time::Instant::now();
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
}

/// Windows has no SIGTERM for a process without a console of its own: the
/// tray's Quit stops it cleanly; here it is ended.
#[cfg(windows)]
fn stop(child: &mut std::process::Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn serve_reads_its_config_prints_a_ready_line_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("dvd.img");
    let config = dir.path().join("webburn.toml");
    // Port 1 in the file would fail to bind: the --port flag must win.
    std::fs::write(
        &config,
        format!(
            "port = 1\nrecorders = ['emulated:{},profile=dvd+r']\nallowed-origins = [\"https://kiosk.example\"]\nlog = \"info\"\n",
            img.display()
        ),
    )
    .unwrap();
    let mut child = Running(
        Command::new(BIN)
            .arg("--data-dir")
            .arg(dir.path())
            .args(["serve", "--config", config.to_str().unwrap(), "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("webburn-helper listening on ")
        .unwrap_or_else(|| panic!("no ready line: {line:?}"));
    let port: u16 = url
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let mut recorder_line = String::new();
    stdout.read_line(&mut recorder_line).unwrap();
    assert!(recorder_line.contains("dvd.img"), "{recorder_line}");
    let page = http_get(port, "/");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        page.contains("frame-ancestors 'none'"),
        "the page may not be framed"
    );
    assert!(http_get(port, "/nothing-here").starts_with("HTTP/1.1 404"));
    stop(&mut child.0);
    let mut log = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(
        log.contains("listening"),
        "the log level came from the file: {log}"
    );
}

/// A launcher may read the ready line and go away, and a tray app has no
/// console: the helper keeps serving when its stdout and stderr are closed
/// pipes (the ready lines and a pairing request's notice go nowhere).
#[test]
fn serve_keeps_serving_when_its_output_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let closed = || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        Stdio::from(writer)
    };
    let mut child = Running(
        Command::new(BIN)
            .arg("--data-dir")
            .arg(dir.path())
            .args(["serve", "--port", "0", "--tray", "off"])
            .stdout(closed())
            .stderr(closed())
            .spawn()
            .unwrap(),
    );
    // The own-page link is written after the ready lines were printed.
    let link = dir.path().join("own-page.url");
    let started = std::time::Instant::now();
    let url = loop {
        if let Ok(url) = std::fs::read_to_string(&link) {
            break url;
        }
        assert!(child.0.try_wait().unwrap().is_none(), "the helper ended");
        assert!(started.elapsed() < Duration::from_secs(30), "no link");
        std::thread::sleep(Duration::from_millis(20));
    };
    let port: u16 = url
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // A pairing request prints its code on the (closed) console; the
    // helper answers it and the next request alike.
    for origin in ["https://a.example", "https://b.example"] {
        let headers = format!("Origin: {origin}\r\nContent-Length: 0\r\n");
        let answer = http(port, "POST", "/v1/pair", &headers);
        assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    }
    assert!(child.0.try_wait().unwrap().is_none(), "the helper ended");
    stop(&mut child.0);
}

#[test]
fn a_bad_config_file_is_reported_and_nothing_starts() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "port = 0\ncolour = \"red\"\n").unwrap();
    let out = helper(dir.path(), &["serve", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("E_INVALIDARG") && err.contains("colour"),
        "{err}"
    );
    let out = helper(
        dir.path(),
        &["serve", "--port", "0", "--buffer", "12 parsecs"],
    );
    assert_eq!(out.status.code(), Some(1));
    let out = helper(
        dir.path(),
        &["serve", "--port", "0", "--recorder", "floppy:/dev/fd0"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("floppy:/dev/fd0"));
}

#[test]
fn a_tray_or_kiosk_that_cannot_be_is_reported_before_the_ready_line() {
    let dir = tempfile::tempdir().unwrap();
    // --tray on without a desktop session bus.
    let out = Command::new(BIN)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", dir.path())
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--port", "0", "--tray", "on"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot show the tray icon"));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("listening"),
        "no ready line for a helper that stops"
    );
    // A kiosk file that lists no recorders; --kiosk together with --config.
    let kiosk = dir.path().join("kiosk.toml");
    std::fs::write(&kiosk, "port = 0\n[kiosk]\ncopies = 2\n").unwrap();
    let k = kiosk.to_str().unwrap();
    let out = helper(dir.path(), &["serve", "--kiosk", k]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("recorders listed"));
    let out = helper(dir.path(), &["serve", "--kiosk", k, "--config", k]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "conflicting options are a usage error"
    );
}

#[test]
fn pair_lists_approves_denies_and_revokes() {
    let dir = tempfile::tempdir().unwrap();
    let store = PairingStore::new(dir.path());
    let (a, _) = store.request("https://a.example").unwrap();
    let (b, _) = store.request("https://b.example").unwrap();
    let out = helper(dir.path(), &["pair", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains(&format!("{}  https://a.example", a.code)),
        "{text}"
    );
    assert!(
        text.contains("waiting (2)") && text.contains("paired (0)"),
        "{text}"
    );

    let out = helper(dir.path(), &["pair", "approve", &a.code.to_lowercase()]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "approved https://a.example"
    );
    let Status::Approved(token) = store.status(&a.id, "https://a.example").unwrap() else {
        panic!("not approved")
    };
    assert!(store.token_valid("https://a.example", &token));

    let out = helper(dir.path(), &["pair", "deny", &b.code]);
    assert!(out.status.success());
    assert_eq!(
        store.status(&b.id, "https://b.example").unwrap(),
        Status::Denied
    );

    let out = helper(dir.path(), &["pair", "approve", "ZZZZZZ"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no pairing request is waiting with code ZZZZZZ")
    );

    let out = helper(dir.path(), &["pair", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("https://a.example  since"));
    let out = helper(dir.path(), &["pair", "revoke", "https://A.example/"]);
    assert!(out.status.success(), "origins are compared normalized");
    assert!(!store.token_valid("https://a.example", &token));
    let out = helper(dir.path(), &["pair", "revoke", "https://a.example"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not paired"));
}
