//! The files and folders of an image, as IMAPI2FS's FsiDirectoryItem and
//! FsiFileItem hold them: names (Unicode, NFC), sizes, modification times and
//! the caller's handle to each file's bytes. No data is held here.

use unicode_normalization::UnicodeNormalization;

use crate::FsError;

/// A file: its size, its modification time and where its bytes come from.
#[derive(Debug, Clone)]
pub struct FileItem<S> {
    /// Bytes in the file.
    pub size: u64,
    /// Modification time, seconds since 1970-01-01 UTC.
    pub mtime: i64,
    /// The caller's handle to the bytes (a path, a Blob, ...).
    pub source: S,
}

/// A file already recorded on the disc, in a session this image adds to
/// (imported): the new session's trees point at its data where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedFile {
    /// Bytes in the file.
    pub size: u64,
    /// Modification time, seconds since 1970-01-01 UTC.
    pub mtime: i64,
    /// Where its data starts on the disc (contiguous from there).
    pub lba: u32,
}

/// A folder: its entries, sorted by name.
#[derive(Debug, Clone)]
pub struct DirectoryItem<S> {
    /// Modification time, seconds since 1970-01-01 UTC.
    pub mtime: i64,
    entries: Vec<(String, Node<S>)>,
}

/// One entry of a folder.
#[derive(Debug, Clone)]
pub enum Node<S> {
    /// A file.
    File(FileItem<S>),
    /// A file of a previous session, left where it is.
    Recorded(RecordedFile),
    /// A folder.
    Directory(DirectoryItem<S>),
}

impl<S> Node<S> {
    /// Bytes of a file (0 for a folder).
    pub fn size(&self) -> u64 {
        match self {
            Node::File(f) => f.size,
            Node::Recorded(r) => r.size,
            Node::Directory(_) => 0,
        }
    }

    /// Modification time.
    pub fn mtime(&self) -> i64 {
        match self {
            Node::File(f) => f.mtime,
            Node::Recorded(r) => r.mtime,
            Node::Directory(d) => d.mtime,
        }
    }
}

/// The longest name UDF can record: 254 Latin-1 characters, or 127 UTF-16
/// code units when a character lies beyond U+00FF (OSTA CS0, 255 bytes with
/// the compression byte; UDF 1.02 2.1.1).
pub(crate) fn udf_name_fits(name: &str) -> bool {
    if name.chars().all(|c| u32::from(c) <= 0xFF) {
        name.chars().count() <= 254
    } else {
        name.encode_utf16().count() <= 127
    }
}

/// Checks one name and brings it to Unicode NFC (how macOS and Windows
/// compare names), so "é" typed two ways is one name.
pub(crate) fn normalize_name(name: &str) -> Result<String, FsError> {
    let name: String = name.nfc().collect();
    if name.is_empty() || name == "." || name == ".." {
        return Err(FsError::InvalidPath(format!("{name:?} is not a file name")));
    }
    if name.contains(['/', '\0']) {
        return Err(FsError::InvalidPath(format!(
            "{name:?} contains '/' or NUL"
        )));
    }
    if !udf_name_fits(&name) {
        return Err(FsError::RestrictedName {
            name,
            why: "longer than UDF allows (254 Latin-1 characters, or 127 UTF-16 units)".into(),
        });
    }
    Ok(name)
}

/// Splits `a/b/c` into checked, normalized names.
fn components(path: &str) -> Result<Vec<String>, FsError> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Err(FsError::InvalidPath(format!("{path:?} names no item")));
    }
    parts.into_iter().map(normalize_name).collect()
}

impl<S> DirectoryItem<S> {
    /// An empty folder.
    pub fn new(mtime: i64) -> Self {
        DirectoryItem {
            mtime,
            entries: Vec::new(),
        }
    }

    /// The entries, sorted by name.
    pub fn entries(&self) -> &[(String, Node<S>)] {
        &self.entries
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(n, _)| n.as_str().cmp(name))
    }

    /// The folder `path` below this one, created (with `mtime`) where missing.
    fn folder(&mut self, names: &[String], mtime: i64) -> Result<&mut DirectoryItem<S>, FsError> {
        let mut dir = self;
        for name in names {
            let at = match dir.find(name) {
                Ok(i) => i,
                Err(i) => {
                    dir.entries.insert(
                        i,
                        (name.clone(), Node::Directory(DirectoryItem::new(mtime))),
                    );
                    i
                }
            };
            dir = match &mut dir.entries[at].1 {
                Node::Directory(d) => d,
                _ => return Err(FsError::NotDirectory(name.clone())),
            };
        }
        Ok(dir)
    }

    /// The folder at `path` below this one ("" for this one), if there is one.
    pub fn find_folder(&self, path: &str) -> Option<&DirectoryItem<S>> {
        let mut dir = self;
        for name in path.split('/').filter(|p| !p.is_empty()) {
            let at = dir.find(name).ok()?;
            dir = match &dir.entries[at].1 {
                Node::Directory(d) => d,
                _ => return None,
            };
        }
        Some(dir)
    }

    /// AddDirectory: the folder `path` (and its parents), if not there yet.
    pub fn add_directory(&mut self, path: &str, mtime: i64) -> Result<(), FsError> {
        let names = components(path)?;
        self.folder(&names, mtime).map(|_| ())
    }

    /// AddFile: the file `path` (its folders created as needed). A name that
    /// is taken is IMAPI_E_DUP_NAME.
    pub fn add_file(&mut self, path: &str, file: FileItem<S>) -> Result<(), FsError> {
        self.insert(path, Node::File(file))
    }

    /// A file of a previous session at `path` (see [`RecordedFile`]).
    pub fn add_recorded(&mut self, path: &str, file: RecordedFile) -> Result<(), FsError> {
        self.insert(path, Node::Recorded(file))
    }

    fn insert(&mut self, path: &str, node: Node<S>) -> Result<(), FsError> {
        let mut names = components(path)?;
        let Some(name) = names.pop() else {
            return Err(FsError::InvalidPath(path.to_owned()));
        };
        let dir = self.folder(&names, node.mtime())?;
        match dir.find(&name) {
            Ok(_) => Err(FsError::DuplicateName(path.to_owned())),
            Err(i) => {
                dir.entries.insert(i, (name, node));
                Ok(())
            }
        }
    }

    /// Remove: the file or folder (with everything in it) at `path`.
    pub fn remove(&mut self, path: &str) -> Result<Node<S>, FsError> {
        let mut names = components(path)?;
        let Some(name) = names.pop() else {
            return Err(FsError::InvalidPath(path.to_owned()));
        };
        let mut dir = self;
        for n in &names {
            let at = dir
                .find(n)
                .map_err(|_| FsError::NotFound(path.to_owned()))?;
            dir = match &mut dir.entries[at].1 {
                Node::Directory(d) => d,
                _ => return Err(FsError::NotDirectory(n.clone())),
            };
        }
        let at = dir
            .find(&name)
            .map_err(|_| FsError::NotFound(path.to_owned()))?;
        Ok(dir.entries.remove(at).1)
    }

    /// Files and folders below this one, all levels.
    pub fn counts(&self) -> (u64, u64) {
        let (mut files, mut dirs) = (0, 0);
        for (_, n) in &self.entries {
            match n {
                Node::File(_) | Node::Recorded(_) => files += 1,
                Node::Directory(d) => {
                    let (f, s) = d.counts();
                    files += f;
                    dirs += 1 + s;
                }
            }
        }
        (files, dirs)
    }

    /// Bytes of all the files below this one that the image records
    /// (not those of previous sessions).
    pub fn data_bytes(&self) -> u64 {
        self.entries
            .iter()
            .map(|(_, n)| match n {
                Node::File(f) => f.size,
                Node::Recorded(_) => 0,
                Node::Directory(d) => d.data_bytes(),
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(size: u64) -> FileItem<()> {
        FileItem {
            size,
            mtime: 0,
            source: (),
        }
    }

    #[test]
    fn paths_build_folders_and_names_are_checked() {
        let mut root = DirectoryItem::new(0);
        root.add_file("photos/2024/a.jpg", file(3)).unwrap();
        root.add_file("photos/b.jpg", file(4)).unwrap();
        root.add_directory("empty", 0).unwrap();
        assert_eq!(root.counts(), (2, 3));
        assert_eq!(root.data_bytes(), 7);
        assert!(matches!(
            root.add_file("photos/b.jpg", file(1)),
            Err(FsError::DuplicateName(_))
        ));
        assert!(matches!(
            root.add_file("photos/b.jpg/c", file(1)),
            Err(FsError::NotDirectory(_))
        ));
        for bad in ["", "/", "a/../b", "./x"] {
            assert!(root.add_file(bad, file(1)).is_err(), "{bad:?}");
        }
        assert!(matches!(
            root.add_file(&"x".repeat(255), file(1)),
            Err(FsError::RestrictedName { .. })
        ));
        root.add_file(&"x".repeat(254), file(1)).unwrap();
        // "é" as one code point and as e + combining acute: one name.
        root.add_file("caf\u{e9}.txt", file(1)).unwrap();
        assert!(matches!(
            root.add_file("cafe\u{301}.txt", file(1)),
            Err(FsError::DuplicateName(_))
        ));
        assert!(matches!(root.remove("photos"), Ok(Node::Directory(_))));
        assert_eq!(root.counts(), (2, 1));
        assert!(matches!(root.remove("photos"), Err(FsError::NotFound(_))));
    }
}
