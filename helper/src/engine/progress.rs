//! Progress shared by the reader, the writer and the event loop, and the
//! IWriteEngine2EventArgs snapshots made from it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use webburn_shared::WriteEngineEventArgs;

use super::ring::Ring;

/// Counters of one WriteSection.
#[derive(Debug)]
pub(crate) struct Progress {
    pub start_lba: i32,
    pub sector_count: i32,
    pub bytes_per_sector: u64,
    pub read_bytes: AtomicU64,
    pub written_sectors: AtomicU64,
    /// The drive's buffer (READ BUFFER CAPACITY): size and bytes in use.
    pub drive_total: AtomicU64,
    pub drive_used: AtomicU64,
    pub started: Instant,
}

fn clamp_i32(v: i64) -> i32 {
    v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

impl Progress {
    pub fn new(start_lba: i32, sector_count: i32, bytes_per_sector: u64) -> Self {
        Progress {
            start_lba,
            sector_count,
            bytes_per_sector,
            read_bytes: AtomicU64::new(0),
            written_sectors: AtomicU64::new(0),
            drive_total: AtomicU64::new(0),
            drive_used: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    pub fn written(&self) -> u64 {
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
    pub fn new() -> Self {
        EventClock {
            last_at: Instant::now(),
            last_written: 0,
        }
    }

    /// A snapshot now; Used + Free = Total always holds.
    pub fn snapshot(&mut self, p: &Progress, ring: &Ring) -> WriteEngineEventArgs {
        let now = Instant::now();
        let written = p.written();
        let read_sectors = p.read_bytes.load(Ordering::Acquire) / p.bytes_per_sector;
        let dt = now.duration_since(self.last_at).as_secs_f64();
        let delta = (written - self.last_written) * p.bytes_per_sector;
        let rate = if dt > 0.0 {
            (delta as f64 / dt) as u64
        } else {
            0
        };
        self.last_at = now;
        self.last_written = written;
        let total = ring.capacity() as u64;
        let used = (ring.len() as u64).min(total);
        let start = i64::from(p.start_lba);
        WriteEngineEventArgs {
            start_lba: p.start_lba,
            sector_count: p.sector_count,
            last_read_lba: clamp_i32(start + read_sectors as i64 - 1),
            last_written_lba: clamp_i32(start + written as i64 - 1),
            total_system_buffer: clamp_i32(total as i64),
            used_system_buffer: clamp_i32(used as i64),
            free_system_buffer: clamp_i32((total - used) as i64),
            elapsed_ms: now.duration_since(p.started).as_millis() as u64,
            current_bytes_per_second: rate,
            drive_buffer_total: p.drive_total.load(Ordering::Acquire),
            drive_buffer_used: p.drive_used.load(Ordering::Acquire),
        }
    }
}
