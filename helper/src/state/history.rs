//! The kiosk's record of discs done: counters for every disc since the
//! station was set up and the most recent discs, kept in
//! `DATA_DIR/kiosk-history.json` (rewritten whole, through a temporary file,
//! after each disc; so a crash leaves the old or the new file, never half).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The file name in the data directory.
pub const FILE_NAME: &str = "kiosk-history.json";

/// One disc (one drive's part of one burn).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscRecord {
    /// When it ended, milliseconds since 1970 (UTC).
    pub time_ms: u64,
    /// The recorder id.
    pub recorder: String,
    /// Bytes of the section.
    pub bytes: u64,
    /// It succeeded.
    pub ok: bool,
    /// The HRESULT's name.
    pub result: String,
    /// What went wrong, when it failed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// SHA-256 of the data, for a disc burn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The read-back compared equal.
    #[serde(default)]
    pub verified: bool,
}

impl DiscRecord {
    /// The current time as [`DiscRecord::time_ms`] counts it.
    pub fn now_ms() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// What the history file holds and `/v1/history` answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryView {
    /// Discs burned successfully, ever.
    pub ok: u64,
    /// Discs that failed, ever.
    pub failed: u64,
    /// The most recent discs, newest first.
    pub recent: Vec<DiscRecord>,
}

/// The history of one data directory.
#[derive(Debug)]
pub struct History {
    path: PathBuf,
    keep: usize,
    /// Serializes read-modify-write of the file.
    lock: Mutex<()>,
}

impl History {
    /// The history in `data_dir`, keeping the last `keep` discs.
    pub fn new(data_dir: &Path, keep: usize) -> Self {
        History {
            path: data_dir.join(FILE_NAME),
            keep: keep.max(1),
            lock: Mutex::new(()),
        }
    }

    fn load(&self) -> HistoryView {
        std::fs::read(&self.path)
            .ok()
            .and_then(|b| match serde_json::from_slice(&b) {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::warn!(file = %self.path.display(), "history unreadable, starting anew: {e}");
                    None
                }
            })
            .unwrap_or_default()
    }

    /// The counters and the recent discs.
    pub fn view(&self) -> HistoryView {
        let _guard = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.load()
    }

    /// Adds a disc and saves the file.
    pub fn record(&self, disc: DiscRecord) -> std::io::Result<HistoryView> {
        let _guard = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut view = self.load();
        if disc.ok {
            view.ok += 1;
        } else {
            view.failed += 1;
        }
        view.recent.insert(0, disc);
        view.recent.truncate(self.keep);
        let text = serde_json::to_vec_pretty(&view).map_err(std::io::Error::other)?;
        super::private::replace(&self.path, &text)?;
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disc(ok: bool, n: u64) -> DiscRecord {
        DiscRecord {
            time_ms: n,
            recorder: format!("emulated:/r{n}"),
            bytes: 2048 * n,
            ok,
            result: if ok { "S_OK" } else { "E_FAIL" }.into(),
            detail: String::new(),
            sha256: None,
            verified: ok,
        }
    }

    #[test]
    fn counts_every_disc_keeps_the_newest_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::new(dir.path(), 3);
        assert_eq!(h.view(), HistoryView::default());
        for n in 1..=5 {
            h.record(disc(n != 4, n)).unwrap();
        }
        let again = History::new(dir.path(), 3).view();
        assert_eq!((again.ok, again.failed), (4, 1));
        let times: Vec<u64> = again.recent.iter().map(|d| d.time_ms).collect();
        assert_eq!(times, [5, 4, 3], "newest first, three kept");
        assert!(!dir.path().join("kiosk-history.json.tmp").exists());
    }

    #[test]
    fn a_damaged_file_starts_a_new_history() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), b"{not json").unwrap();
        let h = History::new(dir.path(), 10);
        assert_eq!(h.view(), HistoryView::default());
        let v = h.record(disc(true, 1)).unwrap();
        assert_eq!((v.ok, v.recent.len()), (1, 1));
    }
}
