//! The `webburn-helper` binary: burns compared byte for byte, exit codes and
//! messages on failure, the recorder list, and memory bounded by the buffer.

#![allow(clippy::unwrap_used)] // support functions of the tests, not product code

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_webburn-helper");

/// Random bytes from the OS.
fn random_file(path: &Path, len: u64) -> Vec<u8> {
    let mut data = Vec::with_capacity(len as usize);
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .take(len)
        .read_to_end(&mut data)
        .unwrap();
    std::fs::write(path, &data).unwrap();
    data
}

fn helper(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .env("WEBBURN_DATA_DIR", data_dir)
        .args(args)
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn burns_a_random_file_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.bin");
    let data = random_file(&src, 6 << 20);
    let img = dir.path().join("disc.img");
    let rec = format!("emulated:{},profile=dvd+r", img.display());
    let out = helper(
        dir.path(),
        &["burn", src.to_str().unwrap(), "--recorder", &rec, "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&img).unwrap(), data);
    let s = json(&out);
    assert_eq!(s["name"], "S_OK");
    assert_eq!(s["lastWrittenLba"], 3071);
    assert_eq!(s["bytes"], 6 << 20);
    assert!(s["events"].as_u64().unwrap() >= 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Done:"), "{stderr}");

    // Again: a sequential disc appends at its next writable address.
    let out = helper(
        dir.path(),
        &[
            "burn",
            src.to_str().unwrap(),
            "--recorder",
            &rec,
            "--json",
            "-q",
        ],
    );
    assert!(out.status.success());
    assert_eq!(json(&out)["startLba"], 3072);
    assert_eq!(std::fs::read(&img).unwrap(), [data.clone(), data].concat());
}

#[test]
fn pads_the_last_sector_with_zeros_and_uses_the_default_recorder() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("odd.bin");
    let data = random_file(&src, 3 * 2048 + 1000);
    let out = helper(
        dir.path(),
        &[
            "burn",
            src.to_str().unwrap(),
            "-q",
            "--streaming",
            "--buffer",
            "64KiB",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img = std::fs::read(dir.path().join("default-bd-r.img")).unwrap();
    assert_eq!(img.len(), 4 * 2048);
    assert_eq!(&img[..data.len()], &data[..]);
    assert!(img[data.len()..].iter().all(|&b| b == 0));
}

#[test]
fn failures_print_the_hresult_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.bin");
    random_file(&src, 1 << 20);
    let src = src.to_str().unwrap();
    let img = dir.path().join("bad.img");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                src.into(),
                "--recorder".into(),
                format!("emulated:{},write-error=100", img.display()),
            ],
            "E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE",
        ),
        (vec!["/nonexistent/file".into()], "E_INVALIDARG"),
        (
            vec![src.into(), "--recorder".into(), "/dev/nothing".into()],
            "E_INVALIDARG",
        ),
        (
            vec![
                src.into(),
                "--recorder".into(),
                "emulated:x.img,speed=warp".into(),
            ],
            "E_INVALIDARG",
        ),
        (
            vec![src.into(), "--sectors".into(), "1000".into()],
            "E_INVALIDARG",
        ),
        (
            vec![src.into(), "--bytes-per-sector".into(), "0".into()],
            "E_INVALIDARG",
        ),
        (
            // A disk takes only whole blocks of its own size (2048 here).
            vec![
                src.into(),
                "--bytes-per-sector".into(),
                "512".into(),
                "--recorder".into(),
                format!("emulated:{},profile=disk", img.display()),
            ],
            "does not fit",
        ),
        (
            vec![
                src.into(),
                "--recorder".into(),
                format!("emulated:{},profile=disk,capacity=512KiB", img.display()),
            ],
            "E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA",
        ),
    ];
    for (args, name) in cases {
        let mut all = vec!["burn", "-q"];
        all.extend(args.iter().map(String::as_str));
        let out = helper(dir.path(), &all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(name), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // The write-error case reports where it stopped, in text and JSON.
    let rec = format!(
        "emulated:{},write-error=100",
        dir.path().join("e2.img").display()
    );
    let out = helper(
        dir.path(),
        &["burn", src, "--recorder", &rec, "-q", "--json"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("LastWrittenLba 95"), "{stderr}");
    assert!(stderr.contains("3/0C/00"), "{stderr}");
    let s = json(&out);
    assert_eq!(s["hresult"], 0xC0AA_0301_u32);
    assert_eq!(s["lastWrittenLba"], 95);
}

#[test]
fn a_locked_recorder_is_reported_as_locked() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.bin");
    random_file(&src, 4096);
    let img = dir.path().join("held.img");
    let id = format!("emulated:{}", img.display());
    let _held = webburn_engine::devices::Recorder::open(&id).unwrap();
    let out = helper(
        dir.path(),
        &["burn", src.to_str().unwrap(), "--recorder", &id],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("E_IMAPI_RECORDER_LOCKED"));
}

#[test]
fn disc_burns_closes_and_verifies_a_dvd_plus_r() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.bin");
    let data = random_file(&src, 1 << 20);
    let img = dir.path().join("dvd.img");
    let rec = format!("emulated:{},profile=dvd+r", img.display());
    let src = src.to_str().unwrap();
    let out = helper(
        dir.path(),
        &[
            "burn",
            src,
            "--recorder",
            &rec,
            "--disc",
            "--eject",
            "--json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for step in [
        "Checking the medium",
        "Writing at 16230 sectors/s",
        "Closing",
        "Verifying",
        "Completed",
        "verified, ejected",
    ] {
        assert!(stderr.contains(step), "{step}: {stderr}");
    }
    assert_eq!(std::fs::read(&img).unwrap(), data);
    let s = json(&out);
    assert_eq!(s["disc"]["verified"], true, "{s}");
    assert_eq!(s["disc"]["ejected"], true, "{s}");
    let sha = format!("{:x}", Sha256::digest(&data));
    assert_eq!(s["disc"]["sha256"].as_str(), Some(sha.as_str()), "{s}");
    // The tray is open: `recorders` cannot see the medium; the next burn closes it.
    let list = json(&helper(
        dir.path(),
        &["recorders", "--recorder", &rec, "--json"],
    ));
    assert_eq!(list[1]["currentProfile"], 0, "{list}");
    // A closed disc takes nothing more.
    let again = helper(
        dir.path(),
        &["burn", src, "--recorder", &rec, "--disc", "-q"],
    );
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("E_IMAPI_DF2DATA_MEDIA_NOT_BLANK"),
        "{stderr}"
    );
    let list = json(&helper(
        dir.path(),
        &["recorders", "--recorder", &rec, "--json"],
    ));
    assert_eq!(list[1]["discStatus"], "complete", "{list}");
    assert_eq!(list[1]["writeSpeeds"][0], 16230, "{list}");
}

#[test]
fn disc_reports_a_failed_verify_with_the_first_bad_lba() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.bin");
    random_file(&src, 1 << 20);
    let rec = format!(
        "emulated:{},profile=bd-r,corrupt-at=77",
        dir.path().join("bd.img").display()
    );
    let src = src.to_str().unwrap();
    let out = helper(
        dir.path(),
        &["burn", src, "--recorder", &rec, "--disc", "-q", "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("E_IMAPI_BURN_VERIFICATION_FAILED"),
        "{stderr}"
    );
    assert!(stderr.contains("sector 77"), "{stderr}");
    let s = json(&out);
    assert_eq!(s["firstBadLba"], 77, "{s}");
    // The disc options need --disc.
    let plain = helper(dir.path(), &["burn", src, "--verify", "none"]);
    assert_eq!(plain.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&plain.stderr).contains("--disc"));
}

#[test]
fn recorders_lists_identity_and_medium() {
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "emulated:{},profile=dvd+r",
        dir.path().join("dvd.img").display()
    );
    let out = helper(dir.path(), &["recorders", "--recorder", &extra, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = json(&out);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["productId"], "EMULATED BD-R");
    assert_eq!(list[0]["kind"], "emulated");
    assert_eq!(
        list[1]["id"],
        format!("emulated:{}", dir.path().join("dvd.img").display())
    );
    assert_eq!(list[1]["currentProfiles"], serde_json::json!([0x1B]));
    assert_eq!(list[1]["discStatus"], "blank");
    let text = helper(dir.path(), &["recorders"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("WEBBURN EMULATED BD-R"));
    let bad = helper(
        dir.path(),
        &["recorders", "--recorder", "nonsense", "--json"],
    );
    assert!(bad.status.success(), "the default one is still listed");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("nonsense"));
}

#[test]
fn peak_memory_is_bounded_by_the_buffer_not_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.bin");
    // A sparse 256 MiB file: reads as zeros, costs no disk to create.
    std::fs::File::create(&src)
        .unwrap()
        .set_len(256 << 20)
        .unwrap();
    let rec = format!(
        "emulated:{},profile=disk",
        dir.path().join("big.img").display()
    );
    let out = helper(
        dir.path(),
        &[
            "burn",
            src.to_str().unwrap(),
            "--recorder",
            &rec,
            "-q",
            "--json",
            "--no-sync",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = json(&out);
    let rss = s["peakRssBytes"].as_u64().unwrap();
    assert!(
        rss < (16 + 32) << 20,
        "peak RSS {rss} bytes for a 16 MiB buffer"
    );
    assert_eq!(s["bytes"], 256 << 20);
}

#[test]
fn sections_outside_the_medium_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.bin");
    random_file(&file, 64 << 10);
    let big = dir.path().join("big.bin");
    random_file(&big, 600 << 10);
    let img = dir.path().join("dvd.img");
    let rec = format!("emulated:{},profile=dvd+r,capacity=512KiB", img.display());
    let file = file.to_string_lossy().into_owned();
    let big = big.to_string_lossy().into_owned();
    for (args, name) in [
        (&["--lba", "-1"][..], "E_INVALIDARG"),
        (&["--lba", "-2147483648"][..], "E_INVALIDARG"),
        // Not the next writable address of the blank DVD+R.
        (&["--lba", "250"][..], "E_INVALIDARG"),
        (
            &[big.as_str()][..],
            "E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA",
        ),
        (&["--bytes-per-sector", "4096"][..], "E_INVALIDARG"),
        (&["--bytes-per-sector", "1"][..], "E_INVALIDARG"),
    ] {
        let mut all = vec!["burn", "--quiet", "--json", "--recorder", &rec];
        // The 600 KiB file instead of the 64 KiB one.
        if args.first() != Some(&big.as_str()) {
            all.push(&file);
        }
        all.extend_from_slice(args);
        let out = helper(dir.path(), &all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was not refused: {err}");
        assert!(err.contains(name), "{args:?}: {err}");
        let summary = json(&out);
        assert_eq!(summary["name"], name, "{summary}");
        assert_eq!(summary["bytes"], 0, "nothing written: {summary}");
    }
    let written = std::fs::metadata(&img).map_or(0, |m| m.len());
    assert_eq!(written, 0, "nothing was written");
}

/// Fails the test when xorriso, the reader these tests check against, is
/// missing (`cargo xtask test` installs it).
#[cfg(unix)]
fn xorriso() {
    if Command::new("xorriso").arg("-version").output().is_err() {
        common::prerequisite_missing("xorriso");
    }
}

/// A small tree of files, returned as (relative path, bytes).
#[cfg(unix)]
fn small_tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let files = vec![
        ("photos/a.jpg".to_owned(), vec![1u8; 70_000]),
        ("photos/b b.jpg".to_owned(), vec![2u8; 2048]),
        ("notes/r\u{e9}sum\u{e9}.txt".to_owned(), b"hello".to_vec()),
        ("empty.txt".to_owned(), Vec::new()),
    ];
    for (path, data) in &files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    files
}

#[cfg(unix)] // xorriso reads the image
#[test]
fn image_writes_an_iso_of_files_that_xorriso_reads() {
    xorriso();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let files = small_tree(&src);
    let iso = dir.path().join("out.iso");
    let out = helper(
        dir.path(),
        &[
            "image",
            &src.to_string_lossy(),
            "-o",
            &iso.to_string_lossy(),
            "--volume",
            "Trip",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("4 files in 2 folders"));
    assert_session_holds(&iso, 0, &files, &dir.path().join("x"));
    // A path that does not exist: its HRESULT and nothing written.
    let out = helper(
        dir.path(),
        &["image", "/nonexistent/x", "-o", &iso.to_string_lossy()],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("IMAPI_E_DATA_STREAM_READ_FAILURE"));
}

#[cfg(unix)] // xorriso reads the image
#[test]
fn burn_files_makes_a_verified_disc_that_xorriso_reads() {
    xorriso();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let files = small_tree(&src);
    let img = dir.path().join("dvd.img");
    let rec = format!("emulated:{},profile=dvd+r,capacity=64MiB", img.display());
    let out = helper(
        dir.path(),
        &[
            "burn",
            "--files",
            &src.to_string_lossy(),
            "--recorder",
            &rec,
            "--disc",
            "--json",
            "-q",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = json(&out);
    assert_eq!(summary["name"], "S_OK");
    assert_eq!(summary["disc"]["verified"], true);
    assert_session_holds(&img, 0, &files, &dir.path().join("x"));
    // A tree larger than the disc is refused when it is laid out.
    let big = dir.path().join("big");
    std::fs::create_dir_all(&big).unwrap();
    std::fs::File::create(big.join("huge.bin"))
        .unwrap()
        .set_len(8 << 20)
        .unwrap();
    let small = dir.path().join("small.img");
    let rec = format!("emulated:{},profile=dvd+r,capacity=4MiB", small.display());
    let out = helper(
        dir.path(),
        &[
            "burn",
            "--files",
            &big.to_string_lossy(),
            "--recorder",
            &rec,
            "--disc",
            "-q",
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("IMAPI_E_IMAGE_SIZE_LIMIT"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::metadata(&small).map_or(0, |m| m.len()),
        0,
        "nothing written"
    );
}

#[test]
fn erase_blanks_a_closed_cd_rw_for_the_next_burn_and_refuses_write_once_discs() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("scans.iso");
    random_file(&src, 1 << 20);
    let rw = format!(
        "emulated:{},profile=cd-rw,capacity=16MiB",
        dir.path().join("rw.img").display()
    );
    let burn = |dir: &Path| {
        helper(
            dir,
            &[
                "burn",
                src.to_str().unwrap(),
                "--recorder",
                &rw,
                "--disc",
                "--quiet",
            ],
        )
    };
    assert!(burn(dir.path()).status.success());
    let again = burn(dir.path());
    assert!(!again.status.success());
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(
        said.contains("E_IMAPI_DF2DATA_MEDIA_NOT_BLANK") && said.contains("erase it"),
        "{said}"
    );
    let erased = helper(dir.path(), &["erase", "--recorder", &rw]);
    assert!(
        erased.status.success(),
        "{}",
        String::from_utf8_lossy(&erased.stderr)
    );
    assert!(String::from_utf8_lossy(&erased.stderr).contains("(minimal)"));
    assert!(burn(dir.path()).status.success(), "a blank disc again");
    let full = helper(dir.path(), &["erase", "--recorder", &rw, "--full"]);
    assert!(full.status.success());
    let dvd_r = format!(
        "emulated:{},profile=dvd-r",
        dir.path().join("r.img").display()
    );
    let refused = helper(dir.path(), &["erase", "--recorder", &dvd_r]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("E_IMAPI_ERASE_MEDIA_IS_NOT_ERASABLE")
            && said.contains("a DVD-R cannot be erased"),
        "{said}"
    );
}

/// Extracts the session whose volume descriptors start at `sbsector + 16`
/// with xorriso and checks it holds exactly `files`, nothing more.
#[cfg(unix)]
fn assert_session_holds(image: &Path, sbsector: u64, files: &[(String, Vec<u8>)], work: &Path) {
    let out = Command::new("xorriso")
        .args([
            "-osirrox",
            "on",
            "-load",
            "sbsector",
            &sbsector.to_string(),
            "-indev",
        ])
        .arg(image)
        .args(["-extract", "/"])
        .arg(work)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut found = Vec::new();
    let mut stack = vec![work.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(work).unwrap().to_string_lossy().into_owned();
                found.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    found.sort();
    let mut want = files.to_vec();
    want.sort();
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&found), names(&want), "session at {sbsector}");
    assert!(found == want, "a file of the session at {sbsector} differs");
}

#[cfg(unix)] // xorriso reads the image
#[test]
fn files_added_to_an_appendable_disc_make_sessions_that_hold_the_old_and_the_new() {
    xorriso();
    for profile in ["cd-r", "dvd+r", "bd-r"] {
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("disc.img");
        let rec = format!(
            "emulated:{},profile={profile},capacity=256MiB",
            img.display()
        );
        let month = |name: &str, seed: u8| {
            let src = dir.path().join(name);
            let path = format!("scans/{name}.pdf");
            let data = vec![seed; 5000 + usize::from(seed) * 700];
            std::fs::create_dir_all(src.join("scans")).unwrap();
            std::fs::write(src.join(&path), &data).unwrap();
            (src, (path, data))
        };
        let burn = |src: &Path, extra: &[&str]| {
            let src = src.to_string_lossy();
            let mut args = vec![
                "burn",
                "--files",
                &src,
                "--recorder",
                &rec,
                "--disc",
                "--json",
                "-q",
            ];
            args.extend_from_slice(extra);
            helper(dir.path(), &args)
        };
        let mut on_disc = Vec::new();
        let mut starts = Vec::new();
        for (round, name) in ["january", "february", "march"].iter().enumerate() {
            let (src, file) = month(name, round as u8 + 1);
            on_disc.push(file);
            // The first burn starts the disc; the last one closes it.
            let mut extra = vec!["--volume", "Scans"];
            if round > 0 {
                extra.push("--append");
            }
            if round < 2 {
                extra.push("--leave-appendable");
            }
            let out = burn(&src, &extra);
            assert!(
                out.status.success(),
                "{profile} round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let summary = json(&out);
            assert_eq!(summary["disc"]["verified"], true);
            starts.push(summary["startLba"].as_u64().unwrap());
            let work = dir.path().join(format!("x{round}"));
            assert_session_holds(&img, starts[round], &on_disc, &work);
            // `recorders` counts the sessions and says whether more may follow.
            let listed = helper(dir.path(), &["recorders", "--recorder", &rec]);
            let listed = String::from_utf8_lossy(&listed.stdout);
            let want = if round < 2 {
                format!("sessions   {}, open", round + 1)
            } else {
                "sessions   3\n".to_owned()
            };
            assert!(listed.contains(&want), "{profile} round {round}: {listed}");
        }
        // Each session starts after the previous one and its gap.
        assert!(
            starts[1] > 0 && starts[2] > starts[1],
            "{profile}: {starts:?}"
        );
        // The earlier sessions still read as they were.
        assert_session_holds(&img, starts[0], &on_disc[..1], &dir.path().join("again"));
        // The closed disc takes nothing more.
        let (src, _) = month("april", 9);
        let out = burn(&src, &["--append"]);
        assert!(!out.status.success());
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains("E_IMAPI_DF2DATA_MEDIA_NOT_BLANK"),
            "{profile}: {said}"
        );
    }
}

#[test]
fn appending_a_file_the_disc_holds_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("disc.img");
    let rec = format!("emulated:{},profile=dvd+r,capacity=64MiB", img.display());
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), b"first").unwrap();
    let s = src.to_string_lossy();
    let first = helper(
        dir.path(),
        &[
            "burn",
            "--files",
            &s,
            "--recorder",
            &rec,
            "--disc",
            "--leave-appendable",
            "-q",
        ],
    );
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let before = std::fs::read(&img).unwrap();
    std::fs::write(src.join("a.txt"), b"second").unwrap();
    let again = helper(
        dir.path(),
        &[
            "burn",
            "--files",
            &s,
            "--recorder",
            &rec,
            "--disc",
            "--append",
            "-q",
        ],
    );
    assert!(!again.status.success());
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(
        said.contains("IMAPI_E_DUP_NAME") && said.contains("a.txt"),
        "{said}"
    );
    assert_eq!(std::fs::read(&img).unwrap(), before, "nothing was written");
    // A blank disc: --append burns the first session.
    let blank = dir.path().join("blank.img");
    let rec = format!("emulated:{},profile=cd-r,capacity=64MiB", blank.display());
    let out = helper(
        dir.path(),
        &[
            "burn",
            "--files",
            &s,
            "--recorder",
            &rec,
            "--disc",
            "--append",
            "-q",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(unix)] // xorriso reads the image
#[test]
fn files_added_to_a_rewritable_disc_grow_its_file_system_in_place() {
    xorriso();
    for profile in ["dvd+rw", "bd-re", "dvd-rw-ro"] {
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("rw.img");
        let rec = format!(
            "emulated:{},profile={profile},capacity=64MiB",
            img.display()
        );
        let mut on_disc = Vec::new();
        for (round, name) in ["week-1", "week-2", "week-3", "fresh"].iter().enumerate() {
            let src = dir.path().join(name);
            std::fs::create_dir_all(&src).unwrap();
            let data = vec![round as u8 + 1; 3000 + round * 1000];
            std::fs::write(src.join(format!("{name}.txt")), &data).unwrap();
            let s = src.to_string_lossy();
            let mut args = vec![
                "burn",
                "--files",
                &s,
                "--recorder",
                &rec,
                "--disc",
                "--json",
                "-q",
            ];
            // Weeks 2 and 3 are added; the last burn starts the disc afresh.
            if (1..3).contains(&round) {
                args.push("--append");
            } else {
                on_disc.clear();
            }
            let out = helper(dir.path(), &args);
            assert!(
                out.status.success(),
                "{profile} {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let start = json(&out)["startLba"].as_u64().unwrap();
            assert_eq!(
                start > 0,
                (1..3).contains(&round),
                "{profile} {name} at {start}"
            );
            assert_eq!(start % 32, 0, "aligned");
            on_disc.push((format!("{name}.txt"), data));
            // Every reader opens the disc at sector 16: the grown tree.
            let work = dir.path().join(format!("x-{name}"));
            assert_session_holds(&img, 0, &on_disc, &work);
            // A grown disc keeps no UDF recognition sequence (a reader that
            // prefers UDF would find the first burn's tree alone).
            let bytes = std::fs::read(&img).unwrap();
            let bea = &bytes[19 * 2048 + 1..19 * 2048 + 6];
            assert_eq!(
                bea == b"BEA01",
                !(1..3).contains(&round),
                "{profile} {name}"
            );
        }
    }
}

#[test]
fn a_restricted_overwrite_dvd_rw_is_erased_by_blank() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("ro.img");
    random_file(&img, 1 << 20);
    let rec = format!(
        "emulated:{},profile=dvd-rw-ro,capacity=64MiB",
        img.display()
    );
    let out = helper(dir.path(), &["erase", "--recorder", &rec]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::metadata(&img).unwrap().len(), 0, "blank again");
}
