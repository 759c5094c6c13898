//! Recorders: naming, opening, exclusive use and identity.
//!
//! A recorder id names a device path: `emulated:PATH[,options]`,
//! `usb:BUS:ADDRESS[,detach][,force]` (USB Bulk-Only through libusb), on
//! Linux `sg:/dev/sgN[,force]` (SCSI generic, SG_IO), on Windows `spti:D:`,
//! `spti:CdRomN` or `spti:PhysicalDriveN[,force]` (SCSI pass-through). A disk the system
//! uses (a mounted file system, swap, the system's own disk) is refused for
//! writing unless its id carries `force`.

pub mod driver;
pub mod drivers;
pub mod in_use;
pub mod partitions;
pub mod power;
pub mod removable;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use serde::Serialize;
use webburn_shared::{HResult, MediumKind};

use driver::Driver;
use in_use::SystemView;
use webburn_scsi::transport::{DriverError, ScsiTransport};
use webburn_scsi::{self as scsi, DiscStatus, ScsiError};

/// Every device path this build writes through.
pub const DRIVERS: &[&dyn Driver] = &[
    #[cfg(any(feature = "emulated", test))]
    &drivers::emulated::EmulatedDriver,
    #[cfg(target_os = "linux")]
    &drivers::sg::SgDriver,
    #[cfg(windows)]
    &drivers::spti::SptiDriver,
    &drivers::usb::UsbDriver,
];

/// The driver whose prefix `id` starts with, and the rest of the id.
fn driver_of(id: &str) -> Option<(&'static dyn Driver, &str)> {
    DRIVERS
        .iter()
        .find_map(|d| id.strip_prefix(d.prefix()).map(|rest| (*d, rest)))
}

/// The transport behind a recorder, shared by whoever holds the [`Recorder`].
pub type SharedTransport = Arc<Mutex<Box<dyn ScsiTransport>>>;

/// Why a recorder could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The id is malformed or names an unknown kind of device.
    #[error("{0}")]
    BadId(String),
    /// The driver could not open the device: its own error, and the
    /// HRESULT the driver says it means.
    #[error("{source}")]
    Driver {
        /// What the driver's error means to a client.
        hresult: HResult,
        /// The driver's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
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
    /// A driver's own failure to open a device.
    pub fn driver(e: impl DriverError) -> Self {
        DeviceError::Driver {
            hresult: e.hresult(),
            source: Box::new(e),
        }
    }

    /// The HRESULT for this failure.
    pub fn hresult(&self) -> HResult {
        use std::io::ErrorKind;
        match self {
            DeviceError::BadId(_) => HResult::E_INVALIDARG,
            DeviceError::InUse(_) => HResult::E_IMAPI_RECORDER_LOCKED,
            DeviceError::Driver { hresult, .. } => *hresult,
            DeviceError::Device { source, .. } => match source.kind() {
                ErrorKind::PermissionDenied => HResult::E_ACCESSDENIED,
                ErrorKind::NotFound => HResult::E_DEV_NOT_EXIST,
                ErrorKind::ResourceBusy => HResult::E_IMAPI_RECORDER_LOCKED,
                _ => HResult::E_FAIL,
            },
        }
    }
}

/// Lists the system's block devices behind a recorder (e.g. `sdb`), asked
/// before each write.
type SystemDisks = Arc<dyn Fn(&SystemView) -> Vec<String> + Send + Sync>;

/// Finds the sysfs directory of the USB device a recorder is on.
type UsbDevice = Arc<dyn Fn(&SystemView) -> Option<PathBuf> + Send + Sync>;

/// An open recorder: an id plus its transport. Clones share the device.
#[derive(Clone)]
pub struct Recorder {
    id: String,
    transport: SharedTransport,
    /// Its block devices; `None` for emulated recorders.
    system_disks: Option<SystemDisks>,
    /// The id said `force`: write even to a disk the system uses.
    force: bool,
    /// The USB device it is on, for powering it off; `None` where it cannot be.
    usb_device: Option<UsbDevice>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// Opens the recorder an id names, through the driver its prefix names.
    pub fn open(id: &str) -> Result<Recorder, DeviceError> {
        let Some((driver, rest)) = driver_of(id) else {
            let prefixes: Vec<&str> = DRIVERS.iter().map(|d| d.prefix()).collect();
            return Err(DeviceError::BadId(format!(
                "unknown recorder '{id}': ids start with one of {prefixes:?} (see `webburn-helper recorders`)"
            )));
        };
        driver.open(id, rest)
    }

    /// The same recorder, whose system block devices `disks` lists; `force`:
    /// write even when the system uses them.
    #[must_use]
    pub fn with_system_disks(
        mut self,
        disks: impl Fn(&SystemView) -> Vec<String> + Send + Sync + 'static,
        force: bool,
    ) -> Recorder {
        self.system_disks = Some(Arc::new(disks));
        self.force = force;
        self
    }

    /// The same recorder, on the USB device `find` locates (see [`power`]).
    #[must_use]
    pub fn with_usb_device(
        mut self,
        find: impl Fn(&SystemView) -> Option<PathBuf> + Send + Sync + 'static,
    ) -> Recorder {
        self.usb_device = Some(Arc::new(find));
        self
    }

    /// After a disk on USB was written: the system lets go of the device
    /// and powers its port off (see [`power`]); what was powered off, or why not.
    pub fn power_off(&self) -> Result<PathBuf, power::PowerOffError> {
        use power::PowerOffError;
        let find = self
            .usb_device
            .as_ref()
            .ok_or_else(|| PowerOffError::NotOnUsb(self.id.clone()))?;
        let device =
            find(&SystemView::default()).ok_or_else(|| PowerOffError::NoDevice(self.id.clone()))?;
        match power::power_off(&device) {
            Ok(()) => Ok(device),
            Err(source) => Err(PowerOffError::Refused { device, source }),
        }
    }

    /// Refuses to write to a disk the system uses: a mounted file system
    /// (naming its mount point), swap, the system's own disk; unless the
    /// recorder's id said `force`. Emulated recorders are image files.
    pub fn check_not_in_use(&self) -> Result<(), DeviceError> {
        if self.force {
            return Ok(());
        }
        if let Some(disks) = &self.system_disks {
            let view = SystemView::default();
            for disk in disks(&view) {
                view.check(&disk).map_err(DeviceError::InUse)?;
            }
        }
        Ok(())
    }

    /// Holds the disk's block devices (`/dev/sdb`) open exclusively for as
    /// long as the returned guard lives (Linux: `O_EXCL` on a block device,
    /// the claim the kernel's own mounts take): while a write runs, an
    /// automounter or a person cannot mount the disk, and a disk someone
    /// holds is refused (E_IMAPI_RECORDER_LOCKED). Nothing to hold for
    /// emulated recorders, other systems and recorders named with `,force`.
    pub fn hold_exclusively(&self) -> Result<ExclusiveHold, DeviceError> {
        #[cfg_attr(not(target_os = "linux"), allow(unused_mut))]
        let mut held = Vec::new();
        if self.force {
            // Written with ,force: whoever uses the disk keeps it.
            return Ok(ExclusiveHold(held));
        }
        #[cfg(target_os = "linux")]
        if let Some(disks) = &self.system_disks {
            use std::os::unix::fs::OpenOptionsExt;
            let view = SystemView::default();
            for disk in disks(&view) {
                // Not an optical drive's srN: the sr driver reads the
                // medium's capacity when its node is opened, and learns
                // of a new one only from a media change, which a burn
                // through SG_IO does not signal; held while the disc is
                // blank, the written disc would look empty to the kernel
                // (its mount fails). A disc being written mounts nowhere.
                if disk.starts_with("sr") {
                    continue;
                }
                let node = Path::new("/dev").join(&disk);
                let file = std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_EXCL)
                    .open(&node)
                    .map_err(|source| match source.kind() {
                        // Another holder of the whole disk: a mount, or a
                        // program that opened it exclusively.
                        std::io::ErrorKind::ResourceBusy => DeviceError::InUse(in_use::InUse {
                            disk: disk.clone(),
                            why: format!(
                                "{} is held open by a mount or another program",
                                node.display()
                            ),
                            system: false,
                        }),
                        _ => DeviceError::Device {
                            id: node.display().to_string(),
                            source,
                        },
                    })?;
                held.push(file);
            }
        }
        Ok(ExclusiveHold(held))
    }

    /// After a disk was written: the system reads its partition table again
    /// (see [`partitions`]); the partitions it then knows. Nothing for
    /// emulated recorders and disks the system does not drive right now.
    pub fn reread_partitions(&self) -> Vec<String> {
        if let Ok(mut t) = self.try_acquire()
            && let Err(e) = t.refresh_partitions()
        {
            tracing::warn!(error = %e, "the system did not read the partition table again");
        }
        let Some(disks) = &self.system_disks else {
            return Vec::new();
        };
        let view = SystemView::default();
        let mut found = Vec::new();
        for disk in disks(&view) {
            match partitions::reread(&view, &disk) {
                Ok(parts) => found.extend(parts),
                Err(e) => tracing::warn!(
                    disk,
                    error = %e,
                    "the partition table could not be read again; unplug and plug the device to see it"
                ),
            }
        }
        found
    }

    /// Wraps an already open transport.
    pub fn from_transport(id: String, transport: Box<dyn ScsiTransport>) -> Recorder {
        Recorder {
            id,
            transport: Arc::new(Mutex::new(transport)),
            system_disks: None,
            force: false,
            usb_device: None,
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
            .map_err(|_| ScsiError::Status(webburn_scsi::transport::ScsiStatus::Busy))?;
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
        let kind = driver_of(&self.id).map_or("scsi", |(d, _)| d.kind());
        let medium = MediumKind::of_device_type(inq.device_type);
        let whole_disk = capacity.map(|c| c.last_lba.saturating_add(1));
        Ok(RecorderInfo {
            id: self.id.clone(),
            kind,
            vendor_id: inq.vendor,
            product_id: inq.product,
            product_revision: inq.revision,
            medium,
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
            sessions: disc.as_ref().and_then(closed_sessions),
            next_writable: track.and_then(|t| t.next_writable),
            free_sectors: track
                .map(|t| t.free_blocks)
                .or(if medium == MediumKind::Disk {
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

/// The block devices of a disk held exclusively (see
/// [`Recorder::hold_exclusively`]); let go when dropped.
#[derive(Debug)]
pub struct ExclusiveHold(#[allow(dead_code)] Vec<std::fs::File>);

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
    /// Discs or a disk (from the peripheral device type).
    pub medium: MediumKind,
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
    /// The sessions closed on a sequential disc (READ DISC INFORMATION
    /// counts an appendable disc's open session too).
    pub sessions: Option<u16>,
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

/// The closed sessions READ DISC INFORMATION reports; `None` for a disc
/// written at random.
fn closed_sessions(d: &webburn_scsi::DiscInformation) -> Option<u16> {
    match d.status {
        DiscStatus::Blank => Some(0),
        DiscStatus::Appendable => Some(d.sessions.saturating_sub(1)),
        DiscStatus::Complete => Some(d.sessions),
        DiscStatus::Random => None,
    }
}

impl RecorderInfo {
    /// BytesPerSector a write uses when nobody says (the medium's natural size).
    pub fn natural_sector_size(&self) -> u32 {
        self.medium.natural_sector_size(self.block_size)
    }
}

/// The ids of the devices every driver finds (optical drives and disks).
pub fn discovered_ids() -> Vec<String> {
    DRIVERS
        .iter()
        .flat_map(|d| d.discover())
        .map(|d| d.id)
        .collect()
}

/// A recorder a server offers without being told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Its id.
    pub id: String,
    /// A removable disk (pages need the person's approval), else an optical drive.
    pub disk: Option<FoundDisk>,
}

/// A removable disk discovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundDisk {
    /// Its block device, for people (`sdb`).
    pub block: String,
    /// What tells it from another device that later gets the same id:
    /// where it is plugged, vendor, model and size.
    pub identity: String,
}

/// The recorders a server offers without being told: the system's optical
/// drives, and its removable disks that the system does not use (mounted,
/// swap, its own disk: see [`in_use`]), which pages write to only with the
/// person's approval.
pub fn discovered_recorders() -> Vec<Found> {
    let optical = DRIVERS
        .iter()
        .filter(|d| d.tells_optical())
        .flat_map(|d| d.discover())
        .filter(|d| d.optical)
        .map(|d| Found {
            id: d.id,
            disk: None,
        });
    let disks = removable::removable_disks(&SystemView::default())
        .into_iter()
        .filter(|d| d.in_use.is_none())
        .map(|d| Found {
            disk: Some(FoundDisk {
                identity: d.identity(),
                block: d.block,
            }),
            id: d.id,
        });
    optical.chain(disks).collect()
}

/// The id of the default recorder: an emulated BD-R whose image is in the
/// data directory (none in a build without the `emulated` feature).
pub fn default_recorder_id(data_dir: &Path) -> Option<String> {
    #[cfg(any(feature = "emulated", test))]
    return Some(format!(
        "{}{}",
        webburn_emulated::spec::PREFIX,
        data_dir.join("default-bd-r.img").display()
    ));
    #[cfg(not(any(feature = "emulated", test)))]
    {
        let _ = data_dir;
        None
    }
}
