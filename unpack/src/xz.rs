//! xz: the streams decoded by xz4rust (an xz-embedded port: CRC-32,
//! CRC-64 and SHA-256 checks, the BCJ and delta filters), one after another
//! with stream padding between them; the image's size from the last
//! stream's index when that stream is the whole file.

use std::ops::Range;

use xz4rust::{XzDecoder, XzError, XzNextBlockResult};

use crate::{Decoder, Error, Step};

/// Bytes of a stream footer (and of a stream header).
pub const XZ_FOOTER_LEN: usize = 12;

/// The largest LZMA2 dictionary decoded (xz -9 uses 64 MiB).
const MAX_DICT: usize = 256 << 20;

/// The xz streams of a file.
pub(crate) struct XzStreams {
    decoder: Box<XzDecoder<'static>>,
    /// Between streams (`ended` once one stream ended), or inside one.
    between: Option<bool>,
}

impl XzStreams {
    pub(crate) fn new() -> XzStreams {
        XzStreams {
            decoder: XzDecoder::in_heap_with_alloc_dict_size(1 << 20, MAX_DICT),
            between: Some(false),
        }
    }
}

fn describe(e: &XzError) -> String {
    match e {
        XzError::DictionaryTooLarge(n) => format!(
            "the xz data needs a {} MiB dictionary, more than the {} MiB decoded here",
            n >> 20,
            MAX_DICT >> 20
        ),
        XzError::ContentCrc32Mismatch(..) | XzError::ContentCrc64Mismatch(..) => {
            "the xz data fails its integrity check: the file is corrupt".into()
        }
        XzError::ContentSha256Mismatch(..) => {
            "the xz data fails its SHA-256 check: the file is corrupt".into()
        }
        other => format!("the xz data is corrupt ({other})"),
    }
}

impl Decoder for XzStreams {
    fn decode(&mut self, input: &[u8], output: &mut [u8]) -> Result<Step, Error> {
        if let Some(ended) = self.between {
            // Stream padding: zero bytes after a stream.
            let zeros = if ended {
                input.iter().take_while(|&&b| b == 0).count()
            } else {
                0
            };
            if zeros > 0 || input.is_empty() {
                return Ok(Step {
                    consumed: zeros,
                    produced: 0,
                    at_end: ended,
                });
            }
            if ended {
                self.decoder.reset();
            }
            self.between = None;
        }
        match self.decoder.decode(input, output) {
            Ok(XzNextBlockResult::NeedMoreData(consumed, produced)) => Ok(Step {
                consumed,
                produced,
                at_end: false,
            }),
            Ok(XzNextBlockResult::EndOfStream(consumed, produced)) => {
                self.between = Some(true);
                Ok(Step {
                    consumed,
                    produced,
                    at_end: true,
                })
            }
            Err(XzError::NeedsLargerInputBuffer) => Ok(Step::default()),
            Err(e) => Err(Error::new(describe(&e))),
        }
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Where the last stream's index lies, from the file's last bytes (`tail`,
/// at least the footer and any stream padding) and its length.
pub fn xz_index_range(tail: &[u8], file_len: u64) -> Result<Range<u64>, Error> {
    // Stream padding after the footer is zero bytes in fours.
    let zeros = tail.iter().rev().take_while(|&&b| b == 0).count() / 4 * 4;
    let end = tail.len() - zeros;
    if end < XZ_FOOTER_LEN {
        return Err(Error::new("the xz file ends without a stream footer"));
    }
    let footer = &tail[end - XZ_FOOTER_LEN..end];
    if &footer[10..12] != b"YZ" || crc32(&footer[4..10]) != le32(footer) {
        return Err(Error {
            detail: format!(
                "the xz file ends at byte {file_len} without a valid stream footer: it is truncated or corrupt"
            ),
            offset: Some(file_len),
        });
    }
    let index_len = (u64::from(le32(&footer[4..8])) + 1) * 4;
    let footer_end = file_len - (tail.len() - end) as u64;
    let index_end = footer_end - XZ_FOOTER_LEN as u64;
    let index_start = index_end
        .checked_sub(index_len)
        .filter(|&s| s >= XZ_FOOTER_LEN as u64)
        .ok_or_else(|| Error::new("the xz footer names an index larger than the file"))?;
    Ok(index_start..index_end)
}

/// One variable-length integer of the xz format.
fn vli(b: &[u8], at: &mut usize) -> Result<u64, Error> {
    let mut v = 0u64;
    for i in 0..9 {
        let byte = *b
            .get(*at)
            .ok_or_else(|| Error::new("the xz index is cut short"))?;
        *at += 1;
        v |= u64::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(Error::new("the xz index holds a malformed number"))
}

/// The image's size from the last stream's index (the bytes at
/// `index_start`), or `None` when streams come before it (their sizes are
/// in their own indexes; the image is then written to its end).
pub fn xz_size_from_index(index: &[u8], index_start: u64) -> Result<Option<u64>, Error> {
    if index.len() < 8 || index[0] != 0 {
        return Err(Error::new("the xz index is damaged"));
    }
    let body = index.len() - 4;
    if crc32(&index[..body]) != le32(&index[body..]) {
        return Err(Error::new(
            "the xz index fails its CRC-32: the file is corrupt",
        ));
    }
    let mut at = 1;
    let records = vli(index, &mut at)?;
    let (mut blocks, mut size) = (0u64, 0u64);
    for _ in 0..records {
        let unpadded = vli(index, &mut at)?;
        let uncompressed = vli(index, &mut at)?;
        blocks = blocks.saturating_add(unpadded.div_ceil(4) * 4);
        size = size
            .checked_add(uncompressed)
            .ok_or_else(|| Error::new("the xz index sums past 2^64 bytes"))?;
        if at > body {
            return Err(Error::new("the xz index is cut short"));
        }
    }
    let stream_start = index_start.checked_sub(blocks + XZ_FOOTER_LEN as u64);
    Ok((stream_start == Some(0)).then_some(size))
}
