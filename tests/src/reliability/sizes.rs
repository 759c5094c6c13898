//! Media filled to their last sector at their real capacities, by the
//! `webburn-helper` binary from a source of the medium's whole size (a
//! sparse file: islands of data in runs of zeros), each verified in full:
//! the disc flow's WRITEs end on the last sector and the read-back covers
//! every one. The quick scale fills a DVD+R; the soak fills a BD-R, a
//! dual-layer BD-R and a 256 GB card.

use std::process::Command;
use std::time::Instant;

use super::{Outcome, Planned, Scale, ensure, plan};
use crate::child::helper_bin;
use crate::media::{Islands, image_len, real, scratch_dir};

/// Fills the medium `options` names (`sectors` of `block` bytes) with one
/// `burn --disc` of a source as large as it and checks the result.
async fn fill(options: &'static str, sectors: u64, block: u64) -> Outcome {
    tokio::task::spawn_blocking(move || fill_blocking(options, sectors, block))
        .await
        .map_err(|e| format!("the case's thread failed: {e}"))?
}

fn fill_blocking(options: &str, sectors: u64, block: u64) -> Outcome {
    let dir = scratch_dir();
    let len = sectors * block;
    let source = Islands::new(len, 1 << 20, 256 << 20, 70);
    let file = dir.path().join("whole.img");
    source.write_sparse(&file);
    let disc = dir.path().join("medium.img");
    let recorder = format!("emulated:{}{options}", disc.display());
    let started = Instant::now();
    let out = Command::new(helper_bin())
        .env("WEBBURN_DATA_DIR", dir.path())
        .args(["burn", "--disc", "--json", "-q", "--recorder", &recorder])
        .arg(&file)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", helper_bin().display()))?;
    let secs = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).map_err(|e| {
        format!(
            "no summary ({e}): {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    ensure(out.status.success() && summary["name"] == "S_OK", || {
        format!("{summary}")
    })?;
    ensure(summary["disc"]["verified"] == true, || {
        format!("not verified: {summary}")
    })?;
    let last = summary["lastWrittenLba"].as_u64().unwrap_or(0);
    ensure(last + 1 == sectors, || {
        format!("the last WRITE ended at {last}, not {}", sectors - 1)
    })?;
    ensure(
        summary["disc"]["sha256"] == source.sha256().as_str(),
        || format!("SHA-256 {} is not the source's", summary["disc"]["sha256"]),
    )?;
    ensure(image_len(&disc) == len, || {
        format!("the image holds {} of {len} bytes", image_len(&disc))
    })?;
    source.assert_written_at(&disc, 0);
    Ok(format!(
        "{sectors} sectors of {block} bytes ({:.1} GB) written and read back in {secs:.0} s ({:.0} MB/s each way)",
        len as f64 / 1e9,
        2.0 * len as f64 / secs / 1e6
    ))
}

/// Every media-size case at `scale`, not run yet.
pub fn cases(scale: Scale) -> Vec<Planned> {
    let mut all = vec![plan(
        "sizes_dvd_filled",
        "sizes",
        "a 4.7 GB DVD+R filled to its last sector by one burn",
        "S_OK, verified, the last WRITE on sector 2,295,103, the image equal to the source",
        fill(real::DVD_PLUS_R, 2_295_104, 2048),
    )];
    if scale.full_media {
        all.push(plan(
            "sizes_bd_filled",
            "sizes",
            "a 25 GB BD-R filled to its last sector by one burn",
            "S_OK, verified, the last WRITE on sector 12,219,391",
            fill(real::BD_R, 12_219_392, 2048),
        ));
        all.push(plan(
            "sizes_bd_dl_filled",
            "sizes",
            "a 50 GB dual-layer BD-R filled to its last sector by one burn",
            "S_OK, verified, the last WRITE on sector 24,438,783",
            fill(real::BD_R_DL, 24_438_784, 2048),
        ));
        all.push(plan(
            "sizes_card_filled",
            "sizes",
            "a 256 GB card (512-byte blocks) written whole by one burn",
            "S_OK, verified, the last WRITE on block 500,118,191",
            fill(real::CARD_256GB, 500_118_192, 512),
        ));
    }
    all
}
