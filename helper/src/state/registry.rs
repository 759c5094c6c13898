//! The recorders the helper offers, and which session holds which.
//!
//! The helper offers the recorders named in its configuration and, unless
//! turned off, the optical drives and removable disks the system has
//! (discovered afresh with every list). A removable disk it found (or one
//! configured with `,ask`) is written by a page only after the person
//! approved it for that page's origin ([`super::consents`]); the
//! system's own and mounted disks are never found. A client picks a recorder
//! by id and can never make the helper open a path of its choosing.
//!
//! A device is open only while a session writes to it (or for a moment while
//! it is described), so other programs can use the drive the rest of the time.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use webburn_shared::HResult;
use webburn_shared::protocol::RecorderDescription;

use webburn_shared::protocol::{Approval, DeviceRequest};

use super::consents::{ApprovalError, Consents, Decided, Decision, Lifetimes, Subject};
use webburn_engine::devices::removable::size_label;
use webburn_shared::MediumKind;
use webburn_shared::protocol::ConsentAct;

use webburn_engine::devices::{DeviceError, Found, Recorder, RecorderInfo};

/// A session's identity within the server.
pub type SessionId = u64;

/// How long a claim waits for a list that is describing the device, and
/// for the device to be closed by its last holder.
const DESCRIBE_WAIT: Duration = Duration::from_secs(1);
/// How soon an open refused as locked is tried again.
const OPEN_RETRY: Duration = Duration::from_millis(5);
/// How long a claim waits for a recorder whose session is ending (its last
/// WRITE completing) before it answers E_IMAPI_RECORDER_LOCKED.
pub const RELEASE_WAIT: Duration = Duration::from_secs(5);
/// How long a claim waits for a recorder another session holds: a client
/// that dropped its socket and reconnected at once can be quicker than its
/// old session noticing the socket closed.
pub const HELD_WAIT: Duration = Duration::from_secs(1);

/// Finds the system's optical drives and removable disks.
pub type Discover = fn() -> Vec<Found>;

/// The option after a configured recorder's id that makes pages ask the
/// person before writing to it, as they do for removable disks the helper finds.
pub const ASK_OPTION: &str = ",ask";
/// The option that lets pages write to a configured Windows PhysicalDrive
/// without asking (they ask by default: it is a whole disk).
pub const NOASK_OPTION: &str = ",noask";

/// A configured id's spec, and whether pages must ask before writing to
/// it: `,ask`, or a Windows PhysicalDrive without `,noask`.
fn asks(id: &str) -> (&str, bool) {
    if let Some(spec) = id.strip_suffix(ASK_OPTION) {
        return (spec, true);
    }
    if let Some(spec) = id.strip_suffix(NOASK_OPTION) {
        return (spec, false);
    }
    let whole_disk = id.starts_with("spti:") && id.to_ascii_lowercase().contains("physicaldrive");
    (id, whole_disk)
}

#[derive(Debug)]
struct Entry {
    /// The recorder's id, as clients name it.
    id: String,
    /// What opens it (a configured id may carry options the id leaves out).
    spec: String,
    /// Open while a session holds it.
    open: Option<Recorder>,
    holder: Option<SessionId>,
    /// The holder's session has ended: the recorder is free once its write stops.
    releasing: bool,
    /// A list has it open this moment to describe it.
    describing: bool,
    /// The last description, shown while the recorder is busy.
    cached: Option<RecorderInfo>,
    /// Found by discovery rather than configured: forgotten when it vanishes.
    discovered: bool,
    /// Pages need the person's approval to write to it: what tells the
    /// device apart and its block device (`sdb`), for people.
    ask: Option<Ask>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Ask {
    identity: String,
    block: Option<String>,
}

impl Entry {
    fn new(id: String, spec: String, discovered: bool, ask: Option<Ask>) -> Entry {
        Entry {
            id,
            spec,
            open: None,
            holder: None,
            releasing: false,
            describing: false,
            cached: None,
            discovered,
            ask,
        }
    }

    /// The device the person is asked about, once it was described.
    fn device(&self) -> Option<Subject> {
        let ask = self.ask.as_ref()?;
        let info = self.cached.as_ref()?;
        let size_bytes = size_of(info).unwrap_or(0);
        let mut label = format!("{} {}", info.vendor_id.trim(), info.product_id.trim());
        label = format!("{} {}", label.trim(), size_label(size_bytes));
        if let Some(block) = &ask.block {
            label = format!("{label} ({block})");
        }
        Some(Subject {
            id: self.id.clone(),
            identity: ask.identity.clone(),
            label,
            size_bytes,
        })
    }
}

/// A disk's size in bytes.
fn size_of(info: &RecorderInfo) -> Option<u64> {
    if info.medium != MediumKind::Disk {
        return None;
    }
    Some(info.capacity_sectors? * u64::from(info.block_size?))
}

/// Why a device request failed.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// No recorder with this id needs an approval.
    #[error("{0} is not a device pages ask for")]
    NotAsked(String),
    /// The approvals refused it.
    #[error(transparent)]
    Approval(#[from] ApprovalError),
}

/// The offered recorders.
#[derive(Debug)]
pub struct Registry {
    entries: Mutex<Vec<Entry>>,
    /// Signalled when a recorder is released or a description ends: claims
    /// waiting for it look again.
    changed: Condvar,
    discover: Option<Discover>,
    /// What the person allowed which page (locked after `entries`).
    consents: Mutex<Consents>,
    /// Bumped at every decision of the person, for requests waiting on one.
    decisions: tokio::sync::watch::Sender<u64>,
}

/// Whether a page may do an act now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consent {
    /// Allowed (a consent for one act is used up).
    Granted,
    /// The person is asked; the code shown beside the request.
    Needed(String),
}

fn describe(info: &RecorderInfo, in_use: bool, approval: Option<Approval>) -> RecorderDescription {
    RecorderDescription {
        id: info.id.clone(),
        kind: info.kind.to_owned(),
        vendor_id: info.vendor_id.clone(),
        product_id: info.product_id.clone(),
        product_revision: info.product_revision.clone(),
        supported_profiles: info.supported_profiles.clone(),
        current_profiles: info.current_profiles.clone(),
        free_sectors: info.free_sectors,
        next_writable_address: info.next_writable,
        block_size: info.block_size,
        medium_kind: info.medium,
        sector_size: info.natural_sector_size(),
        in_use,
        write_speeds: info.write_speeds.clone(),
        can_simulate: info.can_simulate,
        size_bytes: size_of(info),
        approval,
    }
}

/// Opens `spec` for a moment and describes it.
fn describe_now(spec: &str) -> Option<RecorderInfo> {
    Recorder::open(spec).ok()?.describe().ok()
}

impl Registry {
    /// Checks that every configured id opens (a typo fails the start, not the
    /// first burn); `discover`, if given, adds the system's optical drives
    /// and removable disks. An id ending in [`ASK_OPTION`] is written only
    /// with the person's approval.
    pub fn open(
        ids: &[String],
        discover: Option<Discover>,
    ) -> Result<Registry, (String, DeviceError)> {
        let mut entries = Vec::with_capacity(ids.len());
        for id in ids {
            let (spec, asks) = asks(id);
            let recorder = Recorder::open(spec).map_err(|e| (id.clone(), e))?;
            let rid = recorder.id().to_owned();
            let ask = asks.then(|| Ask {
                identity: rid.clone(),
                block: None,
            });
            let mut entry = Entry::new(rid, spec.to_owned(), false, ask);
            entry.cached = recorder.describe().ok();
            entries.push(entry);
        }
        Ok(Registry {
            entries: Mutex::new(entries),
            changed: Condvar::new(),
            discover,
            consents: Mutex::new(Consents::default()),
            decisions: tokio::sync::watch::Sender::new(0),
        })
    }

    /// Consents last as `lifetimes` says (the config's `device-approval`).
    pub fn set_consent_lifetimes(&self, lifetimes: Lifetimes) {
        *self.consents() = Consents::new(lifetimes);
    }

    fn consents(&self) -> std::sync::MutexGuard<'_, Consents> {
        self.consents.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds devices that appeared, forgets free ones that went away or
    /// were replaced by another device at the same id (and their approvals).
    fn rediscover(&self) {
        let Some(discover) = self.discover else {
            return;
        };
        let found: Vec<(String, Option<Ask>)> = discover()
            .into_iter()
            .map(|f| {
                let ask = f.disk.map(|d| Ask {
                    identity: d.identity,
                    block: Some(d.block),
                });
                (f.id, ask)
            })
            .collect();
        let mut entries = self.lock();
        let mut gone = Vec::new();
        entries.retain(|e| {
            let keep = !e.discovered
                || e.holder.is_some()
                || found.iter().any(|(id, ask)| *id == e.id && *ask == e.ask);
            if !keep {
                gone.push(e.id.clone());
            }
            keep
        });
        for (id, ask) in found {
            if !entries.iter().any(|e| e.id == id) {
                entries.push(Entry::new(id.clone(), id, true, ask));
            }
        }
        let mut consents = self.consents();
        for id in gone {
            consents.forget(&id);
        }
    }

    /// Describes every recorder, asking the free ones afresh (blocking SCSI I/O).
    /// A recorder a session holds is shown from its last description: asking
    /// it now could get in the way of that session's write. A drive never
    /// described (no permission, say) is left out.
    /// `origin` is the asking page's (`None`: the helper's own page), for
    /// the disks that ask.
    pub fn list(&self, asker: SessionId, origin: Option<&str>) -> Vec<RecorderDescription> {
        self.rediscover();
        let ids: Vec<String> = self.lock().iter().map(|e| e.id.clone()).collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            // A free recorder is marked while it is open here, so a claim waits for it.
            let free_spec = self
                .lock()
                .iter_mut()
                .find(|e| e.id == id && e.holder.is_none() && !e.describing)
                .map(|e| {
                    e.describing = true;
                    e.spec.clone()
                });
            let fresh = free_spec.as_deref().and_then(|spec| {
                // Unmarked however the description ends.
                let _unmark = Describing {
                    registry: self,
                    id: &id,
                };
                describe_now(spec)
            });
            let mut entries = self.lock();
            let Some(entry) = entries.iter_mut().find(|e| e.id == id) else {
                continue;
            };
            if fresh.is_some() {
                entry.cached.clone_from(&fresh);
            }
            let in_use = entry.holder.is_some_and(|h| h != asker);
            let approval = match (entry.device(), origin) {
                (Some(device), Some(origin)) => {
                    Some(self.consents().state(origin, ConsentAct::Write, &device))
                }
                (Some(_), None) => Some(Approval::Approved),
                (None, _) => None,
            };
            if let Some(info) = fresh.as_ref().or(entry.cached.as_ref()) {
                out.push(describe(info, in_use, approval));
            }
        }
        out
    }

    /// The last description of recorder `id`, if it was ever described.
    pub fn cached(&self, id: &str) -> Option<RecorderInfo> {
        self.lock()
            .iter()
            .find(|e| e.id == id)
            .and_then(|e| e.cached.clone())
    }

    /// Opens `id` for `session` of a page of `origin` (`None`: the helper's
    /// own page) (blocking: it opens the device): E_INVALIDARG if not
    /// offered, E_ACCESSDENIED if it is a disk the person has not approved
    /// for `origin`, E_IMAPI_RECORDER_LOCKED if another session or program
    /// has it. A recorder another session holds is waited for up to
    /// [`HELD_WAIT`], one whose session has ended up to [`RELEASE_WAIT`]
    /// while its last WRITE completes. The recorder is
    /// freed when the returned claim is dropped.
    pub fn claim(
        self: &Arc<Self>,
        id: &str,
        session: SessionId,
        origin: Option<&str>,
    ) -> Result<Claim, HResult> {
        if let Some(origin) = origin {
            self.check_approved(id, origin)?;
        }
        let spec = self.reserve(id, session)?;
        // The last holder's handles may still be closing the device (its
        // session drops them a moment after the release): an open refused
        // as locked is tried again for a moment. The lock is the OS's, so
        // nothing signals it: this is the one bounded retry.
        let until = Instant::now() + DESCRIBE_WAIT;
        let opened = loop {
            match Recorder::open(&spec) {
                Err(e)
                    if e.hresult() == HResult::E_IMAPI_RECORDER_LOCKED
                        && Instant::now() < until =>
                {
                    std::thread::sleep(OPEN_RETRY);
                }
                r => break r,
            }
        };
        let mut entries = self.lock();
        let entry = entries.iter_mut().find(|e| e.id == id);
        match (opened, entry) {
            (Ok(recorder), Some(entry)) => {
                entry.open = Some(recorder.clone());
                Ok(Claim {
                    registry: Arc::clone(self),
                    id: id.to_owned(),
                    session,
                    recorder,
                })
            }
            (Err(e), Some(entry)) => {
                entry.holder = None;
                self.changed.notify_all();
                Err(e.hresult())
            }
            (_, None) => Err(HResult::E_DEV_NOT_EXIST),
        }
    }

    /// E_ACCESSDENIED unless `origin` may write to `id` (a device that asks,
    /// still the one that was approved: discovery runs again first); a
    /// consent for one write is used up.
    fn check_approved(&self, id: &str, origin: &str) -> Result<(), HResult> {
        let asks = self.lock().iter().any(|e| e.id == id && e.ask.is_some());
        if !asks {
            return Ok(());
        }
        self.rediscover();
        let entries = self.lock();
        let device = entries
            .iter()
            .find(|e| e.id == id)
            .ok_or(HResult::E_INVALIDARG)?
            .device();
        match device {
            Some(d) if self.consents().take(origin, ConsentAct::Write, &d) => Ok(()),
            _ => {
                tracing::warn!(%origin, recorder = id, "a page tried to write to a disk the person has not approved for it");
                Err(HResult::E_ACCESSDENIED)
            }
        }
    }

    /// A page of `origin` asks the person for disk `id`; the code shown
    /// beside the request.
    pub fn request_device(&self, id: &str, origin: &str) -> Result<String, RequestError> {
        let device = self
            .lock()
            .iter()
            .find(|e| e.id == id)
            .and_then(Entry::device)
            .ok_or_else(|| RequestError::NotAsked(id.to_owned()))?;
        let code = self
            .consents()
            .request(origin, ConsentAct::Write, device.clone())?;
        tracing::warn!(%origin, device = %device.label, %code, "a page asks to write to a disk");
        self.bump();
        Ok(code)
    }

    /// A page of `origin` is about to do `act` on `subject`: allowed if the
    /// person allowed it (used up if for one act), else the person is asked.
    pub fn consent(
        &self,
        origin: &str,
        act: ConsentAct,
        subject: Subject,
    ) -> Result<Consent, ApprovalError> {
        let mut consents = self.consents();
        if consents.take(origin, act, &subject) {
            tracing::info!(%origin, act = act.as_str(), subject = %subject.label, "a page acts with the person's consent");
            return Ok(Consent::Granted);
        }
        let label = subject.label.clone();
        let code = consents.request(origin, act, subject)?;
        drop(consents);
        tracing::warn!(%origin, act = act.as_str(), %label, %code, "a page asks the person's consent");
        self.bump();
        Ok(Consent::Needed(code))
    }

    /// How the request showing `code` was decided; `None` while it waits.
    pub fn outcome(&self, code: &str) -> Option<Decision> {
        self.consents().outcome(code)
    }

    /// Wakes on every decision of the person (and every new request).
    pub fn decisions(&self) -> tokio::sync::watch::Receiver<u64> {
        self.decisions.subscribe()
    }

    /// The page that made request `code` stopped waiting for it.
    pub fn withdraw(&self, code: &str) {
        self.consents().withdraw(code);
        self.bump();
    }

    fn bump(&self) {
        self.decisions.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The person allows the request showing `code`; what was allowed.
    pub fn approve_device(
        &self,
        code: &str,
        confirm_large: bool,
    ) -> Result<Decided, ApprovalError> {
        let d = self.consents().approve(code, confirm_large)?;
        tracing::warn!(origin = %d.origin, act = d.act.as_str(), subject = %d.label, "the person allowed a page");
        self.bump();
        Ok(d)
    }

    /// The person refuses the request showing `code`; what was refused.
    pub fn deny_device(&self, code: &str) -> Result<Decided, ApprovalError> {
        let d = self.consents().deny(code)?;
        tracing::info!(origin = %d.origin, act = d.act.as_str(), subject = %d.label, "the person refused a page");
        self.bump();
        Ok(d)
    }

    /// The requests waiting for the person.
    pub fn device_requests(&self) -> Vec<DeviceRequest> {
        self.consents().waiting()
    }

    /// Marks `id` as `session`'s, waiting (on [`Registry::changed`]) while
    /// another session holds it or a list describes it; returns what opens it.
    fn reserve(&self, id: &str, session: SessionId) -> Result<String, HResult> {
        let started = Instant::now();
        // Each wait counts from when its reason was first seen.
        let mut describing_since: Option<Instant> = None;
        let mut entries = self.lock();
        loop {
            let entry = entries
                .iter_mut()
                .find(|e| e.id == id)
                .ok_or(HResult::E_INVALIDARG)?;
            let deadline = match (entry.holder, entry.releasing, entry.describing) {
                (None, _, false) => {
                    // Reserved: no list describes it from now on.
                    entry.holder = Some(session);
                    return Ok(entry.spec.clone());
                }
                (None, _, true) => {
                    *describing_since.get_or_insert_with(Instant::now) + DESCRIBE_WAIT
                }
                (Some(_), true, _) => started + RELEASE_WAIT,
                (Some(_), false, _) => started + HELD_WAIT,
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(HResult::E_IMAPI_RECORDER_LOCKED);
            }
            entries = self
                .changed
                .wait_timeout(entries, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// `session` has ended: claims waiting for its recorders wait for their
    /// release instead of answering E_IMAPI_RECORDER_LOCKED at once.
    pub fn session_ending(&self, session: SessionId) {
        for e in self.lock().iter_mut().filter(|e| e.holder == Some(session)) {
            e.releasing = true;
        }
        self.changed.notify_all();
    }

    /// Frees recorder `id` if `session` holds it; it closes when its writer lets go.
    fn release(&self, id: &str, session: SessionId) {
        for e in self
            .lock()
            .iter_mut()
            .filter(|e| e.id == id && e.holder == Some(session))
        {
            e.holder = None;
            e.releasing = false;
            e.open = None;
        }
        self.changed.notify_all();
    }
}

/// A recorder a list has open to describe it; unmarked (and waiting claims
/// woken) when dropped.
struct Describing<'a> {
    registry: &'a Registry,
    id: &'a str,
}

impl Drop for Describing<'_> {
    fn drop(&mut self) {
        if let Some(e) = self.registry.lock().iter_mut().find(|e| e.id == self.id) {
            e.describing = false;
        }
        self.registry.changed.notify_all();
    }
}

/// A recorder one session holds; dropping the claim frees it for the others.
#[derive(Debug)]
pub struct Claim {
    registry: Arc<Registry>,
    id: String,
    session: SessionId,
    recorder: Recorder,
}

impl Claim {
    /// The open recorder.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.registry.release(&self.id, self.session);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_exclusive_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let id = format!("emulated:{}", dir.path().join("r.img").display());
        let reg = Arc::new(Registry::open(std::slice::from_ref(&id), None).unwrap());
        assert_eq!(reg.list(1, None).len(), 1);
        let held = reg.claim(&id, 1, None).unwrap();
        assert_eq!(
            reg.claim(&id, 1, None).unwrap_err(),
            HResult::E_IMAPI_RECORDER_LOCKED,
            "one claim per recorder, also within a session"
        );
        assert_eq!(
            reg.claim(&id, 2, None).unwrap_err(),
            HResult::E_IMAPI_RECORDER_LOCKED
        );
        assert!(reg.list(2, None)[0].in_use);
        assert!(!reg.list(1, None)[0].in_use);
        reg.release(&id, 2);
        assert!(reg.list(2, None)[0].in_use, "only the holder releases");
        drop(held);
        assert!(reg.claim(&id, 2, None).is_ok());
        let elsewhere = format!("emulated:{}", dir.path().join("other.img").display());
        assert_eq!(
            reg.claim(&elsewhere, 2, None).unwrap_err(),
            HResult::E_INVALIDARG
        );
    }

    #[test]
    fn a_device_is_open_only_while_a_session_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let id = format!("emulated:{}", dir.path().join("r.img").display());
        let reg = Arc::new(Registry::open(std::slice::from_ref(&id), None).unwrap());
        reg.list(1, None);
        drop(Recorder::open(&id).expect("free between writes: another program may open it"));
        let held = reg.claim(&id, 1, None).unwrap();
        assert!(Recorder::open(&id).is_err(), "open while held");
        drop(held);
        drop(Recorder::open(&id).expect("closed once released"));
    }

    #[test]
    fn a_session_holds_several_recorders_and_frees_them_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let ids: Vec<String> = ["a", "b"]
            .iter()
            .map(|n| format!("emulated:{}", dir.path().join(n).display()))
            .collect();
        let reg = Arc::new(Registry::open(&ids, None).unwrap());
        let a = reg.claim(&ids[0], 1, None).unwrap();
        let _b = reg.claim(&ids[1], 1, None).unwrap();
        drop(a);
        assert!(reg.claim(&ids[0], 2, None).is_ok(), "a is free");
        assert_eq!(
            reg.claim(&ids[1], 2, None).unwrap_err(),
            HResult::E_IMAPI_RECORDER_LOCKED,
            "b is still held"
        );
    }

    #[test]
    fn a_claim_waits_for_the_recorder_of_an_ending_session() {
        let dir = tempfile::tempdir().unwrap();
        let id = format!("emulated:{}", dir.path().join("r.img").display());
        let reg = Arc::new(Registry::open(std::slice::from_ref(&id), None).unwrap());
        let held = reg.claim(&id, 1, None).unwrap();
        reg.session_ending(1);
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(held);
        });
        let started = Instant::now();
        assert!(reg.claim(&id, 2, None).is_ok(), "waited instead of LOCKED");
        assert!(started.elapsed() < RELEASE_WAIT);
        releaser.join().unwrap();
    }

    static FOUND: Mutex<Vec<Found>> = Mutex::new(Vec::new());

    #[test]
    fn a_claim_waits_for_a_description_and_for_the_last_handle() {
        let dir = tempfile::tempdir().unwrap();
        let id = format!("emulated:{}", dir.path().join("d.img").display());
        let reg = Arc::new(Registry::open(std::slice::from_ref(&id), None).unwrap());
        let mark = |on: bool| {
            reg.lock()[0].describing = on;
            reg.changed.notify_all();
        };
        // A list describing the recorder: the claim waits for it to end.
        mark(true);
        let waiting = {
            let (reg, id) = (Arc::clone(&reg), id.clone());
            std::thread::spawn(move || reg.claim(&id, 1, None).map(drop))
        };
        std::thread::sleep(Duration::from_millis(100));
        mark(false);
        assert_eq!(waiting.join().unwrap(), Ok(()));
        // A description that never ends: LOCKED after DESCRIBE_WAIT.
        mark(true);
        let t = Instant::now();
        assert_eq!(
            reg.claim(&id, 1, None).unwrap_err(),
            HResult::E_IMAPI_RECORDER_LOCKED
        );
        assert!(t.elapsed() >= DESCRIBE_WAIT);
        mark(false);
        // The previous holder released it but its handle still locks the
        // image for a moment: the open is tried again.
        let held = reg.claim(&id, 1, None).unwrap();
        let handle = held.recorder().clone();
        drop(held);
        let closer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(handle);
        });
        assert!(reg.claim(&id, 2, None).is_ok());
        closer.join().unwrap();
    }

    fn found() -> Vec<Found> {
        FOUND.lock().unwrap().clone()
    }

    #[test]
    fn discovered_drives_come_and_go_but_not_while_held() {
        let dir = tempfile::tempdir().unwrap();
        let drive = format!(
            "emulated:{},profile=dvd+r",
            dir.path().join("d.img").display()
        );
        let reg = Arc::new(Registry::open(&[], Some(found)).unwrap());
        assert!(reg.list(1, None).is_empty());
        FOUND.lock().unwrap().push(Found {
            id: drive.clone(),
            disk: None,
        });
        let listed = reg.list(1, None);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].current_profiles, [0x1B]);
        let held = reg.claim(&drive, 1, None).unwrap();
        FOUND.lock().unwrap().clear();
        assert_eq!(reg.list(2, None).len(), 1, "a held drive stays listed");
        assert!(reg.list(2, None)[0].in_use);
        drop(held);
        assert!(reg.list(2, None).is_empty(), "gone once free");
        assert_eq!(
            reg.claim(&drive, 2, None).unwrap_err(),
            HResult::E_INVALIDARG
        );
    }

    static DISKS: Mutex<Vec<Found>> = Mutex::new(Vec::new());

    fn disks() -> Vec<Found> {
        DISKS.lock().unwrap().clone()
    }

    fn stick(id: &str, identity: &str) -> Found {
        Found {
            id: id.to_owned(),
            disk: Some(webburn_engine::devices::FoundDisk {
                block: "sdb".into(),
                identity: identity.into(),
            }),
        }
    }

    const SITE: &str = "https://site.example";

    #[test]
    fn a_found_disk_is_written_only_by_the_origin_the_person_approved() {
        let dir = tempfile::tempdir().unwrap();
        let id = format!(
            "emulated:{},profile=disk,capacity=2MiB",
            dir.path().join("stick.img").display()
        );
        Recorder::open(&id).unwrap();
        *DISKS.lock().unwrap() = vec![stick(&id, "usb2/2-1 host4")];
        let reg = Arc::new(Registry::open(&[], Some(disks)).unwrap());
        let listed = reg.list(1, Some(SITE));
        assert_eq!(listed[0].approval, Some(Approval::Needed));
        assert_eq!(listed[0].size_bytes, Some(2 << 20));
        assert_eq!(
            reg.list(1, None)[0].approval,
            Some(Approval::Approved),
            "the own page"
        );
        assert_eq!(
            reg.claim(&id, 1, Some(SITE)).unwrap_err(),
            HResult::E_ACCESSDENIED
        );
        let code = reg.request_device(&id, SITE).unwrap();
        let waiting = reg.device_requests();
        assert_eq!(waiting[0].device, "WEBBURN EMULATED DISK 2 MB (sdb)");
        assert_eq!(reg.list(1, Some(SITE))[0].approval, Some(Approval::Asked));
        assert_eq!(
            reg.claim(&id, 1, Some(SITE)).unwrap_err(),
            HResult::E_ACCESSDENIED,
            "still waiting"
        );
        assert_eq!(reg.approve_device(&code, false).unwrap().origin, SITE);
        assert_eq!(
            reg.list(1, Some(SITE))[0].approval,
            Some(Approval::Approved)
        );
        drop(reg.claim(&id, 1, Some(SITE)).unwrap());
        assert_eq!(
            reg.claim(&id, 1, Some("https://other.example"))
                .unwrap_err(),
            HResult::E_ACCESSDENIED
        );
        // Another stick at the same node (plugged in again): asked afresh.
        *DISKS.lock().unwrap() = vec![stick(&id, "usb2/2-1 host5")];
        assert_eq!(
            reg.claim(&id, 1, Some(SITE)).unwrap_err(),
            HResult::E_ACCESSDENIED
        );
        assert_eq!(reg.list(1, Some(SITE))[0].approval, Some(Approval::Needed));
        // Gone: nothing to ask for.
        DISKS.lock().unwrap().clear();
        assert!(reg.list(1, Some(SITE)).is_empty());
        assert!(matches!(
            reg.request_device(&id, SITE),
            Err(RequestError::NotAsked(_))
        ));
    }

    #[test]
    fn a_configured_recorder_asks_with_the_ask_option_and_others_never() {
        let dir = tempfile::tempdir().unwrap();
        let plain = format!(
            "emulated:{},profile=dvd+r",
            dir.path().join("d.img").display()
        );
        let asks = format!(
            "emulated:{},profile=disk,capacity=1MiB{ASK_OPTION}",
            dir.path().join("s.img").display()
        );
        let reg = Arc::new(Registry::open(&[plain, asks], None).unwrap());
        let listed = reg.list(1, Some(SITE));
        assert_eq!(listed[0].approval, None);
        assert_eq!(listed[1].approval, Some(Approval::Needed));
        assert!(!listed[1].id.ends_with(ASK_OPTION), "{}", listed[1].id);
        assert!(reg.claim(&listed[0].id, 1, Some(SITE)).is_ok());
        assert!(matches!(
            reg.request_device(&listed[0].id, SITE),
            Err(RequestError::NotAsked(_))
        ));
        assert_eq!(
            reg.claim(&listed[1].id, 1, Some(SITE)).unwrap_err(),
            HResult::E_ACCESSDENIED
        );
    }

    #[test]
    fn a_windows_physical_drive_asks_unless_told_not_to() {
        assert_eq!(
            asks(r"spti:\\.\PhysicalDrive1"),
            (r"spti:\\.\PhysicalDrive1", true)
        );
        assert_eq!(
            asks("spti:PhysicalDrive2,noask"),
            ("spti:PhysicalDrive2", false)
        );
        assert_eq!(asks("spti:D:"), ("spti:D:", false), "an optical drive");
        assert_eq!(asks("sg:/dev/sg1,ask"), ("sg:/dev/sg1", true));
        assert_eq!(asks("sg:/dev/sg1"), ("sg:/dev/sg1", false));
    }
}
