//! The removable disks the system has: USB sticks, cards in USB readers,
//! anything whose block device the kernel marks removable. Each is found
//! through its SCSI generic node (peripheral type 00h, SPC-4) and the block
//! device behind it, with its size (sysfs counts 512-byte units whatever the
//! block size), vendor and model, and why it may never be written when the
//! system uses it (a mounted file system, swap, the system's own disk).
//! Cards in a PCI reader (`mmcblk`) have no SCSI node and are not found.

use std::path::Path;

use serde::Serialize;

use super::in_use::SystemView;

/// A removable disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemovableDisk {
    /// The recorder id that writes it (`sg:/dev/sgN`).
    pub id: String,
    /// Its block device (`sdb`).
    pub block: String,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// INQUIRY vendor and product, as the kernel read them.
    pub vendor: String,
    /// The product (model).
    pub model: String,
    /// How it is attached: `usb`, `mmc` or `removable` (another bus).
    pub bus: &'static str,
    /// Why it must not be written, when the system uses it.
    pub in_use: Option<String>,
    /// Where sysfs has its block device (the USB port and SCSI host, new
    /// with every plug-in).
    #[serde(skip)]
    pub sysfs: String,
    /// The kernel's sequence number of the medium (`diskseq`, Linux 5.15
    /// and later): a new number for every medium, also a card swapped in a
    /// reader that stays plugged in.
    #[serde(skip)]
    pub diskseq: String,
    /// The USB device's serial number, where it has one.
    #[serde(skip)]
    pub serial: String,
}

impl RemovableDisk {
    /// What tells this disk and medium from another that later gets the
    /// same node: where and when it was plugged in, vendor, model, serial
    /// number, size, and the medium's sequence number.
    pub fn identity(&self) -> String {
        format!(
            "{} {} {} serial {} {} medium {}",
            self.sysfs, self.vendor, self.model, self.serial, self.size_bytes, self.diskseq
        )
    }
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

/// The removable disks under `view`'s sysfs, in sg order.
pub fn removable_disks(view: &SystemView) -> Vec<RemovableDisk> {
    let class = view.sys.join("class/scsi_generic");
    let mut sgs: Vec<String> = std::fs::read_dir(&class)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    sgs.sort_by_key(|s| {
        s.trim_start_matches("sg")
            .parse::<u32>()
            .unwrap_or(u32::MAX)
    });
    let mut out = Vec::new();
    for sg in sgs {
        let dev = class.join(&sg).join("device");
        if text(&dev.join("type")) != "0" {
            continue;
        }
        for block in view.block_of_sg(Path::new(&sg)) {
            let dir = view.sys.join("block").join(&block);
            let real = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
            let path = real.to_string_lossy();
            let bus = if path.contains("/usb") {
                "usb"
            } else if path.contains("/mmc") {
                "mmc"
            } else if text(&dir.join("removable")) == "1" {
                "removable"
            } else {
                continue;
            };
            // An empty card reader has no medium: nothing to write.
            let sectors: u64 = text(&dir.join("size")).parse().unwrap_or(0);
            if sectors == 0 {
                continue;
            }
            out.push(RemovableDisk {
                id: format!("sg:/dev/{sg}"),
                size_bytes: sectors * 512,
                vendor: text(&dev.join("vendor")),
                model: text(&dev.join("model")),
                bus,
                in_use: view.check(&block).err().map(|e| e.to_string()),
                diskseq: text(&dir.join("diskseq")),
                serial: serial_above(&real),
                sysfs: path.into_owned(),
                block,
            });
        }
    }
    out
}

/// The serial number of the nearest device above `path` that has one (the
/// USB device of a stick or reader), or nothing.
fn serial_above(path: &Path) -> String {
    path.ancestors()
        .take(12)
        .map(|p| text(&p.join("serial")))
        .find(|s| !s.is_empty())
        .unwrap_or_default()
}

/// A size as people read it on the package: decimal gigabytes (32 GB), or
/// megabytes below one gigabyte.
pub fn size_label(bytes: u64) -> String {
    if bytes >= 1_000_000_000 {
        format!("{:.0} GB", bytes as f64 / 1e9)
    } else {
        format!("{:.0} MB", bytes as f64 / 1e6)
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use crate::devices::in_use::tests::{put, view_under};

    /// sg0: the internal SATA disk (sda, mounted on /); sg1: a USB stick
    /// (sdb, 32 GB); sg2: a USB card reader without a card (sdc); sg3: an
    /// optical drive; sg4: a mounted stick on another bus marked removable
    /// (sdd). Block devices are links into `devices/` as the kernel makes them.
    fn system() -> (tempfile::TempDir, SystemView) {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        let disks = [
            (
                "sg0",
                "0",
                "ATA",
                "Samsung SSD",
                Some(("sda", "pci0000:00/ata1/host0", "0", "1000215216", "8:0")),
            ),
            (
                "sg1",
                "0",
                "SanDisk",
                "Ultra",
                Some(("sdb", "pci0000:00/usb2/2-1/host4", "1", "62521344", "8:16")),
            ),
            (
                "sg2",
                "0",
                "Generic",
                "SD/MMC Reader",
                Some(("sdc", "pci0000:00/usb2/2-2/host5", "1", "0", "8:32")),
            ),
            ("sg3", "5", "HL-DT-ST", "DVDRAM", None),
            (
                "sg4",
                "0",
                "Kingston",
                "DataTraveler",
                Some(("sdd", "platform/host6", "1", "15240576", "8:48")),
            ),
        ];
        for (sg, kind, vendor, model, block) in disks {
            put(
                r,
                &format!("sys/class/scsi_generic/{sg}/device/type"),
                &format!("{kind}\n"),
            );
            put(
                r,
                &format!("sys/class/scsi_generic/{sg}/device/vendor"),
                &format!("{vendor}  \n"),
            );
            put(
                r,
                &format!("sys/class/scsi_generic/{sg}/device/model"),
                &format!("{model}  \n"),
            );
            if let Some((name, at, removable, size, dev)) = block {
                std::fs::create_dir_all(
                    r.join(format!("sys/class/scsi_generic/{sg}/device/block/{name}")),
                )
                .unwrap();
                let real = format!("sys/devices/{at}/block/{name}");
                put(r, &format!("{real}/removable"), &format!("{removable}\n"));
                put(r, &format!("{real}/size"), &format!("{size}\n"));
                put(r, &format!("{real}/dev"), &format!("{dev}\n"));
                std::fs::create_dir_all(r.join(format!("{real}/holders"))).unwrap();
                std::fs::create_dir_all(r.join("sys/block")).unwrap();
                std::os::unix::fs::symlink(r.join(&real), r.join(format!("sys/block/{name}")))
                    .unwrap();
            }
        }
        put(
            r,
            "mountinfo",
            "22 1 8:0 / / rw,relatime shared:1 - ext4 /dev/sda rw\n\
             40 22 8:48 / /media/me/KINGSTON rw,relatime - vfat /dev/sdd rw\n",
        );
        put(r, "swaps", "Filename Type Size Used Priority\n");
        let view = view_under(r);
        (dir, view)
    }

    #[test]
    fn sticks_and_cards_are_found_with_size_and_name_and_the_system_disk_is_not() {
        let (dir, view) = system();
        let found = removable_disks(&view);
        let ids: Vec<&str> = found.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["sg:/dev/sg1", "sg:/dev/sg4"], "{found:#?}");
        let stick = &found[0];
        assert_eq!(
            (
                stick.block.as_str(),
                stick.bus,
                stick.vendor.as_str(),
                stick.model.as_str()
            ),
            ("sdb", "usb", "SanDisk", "Ultra")
        );
        assert_eq!(stick.size_bytes, 62_521_344 * 512);
        assert_eq!(size_label(stick.size_bytes), "32 GB");
        assert_eq!(stick.in_use, None);
        let mounted = &found[1];
        assert_eq!(mounted.bus, "removable");
        let why = mounted.in_use.as_deref().unwrap_or_default();
        assert!(why.contains("/media/me/KINGSTON"), "{why}");
        // The USB device's serial number and the medium's sequence number
        // are part of what the person's approval is bound to: a card swapped
        // in the reader (a new diskseq) is another medium.
        let r = dir.path();
        put(r, "sys/devices/pci0000:00/usb2/2-1/serial", "4C530001230\n");
        put(
            r,
            "sys/devices/pci0000:00/usb2/2-1/host4/block/sdb/diskseq",
            "12\n",
        );
        let first = removable_disks(&view)[0].identity();
        assert!(
            first.contains("serial 4C530001230") && first.ends_with("medium 12"),
            "{first}"
        );
        put(
            r,
            "sys/devices/pci0000:00/usb2/2-1/host4/block/sdb/diskseq",
            "13\n",
        );
        assert_ne!(removable_disks(&view)[0].identity(), first);
    }
}
