//! webburn's write engine, above the SCSI layer (`webburn-scsi`) and below
//! the helper's server and command line:
//! - [`devices`]: recorders, one driver per device path, naming, opening,
//!   exclusive use and identity;
//! - the crate root: IWriteEngine2's properties, WriteSection and CancelWrite;
//! - [`disc`]: the DiscFormat2Data and DiscFormat2Erase flows around
//!   WriteSection (medium check, speed, simulation, closing, verify, eject);
//! - [`burn`]: one burn as the session and the command line run it;
//! - [`cancel`]: the one stop signal every part of a write waits on.
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

pub mod burn;
pub mod cancel;
pub mod devices;
// The disc flow's casts (seconds, verify block arithmetic on a section's
// i32/u32 bounds) predate this crate's cast lints and are not yet rewritten
// as checked conversions; the LBAs it sends go through `i32::try_from`.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]
pub mod disc;
pub mod error;
pub mod medium;
mod progress;
pub mod ring;
mod write_section;
mod writer;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use webburn_shared::protocol::WriteProperties;
use webburn_shared::section::{Section, check_rate};
use webburn_shared::{HResult, MediumKind};

pub use error::EngineError;
pub use medium::Medium;
use write_section::{admit, not_in_use};

use crate::cancel::CancelToken;
use crate::devices::Recorder;
use webburn_scsi::transport::{DEFAULT_MAX_TRANSFER, DISK_MAX_TRANSFER};

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
            command_timeout: webburn_scsi::WRITE_TIMEOUT,
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
        // Hooks run without the engine's lock held.
        let token = lock(&self.cancel).clone();
        token.cancel();
        self.writer.wait_stopped(CANCEL_WAIT);
        HResult::S_OK
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
        not_in_use(&recorder, &mut **guard)?;
        admit(&mut **guard, section)
    }
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
}
