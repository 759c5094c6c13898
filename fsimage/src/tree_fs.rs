//! AddTree: a folder of this machine's file system, all levels, into an
//! image (the CLI's `image` and `burn --files`). Symbolic links are followed,
//! as a burner copies what they point at; other special files are skipped.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::FsError;
use crate::tree::{DirectoryItem, FileItem};

/// Modification time of `meta` in Unix seconds (0 when unknown).
pub fn mtime(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

fn unreadable(path: &Path, e: &std::io::Error) -> FsError {
    FsError::Unreadable(format!("{}: {e}", path.display()))
}

impl DirectoryItem<PathBuf> {
    /// Adds the contents of `source` below `at` (an image path; "" for here).
    pub fn add_tree(&mut self, source: &Path, at: &str) -> Result<(), FsError> {
        let mut entries: Vec<_> = std::fs::read_dir(source)
            .map_err(|e| unreadable(source, &e))?
            .collect::<Result<_, _>>()
            .map_err(|e| unreadable(source, &e))?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                return Err(FsError::RestrictedName {
                    name: path.display().to_string(),
                    why: "not a UTF-8 name".into(),
                });
            };
            let inside = if at.is_empty() {
                name
            } else {
                format!("{at}/{name}")
            };
            let meta = std::fs::metadata(&path).map_err(|e| unreadable(&path, &e))?;
            if meta.is_dir() {
                self.add_directory(&inside, mtime(&meta))?;
                self.add_tree(&path, &inside)?;
            } else if meta.is_file() {
                let item = FileItem {
                    size: meta.len(),
                    mtime: mtime(&meta),
                    source: path,
                };
                self.add_file(&inside, item)?;
            }
        }
        Ok(())
    }
}
