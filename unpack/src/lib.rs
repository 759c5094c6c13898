//! Compressed disk images for webburn: which format a file is (by its magic
//! bytes, never its name), how large the image inside is where the container
//! says it (the xz index, the zip entry, the zstd frame header), and
//! push-style decoders the page feeds as the file's bytes arrive.
//!
//! gzip and zip's deflate are decoded by the browser (`DecompressionStream`);
//! this crate finds the zip entry and checks its CRC-32. xz, zstd and bzip2
//! are decoded here, by pure-Rust crates that take input and output slices
//! and do no I/O of their own (xz4rust, ruzstd, bzip2 over libbz2-rs-sys).

mod bzip2;
mod unpacker;
mod xz;
pub mod zip;
mod zstd;

pub use unpacker::{Out, Unpacker};
pub use xz::{XZ_FOOTER_LEN, xz_index_range, xz_size_from_index};
pub use zstd::zstd_content_size;

/// What a file holds, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// No known magic: the bytes are the image.
    Raw,
    /// gzip (RFC 1952).
    Gzip,
    /// xz (the .xz file format 1.x).
    Xz,
    /// Zstandard frames (RFC 8878).
    Zstd,
    /// bzip2.
    Bzip2,
    /// A zip archive (PKWARE APPNOTE): one file entry is the image.
    Zip,
}

/// Bytes of the file's start [`Format::detect`] looks at.
pub const MAGIC_LEN: usize = 6;

impl Format {
    /// The format whose magic `head` starts with; [`Format::Raw`] otherwise.
    pub fn detect(head: &[u8]) -> Format {
        match head {
            [0x1F, 0x8B, 0x08, ..] => Format::Gzip,
            [0xFD, b'7', b'z', b'X', b'Z', 0x00, ..] => Format::Xz,
            [0x28, 0xB5, 0x2F, 0xFD, ..] => Format::Zstd,
            [b'B', b'Z', b'h', b'1'..=b'9', ..] => Format::Bzip2,
            [b'P', b'K', 0x03, 0x04, ..] => Format::Zip,
            _ => Format::Raw,
        }
    }

    /// The name pages see (`raw`, `gzip`, `xz`, `zstd`, `bzip2`, `zip`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Gzip => "gzip",
            Format::Xz => "xz",
            Format::Zstd => "zstd",
            Format::Bzip2 => "bzip2",
            Format::Zip => "zip",
        }
    }
}

/// Compressed data that cannot be decoded, or a container this crate does
/// not take; `offset` is the byte of the compressed file where it was found,
/// when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What is wrong, for a person.
    pub detail: String,
    /// Byte of the compressed file (counted from the decoder's first input).
    pub offset: Option<u64>,
}

impl Error {
    /// An error without a position.
    pub fn new(detail: impl Into<String>) -> Error {
        Error {
            detail: detail.into(),
            offset: None,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.offset {
            Some(at) => write!(f, "{} (at byte {at} of the compressed file)", self.detail),
            None => f.write_str(&self.detail),
        }
    }
}

impl std::error::Error for Error {}

/// What one call of [`Decoder::decode`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Step {
    /// Input bytes taken.
    pub consumed: usize,
    /// Output bytes written.
    pub produced: usize,
    /// The compressed data may end here (a stream ended cleanly and nothing
    /// of a next one was seen).
    pub at_end: bool,
}

/// A push decoder: takes what it can of `input`, writes at most
/// `output.len()` bytes. Making no progress means it needs more input.
pub trait Decoder {
    /// Decodes the next part.
    fn decode(&mut self, input: &[u8], output: &mut [u8]) -> Result<Step, Error>;
}

/// The decoder this crate has for `format` (xz, zstd, bzip2).
pub fn decoder(format: Format) -> Option<Box<dyn Decoder>> {
    match format {
        Format::Xz => Some(Box::new(xz::XzStreams::new())),
        Format::Zstd => Some(Box::new(zstd::ZstdFrames::new())),
        Format::Bzip2 => Some(Box::new(bzip2::Bzip2Streams::new())),
        Format::Raw | Format::Gzip | Format::Zip => None,
    }
}

/// Decodes a whole compressed buffer (tests and benchmarks).
pub fn decode_all(format: Format, data: &[u8]) -> Result<Vec<u8>, Error> {
    let decoder = decoder(format)
        .ok_or_else(|| Error::new(format!("{} is not decoded here", format.name())))?;
    let mut u = Unpacker::new(decoder);
    u.push(data);
    u.end_input();
    let mut out = Vec::new();
    let mut buf = vec![0; 1 << 16];
    loop {
        match u.next(&mut buf)? {
            Out::Data(n) => out.extend_from_slice(&buf[..n]),
            Out::End => return Ok(out),
            Out::NeedInput => return Err(Error::new("the decoder wants input after its end")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_magic() {
        assert_eq!(Format::detect(&[0x1F, 0x8B, 8, 0]), Format::Gzip);
        assert_eq!(Format::detect(b"\xFD7zXZ\0"), Format::Xz);
        assert_eq!(Format::detect(&[0x28, 0xB5, 0x2F, 0xFD, 0]), Format::Zstd);
        assert_eq!(Format::detect(b"BZh9"), Format::Bzip2);
        assert_eq!(Format::detect(b"BZh0"), Format::Raw);
        assert_eq!(Format::detect(b"PK\x03\x04"), Format::Zip);
        assert_eq!(Format::detect(b"\xEB\x63\x90"), Format::Raw);
        assert_eq!(Format::detect(&[]), Format::Raw);
    }
}
