//! The write engine: IWriteEngine2's properties, WriteSection and CancelWrite.
//!
//! WriteSection runs three parties: a reader thread that fills the ring (the
//! system buffer) from the source, a writer thread that drains it in transfer
//! units as WRITE commands, and the calling thread, which fires the Update
//! events: once before the first WRITE, every 500 ms, and once at the end.

// Addresses and lengths reach devices from here: no cast may wrap or cut one.
#![warn(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

pub mod error;
pub mod medium;
mod progress;
pub mod ring;
mod writer;

use std::io::{ErrorKind, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, mpsc};
use std::time::Duration;

use webburn_shared::protocol::WriteProperties;
use webburn_shared::section::{Section, check_rate};
use webburn_shared::{Failure, HResult, MediumKind, WriteEngineEventArgs};

pub use error::EngineError;
pub use medium::Medium;
use progress::{EventClock, Progress};
use ring::Ring;
use writer::{BufferPoll, Pacing, WriteJob};

use crate::cancel::CancelToken;
use crate::devices::Recorder;
use crate::transport::{DEFAULT_MAX_TRANSFER, DISK_MAX_TRANSFER, ScsiTransport};

/// Default size of the system buffer.
pub const DEFAULT_BUFFER_BYTES: usize = 16 << 20;
/// Largest system buffer accepted (the event args count bytes in an i32).
pub const MAX_BUFFER_BYTES: usize = 1 << 30;
/// Interval between Update events while writing.
pub const UPDATE_INTERVAL: Duration = Duration::from_millis(500);

/// The reader fills the buffer in blocks of about this size (whole transfer
/// units): fewer reads and hand-offs than one block per 64 KiB WRITE.
const READ_BLOCK: usize = 1 << 20;

/// Settings of the engine that IWriteEngine2 does not expose.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// System buffer size in bytes (TotalSystemBuffer).
    pub buffer_bytes: usize,
    /// Per-WRITE timeout; busy retries of one WRITE stop after it too.
    pub command_timeout: Duration,
    /// Largest transfer unit, further bounded by the transport's maximum.
    pub max_transfer: usize,
    /// Wait for a full buffer (or all the data) before the first WRITE, as
    /// cdrecord's fifo does, so a drive that streams never starts on a
    /// trickle. A disk has no underrun to avoid and starts at once.
    pub fill_first: bool,
}

impl EngineConfig {
    /// This configuration tuned for `medium`: large transfers and no buffer
    /// fill before the first WRITE for a disk (it has no underrun to avoid);
    /// the MMC default transfer and a full buffer first for a disc.
    #[must_use]
    pub fn tuned_for(self, medium: MediumKind) -> EngineConfig {
        match medium {
            MediumKind::Disk => EngineConfig {
                max_transfer: DISK_MAX_TRANSFER,
                fill_first: false,
                ..self
            },
            MediumKind::Disc => EngineConfig {
                max_transfer: DEFAULT_MAX_TRANSFER,
                fill_first: true,
                ..self
            },
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            buffer_bytes: DEFAULT_BUFFER_BYTES,
            command_timeout: crate::scsi::WRITE_TIMEOUT,
            max_transfer: DEFAULT_MAX_TRANSFER,
            fill_first: true,
        }
    }
}

#[derive(Debug, Clone)]
struct Properties {
    recorder: Option<Recorder>,
    bytes_per_sector: i32,
    starting_sectors_per_second: i32,
    ending_sectors_per_second: i32,
    use_streaming_write12: bool,
}

/// IWriteEngine2. All methods take `&self`, so one engine can be shared by the
/// thread that writes and the one that cancels.
#[derive(Debug)]
pub struct WriteEngine {
    config: EngineConfig,
    props: Mutex<Properties>,
    in_progress: AtomicBool,
    /// The stop signal of the running (or last) WriteSection: CancelWrite fires it.
    cancel: Mutex<CancelToken>,
    /// The writer thread is between its start and its exit.
    writer: WriterState,
    ring: Mutex<Option<Arc<Ring>>>,
}

/// Whether the writer thread runs, and a wait for it to stop.
#[derive(Debug, Default)]
struct WriterState {
    active: Mutex<bool>,
    stopped: Condvar,
}

impl WriterState {
    fn set(&self, active: bool) {
        *lock(&self.active) = active;
        if !active {
            self.stopped.notify_all();
        }
    }

    /// Waits up to `limit` for the writer to stop.
    fn wait_stopped(&self, limit: Duration) {
        let active = lock(&self.active);
        let _ = self
            .stopped
            .wait_timeout_while(active, limit, |a| *a)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

/// Marks the writer stopped however its thread ends.
struct WriterRunning<'a>(&'a WriterState);

impl Drop for WriterRunning<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

/// How long CancelWrite waits for the writer to stop (a WRITE in flight finishes first).
pub const CANCEL_WAIT: Duration = Duration::from_millis(500);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Clears WriteInProgress when WriteSection returns, however it returns.
struct InProgress<'a>(&'a WriteEngine);

impl Drop for InProgress<'_> {
    fn drop(&mut self) {
        *lock(&self.0.ring) = None;
        self.0.in_progress.store(false, Ordering::Release);
    }
}

impl Default for WriteEngine {
    fn default() -> Self {
        WriteEngine::new(EngineConfig::default())
    }
}

impl WriteEngine {
    /// An engine with IMAPI's defaults: no recorder, BytesPerSector -1, both
    /// rates -1, WRITE(10).
    pub fn new(config: EngineConfig) -> Self {
        let config = EngineConfig {
            buffer_bytes: config.buffer_bytes.clamp(1, MAX_BUFFER_BYTES),
            ..config
        };
        WriteEngine {
            config,
            props: Mutex::new(Properties {
                recorder: None,
                bytes_per_sector: -1,
                starting_sectors_per_second: -1,
                ending_sectors_per_second: -1,
                use_streaming_write12: false,
            }),
            in_progress: AtomicBool::new(false),
            cancel: Mutex::new(CancelToken::new()),
            writer: WriterState::default(),
            ring: Mutex::new(None),
        }
    }

    fn put(&self, f: impl FnOnce(&mut Properties)) -> Result<(), HResult> {
        if self.write_in_progress() {
            return Err(HResult::E_IMAPI_DF2DATA_WRITE_IN_PROGRESS);
        }
        f(&mut lock(&self.props));
        Ok(())
    }

    /// Recorder.
    pub fn recorder(&self) -> Option<Recorder> {
        lock(&self.props).recorder.clone()
    }

    /// put_Recorder.
    pub fn put_recorder(&self, recorder: Recorder) -> Result<(), HResult> {
        self.put(|p| p.recorder = Some(recorder))
    }

    /// BytesPerSector (-1 until put).
    pub fn bytes_per_sector(&self) -> i32 {
        lock(&self.props).bytes_per_sector
    }

    /// put_BytesPerSector: 1..=i32::MAX, else E_INVALIDARG.
    pub fn put_bytes_per_sector(&self, value: i32) -> Result<(), HResult> {
        if value < 1 {
            return Err(HResult::E_INVALIDARG);
        }
        self.put(|p| p.bytes_per_sector = value)
    }

    /// StartingSectorsPerSecond (-1 = maximum).
    pub fn starting_sectors_per_second(&self) -> i32 {
        lock(&self.props).starting_sectors_per_second
    }

    /// put_StartingSectorsPerSecond: -1 or a positive rate, else E_INVALIDARG.
    pub fn put_starting_sectors_per_second(&self, value: i32) -> Result<(), HResult> {
        check_rate("StartingSectorsPerSecond", value).map_err(|e| e.hresult)?;
        self.put(|p| p.starting_sectors_per_second = value)
    }

    /// EndingSectorsPerSecond (-1 = maximum).
    pub fn ending_sectors_per_second(&self) -> i32 {
        lock(&self.props).ending_sectors_per_second
    }

    /// put_EndingSectorsPerSecond: -1 or a positive rate, else E_INVALIDARG.
    pub fn put_ending_sectors_per_second(&self, value: i32) -> Result<(), HResult> {
        check_rate("EndingSectorsPerSecond", value).map_err(|e| e.hresult)?;
        self.put(|p| p.ending_sectors_per_second = value)
    }

    /// Puts BytesPerSector, both rate hints and UseStreamingWrite12 at once,
    /// each checked as its own put checks it.
    pub fn put_properties(&self, p: &WriteProperties) -> Result<(), EngineError> {
        let refused = |name: &'static str, value: i32| {
            move |h: HResult| EngineError::new(h, format!("{name} {value} was refused"))
        };
        self.put_bytes_per_sector(p.bytes_per_sector)
            .map_err(refused("bytesPerSector", p.bytes_per_sector))?;
        self.put_starting_sectors_per_second(p.starting_sectors_per_second)
            .map_err(refused(
                "startingSectorsPerSecond",
                p.starting_sectors_per_second,
            ))?;
        self.put_ending_sectors_per_second(p.ending_sectors_per_second)
            .map_err(refused(
                "endingSectorsPerSecond",
                p.ending_sectors_per_second,
            ))?;
        self.put_use_streaming_write12(p.use_streaming_write12)
            .map_err(|h| EngineError::new(h, "useStreamingWrite12 was refused"))
    }

    /// UseStreamingWrite12.
    pub fn use_streaming_write12(&self) -> bool {
        lock(&self.props).use_streaming_write12
    }

    /// put_UseStreamingWrite12 (webburn accepts TRUE, unlike Windows).
    pub fn put_use_streaming_write12(&self, value: bool) -> Result<(), HResult> {
        self.put(|p| p.use_streaming_write12 = value)
    }

    /// WriteInProgress.
    pub fn write_in_progress(&self) -> bool {
        self.in_progress.load(Ordering::Acquire)
    }

    /// The engine's buffer and timeout settings.
    pub fn config(&self) -> EngineConfig {
        self.config
    }

    /// True once the running WriteSection has begun to stop (a failure or a
    /// cancel): a data source blocked waiting for input may give up.
    pub fn stopping(&self) -> bool {
        lock(&self.cancel).is_stopped()
    }

    /// CancelWrite: S_OK if a WriteSection was running (it stops before its next
    /// WRITE and returns E_IMAPI_REQUEST_CANCELLED), S_IMAPI_WRITE_NOT_IN_PROGRESS
    /// if none was. Callable from any thread, including inside an Update callback.
    ///
    /// Returns once the writer thread has stopped (a WRITE already in flight
    /// completes first), or after [`CANCEL_WAIT`] if that WRITE is slower: in
    /// the normal case no WRITE starts after CancelWrite returns.
    pub fn cancel_write(&self) -> HResult {
        if !self.write_in_progress() {
            return HResult::S_IMAPI_WRITE_NOT_IN_PROGRESS;
        }
        lock(&self.cancel).cancel();
        self.writer.wait_stopped(CANCEL_WAIT);
        HResult::S_OK
    }

    /// Checks WriteSection's arguments against the current properties, as
    /// WriteSection does before it touches the device, without writing.
    pub fn check_section(
        &self,
        source_len: Option<u64>,
        start_lba: i32,
        sector_count: i32,
    ) -> Result<Section, EngineError> {
        validate(&lock(&self.props), source_len, start_lba, sector_count)
    }

    /// Holds `section` against the loaded medium (lowest address, last
    /// writable sector, sector size), as WriteSection does before its first
    /// WRITE: lets a caller refuse a write before it takes any data.
    pub fn check_medium(&self, section: Section) -> Result<Medium, EngineError> {
        let recorder = lock(&self.props).recorder.clone().ok_or_else(|| {
            EngineError::new(HResult::E_IMAPI_RECORDER_REQUIRED, "no recorder was put")
        })?;
        let mut guard = recorder.try_acquire().map_err(|h| {
            EngineError::new(h, format!("{} is in use by another writer", recorder.id()))
        })?;
        not_in_use(&recorder)?;
        admit(&mut **guard, section)
    }

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
    /// (and fires it, as a failure, when the write fails, so whoever feeds
    /// the source stops waiting). CancelWrite fires the same token.
    pub fn write_section_until<R: Read + Send>(
        &self,
        source: R,
        source_len: Option<u64>,
        start_lba: i32,
        sector_count: i32,
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
        // Nothing is written to a disk the system uses, and no address
        // outside the medium ever reaches the device.
        not_in_use(recorder)?;
        admit(transport, section)?;
        let unit_sectors = self.unit_sectors(&*transport, bps, props.use_streaming_write12)?;
        let ring = Arc::new(Ring::new(
            self.config.buffer_bytes,
            block_bytes(unit_sectors * bps_bytes, self.config.buffer_bytes),
        ));
        *lock(&self.ring) = Some(Arc::clone(&ring));
        {
            let ring = Arc::clone(&ring);
            cancel.on_stop(move || ring.abort());
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

/// E_IMAPI_RECORDER_LOCKED, naming the mount point, for a disk the system uses.
fn not_in_use(recorder: &Recorder) -> Result<(), EngineError> {
    recorder
        .check_not_in_use()
        .map_err(|e| EngineError::new(e.hresult(), e.to_string()))
}

/// Asks the drive what is loaded and holds `section` against it.
fn admit(t: &mut dyn ScsiTransport, section: Section) -> Result<Medium, EngineError> {
    let medium = medium::probe(t)?;
    medium.room.admit(section)?;
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
    fn defaults_follow_imapi() {
        let e = WriteEngine::default();
        assert!(e.recorder().is_none());
        assert_eq!(e.bytes_per_sector(), -1);
        assert_eq!(e.starting_sectors_per_second(), -1);
        assert_eq!(e.ending_sectors_per_second(), -1);
        assert!(!e.use_streaming_write12());
        assert!(!e.write_in_progress());
        assert_eq!(e.cancel_write(), HResult::S_IMAPI_WRITE_NOT_IN_PROGRESS);
    }

    #[test]
    fn puts_validate() {
        let e = WriteEngine::default();
        assert_eq!(e.put_bytes_per_sector(0), Err(HResult::E_INVALIDARG));
        assert_eq!(e.put_bytes_per_sector(-1), Err(HResult::E_INVALIDARG));
        assert_eq!(e.put_bytes_per_sector(2352), Ok(()));
        assert_eq!(e.bytes_per_sector(), 2352);
        assert_eq!(
            e.put_starting_sectors_per_second(0),
            Err(HResult::E_INVALIDARG)
        );
        assert_eq!(
            e.put_ending_sectors_per_second(-5),
            Err(HResult::E_INVALIDARG)
        );
        assert_eq!(e.put_starting_sectors_per_second(3000), Ok(()));
        assert_eq!(e.put_ending_sectors_per_second(-1), Ok(()));
        assert_eq!(e.starting_sectors_per_second(), 3000);
        assert_eq!(e.put_use_streaming_write12(true), Ok(()));
        assert!(e.use_streaming_write12());
    }

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
