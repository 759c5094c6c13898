//! `sg:/dev/sgN[,force]`: Linux SCSI generic (SG_IO), optical drives and disks.

use std::path::{Path, PathBuf};

use crate::devices::driver::{Discovered, Driver};
use crate::devices::in_use::SystemView;
use crate::devices::{DeviceError, Recorder};
use webburn_scsi::transport::sg_io::{self, SgTransport};

/// The SCSI generic driver.
#[derive(Debug)]
pub struct SgDriver;

impl Driver for SgDriver {
    fn prefix(&self) -> &'static str {
        "sg:"
    }

    fn kind(&self) -> &'static str {
        "sg"
    }

    fn tells_optical(&self) -> bool {
        true
    }

    /// The optical drives and disks sysfs lists (device types 00h and 05h).
    fn discover(&self) -> Vec<Discovered> {
        sg_io::list(Path::new("/sys"))
            .into_iter()
            .filter(|d| matches!(d.device_type, 0 | 5))
            .map(|d| Discovered {
                id: format!("{}{}", self.prefix(), d.path.display()),
                optical: d.device_type == 5,
            })
            .collect()
    }

    fn open(&self, id: &str, rest: &str) -> Result<Recorder, DeviceError> {
        let (path, force) = match rest.split_once(',') {
            Some((p, "force")) => (p, true),
            Some(_) => {
                return Err(DeviceError::BadId(format!(
                    "'{id}' is not sg:/dev/sgN[,force]"
                )));
            }
            None => (rest, false),
        };
        let t = SgTransport::open(Path::new(path)).map_err(|source| DeviceError::Device {
            id: id.to_owned(),
            source,
        })?;
        let node = PathBuf::from(path);
        let on_usb = node.clone();
        let rec = Recorder::from_transport(format!("{}{path}", self.prefix()), Box::new(t));
        Ok(rec
            .with_system_disks(move |view: &SystemView| view.block_of_sg(&node), force)
            .with_usb_device(move |view: &SystemView| view.usb_device_of_sg(&on_usb)))
    }
}

#[cfg(test)]
mod tests {
    use webburn_shared::HResult;

    #[test]
    fn a_missing_sg_recorder_is_dev_not_exist() {
        let err = crate::devices::Recorder::open("sg:/dev/sg-webburn-none").unwrap_err();
        assert_eq!(err.hresult(), HResult::E_DEV_NOT_EXIST);
        assert!(err.to_string().contains("sg:/dev/sg-webburn-none"));
    }
}
