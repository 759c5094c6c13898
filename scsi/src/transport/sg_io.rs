//! Linux SCSI generic: one `ioctl(SG_IO)` per command on /dev/sgN or
//! /dev/srN (the kernel's SCSI Generic HOWTO, sg_io_hdr v3), the device opened O_RDWR | O_EXCL | O_NONBLOCK.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::sense::Sense;
use crate::transport::{
    Completion, DEFAULT_MAX_TRANSFER, DISK_MAX_TRANSFER, DataDirection, ScsiCommand, ScsiStatus,
    ScsiTransport, TransportError,
};

/// The SG_IO ioctl request.
pub const SG_IO: u64 = 0x2285;
/// Sense buffer size (as libburn).
const SENSE_LEN: u8 = 32;

/// `struct sg_io_hdr` of <scsi/sg.h>.
#[repr(C)]
#[derive(Debug)]
pub struct SgIoHdr {
    /// 'S'.
    pub interface_id: i32,
    /// SG_DXFER_NONE -1, TO_DEV -2, FROM_DEV -3.
    pub dxfer_direction: i32,
    /// CDB length.
    pub cmd_len: u8,
    /// Sense buffer size.
    pub mx_sb_len: u8,
    /// 0: flat buffer.
    pub iovec_count: u16,
    /// Data bytes.
    pub dxfer_len: u32,
    /// Data buffer.
    pub dxferp: *mut u8,
    /// CDB.
    pub cmdp: *const u8,
    /// Sense buffer.
    pub sbp: *mut u8,
    /// Milliseconds.
    pub timeout: u32,
    /// SG_FLAG_*.
    pub flags: u32,
    /// Unused here.
    pub pack_id: i32,
    /// Unused here.
    pub usr_ptr: *mut u8,
    /// SCSI status.
    pub status: u8,
    /// Status shifted right by one.
    pub masked_status: u8,
    /// Unused by Linux.
    pub msg_status: u8,
    /// Sense bytes written.
    pub sb_len_wr: u8,
    /// Host adapter status.
    pub host_status: u16,
    /// Driver status.
    pub driver_status: u16,
    /// Data bytes not moved.
    pub resid: i32,
    /// Milliseconds taken.
    pub duration: u32,
    /// SG_INFO_* (bit 0: something went wrong).
    pub info: u32,
}

/// The outputs of a completed SG_IO, decoded without the pointers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SgResult {
    /// SCSI status byte.
    pub status: u8,
    /// Sense bytes written.
    pub sb_len_wr: u8,
    /// Host adapter status.
    pub host_status: u16,
    /// Driver status.
    pub driver_status: u16,
    /// Data bytes not moved.
    pub resid: i32,
    /// SG_INFO_* bits.
    pub info: u32,
}

const DID_NO_CONNECT: u16 = 0x01;
const DID_TIME_OUT: u16 = 0x03;
const DID_BAD_TARGET: u16 = 0x04;
const DRIVER_TIMEOUT: u16 = 0x06;
const DRIVER_SENSE: u16 = 0x08;

/// Turns SG_IO's outputs into a completion (the kernel's SCSI Generic HOWTO): good when info
/// bit 0 is clear; sense when the status or driver says so; the host
/// adapter's failures as a lost device or a timeout.
pub fn decode(
    r: &SgResult,
    sense: &[u8],
    timeout: Duration,
    expected: usize,
) -> Result<Completion, TransportError> {
    let residue = usize::try_from(r.resid).unwrap_or(0).min(expected);
    match r.host_status {
        0 => {}
        DID_NO_CONNECT | DID_BAD_TARGET => {
            return Err(TransportError::DeviceGone(format!(
                "host status {:#x}",
                r.host_status
            )));
        }
        DID_TIME_OUT => return Err(TransportError::Timeout(timeout)),
        other => {
            return Err(TransportError::Protocol(format!(
                "SG_IO host status {other:#x}"
            )));
        }
    }
    if r.driver_status & 0x0F == DRIVER_TIMEOUT {
        return Err(TransportError::Timeout(timeout));
    }
    if r.info & 1 == 0 {
        return Ok(Completion {
            status: ScsiStatus::Good,
            sense: None,
            residue,
        });
    }
    let has_sense = r.status == 0x02 || r.driver_status & DRIVER_SENSE != 0 || r.sb_len_wr > 0;
    let status = match r.status {
        0x00 | 0x02 => ScsiStatus::CheckCondition,
        0x08 => ScsiStatus::Busy,
        s => ScsiStatus::Other(s),
    };
    let sense = if has_sense {
        Sense::parse(&sense[..usize::from(r.sb_len_wr).min(sense.len())])
    } else {
        None
    };
    Ok(Completion {
        status,
        sense,
        residue,
    })
}

/// A device opened for SG_IO.
#[derive(Debug)]
pub struct SgTransport {
    file: File,
    path: PathBuf,
    max_transfer: usize,
}

impl SgTransport {
    /// Opens `path` (/dev/sgN or /dev/srN) read-write, exclusively, non-blocking.
    pub fn open(path: &Path) -> std::io::Result<SgTransport> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_EXCL | libc::O_NONBLOCK)
            .open(path)?;
        let max_transfer = max_hw_bytes(Path::new("/sys"), path)
            .map_or(DEFAULT_MAX_TRANSFER, |m| m.min(DISK_MAX_TRANSFER));
        Ok(SgTransport {
            file,
            path: path.to_path_buf(),
            max_transfer,
        })
    }
}

impl ScsiTransport for SgTransport {
    fn execute(&mut self, command: ScsiCommand<'_>) -> Result<Completion, TransportError> {
        let cmd_len = super::check_cdb(command.cdb)?;
        let (direction, ptr, len) = match command.data {
            DataDirection::None => (-1, std::ptr::null_mut(), 0),
            // SG_IO does not write through a TO_DEV buffer; the kernel only reads it.
            DataDirection::ToDevice(d) => (-2, d.as_ptr().cast_mut(), d.len()),
            DataDirection::FromDevice(d) => (-3, d.as_mut_ptr(), d.len()),
        };
        let mut sense = [0u8; SENSE_LEN as usize];
        let timeout_ms = u32::try_from(command.timeout.as_millis()).unwrap_or(u32::MAX);
        let mut hdr = SgIoHdr {
            interface_id: i32::from(b'S'),
            dxfer_direction: direction,
            cmd_len,
            mx_sb_len: SENSE_LEN,
            iovec_count: 0,
            dxfer_len: u32::try_from(len)
                .map_err(|_| TransportError::InvalidCommand("transfer too large".into()))?,
            dxferp: ptr,
            cmdp: command.cdb.as_ptr(),
            sbp: sense.as_mut_ptr(),
            timeout: timeout_ms,
            flags: 0,
            pack_id: 0,
            usr_ptr: std::ptr::null_mut(),
            status: 0,
            masked_status: 0,
            msg_status: 0,
            sb_len_wr: 0,
            host_status: 0,
            driver_status: 0,
            resid: 0,
            duration: 0,
            info: 0,
        };
        #[allow(unsafe_code)]
        // SAFETY: `hdr` is a valid sg_io_hdr whose pointers (CDB, data, sense)
        // point to buffers that outlive this synchronous call and have the
        // lengths the header states; the fd is open for the call's duration.
        let rc = unsafe {
            libc::ioctl(
                self.file.as_raw_fd(),
                SG_IO as _,
                std::ptr::from_mut(&mut hdr),
            )
        };
        if rc < 0 {
            let e = std::io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                Some(libc::ENODEV | libc::ENXIO) => {
                    TransportError::DeviceGone(format!("{}: {e}", self.path.display()))
                }
                _ => TransportError::Io(e),
            });
        }
        let result = SgResult {
            status: hdr.status,
            sb_len_wr: hdr.sb_len_wr,
            host_status: hdr.host_status,
            driver_status: hdr.driver_status,
            resid: hdr.resid,
            info: hdr.info,
        };
        decode(&result, &sense, command.timeout, len)
    }

    fn max_transfer_bytes(&self) -> usize {
        self.max_transfer
    }
}

fn read_trimmed(p: &Path) -> Option<String> {
    std::fs::read_to_string(p).ok().map(|s| s.trim().to_owned())
}

/// The largest transfer the kernel allows for `dev`, from sysfs
/// (`max_hw_sectors_kb` of its block queue).
pub fn max_hw_bytes(sys: &Path, dev: &Path) -> Option<usize> {
    let name = dev.file_name()?.to_str()?;
    let queue = if name.starts_with("sg") {
        let block = sys
            .join("class/scsi_generic")
            .join(name)
            .join("device/block");
        let first = std::fs::read_dir(block).ok()?.next()?.ok()?;
        first.path().join("queue/max_hw_sectors_kb")
    } else {
        sys.join("block").join(name).join("queue/max_hw_sectors_kb")
    };
    read_trimmed(&queue)?
        .parse::<usize>()
        .ok()
        .map(|kb| kb * 1024)
}

/// A SCSI generic device as sysfs describes it (the kernel's INQUIRY).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SgDevice {
    /// /dev/sgN.
    pub path: PathBuf,
    /// INQUIRY vendor.
    pub vendor: String,
    /// INQUIRY product.
    pub model: String,
    /// INQUIRY revision.
    pub revision: String,
    /// Peripheral device type (0 disk, 5 CD/DVD).
    pub device_type: u8,
}

/// Every /dev/sgN under `sys` (normally /sys), in name order.
pub fn list(sys: &Path) -> Vec<SgDevice> {
    let Ok(entries) = std::fs::read_dir(sys.join("class/scsi_generic")) else {
        return Vec::new();
    };
    let mut out: Vec<SgDevice> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_owned();
            let dev = e.path().join("device");
            Some(SgDevice {
                path: PathBuf::from("/dev").join(&name),
                vendor: read_trimmed(&dev.join("vendor")).unwrap_or_default(),
                model: read_trimmed(&dev.join("model")).unwrap_or_default(),
                revision: read_trimmed(&dev.join("rev")).unwrap_or_default(),
                device_type: read_trimmed(&dev.join("type"))?.parse().ok()?,
            })
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

#[cfg(test)]
mod tests;
