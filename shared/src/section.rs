//! WriteSection's addresses as types that cannot hold a bad value, and the
//! rules both sides check before anything reaches a device.
//!
//! A [`Section`] is built only from arguments IMAPI accepts (a positive
//! sector count, a positive sector size, an end that fits a 32-bit LBA);
//! [`MediumRoom::admit`] then holds it against what the loaded medium can
//! take: its lowest address, its last writable sector and its sector sizes.

use crate::HResult;

/// Why a section is refused, with the HRESULT it is refused with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionError {
    /// E_INVALIDARG or E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA.
    pub hresult: HResult,
    /// What exactly is wrong, for people.
    pub detail: String,
}

impl std::fmt::Display for SectionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for SectionError {}

impl SectionError {
    /// E_INVALIDARG with `detail`.
    pub fn invalid(detail: impl Into<String>) -> SectionError {
        SectionError {
            hresult: HResult::E_INVALIDARG,
            detail: detail.into(),
        }
    }
}

/// One WriteSection: `count` sectors of `bytes_per_sector` bytes from `start`.
///
/// Its fields are private: every `Section` has a count in `1..=i32::MAX`, a
/// sector size in `1..=i32::MAX` and a last sector that is a valid LBA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    start: i32,
    count: u32,
    bytes_per_sector: u32,
}

impl Section {
    /// Checks WriteSection's arguments as IMAPI does (E_INVALIDARG when one is wrong).
    pub fn new(
        starting_block_address: i32,
        number_of_blocks: i32,
        bytes_per_sector: i32,
    ) -> Result<Section, SectionError> {
        let bytes_per_sector = u32::try_from(bytes_per_sector)
            .ok()
            .filter(|&b| b > 0)
            .ok_or_else(|| {
                SectionError::invalid(format!(
                    "bytesPerSector must be positive, not {bytes_per_sector}"
                ))
            })?;
        let count = u32::try_from(number_of_blocks)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                SectionError::invalid(format!(
                    "numberOfBlocks must be positive, not {number_of_blocks}"
                ))
            })?;
        let last = i64::from(starting_block_address) + i64::from(count) - 1;
        if i32::try_from(last).is_err() {
            return Err(SectionError::invalid(format!(
                "startingBlockAddress {starting_block_address} + numberOfBlocks {number_of_blocks} overflows an LBA"
            )));
        }
        Ok(Section {
            start: starting_block_address,
            count,
            bytes_per_sector,
        })
    }

    /// startingBlockAddress.
    pub fn start(self) -> i32 {
        self.start
    }

    /// numberOfBlocks (at least 1).
    pub fn count(self) -> u32 {
        self.count
    }

    /// numberOfBlocks as IMAPI's LONG (always fits).
    pub fn count_i32(self) -> i32 {
        i32::try_from(self.count).unwrap_or(i32::MAX)
    }

    /// BytesPerSector (at least 1).
    pub fn bytes_per_sector(self) -> u32 {
        self.bytes_per_sector
    }

    /// The section's bytes: numberOfBlocks x BytesPerSector.
    pub fn bytes(self) -> u64 {
        u64::from(self.count) * u64::from(self.bytes_per_sector)
    }

    /// The last sector's LBA.
    pub fn last(self) -> i32 {
        // Checked in `new`: start + count - 1 fits an i32.
        i32::try_from(i64::from(self.start) + i64::from(self.count) - 1).unwrap_or(i32::MAX)
    }

    /// The LBA `offset` sectors into the section, if `offset` is inside it.
    pub fn lba_at(self, offset: u64) -> Option<i32> {
        if offset >= u64::from(self.count) {
            return None;
        }
        i32::try_from(i64::from(self.start) + i64::try_from(offset).ok()?).ok()
    }

    /// E_INVALIDARG if a source of `len` bytes is too short for the section.
    pub fn check_source(self, len: Option<u64>) -> Result<(), SectionError> {
        match len {
            Some(len) if len < self.bytes() => Err(SectionError::invalid(format!(
                "the data source holds {len} bytes but the section needs {}",
                self.bytes()
            ))),
            _ => Ok(()),
        }
    }
}

/// `len` bytes in whole sectors: how many sectors they take, the last one
/// filled up with zeros, and how many zero bytes that is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Padded {
    /// The sectors the bytes take.
    pub sectors: u64,
    /// The zero bytes after the data that fill its last sector.
    pub padding: u64,
}

impl Padded {
    /// `len` bytes in sectors of `bytes_per_sector` (taken as 1 when 0).
    pub fn new(len: u64, bytes_per_sector: u64) -> Padded {
        let bps = bytes_per_sector.max(1);
        let sectors = len.div_ceil(bps);
        Padded {
            sectors,
            padding: sectors.saturating_mul(bps).saturating_sub(len),
        }
    }
}

/// StartingSectorsPerSecond / EndingSectorsPerSecond: -1 (the drive's
/// maximum) or a positive rate, else E_INVALIDARG.
pub fn check_rate(name: &str, value: i32) -> Result<i32, SectionError> {
    if value == -1 || value > 0 {
        Ok(value)
    } else {
        Err(SectionError::invalid(format!(
            "{name} must be -1 or positive, not {value}"
        )))
    }
}

/// The sector sizes a medium takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectorSizes {
    /// A disk (SBC): only whole blocks of its own size.
    Exactly(u32),
    /// DVD and BD media: 2048-byte user data sectors.
    Dvd,
    /// CD media: the sizes of the CD data block types (MMC-6 Write
    /// Parameters mode page, Data Block Type: 2048 Mode 1 and Mode 2 Form 1,
    /// 2056, 2324, 2332, 2336, raw 2352, 2368 and 2448 with sub-channel).
    Cd,
}

/// Bytes per sector of the CD data block types.
pub const CD_SECTOR_SIZES: [u32; 8] = [2048, 2056, 2324, 2332, 2336, 2352, 2368, 2448];

impl SectorSizes {
    /// The sector sizes a medium of MMC profile `profile` takes (`None`: a
    /// disk without GET CONFIGURATION, whose READ CAPACITY said `block_len`).
    pub fn for_profile(profile: Option<u16>, block_len: u32) -> SectorSizes {
        match profile {
            Some(0x08..=0x0A) => SectorSizes::Cd,
            Some(0x01 | 0x02) | None => SectorSizes::Exactly(block_len),
            Some(_) => SectorSizes::Dvd,
        }
    }

    /// Whether a sector of `bytes` fits this medium.
    pub fn takes(self, bytes: u32) -> bool {
        match self {
            SectorSizes::Exactly(b) => b == bytes,
            SectorSizes::Dvd => bytes == 2048,
            SectorSizes::Cd => CD_SECTOR_SIZES.contains(&bytes),
        }
    }

    /// The size a write should use when nobody says: the disk's own, else 2048.
    pub fn natural(self) -> u32 {
        match self {
            SectorSizes::Exactly(b) => b,
            SectorSizes::Dvd | SectorSizes::Cd => 2048,
        }
    }

    fn describe(self) -> String {
        match self {
            SectorSizes::Exactly(b) => format!("blocks of {b} bytes"),
            SectorSizes::Dvd => "2048-byte sectors".into(),
            SectorSizes::Cd => format!("sectors of {CD_SECTOR_SIZES:?} bytes"),
        }
    }
}

/// Where a medium can be written: what a section is held against before
/// any credit is granted and before any WRITE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediumRoom {
    /// A name for messages ("DVD+R", "disk").
    pub name: &'static str,
    /// The lowest address: 0, or -150 on a CD (the first track's pre-gap).
    pub first_lba: i32,
    /// One past the last writable sector: capacity of a random-access
    /// medium, next writable address + free blocks of a sequential one.
    pub end_lba: u64,
    /// The sector sizes it takes.
    pub sector_sizes: SectorSizes,
}

/// The lowest LBA of a CD: the pre-gap of its first track (MMC-6, 150 sectors).
pub const CD_FIRST_LBA: i32 = -150;

impl MediumRoom {
    /// Refuses a section that starts below the medium, runs past its last
    /// writable sector or has a sector size the medium does not take.
    pub fn admit(&self, section: Section) -> Result<(), SectionError> {
        let name = self.name;
        if !self.sector_sizes.takes(section.bytes_per_sector) {
            return Err(SectionError::invalid(format!(
                "BytesPerSector {} does not fit the {name}, which takes {}",
                section.bytes_per_sector,
                self.sector_sizes.describe()
            )));
        }
        if section.start < self.first_lba {
            return Err(SectionError::invalid(format!(
                "startingBlockAddress {} is below the {name}'s first sector {}",
                section.start, self.first_lba
            )));
        }
        let end_lba = i64::try_from(self.end_lba).unwrap_or(i64::MAX);
        if i64::from(section.start) > end_lba {
            return Err(SectionError::invalid(format!(
                "startingBlockAddress {} is past the {name}'s last writable sector {}",
                section.start,
                end_lba - 1
            )));
        }
        let end = i64::from(section.last()) + 1;
        if end > end_lba {
            let room = i64::try_from(self.end_lba)
                .unwrap_or(i64::MAX)
                .saturating_sub(i64::from(section.start))
                .max(0);
            return Err(SectionError {
                hresult: HResult::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA,
                detail: format!(
                    "the data needs {} sectors but the {name} has room for {room} from sector {} (its last writable sector is {})",
                    section.count,
                    section.start,
                    self.end_lba.saturating_sub(1),
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_fill_whole_sectors() {
        assert_eq!(
            Padded::new(0, 2048),
            Padded {
                sectors: 0,
                padding: 0
            }
        );
        assert_eq!(
            Padded::new(1, 2048),
            Padded {
                sectors: 1,
                padding: 2047
            }
        );
        assert_eq!(
            Padded::new(4096, 2048),
            Padded {
                sectors: 2,
                padding: 0
            }
        );
        assert_eq!(
            Padded::new(4097, 512),
            Padded {
                sectors: 9,
                padding: 511
            }
        );
        assert_eq!(
            Padded::new(5, 0),
            Padded {
                sectors: 5,
                padding: 0
            }
        );
        let big = Padded::new((1 << 40) + 1, 4096);
        assert_eq!((big.sectors, big.padding), ((1 << 28) + 1, 4095));
    }

    #[test]
    fn sections_cannot_be_built_with_bad_numbers() {
        for (start, count, bps) in [
            (0, 0, 2048),
            (0, -1, 2048),
            (0, 1, 0),
            (0, 1, -2048),
            (2, i32::MAX, 2048),
            (i32::MAX, 2, 2048),
        ] {
            let e = Section::new(start, count, bps).unwrap_err();
            assert_eq!(e.hresult, HResult::E_INVALIDARG, "{start} {count} {bps}");
        }
        let s = Section::new(0, i32::MAX, 1).unwrap();
        assert_eq!(s.last(), i32::MAX - 1);
        assert_eq!(s.bytes(), i32::MAX as u64);
        let s = Section::new(-150, 150, 2352).unwrap();
        assert_eq!(s.lba_at(0), Some(-150));
        assert_eq!(s.lba_at(149), Some(-1));
        assert_eq!(s.lba_at(150), None);
    }

    fn dvd(end: u64) -> MediumRoom {
        MediumRoom {
            name: "DVD+R",
            first_lba: 0,
            end_lba: end,
            sector_sizes: SectorSizes::Dvd,
        }
    }

    #[test]
    fn negative_and_past_the_end_addresses_are_refused() {
        let room = dvd(1000);
        let at = |start, count| room.admit(Section::new(start, count, 2048).unwrap());
        assert_eq!(at(0, 1000), Ok(()));
        assert_eq!(at(999, 1), Ok(()));
        assert_eq!(at(-1, 1).unwrap_err().hresult, HResult::E_INVALIDARG);
        assert_eq!(at(i32::MIN, 1).unwrap_err().hresult, HResult::E_INVALIDARG);
        let too_large = HResult::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA;
        assert_eq!(at(0, 1001).unwrap_err().hresult, too_large);
        assert_eq!(at(1000, 1).unwrap_err().hresult, too_large, "a full medium");
        assert_eq!(at(1001, 1).unwrap_err().hresult, HResult::E_INVALIDARG);
        assert_eq!(at(0, i32::MAX).unwrap_err().hresult, too_large);
    }

    #[test]
    fn sector_sizes_follow_the_medium() {
        let room = dvd(1000);
        for bps in [1, 512, 2352, 4096] {
            let e = room.admit(Section::new(0, 1, bps).unwrap()).unwrap_err();
            assert_eq!(e.hresult, HResult::E_INVALIDARG, "{bps}");
        }
        let cd = MediumRoom {
            name: "CD-R",
            first_lba: CD_FIRST_LBA,
            end_lba: 1000,
            sector_sizes: SectorSizes::Cd,
        };
        assert_eq!(cd.admit(Section::new(-150, 10, 2352).unwrap()), Ok(()));
        assert!(cd.admit(Section::new(-151, 10, 2352).unwrap()).is_err());
        assert!(cd.admit(Section::new(0, 10, 4096).unwrap()).is_err());
        let disk = MediumRoom {
            name: "disk",
            first_lba: 0,
            end_lba: 100,
            sector_sizes: SectorSizes::for_profile(None, 4096),
        };
        assert_eq!(disk.admit(Section::new(0, 100, 4096).unwrap()), Ok(()));
        assert!(disk.admit(Section::new(0, 1, 512).unwrap()).is_err());
        assert_eq!(SectorSizes::for_profile(Some(0x1B), 2048).natural(), 2048);
        assert_eq!(SectorSizes::for_profile(None, 512).natural(), 512);
    }
}
