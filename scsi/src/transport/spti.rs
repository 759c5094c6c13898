//! Windows SCSI pass-through (SPTI): one
//! `DeviceIoControl(IOCTL_SCSI_PASS_THROUGH_DIRECT)` per command on `\\.\D:`,
//! `\\.\CdRomN` or `\\.\PhysicalDriveN` (the Windows Driver Kit's
//! ntddscsi.h): the CDB, the data buffer in place (aligned to the adapter's
//! `AlignmentMask`) and a sense buffer right after the request. The device
//! is opened for reading and writing, shared with other readers and writers
//! as Windows' own burning does; [`access`] then takes it for this process
//! alone (the optical drive's exclusive-access lock, a disk's volumes
//! locked and dismounted).

pub mod access;
pub mod discover;

use std::fs::{File, OpenOptions};
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::AsRawHandle;
use std::time::Duration;

use windows_sys::Win32::Foundation::{
    ERROR_ACCESS_DENIED, ERROR_DEVICE_NOT_CONNECTED, ERROR_FILE_NOT_FOUND, ERROR_NO_SUCH_DEVICE,
    ERROR_NOT_READY, ERROR_PATH_NOT_FOUND, ERROR_SEM_TIMEOUT, ERROR_SHARING_VIOLATION,
};
use windows_sys::Win32::Storage::FileSystem::{FILE_SHARE_READ, FILE_SHARE_WRITE};
use windows_sys::Win32::Storage::IscsiDisc::{
    IOCTL_SCSI_PASS_THROUGH_DIRECT, SCSI_IOCTL_DATA_IN, SCSI_IOCTL_DATA_OUT,
    SCSI_IOCTL_DATA_UNSPECIFIED, SCSI_PASS_THROUGH_DIRECT,
};
use windows_sys::Win32::System::IO::DeviceIoControl;
use windows_sys::Win32::System::Ioctl::{
    IOCTL_DISK_UPDATE_PROPERTIES, IOCTL_STORAGE_QUERY_PROPERTY, PropertyStandardQuery,
    STORAGE_ADAPTER_DESCRIPTOR, STORAGE_PROPERTY_ID, STORAGE_PROPERTY_QUERY,
    StorageAdapterProperty,
};

use crate::sense::Sense;
use crate::transport::{
    Completion, DEFAULT_MAX_TRANSFER, DISK_MAX_TRANSFER, DataDirection, ScsiCommand, ScsiStatus,
    ScsiTransport, TransportError,
};

/// Sense bytes asked for (as libburn and the SG_IO path).
pub const SENSE_LEN: usize = 32;

/// The longest timeout SPTI takes: 30 hours, in seconds (ntddscsi.h).
const MAX_TIMEOUT_SECONDS: u32 = 108_000;

/// `SCSI_PASS_THROUGH_DIRECT` followed by its sense buffer: one request,
/// `SenseInfoOffset` pointing at `sense`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SptdRequest {
    /// The pass-through header.
    pub sptd: SCSI_PASS_THROUGH_DIRECT,
    /// Autosense lands here.
    pub sense: [u8; SENSE_LEN],
}

impl std::fmt::Debug for SptdRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SptdRequest")
            .field("cdb", &&self.sptd.Cdb[..usize::from(self.sptd.CdbLength)])
            .field("length", &self.sptd.DataTransferLength)
            .finish_non_exhaustive()
    }
}

impl SptdRequest {
    /// The request for `cdb` moving `len` bytes at `buffer` in `direction`
    /// (`SCSI_IOCTL_DATA_*`), allowed `timeout` (rounded up to whole
    /// seconds, at least one).
    // The casts are of fixed sizes and offsets (the structure is 56 bytes)
    // and of SCSI_IOCTL_DATA_* (0 to 2); the lengths from outside are checked.
    #[allow(clippy::cast_possible_truncation)]
    pub fn new(
        cdb: &[u8],
        direction: u32,
        buffer: *mut u8,
        len: usize,
        timeout: Duration,
    ) -> Result<SptdRequest, TransportError> {
        let cdb_len = super::check_cdb(cdb)?;
        let mut cdb16 = [0u8; 16];
        cdb16[..cdb.len()].copy_from_slice(cdb);
        let seconds = timeout.as_millis().div_ceil(1000).max(1);
        Ok(SptdRequest {
            sptd: SCSI_PASS_THROUGH_DIRECT {
                Length: std::mem::size_of::<SCSI_PASS_THROUGH_DIRECT>() as u16,
                ScsiStatus: 0,
                PathId: 0,
                TargetId: 0,
                Lun: 0,
                CdbLength: cdb_len,
                SenseInfoLength: SENSE_LEN as u8,
                DataIn: direction as u8,
                DataTransferLength: u32::try_from(len)
                    .map_err(|_| TransportError::InvalidCommand("transfer too large".into()))?,
                TimeOutValue: u32::try_from(seconds)
                    .unwrap_or(MAX_TIMEOUT_SECONDS)
                    .min(MAX_TIMEOUT_SECONDS),
                DataBuffer: buffer.cast(),
                SenseInfoOffset: std::mem::offset_of!(SptdRequest, sense) as u32,
                Cdb: cdb16,
            },
            sense: [0; SENSE_LEN],
        })
    }
}

/// What a completed pass-through reports, decoded without the pointers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SptdResult {
    /// SCSI status byte.
    pub status: u8,
    /// Sense bytes the port driver filled in.
    pub sense_len: u8,
    /// Bytes the data stage moved (the port driver updates the length).
    pub transferred: u32,
}

/// Turns a completed pass-through into a completion: GOOD, or the status
/// with its sense (CHECK CONDITION), and the bytes not moved.
pub fn decode(r: &SptdResult, sense: &[u8], expected: usize) -> Completion {
    let moved = usize::try_from(r.transferred).unwrap_or(usize::MAX);
    let residue = expected.saturating_sub(moved);
    let status = match r.status {
        0x00 => ScsiStatus::Good,
        0x02 => ScsiStatus::CheckCondition,
        0x08 => ScsiStatus::Busy,
        s => ScsiStatus::Other(s),
    };
    let sense = if status == ScsiStatus::CheckCondition {
        Sense::parse(&sense[..usize::from(r.sense_len).min(sense.len())])
    } else {
        None
    };
    Completion {
        status,
        sense,
        residue,
    }
}

/// The transport error for a failed `DeviceIoControl` (Win32 error codes).
pub fn os_error(e: std::io::Error, what: &str, timeout: Duration) -> TransportError {
    match e.raw_os_error().and_then(|c| u32::try_from(c).ok()) {
        Some(ERROR_SEM_TIMEOUT) => TransportError::Timeout(timeout),
        Some(
            ERROR_DEVICE_NOT_CONNECTED
            | ERROR_NO_SUCH_DEVICE
            | ERROR_FILE_NOT_FOUND
            | ERROR_NOT_READY,
        ) => TransportError::DeviceGone(format!("{what}: {e}")),
        _ => TransportError::Io(e),
    }
}

/// An open device error in the terms the recorder's HRESULT is chosen by:
/// access denied, in use by another program, no such device.
pub fn open_error(e: std::io::Error, path: &str) -> std::io::Error {
    use std::io::ErrorKind;
    let (kind, why) = match e.raw_os_error().and_then(|c| u32::try_from(c).ok()) {
        Some(ERROR_ACCESS_DENIED) => (
            ErrorKind::PermissionDenied,
            "access denied (writing to a disk needs the helper to run as administrator)",
        ),
        Some(ERROR_SHARING_VIOLATION) => (ErrorKind::ResourceBusy, "another program has it open"),
        Some(ERROR_FILE_NOT_FOUND | ERROR_PATH_NOT_FOUND | ERROR_NO_SUCH_DEVICE) => {
            (ErrorKind::NotFound, "no such device")
        }
        _ => return e,
    };
    std::io::Error::new(kind, format!("{path}: {why} ({e})"))
}

/// One `DeviceIoControl` on `file` with `input` read and `output` written;
/// the bytes it returned.
///
/// # Safety
/// Any pointer inside `input` or `output` (SPTD's `DataBuffer`) must point
/// to memory valid for the whole call, of the length the structure states.
#[allow(unsafe_code)]
#[allow(clippy::cast_possible_truncation)] // sizes of the small structures passed
unsafe fn ioctl<I: Copy, O: Copy>(
    file: &File,
    code: u32,
    input: Option<&I>,
    output: Option<&mut O>,
) -> std::io::Result<u32> {
    let (in_ptr, in_len) = input.map_or((std::ptr::null(), 0), |i| {
        (
            std::ptr::from_ref(i).cast(),
            std::mem::size_of::<I>() as u32,
        )
    });
    let (out_ptr, out_len) = output.map_or((std::ptr::null_mut(), 0), |o| {
        (
            std::ptr::from_mut(o).cast(),
            std::mem::size_of::<O>() as u32,
        )
    });
    let mut returned = 0u32;
    // SAFETY: the handle is open for the call's duration; the input and
    // output pointers come from live references of the sizes passed; the
    // caller vouches for pointers inside them; the call is synchronous (no
    // OVERLAPPED), so nothing is used after it returns.
    let ok = unsafe {
        DeviceIoControl(
            file.as_raw_handle(),
            code,
            in_ptr,
            in_len,
            out_ptr,
            out_len,
            &raw mut returned,
            std::ptr::null_mut(),
        )
    };
    if ok == 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(returned)
    }
}

/// `ioctl` with plain data only (no pointers inside `input` or `output`).
pub(crate) fn ioctl_plain<I: Copy, O: Copy>(
    file: &File,
    code: u32,
    input: Option<&I>,
    output: Option<&mut O>,
) -> std::io::Result<u32> {
    #[allow(unsafe_code)]
    // SAFETY: callers pass structures of integers and arrays only.
    unsafe {
        ioctl(file, code, input, output)
    }
}

/// The storage property `id` of `file` (IOCTL_STORAGE_QUERY_PROPERTY,
/// standard query) into `out`.
pub(crate) fn query_property<O: Copy>(
    file: &File,
    id: STORAGE_PROPERTY_ID,
    out: &mut O,
) -> std::io::Result<u32> {
    let query = STORAGE_PROPERTY_QUERY {
        PropertyId: id,
        QueryType: PropertyStandardQuery,
        AdditionalParameters: [0],
    };
    ioctl_plain(file, IOCTL_STORAGE_QUERY_PROPERTY, Some(&query), Some(out))
}

/// What the adapter allows per command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdapterLimits {
    /// Largest data stage in bytes.
    pub max_transfer: usize,
    /// Buffer address alignment mask (0: any, 1: even, 3: 4-byte, ...).
    pub alignment_mask: usize,
}

impl AdapterLimits {
    /// What a port driver that does not answer the query is held to.
    pub const DEFAULT: AdapterLimits = AdapterLimits {
        max_transfer: DEFAULT_MAX_TRANSFER,
        alignment_mask: 0,
    };

    /// From a STORAGE_ADAPTER_DESCRIPTOR: the transfer capped by the
    /// physical pages (one page is lost to a buffer that is not
    /// page-aligned), within 4 KiB and [`DISK_MAX_TRANSFER`].
    pub fn from_descriptor(d: &STORAGE_ADAPTER_DESCRIPTOR, bytes: u32) -> AdapterLimits {
        // The descriptor must reach AlignmentMask (offset 16, 4 bytes).
        if bytes < 20 || d.MaximumTransferLength == 0 {
            return AdapterLimits::DEFAULT;
        }
        let by_pages = (d.MaximumPhysicalPages as usize)
            .saturating_sub(1)
            .saturating_mul(4096);
        let by_pages = if by_pages == 0 { usize::MAX } else { by_pages };
        let max = (d.MaximumTransferLength as usize)
            .min(by_pages)
            .clamp(4096, DISK_MAX_TRANSFER);
        AdapterLimits {
            // Whole sectors: a WRITE's data stage is a multiple of 2048.
            max_transfer: max / 2048 * 2048,
            alignment_mask: d.AlignmentMask as usize,
        }
    }
}

/// A data buffer at an address the adapter accepts: the caller's own when
/// it is aligned, else a copy.
struct Aligned {
    storage: Vec<u8>,
    start: usize,
    len: usize,
}

impl Aligned {
    fn new(len: usize, mask: usize) -> Aligned {
        let storage = vec![0u8; len + mask];
        let start = storage.as_ptr().align_offset(mask + 1).min(mask);
        Aligned {
            storage,
            start,
            len,
        }
    }

    fn slice(&mut self) -> &mut [u8] {
        &mut self.storage[self.start..self.start + self.len]
    }
}

/// Refuses `what` when one of its volumes (`letters`) is `system`, the
/// volume Windows runs from, unless `force`.
pub fn refuse_system_disk(
    what: &str,
    letters: &[char],
    system: Option<char>,
    force: bool,
) -> Result<(), TransportError> {
    match system.filter(|s| letters.contains(s)) {
        Some(system) if !force => Err(TransportError::InUse(format!(
            "{what} is the system's disk: {system}: (Windows) is on it; name it with ,force to write anyway"
        ))),
        _ => Ok(()),
    }
}

/// What an SPTI path writes to, which decides how it is taken before a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// An optical drive: its exclusive-access lock.
    Optical,
    /// A volume by its drive letter (a disk's partition, or under Wine a
    /// drive letter linked to a Linux device): locked and dismounted.
    Volume {
        /// The drive letter.
        letter: char,
        /// Write even to the volume Windows runs from.
        force: bool,
    },
    /// `\\.\PhysicalDriveN`: its volumes locked and dismounted; `force`
    /// even when Windows runs from one of them.
    Disk {
        /// N.
        number: u32,
        /// Write even to the system's disk.
        force: bool,
    },
}

/// A device opened for SCSI pass-through.
#[derive(Debug)]
pub struct SptiTransport {
    file: File,
    path: String,
    limits: AdapterLimits,
    target: Target,
    /// Taken for writing: the optical lock held (`Some(true)`), or not
    /// offered by the driver (`Some(false)`); `None` before.
    optical_lock: Option<bool>,
    /// A disk's volumes, locked and dismounted until the transport drops.
    volumes: Vec<access::VolumeLock>,
}

impl SptiTransport {
    /// Opens `path` (`\\.\D:`, `\\.\CdRom0`, `\\.\PhysicalDrive1`) for
    /// reading and writing, shared, and asks its adapter's limits.
    pub fn open(path: &str, target: Target) -> std::io::Result<SptiTransport> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE)
            .open(path)
            .map_err(|e| open_error(e, path))?;
        let mut adapter: STORAGE_ADAPTER_DESCRIPTOR = zeroed_adapter();
        let limits = match query_property(&file, StorageAdapterProperty, &mut adapter) {
            Ok(bytes) => AdapterLimits::from_descriptor(&adapter, bytes),
            Err(e) => {
                tracing::debug!("{path}: no adapter description ({e}); 64 KiB per command");
                AdapterLimits::DEFAULT
            }
        };
        Ok(SptiTransport {
            file,
            path: path.to_owned(),
            limits,
            target,
            optical_lock: None,
            volumes: Vec::new(),
        })
    }

    /// Whether the device says it is an MMC (optical) drive: INQUIRY's
    /// peripheral device type 05h (SPC-4).
    fn is_mmc(&mut self) -> bool {
        let mut inquiry = [0u8; 36];
        let command = ScsiCommand {
            cdb: &[0x12, 0, 0, 0, 36, 0],
            data: DataDirection::FromDevice(&mut inquiry),
            timeout: Duration::from_secs(10),
        };
        matches!(self.execute(command), Ok(c) if c.status == ScsiStatus::Good)
            && inquiry[0] & 0x1F == 0x05
    }

    /// Locks and dismounts `letters`, the volumes of `what`; refuses the
    /// one Windows runs from unless `force`.
    fn take_volumes(
        &mut self,
        what: &str,
        letters: Vec<char>,
        force: bool,
    ) -> Result<(), TransportError> {
        refuse_system_disk(what, &letters, access::system_drive(), force)?;
        for letter in letters {
            let lock = access::VolumeLock::take(letter)
                .map_err(|e| TransportError::InUse(format!("{what}: {e}")))?;
            self.volumes.push(lock);
        }
        Ok(())
    }

    /// The adapter's limits.
    pub fn limits(&self) -> AdapterLimits {
        self.limits
    }
}

fn zeroed_adapter() -> STORAGE_ADAPTER_DESCRIPTOR {
    STORAGE_ADAPTER_DESCRIPTOR {
        Version: 0,
        Size: 0,
        MaximumTransferLength: 0,
        MaximumPhysicalPages: 0,
        AlignmentMask: 0,
        AdapterUsesPio: false,
        AdapterScansDown: false,
        CommandQueueing: false,
        AcceleratedTransfer: false,
        BusType: 0,
        BusMajorVersion: 0,
        BusMinorVersion: 0,
        SrbType: 0,
        AddressType: 0,
    }
}

impl ScsiTransport for SptiTransport {
    fn execute(&mut self, mut command: ScsiCommand<'_>) -> Result<Completion, TransportError> {
        let mask = self.limits.alignment_mask;
        let misaligned = |p: *const u8| (p as usize) & mask != 0;
        let mut copy: Option<Aligned> = None;
        let (direction, ptr, len) = match command.data {
            DataDirection::None => (SCSI_IOCTL_DATA_UNSPECIFIED, std::ptr::null_mut(), 0),
            DataDirection::ToDevice(d) if misaligned(d.as_ptr()) => {
                let a = copy.insert(Aligned::new(d.len(), mask));
                a.slice().copy_from_slice(d);
                (SCSI_IOCTL_DATA_OUT, a.slice().as_mut_ptr(), d.len())
            }
            // The port driver only reads an outgoing buffer.
            DataDirection::ToDevice(d) => (SCSI_IOCTL_DATA_OUT, d.as_ptr().cast_mut(), d.len()),
            DataDirection::FromDevice(ref mut d) if misaligned(d.as_ptr()) => {
                let a = copy.insert(Aligned::new(d.len(), mask));
                (SCSI_IOCTL_DATA_IN, a.slice().as_mut_ptr(), d.len())
            }
            DataDirection::FromDevice(ref mut d) => (SCSI_IOCTL_DATA_IN, d.as_mut_ptr(), d.len()),
        };
        let mut request = SptdRequest::new(command.cdb, direction, ptr, len, command.timeout)?;
        let mut reply = request;
        #[allow(unsafe_code)]
        // SAFETY: `DataBuffer` points to `len` bytes (the caller's buffer or
        // `copy`), both alive until this synchronous call returns; the port
        // driver writes the sense inside `reply`.
        let done = unsafe {
            ioctl(
                &self.file,
                IOCTL_SCSI_PASS_THROUGH_DIRECT,
                Some(&request),
                Some(&mut reply),
            )
        };
        done.map_err(|e| os_error(e, &self.path, command.timeout))?;
        request.sense = reply.sense;
        if let (DataDirection::FromDevice(d), Some(a)) = (command.data, copy.as_mut()) {
            d.copy_from_slice(a.slice());
        }
        let result = SptdResult {
            status: reply.sptd.ScsiStatus,
            sense_len: reply.sptd.SenseInfoLength,
            transferred: reply.sptd.DataTransferLength,
        };
        Ok(decode(&result, &request.sense, len))
    }

    fn max_transfer_bytes(&self) -> usize {
        self.limits.max_transfer
    }

    fn refresh_partitions(&mut self) -> Result<bool, TransportError> {
        if !matches!(self.target, Target::Disk { .. }) {
            return Ok(false);
        }
        // The partition manager reads the disk's layout again (ntdddisk.h).
        ioctl_plain::<u8, u8>(&self.file, IOCTL_DISK_UPDATE_PROPERTIES, None, None)
            .map_err(TransportError::Io)?;
        Ok(true)
    }

    fn take_for_writing(&mut self) -> Result<(), TransportError> {
        // A drive letter whose device is an MMC drive is an optical drive,
        // whatever the letter's type says (under Wine it says none).
        if matches!(self.target, Target::Volume { .. }) && self.is_mmc() {
            self.target = Target::Optical;
        }
        match self.target {
            Target::Optical if self.optical_lock.is_none() => {
                let held = access::lock_optical(&self.file).map_err(|e| {
                    TransportError::InUse(format!(
                        "{}: another program holds the drive ({e})",
                        self.path
                    ))
                })?;
                if held == access::OpticalLock::Unsupported {
                    tracing::debug!("{}: the driver has no exclusive-access lock", self.path);
                }
                self.optical_lock = Some(held == access::OpticalLock::Held);
                Ok(())
            }
            Target::Disk { number, force } if self.volumes.is_empty() => self.take_volumes(
                &format!("PhysicalDrive{number}"),
                access::volumes_on_disk(number),
                force,
            ),
            Target::Volume { letter, force } if self.volumes.is_empty() => {
                self.take_volumes(&format!("{letter}:"), vec![letter], force)
            }
            _ => Ok(()),
        }
    }
}

impl Drop for SptiTransport {
    fn drop(&mut self) {
        if self.optical_lock == Some(true) {
            access::unlock_optical(&self.file);
        }
    }
}

#[cfg(test)]
mod tests;
