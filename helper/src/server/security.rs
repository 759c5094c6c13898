//! Who may talk to the helper: the Host check (stops DNS rebinding) and the
//! Origin decision (own page, configured, paired, or refused).

use crate::state::pairing_store::PairingStore;
use crate::state::pairing_store::normalize_origin;

/// The ports the helper listens on: plain HTTP, and TLS (`https://`,
/// `wss://`) when it has its local certificate authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// The HTTP port.
    pub http: u16,
    /// The TLS port, if listening.
    pub tls: Option<u16>,
}

impl Ports {
    /// Plain HTTP only.
    pub fn plain(http: u16) -> Ports {
        Ports { http, tls: None }
    }

    fn all(self) -> impl Iterator<Item = u16> {
        std::iter::once(self.http).chain(self.tls)
    }
}

/// True if `host` (the Host header) names this helper on loopback:
/// `127.0.0.1:PORT`, `localhost:PORT` or `[::1]:PORT` with one of its
/// ports, written as the helper prints it (no leading zeros, no sign).
pub fn host_allowed(host: Option<&str>, ports: Ports) -> bool {
    let Some(host) = host else {
        return false;
    };
    let host = host.trim().to_ascii_lowercase();
    let Some((name, p)) = host.rsplit_once(':') else {
        return false;
    };
    ports.all().any(|port| p == port.to_string())
        && matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

/// The origins of the helper's own page (`http://` on the HTTP port,
/// `https://` on the TLS port).
pub fn own_origins(ports: Ports) -> Vec<String> {
    let mut origins = Vec::new();
    for (scheme, port) in
        std::iter::once(("http", ports.http)).chain(ports.tls.map(|t| ("https", t)))
    {
        for name in ["127.0.0.1", "localhost", "[::1]"] {
            origins.push(format!("{scheme}://{name}:{port}"));
        }
    }
    origins
}

/// Why an origin may connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// The helper's own page.
    Own,
    /// Listed in the config's allowed origins (kiosks).
    Configured,
    /// Holds a valid pairing token.
    Paired,
}

/// Why a WebSocket upgrade is refused (sent as the 403 body).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The Host header is not this helper on loopback.
    #[error("Host header is not a loopback name with this helper's port")]
    BadHost,
    /// No Origin header.
    #[error("missing Origin header")]
    MissingOrigin,
    /// `Origin: null` (a sandboxed frame, a file: page, a data: URL) or a
    /// scheme other than http(s): nothing a user could recognise and pair.
    #[error("origin {0:?} is opaque or not http(s): it cannot be paired or allowed")]
    OpaqueOrigin(String),
    /// An origin that is neither own, configured nor paired, and no token.
    #[error("origin {0} is not paired: ask to pair with POST /v1/pair")]
    NotPaired(String),
    /// A token that does not belong to the origin (wrong, or revoked).
    #[error("the pairing token is not valid for origin {0} (wrong or revoked)")]
    BadToken(String),
}

/// True for an origin a user can recognise: `http://` or `https://` and a host.
/// `null` and other schemes (file:, data:, extensions) are not.
pub fn nameable_origin(origin: &str) -> bool {
    ["http://", "https://"].iter().any(|scheme| {
        origin
            .strip_prefix(scheme)
            .is_some_and(|host| !host.is_empty())
    })
}

/// Decides whether `origin` may open a session.
pub fn admit(
    origin: Option<&str>,
    token: Option<&str>,
    ports: Ports,
    allowed: &[String],
    store: &PairingStore,
) -> Result<Admission, Refusal> {
    let origin = normalize_origin(origin.ok_or(Refusal::MissingOrigin)?);
    if !nameable_origin(&origin) {
        return Err(Refusal::OpaqueOrigin(origin));
    }
    if own_origins(ports).contains(&origin) {
        return Ok(Admission::Own);
    }
    if allowed.contains(&origin) {
        return Ok(Admission::Configured);
    }
    match token {
        None => Err(Refusal::NotPaired(origin)),
        Some(t) if store.token_valid(&origin, t) => Ok(Admission::Paired),
        Some(_) => Err(Refusal::BadToken(origin)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_must_be_loopback_with_our_port() {
        for ok in [
            "127.0.0.1:8000",
            "localhost:8000",
            "[::1]:8000",
            "LOCALHOST:8000",
        ] {
            assert!(host_allowed(Some(ok), Ports::plain(8000)), "{ok}");
        }
        for bad in [
            "127.0.0.1:8001",
            "evil.example:8000",
            "127.0.0.1",
            "192.168.1.2:8000",
            "localhost.evil.example:8000",
            "0.0.0.0:8000",
            "127.0.0.1:08000",
            "127.0.0.1:+8000",
            "",
        ] {
            assert!(!host_allowed(Some(bad), Ports::plain(8000)), "{bad}");
        }
        assert!(!host_allowed(None, Ports::plain(8000)));
        // With TLS, its port too, and no other.
        let both = Ports {
            http: 8000,
            tls: Some(8001),
        };
        assert!(host_allowed(Some("127.0.0.1:8001"), both));
        assert!(host_allowed(Some("localhost:8000"), both));
        assert!(!host_allowed(Some("127.0.0.1:8002"), both));
    }

    #[test]
    fn origins_are_admitted_by_kind() {
        let dir = tempfile::tempdir().unwrap();
        let store = PairingStore::new(dir.path());
        let allowed = vec!["https://kiosk.example".to_owned()];
        let ports = Ports {
            http: 8000,
            tls: Some(8001),
        };
        let admit = |o: Option<&str>, t: Option<&str>| admit(o, t, ports, &allowed, &store);
        assert_eq!(
            admit(Some("http://127.0.0.1:8000"), None),
            Ok(Admission::Own)
        );
        assert_eq!(
            admit(Some("http://localhost:8000/"), None),
            Ok(Admission::Own)
        );
        assert_eq!(
            admit(Some("https://127.0.0.1:8001"), None),
            Ok(Admission::Own),
            "the own page over TLS"
        );
        assert!(matches!(
            admit(Some("http://127.0.0.1:8001"), None),
            Err(Refusal::NotPaired(_))
        ));
        assert_eq!(
            admit(Some("https://KIOSK.example"), None),
            Ok(Admission::Configured)
        );
        assert_eq!(admit(None, None), Err(Refusal::MissingOrigin));
        for opaque in [
            "null",
            "file://",
            "chrome-extension://abc",
            "data:text/html,x",
        ] {
            assert!(
                matches!(
                    admit(Some(opaque), Some("x")),
                    Err(Refusal::OpaqueOrigin(_))
                ),
                "{opaque}"
            );
        }
        assert!(matches!(
            admit(Some("http://127.0.0.1:9999"), None),
            Err(Refusal::NotPaired(_))
        ));
        assert!(matches!(
            admit(Some("https://a.example"), Some("x")),
            Err(Refusal::BadToken(_))
        ));
    }
}
