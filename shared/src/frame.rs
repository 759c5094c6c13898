//! The binary data-frame header: every binary WebSocket message is this
//! 16-byte header followed by the payload bytes.
//!
//! | offset | size | field                                   |
//! |--------|------|-----------------------------------------|
//! | 0      | 4    | magic `WBDF`                            |
//! | 4      | 4    | write id, u32 little-endian             |
//! | 8      | 8    | byte offset of the payload, u64 LE      |

/// Length of the encoded header in bytes.
pub const HEADER_LEN: usize = 16;
/// The four bytes every data frame starts with.
pub const MAGIC: [u8; 4] = *b"WBDF";

/// Header of one binary data frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataFrameHeader {
    /// The write this payload belongs to, as granted by the helper.
    pub write_id: u32,
    /// Offset of the payload's first byte within the write's data.
    pub offset: u64,
}

/// Why a binary frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Fewer bytes than a header.
    #[error("data frame of {0} bytes is shorter than the {HEADER_LEN}-byte header")]
    TooShort(usize),
    /// The first four bytes are not `WBDF`.
    #[error("data frame does not start with the WBDF magic")]
    BadMagic,
}

impl DataFrameHeader {
    /// The header as its 16 wire bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&MAGIC);
        out[4..8].copy_from_slice(&self.write_id.to_le_bytes());
        out[8..16].copy_from_slice(&self.offset.to_le_bytes());
        out
    }

    /// Splits a binary frame into its header and payload.
    pub fn decode(frame: &[u8]) -> Result<(DataFrameHeader, &[u8]), FrameError> {
        let (head, payload) = frame
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(FrameError::TooShort(frame.len()))?;
        if head[0..4] != MAGIC {
            return Err(FrameError::BadMagic);
        }
        let mut id = [0u8; 4];
        id.copy_from_slice(&head[4..8]);
        let mut offset = [0u8; 8];
        offset.copy_from_slice(&head[8..16]);
        Ok((
            DataFrameHeader {
                write_id: u32::from_le_bytes(id),
                offset: u64::from_le_bytes(offset),
            },
            payload,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_literal_bytes() {
        let h = DataFrameHeader {
            write_id: 0x0403_0201,
            offset: 0x0C0B_0A09_0807_0605,
        };
        assert_eq!(
            h.encode(),
            [
                b'W', b'B', b'D', b'F', 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x0A, 0x0B, 0x0C
            ]
        );
    }

    #[test]
    fn decodes_header_and_payload() {
        let mut frame = DataFrameHeader {
            write_id: 7,
            offset: 1 << 40,
        }
        .encode()
        .to_vec();
        frame.extend_from_slice(b"payload");
        let (h, payload) = DataFrameHeader::decode(&frame).unwrap();
        assert_eq!(h.write_id, 7);
        assert_eq!(h.offset, 1 << 40);
        assert_eq!(payload, b"payload");
    }

    #[test]
    fn rejects_short_and_foreign_frames() {
        assert_eq!(
            DataFrameHeader::decode(b"WBDF"),
            Err(FrameError::TooShort(4))
        );
        assert_eq!(
            DataFrameHeader::decode(&[0u8; 20]),
            Err(FrameError::BadMagic)
        );
        // A header with an empty payload is valid.
        let h = DataFrameHeader {
            write_id: 1,
            offset: 0,
        }
        .encode();
        assert_eq!(DataFrameHeader::decode(&h).unwrap().1.len(), 0);
    }
}
