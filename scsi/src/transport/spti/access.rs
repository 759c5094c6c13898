//! Taking a Windows device for this process alone before the first WRITE,
//! and giving it back when the transport is dropped: an optical drive's
//! exclusive-access lock (`IOCTL_CDROM_EXCLUSIVE_ACCESS`, ntddcdrm.h), or a
//! disk's mounted volumes locked (`FSCTL_LOCK_VOLUME`, retried while other
//! programs close their files) and dismounted (`FSCTL_DISMOUNT_VOLUME`), so
//! Windows neither reads nor caches them during a raw write (as Rufus and
//! Etcher do).

use std::fs::{File, OpenOptions};
use std::os::windows::fs::OpenOptionsExt;
use std::time::Duration;

use windows_sys::Win32::Devices::Cdrom::{
    CDROM_EXCLUSIVE_ACCESS, CDROM_EXCLUSIVE_LOCK, ExclusiveAccessLockDevice,
    ExclusiveAccessUnlockDevice, IOCTL_CDROM_EXCLUSIVE_ACCESS,
};
use windows_sys::Win32::Foundation::{ERROR_INVALID_FUNCTION, ERROR_NOT_SUPPORTED};
use windows_sys::Win32::Storage::FileSystem::{
    FILE_SHARE_READ, FILE_SHARE_WRITE, GetLogicalDrives, IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS,
};
use windows_sys::Win32::System::Ioctl::{
    DISK_EXTENT, FSCTL_ALLOW_EXTENDED_DASD_IO, FSCTL_DISMOUNT_VOLUME, FSCTL_LOCK_VOLUME,
    FSCTL_UNLOCK_VOLUME,
};

use super::ioctl_plain;

/// The name Windows shows for the holder of an optical drive's lock.
pub const CALLER_NAME: &str = "webburn helper";

/// How often, and how far apart, a volume lock is asked for while other
/// programs (Explorer, an antivirus) still have files open on it.
const LOCK_TRIES: u32 = 20;
const LOCK_PAUSE: Duration = Duration::from_millis(100);

/// The lock request's caller name: letters, digits, space and `.,:;-_`
/// only, zero-padded to 64 bytes.
pub fn caller_name(name: &str) -> [u8; 64] {
    let mut out = [0u8; 64];
    let allowed = |c: &u8| c.is_ascii_alphanumeric() || b" .,:;-_".contains(c);
    for (slot, c) in out.iter_mut().zip(name.bytes().filter(allowed).take(63)) {
        *slot = c;
    }
    out
}

/// Whether the drive's exclusive lock was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpticalLock {
    /// This process holds it until [`unlock_optical`].
    Held,
    /// The driver has no such lock (not a CD-ROM class device, or Wine):
    /// the write goes on without it.
    Unsupported,
}

/// Asks the CD-ROM class driver for the drive alone. Access denied means
/// another program (Windows' own burning, a player) holds it.
pub fn lock_optical(file: &File) -> std::io::Result<OpticalLock> {
    let request = CDROM_EXCLUSIVE_LOCK {
        Access: CDROM_EXCLUSIVE_ACCESS {
            RequestType: ExclusiveAccessLockDevice,
            Flags: 0,
        },
        CallerName: caller_name(CALLER_NAME),
    };
    match ioctl_plain::<_, u8>(file, IOCTL_CDROM_EXCLUSIVE_ACCESS, Some(&request), None) {
        Ok(_) => Ok(OpticalLock::Held),
        Err(e) if unsupported(&e) => Ok(OpticalLock::Unsupported),
        Err(e) => Err(e),
    }
}

/// Gives the drive's lock back.
pub fn unlock_optical(file: &File) {
    let request = CDROM_EXCLUSIVE_ACCESS {
        RequestType: ExclusiveAccessUnlockDevice,
        Flags: 0,
    };
    if let Err(e) = ioctl_plain::<_, u8>(file, IOCTL_CDROM_EXCLUSIVE_ACCESS, Some(&request), None) {
        tracing::warn!("the optical drive's lock was not given back: {e}");
    }
}

fn unsupported(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error().and_then(|c| u32::try_from(c).ok()),
        Some(ERROR_INVALID_FUNCTION | ERROR_NOT_SUPPORTED)
    )
}

/// The drive letters of the system now (`GetLogicalDrives`).
pub fn drive_letters() -> Vec<char> {
    #[allow(unsafe_code)]
    // SAFETY: takes no arguments and returns a bit mask.
    let mask = unsafe { GetLogicalDrives() };
    (b'A'..=b'Z')
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, c)| char::from(c))
        .collect()
}

fn open_volume(letter: char, write: bool) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(write)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE)
        .open(format!(r"\\.\{letter}:"))
}

/// `VOLUME_DISK_EXTENTS` with room for 8 extents (a volume spanning more
/// disks is not on a stick).
#[repr(C)]
#[derive(Clone, Copy)]
struct Extents {
    count: u32,
    extents: [DISK_EXTENT; 8],
}

/// The disks (PhysicalDrive numbers) a volume lies on.
fn disks_of_volume(letter: char) -> Vec<u32> {
    let Ok(volume) = open_volume(letter, false) else {
        return Vec::new();
    };
    let mut out = Extents {
        count: 0,
        extents: [DISK_EXTENT {
            DiskNumber: 0,
            StartingOffset: 0,
            ExtentLength: 0,
        }; 8],
    };
    if ioctl_plain::<u8, _>(
        &volume,
        IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS,
        None,
        Some(&mut out),
    )
    .is_err()
    {
        return Vec::new();
    }
    out.extents
        .iter()
        .take(out.count as usize)
        .map(|e| e.DiskNumber)
        .collect()
}

/// The drive letters of the volumes on disk `number`.
pub fn volumes_on_disk(number: u32) -> Vec<char> {
    drive_letters()
        .into_iter()
        .filter(|&l| disks_of_volume(l).contains(&number))
        .collect()
}

/// The drive letter Windows runs from (`%SystemDrive%`, normally C).
pub fn system_drive() -> Option<char> {
    std::env::var("SystemDrive")
        .ok()
        .and_then(|s| s.chars().next())
        .map(|c| c.to_ascii_uppercase())
}

/// A volume locked and dismounted for a raw write; unlocked when dropped.
#[derive(Debug)]
pub struct VolumeLock {
    volume: File,
    letter: char,
}

impl VolumeLock {
    /// Locks volume `letter` (retrying while its files close) and dismounts
    /// it. The error names the volume.
    pub fn take(letter: char) -> std::io::Result<VolumeLock> {
        let volume = open_volume(letter, true)?;
        let mut tries = 0;
        loop {
            match ioctl_plain::<u8, u8>(&volume, FSCTL_LOCK_VOLUME, None, None) {
                Ok(_) => break,
                Err(e) if tries + 1 < LOCK_TRIES => {
                    tracing::debug!("{letter}: is busy ({e}); asking again");
                    tries += 1;
                    std::thread::sleep(LOCK_PAUSE);
                }
                Err(e) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::ResourceBusy,
                        format!("{letter}: stays in use by another program (close its files): {e}"),
                    ));
                }
            }
        }
        // Locked, the volume is this process's alone; dismounting drops what
        // Windows cached of its file system. A volume with none to dismount
        // (raw, or Wine's, which answers "invalid parameter") stays locked.
        if let Err(e) = ioctl_plain::<u8, u8>(&volume, FSCTL_DISMOUNT_VOLUME, None, None) {
            tracing::warn!("{letter}: locked but not dismounted: {e}");
        }
        // Lets the raw writes reach the volume's last sectors too.
        let _ = ioctl_plain::<u8, u8>(&volume, FSCTL_ALLOW_EXTENDED_DASD_IO, None, None);
        Ok(VolumeLock { volume, letter })
    }
}

impl Drop for VolumeLock {
    fn drop(&mut self) {
        if let Err(e) = ioctl_plain::<u8, u8>(&self.volume, FSCTL_UNLOCK_VOLUME, None, None) {
            tracing::warn!("{}: not unlocked: {e}", self.letter);
        }
    }
}
