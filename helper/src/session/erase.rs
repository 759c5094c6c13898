//! A session's erase (`eraseDisc`): IDiscFormat2Erase's EraseMedia on a
//! blocking thread, its progress and its result sent back as
//! [`WriteEvent`]s, like a write's.

use super::write::{WriteContext, claim};
use super::{TargetId, WriteEvent};
use webburn_engine::EngineError;
use webburn_engine::disc::erase::erase;

/// Claims `recorder_id` and starts blanking its disc on a blocking thread,
/// which reports [`WriteEvent::Erase`] and then [`WriteEvent::Done`] for
/// `write_id`, and releases the recorder when it ends. Blocking (it opens
/// the device). Refused: why the recorder cannot be had.
pub(super) fn start(
    write_id: u32,
    recorder_id: &str,
    full: bool,
    ctx: &WriteContext<'_>,
) -> Result<(), EngineError> {
    let claim = claim(recorder_id, ctx)?;
    let events = ctx.events.clone();
    let at = TargetId {
        write_id,
        target: 0,
    };
    tokio::task::spawn_blocking(move || {
        let result = match claim.recorder().try_acquire() {
            Ok(mut device) => erase(&mut **device, full, |p| {
                let _ = events.send(WriteEvent::Erase(write_id, p));
            }),
            Err(h) => Err(EngineError::new(
                h,
                "the recorder is busy with another writer",
            )),
        };
        // The recorder is free before the session hears of the end.
        drop(claim);
        let _ = events.send(WriteEvent::Done(at, result.map(|()| None)));
    });
    Ok(())
}
