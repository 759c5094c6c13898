//! The emulated drive's buffer: WRITEs fill it at bus speed, the laser drains
//! it at the drive's write speed. A full buffer answers 2/04/08; a buffer that
//! runs dry mid-track is a buffer underrun.

use std::time::{Duration, Instant};

/// Fill level and speed of a drive buffer.
#[derive(Debug)]
pub struct DriveBuffer {
    size: u64,
    fill: f64,
    rate: Option<f64>,
    at: Instant,
    /// A track is being written: WRITEs came and no SYNCHRONIZE CACHE since.
    streaming: bool,
    /// The buffer ran dry while streaming and no WRITE has come since.
    ran_dry: bool,
    underruns: u64,
}

impl DriveBuffer {
    /// A buffer of `size` bytes drained at `rate` bytes/s (`None` = instantly).
    pub fn new(size: u64, rate: Option<u64>) -> Self {
        DriveBuffer {
            size,
            fill: 0.0,
            rate: rate.map(|r| r as f64),
            at: Instant::now(),
            streaming: false,
            ran_dry: false,
            underruns: 0,
        }
    }

    /// Drains what the laser wrote since the last look.
    fn advance(&mut self) {
        let now = Instant::now();
        let dt = now.duration_since(self.at).as_secs_f64();
        self.at = now;
        let drained = self.rate.map_or(f64::INFINITY, |r| r * dt);
        if drained >= self.fill {
            // Counted when a non-empty buffer empties mid-track, once per dry spell.
            if self.streaming && self.rate.is_some() && self.fill > 0.0 {
                self.ran_dry = true;
                self.underruns += 1;
            }
            self.fill = 0.0;
        } else {
            self.fill -= drained;
        }
    }

    /// The write speed in bytes/s (`None` = instantly).
    pub fn rate(&self) -> Option<u64> {
        self.rate.map(|r| r as u64)
    }

    /// Changes the write speed (SET STREAMING); `None` = instantly.
    pub fn set_rate(&mut self, rate: Option<u64>) {
        self.advance();
        self.rate = rate.map(|r| r as f64);
    }

    /// Takes `len` bytes if they fit; `false` means "buffer full, try again".
    /// An empty buffer always takes a transfer.
    pub fn try_accept(&mut self, len: usize) -> bool {
        self.advance();
        if self.fill > 0.0 && self.fill + len as f64 > self.size as f64 {
            return false;
        }
        self.fill += len as f64;
        self.streaming = true;
        self.ran_dry = false;
        true
    }

    /// True once if the buffer ran dry mid-track since the last WRITE; clears it.
    pub fn take_underrun(&mut self) -> bool {
        self.advance();
        std::mem::take(&mut self.ran_dry)
    }

    /// Waits until the laser has written everything (at most `limit`) and ends
    /// the track's streaming; returns false if the limit cut the wait short.
    pub fn flush(&mut self, limit: Duration) -> bool {
        self.advance();
        let need = self
            .rate
            .map_or(Duration::ZERO, |r| Duration::from_secs_f64(self.fill / r));
        std::thread::sleep(need.min(limit));
        let done = need <= limit;
        self.streaming = false;
        self.advance();
        if done {
            self.fill = 0.0;
        }
        self.ran_dry = false;
        done
    }

    /// (size, free) in bytes, as READ BUFFER CAPACITY reports them.
    pub fn capacity(&mut self) -> (u64, u64) {
        self.advance();
        (
            self.size,
            self.size - (self.fill.ceil() as u64).min(self.size),
        )
    }

    /// How often the buffer ran dry mid-track.
    pub fn underruns(&self) -> u64 {
        self.underruns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_never_fills_and_never_underruns() {
        let mut b = DriveBuffer::new(1 << 20, None);
        for _ in 0..100 {
            assert!(b.try_accept(64 * 1024));
        }
        assert!(!b.take_underrun());
        assert_eq!(b.capacity(), (1 << 20, 1 << 20));
    }

    #[test]
    fn a_slow_drive_fills_up_then_drains() {
        // 1 MB/s: 64 KiB takes ~65 ms to drain.
        let mut b = DriveBuffer::new(256 * 1024, Some(1_000_000));
        let accepted = (0..10).filter(|_| b.try_accept(64 * 1024)).count();
        assert_eq!(accepted, 4);
        let (_, free) = b.capacity();
        assert!(free < 64 * 1024);
        std::thread::sleep(Duration::from_millis(150));
        assert!(b.try_accept(64 * 1024));
        assert!(!b.take_underrun());
    }

    #[test]
    fn running_dry_mid_track_is_an_underrun_but_not_after_a_flush() {
        let mut b = DriveBuffer::new(1 << 20, Some(10_000_000));
        assert!(b.try_accept(2048));
        std::thread::sleep(Duration::from_millis(20));
        assert!(b.take_underrun());
        assert!(!b.take_underrun(), "reported once");
        assert_eq!(b.underruns(), 1);
        assert!(b.try_accept(2048));
        assert!(b.flush(Duration::from_secs(1)));
        std::thread::sleep(Duration::from_millis(20));
        assert!(!b.take_underrun());
    }
}
