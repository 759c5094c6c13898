//! webburn-unpack against files the real tools packed: every format decodes
//! to the image byte for byte, the container's size is found where it is
//! declared, and truncated or corrupt files fail naming the byte.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test: a failed step is a failed test

use webburn_tests::packed::{disk_image, pack};
use webburn_tests::prerequisite_missing;
use webburn_unpack::{
    Format, MAGIC_LEN, Out, Unpacker, decode_all, decoder, xz_index_range, xz_size_from_index, zip,
    zstd_content_size,
};

const LEN: usize = 3 << 20;

/// The formats decoded by webburn-unpack, with their tools' names.
const DECODED: [(&str, Format); 3] = [
    ("xz", Format::Xz),
    ("zstd", Format::Zstd),
    ("bzip2", Format::Bzip2),
];

fn packed(format: &str, data: &[u8]) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().ok()?;
    let out = pack(format, data, dir.path(), "image.img");
    if out.is_none() {
        prerequisite_missing(&format!("the {format} tool"));
    }
    out
}

/// The image's size as the page finds it: from the xz index.
fn xz_size(file: &[u8]) -> Option<u64> {
    let len = file.len() as u64;
    let tail = &file[file.len().saturating_sub(64)..];
    let range = xz_index_range(tail, len).expect("footer");
    let index = &file[range.start as usize..range.end as usize];
    xz_size_from_index(index, range.start).expect("index")
}

#[test]
fn each_format_decodes_to_the_image_and_is_told_by_its_magic() {
    let image = disk_image(LEN, 7);
    for (name, format) in DECODED {
        let Some(file) = packed(name, &image) else {
            return;
        };
        assert_eq!(Format::detect(&file[..MAGIC_LEN]), format, "{name}");
        assert!(file.len() < image.len(), "{name} compresses");
        let out = decode_all(format, &file).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(out == image, "{name} decodes byte for byte");
    }
    let Some(gz) = packed("gzip", &image) else {
        return;
    };
    assert_eq!(Format::detect(&gz), Format::Gzip);
}

#[test]
fn sizes_come_from_the_xz_index_the_zstd_frame_and_the_zip_entry() {
    let image = disk_image(LEN, 8);
    let Some(xz) = packed("xz", &image) else {
        return;
    };
    assert_eq!(xz_size(&xz), Some(LEN as u64));
    let Some(zst) = packed("zstd", &image) else {
        return;
    };
    assert_eq!(zstd_content_size(&zst[..18]), Some(LEN as u64));
    let Some(piped) = packed("zstd-stream", &image) else {
        return;
    };
    assert_eq!(zstd_content_size(&piped[..18]), None);
    assert!(decode_all(Format::Zstd, &piped).expect("piped zstd") == image);

    // Two xz streams back to back: the last index tells only its own stream.
    let mut two = xz.clone();
    two.extend_from_slice(&[0; 4]);
    two.extend_from_slice(&xz);
    assert_eq!(xz_size(&two), None);
    let out = decode_all(Format::Xz, &two).expect("two streams");
    assert!(out.len() == 2 * LEN && out[..LEN] == image[..] && out[LEN..] == image[..]);

    let dir = tempfile::tempdir().expect("tempdir");
    let Some(z) = pack("zip", &image, dir.path(), "raspios.img") else {
        prerequisite_missing("zip");
    };
    assert_eq!(Format::detect(&z), Format::Zip);
    let tail_len = (zip::TAIL_LEN as usize).min(z.len());
    let dir_range = zip::central_directory(&z[z.len() - tail_len..], z.len() as u64).expect("eocd");
    let entry =
        zip::single_entry(&z[dir_range.start as usize..dir_range.end as usize]).expect("entry");
    assert_eq!(
        (entry.name.as_str(), entry.size, entry.method),
        ("raspios.img", LEN as u64, zip::Method::Deflate)
    );
    let start = zip::data_start(&z[entry.local_offset as usize..], &entry).expect("local header");
    assert!(start + entry.compressed <= z.len() as u64);
    let mut check = zip::EntryCheck::new(&entry);
    check.update(&image);
    check
        .finish()
        .expect("the CRC-32 of the image is the entry's");
    let mut bad = zip::EntryCheck::new(&entry);
    bad.update(&image[1..]);
    assert!(bad.finish().is_err());
}

#[test]
fn a_zip_of_two_files_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.img"), b"a").expect("write");
    std::fs::write(dir.path().join("b.img"), b"b").expect("write");
    let Ok(status) = std::process::Command::new("zip")
        .current_dir(dir.path())
        .args(["-q", "two.zip", "a.img", "b.img"])
        .status()
    else {
        prerequisite_missing("zip");
    };
    assert!(status.success());
    let z = std::fs::read(dir.path().join("two.zip")).expect("read");
    let r = zip::central_directory(&z, z.len() as u64).expect("eocd");
    let e = zip::single_entry(&z[r.start as usize..r.end as usize]).expect_err("two files");
    assert!(e.detail.contains("2 files"), "{e}");
}

/// Decodes `file` through an Unpacker fed 64 KiB at a time; the bytes out
/// before the error and the error.
fn decode_in_pieces(format: Format, file: &[u8]) -> (Vec<u8>, Option<webburn_unpack::Error>) {
    let mut u = Unpacker::new(decoder(format).expect("decoder"));
    let mut chunks = file.chunks(64 << 10);
    let mut out = Vec::new();
    let mut buf = vec![0; 1 << 20];
    loop {
        match u.next(&mut buf) {
            Ok(Out::Data(n)) => out.extend_from_slice(&buf[..n]),
            Ok(Out::NeedInput) => match chunks.next() {
                Some(c) => u.push(c),
                None => u.end_input(),
            },
            Ok(Out::End) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

#[test]
fn truncated_and_corrupt_files_fail_naming_the_byte_after_good_data_only() {
    let image = disk_image(LEN, 9);
    for (name, format) in DECODED {
        let Some(file) = packed(name, &image) else {
            return;
        };
        // Fed in pieces, the whole file decodes as in one piece.
        let (whole, none) = decode_in_pieces(format, &file);
        assert!(none.is_none() && whole == image, "{name} in pieces");

        let cut = file.len() * 2 / 3;
        let (out, err) = decode_in_pieces(format, &file[..cut]);
        let err = err.unwrap_or_else(|| panic!("{name}: a truncated file must fail"));
        assert!(err.detail.contains("truncated"), "{name}: {err}");
        assert!(
            err.offset.is_some_and(|o| o <= cut as u64),
            "{name}: {err:?}"
        );
        assert!(
            out.len() < image.len() && out == image[..out.len()],
            "{name}: only good data before the error"
        );

        let mut corrupt = file.clone();
        let at = file.len() / 2;
        corrupt[at] ^= 0x55;
        corrupt[at + 1] ^= 0xAA;
        let (out, err) = decode_in_pieces(format, &corrupt);
        let err = err.unwrap_or_else(|| panic!("{name}: a corrupt file must fail"));
        assert!(err.offset.is_some(), "{name}: {err:?}");
        // Damage inside a block shows at the block's or the frame's check
        // at the latest: an error always comes before the end.
        assert!(out.len() <= image.len(), "{name}: {err}");
    }
}
