//! What the helper is doing right now, for the tray: every drive of every
//! running write with its step and progress. Sessions report into it; the
//! tray reads snapshots.

use std::collections::BTreeMap;
use std::sync::Mutex;

use webburn_shared::{DataEventArgs, WriteAction, WriteEngineEventArgs};

use super::registry::SessionId;

/// What a drive is busy with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Job {
    /// A write (`startWrite`).
    #[default]
    Write,
    /// Erasing a disc (`eraseDisc`).
    Erase,
    /// Reading which files a disc holds for a page (`readSession`).
    Read,
}

/// One drive's part of a running write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriveActivity {
    /// The recorder id.
    pub recorder: String,
    /// 0..=100, of the read-back while verifying.
    pub percent: u8,
    /// The disc flow's step, for a `disc` write.
    pub action: Option<WriteAction>,
    /// What it does.
    pub job: Job,
}

impl DriveActivity {
    /// The activity an Update event describes.
    pub fn from_event(
        recorder: String,
        args: &WriteEngineEventArgs,
        data: Option<&DataEventArgs>,
    ) -> Self {
        let action = data.map(|d| d.current_action);
        let fraction = match data {
            Some(d) if d.current_action == WriteAction::Verifying && args.sector_count > 0 => {
                let done = i64::from(d.last_verified_lba) - i64::from(args.start_lba) + 1;
                (done as f64 / f64::from(args.sector_count)).clamp(0.0, 1.0)
            }
            _ => args.progress(),
        };
        DriveActivity {
            recorder,
            percent: (fraction * 100.0).floor() as u8,
            action,
            job: Job::Write,
        }
    }

    /// A page reading which files the disc in `recorder` holds.
    pub fn reading(recorder: String) -> Self {
        DriveActivity {
            recorder,
            percent: 0,
            action: None,
            job: Job::Read,
        }
    }

    /// An erase that has run `elapsed` of about `total` seconds (0: unknown).
    pub fn erasing(recorder: String, elapsed: u32, total: u32) -> Self {
        let percent = if total > 0 {
            (u64::from(elapsed) * 100 / u64::from(total)).min(100) as u8
        } else {
            0
        };
        DriveActivity {
            recorder,
            percent,
            action: None,
            job: Job::Erase,
        }
    }
}

/// Key of one drive of one write: (session, write id, target).
type Key = (SessionId, u32, u32);

/// The running writes of the whole helper.
#[derive(Debug)]
pub struct Activity {
    drives: Mutex<BTreeMap<Key, DriveActivity>>,
    changed: tokio::sync::watch::Sender<u64>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            drives: Mutex::default(),
            changed: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl Activity {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Key, DriveActivity>> {
        self.drives
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Wakes on every change (what the tray shows follows the drives).
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn signal_change(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A drive of a write made progress.
    pub fn update(&self, session: SessionId, write: u32, target: u32, now: DriveActivity) {
        self.lock().insert((session, write, target), now);
        self.signal_change();
    }

    /// A drive of a write ended.
    pub fn finish(&self, session: SessionId, write: u32, target: u32) {
        self.lock().remove(&(session, write, target));
        self.signal_change();
    }

    /// Everything a session was doing ended with it.
    pub fn forget_session(&self, session: SessionId) {
        self.lock().retain(|k, _| k.0 != session);
        self.signal_change();
    }

    /// The drives busy now, in the order their writes started.
    pub fn snapshot(&self) -> Vec<DriveActivity> {
        self.lock().values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drives_come_and_go_and_verify_progress_counts_the_read_back() {
        let a = Activity::default();
        let args = WriteEngineEventArgs {
            start_lba: 0,
            sector_count: 200,
            last_written_lba: 83,
            ..Default::default()
        };
        a.update(1, 7, 0, DriveActivity::from_event("r0".into(), &args, None));
        let verifying = DataEventArgs {
            current_action: WriteAction::Verifying,
            last_verified_lba: 149,
            ..Default::default()
        };
        let v = DriveActivity::from_event("r1".into(), &args, Some(&verifying));
        assert_eq!((v.percent, v.action), (75, Some(WriteAction::Verifying)));
        a.update(1, 7, 1, v);
        a.update(2, 1, 0, DriveActivity::from_event("r2".into(), &args, None));
        let now = a.snapshot();
        assert_eq!(now.len(), 3);
        assert_eq!(now[0].percent, 42);
        a.finish(1, 7, 0);
        a.forget_session(2);
        let left: Vec<String> = a.snapshot().into_iter().map(|d| d.recorder).collect();
        assert_eq!(left, ["r1"]);
        // An erase: its part of the drive's estimate, 0 while there is none.
        let e = DriveActivity::erasing("rw".into(), 30, 120);
        assert_eq!((e.percent, e.job, e.action), (25, Job::Erase, None));
        assert_eq!(DriveActivity::erasing("rw".into(), 30, 0).percent, 0);
        assert_eq!(DriveActivity::erasing("rw".into(), 200, 120).percent, 100);
    }
}
