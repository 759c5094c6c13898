//! What the person at the computer allowed which page to do. A paired page
//! may burn to the drives it lists, but the acts that destroy or reveal
//! what a medium holds wait for the person, asked on the helper itself
//! (its own page or its tray): "https://site wants to erase the CD-RW in
//! HL-DT-ST DVDRAM (sr0)" with a short code the page shows too.
//!
//! - writing to a removable disk the helper found (a USB stick, a card);
//! - erasing a disc; burning afresh over a rewritable disc that holds
//!   files; reading which files a disc holds.
//!
//! A consent is for that act, that page's origin, that recorder and that
//! medium (its identity: the device's, and for a disc what it holds), so a
//! disc or stick swapped in meanwhile is asked about afresh. It is used up
//! by the act (writes: configurable, see [`Lifetimes`]), or lasts a few
//! minutes for reading file lists. Consents live in memory: they end with
//! the helper, or the device. A disk over [`LARGE_DISK_BYTES`] is more
//! likely a backup drive than a stick: allowing it takes a second
//! confirmation.

use std::time::{Duration, Instant};

use webburn_shared::protocol::{Approval, ConsentAct, DeviceRequest};

use super::pairing_store::{PairingError, REQUEST_TTL, new_code};

/// Disks above this size (256 GB, as packages count) need a second confirmation.
pub const LARGE_DISK_BYTES: u64 = 256_000_000_000;
/// Most requests waiting at once (a page cannot flood the helper).
pub const MAX_REQUESTS: usize = 16;
/// How long reading a disc's file list stays allowed.
pub const READ_FOR: Duration = Duration::from_secs(300);

/// What a request is about: a recorder and the medium in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The recorder's id.
    pub id: String,
    /// What tells this device and medium from another at the same id.
    pub identity: String,
    /// For people: `SanDisk Ultra 32 GB (sdb)`, `the CD-RW in ...`.
    pub label: String,
    /// A disk's size (0 for a disc).
    pub size_bytes: u64,
}

impl Subject {
    /// Its approval needs `confirm_large`.
    pub fn is_large(&self) -> bool {
        self.size_bytes > LARGE_DISK_BYTES
    }
}

/// How long a consent lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Used up by one act.
    Once,
    /// Any number of acts for this long.
    For(Duration),
}

/// How long each kind of consent lasts: erasing and burning over a disc
/// once each, reading a file list [`READ_FOR`]; writing to a disk once,
/// unless the helper's config says `device-approval = "10min"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Writes to a found disk.
    pub write: Lifetime,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            write: Lifetime::Once,
        }
    }
}

impl Lifetimes {
    fn of(self, act: ConsentAct) -> Lifetime {
        match act {
            ConsentAct::Write => self.write,
            ConsentAct::Erase | ConsentAct::Overwrite => Lifetime::Once,
            ConsentAct::Read => Lifetime::For(READ_FOR),
        }
    }
}

#[derive(Debug)]
struct Request {
    code: String,
    origin: String,
    act: ConsentAct,
    subject: Subject,
    created: Instant,
}

#[derive(Debug)]
struct Grant {
    origin: String,
    act: ConsentAct,
    id: String,
    identity: String,
    /// Used up by the first act, else good until then.
    lasts: Lifetime,
    granted: Instant,
}

impl Grant {
    fn covers(&self, origin: &str, act: ConsentAct, subject: &Subject) -> bool {
        let fresh = match self.lasts {
            Lifetime::Once => true,
            Lifetime::For(d) => self.granted.elapsed() < d,
        };
        fresh
            && self.origin == origin
            && self.act == act
            && self.id == subject.id
            && self.identity == subject.identity
    }
}

/// Why a request or decision failed.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// Too many requests wait.
    #[error("too many requests are waiting for the person; try again in a few minutes")]
    TooMany,
    /// No waiting request shows this code.
    #[error("no request is waiting with code {0}")]
    NoSuchCode(String),
    /// A large disk was allowed without the second confirmation.
    #[error("{0} is larger than 256 GB: confirm a second time that everything on it may be erased")]
    NeedsConfirmation(String),
    /// No random code could be made.
    #[error(transparent)]
    Code(#[from] PairingError),
}

/// How a decided request was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The person allowed it.
    Allowed,
    /// The person refused it (or it expired, or its page withdrew it).
    Refused,
}

/// What the person decided about a request, and who made it (what the
/// helper logs and the tray shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    /// The page's origin.
    pub origin: String,
    /// The act.
    pub act: ConsentAct,
    /// The recorder and medium, for people.
    pub label: String,
}

/// The waiting requests, the consents given, and the recent decisions.
#[derive(Debug, Default)]
pub struct Consents {
    requests: Vec<Request>,
    grants: Vec<Grant>,
    decided: Vec<(String, Decision, Instant)>,
    lifetimes: Lifetimes,
}

impl Consents {
    /// Consents lasting as `lifetimes` says.
    pub fn new(lifetimes: Lifetimes) -> Consents {
        Consents {
            lifetimes,
            ..Consents::default()
        }
    }

    fn expire(&mut self) {
        let (requests, decided) = (&mut self.requests, &mut self.decided);
        requests.retain(|r| {
            let live = r.created.elapsed() < REQUEST_TTL;
            if !live {
                decided.push((r.code.clone(), Decision::Refused, Instant::now()));
            }
            live
        });
        self.decided.retain(|(_, _, at)| at.elapsed() < REQUEST_TTL);
        self.grants.retain(|g| match g.lasts {
            Lifetime::Once => true,
            Lifetime::For(d) => g.granted.elapsed() < d,
        });
    }

    /// Where `origin` stands with `act` on `subject`.
    pub fn state(&mut self, origin: &str, act: ConsentAct, subject: &Subject) -> Approval {
        self.expire();
        if self.allowed(origin, act, subject) {
            Approval::Approved
        } else if self
            .requests
            .iter()
            .any(|r| r.origin == origin && r.act == act && r.subject == *subject)
        {
            Approval::Asked
        } else {
            Approval::Needed
        }
    }

    /// `origin` may do `act` on `subject` (nothing is used up).
    pub fn allowed(&self, origin: &str, act: ConsentAct, subject: &Subject) -> bool {
        self.grants.iter().any(|g| g.covers(origin, act, subject))
    }

    /// `origin` does `act` on `subject` now: true if allowed, and a consent
    /// for one act is used up.
    pub fn take(&mut self, origin: &str, act: ConsentAct, subject: &Subject) -> bool {
        self.expire();
        let Some(at) = self
            .grants
            .iter()
            .position(|g| g.covers(origin, act, subject))
        else {
            return false;
        };
        if self.grants[at].lasts == Lifetime::Once {
            self.grants.remove(at);
        }
        true
    }

    /// `origin` asks to do `act` on `subject`; asking again while it waits
    /// gets the same code.
    pub fn request(
        &mut self,
        origin: &str,
        act: ConsentAct,
        subject: Subject,
    ) -> Result<String, ApprovalError> {
        self.expire();
        if let Some(r) = self
            .requests
            .iter()
            .find(|r| r.origin == origin && r.act == act && r.subject == subject)
        {
            return Ok(r.code.clone());
        }
        if self.requests.len() >= MAX_REQUESTS {
            return Err(ApprovalError::TooMany);
        }
        let code = new_code()?;
        self.requests.push(Request {
            code: code.clone(),
            origin: origin.to_owned(),
            act,
            subject,
            created: Instant::now(),
        });
        Ok(code)
    }

    fn remove(&mut self, code: &str) -> Result<Request, ApprovalError> {
        self.expire();
        let at = self
            .requests
            .iter()
            .position(|r| r.code.eq_ignore_ascii_case(code.trim()))
            .ok_or_else(|| ApprovalError::NoSuchCode(code.to_owned()))?;
        Ok(self.requests.remove(at))
    }

    fn decide(&mut self, r: &Request, how: Decision) -> Decided {
        self.decided.push((r.code.clone(), how, Instant::now()));
        Decided {
            origin: r.origin.clone(),
            act: r.act,
            label: r.subject.label.clone(),
        }
    }

    /// The person allows the request showing `code`. A large disk needs
    /// `confirm_large`.
    pub fn approve(&mut self, code: &str, confirm_large: bool) -> Result<Decided, ApprovalError> {
        let r = self.remove(code)?;
        if r.act == ConsentAct::Write && r.subject.is_large() && !confirm_large {
            let label = r.subject.label.clone();
            self.requests.push(r);
            return Err(ApprovalError::NeedsConfirmation(label));
        }
        self.grants.push(Grant {
            origin: r.origin.clone(),
            act: r.act,
            id: r.subject.id.clone(),
            identity: r.subject.identity.clone(),
            lasts: self.lifetimes.of(r.act),
            granted: Instant::now(),
        });
        Ok(self.decide(&r, Decision::Allowed))
    }

    /// The person refuses the request showing `code`.
    pub fn deny(&mut self, code: &str) -> Result<Decided, ApprovalError> {
        let r = self.remove(code)?;
        Ok(self.decide(&r, Decision::Refused))
    }

    /// The page that asked no longer waits (it cancelled, or closed).
    pub fn withdraw(&mut self, code: &str) {
        if let Ok(r) = self.remove(code) {
            self.decide(&r, Decision::Refused);
        }
    }

    /// How the request showing `code` was decided; `None` while it waits.
    pub fn outcome(&mut self, code: &str) -> Option<Decision> {
        self.expire();
        self.decided
            .iter()
            .rev()
            .find(|(c, _, _)| c == code)
            .map(|(_, d, _)| *d)
    }

    /// Device `id` went away: its requests and consents end.
    pub fn forget(&mut self, id: &str) {
        let gone: Vec<String> = self
            .requests
            .iter()
            .filter(|r| r.subject.id == id)
            .map(|r| r.code.clone())
            .collect();
        for code in gone {
            self.withdraw(&code);
        }
        self.grants.retain(|g| g.id != id);
    }

    /// The requests waiting for the person, oldest first.
    pub fn waiting(&mut self) -> Vec<DeviceRequest> {
        self.expire();
        self.requests
            .iter()
            .map(|r| DeviceRequest {
                code: r.code.clone(),
                act: r.act,
                origin: r.origin.clone(),
                recorder_id: r.subject.id.clone(),
                device: r.subject.label.clone(),
                size_bytes: r.subject.size_bytes,
                large: r.act == ConsentAct::Write && r.subject.is_large(),
                age_seconds: r.created.elapsed().as_secs(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stick(size_bytes: u64, identity: &str) -> Subject {
        Subject {
            id: "sg:/dev/sg1".into(),
            identity: identity.into(),
            label: "SanDisk Ultra 32 GB (sdb)".into(),
            size_bytes,
        }
    }

    fn disc(identity: &str) -> Subject {
        Subject {
            id: "sg:/dev/sg0".into(),
            identity: identity.into(),
            label: "the CD-RW in HL-DT-ST DVDRAM (sr0)".into(),
            size_bytes: 0,
        }
    }

    const SITE: &str = "https://site.example";
    const W: ConsentAct = ConsentAct::Write;

    #[test]
    fn a_request_waits_until_the_person_allows_it_for_that_origin_only() {
        let mut a = Consents::default();
        let dev = stick(32_000_000_000, "usb2/2-1 SanDisk Ultra 32000000000");
        assert_eq!(a.state(SITE, W, &dev), Approval::Needed);
        let code = a.request(SITE, W, dev.clone()).unwrap();
        assert_eq!(
            a.request(SITE, W, dev.clone()).unwrap(),
            code,
            "asking again"
        );
        assert_eq!(a.state(SITE, W, &dev), Approval::Asked);
        assert_eq!(a.outcome(&code), None);
        let waiting = a.waiting();
        assert_eq!(waiting.len(), 1);
        assert_eq!(
            (waiting[0].device.as_str(), waiting[0].act),
            ("SanDisk Ultra 32 GB (sdb)", W)
        );
        assert!(!waiting[0].large);
        let decided = a.approve(&code.to_lowercase(), false).unwrap();
        assert_eq!((decided.origin.as_str(), decided.act), (SITE, W));
        assert_eq!(a.outcome(&code), Some(Decision::Allowed));
        assert_eq!(a.state(SITE, W, &dev), Approval::Approved);
        assert!(!a.allowed("https://other.example", W, &dev));
        assert!(!a.allowed(SITE, ConsentAct::Erase, &dev), "another act");
        assert!(a.waiting().is_empty());
        // Another stick at the same node is asked about afresh.
        let other = stick(16_000_000_000, "usb2/2-1 Kingston DT 16000000000");
        assert_eq!(a.state(SITE, W, &other), Approval::Needed);
        // One write uses the approval up.
        assert!(a.take(SITE, W, &dev));
        assert!(!a.take(SITE, W, &dev));
        assert_eq!(a.state(SITE, W, &dev), Approval::Needed);
    }

    #[test]
    fn consents_last_as_configured_and_end_with_the_device() {
        let minutes = Lifetimes {
            write: Lifetime::For(Duration::from_secs(600)),
        };
        let mut a = Consents::new(minutes);
        let dev = stick(32_000_000_000, "x");
        let code = a.request(SITE, W, dev.clone()).unwrap();
        a.approve(&code, false).unwrap();
        assert!(
            a.take(SITE, W, &dev) && a.take(SITE, W, &dev),
            "for minutes"
        );
        // Reading a disc's files lasts a while; erasing it once.
        let cd = disc("profile 0A, 1 session, ends 3000");
        let read = a.request(SITE, ConsentAct::Read, cd.clone()).unwrap();
        a.approve(&read, false).unwrap();
        assert!(a.take(SITE, ConsentAct::Read, &cd) && a.take(SITE, ConsentAct::Read, &cd));
        let erase = a.request(SITE, ConsentAct::Erase, cd.clone()).unwrap();
        assert_eq!(a.waiting()[0].act, ConsentAct::Erase);
        a.approve(&erase, false).unwrap();
        assert!(a.take(SITE, ConsentAct::Erase, &cd));
        assert!(!a.take(SITE, ConsentAct::Erase, &cd));
        // Another disc in the drive is another medium.
        let swapped = disc("profile 0A, 2 sessions, ends 9000");
        assert!(!a.allowed(SITE, ConsentAct::Read, &swapped));
        // Unplugged: every consent for the device ends.
        a.forget(&dev.id);
        assert!(!a.allowed(SITE, W, &dev));
    }

    #[test]
    fn a_large_disk_needs_the_second_confirmation() {
        let mut a = Consents::default();
        let dev = stick(512_000_000_000, "usb2/2-1 Backup 512000000000");
        let code = a.request(SITE, W, dev.clone()).unwrap();
        assert!(a.waiting()[0].large);
        let e = a.approve(&code, false).unwrap_err();
        assert!(matches!(e, ApprovalError::NeedsConfirmation(_)), "{e}");
        assert!(e.to_string().contains("larger than 256 GB"), "{e}");
        assert_eq!(a.state(SITE, W, &dev), Approval::Asked, "still waiting");
        a.approve(&code, true).unwrap();
        assert!(a.allowed(SITE, W, &dev));
    }

    #[test]
    fn refused_withdrawn_unknown_and_too_many() {
        let mut a = Consents::default();
        let dev = stick(32_000_000_000, "x");
        let code = a.request(SITE, W, dev.clone()).unwrap();
        a.deny(&code).unwrap();
        assert_eq!(a.outcome(&code), Some(Decision::Refused));
        assert_eq!(a.state(SITE, W, &dev), Approval::Needed);
        assert!(matches!(
            a.approve(&code, true),
            Err(ApprovalError::NoSuchCode(_))
        ));
        let again = a.request(SITE, ConsentAct::Read, dev.clone()).unwrap();
        a.withdraw(&again);
        assert_eq!(a.outcome(&again), Some(Decision::Refused));
        for i in 0..MAX_REQUESTS {
            a.request(&format!("https://s{i}.example"), W, dev.clone())
                .unwrap();
        }
        assert!(matches!(
            a.request(SITE, W, dev.clone()),
            Err(ApprovalError::TooMany)
        ));
        a.forget(&dev.id);
        assert!(a.waiting().is_empty());
    }
}
