//! The emulated MMC recorder: an image file that answers SCSI commands like a
//! drive, so the real write loop runs without hardware.
//!
//! Data lands in the file at LBA x 2048. On sequential media (DVD+R, BD-R) the
//! file's length is what is recorded: an empty or missing file is a blank disc
//! and the next writable address is the file length in sectors; a closed
//! disc is remembered by an empty `IMAGE.closed` file beside it, the sessions
//! closed on an appendable disc by `IMAGE.sessions` (one `START END` line
//! each), an open tray (after an eject) by `IMAGE.ejected`. A removable disk is random
//! access within its capacity. With `changer=on` the drive is an autoloader:
//! ejecting a written disc moves it to `IMAGE.1`, `IMAGE.2`, ... and loads a
//! blank one.

pub mod drive_buffer;
mod interpreter;
#[cfg(test)]
mod interpreter_tests;
pub mod spec;
pub mod usb_stick;

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io;

pub use drive_buffer::DriveBuffer;
pub use spec::{EmulatedSpec, Faults, Medium, SpecError, UnderrunMode};

use webburn_scsi::sense::Sense;
use webburn_scsi::transport::DriverError;
use webburn_shared::HResult;

/// A file beside `image` that remembers a state: `closed`, `ejected`.
fn marker(image: &std::path::Path, state: &str) -> std::path::PathBuf {
    let mut name = image.as_os_str().to_owned();
    name.push(".");
    name.push(state);
    name.into()
}

/// An open emulated recorder.
#[derive(Debug)]
pub struct EmulatedRecorder {
    spec: EmulatedSpec,
    file: File,
    /// Sectors recorded on sequential media (the next writable address).
    recorded: u32,
    /// The disc was finalized: no more sessions.
    closed: bool,
    /// The sessions closed on a sequential disc: first LBA and end (exclusive).
    sessions: Vec<(u32, u32)>,
    /// The Write Parameters page's Multi-session field asks for a next
    /// session (11b): CLOSE SESSION then leaves a CD or DVD-R appendable.
    multi_session: bool,
    /// A rewritable disc was formatted (FORMAT UNIT), also after a reopen.
    formatted: bool,
    /// FORMAT UNITs still to fail (a fault).
    format_errors_left: u32,
    /// BLANKs still to fail (a fault).
    blank_errors_left: u32,
    /// A BLANK or FORMAT UNIT with Immed runs on its own.
    background: Option<Background>,
    /// The medium was removed by a fault.
    removed: bool,
    /// The tray is open (ejected and not loaded since).
    tray_open: bool,
    /// Test Write is on: WRITEs are checked and paced but not recorded.
    test_write: bool,
    /// The next writable address of a simulated track.
    test_next: u32,
    /// The device vanished by a fault.
    gone: bool,
    buffer: DriveBuffer,
    busy_left: u32,
    stall_done: bool,
    /// Sense of the last failed command, for REQUEST SENSE.
    last_sense: Option<Sense>,
}

/// A BLANK or FORMAT UNIT the drive runs on its own (Immed): when it
/// started, how long it takes, what commands get meanwhile (2/04/07 or
/// 2/04/04, with the progress added) and the deferred error it ends with,
/// if it fails.
#[derive(Debug, Clone, Copy)]
struct Background {
    started: std::time::Instant,
    length: std::time::Duration,
    in_progress: Sense,
    failure: Option<Sense>,
}

/// Why an emulated recorder cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Another writer holds the image.
    #[error("the image {0} is in use by another writer")]
    Locked(String),
    /// The image file cannot be opened or created.
    #[error("cannot open the image {path}: {source}")]
    Io {
        /// The image path.
        path: String,
        /// The OS error.
        source: io::Error,
    },
}

impl DriverError for OpenError {
    fn hresult(&self) -> HResult {
        match self {
            OpenError::Locked(_) => HResult::E_IMAPI_RECORDER_LOCKED,
            OpenError::Io { source, .. } => match source.kind() {
                io::ErrorKind::PermissionDenied => HResult::E_ACCESSDENIED,
                io::ErrorKind::ResourceBusy => HResult::E_IMAPI_RECORDER_LOCKED,
                _ => HResult::E_FAIL,
            },
        }
    }
}

/// Reads the `IMAGE.sessions` marker: one `START END` line per closed session.
fn read_sessions(image: &std::path::Path) -> Vec<(u32, u32)> {
    let text = std::fs::read_to_string(marker(image, "sessions")).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (a, b) = l.split_once(' ')?;
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
        })
        .collect()
}

impl EmulatedRecorder {
    /// Where the open session starts: after the last closed one and the
    /// gap its closing recorded, or at 0.
    fn open_session_start(&self) -> u32 {
        self.sessions.last().map_or(0, |&(_, end)| {
            let gap = self.spec.medium.session_gap(self.sessions.len() == 1);
            end.saturating_add(gap).min(self.spec.capacity)
        })
    }

    /// CLOSE SESSION: the open session's sectors become a closed session
    /// and the next one starts after the gap; with `finalize` the disc
    /// takes no more. An empty open session is not a session.
    fn close_session(&mut self, finalize: bool) -> io::Result<()> {
        let start = self.open_session_start();
        if self.recorded > start {
            self.sessions.push((start, self.recorded));
            let mut lines = String::new();
            for (a, b) in &self.sessions {
                let _ = writeln!(lines, "{a} {b}");
            }
            std::fs::write(marker(&self.spec.path, "sessions"), lines)?;
        }
        if finalize {
            File::create(marker(&self.spec.path, "closed"))?;
            self.closed = true;
        } else {
            self.recorded = self.recorded.max(self.open_session_start());
        }
        Ok(())
    }

    /// Formats a rewritable disc for good: remembered across opens.
    fn mark_formatted(&mut self) -> io::Result<()> {
        File::create(marker(&self.spec.path, "formatted"))?;
        self.formatted = true;
        Ok(())
    }

    /// Opens or closes the tray, remembered across opens like a real drive's tray.
    fn set_tray(&mut self, open: bool) -> io::Result<()> {
        let path = marker(&self.spec.path, "ejected");
        if open {
            File::create(path)?;
        } else if path.exists() {
            std::fs::remove_file(path)?;
        }
        self.tray_open = open;
        Ok(())
    }

    /// The autoloader's eject: the written disc goes to the output bin (the
    /// first free `IMAGE.N`), a blank one is loaded. Returns its path.
    fn change_disc(&mut self) -> io::Result<std::path::PathBuf> {
        let bin = (1..=u32::MAX)
            .map(|n| marker(&self.spec.path, &n.to_string()))
            .find(|p| !p.exists())
            .ok_or_else(|| io::Error::other("the output bin is full"))?;
        std::fs::copy(&self.spec.path, &bin)?;
        self.file.set_len(0)?;
        self.file.sync_all()?;
        self.reopen_blank()?;
        Ok(bin)
    }

    /// The disc in the drive is blank again (an empty image): nothing
    /// recorded, not closed, not formatted.
    fn reopen_blank(&mut self) -> io::Result<()> {
        for state in ["closed", "formatted", "sessions"] {
            let path = marker(&self.spec.path, state);
            if path.exists() {
                std::fs::remove_file(path)?;
            }
        }
        self.recorded = 0;
        self.closed = false;
        self.sessions.clear();
        self.formatted = false;
        Ok(())
    }

    /// Opens (creating if needed) and exclusively locks the image file.
    pub fn open(spec: EmulatedSpec) -> Result<Self, OpenError> {
        let io_err = |source| OpenError::Io {
            path: spec.path.display().to_string(),
            source,
        };
        if let Some(dir) = spec.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err)?;
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        // A medium holds someone's data: a new image is the account's alone.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&spec.path).map_err(io_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(OpenError::Locked(spec.path.display().to_string()));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_err(e)),
        }
        let len = file.metadata().map_err(io_err)?.len();
        let recorded = len.div_ceil(u64::from(spec.block_size));
        let recorded = u32::try_from(recorded)
            .unwrap_or(u32::MAX)
            .min(spec.capacity);
        let closed = spec.medium.sequential() && marker(&spec.path, "closed").exists();
        let sessions = if spec.medium.sequential() {
            read_sessions(&spec.path)
        } else {
            Vec::new()
        };
        let tray_open = marker(&spec.path, "ejected").exists();
        let formatted = spec.medium.formattable() && marker(&spec.path, "formatted").exists();
        let mut recorder = EmulatedRecorder {
            formatted,
            format_errors_left: spec.faults.format_errors,
            blank_errors_left: spec.faults.blank_errors,
            background: None,
            buffer: DriveBuffer::new(spec.drive_buffer, spec.speed),
            busy_left: spec.faults.busy.map_or(0, |(n, _)| n),
            spec,
            file,
            recorded,
            closed,
            sessions,
            multi_session: false,
            removed: false,
            tray_open,
            test_write: false,
            test_next: 0,
            gone: false,
            stall_done: false,
            last_sense: None,
        };
        if !recorder.closed {
            // An appendable disc is written next after its last session's gap.
            recorder.recorded = recorder.recorded.max(recorder.open_session_start());
        }
        Ok(recorder)
    }

    /// The spec this recorder was opened with.
    pub fn spec(&self) -> &EmulatedSpec {
        &self.spec
    }

    /// How often the drive buffer ran dry mid-track.
    pub fn underruns(&self) -> u64 {
        self.buffer.underruns()
    }
}
