//! IDiscFormat2Erase's EraseMedia: a CD-RW or DVD-RW is blanked (MMC-6
//! 6.2 BLANK: minimal by default, the whole disc with `full`), after which
//! it takes a burn as a blank disc does. Rewritable discs written at random
//! (DVD+RW, BD-RE) are not blanked: a burn overwrites them in place.

use std::time::{Duration, Instant};

use webburn_shared::HResult;

use super::medium::ensure_ready;
use crate::engine::EngineError;
use crate::scsi::{self, BLANK_TIMEOUT, ScsiError};
use crate::sense::key;
use crate::transport::ScsiTransport;

/// Profiles BLANK erases: CD-RW, DVD-RW restricted overwrite and sequential.
const BLANKABLE: [u16; 3] = [0x0A, 0x13, 0x14];

/// IDiscFormat2Erase's Update event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EraseProgress {
    /// Seconds since the drive started blanking.
    pub elapsed_seconds: u32,
    /// The seconds it will take in all, from the drive's progress
    /// indication (0 while it has given none).
    pub estimated_total_seconds: u32,
}

/// How often the drive is asked how far it got.
const POLL: Duration = Duration::from_millis(250);

/// Erases the disc in the drive; `full` blanks all of it instead of the
/// parts that say what is on it. The drive blanks on its own (BLANK with
/// Immed) while TEST UNIT READY polls it, so `update` hears its progress.
pub fn erase(
    t: &mut dyn ScsiTransport,
    full: bool,
    mut update: impl FnMut(EraseProgress),
) -> Result<(), EngineError> {
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
    let started = Instant::now();
    let mut last = None;
    let mut estimate = 0u32;
    loop {
        let elapsed = started.elapsed();
        let seconds = u32::try_from(elapsed.as_secs()).unwrap_or(u32::MAX);
        match scsi::test_unit_ready(t) {
            Ok(()) => {
                update(EraseProgress {
                    elapsed_seconds: seconds,
                    estimated_total_seconds: seconds,
                });
                return Ok(());
            }
            // 2/04/xx: still blanking; the sense-key specific bytes say how
            // far (SPC-4 4.5.2.4.4, a fraction of 65536).
            Err(ScsiError::Sense(s)) if s.key == key::NOT_READY && s.asc == 0x04 => {
                if let Some(done) = s.progress.filter(|&p| p > 0) {
                    let total = elapsed.as_secs_f64() * 65536.0 / f64::from(done);
                    estimate = total.ceil().min(f64::from(u32::MAX)) as u32;
                }
            }
            // A failed blank shows as a deferred error here.
            Err(e) => return Err(failed(e)),
        }
        if elapsed >= BLANK_TIMEOUT {
            return Err(EngineError::new(
                HResult::E_IMAPI_ERASE_TOOK_LONGER_THAN_ONE_HOUR,
                format!("the drive did not finish erasing the {name}"),
            ));
        }
        let now = EraseProgress {
            elapsed_seconds: seconds,
            estimated_total_seconds: if estimate == 0 {
                0
            } else {
                estimate.max(seconds)
            },
        };
        if last != Some(now) {
            last = Some(now);
            update(now);
        }
        std::thread::sleep(POLL);
    }
}
