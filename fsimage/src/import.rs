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
/// Folders deeper than this are not followed (ECMA-119 allows 8 levels;
/// Rock Ridge discs go deeper, but not without end).
const MAX_DEPTH: usize = 64;
/// Items an import takes at most (a damaged disc must not loop for ever).
const MAX_ITEMS: usize = 1 << 20;
/// Bytes of folder records read at most.
const MAX_DIR_BYTES: u32 = 64 << 20;

/// Why a session could not be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// A sector could not be read (IMAPI_E_IMPORT_SEEK_FAILURE).
    Read(String),
    /// No ISO 9660 volume there, or one this reader cannot follow
    /// (IMAPI_E_NO_COMPATIBLE_MULTISESSION_TYPE).
    Incompatible(String),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::Read(w) => write!(f, "cannot read the previous session: {w}"),
            ImportError::Incompatible(w) => {
                write!(f, "the previous session cannot be added to: {w}")
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
}

impl Reader<'_, '_> {
    fn sectors(&mut self, lba: u32, bytes: u32) -> Result<Vec<u8>, ImportError> {
        let count = bytes.div_ceil(SECTOR as u32).max(1);
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
        self.dir_bytes = self.dir_bytes.saturating_add(size);
        if self.dir_bytes > MAX_DIR_BYTES {
            return Err(ImportError::Incompatible(
                "its folders hold more than 64 MiB of records".into(),
            ));
        }
        let bytes = self.sectors(extent, size)?;
        let all = records(&bytes[..(size as usize).min(bytes.len())]);
        Ok(all.into_iter().filter(|r| !r.is_dot()).collect())
    }

    /// The Rock Ridge name of a record: its NM entries, the continuation
    /// areas followed (at most 16 of them).
    fn rock_ridge_name(&mut self, su: &[u8]) -> Result<Option<String>, ImportError> {
        let mut name: Option<Vec<u8>> = None;
        let mut area = su.to_vec();
        for _ in 0..16 {
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
                        name.get_or_insert_with(Vec::new)
                            .extend_from_slice(&body[1..]);
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
            let data = self.sectors(block, offset.saturating_add(len))?;
            let (from, to) = (offset as usize, (offset + len) as usize);
            area = data.get(from..to).unwrap_or(&[]).to_vec();
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
        Ok(id.strip_suffix('.').unwrap_or(id).to_owned())
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
                if self.items > MAX_ITEMS {
                    return Err(ImportError::Incompatible(
                        "it holds more than a million items".into(),
                    ));
                }
                if dir {
                    if depth + 1 > MAX_DEPTH {
                        return Err(ImportError::Incompatible(format!(
                            "{path} is nested deeper than {MAX_DEPTH} folders"
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
    };
    let mut primary = None;
    let mut joliet = None;
    for n in 0..32 {
        let lba = start + 16 + n;
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
