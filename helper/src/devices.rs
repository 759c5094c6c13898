//! Recorders: naming, opening, exclusive use and identity.
//!
//! A recorder id names a device path: `emulated:PATH[,options]`,
//! `usb:BUS:ADDRESS[,detach][,force]` (USB Bulk-Only through libusb), or on
//! Linux `sg:/dev/sgN[,force]` (SCSI generic, SG_IO). A disk the system
//! uses (a mounted file system, swap, the system's own disk) is refused for
//! writing unless its id carries `force`.

pub mod in_use;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use serde::Serialize;
use webburn_shared::HResult;

use crate::emulated::{EmulatedRecorder, EmulatedSpec, OpenError, spec};
use crate::scsi::{self, DiscStatus, ScsiError};
use crate::transport::ScsiTransport;
use crate::transport::usb_bot::BotTransport;
use crate::transport::usb_bot::rusb_pipe::{RusbPipe, UsbError};

/// The transport behind a recorder, shared by whoever holds the [`Recorder`].
pub type SharedTransport = Arc<Mutex<Box<dyn ScsiTransport>>>;

/// Why a recorder could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The id is malformed or names an unknown kind of device.
    #[error("{0}")]
    BadId(String),
    /// The emulated recorder could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// A USB device could not be opened.
    #[error(transparent)]
    Usb(#[from] UsbError),
    /// The system uses the disk (mounted, swap, the system's disk).
    #[error("{0}; unmount it first (or name the recorder with ,force to write anyway)")]
    InUse(in_use::InUse),
    /// A device node could not be opened.
    #[error("cannot open {id}: {source}")]
    Device {
        /// The recorder id.
        id: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl DeviceError {
    /// The HRESULT for this failure.
    pub fn hresult(&self) -> HResult {
        use std::io::ErrorKind;
        match self {
            DeviceError::BadId(_) => HResult::E_INVALIDARG,
            DeviceError::Open(OpenError::Locked(_))
            | DeviceError::InUse(_)
            | DeviceError::Usb(UsbError::KernelDriver { .. } | UsbError::Usb(rusb::Error::Busy)) => {
                HResult::E_IMAPI_RECORDER_LOCKED
            }
            DeviceError::Usb(UsbError::Unavailable(_) | UsbError::NotFound { .. }) => {
                HResult::E_DEV_NOT_EXIST
            }
            DeviceError::Usb(UsbError::Usb(rusb::Error::Access)) => HResult::E_ACCESSDENIED,
            DeviceError::Open(OpenError::Io { source, .. })
            | DeviceError::Device { source, .. } => match source.kind() {
                ErrorKind::PermissionDenied => HResult::E_ACCESSDENIED,
                ErrorKind::NotFound if matches!(self, DeviceError::Device { .. }) => {
                    HResult::E_DEV_NOT_EXIST
                }
                ErrorKind::ResourceBusy => HResult::E_IMAPI_RECORDER_LOCKED,
                _ => HResult::E_FAIL,
            },
            DeviceError::Usb(UsbError::Usb(_)) => HResult::E_FAIL,
        }
    }
}

/// The system disk behind a recorder, asked about before each write.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BlockSource {
    /// A SCSI generic node.
    Sg(PathBuf),
    /// A USB device by bus and address.
    Usb(u8, u8),
}

/// An open recorder: an id plus its transport. Clones share the device.
#[derive(Clone)]
pub struct Recorder {
    id: String,
    transport: SharedTransport,
    /// Where its block devices are found; `None` for emulated recorders.
    block: Option<BlockSource>,
    /// The id said `force`: write even to a disk the system uses.
    force: bool,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// Opens the recorder an id names.
    pub fn open(id: &str) -> Result<Recorder, DeviceError> {
        if id.starts_with(spec::PREFIX) {
            let spec = EmulatedSpec::parse(id).map_err(DeviceError::BadId)?;
            let canonical = spec.id();
            let rec = EmulatedRecorder::open(spec)?;
            return Ok(Recorder::from_transport(canonical, Box::new(rec)));
        }
        #[cfg(target_os = "linux")]
        if let Some(rest) = id.strip_prefix(SG_PREFIX) {
            let (path, force) = match rest.split_once(',') {
                Some((p, "force")) => (p, true),
                Some(_) => {
                    return Err(DeviceError::BadId(format!(
                        "'{id}' is not sg:/dev/sgN[,force]"
                    )));
                }
                None => (rest, false),
            };
            let t =
                crate::transport::sg_io::SgTransport::open(Path::new(path)).map_err(|source| {
                    DeviceError::Device {
                        id: id.to_owned(),
                        source,
                    }
                })?;
            let mut rec = Recorder::from_transport(format!("{SG_PREFIX}{path}"), Box::new(t));
            rec.block = Some(BlockSource::Sg(PathBuf::from(path)));
            rec.force = force;
            return Ok(rec);
        }
        if let Some(rest) = id.strip_prefix(USB_PREFIX) {
            return open_usb(id, rest);
        }
        Err(DeviceError::BadId(format!(
            "unknown recorder '{id}': use emulated:PATH, sg:/dev/sgN or usb:BUS:ADDRESS (see `webburn-helper recorders`)"
        )))
    }

    /// Refuses to write to a disk the system uses: a mounted file system
    /// (naming its mount point), swap, the system's own disk; unless the
    /// recorder's id said `force`. Emulated recorders are image files.
    pub fn check_not_in_use(&self) -> Result<(), DeviceError> {
        if self.force {
            return Ok(());
        }
        #[cfg(target_os = "linux")]
        if let Some(block) = &self.block {
            let view = in_use::SystemView::default();
            let disks = match block {
                BlockSource::Sg(path) => view.block_of_sg(path),
                BlockSource::Usb(bus, address) => view.blocks_of_usb(*bus, *address),
            };
            for disk in disks {
                view.check(&disk).map_err(DeviceError::InUse)?;
            }
        }
        Ok(())
    }

    /// Wraps an already open transport.
    pub fn from_transport(id: String, transport: Box<dyn ScsiTransport>) -> Recorder {
        Recorder {
            id,
            transport: Arc::new(Mutex::new(transport)),
            block: None,
            force: false,
        }
    }

    /// The recorder's id (ActiveDiscRecorder).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Takes the device for one writer; E_IMAPI_RECORDER_LOCKED if another has it.
    pub fn try_acquire(&self) -> Result<MutexGuard<'_, Box<dyn ScsiTransport>>, HResult> {
        match self.transport.try_lock() {
            Ok(guard) => Ok(guard),
            // A writer that panicked left the device usable: commands are atomic.
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(HResult::E_IMAPI_RECORDER_LOCKED),
        }
    }

    /// Asks the device who it is and what it holds (INQUIRY, GET CONFIGURATION,
    /// READ CAPACITY).
    pub fn describe(&self) -> Result<RecorderInfo, ScsiError> {
        let mut guard = self
            .try_acquire()
            .map_err(|_| ScsiError::Status(crate::transport::ScsiStatus::Busy))?;
        let t: &mut dyn ScsiTransport = &mut **guard;
        let inq = scsi::inquiry(t)?;
        // A disk that has no GET CONFIGURATION (a USB stick, a hard disk) is
        // described by its INQUIRY: removable disk (02h) or fixed disk (01h).
        let (profiles, current_profile, can_simulate) = match scsi::get_configuration(t) {
            Ok(config) => (
                config.profiles(),
                config.current_profile,
                config.can_test_write(),
            ),
            Err(_) if inq.device_type == 0 => {
                let p = if inq.removable { 0x02 } else { 0x01 };
                (vec![(p, true)], p, false)
            }
            Err(e) => return Err(e),
        };
        let write_speeds = if inq.device_type == 5 {
            scsi::get_write_speeds(t)
                .map(|s| {
                    s.0.iter()
                        .map(|w| w.sectors_per_second(current_profile))
                        .collect()
                })
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let capacity = scsi::read_capacity(t).ok();
        let disc = scsi::read_disc_information(t).ok();
        let track = scsi::read_track_information(t, 0xFF).ok();
        let kind = KINDS
            .iter()
            .find(|(prefix, _)| self.id.starts_with(prefix))
            .map_or("scsi", |&(_, k)| k);
        let whole_disk = capacity.map(|c| c.last_lba.saturating_add(1));
        Ok(RecorderInfo {
            id: self.id.clone(),
            kind,
            vendor_id: inq.vendor,
            product_id: inq.product,
            product_revision: inq.revision,
            device_type: inq.device_type,
            supported_profiles: profiles.iter().map(|&(p, _)| p).collect(),
            current_profiles: profiles
                .iter()
                .filter(|(_, c)| *c)
                .map(|&(p, _)| p)
                .collect(),
            current_profile,
            block_size: capacity.map(|c| c.block_len),
            capacity_sectors: capacity.map(|c| u64::from(c.last_lba) + 1),
            disc_status: disc.map(|d| d.status),
            next_writable: track.and_then(|t| t.next_writable),
            free_sectors: track.map(|t| t.free_blocks).or(if inq.device_type == 0 {
                whole_disk
            } else {
                None
            }),
            max_transfer_bytes: t.max_transfer_bytes(),
            write_speeds,
            can_simulate,
        })
    }
}

/// Opens `usb:BUS:ADDRESS[,detach][,force]` as SCSI over Bulk-Only on LUN 0.
fn open_usb(id: &str, rest: &str) -> Result<Recorder, DeviceError> {
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
    if detach && !force {
        // The kernel's driver is let go of only when nothing of the stick is in use.
        let view = in_use::SystemView::default();
        for disk in view.blocks_of_usb(bus, address) {
            view.check(&disk).map_err(DeviceError::InUse)?;
        }
    }
    let pipe = RusbPipe::open(bus, address, detach)?;
    let transport = BotTransport::new(pipe, 0, crate::transport::USB_MAX_TRANSFER);
    let mut rec =
        Recorder::from_transport(format!("{USB_PREFIX}{bus}:{address}"), Box::new(transport));
    rec.block = Some(BlockSource::Usb(bus, address));
    rec.force = force;
    Ok(rec)
}

/// Recorder id prefixes and the kind each names.
const KINDS: [(&str, &str); 3] = [
    (spec::PREFIX, "emulated"),
    (SG_PREFIX, "sg"),
    (USB_PREFIX, "usb"),
];

/// The prefix of a USB Bulk-Only recorder: `usb:BUS:ADDRESS[,detach]`.
pub const USB_PREFIX: &str = "usb:";

/// The prefix of a SCSI generic recorder: `sg:/dev/sgN`.
pub const SG_PREFIX: &str = "sg:";

/// What `recorders` lists: IDiscRecorder2's identity fields plus medium facts.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecorderInfo {
    /// ActiveDiscRecorder.
    pub id: String,
    /// emulated, sg or usb.
    pub kind: &'static str,
    /// VendorId (INQUIRY bytes 8..16).
    pub vendor_id: String,
    /// ProductId (INQUIRY bytes 16..32).
    pub product_id: String,
    /// ProductRevision (INQUIRY bytes 32..36).
    pub product_revision: String,
    /// Peripheral device type (05h optical).
    pub device_type: u8,
    /// SupportedProfiles.
    pub supported_profiles: Vec<u16>,
    /// CurrentProfiles.
    pub current_profiles: Vec<u16>,
    /// The profile of the loaded medium (0 = none).
    pub current_profile: u16,
    /// Logical block size from READ CAPACITY.
    pub block_size: Option<u32>,
    /// READ CAPACITY's last LBA + 1 (recorded sectors on sequential media).
    pub capacity_sectors: Option<u64>,
    /// Blank, appendable, complete or random (READ DISC INFORMATION).
    pub disc_status: Option<DiscStatus>,
    /// Next writable address (READ TRACK INFORMATION).
    pub next_writable: Option<u32>,
    /// Free sectors on the medium (READ TRACK INFORMATION).
    pub free_sectors: Option<u32>,
    /// Largest transfer per command.
    pub max_transfer_bytes: usize,
    /// SupportedWriteSpeeds for the loaded medium, sectors per second, fastest first.
    pub write_speeds: Vec<u32>,
    /// The drive can simulate (Test Write) on the loaded medium.
    pub can_simulate: bool,
}

impl RecorderInfo {
    /// BytesPerSector a write should use: the block size of a disk's medium,
    /// 2048 for optical media (and when the drive does not say).
    pub fn natural_sector_size(&self) -> i32 {
        match self.block_size {
            Some(b) if self.device_type == 0 => i32::try_from(b).unwrap_or(2048),
            _ => 2048,
        }
    }

    /// `base` tuned for this medium: its transfer unit, and the full buffer
    /// before the first WRITE only for drives that stream (not disks).
    pub fn tune(&self, base: crate::engine::EngineConfig) -> crate::engine::EngineConfig {
        crate::engine::EngineConfig {
            max_transfer: self.preferred_transfer_bytes(),
            fill_first: self.device_type != 0,
            ..base
        }
    }

    /// The transfer unit a write to this medium should use (the transport
    /// may lower it): large for disks, the MMC default for optical media.
    fn preferred_transfer_bytes(&self) -> usize {
        if self.device_type == 0 {
            crate::transport::DISK_MAX_TRANSFER
        } else {
            crate::transport::DEFAULT_MAX_TRANSFER
        }
    }

    /// Why `bytes_per_sector` cannot be written to this medium: a disk only
    /// takes whole blocks of its own size, so WRITE's transfer length would
    /// not match the data sent.
    pub fn sector_size_mismatch(&self, bytes_per_sector: i32) -> Option<String> {
        match self.block_size {
            Some(b) if self.device_type == 0 && i64::from(b) != i64::from(bytes_per_sector) => {
                Some(format!(
                    "BytesPerSector {bytes_per_sector} does not match {}'s blocks of {b} bytes",
                    self.id
                ))
            }
            _ => None,
        }
    }
}

/// The ids of the optical drives and disks the system offers through SCSI
/// generic (`sg:/dev/sgN`, device types 00h and 05h), as sysfs lists them.
pub fn discovered_ids() -> Vec<String> {
    #[cfg(target_os = "linux")]
    {
        let sg = crate::transport::sg_io::list(Path::new("/sys"))
            .into_iter()
            .filter(|d| matches!(d.device_type, 0 | 5))
            .map(|d| format!("{SG_PREFIX}{}", d.path.display()));
        let usb = crate::transport::usb_bot::rusb_pipe::list()
            .unwrap_or_default()
            .into_iter()
            .map(|d| format!("{USB_PREFIX}{}:{}", d.bus, d.address));
        sg.chain(usb).collect()
    }
    #[cfg(not(target_os = "linux"))]
    crate::transport::usb_bot::rusb_pipe::list()
        .unwrap_or_default()
        .into_iter()
        .map(|d| format!("{USB_PREFIX}{}:{}", d.bus, d.address))
        .collect()
}

/// The ids of the system's optical drives (`sg:/dev/sgN` of type 05h), the
/// recorders a server offers without being told (disks must be configured).
pub fn discovered_optical_ids() -> Vec<String> {
    #[cfg(target_os = "linux")]
    {
        crate::transport::sg_io::list(Path::new("/sys"))
            .into_iter()
            .filter(|d| d.device_type == 5)
            .map(|d| format!("{SG_PREFIX}{}", d.path.display()))
            .collect()
    }
    #[cfg(not(target_os = "linux"))]
    Vec::new()
}

/// The per-user data directory: `$WEBBURN_DATA_DIR`, else the platform's data dir + `webburn`.
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WEBBURN_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::data_dir()
        .unwrap_or_else(|| std::env::temp_dir().join("webburn-data"))
        .join("webburn")
}

/// The id of the default emulated recorder: a BD-R image in the data directory.
pub fn default_recorder_id(data_dir: &Path) -> String {
    format!(
        "{}{}",
        spec::PREFIX,
        data_dir.join("default-bd-r.img").display()
    )
}
