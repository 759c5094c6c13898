//! Hostile discs: a session whose file system lies, read when files are
//! added to the disc (`burn --files --disc --append`) or when a page asks
//! what it holds (`readSession`). Each is refused with
//! IMAPI_E_FILE_SYSTEM_READ_CONSISTENCY_ERROR before anything is written,
//! in bounded memory: a Rock Ridge continuation area that claims 1 GiB, a
//! folder that contains itself, a volume whose size wraps the sector
//! where a grown session would start.

#![allow(clippy::unwrap_used)] // a test: a failed step is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;
use webburn_shared::HResult;
use webburn_shared::protocol::ServerMessage;
use webburn_tests::child::helper_bin;
use webburn_tests::media::{image_len, scratch_dir};
use webburn_tests::served::Helper;

const SECTOR: usize = 2048;

fn cli(dir: &Path, args: &[&str]) -> Output {
    Command::new(helper_bin())
        .env("WEBBURN_DATA_DIR", dir)
        .args(args)
        .output()
        .unwrap()
}

/// An ISO image (`webburn-helper image`) of a folder with a file whose name
/// is too long for its record (Rock Ridge continues it in a CE area) and a
/// folder `loop`.
fn iso(dir: &Path) -> Vec<u8> {
    let src = dir.join("first");
    std::fs::create_dir_all(src.join("loop")).unwrap();
    std::fs::write(src.join("loop/inside.txt"), b"inside").unwrap();
    std::fs::write(src.join(format!("{}.txt", "a long name ".repeat(16))), b"x").unwrap();
    let out = dir.join("first.iso");
    let made = cli(
        dir,
        &[
            "image",
            &src.to_string_lossy(),
            "-o",
            &out.to_string_lossy(),
        ],
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    std::fs::read(&out).unwrap()
}

/// The offset of the first `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("{needle:?} not found"))
}

/// Writes a both-endian 32-bit field (ECMA-119 7.3.3).
fn put_both(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    b[at + 4..at + 8].copy_from_slice(&v.to_be_bytes());
}

/// The primary volume's root folder extent.
fn root_extent(iso: &[u8]) -> u32 {
    let pvd = &iso[16 * SECTOR..17 * SECTOR];
    u32::from_le_bytes(pvd[156 + 2..156 + 6].try_into().unwrap())
}

/// `iso` as a BD-R holding it as one closed session, left appendable.
fn appendable_disc(dir: &Path, iso: &[u8]) -> (PathBuf, String) {
    let disc = dir.join("disc.img");
    std::fs::write(&disc, iso).unwrap();
    let sectors = iso.len() / SECTOR;
    std::fs::write(dir.join("disc.img.sessions"), format!("0 {sectors}\n")).unwrap();
    let id = format!("emulated:{},profile=bd-r", disc.display());
    (disc, id)
}

/// `burn --files ... --disc --append --json` to `recorder`: the summary.
fn append(dir: &Path, recorder: &str) -> serde_json::Value {
    let add = dir.join("add");
    std::fs::create_dir_all(&add).unwrap();
    std::fs::write(add.join("new.txt"), b"new").unwrap();
    let out = cli(
        dir,
        &[
            "burn",
            "--files",
            &add.to_string_lossy(),
            "--recorder",
            recorder,
            "--disc",
            "--append",
            "--json",
            "-q",
        ],
    );
    assert!(!out.status.success(), "a hostile disc was added to");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn assert_refused(summary: &serde_json::Value, what: &str) {
    assert_eq!(
        summary["name"], "IMAPI_E_FILE_SYSTEM_READ_CONSISTENCY_ERROR",
        "{summary}"
    );
    assert!(
        summary["detail"]
            .as_str()
            .unwrap_or_default()
            .contains(what),
        "{summary}"
    );
    assert_eq!(summary["bytes"], 0, "nothing written: {summary}");
    let peak = summary["peakRssBytes"].as_u64().unwrap_or(u64::MAX);
    assert!(peak < 64 << 20, "peak memory {peak} bytes");
    eprintln!("{what}: refused at a peak of {} KiB", peak / 1024);
}

/// The reported disc: 80 KB whose Rock Ridge CE entry claims 1 GiB made an
/// addition peak at 2.1 GB. SUSP 5.1 keeps a continuation area within its
/// sector.
#[test]
fn a_continuation_area_claiming_a_gigabyte_is_refused_in_little_memory() {
    let dir = scratch_dir();
    let mut image = iso(dir.path());
    // Every CE: signature, length 28, version 1; then block, offset, length.
    let mut at = 0;
    while let Some(ce) = image[at..].windows(4).position(|w| w == b"CE\x1c\x01") {
        put_both(&mut image, at + ce + 4 + 16, 1 << 30);
        at += ce + 4;
    }
    assert!(at > 0, "the image has a continuation area");
    let (disc, recorder) = appendable_disc(dir.path(), &image);
    let before = image_len(&disc);
    assert_refused(&append(dir.path(), &recorder), "continuation area");
    assert_eq!(image_len(&disc), before, "the disc is as it was");
}

/// A folder whose record points at the root's extent: the walk would go
/// round (64 levels of the same names before), now it stops at once.
#[test]
fn a_folder_that_contains_itself_is_refused() {
    let dir = scratch_dir();
    let mut image = iso(dir.path());
    let root = root_extent(&image);
    // The primary tree's record of LOOP (ISO 9660 names are upper case).
    let dir_sector = root as usize * SECTOR;
    let at = dir_sector + find(&image[dir_sector..dir_sector + SECTOR], b"LOOP") - 33;
    put_both(&mut image, at + 2, root);
    let (_, recorder) = appendable_disc(dir.path(), &image);
    assert_refused(&append(dir.path(), &recorder), "contains itself");
}

/// A DVD+RW whose volume claims nearly 2^32 sectors: the grown session's
/// start (the volume's end rounded up) wrapped to sector 0 in release
/// builds. Refused, over the protocol too, and the disc is untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volume_whose_size_wraps_is_refused_and_the_disc_untouched() {
    let work = scratch_dir();
    let dir = work.path().to_path_buf();
    let mut image = tokio::task::spawn_blocking(move || iso(&dir))
        .await
        .unwrap();
    // Volume Space Size (ECMA-119 8.4.8).
    put_both(&mut image, 16 * SECTOR + 80, u32::MAX - 3);
    let disc = work.path().join("rw.img");
    std::fs::write(&disc, &image).unwrap();
    std::fs::write(work.path().join("rw.img.formatted"), b"").unwrap();
    let id = format!("emulated:{},profile=dvd+rw,capacity=64MiB", disc.display());
    let helper = Helper::start(&[], move |c| c.recorders = vec![id]).await;
    let mut c = helper.session().await;
    c.send(json!({"type": "readSession", "writeId": 1, "recorder": helper.recorders[0]}))
        .await;
    match c.recv_reply().await {
        ServerMessage::WriteResult {
            hresult, detail, ..
        } => {
            assert_eq!(
                hresult,
                HResult::IMAPI_E_FILE_SYSTEM_READ_CONSISTENCY_ERROR,
                "{detail}"
            );
            assert!(detail.contains("claims"), "{detail}");
        }
        other => panic!("a wrapped volume was read: {other:?}"),
    }
    assert!(
        std::fs::read(&disc).unwrap() == image,
        "the disc is as it was"
    );
}
