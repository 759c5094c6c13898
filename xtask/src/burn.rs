//! `cargo xtask run`: burns a file (default: a generated 64 MiB sample) with
//! the release helper to the default emulated recorder.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use crate::{cargo, root, run};

/// Writes `len` bytes of deterministic pseudo-random data (xorshift64*).
pub(crate) fn write_sample(path: &Path, len: u64) -> Result<()> {
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

pub(crate) fn run_burn(args: &[String]) -> Result<()> {
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
