//! IMAPI2FS's ImportFileSystem: the tree of a session already on a disc,
//! read through the caller's sector reader, so that the next session can
//! refer to its files instead of copying them (multisession, ECMA-119).
//!
//! Names come from Rock Ridge NM entries where the session has them (RRIP
//! 4.1.4, following CE continuation areas, SUSP 5.1), else from a Joliet
//! tree (UCS-2), else from the ISO 9660 identifiers without their version.
//! Times come from the directory records (ECMA-119 9.1.5).

pub use webburn_shared::disc::{RecordedItem, RecordedSession};

use crate::time::Civil;

/// Reads `count` sectors of 2048 bytes from `lba`.
pub type ReadSectors<'r> = dyn FnMut(u32, u32) -> Result<Vec<u8>, String> + 'r;

const SECTOR: usize = 2048;

/// What an import reads and keeps at most: a disc is data from outside,
/// and a damaged or hostile one must not make the helper loop, allocate
/// without bound or wrap an address. Past a limit the disc is refused
/// ([`ImportError::Inconsistent`]).
pub(crate) mod limits {
    /// Folders deeper than this are not followed (ECMA-119 allows 8
    /// levels; Rock Ridge discs go deeper, but not without end).
    pub(crate) const DEPTH: usize = 64;
    /// Items an import takes.
    pub(crate) const ITEMS: usize = 1 << 20;
    /// Bytes of folder records read in all.
    pub(crate) const DIR_BYTES: u32 = 64 << 20;
    /// Bytes of one name (RRIP NM, as POSIX NAME_MAX; Joliet allows 128).
    pub(crate) const NAME_BYTES: usize = 255;
    /// Bytes of one path (as POSIX PATH_MAX).
    pub(crate) const PATH_BYTES: usize = 4096;
    /// Bytes of all paths together (what the import hands back).
    pub(crate) const OUTPUT_BYTES: usize = 64 << 20;
    /// Continuation areas followed for one record (SUSP 5.1 allows a chain).
    pub(crate) const CONTINUATIONS: usize = 16;
}

/// Why a session could not be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// A sector could not be read (IMAPI_E_IMPORT_SEEK_FAILURE).
    Read(String),
    /// No ISO 9660 volume there, or one this reader cannot follow
    /// (IMAPI_E_NO_COMPATIBLE_MULTISESSION_TYPE).
    Incompatible(String),
    /// The volume breaks ECMA-119, SUSP or a limit of [`limits`]: a
    /// folder that contains itself, a continuation area past its sector, a
    /// name or path too long, addresses that overflow
    /// (IMAPI_E_FILE_SYSTEM_READ_CONSISTENCY_ERROR).
    Inconsistent(String),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::Read(w) => write!(f, "cannot read the previous session: {w}"),
            ImportError::Incompatible(w) => {
                write!(f, "the previous session cannot be added to: {w}")
            }
            ImportError::Inconsistent(w) => {
                write!(f, "the disc's file system is damaged: {w}")
            }
        }
    }
}

impl std::error::Error for ImportError {}

impl ImportError {
    /// The HRESULT IMAPI2FS answers with.
    pub fn hresult(&self) -> webburn_shared::HResult {
        match self {
            ImportError::Read(_) => webburn_shared::HResult::IMAPI_E_IMPORT_SEEK_FAILURE,
            ImportError::Incompatible(_) => {
                webburn_shared::HResult::IMAPI_E_NO_COMPATIBLE_MULTISESSION_TYPE
            }
            ImportError::Inconsistent(_) => {
                webburn_shared::HResult::IMAPI_E_FILE_SYSTEM_READ_CONSISTENCY_ERROR
            }
        }
    }
}

fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// One directory record, decoded.
#[derive(Debug, Clone)]
struct Record {
    extent: u32,
    size: u32,
    date: [u8; 7],
    dir: bool,
    more: bool,
    id: Vec<u8>,
    system_use: Vec<u8>,
}

impl Record {
    fn parse(b: &[u8]) -> Option<Record> {
        let len = usize::from(*b.first()?);
        if len < 34 || len > b.len() {
            return None;
        }
        let id_len = usize::from(b[32]);
        let su = 33 + id_len + usize::from(id_len % 2 == 0);
        let id = b.get(33..33 + id_len)?.to_vec();
        let mut date = [0u8; 7];
        date.copy_from_slice(&b[18..25]);
        Some(Record {
            extent: le32(b, 2),
            size: le32(b, 10),
            date,
            dir: b[25] & 0x02 != 0,
            more: b[25] & 0x80 != 0,
            id,
            system_use: b.get(su..len).unwrap_or(&[]).to_vec(),
        })
    }

    fn is_dot(&self) -> bool {
        self.id == [0] || self.id == [1]
    }
}

/// The records of a folder extent (records never cross a sector; zeros
/// fill the rest of a sector).
fn records(bytes: &[u8]) -> Vec<Record> {
    let mut out = Vec::new();
    for sector in bytes.chunks(SECTOR) {
        let mut at = 0;
        while at < sector.len() && sector[at] != 0 {
            match Record::parse(&sector[at..]) {
                Some(r) => {
                    at += usize::from(sector[at]);
                    out.push(r);
                }
                None => break,
            }
        }
    }
    out
}

/// What a volume is read with.
struct Reader<'a, 'r> {
    read: &'a mut ReadSectors<'r>,
    /// Rock Ridge is in use (SP in the root's "." record).
    rock_ridge: bool,
    /// Joliet identifiers are UCS-2.
    joliet: bool,
    items: usize,
    dir_bytes: u32,
    /// Bytes of the paths handed back so far.
    output_bytes: usize,
    /// Folder extents already read: a folder reached twice (one that
    /// contains itself or an ancestor) is a damaged tree.
    visited: std::collections::HashSet<u32>,
}

fn inconsistent(what: impl Into<String>) -> ImportError {
    ImportError::Inconsistent(what.into())
}

impl Reader<'_, '_> {
    fn sectors(&mut self, lba: u32, bytes: u32) -> Result<Vec<u8>, ImportError> {
        let count = bytes.div_ceil(SECTOR as u32).max(1);
        if lba.checked_add(count).is_none() {
            return Err(inconsistent(format!(
                "{bytes} bytes at sector {lba} run past the last sector an address can name"
            )));
        }
        let data = (self.read)(lba, count).map_err(ImportError::Read)?;
        if data.len() < count as usize * SECTOR {
            return Err(ImportError::Read(format!(
                "{count} sectors at {lba} gave {} bytes",
                data.len()
            )));
        }
        Ok(data)
    }

    /// A folder's records, without "." and "..".
    fn folder(&mut self, extent: u32, size: u32) -> Result<Vec<Record>, ImportError> {
        if !self.visited.insert(extent) {
            return Err(inconsistent(format!(
                "the folder at sector {extent} is reached twice (it contains itself)"
            )));
        }
        self.dir_bytes = self.dir_bytes.saturating_add(size);
        if self.dir_bytes > limits::DIR_BYTES {
            return Err(inconsistent("its folders hold more than 64 MiB of records"));
        }
        let bytes = self.sectors(extent, size)?;
        let all = records(&bytes[..(size as usize).min(bytes.len())]);
        Ok(all.into_iter().filter(|r| !r.is_dot()).collect())
    }

    /// The Rock Ridge name of a record: its NM entries, the continuation
    /// areas followed (at most [`limits::CONTINUATIONS`], each within its
    /// sector as SUSP 5.1 says), at most [`limits::NAME_BYTES`] long.
    fn rock_ridge_name(&mut self, su: &[u8]) -> Result<Option<String>, ImportError> {
        let mut name: Option<Vec<u8>> = None;
        let mut area = su.to_vec();
        for _ in 0..limits::CONTINUATIONS {
            let mut next = None;
            let mut at = 0;
            while at + 4 <= area.len() {
                let (sig, len) = (&area[at..at + 2], usize::from(area[at + 2]));
                if len < 4 || at + len > area.len() {
                    break;
                }
                let body = &area[at + 4..at + len];
                match sig {
                    // Flags 2 (current folder) and 4 (parent) are not names.
                    b"NM" if !body.is_empty() && body[0] & 0x06 == 0 => {
                        let name = name.get_or_insert_with(Vec::new);
                        name.extend_from_slice(&body[1..]);
                        if name.len() > limits::NAME_BYTES {
                            return Err(inconsistent(format!(
                                "a Rock Ridge name is longer than {} bytes",
                                limits::NAME_BYTES
                            )));
                        }
                    }
                    b"CE" if body.len() >= 24 => {
                        next = Some((le32(body, 0), le32(body, 8), le32(body, 16)));
                    }
                    b"ST" => break,
                    _ => {}
                }
                at += len;
            }
            let Some((block, offset, len)) = next else {
                break;
            };
            // SUSP 5.1: a continuation area lies within one logical block.
            let end = offset.checked_add(len).filter(|&e| e <= SECTOR as u32);
            let Some(end) = end else {
                return Err(inconsistent(format!(
                    "a continuation area of {len} bytes at offset {offset} of sector {block} runs past its sector"
                )));
            };
            let data = self.sectors(block, SECTOR as u32)?;
            area = data[offset as usize..end as usize].to_vec();
        }
        Ok(name.map(|n| String::from_utf8_lossy(&n).into_owned()))
    }

    /// The name a record gives its item.
    fn name(&mut self, r: &Record) -> Result<String, ImportError> {
        if self.rock_ridge
            && let Some(n) = self.rock_ridge_name(&r.system_use)?
        {
            return Ok(n);
        }
        let id = if self.joliet {
            let units: Vec<u16> =
                r.id.chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
            String::from_utf16_lossy(&units)
        } else {
            String::from_utf8_lossy(&r.id).into_owned()
        };
        // Without the version (";1") and a trailing dot of a name without extension.
        let id = id.split(';').next().unwrap_or_default();
        let id = id.strip_suffix('.').unwrap_or(id);
        if id.len() > limits::NAME_BYTES {
            return Err(inconsistent(format!(
                "a name is longer than {} bytes",
                limits::NAME_BYTES
            )));
        }
        Ok(id.to_owned())
    }

    /// Every item under the folder at `extent`, parents first.
    fn walk(&mut self, root: (u32, u32), out: &mut Vec<RecordedItem>) -> Result<(), ImportError> {
        let mut queue = vec![(String::new(), root, 0usize)];
        while let Some((prefix, (extent, size), depth)) = queue.pop() {
            let list = self.folder(extent, size)?;
            let mut i = 0;
            while i < list.len() {
                let r = &list[i];
                let name = self.name(r)?;
                if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                    return Err(ImportError::Incompatible(format!(
                        "an item of {prefix:?} has the name {name:?}"
                    )));
                }
                let path = if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}/{name}")
                };
                if path.len() > limits::PATH_BYTES {
                    return Err(inconsistent(format!(
                        "a path is longer than {} bytes",
                        limits::PATH_BYTES
                    )));
                }
                self.output_bytes += path.len();
                if self.output_bytes > limits::OUTPUT_BYTES {
                    return Err(inconsistent("its paths take more than 64 MiB"));
                }
                let mtime = Civil::unix_of_iso_record(r.date);
                // A file in several extents: the records that follow with
                // "more" cleared end it; the extents must be contiguous.
                let (lba, mut bytes, mut end) = (
                    r.extent,
                    u64::from(r.size),
                    u64::from(r.extent) + u64::from(r.size).div_ceil(SECTOR as u64),
                );
                let mut more = r.more;
                let dir = r.dir;
                while more {
                    i += 1;
                    let Some(next) = list.get(i) else { break };
                    if u64::from(next.extent) != end {
                        return Err(ImportError::Incompatible(format!(
                            "{path} is recorded in extents that are not contiguous"
                        )));
                    }
                    bytes += u64::from(next.size);
                    end += u64::from(next.size).div_ceil(SECTOR as u64);
                    more = next.more;
                }
                self.items += 1;
                if self.items > limits::ITEMS {
                    return Err(inconsistent("it holds more than a million items"));
                }
                if dir {
                    if depth + 1 > limits::DEPTH {
                        return Err(inconsistent(format!(
                            "{path} is nested deeper than {} folders",
                            limits::DEPTH
                        )));
                    }
                    queue.push((path.clone(), (r.extent, r.size), depth + 1));
                }
                out.push(RecordedItem {
                    path,
                    dir,
                    size: if dir { 0 } else { bytes },
                    mtime,
                    lba: if dir { 0 } else { lba },
                });
                i += 1;
            }
        }
        Ok(())
    }
}

/// Reads the session that starts at `start`: its volume descriptors at
/// `start + 16` on (ECMA-119 8), then its tree.
pub fn import_session(
    read: &mut ReadSectors<'_>,
    start: u32,
) -> Result<RecordedSession, ImportError> {
    let mut reader = Reader {
        read,
        rock_ridge: false,
        joliet: false,
        items: 0,
        dir_bytes: 0,
        output_bytes: 0,
        visited: std::collections::HashSet::new(),
    };
    let mut primary = None;
    let mut joliet = None;
    for n in 0..32 {
        let lba = start.checked_add(16 + n).ok_or_else(|| {
            inconsistent(format!(
                "a session at sector {start} has no room for its descriptors"
            ))
        })?;
        let d = reader.sectors(lba, SECTOR as u32)?;
        if &d[1..6] != b"CD001" {
            break;
        }
        match d[0] {
            1 => primary = Some(d),
            // A supplementary descriptor with a UCS-2 escape sequence (%/@, %/C, %/E).
            2 if d[88] == b'%' && d[89] == b'/' && matches!(d[90], b'@' | b'C' | b'E') => {
                joliet = Some(d);
            }
            255 => break,
            _ => {}
        }
    }
    let primary = primary.ok_or_else(|| {
        ImportError::Incompatible(format!("no ISO 9660 volume starts at sector {start}"))
    })?;
    let root_of = |d: &[u8]| Record::parse(&d[156..190]);
    let root = root_of(&primary)
        .ok_or_else(|| ImportError::Incompatible("its root record is damaged".into()))?;
    // Rock Ridge: SUSP's SP entry opens the root's "." system use.
    let dot = reader.sectors(root.extent, SECTOR as u32)?;
    reader.rock_ridge = records(&dot[..SECTOR])
        .first()
        .is_some_and(|r| r.system_use.starts_with(b"SP"));
    let volume = |d: &[u8], wide: bool| {
        let raw = &d[40..72];
        let text = if wide {
            let units: Vec<u16> = raw
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        } else {
            String::from_utf8_lossy(raw).into_owned()
        };
        text.trim_end_matches([' ', '\0']).to_owned()
    };
    let (tree, volume_name) = match (&joliet, reader.rock_ridge) {
        (Some(j), false) => {
            reader.joliet = true;
            let root = root_of(j)
                .ok_or_else(|| ImportError::Incompatible("its Joliet root is damaged".into()))?;
            (root, volume(j, true))
        }
        (j, _) => (
            root,
            j.as_ref()
                .map_or_else(|| volume(&primary, false), |j| volume(j, true)),
        ),
    };
    let mut items = Vec::new();
    reader.walk((tree.extent, tree.size), &mut items)?;
    Ok(RecordedSession {
        start,
        end: le32(&primary, 80),
        volume_name,
        items,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // test code
mod tests {
    use super::*;
    use crate::{FileItem, FileSystemImage};

    /// The image's bytes, its files' sources being their contents.
    fn bytes(image: &FileSystemImage<Vec<u8>>) -> Vec<u8> {
        let result = image.create_result_image().unwrap();
        let mut out = Vec::new();
        std::io::copy(
            &mut result.reader(|s: &Vec<u8>| {
                Ok(Box::new(std::io::Cursor::new(s.clone())) as Box<dyn std::io::Read + Send>)
            }),
            &mut out,
        )
        .unwrap();
        out
    }

    fn file(content: &[u8], mtime: i64) -> FileItem<Vec<u8>> {
        FileItem {
            size: content.len() as u64,
            mtime,
            source: content.to_vec(),
        }
    }

    /// A disc of `sectors` sectors with `data` written from `at`.
    fn put(disc: &mut Vec<u8>, at: u32, data: &[u8]) {
        let from = at as usize * SECTOR;
        if disc.len() < from + data.len() {
            disc.resize(from + data.len(), 0);
        }
        disc[from..from + data.len()].copy_from_slice(data);
    }

    fn reader(disc: &[u8]) -> impl FnMut(u32, u32) -> Result<Vec<u8>, String> + '_ {
        move |lba, count| {
            let from = lba as usize * SECTOR;
            let to = from + count as usize * SECTOR;
            disc.get(from..to)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| format!("sector {lba} is past the disc"))
        }
    }

    fn content(disc: &[u8], item: &RecordedItem) -> Vec<u8> {
        let from = item.lba as usize * SECTOR;
        disc[from..from + item.size as usize].to_vec()
    }

    #[test]
    fn a_second_session_holds_the_first_sessions_files_and_its_own() {
        // Longer than a record holds: Rock Ridge continues it in a CE area.
        let long = format!("{}\u{e9}t\u{e9}.txt", "a long name ".repeat(16));
        let long = long.as_str();
        let mut first = FileSystemImage::new(1_700_000_000);
        first.set_volume_name("Scans").unwrap();
        first
            .root()
            .add_file("2024/jan.pdf", file(b"january", 1_700_000_100))
            .unwrap();
        first
            .root()
            .add_file(long, file(b"long", 1_700_000_200))
            .unwrap();
        first
            .root()
            .add_file("empty.txt", file(b"", 1_700_000_300))
            .unwrap();
        let mut disc = Vec::new();
        put(&mut disc, 0, &bytes(&first));
        let s1 = import_session(&mut reader(&disc), 0).unwrap();
        assert_eq!(s1.volume_name, "Scans");
        assert_eq!(u64::from(s1.end), disc.len() as u64 / SECTOR as u64);
        let jan = s1.items.iter().find(|i| i.path == "2024/jan.pdf").unwrap();
        assert_eq!((jan.size, jan.mtime), (7, 1_700_000_100));
        assert_eq!(content(&disc, jan), b"january");
        assert!(s1.items.iter().any(|i| i.path == long && i.size == 4));
        assert!(s1.items.iter().any(|i| i.path == "2024" && i.dir));

        // The next session after a gap, as a CD's lead-out and lead-in leave.
        let next = u32::try_from(disc.len() / SECTOR).unwrap() + 11_400;
        let mut second = FileSystemImage::new(1_700_100_000);
        second
            .root()
            .add_file("2024/feb.pdf", file(b"february", 1_700_100_100))
            .unwrap();
        assert_eq!(second.import_session(&s1, next).unwrap(), s1.items.len());
        assert!(!second.file_systems().udf(), "a later session has no UDF");
        let image = bytes(&second);
        put(&mut disc, next, &image);
        let s2 = import_session(&mut reader(&disc), next).unwrap();
        let paths: Vec<&str> = s2.items.iter().map(|i| i.path.as_str()).collect();
        for p in ["2024", "2024/jan.pdf", "2024/feb.pdf", long, "empty.txt"] {
            assert!(paths.contains(&p), "{p} in {paths:?}");
        }
        for item in s2.items.iter().filter(|i| !i.dir) {
            let want: &[u8] = match item.path.as_str() {
                "2024/jan.pdf" => b"january",
                "2024/feb.pdf" => b"february",
                "empty.txt" => b"",
                _ => b"long",
            };
            assert_eq!(content(&disc, item), want, "{}", item.path);
        }
        // The old file is read where the first session put it.
        let jan2 = s2.items.iter().find(|i| i.path == "2024/jan.pdf").unwrap();
        assert_eq!(jan2.lba, jan.lba);
        // The first session is still what it was.
        assert_eq!(import_session(&mut reader(&disc), 0).unwrap(), s1);
        // A name taken by the import is refused.
        let mut third = FileSystemImage::new(0);
        third
            .root()
            .add_file("2024/jan.pdf", file(b"x", 0))
            .unwrap();
        assert!(matches!(
            third.import_session(&s2, next + 1000),
            Err(crate::FsError::DuplicateName(_))
        ));
    }

    fn reader_over<'a, 'r>(read: &'a mut ReadSectors<'r>) -> Reader<'a, 'r> {
        Reader {
            read,
            rock_ridge: true,
            joliet: false,
            items: 0,
            dir_bytes: 0,
            output_bytes: 0,
            visited: std::collections::HashSet::new(),
        }
    }

    /// An NM entry (RRIP 4.1.4) of `name`, continued (flag 1) or not.
    fn nm(name: &[u8], more: bool) -> Vec<u8> {
        let mut e = vec![b'N', b'M', (5 + name.len()) as u8, 1, u8::from(more)];
        e.extend_from_slice(name);
        e
    }

    #[test]
    fn names_past_255_bytes_and_continuations_past_their_sector_are_refused() {
        let disc = vec![0u8; 40 * SECTOR];
        let mut read = reader(&disc);
        let mut r = reader_over(&mut read);
        // Three NM pieces of 100 bytes: 300 bytes of name.
        let mut su = Vec::new();
        for last in [false, false, true] {
            su.extend(nm(&[b'a'; 100], !last));
        }
        let e = r.rock_ridge_name(&su).unwrap_err();
        assert!(matches!(e, ImportError::Inconsistent(_)), "{e}");
        assert_eq!(
            e.hresult(),
            webburn_shared::HResult::IMAPI_E_FILE_SYSTEM_READ_CONSISTENCY_ERROR
        );
        // 255 bytes is a name.
        let mut su = nm(&[b'b'; 200], true);
        su.extend(nm(&[b'c'; 55], false));
        assert_eq!(r.rock_ridge_name(&su).unwrap().unwrap().len(), 255);
        // A CE area at offset 2000 of 100 bytes crosses its sector's end.
        let mut ce = vec![b'C', b'E', 28, 1];
        for v in [20u32, 2000, 100] {
            ce.extend_from_slice(&v.to_le_bytes());
            ce.extend_from_slice(&v.to_be_bytes());
        }
        let e = r.rock_ridge_name(&ce).unwrap_err();
        assert!(e.to_string().contains("runs past its sector"), "{e}");
        // An extent whose end passes the last addressable sector.
        let e = r.sectors(u32::MAX - 1, 8 * SECTOR as u32).unwrap_err();
        assert!(matches!(e, ImportError::Inconsistent(_)), "{e}");
    }

    #[test]
    fn a_session_at_the_end_of_the_address_space_is_refused() {
        let disc = vec![0u8; 40 * SECTOR];
        let e = import_session(&mut reader(&disc), u32::MAX - 10).unwrap_err();
        assert!(matches!(e, ImportError::Inconsistent(_)), "{e}");
    }

    #[test]
    fn damaged_or_missing_sessions_are_refused_with_their_hresult() {
        let disc = vec![0u8; 40 * SECTOR];
        let e = import_session(&mut reader(&disc), 0).unwrap_err();
        assert_eq!(
            e.hresult(),
            webburn_shared::HResult::IMAPI_E_NO_COMPATIBLE_MULTISESSION_TYPE
        );
        let e = import_session(&mut reader(&disc), 100).unwrap_err();
        assert_eq!(
            e.hresult(),
            webburn_shared::HResult::IMAPI_E_IMPORT_SEEK_FAILURE
        );
        // A session written over a previous one's file is refused when laid out.
        let mut first = FileSystemImage::new(0);
        first.root().add_file("a", file(&[1; 5000], 0)).unwrap();
        let mut disc = Vec::new();
        put(&mut disc, 0, &bytes(&first));
        let s1 = import_session(&mut reader(&disc), 0).unwrap();
        let mut bad = FileSystemImage::<Vec<u8>>::new(0);
        bad.import_session(&s1, 10).unwrap();
        assert!(matches!(
            bad.create_result_image(),
            Err(crate::FsError::InvalidParam(_))
        ));
    }
}
