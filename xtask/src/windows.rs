//! The Windows build, cross-compiled here (x86_64-pc-windows-gnu, linked by
//! mingw-w64) and run under Wine: clippy for the Windows-only code, the
//! helper's and the shared crates' tests and the cross-crate tests that need
//! no hardware (server and protocol, emulated recorders with their images
//! compared byte for byte, the CLI), then the release helper (its tray shown
//! on an X display) and its installer, installed and uninstalled under Wine.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::{cargo, root, run, tools};

mod installer;
mod tray;

/// The Rust target of the Windows build.
pub(crate) const TARGET: &str = "x86_64-pc-windows-gnu";

/// The cross-crate tests that run under Wine: everything but the browsers,
/// the desktop tray and the Linux image readers.
const CROSS_CRATE_TESTS: [&str; 3] = ["server_*", "engine_*", "disc_flow"];

/// The Wine prefix the tests run in (target/tools/wine), made on first use.
pub(crate) fn prefix() -> Result<PathBuf> {
    let prefix = tools::dir().join("wine");
    let shim = prefix.join("drive_c/windows/system32/bcryptprimitives.dll");
    if shim.exists() {
        return Ok(prefix);
    }
    std::fs::create_dir_all(&prefix)?;
    let mut boot = wine(&prefix);
    boot.args(["wineboot", "--init"]);
    run(boot, "wineboot --init (a Wine prefix in target/tools/wine)")?;
    // wineboot returns before the prefix's first start has settled: wait
    // until every process of it has ended (the server with them).
    let mut settle = wineserver(&prefix);
    settle.arg("-w");
    run(settle, "wineserver -w (the new prefix settles)")?;
    let mut cc = Command::new("x86_64-w64-mingw32-gcc");
    cc.args(["-shared", "-O2", "-o"])
        .arg(&shim)
        .arg(root().join("xtask/wine/bcryptprimitives.c"))
        .arg("-ladvapi32");
    run(
        cc,
        "mingw-w64: bcryptprimitives.dll for Wine 8 (ProcessPrng)",
    )?;
    Ok(prefix)
}

/// `wine` in `prefix`, quiet.
pub(crate) fn wine(prefix: &Path) -> Command {
    let mut c = Command::new("wine");
    c.env("WINEPREFIX", prefix).env("WINEDEBUG", "-all");
    c
}

fn wineserver(prefix: &Path) -> Command {
    let mut c = Command::new("wineserver");
    c.env("WINEPREFIX", prefix);
    c
}

/// One wineserver for the whole tier, with Wine's own services (services,
/// plugplay, rpcss, the desktop) started once, and stopped when dropped.
///
/// Debian's `wineserver` exits as soon as its last process does, so every
/// test binary used to start a server and the services afresh, and ran
/// while they were still starting: now and then a process it created
/// failed with ERROR_INTERNAL_ERROR (1359). A server kept running (`-p`)
/// removes that window.
#[derive(Debug)]
pub(crate) struct Server {
    prefix: PathBuf,
}

impl Server {
    /// Starts the server and the services, with no standard streams of
    /// ours (the services outlive the command that starts them).
    pub(crate) fn start(prefix: &Path) -> Result<Server> {
        let mut server = wineserver(prefix);
        server
            .arg("-p")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        run(server, "wineserver -p (one server for the tier)")?;
        let server = Server {
            prefix: prefix.to_path_buf(),
        };
        let mut services = wine(prefix);
        services
            .args(["cmd", "/c", "exit"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        run(services, "wine cmd /c exit (Wine's services started)")?;
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let mut kill = wineserver(&self.prefix);
        kill.arg("-k");
        if let Err(e) = run(kill, "wineserver -k (the tier is done)") {
            eprintln!("xtask: {e}");
        }
    }
}

/// Cargo for the Windows target, its binaries run by Wine in `prefix`, one
/// test at a time (tests that start helper processes and `reg.exe` side by
/// side have seen Wine's file locks go astray).
fn cross_cargo(prefix: &Path) -> Command {
    let mut c = cargo();
    c.env("WINEPREFIX", prefix)
        .env("WINEDEBUG", "-all")
        .env("RUST_TEST_THREADS", "1")
        // No debug info: each Windows test binary would carry hundreds of
        // megabytes of it (15 GB for the tier), for backtraces under Wine.
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        // Headless: the tests expect no desktop (the tray check has its own).
        .env_remove("DISPLAY")
        .env("CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER", "wine");
    c
}

/// How the helper the tray check and the installer take is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Build {
    /// The release build: the installer people get (`cargo xtask windows`).
    Release,
    /// The debug build the tests just made: the same program, checked
    /// without compiling every dependency again (`cargo xtask test`).
    Tested,
}

/// The crates the helper is built from, each linted and tested for Windows.
const NATIVE_CRATES: &[&str] = &[
    "webburn-shared",
    "webburn-fsimage",
    "webburn-scsi",
    "webburn-emulated",
    "webburn-engine",
    "webburn-helper",
];

/// Installs the toolchain, then clippy, the tests under Wine, the helper
/// and its installer (with the page built in `www`), tried under Wine.
pub(crate) fn test(www: &Path, build: Build) -> Result<()> {
    tools::rust_target(TARGET)?;
    tools::windows_packages()?;
    let prefix = prefix()?;
    let mut clippy = cargo();
    clippy.args(["clippy"]);
    for p in NATIVE_CRATES {
        clippy.args(["-p", p]);
    }
    clippy.args(["--all-targets", "--target", TARGET, "--", "-D", "warnings"]);
    run(
        clippy,
        "cargo clippy --target x86_64-pc-windows-gnu -D warnings (the native crates)",
    )?;
    // The tests start many processes: one server and its services for
    // them all (the tray check below wants its own, on its display).
    let server = Server::start(&prefix)?;
    let mut unit = cross_cargo(&prefix);
    unit.args(["test", "--target", TARGET]);
    for p in NATIVE_CRATES {
        unit.args(["-p", p]);
    }
    run(
        unit,
        "cargo test --target x86_64-pc-windows-gnu (under Wine): the native crates",
    )?;
    let mut cross = cross_cargo(&prefix);
    cross.args(["test", "--target", TARGET, "-p", "webburn-tests"]);
    for t in CROSS_CRATE_TESTS {
        cross.args(["--test", t]);
    }
    run(
        cross,
        "cargo test --target x86_64-pc-windows-gnu -p webburn-tests (under Wine): server, engine, disc flow",
    )?;
    drop(server);
    let exe = match build {
        Build::Release => build_release()?,
        Build::Tested => tested_helper()?,
    };
    tray::check(&prefix, &exe)?;
    let setup = installer::build(&exe, www)?;
    installer::check(&prefix, &setup)
}

/// The debug build of the helper for Windows, as the tests under Wine build
/// it (nothing to compile after them); returns the .exe.
pub(crate) fn tested_helper() -> Result<PathBuf> {
    let mut build = cargo();
    build
        .args(["build", "-p", "webburn-helper", "--target", TARGET])
        .env("CARGO_PROFILE_DEV_DEBUG", "0");
    run(
        build,
        "cargo build -p webburn-helper --target x86_64-pc-windows-gnu (as tested)",
    )?;
    let exe = root()
        .join("target")
        .join(TARGET)
        .join("debug/webburn-helper.exe");
    exe.exists()
        .then_some(exe)
        .context("the Windows build made no webburn-helper.exe")
}

/// `cargo build --release` of the helper for Windows; returns the .exe.
pub(crate) fn build_release() -> Result<PathBuf> {
    let exe = crate::release_helper(Some(TARGET), None)?.join("webburn-helper.exe");
    exe.exists()
        .then_some(exe)
        .context("the Windows build made no webburn-helper.exe")
}
