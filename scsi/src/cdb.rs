//! Typed CDBs for the MMC commands webburn issues, with big-endian encode and
//! decode. The emulated recorder decodes with the same code the engine encodes
//! with, and both are pinned to literal bytes in the tests below.

/// Operation codes (SPC/MMC).
pub mod op {
    pub const TEST_UNIT_READY: u8 = 0x00;
    pub const REQUEST_SENSE: u8 = 0x03;
    pub const FORMAT_UNIT: u8 = 0x04;
    pub const INQUIRY: u8 = 0x12;
    pub const START_STOP_UNIT: u8 = 0x1B;
    pub const READ_FORMAT_CAPACITIES: u8 = 0x23;
    pub const READ_CAPACITY_10: u8 = 0x25;
    pub const READ_10: u8 = 0x28;
    pub const WRITE_10: u8 = 0x2A;
    pub const SYNCHRONIZE_CACHE_10: u8 = 0x35;
    pub const READ_TOC_PMA_ATIP: u8 = 0x43;
    pub const GET_CONFIGURATION: u8 = 0x46;
    pub const READ_DISC_INFORMATION: u8 = 0x51;
    pub const READ_TRACK_INFORMATION: u8 = 0x52;
    pub const CLOSE_TRACK_SESSION: u8 = 0x5B;
    pub const MODE_SELECT_10: u8 = 0x55;
    pub const MODE_SENSE_10: u8 = 0x5A;
    pub const READ_BUFFER_CAPACITY: u8 = 0x5C;
    pub const BLANK: u8 = 0xA1;
    pub const GET_PERFORMANCE: u8 = 0xAC;
    pub const WRITE_12: u8 = 0xAA;
    pub const SET_STREAMING: u8 = 0xB6;
    pub const SET_CD_SPEED: u8 = 0xBB;
}

/// One command descriptor block, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cdb {
    /// TEST UNIT READY (00h).
    TestUnitReady,
    /// REQUEST SENSE (03h).
    RequestSense { alloc: u8 },
    /// INQUIRY (12h).
    Inquiry { evpd: bool, page: u8, alloc: u16 },
    /// START STOP UNIT (1Bh): `load_eject` with `start` loads (closes the
    /// tray), without it ejects.
    StartStopUnit {
        immed: bool,
        start: bool,
        load_eject: bool,
    },
    /// FORMAT UNIT (04h), format code 1 (MMC-6 6.5): with `fmt_data` a
    /// 12-byte parameter list follows (a format list header and one format
    /// descriptor, [`super::replies::FormatRequest`]).
    FormatUnit { fmt_data: bool },
    /// READ FORMAT CAPACITIES (23h, MMC-6 6.24).
    ReadFormatCapacities { alloc: u16 },
    /// READ CAPACITY(10) (25h).
    ReadCapacity10,
    /// READ(10) (28h).
    Read10 { lba: i32, blocks: u16 },
    /// WRITE(10) (2Ah).
    Write10 { fua: bool, lba: i32, blocks: u16 },
    /// SYNCHRONIZE CACHE(10) (35h); `blocks` 0 = to the end.
    SynchronizeCache { immed: bool, lba: i32, blocks: u16 },
    /// READ TOC/PMA/ATIP (43h, MMC-6 6.26) with LBA addresses: `format` 0
    /// the TOC from track `track` on, 1 the multi-session information.
    ReadToc { format: u8, track: u8, alloc: u16 },
    /// GET CONFIGURATION (46h); `rt` 0 all, 1 current, 2 just `start_feature`.
    GetConfiguration {
        rt: u8,
        start_feature: u16,
        alloc: u16,
    },
    /// READ DISC INFORMATION (51h), data type 0.
    ReadDiscInformation { alloc: u16 },
    /// READ TRACK INFORMATION (52h); `address_type` 0 LBA, 1 track, 2 session.
    ReadTrackInformation {
        address_type: u8,
        open: bool,
        number: u32,
        alloc: u16,
    },
    /// CLOSE TRACK/SESSION (5Bh); `function` 1 track, 2 session, 5/6 DVD+R finalize.
    CloseTrackSession {
        immed: bool,
        function: u8,
        number: u16,
    },
    /// MODE SELECT(10) (55h) with PF set; the parameter list follows.
    ModeSelect10 { save: bool, param_len: u16 },
    /// MODE SENSE(10) (5Ah) without block descriptors; `control` 0 current,
    /// 1 changeable, 2 default, 3 saved.
    ModeSense10 { control: u8, page: u8, alloc: u16 },
    /// READ BUFFER CAPACITY (5Ch); `block` asks for free space in blocks.
    ReadBufferCapacity { block: bool, alloc: u16 },
    /// WRITE(12) (AAh) with the Streaming bit.
    Write12 {
        fua: bool,
        streaming: bool,
        lba: i32,
        blocks: u32,
    },
    /// GET PERFORMANCE (ACh), type 03h: the write speed descriptors.
    GetWriteSpeeds { max_descriptors: u16 },
    /// SET STREAMING (B6h) with a performance descriptor (type 0).
    SetStreaming { param_len: u16 },
    /// SET CD SPEED (BBh), CLV: read and write speed in kB/s, FFFFh = maximum.
    SetCdSpeed { read_kb: u16, write_kb: u16 },
    /// BLANK (A1h, MMC-6 6.2): `kind` 0 blanks the whole disc, 1 its
    /// minimal parts (PMA, lead-in, the first track's pre-gap).
    Blank { immed: bool, kind: u8 },
}

/// An encoded CDB: up to 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CdbBytes {
    bytes: [u8; 16],
    len: usize,
}

impl CdbBytes {
    /// The CDB's bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Why bytes could not be decoded as a CDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CdbError {
    /// An opcode this module does not know (the drive answers 5/20/00).
    #[error("unsupported operation code {0:#04x}")]
    UnsupportedOpcode(u8),
    /// The CDB is shorter than its opcode's group length.
    #[error("CDB of {len} bytes is too short for operation code {op:#04x}")]
    TooShort { op: u8, len: usize },
    /// An empty CDB.
    #[error("empty CDB")]
    Empty,
    /// A field holds a value this module does not accept (the drive answers 5/24/00).
    #[error("invalid field in CDB byte {0}")]
    InvalidField(usize),
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// An LBA field: signed, two's complement (MMC-6 4.2.2: CD addresses below
/// 0 are the first track's pre-gap). The medium check refuses negative
/// addresses on every other medium before a CDB is built.
fn put_lba(b: &mut [u8], lba: i32) {
    b[2..6].copy_from_slice(&lba.to_be_bytes());
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// The CDB length of an opcode's group (SPC): 00-1F 6, 20-5F 10, 80-9F 16, A0-BF 12.
pub fn group_len(op: u8) -> Option<usize> {
    match op {
        0x00..=0x1F => Some(6),
        0x20..=0x5F => Some(10),
        0x80..=0x9F => Some(16),
        0xA0..=0xBF => Some(12),
        _ => None,
    }
}

impl Cdb {
    /// The operation code.
    pub fn opcode(&self) -> u8 {
        match self {
            Cdb::TestUnitReady => op::TEST_UNIT_READY,
            Cdb::RequestSense { .. } => op::REQUEST_SENSE,
            Cdb::Inquiry { .. } => op::INQUIRY,
            Cdb::FormatUnit { .. } => op::FORMAT_UNIT,
            Cdb::ReadFormatCapacities { .. } => op::READ_FORMAT_CAPACITIES,
            Cdb::StartStopUnit { .. } => op::START_STOP_UNIT,
            Cdb::ReadCapacity10 => op::READ_CAPACITY_10,
            Cdb::Read10 { .. } => op::READ_10,
            Cdb::Write10 { .. } => op::WRITE_10,
            Cdb::SynchronizeCache { .. } => op::SYNCHRONIZE_CACHE_10,
            Cdb::ReadToc { .. } => op::READ_TOC_PMA_ATIP,
            Cdb::GetConfiguration { .. } => op::GET_CONFIGURATION,
            Cdb::ReadDiscInformation { .. } => op::READ_DISC_INFORMATION,
            Cdb::ReadTrackInformation { .. } => op::READ_TRACK_INFORMATION,
            Cdb::CloseTrackSession { .. } => op::CLOSE_TRACK_SESSION,
            Cdb::ModeSelect10 { .. } => op::MODE_SELECT_10,
            Cdb::ModeSense10 { .. } => op::MODE_SENSE_10,
            Cdb::ReadBufferCapacity { .. } => op::READ_BUFFER_CAPACITY,
            Cdb::Write12 { .. } => op::WRITE_12,
            Cdb::GetWriteSpeeds { .. } => op::GET_PERFORMANCE,
            Cdb::SetStreaming { .. } => op::SET_STREAMING,
            Cdb::SetCdSpeed { .. } => op::SET_CD_SPEED,
            Cdb::Blank { .. } => op::BLANK,
        }
    }

    /// The wire bytes, Control byte 0.
    #[allow(clippy::too_many_lines)] // one flat arm per opcode reads best
    pub fn encode(&self) -> CdbBytes {
        let op = self.opcode();
        let len = group_len(op).unwrap_or(16);
        let mut b = [0u8; 16];
        b[0] = op;
        match *self {
            Cdb::TestUnitReady | Cdb::ReadCapacity10 => {}
            Cdb::RequestSense { alloc } => b[4] = alloc,
            Cdb::FormatUnit { fmt_data } => b[1] = if fmt_data { 0x11 } else { 0x01 },
            Cdb::Inquiry { evpd, page, alloc } => {
                b[1] = u8::from(evpd);
                b[2] = page;
                put16(&mut b, 3, alloc);
            }
            Cdb::StartStopUnit {
                immed,
                start,
                load_eject,
            } => {
                b[1] = u8::from(immed);
                b[4] = u8::from(start) | if load_eject { 0x02 } else { 0 };
            }
            Cdb::Read10 { lba, blocks } => {
                put_lba(&mut b, lba);
                put16(&mut b, 7, blocks);
            }
            Cdb::Write10 { fua, lba, blocks } => {
                b[1] = if fua { 0x08 } else { 0 };
                put_lba(&mut b, lba);
                put16(&mut b, 7, blocks);
            }
            Cdb::SynchronizeCache { immed, lba, blocks } => {
                b[1] = if immed { 0x02 } else { 0 };
                put_lba(&mut b, lba);
                put16(&mut b, 7, blocks);
            }
            Cdb::GetConfiguration {
                rt,
                start_feature,
                alloc,
            } => {
                b[1] = rt & 0x03;
                put16(&mut b, 2, start_feature);
                put16(&mut b, 7, alloc);
            }
            Cdb::ReadToc {
                format,
                track,
                alloc,
            } => {
                b[2] = format & 0x0F;
                b[6] = track;
                put16(&mut b, 7, alloc);
            }
            Cdb::ReadDiscInformation { alloc } | Cdb::ReadFormatCapacities { alloc } => {
                put16(&mut b, 7, alloc);
            }
            Cdb::ReadTrackInformation {
                address_type,
                open,
                number,
                alloc,
            } => {
                b[1] = (address_type & 0x03) | if open { 0x04 } else { 0 };
                put32(&mut b, 2, number);
                put16(&mut b, 7, alloc);
            }
            Cdb::CloseTrackSession {
                immed,
                function,
                number,
            } => {
                b[1] = u8::from(immed);
                b[2] = function & 0x07;
                put16(&mut b, 4, number);
            }
            Cdb::ModeSelect10 { save, param_len } => {
                b[1] = 0x10 | u8::from(save);
                put16(&mut b, 7, param_len);
            }
            Cdb::ModeSense10 {
                control,
                page,
                alloc,
            } => {
                b[1] = 0x08;
                b[2] = (control & 0x03) << 6 | (page & 0x3F);
                put16(&mut b, 7, alloc);
            }
            Cdb::ReadBufferCapacity { block, alloc } => {
                b[1] = u8::from(block);
                put16(&mut b, 7, alloc);
            }
            Cdb::Write12 {
                fua,
                streaming,
                lba,
                blocks,
            } => {
                b[1] = if fua { 0x08 } else { 0 };
                put_lba(&mut b, lba);
                put32(&mut b, 6, blocks);
                b[10] = if streaming { 0x80 } else { 0 };
            }
            Cdb::GetWriteSpeeds { max_descriptors } => {
                put16(&mut b, 8, max_descriptors);
                b[10] = 0x03;
            }
            Cdb::SetStreaming { param_len } => put16(&mut b, 9, param_len),
            Cdb::SetCdSpeed { read_kb, write_kb } => {
                put16(&mut b, 2, read_kb);
                put16(&mut b, 4, write_kb);
            }
            Cdb::Blank { immed, kind } => b[1] = (kind & 0x07) | if immed { 0x10 } else { 0 },
        }
        CdbBytes { bytes: b, len }
    }

    /// Decodes wire bytes; the inverse of [`Cdb::encode`].
    #[allow(clippy::too_many_lines)] // one flat arm per opcode reads best
    pub fn decode(b: &[u8]) -> Result<Cdb, CdbError> {
        let &op = b.first().ok_or(CdbError::Empty)?;
        let need = group_len(op).ok_or(CdbError::UnsupportedOpcode(op))?;
        if b.len() < need {
            return Err(CdbError::TooShort { op, len: b.len() });
        }
        let lba = || i32::from_be_bytes([b[2], b[3], b[4], b[5]]);
        Ok(match op {
            op::TEST_UNIT_READY => Cdb::TestUnitReady,
            op::REQUEST_SENSE => Cdb::RequestSense { alloc: b[4] },
            op::FORMAT_UNIT => {
                // MMC knows format code 1 only (and no defect list).
                if b[1] & 0x0F != 0x01 {
                    return Err(CdbError::InvalidField(1));
                }
                Cdb::FormatUnit {
                    fmt_data: b[1] & 0x10 != 0,
                }
            }
            op::READ_FORMAT_CAPACITIES => Cdb::ReadFormatCapacities { alloc: be16(b, 7) },
            op::READ_TOC_PMA_ATIP => {
                // LBA addresses only (no MSF).
                if b[1] & 0x02 != 0 {
                    return Err(CdbError::InvalidField(1));
                }
                Cdb::ReadToc {
                    format: b[2] & 0x0F,
                    track: b[6],
                    alloc: be16(b, 7),
                }
            }
            op::INQUIRY => Cdb::Inquiry {
                evpd: b[1] & 0x01 != 0,
                page: b[2],
                alloc: be16(b, 3),
            },
            op::START_STOP_UNIT => Cdb::StartStopUnit {
                immed: b[1] & 0x01 != 0,
                start: b[4] & 0x01 != 0,
                load_eject: b[4] & 0x02 != 0,
            },
            op::READ_CAPACITY_10 => Cdb::ReadCapacity10,
            op::READ_10 => Cdb::Read10 {
                lba: lba(),
                blocks: be16(b, 7),
            },
            op::WRITE_10 => Cdb::Write10 {
                fua: b[1] & 0x08 != 0,
                lba: lba(),
                blocks: be16(b, 7),
            },
            op::SYNCHRONIZE_CACHE_10 => Cdb::SynchronizeCache {
                immed: b[1] & 0x02 != 0,
                lba: lba(),
                blocks: be16(b, 7),
            },
            op::GET_CONFIGURATION => {
                let rt = b[1] & 0x03;
                if rt == 3 {
                    return Err(CdbError::InvalidField(1));
                }
                Cdb::GetConfiguration {
                    rt,
                    start_feature: be16(b, 2),
                    alloc: be16(b, 7),
                }
            }
            op::READ_DISC_INFORMATION => {
                if b[1] & 0x07 != 0 {
                    return Err(CdbError::InvalidField(1));
                }
                Cdb::ReadDiscInformation { alloc: be16(b, 7) }
            }
            op::READ_TRACK_INFORMATION => Cdb::ReadTrackInformation {
                address_type: b[1] & 0x03,
                open: b[1] & 0x04 != 0,
                number: be32(b, 2),
                alloc: be16(b, 7),
            },
            op::CLOSE_TRACK_SESSION => Cdb::CloseTrackSession {
                immed: b[1] & 0x01 != 0,
                function: b[2] & 0x07,
                number: be16(b, 4),
            },
            op::MODE_SELECT_10 => {
                if b[1] & 0x10 == 0 {
                    return Err(CdbError::InvalidField(1));
                }
                Cdb::ModeSelect10 {
                    save: b[1] & 0x01 != 0,
                    param_len: be16(b, 7),
                }
            }
            op::MODE_SENSE_10 => Cdb::ModeSense10 {
                control: b[2] >> 6,
                page: b[2] & 0x3F,
                alloc: be16(b, 7),
            },
            op::READ_BUFFER_CAPACITY => Cdb::ReadBufferCapacity {
                block: b[1] & 0x01 != 0,
                alloc: be16(b, 7),
            },
            op::WRITE_12 => Cdb::Write12 {
                fua: b[1] & 0x08 != 0,
                streaming: b[10] & 0x80 != 0,
                lba: lba(),
                blocks: be32(b, 6),
            },
            op::GET_PERFORMANCE => {
                if b[10] != 0x03 {
                    return Err(CdbError::InvalidField(10));
                }
                Cdb::GetWriteSpeeds {
                    max_descriptors: be16(b, 8),
                }
            }
            op::SET_STREAMING => {
                if b[8] != 0 {
                    return Err(CdbError::InvalidField(8));
                }
                Cdb::SetStreaming {
                    param_len: be16(b, 9),
                }
            }
            op::SET_CD_SPEED => Cdb::SetCdSpeed {
                read_kb: be16(b, 2),
                write_kb: be16(b, 4),
            },
            op::BLANK => {
                let kind = b[1] & 0x07;
                // Full and minimal blanking; the track and session kinds are not used.
                if kind > 1 {
                    return Err(CdbError::InvalidField(1));
                }
                Cdb::Blank {
                    immed: b[1] & 0x10 != 0,
                    kind,
                }
            }
            other => return Err(CdbError::UnsupportedOpcode(other)),
        })
    }
}

/// The 28-byte performance descriptor SET STREAMING carries (type 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerformanceDescriptor {
    /// Restore drive defaults (RDD).
    pub restore_defaults: bool,
    /// First LBA the speeds apply to.
    pub start_lba: u32,
    /// Last LBA the speeds apply to.
    pub end_lba: u32,
    /// Read size in kB per `read_time_ms`.
    pub read_kb: u32,
    /// Read time in ms.
    pub read_time_ms: u32,
    /// Write size in kB per `write_time_ms`.
    pub write_kb: u32,
    /// Write time in ms.
    pub write_time_ms: u32,
}

impl PerformanceDescriptor {
    /// Encoded length.
    pub const LEN: usize = 28;

    /// A descriptor asking for `write_kb_per_s` (kB = 1000 B) from LBA 0 to `end_lba`.
    pub fn write_speed(write_kb_per_s: u32, end_lba: u32) -> Self {
        PerformanceDescriptor {
            restore_defaults: false,
            start_lba: 0,
            end_lba,
            read_kb: write_kb_per_s,
            read_time_ms: 1000,
            write_kb: write_kb_per_s,
            write_time_ms: 1000,
        }
    }

    /// Requested write speed in bytes per second, if the descriptor names one.
    pub fn write_bytes_per_second(&self) -> Option<u64> {
        (self.write_time_ms != 0)
            .then(|| u64::from(self.write_kb) * 1000 * 1000 / u64::from(self.write_time_ms))
    }

    /// The wire bytes.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        b[0] = if self.restore_defaults { 0x04 } else { 0 };
        put32(&mut b, 4, self.start_lba);
        put32(&mut b, 8, self.end_lba);
        put32(&mut b, 12, self.read_kb);
        put32(&mut b, 16, self.read_time_ms);
        put32(&mut b, 20, self.write_kb);
        put32(&mut b, 24, self.write_time_ms);
        b
    }

    /// Decodes the wire bytes; `None` if fewer than 28.
    pub fn decode(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::LEN).then(|| PerformanceDescriptor {
            restore_defaults: b[0] & 0x04 != 0,
            start_lba: be32(b, 4),
            end_lba: be32(b, 8),
            read_kb: be32(b, 12),
            read_time_ms: be32(b, 16),
            write_kb: be32(b, 20),
            write_time_ms: be32(b, 24),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(cdb: Cdb, bytes: &[u8]) {
        assert_eq!(cdb.encode().as_slice(), bytes, "{cdb:?}");
        assert_eq!(Cdb::decode(bytes), Ok(cdb));
    }

    #[test]
    fn six_byte_commands() {
        round_trip(Cdb::TestUnitReady, &[0x00, 0, 0, 0, 0, 0]);
        round_trip(Cdb::RequestSense { alloc: 18 }, &[0x03, 0, 0, 0, 18, 0]);
        // Eject (LoEj) and load (LoEj + Start).
        round_trip(
            Cdb::StartStopUnit {
                immed: false,
                start: false,
                load_eject: true,
            },
            &[0x1B, 0, 0, 0, 0x02, 0],
        );
        round_trip(
            Cdb::StartStopUnit {
                immed: true,
                start: true,
                load_eject: true,
            },
            &[0x1B, 1, 0, 0, 0x03, 0],
        );
        round_trip(
            Cdb::Inquiry {
                evpd: false,
                page: 0,
                alloc: 36,
            },
            &[0x12, 0, 0, 0, 36, 0],
        );
        round_trip(
            Cdb::Inquiry {
                evpd: true,
                page: 0x80,
                alloc: 0x0102,
            },
            &[0x12, 1, 0x80, 1, 2, 0],
        );
        // FORMAT UNIT, format code 1, with its parameter list (FmtData).
        round_trip(
            Cdb::FormatUnit { fmt_data: true },
            &[0x04, 0x11, 0, 0, 0, 0],
        );
    }

    #[test]
    fn ten_byte_commands() {
        round_trip(Cdb::ReadCapacity10, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        round_trip(
            Cdb::Write10 {
                fua: false,
                lba: 0x0001_0203,
                blocks: 32,
            },
            &[0x2A, 0, 0x00, 0x01, 0x02, 0x03, 0, 0, 32, 0],
        );
        // Negative LBAs (the CD pre-gap) are two's complement.
        round_trip(
            Cdb::Write10 {
                fua: true,
                lba: -150,
                blocks: 1,
            },
            &[0x2A, 0x08, 0xFF, 0xFF, 0xFF, 0x6A, 0, 0, 1, 0],
        );
        round_trip(
            Cdb::Read10 {
                lba: 16,
                blocks: 0x0100,
            },
            &[0x28, 0, 0, 0, 0, 16, 0, 1, 0, 0],
        );
        round_trip(
            Cdb::SynchronizeCache {
                immed: true,
                lba: 0,
                blocks: 0,
            },
            &[0x35, 0x02, 0, 0, 0, 0, 0, 0, 0, 0],
        );
        round_trip(
            Cdb::GetConfiguration {
                rt: 1,
                start_feature: 0x0107,
                alloc: 0x1000,
            },
            &[0x46, 0x01, 0x01, 0x07, 0, 0, 0, 0x10, 0x00, 0],
        );
        round_trip(
            Cdb::ReadFormatCapacities { alloc: 0xFC },
            &[0x23, 0, 0, 0, 0, 0, 0, 0, 0xFC, 0],
        );
        round_trip(
            Cdb::ReadToc {
                format: 1,
                track: 0,
                alloc: 12,
            },
            &[0x43, 0, 0x01, 0, 0, 0, 0, 0, 12, 0],
        );
        round_trip(
            Cdb::ReadDiscInformation { alloc: 34 },
            &[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0],
        );
        round_trip(
            Cdb::ReadTrackInformation {
                address_type: 1,
                open: false,
                number: 0xFF,
                alloc: 48,
            },
            &[0x52, 0x01, 0, 0, 0, 0xFF, 0, 0, 48, 0],
        );
        round_trip(
            Cdb::CloseTrackSession {
                immed: true,
                function: 2,
                number: 0,
            },
            &[0x5B, 0x01, 0x02, 0, 0, 0, 0, 0, 0, 0],
        );
        round_trip(
            Cdb::ReadBufferCapacity {
                block: false,
                alloc: 12,
            },
            &[0x5C, 0, 0, 0, 0, 0, 0, 0, 12, 0],
        );
        // Write Parameters page (05h), current values, no block descriptors.
        round_trip(
            Cdb::ModeSense10 {
                control: 0,
                page: 0x05,
                alloc: 60,
            },
            &[0x5A, 0x08, 0x05, 0, 0, 0, 0, 0, 60, 0],
        );
        round_trip(
            Cdb::ModeSelect10 {
                save: false,
                param_len: 60,
            },
            &[0x55, 0x10, 0, 0, 0, 0, 0, 0, 60, 0],
        );
    }

    #[test]
    fn twelve_byte_commands() {
        round_trip(
            Cdb::Write12 {
                fua: false,
                streaming: true,
                lba: 0x10,
                blocks: 0x20,
            },
            &[0xAA, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x20, 0x80, 0],
        );
        round_trip(
            Cdb::Write12 {
                fua: false,
                streaming: false,
                lba: 1,
                blocks: 1,
            },
            &[0xAA, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0],
        );
        round_trip(
            Cdb::SetStreaming { param_len: 28 },
            &[0xB6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 28, 0],
        );
        // 48x CD (7,056 kB/s raw) writing, reads at maximum.
        round_trip(
            Cdb::SetCdSpeed {
                read_kb: 0xFFFF,
                write_kb: 7056,
            },
            &[0xBB, 0, 0xFF, 0xFF, 0x1B, 0x90, 0, 0, 0, 0, 0, 0],
        );
        round_trip(
            Cdb::GetWriteSpeeds {
                max_descriptors: 16,
            },
            &[0xAC, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0x03, 0],
        );
        // Minimal blanking, returning at once (progress in REQUEST SENSE).
        round_trip(
            Cdb::Blank {
                immed: true,
                kind: 1,
            },
            &[0xA1, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        );
    }

    #[test]
    fn rejects_bad_cdbs() {
        assert_eq!(Cdb::decode(&[]), Err(CdbError::Empty));
        assert_eq!(
            Cdb::decode(&[0x2A, 0, 0]),
            Err(CdbError::TooShort { op: 0x2A, len: 3 })
        );
        assert_eq!(
            Cdb::decode(&[0xA3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(CdbError::UnsupportedOpcode(0xA3))
        );
        // BLANK of one track or session, FORMAT UNIT with another format code.
        assert_eq!(
            Cdb::decode(&[0xA1, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(CdbError::InvalidField(1))
        );
        assert_eq!(
            Cdb::decode(&[0x04, 0x17, 0, 0, 0, 0]),
            Err(CdbError::InvalidField(1))
        );
        assert_eq!(Cdb::decode(&[0x70]), Err(CdbError::UnsupportedOpcode(0x70)));
        assert_eq!(
            Cdb::decode(&[0x46, 0x03, 0, 0, 0, 0, 0, 0, 8, 0]),
            Err(CdbError::InvalidField(1))
        );
    }

    #[test]
    fn performance_descriptor_literal_bytes() {
        // 72 MB/s (16x BD) for LBAs 0..=0x00BA_7FFF.
        let d = PerformanceDescriptor::write_speed(72_000, 0x00BA_7FFF);
        let b = d.encode();
        assert_eq!(
            b,
            [
                0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0xBA, 0x7F, 0xFF, 0x00, 0x01, 0x19, 0x40, 0, 0, 0x03,
                0xE8, 0x00, 0x01, 0x19, 0x40, 0, 0, 0x03, 0xE8
            ]
        );
        assert_eq!(PerformanceDescriptor::decode(&b), Some(d));
        assert_eq!(d.write_bytes_per_second(), Some(72_000_000));
        assert_eq!(PerformanceDescriptor::decode(&b[..27]), None);
    }
}
