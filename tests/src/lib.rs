//! Support for webburn's cross-crate tests: deterministic data, sources that
//! are slow or short, a transport wrapper that records every command, and a
//! one-call "burn this to that" harness.

pub mod browser;
pub mod child;
pub mod desktop;
pub mod https;
pub mod media;
pub mod packed;
pub mod readers;
pub mod reliability;
pub mod served;
pub mod xvfb;

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use webburn_emulated::{EmulatedRecorder, EmulatedSpec};
use webburn_engine::devices::Recorder;
use webburn_engine::{EngineConfig, EngineError, WriteEngine};
use webburn_scsi::Cdb;
use webburn_scsi::transport::{Completion, ScsiCommand, ScsiTransport, TransportError};
use webburn_shared::WriteEngineEventArgs;

/// A test's prerequisite (the built page, ChromeDriver, a desktop, the image
/// readers) is missing: the test fails, naming it. A test that did not run
/// is never reported as passed; `cargo xtask test` installs every one.
#[track_caller]
pub fn prerequisite_missing(what: &str) -> ! {
    panic!("missing prerequisite: {what} (cargo xtask test installs it)");
}

/// Where tests leave the screenshots the guides show: target/screenshots
/// (made if missing). `cargo xtask screenshots` copies them into
/// docs/screenshots, so a test run never changes tracked files.
pub fn screenshots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// `len` bytes of deterministic pseudo-random data (xorshift64*), different per seed.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// One command a [`Recording`] transport saw.
#[derive(Debug, Clone, Copy)]
pub struct Logged {
    /// When it was handed to the device.
    pub started: Instant,
    /// When the device answered.
    pub finished: Instant,
    /// The decoded CDB, if it decoded.
    pub cdb: Option<Cdb>,
    /// True if it completed with GOOD status.
    pub good: bool,
}

impl Logged {
    /// The LBA of a WRITE, if this was one.
    pub fn write_lba(&self) -> Option<i32> {
        match self.cdb {
            Some(Cdb::Write10 { lba, .. } | Cdb::Write12 { lba, .. }) => Some(lba),
            _ => None,
        }
    }
}

/// A transport wrapper that logs every command and passes it on.
#[derive(Debug)]
pub struct Recording<T> {
    inner: T,
    log: Arc<Mutex<Vec<Logged>>>,
}

impl<T: ScsiTransport> ScsiTransport for Recording<T> {
    fn execute(&mut self, command: ScsiCommand<'_>) -> Result<Completion, TransportError> {
        let started = Instant::now();
        let cdb = Cdb::decode(command.cdb).ok();
        let result = self.inner.execute(command);
        let good = matches!(&result, Ok(c) if c.sense.is_none());
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Logged {
                started,
                finished: Instant::now(),
                cdb,
                good,
            });
        result
    }

    fn max_transfer_bytes(&self) -> usize {
        self.inner.max_transfer_bytes()
    }

    fn take_for_writing(&mut self) -> Result<(), TransportError> {
        self.inner.take_for_writing()
    }
}

/// The commands a recording transport has seen so far.
#[derive(Debug, Clone)]
pub struct CommandLog(Arc<Mutex<Vec<Logged>>>);

impl CommandLog {
    /// Every command in order.
    pub fn all(&self) -> Vec<Logged> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Only the WRITEs.
    pub fn writes(&self) -> Vec<Logged> {
        self.all()
            .into_iter()
            .filter(|l| l.write_lba().is_some())
            .collect()
    }
}

/// Opens `emulated:{dir}/{name}{options}` wrapped in a recording transport.
pub fn emulated(dir: &Path, name: &str, options: &str) -> (Recorder, PathBuf, CommandLog) {
    let path = dir.join(name);
    let spec = EmulatedSpec::parse(&format!("emulated:{}{options}", path.display()))
        .unwrap_or_else(|e| panic!("bad spec in a test: {e}"));
    let rec = EmulatedRecorder::open(spec).unwrap_or_else(|e| panic!("cannot open: {e}"));
    let log = Arc::new(Mutex::new(Vec::new()));
    let transport = Recording {
        inner: rec,
        log: Arc::clone(&log),
    };
    (
        Recorder::from_transport(format!("emulated:{}", path.display()), Box::new(transport)),
        path,
        CommandLog(log),
    )
}

/// An engine with BytesPerSector 2048 and `recorder` put.
pub fn engine(recorder: &Recorder, config: EngineConfig) -> WriteEngine {
    let e = WriteEngine::new(config);
    e.put_recorder(recorder.clone())
        .unwrap_or_else(|h| panic!("put_recorder: {h}"));
    e.put_bytes_per_sector(2048)
        .unwrap_or_else(|h| panic!("put_bytes_per_sector: {h}"));
    e
}

/// An Update event and when it arrived.
pub type Event = (Instant, WriteEngineEventArgs);

/// Runs WriteSection over `source`, collecting every event.
pub fn write<R: Read + Send>(
    engine: &WriteEngine,
    source: R,
    len: Option<u64>,
    start_lba: i32,
    sectors: i32,
) -> (Result<(), EngineError>, Vec<Event>) {
    let mut events = Vec::new();
    let r = engine.write_section(source, len, start_lba, sectors, |a| {
        events.push((Instant::now(), *a));
    });
    (r, events)
}

/// [`write`], also sending each event's args to `watch` when it happens, so
/// a test waits for the write to reach a point instead of sleeping.
pub fn write_watched<R: Read + Send>(
    engine: &WriteEngine,
    source: R,
    len: Option<u64>,
    start_lba: i32,
    sectors: i32,
    watch: &std::sync::mpsc::Sender<WriteEngineEventArgs>,
) -> (Result<(), EngineError>, Vec<Event>) {
    let mut events = Vec::new();
    let r = engine.write_section(source, len, start_lba, sectors, |a| {
        events.push((Instant::now(), *a));
        let _ = watch.send(*a);
    });
    (r, events)
}

/// Waits for the first event `until` accepts; panics when the write ended
/// (its sender gone) first.
pub fn wait_for_event(
    events: &std::sync::mpsc::Receiver<WriteEngineEventArgs>,
    until: impl Fn(&WriteEngineEventArgs) -> bool,
) -> WriteEngineEventArgs {
    loop {
        match events.recv() {
            Ok(a) if until(&a) => return a,
            Ok(_) => {}
            Err(std::sync::mpsc::RecvError) => {
                panic!("the write ended before the event waited for")
            }
        }
    }
}

/// The image file's bytes.
pub fn image(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A source that hands out `chunk` bytes per read and sleeps `delay` before each.
#[derive(Debug)]
pub struct SlowReader {
    data: Vec<u8>,
    at: usize,
    chunk: usize,
    delay: Duration,
}

impl SlowReader {
    /// Serves `data` in `chunk`-byte reads, `delay` apart.
    pub fn new(data: Vec<u8>, chunk: usize, delay: Duration) -> Self {
        SlowReader {
            data,
            at: 0,
            chunk,
            delay,
        }
    }
}

impl Read for SlowReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at >= self.data.len() {
            return Ok(0);
        }
        std::thread::sleep(self.delay);
        let n = buf.len().min(self.chunk).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A source that fails after `ok` bytes.
#[derive(Debug)]
pub struct FailingReader {
    /// Bytes served before the failure.
    pub ok: usize,
}

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ok == 0 {
            return Err(io::Error::other("the disk holding the source went away"));
        }
        let n = buf.len().min(self.ok);
        buf[..n].fill(0xA5);
        self.ok -= n;
        Ok(n)
    }
}
