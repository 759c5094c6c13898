//! The whole image laid out from names and sizes alone, before any byte of
//! data is read: every folder's records and descriptors and every file's
//! extent get their sector, so the total is known first and the image can
//! then be produced in one forward pass.
//!
//! Sectors, in order:
//!
//! | sectors | what |
//! |---|---|
//! | 0-15 | system area (zeros) |
//! | 16-18 | ISO 9660 primary, Joliet supplementary, terminator (ECMA-119 8) |
//! | 19-21 | UDF volume recognition: BEA01, NSR02, TEA01 (ECMA-167 2/8.3) |
//! | 32-47, 48-63 | UDF main and reserve volume descriptor sequences |
//! | 64-65 | UDF logical volume integrity descriptor, terminator |
//! | 256 | UDF anchor (ECMA-167 3/8.4.2.1) |
//! | 257- | the UDF partition: file set descriptor, then ISO 9660 path tables, folders and Rock Ridge continuation areas, Joliet path tables and folders, UDF file entries and folders, then every file's data (shared by all three trees) |
//! | last | the second UDF anchor |

use crate::iso9660::{self, Packer, rr};
use crate::names::{be_bytes, cs0, iso_level1, joliet_names};
use crate::tree::{DirectoryItem, FileItem, Node};
use crate::udf;
use crate::{FileSystems, FsError};

/// Sector size.
pub(crate) const SECTOR: u64 = 2048;
/// Where the UDF partition (and everything after the anchor) starts.
pub(crate) const PARTITION_START: u32 = 257;

/// A run of sectors and the bytes in use.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extent {
    /// First sector.
    pub lba: u32,
    /// Bytes.
    pub bytes: u64,
}

impl Extent {
    /// Sectors it spans.
    pub fn sectors(&self) -> u64 {
        self.bytes.div_ceil(SECTOR)
    }
}

/// A Rock Ridge continuation area: sector, offset, length.
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    /// Sector.
    pub lba: u32,
    /// Offset within it.
    pub offset: u32,
    /// Bytes.
    pub len: u32,
}

/// One entry of a folder, by index into [`Plan::dirs`] or [`Plan::files`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Child {
    /// A folder.
    Dir(usize),
    /// A file.
    File(usize),
}

/// What every tree records of one item.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// The name itself (NFC), for Rock Ridge and UDF.
    pub name: String,
    /// The ISO 9660 identifier.
    pub iso: Vec<u8>,
    /// The Joliet identifier (UTF-16 big-endian bytes).
    pub joliet: Vec<u8>,
    /// Where its NM entry went when it did not fit the record.
    pub continuation: Option<Slot>,
    /// Rock Ridge serial number (inode).
    pub serial: u32,
    /// UDF unique ID.
    pub unique_id: u64,
    /// Its UDF file entry (absolute sector).
    pub udf_entry: u32,
    /// Modification time, Unix seconds.
    pub mtime: i64,
}

/// A folder of the plan.
#[derive(Debug, Clone)]
pub struct Dir {
    /// Its names.
    pub names: Names,
    /// Its parent (the root is its own parent).
    pub parent: usize,
    /// Its entries, in name order.
    pub children: Vec<Child>,
    /// Subfolders.
    pub subdirs: u32,
    /// The ISO 9660 folder extent.
    pub iso: Extent,
    /// The Joliet folder extent.
    pub joliet: Extent,
    /// The UDF identifier descriptors (the folder's data).
    pub udf: Extent,
    /// Path table number in the ISO 9660 and Joliet orders.
    pub iso_number: u16,
    /// Path table number in the Joliet order.
    pub joliet_number: u16,
}

/// A file of the plan.
#[derive(Debug)]
pub struct File<'a, S> {
    /// Its names.
    pub names: Names,
    /// Its folder.
    pub parent: usize,
    /// The caller's item; `None` for a file of a previous session.
    pub item: Option<&'a FileItem<S>>,
    /// Where its data is (0 for an empty file; a previous session's file
    /// keeps its own).
    pub data: Extent,
}

/// The complete layout.
#[derive(Debug)]
pub struct Plan<'a, S> {
    /// Which trees are recorded.
    pub systems: FileSystems,
    /// Folders, the root first, then breadth-first in ISO 9660 order.
    pub dirs: Vec<Dir>,
    /// Folder indices in Joliet's breadth-first order.
    pub joliet_order: Vec<usize>,
    /// Files, in the order their data is recorded.
    pub files: Vec<File<'a, S>>,
    /// The file set descriptor (absolute sector), when UDF is recorded.
    pub file_set: u32,
    /// ISO 9660 path tables: bytes, little- and big-endian sectors.
    pub iso_path: (u32, u32, u32),
    /// Joliet path tables.
    pub joliet_path: (u32, u32, u32),
    /// The Rock Ridge continuation areas.
    pub continuation: Extent,
    /// The root's ER entry.
    pub er_slot: Option<Slot>,
    /// The first sector of file data.
    pub data_start: u32,
    /// Sectors in the image (this session's).
    pub total_sectors: u64,
    /// Where the image is written: 0, or the next session's first sector.
    pub base: u32,
    /// The next UDF unique ID.
    pub next_unique_id: u64,
}

fn sectors32(n: u64) -> Result<u32, FsError> {
    u32::try_from(n).map_err(|_| FsError::ImageTooLarge {
        sectors: n,
        limit: u64::from(u32::MAX),
    })
}

/// Rock Ridge POSIX modes: r-xr-xr-x folders, r--r--r-- files.
pub(crate) const DIR_MODE: u32 = 0o040_555;
/// See [`DIR_MODE`].
pub(crate) const FILE_MODE: u32 = 0o100_444;

/// The system use area of a record naming `name` (empty for "." and "..").
/// Returns its length when the NM entry fits the record, else `None` (a
/// CE entry replaces it).
pub(crate) fn inline_su(id_len: usize, name_len: Option<usize>) -> (usize, bool) {
    let base = rr::PX_LEN + rr::TF_LEN;
    match name_len {
        None => (base, true),
        Some(n) => {
            let with_nm = base + 5 + n;
            if iso9660::record_len(id_len, with_nm) <= 255 {
                (with_nm, true)
            } else {
                (base + rr::CE_LEN, false)
            }
        }
    }
}

/// Records a file takes in its ISO 9660 folder (one per extent).
pub(crate) fn iso_extents(size: u64) -> u64 {
    size.div_ceil(iso9660::MAX_EXTENT).max(1)
}

impl<'a, S> Plan<'a, S> {
    /// Lays out `root` for `systems`, to be written from sector `base`
    /// (every address it records is absolute). A later session (`base` >
    /// 0) records ISO 9660 and Joliet only: UDF cannot refer to the files
    /// of earlier sessions.
    pub fn new(
        root: &'a DirectoryItem<S>,
        systems: FileSystems,
        base: u32,
    ) -> Result<Self, FsError> {
        if !systems.iso9660() && !systems.udf() {
            return Err(FsError::InvalidParam(
                "an image needs ISO 9660 or UDF (Joliet goes with ISO 9660)".into(),
            ));
        }
        if base > 0 && (systems.udf() || !systems.iso9660()) {
            return Err(FsError::InvalidParam(
                "a session added to a disc records ISO 9660 (and Joliet), not UDF".into(),
            ));
        }
        let mut plan = Plan {
            systems,
            dirs: Vec::new(),
            joliet_order: Vec::new(),
            files: Vec::new(),
            file_set: 0,
            iso_path: (0, 0, 0),
            joliet_path: (0, 0, 0),
            continuation: Extent::default(),
            er_slot: None,
            data_start: 0,
            total_sectors: 0,
            base,
            next_unique_id: 16,
        };
        plan.collect(root)?;
        plan.place()?;
        Ok(plan)
    }

    /// Walks the tree breadth-first, naming every item for each tree.
    fn collect(&mut self, root: &'a DirectoryItem<S>) -> Result<(), FsError> {
        let mut items: Vec<&'a DirectoryItem<S>> = vec![root];
        self.dirs.push(Dir {
            names: Names {
                iso: vec![0],
                joliet: vec![0],
                serial: 1,
                mtime: root.mtime,
                ..Names::default()
            },
            parent: 0,
            children: Vec::new(),
            subdirs: 0,
            iso: Extent::default(),
            joliet: Extent::default(),
            udf: Extent::default(),
            iso_number: 1,
            joliet_number: 1,
        });
        let mut serial = 2u32;
        let mut at = 0;
        while at < self.dirs.len() {
            let item = items[at];
            let entries: Vec<(&str, bool)> = item
                .entries()
                .iter()
                .map(|(n, node)| (n.as_str(), matches!(node, Node::Directory(_))))
                .collect();
            let iso = iso_level1(&entries);
            let joliet = joliet_names(&entries);
            // Subfolders join the queue in ISO identifier order.
            let mut order: Vec<usize> = (0..entries.len()).collect();
            order.sort_by(|&a, &b| iso[a].cmp(&iso[b]));
            let mut children = vec![Child::File(0); entries.len()];
            for i in order {
                let (name, node) = &item.entries()[i];
                let names = Names {
                    name: name.clone(),
                    iso: iso[i].clone(),
                    joliet: be_bytes(&joliet[i]),
                    serial,
                    unique_id: self.next_unique_id,
                    mtime: node.mtime(),
                    ..Names::default()
                };
                serial = serial.wrapping_add(1);
                self.next_unique_id += 1;
                children[i] = match node {
                    Node::Directory(d) => {
                        if self.dirs.len() >= usize::from(u16::MAX) && self.systems.iso9660() {
                            return Err(FsError::TooManyDirectories);
                        }
                        self.dirs.push(Dir {
                            names,
                            parent: at,
                            children: Vec::new(),
                            subdirs: 0,
                            iso: Extent::default(),
                            joliet: Extent::default(),
                            udf: Extent::default(),
                            iso_number: u16::try_from(self.dirs.len() + 1).unwrap_or(u16::MAX),
                            joliet_number: 0,
                        });
                        items.push(d);
                        Child::Dir(self.dirs.len() - 1)
                    }
                    Node::File(_) | Node::Recorded(_) => {
                        let file = self.file(name, node, names, at)?;
                        self.files.push(file);
                        Child::File(self.files.len() - 1)
                    }
                };
            }
            self.dirs[at].subdirs = u32::try_from(
                children
                    .iter()
                    .filter(|c| matches!(c, Child::Dir(_)))
                    .count(),
            )
            .unwrap_or(u32::MAX);
            self.dirs[at].children = children;
            at += 1;
        }
        self.joliet_order = self.joliet_bfs();
        for (n, &d) in self.joliet_order.iter().enumerate() {
            self.dirs[d].joliet_number = u16::try_from(n + 1).unwrap_or(u16::MAX);
        }
        Ok(())
    }

    /// The plan's file for `node` (a new file, or one of a previous session
    /// that lies before this session), named `name` in folder `parent`.
    fn file(
        &self,
        name: &str,
        node: &'a Node<S>,
        names: Names,
        parent: usize,
    ) -> Result<File<'a, S>, FsError> {
        let size = node.size();
        if size.div_ceil(udf::MAX_EXTENT) > udf::MAX_EXTENTS {
            return Err(FsError::DataTooBig(name.to_owned()));
        }
        let (item, lba) = match node {
            Node::File(f) => (Some(f), 0),
            Node::Recorded(r) => {
                let end = u64::from(r.lba) + r.size.div_ceil(SECTOR);
                if end > u64::from(self.base) {
                    return Err(FsError::InvalidParam(format!(
                        "{name}, recorded at sector {}, lies where this session is written (from {})",
                        r.lba, self.base
                    )));
                }
                (None, r.lba)
            }
            Node::Directory(_) => (None, 0),
        };
        Ok(File {
            names,
            parent,
            item,
            data: Extent { lba, bytes: size },
        })
    }

    /// Folders breadth-first with each folder's subfolders in Joliet name order.
    fn joliet_bfs(&self) -> Vec<usize> {
        let mut order = vec![0];
        let mut at = 0;
        while at < order.len() {
            let mut subs: Vec<usize> = self.dirs[order[at]]
                .children
                .iter()
                .filter_map(|c| match c {
                    Child::Dir(d) => Some(*d),
                    Child::File(_) => None,
                })
                .collect();
            subs.sort_by(|&a, &b| self.dirs[a].names.joliet.cmp(&self.dirs[b].names.joliet));
            order.extend(subs);
            at += 1;
        }
        order
    }

    /// The names of a child.
    pub fn names(&self, c: Child) -> &Names {
        match c {
            Child::Dir(d) => &self.dirs[d].names,
            Child::File(f) => &self.files[f].names,
        }
    }

    /// A folder's children in ISO 9660 identifier order (ECMA-119 9.3).
    pub fn iso_sorted(&self, dir: usize) -> Vec<Child> {
        let mut c = self.dirs[dir].children.clone();
        c.sort_by(|&a, &b| self.names(a).iso.cmp(&self.names(b).iso));
        c
    }

    /// A folder's children in Joliet identifier order.
    pub fn joliet_sorted(&self, dir: usize) -> Vec<Child> {
        let mut c = self.dirs[dir].children.clone();
        c.sort_by(|&a, &b| self.names(a).joliet.cmp(&self.names(b).joliet));
        c
    }

    /// Records a child takes in an ISO folder.
    fn records(&self, c: Child) -> u64 {
        match c {
            Child::Dir(_) => 1,
            Child::File(f) => iso_extents(self.files[f].data.bytes),
        }
    }

    /// Bytes of folder `d`'s ISO 9660 extent (with Rock Ridge).
    fn iso_dir_bytes(&self, d: usize) -> u64 {
        let dot = if d == 0 {
            rr::SP_LEN + rr::PX_LEN + rr::TF_LEN + rr::CE_LEN
        } else {
            inline_su(1, None).0
        };
        let mut lens = vec![
            iso9660::record_len(1, dot),
            iso9660::record_len(1, inline_su(1, None).0),
        ];
        for c in self.iso_sorted(d) {
            let n = self.names(c);
            let (su, _) = inline_su(n.iso.len(), Some(n.name.len()));
            for _ in 0..self.records(c) {
                lens.push(iso9660::record_len(n.iso.len(), su));
            }
        }
        Packer::size(lens)
    }

    /// Bytes of folder `d`'s Joliet extent.
    fn joliet_dir_bytes(&self, d: usize) -> u64 {
        let mut lens = vec![iso9660::record_len(1, 0); 2];
        for c in self.joliet_sorted(d) {
            let n = self.names(c);
            for _ in 0..self.records(c) {
                lens.push(iso9660::record_len(n.joliet.len(), 0));
            }
        }
        Packer::size(lens)
    }

    /// Bytes of folder `d`'s UDF identifier descriptors.
    pub fn udf_dir_bytes(&self, d: usize) -> u64 {
        let mut bytes = udf::fid_len(0) as u64;
        for &c in &self.dirs[d].children {
            bytes += udf::fid_len(cs0(&self.names(c).name).len()) as u64;
        }
        bytes
    }

    /// Path table bytes for identifiers of these lengths.
    fn path_bytes(ids: impl Iterator<Item = usize>) -> u32 {
        u32::try_from(ids.map(iso9660::path_entry_len).sum::<usize>()).unwrap_or(u32::MAX)
    }

    /// Gives every structure its sectors.
    fn place(&mut self) -> Result<(), FsError> {
        let mut lba = u64::from(self.base) + u64::from(PARTITION_START);
        if self.systems.udf() {
            self.file_set = PARTITION_START;
            lba += 2;
        }
        if self.systems.iso9660() {
            let bytes = Self::path_bytes(self.dirs.iter().map(|d| d.names.iso.len()));
            let n = u64::from(bytes).div_ceil(SECTOR);
            self.iso_path = (bytes, sectors32(lba)?, sectors32(lba + n)?);
            lba += 2 * n;
            if self.systems.joliet() {
                let bytes = Self::path_bytes(self.dirs.iter().map(|d| d.names.joliet.len()));
                let n = u64::from(bytes).div_ceil(SECTOR);
                self.joliet_path = (bytes, sectors32(lba)?, sectors32(lba + n)?);
                lba += 2 * n;
            }
            for d in 0..self.dirs.len() {
                let bytes = self.iso_dir_bytes(d);
                self.dirs[d].iso = Extent {
                    lba: sectors32(lba)?,
                    bytes,
                };
                lba += bytes / SECTOR;
            }
            lba = self.place_continuations(lba)?;
            if self.systems.joliet() {
                for i in 0..self.joliet_order.len() {
                    let d = self.joliet_order[i];
                    let bytes = self.joliet_dir_bytes(d);
                    self.dirs[d].joliet = Extent {
                        lba: sectors32(lba)?,
                        bytes,
                    };
                    lba += bytes / SECTOR;
                }
            }
        }
        if self.systems.udf() {
            for d in 0..self.dirs.len() {
                self.dirs[d].names.udf_entry = sectors32(lba)?;
                let bytes = self.udf_dir_bytes(d);
                self.dirs[d].udf = Extent {
                    lba: sectors32(lba + 1)?,
                    bytes,
                };
                lba += 1 + bytes.div_ceil(SECTOR);
            }
            for f in &mut self.files {
                f.names.udf_entry = sectors32(lba)?;
                lba += 1;
            }
        }
        self.data_start = sectors32(lba)?;
        for f in &mut self.files {
            if f.data.bytes > 0 && f.item.is_some() {
                f.data.lba = sectors32(lba)?;
                lba += f.data.sectors();
            }
        }
        // The second anchor, in the last sector.
        if self.systems.udf() {
            lba += 1;
        }
        sectors32(lba)?;
        self.total_sectors = lba - u64::from(self.base);
        Ok(())
    }

    /// Assigns the Rock Ridge continuation areas from `lba` on: the root's
    /// ER first, then each NM too long for its record, in record order.
    /// Returns the sector after them.
    fn place_continuations(&mut self, lba: u64) -> Result<u64, FsError> {
        let mut at = 0u64; // bytes into the region
        let mut slot = |len: usize| -> Result<Slot, FsError> {
            let len = len as u64;
            if at % SECTOR + len > SECTOR {
                at += SECTOR - at % SECTOR;
            }
            let s = Slot {
                lba: sectors32(lba + at / SECTOR)?,
                offset: u32::try_from(at % SECTOR).unwrap_or(0),
                len: u32::try_from(len).unwrap_or(0),
            };
            at += len;
            Ok(s)
        };
        self.er_slot = Some(slot(rr::er_len())?);
        for d in 0..self.dirs.len() {
            for c in self.iso_sorted(d) {
                let n = self.names(c);
                if !inline_su(n.iso.len(), Some(n.name.len())).1 {
                    let s = slot(5 + n.name.len())?;
                    match c {
                        Child::Dir(i) => self.dirs[i].names.continuation = Some(s),
                        Child::File(i) => self.files[i].names.continuation = Some(s),
                    }
                }
            }
        }
        let sectors = at.div_ceil(SECTOR);
        self.continuation = Extent {
            lba: sectors32(lba)?,
            bytes: sectors * SECTOR,
        };
        Ok(lba + sectors)
    }
}
