//! The sessions on a disc left appendable: where the last closed one starts
//! (READ TOC format 1, MMC-6 6.26.3.3) and its file tree, read with READ(10)
//! (IMAPI2's MultisessionInterfaces and IMAPI2FS's ImportFileSystem), so
//! the next session can hold the old files and the new ones.

use webburn_fsimage::{RecordedSession, import_session};
use webburn_shared::HResult;

use crate::engine::EngineError;
use crate::engine::medium::failed;
use crate::scsi::{self, DiscStatus};
use crate::transport::ScsiTransport;

/// Sectors one READ(10) of the import asks for.
const READ_CHUNK: u32 = 32;

/// The tree of the disc's last closed session, for the next session to
/// import; `None` for a blank disc (nothing to add to). A closed disc, a
/// rewritable one (a burn rewrites it whole) or a session that is not ISO
/// 9660 is refused with IMAPI2's HRESULT.
pub fn last_session(t: &mut dyn ScsiTransport) -> Result<Option<RecordedSession>, EngineError> {
    let info = scsi::read_disc_information(t).map_err(|e| failed("READ DISC INFORMATION", &e))?;
    match info.status {
        DiscStatus::Blank => return Ok(None),
        DiscStatus::Complete => {
            return Err(EngineError::new(
                HResult::E_IMAPI_DF2DATA_MEDIA_NOT_BLANK,
                "the disc is closed: no session can be added to it",
            ));
        }
        DiscStatus::Random => {
            return Err(EngineError::new(
                HResult::IMAPI_E_NO_COMPATIBLE_MULTISESSION_TYPE,
                "a rewritable disc is burned whole: choose all its files again",
            ));
        }
        DiscStatus::Appendable => {}
    }
    let closed = info.sessions.saturating_sub(1);
    if closed == 0 {
        return Err(EngineError::new(
            HResult::E_IMAPI_DF2DATA_INVALID_MEDIA_STATE,
            "the disc's session was never closed: it holds no file system to add to",
        ));
    }
    let start = scsi::read_session_info(t)
        .map_err(|e| failed("READ TOC (session information)", &e))?
        .start;
    let mut read = |lba: u32, count: u32| -> Result<Vec<u8>, String> {
        let mut out = vec![0u8; count as usize * 2048];
        for (i, chunk) in out.chunks_mut(READ_CHUNK as usize * 2048).enumerate() {
            let at = lba + i as u32 * READ_CHUNK;
            let blocks = u16::try_from(chunk.len() / 2048).unwrap_or(0);
            let lba = i32::try_from(at).map_err(|_| format!("sector {at} is out of range"))?;
            scsi::read10(t, lba, blocks, chunk).map_err(|e| format!("READ(10) at {at}: {e}"))?;
        }
        Ok(out)
    };
    import_session(&mut read, start)
        .map(Some)
        .map_err(|e| EngineError::new(e.hresult(), e.to_string()))
}
