//! Each name in the form each file system records it, made unique within
//! its folder in a predictable way:
//!
//! - ISO 9660 (ECMA-119 7.5, 7.6; interchange level 1): `NAME.EXT;1` with at
//!   most 8 + 3 d-characters (A-Z, 0-9, _), folders 8; what does not fit is
//!   mapped to `_` and cut, and a collision replaces the name's tail with a
//!   number. Rock Ridge carries the real name beside it.
//! - Joliet: UCS-2 big-endian (UTF-16 here: characters beyond U+FFFF as
//!   surrogate pairs, never split), at most 64 code units, `* / : ; ? \` and
//!   control characters as `_`; a longer name keeps its extension and gets
//!   `~` and four hex digits of a hash of the whole name.
//! - UDF (OSTA CS0, UDF 1.02 2.1.1): 8-bit when every character is Latin-1,
//!   else 16-bit big-endian; the name unchanged.

use std::collections::HashSet;

/// Characters Joliet does not allow in names.
const JOLIET_ILLEGAL: [char; 6] = ['*', '/', ':', ';', '?', '\\'];
/// Most UTF-16 code units of a Joliet name.
pub(crate) const JOLIET_MAX: usize = 64;

fn d_char(c: char) -> u8 {
    match c {
        'A'..='Z' | '0'..='9' | '_' => c as u8,
        'a'..='z' => c.to_ascii_uppercase() as u8,
        _ => b'_',
    }
}

fn d_chars(s: &str, max: usize) -> Vec<u8> {
    s.chars().take(max).map(d_char).collect()
}

/// The stem and the extension (after the last dot) of a file name.
fn split_ext(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(0) | None => (name, ""),
        Some(i) => (&name[..i], &name[i + 1..]),
    }
}

/// ISO 9660 level 1 identifiers for one folder's entries (`true` = folder),
/// unique within it, in the entries' order.
pub(crate) fn iso_level1(entries: &[(&str, bool)]) -> Vec<Vec<u8>> {
    let mut used: HashSet<Vec<u8>> = HashSet::new();
    entries
        .iter()
        .map(|&(name, dir)| {
            let (stem, ext) = if dir { (name, "") } else { split_ext(name) };
            let mut stem = d_chars(stem, 8);
            if stem.is_empty() {
                stem.push(b'_');
            }
            let ext = d_chars(ext, 3);
            let make = |stem: &[u8]| -> Vec<u8> {
                let mut id = stem.to_vec();
                if !dir {
                    id.push(b'.');
                    id.extend_from_slice(&ext);
                    id.extend_from_slice(b";1");
                }
                id
            };
            let mut id = make(&stem);
            let mut n = 1u32;
            while used.contains(&id) {
                let digits = n.to_string().into_bytes();
                let keep = stem.len().min(8 - digits.len().min(8));
                let mut s = stem[..keep].to_vec();
                s.extend_from_slice(&digits);
                id = make(&s);
                n += 1;
            }
            used.insert(id.clone());
            id
        })
        .collect()
}

/// 16-bit FNV-1a folded to four hex digits: a short, stable tag of a name.
fn tag(name: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{:04X}", (h >> 16) ^ (h & 0xFFFF))
}

/// `units` cut to at most `max` code units without splitting a surrogate pair.
fn cut(units: &[u16], max: usize) -> &[u16] {
    let mut end = units.len().min(max);
    if end > 0 && end < units.len() && (0xD800..0xDC00).contains(&units[end - 1]) {
        end -= 1;
    }
    &units[..end]
}

fn joliet_units(s: &str) -> Vec<u16> {
    s.chars()
        .map(|c| {
            if JOLIET_ILLEGAL.contains(&c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect::<String>()
        .encode_utf16()
        .collect()
}

/// The Joliet name of `name` before collisions: legal characters, at most 64 units.
pub(crate) fn joliet_name(name: &str, dir: bool) -> Vec<u16> {
    let whole = joliet_units(name);
    if whole.len() <= JOLIET_MAX {
        return whole;
    }
    let (stem, ext) = if dir { (name, "") } else { split_ext(name) };
    let mut ext = if ext.is_empty() {
        Vec::new()
    } else {
        joliet_units(&format!(".{ext}"))
    };
    if ext.len() > 16 {
        ext.clear();
    }
    let suffix: Vec<u16> = format!("~{}", tag(name)).encode_utf16().collect();
    let room = JOLIET_MAX - ext.len() - suffix.len();
    let stem_units = joliet_units(stem);
    let mut out = cut(&stem_units, room).to_vec();
    out.extend_from_slice(&suffix);
    out.extend_from_slice(&ext);
    out
}

/// Joliet names for one folder's entries, unique ignoring ASCII case (as
/// Windows compares them), in the entries' order.
pub(crate) fn joliet_names(entries: &[(&str, bool)]) -> Vec<Vec<u16>> {
    let mut used: HashSet<Vec<u16>> = HashSet::new();
    let fold = |u: &[u16]| -> Vec<u16> {
        u.iter()
            .map(|&c| {
                if (u16::from(b'a')..=u16::from(b'z')).contains(&c) {
                    c - 32
                } else {
                    c
                }
            })
            .collect()
    };
    entries
        .iter()
        .map(|&(name, dir)| {
            let mut id = joliet_name(name, dir);
            let mut n = 1u32;
            while used.contains(&fold(&id)) {
                let (stem, ext) = if dir { (name, "") } else { split_ext(name) };
                let ext: Vec<u16> = if ext.is_empty() {
                    Vec::new()
                } else {
                    joliet_units(&format!(".{ext}"))
                };
                let ext = if ext.len() > 16 { Vec::new() } else { ext };
                let suffix: Vec<u16> = format!("~{n}").encode_utf16().collect();
                let room = JOLIET_MAX - ext.len() - suffix.len();
                let stem_units = joliet_units(stem);
                id = cut(&stem_units, room).to_vec();
                id.extend_from_slice(&suffix);
                id.extend_from_slice(&ext);
                n += 1;
            }
            used.insert(fold(&id));
            id
        })
        .collect()
}

/// UTF-16 code units as big-endian bytes.
pub(crate) fn be_bytes(units: &[u16]) -> Vec<u8> {
    units.iter().flat_map(|u| u.to_be_bytes()).collect()
}

/// A name in OSTA Compressed Unicode (CS0): compression ID 8 and one byte a
/// character when all are Latin-1, else 16 and UTF-16 big-endian.
pub(crate) fn cs0(name: &str) -> Vec<u8> {
    if name.chars().all(|c| u32::from(c) <= 0xFF) {
        let mut out = vec![8u8];
        out.extend(
            name.chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'_')),
        );
        out
    } else {
        let mut out = vec![16u8];
        out.extend(be_bytes(&name.encode_utf16().collect::<Vec<_>>()));
        out
    }
}

/// A d-string field of `len` bytes (ECMA-167 1/7.2.12): the CS0 name, cut
/// to fit, and its length in the last byte.
pub(crate) fn dstring(name: &str, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    if name.is_empty() {
        return out;
    }
    let mut s = cs0(name);
    if s.len() > len - 1 {
        // Whole characters only: one byte each after ID 8, two after ID 16.
        let unit = if s[0] == 8 { 1 } else { 2 };
        let keep = 1 + (len - 2) / unit * unit;
        s.truncate(keep);
    }
    out[..s.len()].copy_from_slice(&s);
    out[len - 1] = u8::try_from(s.len()).unwrap_or(0);
    out
}

/// ISO 9660's volume identifier: d-characters, at most 32, space padded.
pub(crate) fn iso_volume_id(name: &str) -> [u8; 32] {
    let mut out = [b' '; 32];
    for (o, c) in out.iter_mut().zip(name.chars().map(d_char)) {
        *o = c;
    }
    out
}

/// Joliet's volume identifier: 16 UCS-2 characters, big-endian, space padded.
pub(crate) fn joliet_volume_id(name: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for pair in out.chunks_mut(2) {
        pair.copy_from_slice(&[0, b' ']);
    }
    let units = joliet_units(name);
    let bytes = be_bytes(cut(&units, 16));
    out[..bytes.len()].copy_from_slice(&bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_names_are_level_1_and_unique() {
        let ids = iso_level1(&[
            ("holiday photo.jpeg", false),
            ("holiday-photo.jpg", false),
            ("Holiday photo.JPG", false),
            ("Scans 2024", true),
            (".bashrc", false),
            ("README", false),
        ]);
        let ids: Vec<String> = ids
            .into_iter()
            .map(|i| String::from_utf8(i).unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "HOLIDAY_.JPE;1",
                "HOLIDAY_.JPG;1",
                "HOLIDAY1.JPG;1",
                "SCANS_20",
                "_BASHRC.;1",
                "README.;1"
            ]
        );
    }

    #[test]
    fn joliet_names_are_shortened_predictably_and_uniquely() {
        let long = format!("{}.pdf", "a".repeat(100));
        let short = joliet_name(&long, false);
        assert_eq!(short.len(), 64);
        let s = String::from_utf16(&short).unwrap();
        assert!(
            s.rsplit_once('.').is_some_and(|(_, e)| e == "pdf") && s.contains('~'),
            "{s}"
        );
        assert_eq!(short, joliet_name(&long, false), "the same every time");
        // A character beyond U+FFFF is never split at the cut.
        let emoji = "\u{1F600}".repeat(40);
        let cut_name = joliet_name(&emoji, true);
        assert!(cut_name.len() <= 64);
        assert!(String::from_utf16(&cut_name).is_ok());
        // Illegal characters and case collisions.
        let names = joliet_names(&[("a:b.txt", false), ("A_B.TXT", false)]);
        assert_eq!(String::from_utf16(&names[0]).unwrap(), "a_b.txt");
        assert_eq!(String::from_utf16(&names[1]).unwrap(), "A_B~1.TXT");
    }

    #[test]
    fn cs0_picks_8_or_16_bits_and_dstrings_carry_their_length() {
        assert_eq!(cs0("abc"), [8, b'a', b'b', b'c']);
        assert_eq!(cs0("caf\u{e9}"), [8, b'c', b'a', b'f', 0xE9]);
        assert_eq!(cs0("\u{65e5}"), [16, 0x65, 0xE5]);
        let d = dstring("LABEL", 32);
        assert_eq!(&d[..6], &[8, b'L', b'A', b'B', b'E', b'L']);
        assert_eq!(d[31], 6);
        let d = dstring(&"\u{65e5}".repeat(40), 32);
        assert_eq!(d[31], 31, "15 whole characters");
        assert_eq!(&iso_volume_id("My Disc")[..8], b"MY_DISC ");
    }
}
