//! Progress shared by the reader, the writer and the event loop, and the
//! IWriteEngine2EventArgs snapshots made from it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use webburn_shared::{Section, WriteEngineEventArgs};

use super::ring::Ring;

/// Counters of one WriteSection.
#[derive(Debug)]
pub(crate) struct Progress {
    pub section: Section,
    /// The section's BytesPerSector.
    pub bytes_per_sector: u64,
    pub read_bytes: AtomicU64,
    pub written_sectors: AtomicU64,
    /// The drive's buffer (READ BUFFER CAPACITY): size and bytes in use.
    pub drive_total: AtomicU64,
    pub drive_used: AtomicU64,
    pub started: Instant,
}

fn clamp_i32(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX })
}

fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Progress {
    pub(crate) fn new(section: Section) -> Self {
        Progress {
            section,
            bytes_per_sector: u64::from(section.bytes_per_sector()),
            read_bytes: AtomicU64::new(0),
            written_sectors: AtomicU64::new(0),
            drive_total: AtomicU64::new(0),
            drive_used: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    pub(crate) fn written(&self) -> u64 {
        self.written_sectors.load(Ordering::Acquire)
    }
}

/// Makes event args, remembering the last one to compute the current rate.
#[derive(Debug)]
pub(crate) struct EventClock {
    last_at: Instant,
    last_written: u64,
}

impl EventClock {
    pub(crate) fn new() -> Self {
        EventClock {
            last_at: Instant::now(),
            last_written: 0,
        }
    }

    /// A snapshot now; Used + Free = Total always holds.
    pub(crate) fn snapshot(&mut self, p: &Progress, ring: &Ring) -> WriteEngineEventArgs {
        let now = Instant::now();
        let written = p.written();
        let read_sectors = p.read_bytes.load(Ordering::Acquire) / p.bytes_per_sector;
        let micros = now.duration_since(self.last_at).as_micros();
        let delta = (written - self.last_written) * p.bytes_per_sector;
        // Bytes per second over the last interval, in integers.
        let rate = (u128::from(delta) * 1_000_000)
            .checked_div(micros)
            .map_or(0, |r| u64::try_from(r).unwrap_or(u64::MAX));
        self.last_at = now;
        self.last_written = written;
        let total = ring.capacity() as u64;
        let used = (ring.len() as u64).min(total);
        let start = i64::from(p.section.start());
        WriteEngineEventArgs {
            start_lba: p.section.start(),
            sector_count: p.section.count_i32(),
            last_read_lba: clamp_i32(start + signed(read_sectors) - 1),
            last_written_lba: clamp_i32(start + signed(written) - 1),
            total_system_buffer: clamp_i32(signed(total)),
            used_system_buffer: clamp_i32(signed(used)),
            free_system_buffer: clamp_i32(signed(total - used)),
            elapsed_ms: u64::try_from(now.duration_since(p.started).as_millis())
                .unwrap_or(u64::MAX),
            current_bytes_per_second: rate,
            drive_buffer_total: p.drive_total.load(Ordering::Acquire),
            drive_buffer_used: p.drive_used.load(Ordering::Acquire),
        }
    }
}
