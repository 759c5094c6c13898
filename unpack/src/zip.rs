//! zip (PKWARE APPNOTE 6.3): the archive's one file entry is the image.
//! The end-of-central-directory record (and its zip64 twin) leads to the
//! central directory, the entry's header there to its local header and its
//! data; a stored entry is the data itself, a deflated one goes through the
//! browser's `deflate-raw` decoder. The CRC-32 the entry declares is
//! checked on what comes out ([`EntryCheck`]).

use std::ops::Range;

use crate::Error;

const EOCD: u32 = 0x0605_4B50;
const EOCD64_LOCATOR: u32 = 0x0706_4B50;
const EOCD64: u32 = 0x0606_4B50;
const CENTRAL: u32 = 0x0201_4B50;
const LOCAL: u32 = 0x0403_4B50;

/// Bytes of the archive's end that hold the end records: the record (22),
/// the longest comment (65,535), the zip64 locator (20) and record (56).
pub const TAIL_LEN: u64 = 22 + 65_535 + 20 + 56;

/// Bytes of a local header read to find the data (30 and name and extra).
pub const LOCAL_HEADER_MAX: u64 = 30 + 2 * 65_535;

/// How the entry's data is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// As it is (method 0).
    Stored,
    /// Deflate (method 8).
    Deflate,
}

/// The image's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its name in the archive.
    pub name: String,
    /// How it is stored.
    pub method: Method,
    /// Its bytes in the archive.
    pub compressed: u64,
    /// Its bytes once decoded: the image's size.
    pub size: u64,
    /// The CRC-32 of the decoded bytes.
    pub crc32: u32,
    /// Where its local header starts.
    pub local_offset: u64,
}

fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u16::from_le_bytes(
        b.get(at..at + 2)?.try_into().ok()?,
    )))
}

fn u32_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u32::from_le_bytes(
        b.get(at..at + 4)?.try_into().ok()?,
    )))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn damaged(what: &str) -> Error {
    Error::new(format!("the zip archive is damaged ({what})"))
}

/// Where the central directory lies, from the archive's last bytes
/// (`tail`, up to [`TAIL_LEN`]) and its length.
pub fn central_directory(tail: &[u8], file_len: u64) -> Result<Range<u64>, Error> {
    let tail_start = file_len - tail.len() as u64;
    // The record is the last one whose comment reaches the end exactly.
    let at = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| {
            u32_at(tail, i) == Some(u64::from(EOCD))
                && u16_at(tail, i + 20).map(|c| i as u64 + 22 + c) == Some(tail.len() as u64)
        })
        .ok_or_else(|| {
            damaged("no end of central directory: the file is truncated or not a zip")
        })?;
    let field = |off| u32_at(tail, at + off).ok_or_else(|| damaged("end record"));
    let (mut size, mut offset) = (field(12)?, field(16)?);
    if size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
        let loc = at
            .checked_sub(20)
            .filter(|&l| u32_at(tail, l) == Some(u64::from(EOCD64_LOCATOR)))
            .ok_or_else(|| damaged("zip64 locator"))?;
        let rec = u64_at(tail, loc + 8)
            .and_then(|o| o.checked_sub(tail_start))
            .and_then(|o| usize::try_from(o).ok())
            .filter(|&r| u32_at(tail, r) == Some(u64::from(EOCD64)))
            .ok_or_else(|| damaged("zip64 end record"))?;
        size = u64_at(tail, rec + 40).ok_or_else(|| damaged("zip64 end record"))?;
        offset = u64_at(tail, rec + 48).ok_or_else(|| damaged("zip64 end record"))?;
    }
    let end = offset
        .checked_add(size)
        .filter(|&e| e <= file_len)
        .ok_or_else(|| damaged("the central directory lies outside the file"))?;
    Ok(offset..end)
}

/// The one file entry of the central directory `dir` (folders and macOS's
/// `__MACOSX/` metadata are passed over).
pub fn single_entry(dir: &[u8]) -> Result<Entry, Error> {
    let mut found = Vec::new();
    let mut at = 0;
    while at + 46 <= dir.len() && u32_at(dir, at) == Some(u64::from(CENTRAL)) {
        let f16 = |o| u16_at(dir, at + o).unwrap_or(0);
        let f32 = |o| u32_at(dir, at + o).unwrap_or(0);
        let (name_len, extra_len, comment_len) = (f16(28), f16(30), f16(32));
        let name_at = at + 46;
        let extra_at = name_at + name_len as usize;
        let next = extra_at + (extra_len + comment_len) as usize;
        let name = dir
            .get(name_at..extra_at)
            .ok_or_else(|| damaged("central directory"))?;
        let name = String::from_utf8_lossy(name).into_owned();
        let (mut size, mut compressed, mut local) = (f32(24), f32(20), f32(42));
        // The zip64 extra field holds the 64-bit values of those at 0xFFFFFFFF.
        let mut e = extra_at;
        while e + 4 <= extra_at + extra_len as usize {
            let (id, len) = (u16_at(dir, e).unwrap_or(0), u16_at(dir, e + 2).unwrap_or(0));
            if id == 1 {
                let mut v = e + 4;
                for slot in [&mut size, &mut compressed, &mut local] {
                    if *slot == 0xFFFF_FFFF {
                        *slot = u64_at(dir, v).ok_or_else(|| damaged("zip64 field"))?;
                        v += 8;
                    }
                }
            }
            e += 4 + len as usize;
        }
        if !name.ends_with('/') && !name.starts_with("__MACOSX/") {
            if f16(8) & 1 != 0 {
                return Err(Error::new(format!(
                    "{name} is encrypted in the zip: extract it first"
                )));
            }
            let method = match f16(10) {
                0 => Method::Stored,
                8 => Method::Deflate,
                m => {
                    return Err(Error::new(format!(
                        "{name} is compressed with zip method {m}; only stored and deflated entries are read"
                    )));
                }
            };
            found.push(Entry {
                name,
                method,
                compressed,
                size,
                crc32: f32(16) as u32,
                local_offset: local,
            });
        }
        at = next;
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::new("the zip holds no file")),
        n => Err(Error::new(format!(
            "the zip holds {n} files; choose a zip with one image in it, or extract the image first"
        ))),
    }
}

/// Where the entry's data starts, from the first bytes of its local header.
pub fn data_start(local: &[u8], entry: &Entry) -> Result<u64, Error> {
    if u32_at(local, 0) != Some(u64::from(LOCAL)) {
        return Err(damaged("local header"));
    }
    let n = u16_at(local, 26).ok_or_else(|| damaged("local header"))?;
    let e = u16_at(local, 28).ok_or_else(|| damaged("local header"))?;
    Ok(entry.local_offset + 30 + n + e)
}

/// The CRC-32 and length of an entry's decoded bytes, checked at the end.
#[derive(Debug, Clone)]
pub struct EntryCheck {
    crc: crc32fast::Hasher,
    seen: u64,
    size: u64,
    expected: u32,
}

impl EntryCheck {
    /// A check for `entry`.
    pub fn new(entry: &Entry) -> EntryCheck {
        EntryCheck {
            crc: crc32fast::Hasher::new(),
            seen: 0,
            size: entry.size,
            expected: entry.crc32,
        }
    }

    /// Feeds decoded bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.crc.update(bytes);
        self.seen += bytes.len() as u64;
    }

    /// After the last byte: the length and CRC-32 the archive declares.
    pub fn finish(self) -> Result<(), Error> {
        if self.seen != self.size {
            return Err(Error::new(format!(
                "the zip entry decodes to {} bytes, not the {} its header declares: the file is corrupt",
                self.seen, self.size
            )));
        }
        if self.crc.finalize() != self.expected {
            return Err(Error::new(
                "the zip entry fails its CRC-32: the file is corrupt",
            ));
        }
        Ok(())
    }
}
