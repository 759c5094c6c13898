//! A session's `readSession`: the file tree of the last session on a disc
//! left appendable (or a formatted rewritable one) and where the next
//! session goes, read under the recorder's claim, for a page that adds
//! files to it.

use webburn_shared::disc::RecordedSession;

use super::write::{WriteContext, claim};
use webburn_engine::EngineError;
use webburn_engine::disc::sessions::next_session;

/// Claims `recorder_id`, reads its disc's last session and the next
/// writable address, and lets the recorder go. Blocking.
pub(super) fn read(
    recorder_id: &str,
    ctx: &WriteContext<'_>,
) -> Result<(Option<RecordedSession>, u32), EngineError> {
    let claim = claim(recorder_id, ctx)?;
    let mut device = webburn_engine::disc::hold(claim.recorder())?;
    let next = next_session(&mut **device)?;
    Ok((next.previous, next.start))
}
