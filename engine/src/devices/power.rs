//! Powering a USB disk off after it was written, as a desktop's "Power Off"
//! or "Safely Remove" does: the system lets go of the device and turns its
//! hub port off where the hub can, so the stick may be pulled out (Linux:
//! `1` written to the USB device's `remove` attribute, sysfs-bus-usb ABI;
//! it needs write access to sysfs). It comes back only when it is plugged
//! in again.

use std::path::{Path, PathBuf};

/// Why a disk was not powered off.
#[derive(Debug, thiserror::Error)]
pub enum PowerOffError {
    /// The recorder is not a disk on USB.
    #[error("{0} is not a device on USB")]
    NotOnUsb(String),
    /// The system shows no USB device for the recorder (now).
    #[error("the system shows no USB device for {0}")]
    NoDevice(String),
    /// The system refused to let go of it.
    #[error("{}: {source}", device.display())]
    Refused {
        /// The device's sysfs directory.
        device: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Removes the USB device whose sysfs directory is `device`.
pub fn power_off(device: &Path) -> std::io::Result<()> {
    std::fs::write(device.join("remove"), "1")
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::devices::in_use::tests::{put, view_under};

    #[test]
    fn the_usb_device_of_a_stick_is_found_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        let usb = "sys/devices/pci0000:00/0000:00:14.0/usb2/2-1";
        put(r, &format!("{usb}/busnum"), "2\n");
        put(r, &format!("{usb}/devnum"), "5\n");
        put(r, &format!("{usb}/remove"), "");
        // The root hub has busnum and devnum too; the stick is nearer.
        put(r, "sys/devices/pci0000:00/0000:00:14.0/usb2/busnum", "2\n");
        put(r, "sys/devices/pci0000:00/0000:00:14.0/usb2/devnum", "1\n");
        let scsi = format!("{usb}/2-1:1.0/host4/target4:0:0/4:0:0:0");
        std::fs::create_dir_all(r.join(&scsi)).unwrap();
        std::fs::create_dir_all(r.join("sys/class/scsi_generic/sg1")).unwrap();
        std::os::unix::fs::symlink(r.join(&scsi), r.join("sys/class/scsi_generic/sg1/device"))
            .unwrap();
        std::fs::create_dir_all(r.join("sys/bus/usb/devices")).unwrap();
        std::os::unix::fs::symlink(r.join(usb), r.join("sys/bus/usb/devices/2-1")).unwrap();
        let view = view_under(r);
        let real = std::fs::canonicalize(r.join(usb)).unwrap();
        assert_eq!(
            view.usb_device_of_sg(Path::new("/dev/sg1")),
            Some(real.clone())
        );
        assert_eq!(view.usb_device_at(2, 5), Some(real.clone()));
        assert_eq!(view.usb_device_at(2, 6), None);
        assert_eq!(view.usb_device_of_sg(Path::new("/dev/sg7")), None);
        power_off(&real).unwrap();
        assert_eq!(std::fs::read_to_string(real.join("remove")).unwrap(), "1");
    }

    #[test]
    fn a_disk_not_on_usb_has_no_usb_device() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        let scsi = "sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0";
        std::fs::create_dir_all(r.join(scsi)).unwrap();
        std::fs::create_dir_all(r.join("sys/class/scsi_generic/sg0")).unwrap();
        std::os::unix::fs::symlink(r.join(scsi), r.join("sys/class/scsi_generic/sg0/device"))
            .unwrap();
        assert_eq!(view_under(r).usb_device_of_sg(Path::new("/dev/sg0")), None);
    }
}
