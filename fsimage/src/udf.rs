//! UDF 1.02 structures (ECMA-167 3rd edition, OSTA UDF 1.02) for a
//! read-only volume of one partition: the volume recognition sequence, the
//! anchor, the volume descriptor sequence, the integrity descriptor, the file
//! set descriptor, file entries and file identifier descriptors.
//!
//! Every descriptor starts with a 16-byte tag (ECMA-167 3/7.2) whose
//! checksum covers the tag and whose CRC (CRC-ITU-T, x^16 + x^12 + x^5 + 1,
//! initial 0) covers the rest of the descriptor.

use crate::names::{cs0, dstring};

/// Logical (and physical) block size.
pub(crate) const BLOCK: usize = 2048;
/// Descriptor version of UDF 1.02 (ECMA-167 2nd edition tags).
const DESCRIPTOR_VERSION: u16 = 2;
/// UDF revision 1.02 as recorded in entity identifiers and the LVID.
const UDF_REVISION: u16 = 0x0102;
/// Largest extent one allocation descriptor may describe: 2^30 bytes less a
/// block, a whole number of blocks (ECMA-167 4/14.14.1.1).
pub(crate) const MAX_EXTENT: u64 = (1 << 30) - BLOCK as u64;

/// Tag identifiers (ECMA-167 3/7.2.1 and 4/7.2.1).
mod tag {
    pub(super) const PVD: u16 = 1;
    pub(super) const AVDP: u16 = 2;
    pub(super) const IUVD: u16 = 4;
    pub(super) const PD: u16 = 5;
    pub(super) const LVD: u16 = 6;
    pub(super) const USD: u16 = 7;
    pub(super) const TD: u16 = 8;
    pub(super) const LVID: u16 = 9;
    pub(super) const FSD: u16 = 256;
    pub(super) const FID: u16 = 257;
    pub(super) const FE: u16 = 261;
}

/// CRC-ITU-T over `data` (ECMA-167 3/7.2.6).
pub(crate) fn crc(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Fills in the tag of the descriptor in `d` (its first 16 bytes), the CRC
/// covering `d[16..]`.
fn seal(d: &mut [u8], id: u16, location: u32) {
    put16(d, 0, id);
    put16(d, 2, DESCRIPTOR_VERSION);
    put16(d, 6, 1); // tag serial number
    let body = &d[16..];
    let (c, n) = (crc(body), u16::try_from(body.len()).unwrap_or(u16::MAX));
    put16(d, 8, c);
    put16(d, 10, n);
    put32(d, 12, location);
    d[4] = 0;
    let sum = d[..16]
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 4)
        .fold(0u8, |s, (_, b)| s.wrapping_add(*b));
    d[4] = sum;
}

/// An entity identifier (ECMA-167 1/7.4): flags 0, the identifier, a suffix.
fn regid(id: &str, suffix: &[u8]) -> [u8; 32] {
    let mut r = [0u8; 32];
    let id = id.as_bytes();
    r[1..=id.len().min(23)].copy_from_slice(&id[..id.len().min(23)]);
    r[24..24 + suffix.len().min(8)].copy_from_slice(&suffix[..suffix.len().min(8)]);
    r
}

/// The domain identifier of UDF 1.02 (UDF 2.1.5.2).
fn domain() -> [u8; 32] {
    let mut suffix = [0u8; 8];
    suffix[..2].copy_from_slice(&UDF_REVISION.to_le_bytes());
    regid("*OSTA UDF Compliant", &suffix)
}

/// A UDF identifier suffix (UDF 2.1.5.3) naming revision 1.02.
fn udf_suffix() -> [u8; 8] {
    let mut s = [0u8; 8];
    s[..2].copy_from_slice(&UDF_REVISION.to_le_bytes());
    s
}

/// The implementation identifier: this program.
fn implementation() -> [u8; 32] {
    regid("*webburn", &[])
}

/// The character set specification CS0 "OSTA Compressed Unicode" (UDF 2.1.2).
fn charspec() -> [u8; 64] {
    let mut c = [0u8; 64];
    let name = b"OSTA Compressed Unicode";
    c[1..=name.len()].copy_from_slice(name);
    c
}

/// A long allocation descriptor (ECMA-167 4/14.14.2): length, block, partition 0.
fn long_ad(b: &mut [u8], at: usize, len: u32, block: u32) {
    put32(b, at, len);
    put32(b, at + 4, block);
    put16(b, at + 8, 0);
}

/// The volume recognition sequence descriptor `id` (ECMA-167 2/9.1): BEA01, NSR02, TEA01.
pub(crate) fn recognition(id: [u8; 5]) -> Vec<u8> {
    let mut d = vec![0u8; BLOCK];
    d[1..6].copy_from_slice(&id);
    d[6] = 1;
    d
}

/// Where the volume's structures are.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Volume<'a> {
    /// Its name (LogicalVolumeIdentifier and the others).
    pub name: &'a str,
    /// Recording time (ECMA-167 timestamp).
    pub time: [u8; 12],
    /// First sector of the main volume descriptor sequence (16 sectors).
    pub main_vds: u32,
    /// First sector of the reserve sequence (16 sectors).
    pub reserve_vds: u32,
    /// First sector of the integrity sequence (2 sectors).
    pub integrity: u32,
    /// First sector of the partition.
    pub partition_start: u32,
    /// Sectors in the partition.
    pub partition_len: u32,
    /// Files and folders (for the integrity descriptor).
    pub files: u32,
    /// Folders, root included.
    pub dirs: u32,
    /// The next unique ID to be used.
    pub next_unique_id: u64,
}

/// The anchor volume descriptor pointer at `location` (ECMA-167 3/10.2).
pub(crate) fn anchor(v: &Volume<'_>, location: u32) -> Vec<u8> {
    let mut d = vec![0u8; 512];
    put32(&mut d, 16, len32(16 * BLOCK));
    put32(&mut d, 20, v.main_vds);
    put32(&mut d, 24, len32(16 * BLOCK));
    put32(&mut d, 28, v.reserve_vds);
    seal(&mut d, tag::AVDP, location);
    d.resize(BLOCK, 0);
    d
}

/// The six descriptors of a volume descriptor sequence starting at `start`,
/// one a sector: PVD, IUVD, PD, LVD, USD, TD (ECMA-167 3/10).
pub(crate) fn descriptor_sequence(v: &Volume<'_>, start: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(6 * BLOCK);
    let mut push = |mut d: Vec<u8>, id: u16, n: u32| {
        seal(&mut d, id, start + n);
        d.resize(BLOCK, 0);
        out.extend_from_slice(&d);
    };
    // Primary volume descriptor (3/10.1).
    let mut d = vec![0u8; 512];
    put32(&mut d, 16, 0); // sequence number
    d[24..56].copy_from_slice(&dstring(v.name, 32));
    put16(&mut d, 56, 1);
    put16(&mut d, 58, 1);
    put16(&mut d, 60, 2);
    put16(&mut d, 62, 2);
    put32(&mut d, 64, 1);
    put32(&mut d, 68, 1);
    // Volume set identifier: a unique part first (UDF 2.2.2.5).
    let set = format!(
        "{:08X}{}",
        u32::from_le_bytes([v.time[2], v.time[3], v.time[7], v.time[8]]),
        v.name
    );
    d[72..200].copy_from_slice(&dstring(&set, 128));
    d[200..264].copy_from_slice(&charspec());
    d[264..328].copy_from_slice(&charspec());
    d[344..376].copy_from_slice(&implementation());
    d[376..388].copy_from_slice(&v.time);
    d[388..420].copy_from_slice(&implementation());
    push(d, tag::PVD, 0);
    // Implementation use volume descriptor (UDF 2.2.7).
    let mut d = vec![0u8; 512];
    put32(&mut d, 16, 1);
    d[20..52].copy_from_slice(&regid("*UDF LV Info", &udf_suffix()));
    d[52..116].copy_from_slice(&charspec());
    d[116..244].copy_from_slice(&dstring(v.name, 128));
    d[352..384].copy_from_slice(&implementation());
    push(d, tag::IUVD, 1);
    // Partition descriptor (3/10.5): read-only, partition 0.
    let mut d = vec![0u8; 512];
    put32(&mut d, 16, 2);
    put16(&mut d, 20, 1); // allocated
    put16(&mut d, 22, 0);
    d[24..56].copy_from_slice(&regid("+NSR02", &[]));
    put32(&mut d, 184, 1); // read-only access
    put32(&mut d, 188, v.partition_start);
    put32(&mut d, 192, v.partition_len);
    d[196..228].copy_from_slice(&implementation());
    push(d, tag::PD, 2);
    // Logical volume descriptor (3/10.6) with one type 1 partition map.
    let mut d = vec![0u8; 446];
    put32(&mut d, 16, 3);
    d[20..84].copy_from_slice(&charspec());
    d[84..212].copy_from_slice(&dstring(v.name, 128));
    put32(&mut d, 212, len32(BLOCK));
    d[216..248].copy_from_slice(&domain());
    long_ad(&mut d, 248, len32(BLOCK), 0); // the file set descriptor
    put32(&mut d, 264, 6);
    put32(&mut d, 268, 1);
    d[272..304].copy_from_slice(&implementation());
    put32(&mut d, 432, len32(2 * BLOCK));
    put32(&mut d, 436, v.integrity);
    d[440] = 1;
    d[441] = 6;
    put16(&mut d, 442, 1);
    put16(&mut d, 444, 0);
    push(d, tag::LVD, 3);
    // Unallocated space descriptor (3/10.8): none.
    let mut d = vec![0u8; 24];
    put32(&mut d, 16, 4);
    push(d, tag::USD, 4);
    push(vec![0u8; 512], tag::TD, 5);
    out
}

/// The logical volume integrity descriptor, closed, and a terminator after
/// it (ECMA-167 3/10.10), at `start`.
pub(crate) fn integrity(v: &Volume<'_>, start: u32) -> Vec<u8> {
    let mut d = vec![0u8; 134];
    d[16..28].copy_from_slice(&v.time);
    put32(&mut d, 28, 1); // close
    put64(&mut d, 40, v.next_unique_id);
    put32(&mut d, 72, 1);
    put32(&mut d, 76, 46);
    put32(&mut d, 80, 0); // free space
    put32(&mut d, 84, v.partition_len);
    d[88..120].copy_from_slice(&implementation());
    put32(&mut d, 120, v.files);
    put32(&mut d, 124, v.dirs);
    put16(&mut d, 128, UDF_REVISION);
    put16(&mut d, 130, UDF_REVISION);
    put16(&mut d, 132, UDF_REVISION);
    seal(&mut d, tag::LVID, start);
    d.resize(BLOCK, 0);
    let mut t = vec![0u8; 512];
    seal(&mut t, tag::TD, start + 1);
    t.resize(BLOCK, 0);
    d.extend_from_slice(&t);
    d
}

/// The file set descriptor at partition block 0 and a terminator at block
/// 1 (ECMA-167 4/14.1), the root folder's file entry at `root`.
pub(crate) fn file_set(v: &Volume<'_>, root: u32) -> Vec<u8> {
    let mut d = vec![0u8; 512];
    d[16..28].copy_from_slice(&v.time);
    put16(&mut d, 28, 3);
    put16(&mut d, 30, 3);
    put32(&mut d, 32, 1);
    put32(&mut d, 36, 1);
    d[48..112].copy_from_slice(&charspec());
    d[112..240].copy_from_slice(&dstring(v.name, 128));
    d[240..304].copy_from_slice(&charspec());
    d[304..336].copy_from_slice(&dstring(v.name, 32));
    long_ad(&mut d, 400, len32(BLOCK), root);
    d[416..448].copy_from_slice(&domain());
    seal(&mut d, tag::FSD, 0);
    d.resize(BLOCK, 0);
    let mut t = vec![0u8; 512];
    seal(&mut t, tag::TD, 1);
    t.resize(BLOCK, 0);
    d.extend_from_slice(&t);
    d
}

/// What a file entry describes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// A folder (else a file).
    pub dir: bool,
    /// Bytes of the file, or of the folder's identifier descriptors.
    pub size: u64,
    /// First partition block of the data (the extents follow one another).
    pub block: u32,
    /// Links: 1 for a file; 1 + subfolders for a folder.
    pub links: u16,
    /// Unique ID (0 for the root).
    pub unique_id: u64,
    /// Modification time.
    pub time: [u8; 12],
}

/// Allocation descriptors a file entry of one block can hold.
pub(crate) const MAX_EXTENTS: u64 = ((BLOCK - 176) / 8) as u64;

/// A file entry (ECMA-167 4/14.9) at partition block `location`, its data in
/// short allocation descriptors of at most [`MAX_EXTENT`] bytes each.
pub(crate) fn file_entry(e: &Entry, location: u32) -> Vec<u8> {
    let mut ads = Vec::new();
    let (mut left, mut block) = (e.size, e.block);
    while left > 0 {
        let n = left.min(MAX_EXTENT);
        let mut ad = [0u8; 8];
        ad[..4].copy_from_slice(&u32::try_from(n).unwrap_or(0).to_le_bytes());
        ad[4..].copy_from_slice(&block.to_le_bytes());
        ads.extend_from_slice(&ad);
        left -= n;
        block += u32::try_from(n / BLOCK as u64).unwrap_or(0);
    }
    let mut d = vec![0u8; 176 + ads.len()];
    // ICB tag (4/14.6): strategy 4, one entry, type folder (4) or file (5),
    // short allocation descriptors.
    put16(&mut d, 20, 4);
    put16(&mut d, 24, 1);
    d[27] = if e.dir { 4 } else { 5 };
    put16(&mut d, 34, 0);
    put32(&mut d, 36, u32::MAX); // uid: not recorded
    put32(&mut d, 40, u32::MAX); // gid
    // Read (and search) for owner, group and others (4/14.9.5).
    let perm: u32 = if e.dir { 0x14A5 } else { 0x1084 };
    put32(&mut d, 44, perm);
    put16(&mut d, 48, e.links);
    put64(&mut d, 56, e.size);
    put64(&mut d, 64, e.size.div_ceil(BLOCK as u64));
    d[72..84].copy_from_slice(&e.time);
    d[84..96].copy_from_slice(&e.time);
    d[96..108].copy_from_slice(&e.time);
    put32(&mut d, 108, 1);
    d[128..160].copy_from_slice(&implementation());
    put64(&mut d, 160, e.unique_id);
    put32(&mut d, 168, 0);
    put32(&mut d, 172, len32(ads.len()));
    d[176..].copy_from_slice(&ads);
    seal(&mut d, tag::FE, location);
    d.resize(BLOCK, 0);
    d
}

/// Bytes of the file identifier descriptor of a name of `cs0_len` bytes.
pub(crate) fn fid_len(cs0_len: usize) -> usize {
    (38 + cs0_len).div_ceil(4) * 4
}

/// One file identifier descriptor (ECMA-167 4/14.4) naming the file entry
/// at partition block `entry`; `name` empty for the parent entry. `location`
/// is the partition block the descriptor starts in.
pub(crate) fn fid(
    name: Option<&str>,
    dir: bool,
    entry: u32,
    unique_id: u64,
    location: u32,
) -> Vec<u8> {
    let id = name.map(cs0).unwrap_or_default();
    let mut d = vec![0u8; fid_len(id.len())];
    put16(&mut d, 16, 1);
    d[18] = match (dir, name.is_none()) {
        (_, true) => 0x0A, // parent, folder
        (true, false) => 0x02,
        (false, false) => 0,
    };
    d[19] = u8::try_from(id.len()).unwrap_or(0);
    long_ad(&mut d, 20, len32(BLOCK), entry);
    // Implementation use of the long_ad: flags 0, the unique ID's low 32 bits.
    put32(
        &mut d,
        32,
        u32::try_from(unique_id & 0xFFFF_FFFF).unwrap_or(0),
    );
    put16(&mut d, 36, 0);
    d[38..38 + id.len()].copy_from_slice(&id);
    seal(&mut d, tag::FID, location);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_itu_t_matches_its_check_value() {
        // The standard check value of CRC-16/XMODEM ("123456789").
        assert_eq!(crc(b"123456789"), 0x31C3);
    }

    #[test]
    fn a_tag_checksums_and_crcs_its_descriptor() {
        let d = fid(Some("a.txt"), false, 7, 16, 3);
        assert_eq!(d.len(), 44);
        assert_eq!(u16::from_le_bytes([d[0], d[1]]), 257);
        let sum = d[..16]
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 4)
            .fold(0u8, |s, (_, b)| s.wrapping_add(*b));
        assert_eq!(d[4], sum);
        assert_eq!(u16::from_le_bytes([d[8], d[9]]), crc(&d[16..]));
        assert_eq!(u16::from_le_bytes([d[10], d[11]]), 28);
        assert_eq!(u32::from_le_bytes([d[12], d[13], d[14], d[15]]), 3);
    }

    #[test]
    fn large_files_take_several_extents() {
        let e = Entry {
            dir: false,
            size: 3 * MAX_EXTENT + 5,
            block: 100,
            links: 1,
            unique_id: 20,
            time: [0; 12],
        };
        let d = file_entry(&e, 50);
        assert_eq!(u32::from_le_bytes([d[172], d[173], d[174], d[175]]), 32);
        let ad = |i: usize| {
            let at = 176 + 8 * i;
            (
                u32::from_le_bytes([d[at], d[at + 1], d[at + 2], d[at + 3]]),
                u32::from_le_bytes([d[at + 4], d[at + 5], d[at + 6], d[at + 7]]),
            )
        };
        let blocks = u32::try_from(MAX_EXTENT / BLOCK as u64).unwrap();
        assert_eq!(ad(1), (u32::try_from(MAX_EXTENT).unwrap(), 100 + blocks));
        assert_eq!(ad(3), (5, 100 + 3 * blocks));
    }
}
