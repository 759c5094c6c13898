//! `usb:BUS:ADDRESS[,detach][,force]`: SCSI over USB Bulk-Only on LUN 0,
//! through libusb.

use crate::devices::driver::{Discovered, Driver};
use crate::devices::in_use::SystemView;
use crate::devices::{DeviceError, Recorder};
use webburn_scsi::transport::usb_bot::BotTransport;
use webburn_scsi::transport::usb_bot::rusb_pipe::{self, RusbPipe};

/// The USB Bulk-Only driver.
#[derive(Debug)]
pub struct UsbDriver;

impl Driver for UsbDriver {
    fn prefix(&self) -> &'static str {
        "usb:"
    }

    fn kind(&self) -> &'static str {
        "usb"
    }

    /// The mass-storage devices on the bus (their device type is known only
    /// once opened, so none counts as optical here).
    fn discover(&self) -> Vec<Discovered> {
        rusb_pipe::list()
            .unwrap_or_default()
            .into_iter()
            .map(|d| Discovered {
                id: format!("{}{}:{}", self.prefix(), d.bus, d.address),
                optical: false,
            })
            .collect()
    }

    fn open(&self, id: &str, rest: &str) -> Result<Recorder, DeviceError> {
        let bad = || DeviceError::BadId(format!("'{id}' is not usb:BUS:ADDRESS[,detach][,force]"));
        let mut parts = rest.split(',');
        let addr = parts.next().unwrap_or_default();
        let (mut detach, mut force) = (false, false);
        for option in parts {
            match option {
                "detach" => detach = true,
                "force" => force = true,
                _ => return Err(bad()),
            }
        }
        let (bus, address) = addr.split_once(':').ok_or_else(bad)?;
        let (bus, address): (u8, u8) = (
            bus.parse().map_err(|_| bad())?,
            address.parse().map_err(|_| bad())?,
        );
        let disks = move |view: &SystemView| view.blocks_of_usb(bus, address);
        if detach && !force {
            // The kernel's driver is let go of only when nothing of the stick is in use.
            let view = SystemView::default();
            for disk in disks(&view) {
                view.check(&disk).map_err(DeviceError::InUse)?;
            }
        }
        let pipe = RusbPipe::open(bus, address, detach).map_err(DeviceError::driver)?;
        let max_transfer = pipe.device().max_transfer();
        let transport = BotTransport::new(pipe, 0, max_transfer);
        let rec = Recorder::from_transport(
            format!("{}{bus}:{address}", self.prefix()),
            Box::new(transport),
        );
        Ok(rec
            .with_system_disks(disks, force)
            .with_usb_device(move |view: &SystemView| view.usb_device_at(bus, address)))
    }
}
