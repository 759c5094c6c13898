//! The image as `std::io::Read`: metadata pieces copied out, each file
//! opened when its data is reached and read for exactly its size.

use std::io::{self, Read};

use webburn_shared::{Failure, HResult};

use crate::stream::{Piece, Pieces};

enum Current {
    None,
    Bytes(Vec<u8>, usize),
    File {
        name: String,
        read: Box<dyn Read + Send>,
        left: u64,
        size: u64,
        pad: u64,
    },
    Pad(u64),
}

/// A forward-only reader of an image.
pub struct ImageReader<'p, 'a, S, F> {
    pieces: Pieces<'p, 'a, S>,
    open: F,
    current: Current,
}

impl<S, F> std::fmt::Debug for ImageReader<'_, '_, S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageReader").finish_non_exhaustive()
    }
}

impl<'p, 'a, S, F> ImageReader<'p, 'a, S, F>
where
    F: FnMut(&S) -> io::Result<Box<dyn Read + Send>>,
{
    /// Reads `pieces`, opening files with `open`.
    pub fn new(pieces: Pieces<'p, 'a, S>, open: F) -> Self {
        ImageReader {
            pieces,
            open,
            current: Current::None,
        }
    }
}

/// IMAPI_E_DATA_STREAM_INCONSISTENCY: the file gave another number of bytes than it had.
fn inconsistent(name: &str, expected: u64, found: u64) -> io::Error {
    io::Error::other(Failure {
        hresult: HResult::IMAPI_E_DATA_STREAM_INCONSISTENCY,
        detail: format!(
            "{name} changed while it was burned: it had {expected} bytes, now {found}{}",
            if found > expected { " or more" } else { "" }
        ),
    })
}

/// IMAPI_E_DATA_STREAM_READ_FAILURE: the file could not be opened or read.
fn unreadable(name: &str, e: &io::Error) -> io::Error {
    io::Error::other(Failure {
        hresult: HResult::IMAPI_E_DATA_STREAM_READ_FAILURE,
        detail: format!("{name} could not be read: {e}"),
    })
}

impl<S, F> Read for ImageReader<'_, '_, S, F>
where
    F: FnMut(&S) -> io::Result<Box<dyn Read + Send>>,
{
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match &mut self.current {
                Current::None => match self.pieces.next() {
                    None => return Ok(0),
                    Some(Piece::Bytes(b)) => self.current = Current::Bytes(b, 0),
                    Some(Piece::File {
                        source,
                        size,
                        pad,
                        name,
                        ..
                    }) => {
                        let read = (self.open)(source).map_err(|e| unreadable(&name, &e))?;
                        self.current = Current::File {
                            name,
                            read,
                            left: size,
                            size,
                            pad,
                        };
                    }
                },
                Current::Bytes(b, at) => {
                    let n = (b.len() - *at).min(buf.len());
                    buf[..n].copy_from_slice(&b[*at..*at + n]);
                    *at += n;
                    if *at == b.len() {
                        self.current = Current::None;
                    }
                    return Ok(n);
                }
                Current::File {
                    name,
                    read,
                    left,
                    size,
                    pad,
                } => {
                    if *left == 0 {
                        // Longer than it was: one more byte is an inconsistency.
                        let mut probe = [0u8; 1];
                        if read.read(&mut probe).map_err(|e| unreadable(name, &e))? != 0 {
                            return Err(inconsistent(name, *size, *size + 1));
                        }
                        self.current = Current::Pad(*pad);
                        continue;
                    }
                    let want = usize::try_from(*left).unwrap_or(usize::MAX).min(buf.len());
                    let n = read
                        .read(&mut buf[..want])
                        .map_err(|e| unreadable(name, &e))?;
                    if n == 0 {
                        return Err(inconsistent(name, *size, *size - *left));
                    }
                    *left -= n as u64;
                    return Ok(n);
                }
                Current::Pad(left) => {
                    if *left == 0 {
                        self.current = Current::None;
                        continue;
                    }
                    let n = usize::try_from(*left).unwrap_or(usize::MAX).min(buf.len());
                    buf[..n].fill(0);
                    *left -= n as u64;
                    return Ok(n);
                }
            }
        }
    }
}
