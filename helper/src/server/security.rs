//! Who may talk to the helper: the Host check (stops DNS rebinding) and the
//! Origin decision (own page, configured, paired, or refused).

use std::net::SocketAddr;

use crate::account::{self, Account, PeerOwner};
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

/// Which local processes the helper serves: those of its own account, and
/// of `others` (a kiosk's browser user). A process of any other account is
/// turned away before it says anything; where the system cannot say who
/// owns a connection (Wine) it is served, and the own-page key and pairing
/// tokens still stand.
#[derive(Debug, Clone, Default)]
pub struct AccountGate {
    /// Accounts served besides the helper's own.
    pub others: Vec<Account>,
}

impl AccountGate {
    /// Admits the connection from `peer` to `local`, or names its account.
    pub fn check(&self, peer: SocketAddr, local: SocketAddr) -> Result<(), Account> {
        match account::peer_owner(peer, local) {
            PeerOwner::Same => Ok(()),
            PeerOwner::Other(a) if self.others.contains(&a) => Ok(()),
            PeerOwner::Other(a) => Err(a),
            PeerOwner::Unknown(why) => {
                tracing::debug!(%peer, "the owner of a connection is unknown: {why}");
                Ok(())
            }
        }
    }
}

/// The helper's own page is recognised by its origin *and* the key of this
/// run, which only the person's browser holds: the tray, `serve` and
/// `webburn-helper open` open `/own?key=KEY`, which sets it as an
/// HttpOnly, SameSite=Strict cookie named for the port ([`own_cookie`]).
/// A process that merely writes `Origin: http://127.0.0.1:PORT` has no
/// key, and is no own page.
#[derive(Clone)]
pub struct OwnKey(String);

impl std::fmt::Debug for OwnKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OwnKey(..)")
    }
}

impl OwnKey {
    /// A fresh key of 32 random bytes, as hex.
    pub fn new() -> Result<OwnKey, getrandom::Error> {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b)?;
        Ok(OwnKey(webburn_shared::units::hex(&b)))
    }

    /// The key's text (for the launch link).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True if `presented` is the key (compared in constant time).
    pub fn matches(&self, presented: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), presented.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
    }
}

/// The name of the own-page cookie of the page on `port`.
pub fn own_cookie(port: u16) -> String {
    format!("webburn-own-{port}")
}

/// The value of cookie `name` in a `Cookie` header (RFC 6265 5.4).
pub fn cookie<'h>(header: Option<&'h str>, name: &str) -> Option<&'h str> {
    header?.split(';').find_map(|pair| {
        let (n, v) = pair.trim().split_once('=')?;
        (n == name).then_some(v)
    })
}

/// The port of an origin (`http://127.0.0.1:47801` -> 47801).
fn origin_port(origin: &str) -> Option<u16> {
    origin.rsplit_once(':')?.1.parse().ok()
}

/// What a request shows of itself: its Origin, a pairing token, its
/// `Cookie` header.
#[derive(Debug, Clone, Copy, Default)]
pub struct Credentials<'a> {
    /// The Origin header.
    pub origin: Option<&'a str>,
    /// `?token=` of a paired page.
    pub token: Option<&'a str>,
    /// The Cookie header (the own page's key).
    pub cookies: Option<&'a str>,
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
    /// The helper's own origin without this run's key: a page opened from
    /// a typed or old address, or a process posing as the page.
    #[error(
        "{0} is the helper's own page only when opened from the helper (its tray icon, or webburn-helper open)"
    )]
    OwnKeyMissing(String),
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

/// Whether `origin` may ask to pair: https sites, and http pages on a
/// loopback address (development); other http origins only when
/// `allow_http` (config `pair-http`): whoever is on such a site's network
/// could act as it and inherit the pairing.
pub fn pairable(origin: &str, allow_http: bool) -> bool {
    if origin.starts_with("https://") {
        return true;
    }
    let Some(rest) = origin.strip_prefix("http://") else {
        return false;
    };
    let host = rest.rsplit_once(':').map_or(rest, |(h, _)| h);
    allow_http || matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

/// Decides whether a request with `creds` may open a session.
pub fn admit(
    creds: Credentials<'_>,
    key: &OwnKey,
    ports: Ports,
    allowed: &[String],
    store: &PairingStore,
) -> Result<Admission, Refusal> {
    let origin = normalize_origin(creds.origin.ok_or(Refusal::MissingOrigin)?);
    if !nameable_origin(&origin) {
        return Err(Refusal::OpaqueOrigin(origin));
    }
    if own_origins(ports).contains(&origin) {
        let presented = origin_port(&origin)
            .and_then(|port| cookie(creds.cookies, &own_cookie(port)))
            .unwrap_or_default();
        return if key.matches(presented) {
            Ok(Admission::Own)
        } else {
            Err(Refusal::OwnKeyMissing(origin))
        };
    }
    let token = creds.token;
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
        let key = OwnKey::new().unwrap();
        let with_key = format!("other=1; webburn-own-8000={}", key.as_str());
        let tls_key = format!("webburn-own-8001={}", key.as_str());
        let admit3 = |o: Option<&str>, t: Option<&str>, c: Option<&str>| {
            let creds = Credentials {
                origin: o,
                token: t,
                cookies: c,
            };
            admit(creds, &key, ports, &allowed, &store)
        };
        let admit = |o: Option<&str>, t: Option<&str>| admit3(o, t, None);
        assert_eq!(
            admit3(Some("http://127.0.0.1:8000"), None, Some(&with_key)),
            Ok(Admission::Own)
        );
        assert_eq!(
            admit3(Some("https://127.0.0.1:8001"), None, Some(&tls_key)),
            Ok(Admission::Own),
            "the own page over TLS"
        );
        // The own origin alone is no own page: any process can write it.
        for cookies in [
            None,
            Some("webburn-own-8000=0000"),
            Some(tls_key.as_str()),
            Some("webburn-own-8000="),
        ] {
            assert!(
                matches!(
                    admit3(Some("http://127.0.0.1:8000"), None, cookies),
                    Err(Refusal::OwnKeyMissing(_))
                ),
                "{cookies:?}"
            );
        }
        assert!(matches!(
            admit(Some("http://localhost:8000/"), None),
            Err(Refusal::OwnKeyMissing(_))
        ));
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

    #[test]
    fn keys_compare_whole_and_cookies_are_found_by_name() {
        let key = OwnKey::new().unwrap();
        assert_eq!(key.as_str().len(), 64);
        assert!(key.matches(key.as_str()));
        assert!(!key.matches(&key.as_str()[..63]));
        assert!(!key.matches(""));
        assert_ne!(key.as_str(), OwnKey::new().unwrap().as_str());
        assert_eq!(cookie(Some("a=1; b=2"), "b"), Some("2"));
        assert_eq!(cookie(Some("ab=1"), "a"), None);
        assert_eq!(cookie(None, "a"), None);
        assert!(!format!("{key:?}").contains(key.as_str()), "never logged");
    }
}
