//! Zstandard (RFC 8878): frames decoded by ruzstd one block at a time (a
//! block never decodes to more than 128 KiB, so a run of zeros cannot fill
//! memory), the content checksum checked at each frame's end, skippable
//! frames skipped.

use std::io::Read;

use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use crate::{Decoder, Error, Step};

/// The frame magic, little-endian.
const FRAME_MAGIC: u32 = 0xFD2F_B528;

/// Where the decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Before a frame (`true` once one frame ended).
    Between(bool),
    /// Skipping this many bytes of a skippable frame.
    Skipping(u64),
    /// Inside a frame, before a block header.
    Blocks { checksum: bool },
    /// The last block was decoded; its output is being collected.
    Draining { checksum: bool },
}

pub(crate) struct ZstdFrames {
    frame: FrameDecoder,
    at: At,
}

impl ZstdFrames {
    pub(crate) fn new() -> ZstdFrames {
        ZstdFrames {
            frame: FrameDecoder::new(),
            at: At::Between(false),
        }
    }
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::new(format!("the zstd data is corrupt ({e})"))
}

/// A frame header's length and content size, once `b` holds all of it.
fn frame_header(b: &[u8]) -> Option<(usize, Option<u64>)> {
    let fhd = *b.get(4)?;
    let single = fhd & 0x20 != 0;
    let window = usize::from(!single);
    let dict = [0, 1, 2, 4][usize::from(fhd & 3)];
    let fcs = match fhd >> 6 {
        0 => usize::from(single),
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let at = 5 + window + dict;
    let field = b.get(at..at + fcs)?;
    let mut le = [0u8; 8];
    le[..fcs].copy_from_slice(field);
    let v = u64::from_le_bytes(le);
    let size = match fcs {
        0 => None,
        2 => Some(v + 256),
        _ => Some(v),
    };
    Some((at + fcs, size))
}

/// The content size the first frame's header declares, when it declares
/// one (`head`: the file's first 18 bytes or more).
pub fn zstd_content_size(head: &[u8]) -> Option<u64> {
    frame_header(head).and_then(|(_, size)| size)
}

impl ZstdFrames {
    /// Before a frame: a skippable frame's length, or a frame header.
    fn frame_start(&mut self, input: &[u8], ended: bool) -> Result<Step, Error> {
        let Some(magic) = input.get(..4) else {
            return Ok(Step {
                at_end: ended,
                ..Step::default()
            });
        };
        let magic = u32::from_le_bytes([magic[0], magic[1], magic[2], magic[3]]);
        if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
            let Some(len) = input.get(4..8) else {
                return Ok(Step::default());
            };
            self.at = At::Skipping(u64::from(u32::from_le_bytes([
                len[0], len[1], len[2], len[3],
            ])));
            return Ok(Step {
                consumed: 8,
                ..Step::default()
            });
        }
        if magic != FRAME_MAGIC {
            return Err(Error::new("a zstd frame was expected: the file is corrupt"));
        }
        let Some((len, _)) = frame_header(input) else {
            return Ok(Step::default());
        };
        self.frame.reset(&input[..len]).map_err(corrupt)?;
        let checksum = input[4] & 0x04 != 0;
        self.at = At::Blocks { checksum };
        Ok(Step {
            consumed: len,
            ..Step::default()
        })
    }

    /// Inside a frame: the next whole block, once it is all in `input`.
    fn block(&mut self, input: &[u8], checksum: bool) -> Result<Step, Error> {
        let Some(h) = input.get(..3) else {
            return Ok(Step::default());
        };
        let header = u32::from_le_bytes([h[0], h[1], h[2], 0]);
        let last = header & 1 != 0;
        let size = (header >> 3) as usize;
        let content = match (header >> 1) & 3 {
            0 | 2 => size,
            1 => 1,
            _ => {
                return Err(Error::new(
                    "a zstd block of the reserved type: the file is corrupt",
                ));
            }
        };
        let whole = 3 + content + if last && checksum { 4 } else { 0 };
        let Some(block) = input.get(..whole) else {
            return Ok(Step::default());
        };
        self.frame
            .decode_blocks(block, BlockDecodingStrategy::UptoBlocks(1))
            .map_err(corrupt)?;
        if last {
            self.at = At::Draining { checksum };
        }
        Ok(Step {
            consumed: whole,
            ..Step::default()
        })
    }

    /// What the last block gave, if anything is left of it.
    fn collect(&mut self, output: &mut [u8]) -> Result<Option<Step>, Error> {
        if self.frame.can_collect() == 0 {
            return Ok(None);
        }
        let n = self.frame.read(output).map_err(corrupt)?;
        Ok(Some(Step {
            produced: n,
            ..Step::default()
        }))
    }
}

impl Decoder for ZstdFrames {
    fn decode(&mut self, input: &[u8], output: &mut [u8]) -> Result<Step, Error> {
        match self.at {
            At::Between(ended) => self.frame_start(input, ended),
            At::Skipping(left) => {
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(input.len());
                let left = left - n as u64;
                self.at = if left == 0 {
                    At::Between(true)
                } else {
                    At::Skipping(left)
                };
                Ok(Step {
                    consumed: n,
                    at_end: left == 0,
                    ..Step::default()
                })
            }
            At::Blocks { checksum } => match self.collect(output)? {
                Some(step) => Ok(step),
                None => self.block(input, checksum),
            },
            At::Draining { checksum } => {
                if let Some(step) = self.collect(output)? {
                    return Ok(step);
                }
                if checksum
                    && self.frame.get_checksum_from_data() != self.frame.get_calculated_checksum()
                {
                    return Err(Error::new(
                        "the zstd data fails its content checksum: the file is corrupt",
                    ));
                }
                self.at = At::Between(true);
                Ok(Step {
                    at_end: true,
                    ..Step::default()
                })
            }
        }
    }
}
