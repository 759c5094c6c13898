//! The cargo-fuzz targets in fuzz/: built once with nightly, each run for a
//! bounded time from the kept corpus in fuzz/corpus/TARGET. New inputs go to
//! a scratch directory; `soak` merges them into the kept corpus (minimized).
//! A crash fails the run and leaves its input in fuzz/artifacts/TARGET.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};

use crate::{root, run, tools};

/// Every fuzz target, as fuzz/Cargo.toml names them.
pub(crate) const TARGETS: [&str; 8] = [
    "protocol_message",
    "frame_header",
    "sense",
    "bot_wrapper",
    "cdb_interpreter",
    "scsi_replies",
    "fsimage_import",
    "unpack",
];

/// What one target's run came to.
#[derive(Debug)]
pub(crate) struct Fuzzed {
    pub target: &'static str,
    pub seconds: u64,
    pub runs: u64,
    pub corpus: usize,
}

fn files_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.filter_map(Result::ok).count())
}

/// How the fuzz targets are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Build {
    /// Optimized, for long runs (`cargo xtask soak`).
    Optimized,
    /// Unoptimized, for the short runs of `cargo xtask test`: the same
    /// checks (debug assertions, overflow checks, coverage), built in a
    /// fraction of the time, at fewer runs a second.
    Quick,
}

impl Build {
    fn flags(self) -> &'static [&'static str] {
        match self {
            Build::Optimized => &[],
            Build::Quick => &["--dev"],
        }
    }
}

/// Fuzzes each target for `seconds`; with `merge`, keeps the new coverage.
pub(crate) fn run_all(seconds: u64, merge: bool, how: Build) -> Result<Vec<Fuzzed>> {
    let bin = tools::cargo_fuzz()?;
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let fuzz_dir = root().join("fuzz");
    let mut build = tools::nightly_cargo();
    build
        .current_dir(&fuzz_dir)
        .env("PATH", &path)
        .args(["fuzz", "build"])
        .args(how.flags());
    run(build, "cargo +nightly fuzz build (every target)")?;
    let scratch: PathBuf = root().join("target/fuzz-new");
    let mut results = Vec::new();
    for target in TARGETS {
        let corpus = fuzz_dir.join("corpus").join(target);
        let new = scratch.join(target);
        // A clone has only the corpus folders that hold a file (git keeps
        // no empty folder), and libFuzzer stops at a missing one.
        std::fs::create_dir_all(&corpus)?;
        std::fs::create_dir_all(&new)?;
        let started = Instant::now();
        let mut fuzz = tools::nightly_cargo();
        fuzz.current_dir(&fuzz_dir)
            .env("PATH", &path)
            .args(["fuzz", "run", target])
            .args(how.flags())
            .arg(&new)
            .arg(&corpus)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .args(["-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1"]);
        let out = fuzz.output()?;
        let log = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            bail!(
                "fuzz target {target} failed (its input is in fuzz/artifacts/{target}):\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        let runs = log
            .lines()
            .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if merge {
            let mut m = tools::nightly_cargo();
            m.current_dir(&fuzz_dir)
                .env("PATH", &path)
                .args(["fuzz", "run", target])
                .args(how.flags())
                .arg(&corpus)
                .arg(&new)
                .args(["--", "-merge=1"]);
            run(
                m,
                &format!("merge the new {target} inputs into fuzz/corpus"),
            )?;
        }
        let fuzzed = Fuzzed {
            target,
            seconds: started.elapsed().as_secs(),
            runs,
            corpus: files_in(&corpus),
        };
        eprintln!(
            "xtask: fuzz {target}: {} runs in {} s, no crash; corpus {} inputs",
            fuzzed.runs, fuzzed.seconds, fuzzed.corpus
        );
        results.push(fuzzed);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(results)
}
