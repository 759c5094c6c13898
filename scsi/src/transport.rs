//! The one trait every device path implements: execute one SCSI command
//! (CDB, data direction and buffer, timeout) and report status, sense and
//! residue. The emulated recorder, SG_IO (Linux), SPTI (Windows) and USB
//! Bulk-Only all sit behind it.

#[cfg(target_os = "linux")]
pub mod sg_io;
#[cfg(windows)]
pub mod spti;
pub mod usb_bot;

use std::time::Duration;

use webburn_shared::HResult;

use crate::sense::Sense;

/// A driver's own reason it could not open a device, and the HRESULT that
/// reason means. The recorder layer carries it boxed, so a new driver's
/// errors need no change there.
pub trait DriverError: std::error::Error + Send + Sync + 'static {
    /// The HRESULT a client sees for this failure.
    fn hresult(&self) -> HResult;
}

/// Default largest data transfer per command (libburn 64 KiB, growisofs 32 KiB, cdrecord 63 KiB): what
/// optical drives are written with.
pub const DEFAULT_MAX_TRANSFER: usize = 64 * 1024;

/// Largest transfer per command to a disk (a USB stick, a hard disk), where
/// the transport allows it: fewer, larger WRITEs.
pub const DISK_MAX_TRANSFER: usize = 1024 * 1024;

/// Largest transfer per command over USB Bulk-Only: Linux's usb-storage
/// default (240 sectors), which sticks are known to take.
pub const USB_MAX_TRANSFER: usize = 240 * 512;

/// Largest transfer per command over USB Bulk-Only to a SuperSpeed device:
/// Linux's usb-storage raises its limit to 2048 sectors for USB 3 devices.
pub const USB3_MAX_TRANSFER: usize = 2048 * 512;

/// The data stage of a command.
#[derive(Debug)]
pub enum DataDirection<'a> {
    /// No data stage.
    None,
    /// Host to device (e.g. WRITE).
    ToDevice(&'a [u8]),
    /// Device to host (e.g. INQUIRY).
    FromDevice(&'a mut [u8]),
}

/// The lengths of a CDB every transport carries: the 6-, 10-, 12- and
/// 16-byte groups of SPC-4 4.2.5 and the vendor lengths between them.
pub const CDB_LENGTHS: std::ops::RangeInclusive<usize> = 6..=16;

/// The length of `cdb` for a transport's length field, or its refusal
/// when no transport carries it (before any device sees it).
pub fn check_cdb(cdb: &[u8]) -> Result<u8, TransportError> {
    u8::try_from(cdb.len())
        .ok()
        .filter(|n| CDB_LENGTHS.contains(&usize::from(*n)))
        .ok_or_else(|| {
            TransportError::InvalidCommand(format!(
                "a CDB of {} bytes (a CDB has 6 to 16)",
                cdb.len()
            ))
        })
}

/// One SCSI command.
#[derive(Debug)]
pub struct ScsiCommand<'a> {
    /// The CDB, 6 to 16 bytes.
    pub cdb: &'a [u8],
    /// The data stage.
    pub data: DataDirection<'a>,
    /// How long the device may take.
    pub timeout: Duration,
}

/// SCSI status byte of a completed command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScsiStatus {
    /// 00h.
    Good,
    /// 02h: sense data describes the failure.
    CheckCondition,
    /// 08h.
    Busy,
    /// Anything else.
    Other(u8),
}

/// What the device answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// Status byte.
    pub status: ScsiStatus,
    /// Sense data (autosense) when the status is CHECK CONDITION.
    pub sense: Option<Sense>,
    /// Bytes of the data stage not transferred.
    pub residue: usize,
}

impl Completion {
    /// GOOD status, everything transferred.
    pub fn good() -> Self {
        Completion {
            status: ScsiStatus::Good,
            sense: None,
            residue: 0,
        }
    }

    /// CHECK CONDITION with `sense`; nothing transferred (`residue` bytes missing).
    pub fn check(sense: Sense, residue: usize) -> Self {
        Completion {
            status: ScsiStatus::CheckCondition,
            sense: Some(sense),
            residue,
        }
    }
}

/// The command did not complete at the SCSI level.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The device did not answer within the command's timeout.
    #[error("the device did not answer within {0:?}")]
    Timeout(Duration),
    /// The device is gone (unplugged, powered off, medium bay removed).
    #[error("the device is gone: {0}")]
    DeviceGone(String),
    /// The command cannot be sent (e.g. a CDB length the transport refuses).
    #[error("invalid command: {0}")]
    InvalidCommand(String),
    /// An operating-system error from the transport.
    #[error("transport I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The device broke the transport's protocol (e.g. an invalid CSW, a phase error).
    #[error("the device broke the transport protocol: {0}")]
    Protocol(String),
    /// Another program holds the device, or the system uses it.
    #[error("{0}")]
    InUse(String),
}

impl TransportError {
    /// The HRESULT a write reports for this failure.
    pub fn hresult(&self) -> HResult {
        match self {
            TransportError::Timeout(_) => HResult::E_IMAPI_RECORDER_COMMAND_TIMEOUT,
            TransportError::DeviceGone(_) => HResult::E_DEV_NOT_EXIST,
            TransportError::InvalidCommand(_) => HResult::E_INVALIDARG,
            TransportError::Io(_) => HResult::E_FAIL,
            TransportError::Protocol(_) => HResult::E_IMAPI_RECORDER_INVALID_RESPONSE_FROM_DEVICE,
            TransportError::InUse(_) => HResult::E_IMAPI_RECORDER_LOCKED,
        }
    }
}

/// A device that executes SCSI commands.
pub trait ScsiTransport: Send {
    /// Runs one command to completion (or until its timeout).
    fn execute(&mut self, command: ScsiCommand<'_>) -> Result<Completion, TransportError>;

    /// The largest data stage this transport carries in one command.
    fn max_transfer_bytes(&self) -> usize {
        DEFAULT_MAX_TRANSFER
    }

    /// Takes the device for this process alone before the first WRITE and
    /// keeps it until the transport is dropped (Windows: an optical drive's
    /// exclusive-access lock, a disk's volumes locked and dismounted). The
    /// other paths hold the device alone from their open.
    fn take_for_writing(&mut self) -> Result<(), TransportError> {
        Ok(())
    }

    /// After a disk was written: the system reads its partition table
    /// again where the transport itself can ask (Windows:
    /// `IOCTL_DISK_UPDATE_PROPERTIES` on a PhysicalDrive). `Ok(false)`
    /// where it cannot; on Linux the recorder asks through the block device.
    fn refresh_partitions(&mut self) -> Result<bool, TransportError> {
        Ok(false)
    }
}
