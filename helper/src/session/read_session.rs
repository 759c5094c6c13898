//! A session's `readSession`: the file tree of the last closed session on a
//! disc left appendable, read under the recorder's claim, for a page that
//! adds files to it.

use webburn_shared::disc::RecordedSession;

use super::write::{WriteContext, claim};
use crate::disc::sessions::last_session;
use crate::engine::EngineError;
use crate::scsi;

/// Claims `recorder_id`, reads its disc's last session and the next
/// writable address, and lets the recorder go. Blocking.
pub(super) fn read(
    recorder_id: &str,
    ctx: &WriteContext<'_>,
) -> Result<(Option<RecordedSession>, u32), EngineError> {
    let claim = claim(recorder_id, ctx)?;
    let mut device = crate::disc::hold(claim.recorder())?;
    let session = last_session(&mut **device)?;
    let next = scsi::read_track_information(&mut **device, 0xFF)
        .ok()
        .and_then(|t| t.next_writable)
        .unwrap_or(0);
    Ok((session, next))
}
