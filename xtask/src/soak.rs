//! `cargo xtask soak`: the long runs of the reliability battery. Each fuzz
//! target for [`FUZZ_SECONDS`] (new coverage merged into fuzz/corpus), then
//! the battery at its soak scale against the release helper and the built
//! page; writes RELIABILITY.md with every case's expected and observed
//! outcome.

use std::fmt::Write as _;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, fuzz, root, run, tools, www};

/// Seconds each fuzz target runs in a soak.
const FUZZ_SECONDS: u64 = 120;

pub(crate) fn run_soak() -> Result<()> {
    tools::wasm_target()?;
    let bindgen = tools::wasm_bindgen()?;
    tools::chromium()?;
    let page = www::build(&bindgen)?;
    let fuzzed = fuzz::run_all(FUZZ_SECONDS, true, fuzz::Build::Optimized)?;
    // Two builds: `--example` would narrow the helper package to examples too.
    let mut helper_build = cargo();
    helper_build.args([
        "build",
        "--release",
        "-p",
        "webburn-helper",
        "--bin",
        "webburn-helper",
    ]);
    run(helper_build, "cargo build --release -p webburn-helper")?;
    let mut runner = cargo();
    runner.args([
        "build",
        "--release",
        "-p",
        "webburn-tests",
        "--example",
        "soak",
    ]);
    run(runner, "cargo build --release --example soak")?;
    let helper = root().join("target/release/webburn-helper");
    eprintln!("xtask: the reliability battery at soak scale (several minutes)");
    let started = std::time::Instant::now();
    let out = Command::new(root().join("target/release/examples/soak"))
        .current_dir(root())
        .env("WEBBURN_HELPER_BIN", &helper)
        .env("WEBBURN_WWW", &page)
        .env("CHROMEDRIVER", tools::CHROMEDRIVER)
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("cannot run the soak runner")?;
    let tables = String::from_utf8_lossy(&out.stdout);
    let mut md = String::from(
        "# Reliability\n\n\
         Produced by `cargo xtask soak` (the long runs; `cargo xtask test` runs the same cases at a \
         quick scale in `tests/tests/reliability_battery.rs`, and each fuzz target for 10 s). Cases live in \
         `tests/src/reliability/`; the fuzz targets in `fuzz/fuzz_targets/`, their kept corpus in \
         `fuzz/corpus/`.\n\n## Fuzzing\n\n\
         | target | what it feeds | runs | seconds | corpus |\n|---|---|---|---|---|\n",
    );
    for f in &fuzzed {
        let what = match f.target {
            "protocol_message" => "any text as a protocol v1 message (decode, re-encode, decode)",
            "frame_header" => "any bytes as a data frame (header decode and re-encode)",
            "sense" => "any bytes as sense data (parse, classify, HRESULT)",
            "bot_wrapper" => "any bytes as a Bulk-Only CBW and CSW",
            "scsi_replies" => {
                "any bytes as each reply a drive sends (INQUIRY, capacities, disc, track, TOC, configuration, write speeds, format capacities, mode page 05h)"
            }
            "fsimage_import" => {
                "any bytes as a disc whose session is imported (descriptors, folders, Rock Ridge, Joliet)"
            }
            "unpack" => {
                "any bytes as a downloaded image (format, declared size, xz, zstd and bzip2 decoders, zip directory)"
            }
            _ => "command sequences to the emulated recorder, any medium",
        };
        let _ = writeln!(
            md,
            "| `{}` | {what} | {} | {} | {} inputs |",
            f.target, f.runs, f.seconds, f.corpus
        );
    }
    md.push_str("\nNo target crashed. A crash fails the run and leaves its input in `fuzz/artifacts/`; the one found so far (an empty Write Parameters page, index out of range) is fixed and its input kept in the corpus.\n\n");
    md.push_str(&tables);
    let _ = writeln!(
        md,
        "The battery took {:.0} s on this machine (2 cores).",
        started.elapsed().as_secs_f64()
    );
    std::fs::write(root().join("RELIABILITY.md"), md)?;
    eprintln!("xtask: wrote RELIABILITY.md");
    if !out.status.success() {
        bail!("some cases failed: see RELIABILITY.md");
    }
    Ok(())
}
