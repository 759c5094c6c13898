//! Images built by webburn-fsimage, read back by readers no one here wrote:
//! xorriso (ISO 9660 + Rock Ridge), 7z's ISO handler (Joliet) and UDF
//! handler, bsdtar (libarchive), isoinfo and udfinfo. Every file's bytes,
//! name, size and modification time (to the second), every folder, compared
//! with the source tree.

#![allow(clippy::unwrap_used)] // support functions of the tests, not product code

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;
use webburn_fsimage::{FileItem, FileSystemImage, FsError, joliet_names};
use webburn_shared::{Failure, HResult};
use webburn_tests::pattern;
use webburn_tests::readers::{self, Item, Reader, Tree, run, tree_of};

/// Sets a file's modification time.
fn touch(path: &Path, unix: u64) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(UNIX_EPOCH + Duration::from_secs(unix))
        .unwrap();
}

/// Writes the image of `source` to `out` through the library; returns its sectors.
fn image_of(source: &Path, out: &Path, volume: &str) -> u64 {
    let mut image = FileSystemImage::new(1_796_068_468);
    image.set_volume_name(volume).unwrap();
    image.root().add_tree(source, "").unwrap();
    let result = image.create_result_image().unwrap();
    let mut reader =
        result.reader(|p: &PathBuf| Ok(Box::new(std::fs::File::open(p)?) as Box<dyn Read + Send>));
    let mut file = std::fs::File::create(out).unwrap();
    let n = std::io::copy(&mut reader, &mut file).unwrap();
    assert_eq!(
        n,
        result.total_blocks() * 2048,
        "the stream is TotalBlocks sectors"
    );
    result.total_blocks()
}

/// What `reader` should show of `source`: the same, except Joliet's names,
/// mapped folder by folder.
fn expected(source: &Tree, reader: Reader) -> Tree {
    if !matches!(reader, Reader::SevenZipJoliet) {
        return source.clone();
    }
    // Each folder's entries in name order, as the image holds them.
    let mut folders: std::collections::BTreeMap<&str, Vec<(&str, bool)>> =
        std::collections::BTreeMap::new();
    for (path, item) in source {
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
        folders
            .entry(parent)
            .or_default()
            .push((name, matches!(item, Item::Dir)));
    }
    let mut mapped_name = std::collections::HashMap::new();
    for (parent, entries) in &mut folders {
        entries.sort_unstable();
        for (&(name, _), j) in entries.iter().zip(joliet_names(entries)) {
            mapped_name.insert(format!("{parent}/{name}"), j);
        }
    }
    source
        .iter()
        .map(|(path, item)| {
            let mut out = Vec::new();
            let mut parent = String::new();
            for part in path.split('/') {
                out.push(mapped_name[&format!("{parent}/{part}")].clone());
                parent = if parent.is_empty() {
                    part.to_owned()
                } else {
                    format!("{parent}/{part}")
                };
            }
            (out.join("/"), item.clone())
        })
        .collect()
}

/// Extracts `image` with every reader and compares each with `source`.
fn every_reader_agrees(image: &Path, source: &Tree, work: &Path) {
    for reader in Reader::ALL {
        let got = reader.extract(image, &work.join(format!("{reader:?}")));
        let want = expected(source, reader);
        let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).collect();
        let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{reader:?}: missing {missing:?}, extra {extra:?}"
        );
        for (path, item) in &want {
            assert_eq!(&got[path], item, "{reader:?}: {path}");
        }
    }
}

/// A tree people make: photos in folders, empty files and folders, names
/// ISO 9660 cannot hold, Unicode beyond the BMP, 10 levels, long names.
fn realistic(root: &Path) {
    let files: Vec<(String, usize)> = vec![
        ("photos/2024/beach.jpg".into(), 3 << 20),
        ("photos/2024/Beach.JPG".into(), 2049),
        ("photos/2024/beach (1).jpg".into(), 2048),
        ("photos/empty.txt".into(), 0),
        ("Scans 2024/caf\u{e9} r\u{e9}sum\u{e9}.pdf".into(), 5000),
        (
            "Scans 2024/\u{65e5}\u{672c}\u{8a9e}\u{306e}\u{6587}\u{66f8}.txt".into(),
            10,
        ),
        ("Scans 2024/smile \u{1F600}.png".into(), 77),
        ("weird/a:b;c?d*e.txt".into(), 12),
        ("weird/.hidden".into(), 3),
        (
            format!("long/{}.pdf", "A very long file name ".repeat(8).trim()),
            100,
        ),
        (
            format!(
                "{}/deep.txt",
                (1..=10)
                    .map(|i| format!("level{i}"))
                    .collect::<Vec<_>>()
                    .join("/")
            ),
            42,
        ),
    ];
    for (i, (path, len)) in files.iter().enumerate() {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, pattern(*len, i as u64 + 1)).unwrap();
        touch(&p, 1_600_000_000 + i as u64 * 86_413);
    }
    std::fs::create_dir_all(root.join("empty folder/inner")).unwrap();
}

#[test]
fn every_reader_extracts_the_same_tree_with_its_names_bytes_and_times() {
    readers::require();
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    realistic(&source);
    let image = dir.path().join("out.iso");
    image_of(&source, &image, "Holiday 2024");
    every_reader_agrees(&image, &tree_of(&source), &dir.path().join("x"));
}

#[test]
fn isoinfo_and_udfinfo_read_the_volume_descriptors() {
    readers::require();
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    realistic(&source);
    let image = dir.path().join("out.iso");
    let sectors = image_of(&source, &image, "Holiday 2024");
    let iso = run(std::process::Command::new("isoinfo")
        .arg("-d")
        .arg("-i")
        .arg(&image));
    assert!(iso.contains("Volume id: HOLIDAY_2024"), "{iso}");
    assert!(iso.contains(&format!("Volume size is: {sectors}")), "{iso}");
    assert!(iso.contains("Joliet with UCS level 3 found"), "{iso}");
    assert!(
        iso.contains("Rock Ridge signatures version 1 found"),
        "{iso}"
    );
    let udf = run(std::process::Command::new("udfinfo").arg(&image));
    let (files, dirs) = {
        let t = tree_of(&source);
        let dirs = t.values().filter(|i| matches!(i, Item::Dir)).count();
        (t.len() - dirs, dirs + 1)
    };
    for line in [
        "label=Holiday 2024".to_owned(),
        "udfrev=1.02".to_owned(),
        "integrity=closed".to_owned(),
        "accesstype=readonly".to_owned(),
        format!("blocks={sectors}"),
        format!("numfiles={files}"),
        format!("numdirs={dirs}"),
    ] {
        assert!(udf.lines().any(|l| l == line), "{line} not in:\n{udf}");
    }
}

#[test]
fn ten_thousand_small_files_read_back() {
    readers::require();
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    for i in 0..10_000u32 {
        let p = source.join(format!("batch{:02}/file{i:05}.dat", i / 500));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            &p,
            i.to_le_bytes().repeat(usize::try_from(i % 700).unwrap()),
        )
        .unwrap();
    }
    let image = dir.path().join("out.iso");
    image_of(&source, &image, "many");
    let want = tree_of(&source);
    for reader in [Reader::Xorriso, Reader::SevenZipUdf] {
        let got = reader.extract(&image, &dir.path().join(format!("{reader:?}")));
        assert!(got == want, "{reader:?} differs");
    }
}

/// A file's bytes made on the fly (for files too large to keep).
#[derive(Debug, Clone, Copy)]
struct Generated(u64);

struct GeneratedReader {
    at: u64,
    len: u64,
    block: Vec<u8>,
}

impl GeneratedReader {
    fn new(len: u64) -> Self {
        GeneratedReader {
            at: 0,
            len,
            block: pattern(1 << 20, 4),
        }
    }

    /// The generated byte range starting at `at`: a 1 MiB pattern, each
    /// MiB stamped with its number in its first 8 bytes.
    fn fill(&self, at: u64, buf: &mut [u8]) {
        let mut done = 0;
        while done < buf.len() {
            let pos = at + done as u64;
            let (mib, off) = (pos >> 20, usize::try_from(pos & 0xF_FFFF).unwrap());
            let n = (buf.len() - done).min((1 << 20) - off);
            let dst = &mut buf[done..done + n];
            dst.copy_from_slice(&self.block[off..off + n]);
            let stamp = mib.to_le_bytes();
            let end = (off + n).min(8);
            if off < end {
                dst[..end - off].copy_from_slice(&stamp[off..end]);
            }
            done += n;
        }
    }
}

impl Read for GeneratedReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = usize::try_from((self.len - self.at).min(buf.len() as u64)).unwrap();
        self.fill(self.at, &mut buf[..n]);
        self.at += n as u64;
        Ok(n)
    }
}

/// Reads `r` to its end and checks it is exactly the generated bytes of `len`.
fn is_generated(r: &mut dyn Read, len: u64) -> Result<(), String> {
    let g = GeneratedReader::new(len);
    let (mut got, mut want) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    let mut at = 0u64;
    loop {
        let n = r.read(&mut got).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        if at + n as u64 > len {
            return Err(format!("more than {len} bytes"));
        }
        g.fill(at, &mut want[..n]);
        if got[..n] != want[..n] {
            return Err(format!("differs within bytes {at}..{}", at + n as u64));
        }
        at += n as u64;
    }
    if at == len {
        Ok(())
    } else {
        Err(format!("{at} bytes, not {len}"))
    }
}

#[test]
fn a_file_over_4_gib_is_one_file_in_iso_9660_and_udf() {
    readers::require();
    let dir = tempfile::tempdir().unwrap();
    let len: u64 = (4 << 30) + 3000;
    let mut image = FileSystemImage::new(1_796_068_468);
    image
        .root()
        .add_file(
            "video/big.bin",
            FileItem {
                size: len,
                mtime: 1_700_000_000,
                source: Generated(len),
            },
        )
        .unwrap();
    image
        .root()
        .add_file(
            "after.txt",
            FileItem {
                size: 5,
                mtime: 1_700_000_000,
                source: Generated(5),
            },
        )
        .unwrap();
    let result = image.create_result_image().unwrap();
    let path = dir.path().join("big.iso");
    let mut reader = result
        .reader(|g: &Generated| Ok(Box::new(GeneratedReader::new(g.0)) as Box<dyn Read + Send>));
    std::io::copy(&mut reader, &mut std::fs::File::create(&path).unwrap()).unwrap();
    let check = |cmd: &mut std::process::Command| {
        let mut child = cmd.stdout(std::process::Stdio::piped()).spawn().unwrap();
        let same = is_generated(child.stdout.as_mut().unwrap(), len);
        assert!(child.wait().unwrap().success(), "{cmd:?}");
        same
    };
    // Rock Ridge / ISO 9660 multi-extent, read by libarchive.
    check(
        std::process::Command::new("bsdtar")
            .arg("-xOf")
            .arg(&path)
            .arg("video/big.bin"),
    )
    .unwrap_or_else(|e| panic!("bsdtar: {e}"));
    // UDF, read by 7-Zip.
    check(
        std::process::Command::new("7z")
            .args(["e", "-so", "-tudf"])
            .arg(&path)
            .arg("video/big.bin"),
    )
    .unwrap_or_else(|e| panic!("7z -tudf: {e}"));
    // xorriso sees one file of the whole size (two extents in the listing).
    let listing = run(std::process::Command::new("xorriso")
        .args(["-indev"])
        .arg(&path)
        .args(["-lsl", "/video/big.bin"]));
    assert!(listing.contains(&len.to_string()), "{listing}");
    let isoinfo = run(std::process::Command::new("isoinfo")
        .arg("-l")
        .arg("-i")
        .arg(&path));
    assert_eq!(
        isoinfo.matches("BIG.BIN;1").count(),
        2,
        "two extents: {isoinfo}"
    );
}

#[test]
fn a_file_that_changes_size_ends_the_stream_with_its_hresult() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(source.join("a.txt"), b"first").unwrap();
    std::fs::write(source.join("b.txt"), pattern(10_000, 2)).unwrap();
    std::fs::write(source.join("c.txt"), b"third").unwrap();
    let mut image = FileSystemImage::new(0);
    image.root().add_tree(&source, "").unwrap();
    let result = image.create_result_image().unwrap();
    // b.txt shrinks after the layout, grows in a second run.
    for (content, found) in [(pattern(4_000, 2), 4_000u64), (pattern(12_000, 2), 10_001)] {
        std::fs::write(source.join("b.txt"), &content).unwrap();
        let mut reader = result
            .reader(|p: &PathBuf| Ok(Box::new(std::fs::File::open(p)?) as Box<dyn Read + Send>));
        let mut sink = Vec::new();
        let err = std::io::copy(&mut reader, &mut sink).unwrap_err();
        let failure = Failure::of(&err).unwrap();
        assert_eq!(failure.hresult, HResult::IMAPI_E_DATA_STREAM_INCONSISTENCY);
        assert!(
            failure.detail.contains("b.txt") && failure.detail.contains(&found.to_string()),
            "{}",
            failure.detail
        );
    }
    // A file that is gone cannot be read.
    std::fs::remove_file(source.join("c.txt")).unwrap();
    std::fs::write(source.join("b.txt"), pattern(10_000, 2)).unwrap();
    let mut reader =
        result.reader(|p: &PathBuf| Ok(Box::new(std::fs::File::open(p)?) as Box<dyn Read + Send>));
    let err = std::io::copy(&mut reader, &mut Vec::new()).unwrap_err();
    assert_eq!(
        Failure::of(&err).unwrap().hresult,
        HResult::IMAPI_E_DATA_STREAM_READ_FAILURE
    );
}

#[test]
fn an_image_larger_than_the_medium_is_refused_when_laid_out() {
    let mut image = FileSystemImage::new(0);
    image
        .root()
        .add_file(
            "big.bin",
            FileItem {
                size: 10 << 20,
                mtime: 0,
                source: (),
            },
        )
        .unwrap();
    image.set_free_media_blocks(Some(4000));
    let err = image.create_result_image().unwrap_err();
    assert_eq!(err.hresult(), HResult::IMAPI_E_IMAGE_SIZE_LIMIT);
    assert!(
        matches!(err, FsError::ImageTooLarge { limit: 4000, .. }),
        "{err}"
    );
}

/// A random tree: paths from a small alphabet (with spaces, Unicode and
/// case twins, so names collide after ISO and Joliet mapping), sizes 0 to
/// three sectors and a bit.
fn random_tree() -> impl Strategy<Value = Vec<(Vec<String>, usize)>> {
    let name = prop::sample::select(vec![
        "a",
        "A",
        "b.txt",
        "B.TXT",
        "data",
        "x y",
        "\u{e9}t\u{e9}",
        "\u{6587}",
        "long name with spaces.doc",
        "z.tar.gz",
    ])
    .prop_map(str::to_owned);
    let path = prop::collection::vec(name, 1..6);
    prop::collection::vec((path, 0usize..7000), 1..40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn random_trees_read_back_equal(entries in random_tree()) {
        readers::require();
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source");
        std::fs::create_dir_all(&source).unwrap();
        for (i, (parts, len)) in entries.iter().enumerate() {
            let p = parts.iter().fold(source.clone(), |p, n| p.join(n));
            // A path through an existing file, or onto an existing folder: skip it.
            if p.ancestors().skip(1).any(Path::is_file) || p.is_dir() {
                continue;
            }
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, pattern(*len, i as u64)).unwrap();
        }
        let image = dir.path().join("out.iso");
        image_of(&source, &image, "random");
        let want = tree_of(&source);
        for reader in [Reader::Xorriso, Reader::SevenZipUdf] {
            let got = reader.extract(&image, &dir.path().join(format!("{reader:?}")));
            prop_assert_eq!(&got, &want, "{:?}", reader);
        }
    }
}

#[test]
fn a_file_that_changes_during_a_burn_ends_it_with_nothing_written_after_it() {
    use webburn_engine::EngineConfig;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(source.join("a.bin"), pattern(300_000, 1)).unwrap();
    std::fs::write(source.join("b.bin"), pattern(3_000_000, 2)).unwrap();
    std::fs::write(source.join("c.bin"), pattern(300_000, 3)).unwrap();
    let mut image = FileSystemImage::new(0);
    image.root().add_tree(&source, "").unwrap();
    let result = image.create_result_image().unwrap();
    // Where b.bin's data starts in the stream.
    let offset = readers::data_offset(&result, "b.bin");
    // b.bin shrinks after the layout, before the burn reaches it.
    std::fs::write(source.join("b.bin"), pattern(1_000_000, 2)).unwrap();
    let (rec, path, log) =
        webburn_tests::emulated(dir.path(), "disk.img", ",profile=disk,capacity=64MiB");
    let engine = webburn_tests::engine(
        &rec,
        EngineConfig {
            buffer_bytes: 1 << 20,
            ..EngineConfig::default()
        },
    );
    let reader =
        result.reader(|p: &PathBuf| Ok(Box::new(std::fs::File::open(p)?) as Box<dyn Read + Send>));
    let sectors = i32::try_from(result.total_blocks()).unwrap();
    let (r, _) = webburn_tests::write(&engine, reader, Some(result.total_bytes()), 0, sectors);
    let err = r.unwrap_err();
    assert_eq!(
        err.hresult,
        HResult::IMAPI_E_DATA_STREAM_INCONSISTENCY,
        "{err}"
    );
    assert!(err.detail.contains("b.bin"), "{}", err.detail);
    // Nothing of b.bin (or after it) reached the disk: no WRITE past its start.
    let end = log
        .writes()
        .iter()
        .filter(|w| w.good)
        .filter_map(|w| match w.cdb {
            Some(webburn_scsi::Cdb::Write10 { lba, blocks, .. }) => {
                Some(u64::try_from(lba).unwrap() + u64::from(blocks))
            }
            _ => None,
        })
        .max()
        .unwrap_or(0);
    assert!(
        end * 2048 <= offset + 1_000_000,
        "written up to byte {}, b.bin starts at {offset}",
        end * 2048
    );
    let img = std::fs::read(&path).unwrap();
    assert!(
        img.len() as u64 <= offset + 1_000_000
            || img[usize::try_from(offset + 1_000_000).unwrap()..]
                .iter()
                .all(|&b| b == 0)
    );
}
