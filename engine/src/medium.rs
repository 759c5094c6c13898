//! What the loaded medium can take, asked of the drive before any WRITE:
//! its profile, whether it is written only at the next writable address,
//! and the room a section is held against (lowest address, last writable
//! sector, sector sizes).

use webburn_shared::medium;
use webburn_shared::section::{CD_FIRST_LBA, MediumRoom, SectorSizes};
use webburn_shared::{ErrorCode, HResult, Section};

use super::error::EngineError;
use webburn_scsi::formatting::MediumFormat;
use webburn_scsi::sense;
use webburn_scsi::transport::ScsiTransport;
use webburn_scsi::{self as scsi, ScsiError};

/// The loaded medium, as the drive describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Medium {
    /// The current profile; `None` for a disk without GET CONFIGURATION.
    pub profile: Option<u16>,
    /// Written at the next writable address, closed when done.
    pub sequential: bool,
    /// The next writable address of a sequential medium.
    pub next_writable: Option<u32>,
    /// The drive can simulate (Test Write) on this medium.
    pub can_test_write: bool,
    /// Where a section may go.
    pub room: MediumRoom,
}

impl Medium {
    /// Holds `section` against the medium before any WRITE: a sequential
    /// medium is written only at its next writable address (MMC-6 4.5: a
    /// WRITE elsewhere is refused with 5/21/02), and every medium only
    /// within its room and in sector sizes it takes.
    pub fn admit(&self, section: Section) -> Result<(), EngineError> {
        if let Some(nwa) = self.next_writable.filter(|_| self.sequential)
            && i64::from(section.start()) != i64::from(nwa)
        {
            let code = ErrorCode::NotNextWritableAddress;
            let detail = format!(
                "startingBlockAddress {} is not the {}'s next writable address {nwa}",
                section.start(),
                self.room.name
            );
            return Err(EngineError::new(code.hresult(), detail).with_code(code));
        }
        self.room.admit(section)?;
        Ok(())
    }
}

/// An error for a SCSI command `what` that failed, with its sense data.
pub(crate) fn failed(what: &str, e: &ScsiError) -> EngineError {
    let err = EngineError::new(e.hresult(), format!("{what} failed: {e}"));
    match e {
        ScsiError::Sense(s) => err.with_sense(*s),
        _ => err,
    }
}

/// Asks the drive what is loaded (GET CONFIGURATION, then READ DISC and
/// TRACK INFORMATION for sequential media or READ CAPACITY for the rest).
/// No medium, a read-only or a closed disc is an error here: nothing can
/// be written to it.
pub fn probe(t: &mut dyn ScsiTransport) -> Result<Medium, EngineError> {
    let config = match scsi::get_configuration(t) {
        Ok(c) => Some(c),
        // A plain disk has no GET CONFIGURATION: 5/20/00, or 5/24/00 from
        // QEMU's scsi-hd.
        Err(ScsiError::Sense(s))
            if s.key == sense::key::ILLEGAL_REQUEST && matches!(s.asc, 0x20 | 0x24) =>
        {
            None
        }
        Err(e) => return Err(failed("GET CONFIGURATION", &e)),
    };
    let profile = config.as_ref().map(|c| c.current_profile);
    let name = webburn_shared::medium_name(profile);
    match profile {
        Some(0) => {
            return Err(EngineError::new(
                HResult::E_IMAPI_RECORDER_MEDIA_NO_MEDIA,
                "there is no disc in the drive",
            ));
        }
        Some(p) if medium::is_read_only(p) => {
            return Err(EngineError::new(
                HResult::E_IMAPI_DF2DATA_MEDIA_IS_NOT_SUPPORTED,
                format!("a {name} cannot be written"),
            ));
        }
        _ => {}
    }
    let sequential = profile.is_some_and(medium::is_sequential);
    let first_lba = if matches!(profile, Some(0x09 | 0x0A)) {
        CD_FIRST_LBA
    } else {
        0
    };
    let extent = if sequential {
        sequential_extent(t, name)?
    } else if let Some(extent) = unformatted_extent(t, profile) {
        extent
    } else {
        random_access_extent(t, name)?
    };
    Ok(Medium {
        profile,
        sequential,
        next_writable: extent.next_writable,
        can_test_write: config
            .as_ref()
            .is_some_and(scsi::Configuration::can_test_write),
        room: MediumRoom {
            name,
            first_lba,
            end_lba: extent.end_lba,
            sector_sizes: SectorSizes::for_profile(profile, extent.block_len),
        },
    })
}

/// Where a medium may be written: its next writable address (sequential
/// media), the end of its writable room and its block size.
struct Extent {
    next_writable: Option<u32>,
    end_lba: u64,
    block_len: u32,
}

/// A sequential medium (MMC-6: READ DISC INFORMATION, READ TRACK
/// INFORMATION of the invisible track): written from its next writable
/// address up to its free blocks; a closed disc takes nothing more.
fn sequential_extent(t: &mut dyn ScsiTransport, name: &str) -> Result<Extent, EngineError> {
    let disc = scsi::read_disc_information(t).map_err(|e| failed("READ DISC INFORMATION", &e))?;
    if disc.status == scsi::DiscStatus::Complete {
        let next = if disc.erasable {
            ": erase it first (webburn-helper erase)"
        } else {
            ": nothing more can be written to it"
        };
        return Err(EngineError::new(
            HResult::E_IMAPI_DF2DATA_MEDIA_NOT_BLANK,
            format!("the {name} is closed (finalized){next}"),
        ));
    }
    let track =
        scsi::read_track_information(t, 0xFF).map_err(|e| failed("READ TRACK INFORMATION", &e))?;
    let Some(nwa) = track.next_writable else {
        return Err(EngineError::new(
            HResult::E_IMAPI_DF2DATA_INVALID_MEDIA_STATE,
            format!("the {name} reports no next writable address"),
        ));
    };
    Ok(Extent {
        next_writable: Some(nwa),
        end_lba: u64::from(nwa) + u64::from(track.free_blocks),
        block_len: 2048,
    })
}

/// A random-access medium (a disk, a rewritable disc; SBC READ CAPACITY):
/// anywhere below its capacity, in blocks of its own size.
/// A blank rewritable disc ([`FORMATTABLE`]) holds what it will once
/// formatted (READ FORMAT CAPACITIES): the disc flow formats it first.
fn unformatted_extent(t: &mut dyn ScsiTransport, profile: Option<u16>) -> Option<Extent> {
    if !profile.is_some_and(medium::is_formattable) {
        return None;
    }
    let caps = scsi::read_format_capacities(t).ok()?;
    (caps.current == MediumFormat::Unformatted).then_some(Extent {
        next_writable: None,
        end_lba: u64::from(caps.blocks),
        block_len: caps.block_len,
    })
}

fn random_access_extent(t: &mut dyn ScsiTransport, name: &str) -> Result<Extent, EngineError> {
    let cap = match scsi::read_capacity(t) {
        Ok(c) => c,
        Err(ScsiError::Sense(s)) if s.asc == 0x3A => {
            return Err(EngineError::new(
                HResult::E_IMAPI_RECORDER_MEDIA_NO_MEDIA,
                format!("there is no medium in the {name}"),
            )
            .with_sense(s));
        }
        Err(e) => return Err(failed("READ CAPACITY", &e)),
    };
    Ok(Extent {
        next_writable: None,
        end_lba: u64::from(cap.last_lba) + 1,
        block_len: cap.block_len,
    })
}
