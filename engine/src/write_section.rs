//! WriteSection: the reader thread fills the ring from the source, the
//! writer thread drains it in transfer units as WRITE commands, and the
//! calling thread fires the Update events.

use std::io::{ErrorKind, Read};
use std::sync::atomic::Ordering;
use std::sync::{Arc, mpsc};

use webburn_shared::section::Section;
use webburn_shared::{Failure, HResult, WriteEngineEventArgs};

use super::medium::{self, Medium};
use super::progress::{EventClock, Progress};
use super::ring::Ring;
use super::writer::{BufferPoll, Pacing, WriteJob};
use super::{
    EngineError, InProgress, Properties, READ_BLOCK, UPDATE_INTERVAL, WriteEngine, WriterRunning,
    lock,
};
use crate::cancel::CancelToken;
use crate::devices::Recorder;
use webburn_scsi::transport::ScsiTransport;

impl WriteEngine {
    /// WriteSection: writes `sector_count` sectors of BytesPerSector bytes from
    /// `source`, starting at `start_lba`, calling `on_update` on this thread.
    ///
    /// `source_len`, when known, lets a too-short source fail with E_INVALIDARG
    /// before anything is written. Returns when the last WRITE completed, on the
    /// first failure, or after a cancel.
    pub fn write_section<R: Read + Send>(
        &self,
        source: R,
        source_len: Option<u64>,
        start_lba: i32,
        sector_count: i32,
        on_update: impl FnMut(&WriteEngineEventArgs),
    ) -> Result<(), EngineError> {
        let cancel = CancelToken::new();
        self.write_section_until(
            source,
            source_len,
            start_lba,
            sector_count,
            &cancel,
            on_update,
        )
    }

    /// [`WriteEngine::write_section`] that also stops when `cancel` fires
    /// (and fires it, as a failure, when a WRITE fails, so whoever feeds
    /// the source stops waiting; a refusal before the first WRITE leaves it
    /// alone: its source is dropped unread). CancelWrite fires the same token.
    pub fn write_section_until<R: Read + Send>(
        &self,
        source: R,
        source_len: Option<u64>,
        start_lba: i32,
        sector_count: i32,
        cancel: &CancelToken,
        on_update: impl FnMut(&WriteEngineEventArgs),
    ) -> Result<(), EngineError> {
        let section = (start_lba, sector_count);
        self.write(source, source_len, section, false, cancel, on_update)
    }

    /// [`WriteEngine::write_section_until`] for data that may end before
    /// the section does, on a sector boundary: the write ends with the data
    /// (the section is the most it may take). The last update event tells
    /// how far it went.
    pub fn write_section_to_end<R: Read + Send>(
        &self,
        source: R,
        start_lba: i32,
        most_sectors: i32,
        cancel: &CancelToken,
        on_update: impl FnMut(&WriteEngineEventArgs),
    ) -> Result<(), EngineError> {
        let section = (start_lba, most_sectors);
        self.write(source, None, section, true, cancel, on_update)
    }

    fn write<R: Read + Send>(
        &self,
        source: R,
        source_len: Option<u64>,
        (start_lba, sector_count): (i32, i32),
        open_end: bool,
        cancel: &CancelToken,
        mut on_update: impl FnMut(&WriteEngineEventArgs),
    ) -> Result<(), EngineError> {
        let _in_progress = self.begin(cancel)?;
        let props = lock(&self.props).clone();
        let section = validate(&props, source_len, start_lba, sector_count)?;
        let bps = u64::from(section.bytes_per_sector());
        let bps_bytes = section.bytes_per_sector() as usize;
        let recorder = props.recorder.as_ref().ok_or_else(|| {
            EngineError::new(HResult::E_IMAPI_RECORDER_REQUIRED, "no recorder was put")
        })?;
        let mut guard = recorder.try_acquire().map_err(|h| {
            EngineError::new(h, format!("{} is in use by another writer", recorder.id()))
        })?;
        let transport: &mut dyn ScsiTransport = &mut **guard;
        // Nothing is written to a disk the system uses (and nothing mounts
        // it while this runs), and no address outside the medium ever
        // reaches the device.
        let _held = not_in_use(recorder, transport)?;
        admit(transport, section)?;
        let unit_sectors = self.unit_sectors(&*transport, bps, props.use_streaming_write12)?;
        let ring = Arc::new(Ring::new(
            self.config.buffer_bytes,
            block_bytes(unit_sectors * bps_bytes, self.config.buffer_bytes),
        ));
        {
            // Weak: the token may outlive the write (the disc flow goes on
            // with it); the buffer is freed when WriteSection returns.
            let ring = Arc::downgrade(&ring);
            cancel.on_stop(move || {
                if let Some(ring) = ring.upgrade() {
                    ring.abort();
                }
            });
        }
        let progress = Progress::new(section);
        let mut clock = EventClock::new();
        on_update(&clock.snapshot(&progress, &ring));
        let job = WriteJob {
            transport,
            ring: &ring,
            progress: &progress,
            cancel,
            timeout: self.config.command_timeout,
            unit_sectors,
            streaming: props.use_streaming_write12,
            pacing: Pacing {
                starting: props.starting_sectors_per_second,
                ending: props.ending_sectors_per_second,
            },
            buffer_poll: BufferPoll::First,
            fill_first: self.config.fill_first,
            open_end,
        };
        let result = self.run_threads(source, job, cancel, || {
            on_update(&clock.snapshot(&progress, &ring));
        });
        on_update(&clock.snapshot(&progress, &ring));
        result
    }

    /// Marks a WriteSection in progress with `cancel` as its stop signal
    /// (CancelWrite sees the token as soon as it sees the write).
    fn begin(&self, cancel: &CancelToken) -> Result<InProgress<'_>, EngineError> {
        let mut current = lock(&self.cancel);
        if self.in_progress.swap(true, Ordering::AcqRel) {
            return Err(EngineError::new(
                HResult::E_IMAPI_DF2DATA_WRITE_IN_PROGRESS,
                "WriteSection was called while another WriteSection of this engine is running",
            ));
        }
        *current = cancel.clone();
        Ok(InProgress(self))
    }

    /// Sectors per WRITE on `transport`: a unit never exceeds the system
    /// buffer (the writer waits for whole units) nor the transport's largest
    /// transfer; E_INVALIDARG if not even one sector fits.
    fn unit_sectors(
        &self,
        transport: &dyn ScsiTransport,
        bps: u64,
        write12: bool,
    ) -> Result<usize, EngineError> {
        let unit_bytes = self
            .config
            .max_transfer
            .min(transport.max_transfer_bytes())
            .min(self.config.buffer_bytes);
        match unit_sectors(unit_bytes, bps, write12) {
            0 => Err(EngineError::new(
                HResult::E_INVALIDARG,
                format!("BytesPerSector {bps} exceeds the largest transfer of {unit_bytes} bytes"),
            )),
            n => Ok(n),
        }
    }

    /// The reader thread fills the ring from `source` while the writer
    /// thread runs `job`; `tick` is called every [`UPDATE_INTERVAL`] until the
    /// writer ends. A failed write fires `cancel` (as a failure), so whoever
    /// feeds the source stops waiting.
    fn run_threads<R: Read + Send>(
        &self,
        source: R,
        job: WriteJob<'_>,
        cancel: &CancelToken,
        mut tick: impl FnMut(),
    ) -> Result<(), EngineError> {
        let (ring, progress) = (job.ring, job.progress);
        let total_bytes = progress.section.bytes();
        self.writer.set(true);
        std::thread::scope(|s| {
            let (done_tx, done_rx) = mpsc::channel::<()>();
            let reader = s.spawn(|| read_source(source, total_bytes, ring, progress));
            let writer = s.spawn(move || {
                let _running = WriterRunning(&self.writer);
                let r = job.run();
                drop(done_tx);
                r
            });
            while let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(UPDATE_INTERVAL) {
                tick();
            }
            let written = writer.join();
            if !matches!(written, Ok(Ok(()))) {
                // Whoever feeds the source stops waiting.
                cancel.fail();
            }
            // The reader stops (after a success it has nothing left to do).
            ring.abort();
            let read = reader.join();
            let panicked =
                || EngineError::new(HResult::E_FAIL, "internal error: a worker thread panicked");
            let written = written.unwrap_or_else(|_| Err(panicked()));
            let read = read.unwrap_or_else(|_| Err(panicked()));
            match (written, read) {
                (Ok(()), _) => Ok(()),
                (Err(_), _) if cancel.is_cancelled() => Err(EngineError::cancelled()),
                (Err(w), Err(r)) if w.hresult == HResult::E_IMAPI_REQUEST_CANCELLED => Err(r),
                (Err(w), _) => Err(w),
            }
        })
    }
}

/// Checks the arguments before anything touches the device.
fn validate(
    props: &Properties,
    source_len: Option<u64>,
    start_lba: i32,
    sector_count: i32,
) -> Result<Section, EngineError> {
    if props.recorder.is_none() {
        return Err(EngineError::new(
            HResult::E_IMAPI_RECORDER_REQUIRED,
            "no recorder was put",
        ));
    }
    if props.bytes_per_sector < 1 {
        return Err(EngineError::new(
            HResult::E_INVALIDARG,
            "BytesPerSector was never put",
        ));
    }
    let section = Section::new(start_lba, sector_count, props.bytes_per_sector)?;
    section.check_source(source_len)?;
    Ok(section)
}

/// E_IMAPI_RECORDER_LOCKED, naming the mount point, for a disk the system
/// uses; then the device taken for this writer alone, its block devices
/// held until the guard is dropped.
pub(super) fn not_in_use(
    recorder: &Recorder,
    transport: &mut dyn ScsiTransport,
) -> Result<crate::devices::ExclusiveHold, EngineError> {
    recorder.check_not_in_use()?;
    let held = recorder.hold_exclusively()?;
    transport
        .take_for_writing()
        .map_err(|e| EngineError::new(e.hresult(), e.to_string()))?;
    Ok(held)
}

/// Asks the drive what is loaded and holds `section` against it.
pub(super) fn admit(t: &mut dyn ScsiTransport, section: Section) -> Result<Medium, EngineError> {
    let medium = medium::probe(t)?;
    medium.admit(section)?;
    Ok(medium)
}

/// Sectors per WRITE: as many as fit `unit_bytes`, and never more than the
/// command's transfer length field holds (16 bits in WRITE(10), 32 bits in
/// WRITE(12); MMC-6 and SBC-3). 0 if one sector is larger than the unit.
fn unit_sectors(unit_bytes: usize, bytes_per_sector: u64, write12: bool) -> usize {
    let most = if write12 {
        u64::from(u32::MAX)
    } else {
        u64::from(u16::MAX)
    };
    usize::try_from((unit_bytes as u64 / bytes_per_sector).min(most)).unwrap_or(0)
}

/// How much the reader reads at a time: whole transfer units, up to
/// [`READ_BLOCK`], and small enough that the buffer holds two blocks.
fn block_bytes(unit: usize, buffer: usize) -> usize {
    let units = (READ_BLOCK / unit).min(buffer / 2 / unit).max(1);
    units * unit
}

/// The reader thread: reads exactly `total` bytes from `source` straight
/// into the ring's blocks.
fn read_source<R: Read>(
    mut source: R,
    total: u64,
    ring: &Ring,
    p: &Progress,
) -> Result<(), EngineError> {
    let mut left = total;
    while left > 0 {
        let Ok(mut block) = ring.take_free() else {
            return Err(EngineError::cancelled());
        };
        let want = block.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let mut len = 0;
        while len < want {
            match source.read(&mut block[len..want]) {
                Ok(0) => break,
                Ok(n) => {
                    len += n;
                    p.read_bytes.fetch_add(n as u64, Ordering::AcqRel);
                    // A slow source is not read to the end of its block
                    // after the write was given up.
                    if ring.filling(len).is_err() {
                        return Err(EngineError::cancelled());
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    ring.abort();
                    // A source that knows its HRESULT (a file of an image
                    // that changed) ends the write with it.
                    return Err(match Failure::of(&e) {
                        Some(f) => EngineError::new(f.hresult, f.detail.clone()),
                        None => EngineError::new(
                            HResult::E_FAIL,
                            format!("reading the data source failed: {e}"),
                        ),
                    });
                }
            }
        }
        left -= len as u64;
        ring.queue(block, len);
        if len < want {
            // The source ended early; the writer reports it.
            break;
        }
    }
    ring.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_whole_units_of_about_a_mib_and_two_fit_the_buffer() {
        assert_eq!(block_bytes(64 << 10, 16 << 20), 1 << 20);
        assert_eq!(
            block_bytes(63_504, 16 << 20),
            16 * 63_504,
            "2352-byte sectors"
        );
        assert_eq!(
            block_bytes(64 << 10, 256 << 10),
            128 << 10,
            "a small buffer"
        );
        assert_eq!(
            block_bytes(1 << 20, 1 << 20),
            1 << 20,
            "never less than a unit"
        );
        assert_eq!(block_bytes(2 << 20, 16 << 20), 2 << 20);
    }

    #[test]
    fn a_transfer_unit_fits_the_write_commands_length_field() {
        assert_eq!(unit_sectors(64 << 10, 2048, false), 32);
        assert_eq!(unit_sectors(256 << 20, 2048, false), 65_535, "WRITE(10)");
        assert_eq!(unit_sectors(256 << 20, 2048, true), 131_072, "WRITE(12)");
        assert_eq!(unit_sectors(1 << 20, 1, false), 65_535);
        assert_eq!(unit_sectors(2048, 4096, false), 0);
    }

    #[test]
    fn write_section_checks_preconditions_in_imapi_order() {
        let e = WriteEngine::default();
        let err = e
            .write_section(&[0u8; 2048][..], Some(2048), 0, 1, |_| {})
            .unwrap_err();
        assert_eq!(err.hresult, HResult::E_IMAPI_RECORDER_REQUIRED);
        assert!(!e.write_in_progress(), "flag cleared after a rejected call");
    }
}
