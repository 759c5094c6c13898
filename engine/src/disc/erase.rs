//! IDiscFormat2Erase's EraseMedia: a CD-RW or DVD-RW is blanked (MMC-6
//! 6.2 BLANK: minimal by default, the whole disc with `full`), after which
//! it takes a burn as a blank disc does. Rewritable discs written at random
//! (DVD+RW, BD-RE) are not blanked: a burn overwrites them in place.

use webburn_shared::HResult;

use super::busy::{WaitError, wait_while_busy};
use super::medium::ensure_ready;
use crate::EngineError;
use crate::cancel::CancelToken;
use webburn_scsi::transport::ScsiTransport;
use webburn_scsi::{self as scsi, BLANK_TIMEOUT, ScsiError};

/// IDiscFormat2Erase's Update event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EraseProgress {
    /// Seconds since the drive started blanking.
    pub elapsed_seconds: u32,
    /// The seconds it will take in all, from the drive's progress
    /// indication (0 while it has given none).
    pub estimated_total_seconds: u32,
}

/// Erases the disc in the drive; `full` blanks all of it instead of the
/// parts that say what is on it. The drive blanks on its own (BLANK with
/// Immed) while TEST UNIT READY polls it, so `update` hears its progress.
pub fn erase(
    t: &mut dyn ScsiTransport,
    full: bool,
    mut update: impl FnMut(EraseProgress),
) -> Result<(), EngineError> {
    // IDiscFormat2Erase has no cancel: an erase waits for the drive.
    let never = CancelToken::new();
    ensure_ready(t, &never)?;
    let profile = scsi::get_configuration(t)
        .map(|c| c.current_profile)
        .map_err(|e| {
            EngineError::new(HResult::E_IMAPI_ERASE_RECORDER_NOT_SUPPORTED, e.to_string())
        })?;
    let name = webburn_shared::medium_name(Some(profile));
    if !webburn_shared::medium::is_blankable(profile) {
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
    let failed = |e: ScsiError| {
        let error = EngineError::new(
            HResult::E_IMAPI_ERASE_DRIVE_FAILED_ERASE_COMMAND,
            format!("the drive failed to erase the {name}: {e}"),
        );
        match e {
            ScsiError::Sense(s) => error.with_sense(s),
            _ => error,
        }
    };
    scsi::blank(t, full, true).map_err(failed)?;
    let mut last = None;
    let waited = wait_while_busy(t, BLANK_TIMEOUT, &never, |p| {
        let now = EraseProgress {
            elapsed_seconds: p.elapsed_seconds(),
            estimated_total_seconds: p.estimated_total_seconds(),
        };
        // One event per change of either figure.
        if last != Some(now) {
            last = Some(now);
            update(now);
        }
    });
    match waited {
        Ok(()) => Ok(()),
        Err(WaitError::Failed(e)) => Err(failed(e)),
        Err(WaitError::TimedOut | WaitError::Stopped) => Err(EngineError::new(
            HResult::E_IMAPI_ERASE_TOOK_LONGER_THAN_ONE_HOUR,
            format!("the drive did not finish erasing the {name}"),
        )),
    }
}
