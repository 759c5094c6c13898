//! Decompression in the page: a benchmark image packed by the real tools
//! (gzip, xz, zstd, bzip2, zip), each opened with `DiskImage.open` in
//! headless Chromium and its `stream()` read to the end, against the same
//! image uncompressed read through the same path, the formats taking turns
//! in every round. Prints one JSON object on stdout: `{"bytes": N,
//! "formats": {"raw": {"file": N, "ms": [..]}, "xz": {...}, ...}}`.
//!
//! `cargo run --release -p webburn-tests --example unpack_rate -- WWW-DIR [MIB] [ROUNDS]`

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement tool, not product code

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, json};
use webburn_tests::browser::Browser;
use webburn_tests::packed::{bench_image, pack};
use webburn_tests::served::Helper;

const LONG: Duration = Duration::from_secs(120);

/// The page's part: fetch the file, open it, read the image to the end.
const READ: &str = r"
const blob = await (await fetch('/bench/NAME')).blob();
const t0 = performance.now();
const image = await window.webburn.DiskImage.open(blob);
const reader = image.stream().getReader();
let n = 0;
for (;;) { const { done, value } = await reader.read(); if (done) break; n += value.length; }
done({ ms: performance.now() - t0, n, format: image.format });
";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let www = PathBuf::from(
        args.first()
            .expect("usage: unpack_rate WWW-DIR [MIB] [ROUNDS]"),
    );
    let mib: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(128);
    let rounds: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("www");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(&www)
        .arg(&site)
        .status()
        .unwrap();
    assert!(status.success());
    let bench = site.join("bench");
    std::fs::create_dir_all(&bench).unwrap();
    let img = bench_image(mib << 20);
    let mut files = vec![("raw", "image.img".to_owned(), img.len())];
    std::fs::write(bench.join("image.img"), &img).unwrap();
    for (format, name) in [
        ("gzip", "image.img.gz"),
        ("xz", "image.img.xz"),
        ("zstd", "image.img.zst"),
        ("bzip2", "image.img.bz2"),
        ("zip", "image.img.zip"),
    ] {
        let packed = pack(format, &img, dir.path(), "image.img").expect("the compressor");
        std::fs::write(bench.join(name), &packed).unwrap();
        files.push((format, name.to_owned(), packed.len()));
    }
    drop(img);
    let helper = Helper::start(&[",profile=disk"], move |c| c.www = Some(site)).await;
    let browser = Browser::start().await;
    browser.open_page(&helper.server.url(), LONG).await;
    let mut out = Map::new();
    for (format, _, file) in &files {
        out.insert((*format).into(), json!({ "file": file, "ms": [] }));
    }
    // One uncounted warm-up of each, then the rounds, the formats in turn.
    for round in 0..=rounds {
        for (format, name, _) in &files {
            let r = browser.eval_async(&READ.replace("NAME", name)).await;
            assert_eq!(r["n"].as_u64(), Some((mib << 20) as u64), "{format}: {r}");
            if round > 0 {
                out[*format]["ms"]
                    .as_array_mut()
                    .unwrap()
                    .push(r["ms"].clone());
            }
        }
    }
    println!("{}", json!({ "bytes": mib << 20, "formats": out }));
}
