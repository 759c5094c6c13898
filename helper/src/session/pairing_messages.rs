//! Pairing and device approval from the helper's own page: the same
//! pairing operations as `webburn-helper pair`, and the answers to pages
//! asking for removable disks, answered with the state after the change.

use std::time::{SystemTime, UNIX_EPOCH};

use webburn_shared::ErrorCode;
use webburn_shared::protocol::{ClientMessage, PairedOrigin, PairingRequest, ServerMessage};

use crate::state::consents::ApprovalError;
use crate::state::pairing_store::normalize_origin;
use crate::state::pairing_store::{PairingError, PairingStore, Pending};
use crate::state::registry::{Registry, RequestError};

fn failure(e: &PairingError) -> ServerMessage {
    match e {
        PairingError::NoSuchCode(_) => ServerMessage::error(ErrorCode::NoSuchCode, e.to_string()),
        _ => ServerMessage::error(ErrorCode::PairingStore, e.to_string()),
    }
}

fn approval_code(e: &ApprovalError) -> ErrorCode {
    match e {
        ApprovalError::NoSuchCode(_) => ErrorCode::NoSuchCode,
        ApprovalError::NeedsConfirmation(_) => ErrorCode::NeedsConfirmation,
        ApprovalError::TooMany => ErrorCode::TooManyRequests,
        ApprovalError::Code(_) => ErrorCode::Internal,
    }
}

/// The error code a failed `requestDevice` is answered with.
pub(super) fn request_error_code(e: &RequestError) -> ErrorCode {
    match e {
        RequestError::NotAsked(_) => ErrorCode::NotAllowed,
        RequestError::Approval(e) => approval_code(e),
    }
}

/// Runs a pairing or device message (blocking file I/O) and returns the answer.
pub(super) fn handle(
    store: &PairingStore,
    registry: &Registry,
    msg: &ClientMessage,
) -> ServerMessage {
    let decided = match msg {
        ClientMessage::ApproveDevice {
            code,
            confirm_large,
        } => registry.approve_device(code, *confirm_large).map(drop),
        ClientMessage::DenyDevice { code } => registry.deny_device(code).map(drop),
        _ => Ok(()),
    };
    if let Err(e) = decided {
        return ServerMessage::error(approval_code(&e), e.to_string());
    }
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
            devices: registry.device_requests(),
        },
        Err(e) => failure(&e),
    }
}
