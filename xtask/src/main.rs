//! webburn's project tasks.
//!
//! - `cargo xtask test`: installs what the checks need (the wasm32 target),
//!   then fmt, clippy -D warnings, the wasm build and every test.
//! - `cargo xtask run [FILE] [-- BURN-ARGS]`: builds the helper in release mode
//!   and burns FILE (default: a generated 64 MiB sample) to the default
//!   emulated recorder.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

const WASM_TARGET: &str = "wasm32-unknown-unknown";

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

/// Runs a command, failing with its name if it fails.
fn run(mut cmd: Command, what: &str) -> Result<()> {
    eprintln!("xtask: {what}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start: {what}"))?;
    if !status.success() {
        bail!("failed: {what} ({status})");
    }
    Ok(())
}

fn ensure_wasm_target() -> Result<()> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("rustup is needed to install the wasm32 target")?;
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == WASM_TARGET)
    {
        return Ok(());
    }
    let mut add = Command::new("rustup");
    add.args(["target", "add", WASM_TARGET]);
    run(add, "rustup target add wasm32-unknown-unknown")
}

fn test() -> Result<()> {
    ensure_wasm_target()?;
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
    let mut wasm = cargo();
    wasm.args(["build", "-p", "webburn-web", "--target", WASM_TARGET]);
    run(
        wasm,
        "cargo build -p webburn-web --target wasm32-unknown-unknown",
    )?;
    let mut tests = cargo();
    tests.args(["test", "--workspace"]);
    run(tests, "cargo test --workspace")
}

/// Writes `len` bytes of deterministic pseudo-random data (xorshift64*).
fn write_sample(path: &Path, len: u64) -> Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut left = len;
    while left > 0 {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let word = x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        let n = left.min(8) as usize;
        out.write_all(&word[..n])?;
        left -= n as u64;
    }
    out.flush()?;
    Ok(())
}

fn run_burn(args: &[String]) -> Result<()> {
    let (file, extra) = match args.split_first() {
        Some((first, rest)) if first != "--" => (PathBuf::from(first), rest),
        _ => {
            let sample = root().join("target").join("webburn-sample-64MiB.bin");
            if !sample.exists() {
                std::fs::create_dir_all(root().join("target"))?;
                eprintln!("xtask: generating {}", sample.display());
                write_sample(&sample, 64 << 20)?;
            }
            (sample, args)
        }
    };
    let extra: Vec<&String> = extra.iter().filter(|a| *a != "--").collect();
    let mut build = cargo();
    build.args(["build", "--release", "-p", "webburn-helper"]);
    run(build, "cargo build --release -p webburn-helper")?;
    let mut burn = Command::new(root().join("target/release/webburn-helper"));
    burn.arg("burn").arg(&file).args(extra);
    run(burn, &format!("webburn-helper burn {}", file.display()))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("run") => run_burn(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask test | cargo xtask run [FILE] [-- BURN-ARGS]");
            std::process::exit(2);
        }
    }
}
