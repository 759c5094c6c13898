//! `webburn-helper install`, `uninstall` and `status`: the helper started
//! with the user's session, and whether it runs.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use webburn_shared::HResult;

use super::CliError;
use crate::autostart::{Method, reg_command};

/// Options of `install`.
#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// systemd (a user unit), xdg (an autostart entry), launchagent (macOS),
    /// windows-run (the HKCU Run key); default: this system's usual one.
    #[arg(long, value_parser = parse_method)]
    pub method: Option<Method>,
    /// Arguments for `serve` at login, after `--` (e.g. -- --port 47802).
    #[arg(last = true)]
    pub serve_args: Vec<String>,
}

/// A `--method` that is none of the four.
#[derive(Debug, thiserror::Error)]
#[error("'{0}' is not systemd, xdg, launchagent or windows-run")]
struct UnknownMethod(String);

/// Why `systemctl --user` did not do it.
#[derive(Debug, thiserror::Error)]
enum SystemctlError {
    /// It could not be run.
    #[error("cannot run systemctl: {0}")]
    Run(#[from] std::io::Error),
    /// It ran and refused, saying why.
    #[error("{0}")]
    Refused(String),
}

fn parse_method(s: &str) -> Result<Method, UnknownMethod> {
    [
        Method::SystemdUser,
        Method::XdgAutostart,
        Method::LaunchAgent,
        Method::WindowsRun,
    ]
    .into_iter()
    .find(|m| m.name() == s)
    .ok_or_else(|| UnknownMethod(s.to_owned()))
}

fn dirs_or_fail() -> Result<(PathBuf, PathBuf), CliError> {
    let fail = || {
        CliError::new(
            HResult::E_FAIL,
            "cannot tell the user's home and config directories",
        )
    };
    Ok((
        dirs::config_dir().ok_or_else(fail)?,
        dirs::home_dir().ok_or_else(fail)?,
    ))
}

fn systemctl(args: &[&str]) -> Result<(), SystemctlError> {
    let out = Command::new("systemctl")
        .arg("--user")
        .args(args)
        .output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(SystemctlError::Refused(
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        ))
    }
}

/// This system's usual method: a systemd user session if one answers, else
/// an XDG autostart entry; LaunchAgent on macOS; the Run key on Windows.
fn default_method() -> Method {
    match std::env::consts::OS {
        "macos" => Method::LaunchAgent,
        "windows" => Method::WindowsRun,
        _ if systemctl(&["show-environment"]).is_ok() => Method::SystemdUser,
        _ => Method::XdgAutostart,
    }
}

/// Whether the Run key holds the helper's value (asked through `reg query`,
/// which every Windows has).
fn run_value_exists() -> bool {
    std::env::consts::OS == "windows"
        && Command::new("reg")
            .args([
                "query",
                crate::autostart::RUN_KEY,
                "/v",
                crate::autostart::NAME,
            ])
            .output()
            .is_ok_and(|o| o.status.success())
}

/// Every method's entry that exists.
fn installed(config: &Path, home: &Path) -> Vec<(Method, PathBuf)> {
    let mut found: Vec<(Method, PathBuf)> = [
        Method::SystemdUser,
        Method::XdgAutostart,
        Method::LaunchAgent,
    ]
    .into_iter()
    .map(|m| (m, m.location(config, home)))
    .filter(|(_, p)| p.exists())
    .collect();
    if run_value_exists() {
        found.push((
            Method::WindowsRun,
            Method::WindowsRun.location(config, home),
        ));
    }
    found
}

pub(super) fn install(args: &InstallArgs, data_dir: &Path) -> Result<(), CliError> {
    let exe = std::env::current_exe().map_err(|e| {
        CliError::new(
            HResult::E_FAIL,
            format!("cannot tell where this program is: {e}"),
        )
    })?;
    // On Windows the windowless twin starts at login (no console window).
    let windowless = exe.with_file_name("webburn-helperw.exe");
    let exe = if std::env::consts::OS == "windows" && windowless.is_file() {
        windowless
    } else {
        exe
    };
    let (config, home) = dirs_or_fail()?;
    for line in
        super::trust::install(data_dir, &home).map_err(|e| CliError::new(HResult::E_FAIL, e))?
    {
        println!("{line}");
    }
    let method = args.method.unwrap_or_else(default_method);
    let mut serve = vec!["serve".to_owned()];
    serve.extend(args.serve_args.iter().cloned());
    let contents = method.contents(&exe, &serve);
    if method == Method::WindowsRun {
        let out = Command::new("reg")
            .args(reg_command(Some(&contents)))
            .output();
        return match out {
            Ok(o) if o.status.success() => {
                println!(
                    "installed: {} value {} = {contents}",
                    crate::autostart::RUN_KEY,
                    crate::autostart::NAME
                );
                Ok(())
            }
            _ => Err(CliError::new(
                HResult::E_FAIL,
                format!("reg add failed; the value would be: {contents}"),
            )),
        };
    }
    let path = method.location(&config, &home);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::new(HResult::E_FAIL, format!("{}: {e}", dir.display())))?;
    }
    std::fs::write(&path, &contents)
        .map_err(|e| CliError::new(HResult::E_FAIL, format!("{}: {e}", path.display())))?;
    println!("installed: {} ({})", path.display(), method.name());
    match method {
        Method::SystemdUser => systemctl(&["daemon-reload"])
            .and_then(|()| {
                systemctl(&[
                    "enable",
                    "--now",
                    &format!("{}.service", crate::autostart::NAME),
                ])
            })
            .map(|()| println!("started now and at every login (systemctl --user)"))
            .map_err(|e| {
                CliError::new(
                    HResult::E_FAIL,
                    format!(
                        "the unit is written but systemctl --user could not enable it ({e}); \
                         run `systemctl --user enable --now webburn-helper` in your session"
                    ),
                )
            }),
        Method::LaunchAgent => {
            let loaded = Command::new("launchctl")
                .args(["load", "-w"])
                .arg(&path)
                .status();
            if loaded.is_ok_and(|s| s.success()) {
                println!("started now and at every login (launchctl)");
            } else {
                println!("starts at your next login");
            }
            Ok(())
        }
        Method::XdgAutostart | Method::WindowsRun => {
            println!("starts at your next login; to start it now: webburn-helper serve");
            Ok(())
        }
    }
}

pub(super) fn uninstall(data_dir: &Path) -> Result<(), CliError> {
    let (config, home) = dirs_or_fail()?;
    for line in
        super::trust::uninstall(data_dir, &home).map_err(|e| CliError::new(HResult::E_FAIL, e))?
    {
        println!("{line}");
    }
    let found = installed(&config, &home);
    for (method, path) in &found {
        if *method == Method::WindowsRun {
            let out = Command::new("reg").args(reg_command(None)).output();
            if !out.is_ok_and(|o| o.status.success()) {
                return Err(CliError::new(
                    HResult::E_FAIL,
                    format!(
                        "reg delete of {} value {} failed",
                        path.display(),
                        crate::autostart::NAME
                    ),
                ));
            }
            println!(
                "removed: {} value {} (windows-run)",
                path.display(),
                crate::autostart::NAME
            );
            continue;
        }
        if *method == Method::SystemdUser {
            let _ = systemctl(&[
                "disable",
                "--now",
                &format!("{}.service", crate::autostart::NAME),
            ]);
        }
        if *method == Method::LaunchAgent {
            let _ = Command::new("launchctl")
                .args(["unload", "-w"])
                .arg(path)
                .status();
        }
        std::fs::remove_file(path)
            .map_err(|e| CliError::new(HResult::E_FAIL, format!("{}: {e}", path.display())))?;
        println!("removed: {} ({})", path.display(), method.name());
    }
    if found.is_empty() {
        println!("not installed: nothing to remove");
    }
    Ok(())
}

/// The helper's own answer on `port`: its version, if a webburn helper serves there.
fn probe(port: u16) -> Option<String> {
    let mut s =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    // Asked as the helper's own page asks.
    write!(
        s,
        "GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let body = text.split_once("\r\n\r\n")?.1;
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v["helperVersion"].as_str().map(str::to_owned)
}

pub(super) fn status(data_dir: &Path) -> Result<(), CliError> {
    let (config, home) = dirs_or_fail()?;
    println!("webburn-helper {}", env!("CARGO_PKG_VERSION"));
    let found = installed(&config, &home);
    if found.is_empty() {
        println!("autostart: not installed (webburn-helper install)");
    }
    for (method, path) in &found {
        println!("autostart: {} ({})", path.display(), method.name());
    }
    let ca = crate::state::local_ca::LocalCa::of(data_dir);
    if ca.exists() {
        println!(
            "https/wss: local certificate authority {}",
            ca.cert_path().display()
        );
    } else {
        println!(
            "https/wss: off (no local certificate authority; webburn-helper install makes it)"
        );
    }
    match super::instance::running(data_dir) {
        Some(r) => {
            let answer = probe(r.port).map_or_else(
                || "not answering".to_owned(),
                |v| format!("serving, helper {v}"),
            );
            println!(
                "running: pid {}, http://127.0.0.1:{}/ ({answer})",
                r.pid, r.port
            );
        }
        None => println!("running: no (for {})", data_dir.display()),
    }
    Ok(())
}
