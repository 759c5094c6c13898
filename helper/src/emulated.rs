//! The emulated MMC recorder: an image file that answers SCSI commands like a
//! drive, so the real write loop runs without hardware.
//!
//! Data lands in the file at LBA x 2048. On sequential media (DVD+R, BD-R) the
//! file's length is what is recorded: an empty or missing file is a blank disc
//! and the next writable address is the file length in sectors; a closed
//! session is remembered by an empty `IMAGE.closed` file beside it, an open
//! tray (after an eject) by `IMAGE.ejected`. A removable disk is random
//! access within its capacity. With `changer=on` the drive is an autoloader:
//! ejecting a written disc moves it to `IMAGE.1`, `IMAGE.2`, ... and loads a
//! blank one.

pub mod drive_buffer;
mod interpreter;
#[cfg(test)]
mod interpreter_tests;
pub mod spec;
pub mod usb_stick;

use std::fs::{File, OpenOptions};
use std::io;

pub use drive_buffer::DriveBuffer;
pub use spec::{EmulatedSpec, Faults, Medium, UnderrunMode};

use crate::sense::Sense;

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
    /// The session was closed (finalized).
    closed: bool,
    /// A rewritable disc was formatted (FORMAT UNIT), also after a reopen.
    formatted: bool,
    /// FORMAT UNITs still to fail (a fault).
    format_errors_left: u32,
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

impl EmulatedRecorder {
    /// Closes the session for good: no more writes, also after a reopen.
    fn close_session(&mut self) -> io::Result<()> {
        File::create(marker(&self.spec.path, "closed"))?;
        self.closed = true;
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
        for state in ["closed", "formatted"] {
            let path = marker(&self.spec.path, state);
            if path.exists() {
                std::fs::remove_file(path)?;
            }
        }
        self.recorded = 0;
        self.closed = false;
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
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&spec.path)
            .map_err(io_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(OpenError::Locked(spec.path.display().to_string()));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_err(e)),
        }
        let len = file.metadata().map_err(io_err)?.len();
        let recorded = len.div_ceil(u64::from(spec::BLOCK_SIZE));
        let recorded = u32::try_from(recorded)
            .unwrap_or(u32::MAX)
            .min(spec.capacity);
        let closed = spec.medium.sequential() && marker(&spec.path, "closed").exists();
        let tray_open = marker(&spec.path, "ejected").exists();
        let formatted = spec.medium.formattable() && marker(&spec.path, "formatted").exists();
        Ok(EmulatedRecorder {
            formatted,
            format_errors_left: spec.faults.format_errors,
            buffer: DriveBuffer::new(spec.drive_buffer, spec.speed),
            busy_left: spec.faults.busy.map_or(0, |(n, _)| n),
            spec,
            file,
            recorded,
            closed,
            removed: false,
            tray_open,
            test_write: false,
            test_next: 0,
            gone: false,
            stall_done: false,
            last_sense: None,
        })
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
