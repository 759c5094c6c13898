//! `spti:D:`, `spti:CdRom0`, `spti:PhysicalDrive1[,force]`: Windows SCSI
//! pass-through to optical drives (by drive letter or CD-ROM number) and
//! disks (USB sticks, card readers). A drive letter that is not an optical
//! drive names that volume.

use crate::devices::driver::{Discovered, Driver};
use crate::devices::{DeviceError, Recorder};
use webburn_scsi::transport::spti::{SptiTransport, Target, discover};

/// The Windows pass-through driver.
#[derive(Debug)]
pub struct SptiDriver;

/// What an `spti:` id names: the device's name (the part after `\\.\`)
/// and how it is taken before a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SptiId {
    /// `D:`, `CdRom0` or `PhysicalDrive1`.
    pub name: String,
    /// Optical drive, volume or disk.
    pub target: Target,
}

impl SptiId {
    /// The device path, `\\.\NAME`.
    pub fn path(&self) -> String {
        format!(r"\\.\{}", self.name)
    }
}

/// Reads the part of an id after `spti:`; `optical(letter)` tells whether
/// a drive letter is an optical drive. `None` if malformed.
pub fn parse(rest: &str, optical: impl Fn(char) -> bool) -> Option<SptiId> {
    let (name, force) = match rest.split_once(',') {
        Some((n, "force")) => (n, true),
        Some(_) => return None,
        None => (rest, false),
    };
    let name = name.strip_prefix(r"\\.\").unwrap_or(name);
    let number = |prefix: &str| -> Option<u32> {
        let head = name.get(..prefix.len())?;
        let digits = &name[prefix.len()..];
        (head.eq_ignore_ascii_case(prefix) && !digits.is_empty() && digits.len() <= 3)
            .then(|| digits.parse().ok())
            .flatten()
    };
    if let [letter, b':'] = name.as_bytes()
        && letter.is_ascii_alphabetic()
    {
        let letter = char::from(letter.to_ascii_uppercase());
        let target = if optical(letter) {
            Target::Optical
        } else {
            Target::Volume { letter, force }
        };
        return Some(SptiId {
            name: format!("{letter}:"),
            target,
        });
    }
    if let Some(n) = number("CdRom") {
        return (!force).then(|| SptiId {
            name: format!("CdRom{n}"),
            target: Target::Optical,
        });
    }
    number("PhysicalDrive").map(|n| SptiId {
        name: format!("PhysicalDrive{n}"),
        target: Target::Disk { number: n, force },
    })
}

impl Driver for SptiDriver {
    fn prefix(&self) -> &'static str {
        "spti:"
    }

    fn kind(&self) -> &'static str {
        "spti"
    }

    fn tells_optical(&self) -> bool {
        true
    }

    /// Optical drives by letter and removable disks by number.
    fn discover(&self) -> Vec<Discovered> {
        discover::list()
            .into_iter()
            .map(|d| Discovered {
                id: format!("{}{}", self.prefix(), d.name),
                optical: d.optical,
            })
            .collect()
    }

    fn open(&self, id: &str, rest: &str) -> Result<Recorder, DeviceError> {
        let parsed = parse(rest, discover::is_optical).ok_or_else(|| {
            DeviceError::BadId(format!(
                "'{id}' is not spti:D:, spti:CdRomN or spti:PhysicalDriveN[,force]"
            ))
        })?;
        let t = SptiTransport::open(&parsed.path(), parsed.target).map_err(|source| {
            DeviceError::Device {
                id: id.to_owned(),
                source,
            }
        })?;
        Ok(Recorder::from_transport(
            format!("{}{}", self.prefix(), parsed.name),
            Box::new(t),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(rest: &str) -> Option<SptiId> {
        parse(rest, |l| l == 'D')
    }

    #[test]
    fn ids_name_drives_volumes_and_disks() {
        assert_eq!(
            id("d:"),
            Some(SptiId {
                name: "D:".into(),
                target: Target::Optical
            })
        );
        assert_eq!(id(r"\\.\D:").unwrap().path(), r"\\.\D:");
        assert_eq!(
            id("E:,force").unwrap().target,
            Target::Volume {
                letter: 'E',
                force: true
            }
        );
        assert_eq!(id("cdrom1").unwrap().name, "CdRom1");
        let disk = id(r"\\.\PhysicalDrive2,force").unwrap();
        assert_eq!(disk.path(), r"\\.\PhysicalDrive2");
        assert_eq!(
            disk.target,
            Target::Disk {
                number: 2,
                force: true
            }
        );
        for bad in [
            "",
            "DD:",
            "1:",
            "PhysicalDrive",
            "PhysicalDrive-1",
            "PhysicalDrive1,detach",
            "CdRom0,force",
            "PhysicalDrive1234",
            "/dev/sg0",
        ] {
            assert_eq!(id(bad), None, "{bad}");
        }
    }
}
