//! WriteSection against the emulated recorder: bytes land where they should,
//! and every precondition fails with its HRESULT before anything is written.

use std::io::Cursor;
use std::time::Duration;

use webburn_engine::{EngineConfig, WriteEngine};
use webburn_scsi::Cdb;
use webburn_shared::HResult;
use webburn_tests::{FailingReader, SlowReader, emulated, engine, image, pattern, write};

const MIB: usize = 1 << 20;

fn small_config() -> EngineConfig {
    EngineConfig {
        buffer_bytes: MIB,
        ..EngineConfig::default()
    }
}

#[test]
fn every_profile_and_both_write_commands_store_the_bytes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (options, streaming)) in [
        (",profile=bd-r", false),
        (",profile=bd-r", true),
        (",profile=dvd+r", false),
        (",profile=disk", true),
    ]
    .into_iter()
    .enumerate()
    {
        let data = pattern(4 * MIB + 3 * 2048, i as u64);
        let (rec, path, log) = emulated(dir.path(), &format!("img{i}"), options);
        let e = engine(&rec, small_config());
        e.put_use_streaming_write12(streaming).unwrap();
        let sectors = (data.len() / 2048) as i32;
        let (r, _) = write(&e, Cursor::new(&data), Some(data.len() as u64), 0, sectors);
        r.unwrap();
        assert_eq!(image(&path), data, "{options} streaming={streaming}");
        let writes = log.writes();
        // 64 KiB units: 32 sectors each, the last one shorter.
        assert_eq!(writes.len(), (sectors as usize).div_ceil(32));
        assert!(writes.iter().all(|w| match w.cdb {
            Some(Cdb::Write12 {
                streaming: s,
                blocks,
                ..
            }) => streaming && s && blocks <= 32,
            Some(Cdb::Write10 { blocks, .. }) => !streaming && blocks <= 32,
            _ => false,
        }));
    }
}

#[test]
fn a_second_section_appends_at_the_next_writable_address() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, log) = emulated(dir.path(), "bd.img", ",profile=bd-r");
    let e = engine(&rec, small_config());
    let a = pattern(64 * 2048, 1);
    let b = pattern(10 * 2048, 2);
    write(&e, Cursor::new(&a), None, 0, 64).0.unwrap();
    write(&e, Cursor::new(&b), None, 64, 10).0.unwrap();
    assert_eq!(image(&path), [a, b].concat());
    // Out of order on sequential media: refused before any WRITE (a
    // drive would refuse it with 5/21/02).
    let writes = log.writes().len();
    let err = write(&e, Cursor::new(pattern(2048, 3)), None, 10, 1)
        .0
        .unwrap_err();
    assert_eq!(err.hresult, HResult::E_INVALIDARG);
    assert_eq!(
        err.code,
        Some(webburn_shared::ErrorCode::NotNextWritableAddress)
    );
    assert!(
        err.detail.contains("next writable address 74"),
        "{}",
        err.detail
    );
    assert_eq!(log.writes().len(), writes, "nothing reached the drive");
}

#[test]
fn random_access_media_take_any_lba_and_the_transfer_limit_of_the_transport() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, log) = emulated(dir.path(), "stick.img", ",profile=disk,max-transfer=16KiB");
    let e = engine(&rec, small_config());
    let data = pattern(40 * 2048, 9);
    write(&e, Cursor::new(&data), None, 100, 40).0.unwrap();
    let img = image(&path);
    assert!(img[..100 * 2048].iter().all(|&b| b == 0));
    assert_eq!(&img[100 * 2048..], &data[..]);
    assert!(
        log.writes()
            .iter()
            .all(|w| matches!(w.cdb, Some(Cdb::Write10 { blocks: 8, .. })))
    );
}

#[test]
fn preconditions_fail_with_imapi_codes_before_any_write() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, _, log) = emulated(dir.path(), "p.img", ",profile=disk");
    let data = pattern(8 * 2048, 4);

    let no_bps = WriteEngine::new(small_config());
    no_bps.put_recorder(rec.clone()).unwrap();
    let err = write(&no_bps, Cursor::new(&data), None, 0, 1)
        .0
        .unwrap_err();
    assert_eq!(err.hresult, HResult::E_INVALIDARG, "{err}");

    let e = engine(&rec, small_config());
    for count in [0, -1, i32::MIN] {
        let err = write(&e, Cursor::new(&data), None, 0, count).0.unwrap_err();
        assert_eq!(err.hresult, HResult::E_INVALIDARG, "count {count}");
    }
    let err = write(&e, Cursor::new(&data), None, i32::MAX, 2)
        .0
        .unwrap_err();
    assert_eq!(err.hresult, HResult::E_INVALIDARG, "LBA overflow");
    // A known-short source is refused up front.
    let err = write(&e, Cursor::new(&data), Some(data.len() as u64), 0, 9)
        .0
        .unwrap_err();
    assert_eq!(err.hresult, HResult::E_INVALIDARG);
    assert!(err.detail.contains("16384"), "{}", err.detail);
    // A sector larger than the largest transfer.
    e.put_bytes_per_sector(128 * 1024).unwrap();
    let err = write(&e, Cursor::new(&data), None, 0, 1).0.unwrap_err();
    assert_eq!(err.hresult, HResult::E_INVALIDARG);
    assert!(log.writes().is_empty(), "nothing reached the drive");

    // BytesPerSector that does not match the medium's block: the drive says 5/24/00.
    e.put_bytes_per_sector(2352).unwrap();
    let err = write(&e, Cursor::new(pattern(2352, 1)), None, 0, 1)
        .0
        .unwrap_err();
    assert_eq!(err.hresult, HResult::E_INVALIDARG);
}

#[test]
fn addresses_outside_the_medium_never_reach_the_device() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, _, log) = emulated(dir.path(), "c.img", ",profile=disk,capacity=1MiB");
    let e = engine(&rec, small_config());
    let source = || Cursor::new(pattern(26 * 2048, 1));
    for lba in [-150, -1, i32::MIN, 600] {
        let err = write(&e, source(), None, lba, 1).0.unwrap_err();
        assert_eq!(err.hresult, HResult::E_INVALIDARG, "lba {lba}");
    }
    // Running past the end of the medium, from the first sector or later.
    for (lba, count) in [(512, 1), (500, 13), (0, 520), (0, i32::MAX)] {
        let source = Cursor::new(pattern(520 * 2048, 1));
        let err = write(&e, source, None, lba, count).0.unwrap_err();
        assert_eq!(
            err.hresult,
            HResult::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA,
            "lba {lba} count {count}"
        );
    }
    assert!(log.writes().is_empty(), "no WRITE reached the device");
    // The last sector itself is fine.
    write(&e, source(), None, 511, 1).0.unwrap();
    assert_eq!(log.writes().len(), 1);
}

#[test]
fn a_source_that_ends_early_writes_its_whole_sectors_then_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, _) = emulated(dir.path(), "short.img", ",profile=bd-r");
    let e = engine(&rec, small_config());
    // 100 sectors promised, 70.5 delivered, length unknown up front.
    let data = pattern(70 * 2048 + 1024, 5);
    let (r, events) = write(&e, Cursor::new(&data), None, 0, 100);
    let err = r.unwrap_err();
    assert_eq!(err.hresult, HResult::E_INVALIDARG);
    let last = events.last().unwrap().1;
    assert_eq!(last.last_written_lba, 69, "every whole sector that arrived");
    assert_eq!(image(&path), &data[..70 * 2048]);
    assert!(
        err.detail.contains("ended after 144384 of 204800 bytes"),
        "{}",
        err.detail
    );
}

#[test]
fn a_failing_source_ends_the_write_with_e_fail() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, _, _) = emulated(dir.path(), "f.img", ",profile=bd-r");
    let e = engine(&rec, small_config());
    let (r, _) = write(&e, FailingReader { ok: 100 * 2048 }, None, 0, 1000);
    let err = r.unwrap_err();
    assert_eq!(err.hresult, HResult::E_FAIL);
    assert!(err.detail.contains("went away"), "{}", err.detail);
    assert!(!e.write_in_progress());
}

#[test]
fn a_second_write_section_or_put_during_a_write_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, _) = emulated(dir.path(), "busy.img", ",profile=bd-r");
    let e = engine(&rec, small_config());
    let data = pattern(64 * 2048, 6);
    std::thread::scope(|s| {
        let first = s.spawn(|| {
            let slow = SlowReader::new(data.clone(), 16 * 2048, Duration::from_millis(50));
            write(&e, slow, None, 0, 64).0
        });
        while !e.write_in_progress() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let err = write(&e, Cursor::new(pattern(2048, 1)), None, 64, 1)
            .0
            .unwrap_err();
        assert_eq!(err.hresult, HResult::E_IMAPI_DF2DATA_WRITE_IN_PROGRESS);
        assert_eq!(
            e.put_bytes_per_sector(512),
            Err(HResult::E_IMAPI_DF2DATA_WRITE_IN_PROGRESS)
        );
        first.join().unwrap().unwrap();
    });
    assert_eq!(e.bytes_per_sector(), 2048);
    assert_eq!(image(&path), data);
}

#[test]
fn one_recorder_serves_one_writer_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, _, _) = emulated(dir.path(), "lock.img", ",profile=disk");
    let a = engine(&rec, small_config());
    let b = engine(&rec, small_config());
    std::thread::scope(|s| {
        let first = s.spawn(|| {
            let slow = SlowReader::new(pattern(32 * 2048, 1), 8 * 2048, Duration::from_millis(40));
            write(&a, slow, None, 0, 32).0
        });
        while !a.write_in_progress() {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(20));
        let err = write(&b, Cursor::new(pattern(2048, 2)), None, 100, 1)
            .0
            .unwrap_err();
        assert_eq!(err.hresult, HResult::E_IMAPI_RECORDER_LOCKED);
        first.join().unwrap().unwrap();
    });
    write(&b, Cursor::new(pattern(2048, 2)), None, 100, 1)
        .0
        .unwrap();
    // The image file is locked against other processes and handles as well.
    let spec = format!("emulated:{}", dir.path().join("lock.img").display());
    let err = webburn_engine::devices::Recorder::open(&spec).unwrap_err();
    assert_eq!(err.hresult(), HResult::E_IMAPI_RECORDER_LOCKED);
}
