//! Readers of disc images that no one here wrote (xorriso, 7z, bsdtar,
//! isoinfo, udfinfo), and trees of files to compare what they extract with
//! what went in: relative path -> kind, size, SHA-256, modification time.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

/// One item of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A folder and its modification time (seconds).
    Dir,
    /// A file: size, SHA-256 (hex), modification time (seconds).
    File(u64, String, i64),
}

/// A tree by relative path (`/`-separated).
pub type Tree = BTreeMap<String, Item>;

/// The readers `cargo xtask test` installs (Debian packages xorriso,
/// p7zip-full, libarchive-tools, genisoimage, udftools); a missing one
/// fails the test ([`crate::prerequisite_missing`]).
pub fn require() {
    let missing: Vec<&str> = ["xorriso", "7z", "bsdtar", "isoinfo", "udfinfo"]
        .into_iter()
        .filter(|tool| {
            Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {tool}"))
                .output()
                .map_or(true, |o| !o.status.success())
        })
        .collect();
    if !missing.is_empty() {
        crate::prerequisite_missing(&format!("image readers missing: {missing:?}"));
    }
}

/// xorriso's address of an image file: `stdio:` says it is a file, also
/// below `/dev` (the scratch folders in `/dev/shm`), which xorriso would
/// otherwise take for a drive and refuse.
pub fn xorriso_drive(image: &Path) -> std::ffi::OsString {
    let mut drive = std::ffi::OsString::from("stdio:");
    drive.push(image);
    drive
}

/// Runs a command; panics with its output if it fails. Returns stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The tree below `root`, as read from disk.
pub fn tree_of(root: &Path) -> Tree {
    let mut out = Tree::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Tree) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("{e}"));
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if meta.is_dir() {
            out.insert(rel, Item::Dir);
            walk(root, &path, out);
        } else {
            let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
            out.insert(
                rel,
                Item::File(meta.len(), format!("{:x}", Sha256::digest(&data)), mtime),
            );
        }
    }
}

/// How a reader extracts an image into a folder.
#[derive(Debug, Clone, Copy)]
pub enum Reader {
    /// `xorriso -osirrox on -indev IMG -extract / DIR`: ISO 9660 with Rock Ridge.
    Xorriso,
    /// `7z x -tiso`: 7-Zip's ISO handler, which takes the Joliet tree.
    SevenZipJoliet,
    /// `7z x -tudf`: 7-Zip's UDF handler.
    SevenZipUdf,
    /// `bsdtar -xf`: libarchive (Rock Ridge, else Joliet).
    Bsdtar,
}

impl Reader {
    /// Every reader.
    pub const ALL: [Reader; 4] = [
        Reader::Xorriso,
        Reader::SevenZipJoliet,
        Reader::SevenZipUdf,
        Reader::Bsdtar,
    ];

    /// xorriso's extraction of the session whose volume descriptors start
    /// at `sbsector + 16` (`-load sbsector`): a later session of a disc.
    pub fn extract_session(self, image: &Path, sbsector: u64, dir: &Path) -> Tree {
        assert!(
            matches!(self, Reader::Xorriso),
            "only xorriso loads a chosen session"
        );
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
        run(Command::new("xorriso")
            .args([
                "-osirrox",
                "on",
                "-load",
                "sbsector",
                &sbsector.to_string(),
                "-indev",
            ])
            .arg(xorriso_drive(image))
            .args(["-extract", "/"])
            .arg(dir));
        tree_of(dir)
    }

    /// Extracts `image` into `dir` (created) and returns the tree found there.
    pub fn extract(self, image: &Path, dir: &Path) -> Tree {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
        match self {
            Reader::Xorriso => run(Command::new("xorriso")
                .args(["-osirrox", "on", "-indev"])
                .arg(xorriso_drive(image))
                .args(["-extract", "/"])
                .arg(dir)),
            Reader::SevenZipJoliet | Reader::SevenZipUdf => {
                let kind = if matches!(self, Reader::SevenZipUdf) {
                    "-tudf"
                } else {
                    "-tiso"
                };
                run(Command::new("7z")
                    .args(["x", "-y", kind])
                    .arg(format!("-o{}", dir.display()))
                    .arg(image))
            }
            Reader::Bsdtar => run(Command::new("bsdtar")
                .arg("-xf")
                .arg(image)
                .arg("-C")
                .arg(dir)),
        };
        tree_of(dir)
    }
}

/// Where the data of the file named `name` starts in `image`'s stream
/// (its metadata and the files before it).
pub fn data_offset<S>(image: &webburn_fsimage::ResultImage<'_, S>, name: &str) -> u64 {
    let mut offset = 0u64;
    for piece in image.pieces() {
        match piece {
            webburn_fsimage::Piece::Bytes(b) => offset += b.len() as u64,
            webburn_fsimage::Piece::File { name: n, .. } if n == name => break,
            webburn_fsimage::Piece::File { size, pad, .. } => offset += size + pad,
        }
    }
    offset
}

/// xorriso compares each of `files` (paths below `source`, `/`-separated)
/// with the same path in the tree of the session whose volume descriptors
/// start at `sbsector + 16`: existence, size and content, reading every
/// byte (modes and times are the disc's own). Panics naming a difference.
pub fn xorriso_compare(image: &Path, sbsector: u64, source: &Path, files: &[&str]) {
    let mut cmd = Command::new("xorriso");
    cmd.args(["-load", "sbsector", &sbsector.to_string(), "-indev"])
        .arg(xorriso_drive(image));
    for f in files {
        cmd.arg("-compare").arg(source.join(f)).arg(format!("/{f}"));
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("xorriso: {e} (cargo xtask test installs it)"));
    let said = String::from_utf8_lossy(&out.stdout).to_lowercase();
    let bad: Vec<&str> = said
        .lines()
        .filter(|l| {
            ["content", "st_size", "cannot"]
                .iter()
                .any(|w| l.contains(w))
        })
        .collect();
    assert!(
        out.status.success() && bad.is_empty(),
        "{} at {sbsector} against {}: {bad:?}\n{}",
        image.display(),
        source.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}
