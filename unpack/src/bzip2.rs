//! bzip2: streams decoded by the bzip2 crate over libbz2-rs-sys (a Rust
//! port of libbzip2, block CRCs and the stream CRC checked), one after
//! another as pbzip2 writes them.

use bzip2::{Decompress, Status};

use crate::{Decoder, Error, Step};

pub(crate) struct Bzip2Streams {
    stream: Decompress,
    /// Between streams (`ended` once one ended), or inside one.
    between: Option<bool>,
}

impl Bzip2Streams {
    pub(crate) fn new() -> Bzip2Streams {
        Bzip2Streams {
            stream: Decompress::new(false),
            between: Some(false),
        }
    }
}

impl Decoder for Bzip2Streams {
    fn decode(&mut self, input: &[u8], output: &mut [u8]) -> Result<Step, Error> {
        if let Some(ended) = self.between {
            if input.is_empty() {
                return Ok(Step {
                    at_end: ended,
                    ..Step::default()
                });
            }
            if ended {
                self.stream = Decompress::new(false);
            }
            self.between = None;
        }
        let (in0, out0) = (self.stream.total_in(), self.stream.total_out());
        let status = self
            .stream
            .decompress(input, output)
            .map_err(|e| Error::new(format!("the bzip2 data is corrupt ({e})")))?;
        let step = Step {
            consumed: usize::try_from(self.stream.total_in() - in0).unwrap_or(0),
            produced: usize::try_from(self.stream.total_out() - out0).unwrap_or(0),
            at_end: status == Status::StreamEnd,
        };
        if step.at_end {
            self.between = Some(true);
        }
        Ok(step)
    }
}
