//! The devices Windows offers for pass-through: optical drives by their
//! drive letters (`GetDriveTypeW` = DRIVE_CDROM) and removable disks (USB
//! sticks, card readers) among `\\.\PhysicalDrive0..15`, told by their
//! storage device descriptor (removable medium, or a USB/SD/MMC bus).

use std::fs::OpenOptions;
use std::os::windows::fs::OpenOptionsExt;

use windows_sys::Win32::Storage::FileSystem::{
    BusTypeMmc, BusTypeSd, BusTypeUsb, FILE_SHARE_READ, FILE_SHARE_WRITE, GetDriveTypeW,
};
use windows_sys::Win32::System::Ioctl::{STORAGE_DEVICE_DESCRIPTOR, StorageDeviceProperty};
use windows_sys::Win32::System::WindowsProgramming::DRIVE_CDROM;

use super::{access, query_property};

/// How many PhysicalDrive numbers are looked at.
const MAX_DISKS: u32 = 16;

/// A device found, as the part of its recorder id after `spti:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SptiDevice {
    /// `D:` or `PhysicalDrive1`.
    pub name: String,
    /// An optical drive (else a removable disk).
    pub optical: bool,
}

/// `text` as a NUL-terminated UTF-16 string.
pub fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

/// Whether drive `letter` is an optical drive (DRIVE_CDROM).
pub fn is_optical(letter: char) -> bool {
    let root = wide(&format!("{letter}:\\"));
    #[allow(unsafe_code)]
    // SAFETY: `root` is a NUL-terminated UTF-16 string alive for the call.
    let kind = unsafe { GetDriveTypeW(root.as_ptr()) };
    kind == DRIVE_CDROM
}

/// Whether `\\.\PhysicalDriveN` is a removable disk. Opened with no access
/// rights, which the property query needs none of (and which needs no
/// administrator).
fn is_removable_disk(number: u32) -> bool {
    let Ok(disk) = OpenOptions::new()
        .access_mode(0)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE)
        .open(format!(r"\\.\PhysicalDrive{number}"))
    else {
        return false;
    };
    let mut d = STORAGE_DEVICE_DESCRIPTOR {
        Version: 0,
        Size: 0,
        DeviceType: 0,
        DeviceTypeModifier: 0,
        RemovableMedia: false,
        CommandQueueing: false,
        VendorIdOffset: 0,
        ProductIdOffset: 0,
        ProductRevisionOffset: 0,
        SerialNumberOffset: 0,
        BusType: 0,
        RawPropertiesLength: 0,
        RawDeviceProperties: [0],
    };
    match query_property(&disk, StorageDeviceProperty, &mut d) {
        // BusType sits at offset 28: the answer must reach it.
        Ok(bytes) if bytes >= 32 => {
            d.RemovableMedia || [BusTypeUsb, BusTypeSd, BusTypeMmc].contains(&d.BusType)
        }
        _ => false,
    }
}

/// The optical drives and removable disks Windows offers now.
pub fn list() -> Vec<SptiDevice> {
    let optical = access::drive_letters()
        .into_iter()
        .filter(|&l| is_optical(l))
        .map(|l| SptiDevice {
            name: format!("{l}:"),
            optical: true,
        });
    let disks = (0..MAX_DISKS)
        .filter(|&n| is_removable_disk(n))
        .map(|n| SptiDevice {
            name: format!("PhysicalDrive{n}"),
            optical: false,
        });
    optical.chain(disks).collect()
}
