//! Decompression in the page: tests/examples/unpack_rate.rs opens a
//! benchmark image packed by the real tools with `DiskImage` in headless
//! Chromium and reads its stream to the end, the formats (and the
//! uncompressed image, through the same path) taking turns; this runs it and
//! writes the table.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::size::median;
use crate::{cargo, tools};

/// MiB of the benchmark image, and rounds.
const MIB: u64 = 256;
const ROUNDS: u32 = 3;

/// One format's figures.
#[derive(Debug, Clone)]
pub(super) struct Rate {
    /// `raw`, `gzip`, `xz`, ...
    pub format: String,
    /// Bytes of the file.
    pub file: u64,
    /// Milliseconds to read the whole image, per round.
    pub ms: Vec<f64>,
}

/// Every format of one run.
#[derive(Debug, Clone)]
pub(super) struct Unpack {
    /// Bytes of the image.
    pub bytes: u64,
    /// raw first, then the compressed formats.
    pub rates: Vec<Rate>,
}

/// Runs the example against the built page.
pub(super) fn measure(page: &Path) -> Result<Unpack> {
    tools::compressors()?;
    let mut run = cargo();
    run.args([
        "run",
        "--release",
        "-p",
        "webburn-tests",
        "--example",
        "unpack_rate",
        "--",
    ])
    .arg(page)
    .arg(MIB.to_string())
    .arg(ROUNDS.to_string())
    .env("CHROMEDRIVER", tools::CHROMEDRIVER);
    let out = run
        .output()
        .context("cargo run --example unpack_rate (decompression in the page)")?;
    if !out.status.success() {
        bail!("unpack_rate: {}", String::from_utf8_lossy(&out.stderr));
    }
    let v: Value = serde_json::from_slice(&out.stdout).context("unpack_rate's JSON")?;
    let formats = v["formats"].as_object().context("no formats")?;
    let mut rates: Vec<Rate> = ["raw", "gzip", "zip", "zstd", "xz", "bzip2"]
        .iter()
        .filter_map(|f| {
            let r = formats.get(*f)?;
            Some(Rate {
                format: (*f).to_owned(),
                file: r["file"].as_u64()?,
                ms: r["ms"]
                    .as_array()?
                    .iter()
                    .filter_map(Value::as_f64)
                    .collect(),
            })
        })
        .collect();
    rates.retain(|r| !r.ms.is_empty());
    Ok(Unpack {
        bytes: v["bytes"].as_u64().context("no bytes")?,
        rates,
    })
}

/// The section's heading.
pub(super) const HEADING: &str = "## Compressed images: decoding in the page";

/// The BENCHMARKS.md section.
pub(super) fn section(u: &Unpack) -> String {
    let mb = u.bytes as f64 / 1e6;
    let mut md = format!(
        "{HEADING}\n\n\
         A {mb:.0} MB image (a third zeros, a third random bytes, a third letters) packed by \
         the real tools (`gzip -6`, `zip -6`, `zstd -3`, `xz -3`, `bzip2 -9`), opened with \
         `DiskImage.open` in headless Chromium and its `stream()` read to the end; `raw` is \
         the uncompressed image read through the same path. The formats take turns, \
         {} rounds after a warm-up; the median. Rates are of the decoded image: a drive \
         slower than its format's rate sets the pace of the flash \
         (`cargo run --release -p webburn-tests --example unpack_rate -- target/www {MIB} {ROUNDS}`).\n\n\
         | format | file | decoded by | MB/s of image (median) | range | vs raw |\n|---|---|---|---|---|---|\n",
        u.rates.first().map_or(0, |r| r.ms.len()),
    );
    let raw = u
        .rates
        .iter()
        .find(|r| r.format == "raw")
        .map_or(f64::NAN, |r| mb / (median(&r.ms) / 1000.0));
    for r in &u.rates {
        let rate = mb / (median(&r.ms) / 1000.0);
        let slowest = r.ms.iter().copied().fold(0.0, f64::max);
        let fastest = r.ms.iter().copied().fold(f64::INFINITY, f64::min);
        let range = format!(
            "{:.0}–{:.0}",
            mb / (slowest / 1000.0),
            mb / (fastest / 1000.0)
        );
        let by = match r.format.as_str() {
            "raw" => "(Blob slices)",
            "gzip" | "zip" => "the browser (DecompressionStream)",
            "xz" => "xz4rust (wasm)",
            "zstd" => "ruzstd (wasm)",
            _ => "libbz2-rs-sys (wasm)",
        };
        let _ = writeln!(
            md,
            "| {} | {:.1} MB | {by} | {rate:.0} | {range} | {:.2}x |",
            r.format,
            r.file as f64 / 1e6,
            rate / raw
        );
    }
    md.push('\n');
    md
}
