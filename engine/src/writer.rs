//! The writer thread: takes whole transfer units from the ring and sends
//! WRITE(10) or WRITE(12)+Streaming, re-sending busy commands with a bounded
//! backoff and stopping at the first failure or on cancel.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use webburn_shared::HResult;

use super::error::EngineError;
use super::progress::Progress;
use super::ring::Ring;
use crate::cancel::CancelToken;
use webburn_scsi::sense::{self, Backoff, Sense, SenseAction};
use webburn_scsi::transport::{DataDirection, ScsiCommand, ScsiStatus, ScsiTransport};
use webburn_scsi::{self as scsi, Cdb};

/// Everything the writer needs for one section.
pub(crate) struct WriteJob<'a> {
    pub transport: &'a mut dyn ScsiTransport,
    pub ring: &'a Ring,
    pub progress: &'a Progress,
    /// The write's stop signal.
    pub cancel: &'a CancelToken,
    pub timeout: Duration,
    /// Sectors per WRITE: at most 65,535 for WRITE(10).
    pub unit_sectors: usize,
    pub streaming: bool,
    pub pacing: Pacing,
    /// Whether and when the drive's buffer was asked about.
    pub buffer_poll: BufferPoll,
    /// Wait for a full buffer before the first WRITE.
    pub fill_first: bool,
    /// The data may end before the section, on a sector boundary: the
    /// write then ends there (an image whose size only its end tells).
    pub open_end: bool,
}

/// READ BUFFER CAPACITY polling of one write.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BufferPoll {
    /// Not asked yet.
    First,
    /// Last asked then.
    At(Instant),
    /// The drive cannot tell (disks have no READ BUFFER CAPACITY).
    Never,
}

/// How often the writer asks the drive how full its buffer is (libburn and
/// growisofs poll about this often).
const BUFFER_POLL: Duration = Duration::from_millis(250);

/// StartingSectorsPerSecond / EndingSectorsPerSecond: the expected drive rate,
/// interpolated over the section. Only tunes the busy sleeps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pacing {
    pub starting: i32,
    pub ending: i32,
}

impl Pacing {
    /// Expected sectors per second at `fraction` (0..=1) of the section.
    fn sectors_per_second(self, fraction: f64) -> Option<f64> {
        match (self.starting > 0, self.ending > 0) {
            (true, true) => {
                Some(f64::from(self.starting) + f64::from(self.ending - self.starting) * fraction)
            }
            (true, false) => Some(f64::from(self.starting)),
            (false, true) => Some(f64::from(self.ending)),
            (false, false) => None,
        }
    }
}

fn bps_bytes(bps: u64) -> usize {
    usize::try_from(bps).unwrap_or(usize::MAX).max(1)
}

impl WriteJob<'_> {
    /// Writes the section; returns when every sector is written or on the first failure.
    pub(crate) fn run(mut self) -> Result<(), EngineError> {
        let p = self.progress;
        let bps = p.bytes_per_sector;
        let total = u64::from(p.section.count());
        // Like cdrecord's fifo: the first WRITE waits for a full buffer (or
        // all the data), so a drive without underrun protection never starts
        // streaming on a trickle.
        let section = usize::try_from(p.section.bytes()).unwrap_or(usize::MAX);
        if self.fill_first && self.ring.wait_fill(section).is_err() {
            return Err(EngineError::cancelled());
        }
        let mut done = 0u64;
        while done < total {
            // Aborted by a cancel or by the reader; the caller decides which.
            let Ok(block) = self.ring.pop() else {
                return Err(EngineError::cancelled());
            };
            let (data, len) = block.map_or((Vec::new(), 0), |f| (f.data, f.len));
            let written = self.write_block(&data[..len], &mut done, total);
            let full = len == data.len() && len > 0;
            if !data.is_empty() {
                self.ring.recycle(data);
            }
            written?;
            // Only the section's last block, or one the source ended in, is
            // not full: in the second case its whole sectors are written and
            // the write fails.
            if !full && done < total {
                if self.open_end && len % bps_bytes(bps) == 0 {
                    return Ok(());
                }
                return Err(EngineError::new(
                    HResult::E_INVALIDARG,
                    format!(
                        "the data source ended after {} of {} bytes",
                        p.read_bytes.load(Ordering::Acquire),
                        total * bps
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Writes the whole sectors of one block, a transfer unit per WRITE,
    /// counting them in `done`.
    fn write_block(&mut self, data: &[u8], done: &mut u64, total: u64) -> Result<(), EngineError> {
        let p = self.progress;
        let bps = usize::try_from(p.bytes_per_sector).unwrap_or(usize::MAX);
        let mut at = 0;
        while *done < total && data.len() - at >= bps {
            if self.cancel.is_stopped() {
                return Err(EngineError::cancelled());
            }
            let whole = (data.len() - at) / bps;
            let left = usize::try_from(total - *done).unwrap_or(usize::MAX);
            let sectors = self.unit_sectors.min(left).min(whole);
            let bytes = &data[at..at + sectors * bps];
            // Inside the section, whose every LBA the medium check admitted.
            let lba = p.section.lba_at(*done).ok_or_else(|| {
                EngineError::new(HResult::E_FAIL, "internal error: a WRITE past the section")
            })?;
            let fraction = *done as f64 / total as f64;
            self.write_unit(lba, sectors, bytes, *done > 0, fraction)?;
            *done += sectors as u64;
            at += bytes.len();
            p.written_sectors.store(*done, Ordering::Release);
            self.poll_drive_buffer();
        }
        Ok(())
    }

    /// READ BUFFER CAPACITY between WRITEs, at most every [`BUFFER_POLL`];
    /// a drive that cannot answer is not asked again.
    fn poll_drive_buffer(&mut self) {
        match self.buffer_poll {
            BufferPoll::Never => return,
            BufferPoll::At(t) if t.elapsed() < BUFFER_POLL => return,
            _ => {}
        }
        match scsi::read_buffer_capacity(self.transport) {
            Ok(c) if c.size > 0 => {
                let p = self.progress;
                p.drive_total.store(u64::from(c.size), Ordering::Release);
                p.drive_used
                    .store(u64::from(c.size.saturating_sub(c.free)), Ordering::Release);
                self.buffer_poll = BufferPoll::At(Instant::now());
            }
            _ => self.buffer_poll = BufferPoll::Never,
        }
    }

    fn write_unit(
        &mut self,
        lba: i32,
        sectors: usize,
        data: &[u8],
        mid_write: bool,
        fraction: f64,
    ) -> Result<(), EngineError> {
        let too_long = || {
            EngineError::new(
                HResult::E_FAIL,
                format!("internal error: {sectors} sectors do not fit one WRITE"),
            )
        };
        let cdb = if self.streaming {
            Cdb::Write12 {
                fua: false,
                streaming: true,
                lba,
                blocks: u32::try_from(sectors).map_err(|_| too_long())?,
            }
        } else {
            Cdb::Write10 {
                fua: false,
                lba,
                blocks: u16::try_from(sectors).map_err(|_| too_long())?,
            }
        }
        .encode();
        let started = Instant::now();
        let mut tries = 0u32;
        loop {
            let done = self
                .transport
                .execute(ScsiCommand {
                    cdb: cdb.as_slice(),
                    data: DataDirection::ToDevice(data),
                    timeout: self.timeout,
                })
                .map_err(|e| EngineError::new(e.hresult(), format!("WRITE at LBA {lba}: {e}")))?;
            let action = match (done.status, done.sense) {
                (ScsiStatus::Good, _) if done.residue == 0 => return Ok(()),
                (ScsiStatus::Good, _) => {
                    return Err(EngineError::new(
                        HResult::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE,
                        format!("WRITE at LBA {lba} left {} bytes unwritten", done.residue),
                    ));
                }
                (ScsiStatus::CheckCondition, Some(s)) => (sense::classify(&s, mid_write), Some(s)),
                (ScsiStatus::Busy, _) => (
                    SenseAction::Retry {
                        backoff: Backoff::Slow,
                        exhausted: HResult::E_IMAPI_RECORDER_MEDIA_BUSY,
                    },
                    None,
                ),
                (status, _) => {
                    return Err(EngineError::new(
                        HResult::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE,
                        format!("WRITE at LBA {lba} ended with status {status:?} and no sense"),
                    ));
                }
            };
            match action {
                (SenseAction::Success, _) => return Ok(()),
                (SenseAction::Fail(h), s) => return Err(failure(h, lba, s)),
                (SenseAction::Retry { backoff, exhausted }, s) => {
                    if started.elapsed() >= self.timeout {
                        return Err(failure(exhausted, lba, s));
                    }
                    let wait = self.backoff(backoff, tries, data.len(), fraction);
                    if self.cancel.sleep(wait) {
                        return Err(EngineError::cancelled());
                    }
                    tries += 1;
                }
            }
        }
    }

    /// How long to wait before re-sending (MMC-6's LONG WRITE IN PROGRESS, 2/04/08: libburn and growisofs re-send at once, then a few ms apart).
    fn backoff(&self, kind: Backoff, tries: u32, bytes: usize, fraction: f64) -> Duration {
        match kind {
            // libburn: at once, then +2 ms per try, at most 25 ms; with a rate
            // hint, about the time the drive needs to take one more unit.
            Backoff::BufferFull => {
                let cap = Duration::from_millis(25);
                match self.pacing.sectors_per_second(fraction) {
                    Some(sps) if tries > 0 => {
                        let secs = bytes as f64 / (sps * self.progress.bytes_per_sector as f64);
                        Duration::from_secs_f64(secs).min(cap)
                    }
                    _ => (Duration::from_millis(2) * tries).min(cap),
                }
            }
            Backoff::Slow => {
                (Duration::from_millis(100) * (tries + 1)).min(Duration::from_millis(500))
            }
        }
    }
}

fn failure(hresult: HResult, lba: i32, sense: Option<Sense>) -> EngineError {
    let detail = match &sense {
        Some(s) => format!("WRITE at LBA {lba} failed with sense {s}"),
        None => format!("WRITE at LBA {lba} failed"),
    };
    let e = EngineError::new(hresult, detail);
    match sense {
        Some(s) => e.with_sense(s),
        None => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_interpolates_and_knows_when_it_does_not_know() {
        let p = Pacing {
            starting: 1000,
            ending: 3000,
        };
        assert_eq!(p.sectors_per_second(0.5), Some(2000.0));
        assert_eq!(
            Pacing {
                starting: -1,
                ending: 500
            }
            .sectors_per_second(0.0),
            Some(500.0)
        );
        assert_eq!(
            Pacing {
                starting: -1,
                ending: -1
            }
            .sectors_per_second(0.3),
            None
        );
    }
}
