//! The data directory and its files are the account's alone: the pairing
//! tokens, the certificate authority's key, the own-page link, a kiosk's
//! history. Another account on the computer can neither read them nor, by
//! holding a lock or planting a file, steer or stop the helper.
//!
//! On Unix the directory is mode 0700 and owned by the account that runs
//! the helper (one owned by anyone else is refused; a symbolic link is
//! refused), and every file is created 0600 without following a link
//! (`O_NOFOLLOW`). On Windows the directory is the user's local (not
//! roaming) application data, which only that user and the system may open.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Why the data directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// No place for it: no home directory and none given.
    #[error(
        "no data directory: this account has no home directory; give one with --data-dir or WEBBURN_DATA_DIR"
    )]
    Nowhere,
    /// It exists but is not this account's.
    #[error(
        "the data directory {path} belongs to another account ({owner}): the helper keeps its pairings and keys only where no one else can change them"
    )]
    NotOurs {
        /// The directory.
        path: PathBuf,
        /// Who owns it.
        owner: String,
    },
    /// A symbolic link or something other than a directory.
    #[error("the data directory {0} is not a directory (a link or a file)")]
    NotADirectory(PathBuf),
    /// Creating or checking it failed.
    #[error("the data directory {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
}

/// The per-user data directory: `$WEBBURN_DATA_DIR`, else the platform's
/// local data directory + `webburn` (`~/.local/share/webburn`,
/// `%LOCALAPPDATA%\webburn`). Never a shared folder such as `/tmp`.
pub fn default_dir() -> Result<PathBuf, DataDirError> {
    if let Some(dir) = std::env::var_os("WEBBURN_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::data_local_dir()
        .map(|d| d.join("webburn"))
        .ok_or(DataDirError::Nowhere)
}

/// Makes `dir` if it is missing (0700) and checks that it is a directory
/// of this account's; tightens its mode to 0700 if it was looser.
pub fn prepare(dir: &Path) -> Result<(), DataDirError> {
    let io = |source| DataDirError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(e)),
    }
    let meta = std::fs::symlink_metadata(dir).map_err(io)?;
    if !meta.is_dir() {
        return Err(DataDirError::NotADirectory(dir.to_path_buf()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let ours = match crate::account::current() {
            Some(crate::account::Account::Uid(me)) => meta.uid() == me,
            _ => true,
        };
        if !ours {
            return Err(DataDirError::NotOurs {
                path: dir.to_path_buf(),
                owner: format!("uid {}", meta.uid()),
            });
        }
        if meta.mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        }
    }
    Ok(())
}

/// Options that create a private file: 0600, never through a link.
fn private_options() -> OpenOptions {
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600).custom_flags(nofollow());
    }
    o
}

#[cfg(target_os = "linux")]
fn nofollow() -> i32 {
    libc::O_NOFOLLOW
}

#[cfg(all(unix, not(target_os = "linux")))]
fn nofollow() -> i32 {
    0
}

/// Writes `bytes` as the private file `path` (replacing it), durably.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = private_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    tighten(&f)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Writes `bytes` to a private temporary file beside `path`, then renames
/// it over `path`: a reader sees the old file or the new one, whole.
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Opens (creating) the private file `path` to read and write, e.g. a lock.
pub fn open(path: &Path) -> std::io::Result<File> {
    let f = private_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    tighten(&f)?;
    Ok(f)
}

/// Makes the private folder `path` (0700), e.g. the certificate authority's.
pub fn create_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// A file made before this rule (or by hand) loses what others could do.
#[cfg_attr(not(unix), allow(clippy::unnecessary_wraps))]
fn tighten(f: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if f.metadata()?.permissions().mode() & 0o077 != 0 {
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = f;
    Ok(())
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().mode() & 0o777
    }

    #[test]
    fn the_directory_and_its_files_are_the_accounts_alone() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("webburn");
        prepare(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        // A looser mode is tightened; the files are 0600 however umask stands.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        prepare(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        write(&dir.join("a.json"), b"{}").unwrap();
        assert_eq!(mode(&dir.join("a.json")), 0o600);
        std::fs::write(dir.join("old.lock"), b"").unwrap();
        std::fs::set_permissions(dir.join("old.lock"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        open(&dir.join("old.lock")).unwrap();
        assert_eq!(mode(&dir.join("old.lock")), 0o600);
        create_dir(&dir.join("tls")).unwrap();
        assert_eq!(mode(&dir.join("tls")), 0o700);
    }

    #[test]
    fn links_are_not_followed() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("webburn");
        prepare(&dir).unwrap();
        // Someone plants a link where a private file goes.
        let target = root.path().join("elsewhere");
        std::fs::write(&target, b"theirs").unwrap();
        std::os::unix::fs::symlink(&target, dir.join("pairing.json")).unwrap();
        assert!(write(&dir.join("pairing.json"), b"mine").is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"theirs");
        // A data directory that is a link is refused.
        let link = root.path().join("linked");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert!(matches!(
            prepare(&link),
            Err(DataDirError::NotADirectory(_))
        ));
    }

    #[test]
    fn a_directory_of_another_account_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("theirs");
        prepare(&dir).unwrap();
        // Tests run as root here: hand the folder to nobody (65534).
        let me = std::fs::metadata(&dir).unwrap().uid();
        if me != 0 {
            // Only root can give a folder away; as anyone else, check the
            // rule against a folder root owns instead.
            assert!(matches!(
                prepare(Path::new("/")),
                Err(DataDirError::NotOurs { .. })
            ));
            return;
        }
        let chown = std::process::Command::new("chown")
            .arg("65534:65534")
            .arg(&dir)
            .status()
            .unwrap();
        assert!(chown.success());
        let e = prepare(&dir).unwrap_err();
        assert!(matches!(e, DataDirError::NotOurs { .. }), "{e}");
        assert!(e.to_string().contains("uid 65534"), "{e}");
    }
}
