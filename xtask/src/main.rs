//! webburn's project tasks.
//!
//! - `cargo xtask test`: installs what the checks need (the wasm32 target,
//!   wasm-bindgen-cli, Chromium and ChromeDriver, TypeScript, the disc
//!   image readers), then fmt,
//!   clippy -D warnings, the page build, the TypeScript check, every test
//!   (the browser tests in headless Chromium), the wasm tests in Chromium and
//!   each fuzz target for 10 s, the .deb and the npm package (built and
//!   checked), the Windows
//!   build (cross-compiled, its tests and installer run under Wine) and the
//!   VM tier.
//! - `cargo xtask package`: the .deb with the helper, the page, a systemd
//!   user unit and the udev rule, checked (file list, the unpacked helper
//!   serving the installed page); the npm package of the library, installed
//!   into a scratch project, bundled with esbuild and burned through.
//! - `cargo xtask windows`: the Windows tier alone: cross-compiled, tested
//!   under Wine, the installer built and tried.
//! - `cargo xtask vm`: the VM tier alone: the helper's SG_IO, USB Bulk-Only
//!   and WebSocket paths in a QEMU guest, images compared on the host.
//! - `cargo xtask vm-windows`: only the VM tier's Windows run (the Windows
//!   helper under Wine, SPTI to the guest's DVD+R and disk).
//! - `cargo xtask bench`: throughput and memory beside the ceilings and
//!   peers, written to BENCHMARKS.md with charts in docs/bench/.
//! - `cargo xtask size`: the page built for size, its wasm and JavaScript
//!   measured raw, gzip and brotli, into BENCHMARKS.md's size section.
//! - `cargo xtask soak`: the reliability battery's long runs (fuzzing with
//!   the corpus kept, 10,000 connects, 1,000 pairing cycles, ...), written
//!   to RELIABILITY.md.
//! - `cargo xtask serve [-- SERVE-ARGS]`: builds the page and the helper and
//!   serves the page with the default emulated recorder.
//! - `cargo xtask run [FILE] [-- BURN-ARGS]`: builds the helper in release mode
//!   and burns FILE (default: a generated 64 MiB sample) to the default
//!   emulated recorder.

mod bench;
mod burn;
mod fuzz;
mod npm;
mod package;
mod soak;
mod tools;
mod vm;
mod windows;
mod www;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// `cargo build --release -p webburn-helper` for `target` (the host's when
/// `None`) with `rustflags`, if any; returns the folder of its binaries.
fn release_helper(target: Option<&str>, rustflags: Option<&str>) -> Result<PathBuf> {
    let mut build = cargo();
    build.args(["build", "--release", "-p", "webburn-helper"]);
    let mut what = String::from("cargo build --release -p webburn-helper");
    if let Some(t) = target {
        build.args(["--target", t]);
        what.push_str(" --target ");
        what.push_str(t);
    }
    if let Some(flags) = rustflags {
        build.env("RUSTFLAGS", flags);
        what.push_str(" (RUSTFLAGS ");
        what.push_str(flags);
        what.push(')');
    }
    run(build, &what)?;
    let mut dir = root().join("target");
    if let Some(t) = target {
        dir.push(t);
    }
    Ok(dir.join("release"))
}

/// When this xtask started: each step says how long it took.
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Runs a command, failing with its name if it fails; says when it began
/// (minutes:seconds since the xtask started) and how long it took.
fn run(mut cmd: Command, what: &str) -> Result<()> {
    let started = STARTED.get_or_init(std::time::Instant::now);
    let at = started.elapsed().as_secs();
    eprintln!("xtask: [{:02}:{:02}] {what}", at / 60, at % 60);
    let step = std::time::Instant::now();
    let status = cmd
        .status()
        .with_context(|| format!("cannot start: {what}"))?;
    if !status.success() {
        bail!("failed: {what} ({status})");
    }
    eprintln!("xtask: ({} s) {what}", step.elapsed().as_secs());
    Ok(())
}

/// Runs `cargo test ...` as [`run`] does, echoing its output, and fails
/// when any test was ignored: a test that did not run did not pass.
fn run_tests(mut cmd: Command, what: &str) -> Result<()> {
    use std::io::{BufRead, BufReader};
    let started = STARTED.get_or_init(std::time::Instant::now);
    let at = started.elapsed().as_secs();
    eprintln!("xtask: [{:02}:{:02}] {what}", at / 60, at % 60);
    let step = std::time::Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start: {what}"))?;
    let mut ignored = 0u64;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line?;
            println!("{line}");
            ignored += ignored_in(&line);
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("failed: {what} ({status})");
    }
    if ignored > 0 {
        bail!("{what}: {ignored} tests were ignored (a test that does not run does not pass)");
    }
    eprintln!("xtask: ({} s) {what}", step.elapsed().as_secs());
    Ok(())
}

/// The ignored count of a libtest summary line (`test result: ok. 3
/// passed; 0 failed; 1 ignored; ...`), 0 for any other line.
fn ignored_in(line: &str) -> u64 {
    if !line.starts_with("test result:") {
        return 0;
    }
    line.split(';')
        .find_map(|part| part.trim().strip_suffix(" ignored"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

fn test() -> Result<()> {
    tools::wasm_target()?;
    let bindgen = tools::wasm_bindgen()?;
    tools::chromium()?;
    tools::desktop()?;
    let geckodriver = tools::other_browsers()?;
    tools::image_readers()?;
    tools::compressors()?;
    let tsc = tools::typescript()?;
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run(fmt, "cargo fmt --check")?;
    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run(clippy, "cargo clippy -D warnings")?;
    let mut deny = Command::new(tools::cargo_deny()?.join("cargo-deny"));
    deny.args([
        "deny",
        "--all-features",
        "check",
        "bans",
        "licenses",
        "sources",
    ]);
    run(
        deny,
        "cargo deny check bans licenses sources (deny.toml: licenses, duplicate versions, registries)",
    )?;
    let mut clippy_wasm = cargo();
    clippy_wasm.args([
        "clippy",
        "-p",
        "webburn-web",
        "--all-targets",
        "--target",
        tools::WASM_TARGET,
        "--",
        "-D",
        "warnings",
    ]);
    run(
        clippy_wasm,
        "cargo clippy -p webburn-web --target wasm32-unknown-unknown -D warnings",
    )?;
    let page = www::build(&bindgen)?;
    www::typecheck(&tsc)?;
    // The package first: its bundles are what the hosted-site tests serve.
    let tgz = npm::pack(&page)?;
    npm::check(&tgz, &page)?;
    let site = npm::hosted_site(&tgz)?;
    let mut tests = cargo();
    tests
        .args(["test", "--workspace"])
        .env("WEBBURN_WWW", &page)
        .env("WEBBURN_HOSTED_SITE", &site)
        .env("GECKODRIVER", &geckodriver)
        .env("CHROMEDRIVER", tools::CHROMEDRIVER);
    run_tests(
        tests,
        "cargo test --workspace (browser tests in Chromium, Firefox and WebKit)",
    )?;
    let mut wasm_tests = cargo();
    wasm_tests
        .args(["test", "-p", "webburn-web", "--target", tools::WASM_TARGET])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            bindgen.join("wasm-bindgen-test-runner"),
        )
        .env("CHROMEDRIVER", tools::CHROMEDRIVER)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
    run_tests(
        wasm_tests,
        "cargo test -p webburn-web --target wasm32 (wasm-bindgen-test in headless Chromium)",
    )?;
    fuzz::run_all(FUZZ_SECONDS, false, fuzz::Build::Quick)?;
    package::build_deb()?;
    windows::test(&page, windows::Build::Tested)?;
    vm::run_vm()
}

/// `cargo xtask screenshots`: copies the screenshots the last test run left
/// in target/screenshots into docs/screenshots, where the guides show them
/// (tests never write tracked files themselves).
fn screenshots() -> Result<()> {
    let from = root().join("target/screenshots");
    let to = root().join("docs/screenshots");
    let mut copied = 0;
    for entry in std::fs::read_dir(&from)
        .with_context(|| format!("{}: run cargo xtask test first", from.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "png")
            && let Some(name) = path.file_name()
        {
            std::fs::copy(&path, to.join(name))?;
            copied += 1;
        }
    }
    if copied == 0 {
        bail!(
            "{} holds no screenshots: run cargo xtask test first",
            from.display()
        );
    }
    println!("{copied} screenshots copied into {}", to.display());
    Ok(())
}

/// `cargo xtask package`: the page, then the checked .deb and npm package.
fn package_only() -> Result<()> {
    tools::wasm_target()?;
    let bindgen = tools::wasm_bindgen()?;
    tools::chromium()?;
    let page = www::build(&bindgen)?;
    let deb = package::build_deb()?;
    let tgz = npm::pack(&page)?;
    npm::check(&tgz, &page)?;
    npm::check_hosted(&npm::hosted_site(&tgz)?)?;
    println!("{}\n{}", deb.display(), tgz.display());
    Ok(())
}

/// `cargo xtask windows`: the page, then the Windows tier.
fn windows_only() -> Result<()> {
    tools::wasm_target()?;
    let bindgen = tools::wasm_bindgen()?;
    let page = www::build(&bindgen)?;
    windows::test(&page, windows::Build::Release)
}

/// Seconds each fuzz target runs in `cargo xtask test` (`soak` runs longer).
const FUZZ_SECONDS: u64 = 10;

fn serve(args: &[String]) -> Result<()> {
    tools::wasm_target()?;
    let bindgen = tools::wasm_bindgen()?;
    let page = www::build(&bindgen)?;
    let release = release_helper(None, None)?;
    let extra = args.iter().filter(|a| *a != "--");
    let mut helper = Command::new(release.join("webburn-helper"));
    helper.arg("serve").arg("--www").arg(&page).args(extra);
    run(
        helper,
        "webburn-helper serve (open the URL it prints; Ctrl-C stops it)",
    )
}

fn main() -> Result<()> {
    STARTED.get_or_init(std::time::Instant::now);
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("serve") => serve(&args[1..]),
        Some("run") => burn::run_burn(&args[1..]),
        Some("vm") => vm::run_vm(),
        Some("vm-windows") => vm::run_windows_vm(),
        Some("bench") => bench::run_bench(),
        Some("size") => bench::run_size(),
        Some("vm-bench") => bench::run_vm_bench(),
        Some("soak") => soak::run_soak(),
        Some("package") => package_only(),
        Some("windows") => windows_only(),
        Some("screenshots") => screenshots(),
        _ => {
            eprintln!(
                "usage: cargo xtask test | windows | vm | vm-windows | bench | vm-bench | size | soak | package | screenshots | serve [-- SERVE-ARGS] | run [FILE] [-- BURN-ARGS]"
            );
            std::process::exit(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ignored_in;

    #[test]
    fn ignored_tests_are_counted_from_the_summary() {
        assert_eq!(
            ignored_in(
                "test result: ok. 12 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.01s"
            ),
            2
        );
        assert_eq!(
            ignored_in(
                "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out"
            ),
            0
        );
        assert_eq!(ignored_in("test a_test_named_3 ignored ... ok"), 0);
    }
}
