//! The browser's figures: headless Chromium's ceiling (a Blob sent to a sink
//! that only counts) against the same Blob burned through the page, and the
//! page feeding speed-limited emulated drives (tests/examples/browser_bench.rs
//! measures, this reads its JSON).

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::cargo;

/// A write at a modelled drive speed.
#[derive(Debug, Clone)]
pub(super) struct Fidelity {
    /// What was emulated.
    pub drive: &'static str,
    /// The model's rate, bytes per second.
    pub model: f64,
    /// Rate between 10 % and 90 % progress, bytes per second.
    pub sustained: f64,
    /// Seconds of the whole write.
    pub seconds: f64,
    /// (seconds, system-buffer fill 0..1) of every Update event.
    pub fill: Vec<(f64, f64)>,
    /// (seconds, bytes per second over the last interval) of every Update event.
    pub rate: Vec<(f64, f64)>,
}

/// Everything the browser part measured.
#[derive(Debug, Clone)]
pub(super) struct Browser {
    /// Bytes of the ceiling and throughput runs.
    pub bytes: u64,
    /// (seconds to the sink, seconds through the page to the emulated
    /// disk) of each round.
    pub rounds: Vec<(f64, f64)>,
    /// Bytes of each fidelity run.
    pub fidelity_bytes: u64,
    /// 16x BD-R and 24x DVD+R.
    pub fidelity: Vec<Fidelity>,
    /// (image bytes, seconds burning a folder as files, seconds burning
    /// the ready ISO of it, the ISO went first) of each round.
    pub files: Vec<(f64, f64, f64, bool)>,
}

fn num(v: &Value, what: &str) -> Result<f64> {
    v.as_f64()
        .with_context(|| format!("{what} is not a number: {v}"))
}

fn fidelity(run: &Value, drive: &'static str, model: f64) -> Result<Fidelity> {
    let samples = run["samples"]
        .as_array()
        .context("a fidelity run has no samples")?;
    let point = |s: &Value| -> Result<(f64, f64, f64, f64, f64)> {
        Ok((
            num(&s["ms"], "ms")? / 1000.0,
            num(&s["progress"], "progress")?,
            num(&s["lba"], "lba")?,
            num(&s["used"], "used")? / num(&s["total"], "total")?.max(1.0),
            num(&s["rate"], "rate")?,
        ))
    };
    let points: Vec<_> = samples.iter().map(point).collect::<Result<_>>()?;
    let first = points.iter().find(|p| p.1 >= 0.1);
    let last = points.iter().rev().find(|p| p.1 <= 0.9);
    let sustained = match (first, last) {
        (Some(a), Some(b)) if b.0 > a.0 => (b.2 - a.2) * 2048.0 / (b.0 - a.0),
        _ => bail!("{drive}: too few Update events between 10 % and 90 %"),
    };
    Ok(Fidelity {
        drive,
        model,
        sustained,
        seconds: num(&run["ms"], "ms")? / 1000.0,
        fill: points.iter().map(|p| (p.0, p.3)).collect(),
        rate: points.iter().map(|p| (p.0, p.4)).collect(),
    })
}

impl Browser {
    /// The round whose ratio (ours / ceiling) is the median one.
    pub(super) fn median(&self) -> (f64, f64) {
        let mut by_ratio = self.rounds.clone();
        by_ratio.sort_by(|a, b| (a.0 / a.1).total_cmp(&(b.0 / b.1)));
        by_ratio
            .get(by_ratio.len() / 2)
            .copied()
            .unwrap_or((0.0, 0.0))
    }
}

/// One run of the example: its JSON.
fn run_once(www: &Path, mib: u64, fidelity_mib: u64, iso_first: bool) -> Result<Value> {
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--release",
        "-q",
        "-p",
        "webburn-tests",
        "--example",
        "browser_bench",
        "--",
    ])
    .arg(mib.to_string())
    .arg(fidelity_mib.to_string())
    .arg(if iso_first {
        "iso-first"
    } else {
        "files-first"
    })
    .env("WEBBURN_WWW", www)
    .env("CHROMEDRIVER", crate::tools::CHROMEDRIVER);
    let out = cmd.output().context("cannot run the browser benchmark")?;
    if !out.status.success() {
        bail!(
            "the browser benchmark failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout).context("the browser benchmark's JSON")
}

/// Runs the browser benchmark against the page built in `www`: `rounds`
/// ceiling/ours pairs (the fidelity runs with the first).
pub(super) fn measure(www: &Path, mib: u64, fidelity_mib: u64, rounds: usize) -> Result<Browser> {
    let mut pairs = Vec::new();
    let mut files = Vec::new();
    let mut fidelity_runs = Vec::new();
    for round in 0..rounds.max(1) {
        eprintln!(
            "xtask: bench: headless Chromium, {mib} MiB to a sink and through the page (round {})",
            round + 1
        );
        // The speed-fidelity burns run once, with the first round.
        // Files and the ready ISO take turns going first.
        let v = run_once(
            www,
            mib,
            if round == 0 { fidelity_mib } else { 8 },
            round % 2 == 1,
        )?;
        pairs.push((
            num(&v["ceiling"]["ms"], "ceiling")? / 1000.0,
            num(&v["ours"]["ms"], "ours")? / 1000.0,
        ));
        files.push((
            num(&v["files"]["bytes"], "files bytes")?,
            num(&v["files"]["ms"], "files")? / 1000.0,
            num(&v["iso"]["ms"], "iso")? / 1000.0,
            v["isoFirst"].as_bool().unwrap_or(false),
        ));
        if round == 0 {
            fidelity_runs = vec![
                fidelity(&v["bd16x"], "16x BD-R", 72_000_000.0)?,
                fidelity(&v["dvd24x"], "24x DVD+R", 33_240_000.0)?,
            ];
        }
    }
    Ok(Browser {
        bytes: mib << 20,
        rounds: pairs,
        fidelity_bytes: fidelity_mib << 20,
        fidelity: fidelity_runs,
        files,
    })
}
