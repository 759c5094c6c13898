//! What formatting a rewritable disc sends and reads: READ FORMAT
//! CAPACITIES' reply (MMC-6 6.24.3) and FORMAT UNIT's parameter list
//! (MMC-6 6.5.3), big-endian both ways like the other replies.

use super::replies::ReplyError;

/// The format types webburn uses (MMC-6 table 6.5.4.2).
pub mod format_type {
    /// Full format (DVD-RW: restricted overwrite, CD-RW).
    pub const FULL: u8 = 0x00;
    /// DVD+RW full format (background formatting).
    pub const DVD_PLUS_RW_FULL: u8 = 0x26;
    /// BD-RE full format with spare areas.
    pub const BD_RE_WITH_SPARES: u8 = 0x30;
    /// BD-RE full format without spare areas.
    pub const BD_RE_WITHOUT_SPARES: u8 = 0x31;
}

/// What the Current/Maximum Capacity Descriptor says of the medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediumFormat {
    /// Unformatted or blank: the capacity is the most it can be formatted to.
    Unformatted,
    /// Formatted: the capacity is what it holds now.
    Formatted,
    /// No medium in the drive.
    NoMedium,
}

/// One formattable capacity: a FORMAT UNIT descriptor the drive accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatOption {
    /// Number of blocks it gives.
    pub blocks: u32,
    /// Format type (6 bits).
    pub format_type: u8,
    /// Type dependent parameter (24 bits; e.g. the block length).
    pub param: u32,
}

/// READ FORMAT CAPACITIES' reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatCapacities {
    /// The medium's state.
    pub current: MediumFormat,
    /// Its capacity in blocks (now, or at most).
    pub blocks: u32,
    /// Its block length.
    pub block_len: u32,
    /// The formats it can be given.
    pub options: Vec<FormatOption>,
}

fn be24(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([0, b[at], b[at + 1], b[at + 2]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn put24(b: &mut [u8], v: u32) {
    b.copy_from_slice(&v.to_be_bytes()[1..]);
}

impl FormatCapacities {
    /// The wire bytes: a 4-byte header, the current/maximum descriptor,
    /// then one 8-byte descriptor per option.
    pub fn encode(&self) -> Vec<u8> {
        let list_len = 8 * (1 + self.options.len());
        let mut b = vec![0u8; 4 + list_len];
        b[3] = u8::try_from(list_len).unwrap_or(0xF8);
        b[4..8].copy_from_slice(&self.blocks.to_be_bytes());
        b[8] = match self.current {
            MediumFormat::Unformatted => 1,
            MediumFormat::Formatted => 2,
            MediumFormat::NoMedium => 3,
        };
        put24(&mut b[9..12], self.block_len);
        for (i, o) in self.options.iter().enumerate() {
            let d = &mut b[12 + 8 * i..20 + 8 * i];
            d[0..4].copy_from_slice(&o.blocks.to_be_bytes());
            d[4] = o.format_type << 2;
            put24(&mut d[5..8], o.param);
        }
        b
    }

    /// Decodes the reply (as many descriptors as the list length and the
    /// bytes received both hold).
    pub fn decode(b: &[u8]) -> Result<Self, ReplyError> {
        if b.len() < 12 {
            return Err(ReplyError {
                command: "READ FORMAT CAPACITIES",
                len: b.len(),
                need: 12,
            });
        }
        let current = match b[8] & 0x03 {
            2 => MediumFormat::Formatted,
            3 => MediumFormat::NoMedium,
            _ => MediumFormat::Unformatted,
        };
        let listed = usize::from(b[3]) / 8;
        let options = (1..listed)
            .map(|i| 4 + 8 * i)
            .take_while(|&at| at + 8 <= b.len())
            .map(|at| FormatOption {
                blocks: be32(b, at),
                format_type: b[at + 4] >> 2,
                param: be24(b, at + 5),
            })
            .collect();
        Ok(FormatCapacities {
            current,
            blocks: be32(b, 4),
            block_len: be24(b, 9),
            options,
        })
    }
}

/// FORMAT UNIT's parameter list: the format list header and one format
/// descriptor (12 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatRequest {
    /// Return at once; progress is then in REQUEST SENSE's sense-key
    /// specific bytes (Immed in the header).
    pub immed: bool,
    /// The format asked for.
    pub format: FormatOption,
    /// Format subtype (2 bits; BD-RE: 0 quick certification, 2 none).
    pub subtype: u8,
}

impl FormatRequest {
    /// Parameter list length.
    pub const LEN: usize = 12;

    /// The 12 wire bytes.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        // FOV (format options valid) with Immed, as the option needs it.
        b[1] = if self.immed { 0x82 } else { 0 };
        b[3] = 8;
        b[4..8].copy_from_slice(&self.format.blocks.to_be_bytes());
        b[8] = self.format.format_type << 2 | (self.subtype & 0x03);
        put24(&mut b[9..12], self.format.param);
        b
    }

    /// Decodes the parameter list.
    pub fn decode(b: &[u8]) -> Result<Self, ReplyError> {
        if b.len() < Self::LEN {
            return Err(ReplyError {
                command: "FORMAT UNIT parameter list",
                len: b.len(),
                need: Self::LEN,
            });
        }
        Ok(FormatRequest {
            immed: b[1] & 0x82 == 0x82,
            format: FormatOption {
                blocks: be32(b, 4),
                format_type: b[8] >> 2,
                param: be24(b, 9),
            },
            subtype: b[8] & 0x03,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unformatted_dvd_plus_rw_offers_its_full_format() {
        let caps = FormatCapacities {
            current: MediumFormat::Unformatted,
            blocks: 2_295_104,
            block_len: 2048,
            options: vec![FormatOption {
                blocks: 2_295_104,
                format_type: format_type::DVD_PLUS_RW_FULL,
                param: 0,
            }],
        };
        let b = caps.encode();
        assert_eq!(
            b,
            [
                0, 0, 0, 16, 0x00, 0x23, 0x05, 0x40, 0x01, 0x00, 0x08, 0x00, 0x00, 0x23, 0x05,
                0x40, 0x98, 0, 0, 0
            ]
        );
        assert_eq!(FormatCapacities::decode(&b).unwrap(), caps);
        // Cut short: the descriptors that arrived whole.
        assert_eq!(FormatCapacities::decode(&b[..16]).unwrap().options, []);
        assert!(FormatCapacities::decode(&b[..11]).is_err());
    }

    #[test]
    fn a_bd_re_format_request_with_immed() {
        let r = FormatRequest {
            immed: true,
            format: FormatOption {
                blocks: 11_826_176,
                format_type: format_type::BD_RE_WITH_SPARES,
                param: 0x3000,
            },
            subtype: 0,
        };
        let b = r.encode();
        assert_eq!(
            b,
            [
                0, 0x82, 0, 8, 0x00, 0xB4, 0x74, 0x00, 0xC0, 0x00, 0x30, 0x00
            ]
        );
        assert_eq!(FormatRequest::decode(&b).unwrap(), r);
        assert!(FormatRequest::decode(&b[..11]).is_err());
    }
}
