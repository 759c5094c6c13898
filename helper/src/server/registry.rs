//! The recorders the helper offers, and which session holds which.
//!
//! Only recorders named in the configuration are offered: a client picks one
//! by id and can never make the helper open a path of its choosing. A session
//! claims a recorder with its first write and keeps it until it closes.

use std::sync::{Mutex, PoisonError};

use webburn_shared::HResult;
use webburn_shared::protocol::RecorderDescription;

use crate::devices::{DeviceError, Recorder, RecorderInfo};

/// A session's identity within the server.
pub type SessionId = u64;

#[derive(Debug)]
struct Entry {
    recorder: Recorder,
    holder: Option<SessionId>,
    /// The last description, shown while the recorder is busy.
    cached: Option<RecorderInfo>,
}

/// The offered recorders.
#[derive(Debug)]
pub struct Registry {
    entries: Mutex<Vec<Entry>>,
}

fn describe(info: &RecorderInfo, in_use: bool) -> RecorderDescription {
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
        in_use,
    }
}

impl Registry {
    /// Opens every recorder id (they stay open, and locked, while the helper runs).
    pub fn open(ids: &[String]) -> Result<Registry, (String, DeviceError)> {
        let mut entries = Vec::with_capacity(ids.len());
        for id in ids {
            let recorder = Recorder::open(id).map_err(|e| (id.clone(), e))?;
            let cached = recorder.describe().ok();
            entries.push(Entry {
                recorder,
                holder: None,
                cached,
            });
        }
        Ok(Registry {
            entries: Mutex::new(entries),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Describes every recorder, asking the free ones afresh (blocking SCSI I/O).
    /// A recorder a session holds is shown from its last description: asking
    /// it now could get in the way of that session's write.
    pub fn list(&self, asker: SessionId) -> Vec<RecorderDescription> {
        let snapshot: Vec<(Recorder, Option<SessionId>)> = self
            .lock()
            .iter()
            .map(|e| (e.recorder.clone(), e.holder))
            .collect();
        let mut out = Vec::with_capacity(snapshot.len());
        for (i, (recorder, holder)) in snapshot.into_iter().enumerate() {
            let fresh = if holder.is_none() {
                recorder.describe().ok()
            } else {
                None
            };
            let mut entries = self.lock();
            let Some(entry) = entries.get_mut(i) else {
                break;
            };
            if fresh.is_some() {
                entry.cached.clone_from(&fresh);
            }
            let in_use = holder.is_some_and(|h| h != asker);
            if let Some(info) = fresh.as_ref().or(entry.cached.as_ref()) {
                out.push(describe(info, in_use));
            }
        }
        out
    }

    /// The last description of recorder `id`, if it was ever described.
    pub fn cached(&self, id: &str) -> Option<RecorderInfo> {
        self.lock()
            .iter()
            .find(|e| e.recorder.id() == id)
            .and_then(|e| e.cached.clone())
    }

    /// Gives `id` to `session`: E_INVALIDARG if not offered, E_IMAPI_RECORDER_LOCKED
    /// if another session holds it.
    pub fn claim(&self, id: &str, session: SessionId) -> Result<Recorder, HResult> {
        let mut entries = self.lock();
        let entry = entries
            .iter_mut()
            .find(|e| e.recorder.id() == id)
            .ok_or(HResult::E_INVALIDARG)?;
        match entry.holder {
            Some(h) if h != session => Err(HResult::E_IMAPI_RECORDER_LOCKED),
            _ => {
                entry.holder = Some(session);
                Ok(entry.recorder.clone())
            }
        }
    }

    /// Frees every recorder `session` holds.
    pub fn release(&self, session: SessionId) {
        for e in self.lock().iter_mut().filter(|e| e.holder == Some(session)) {
            e.holder = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_exclusive_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let id = format!("emulated:{}", dir.path().join("r.img").display());
        let reg = Registry::open(std::slice::from_ref(&id)).unwrap();
        assert_eq!(reg.list(1).len(), 1);
        assert!(reg.claim(&id, 1).is_ok());
        assert!(reg.claim(&id, 1).is_ok(), "the holder may claim again");
        assert_eq!(
            reg.claim(&id, 2).unwrap_err(),
            HResult::E_IMAPI_RECORDER_LOCKED
        );
        assert!(reg.list(2)[0].in_use);
        assert!(!reg.list(1)[0].in_use);
        reg.release(1);
        assert!(reg.claim(&id, 2).is_ok());
        let elsewhere = format!("emulated:{}", dir.path().join("other.img").display());
        assert_eq!(reg.claim(&elsewhere, 2).unwrap_err(), HResult::E_INVALIDARG);
    }
}
