//! `emulated:PATH[,option=value...]`: how an emulated recorder is named on the
//! command line and in config files.

use std::path::PathBuf;
use std::time::Duration;

use webburn_scsi::transport::DriverError;
use webburn_shared::units::{UnitError, parse_duration, parse_rate, parse_size};
use webburn_shared::{HResult, medium};

/// Why an emulated recorder's id does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// It does not start with `emulated:`.
    #[error("'{0}' is not an emulated recorder (emulated:PATH)")]
    NotEmulated(String),
    /// `emulated:` with no image path.
    #[error("an emulated recorder needs an image path: emulated:PATH")]
    NoPath,
    /// `option` without `=value`.
    #[error("option '{0}' needs a value")]
    NoValue(String),
    /// An option this recorder does not have.
    #[error("unknown emulated recorder option '{0}'")]
    UnknownOption(String),
    /// A profile name this recorder does not emulate.
    #[error(
        "unknown profile '{0}' (use bd-r, bd-re, dvd+r, dvd+rw, dvd-r, dvd-rw, cd-r, cd-rw or disk)"
    )]
    UnknownProfile(String),
    /// An option's value is not what it takes.
    #[error("{option}={value}: {expected}")]
    BadValue {
        /// The option.
        option: &'static str,
        /// Its value as written.
        value: String,
        /// What it takes.
        expected: &'static str,
    },
    /// A size, rate or duration that does not parse.
    #[error("{option}={value}: {source}")]
    Unit {
        /// The option.
        option: &'static str,
        /// Its value as written.
        value: String,
        /// Why it does not parse.
        source: UnitError,
    },
}

impl DriverError for SpecError {
    fn hresult(&self) -> HResult {
        HResult::E_INVALIDARG
    }
}

/// `value` of `option` is not what it takes.
fn bad(option: &'static str, value: &str, expected: &'static str) -> SpecError {
    SpecError::BadValue {
        option,
        value: value.to_owned(),
        expected,
    }
}

/// A size, rate or duration of `option`, or why it does not parse.
fn unit<T>(
    option: &'static str,
    value: &str,
    parse: fn(&str) -> Result<T, UnitError>,
) -> Result<T, SpecError> {
    parse(value).map_err(|source| SpecError::Unit {
        option,
        value: value.to_owned(),
        source,
    })
}

/// Sector size of every emulated disc, and of a disk unless `block=` says.
pub const BLOCK_SIZE: u32 = 2048;

/// Block sizes an emulated disk may have (SBC: 512-byte logical blocks are
/// what USB sticks and SD cards report; 4096 for Advanced Format disks).
pub const DISK_BLOCK_SIZES: [u32; 3] = [512, 2048, 4096];

/// The medium in the emulated drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Medium {
    /// DVD+R (profile 1Bh): sequential, write once.
    DvdPlusR,
    /// DVD-R (profile 11h): sequential, write once, can simulate (Test Write).
    DvdMinusR,
    /// CD-R (profile 09h), data in 2048-byte sectors: sequential, write once,
    /// can simulate; its speed is set with SET CD SPEED.
    CdR,
    /// BD-R SRM (profile 41h): sequential, write once.
    BdR,
    /// Removable disk (profile 02h), e.g. a USB stick: random access.
    RemovableDisk,
    /// DVD+RW (profile 1Ah): rewritable, random access once formatted.
    DvdPlusRw,
    /// CD-RW (profile 0Ah): like a CD-R, and BLANK erases it.
    CdRw,
    /// DVD-RW sequential recording (profile 14h): like a DVD-R, and BLANK erases it.
    DvdMinusRwSequential,
    /// DVD-RW restricted overwrite (profile 13h): formatted for random
    /// access, written anywhere; BLANK empties it.
    DvdMinusRwRestricted,
    /// BD-RE (profile 43h): rewritable, random access once formatted.
    BdRe,
}

impl Medium {
    /// The MMC profile number.
    pub fn profile(self) -> u16 {
        match self {
            Medium::DvdPlusR => 0x1B,
            Medium::DvdMinusR => 0x11,
            Medium::CdR => 0x09,
            Medium::BdR => 0x41,
            Medium::RemovableDisk => 0x02,
            Medium::DvdPlusRw => 0x1A,
            Medium::BdRe => 0x43,
            Medium::CdRw => 0x0A,
            Medium::DvdMinusRwSequential => 0x14,
            Medium::DvdMinusRwRestricted => 0x13,
        }
    }

    /// A disc BLANK erases (CD-RW, DVD-RW).
    pub fn blankable(self) -> bool {
        medium::is_blankable(self.profile())
    }

    /// READ DISC INFORMATION says the disc is erasable.
    pub fn erasable(self) -> bool {
        self.blankable() || self.formattable()
    }

    /// Sectors between one closed session's end and the next session's
    /// first writable address (the lead-out, lead-in and pre-gap a drive
    /// records; roughly their real sizes): CD 6750 + 4500 + 150 after the
    /// first session, 2250 + 4500 + 150 after later ones; DVD-R a 32 MiB
    /// then 6 MiB border zone; DVD+R and BD-R 4 MiB of closure.
    pub fn session_gap(self, first: bool) -> u32 {
        match (self, first) {
            (Medium::CdR | Medium::CdRw, true) => 11_400,
            (Medium::CdR | Medium::CdRw, false) => 6_900,
            (Medium::DvdMinusR | Medium::DvdMinusRwSequential, true) => 16_384,
            (Medium::DvdMinusR | Medium::DvdMinusRwSequential, false) => 3_072,
            _ => 2_048,
        }
    }

    /// Closing a session finalizes the disc unless the Write Parameters
    /// page asks for another session (CD and DVD-R media); DVD+R and BD-R
    /// stay appendable after CLOSE SESSION and are finalized by their own
    /// close functions (5, 6).
    pub fn finalizes_by_mode_page(self) -> bool {
        medium::is_finalized_by_mode_page(self.profile())
    }

    /// Sequential media accept WRITEs only at the next writable address.
    pub fn sequential(self) -> bool {
        medium::is_sequential(self.profile())
    }

    /// A rewritable disc that FORMAT UNIT formats before its first write
    /// (READ DISC INFORMATION says it is erasable).
    pub fn formattable(self) -> bool {
        medium::is_formattable(self.profile())
    }

    /// The format type FORMAT UNIT gives this medium (MMC-6 6.5.4.2).
    pub fn format_type(self) -> Option<u8> {
        use webburn_scsi::formatting::format_type;
        match self {
            Medium::DvdPlusRw => Some(format_type::DVD_PLUS_RW_FULL),
            Medium::BdRe => Some(format_type::BD_RE_WITH_SPARES),
            _ => None,
        }
    }

    /// Sectors of a single-layer disc (or a 4 GiB disk).
    pub fn default_capacity(self) -> u32 {
        match self {
            Medium::DvdPlusR
            | Medium::DvdMinusR
            | Medium::DvdPlusRw
            | Medium::DvdMinusRwSequential
            | Medium::DvdMinusRwRestricted => 2_295_104,
            // 80 minutes.
            Medium::CdR | Medium::CdRw => 359_847,
            Medium::BdR => 12_219_392,
            // Formatted with the default spare areas.
            Medium::BdRe => 11_826_176,
            Medium::RemovableDisk => 2_097_152,
        }
    }

    /// Bytes per second of "1x" for this medium, if it has one.
    pub fn one_x(self) -> Option<u64> {
        match self {
            Medium::DvdPlusR
            | Medium::DvdMinusR
            | Medium::DvdPlusRw
            | Medium::DvdMinusRwSequential
            | Medium::DvdMinusRwRestricted => Some(1_385_000),
            // 75 sectors of 2048 bytes a second.
            Medium::CdR | Medium::CdRw => Some(153_600),
            Medium::BdR | Medium::BdRe => Some(4_500_000),
            Medium::RemovableDisk => None,
        }
    }

    /// The medium supports Test Write (simulation): in MMC only CD-R/RW and DVD-R/RW do.
    pub fn can_test_write(self) -> bool {
        matches!(
            self,
            Medium::DvdMinusR | Medium::CdR | Medium::CdRw | Medium::DvdMinusRwSequential
        )
    }

    /// Bytes per sector in this medium's speed figures (kB/s of GET
    /// PERFORMANCE and SET CD SPEED): raw 2352 on CD, else 2048.
    pub fn speed_unit(self) -> u64 {
        if matches!(self, Medium::CdR | Medium::CdRw) {
            2352
        } else {
            2048
        }
    }

    /// The write speeds a drive offers for this medium, in multiples of 1x.
    pub fn speed_factors(self) -> &'static [u32] {
        match self {
            Medium::DvdPlusR | Medium::DvdMinusR => &[4, 8, 12, 16, 24],
            Medium::CdR => &[4, 8, 16, 24, 32, 48],
            Medium::BdR => &[2, 4, 6, 8, 12, 16],
            Medium::DvdPlusRw => &[4, 8],
            Medium::CdRw => &[4, 10, 16, 24],
            Medium::DvdMinusRwSequential | Medium::DvdMinusRwRestricted => &[2, 4, 6],
            Medium::BdRe => &[1, 2],
            Medium::RemovableDisk => &[],
        }
    }

    /// Default size of the drive's buffer.
    pub fn default_drive_buffer(self) -> u64 {
        match self {
            Medium::DvdPlusR
            | Medium::DvdMinusR
            | Medium::CdR
            | Medium::DvdPlusRw
            | Medium::CdRw
            | Medium::DvdMinusRwSequential
            | Medium::DvdMinusRwRestricted => 2 << 20,
            Medium::BdR | Medium::BdRe => 4 << 20,
            Medium::RemovableDisk => 1 << 20,
        }
    }

    fn parse(s: &str) -> Result<Self, SpecError> {
        match s.to_ascii_lowercase().as_str() {
            "dvd+r" | "dvdr" => Ok(Medium::DvdPlusR),
            "dvd-r" => Ok(Medium::DvdMinusR),
            "cd-r" | "cdr" => Ok(Medium::CdR),
            "bd-r" | "bdr" => Ok(Medium::BdR),
            "dvd+rw" => Ok(Medium::DvdPlusRw),
            "cd-rw" => Ok(Medium::CdRw),
            "dvd-rw" => Ok(Medium::DvdMinusRwSequential),
            "dvd-rw-ro" | "dvd-rw-restricted" => Ok(Medium::DvdMinusRwRestricted),
            "bd-re" | "bdre" => Ok(Medium::BdRe),
            "disk" | "removable" | "usb" => Ok(Medium::RemovableDisk),
            _ => Err(SpecError::UnknownProfile(s.to_owned())),
        }
    }
}

/// What the drive does when its buffer runs dry mid-track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnderrunMode {
    /// Buffer underrun protection (BURN-Proof and kin): pause, resume on the next WRITE.
    Protect,
    /// An old drive: the next WRITE fails with 3/0C/09 (loss of streaming).
    Fail,
}

/// Faults the emulated drive injects (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Answer 2/04/07 (operation in progress) to this many WRITEs, starting with
    /// the first one at or after the LBA.
    pub busy: Option<(u32, i64)>,
    /// A WRITE covering this LBA fails with 3/0C/00 and writes nothing.
    pub write_error_at: Option<i64>,
    /// The medium disappears when a WRITE reaches this LBA (2/3A/00 from then on).
    pub remove_at: Option<i64>,
    /// The WRITE covering this LBA takes this long (once).
    pub stall: Option<(i64, Duration)>,
    /// The whole device disappears when a WRITE reaches this LBA.
    pub vanish_at: Option<i64>,
    /// The WRITE covering this LBA reports success but records the sector
    /// with its first byte inverted (silent corruption, for verify).
    pub corrupt_at: Option<i64>,
    /// This many FORMAT UNITs fail (3/31/01) and leave the disc unformatted.
    pub format_errors: u32,
    /// This many BLANKs fail (3/51/00, erase failure) and leave the disc as it was.
    pub blank_errors: u32,
}

/// A parsed emulated recorder name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatedSpec {
    /// The image file.
    pub path: PathBuf,
    /// The loaded medium.
    pub medium: Medium,
    /// Capacity in sectors.
    pub capacity: u32,
    /// Bytes per sector: 2048 for discs, 512, 2048 or 4096 for a disk.
    pub block_size: u32,
    /// Write speed in bytes per second; `None` = unlimited.
    pub speed: Option<u64>,
    /// Drive buffer size in bytes.
    pub drive_buffer: u64,
    /// Underrun behaviour.
    pub underrun: UnderrunMode,
    /// Largest transfer per command.
    pub max_transfer: usize,
    /// Injected faults.
    pub faults: Faults,
    /// An autoloader: ejecting a written disc puts it in the output bin
    /// (`PATH.1`, `PATH.2`, ...) and loads a blank one.
    pub changer: bool,
}

/// The prefix that marks an emulated recorder id.
pub const PREFIX: &str = "emulated:";

fn lba(option: &'static str, v: &str) -> Result<i64, SpecError> {
    v.parse().map_err(|_| bad(option, v, "an LBA"))
}

impl EmulatedSpec {
    /// A spec with the defaults for `medium`.
    pub fn new(path: impl Into<PathBuf>, medium: Medium) -> Self {
        EmulatedSpec {
            path: path.into(),
            medium,
            capacity: medium.default_capacity(),
            block_size: BLOCK_SIZE,
            speed: None,
            drive_buffer: medium.default_drive_buffer(),
            underrun: UnderrunMode::Protect,
            // 64 KiB also for disks: larger writes into the image file hit a
            // slow page-cache copy path on this kernel (BENCHMARKS.md).
            max_transfer: webburn_scsi::transport::DEFAULT_MAX_TRANSFER,
            faults: Faults::default(),
            changer: false,
        }
    }

    /// Parses `emulated:PATH[,option=value...]` (docs/emulated-recorders.md lists the options).
    pub fn parse(id: &str) -> Result<Self, SpecError> {
        let rest = id
            .strip_prefix(PREFIX)
            .ok_or_else(|| SpecError::NotEmulated(id.to_owned()))?;
        let mut parts = rest.split(',');
        let path = parts.next().unwrap_or_default();
        if path.is_empty() {
            return Err(SpecError::NoPath);
        }
        let options: Vec<(&str, &str)> = parts
            .map(|p| {
                p.split_once('=')
                    .ok_or_else(|| SpecError::NoValue(p.to_owned()))
            })
            .collect::<Result<_, _>>()?;
        // The profile decides the other defaults, so read it first.
        let medium = options
            .iter()
            .rev()
            .find(|(k, _)| *k == "profile")
            .map_or(Ok(Medium::BdR), |(_, v)| Medium::parse(v))?;
        let mut spec = EmulatedSpec::new(path, medium);
        // The block size first too: a capacity is counted in blocks.
        if let Some((_, v)) = options.iter().rev().find(|(k, _)| *k == "block") {
            spec.set_block_size(v)?;
        }
        for (key, value) in options {
            spec.apply(key, value)?;
        }
        Ok(spec)
    }

    fn apply(&mut self, key: &str, v: &str) -> Result<(), SpecError> {
        match key {
            "profile" | "block" => {}
            "capacity" => {
                let sectors = unit("capacity", v, parse_size)? / u64::from(self.block_size);
                self.capacity = u32::try_from(sectors)
                    .ok()
                    .filter(|&s| s > 0 && s < i32::MAX as u32)
                    .ok_or_else(|| bad("capacity", v, "out of range (1 to 2^31 - 1 sectors)"))?;
            }
            "speed" => self.speed = self.parse_speed(v)?,
            "drive-buffer" => {
                self.drive_buffer = unit("drive-buffer", v, parse_size)?.clamp(64 * 1024, 1 << 30);
            }
            "underrun" => {
                self.underrun = match v {
                    "protect" => UnderrunMode::Protect,
                    "fail" => UnderrunMode::Fail,
                    _ => return Err(bad("underrun", v, "protect or fail")),
                }
            }
            "max-transfer" => {
                let bytes = unit("max-transfer", v, parse_size)?;
                if !(u64::from(self.block_size.max(BLOCK_SIZE))..=(16 << 20)).contains(&bytes) {
                    return Err(bad("max-transfer", v, "2KiB to 16MiB"));
                }
                self.max_transfer = bytes as usize;
            }
            "busy" => {
                let (n, at) = v.split_once('@').unwrap_or((v, "0"));
                let n = n.parse().map_err(|_| bad("busy", v, "COUNT[@LBA]"))?;
                self.faults.busy = Some((n, lba("busy", at)?));
            }
            "write-error" => self.faults.write_error_at = Some(lba("write-error", v)?),
            "remove-at" => self.faults.remove_at = Some(lba("remove-at", v)?),
            "vanish-at" => self.faults.vanish_at = Some(lba("vanish-at", v)?),
            "corrupt-at" => self.faults.corrupt_at = Some(lba("corrupt-at", v)?),
            "format-error" => {
                self.faults.format_errors =
                    v.parse().map_err(|_| bad("format-error", v, "a count"))?;
            }
            "blank-error" => {
                self.faults.blank_errors =
                    v.parse().map_err(|_| bad("blank-error", v, "a count"))?;
            }
            "changer" => {
                self.changer = match v {
                    "on" | "yes" | "true" => true,
                    "off" | "no" | "false" => false,
                    _ => return Err(bad("changer", v, "on or off")),
                }
            }
            "stall" => {
                let (at, d) = v
                    .split_once(':')
                    .ok_or_else(|| bad("stall", v, "LBA:DURATION"))?;
                self.faults.stall = Some((lba("stall", at)?, unit("stall", d, parse_duration)?));
            }
            _ => return Err(SpecError::UnknownOption(key.to_owned())),
        }
        Ok(())
    }

    /// `block=N`: a disk's logical block size; discs have 2048-byte sectors.
    fn set_block_size(&mut self, v: &str) -> Result<(), SpecError> {
        let bytes: u32 = v
            .parse()
            .map_err(|_| bad("block", v, "a number of bytes"))?;
        if self.medium != Medium::RemovableDisk && bytes != BLOCK_SIZE {
            return Err(bad("block", v, "a disc has 2048-byte sectors"));
        }
        if !DISK_BLOCK_SIZES.contains(&bytes) {
            return Err(bad("block", v, "512, 2048 or 4096"));
        }
        // The default capacity stays the same number of bytes.
        let bytes_now = u64::from(self.capacity) * u64::from(self.block_size);
        self.capacity = u32::try_from(bytes_now / u64::from(bytes)).unwrap_or(u32::MAX);
        self.block_size = bytes;
        Ok(())
    }

    /// The image file's byte offset of sector `lba`.
    pub fn offset(&self, lba: u32) -> u64 {
        u64::from(lba) * u64::from(self.block_size)
    }

    /// The capacity in bytes.
    pub fn capacity_bytes(&self) -> u64 {
        self.offset(self.capacity)
    }

    fn parse_speed(&self, v: &str) -> Result<Option<u64>, SpecError> {
        if v == "unlimited" || v == "max" {
            return Ok(None);
        }
        let rate = if let Some(x) = v.strip_suffix('x') {
            let factor: f64 = x
                .parse()
                .map_err(|_| bad("speed", v, "a speed (4x, 10MB/s)"))?;
            let one_x = self
                .medium
                .one_x()
                .ok_or_else(|| bad("speed", v, "x speeds need an optical profile"))?;
            (factor * one_x as f64) as u64
        } else {
            unit("speed", v, parse_rate)?
        };
        if rate < 100_000 {
            return Err(bad("speed", v, "at least 100kB/s"));
        }
        Ok(Some(rate))
    }

    /// The canonical recorder id (no options).
    pub fn id(&self) -> String {
        format!("{PREFIX}{}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a refused case must be.
    type Expected = Box<dyn Fn(&SpecError) -> bool>;

    #[test]
    fn defaults_follow_the_profile() {
        let s = EmulatedSpec::parse("emulated:/tmp/a.img").unwrap();
        assert_eq!(s.medium, Medium::BdR);
        assert_eq!(s.capacity, 12_219_392);
        assert_eq!(s.speed, None);
        assert_eq!(s.id(), "emulated:/tmp/a.img");
        let d = EmulatedSpec::parse("emulated:x.img,speed=24x,profile=dvd+r").unwrap();
        assert_eq!(d.medium, Medium::DvdPlusR);
        assert_eq!(d.speed, Some(33_240_000));
        assert_eq!(d.drive_buffer, 2 << 20);
    }

    #[test]
    fn options_parse() {
        let s = EmulatedSpec::parse(
            "emulated:a.img,profile=disk,capacity=64MiB,speed=20MB/s,underrun=fail,busy=3@16,\
             write-error=100,remove-at=200,stall=50:2s,vanish-at=300,max-transfer=32KiB,\
             drive-buffer=1MiB,corrupt-at=7,changer=on",
        )
        .unwrap();
        assert!(s.changer);
        assert_eq!(s.capacity, 32768);
        assert_eq!(s.speed, Some(20_000_000));
        assert_eq!(s.underrun, UnderrunMode::Fail);
        assert_eq!(s.max_transfer, 32768);
        assert_eq!(s.faults.busy, Some((3, 16)));
        assert_eq!(s.faults.write_error_at, Some(100));
        assert_eq!(s.faults.remove_at, Some(200));
        assert_eq!(s.faults.stall, Some((50, Duration::from_secs(2))));
        assert_eq!(s.faults.vanish_at, Some(300));
        assert_eq!(s.faults.corrupt_at, Some(7));
        let r = EmulatedSpec::parse("emulated:a,profile=dvd-r").unwrap();
        assert_eq!(
            (r.medium.profile(), r.medium.can_test_write()),
            (0x11, true)
        );
        let bd16 = EmulatedSpec::parse("emulated:a,speed=16x").unwrap();
        assert_eq!(bd16.speed, Some(72_000_000));
    }

    #[test]
    fn a_card_has_512_byte_blocks_at_its_real_size() {
        // A "32 GB" SD card: 62,333,952 blocks of 512 bytes.
        let s = EmulatedSpec::parse("emulated:c.img,capacity=31914983424,block=512,profile=disk")
            .unwrap();
        assert_eq!((s.block_size, s.capacity), (512, 62_333_952));
        assert_eq!(s.capacity_bytes(), 31_914_983_424);
        assert_eq!(s.offset(62_333_951), 31_914_982_912);
        // The default 4 GiB disk keeps its bytes in smaller blocks.
        let d = EmulatedSpec::parse("emulated:d.img,profile=disk,block=512").unwrap();
        assert_eq!(d.capacity_bytes(), 4 << 30);
        // A 256 GB card: 500 million LBAs, within READ(10)'s 32 bits.
        let big =
            EmulatedSpec::parse("emulated:e.img,profile=disk,block=512,capacity=256GB").unwrap();
        assert_eq!(big.capacity, 500_000_000);
    }

    #[test]
    fn bad_specs_say_why() {
        use SpecError as E;
        let bad_value = |option: &'static str| move |e: &SpecError| matches!(e, E::BadValue { option: o, .. } if *o == option);
        let cases: Vec<(&str, Expected)> = vec![
            ("/dev/sr0", Box::new(|e| matches!(e, E::NotEmulated(_)))),
            ("emulated:", Box::new(|e| *e == E::NoPath)),
            (
                "emulated:a,profile=hd-dvd",
                Box::new(|e| matches!(e, E::UnknownProfile(p) if p == "hd-dvd")),
            ),
            (
                "emulated:a,speed",
                Box::new(|e| matches!(e, E::NoValue(o) if o == "speed")),
            ),
            (
                "emulated:a,speed=fast",
                Box::new(|e| {
                    matches!(
                        e,
                        E::Unit {
                            option: "speed",
                            source: UnitError::NotARate(_),
                            ..
                        }
                    )
                }),
            ),
            (
                "emulated:a,profile=disk,speed=4x",
                Box::new(bad_value("speed")),
            ),
            (
                "emulated:a,colour=blue",
                Box::new(|e| matches!(e, E::UnknownOption(o) if o == "colour")),
            ),
            ("emulated:a,stall=5", Box::new(bad_value("stall"))),
            ("emulated:a,capacity=0", Box::new(bad_value("capacity"))),
            (
                "emulated:a,max-transfer=1",
                Box::new(bad_value("max-transfer")),
            ),
            ("emulated:a,block=512", Box::new(bad_value("block"))),
            (
                "emulated:a,profile=disk,block=1000",
                Box::new(bad_value("block")),
            ),
            (
                "emulated:a,profile=disk,block=big",
                Box::new(bad_value("block")),
            ),
            (
                "emulated:a,write-error=x",
                Box::new(bad_value("write-error")),
            ),
        ];
        for (spec, expected) in cases {
            let err = EmulatedSpec::parse(spec).unwrap_err();
            assert!(expected(&err), "{spec}: {err:?}");
            assert_eq!(err.hresult(), HResult::E_INVALIDARG);
        }
    }
}
