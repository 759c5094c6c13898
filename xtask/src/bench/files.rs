//! Burning files: `webburn-helper burn --files` of a tree of 10,000 files
//! beside burning a ready ISO of the same tree (made by `xorriso -as
//! mkisofs`), in pairs with the order turning; the peak memory of `burn
//! --files` for a small and a large tree (sparse files); and the layout of
//! 100,000 files (`fsimage`'s `layout` example).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::disk::{Pair, Timed, scratch};
use crate::{cargo, run};

/// Everything this part measured.
#[derive(Debug, Clone)]
pub(super) struct Files {
    /// Bytes of the tree.
    pub bytes: u64,
    /// Files in it.
    pub count: u64,
    /// `burn --files` (ours) against burning the ready ISO (peer).
    pub pairs: Vec<Pair>,
    /// xorriso's time to make the ISO, seconds (not part of the pairs).
    pub mkisofs_seconds: f64,
    /// Peak RSS of `burn --files` by tree size: (bytes, peak).
    pub memory: Vec<(u64, u64)>,
    /// The layout example's JSON line for 100,000 files.
    pub layout: String,
}

/// A tree of `count` files of pseudo-random data, `bytes` in all.
fn make_tree(dir: &Path, count: u64, bytes: u64) -> Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    let per = bytes / count;
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut block = vec![0u8; usize::try_from(per).unwrap_or(0) + 8];
    for i in 0..count {
        let path = dir.join(format!("folder{:03}/file{i:05}.bin", i % 100));
        if i % 100 == i {
            std::fs::create_dir_all(path.parent().context("no parent")?)?;
        }
        for chunk in block.chunks_mut(8) {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            let v = x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        std::fs::write(&path, &block[..usize::try_from(per).unwrap_or(0)])?;
    }
    Ok(())
}

fn sync() -> Result<()> {
    if !Command::new("sync").status()?.success() {
        bail!("sync failed");
    }
    Ok(())
}

/// One helper burn to a fresh emulated disk; returns its time and peak RSS.
fn burn(helper: &Path, dir: &Path, what: &[&str]) -> Result<Timed> {
    let image = dir.join("files-out.img");
    let _ = std::fs::remove_file(&image);
    sync()?;
    let mut cmd = Command::new(helper);
    cmd.arg("burn")
        .args(what)
        .arg("--recorder")
        .arg(format!(
            "emulated:{},profile=disk,capacity=6GiB",
            image.display()
        ))
        .args(["--json", "-q"])
        .env("WEBBURN_DATA_DIR", dir);
    let t = Instant::now();
    let out = cmd.output().context("cannot run webburn-helper burn")?;
    let seconds = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "webburn-helper burn {what:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let _ = std::fs::remove_file(&image);
    Ok(Timed {
        seconds,
        peak_rss: summary["peakRssBytes"].as_u64(),
    })
}

/// Runs this part of the benchmark.
pub(super) fn measure(helper: &Path) -> Result<Files> {
    let dir = scratch()?;
    let tree = dir.join("tree");
    let (count, bytes) = (10_000u64, 1u64 << 30);
    eprintln!(
        "xtask: bench files: a tree of {count} files, {} MiB",
        bytes >> 20
    );
    make_tree(&tree, count, bytes)?;
    let iso = dir.join("tree.iso");
    let t = Instant::now();
    let mut mk = Command::new("xorriso");
    mk.args(["-as", "mkisofs", "-R", "-J", "-quiet", "-o"])
        .arg(&iso)
        .arg(&tree);
    run(mk, "xorriso -as mkisofs -R -J (the ready ISO of the tree)")?;
    let mkisofs_seconds = t.elapsed().as_secs_f64();
    let tree_arg = tree.to_string_lossy().into_owned();
    let iso_arg = iso.to_string_lossy().into_owned();
    let mut pairs = Vec::new();
    for i in 0..4 {
        eprintln!("xtask: bench files pair {} of 4", i + 1);
        let peer_first = i % 2 == 1;
        let ours_args = ["--files", tree_arg.as_str()];
        let peer_args = [iso_arg.as_str()];
        let (ours, peer) = if peer_first {
            let p = burn(helper, &dir, &peer_args)?;
            (burn(helper, &dir, &ours_args)?, p)
        } else {
            let o = burn(helper, &dir, &ours_args)?;
            (o, burn(helper, &dir, &peer_args)?)
        };
        pairs.push(Pair {
            ours,
            peer,
            peer_first,
        });
    }
    let _ = std::fs::remove_file(&iso);
    let _ = std::fs::remove_dir_all(&tree);
    // Memory: the same four-file tree shape at 1 GiB and 4 GiB (sparse files).
    let mut memory = Vec::new();
    for total in [1u64 << 30, 4u64 << 30] {
        let sparse: PathBuf = dir.join("sparse");
        let _ = std::fs::remove_dir_all(&sparse);
        std::fs::create_dir_all(&sparse)?;
        for i in 0..4 {
            std::fs::File::create(sparse.join(format!("part{i}.bin")))?.set_len(total / 4)?;
        }
        eprintln!("xtask: bench files memory: {} MiB", total >> 20);
        let t = burn(helper, &dir, &["--files", &sparse.to_string_lossy()])?;
        memory.push((total, t.peak_rss.context("no peak memory reported")?));
        let _ = std::fs::remove_dir_all(&sparse);
    }
    let mut layout = cargo();
    layout.args([
        "run",
        "--release",
        "-q",
        "-p",
        "webburn-fsimage",
        "--example",
        "layout",
        "100000",
    ]);
    let out = layout.output().context("cannot run the layout example")?;
    if !out.status.success() {
        bail!("the layout example failed");
    }
    Ok(Files {
        bytes,
        count,
        pairs,
        mkisofs_seconds,
        memory,
        layout: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
    })
}
