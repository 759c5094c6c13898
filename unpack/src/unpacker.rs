//! The driver around a [`Decoder`]: compressed bytes are pushed in as they
//! arrive, decoded bytes pulled out into the caller's buffer; a truncated
//! file and data after the end are errors naming the byte.

use crate::{Decoder, Error};

/// Input kept before it is compacted (the decoder took this much).
const COMPACT_AT: usize = 1 << 20;

/// What [`Unpacker::next`] gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Out {
    /// This many decoded bytes are in the buffer.
    Data(usize),
    /// Push more input (or end it).
    NeedInput,
    /// The compressed data ended cleanly and all of it was decoded.
    End,
}

/// A decoder fed by pushes.
pub struct Unpacker {
    decoder: Box<dyn Decoder>,
    input: Vec<u8>,
    start: usize,
    /// Input bytes the decoder took so far.
    consumed: u64,
    /// Decoded bytes given out so far.
    produced: u64,
    input_ended: bool,
}

impl std::fmt::Debug for Unpacker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unpacker")
            .field("consumed", &self.consumed)
            .field("produced", &self.produced)
            .finish_non_exhaustive()
    }
}

impl Unpacker {
    /// An unpacker around `decoder`.
    pub fn new(decoder: Box<dyn Decoder>) -> Unpacker {
        Unpacker {
            decoder,
            input: Vec::new(),
            start: 0,
            consumed: 0,
            produced: 0,
            input_ended: false,
        }
    }

    /// True when the decoder has no input waiting.
    pub fn wants_input(&self) -> bool {
        !self.input_ended && self.start == self.input.len()
    }

    /// Appends compressed bytes.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.start >= COMPACT_AT || self.start == self.input.len() {
            self.input.drain(..self.start);
            self.start = 0;
        }
        self.input.extend_from_slice(chunk);
    }

    /// There is no more input.
    pub fn end_input(&mut self) {
        self.input_ended = true;
    }

    /// Compressed bytes decoded so far.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Decoded bytes given out so far.
    pub fn produced(&self) -> u64 {
        self.produced
    }

    /// Decodes into `out`.
    pub fn next(&mut self, out: &mut [u8]) -> Result<Out, Error> {
        loop {
            let step = self
                .decoder
                .decode(&self.input[self.start..], out)
                .map_err(|e| Error {
                    offset: Some(self.consumed),
                    ..e
                })?;
            self.start += step.consumed;
            self.consumed += step.consumed as u64;
            if step.produced > 0 {
                self.produced += step.produced as u64;
                return Ok(Out::Data(step.produced));
            }
            if step.consumed > 0 {
                continue;
            }
            // No progress: the decoder waits for more than it has.
            if !self.input_ended {
                return Ok(Out::NeedInput);
            }
            let left = self.input.len() - self.start;
            let detail = match (step.at_end, left) {
                (true, 0) => return Ok(Out::End),
                (true, _) => format!("{left} bytes follow the end of the compressed data"),
                (false, _) => format!(
                    "the compressed file ends early: it is truncated after {} bytes of the image",
                    self.produced
                ),
            };
            return Err(Error {
                detail,
                offset: Some(self.consumed),
            });
        }
    }
}
