//! The emulated drive answering raw CDB bytes the way an MMC drive does.

use std::time::Duration;

use super::{EmulatedRecorder, EmulatedSpec, OpenError};
use webburn_scsi::formatting::{
    FormatCapacities, FormatOption, FormatRequest, MediumFormat, format_type,
};
use webburn_scsi::sense::Sense;
use webburn_scsi::transport::{
    Completion, DataDirection, ScsiCommand, ScsiStatus, ScsiTransport, TransportError,
};
use webburn_scsi::{self as scsi, Cdb, Configuration, DiscStatus, TrackInformation};

fn open(dir: &tempfile::TempDir, options: &str) -> EmulatedRecorder {
    let spec =
        EmulatedSpec::parse(&format!("emulated:{}/d.img{options}", dir.path().display())).unwrap();
    EmulatedRecorder::open(spec).unwrap()
}

fn exec(r: &mut EmulatedRecorder, cdb: &[u8], data: DataDirection<'_>) -> Completion {
    r.execute(ScsiCommand {
        cdb,
        data,
        timeout: Duration::from_secs(5),
    })
    .unwrap()
}

fn sense_of(c: &Completion) -> (u8, u8, u8) {
    assert_eq!(c.status, ScsiStatus::CheckCondition);
    let s = c.sense.unwrap();
    (s.key, s.asc, s.ascq)
}

fn write10(r: &mut EmulatedRecorder, lba: i32, blocks: u16, fill: u8) -> Completion {
    let data = vec![fill; usize::from(blocks) * 2048];
    let cdb = Cdb::Write10 {
        fua: false,
        lba,
        blocks,
    }
    .encode();
    exec(r, cdb.as_slice(), DataDirection::ToDevice(&data))
}

/// CLOSE TRACK/SESSION of the session, waiting for it.
fn close_session(r: &mut EmulatedRecorder) -> Completion {
    let close = Cdb::CloseTrackSession {
        immed: false,
        function: 2,
        number: 0,
    }
    .encode();
    exec(r, close.as_slice(), DataDirection::None)
}

#[test]
fn identifies_itself_per_profile() {
    let dir = tempfile::tempdir().unwrap();
    let mut bd = open(&dir, ",profile=bd-r");
    let inq = scsi::inquiry(&mut bd).unwrap();
    assert_eq!((inq.device_type, inq.removable), (5, true));
    assert_eq!(
        (inq.vendor.as_str(), inq.product.as_str()),
        ("WEBBURN", "EMULATED BD-R")
    );
    let config = scsi::get_configuration(&mut bd).unwrap();
    assert_eq!(config.current_profile, 0x41);
    assert_eq!(
        config.profiles(),
        vec![
            (0x43, false),
            (0x41, true),
            (0x1B, false),
            (0x1A, false),
            (0x14, false),
            (0x13, false),
            (0x11, false),
            (0x0A, false),
            (0x09, false)
        ]
    );
    assert!(!config.can_test_write(), "BD-R has no Test Write");
    drop(bd);
    let dir2 = tempfile::tempdir().unwrap();
    let mut disk = open(&dir2, ",profile=disk");
    assert_eq!(scsi::inquiry(&mut disk).unwrap().device_type, 0);
    assert_eq!(
        scsi::get_configuration(&mut disk).unwrap().current_profile,
        0x02
    );
}

#[test]
fn get_configuration_honours_rt_and_the_allocation_length() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = open(&dir, ",profile=dvd+r,underrun=fail");
    let mut buf = [0u8; 64];
    let cdb = Cdb::GetConfiguration {
        rt: 2,
        start_feature: 0x0021,
        alloc: 64,
    }
    .encode();
    let c = exec(&mut r, cdb.as_slice(), DataDirection::FromDevice(&mut buf));
    let config = Configuration::decode(&buf[..64 - c.residue]).unwrap();
    assert_eq!(config.current_profile, 0x1B);
    assert_eq!(config.features.len(), 1);
    assert_eq!(config.features[0].data[2] & 1, 0, "no BUF: underrun=fail");
    // An allocation of 8 gets just the header.
    let mut head = [0u8; 8];
    let cdb = Cdb::GetConfiguration {
        rt: 0,
        start_feature: 0,
        alloc: 8,
    }
    .encode();
    exec(&mut r, cdb.as_slice(), DataDirection::FromDevice(&mut head));
    assert_eq!(&head[6..8], &[0, 0x1B]);
}

#[test]
fn next_writable_address_advances_and_out_of_order_writes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = open(&dir, ",profile=dvd+r");
    let disc = scsi::read_disc_information(&mut r).unwrap();
    assert_eq!(disc.status, DiscStatus::Blank);
    let t: TrackInformation = scsi::read_track_information(&mut r, 0xFF).unwrap();
    assert_eq!(
        (t.blank, t.next_writable, t.free_blocks),
        (true, Some(0), 2_295_104)
    );

    assert_eq!(write10(&mut r, 0, 16, 0xAA), Completion::good());
    let t = scsi::read_track_information(&mut r, 1).unwrap();
    assert_eq!(
        (t.blank, t.next_writable, t.last_recorded),
        (false, Some(16), 15)
    );
    assert_eq!(
        scsi::read_disc_information(&mut r).unwrap().status,
        DiscStatus::Appendable
    );
    assert_eq!(scsi::read_capacity(&mut r).unwrap().last_lba, 15);

    let c = write10(&mut r, 32, 1, 0);
    assert_eq!(sense_of(&c), (5, 0x21, 0x02));
    assert_eq!(c.sense.unwrap().information, Some(32));
    assert_eq!(c.residue, 2048, "nothing transferred");
    // REQUEST SENSE returns that sense once.
    let mut sense = [0u8; 18];
    exec(
        &mut r,
        &[0x03, 0, 0, 0, 18, 0],
        DataDirection::FromDevice(&mut sense),
    );
    assert_eq!(Sense::parse(&sense).map(|s| s.asc), Some(0x21));
    exec(
        &mut r,
        &[0x03, 0, 0, 0, 18, 0],
        DataDirection::FromDevice(&mut sense),
    );
    assert_eq!(Sense::parse(&sense).map(|s| s.key), Some(0));

    // READ(10) returns what was written; past the NWA is out of range.
    let mut back = vec![0u8; 4 * 2048];
    let cdb = Cdb::Read10 { lba: 12, blocks: 4 }.encode();
    assert_eq!(
        exec(&mut r, cdb.as_slice(), DataDirection::FromDevice(&mut back)),
        Completion::good()
    );
    assert!(back.iter().all(|&b| b == 0xAA));
    let cdb = Cdb::Read10 { lba: 14, blocks: 4 }.encode();
    let c = exec(&mut r, cdb.as_slice(), DataDirection::FromDevice(&mut back));
    assert_eq!(sense_of(&c), (5, 0x21, 0x00));
}

/// CLOSE TRACK/SESSION with `function` (6: finalize a DVD+R or BD-R).
fn close(r: &mut EmulatedRecorder, function: u8) -> Completion {
    let cdb = Cdb::CloseTrackSession {
        immed: false,
        function,
        number: 0,
    }
    .encode();
    exec(r, cdb.as_slice(), DataDirection::None)
}

#[test]
fn a_bd_r_keeps_sessions_across_reopens_until_it_is_finalized() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = open(&dir, ",profile=bd-r");
    assert_eq!(write10(&mut r, 0, 8, 1), Completion::good());
    drop(r);
    let mut r = open(&dir, ",profile=bd-r");
    let open_track = |r: &mut EmulatedRecorder| scsi::read_track_information(r, 0xFF).unwrap();
    assert_eq!(open_track(&mut r).next_writable, Some(8));
    // CLOSE SESSION leaves a BD-R appendable; the next session starts
    // after the 2048 sectors its closing took.
    assert_eq!(close_session(&mut r), Completion::good());
    let info = scsi::read_disc_information(&mut r).unwrap();
    assert_eq!(
        (info.status, info.sessions, info.last_session_state),
        (DiscStatus::Appendable, 2, 0)
    );
    let t = open_track(&mut r);
    assert_eq!(
        (t.track, t.session, t.start, t.next_writable, t.blank),
        (2, 2, 2056, Some(2056), true)
    );
    let first = scsi::read_track_information(&mut r, 1).unwrap();
    assert_eq!((first.start, first.size, first.next_writable), (0, 8, None));
    assert_eq!(scsi::read_session_info(&mut r).unwrap().start, 0);
    assert_eq!(sense_of(&write10(&mut r, 8, 1, 0)), (5, 0x21, 0x02));
    assert_eq!(write10(&mut r, 2056, 4, 2), Completion::good());
    drop(r);
    let mut r = open(&dir, ",profile=bd-r");
    let info = scsi::read_disc_information(&mut r).unwrap();
    assert_eq!(
        (info.sessions, info.last_session_state),
        (2, 1),
        "incomplete"
    );
    assert_eq!(open_track(&mut r).next_writable, Some(2060));
    // Finalized (close function 6): two sessions in the TOC, nothing more.
    assert_eq!(close(&mut r, 6), Completion::good());
    let info = scsi::read_disc_information(&mut r).unwrap();
    assert_eq!((info.status, info.sessions), (DiscStatus::Complete, 2));
    let toc = scsi::read_toc(&mut r).unwrap();
    let starts: Vec<(u8, u32)> = toc.entries.iter().map(|e| (e.track, e.start)).collect();
    assert_eq!(starts, [(1, 0), (2, 2056), (0xAA, 2060)]);
    let by_lba = |r: &mut EmulatedRecorder, lba| {
        let cdb = Cdb::ReadTrackInformation {
            address_type: 0,
            open: false,
            number: lba,
            alloc: 48,
        };
        let (_, b) = query(r, cdb, 48);
        TrackInformation::decode(&b).unwrap().track
    };
    assert_eq!((by_lba(&mut r, 5), by_lba(&mut r, 2057)), (1, 2));
    assert_eq!(scsi::read_session_info(&mut r).unwrap().start, 2056);
    assert_eq!(sense_of(&write10(&mut r, 2060, 1, 0)), (5, 0x30, 0x05));
    assert_eq!(sense_of(&close(&mut r, 2)), (5, 0x30, 0x05));
}

#[test]
fn a_cd_r_is_finalized_by_close_session_unless_the_mode_page_asks_for_more() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = open(&dir, ",profile=cd-r");
    assert_eq!(write10(&mut r, 0, 8, 1), Completion::good());
    assert_eq!(sense_of(&close(&mut r, 6)), (5, 0x24, 0x00), "not a CD's");
    scsi::set_multi_session(&mut r, true).unwrap();
    assert_eq!(close_session(&mut r), Completion::good());
    // Lead-out, lead-in and pre-gap after the first session: 11,400 sectors.
    let t = scsi::read_track_information(&mut r, 0xFF).unwrap();
    assert_eq!(t.next_writable, Some(8 + 11_400));
    assert_eq!(write10(&mut r, 11_408, 2, 2), Completion::good());
    scsi::set_multi_session(&mut r, false).unwrap();
    assert_eq!(close_session(&mut r), Completion::good());
    let info = scsi::read_disc_information(&mut r).unwrap();
    assert_eq!((info.status, info.sessions), (DiscStatus::Complete, 2));
    // A blank disc has no TOC.
    let other = tempfile::tempdir().unwrap();
    let mut blank = open(&other, ",profile=cd-r");
    assert!(scsi::read_session_info(&mut blank).is_err());
}

#[test]
fn a_slow_drive_fills_its_buffer_and_asks_the_host_to_wait() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = open(&dir, ",profile=dvd+r,speed=1x,drive-buffer=256KiB");
    let mut busy = None;
    for i in 0..16 {
        let c = write10(&mut r, i * 32, 32, 0);
        if c.status != ScsiStatus::Good {
            busy = Some((i, sense_of(&c)));
            break;
        }
    }
    assert_eq!(
        busy,
        Some((4, (2, 0x04, 0x08))),
        "the 5th 64 KiB WRITE overflows 256 KiB"
    );
    let buf = scsi::read_buffer_capacity(&mut r).unwrap();
    assert_eq!(buf.size, 256 * 1024);
    assert!(buf.free < 64 * 1024);
    // SYNCHRONIZE CACHE waits for the drain (about 190 ms at 1x).
    let t = std::time::Instant::now();
    scsi::synchronize_cache(&mut r).unwrap();
    assert!(t.elapsed() >= Duration::from_millis(150));
    assert_eq!(scsi::read_buffer_capacity(&mut r).unwrap().free, 256 * 1024);
}

#[test]
fn bad_commands_get_illegal_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = open(&dir, ",profile=disk");
    // Unknown opcode (SEND KEY), a 10-byte CDB cut short, a reserved RT value.
    let c = exec(
        &mut r,
        &[0xA3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        DataDirection::None,
    );
    assert_eq!(sense_of(&c), (5, 0x20, 0x00));
    let c = exec(&mut r, &[0x2A, 0, 0, 0, 0, 0], DataDirection::None);
    assert_eq!(sense_of(&c), (5, 0x24, 0x00));
    let mut buf = [0u8; 8];
    let c = exec(
        &mut r,
        &[0x46, 3, 0, 0, 0, 0, 0, 0, 8, 0],
        DataDirection::FromDevice(&mut buf),
    );
    assert_eq!(sense_of(&c), (5, 0x24, 0x00));
    // Data length that does not match the block count.
    let cdb = Cdb::Write10 {
        fua: false,
        lba: 0,
        blocks: 2,
    }
    .encode();
    let c = exec(
        &mut r,
        cdb.as_slice(),
        DataDirection::ToDevice(&[0u8; 2048]),
    );
    assert_eq!(sense_of(&c), (5, 0x24, 0x00));
    // CLOSE TRACK on random-access media.
    let close = Cdb::CloseTrackSession {
        immed: false,
        function: 1,
        number: 1,
    }
    .encode();
    assert_eq!(
        sense_of(&exec(&mut r, close.as_slice(), DataDirection::None)),
        (5, 0x24, 0x00)
    );
    // A CDB the transport cannot carry.
    let err = r.execute(ScsiCommand {
        cdb: &[0; 17],
        data: DataDirection::None,
        timeout: Duration::from_secs(1),
    });
    assert!(matches!(err, Err(TransportError::InvalidCommand(_))));
}

#[test]
fn removal_and_vanishing_are_visible_to_every_later_command() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = open(&dir, ",profile=disk,remove-at=10");
    assert_eq!(write10(&mut r, 0, 8, 1), Completion::good());
    assert_eq!(sense_of(&write10(&mut r, 8, 8, 1)), (2, 0x3A, 0x00));
    assert_eq!(
        sense_of(&exec(&mut r, &[0; 6], DataDirection::None)),
        (2, 0x3A, 0x00)
    );
    assert_eq!(scsi::get_configuration(&mut r).unwrap().current_profile, 0);
    let dir2 = tempfile::tempdir().unwrap();
    let mut g = open(&dir2, ",profile=disk,vanish-at=0");
    let data = [0u8; 2048];
    let cdb = Cdb::Write10 {
        fua: false,
        lba: 0,
        blocks: 1,
    }
    .encode();
    let cmd = || ScsiCommand {
        cdb: cdb.as_slice(),
        data: DataDirection::ToDevice(&data),
        timeout: Duration::from_secs(1),
    };
    assert!(matches!(
        g.execute(cmd()),
        Err(TransportError::DeviceGone(_))
    ));
    assert!(matches!(
        g.execute(ScsiCommand {
            cdb: &[0; 6],
            data: DataDirection::None,
            timeout: Duration::from_secs(1)
        }),
        Err(TransportError::DeviceGone(_))
    ));
}

#[test]
fn set_streaming_takes_a_28_byte_descriptor() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = open(&dir, ",profile=bd-r");
    let d = scsi::PerformanceDescriptor::write_speed(72_000, 100).encode();
    let cdb = Cdb::SetStreaming { param_len: 28 }.encode();
    assert_eq!(
        exec(&mut r, cdb.as_slice(), DataDirection::ToDevice(&d)),
        Completion::good()
    );
    let c = exec(&mut r, cdb.as_slice(), DataDirection::ToDevice(&d[..20]));
    assert_eq!(sense_of(&c), (5, 0x1A, 0x00));
}

#[test]
fn a_second_open_of_the_same_image_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let _first = open(&dir, "");
    let spec = EmulatedSpec::parse(&format!("emulated:{}/d.img", dir.path().display())).unwrap();
    assert!(matches!(
        EmulatedRecorder::open(spec),
        Err(OpenError::Locked(_))
    ));
}

#[test]
fn write_speeds_are_listed_and_set_streaming_picks_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = open(&dir, ",profile=dvd+r,speed=16x");
    let speeds = scsi::get_write_speeds(&mut r).unwrap();
    let kb: Vec<u32> = speeds.0.iter().map(|s| s.write_kb_per_s).collect();
    assert_eq!(
        kb,
        [22_160, 16_620, 11_080, 5_540],
        "fastest first, up to 16x"
    );
    assert_eq!(speeds.0[0].end_lba, r.spec.capacity - 1);
    // 10x is not offered: the drive takes 8x.
    scsi::set_write_speed(&mut r, 13_850, 100).unwrap();
    assert_eq!(r.buffer.rate(), Some(11_080_000));
    // Below the slowest: the slowest.
    scsi::set_write_speed(&mut r, 1_000, 100).unwrap();
    assert_eq!(r.buffer.rate(), Some(5_540_000));
    let dir2 = tempfile::tempdir().unwrap();
    let mut unlimited = open(&dir2, ",profile=bd-r");
    let top = scsi::get_write_speeds(&mut unlimited).unwrap().0[0];
    assert_eq!(top.sectors_per_second(0x41), 35_156, "16x BD-R: 72 MB/s");
    let dir3 = tempfile::tempdir().unwrap();
    let mut disk = open(&dir3, ",profile=disk");
    let e = scsi::get_write_speeds(&mut disk).unwrap_err();
    assert_eq!(
        e.hresult(),
        webburn_shared::HResult::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE
    );
}

#[test]
fn eject_opens_the_tray_until_a_load_also_across_opens() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = open(&dir, ",profile=dvd+r");
    assert_eq!(write10(&mut r, 0, 1, 7), Completion::good());
    scsi::load_or_eject(&mut r, true).unwrap();
    let tur = exec(&mut r, &[0; 6], DataDirection::None);
    assert_eq!(
        sense_of(&tur),
        (2, 0x3A, 0x02),
        "medium not present, tray open"
    );
    assert_eq!(scsi::get_configuration(&mut r).unwrap().current_profile, 0);
    drop(r);
    let mut again = open(&dir, ",profile=dvd+r");
    let tur = exec(&mut again, &[0; 6], DataDirection::None);
    assert_eq!(sense_of(&tur), (2, 0x3A, 0x02), "the tray stays open");
    scsi::load_or_eject(&mut again, false).unwrap();
    scsi::test_unit_ready(&mut again).unwrap();
    assert_eq!(
        scsi::read_track_information(&mut again, 0xFF)
            .unwrap()
            .next_writable,
        Some(1),
        "the same disc is back"
    );
}

#[test]
fn the_changer_moves_a_written_disc_out_and_loads_a_blank() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = open(&dir, ",profile=dvd+r,changer=on");
    for (n, fill) in [(1u8, 7u8), (2, 9)] {
        assert_eq!(write10(&mut r, 0, 2, fill), Completion::good());
        scsi::close_track_session(&mut r, 2, 0).unwrap();
        scsi::load_or_eject(&mut r, true).unwrap();
        scsi::test_unit_ready(&mut r).expect("a blank disc is loaded at once");
        let info = scsi::read_disc_information(&mut r).unwrap();
        assert_eq!(info.status, DiscStatus::Blank, "copy {n}");
        let out = dir.path().join(format!("d.img.{n}"));
        assert_eq!(std::fs::read(&out).unwrap(), vec![fill; 4096], "copy {n}");
    }
    assert!(!dir.path().join("d.img.closed").exists());
    // An unwritten disc stays where it is: the tray just opens.
    scsi::load_or_eject(&mut r, false).unwrap();
    scsi::load_or_eject(&mut r, true).unwrap();
    assert!(!dir.path().join("d.img.3").exists());
    assert!(scsi::test_unit_ready(&mut r).is_err(), "tray open");
}

#[test]
fn test_write_simulates_on_dvd_minus_r_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = open(&dir, ",profile=dvd-r");
    assert!(scsi::get_configuration(&mut r).unwrap().can_test_write());
    scsi::set_test_write(&mut r, true).unwrap();
    for lba in [0, 16] {
        assert_eq!(write10(&mut r, lba, 16, 0xAB), Completion::good());
    }
    assert_eq!(sense_of(&write10(&mut r, 0, 1, 0)), (5, 0x21, 0x02));
    scsi::synchronize_cache(&mut r).unwrap();
    scsi::set_test_write(&mut r, false).unwrap();
    let info = scsi::read_disc_information(&mut r).unwrap();
    assert_eq!(info.status, DiscStatus::Blank, "nothing was recorded");
    assert_eq!(
        std::fs::metadata(dir.path().join("d.img")).unwrap().len(),
        0
    );
    assert_eq!(write10(&mut r, 0, 1, 1), Completion::good(), "NWA still 0");

    let dir2 = tempfile::tempdir().unwrap();
    let mut plus = open(&dir2, ",profile=dvd+r");
    assert!(!scsi::get_configuration(&mut plus).unwrap().can_test_write());
    match scsi::set_test_write(&mut plus, true) {
        Err(scsi::ScsiError::Sense(s)) => assert_eq!((s.key, s.asc), (5, 0x26)),
        other => panic!("DVD+R accepted Test Write: {other:?}"),
    }
}

#[test]
fn corrupt_at_records_a_wrong_byte_and_reports_success() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = open(&dir, ",profile=disk,corrupt-at=3");
    assert_eq!(write10(&mut r, 0, 8, 0x11), Completion::good());
    let mut back = vec![0u8; 8 * 2048];
    scsi::read10(&mut r, 0, 8, &mut back).unwrap();
    let bad: Vec<usize> = (0..back.len()).filter(|&i| back[i] != 0x11).collect();
    assert_eq!(bad, [3 * 2048]);
}

/// The data-in reply of `cdb`.
fn query(r: &mut EmulatedRecorder, cdb: Cdb, len: usize) -> (Completion, Vec<u8>) {
    let mut buf = vec![0u8; len];
    let c = exec(
        r,
        cdb.encode().as_slice(),
        DataDirection::FromDevice(&mut buf),
    );
    (c, buf)
}

fn format_unit(r: &mut EmulatedRecorder, format_type: u8, blocks: u32) -> Completion {
    let list = FormatRequest {
        immed: false,
        format: FormatOption {
            blocks,
            format_type,
            param: 0,
        },
        subtype: 0,
    }
    .encode();
    let cdb = Cdb::FormatUnit { fmt_data: true }.encode();
    exec(r, cdb.as_slice(), DataDirection::ToDevice(&list))
}

fn disc_info(r: &mut EmulatedRecorder) -> scsi::DiscInformation {
    let (c, b) = query(r, Cdb::ReadDiscInformation { alloc: 34 }, 34);
    assert_eq!(c.status, ScsiStatus::Good);
    scsi::DiscInformation::decode(&b).unwrap()
}

#[test]
fn a_dvd_plus_rw_is_blank_until_formatted_then_overwritable_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let mut rw = open(&dir, ",profile=dvd+rw,capacity=64MiB");
    let config = scsi::get_configuration(&mut rw).unwrap();
    assert_eq!(config.current_profile, 0x1A);
    let info = disc_info(&mut rw);
    assert_eq!((info.status, info.erasable), (DiscStatus::Blank, true));
    // Unformatted: nothing is written or read, and the format is offered.
    assert_eq!(sense_of(&write10(&mut rw, 0, 1, 1)), (2, 0x30, 0x10));
    let (c, b) = query(&mut rw, Cdb::ReadFormatCapacities { alloc: 252 }, 252);
    assert_eq!(c.status, ScsiStatus::Good);
    let caps = FormatCapacities::decode(&b).unwrap();
    assert_eq!(caps.current, MediumFormat::Unformatted);
    assert_eq!(caps.blocks, 32 * 1024);
    assert_eq!(
        caps.options,
        [FormatOption {
            blocks: 32 * 1024,
            format_type: format_type::DVD_PLUS_RW_FULL,
            param: 0
        }]
    );
    // A format it does not take, and more blocks than it has.
    assert_eq!(
        sense_of(&format_unit(&mut rw, format_type::BD_RE_WITH_SPARES, 0)),
        (5, 0x26, 0x00)
    );
    assert_eq!(
        sense_of(&format_unit(
            &mut rw,
            format_type::DVD_PLUS_RW_FULL,
            40 * 1024
        )),
        (5, 0x26, 0x00)
    );
    let ok = format_unit(&mut rw, format_type::DVD_PLUS_RW_FULL, 32 * 1024);
    assert_eq!(ok.status, ScsiStatus::Good);
    let info = disc_info(&mut rw);
    assert_eq!((info.status, info.erasable), (DiscStatus::Random, true));
    // Random access: any LBA, in any order, again and again.
    assert_eq!(write10(&mut rw, 100, 2, 0xAA).status, ScsiStatus::Good);
    assert_eq!(write10(&mut rw, 0, 1, 0xBB).status, ScsiStatus::Good);
    assert_eq!(write10(&mut rw, 100, 1, 0xCC).status, ScsiStatus::Good);
    drop(rw);
    // Formatted it stays, and holds what was written.
    let mut rw = open(&dir, ",profile=dvd+rw,capacity=64MiB");
    let (c, caps) = query(&mut rw, Cdb::ReadFormatCapacities { alloc: 252 }, 252);
    assert_eq!(c.status, ScsiStatus::Good);
    assert_eq!(
        FormatCapacities::decode(&caps).unwrap().current,
        MediumFormat::Formatted
    );
    let (c, sectors) = query(
        &mut rw,
        Cdb::Read10 {
            lba: 100,
            blocks: 2,
        },
        4096,
    );
    assert_eq!(c.status, ScsiStatus::Good);
    assert!(sectors[..2048].iter().all(|&b| b == 0xCC));
    assert!(sectors[2048..].iter().all(|&b| b == 0xAA));
}

#[test]
fn a_bd_re_formats_with_spares_and_a_failed_format_leaves_it_blank() {
    let dir = tempfile::tempdir().unwrap();
    let mut re = open(&dir, ",profile=bd-re,capacity=64MiB,format-error=1");
    let inq = scsi::inquiry(&mut re).unwrap();
    assert_eq!(inq.product, "EMULATED BD-RE");
    assert_eq!(
        sense_of(&format_unit(&mut re, format_type::BD_RE_WITH_SPARES, 0)),
        (3, 0x31, 0x01)
    );
    assert_eq!(disc_info(&mut re).status, DiscStatus::Blank);
    let ok = format_unit(&mut re, format_type::BD_RE_WITH_SPARES, 0);
    assert_eq!(ok.status, ScsiStatus::Good);
    assert_eq!(disc_info(&mut re).status, DiscStatus::Random);
    assert_eq!(write10(&mut re, 7, 1, 1).status, ScsiStatus::Good);
    // A write-once disc cannot be formatted.
    let other = tempfile::tempdir().unwrap();
    let mut r = open(&other, ",profile=dvd+r");
    assert_eq!(
        sense_of(&format_unit(&mut r, format_type::DVD_PLUS_RW_FULL, 0)),
        (5, 0x30, 0x05)
    );
    let (c, b) = query(&mut r, Cdb::ReadFormatCapacities { alloc: 252 }, 252);
    assert_eq!(c.status, ScsiStatus::Good);
    assert!(FormatCapacities::decode(&b).unwrap().options.is_empty());
}

#[test]
fn blank_makes_a_closed_cd_rw_blank_again_and_write_once_discs_refuse_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut rw = open(&dir, ",profile=cd-rw,capacity=8MiB");
    assert_eq!(scsi::inquiry(&mut rw).unwrap().product, "EMULATED CD-RW");
    assert!(disc_info(&mut rw).erasable);
    assert_eq!(write10(&mut rw, 0, 4, 7).status, ScsiStatus::Good);
    assert_eq!(close_session(&mut rw).status, ScsiStatus::Good);
    assert_eq!(disc_info(&mut rw).status, DiscStatus::Complete);
    let blank = Cdb::Blank {
        immed: false,
        kind: 1,
    }
    .encode();
    assert_eq!(
        exec(&mut rw, blank.as_slice(), DataDirection::None).status,
        ScsiStatus::Good
    );
    let info = disc_info(&mut rw);
    assert_eq!((info.status, info.erasable), (DiscStatus::Blank, true));
    // Written again from the start.
    assert_eq!(write10(&mut rw, 0, 2, 8).status, ScsiStatus::Good);
    drop(rw);
    let mut rw = open(&dir, ",profile=cd-rw,capacity=8MiB");
    assert_eq!(
        disc_info(&mut rw).status,
        DiscStatus::Appendable,
        "not closed after a reopen"
    );
    let other = tempfile::tempdir().unwrap();
    let mut r = open(&other, ",profile=dvd-r");
    assert!(!disc_info(&mut r).erasable);
    assert_eq!(
        sense_of(&exec(&mut r, blank.as_slice(), DataDirection::None)),
        (5, 0x30, 0x05)
    );
}

/// Sense and progress (of 65536) a TEST UNIT READY gets.
fn unit_state(r: &mut EmulatedRecorder) -> Option<(u8, u8, u8, Option<u16>)> {
    let c = exec(
        r,
        Cdb::TestUnitReady.encode().as_slice(),
        DataDirection::None,
    );
    c.sense.map(|s| (s.key, s.asc, s.ascq, s.progress))
}

#[test]
fn an_immediate_blank_takes_its_time_and_reports_progress() {
    let dir = tempfile::tempdir().unwrap();
    // 512 sectors at 4x (300 KiB/s): a full blank takes 1.7 s.
    let options = ",profile=cd-rw,capacity=1MiB,speed=4x";
    let mut rw = open(&dir, options);
    assert_eq!(write10(&mut rw, 0, 4, 7).status, ScsiStatus::Good);
    assert_eq!(close_session(&mut rw).status, ScsiStatus::Good);
    let blank = Cdb::Blank {
        immed: true,
        kind: 0,
    }
    .encode();
    let started = std::time::Instant::now();
    assert_eq!(
        exec(&mut rw, blank.as_slice(), DataDirection::None).status,
        ScsiStatus::Good,
        "Immed: the drive answers at once"
    );
    assert!(started.elapsed() < Duration::from_millis(500));
    std::thread::sleep(Duration::from_millis(300));
    let (key, asc, ascq, first) = unit_state(&mut rw).expect("still blanking");
    assert_eq!((key, asc, ascq), (2, 0x04, 0x07));
    let first = first.expect("progress is reported");
    assert!(first > 0 && first < 0x8000, "{first}");
    // Everything but INQUIRY and GET CONFIGURATION waits; REQUEST SENSE says how far.
    assert_eq!(sense_of(&write10(&mut rw, 0, 1, 1)), (2, 0x04, 0x07));
    assert_eq!(scsi::inquiry(&mut rw).unwrap().product, "EMULATED CD-RW");
    let (c, b) = query(&mut rw, Cdb::RequestSense { alloc: 18 }, 18);
    assert_eq!(c.status, ScsiStatus::Good);
    let sense = Sense::parse(&b).unwrap();
    assert!(sense.progress.is_some_and(|p| p >= first), "{sense:?}");
    let mut last = first;
    while let Some((_, _, _, p)) = unit_state(&mut rw) {
        let p = p.unwrap();
        assert!(p >= last, "progress only grows");
        last = p;
        assert!(started.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(disc_info(&mut rw).status, DiscStatus::Blank);
}

#[test]
fn a_failed_blank_reports_an_erase_failure_and_leaves_the_disc() {
    let dir = tempfile::tempdir().unwrap();
    let mut rw = open(&dir, ",profile=dvd-rw,capacity=1MiB,blank-error=1");
    assert_eq!(write10(&mut rw, 0, 4, 7).status, ScsiStatus::Good);
    assert_eq!(close_session(&mut rw).status, ScsiStatus::Good);
    let blank = |immed| Cdb::Blank { immed, kind: 1 }.encode();
    // With Immed the failure is deferred to the next command, once.
    assert_eq!(
        exec(&mut rw, blank(true).as_slice(), DataDirection::None).status,
        ScsiStatus::Good
    );
    assert_eq!(unit_state(&mut rw), Some((3, 0x51, 0x00, None)));
    assert_eq!(unit_state(&mut rw), None);
    assert_eq!(disc_info(&mut rw).status, DiscStatus::Complete);
    // The fault was spent: the next blank works, and waits without Immed.
    assert_eq!(
        exec(&mut rw, blank(false).as_slice(), DataDirection::None).status,
        ScsiStatus::Good
    );
    assert_eq!(disc_info(&mut rw).status, DiscStatus::Blank);
    let mut again = open(
        &tempfile::tempdir().unwrap(),
        ",profile=cd-rw,blank-error=1",
    );
    assert_eq!(
        sense_of(&exec(
            &mut again,
            blank(false).as_slice(),
            DataDirection::None
        )),
        (3, 0x51, 0x00)
    );
}

/// FORMAT UNIT with Immed: the drive formats on its own.
fn format_unit_immed(r: &mut EmulatedRecorder) -> Completion {
    let list = FormatRequest {
        immed: true,
        format: FormatOption {
            blocks: 0,
            format_type: format_type::BD_RE_WITH_SPARES,
            param: 0x3000,
        },
        subtype: 0,
    }
    .encode();
    let cdb = Cdb::FormatUnit { fmt_data: true }.encode();
    exec(r, cdb.as_slice(), DataDirection::ToDevice(&list))
}

#[test]
fn an_immediate_format_reports_its_progress_and_an_interrupted_one_leaves_the_disc_blank() {
    let dir = tempfile::tempdir().unwrap();
    // 256 MiB at BD 1x: the drive's part of the format takes 1.2 s.
    let mut re = open(&dir, ",profile=bd-re,capacity=256MiB,speed=1x");
    assert_eq!(format_unit_immed(&mut re), Completion::good());
    let (key, asc, ascq, progress) = unit_state(&mut re).expect("formatting");
    assert_eq!((key, asc, ascq), (2, 0x04, 0x04));
    assert!(progress.is_some());
    assert_eq!(sense_of(&write10(&mut re, 0, 1, 1)), (2, 0x04, 0x04));
    let started = std::time::Instant::now();
    while unit_state(&mut re).is_some() {
        assert!(started.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(disc_info(&mut re).status, DiscStatus::Random);
    assert_eq!(write10(&mut re, 100, 1, 1), Completion::good());
    // Interrupted: the deferred error when its time is up, and still blank.
    let other = tempfile::tempdir().unwrap();
    let mut bad = open(&other, ",profile=bd-re,capacity=256MiB,format-error=1");
    assert_eq!(format_unit_immed(&mut bad), Completion::good());
    assert_eq!(unit_state(&mut bad), Some((3, 0x31, 0x00, None)));
    assert_eq!(disc_info(&mut bad).status, DiscStatus::Blank);
}
