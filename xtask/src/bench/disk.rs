//! The helper against the disk: a CLI burn of 1 GiB to an emulated disk
//! (SYNCHRONIZE CACHE = fsync) beside `dd bs=1M conv=fsync` and xorriso
//! writing the same file to a stdio: pseudo-drive; and the helper's peak
//! memory for a small and a large burn.
//!
//! Each comparison runs in pairs, the order turning every pair (A B, B A,
//! ...). Every command writes the same output file, deleted first, and pays
//! for its own writes and flush: `sync` before it so no other command's
//! dirty pages are written back on its time; the source stays in the page
//! cache for both.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::burn::write_sample;

/// One tool's run over the same file.
#[derive(Debug, Clone)]
pub(super) struct Timed {
    /// Wall-clock seconds of the whole command.
    pub seconds: f64,
    /// Peak resident memory the helper reported, if it is the helper.
    pub peak_rss: Option<u64>,
}

/// One pair: the helper and a peer on the same file, back to back.
#[derive(Debug, Clone)]
pub(super) struct Pair {
    /// webburn-helper burn.
    pub ours: Timed,
    /// The peer (dd, xorriso).
    pub peer: Timed,
    /// The peer ran first in this pair.
    pub peer_first: bool,
}

impl Pair {
    /// Throughput ratio ours / peer (the peer's time / ours): above 1, webburn was faster.
    pub(super) fn ratio(&self) -> f64 {
        self.peer.seconds / self.ours.seconds.max(1e-9)
    }
}

/// Median, lowest and highest of the pairs' ratios.
pub(super) fn spread(pairs: &[Pair]) -> (f64, f64, f64) {
    let mut r: Vec<f64> = pairs.iter().map(Pair::ratio).collect();
    r.sort_by(f64::total_cmp);
    let median = match r.len() {
        0 => 0.0,
        n if n % 2 == 1 => r[n / 2],
        n => f64::midpoint(r[n / 2 - 1], r[n / 2]),
    };
    (
        median,
        r.first().copied().unwrap_or(0.0),
        r.last().copied().unwrap_or(0.0),
    )
}

/// Peak RSS of the helper burning `bytes`.
#[derive(Debug, Clone)]
pub(super) struct Memory {
    /// File size.
    pub bytes: u64,
    /// VmHWM after the burn.
    pub peak_rss: u64,
    /// Seconds the burn took.
    pub seconds: f64,
}

/// True if `a` and `b` hold the same first `len` bytes (read in 1 MiB chunks).
pub(super) fn same_prefix(a: &Path, b: &Path, len: u64) -> Result<bool> {
    let mut fa = std::fs::File::open(a).with_context(|| a.display().to_string())?;
    let mut fb = std::fs::File::open(b).with_context(|| b.display().to_string())?;
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    let mut left = len;
    while left > 0 {
        let n = usize::try_from(left.min(1 << 20)).unwrap_or(1 << 20);
        if fa.read_exact(&mut ba[..n]).is_err() || fb.read_exact(&mut bb[..n]).is_err() {
            return Ok(false);
        }
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
        left -= n as u64;
    }
    Ok(true)
}

fn timed(mut cmd: Command, what: &str) -> Result<(f64, String)> {
    let t = Instant::now();
    let out = cmd.output().with_context(|| format!("cannot run {what}"))?;
    let seconds = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok((seconds, String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// A number field of the helper's `--json` summary.
fn field(summary: &str, name: &str) -> Option<f64> {
    let at = summary.find(&format!("\"{name}\":"))? + name.len() + 3;
    let rest = &summary[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// The output file every command writes (deleted before each).
fn output(dir: &Path) -> PathBuf {
    dir.join("out.img")
}

/// Burns `src` with the helper to a fresh emulated disk image in `dir`.
fn helper_burn(helper: &Path, dir: &Path, src: &Path, bytes: u64) -> Result<Timed> {
    let image = output(dir);
    let _ = std::fs::remove_file(&image);
    let capacity = (bytes >> 20) + 64;
    let mut cmd = Command::new(helper);
    cmd.arg("burn")
        .arg(src)
        .arg("--recorder")
        .arg(format!(
            "emulated:{},profile=disk,capacity={capacity}MiB",
            image.display()
        ))
        .args(["--json", "-q"])
        .env("WEBBURN_DATA_DIR", dir);
    let (seconds, out) = timed(cmd, "webburn-helper burn")?;
    if !same_prefix(src, &image, bytes)? {
        bail!("the helper's image differs from {}", src.display());
    }
    let _ = std::fs::remove_file(&image);
    Ok(Timed {
        seconds,
        peak_rss: field(&out, "peakRssBytes").map(|v| v as u64),
    })
}

fn dd(dir: &Path, src: &Path) -> Result<Timed> {
    let out = output(dir);
    let _ = std::fs::remove_file(&out);
    let mut cmd = Command::new("dd");
    cmd.arg(format!("if={}", src.display()))
        .arg(format!("of={}", out.display()))
        .args(["bs=1M", "conv=fsync", "status=none"]);
    let (seconds, _) = timed(cmd, "dd")?;
    let _ = std::fs::remove_file(&out);
    Ok(Timed {
        seconds,
        peak_rss: None,
    })
}

fn xorriso(dir: &Path, src: &Path, bytes: u64) -> Result<Timed> {
    let out = output(dir);
    let _ = std::fs::remove_file(&out);
    let mut cmd = Command::new("xorriso");
    cmd.args(["-as", "cdrecord"])
        .arg(format!("dev=stdio:{}", out.display()))
        .arg("-data")
        .arg(src);
    let (seconds, _) = timed(cmd, "xorriso -as cdrecord")?;
    if !same_prefix(src, &out, bytes)? {
        bail!("xorriso's image differs from {}", src.display());
    }
    let _ = std::fs::remove_file(&out);
    Ok(Timed {
        seconds,
        peak_rss: None,
    })
}

/// Writes back everything dirty, so one tool's data does not slow the next.
fn sync() -> Result<()> {
    let status = Command::new("sync").status().context("cannot run sync")?;
    if !status.success() {
        bail!("sync failed");
    }
    Ok(())
}

/// Where the benchmark's files go (on the same disk as the build).
pub(super) fn scratch() -> Result<PathBuf> {
    let dir = crate::root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Which peer a comparison runs against.
#[derive(Debug, Clone, Copy)]
pub(super) enum Peer {
    /// `dd bs=1M conv=fsync`.
    Dd,
    /// `xorriso -as cdrecord dev=stdio:FILE -data`.
    Xorriso,
}

/// `pairs` pairs of the helper and `peer` on a `bytes` file, alternated.
pub(super) fn against(helper: &Path, peer: Peer, bytes: u64, pairs: usize) -> Result<Vec<Pair>> {
    let dir = scratch()?;
    let src = dir.join("source.bin");
    write_sample(&src, bytes)?;
    let mut out = Vec::new();
    for i in 0..pairs {
        eprintln!("xtask: bench {peer:?} pair {} of {pairs}", i + 1);
        let peer_first = i % 2 == 1;
        let run = |ours: bool| -> Result<Timed> {
            let _ = std::fs::remove_file(output(&dir));
            sync()?;
            match (ours, peer) {
                (true, _) => helper_burn(helper, &dir, &src, bytes),
                (false, Peer::Dd) => dd(&dir, &src),
                (false, Peer::Xorriso) => xorriso(&dir, &src, bytes),
            }
        };
        let (ours, peer_time) = if peer_first {
            let p = run(false)?;
            (run(true)?, p)
        } else {
            let o = run(true)?;
            (o, run(false)?)
        };
        out.push(Pair {
            ours,
            peer: peer_time,
            peer_first,
        });
    }
    let _ = std::fs::remove_file(&src);
    let _ = std::fs::remove_file(output(&dir));
    Ok(out)
}

/// Peak RSS of the helper burning each size (the large sizes from a sparse file).
pub(super) fn memory(helper: &Path, sizes: &[u64]) -> Result<Vec<Memory>> {
    let dir = scratch()?;
    let mut out = Vec::new();
    for &bytes in sizes {
        let src = dir.join("memory.bin");
        let f = std::fs::File::create(&src)?;
        f.set_len(bytes)?;
        drop(f);
        eprintln!("xtask: bench memory: burning {} MiB", bytes >> 20);
        let t = helper_burn(helper, &dir, &src, bytes)?;
        let _ = std::fs::remove_file(&src);
        out.push(Memory {
            bytes,
            peak_rss: t.peak_rss.context("the helper reported no peak memory")?,
            seconds: t.seconds,
        });
    }
    Ok(out)
}
