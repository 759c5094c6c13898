//! ISO 9660 (ECMA-119) structures: volume descriptors (the primary one and
//! Joliet's supplementary one), directory records, path tables; and the
//! Rock Ridge entries (SUSP 1.12, RRIP 1.12) carried in the primary tree's
//! records: SP, ER, CE, PX, TF and NM.

use crate::names::{iso_volume_id, joliet_volume_id};
use crate::time::ISO_UNSPECIFIED;

/// Sector size.
pub(crate) const SECTOR: usize = 2048;
/// Largest extent of one directory record: 4 GiB less a sector (a file
/// beyond it is recorded in several extents, ECMA-119 6.5.1 and 9.1.6).
pub(crate) const MAX_EXTENT: u64 = 0xFFFF_F800;

/// Both-byte-order u32 (ECMA-119 7.3.3).
fn both32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    b[at + 4..at + 8].copy_from_slice(&v.to_be_bytes());
}

/// Both-byte-order u16 (ECMA-119 7.2.3).
fn both16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
    b[at + 2..at + 4].copy_from_slice(&v.to_be_bytes());
}

fn u32_of(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// What a volume descriptor points at.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Descriptor<'a> {
    /// Joliet's supplementary descriptor (else the primary).
    pub joliet: bool,
    /// The volume name.
    pub name: &'a str,
    /// Sectors in the volume.
    pub volume_sectors: u64,
    /// Bytes of one path table.
    pub path_table_bytes: u32,
    /// Sector of the little-endian path table.
    pub l_path_table: u32,
    /// Sector of the big-endian path table.
    pub m_path_table: u32,
    /// The root folder's record (34 bytes).
    pub root: &'a [u8],
    /// Creation time (17 bytes).
    pub created: [u8; 17],
}

/// A primary (type 1) or Joliet supplementary (type 2) volume descriptor
/// (ECMA-119 8.4, 8.5; Joliet: escape sequence `%/E`, UCS-2 level 3).
pub(crate) fn volume_descriptor(d: &Descriptor<'_>) -> Vec<u8> {
    let mut b = vec![0u8; SECTOR];
    b[0] = if d.joliet { 2 } else { 1 };
    b[1..6].copy_from_slice(b"CD001");
    b[6] = 1;
    let spaces = |b: &mut [u8], at: usize, n: usize| b[at..at + n].fill(b' ');
    if d.joliet {
        // System identifier in UCS-2: spaces.
        for i in (8..40).step_by(2) {
            b[i..i + 2].copy_from_slice(&[0, b' ']);
        }
        b[40..72].copy_from_slice(&joliet_volume_id(d.name));
        b[88..91].copy_from_slice(b"%/E");
    } else {
        spaces(&mut b, 8, 32);
        b[40..72].copy_from_slice(&iso_volume_id(d.name));
    }
    both32(&mut b, 80, u32_of(d.volume_sectors));
    both16(&mut b, 120, 1);
    both16(&mut b, 124, 1);
    both16(&mut b, 128, 2048);
    both32(&mut b, 132, d.path_table_bytes);
    b[140..144].copy_from_slice(&d.l_path_table.to_le_bytes());
    b[148..152].copy_from_slice(&d.m_path_table.to_be_bytes());
    b[156..190].copy_from_slice(&d.root[..34]);
    if d.joliet {
        // Identifiers in UCS-2 spaces (0x0020).
        for i in (190..813).step_by(2) {
            if i + 1 < 813 {
                b[i..i + 2].copy_from_slice(&[0, b' ']);
            }
        }
        b[812] = 0;
        b[574..590].copy_from_slice(&[
            0, b'W', 0, b'E', 0, b'B', 0, b'B', 0, b'U', 0, b'R', 0, b'N', 0, b' ',
        ]);
    } else {
        spaces(&mut b, 190, 623);
        b[574..581].copy_from_slice(b"WEBBURN");
    }
    b[813..830].copy_from_slice(&d.created);
    b[830..847].copy_from_slice(&d.created);
    b[847..864].copy_from_slice(&ISO_UNSPECIFIED);
    b[864..881].copy_from_slice(&ISO_UNSPECIFIED);
    b[881] = 1;
    b
}

/// The volume descriptor set terminator (ECMA-119 8.3).
pub(crate) fn terminator() -> Vec<u8> {
    let mut b = vec![0u8; SECTOR];
    b[0] = 255;
    b[1..6].copy_from_slice(b"CD001");
    b[6] = 1;
    b
}

/// One directory record (ECMA-119 9.1).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record<'a> {
    /// Sector of the extent.
    pub extent: u32,
    /// Bytes of the extent.
    pub size: u32,
    /// Recording date (7 bytes).
    pub date: [u8; 7],
    /// A folder.
    pub dir: bool,
    /// Not the last record of a file recorded in several extents.
    pub more: bool,
    /// The identifier (`\0` for ".", `\x01` for "..").
    pub id: &'a [u8],
    /// The system use area (Rock Ridge).
    pub system_use: &'a [u8],
}

/// Bytes of a record with an identifier of `id_len` bytes and `su_len` of system use.
pub(crate) fn record_len(id_len: usize, su_len: usize) -> usize {
    let base = 33 + id_len + usize::from(id_len.is_multiple_of(2));
    base + su_len + su_len % 2
}

impl Record<'_> {
    /// The record's bytes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let len = record_len(self.id.len(), self.system_use.len());
        let mut b = vec![0u8; len];
        b[0] = u8::try_from(len).unwrap_or(0);
        both32(&mut b, 2, self.extent);
        both32(&mut b, 10, self.size);
        b[18..25].copy_from_slice(&self.date);
        b[25] = u8::from(self.dir) << 1 | u8::from(self.more) << 7;
        both16(&mut b, 28, 1);
        b[32] = u8::try_from(self.id.len()).unwrap_or(0);
        b[33..33 + self.id.len()].copy_from_slice(self.id);
        let su = 33 + self.id.len() + usize::from(self.id.len().is_multiple_of(2));
        b[su..su + self.system_use.len()].copy_from_slice(self.system_use);
        b
    }
}

/// Packs records into whole sectors: a record never crosses a sector
/// boundary (ECMA-119 6.8.1.1).
#[derive(Debug, Default)]
pub(crate) struct Packer {
    /// The bytes so far.
    pub out: Vec<u8>,
}

impl Packer {
    /// Appends `record`, starting a new sector if it does not fit this one.
    pub(crate) fn push(&mut self, record: &[u8]) {
        let used = self.out.len() % SECTOR;
        if used + record.len() > SECTOR {
            self.out.resize(self.out.len() + SECTOR - used, 0);
        }
        self.out.extend_from_slice(record);
    }

    /// Bytes a sequence of records of these lengths takes, whole sectors.
    pub(crate) fn size(lengths: impl IntoIterator<Item = usize>) -> u64 {
        let mut at = 0u64;
        for len in lengths {
            let len = len as u64;
            let used = at % SECTOR as u64;
            if used + len > SECTOR as u64 {
                at += SECTOR as u64 - used;
            }
            at += len;
        }
        at.div_ceil(SECTOR as u64).max(1) * SECTOR as u64
    }

    /// The sectors, the last one padded.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        let len = self.out.len().div_ceil(SECTOR).max(1) * SECTOR;
        self.out.resize(len, 0);
        self.out
    }
}

/// One path table entry (ECMA-119 9.4), little- or big-endian.
pub(crate) fn path_entry(id: &[u8], extent: u32, parent: u16, big: bool) -> Vec<u8> {
    let mut b = vec![0u8; 8 + id.len() + id.len() % 2];
    b[0] = u8::try_from(id.len()).unwrap_or(0);
    if big {
        b[2..6].copy_from_slice(&extent.to_be_bytes());
        b[6..8].copy_from_slice(&parent.to_be_bytes());
    } else {
        b[2..6].copy_from_slice(&extent.to_le_bytes());
        b[6..8].copy_from_slice(&parent.to_le_bytes());
    }
    b[8..8 + id.len()].copy_from_slice(id);
    b
}

/// Bytes of a path table entry with an identifier of `id_len` bytes.
pub(crate) fn path_entry_len(id_len: usize) -> usize {
    8 + id_len + id_len % 2
}

/// Rock Ridge and SUSP entries.
pub(crate) mod rr {
    use super::both32;

    /// The identifier, descriptor and source of RRIP 1.12's ER entry (RRIP
    /// 1.12 section 5.1 gives these texts for interchange).
    const ER_ID: &[u8] = b"RRIP_1991A";
    const ER_DES: &[u8] =
        b"THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS";
    const ER_SRC: &[u8] = b"PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.";

    /// Bytes of the PX entry.
    pub(crate) const PX_LEN: usize = 44;
    /// Bytes of the TF entry (modify, access, attributes; 7-byte dates).
    pub(crate) const TF_LEN: usize = 26;
    /// Bytes of the CE entry.
    pub(crate) const CE_LEN: usize = 28;
    /// Bytes of the SP entry.
    pub(crate) const SP_LEN: usize = 7;

    fn head(b: &mut Vec<u8>, sig: [u8; 2], len: usize) {
        b.extend_from_slice(&sig);
        b.push(u8::try_from(len).unwrap_or(0));
        b.push(1);
    }

    /// SP: SUSP is in use (SUSP 5.3), in the root's "." record.
    pub(crate) fn sp(b: &mut Vec<u8>) {
        head(b, *b"SP", SP_LEN);
        b.extend_from_slice(&[0xBE, 0xEF, 0]);
    }

    /// ER: the Rock Ridge extension is in use (SUSP 5.5).
    pub(crate) fn er(b: &mut Vec<u8>) {
        head(b, *b"ER", er_len());
        b.push(u8::try_from(ER_ID.len()).unwrap_or(0));
        b.push(u8::try_from(ER_DES.len()).unwrap_or(0));
        b.push(u8::try_from(ER_SRC.len()).unwrap_or(0));
        b.push(1);
        b.extend_from_slice(ER_ID);
        b.extend_from_slice(ER_DES);
        b.extend_from_slice(ER_SRC);
    }

    /// Bytes of the ER entry.
    pub(crate) fn er_len() -> usize {
        8 + ER_ID.len() + ER_DES.len() + ER_SRC.len()
    }

    /// CE: the rest of the entries are at `block`/`offset`, `len` bytes (SUSP 5.1).
    pub(crate) fn ce(b: &mut Vec<u8>, block: u32, offset: u32, len: u32) {
        head(b, *b"CE", CE_LEN);
        let at = b.len();
        b.resize(at + 24, 0);
        both32(b, at, block);
        both32(b, at + 8, offset);
        both32(b, at + 16, len);
    }

    /// PX: POSIX mode, links, owner 0, group 0, serial number (RRIP 4.1.1).
    pub(crate) fn px(b: &mut Vec<u8>, mode: u32, links: u32, serial: u32) {
        head(b, *b"PX", PX_LEN);
        let at = b.len();
        b.resize(at + 40, 0);
        both32(b, at, mode);
        both32(b, at + 8, links);
        both32(b, at + 32, serial);
    }

    /// TF: modification, access and attribute change times (RRIP 4.1.6).
    pub(crate) fn tf(b: &mut Vec<u8>, date: [u8; 7]) {
        head(b, *b"TF", TF_LEN);
        b.push(0x0E);
        for _ in 0..3 {
            b.extend_from_slice(&date);
        }
    }

    /// NM: the name (RRIP 4.1.4).
    pub(crate) fn nm(b: &mut Vec<u8>, name: &[u8]) {
        head(b, *b"NM", 5 + name.len());
        b.push(0);
        b.extend_from_slice(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_path_entries_have_their_layout() {
        let r = Record {
            extent: 0x0102_0304,
            size: 2048,
            date: [126, 11, 30, 19, 54, 28, 0],
            dir: true,
            more: false,
            id: b"\0",
            system_use: &[],
        }
        .encode();
        assert_eq!(r.len(), 34);
        assert_eq!(r[0], 34);
        assert_eq!(&r[2..10], &[4, 3, 2, 1, 1, 2, 3, 4]);
        assert_eq!(r[25], 2);
        assert_eq!(&r[28..32], &[1, 0, 0, 1]);
        assert_eq!(record_len(10, 0), 44);
        assert_eq!(record_len(11, 7), 52);
        let p = path_entry(b"ABC", 20, 1, true);
        assert_eq!(p, [3, 0, 0, 0, 0, 20, 0, 1, b'A', b'B', b'C', 0]);
        assert_eq!(rr::er_len(), 237);
    }

    #[test]
    fn records_never_cross_a_sector() {
        let mut p = Packer::default();
        for _ in 0..61 {
            p.push(&[1u8; 34]);
        }
        let size = Packer::size(std::iter::repeat_n(34, 61));
        let out = p.finish();
        assert_eq!(out.len() as u64, size);
        assert_eq!(size, 2 * 2048, "61 records of 34 bytes: 2 sectors");
        assert_eq!(
            out[2040..2048],
            [0; 8],
            "the first sector's tail is padding"
        );
        assert_eq!(out[2048], 1, "the 61st record starts the second sector");
    }
}
