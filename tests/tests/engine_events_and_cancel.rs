//! Update events (first before any WRITE, at most 500 ms apart, last after
//! the last WRITE; consistent numbers) and CancelWrite.

use std::io::Cursor;
use std::time::{Duration, Instant};

use webburn_engine::EngineConfig;
use webburn_shared::HResult;
use webburn_tests::{
    SlowReader, emulated, engine, image, pattern, wait_for_event, write, write_watched,
};

const SECTOR: usize = 2048;
const MIB: usize = 1 << 20;

#[test]
fn events_bracket_the_writes_and_stay_consistent() {
    let dir = tempfile::tempdir().unwrap();
    // 48 MiB at 24x DVD (33 MB/s) takes about 1.5 s: several periodic events.
    let (rec, path, log) = emulated(dir.path(), "ev.img", ",profile=dvd+r,speed=24x");
    let config = EngineConfig {
        buffer_bytes: 4 * MIB,
        ..EngineConfig::default()
    };
    let e = engine(&rec, config);
    let data = pattern(48 * MIB, 1);
    let sectors = (data.len() / SECTOR) as i32;
    let (r, events) = write(&e, Cursor::new(&data), None, 0, sectors);
    r.unwrap();
    assert_eq!(image(&path), data);
    let writes = log.writes();
    assert!(events.len() >= 4, "{} events", events.len());

    let (first_at, first) = events[0];
    assert!(
        first_at < writes[0].started,
        "the first event comes before the first WRITE"
    );
    assert_eq!(first.last_written_lba, first.start_lba - 1);
    assert_eq!(first.sector_count, sectors);

    let (last_at, last) = *events.last().unwrap();
    assert!(
        last_at > writes.last().unwrap().finished,
        "the last event comes after the last WRITE"
    );
    assert_eq!(last.last_written_lba, sectors - 1);
    assert_eq!(last.last_read_lba, sectors - 1);
    assert_eq!(last.used_system_buffer, 0);

    for pair in events.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        // 500 ms by design; the margin absorbs scheduling on a loaded machine.
        assert!(gap <= Duration::from_millis(750), "events {gap:?} apart");
        assert!(
            pair[1].1.last_written_lba >= pair[0].1.last_written_lba,
            "never decreases"
        );
        assert!(pair[1].1.last_read_lba >= pair[0].1.last_read_lba);
    }
    for (_, a) in &events {
        assert_eq!(
            a.used_system_buffer + a.free_system_buffer,
            a.total_system_buffer
        );
        assert_eq!(a.total_system_buffer, 4 * MIB as i32);
        assert!(
            a.last_read_lba >= a.last_written_lba,
            "nothing is written before it is read"
        );
        assert_eq!(a.start_lba, 0);
    }
    // While the drive is the bottleneck the periodic events report its rate.
    let mid = &events[events.len() / 2].1;
    assert!(
        mid.current_bytes_per_second > 10_000_000,
        "{}",
        mid.current_bytes_per_second
    );
    assert!(
        mid.current_bytes_per_second < 50_000_000,
        "{}",
        mid.current_bytes_per_second
    );
}

#[test]
fn cancel_mid_write_stops_within_half_a_second_and_issues_no_further_write() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, log) = emulated(dir.path(), "cancel.img", ",profile=bd-r,speed=4x");
    let e = engine(
        &rec,
        EngineConfig {
            buffer_bytes: 4 * MIB,
            ..EngineConfig::default()
        },
    );
    let data = pattern(64 * MIB, 2);
    let sectors = (data.len() / SECTOR) as i32;
    let mut cancelled_at = None;
    let (tx, rx) = std::sync::mpsc::channel();
    let (ew, dw) = (&e, &data);
    let (r, events) = std::thread::scope(|s| {
        let writer = s.spawn(move || write_watched(ew, Cursor::new(dw), None, 0, sectors, &tx));
        // Cancelled once the drive has taken some of the data.
        wait_for_event(&rx, |a| a.last_written_lba >= 0);
        let asked = Instant::now();
        assert_eq!(e.cancel_write(), HResult::S_OK);
        cancelled_at = Some((asked, Instant::now()));
        let result = writer.join().unwrap();
        assert!(
            asked.elapsed() < Duration::from_millis(500),
            "returned {:?} after",
            asked.elapsed()
        );
        result
    });
    let (asked, returned) = cancelled_at.unwrap();
    assert_eq!(r.unwrap_err().hresult, HResult::E_IMAPI_REQUEST_CANCELLED);
    assert!(returned - asked < Duration::from_millis(500));
    let writes = log.writes();
    assert!(
        writes.iter().all(|w| w.started < returned),
        "a WRITE started after CancelWrite returned"
    );
    // LastWrittenLba is exact: it counts the good WRITEs, and the image holds just those.
    let good = writes
        .iter()
        .filter(|w| w.good)
        .map(|w| w.write_lba().unwrap())
        .max()
        .unwrap();
    let last = events.last().unwrap().1.last_written_lba;
    assert_eq!(last, good + 31);
    assert!(
        last > 0 && last < sectors - 1,
        "cancelled mid-write at {last}"
    );
    let written = (last + 1) as usize * SECTOR;
    assert_eq!(image(&path), &data[..written]);
    assert!(!e.write_in_progress());
    assert_eq!(e.cancel_write(), HResult::S_IMAPI_WRITE_NOT_IN_PROGRESS);
}

#[test]
fn cancel_from_inside_the_update_callback_works() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, _, log) = emulated(dir.path(), "cb.img", ",profile=bd-r");
    // A buffer smaller than the data, so writing starts while it still arrives.
    let e = engine(
        &rec,
        EngineConfig {
            buffer_bytes: 256 * 1024,
            ..EngineConfig::default()
        },
    );
    let data = pattern(4 * MIB, 3);
    let slow = SlowReader::new(data, 64 * 1024, Duration::from_millis(30));
    let mut answers = Vec::new();
    let r = e.write_section(slow, None, 0, 2048, |a| {
        if a.last_written_lba >= 0 && answers.is_empty() {
            answers.push(e.cancel_write());
        }
    });
    assert_eq!(r.unwrap_err().hresult, HResult::E_IMAPI_REQUEST_CANCELLED);
    assert_eq!(answers, [HResult::S_OK]);
    assert!(log.writes().len() < 64);
}

#[test]
fn a_disk_starts_writing_at_once_where_a_streaming_drive_waits_for_its_buffer() {
    for fill_first in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let (rec, _, log) = emulated(dir.path(), "fill.img", ",profile=disk");
        let config = EngineConfig {
            fill_first,
            ..EngineConfig::default()
        };
        let e = engine(&rec, config);
        // 128 KiB every 50 ms: about 3 MiB in the test's 1.2 s, far from the
        // 16 MiB buffer, but whole blocks (1 MiB) for the writer.
        let slow = SlowReader::new(pattern(8 * MIB, 6), 128 * 1024, Duration::from_millis(50));
        std::thread::scope(|s| {
            let w = s.spawn(|| write(&e, slow, None, 0, 4096).0);
            std::thread::sleep(Duration::from_millis(1200));
            e.cancel_write();
            assert_eq!(
                w.join().unwrap().unwrap_err().hresult,
                HResult::E_IMAPI_REQUEST_CANCELLED
            );
        });
        let writes = log.writes().len();
        if fill_first {
            assert_eq!(writes, 0, "the fifo waits for a full buffer");
        } else {
            assert!(writes >= 16, "a disk writes as data comes: {writes} WRITEs");
        }
    }
}

#[test]
fn cancel_while_waiting_for_a_slow_source_does_not_wait_for_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, _, log) = emulated(dir.path(), "wait.img", ",profile=bd-r");
    let e = engine(&rec, EngineConfig::default());
    // One chunk every 200 ms: the writer mostly waits on the ring.
    let slow = SlowReader::new(pattern(MIB, 4), 16 * 1024, Duration::from_millis(200));
    let (tx, rx) = std::sync::mpsc::channel();
    let ew = &e;
    let t = std::thread::scope(|s| {
        let w = s.spawn(move || write_watched(ew, slow, None, 0, 512, &tx).0);
        // The first event comes before any WRITE: the writer waits for data.
        wait_for_event(&rx, |_| true);
        let asked = Instant::now();
        e.cancel_write();
        let r = w.join().unwrap();
        (r, asked.elapsed())
    });
    assert_eq!(t.0.unwrap_err().hresult, HResult::E_IMAPI_REQUEST_CANCELLED);
    assert!(t.1 < Duration::from_millis(500), "{:?}", t.1);
    assert!(log.writes().is_empty(), "no unit was ever complete");
}

#[test]
fn events_carry_the_drive_buffer_polled_between_writes() {
    let dir = tempfile::tempdir().unwrap();
    // 24 MiB at 4x BD-R (18 MB/s) through a 4 MiB system buffer: over a
    // second of writing with the drive's 4 MiB buffer in use.
    let (rec, _, log) = emulated(dir.path(), "drive.img", ",profile=bd-r,speed=4x");
    let config = EngineConfig {
        buffer_bytes: 4 * MIB,
        ..EngineConfig::default()
    };
    let e = engine(&rec, config);
    let data = pattern(24 * MIB, 5);
    let (r, events) = write(
        &e,
        Cursor::new(&data),
        None,
        0,
        (data.len() / SECTOR) as i32,
    );
    r.unwrap();
    let polls: Vec<_> = log
        .all()
        .into_iter()
        .filter(|c| matches!(c.cdb, Some(webburn_scsi::Cdb::ReadBufferCapacity { .. })))
        .collect();
    assert!(polls.len() >= 2, "{} polls", polls.len());
    // Never more often than every 250 ms.
    for pair in polls.windows(2) {
        assert!(pair[1].started - pair[0].started >= Duration::from_millis(240));
    }
    let during: Vec<_> = events
        .iter()
        .map(|(_, a)| a)
        .filter(|a| a.drive_buffer_total > 0)
        .collect();
    assert!(!during.is_empty(), "no event reported the drive buffer");
    for a in &during {
        assert_eq!(
            a.drive_buffer_total,
            4 * MIB as u64,
            "the BD-R model's 4 MiB"
        );
        assert!(a.drive_buffer_used <= a.drive_buffer_total);
    }
    assert!(during.iter().any(|a| a.drive_buffer_used > 0));
}
