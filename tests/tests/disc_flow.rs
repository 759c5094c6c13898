//! The DiscFormat2Data flow against the emulated recorder: each step in
//! order, the medium checks with their HRESULTs, speed, simulation, verify
//! (including a failure from a corrupted image) and eject.

use std::io::Cursor;

use sha2::{Digest, Sha256};
use webburn_engine::cancel::CancelToken;
use webburn_engine::disc;
use webburn_engine::{EngineConfig, EngineError, WriteEngine};
use webburn_scsi::{self as scsi, Cdb, DiscStatus};
use webburn_shared::{
    DataEventArgs, DiscOptions, DiscReport, HResult, Section, VerificationLevel, WriteAction,
};
use webburn_tests::{CommandLog, emulated, engine, image, pattern};

const MIB: usize = 1 << 20;

struct Burned {
    result: Result<DiscReport, EngineError>,
    actions: Vec<WriteAction>,
    events: Vec<DataEventArgs>,
}

fn burn_with(
    e: &WriteEngine,
    data: &[u8],
    start_lba: i32,
    options: DiscOptions,
    cancel: &CancelToken,
) -> Burned {
    let mut events = Vec::new();
    let result = match Section::new(start_lba, (data.len() / 2048) as i32, 2048) {
        Ok(section) => disc::burn(e, Cursor::new(data), section, options, cancel, |_, d| {
            events.push(*d);
        }),
        Err(refused) => Err(refused.into()),
    };
    let mut actions: Vec<WriteAction> = events.iter().map(|d| d.current_action).collect();
    actions.dedup();
    Burned {
        result,
        actions,
        events,
    }
}

fn burn(e: &WriteEngine, data: &[u8], options: DiscOptions) -> Burned {
    burn_with(e, data, 0, options, &CancelToken::new())
}

fn config() -> EngineConfig {
    EngineConfig {
        buffer_bytes: 2 * MIB,
        ..EngineConfig::default()
    }
}

fn ran(log: &CommandLog, what: fn(&Cdb) -> bool) -> usize {
    log.all()
        .iter()
        .filter(|l| l.cdb.as_ref().is_some_and(what))
        .count()
}

#[test]
fn a_blank_dvd_plus_r_goes_through_every_step_and_is_closed_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, log) = emulated(dir.path(), "dvd.img", ",profile=dvd+r");
    let e = engine(&rec, config());
    let data = pattern(6 * MIB, 1);
    let b = burn(&e, &data, DiscOptions::default());
    let report = b.result.unwrap();
    assert_eq!(
        b.actions,
        [
            WriteAction::ValidatingMedia,
            WriteAction::InitializingHardware,
            WriteAction::WritingData,
            WriteAction::Finalization,
            WriteAction::Verifying,
            WriteAction::Completed
        ]
    );
    assert_eq!(image(&path), data);
    assert_eq!(report.sha256, format!("{:x}", Sha256::digest(&data)));
    assert!(report.verified && !report.ejected && !report.simulated);
    assert_eq!(report.write_speed, 16_230, "24x DVD is the fastest listed");
    let last = b.events.last().unwrap();
    assert_eq!(last.last_verified_lba, (data.len() / 2048) as i32 - 1);
    assert_eq!(last.remaining_time, 0);
    assert!(
        b.events
            .iter()
            .all(|d| d.total_time == -1 || d.total_time >= d.elapsed_time)
    );
    // READs covered the section once; the track and the session were closed.
    let read_blocks: u64 = log
        .all()
        .iter()
        .filter_map(|l| match l.cdb {
            Some(Cdb::Read10 { blocks, .. }) => Some(u64::from(blocks)),
            _ => None,
        })
        .sum();
    assert_eq!(read_blocks, (data.len() / 2048) as u64);
    assert_eq!(ran(&log, |c| matches!(c, Cdb::CloseTrackSession { .. })), 2);
    assert_eq!(ran(&log, |c| matches!(c, Cdb::SynchronizeCache { .. })), 1);
    let info = rec.describe().unwrap();
    assert_eq!(info.disc_status, Some(DiscStatus::Complete));

    // A closed disc takes nothing more.
    let again = burn_with(
        &e,
        &data,
        (data.len() / 2048) as i32,
        DiscOptions::default(),
        &CancelToken::new(),
    );
    let err = again.result.unwrap_err();
    assert_eq!(
        err.hresult,
        HResult::E_IMAPI_DF2DATA_MEDIA_NOT_BLANK,
        "{err}"
    );
}

#[test]
fn a_silently_corrupted_sector_fails_verification_at_its_lba() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, _) = emulated(dir.path(), "bad.img", ",profile=bd-r,corrupt-at=1234");
    let e = engine(&rec, config());
    let data = pattern(4 * MIB, 2);
    let b = burn(&e, &data, DiscOptions::default());
    let err = b.result.unwrap_err();
    assert_eq!(
        err.hresult,
        HResult::E_IMAPI_BURN_VERIFICATION_FAILED,
        "{err}"
    );
    assert_eq!(err.bad_lba, Some(1234), "{err}");
    assert!(err.detail.contains("sector 1234"), "{}", err.detail);
    assert_ne!(image(&path), data);
    assert_eq!(b.actions.last(), Some(&WriteAction::Verifying));

    // Quick verification reads the first and the last block only.
    let dir2 = tempfile::tempdir().unwrap();
    let (rec2, _, log2) = emulated(dir2.path(), "q.img", ",profile=bd-r,corrupt-at=1234");
    let quick = DiscOptions {
        verification: VerificationLevel::Quick,
        ..DiscOptions::default()
    };
    burn(&engine(&rec2, config()), &data, quick).result.unwrap();
    assert_eq!(ran(&log2, |c| matches!(c, Cdb::Read10 { .. })), 2);
    let dir3 = tempfile::tempdir().unwrap();
    let (rec3, _, _) = emulated(dir3.path(), "q0.img", ",profile=bd-r,corrupt-at=0");
    let err = burn(&engine(&rec3, config()), &data, quick)
        .result
        .unwrap_err();
    assert_eq!(
        (err.hresult, err.bad_lba),
        (HResult::E_IMAPI_BURN_VERIFICATION_FAILED, Some(0))
    );
}

#[test]
fn media_checks_fail_with_their_hresults_before_any_write() {
    let dir = tempfile::tempdir().unwrap();
    let data = pattern(MIB, 3);
    // Too small a disc.
    let (small, _, log) = emulated(dir.path(), "small.img", ",profile=dvd+r,capacity=512KiB");
    let err = burn(&engine(&small, config()), &data, DiscOptions::default())
        .result
        .unwrap_err();
    assert_eq!(
        err.hresult,
        HResult::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA,
        "{err}"
    );
    assert!(
        err.detail
            .contains("512 sectors but the DVD+R has room for 256"),
        "{}",
        err.detail
    );
    assert!(log.writes().is_empty());
    // Not at the next writable address.
    let (dvd, _, log) = emulated(dir.path(), "nwa.img", ",profile=dvd+r");
    let err = burn_with(
        &engine(&dvd, config()),
        &data,
        16,
        DiscOptions::default(),
        &CancelToken::new(),
    )
    .result
    .unwrap_err();
    assert_eq!(err.hresult, HResult::E_INVALIDARG);
    assert!(
        err.detail.contains("next writable address 0"),
        "{}",
        err.detail
    );
    assert!(log.writes().is_empty());
    // Past the end of a disk.
    let (disk, _, _) = emulated(dir.path(), "disk.img", ",profile=disk,capacity=1MiB");
    let err = burn_with(
        &engine(&disk, config()),
        &data,
        8,
        DiscOptions::default(),
        &CancelToken::new(),
    )
    .result
    .unwrap_err();
    assert_eq!(
        err.hresult,
        HResult::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA
    );
    // A removed medium.
    let (gone, _, _) = emulated(dir.path(), "gone.img", ",profile=bd-r,remove-at=0");
    let g = engine(&gone, config());
    let first = burn(&g, &data, DiscOptions::default()).result.unwrap_err();
    assert_eq!(first.hresult, HResult::E_IMAPI_RECORDER_MEDIA_NO_MEDIA);
    let second = burn(&g, &data, DiscOptions::default()).result.unwrap_err();
    assert_eq!(second.hresult, HResult::E_IMAPI_RECORDER_MEDIA_NO_MEDIA);
    assert!(second.detail.contains("no disc"), "{}", second.detail);
}

#[test]
fn a_disk_is_written_where_asked_verified_and_not_closed() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, log) = emulated(dir.path(), "stick.img", ",profile=disk,capacity=16MiB");
    let data = pattern(2 * MIB, 4);
    let b = burn_with(
        &engine(&rec, config()),
        &data,
        100,
        DiscOptions::default(),
        &CancelToken::new(),
    );
    let report = b.result.unwrap();
    assert!(report.verified);
    assert_eq!(
        &image(&path)[100 * 2048..100 * 2048 + data.len()],
        &data[..]
    );
    assert_eq!(ran(&log, |c| matches!(c, Cdb::CloseTrackSession { .. })), 0);
    assert_eq!(report.write_speed, -1, "a disk lists no speeds");
}

#[test]
fn power_off_of_a_disk_not_on_usb_leaves_the_burn_a_success_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, _) = emulated(dir.path(), "stick.img", ",profile=disk,capacity=16MiB");
    let data = pattern(MIB, 5);
    let options = DiscOptions {
        power_off: true,
        ..DiscOptions::default()
    };
    let report = burn(&engine(&rec, config()), &data, options)
        .result
        .unwrap();
    assert!(report.verified && !report.powered_off);
    assert_eq!(&image(&path)[..data.len()], &data[..]);
}

#[test]
fn the_requested_speed_is_matched_to_the_drives_list_and_paces_the_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, _, log) = emulated(dir.path(), "s.img", ",profile=dvd+r,speed=16x");
    let data = pattern(12 * MIB, 5);
    let eight_x = 8 * 1_385_000 / 2048;
    let options = DiscOptions {
        write_speed: eight_x + 100,
        verification: VerificationLevel::None,
        ..DiscOptions::default()
    };
    let started = std::time::Instant::now();
    let b = burn(&engine(&rec, config()), &data, options);
    let report = b.result.unwrap();
    assert_eq!((report.write_speed, report.speed_adjusted), (eight_x, true));
    assert!(b.events.iter().skip(2).all(|d| d.write_speed == eight_x));
    assert_eq!(ran(&log, |c| matches!(c, Cdb::SetStreaming { .. })), 1);
    // At 8x (11.08 MB/s) the 12 MiB minus the 2 MiB the drive buffers take at least 0.9 s.
    let floor = (data.len() - 2 * MIB) as f64 / 11_080_000.0;
    assert!(
        started.elapsed().as_secs_f64() >= floor,
        "{:?}",
        started.elapsed()
    );
    // Exactly a listed speed is not "adjusted".
    let (rec2, _, _) = emulated(dir.path(), "s2.img", ",profile=dvd+r,speed=16x");
    let exact = DiscOptions {
        write_speed: 4 * 1_385_000 / 2048,
        verification: VerificationLevel::None,
        ..DiscOptions::default()
    };
    let r = burn(&engine(&rec2, config()), &pattern(64 * 1024, 6), exact)
        .result
        .unwrap();
    assert_eq!((r.write_speed, r.speed_adjusted), (2705, false));
}

#[test]
fn simulation_records_nothing_on_dvd_minus_r_and_is_refused_on_dvd_plus_r() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, log) = emulated(dir.path(), "sim.img", ",profile=dvd-r");
    let data = pattern(3 * MIB, 7);
    let options = DiscOptions {
        simulate: true,
        ..DiscOptions::default()
    };
    let b = burn(&engine(&rec, config()), &data, options);
    let report = b.result.unwrap();
    assert!(report.simulated && !report.verified);
    assert!(!b.actions.contains(&WriteAction::Verifying));
    assert_eq!(log.writes().len(), data.len() / (64 * 1024));
    assert!(image(&path).is_empty(), "a test write records nothing");
    assert_eq!(ran(&log, |c| matches!(c, Cdb::CloseTrackSession { .. })), 0);
    assert_eq!(
        ran(&log, |c| matches!(c, Cdb::ModeSelect10 { .. })),
        2,
        "on, then off"
    );
    assert_eq!(rec.describe().unwrap().disc_status, Some(DiscStatus::Blank));
    // The same disc then burns for real.
    burn(&engine(&rec, config()), &data, DiscOptions::default())
        .result
        .unwrap();
    assert_eq!(image(&path), data);

    let (plus, _, log) = emulated(dir.path(), "plus.img", ",profile=dvd+r");
    let err = burn(&engine(&plus, config()), &data, options)
        .result
        .unwrap_err();
    assert_eq!(err.hresult, HResult::E_IMAPI_DF2DATA_MEDIA_IS_NOT_SUPPORTED);
    assert!(err.detail.contains("simulation"), "{}", err.detail);
    assert!(log.writes().is_empty());
}

#[test]
fn eject_opens_the_tray_and_the_next_burn_closes_it() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, _, log) = emulated(dir.path(), "e.img", ",profile=bd-r");
    let data = pattern(MIB, 8);
    let options = DiscOptions {
        eject: true,
        ..DiscOptions::default()
    };
    let report = burn(&engine(&rec, config()), &data, options)
        .result
        .unwrap();
    assert!(report.ejected);
    {
        let mut t = rec.try_acquire().unwrap();
        let err = scsi::test_unit_ready(&mut **t).unwrap_err();
        assert_eq!(err.hresult(), HResult::E_IMAPI_RECORDER_MEDIA_NO_MEDIA);
    }
    // The next burn closes the tray, finds the same (now closed) disc in it
    // and says so.
    let b = burn_with(
        &engine(&rec, config()),
        &data,
        (data.len() / 2048) as i32,
        DiscOptions::default(),
        &CancelToken::new(),
    );
    assert_eq!(
        b.result.unwrap_err().hresult,
        HResult::E_IMAPI_DF2DATA_MEDIA_NOT_BLANK
    );
    let trays: Vec<Cdb> = log
        .all()
        .iter()
        .filter_map(|l| l.cdb.filter(|c| matches!(c, Cdb::StartStopUnit { .. })))
        .collect();
    assert_eq!(
        trays,
        [
            Cdb::StartStopUnit {
                immed: false,
                start: false,
                load_eject: true
            },
            Cdb::StartStopUnit {
                immed: false,
                start: true,
                load_eject: true
            },
        ]
    );
}

#[test]
fn a_cancel_while_verifying_ends_with_request_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, _, log) = emulated(dir.path(), "c.img", ",profile=bd-r");
    let data = pattern(4 * MIB, 10);
    let cancel = CancelToken::new();
    let e = engine(&rec, config());
    let mut events = Vec::new();
    let section = Section::new(0, (data.len() / 2048) as i32, 2048).unwrap();
    let result = disc::burn(
        &e,
        Cursor::new(&data),
        section,
        DiscOptions::default(),
        &cancel,
        |_, d| {
            if d.current_action == WriteAction::Verifying {
                cancel.cancel();
            }
            events.push(d.current_action);
        },
    );
    assert_eq!(
        result.unwrap_err().hresult,
        HResult::E_IMAPI_REQUEST_CANCELLED
    );
    assert_eq!(ran(&log, |c| matches!(c, Cdb::Read10 { .. })), 0);
    assert_eq!(events.last(), Some(&WriteAction::Verifying));
}

#[test]
fn a_cd_r_gets_its_speed_by_set_cd_speed_in_raw_cd_units() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, log) = emulated(dir.path(), "cd.img", ",profile=cd-r,speed=24x");
    let info = rec.describe().unwrap();
    // 75 sectors a second per 1x, as IMAPI counts CD speeds.
    assert_eq!(info.write_speeds, [1_800, 1_200, 600, 300]);
    assert!(info.can_simulate);
    let data = pattern(MIB, 11);
    let options = DiscOptions {
        write_speed: 1_000,
        ..DiscOptions::default()
    };
    let report = burn(&engine(&rec, config()), &data, options)
        .result
        .unwrap();
    assert_eq!((report.write_speed, report.speed_adjusted), (600, true));
    let set: Vec<Cdb> = log
        .all()
        .iter()
        .filter_map(|l| {
            l.cdb
                .filter(|c| matches!(c, Cdb::SetCdSpeed { .. } | Cdb::SetStreaming { .. }))
        })
        .collect();
    // 8x CD: 600 x 2352 bytes = 1,411.2 kB/s.
    assert_eq!(
        set,
        [Cdb::SetCdSpeed {
            read_kb: 0xFFFF,
            write_kb: 1412
        }]
    );
    assert_eq!(image(&path), data);
}

/// An image whose size only its end tells (gzip, bzip2): the section is the
/// room on the stick, the data ends on a sector boundary, and the burn ends
/// with it, verified as far as it went, the rest of the stick untouched.
#[test]
fn an_open_ended_burn_ends_with_its_data_and_verifies_that_far() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, log) = emulated(dir.path(), "stick.img", ",profile=disk,capacity=16MiB");
    let e = engine(&rec, config());
    let data = pattern(3 * MIB + 2048, 5);
    let options = DiscOptions {
        open_end: true,
        ..DiscOptions::default()
    };
    let room = Section::new(0, (16 * MIB / 2048) as i32, 2048).unwrap();
    let report = disc::burn(
        &e,
        Cursor::new(&data),
        room,
        options,
        &CancelToken::new(),
        |_, _| {},
    )
    .unwrap();
    assert!(report.verified);
    assert_eq!(report.sha256, format!("{:x}", Sha256::digest(&data)));
    let img = image(&path);
    assert!(img[..data.len()] == data[..]);
    assert!(
        img[data.len()..].iter().all(|&b| b == 0),
        "nothing past the data"
    );
    let last_write = log
        .writes()
        .iter()
        .filter_map(webburn_tests::Logged::write_lba)
        .max()
        .unwrap();
    assert!(last_write < (data.len() / 2048) as i32);
    let reads = ran(&log, |c| matches!(c, Cdb::Read10 { .. }));
    assert!(reads > 0, "verified");

    // Data ending inside a sector is refused: nothing pads it here.
    let odd = pattern(4096 + 100, 6);
    let refused = disc::burn(
        &e,
        Cursor::new(&odd),
        room,
        options,
        &CancelToken::new(),
        |_, _| {},
    );
    assert_eq!(refused.unwrap_err().hresult, HResult::E_INVALIDARG);
}

#[test]
fn a_blank_dvd_plus_rw_is_formatted_once_then_overwritten_burn_after_burn() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, log) = emulated(dir.path(), "rw.img", ",profile=dvd+rw,capacity=64MiB");
    let e = engine(&rec, config());
    let first = pattern(2 * MIB, 11);
    let b = burn(&e, &first, DiscOptions::default());
    let report = b.result.unwrap();
    assert!(report.verified);
    assert_eq!(
        b.actions,
        [
            WriteAction::ValidatingMedia,
            WriteAction::FormattingMedia,
            WriteAction::InitializingHardware,
            WriteAction::WritingData,
            WriteAction::Finalization,
            WriteAction::Verifying,
            WriteAction::Completed
        ]
    );
    assert_eq!(ran(&log, |c| matches!(c, Cdb::FormatUnit { .. })), 1);
    assert_eq!(
        ran(&log, |c| matches!(c, Cdb::CloseTrackSession { .. })),
        0,
        "a rewritable disc is not closed"
    );
    // The next burn overwrites it in place, without formatting again.
    let second = pattern(MIB, 12);
    let b = burn(&e, &second, DiscOptions::default());
    assert!(b.result.unwrap().verified);
    assert!(!b.actions.contains(&WriteAction::FormattingMedia));
    assert_eq!(ran(&log, |c| matches!(c, Cdb::FormatUnit { .. })), 1);
    let disc = image(&path);
    assert_eq!(&disc[..MIB], &second[..]);
    assert_eq!(
        &disc[MIB..2 * MIB],
        &first[MIB..],
        "the rest of the first burn"
    );
}

#[test]
fn the_drive_formats_on_its_own_while_the_flow_reports_the_time() {
    // 512 MiB at BD 1x: the drive's start of the format takes 2.4 s.
    let dir = tempfile::tempdir().unwrap();
    let (rec, _, log) = emulated(
        dir.path(),
        "re.img",
        ",profile=bd-re,capacity=512MiB,speed=1x",
    );
    let e = engine(&rec, config());
    let b = burn(&e, &pattern(MIB, 14), DiscOptions::default());
    assert!(b.result.unwrap().verified);
    let formatting: Vec<i32> = b
        .events
        .iter()
        .filter(|d| d.current_action == WriteAction::FormattingMedia)
        .map(|d| d.elapsed_time)
        .collect();
    assert!(formatting.len() >= 3, "an event a second: {formatting:?}");
    assert!(
        formatting.windows(2).all(|w| w[0] <= w[1]),
        "{formatting:?}"
    );
    // FORMAT UNIT with Immed, then TEST UNIT READY until the drive is done.
    let immed = |c: &Cdb| matches!(c, Cdb::FormatUnit { .. });
    assert_eq!(ran(&log, immed), 1);
    assert!(ran(&log, |c| matches!(c, Cdb::TestUnitReady)) >= 5);
}

#[test]
fn a_cancel_while_the_drive_formats_ends_the_wait_and_the_burn_cancelled() {
    // 4 GiB at BD 1x: the drive formats for about 19 s; the cancel comes with
    // the first FORMATTING_MEDIA event, and the burn has ended while the
    // drive still formats (MMC has no way to stop it).
    let dir = tempfile::tempdir().unwrap();
    let (rec, _, log) = emulated(
        dir.path(),
        "re.img",
        ",profile=bd-re,capacity=4GiB,speed=1x",
    );
    let e = engine(&rec, config());
    let cancel = CancelToken::new();
    let data = pattern(MIB, 15);
    let section = Section::new(0, (data.len() / 2048) as i32, 2048).unwrap();
    let result = disc::burn(
        &e,
        Cursor::new(&data),
        section,
        DiscOptions::default(),
        &cancel,
        |_, d| {
            if d.current_action == WriteAction::FormattingMedia {
                cancel.cancel();
            }
        },
    );
    assert_eq!(
        result.unwrap_err().hresult,
        HResult::E_IMAPI_REQUEST_CANCELLED
    );
    assert_eq!(ran(&log, |c| matches!(c, Cdb::FormatUnit { .. })), 1);
    assert_eq!(ran(&log, |c| matches!(c, Cdb::Write10 { .. })), 0);
    let mut drive = rec.try_acquire().unwrap();
    match scsi::test_unit_ready(&mut **drive) {
        Err(scsi::ScsiError::Sense(s)) => {
            assert_eq!(
                (s.key, s.asc, s.ascq),
                (2, 0x04, 0x04),
                "format in progress"
            );
        }
        other => panic!("the drive is still formatting, not {other:?}"),
    }
}

#[test]
fn an_interrupted_format_ends_the_burn_with_its_sense_and_the_disc_stays_blank() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, _) = emulated(
        dir.path(),
        "re.img",
        ",profile=bd-re,capacity=64MiB,format-error=1",
    );
    let e = engine(&rec, config());
    let data = pattern(MIB, 13);
    let failed = burn(&e, &data, DiscOptions::default()).result.unwrap_err();
    let sense = failed.sense.unwrap();
    // The drive's deferred error when its format stopped: medium format corrupted.
    assert_eq!((sense.key, sense.asc, sense.ascq), (3, 0x31, 0x00));
    assert!(
        failed.detail.contains("formatting the disc failed"),
        "{}",
        failed.detail
    );
    assert!(image(&path).is_empty(), "nothing was written");
    // Tried again, the drive formats it and the burn goes through.
    let report = burn(&e, &data, DiscOptions::default()).result.unwrap();
    assert!(report.verified);
    assert_eq!(&image(&path)[..MIB], &data[..]);
    // A test write does not exist on rewritable discs here: refused before formatting.
    let other = tempfile::tempdir().unwrap();
    let (rec, path, log) = emulated(other.path(), "rw.img", ",profile=dvd+rw,capacity=64MiB");
    let simulate = DiscOptions {
        simulate: true,
        ..DiscOptions::default()
    };
    let refused = burn(&engine(&rec, config()), &data, simulate)
        .result
        .unwrap_err();
    assert_eq!(
        refused.hresult,
        HResult::E_IMAPI_DF2DATA_MEDIA_IS_NOT_SUPPORTED
    );
    assert_eq!(ran(&log, |c| matches!(c, Cdb::FormatUnit { .. })), 0);
    assert!(image(&path).is_empty());
}
