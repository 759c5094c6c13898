//! Waiting for a drive that works on its own after a command with Immed
//! (BLANK, FORMAT UNIT): TEST UNIT READY answers NOT READY, 04h (logical
//! unit not ready: becoming ready, format or operation in progress) until it
//! is done, with the progress in the sense-key specific bytes (SPC-4
//! 4.5.2.4.4); a failure shows as the deferred error of the next command.

use std::time::{Duration, Instant};

use crate::cancel::CancelToken;
use webburn_scsi::sense::key;
use webburn_scsi::transport::ScsiTransport;
use webburn_scsi::{self as scsi, ScsiError};

/// How often the drive is asked how far it got.
const POLL: Duration = Duration::from_millis(250);

/// How far a drive got.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriveProgress {
    /// Since the wait began.
    pub elapsed: Duration,
    /// The part done, 0 to 1, when the drive says.
    pub done: Option<f64>,
}

impl DriveProgress {
    /// Whole seconds since the wait began.
    pub fn elapsed_seconds(&self) -> u32 {
        u32::try_from(self.elapsed.as_secs()).unwrap_or(u32::MAX)
    }

    /// The seconds the work takes in all, from the part done (0 while the
    /// drive has said nothing).
    pub fn estimated_total_seconds(&self) -> u32 {
        match self.done.filter(|&d| d > 0.0) {
            // Done: the time it took.
            Some(done) if done >= 1.0 => self.elapsed_seconds(),
            Some(done) => {
                let total = (self.elapsed.as_secs_f64() / done).ceil();
                (total.min(f64::from(u32::MAX)) as u32).max(self.elapsed_seconds())
            }
            None => 0,
        }
    }
}

/// Why a wait ended without the drive being ready.
#[derive(Debug)]
pub enum WaitError {
    /// The drive answered otherwise than "not ready, in progress": the
    /// work failed (a deferred error) or the device did.
    Failed(ScsiError),
    /// Still at work after the limit.
    TimedOut,
    /// The token fired: the wait ended, the drive works on.
    Stopped,
}

/// Polls TEST UNIT READY until the drive is ready, at most `limit` or until
/// `cancel` fires; `on` hears the progress at every poll, and once more at
/// the end (all done).
pub fn wait_while_busy(
    t: &mut dyn ScsiTransport,
    limit: Duration,
    cancel: &CancelToken,
    mut on: impl FnMut(DriveProgress),
) -> Result<(), WaitError> {
    let started = Instant::now();
    loop {
        let elapsed = started.elapsed();
        match scsi::test_unit_ready(t) {
            Ok(()) => {
                on(DriveProgress {
                    elapsed,
                    done: Some(1.0),
                });
                return Ok(());
            }
            Err(ScsiError::Sense(s)) if s.key == key::NOT_READY && s.asc == 0x04 => {
                let done = s.progress.map(|p| f64::from(p) / 65536.0);
                on(DriveProgress { elapsed, done });
            }
            Err(e) => return Err(WaitError::Failed(e)),
        }
        if elapsed >= limit {
            return Err(WaitError::TimedOut);
        }
        if cancel.sleep(POLL) {
            return Err(WaitError::Stopped);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_come_from_the_part_done() {
        let p = |secs, done| DriveProgress {
            elapsed: Duration::from_secs(secs),
            done,
        };
        assert_eq!(p(10, Some(0.25)).estimated_total_seconds(), 40);
        assert_eq!(p(10, None).estimated_total_seconds(), 0);
        assert_eq!(p(10, Some(0.0)).estimated_total_seconds(), 0);
        assert_eq!(p(12, Some(1.0)).estimated_total_seconds(), 12);
        let done = DriveProgress {
            elapsed: Duration::from_millis(1700),
            done: Some(1.0),
        };
        assert_eq!(done.estimated_total_seconds(), done.elapsed_seconds());
        assert_eq!(p(3, Some(0.5)).elapsed_seconds(), 3);
    }
}
