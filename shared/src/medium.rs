//! What a recorder holds: the medium's kind, its MMC profile's name and the
//! sector size a write uses when nobody says, once for the helper, the CLI
//! and the page (through the wasm library's `profileName`).

use serde::{Deserialize, Serialize};

use crate::section::SectorSizes;

/// What kind of medium a recorder writes: an optical disc (MMC) or a disk
/// (SBC: a USB stick, a card reader, a hard disk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MediumKind {
    /// Optical media (peripheral device type 05h).
    #[default]
    Disc,
    /// A direct-access block device (peripheral device type 00h).
    Disk,
}

impl MediumKind {
    /// The kind of a device of INQUIRY peripheral device type `device_type`
    /// (SPC-4: 00h direct access block device, 05h CD/DVD device).
    pub fn of_device_type(device_type: u8) -> MediumKind {
        if device_type == 0 {
            MediumKind::Disk
        } else {
            MediumKind::Disc
        }
    }

    /// The sector size a write to this medium uses when nobody says: a
    /// disk's own block size (READ CAPACITY), 2048 for optical media (and
    /// when a disk does not report one).
    pub fn natural_sector_size(self, block_size: Option<u32>) -> u32 {
        match (self, block_size) {
            (MediumKind::Disk, Some(b)) if b > 0 => SectorSizes::Exactly(b).natural(),
            _ => SectorSizes::Dvd.natural(),
        }
    }
}

/// The name of an MMC profile (MMC-6, Table 91 "Profile List"), or `None`
/// for a number the table does not hold.
pub fn profile_name(profile: u16) -> Option<&'static str> {
    Some(match profile {
        0x01 => "Non-removable disk",
        0x02 => "Removable disk",
        0x08 => "CD-ROM",
        0x09 => "CD-R",
        0x0A => "CD-RW",
        0x10 => "DVD-ROM",
        0x11 => "DVD-R",
        0x12 => "DVD-RAM",
        0x13 => "DVD-RW restricted overwrite",
        0x14 => "DVD-RW sequential",
        0x15 => "DVD-R DL sequential",
        0x16 => "DVD-R DL jump",
        0x1A => "DVD+RW",
        0x1B => "DVD+R",
        0x2A => "DVD+RW DL",
        0x2B => "DVD+R DL",
        0x40 => "BD-ROM",
        0x41 => "BD-R",
        0x42 => "BD-R random recording",
        0x43 => "BD-RE",
        _ => return None,
    })
}

/// What to call a loaded medium in a message: its profile's name, `disk`
/// for a disk without GET CONFIGURATION (`None`), `medium` for a profile
/// the table does not hold.
pub fn medium_name(profile: Option<u16>) -> &'static str {
    profile
        .map_or(Some("disk"), profile_name)
        .unwrap_or("medium")
}

// How each kind of disc is written, by MMC profile (MMC-6 Table 91 and the
// features each profile reports): the one home of these rules for the
// helper, the command line and the page (the wasm library exports them).

/// Written only at the next writable address, in sessions a later burn can
/// add to: CD-R, CD-RW, DVD-R, DVD-RW sequential, DVD-R DL (sequential and
/// jump), DVD+R, DVD+R DL, BD-R (sequential recording), HD DVD-R.
pub fn is_sequential(profile: u16) -> bool {
    matches!(
        profile,
        0x09 | 0x0A | 0x11 | 0x14 | 0x15 | 0x16 | 0x1B | 0x2B | 0x41 | 0x51
    )
}

/// Rewritable and written anywhere once formatted, so a file system on it
/// grows in place: DVD-RAM, DVD-RW restricted overwrite, DVD+RW, DVD+RW DL,
/// BD-RE.
pub fn is_rewritable(profile: u16) -> bool {
    matches!(profile, 0x12 | 0x13 | 0x1A | 0x2A | 0x43)
}

/// Erased with BLANK (MMC-6 6.2): CD-RW, DVD-RW (restricted overwrite and
/// sequential).
pub fn is_blankable(profile: u16) -> bool {
    matches!(profile, 0x0A | 0x13 | 0x14)
}

/// Formatted with FORMAT UNIT before the first write (MMC-6 6.5): DVD+RW,
/// BD-RE.
pub fn is_formattable(profile: u16) -> bool {
    matches!(profile, 0x1A | 0x43)
}

/// Closing a session finalizes the disc unless the Write Parameters mode
/// page's Multi-session field asks for another (MMC-6 7.5.4.9): CD-R,
/// CD-RW, DVD-R, DVD-RW sequential, DVD-R DL. DVD+R and BD-R have close
/// functions of their own instead.
pub fn is_finalized_by_mode_page(profile: u16) -> bool {
    matches!(profile, 0x09 | 0x0A | 0x11 | 0x14 | 0x15 | 0x16)
}

/// Read back only: CD-ROM, DVD-ROM, BD-ROM, HD DVD-ROM, and magneto-optical
/// write-once.
pub fn is_read_only(profile: u16) -> bool {
    matches!(profile, 0x03 | 0x08 | 0x10 | 0x40 | 0x50)
}

/// IMAPI_MEDIA_PHYSICAL_TYPE of an MMC profile (IDiscFormat2's
/// CurrentPhysicalMediaType): 0 (unknown) for none or one IMAPI does not name.
pub fn physical_media_type(profile: Option<u16>) -> u32 {
    match profile {
        Some(0x08) => 1,
        Some(0x09) => 2,
        Some(0x0A) => 3,
        Some(0x10) => 4,
        Some(0x12) => 5,
        Some(0x1B) => 6,
        Some(0x1A) => 7,
        Some(0x2B) => 8,
        Some(0x11) => 9,
        Some(0x13 | 0x14) => 10,
        Some(0x15 | 0x16) => 11,
        Some(0x02) => 12,
        Some(0x2A) => 13,
        Some(0x40) => 17,
        Some(0x41 | 0x42) => 18,
        Some(0x43) => 19,
        _ => 0,
    }
}

/// [`profile_name`], or the number in hex (`0x50`) for one it does not know.
pub fn profile_label(profile: u16) -> String {
    profile_name(profile).map_or_else(|| format!("0x{profile:02X}"), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_profile_is_written_one_way() {
        for p in 0..=0xFFFF_u16 {
            let ways = [is_sequential(p), is_rewritable(p), is_read_only(p)]
                .iter()
                .filter(|w| **w)
                .count();
            assert!(ways <= 1, "profile {p:#x} is written {ways} ways");
            assert!(!is_formattable(p) || is_rewritable(p), "{p:#x}");
            assert!(
                !is_blankable(p) || is_rewritable(p) || is_sequential(p),
                "{p:#x}"
            );
        }
        assert!(is_sequential(0x51), "HD DVD-R takes sessions as DVD-R does");
        assert!(is_blankable(0x0A) && is_sequential(0x0A), "CD-RW");
        assert!(!is_sequential(0x43) && is_formattable(0x43), "BD-RE");
    }

    #[test]
    fn profiles_have_names_and_unknown_ones_a_number() {
        assert_eq!(profile_name(0x1B), Some("DVD+R"));
        assert_eq!(profile_name(0x41), Some("BD-R"));
        assert_eq!(profile_name(0x50), None);
        assert_eq!(profile_label(0x50), "0x50");
        assert_eq!(profile_label(0x02), "Removable disk");
        assert_eq!(medium_name(None), "disk");
        assert_eq!(medium_name(Some(0x50)), "medium");
    }

    #[test]
    fn physical_media_types_are_imapis() {
        // IMAPI_MEDIA_TYPE_CDRW, _DVDDASHRW, _DVDPLUSRW, _BDRE, _DISK, _UNKNOWN.
        assert_eq!(physical_media_type(Some(0x0A)), 3);
        assert_eq!(physical_media_type(Some(0x14)), 10);
        assert_eq!(physical_media_type(Some(0x1A)), 7);
        assert_eq!(physical_media_type(Some(0x43)), 19);
        assert_eq!(physical_media_type(Some(0x02)), 12);
        assert_eq!(physical_media_type(None), 0);
    }

    #[test]
    fn natural_sector_size_is_a_disks_own_else_2048() {
        assert_eq!(MediumKind::Disk.natural_sector_size(Some(512)), 512);
        assert_eq!(MediumKind::Disk.natural_sector_size(None), 2048);
        assert_eq!(MediumKind::Disc.natural_sector_size(Some(4096)), 2048);
        assert_eq!(MediumKind::of_device_type(0), MediumKind::Disk);
        assert_eq!(MediumKind::of_device_type(5), MediumKind::Disc);
    }
}
