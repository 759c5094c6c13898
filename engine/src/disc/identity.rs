//! Which medium is in a drive: what a consent to erase, read or burn over
//! a disc is bound to, so that another disc put in meanwhile is asked
//! about afresh. A disc is named by what the drive reports of it (profile,
//! state, sessions, where its last session starts, its size) and the
//! SHA-256 of its last session's volume descriptors (ECMA-119 8.4: the
//! volume's name and the time it was made) and root folder (the names at
//! its top).

use std::fmt::Write as _;

use sha2::{Digest, Sha256};
use webburn_shared::HResult;

use crate::EngineError;
use webburn_scsi::transport::ScsiTransport;
use webburn_scsi::{self as scsi, DiscStatus};

/// The medium in a drive, as a consent is bound to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediumIdentity {
    /// What tells it from another medium (compared, never shown).
    pub identity: String,
    /// Its kind for people: `CD-RW`, `DVD+RW`, `disk`.
    pub name: &'static str,
}

/// SHA-256 (its first 8 bytes, as hex) of the volume descriptors of the
/// session at `start` (sectors 16 to 31 after it) and of its root folder's
/// first sector, which names the files at the top: `None` when unreadable.
fn volume_digest(t: &mut dyn ScsiTransport, start: u32) -> Option<String> {
    let at = i32::try_from(start.checked_add(16)?).ok()?;
    let mut descriptors = vec![0u8; 16 * 2048];
    scsi::read10(t, at, 16, &mut descriptors).ok()?;
    let mut h = Sha256::new();
    h.update(&descriptors);
    // The primary descriptor's root record (ECMA-119 8.4.18, 9.1.3).
    if &descriptors[1..6] == b"CD001" {
        let root = u32::from_le_bytes(descriptors[156 + 2..156 + 6].try_into().ok()?);
        let mut dir = vec![0u8; 2048];
        if let Ok(root) = i32::try_from(root)
            && scsi::read10(t, root, 1, &mut dir).is_ok()
        {
            h.update(&dir);
        }
    }
    Some(webburn_shared::units::hex(&h.finalize()[..8]))
}

/// Asks the drive which medium it holds (blocking SCSI I/O); no medium is
/// an error (nothing to erase or read).
pub fn of(t: &mut dyn ScsiTransport) -> Result<MediumIdentity, EngineError> {
    let profile = scsi::get_configuration(t).ok().map(|c| c.current_profile);
    if profile == Some(0) {
        return Err(EngineError::new(
            HResult::E_IMAPI_RECORDER_MEDIA_NO_MEDIA,
            "there is no disc in the drive",
        ));
    }
    let name = webburn_shared::medium_name(profile);
    let mut identity = format!("profile {:04X}", profile.unwrap_or(0));
    if let Ok(info) = scsi::read_disc_information(t) {
        let state = match info.status {
            DiscStatus::Blank => "blank",
            DiscStatus::Appendable => "appendable",
            DiscStatus::Complete => "complete",
            DiscStatus::Random => "random",
        };
        let _ = write!(identity, ", {state}, {} sessions", info.sessions);
    }
    if let Ok(cap) = scsi::read_capacity(t) {
        let _ = write!(identity, ", last sector {}", cap.last_lba);
    }
    let start = scsi::read_session_info(t).map_or(0, |s| s.start);
    if let Some(digest) = volume_digest(t, start) {
        let _ = write!(identity, ", session at {start}, volume {digest}");
    }
    Ok(MediumIdentity { identity, name })
}
