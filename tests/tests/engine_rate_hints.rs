//! StartingSectorsPerSecond / EndingSectorsPerSecond as IMAPI defines them:
//! the drive's expected rate over the section, used only to time the waits
//! when the drive's buffer is full ("long write in progress", 2/04/08).
//! They never throttle the write and never reach the drive.

#![allow(clippy::unwrap_used)] // support functions of the tests, not product code

use std::io::Cursor;

use webburn_engine::EngineConfig;
use webburn_scsi::cdb::Cdb;
use webburn_tests::{emulated, engine, image, pattern, write};

const SECTOR: usize = 2048;

/// WRITE commands sent, and those the drive took, for `data` written with
/// both rate hints at `hint` to a 4x DVD+R with a 256 KiB drive buffer.
fn writes_with_hint(hint: i32, data: &[u8]) -> (usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    let (rec, path, log) = emulated(
        dir.path(),
        "dvd.img",
        ",profile=dvd+r,speed=4x,drive-buffer=256KiB",
    );
    let e = engine(
        &rec,
        EngineConfig {
            buffer_bytes: 1 << 20,
            ..EngineConfig::default()
        },
    );
    e.put_starting_sectors_per_second(hint).unwrap();
    e.put_ending_sectors_per_second(hint).unwrap();
    let sectors = i32::try_from(data.len() / SECTOR).unwrap();
    write(&e, Cursor::new(data), None, 0, sectors).0.unwrap();
    assert!(image(&path) == data, "the image differs (hint {hint})");
    let writes = log.writes();
    let taken = writes.iter().filter(|w| w.good).count();
    (writes.len(), taken)
}

#[test]
fn a_rate_hint_times_the_waits_on_a_full_drive_buffer() {
    let data = pattern(3 << 20, 7);
    let (blind, blind_taken) = writes_with_hint(-1, &data);
    // 4x DVD: 4 x 1,385,000 B/s / 2048 = 2,705 sectors/s.
    let (hinted, hinted_taken) = writes_with_hint(2705, &data);
    eprintln!("WRITEs sent: {blind} without a hint, {hinted} with it, for {blind_taken}");
    assert_eq!(blind_taken, hinted_taken, "the same WRITEs went through");
    assert!(
        blind > blind_taken,
        "the drive's buffer filled up: {blind} WRITEs for {blind_taken}"
    );
    assert!(
        hinted < blind,
        "waiting as long as the drive needs re-sends fewer WRITEs: {hinted} with the hint, {blind} without"
    );
}

#[test]
fn a_rate_hint_never_throttles_the_write_nor_reaches_the_drive() {
    let dir = tempfile::tempdir().unwrap();
    // A disk without a speed limit: nothing to wait for, whatever the hint says.
    let (rec, path, log) = emulated(dir.path(), "disk.img", ",profile=disk,capacity=64MiB");
    let e = engine(&rec, EngineConfig::default());
    e.put_starting_sectors_per_second(1024).unwrap();
    e.put_ending_sectors_per_second(1024).unwrap();
    let data = pattern(8192 * SECTOR, 3);
    write(&e, Cursor::new(&data), None, 0, 8192).0.unwrap();
    assert!(image(&path)[..data.len()] == data[..]);
    let all = log.all();
    assert!(
        all.iter().all(|c| c.good),
        "every command went through at once"
    );
    assert!(
        !all.iter().any(|c| matches!(
            c.cdb,
            Some(Cdb::SetStreaming { .. } | Cdb::SetCdSpeed { .. })
        )),
        "no speed command was sent"
    );
}
