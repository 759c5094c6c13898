//! Pairing management from the helper's own page: the same operations as
//! `webburn-helper pair`, answered with the state after the change.

use std::time::{SystemTime, UNIX_EPOCH};

use webburn_shared::ErrorCode;
use webburn_shared::protocol::{ClientMessage, PairedOrigin, PairingRequest, ServerMessage};

use crate::state::pairing_store::normalize_origin;
use crate::state::pairing_store::{PairingError, PairingStore, Pending};

fn failure(e: &PairingError) -> ServerMessage {
    match e {
        PairingError::NoSuchCode(_) => ServerMessage::error(ErrorCode::NoSuchCode, e.to_string()),
        _ => ServerMessage::error(ErrorCode::PairingStore, e.to_string()),
    }
}

/// Runs a pairing message (blocking file I/O) and returns the answer.
pub(super) fn handle(store: &PairingStore, msg: &ClientMessage) -> ServerMessage {
    let changed = match msg {
        ClientMessage::ApprovePairing { code } => store.approve(code).map(|origin| {
            tracing::warn!(%origin, "pairing approved from the helper's page");
        }),
        ClientMessage::DenyPairing { code } => store.deny(code).map(|origin| {
            tracing::info!(%origin, "pairing refused from the helper's page");
        }),
        ClientMessage::RevokePairing { origin } => match store.revoke(&normalize_origin(origin)) {
            Ok(true) => Ok(()),
            Ok(false) => {
                let detail = format!("{origin} is not paired");
                return ServerMessage::error(ErrorCode::NotPaired, detail);
            }
            Err(e) => Err(e),
        },
        _ => Ok(()),
    };
    if let Err(e) = changed {
        return failure(&e);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    match store.list() {
        Ok((pending, paired)) => ServerMessage::Pairings {
            pending: pending
                .into_iter()
                .filter(Pending::is_waiting)
                .map(|p| PairingRequest {
                    code: p.code,
                    origin: p.origin,
                    age_seconds: now.saturating_sub(p.created),
                })
                .collect(),
            paired: paired
                .into_iter()
                .map(|p| PairedOrigin {
                    origin: p.origin,
                    age_seconds: now.saturating_sub(p.created),
                })
                .collect(),
        },
        Err(e) => failure(&e),
    }
}
