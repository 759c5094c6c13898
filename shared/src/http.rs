//! The bodies of the helper's HTTP endpoints a page calls before it opens
//! the WebSocket (PROTOCOL.md sections 2 and 3): `GET /v1/status`,
//! `POST /v1/pair` and `GET /v1/pair/{id}`.

use serde::{Deserialize, Serialize};

/// Whether the page's origin may open the WebSocket, as `/v1/status` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Admission {
    /// The helper's own page.
    Own,
    /// Listed in the helper's config (kiosks).
    Configured,
    /// The token given is this origin's.
    Paired,
    /// A token was given but is wrong or revoked: pair again.
    BadToken,
    /// No token: pair.
    NotPaired,
    /// The origin is `null` or not http(s): it can neither pair nor connect.
    OpaqueOrigin,
    /// The helper's own origin without this run's own-page key: the page
    /// was not opened from the helper (its tray icon, `webburn-helper
    /// open`); it can neither pair nor manage the helper.
    OwnKeyMissing,
    /// A state this version does not know (a newer helper's).
    #[serde(other)]
    Unknown,
}

impl Admission {
    /// The page must pair before it can connect.
    pub fn needs_pairing(self) -> bool {
        matches!(self, Admission::NotPaired | Admission::BadToken)
    }
}

/// `GET /v1/status`'s body (a kiosk's settings are added as `kiosk`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelperStatus {
    /// The protocol version the helper speaks.
    pub protocol: u32,
    /// The helper's version.
    pub helper_version: String,
    /// The WebSocket path.
    pub ws_path: String,
    /// What the page's origin may do.
    pub admission: Admission,
    /// The features this helper has (see [`crate::compat`]); absent from
    /// helpers released before the list existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
}

/// Where a pairing request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PairState {
    /// The origin needs no pairing (own page, configured).
    NotNeeded,
    /// Waiting for the person to approve it on the helper.
    Pending,
    /// Approved: the answer carries the token.
    Approved,
    /// Refused by the person.
    Denied,
    /// No such request (expired, or never made).
    #[serde(other)]
    Unknown,
}

/// The body of `POST /v1/pair` and `GET /v1/pair/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairAnswer {
    /// Where the request stands.
    pub status: PairState,
    /// The request id to poll (a new pending request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Seconds the request waits for the person (a new pending request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<u64>,
    /// The origin's token, handed out once (approved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl PairAnswer {
    /// An answer that is only a state.
    pub fn only(status: PairState) -> PairAnswer {
        PairAnswer {
            status,
            id: None,
            expires_in_seconds: None,
            token: None,
        }
    }
}

/// The helper's TLS port is its HTTP port plus this (when it has its local
/// certificate authority): 47801 -> 47802.
pub const TLS_PORT_OFFSET: u16 = 1;

/// The TLS sibling of a loopback helper address: `http://127.0.0.1:P` ->
/// `https://127.0.0.1:P+1`, where a page whose browser blocks `http://`
/// from https pages (WebKit) reaches the helper; `None` for other addresses.
pub fn tls_sibling(helper: &str) -> Option<String> {
    let rest = helper.trim_end_matches('/').strip_prefix("http://")?;
    let (host, port) = rest.rsplit_once(':')?;
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return None;
    }
    let port: u16 = port.parse().ok()?;
    Some(format!(
        "https://{host}:{}",
        port.checked_add(TLS_PORT_OFFSET)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_and_newer_helpers_statuses_read() {
        // Before `features` existed: none listed, so the baseline.
        let old: HelperStatus = serde_json::from_str(
            r#"{"protocol":1,"helperVersion":"0.1.0","wsPath":"/v1/ws","admission":"own"}"#,
        )
        .unwrap();
        assert_eq!(old.features, None);
        assert!(crate::compat::missing(old.features.as_deref()).is_empty());
        // A newer helper: members and features this version does not know.
        let newer: HelperStatus = serde_json::from_str(
            r#"{"protocol":1,"helperVersion":"9.0.0","wsPath":"/v1/ws","admission":"own",
                "features":["rawFrames","discFlow","verify","duplicate","mediumKind","teleport"],
                "weather":"sunny"}"#,
        )
        .unwrap();
        assert!(crate::compat::missing(newer.features.as_deref()).is_empty());
        // An older one that lacks what this library needs.
        let older: HelperStatus = serde_json::from_str(
            r#"{"protocol":1,"helperVersion":"0.0.9","wsPath":"/v1/ws","admission":"own","features":["rawFrames"]}"#,
        )
        .unwrap();
        assert!(!crate::compat::missing(older.features.as_deref()).is_empty());
    }

    #[test]
    fn bodies_read_as_documented() {
        let s: HelperStatus = serde_json::from_str(
            r#"{"protocol":1,"helperVersion":"0.1.0","wsPath":"/v1/ws","admission":"badToken","kiosk":{}}"#,
        )
        .unwrap();
        assert!(s.admission.needs_pairing());
        let a = PairAnswer::only(PairState::NotNeeded);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#"{"status":"notNeeded"}"#
        );
        let later: PairAnswer = serde_json::from_str(r#"{"status":"onHold"}"#).unwrap();
        assert_eq!(later.status, PairState::Unknown);
    }

    #[test]
    fn a_loopback_helper_has_a_tls_sibling_on_the_next_port() {
        assert_eq!(
            tls_sibling("http://127.0.0.1:47801").as_deref(),
            Some("https://127.0.0.1:47802")
        );
        assert_eq!(
            tls_sibling("http://localhost:9000/").as_deref(),
            Some("https://localhost:9001")
        );
        assert_eq!(
            tls_sibling("http://[::1]:47801").as_deref(),
            Some("https://[::1]:47802")
        );
        for none in [
            "https://127.0.0.1:47801",
            "http://burn.example:47801",
            "http://127.0.0.1:65535",
            "http://127.0.0.1",
            "http://127.0.0.1:x",
        ] {
            assert_eq!(tls_sibling(none), None, "{none}");
        }
    }
}
