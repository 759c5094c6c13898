//! The real USB side of Bulk-Only: finding mass-storage interfaces (class
//! 08, subclass 06 or 02, protocol 50) with rusb, claiming one (detaching the
//! kernel's driver only when asked, re-attaching it on close), and the bulk
//! and control transfers a [`BulkPipe`] needs.

use std::time::Duration;

use rusb::{Context, Device, DeviceHandle, Direction, Speed, TransferType, UsbContext};

use super::device_memory::DeviceMemory;
use super::{BulkPipe, Endpoint, PipeError};
use webburn_shared::HResult;

use crate::transport::{DriverError, USB_MAX_TRANSFER, USB3_MAX_TRANSFER};

/// Class, subclasses and protocol of a Bulk-Only mass-storage interface.
const MASS_STORAGE: u8 = 0x08;
const SUBCLASS_SCSI: u8 = 0x06;
const SUBCLASS_ATAPI: u8 = 0x02;
const BULK_ONLY: u8 = 0x50;
/// Control requests of reset recovery.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(5);

/// Why USB cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum UsbError {
    /// No USB support here (no libusb backend, no /dev/bus/usb).
    #[error("USB unavailable: {0}")]
    Unavailable(String),
    /// No device at that bus and address, or it has no Bulk-Only interface.
    #[error("no USB mass-storage device at bus {bus} address {address}")]
    NotFound {
        /// Bus number.
        bus: u8,
        /// Device address.
        address: u8,
    },
    /// The kernel's usb-storage driver holds the interface.
    #[error(
        "the kernel's driver holds bus {bus} address {address}: add ,detach to the recorder id to take it over"
    )]
    KernelDriver {
        /// Bus number.
        bus: u8,
        /// Device address.
        address: u8,
    },
    /// Opening or claiming failed.
    #[error("USB: {0}")]
    Usb(#[from] rusb::Error),
}

impl DriverError for UsbError {
    fn hresult(&self) -> HResult {
        match self {
            UsbError::KernelDriver { .. } | UsbError::Usb(rusb::Error::Busy) => {
                HResult::E_IMAPI_RECORDER_LOCKED
            }
            UsbError::Unavailable(_) | UsbError::NotFound { .. } => HResult::E_DEV_NOT_EXIST,
            UsbError::Usb(rusb::Error::Access) => HResult::E_ACCESSDENIED,
            UsbError::Usb(_) => HResult::E_FAIL,
        }
    }
}

/// A mass-storage interface found on the bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbMassStorage {
    /// Bus number.
    pub bus: u8,
    /// Device address.
    pub address: u8,
    /// Vendor id.
    pub vendor_id: u16,
    /// Product id.
    pub product_id: u16,
    /// Interface number.
    pub interface: u8,
    /// Bulk IN endpoint address.
    pub ep_in: u8,
    /// Bulk OUT endpoint address.
    pub ep_out: u8,
    /// Attached at SuperSpeed (USB 3) or faster.
    pub super_speed: bool,
}

impl UsbMassStorage {
    /// The most data one command carries: what Linux's usb-storage lets
    /// the device take ([`USB_MAX_TRANSFER`], or [`USB3_MAX_TRANSFER`] at
    /// SuperSpeed), so a stick gets the commands it is known to take.
    pub fn max_transfer(&self) -> usize {
        if self.super_speed {
            USB3_MAX_TRANSFER
        } else {
            USB_MAX_TRANSFER
        }
    }
}

/// A libusb context; libusb's global one panics where there is no USB.
pub fn context() -> Result<Context, UsbError> {
    Context::new().map_err(|e| UsbError::Unavailable(e.to_string()))
}

fn mass_storage_of(device: &Device<Context>) -> Option<UsbMassStorage> {
    let desc = device.device_descriptor().ok()?;
    let config = device.active_config_descriptor().ok()?;
    for iface in config.interfaces() {
        for alt in iface.descriptors() {
            let bot = alt.class_code() == MASS_STORAGE
                && matches!(alt.sub_class_code(), SUBCLASS_SCSI | SUBCLASS_ATAPI)
                && alt.protocol_code() == BULK_ONLY;
            if !bot {
                continue;
            }
            let bulk = |dir| {
                alt.endpoint_descriptors()
                    .find(|e| e.transfer_type() == TransferType::Bulk && e.direction() == dir)
                    .map(|e| e.address())
            };
            return Some(UsbMassStorage {
                bus: device.bus_number(),
                address: device.address(),
                vendor_id: desc.vendor_id(),
                product_id: desc.product_id(),
                interface: alt.interface_number(),
                ep_in: bulk(Direction::In)?,
                ep_out: bulk(Direction::Out)?,
                super_speed: matches!(device.speed(), Speed::Super | Speed::SuperPlus),
            });
        }
    }
    None
}

/// Every Bulk-Only mass-storage interface on the system's buses.
pub fn list() -> Result<Vec<UsbMassStorage>, UsbError> {
    let ctx = context()?;
    let devices = ctx
        .devices()
        .map_err(|e| UsbError::Unavailable(e.to_string()))?;
    Ok(devices.iter().filter_map(|d| mass_storage_of(&d)).collect())
}

/// A claimed mass-storage interface.
#[derive(Debug)]
pub struct RusbPipe {
    /// Data stages are copied here first when the system maps it (see
    /// [`DeviceMemory`]); freed before the handle closes.
    staging: Option<DeviceMemory>,
    handle: DeviceHandle<Context>,
    found: UsbMassStorage,
    reattach: bool,
}

impl RusbPipe {
    /// Opens and claims the device at `bus`/`address`; with `detach`, takes the
    /// interface from the kernel's driver (given back on drop).
    pub fn open(bus: u8, address: u8, detach: bool) -> Result<RusbPipe, UsbError> {
        let ctx = context()?;
        let devices = ctx
            .devices()
            .map_err(|e| UsbError::Unavailable(e.to_string()))?;
        let device = devices
            .iter()
            .find(|d| d.bus_number() == bus && d.address() == address)
            .ok_or(UsbError::NotFound { bus, address })?;
        let found = mass_storage_of(&device).ok_or(UsbError::NotFound { bus, address })?;
        let handle = device.open()?;
        let held = handle
            .kernel_driver_active(found.interface)
            .unwrap_or(false);
        if held && !detach {
            return Err(UsbError::KernelDriver { bus, address });
        }
        if held {
            handle.detach_kernel_driver(found.interface)?;
        }
        if let Err(e) = handle.claim_interface(found.interface) {
            if held {
                let _ = handle.attach_kernel_driver(found.interface);
            }
            return Err(e.into());
        }
        let staging = DeviceMemory::new(&handle, found.max_transfer());
        Ok(RusbPipe {
            staging,
            handle,
            found,
            reattach: held,
        })
    }

    /// What was opened.
    pub fn device(&self) -> &UsbMassStorage {
        &self.found
    }
}

impl Drop for RusbPipe {
    fn drop(&mut self) {
        self.staging = None;
        let _ = self.handle.release_interface(self.found.interface);
        if self.reattach {
            let _ = self.handle.attach_kernel_driver(self.found.interface);
        }
    }
}

fn pipe_error(e: rusb::Error) -> PipeError {
    match e {
        rusb::Error::Pipe => PipeError::Stall,
        rusb::Error::Timeout => PipeError::Timeout,
        rusb::Error::NoDevice => PipeError::NoDevice,
        e => PipeError::Other(e.to_string()),
    }
}

impl BulkPipe for RusbPipe {
    fn bulk_out(&mut self, data: &[u8], timeout: Duration) -> Result<usize, PipeError> {
        let out = match self.staging.as_mut() {
            Some(staging) if data.len() <= staging.capacity() => {
                let buf = &mut staging.as_mut_slice()[..data.len()];
                buf.copy_from_slice(data);
                self.handle.write_bulk(self.found.ep_out, buf, timeout)
            }
            _ => self.handle.write_bulk(self.found.ep_out, data, timeout),
        };
        out.map_err(pipe_error)
    }

    fn bulk_in(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, PipeError> {
        self.handle
            .read_bulk(self.found.ep_in, buf, timeout)
            .map_err(pipe_error)
    }

    fn clear_halt(&mut self, endpoint: Endpoint) -> Result<(), PipeError> {
        let ep = match endpoint {
            Endpoint::In => self.found.ep_in,
            Endpoint::Out => self.found.ep_out,
        };
        self.handle.clear_halt(ep).map_err(pipe_error)
    }

    fn mass_storage_reset(&mut self) -> Result<(), PipeError> {
        // Class request to the interface: bmRequestType 0x21, bRequest 0xFF.
        let iface = u16::from(self.found.interface);
        self.handle
            .write_control(0x21, 0xFF, 0, iface, &[], CONTROL_TIMEOUT)
            .map(|_| ())
            .map_err(pipe_error)
    }

    fn get_max_lun(&mut self) -> Result<u8, PipeError> {
        // bmRequestType 0xA1, bRequest 0xFE, one byte back.
        let mut lun = [0u8; 1];
        let iface = u16::from(self.found.interface);
        match self
            .handle
            .read_control(0xA1, 0xFE, 0, iface, &mut lun, Duration::from_secs(1))
        {
            Ok(1) => Ok(lun[0]),
            Ok(_) => Ok(0),
            Err(e) => Err(pipe_error(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerating_never_panics_and_reports_no_usb_cleanly() {
        // On machines without USB (CI containers) this is Unavailable or an
        // empty list; on others, whatever mass storage is plugged in.
        match list() {
            Ok(found) => {
                for d in found {
                    assert!(d.ep_in & 0x80 != 0 && d.ep_out & 0x80 == 0, "{d:?}");
                }
            }
            Err(e) => assert!(e.to_string().starts_with("USB unavailable"), "{e}"),
        }
        assert!(matches!(
            RusbPipe::open(255, 255, false),
            Err(UsbError::NotFound { .. } | UsbError::Unavailable(_))
        ));
    }

    #[test]
    fn a_superspeed_stick_takes_commands_as_large_as_linux_sends_it() {
        let mut stick = UsbMassStorage {
            bus: 2,
            address: 2,
            vendor_id: 0x46f4,
            product_id: 1,
            interface: 0,
            ep_in: 0x81,
            ep_out: 0x02,
            super_speed: false,
        };
        assert_eq!(stick.max_transfer(), 120 * 1024);
        stick.super_speed = true;
        assert_eq!(stick.max_transfer(), 1024 * 1024);
    }
}
