//! The process-wide state a running helper keeps, below the server, the
//! sessions, the tray and the command line that share it: the recorder
//! registry (who holds which recorder), the pairing store, a kiosk's
//! history, the activity the tray shows, and the local certificate
//! authority of the https/wss listener.

pub mod activity;
pub mod device_approvals;
pub mod history;
pub mod local_ca;
pub mod pairing_store;
pub mod registry;

use std::fs::{File, OpenOptions};
use std::path::Path;

/// Writes a file only the user can read (mode 0600 on Unix).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f: File = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
