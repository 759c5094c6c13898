//! The machine-readable reasons of protocol `error` messages and failed
//! writes (PROTOCOL.md section 4.2 lists them): each knows its HRESULT,
//! whether the helper ends the session for it, and with which WebSocket
//! close code. Pages act on these codes, never on message text.

use serde::{Deserialize, Serialize};

use crate::HResult;

/// Why a request failed or a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorCode {
    /// A text message is not JSON.
    BadJson,
    /// `type` names no message of this protocol.
    UnknownType,
    /// A known `type` with missing or mistyped members.
    BadMessage,
    /// A message before `hello`.
    HelloRequired,
    /// `startWrite.writeId` not greater than an earlier one.
    BadWriteId,
    /// A pairing message from a page that is not the helper's own, or a
    /// device request for a recorder that needs no approval.
    NotAllowed,
    /// `approvePairing`/`denyPairing` with a code no request shows.
    NoSuchCode,
    /// `revokePairing` of an origin without a token.
    NotPaired,
    /// The pairing file could not be read or written.
    PairingStore,
    /// A bug in the helper; the session goes on.
    Internal,
    /// The user revoked this origin's pairing.
    PairingRevoked,
    /// `hello.versions` does not contain a version the helper speaks.
    UnsupportedVersion,
    /// A text message over `maxMessageBytes`.
    MessageTooLarge,
    /// A binary message over `maxFrameBytes`.
    FrameTooLarge,
    /// A binary message shorter than its header or without the magic.
    BadFrame,
    /// A data frame while no write is open.
    NoWriteOpen,
    /// A data frame for a write never started while another is open.
    WrongWriteId,
    /// A data frame whose offset is not the bytes sent so far.
    BadOffset,
    /// A data frame that ends beyond the credit granted.
    CreditExceeded,
    /// No client message for the idle timeout.
    IdleTimeout,
    /// A write on a sequential medium (a disc that already holds sessions)
    /// does not start at its next writable address (a `writeResult` code).
    NotNextWritableAddress,
    /// The library lost its connection to the helper (never sent by the helper).
    ConnectionLost,
    /// The helper lacks a feature this page's library needs: it must be
    /// updated (the library's own, never sent by the helper).
    HelperOutdated,
    /// `approveDevice` of a disk larger than the helper writes without a
    /// second confirmation, without `confirmLarge`.
    NeedsConfirmation,
    /// Too many device requests are waiting for the person.
    TooManyRequests,
    /// The person refused the act (erase, read, burn over a disc), or did
    /// not answer in time (a `writeResult` code).
    ConsentRefused,
    /// The act needs the person's consent and a request now waits for it;
    /// send the request again once allowed (a `writeResult` code, for a
    /// write to several recorders, which is not held).
    ConsentNeeded,
    /// The system uses the disk: a mounted file system, swap, or the
    /// system's own disk (a `writeResult` code, with E_IMAPI_RECORDER_LOCKED);
    /// the person unmounts it, or the recorder is named with `,force`.
    DiskInUse,
    /// A code this version does not know (a newer helper's).
    #[serde(other)]
    Unknown,
}

/// WebSocket close codes (RFC 6455 section 7.4).
pub mod close {
    /// The server is going away (shutting down, or the session was idle).
    pub const GOING_AWAY: u16 = 1001;
    /// The client broke the protocol.
    pub const POLICY: u16 = 1008;
    /// A message over the announced limit.
    pub const TOO_BIG: u16 = 1009;
    /// The origin's pairing was revoked (an application code, 4000-4999).
    pub const PAIRING_REVOKED: u16 = 4001;
}

impl ErrorCode {
    /// The HRESULT an error with this code carries.
    pub fn hresult(self) -> HResult {
        use ErrorCode as C;
        match self {
            C::UnknownType | C::HelperOutdated => HResult::E_NOTIMPL,
            C::HelloRequired | C::NoWriteOpen | C::WrongWriteId => HResult::E_UNEXPECTED,
            C::NotAllowed
            | C::PairingRevoked
            | C::TooManyRequests
            | C::ConsentRefused
            | C::ConsentNeeded => HResult::E_ACCESSDENIED,
            C::DiskInUse => HResult::E_IMAPI_RECORDER_LOCKED,
            C::PairingStore | C::Internal | C::IdleTimeout | C::ConnectionLost | C::Unknown => {
                HResult::E_FAIL
            }
            C::BadJson
            | C::BadMessage
            | C::BadWriteId
            | C::NoSuchCode
            | C::NeedsConfirmation
            | C::NotPaired
            | C::UnsupportedVersion
            | C::MessageTooLarge
            | C::FrameTooLarge
            | C::BadFrame
            | C::BadOffset
            | C::CreditExceeded
            | C::NotNextWritableAddress => HResult::E_INVALIDARG,
        }
    }

    /// The close code the helper ends the session with after this error;
    /// `None`: the session goes on.
    pub fn close_code(self) -> Option<u16> {
        use ErrorCode as C;
        match self {
            C::PairingRevoked => Some(close::PAIRING_REVOKED),
            C::UnsupportedVersion
            | C::BadFrame
            | C::NoWriteOpen
            | C::WrongWriteId
            | C::BadOffset
            | C::CreditExceeded => Some(close::POLICY),
            C::MessageTooLarge | C::FrameTooLarge => Some(close::TOO_BIG),
            C::IdleTimeout => Some(close::GOING_AWAY),
            // Listed one by one: a new code must be placed on purpose.
            C::BadJson
            | C::UnknownType
            | C::BadMessage
            | C::HelloRequired
            | C::BadWriteId
            | C::NotAllowed
            | C::NoSuchCode
            | C::NotPaired
            | C::PairingStore
            | C::Internal
            | C::NotNextWritableAddress
            | C::ConnectionLost
            | C::HelperOutdated
            | C::NeedsConfirmation
            | C::TooManyRequests
            | C::ConsentRefused
            | C::ConsentNeeded
            | C::DiskInUse
            | C::Unknown => None,
        }
    }

    /// The helper closes the session after this error.
    pub fn is_fatal(self) -> bool {
        self.close_code().is_some() || self == ErrorCode::ConnectionLost
    }

    /// An answer to a pairing request (`listPairings` and the rest).
    pub fn answers_pairing(self) -> bool {
        matches!(
            self,
            ErrorCode::NoSuchCode
                | ErrorCode::NeedsConfirmation
                | ErrorCode::TooManyRequests
                | ErrorCode::NotPaired
                | ErrorCode::NotAllowed
                | ErrorCode::PairingStore
        )
    }

    /// Every code, in declaration order ([`ErrorCode::Unknown`] last): what
    /// the TypeScript union of the library's declarations is made from.
    pub const ALL: [ErrorCode; 29] = [
        ErrorCode::BadJson,
        ErrorCode::UnknownType,
        ErrorCode::BadMessage,
        ErrorCode::HelloRequired,
        ErrorCode::BadWriteId,
        ErrorCode::NotAllowed,
        ErrorCode::NoSuchCode,
        ErrorCode::NotPaired,
        ErrorCode::PairingStore,
        ErrorCode::Internal,
        ErrorCode::PairingRevoked,
        ErrorCode::UnsupportedVersion,
        ErrorCode::MessageTooLarge,
        ErrorCode::FrameTooLarge,
        ErrorCode::BadFrame,
        ErrorCode::NoWriteOpen,
        ErrorCode::WrongWriteId,
        ErrorCode::BadOffset,
        ErrorCode::CreditExceeded,
        ErrorCode::IdleTimeout,
        ErrorCode::NotNextWritableAddress,
        ErrorCode::ConnectionLost,
        ErrorCode::HelperOutdated,
        ErrorCode::NeedsConfirmation,
        ErrorCode::TooManyRequests,
        ErrorCode::ConsentRefused,
        ErrorCode::ConsentNeeded,
        ErrorCode::DiskInUse,
        ErrorCode::Unknown,
    ];

    /// The code as it is spelled on the wire (`creditExceeded`).
    pub fn as_str(self) -> &'static str {
        use ErrorCode as C;
        match self {
            C::BadJson => "badJson",
            C::UnknownType => "unknownType",
            C::BadMessage => "badMessage",
            C::HelloRequired => "helloRequired",
            C::BadWriteId => "badWriteId",
            C::NotAllowed => "notAllowed",
            C::NoSuchCode => "noSuchCode",
            C::NotPaired => "notPaired",
            C::PairingStore => "pairingStore",
            C::Internal => "internal",
            C::PairingRevoked => "pairingRevoked",
            C::UnsupportedVersion => "unsupportedVersion",
            C::MessageTooLarge => "messageTooLarge",
            C::FrameTooLarge => "frameTooLarge",
            C::BadFrame => "badFrame",
            C::NoWriteOpen => "noWriteOpen",
            C::WrongWriteId => "wrongWriteId",
            C::BadOffset => "badOffset",
            C::CreditExceeded => "creditExceeded",
            C::IdleTimeout => "idleTimeout",
            C::NotNextWritableAddress => "notNextWritableAddress",
            C::ConnectionLost => "connectionLost",
            C::HelperOutdated => "helperOutdated",
            C::NeedsConfirmation => "needsConfirmation",
            C::TooManyRequests => "tooManyRequests",
            C::ConsentRefused => "consentRefused",
            C::ConsentNeeded => "consentNeeded",
            C::DiskInUse => "diskInUse",
            C::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes the helper and the library name (all but `unknown`).
    fn named() -> impl Iterator<Item = ErrorCode> {
        ErrorCode::ALL
            .into_iter()
            .filter(|c| *c != ErrorCode::Unknown)
    }

    #[test]
    fn all_holds_every_code_in_order() {
        for (i, code) in ErrorCode::ALL.into_iter().enumerate() {
            assert_eq!(code as usize, i, "{code:?}");
        }
        assert_eq!(ErrorCode::ALL.len(), ErrorCode::Unknown as usize + 1);
    }

    #[test]
    fn wire_spelling_is_serdes() {
        for code in named() {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, code.as_str(), "{code:?}");
            assert_eq!(serde_json::from_value::<ErrorCode>(json).unwrap(), code);
        }
    }

    #[test]
    fn protocol_md_lists_every_code_as_the_enum_says() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../PROTOCOL.md"))
            .unwrap();
        let mut seen = Vec::new();
        for line in doc.lines() {
            // | `code` | HRESULT | fatal | close | cause |
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let [_, code, hresult, fatal @ ("yes" | "no"), close, _, _] = cells[..] else {
                continue;
            };
            let Some(code) = code.strip_prefix('`').and_then(|c| c.strip_suffix('`')) else {
                continue;
            };
            let parsed: ErrorCode = serde_json::from_value(serde_json::json!(code)).unwrap();
            assert_ne!(parsed, ErrorCode::Unknown, "{code} is in PROTOCOL.md only");
            assert_eq!(parsed.hresult().name(), Some(hresult), "{code}");
            assert_eq!(parsed.is_fatal(), fatal == "yes", "{code}");
            let closes = parsed
                .close_code()
                .map(|c| c.to_string())
                .unwrap_or_default();
            assert_eq!(closes, close, "{code}");
            seen.push(parsed);
        }
        // Every code the helper sends (all but the library's own and the
        // writeResult code) is in the table.
        for code in named() {
            let elsewhere = matches!(
                code,
                ErrorCode::ConnectionLost
                    | ErrorCode::NotNextWritableAddress
                    | ErrorCode::HelperOutdated
            );
            assert_eq!(seen.contains(&code), !elsewhere, "{code}");
        }
    }

    #[test]
    fn a_newer_helpers_code_reads_as_unknown() {
        let code: ErrorCode = serde_json::from_str(r#""diskOnFire""#).unwrap();
        assert_eq!(code, ErrorCode::Unknown);
        assert!(!code.is_fatal());
    }

    #[test]
    fn the_protocols_table_holds() {
        // PROTOCOL.md section 4.2: code, HRESULT, close code.
        assert_eq!(ErrorCode::CreditExceeded.close_code(), Some(1008));
        assert_eq!(ErrorCode::FrameTooLarge.close_code(), Some(1009));
        assert_eq!(ErrorCode::PairingRevoked.close_code(), Some(4001));
        assert_eq!(ErrorCode::IdleTimeout.close_code(), Some(1001));
        assert_eq!(ErrorCode::BadJson.close_code(), None);
        assert_eq!(ErrorCode::UnknownType.hresult(), HResult::E_NOTIMPL);
        assert_eq!(ErrorCode::NotAllowed.hresult(), HResult::E_ACCESSDENIED);
        assert!(ErrorCode::NoSuchCode.answers_pairing());
        assert!(!ErrorCode::BadJson.is_fatal());
    }
}
