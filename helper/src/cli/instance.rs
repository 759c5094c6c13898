//! One `serve` per data directory: the running helper holds an exclusive
//! lock on DATA_DIR/serve.lock, which names its pid and port; a second one
//! is refused with that, and `status` reads it.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use webburn_shared::HResult;

use super::CliError;

/// The running helper a lock file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Running {
    /// Its process id.
    pub pid: u32,
    /// Its port.
    pub port: u16,
}

/// The lock `serve` holds while it runs (released when it exits, however).
#[derive(Debug)]
pub(super) struct Instance {
    file: File,
}

fn lock_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("serve.lock")
}

fn read(file: &mut File) -> Option<Running> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    let mut words = text.split_whitespace();
    Some(Running {
        pid: words.next()?.parse().ok()?,
        port: words.next()?.parse().ok()?,
    })
}

/// Takes the lock, or says which helper holds it.
pub(super) fn claim(data_dir: &Path) -> Result<Instance, CliError> {
    let fail = |e: std::io::Error| {
        CliError::new(
            HResult::E_FAIL,
            format!("{}: {e}", lock_path(data_dir).display()),
        )
    };
    let mut file = crate::state::private::open(&lock_path(data_dir)).map_err(fail)?;
    match file.try_lock() {
        Ok(()) => Ok(Instance { file }),
        Err(std::fs::TryLockError::WouldBlock) => {
            let what = read(&mut file).map_or_else(String::new, |r| {
                format!(" (pid {}, http://127.0.0.1:{}/)", r.pid, r.port)
            });
            Err(CliError::new(
                HResult::E_IMAPI_RECORDER_LOCKED,
                format!(
                    "a helper for {} is already running{what}; stop it first or use another --data-dir",
                    data_dir.display()
                ),
            ))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(fail(e)),
    }
}

impl Instance {
    /// Records this process and its port in the lock file.
    pub(super) fn announce(&mut self, port: u16) {
        let line = format!("{} {port}\n", std::process::id());
        let _ = self.file.set_len(0);
        let _ = self.file.seek(SeekFrom::Start(0));
        let _ = self.file.write_all(line.as_bytes());
        let _ = self.file.flush();
    }
}

/// The helper running for `data_dir`, if one holds the lock.
pub(super) fn running(data_dir: &Path) -> Option<Running> {
    let mut file = File::open(lock_path(data_dir)).ok()?;
    match file.try_lock_shared() {
        // Nobody holds it: no helper runs (the file is left from an earlier one).
        Ok(()) => None,
        Err(_) => read(&mut file),
    }
}
