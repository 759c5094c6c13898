//! Pairing: an unknown origin asks, the local user approves a short code, the
//! origin receives a token bound to it. Everything lives in one JSON file in
//! the data directory (mode 0600), locked for each change, so the running
//! helper and the `webburn-helper pair` commands share it. Tokens are stored
//! as SHA-256 digests; a token is handed out once, to the origin that asked.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::private;
use webburn_shared::units::hex;

/// How long a pairing request waits for approval.
pub const REQUEST_TTL: Duration = Duration::from_secs(300);
/// Most requests waiting at once (a page cannot flood the console).
pub const MAX_PENDING: usize = 16;
/// Most requests of one site (registrable domain) waiting at once: one
/// site's many subdomains cannot take every place.
pub const MAX_PENDING_PER_SITE: usize = 2;
/// How long a site the person refused is answered "refused" at once.
pub const REFUSED_FOR: Duration = Duration::from_secs(600);
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A pairing request waiting for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// Opaque id the page polls with.
    pub id: String,
    /// The short code the user approves.
    pub code: String,
    /// The origin that asked.
    pub origin: String,
    /// Seconds since the epoch.
    pub created: u64,
    /// Set on approval until the page collects it.
    #[serde(default)]
    pub token: Option<String>,
    /// Set on denial until the page learns of it.
    #[serde(default)]
    pub denied: bool,
}

impl Pending {
    /// Still waiting for the user (neither approved nor refused).
    pub fn is_waiting(&self) -> bool {
        self.token.is_none() && !self.denied
    }
}

/// An origin that holds a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paired {
    /// The origin.
    pub origin: String,
    /// SHA-256 of the token, hex.
    pub token_sha256: String,
    /// Seconds since the epoch.
    pub created: u64,
}

/// A site the person refused, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Refused {
    site: String,
    until: u64,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    #[serde(default)]
    pending: Vec<Pending>,
    #[serde(default)]
    paired: Vec<Paired>,
    #[serde(default)]
    refused: Vec<Refused>,
}

/// What a page learns when it polls its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Still waiting for the user.
    Pending,
    /// Approved: the token (handed out this once).
    Approved(String),
    /// The user said no.
    Denied,
    /// No such request for this origin (expired, collected, or never made).
    Unknown,
}

/// Why a pairing operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PairingError {
    /// Too many requests are waiting.
    #[error("too many pairing requests are waiting; try again in a few minutes")]
    TooMany,
    /// The site already has as many requests waiting as one site may.
    #[error("{0} already has pairing requests waiting; try again in a few minutes")]
    TooManyForSite(String),
    /// The person refused this site a short while ago.
    #[error("the person refused {0} a short while ago")]
    RecentlyRefused(String),
    /// No waiting request has this code.
    #[error("no pairing request is waiting with code {0}")]
    NoSuchCode(String),
    /// The operating system gave no random bytes for codes and tokens.
    #[error("no random numbers from the operating system: {0}")]
    NoRandomness(String),
    /// The store could not be read or written.
    #[error("pairing store {path}: {detail}")]
    Store {
        /// The file.
        path: String,
        /// What went wrong.
        detail: String,
    },
}

/// The pairing file of one data directory. Clones share one change signal:
/// a change made through any of them reaches every [`PairingStore::subscribe`]r
/// at once, and [`PairingStore::watch_file`] brings in the command line's.
#[derive(Debug, Clone)]
pub struct PairingStore {
    path: PathBuf,
    lock_path: PathBuf,
    changed: Arc<tokio::sync::watch::Sender<u64>>,
}

/// How often the file is looked at for another process's changes (the
/// `webburn-helper pair` commands); changes made in this process are
/// signalled at once.
const FILE_WATCH: Duration = Duration::from_secs(1);

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Bytes from the OS random source; pairing refuses to work without one.
fn random_bytes<const N: usize>() -> Result<[u8; N], PairingError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| PairingError::NoRandomness(e.to_string()))?;
    Ok(b)
}

/// A short code people compare and type: six letters and digits that are
/// not mistaken for each other (no 0/O, 1/I/L).
pub(crate) fn new_code() -> Result<String, PairingError> {
    Ok(random_bytes::<6>()?
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
        .collect())
}

fn digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The site an origin belongs to: its registrable domain (the public
/// suffix list's eTLD+1: `a.b.example.co.uk` -> `example.co.uk`), or the
/// host itself for an address or a one-label name (`127.0.0.1`, `localhost`).
pub fn site_of(origin: &str) -> String {
    let host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let host = host.split('/').next().unwrap_or_default();
    // Without the port (an IPv6 address keeps its brackets).
    let host = match host.rsplit_once(':') {
        Some((h, port)) if !h.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let host = host.to_ascii_lowercase();
    let is_address = host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok();
    if is_address || !host.contains('.') {
        return host;
    }
    psl::domain_str(&host).map_or(host.clone(), str::to_owned)
}

impl PairingStore {
    /// The store in `data_dir` (`pairing.json`).
    pub fn new(data_dir: &Path) -> Self {
        PairingStore {
            path: data_dir.join("pairing.json"),
            lock_path: data_dir.join("pairing.lock"),
            changed: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }

    /// A receiver that wakes each time the pairings may have changed.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn signal_change(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Signals the changes another process makes to the file (its size or
    /// modification time differs from the last look), until `stopped` turns
    /// true. One per server.
    pub async fn watch_file(self, mut stopped: tokio::sync::watch::Receiver<bool>) {
        let stamp = |path: PathBuf| async move {
            tokio::fs::metadata(path)
                .await
                .ok()
                .map(|m| (m.len(), m.modified().ok()))
        };
        let mut last = stamp(self.path.clone()).await;
        loop {
            tokio::select! {
                () = tokio::time::sleep(FILE_WATCH) => {}
                _ = stopped.wait_for(|s| *s) => return,
            }
            let now = stamp(self.path.clone()).await;
            if now != last {
                last = now;
                self.signal_change();
            }
        }
    }

    fn error(&self, detail: &impl ToString) -> PairingError {
        PairingError::Store {
            path: self.path.display().to_string(),
            detail: detail.to_string(),
        }
    }

    /// Runs `f` on the state under the file lock and saves what it leaves,
    /// when that differs from what was read (a poll of an unknown request
    /// or a listing writes nothing).
    fn update<T>(&self, f: impl FnOnce(&mut State) -> T) -> Result<T, PairingError> {
        let lock = private::open(&self.lock_path).map_err(|e| self.error(&e))?;
        lock.lock().map_err(|e| self.error(&e))?;
        let read = self.read()?;
        let mut state = read.clone();
        let now = now();
        let cutoff = now.saturating_sub(REQUEST_TTL.as_secs());
        state.pending.retain(|p| p.created >= cutoff);
        state.refused.retain(|r| r.until > now);
        let out = f(&mut state);
        if state != read {
            let text = serde_json::to_vec_pretty(&state).map_err(|e| self.error(&e))?;
            private::replace(&self.path, &text).map_err(|e| self.error(&e))?;
            self.signal_change();
        }
        Ok(out)
    }

    fn read(&self) -> Result<State, PairingError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| self.error(&e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(self.error(&e)),
        }
    }

    /// A page of `origin` asks to pair; repeats while waiting get the same
    /// request. The flag is true when the request is new. A site refused
    /// in the last [`REFUSED_FOR`] is refused at once; a site holds at
    /// most [`MAX_PENDING_PER_SITE`] waiting requests, all sites together
    /// [`MAX_PENDING`].
    pub fn request(&self, origin: &str) -> Result<(Pending, bool), PairingError> {
        let site = site_of(origin);
        self.update(|s| {
            if let Some(p) = s
                .pending
                .iter()
                .find(|p| p.origin == origin && p.is_waiting())
            {
                return Ok((p.clone(), false));
            }
            if s.refused.iter().any(|r| r.site == site) {
                return Err(PairingError::RecentlyRefused(site.clone()));
            }
            let waiting = || s.pending.iter().filter(|p| p.is_waiting());
            if waiting().filter(|p| site_of(&p.origin) == site).count() >= MAX_PENDING_PER_SITE {
                return Err(PairingError::TooManyForSite(site.clone()));
            }
            if waiting().count() >= MAX_PENDING {
                return Err(PairingError::TooMany);
            }
            let code = new_code()?;
            let p = Pending {
                id: hex(&random_bytes::<16>()?),
                code,
                origin: origin.to_owned(),
                created: now(),
                token: None,
                denied: false,
            };
            s.pending.push(p.clone());
            Ok((p, true))
        })?
    }

    /// Where request `id` of `origin` stands; an approval's token is handed out once.
    pub fn status(&self, id: &str, origin: &str) -> Result<Status, PairingError> {
        self.update(|s| {
            let Some(i) = s
                .pending
                .iter()
                .position(|p| p.id == id && p.origin == origin)
            else {
                return Status::Unknown;
            };
            if s.pending[i].denied {
                s.pending.remove(i);
                return Status::Denied;
            }
            match s.pending[i].token.clone() {
                Some(token) => {
                    s.pending.remove(i);
                    Status::Approved(token)
                }
                None => Status::Pending,
            }
        })
    }

    /// The user approves `code`: the origin gets a new token (replacing any old one).
    pub fn approve(&self, code: &str) -> Result<String, PairingError> {
        self.update(|s| {
            let p = waiting(s, code)?;
            let token = hex(&random_bytes::<32>()?);
            p.token = Some(token.clone());
            let origin = p.origin.clone();
            s.paired.retain(|x| x.origin != origin);
            s.paired.push(Paired {
                origin: origin.clone(),
                token_sha256: digest(&token),
                created: now(),
            });
            Ok(origin)
        })?
    }

    /// The user refuses `code`: its site is refused at once for a while.
    pub fn deny(&self, code: &str) -> Result<String, PairingError> {
        self.update(|s| {
            let p = waiting(s, code)?;
            p.denied = true;
            let origin = p.origin.clone();
            s.refused.push(Refused {
                site: site_of(&origin),
                until: now() + REFUSED_FOR.as_secs(),
            });
            Ok(origin)
        })?
    }

    /// Forgets `origin`'s token; true if it had one.
    pub fn revoke(&self, origin: &str) -> Result<bool, PairingError> {
        self.update(|s| {
            let before = s.paired.len();
            s.paired.retain(|p| p.origin != origin);
            s.paired.len() != before
        })
    }

    /// Requests waiting and origins paired.
    pub fn list(&self) -> Result<(Vec<Pending>, Vec<Paired>), PairingError> {
        self.update(|s| (s.pending.clone(), s.paired.clone()))
    }

    /// True if `token` is `origin`'s current token (false when the file
    /// cannot be read).
    pub fn token_valid(&self, origin: &str, token: &str) -> bool {
        self.token_current(origin, token).unwrap_or(false)
    }

    /// Whether `token` is `origin`'s current token, or why the file could
    /// not tell.
    pub fn token_current(&self, origin: &str, token: &str) -> Result<bool, PairingError> {
        let d = digest(token);
        Ok(self
            .read()?
            .paired
            .iter()
            .any(|p| p.origin == origin && p.token_sha256 == d))
    }
}

/// The waiting request showing `code` (any case, spaces trimmed).
fn waiting<'a>(s: &'a mut State, code: &str) -> Result<&'a mut Pending, PairingError> {
    let code = code.trim().to_ascii_uppercase();
    s.pending
        .iter_mut()
        .find(|p| p.code == code && p.is_waiting())
        .ok_or(PairingError::NoSuchCode(code))
}

/// Normalizes an origin for comparison: lower case, no trailing slash.
pub fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_approve_collect_once_then_revoke() {
        let dir = tempfile::tempdir().unwrap();
        let store = PairingStore::new(dir.path());
        let origin = "https://burn.example";
        let (p, new) = store.request(origin).unwrap();
        assert!(new);
        assert_eq!(p.code.len(), 6);
        let (again, new) = store.request(origin).unwrap();
        assert_eq!(
            (again.id, new),
            (p.id.clone(), false),
            "a repeat gets the same request"
        );
        assert_eq!(store.status(&p.id, origin).unwrap(), Status::Pending);
        assert_eq!(
            store.status(&p.id, "https://other.example").unwrap(),
            Status::Unknown
        );
        assert_eq!(store.approve(&p.code.to_lowercase()).unwrap(), origin);
        let Status::Approved(token) = store.status(&p.id, origin).unwrap() else {
            panic!("not approved");
        };
        assert_eq!(
            store.status(&p.id, origin).unwrap(),
            Status::Unknown,
            "handed out once"
        );
        assert!(store.token_valid(origin, &token));
        assert!(
            !store.token_valid("https://other.example", &token),
            "bound to its origin"
        );
        assert!(!store.token_valid(origin, "0000"));
        let text = std::fs::read_to_string(dir.path().join("pairing.json")).unwrap();
        assert!(!text.contains(&token), "only the digest is stored");
        assert!(store.revoke(origin).unwrap());
        assert!(!store.token_valid(origin, &token));
        assert!(!store.revoke(origin).unwrap());
    }

    #[test]
    fn deny_unknown_codes_and_flooding() {
        let dir = tempfile::tempdir().unwrap();
        let store = PairingStore::new(dir.path());
        let (p, _) = store.request("https://a.example").unwrap();
        store.deny(&p.code).unwrap();
        assert_eq!(
            store.status(&p.id, "https://a.example").unwrap(),
            Status::Denied
        );
        assert!(matches!(
            store.approve("ZZZZZZ"),
            Err(PairingError::NoSuchCode(_))
        ));
        for i in 0..MAX_PENDING {
            store.request(&format!("https://{i}.example")).unwrap();
        }
        assert!(matches!(
            store.request("https://late.example"),
            Err(PairingError::TooMany)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = PairingStore::new(dir.path());
        store.request("https://a.example").unwrap();
        let mode = std::fs::metadata(dir.path().join("pairing.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
