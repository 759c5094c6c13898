//! The first steps of a disc burn: a tray to close, a medium to check
//! (profile, blank or appendable, room for the data), a speed and a write
//! mode to set, and the last: closing the track and the session.

use std::time::{Duration, Instant};

use webburn_shared::HResult;

use crate::engine::EngineError;
use crate::scsi::{self, ScsiError, sense};
use crate::transport::ScsiTransport;

/// How long a drive may take to become ready after loading a disc.
const READY_WAIT: Duration = Duration::from_secs(30);

/// Profiles written only at the next writable address (write-once and
/// sequential rewritable media).
const SEQUENTIAL: [u16; 10] = [0x09, 0x0A, 0x11, 0x14, 0x15, 0x16, 0x1B, 0x2B, 0x41, 0x51];
/// Read-only profiles.
const READ_ONLY: [u16; 5] = [0x08, 0x10, 0x40, 0x50, 0x03];

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

fn failed(what: &str, e: &ScsiError) -> EngineError {
    let err = EngineError::new(e.hresult(), format!("{what} failed: {e}"));
    match e {
        ScsiError::Sense(s) => err.with_sense(*s),
        _ => err,
    }
}

/// TEST UNIT READY until the drive is ready: an open tray is closed once
/// (START STOP UNIT, as cdrecord and libburn do), "becoming ready" and unit
/// attentions are waited out for up to 30 s.
pub fn ensure_ready(t: &mut dyn ScsiTransport) -> Result<(), EngineError> {
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
        } else {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Checks that `sector_count` sectors of `bps` bytes can be written at
/// `start_lba` on the loaded medium.
pub fn check(
    t: &mut dyn ScsiTransport,
    start_lba: i32,
    sector_count: i32,
    bps: i32,
) -> Result<MediumCheck, EngineError> {
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
    let name = profile.map_or("disk", scsi::replies::profile_name);
    let count = i64::from(sector_count);
    let end = i64::from(start_lba) + count - 1;
    let end_lba = u32::try_from(end.max(0)).unwrap_or(u32::MAX);
    let too_large = |room: i64| {
        EngineError::new(
            HResult::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA,
            format!("the data needs {count} sectors but the {name} has room for {room}"),
        )
    };
    match profile {
        Some(0) => {
            return Err(EngineError::new(
                HResult::E_IMAPI_RECORDER_MEDIA_NO_MEDIA,
                "there is no disc in the drive",
            ));
        }
        Some(p) if READ_ONLY.contains(&p) => {
            return Err(EngineError::new(
                HResult::E_IMAPI_DF2DATA_MEDIA_IS_NOT_SUPPORTED,
                format!("a {name} cannot be written"),
            ));
        }
        _ => {}
    }
    let sequential = profile.is_some_and(|p| SEQUENTIAL.contains(&p));
    if sequential {
        if bps != 2048 {
            return Err(EngineError::new(
                HResult::E_INVALIDARG,
                format!("a {name} takes 2048-byte sectors, not {bps}"),
            ));
        }
        let disc =
            scsi::read_disc_information(t).map_err(|e| failed("READ DISC INFORMATION", &e))?;
        if disc.status == scsi::DiscStatus::Complete {
            return Err(EngineError::new(
                HResult::E_IMAPI_DF2DATA_MEDIA_NOT_BLANK,
                format!("the {name} is closed (finalized): nothing more can be written to it"),
            ));
        }
        let track = scsi::read_track_information(t, 0xFF)
            .map_err(|e| failed("READ TRACK INFORMATION", &e))?;
        let Some(nwa) = track.next_writable else {
            return Err(EngineError::new(
                HResult::E_IMAPI_DF2DATA_INVALID_MEDIA_STATE,
                format!("the {name} reports no next writable address"),
            ));
        };
        if i64::from(start_lba) != i64::from(nwa) {
            return Err(EngineError::new(
                HResult::E_INVALIDARG,
                format!("startingBlockAddress {start_lba} is not the next writable address {nwa}"),
            ));
        }
        if count > i64::from(track.free_blocks) {
            return Err(too_large(i64::from(track.free_blocks)));
        }
    } else {
        let cap = scsi::read_capacity(t).map_err(|e| failed("READ CAPACITY", &e))?;
        if i64::from(cap.block_len) != i64::from(bps) {
            return Err(EngineError::new(
                HResult::E_INVALIDARG,
                format!(
                    "BytesPerSector {bps} does not match the {name}'s blocks of {} bytes",
                    cap.block_len
                ),
            ));
        }
        let room = i64::from(cap.last_lba) + 1 - i64::from(start_lba);
        if start_lba < 0 || count > room {
            return Err(too_large(room.max(0)));
        }
    }
    Ok(MediumCheck {
        profile,
        sequential,
        can_test_write: config
            .as_ref()
            .is_some_and(scsi::Configuration::can_test_write),
        end_lba,
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
/// INFORMATION reports), then CLOSE SESSION.
pub fn close_track_and_session(t: &mut dyn ScsiTransport) -> Result<(), EngineError> {
    let track = scsi::read_track_information(t, 0xFF)
        .map_err(|e| failed("READ TRACK INFORMATION", &e))?
        .track;
    scsi::close_track_session(t, 1, track).map_err(|e| failed("CLOSE TRACK", &e))?;
    scsi::close_track_session(t, 2, 0).map_err(|e| failed("CLOSE SESSION", &e))
}

/// SYNCHRONIZE CACHE: everything the drive holds is on the medium.
pub fn synchronize(t: &mut dyn ScsiTransport) -> Result<(), EngineError> {
    scsi::synchronize_cache(t).map_err(|e| failed("SYNCHRONIZE CACHE", &e))
}
