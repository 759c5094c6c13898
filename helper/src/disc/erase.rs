//! IDiscFormat2Erase's EraseMedia: a CD-RW or DVD-RW is blanked (MMC-6
//! 6.2 BLANK: minimal by default, the whole disc with `full`), after which
//! it takes a burn as a blank disc does. Rewritable discs written at random
//! (DVD+RW, BD-RE) are not blanked: a burn overwrites them in place.

use webburn_shared::HResult;

use super::medium::ensure_ready;
use crate::engine::EngineError;
use crate::scsi::{self, ScsiError};
use crate::transport::ScsiTransport;

/// Profiles BLANK erases: CD-RW, DVD-RW restricted overwrite and sequential.
const BLANKABLE: [u16; 3] = [0x0A, 0x13, 0x14];

/// Erases the disc in the drive; `full` blanks all of it instead of the
/// parts that say what is on it.
pub fn erase(t: &mut dyn ScsiTransport, full: bool) -> Result<(), EngineError> {
    ensure_ready(t)?;
    let profile = scsi::get_configuration(t)
        .map(|c| c.current_profile)
        .map_err(|e| {
            EngineError::new(HResult::E_IMAPI_ERASE_RECORDER_NOT_SUPPORTED, e.to_string())
        })?;
    let name = webburn_shared::medium_name(Some(profile));
    if !BLANKABLE.contains(&profile) {
        let erasable = scsi::read_disc_information(t).is_ok_and(|d| d.erasable);
        let (hresult, detail) = if erasable {
            (
                HResult::E_IMAPI_ERASE_MEDIA_IS_NOT_SUPPORTED,
                format!("a {name} is not blanked: a burn overwrites it in place"),
            )
        } else {
            (
                HResult::E_IMAPI_ERASE_MEDIA_IS_NOT_ERASABLE,
                format!("a {name} cannot be erased"),
            )
        };
        return Err(EngineError::new(hresult, detail));
    }
    scsi::blank(t, full).map_err(|e| {
        let error = EngineError::new(
            HResult::E_IMAPI_ERASE_DRIVE_FAILED_ERASE_COMMAND,
            format!("the drive failed to erase the {name}: {e}"),
        );
        match e {
            ScsiError::Sense(s) => error.with_sense(s),
            ScsiError::Transport(crate::transport::TransportError::Timeout(_)) => EngineError::new(
                HResult::E_IMAPI_ERASE_TOOK_LONGER_THAN_ONE_HOUR,
                format!("the drive did not finish erasing the {name}"),
            ),
            _ => error,
        }
    })
}
