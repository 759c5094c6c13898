//! What a burn that adds files to a disc builds on (IMAPI2's
//! MultisessionInterfaces and IMAPI2FS's ImportFileSystem): the file tree of
//! the disc's last session and where the next one goes.
//!
//! - A write-once disc left appendable: the last closed session starts
//!   where READ TOC format 1 says (MMC-6 6.26.3.3); the next one at the
//!   next writable address, after the gap the drive leaves.
//! - A formatted rewritable disc (DVD+RW, BD-RE): the file system is grown
//!   in place, as growisofs does. The tree at sector 16 is imported, the new
//!   session is written after the volume's end (aligned to 32 sectors, a
//!   BD cluster and two DVD ECC blocks), and only once it is written (and
//!   verified) are its volume descriptors copied to sector 16: until then
//!   every reader still sees the old tree whole.

use webburn_fsimage::{ImportError, RecordedSession, import_session};
use webburn_shared::HResult;

use crate::EngineError;
use crate::medium::failed;
use webburn_scsi::transport::ScsiTransport;
use webburn_scsi::{self as scsi, DiscStatus};

/// Sectors one READ(10) of the import asks for.
const READ_CHUNK: u32 = 32;
/// A grown session starts on a multiple of this many sectors.
const GROW_ALIGN: u32 = 32;
/// Where ECMA-119's volume descriptors start.
const DESCRIPTORS: u32 = 16;
/// The last sector of an image's head (system area, descriptors, UDF
/// anchor): the part a grown session copies over the disc's own.
const HEAD_END: u32 = 256;

/// What the next session of a disc builds on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextSession {
    /// The last session's tree; `None` when the disc holds none (blank).
    pub previous: Option<RecordedSession>,
    /// Where the next session is written.
    pub start: u32,
    /// It grows a rewritable disc's file system in place
    /// ([`point_to_grown_session`] once written).
    pub grow_in_place: bool,
}

/// Most sectors one read of the import asks for (what a disc names is
/// data from outside: nothing is allocated before it is bounded).
const MOST_SECTORS: u32 = 32 * 1024;

/// Reads `count` sectors from `lba` with READ(10)s of [`READ_CHUNK`].
fn reader(t: &mut dyn ScsiTransport) -> impl FnMut(u32, u32) -> Result<Vec<u8>, String> + '_ {
    move |lba: u32, count: u32| {
        if count > MOST_SECTORS {
            return Err(format!(
                "{count} sectors at {lba} in one read: more than {MOST_SECTORS}"
            ));
        }
        let mut out = vec![0u8; count as usize * 2048];
        for (i, chunk) in out.chunks_mut(READ_CHUNK as usize * 2048).enumerate() {
            let at = (i as u32)
                .checked_mul(READ_CHUNK)
                .and_then(|off| lba.checked_add(off))
                .and_then(|at| i32::try_from(at).ok())
                .ok_or_else(|| format!("sector {lba} + {i} chunks is out of range"))?;
            let blocks = u16::try_from(chunk.len() / 2048).unwrap_or(0);
            scsi::read10(t, at, blocks, chunk).map_err(|e| format!("READ(10) at {at}: {e}"))?;
        }
        Ok(out)
    }
}

fn import_error(e: &ImportError) -> EngineError {
    EngineError::new(e.hresult(), e.to_string())
}

/// The disc's last session and where the next goes. A closed disc, or a
/// session that is not ISO 9660 on a write-once disc, is refused with
/// IMAPI2's HRESULT; a formatted rewritable disc without an ISO 9660 volume
/// is taken as blank (a burn overwrites it, as before).
pub fn next_session(t: &mut dyn ScsiTransport) -> Result<NextSession, EngineError> {
    let info = scsi::read_disc_information(t).map_err(|e| failed("READ DISC INFORMATION", &e))?;
    let blank = NextSession {
        previous: None,
        start: 0,
        grow_in_place: false,
    };
    match info.status {
        DiscStatus::Blank => Ok(blank),
        DiscStatus::Complete => Err(EngineError::new(
            HResult::E_IMAPI_DF2DATA_MEDIA_NOT_BLANK,
            "the disc is closed: no session can be added to it",
        )),
        DiscStatus::Random => match import_session(&mut reader(t), 0) {
            Ok(previous) => {
                // The volume's size is the disc's word: it must leave room.
                let start = previous
                    .end
                    .div_ceil(GROW_ALIGN)
                    .checked_mul(GROW_ALIGN)
                    .filter(|&s| s > HEAD_END)
                    .ok_or_else(|| {
                        import_error(&ImportError::Inconsistent(format!(
                            "its volume claims {} sectors",
                            previous.end
                        )))
                    })?;
                Ok(NextSession {
                    previous: Some(previous),
                    start,
                    grow_in_place: true,
                })
            }
            Err(ImportError::Incompatible(_)) => Ok(blank),
            Err(e) => Err(import_error(&e)),
        },
        DiscStatus::Appendable => {
            if info.sessions < 2 {
                return Err(EngineError::new(
                    HResult::E_IMAPI_DF2DATA_INVALID_MEDIA_STATE,
                    "the disc's session was never closed: it holds no file system to add to",
                ));
            }
            let start = scsi::read_session_info(t)
                .map_err(|e| failed("READ TOC (session information)", &e))?
                .start;
            let previous = import_session(&mut reader(t), start).map_err(|e| import_error(&e))?;
            let next = scsi::read_track_information(t, 0xFF)
                .map_err(|e| failed("READ TRACK INFORMATION", &e))?
                .next_writable
                .ok_or_else(|| {
                    EngineError::new(
                        HResult::E_IMAPI_DF2DATA_INVALID_MEDIA_STATE,
                        "the drive reports no next writable address",
                    )
                })?;
            Ok(NextSession {
                previous: Some(previous),
                start: next,
                grow_in_place: false,
            })
        }
    }
}

/// The last step of growing a rewritable disc's file system: sectors 16 to
/// 256 of the session just written at `start` (its volume descriptors, then
/// zeros: a later session records no UDF) are copied over the disc's own
/// 16 to 256 and read back, so the disc opens on the new tree, and the first
/// session's UDF recognition sequence and anchor (ECMA-167 2/8.3, 3/8.4.2.1)
/// are gone: a reader that prefers UDF finds none and reads the grown ISO
/// 9660 and Joliet trees.
pub fn point_to_grown_session(t: &mut dyn ScsiTransport, start: u32) -> Result<(), EngineError> {
    if start <= HEAD_END {
        return Err(EngineError::new(
            HResult::E_INVALIDARG,
            format!("a grown session cannot start at sector {start}"),
        ));
    }
    let count = HEAD_END + 1 - DESCRIPTORS;
    let from = start.checked_add(DESCRIPTORS).ok_or_else(|| {
        EngineError::new(
            HResult::E_INVALIDARG,
            format!("a grown session cannot start at sector {start}"),
        )
    })?;
    let head = reader(t)(from, count)
        .map_err(|e| EngineError::new(HResult::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE, e))?;
    if !(head[0] == 1 && &head[1..6] == b"CD001") {
        return Err(EngineError::new(
            HResult::E_INVALIDARG,
            format!("the session at sector {start} holds no ISO 9660 volume descriptor"),
        ));
    }
    for (i, chunk) in head.chunks(READ_CHUNK as usize * 2048).enumerate() {
        let at = DESCRIPTORS + i as u32 * READ_CHUNK;
        scsi::write10(t, at as i32, chunk)
            .map_err(|e| failed("WRITE of the volume descriptors", &e))?;
    }
    scsi::synchronize_cache(t).map_err(|e| failed("SYNCHRONIZE CACHE", &e))?;
    let back = reader(t)(DESCRIPTORS, count)
        .map_err(|e| EngineError::new(HResult::E_IMAPI_BURN_VERIFICATION_FAILED, e))?;
    if let Some(bad) = back
        .chunks(2048)
        .zip(head.chunks(2048))
        .position(|(a, b)| a != b)
    {
        let mut e = EngineError::new(
            HResult::E_IMAPI_BURN_VERIFICATION_FAILED,
            "the volume descriptors copied to sector 16 read back differently",
        );
        e.bad_lba = i32::try_from(DESCRIPTORS as usize + bad).ok();
        return Err(e);
    }
    Ok(())
}
