//! The first steps of a disc burn: a tray to close, a medium to check
//! (profile, blank or appendable, room for the data), a speed and a write
//! mode to set, and the last: closing the track and the session.

use std::time::{Duration, Instant};

use webburn_shared::{HResult, Section};

use super::busy::{DriveProgress, WaitError, wait_while_busy};
use crate::EngineError;
use crate::cancel::CancelToken;
use crate::medium::failed;
use webburn_scsi::formatting::{FormatRequest, MediumFormat, format_type};
use webburn_scsi::sense;
use webburn_scsi::transport::ScsiTransport;
use webburn_scsi::{self as scsi, ScsiError};

/// How long a drive may take to become ready after loading a disc.
const READY_WAIT: Duration = Duration::from_secs(30);

/// What the medium check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediumCheck {
    /// The current profile; `None` for a disk without GET CONFIGURATION.
    pub profile: Option<u16>,
    /// Written at the next writable address, closed when done.
    pub sequential: bool,
    /// The drive can simulate on this medium.
    pub can_test_write: bool,
    /// The last LBA the section covers.
    pub end_lba: u32,
}

impl MediumCheck {
    /// A disk (a stick, a card, a hard disk): no profile, or one of MMC-6's
    /// disk profiles (0001h non-removable, 0002h removable, 0003h-0005h
    /// magneto-optical).
    pub fn is_disk(&self) -> bool {
        self.profile.is_none_or(|p| (0x0001..=0x0005).contains(&p))
    }
}

/// TEST UNIT READY until the drive is ready: an open tray is closed once
/// (START STOP UNIT, as cdrecord and libburn do), "becoming ready" and unit
/// attentions are waited out for up to 30 s, or until `cancel` fires.
pub fn ensure_ready(t: &mut dyn ScsiTransport, cancel: &CancelToken) -> Result<(), EngineError> {
    let until = Instant::now() + READY_WAIT;
    let mut loaded = false;
    loop {
        let s = match scsi::test_unit_ready(t) {
            Ok(()) => return Ok(()),
            Err(ScsiError::Sense(s)) => s,
            Err(e) => return Err(failed("TEST UNIT READY", &e)),
        };
        let waiting = s.key == sense::key::UNIT_ATTENTION
            || (s.key == sense::key::NOT_READY && s.asc == 0x04 && s.ascq == 0x01);
        if s.asc == 0x3A && !loaded {
            loaded = true;
            scsi::load_or_eject(t, false).map_err(|e| {
                EngineError::new(
                    HResult::E_IMAPI_RECORDER_MEDIA_NO_MEDIA,
                    format!("no disc in the drive and its tray cannot be closed: {e}"),
                )
            })?;
        } else if s.asc == 0x3A {
            return Err(EngineError::new(
                HResult::E_IMAPI_RECORDER_MEDIA_NO_MEDIA,
                "there is no disc in the drive",
            )
            .with_sense(s));
        } else if !waiting || Instant::now() >= until {
            return Err(failed("TEST UNIT READY", &ScsiError::Sense(s)));
        } else if cancel.sleep(Duration::from_millis(100)) {
            return Err(EngineError::cancelled());
        }
    }
}

/// A blank rewritable disc (DVD+RW, BD-RE) gets a full format before its
/// first write, as IMAPI2's data writer does: the FORMAT UNIT request its
/// drive offers for it (READ FORMAT CAPACITIES), or `None` when the disc
/// needs none.
pub fn blank_format(t: &mut dyn ScsiTransport) -> Result<Option<FormatRequest>, EngineError> {
    let config = scsi::get_configuration(t).ok();
    let Some(profile) = config
        .map(|c| c.current_profile)
        .filter(|p| webburn_shared::medium::is_formattable(*p))
    else {
        return Ok(None);
    };
    let caps = scsi::read_format_capacities(t).map_err(|e| failed("READ FORMAT CAPACITIES", &e))?;
    if caps.current != MediumFormat::Unformatted {
        return Ok(None);
    }
    // DVD+RW: its one full format; BD-RE: with spare areas (defect
    // management), else without.
    let wanted: &[u8] = if profile == 0x1A {
        &[format_type::DVD_PLUS_RW_FULL]
    } else {
        &[
            format_type::BD_RE_WITH_SPARES,
            format_type::BD_RE_WITHOUT_SPARES,
        ]
    };
    let format = wanted
        .iter()
        .find_map(|w| caps.options.iter().find(|o| o.format_type == *w))
        .ok_or_else(|| {
            let name = webburn_shared::medium_name(Some(profile));
            EngineError::new(
                HResult::E_IMAPI_DF2DATA_MEDIA_IS_NOT_SUPPORTED,
                format!("the drive offers no format for the blank {name}"),
            )
        })?;
    Ok(Some(FormatRequest {
        immed: true,
        format: *format,
        subtype: 0,
    }))
}

/// FORMATTING_MEDIA: FORMAT UNIT with `request` (Immed), then the wait
/// while the drive formats, `on` hearing its progress; a format that did
/// not finish (the drive's deferred error) fails with its sense. When
/// `cancel` fires the wait ends (the drive formats on: MMC has no way to
/// stop it) and the write ends cancelled.
pub fn format(
    t: &mut dyn ScsiTransport,
    request: &FormatRequest,
    cancel: &CancelToken,
    on: impl FnMut(DriveProgress),
) -> Result<(), EngineError> {
    let failed = |e: ScsiError| {
        let error = EngineError::new(e.hresult(), format!("formatting the disc failed: {e}"));
        match e {
            ScsiError::Sense(s) => error.with_sense(s),
            _ => error,
        }
    };
    scsi::format_unit(t, request).map_err(failed)?;
    match wait_while_busy(t, scsi::FORMAT_TIMEOUT, cancel, on) {
        Ok(()) => Ok(()),
        Err(WaitError::Stopped) => Err(EngineError::cancelled()),
        Err(WaitError::Failed(e)) => Err(failed(e)),
        Err(WaitError::TimedOut) => Err(EngineError::new(
            HResult::E_IMAPI_RECORDER_MEDIA_FORMAT_IN_PROGRESS,
            "the drive was still formatting the disc after five hours",
        )),
    }
}

/// Checks that `section` can be burned on the loaded medium, as the
/// engine does before its first WRITE (no medium, read-only or closed
/// disc, next writable address, room, sector size), and says what the
/// rest of the flow needs to know of the medium.
pub fn check(t: &mut dyn ScsiTransport, section: Section) -> Result<MediumCheck, EngineError> {
    let medium = crate::medium::probe(t)?;
    medium.admit(section)?;
    Ok(MediumCheck {
        profile: medium.profile,
        sequential: medium.sequential,
        can_test_write: medium.can_test_write,
        end_lba: u32::try_from(section.last().max(0)).unwrap_or(0),
    })
}

/// The speed a burn runs at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpeedChoice {
    /// Sectors per second in force; -1 if the drive does not say.
    pub sectors_per_second: i32,
    /// Not the speed asked for.
    pub adjusted: bool,
}

/// Sets the write speed nearest to `requested` sectors/s (-1: leaves the
/// drive's own choice): the fastest speed the drive lists that is not above
/// the request, else its slowest. CD writers get SET CD SPEED, DVD and BD
/// writers SET STREAMING.
pub fn set_speed(
    t: &mut dyn ScsiTransport,
    checked: &MediumCheck,
    requested: i32,
) -> Result<SpeedChoice, EngineError> {
    let profile = checked.profile.unwrap_or(0);
    let listed: Vec<u32> = scsi::get_write_speeds(t)
        .map(|s| s.0.iter().map(|w| w.sectors_per_second(profile)).collect())
        .unwrap_or_default();
    let fastest = listed.iter().copied().max();
    let as_i32 = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    if requested <= 0 {
        return Ok(SpeedChoice {
            sectors_per_second: fastest.map_or(-1, as_i32),
            adjusted: false,
        });
    }
    let Some(slowest) = listed.iter().copied().min() else {
        // A drive without speeds (a disk) writes as fast as it can.
        return Ok(SpeedChoice {
            sectors_per_second: -1,
            adjusted: true,
        });
    };
    let wanted = requested as u32;
    let chosen = listed
        .iter()
        .copied()
        .filter(|&s| s <= wanted)
        .max()
        .unwrap_or(slowest);
    let kb_per_s = (u64::from(chosen) * scsi::speed_sector_bytes(profile)).div_ceil(1000);
    if scsi::speed_sector_bytes(profile) == 2352 {
        let kb = u16::try_from(kb_per_s).unwrap_or(0xFFFE);
        scsi::set_cd_speed(t, kb).map_err(|e| failed("SET CD SPEED", &e))?;
    } else {
        let kb = u32::try_from(kb_per_s).unwrap_or(u32::MAX);
        scsi::set_write_speed(t, kb, checked.end_lba).map_err(|e| failed("SET STREAMING", &e))?;
    }
    Ok(SpeedChoice {
        sectors_per_second: as_i32(chosen),
        adjusted: chosen != wanted,
    })
}

/// CLOSE TRACK of the track just written (the incomplete track READ TRACK
/// INFORMATION reports), then CLOSE SESSION. With `finalize` the disc
/// takes no further session (IMAPI's ForceMediaToBeClosed): CD and DVD-R
/// media by the Multi-session field 00b, DVD+R and BD-R by the finalizing
/// close function (110b, MMC-6 6.3.2). Without, it stays appendable.
pub fn close_track_and_session(
    t: &mut dyn ScsiTransport,
    profile: Option<u16>,
    finalize: bool,
) -> Result<(), EngineError> {
    let track = scsi::read_track_information(t, 0xFF)
        .map_err(|e| failed("READ TRACK INFORMATION", &e))?
        .track;
    scsi::close_track_session(t, 1, track).map_err(|e| failed("CLOSE TRACK", &e))?;
    let by_mode_page = profile.is_some_and(webburn_shared::medium::is_finalized_by_mode_page);
    if by_mode_page {
        let set = scsi::set_multi_session(t, !finalize);
        // A drive that keeps its default (00b) finalizes: only a disc
        // meant to stay open needs the page.
        if !finalize {
            set.map_err(|e| failed("MODE SELECT (multi-session)", &e))?;
        }
    }
    let function = if finalize && !by_mode_page { 6 } else { 2 };
    scsi::close_track_session(t, function, 0).map_err(|e| failed("CLOSE SESSION", &e))
}

/// SYNCHRONIZE CACHE: everything the drive holds is on the medium.
pub fn synchronize(t: &mut dyn ScsiTransport) -> Result<(), EngineError> {
    scsi::synchronize_cache(t).map_err(|e| failed("SYNCHRONIZE CACHE", &e))
}
