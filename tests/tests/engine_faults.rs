//! Each injectable fault of the emulated recorder, through the real write
//! loop: the final HRESULT, an exact LastWrittenLba, and nothing on the
//! medium past what was reported.

use std::io::Cursor;
use std::time::{Duration, Instant};

use webburn_emulated::{EmulatedRecorder, EmulatedSpec};
use webburn_engine::EngineConfig;
use webburn_engine::devices::Recorder;
use webburn_scsi::transport::{Completion, ScsiCommand, ScsiTransport, TransportError};
use webburn_shared::HResult;
use webburn_tests::{SlowReader, emulated, engine, image, pattern, write};

const SECTOR: usize = 2048;

fn config() -> EngineConfig {
    EngineConfig {
        buffer_bytes: 1 << 20,
        ..EngineConfig::default()
    }
}

/// Asserts the image holds exactly the first `written` sectors of `data` and nothing more.
fn assert_prefix_written(path: &std::path::Path, data: &[u8], written: usize) {
    let img = image(path);
    assert_eq!(img.len(), written * SECTOR, "nothing past LastWrittenLba");
    assert_eq!(img, &data[..written * SECTOR]);
}

#[test]
fn busy_n_times_then_success() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, log) = emulated(dir.path(), "busy.img", ",profile=bd-r,busy=3@64");
    let e = engine(&rec, config());
    let data = pattern(256 * SECTOR, 1);
    let started = Instant::now();
    write(&e, Cursor::new(&data), None, 0, 256).0.unwrap();
    assert_eq!(image(&path), data);
    let at_64: Vec<_> = log
        .writes()
        .into_iter()
        .filter(|w| w.write_lba() == Some(64))
        .collect();
    assert_eq!(
        at_64.len(),
        4,
        "three busy answers, then the same WRITE succeeds"
    );
    assert!(!at_64[0].good && !at_64[2].good && at_64[3].good);
    // Slow backoff: 100 + 200 + 300 ms.
    assert!(started.elapsed() >= Duration::from_millis(600));
}

#[test]
fn busy_longer_than_the_timeout_is_media_busy() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, _) = emulated(dir.path(), "busy.img", ",profile=bd-r,busy=1000@32");
    let e = engine(
        &rec,
        EngineConfig {
            command_timeout: Duration::from_millis(400),
            ..config()
        },
    );
    let data = pattern(64 * SECTOR, 2);
    let (r, events) = write(&e, Cursor::new(&data), None, 0, 64);
    assert_eq!(r.unwrap_err().hresult, HResult::E_IMAPI_RECORDER_MEDIA_BUSY);
    assert_eq!(events.last().unwrap().1.last_written_lba, 31);
    assert_prefix_written(&path, &data, 32);
}

#[test]
fn write_error_maps_to_unexpected_response_with_exact_last_written_lba() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, log) = emulated(dir.path(), "err.img", ",profile=dvd+r,write-error=1000");
    let e = engine(&rec, config());
    let data = pattern(2048 * SECTOR, 3);
    let (r, events) = write(&e, Cursor::new(&data), None, 0, 2048);
    let err = r.unwrap_err();
    assert_eq!(
        err.hresult,
        HResult::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE
    );
    let sense = err.sense.unwrap();
    assert_eq!(
        (sense.key, sense.asc, sense.ascq, sense.information),
        (3, 0x0C, 0, Some(1000))
    );
    // Units of 32 sectors: the one at 992 failed, so 0..=991 are written.
    assert_eq!(events.last().unwrap().1.last_written_lba, 991);
    assert_prefix_written(&path, &data, 992);
    let last_write = log.writes().last().unwrap().write_lba();
    assert_eq!(last_write, Some(992), "no WRITE after the failure");
}

#[test]
fn medium_removed_mid_write_is_no_media() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, log) = emulated(dir.path(), "rm.img", ",profile=bd-r,remove-at=500");
    let e = engine(&rec, config());
    let data = pattern(1024 * SECTOR, 4);
    let (r, events) = write(&e, Cursor::new(&data), None, 0, 1024);
    assert_eq!(
        r.unwrap_err().hresult,
        HResult::E_IMAPI_RECORDER_MEDIA_NO_MEDIA
    );
    assert_eq!(events.last().unwrap().1.last_written_lba, 479);
    assert_prefix_written(&path, &data, 480);
    assert_eq!(log.writes().len(), 16);
}

#[test]
fn a_stall_past_the_command_timeout_is_a_command_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, _) = emulated(dir.path(), "stall.img", ",profile=bd-r,stall=64:30s");
    let e = engine(
        &rec,
        EngineConfig {
            command_timeout: Duration::from_millis(300),
            ..config()
        },
    );
    let data = pattern(128 * SECTOR, 5);
    let started = Instant::now();
    let (r, events) = write(&e, Cursor::new(&data), None, 0, 128);
    assert_eq!(
        r.unwrap_err().hresult,
        HResult::E_IMAPI_RECORDER_COMMAND_TIMEOUT
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by the timeout, not the stall"
    );
    assert_eq!(events.last().unwrap().1.last_written_lba, 63);
    assert_prefix_written(&path, &data, 64);
}

#[test]
fn a_stall_within_the_timeout_only_slows_the_write() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, _) = emulated(dir.path(), "stall.img", ",profile=bd-r,stall=64:300ms");
    let e = engine(&rec, config());
    let data = pattern(128 * SECTOR, 6);
    write(&e, Cursor::new(&data), None, 0, 128).0.unwrap();
    assert_eq!(image(&path), data);
}

#[test]
fn a_vanished_device_is_device_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, _) = emulated(dir.path(), "gone.img", ",profile=disk,vanish-at=200");
    let e = engine(&rec, config());
    let data = pattern(512 * SECTOR, 7);
    let (r, events) = write(&e, Cursor::new(&data), None, 0, 512);
    let err = r.unwrap_err();
    assert_eq!(err.hresult, HResult::E_DEV_NOT_EXIST);
    assert_eq!(err.hresult.0, 0x8007_0037);
    assert_eq!(events.last().unwrap().1.last_written_lba, 191);
    assert_prefix_written(&path, &data, 192);
}

/// 64 KiB every 40 ms is about 1.6 MB/s: far slower than a 24x DVD (33 MB/s).
fn trickle(data: &[u8]) -> SlowReader {
    SlowReader::new(data.to_vec(), 64 * 1024, Duration::from_millis(40))
}

#[test]
fn a_slow_source_on_a_drive_without_underrun_protection_is_loss_of_streaming() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, _) = emulated(
        dir.path(),
        "old.img",
        ",profile=dvd+r,speed=24x,underrun=fail",
    );
    // The first WRITE waits for a full buffer (128 KiB here); the trickle
    // cannot keep up after that.
    let e = engine(
        &rec,
        EngineConfig {
            buffer_bytes: 128 * 1024,
            ..EngineConfig::default()
        },
    );
    let data = pattern(256 * SECTOR, 8);
    let (r, events) = write(&e, trickle(&data), None, 0, 256);
    let err = r.unwrap_err();
    assert_eq!(err.hresult, HResult::E_IMAPI_LOSS_OF_STREAMING);
    assert_eq!(
        err.sense.map(|s| (s.key, s.asc, s.ascq)),
        Some((3, 0x0C, 0x09))
    );
    // The buffered 128 KiB went out; the drive ran dry before the next 64 KiB came.
    assert_eq!(events.last().unwrap().1.last_written_lba, 63);
    assert_prefix_written(&path, &data, 64);
}

#[test]
fn a_slow_source_on_a_drive_with_underrun_protection_completes() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, _) = emulated(dir.path(), "new.img", ",profile=dvd+r,speed=24x");
    let e = engine(&rec, config());
    let data = pattern(256 * SECTOR, 9);
    write(&e, trickle(&data), None, 0, 256).0.unwrap();
    assert_eq!(image(&path), data);
}

/// A drive another program holds (Windows: its exclusive-access lock, or a
/// volume that stays locked): it answers questions but cannot be taken for
/// writing.
#[derive(Debug)]
struct HeldElsewhere(EmulatedRecorder);

impl ScsiTransport for HeldElsewhere {
    fn execute(&mut self, command: ScsiCommand<'_>) -> Result<Completion, TransportError> {
        self.0.execute(command)
    }

    fn take_for_writing(&mut self) -> Result<(), TransportError> {
        Err(TransportError::InUse(
            "E: stays in use by another program".into(),
        ))
    }
}

#[test]
fn a_drive_another_program_holds_is_recorder_locked_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("held.img");
    let spec = EmulatedSpec::parse(&format!("emulated:{},profile=bd-r", path.display())).unwrap();
    let rec = Recorder::from_transport(
        "emulated:held".into(),
        Box::new(HeldElsewhere(EmulatedRecorder::open(spec).unwrap())),
    );
    let e = engine(&rec, config());
    let data = pattern(64 * SECTOR, 3);
    let err = write(&e, Cursor::new(&data), None, 0, 64).0.unwrap_err();
    assert_eq!(err.hresult, HResult::E_IMAPI_RECORDER_LOCKED, "{err}");
    assert!(err.to_string().contains("another program"), "{err}");
    assert_eq!(std::fs::metadata(&path).map_or(0, |m| m.len()), 0);
}
