//! Whether a disk is in use by the system: a file system on it (or on one
//! of its partitions) is mounted, it is swap, or another device is built
//! on it (LVM, RAID, dm-crypt) and that one is in use. Such a disk is never
//! written unless the person forces it, as Etcher and Raspberry Pi Imager
//! refuse the system's and mounted disks.
//!
//! Linux: the block device behind a recorder is found in sysfs
//! (`/sys/class/scsi_generic/sgN/device/block/`, or below the USB device's
//! sysfs node), its partitions and holders likewise, and the mounts in
//! `/proc/self/mountinfo` (proc(5): the third field is the mounted
//! device's MAJOR:MINOR, the fifth its mount point).

use std::path::{Path, PathBuf};

/// Why a disk must not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InUse {
    /// The disk, e.g. `sdb`.
    pub disk: String,
    /// What uses it, for people: "sdb1 is mounted on /media/stick".
    pub why: String,
    /// It holds the root file system: the system runs from it.
    pub system: bool,
}

impl std::fmt::Display for InUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.system {
            write!(f, "{} is the system's disk: {}", self.disk, self.why)
        } else {
            write!(f, "{} is in use: {}", self.disk, self.why)
        }
    }
}

/// Where the system describes its devices and mounts (tests point these
/// at a made-up tree).
#[derive(Debug, Clone)]
pub struct SystemView {
    /// The sysfs root, `/sys`.
    pub sys: PathBuf,
    /// `/proc/self/mountinfo`.
    pub mountinfo: PathBuf,
    /// `/proc/swaps`.
    pub swaps: PathBuf,
}

impl Default for SystemView {
    fn default() -> Self {
        SystemView {
            sys: PathBuf::from("/sys"),
            mountinfo: PathBuf::from("/proc/self/mountinfo"),
            swaps: PathBuf::from("/proc/swaps"),
        }
    }
}

/// Mount points whose disk is the system's own (it runs from it, boots from it).
const SYSTEM_MOUNTS: [&str; 5] = ["/", "/boot", "/boot/efi", "/usr", "/var"];

/// How deep holders are followed (a partition held by dm-crypt held by LVM ...).
const MAX_DEPTH: usize = 8;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

impl SystemView {
    /// The block devices (e.g. `sdb`) behind SCSI generic node `sg` (`/dev/sg2`).
    pub fn block_of_sg(&self, sg: &Path) -> Vec<String> {
        let Some(name) = sg.file_name() else {
            return Vec::new();
        };
        names_in(
            &self
                .sys
                .join("class/scsi_generic")
                .join(name)
                .join("device/block"),
        )
    }

    /// The sysfs directory of USB device BUS:ADDRESS.
    pub fn usb_device_at(&self, bus: u8, address: u8) -> Option<PathBuf> {
        let usb = self.sys.join("bus/usb/devices");
        let found = names_in(&usb).into_iter().find(|d| {
            let dir = usb.join(d);
            read(&dir.join("busnum")).trim() == bus.to_string()
                && read(&dir.join("devnum")).trim() == address.to_string()
        });
        found.and_then(|d| std::fs::canonicalize(usb.join(d)).ok())
    }

    /// The sysfs directory of the USB device SCSI generic node `sg` is on,
    /// if it is on USB: the nearest parent of its SCSI device that has a
    /// `busnum` (a USB device, not one of its interfaces).
    pub fn usb_device_of_sg(&self, sg: &Path) -> Option<PathBuf> {
        let device = self
            .sys
            .join("class/scsi_generic")
            .join(sg.file_name()?)
            .join("device");
        let real = std::fs::canonicalize(device).ok()?;
        real.ancestors()
            .take_while(|dir| dir.starts_with(&self.sys))
            .find(|dir| dir.join("busnum").is_file() && dir.join("devnum").is_file())
            .map(Path::to_path_buf)
    }

    /// The block devices below USB device BUS:ADDRESS (a stick's disk, a
    /// card reader's slots).
    pub fn blocks_of_usb(&self, bus: u8, address: u8) -> Vec<String> {
        let Some(device) = self.usb_device_at(bus, address) else {
            return Vec::new();
        };
        let block = self.sys.join("block");
        names_in(&block)
            .into_iter()
            .filter(|b| {
                std::fs::canonicalize(block.join(b)).is_ok_and(|real| real.starts_with(&device))
            })
            .collect()
    }

    /// The disk itself and each of its partitions, with their sysfs directories.
    /// The partitions the kernel knows of `disk` (`sdb1`, `sdb2`, ...).
    pub fn partitions(&self, disk: &str) -> Vec<String> {
        self.parts(disk)
            .into_iter()
            .skip(1)
            .map(|(name, _)| name)
            .collect()
    }

    fn parts(&self, disk: &str) -> Vec<(String, PathBuf)> {
        let dir = self.sys.join("block").join(disk);
        let mut parts = vec![(disk.to_owned(), dir.clone())];
        for p in names_in(&dir) {
            if dir.join(&p).join("partition").exists() {
                parts.push((p.clone(), dir.join(p)));
            }
        }
        parts
    }

    /// The directory of block device `name` (a disk, a partition or a holder).
    fn block_dir(&self, name: &str) -> PathBuf {
        let class = self.sys.join("class/block").join(name);
        if class.exists() {
            class
        } else {
            self.sys.join("block").join(name)
        }
    }

    /// Checks `disk` (e.g. `sdb`): Err if the system uses it.
    pub fn check(&self, disk: &str) -> Result<(), InUse> {
        let mounts = read(&self.mountinfo);
        let swaps = read(&self.swaps);
        for (name, dir) in self.parts(disk) {
            if let Some((why, system)) = self.used(&name, &dir, &mounts, &swaps, 0) {
                return Err(InUse {
                    disk: disk.to_owned(),
                    why,
                    system,
                });
            }
        }
        Ok(())
    }

    /// What uses block device `name` (sysfs directory `dir`), following holders.
    fn used(
        &self,
        name: &str,
        dir: &Path,
        mounts: &str,
        swaps: &str,
        depth: usize,
    ) -> Option<(String, bool)> {
        let dev = read(&dir.join("dev")).trim().to_owned();
        // A btrfs (or other) file system gets an anonymous device number
        // (0:NN) in mountinfo: its source (after " - " and the type) names
        // the block device instead, /dev/NAME or /dev/mapper/LABEL.
        let dm_name = read(&dir.join("dm/name")).trim().to_owned();
        let sources = [format!("/dev/{name}"), format!("/dev/mapper/{dm_name}")];
        for line in mounts.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            let source = line
                .split_once(" - ")
                .and_then(|(_, rest)| rest.split(' ').nth(1))
                .map(unescape);
            let by_number = !dev.is_empty() && fields.get(2) == Some(&dev.as_str());
            let by_source = source
                .is_some_and(|src| src == sources[0] || (!dm_name.is_empty() && src == sources[1]));
            if by_number || by_source {
                let at = unescape(fields.get(4).map_or("?", |m| *m));
                let system = SYSTEM_MOUNTS.contains(&at.as_str());
                return Some((format!("{name} is mounted on {at}"), system));
            }
        }
        let dev_path = format!("/dev/{name}");
        if swaps
            .lines()
            .skip(1)
            .any(|l| l.split_whitespace().next() == Some(dev_path.as_str()))
        {
            return Some((format!("{name} is in use as swap"), false));
        }
        if depth >= MAX_DEPTH {
            return None;
        }
        // A device built on this one (LVM, RAID, dm-crypt) is using it,
        // mounted or not.
        if let Some(holder) = names_in(&dir.join("holders")).into_iter().next() {
            let holder_dir = self.block_dir(&holder);
            let label = read(&holder_dir.join("dm/name")).trim().to_owned();
            let shown = if label.is_empty() {
                holder.clone()
            } else {
                format!("{holder} ({label})")
            };
            let (why, system) = self
                .used(&holder, &holder_dir, mounts, swaps, depth + 1)
                .unwrap_or_else(|| ("which is open".into(), false));
            return Some((format!("{name} is part of {shown}, {why}"), system));
        }
        None
    }
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        if let Some(b) = code {
            out.push(char::from(b));
            rest = &rest[i + 4..];
        } else {
            out.push('\\');
            rest = &rest[i + 1..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The view of a tree made under `root` (`sys/`, `mountinfo`, `swaps`).
    pub(crate) fn view_under(root: &Path) -> SystemView {
        SystemView {
            sys: root.join("sys"),
            mountinfo: root.join("mountinfo"),
            swaps: root.join("swaps"),
        }
    }

    /// Writes `text` at `rel` under `root`, making the folders (a sysfs tree).
    pub(crate) fn put(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// sda (sda1 /boot, sda2 under LVM root), sdb (sdb1 mounted with a
    /// space in its path), sdc (blank), sdd (swap), via sg0..sg3.
    fn system() -> (tempfile::TempDir, SystemView) {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        for (disk, dev, parts) in [
            ("sda", "8:0", &[("sda1", "8:1"), ("sda2", "8:2")][..]),
            ("sdb", "8:16", &[("sdb1", "8:17")][..]),
            ("sdc", "8:32", &[][..]),
            ("sdd", "8:48", &[][..]),
        ] {
            put(r, &format!("sys/block/{disk}/dev"), &format!("{dev}\n"));
            std::fs::create_dir_all(r.join(format!("sys/block/{disk}/holders"))).unwrap();
            for (p, d) in parts {
                put(r, &format!("sys/block/{disk}/{p}/dev"), &format!("{d}\n"));
                put(r, &format!("sys/block/{disk}/{p}/partition"), "1\n");
            }
        }
        std::fs::create_dir_all(r.join("sys/block/sda/sda2/holders/dm-0")).unwrap();
        put(r, "sys/block/dm-0/dev", "254:0\n");
        put(r, "sys/block/dm-0/dm/name", "vg-root\n");
        for (i, disk) in ["sda", "sdb", "sdc", "sdd"].iter().enumerate() {
            std::fs::create_dir_all(
                r.join(format!("sys/class/scsi_generic/sg{i}/device/block/{disk}")),
            )
            .unwrap();
        }
        put(
            r,
            "mountinfo",
            "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/mapper/vg-root rw\n\
             30 22 8:1 / /boot rw shared:2 - ext2 /dev/sda1 rw\n\
             41 22 8:17 / /media/my\\040stick rw shared:5 - vfat /dev/sdb1 rw\n",
        );
        put(
            r,
            "swaps",
            "Filename\tType\tSize\tUsed\tPriority\n/dev/sdd\tpartition\t1024\t0\t-2\n",
        );
        let view = view_under(r);
        (dir, view)
    }

    #[test]
    fn mounted_swap_and_system_disks_are_named() {
        let (_dir, v) = system();
        let sda = v.check("sda").unwrap_err();
        assert_eq!(sda.why, "sda1 is mounted on /boot");
        assert!(sda.system, "the disk the system boots from");
        let sdb = v.check("sdb").unwrap_err();
        assert_eq!(sdb.why, "sdb1 is mounted on /media/my stick");
        assert!(!sdb.system);
        assert_eq!(v.check("sdc"), Ok(()));
        assert_eq!(v.check("sdd").unwrap_err().why, "sdd is in use as swap");
        assert_eq!(v.block_of_sg(Path::new("/dev/sg1")), ["sdb"]);
        assert!(v.block_of_sg(Path::new("/dev/sg9")).is_empty());
    }

    #[test]
    fn a_disk_under_the_root_volume_is_the_system_disk() {
        let (dir, v) = system();
        // Without /boot, only the LVM root volume on sda2 uses sda.
        put(
            dir.path(),
            "mountinfo",
            "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/mapper/vg-root rw\n",
        );
        let e = v.check("sda").unwrap_err();
        assert!(e.system, "{e}");
        assert_eq!(
            e.why,
            "sda2 is part of dm-0 (vg-root), dm-0 is mounted on /"
        );
        assert!(e.to_string().starts_with("sda is the system's disk"));
    }

    #[test]
    fn a_btrfs_root_is_found_by_its_source_not_its_anonymous_device_number() {
        let (dir, v) = system();
        put(
            dir.path(),
            "mountinfo",
            "22 1 0:25 /@ / rw,relatime shared:1 - btrfs /dev/sdc rw,subvol=/@\n\
             23 1 0:25 /@home /home rw,relatime shared:2 - btrfs /dev/sdc rw\n\
             41 22 0:41 / /media/usb rw - btrfs /dev/mapper/vg-root rw\n",
        );
        let e = v.check("sdc").unwrap_err();
        assert!(e.system, "{e}");
        assert_eq!(
            e.to_string(),
            "sdc is the system's disk: sdc is mounted on /"
        );
        let e = v.check("sda").unwrap_err();
        assert_eq!(
            e.why,
            "sda2 is part of dm-0 (vg-root), dm-0 is mounted on /media/usb"
        );
        assert!(!e.system);
        assert_eq!(v.check("sdb"), Ok(()));
    }
}
