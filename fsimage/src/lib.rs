//! IMAPI2FS for webburn: a file system image (ISO 9660 with Rock Ridge,
//! Joliet, UDF 1.02; by default all three, a "bridge" disc every system
//! reads) built from files and folders, laid out from their names and sizes
//! alone, then produced in one forward stream that reads each file's bytes
//! only when they are reached.
//!
//! ```
//! use webburn_fsimage::{FileItem, FileSystemImage};
//! let mut image = FileSystemImage::new(1_700_000_000);
//! image.set_volume_name("Photos");
//! image.root().add_file("2024/beach.jpg", FileItem { size: 5, mtime: 0, source: b"hello" })?;
//! let result = image.create_result_image()?;
//! let mut iso = Vec::new();
//! std::io::copy(&mut result.reader(|s: &&[u8; 5]| Ok(Box::new(&s[..]) as Box<dyn std::io::Read + Send>)), &mut iso)?;
//! assert_eq!(iso.len() as u64, result.total_blocks() * 2048);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod import;
mod iso9660;
mod layout;
mod names;
mod reader;
mod stream;
mod time;
mod tree;
mod tree_fs;
mod udf;

pub use import::{ImportError, ReadSectors, RecordedItem, RecordedSession, import_session};
pub use reader::ImageReader;
pub use stream::Piece;
pub use tree::{DirectoryItem, FileItem, Node, RecordedFile};
pub use tree_fs::mtime;
use webburn_shared::HResult;

/// The file systems an image holds (IMAPI2FS's FsiFileSystems: ISO 9660 1,
/// Joliet 2, UDF 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSystems(pub u32);

impl FileSystems {
    /// ISO 9660 (with Rock Ridge).
    pub const ISO9660: u32 = 1;
    /// Joliet.
    pub const JOLIET: u32 = 2;
    /// UDF 1.02.
    pub const UDF: u32 = 4;
    /// All three: the bridge disc Windows, macOS and Linux all read.
    pub const ALL: FileSystems = FileSystems(7);

    /// ISO 9660 is recorded.
    pub fn iso9660(self) -> bool {
        self.0 & Self::ISO9660 != 0
    }

    /// Joliet is recorded (it needs ISO 9660).
    pub fn joliet(self) -> bool {
        self.0 & Self::JOLIET != 0 && self.iso9660()
    }

    /// UDF is recorded.
    pub fn udf(self) -> bool {
        self.0 & Self::UDF != 0
    }
}

/// Why an image cannot be built as asked, with its IMAPI2FS HRESULT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FsError {
    /// A path that names nothing, or with `.`/`..`, `/` or NUL in a name.
    InvalidPath(String),
    /// A name no chosen file system can record.
    RestrictedName {
        /// The name.
        name: String,
        /// Why.
        why: String,
    },
    /// An item of that name is there already.
    DuplicateName(String),
    /// No such item.
    NotFound(String),
    /// A path goes through a file as if it were a folder.
    NotDirectory(String),
    /// A setting out of range.
    InvalidParam(String),
    /// More folders than ISO 9660's path table can number (65,535).
    TooManyDirectories,
    /// A file larger than UDF's file entry can describe (about 234 GiB).
    DataTooBig(String),
    /// A folder or file of the source could not be read.
    Unreadable(String),
    /// The image is larger than the medium (or than 2^32 sectors).
    ImageTooLarge {
        /// Sectors the image needs.
        sectors: u64,
        /// Sectors there are.
        limit: u64,
    },
}

impl FsError {
    /// The HRESULT IMAPI2FS answers with.
    pub fn hresult(&self) -> HResult {
        match self {
            FsError::InvalidPath(_) => HResult::IMAPI_E_INVALID_PATH,
            FsError::RestrictedName { .. } => HResult::IMAPI_E_RESTRICTED_NAME_VIOLATION,
            FsError::DuplicateName(_) => HResult::IMAPI_E_DUP_NAME,
            FsError::NotFound(_) => HResult::IMAPI_E_ITEM_NOT_FOUND,
            FsError::NotDirectory(_) => HResult::IMAPI_E_NOT_DIR,
            FsError::InvalidParam(_) => HResult::IMAPI_E_INVALID_PARAM,
            FsError::TooManyDirectories => HResult::IMAPI_E_TOO_MANY_DIRS,
            FsError::DataTooBig(_) => HResult::IMAPI_E_DATA_TOO_BIG,
            FsError::Unreadable(_) => HResult::IMAPI_E_DIRECTORY_READ_FAILURE,
            FsError::ImageTooLarge { .. } => HResult::IMAPI_E_IMAGE_SIZE_LIMIT,
        }
    }
}

impl std::fmt::Display for FsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FsError::InvalidPath(p) => write!(f, "invalid path: {p}"),
            FsError::RestrictedName { name, why } => write!(f, "{name:?}: {why}"),
            FsError::DuplicateName(p) => write!(f, "{p} is there already"),
            FsError::NotFound(p) => write!(f, "{p} is not in the image"),
            FsError::NotDirectory(p) => write!(f, "{p} is a file, not a folder"),
            FsError::InvalidParam(w) => f.write_str(w),
            FsError::TooManyDirectories => {
                f.write_str("more than 65,535 folders: ISO 9660 cannot number them")
            }
            FsError::DataTooBig(p) => write!(f, "{p} is larger than UDF can describe"),
            FsError::Unreadable(w) => write!(f, "cannot read {w}"),
            FsError::ImageTooLarge { sectors, limit } => write!(
                f,
                "the image needs {sectors} sectors of 2048 bytes but there are {limit}"
            ),
        }
    }
}

impl std::error::Error for FsError {}

/// The Joliet names of one folder's entries (name, is a folder), given in
/// name order: illegal characters as `_`, at most 64 UTF-16 units (a longer
/// name keeps its extension and gets `~` and four hex digits of a hash),
/// and names equal but for ASCII case told apart with `~N`, as Windows
/// compares them.
pub fn joliet_names(entries: &[(&str, bool)]) -> Vec<String> {
    names::joliet_names(entries)
        .iter()
        .map(|n| String::from_utf16_lossy(n))
        .collect()
}

/// IFileSystemImage: the files and folders, the volume name, the file
/// systems to create and the room on the medium.
#[derive(Debug, Clone)]
pub struct FileSystemImage<S> {
    volume_name: String,
    systems: FileSystems,
    free_media_blocks: Option<u64>,
    created: i64,
    root: DirectoryItem<S>,
    /// Where the image is written: 0, or the next session of a disc.
    session_start: u32,
}

impl<S> FileSystemImage<S> {
    /// An empty image made at `created` (Unix seconds): all three file
    /// systems, no size limit, the volume named after the date.
    pub fn new(created: i64) -> Self {
        let c = time::Civil::from_unix(created);
        FileSystemImage {
            volume_name: format!("{:04}-{:02}-{:02}", c.year, c.month, c.day),
            systems: FileSystems::ALL,
            free_media_blocks: None,
            created,
            root: DirectoryItem::new(created),
            session_start: 0,
        }
    }

    /// The sector the image is written from (IMAPI's NextWritableAddress
    /// of the MultisessionInterfaces): 0 for a blank disc.
    pub fn session_start(&self) -> u32 {
        self.session_start
    }

    /// ImportFileSystem: the tree of `previous` (a session on the disc) is
    /// added to this image, its files left where they are, and the image
    /// will be written at `next_writable`, the disc's next writable
    /// address; the new session then holds the old files and the new ones.
    /// A later session records ISO 9660 with Rock Ridge and Joliet (not
    /// UDF); the volume takes the previous session's name (set another
    /// after). Returns the number of items imported; a name the image holds
    /// already is IMAPI_E_DUP_NAME.
    pub fn import_session(
        &mut self,
        previous: &RecordedSession,
        next_writable: u32,
    ) -> Result<usize, FsError> {
        if next_writable == 0 {
            return Err(FsError::InvalidParam(
                "a session is added after the previous one, not at sector 0".into(),
            ));
        }
        for item in &previous.items {
            if item.dir {
                self.root.add_directory(&item.path, item.mtime)?;
            } else {
                let file = RecordedFile {
                    size: item.size,
                    mtime: item.mtime,
                    lba: item.lba,
                };
                self.root.add_recorded(&item.path, file)?;
            }
        }
        self.session_start = next_writable;
        if !previous.volume_name.is_empty() {
            // A name read from a disc may be longer than one this image takes.
            let _ = self.set_volume_name(&previous.volume_name);
        }
        self.systems = FileSystems(self.systems.0 & !FileSystems::UDF | FileSystems::ISO9660);
        Ok(previous.items.len())
    }

    /// VolumeName.
    pub fn volume_name(&self) -> &str {
        &self.volume_name
    }

    /// Sets VolumeName (at most 32 characters: ISO 9660's field; Joliet
    /// keeps 16 and UDF 30 of them, as Windows does).
    pub fn set_volume_name(&mut self, name: &str) -> Result<(), FsError> {
        if name.chars().count() > 32 || name.chars().any(char::is_control) {
            return Err(FsError::InvalidParam(format!(
                "volume name {name:?}: at most 32 printable characters"
            )));
        }
        name.clone_into(&mut self.volume_name);
        Ok(())
    }

    /// FileSystemsToCreate.
    pub fn file_systems(&self) -> FileSystems {
        self.systems
    }

    /// Sets FileSystemsToCreate (a combination of ISO9660, JOLIET, UDF).
    pub fn set_file_systems(&mut self, systems: FileSystems) -> Result<(), FsError> {
        if systems.0 & !7 != 0 || !(systems.iso9660() || systems.udf()) {
            return Err(FsError::InvalidParam(format!(
                "FileSystemsToCreate {}: a combination of 1 (ISO 9660), 2 (Joliet) and 4 (UDF) with 1 or 4",
                systems.0
            )));
        }
        self.systems = systems;
        Ok(())
    }

    /// FreeMediaBlocks (`None`: no limit).
    pub fn free_media_blocks(&self) -> Option<u64> {
        self.free_media_blocks
    }

    /// Sets FreeMediaBlocks, as ChooseImageDefaults does from a recorder's
    /// free sectors.
    pub fn set_free_media_blocks(&mut self, blocks: Option<u64>) {
        self.free_media_blocks = blocks;
    }

    /// Root: the top folder.
    pub fn root(&mut self) -> &mut DirectoryItem<S> {
        &mut self.root
    }

    /// The top folder, to read.
    pub fn root_ref(&self) -> &DirectoryItem<S> {
        &self.root
    }

    /// CreateResultImage: lays the image out. Refuses (IMAPI_E_IMAGE_SIZE_LIMIT)
    /// an image larger than FreeMediaBlocks before anything is read or written.
    pub fn create_result_image(&self) -> Result<ResultImage<'_, S>, FsError> {
        let plan = layout::Plan::new(&self.root, self.systems, self.session_start)?;
        if let Some(limit) = self.free_media_blocks
            && plan.total_sectors > limit
        {
            return Err(FsError::ImageTooLarge {
                sectors: plan.total_sectors,
                limit,
            });
        }
        Ok(ResultImage {
            plan,
            volume: stream::Volume {
                name: self.volume_name.clone(),
                created: self.created,
            },
        })
    }
}

/// IFileSystemImageResult: the laid-out image.
#[derive(Debug)]
pub struct ResultImage<'a, S> {
    plan: layout::Plan<'a, S>,
    volume: stream::Volume,
}

impl<'a, S> ResultImage<'a, S> {
    /// TotalBlocks.
    pub fn total_blocks(&self) -> u64 {
        self.plan.total_sectors
    }

    /// BlockSize: 2048.
    pub fn block_size(&self) -> u32 {
        2048
    }

    /// Bytes of the image.
    pub fn total_bytes(&self) -> u64 {
        self.plan.total_sectors * 2048
    }

    /// Files the image records, in the order their data is streamed
    /// (not those of previous sessions).
    pub fn files(&self) -> impl Iterator<Item = (&str, &'a FileItem<S>)> {
        self.plan
            .files
            .iter()
            .filter_map(|f| Some((f.names.name.as_str(), f.item?)))
    }

    /// The sector the image is written from.
    pub fn session_start(&self) -> u32 {
        self.plan.base
    }

    /// ImageStream, as pieces: metadata bytes and references to the files' data.
    pub fn pieces(&self) -> stream::Pieces<'_, 'a, S> {
        stream::Pieces::new(&self.plan, &self.volume)
    }

    /// ImageStream as a reader: `open` gives each file's bytes when they
    /// are reached; a file shorter or longer than it was when added ends the
    /// stream with an error carrying IMAPI_E_DATA_STREAM_INCONSISTENCY (one
    /// that cannot be read, IMAPI_E_DATA_STREAM_READ_FAILURE): see
    /// [`webburn_shared::Failure::of`].
    pub fn reader<F>(&self, open: F) -> ImageReader<'_, 'a, S, F>
    where
        F: FnMut(&S) -> std::io::Result<Box<dyn std::io::Read + Send>>,
    {
        ImageReader::new(self.pieces(), open)
    }
}
