//! The disc flow on media at their real capacities (sparse image files):
//! the paths whose arithmetic depends on the medium's size rather than the
//! data's. An open-ended flash takes the whole card as its section, so the
//! verify's block table is sized by the card (this failed on every card of
//! 1 GiB or more); a filled disc ends on its last sector; sessions near the
//! end of a DVD+R start past LBA 2^21 (byte offsets past 4 GiB); a 256 GB
//! card has LBAs past 2^28. (Filling larger media is the reliability
//! battery's `sizes` group.)

#![allow(clippy::unwrap_used)] // a test: a failed step is a failed test

use std::io::Cursor;

use sha2::{Digest, Sha256};
use webburn_engine::cancel::CancelToken;
use webburn_engine::disc;
use webburn_engine::{EngineConfig, EngineError, WriteEngine};
use webburn_shared::{
    DataEventArgs, DiscOptions, DiscReport, HResult, Section, VerificationLevel, WriteAction,
};
use webburn_tests::media::{Islands, allocated, image_at, image_len, real, scratch_dir};
use webburn_tests::readers::xorriso_compare;
use webburn_tests::{emulated, pattern};

const MIB: usize = 1 << 20;

/// An engine on `rec` with the medium's own block size.
fn engine_for(rec: &webburn_engine::devices::Recorder, bps: i32) -> WriteEngine {
    let e = WriteEngine::new(EngineConfig {
        buffer_bytes: 4 * MIB,
        ..EngineConfig::default()
    });
    e.put_recorder(rec.clone()).unwrap();
    e.put_bytes_per_sector(bps).unwrap();
    e
}

/// The medium's room in sectors, as READ CAPACITY / READ TRACK INFORMATION
/// tell the helper (what a page takes as an open-ended write's section).
fn room(rec: &webburn_engine::devices::Recorder) -> i32 {
    let info = rec.describe().unwrap();
    i32::try_from(info.free_sectors.unwrap()).unwrap()
}

fn flash_open_ended(
    e: &WriteEngine,
    data: &[u8],
    room: i32,
    bps: i32,
    verification: VerificationLevel,
) -> (Result<DiscReport, EngineError>, Vec<DataEventArgs>) {
    let options = DiscOptions {
        open_end: true,
        verification,
        ..DiscOptions::default()
    };
    let section = Section::new(0, room, bps).unwrap();
    let mut events = Vec::new();
    let result = disc::burn(
        e,
        Cursor::new(data),
        section,
        options,
        &CancelToken::new(),
        |_, d| events.push(*d),
    );
    (result, events)
}

/// The reported failure: a downloaded image of a few MiB, decoded in the
/// page (gzip, bzip2: its size known only at its end), flashed to a card
/// of 1 GiB or more, failed its verify at sector 0 although the card held
/// the image. Each card here at its real size, both verify levels.
#[test]
fn open_ended_flashes_to_cards_at_their_real_sizes_verify() {
    for (card, bps) in [
        (real::CARD_32GB, 512),
        (real::CARD_256GB, 512),
        (",profile=disk", 2048),
    ] {
        for level in [VerificationLevel::Full, VerificationLevel::Quick] {
            let dir = scratch_dir();
            let (rec, path, _) = emulated(dir.path(), "card.img", card);
            let e = engine_for(&rec, bps);
            // Not a whole number of anything but sectors.
            let data = pattern(6 * MIB + 7 * bps as usize, 30);
            let room = room(&rec);
            let (result, events) = flash_open_ended(&e, &data, room, bps, level);
            let report = result.unwrap_or_else(|err| panic!("{card} {level:?}: {err}"));
            // Until the image ends nobody knows how long writing takes.
            for d in &events {
                match d.current_action {
                    WriteAction::WritingData => assert_eq!(d.remaining_time, -1, "{card}: {d:?}"),
                    WriteAction::Completed => assert_eq!(d.remaining_time, 0),
                    _ => {}
                }
            }
            assert!(report.verified, "{card}");
            assert_eq!(report.sha256, format!("{:x}", Sha256::digest(&data)));
            assert_eq!(
                image_len(&path),
                data.len() as u64,
                "{card}: nothing past the image"
            );
            assert!(
                image_at(&path, 0, data.len()) == data,
                "{card}: the card holds the image"
            );
            assert!(
                allocated(&path) < 16 * MIB as u64,
                "{card}: the image file stays small"
            );
        }
    }
}

/// A sector corrupted on the card is still found, to the block the
/// digests of a 62-million-block section keep (476 blocks of 512 bytes).
#[test]
fn a_bad_sector_of_an_open_ended_flash_is_located_on_a_32_gb_card() {
    let dir = scratch_dir();
    let card = format!("{},corrupt-at=5000", real::CARD_32GB);
    let (rec, _, _) = emulated(dir.path(), "card.img", &card);
    let e = engine_for(&rec, 512);
    let data = pattern(4 * MIB, 31);
    let err = flash_open_ended(&e, &data, room(&rec), 512, VerificationLevel::Full)
        .0
        .unwrap_err();
    assert_eq!(
        err.hresult,
        HResult::E_IMAPI_BURN_VERIFICATION_FAILED,
        "{err}"
    );
    // 62,333,952 sectors in at most 131,072 blocks: 476 sectors a block.
    assert_eq!(err.bad_lba, Some(4760), "{err}");
    assert!(err.detail.contains("4760..=5235"), "{}", err.detail);
}

/// Discs filled to their very last sector, from a source that is data at
/// the start of every 64 MiB and at its end (zeros between stay holes in
/// the image): the last WRITE ends on the last sector, the verify reads
/// every sector back, and one more sector is refused before any WRITE.
fn fill_to_the_last_sector(options: &str) {
    let dir = scratch_dir();
    let (rec, path, log) = emulated(dir.path(), "disc.img", options);
    let e = engine_for(&rec, 2048);
    let sectors = room(&rec);
    let too_many = Section::new(0, sectors + 1, 2048).unwrap();
    let err = disc::burn(
        &e,
        std::io::empty(),
        too_many,
        DiscOptions::default(),
        &CancelToken::new(),
        |_, _| {},
    )
    .unwrap_err();
    assert_eq!(
        err.hresult,
        HResult::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA,
        "{options}: {err}"
    );
    assert!(log.writes().is_empty(), "{options}: refused before writing");

    let len = u64::from(sectors.unsigned_abs()) * 2048;
    let source = Islands::new(len, MIB, 64 << 20, 40);
    let section = Section::new(0, sectors, 2048).unwrap();
    let report = disc::burn(
        &e,
        source.clone(),
        section,
        DiscOptions::default(),
        &CancelToken::new(),
        |_, _| {},
    )
    .unwrap_or_else(|err| panic!("{options}: {err}"));
    assert!(report.verified, "{options}");
    assert_eq!(report.sha256, source.sha256(), "{options}");
    assert_eq!(
        image_len(&path),
        len,
        "{options}: filled to the last sector"
    );
    source.assert_written_at(&path, 0);
    let last = log
        .writes()
        .iter()
        .filter_map(webburn_tests::Logged::write_lba)
        .max()
        .unwrap();
    assert!(
        last < sectors && last > sectors - 64,
        "{options}: last WRITE at {last}"
    );
}

#[test]
fn a_cd_r_is_filled_to_its_last_sector_and_verified() {
    fill_to_the_last_sector(real::CD_R);
}

/// `webburn-helper` with `args`, its data directory `dir`.
fn cli(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(webburn_tests::child::helper_bin())
        .env("WEBBURN_DATA_DIR", dir)
        .args(args)
        .output()
        .unwrap()
}

fn summary(out: &std::process::Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// Sessions near the end of a DVD+R at its real size: the first holds a
/// 4.4 GB file (several ISO 9660 extents), so the second starts past LBA
/// 2^21 (byte offsets past 4 GiB) with the gap a drive leaves; a file
/// larger than what is left is refused before any WRITE, and a last small
/// session closes the disc. xorriso compares each session with its sources.
#[test]
fn sessions_near_the_end_of_a_dvd_plus_r_start_past_lba_2_21() {
    let dir = scratch_dir();
    let disc = dir.path().join("disc.img");
    let rec = format!("emulated:{}{}", disc.display(), real::DVD_PLUS_R);
    let session = |name: &str, files: &[(&str, Islands)]| {
        let src = dir.path().join(name);
        std::fs::create_dir_all(&src).unwrap();
        for (file, content) in files {
            content.write_sparse(&src.join(file));
        }
        src
    };
    let burn = |src: &std::path::Path, extra: &[&str]| {
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
        cli(dir.path(), &args)
    };
    let first = session(
        "first",
        &[
            (
                "backup.tar",
                Islands::new(4_400_000_000, MIB, 512 << 20, 50),
            ),
            ("notes.txt", Islands::new(3000, 3000, 3000, 51)),
        ],
    );
    let out = burn(&first, &["--leave-appendable", "--verify", "quick"]);
    assert_eq!(summary(&out)["startLba"], 0);
    let second = session(
        "second",
        &[("later.txt", Islands::new(70_000, 70_000, 70_000, 52))],
    );
    let out = burn(&second, &["--append", "--leave-appendable"]);
    let s = summary(&out);
    assert_eq!(s["disc"]["verified"], true);
    let start = s["startLba"].as_u64().unwrap();
    assert!(start > 1 << 21, "the second session starts at {start}");
    // (The 4.4 GB file is read back once, from the last session, below.)
    xorriso_compare(&disc, start, &first, &["notes.txt"]);
    xorriso_compare(&disc, start, &second, &["later.txt"]);

    // What is left is about 290 MB: a 400 MB file does not fit (IMAPI2's
    // FileSystemImage refuses an image larger than FreeMediaBlocks).
    let recorded = image_len(&disc);
    let third = session(
        "third",
        &[("video.mp4", Islands::new(400 << 20, MIB, 64 << 20, 53))],
    );
    let out = burn(&third, &["--append"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        said.contains("IMAPI_E_IMAGE_SIZE_LIMIT") && said.contains("there are 14"),
        "{said}"
    );
    assert_eq!(image_len(&disc), recorded, "nothing was written");

    // A last small session closes the disc.
    let last = session("last", &[("index.txt", Islands::new(900, 900, 900, 54))]);
    let out = burn(&last, &["--append"]);
    let end = summary(&out)["startLba"].as_u64().unwrap();
    assert!(end > start);
    xorriso_compare(&disc, end, &first, &["backup.tar", "notes.txt"]);
    xorriso_compare(&disc, end, &second, &["later.txt"]);
    xorriso_compare(&disc, end, &last, &["index.txt"]);
    let listed = cli(dir.path(), &["recorders", "--recorder", &rec]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("sessions   3\n"), "{listed}");
}
