//! A paired page's acts that destroy or reveal what a disc holds — erasing
//! it, burning afresh over a rewritable disc that holds files, reading
//! which files it holds — wait for the person (see `state::consents`).
//! The gate finds the medium in the drive and asks the registry; a request
//! it cannot let through is held by the session until the person decides,
//! then run as if just sent.

use webburn_shared::protocol::ConsentAct;

use super::write::{WriteContext, claim};
use crate::state::consents::Subject;
use crate::state::registry::Consent;
use webburn_engine::EngineError;
use webburn_engine::disc::identity::{self, MediumIdentity};
use webburn_scsi::transport::ScsiTransport;
use webburn_scsi::{self as scsi, DiscStatus};

/// What the gate says of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Gate {
    /// It may run now.
    Open,
    /// The person is asked; the code shown beside the request.
    Held(String),
}

/// Whether the disc holds anything to erase, reveal or lose: a session
/// (an appendable or finalized disc) or, on a disc written in place, a
/// file system at sector 16 (an ISO 9660 volume descriptor, ECMA-119 8.1,
/// or a UDF volume recognition sequence, ECMA-167 2/9.1).
fn holds_files(t: &mut dyn ScsiTransport) -> bool {
    match scsi::read_disc_information(t).map(|d| d.status) {
        Ok(DiscStatus::Appendable | DiscStatus::Complete) => true,
        Ok(DiscStatus::Blank) => false,
        _ => {
            let mut sector = vec![0u8; 2048];
            scsi::read10(t, 16, 1, &mut sector).is_ok()
                && matches!(&sector[1..6], b"CD001" | b"BEA01")
        }
    }
}

/// Whether `act` on the medium in the drive needs the person: the disc
/// holds files, and a burn would overwrite them (a rewritable disc written
/// in place, not a write that grows its file system).
fn needs_person(t: &mut dyn ScsiTransport, act: ConsentAct, grows: bool) -> bool {
    if act == ConsentAct::Overwrite {
        let profile = scsi::get_configuration(t).map_or(0, |c| c.current_profile);
        if grows || !webburn_shared::medium::is_rewritable(profile) {
            return false;
        }
    }
    holds_files(t)
}

/// Claims `recorder_id` for a moment and asks whether the page of `origin`
/// may do `act` on the medium in it (blocking: it opens the device).
/// Nothing is asked when the disc holds nothing; `Overwrite` only for a
/// disc written in place, and not for a write that grows its files (`grows`).
pub(super) fn check(
    act: ConsentAct,
    recorder_id: &str,
    origin: &str,
    grows: bool,
    ctx: &WriteContext<'_>,
) -> Result<Gate, EngineError> {
    let held = claim(recorder_id, ctx)?;
    let (medium, overwrites) = {
        let mut device = webburn_engine::disc::hold(held.recorder())?;
        let medium: MediumIdentity = identity::of(&mut **device)?;
        let needed = needs_person(&mut **device, act, grows);
        (medium, needed)
    };
    drop(held);
    if !overwrites {
        return Ok(Gate::Open);
    }
    let drive = ctx.registry.cached(recorder_id).map_or_else(
        || recorder_id.to_owned(),
        |i| format!("{} {}", i.vendor_id.trim(), i.product_id.trim()),
    );
    let subject = Subject {
        id: recorder_id.to_owned(),
        identity: medium.identity,
        label: format!("the {} in {}", medium.name, drive.trim()),
        size_bytes: 0,
    };
    match ctx.registry.consent(origin, act, subject) {
        Ok(Consent::Granted) => Ok(Gate::Open),
        Ok(Consent::Needed(code)) => Ok(Gate::Held(code)),
        Err(e) => Err(EngineError::new(
            webburn_shared::HResult::E_ACCESSDENIED,
            e.to_string(),
        )),
    }
}
