//! The image in order, as pieces: metadata made when it is reached (one
//! folder at a time), and each file's data as a reference to its source
//! with the zeros that fill its last sector. Nothing is seeked; memory holds
//! the plan and one piece.

use crate::iso9660::{self, Descriptor, Packer, Record, rr};
use crate::layout::{
    Child, DIR_MODE, Extent, FILE_MODE, PARTITION_START, Plan, SECTOR, inline_su, iso_extents,
};
use crate::time::Civil;
use crate::udf;

/// One piece of the image.
#[derive(Debug)]
pub enum Piece<'a, S> {
    /// Metadata: whole sectors.
    Bytes(Vec<u8>),
    /// A file's data: `size` bytes read from `source`, then `pad` zero bytes.
    File {
        /// Its index among the plan's files.
        index: usize,
        /// Its name (for messages).
        name: String,
        /// Where its bytes come from.
        source: &'a S,
        /// Bytes to read.
        size: u64,
        /// Zeros after them, to the end of the sector.
        pad: u64,
    },
}

/// What the descriptors say of the volume as a whole.
#[derive(Debug, Clone)]
pub struct Volume {
    /// VolumeName.
    pub name: String,
    /// Creation time, Unix seconds.
    pub created: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Head,
    FileSet,
    PathTables,
    IsoDir(usize),
    Continuation,
    JolietDir(usize),
    UdfDir(usize),
    UdfFile(usize),
    Data(usize),
    Tail,
    Done,
}

/// Metadata pieces are gathered up to this size: fewer, larger pieces
/// (10,000 files' 2 KiB UDF file entries become a handful of reads or Blob
/// parts instead of 10,000).
const GATHER: usize = 1 << 20;

/// The pieces of an image, in order; consecutive metadata comes as one
/// piece of up to [`GATHER`] bytes.
#[derive(Debug)]
pub struct Pieces<'p, 'a, S> {
    plan: &'p Plan<'a, S>,
    volume: &'p Volume,
    step: Step,
    /// A file piece met while gathering metadata, handed out next.
    held: Option<Piece<'a, S>>,
}

impl<'p, 'a, S> Pieces<'p, 'a, S> {
    /// The pieces of `plan`.
    pub fn new(plan: &'p Plan<'a, S>, volume: &'p Volume) -> Self {
        Pieces {
            plan,
            volume,
            step: Step::Head,
            held: None,
        }
    }
}

fn date(unix: i64) -> [u8; 7] {
    Civil::from_unix(unix).iso_record()
}

fn u32_of(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Pads `b` with zeros to whole sectors.
fn sectors(mut b: Vec<u8>) -> Vec<u8> {
    let len = (b.len() as u64).div_ceil(SECTOR).max(1) * SECTOR;
    b.resize(usize::try_from(len).unwrap_or(0), 0);
    b
}

impl<S> Plan<'_, S> {
    fn udf_volume<'v>(&self, volume: &'v Volume) -> udf::Volume<'v> {
        udf::Volume {
            name: &volume.name,
            time: Civil::from_unix(volume.created).udf(),
            main_vds: 32,
            reserve_vds: 48,
            integrity: 64,
            partition_start: PARTITION_START,
            partition_len: u32_of(self.total_sectors - 1 - u64::from(PARTITION_START)),
            files: u32_of(self.files.len() as u64),
            dirs: u32_of(self.dirs.len() as u64),
            next_unique_id: self.next_unique_id,
        }
    }

    /// The record of folder `d` as its own "." (no identifier), for the volume descriptors.
    fn root_record(&self, joliet: bool) -> Vec<u8> {
        let root = &self.dirs[0];
        let e = if joliet { root.joliet } else { root.iso };
        Record {
            extent: e.lba,
            size: u32_of(e.bytes),
            date: date(root.names.mtime),
            dir: true,
            more: false,
            id: &[0],
            system_use: &[],
        }
        .encode()
    }

    /// Sectors 0 to 256: system area, volume descriptors, recognition
    /// sequence, UDF volume descriptor sequences, integrity, anchor.
    fn head(&self, volume: &Volume) -> Vec<u8> {
        let mut out = vec![0u8; 257 * 2048];
        let mut at = 16 * 2048;
        let mut put = |out: &mut Vec<u8>, b: &[u8]| {
            out[at..at + b.len()].copy_from_slice(b);
            at += b.len();
        };
        let created = Civil::from_unix(volume.created).iso_descriptor();
        if self.systems.iso9660() {
            let trees = [(false, self.iso_path), (true, self.joliet_path)];
            for (joliet, (bytes, l_table, m_table)) in trees {
                if joliet && !self.systems.joliet() {
                    continue;
                }
                let root = self.root_record(joliet);
                put(
                    &mut out,
                    &iso9660::volume_descriptor(&Descriptor {
                        joliet,
                        name: &volume.name,
                        volume_sectors: self.total_sectors + u64::from(self.base),
                        path_table_bytes: bytes,
                        l_path_table: l_table,
                        m_path_table: m_table,
                        root: &root,
                        created,
                    }),
                );
            }
            put(&mut out, &iso9660::terminator());
        }
        if self.systems.udf() {
            for id in [*b"BEA01", *b"NSR02", *b"TEA01"] {
                put(&mut out, &udf::recognition(id));
            }
            let v = self.udf_volume(volume);
            let main = udf::descriptor_sequence(&v, 32);
            out[32 * 2048..32 * 2048 + main.len()].copy_from_slice(&main);
            let reserve = udf::descriptor_sequence(&v, 48);
            out[48 * 2048..48 * 2048 + reserve.len()].copy_from_slice(&reserve);
            let lvid = udf::integrity(&v, 64);
            out[64 * 2048..64 * 2048 + lvid.len()].copy_from_slice(&lvid);
            out[256 * 2048..].copy_from_slice(&udf::anchor(&v, 256));
        }
        out
    }

    /// The Rock Ridge system use area of one record.
    fn system_use(&self, c: Option<Child>, dot_of: Option<usize>, root_dot: bool) -> Vec<u8> {
        let mut su = Vec::new();
        if root_dot {
            rr::sp(&mut su);
        }
        let (mode, links, serial, mtime) = match (c, dot_of) {
            (Some(Child::File(f)), _) => {
                let n = &self.files[f].names;
                (FILE_MODE, 1, n.serial, n.mtime)
            }
            (Some(Child::Dir(d)), _) | (None, Some(d)) => {
                let dir = &self.dirs[d];
                (DIR_MODE, 2 + dir.subdirs, dir.names.serial, dir.names.mtime)
            }
            (None, None) => (DIR_MODE, 2, 0, 0),
        };
        rr::px(&mut su, mode, links, serial);
        rr::tf(&mut su, date(mtime));
        if root_dot && let Some(s) = self.er_slot {
            rr::ce(&mut su, s.lba, s.offset, s.len);
        }
        if let Some(c) = c {
            let n = self.names(c);
            if inline_su(n.iso.len(), Some(n.name.len())).1 {
                rr::nm(&mut su, n.name.as_bytes());
            } else if let Some(s) = n.continuation {
                rr::ce(&mut su, s.lba, s.offset, s.len);
            }
        }
        su
    }

    /// The extents a child's records point at: one for a folder, one per
    /// 4 GiB - 2 KiB for a file.
    fn extents(&self, c: Child, joliet: bool) -> Vec<(u32, u32, bool)> {
        match c {
            Child::Dir(d) => {
                let e = if joliet {
                    self.dirs[d].joliet
                } else {
                    self.dirs[d].iso
                };
                vec![(e.lba, u32_of(e.bytes), true)]
            }
            Child::File(f) => {
                let data = self.files[f].data;
                let n = iso_extents(data.bytes);
                (0..n)
                    .map(|k| {
                        let off = k * iso9660::MAX_EXTENT;
                        let size = (data.bytes - off.min(data.bytes)).min(iso9660::MAX_EXTENT);
                        let lba = if data.bytes == 0 {
                            0
                        } else {
                            data.lba + u32_of(off / SECTOR)
                        };
                        (lba, u32_of(size), false)
                    })
                    .collect()
            }
        }
    }

    /// One record per extent of child `c`, into `p`: its ISO 9660 or its
    /// Joliet identifier, and the system use area `su`.
    fn push_child(&self, p: &mut Packer, c: Child, joliet: bool, su: &[u8]) {
        let n = self.names(c);
        let id = if joliet { &n.joliet } else { &n.iso };
        let records = self.extents(c, joliet);
        let last = records.len() - 1;
        for (k, (lba, size, is_dir)) in records.into_iter().enumerate() {
            p.push(
                &Record {
                    extent: lba,
                    size,
                    date: date(n.mtime),
                    dir: is_dir,
                    more: k < last,
                    id,
                    system_use: su,
                }
                .encode(),
            );
        }
    }

    fn iso_dir(&self, d: usize) -> Vec<u8> {
        let dir = &self.dirs[d];
        let parent = &self.dirs[dir.parent];
        let mut p = Packer::default();
        let dot_su = self.system_use(None, Some(d), d == 0);
        let dotdot_su = self.system_use(None, Some(dir.parent), false);
        p.push(&Self::record(dir.iso, &[0], &dot_su, dir.names.mtime));
        p.push(&Self::record(parent.iso, &[1], &dotdot_su, dir.names.mtime));
        for c in self.iso_sorted(d) {
            let su = self.system_use(Some(c), None, false);
            self.push_child(&mut p, c, false, &su);
        }
        p.finish()
    }

    fn record(e: Extent, id: &[u8], su: &[u8], mtime: i64) -> Vec<u8> {
        Record {
            extent: e.lba,
            size: u32_of(e.bytes),
            date: date(mtime),
            dir: true,
            more: false,
            id,
            system_use: su,
        }
        .encode()
    }

    fn joliet_dir(&self, d: usize) -> Vec<u8> {
        let dir = &self.dirs[d];
        let parent = &self.dirs[dir.parent];
        let mut p = Packer::default();
        p.push(&Self::record(dir.joliet, &[0], &[], dir.names.mtime));
        p.push(&Self::record(parent.joliet, &[1], &[], dir.names.mtime));
        for c in self.joliet_sorted(d) {
            self.push_child(&mut p, c, true, &[]);
        }
        p.finish()
    }

    fn path_tables(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut table = |order: &[usize], joliet: bool, big: bool| {
            let mut t = Vec::new();
            for &d in order {
                let dir = &self.dirs[d];
                let parent = &self.dirs[dir.parent];
                let (id, extent, number) = if joliet {
                    (&dir.names.joliet, dir.joliet.lba, parent.joliet_number)
                } else {
                    (&dir.names.iso, dir.iso.lba, parent.iso_number)
                };
                t.extend(iso9660::path_entry(id, extent, number, big));
            }
            out.extend(sectors(t));
        };
        let iso_order: Vec<usize> = (0..self.dirs.len()).collect();
        table(&iso_order, false, false);
        table(&iso_order, false, true);
        if self.systems.joliet() {
            table(&self.joliet_order, true, false);
            table(&self.joliet_order, true, true);
        }
        out
    }

    fn continuation_area(&self) -> Vec<u8> {
        let len = usize::try_from(self.continuation.bytes).unwrap_or(0);
        let mut out = vec![0u8; len];
        let base = u64::from(self.continuation.lba) * SECTOR;
        let mut put = |slot: crate::layout::Slot, bytes: &[u8]| {
            let at = usize::try_from(u64::from(slot.lba) * SECTOR + u64::from(slot.offset) - base)
                .unwrap_or(0);
            out[at..at + bytes.len()].copy_from_slice(bytes);
        };
        if let Some(s) = self.er_slot {
            let mut er = Vec::new();
            rr::er(&mut er);
            put(s, &er);
        }
        let all = self
            .dirs
            .iter()
            .map(|d| &d.names)
            .chain(self.files.iter().map(|f| &f.names));
        for n in all {
            if let Some(s) = n.continuation {
                let mut nm = Vec::new();
                rr::nm(&mut nm, n.name.as_bytes());
                put(s, &nm);
            }
        }
        out
    }

    /// Partition block of absolute sector `lba`.
    fn block(lba: u32) -> u32 {
        lba.saturating_sub(PARTITION_START)
    }

    fn udf_dir(&self, d: usize, volume: &Volume) -> Vec<u8> {
        let dir = &self.dirs[d];
        let time = Civil::from_unix(dir.names.mtime).udf();
        let _ = volume;
        let mut out = udf::file_entry(
            &udf::Entry {
                dir: true,
                size: dir.udf.bytes,
                block: Self::block(dir.udf.lba),
                links: u16::try_from(1 + dir.subdirs).unwrap_or(u16::MAX),
                unique_id: dir.names.unique_id,
                time,
            },
            Self::block(dir.names.udf_entry),
        );
        let start = Self::block(dir.udf.lba);
        let mut fids: Vec<u8> = Vec::new();
        let mut push = |name: Option<&str>, is_dir: bool, entry: u32, uid: u64| {
            let at = u32_of(fids.len() as u64 / SECTOR);
            fids.extend(udf::fid(name, is_dir, Self::block(entry), uid, start + at));
        };
        let parent = &self.dirs[dir.parent];
        push(None, true, parent.names.udf_entry, parent.names.unique_id);
        for &c in &dir.children {
            let n = self.names(c);
            push(
                Some(&n.name),
                matches!(c, Child::Dir(_)),
                n.udf_entry,
                n.unique_id,
            );
        }
        out.extend(sectors(fids));
        out
    }

    fn udf_file(&self, f: usize) -> Vec<u8> {
        let file = &self.files[f];
        udf::file_entry(
            &udf::Entry {
                dir: false,
                size: file.data.bytes,
                block: Self::block(file.data.lba),
                links: 1,
                unique_id: file.names.unique_id,
                time: Civil::from_unix(file.names.mtime).udf(),
            },
            Self::block(file.names.udf_entry),
        )
    }
}

impl<'a, S> Iterator for Pieces<'_, 'a, S> {
    type Item = Piece<'a, S>;

    fn next(&mut self) -> Option<Piece<'a, S>> {
        if let Some(held) = self.held.take() {
            return Some(held);
        }
        let mut gathered: Vec<u8> = Vec::new();
        loop {
            match self.next_piece() {
                Some(Piece::Bytes(b)) if gathered.is_empty() && b.len() >= GATHER => {
                    return Some(Piece::Bytes(b));
                }
                Some(Piece::Bytes(b)) => {
                    gathered.extend_from_slice(&b);
                    if gathered.len() >= GATHER {
                        return Some(Piece::Bytes(gathered));
                    }
                }
                Some(file) if gathered.is_empty() => return Some(file),
                Some(file) => {
                    self.held = Some(file);
                    return Some(Piece::Bytes(gathered));
                }
                None if gathered.is_empty() => return None,
                None => return Some(Piece::Bytes(gathered)),
            }
        }
    }
}

impl<'a, S> Pieces<'_, 'a, S> {
    /// The next piece as the plan makes it (one structure at a time).
    fn next_piece(&mut self) -> Option<Piece<'a, S>> {
        let plan = self.plan;
        let (iso, joliet, udf) = (
            plan.systems.iso9660(),
            plan.systems.joliet(),
            plan.systems.udf(),
        );
        let (dirs, files) = (plan.dirs.len(), plan.files.len());
        loop {
            let (piece, next) = match self.step {
                Step::Head => (Some(plan.head(self.volume)), Step::FileSet),
                Step::FileSet if udf => {
                    let v = plan.udf_volume(self.volume);
                    let root = Plan::<S>::block(plan.dirs[0].names.udf_entry);
                    (Some(udf::file_set(&v, root)), Step::PathTables)
                }
                Step::FileSet => (None, Step::PathTables),
                Step::PathTables if iso => (Some(plan.path_tables()), Step::IsoDir(0)),
                Step::IsoDir(d) if d < dirs => (Some(plan.iso_dir(d)), Step::IsoDir(d + 1)),
                Step::IsoDir(_) => (None, Step::Continuation),
                Step::Continuation => (Some(plan.continuation_area()), Step::JolietDir(0)),
                Step::JolietDir(i) if joliet && i < dirs => (
                    Some(plan.joliet_dir(plan.joliet_order[i])),
                    Step::JolietDir(i + 1),
                ),
                Step::JolietDir(_) | Step::PathTables => (None, Step::UdfDir(0)),
                Step::UdfDir(d) if udf && d < dirs => {
                    (Some(plan.udf_dir(d, self.volume)), Step::UdfDir(d + 1))
                }
                Step::UdfDir(_) => (None, Step::UdfFile(0)),
                Step::UdfFile(f) if udf && f < files => {
                    (Some(plan.udf_file(f)), Step::UdfFile(f + 1))
                }
                Step::UdfFile(_) => (None, Step::Data(0)),
                Step::Data(f) if f < files => {
                    let file = &plan.files[f];
                    self.step = Step::Data(f + 1);
                    // Empty files and a previous session's have no data here.
                    let Some(item) = file.item.filter(|_| file.data.bytes > 0) else {
                        continue;
                    };
                    return Some(Piece::File {
                        index: f,
                        name: file.names.name.clone(),
                        source: &item.source,
                        size: file.data.bytes,
                        pad: file.data.sectors() * SECTOR - file.data.bytes,
                    });
                }
                Step::Data(_) => (None, Step::Tail),
                Step::Tail if udf => {
                    let v = plan.udf_volume(self.volume);
                    (
                        Some(udf::anchor(&v, u32_of(plan.total_sectors - 1))),
                        Step::Done,
                    )
                }
                Step::Tail | Step::Done => (None, Step::Done),
            };
            let done = self.step == Step::Done;
            self.step = next;
            match piece {
                Some(b) if !b.is_empty() => return Some(Piece::Bytes(b)),
                _ if done => return None,
                _ => {}
            }
        }
    }
}
