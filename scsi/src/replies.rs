//! Data-in replies of the MMC commands webburn reads, as typed structs with
//! big-endian encode (the emulated recorder answers with these) and decode
//! (the host side reads a drive's answer with these).

/// Why a reply could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{command} reply of {len} bytes is too short (need {need})")]
pub struct ReplyError {
    /// The command whose reply it was.
    pub command: &'static str,
    /// Bytes received.
    pub len: usize,
    /// Bytes needed.
    pub need: usize,
}

fn need(command: &'static str, b: &[u8], need: usize) -> Result<(), ReplyError> {
    if b.len() < need {
        Err(ReplyError {
            command,
            len: b.len(),
            need,
        })
    } else {
        Ok(())
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Standard INQUIRY data (the first 36 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InquiryData {
    /// Peripheral device type: 05h optical, 00h direct access.
    pub device_type: u8,
    /// RMB: removable medium.
    pub removable: bool,
    /// T10 vendor id, 8 characters, trailing spaces trimmed.
    pub vendor: String,
    /// Product id, 16 characters, trimmed.
    pub product: String,
    /// Product revision, 4 characters, trimmed.
    pub revision: String,
}

fn padded<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [b' '; N];
    for (o, c) in out
        .iter_mut()
        .zip(s.bytes().filter(|c| c.is_ascii_graphic() || *c == b' '))
    {
        *o = c;
    }
    out
}

fn ascii(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .trim_end_matches([' ', '\0'])
        .to_owned()
}

impl InquiryData {
    /// Encoded length.
    pub const LEN: usize = 36;

    /// The 36 wire bytes (SPC-3, response format 2).
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        b[0] = self.device_type & 0x1F;
        b[1] = if self.removable { 0x80 } else { 0 };
        b[2] = 0x05;
        b[3] = 0x02;
        b[4] = super::len8(Self::LEN - 5);
        b[8..16].copy_from_slice(&padded::<8>(&self.vendor));
        b[16..32].copy_from_slice(&padded::<16>(&self.product));
        b[32..36].copy_from_slice(&padded::<4>(&self.revision));
        b
    }

    /// Decodes the standard INQUIRY data.
    pub fn decode(b: &[u8]) -> Result<Self, ReplyError> {
        need("INQUIRY", b, Self::LEN)?;
        Ok(InquiryData {
            device_type: b[0] & 0x1F,
            removable: b[1] & 0x80 != 0,
            vendor: ascii(&b[8..16]),
            product: ascii(&b[16..32]),
            revision: ascii(&b[32..36]),
        })
    }
}

/// READ CAPACITY(10) reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// Last addressable LBA.
    pub last_lba: u32,
    /// Block length in bytes.
    pub block_len: u32,
}

impl Capacity {
    /// The 8 wire bytes.
    pub fn encode(&self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0..4].copy_from_slice(&self.last_lba.to_be_bytes());
        b[4..8].copy_from_slice(&self.block_len.to_be_bytes());
        b
    }

    /// Decodes the reply.
    pub fn decode(b: &[u8]) -> Result<Self, ReplyError> {
        need("READ CAPACITY", b, 8)?;
        Ok(Capacity {
            last_lba: be32(b, 0),
            block_len: be32(b, 4),
        })
    }
}

/// READ BUFFER CAPACITY reply (BLOCK = 0): the drive buffer in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferCapacity {
    /// Buffer length in bytes.
    pub size: u32,
    /// Free bytes.
    pub free: u32,
}

impl BufferCapacity {
    /// The 12 wire bytes.
    pub fn encode(&self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[1] = 10;
        b[4..8].copy_from_slice(&self.size.to_be_bytes());
        b[8..12].copy_from_slice(&self.free.to_be_bytes());
        b
    }

    /// Decodes the reply; a free count above the size is clamped as libburn does (size / 2).
    pub fn decode(b: &[u8]) -> Result<Self, ReplyError> {
        need("READ BUFFER CAPACITY", b, 12)?;
        let (size, free) = (be32(b, 4), be32(b, 8));
        Ok(BufferCapacity {
            size,
            free: if free > size { size / 2 } else { free },
        })
    }
}

/// Disc status from READ DISC INFORMATION byte 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DiscStatus {
    /// Nothing recorded.
    Blank,
    /// Recorded and open for more.
    Appendable,
    /// Finalized.
    Complete,
    /// Random-access writable (rewritable, removable disk).
    Random,
}

/// READ DISC INFORMATION reply (the fields webburn uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscInformation {
    /// Disc status.
    pub status: DiscStatus,
    /// Status of the last session: 0 empty, 1 incomplete, 2 damaged, 3 complete.
    pub last_session_state: u8,
    /// Erasable medium.
    pub erasable: bool,
    /// Number of sessions.
    pub sessions: u16,
    /// First track in the last session.
    pub first_track_last_session: u16,
    /// Last track in the last session.
    pub last_track_last_session: u16,
}

impl DiscInformation {
    /// Encoded length.
    pub const LEN: usize = 34;

    /// The 34 wire bytes.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        b[1] = super::len8(Self::LEN - 2);
        let status = match self.status {
            DiscStatus::Blank => 0,
            DiscStatus::Appendable => 1,
            DiscStatus::Complete => 2,
            DiscStatus::Random => 3,
        };
        b[2] = status | (self.last_session_state & 3) << 2 | u8::from(self.erasable) << 4;
        b[3] = 1;
        let [s_hi, s_lo] = self.sessions.to_be_bytes();
        let [f_hi, f_lo] = self.first_track_last_session.to_be_bytes();
        let [l_hi, l_lo] = self.last_track_last_session.to_be_bytes();
        (b[4], b[5], b[6]) = (s_lo, f_lo, l_lo);
        (b[9], b[10], b[11]) = (s_hi, f_hi, l_hi);
        b
    }

    /// Decodes the reply.
    pub fn decode(b: &[u8]) -> Result<Self, ReplyError> {
        need("READ DISC INFORMATION", b, 12)?;
        let status = match b[2] & 3 {
            0 => DiscStatus::Blank,
            1 => DiscStatus::Appendable,
            2 => DiscStatus::Complete,
            _ => DiscStatus::Random,
        };
        Ok(DiscInformation {
            status,
            last_session_state: (b[2] >> 2) & 3,
            erasable: b[2] & 0x10 != 0,
            sessions: u16::from_be_bytes([b[9], b[4]]),
            first_track_last_session: u16::from_be_bytes([b[10], b[5]]),
            last_track_last_session: u16::from_be_bytes([b[11], b[6]]),
        })
    }
}

/// READ TRACK INFORMATION reply (the fields webburn uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackInformation {
    /// Track number.
    pub track: u16,
    /// The session it belongs to.
    pub session: u16,
    /// Blank track.
    pub blank: bool,
    /// Track start address.
    pub start: u32,
    /// Next writable address, when the drive reports one (NWA_V).
    pub next_writable: Option<u32>,
    /// Free blocks.
    pub free_blocks: u32,
    /// Track size in blocks.
    pub size: u32,
    /// Last recorded address.
    pub last_recorded: u32,
}

impl TrackInformation {
    /// Encoded length.
    pub const LEN: usize = 48;

    /// The 48 wire bytes.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        b[1] = super::len8(Self::LEN - 2);
        let [t_hi, t_lo] = self.track.to_be_bytes();
        (b[2], b[32]) = (t_lo, t_hi);
        let [s_hi, s_lo] = self.session.to_be_bytes();
        (b[3], b[33]) = (s_lo, s_hi);
        b[6] = if self.blank { 0x40 } else { 0 };
        b[7] = u8::from(self.next_writable.is_some());
        b[8..12].copy_from_slice(&self.start.to_be_bytes());
        b[12..16].copy_from_slice(&self.next_writable.unwrap_or(0).to_be_bytes());
        b[16..20].copy_from_slice(&self.free_blocks.to_be_bytes());
        b[24..28].copy_from_slice(&self.size.to_be_bytes());
        b[28..32].copy_from_slice(&self.last_recorded.to_be_bytes());
        b
    }

    /// Decodes the reply.
    pub fn decode(b: &[u8]) -> Result<Self, ReplyError> {
        need("READ TRACK INFORMATION", b, 32)?;
        Ok(TrackInformation {
            track: u16::from_be_bytes([b.get(32).copied().unwrap_or(0), b[2]]),
            session: u16::from_be_bytes([b.get(33).copied().unwrap_or(0), b[3]]),
            blank: b[6] & 0x40 != 0,
            start: be32(b, 8),
            next_writable: (b[7] & 1 != 0).then(|| be32(b, 12)),
            free_blocks: be32(b, 16),
            size: be32(b, 24),
            last_recorded: be32(b, 28),
        })
    }
}

/// One entry of a READ TOC format 0 reply (LBA form): a track, or the
/// lead-out ([`TocEntry::LEAD_OUT`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TocEntry {
    /// Track number (AAh: the lead-out).
    pub track: u8,
    /// Its first LBA.
    pub start: u32,
}

impl TocEntry {
    /// The lead-out's track number.
    pub const LEAD_OUT: u8 = 0xAA;
}

/// READ TOC format 0 (MMC-6 6.26.3.2): the tracks of the closed sessions
/// and the lead-out, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toc {
    /// First and last track numbers.
    pub first: u8,
    /// Last track number.
    pub last: u8,
    /// The track descriptors, the lead-out last.
    pub entries: Vec<TocEntry>,
}

/// Control nibble of a data track recorded incrementally (4h) with ADR 1.
const DATA_TRACK: u8 = 0x14;

impl Toc {
    /// The wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![0u8; 4];
        (b[2], b[3]) = (self.first, self.last);
        for e in &self.entries {
            b.extend_from_slice(&[0, DATA_TRACK, e.track, 0]);
            b.extend_from_slice(&e.start.to_be_bytes());
        }
        let len = super::len16(b.len() - 2);
        b[0..2].copy_from_slice(&len.to_be_bytes());
        b
    }

    /// Decodes the reply (as many descriptors as it holds).
    pub fn decode(b: &[u8]) -> Result<Self, ReplyError> {
        need("READ TOC", b, 4)?;
        // A data length below the header's own 2 bytes holds no descriptor.
        let len = (usize::from(u16::from_be_bytes([b[0], b[1]])) + 2).min(b.len());
        let entries = b
            .get(4..len)
            .unwrap_or_default()
            .chunks_exact(8)
            .map(|d| TocEntry {
                track: d[2],
                start: be32(d, 4),
            })
            .collect();
        Ok(Toc {
            first: b[2],
            last: b[3],
            entries,
        })
    }
}

/// READ TOC format 1 (MMC-6 6.26.3.3): where the last complete session
/// starts, the address a multisession file system is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionInfo {
    /// First complete session number.
    pub first_session: u8,
    /// Last complete session number.
    pub last_session: u8,
    /// First track in the last complete session.
    pub first_track: u8,
    /// Its first LBA.
    pub start: u32,
}

impl SessionInfo {
    /// Encoded length.
    pub const LEN: usize = 12;

    /// The 12 wire bytes.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        b[1] = super::len8(Self::LEN - 2);
        (b[2], b[3]) = (self.first_session, self.last_session);
        (b[5], b[6]) = (DATA_TRACK, self.first_track);
        b[8..12].copy_from_slice(&self.start.to_be_bytes());
        b
    }

    /// Decodes the reply.
    pub fn decode(b: &[u8]) -> Result<Self, ReplyError> {
        need("READ TOC (session information)", b, Self::LEN)?;
        Ok(SessionInfo {
            first_session: b[2],
            last_session: b[3],
            first_track: b[6],
            start: be32(b, 8),
        })
    }
}

/// Feature numbers webburn reads from GET CONFIGURATION.
pub mod feature {
    /// Profile List.
    pub const PROFILE_LIST: u16 = 0x0000;
    /// Random Writable (the medium takes WRITEs anywhere).
    pub const RANDOM_WRITABLE: u16 = 0x0020;
    /// Formattable (FORMAT UNIT and READ FORMAT CAPACITIES work).
    pub const FORMATTABLE: u16 = 0x0023;
    /// Incremental Streaming Writable (byte 6 bit 0: BUF, underrun protection).
    pub const INCREMENTAL_STREAMING_WRITABLE: u16 = 0x0021;
    /// CD Track at Once (data byte 0 bit 2: Test Write).
    pub const CD_TRACK_AT_ONCE: u16 = 0x002D;
    /// CD Mastering / Session at Once (data byte 0 bit 2: Test Write).
    pub const CD_MASTERING: u16 = 0x002E;
    /// DVD-R/-RW Write (data byte 0 bit 2: Test Write).
    pub const DVD_R_WRITE: u16 = 0x002F;
    /// Real-Time Streaming (SW, WSPD, RBCB bits).
    pub const REAL_TIME_STREAMING: u16 = 0x0107;
}

/// One feature descriptor of a GET CONFIGURATION reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    /// Feature code.
    pub code: u16,
    /// Current for the loaded medium.
    pub current: bool,
    /// Feature-dependent bytes after the 4-byte descriptor header.
    pub data: Vec<u8>,
}

/// GET CONFIGURATION reply: current profile and feature descriptors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configuration {
    /// Current profile (0 = none / no medium).
    pub current_profile: u16,
    /// Feature descriptors in order.
    pub features: Vec<Feature>,
}

impl Configuration {
    /// The wire bytes (8-byte header plus descriptors).
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![0u8; 8];
        b[6..8].copy_from_slice(&self.current_profile.to_be_bytes());
        for f in &self.features {
            b.extend_from_slice(&f.code.to_be_bytes());
            b.push(u8::from(f.current) | 0x02);
            b.push(super::len8(f.data.len()));
            b.extend_from_slice(&f.data);
        }
        let len = u32::try_from(b.len() - 4).unwrap_or(u32::MAX);
        b[0..4].copy_from_slice(&len.to_be_bytes());
        b
    }

    /// Decodes a possibly truncated reply (descriptors cut by the allocation
    /// length are dropped).
    pub fn decode(b: &[u8]) -> Result<Self, ReplyError> {
        need("GET CONFIGURATION", b, 8)?;
        let stated = (be32(b, 0) as usize).saturating_add(4);
        let end = stated.min(b.len());
        let mut features = Vec::new();
        let mut at = 8;
        while at + 4 <= end {
            let len = usize::from(b[at + 3]);
            let Some(data) = b.get(at + 4..at + 4 + len).filter(|_| at + 4 + len <= end) else {
                break;
            };
            features.push(Feature {
                code: u16::from_be_bytes([b[at], b[at + 1]]),
                current: b[at + 2] & 1 != 0,
                data: data.to_vec(),
            });
            at += 4 + len;
        }
        Ok(Configuration {
            current_profile: u16::from_be_bytes([b[6], b[7]]),
            features,
        })
    }

    /// Builds the Profile List feature from (profile, current) pairs.
    pub fn profile_list(profiles: &[(u16, bool)]) -> Feature {
        let mut data = Vec::with_capacity(profiles.len() * 4);
        for &(p, current) in profiles {
            data.extend_from_slice(&p.to_be_bytes());
            data.push(u8::from(current));
            data.push(0);
        }
        Feature {
            code: feature::PROFILE_LIST,
            current: true,
            data,
        }
    }

    /// The profiles in the Profile List feature: (profile, current).
    pub fn profiles(&self) -> Vec<(u16, bool)> {
        self.features
            .iter()
            .find(|f| f.code == feature::PROFILE_LIST)
            .map(|f| {
                f.data
                    .chunks_exact(4)
                    .map(|c| (u16::from_be_bytes([c[0], c[1]]), c[2] & 1 != 0))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The descriptor of `code`, if the drive reported it.
    pub fn feature(&self, code: u16) -> Option<&Feature> {
        self.features.iter().find(|f| f.code == code)
    }

    /// The drive can simulate (Test Write) on the loaded medium: a current
    /// CD TAO, CD Mastering or DVD-R Write feature with its Test Write bit.
    pub fn can_test_write(&self) -> bool {
        [
            feature::CD_TRACK_AT_ONCE,
            feature::CD_MASTERING,
            feature::DVD_R_WRITE,
        ]
        .iter()
        .filter_map(|&code| self.feature(code))
        .any(|f| f.current && f.data.first().is_some_and(|b| b & 0x04 != 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inquiry_literal_bytes() {
        let d = InquiryData {
            device_type: 5,
            removable: true,
            vendor: "WEBBURN".into(),
            product: "EMULATED BD-R".into(),
            revision: "0.1".into(),
        };
        let b = d.encode();
        assert_eq!(&b[0..5], &[0x05, 0x80, 0x05, 0x02, 31]);
        assert_eq!(&b[8..16], b"WEBBURN ");
        assert_eq!(&b[16..32], b"EMULATED BD-R   ");
        assert_eq!(&b[32..36], b"0.1 ");
        assert_eq!(InquiryData::decode(&b), Ok(d));
        assert!(InquiryData::decode(&b[..35]).is_err());
    }

    #[test]
    fn capacity_and_buffer_literal_bytes() {
        let c = Capacity {
            last_lba: 0x00BA_7FFF,
            block_len: 2048,
        };
        assert_eq!(c.encode(), [0x00, 0xBA, 0x7F, 0xFF, 0, 0, 0x08, 0]);
        assert_eq!(Capacity::decode(&c.encode()), Ok(c));
        let buf = BufferCapacity {
            size: 0x0040_0000,
            free: 0x0010_0000,
        };
        assert_eq!(buf.encode(), [0, 10, 0, 0, 0, 0x40, 0, 0, 0, 0x10, 0, 0]);
        assert_eq!(BufferCapacity::decode(&buf.encode()), Ok(buf));
        // free > size: libburn assumes half full.
        let bogus = [0, 10, 0, 0, 0, 0, 0, 100, 0, 0, 1, 0];
        assert_eq!(BufferCapacity::decode(&bogus).unwrap().free, 50);
    }

    #[test]
    fn disc_and_track_information_round_trip() {
        let d = DiscInformation {
            status: DiscStatus::Appendable,
            last_session_state: 1,
            erasable: false,
            sessions: 1,
            first_track_last_session: 1,
            last_track_last_session: 1,
        };
        let b = d.encode();
        assert_eq!(&b[0..7], &[0, 32, 0x05, 1, 1, 1, 1]);
        assert_eq!(DiscInformation::decode(&b), Ok(d));
        let t = TrackInformation {
            track: 1,
            session: 1,
            blank: false,
            start: 0,
            next_writable: Some(0x1000),
            free_blocks: 0x00BA_6FFF,
            size: 0x00BA_8000,
            last_recorded: 0x0FFF,
        };
        let b = t.encode();
        assert_eq!(b[7], 1);
        assert_eq!(&b[12..16], &[0, 0, 0x10, 0]);
        assert_eq!(TrackInformation::decode(&b), Ok(t));
    }

    #[test]
    fn toc_and_session_information_literal_bytes() {
        let info = SessionInfo {
            first_session: 1,
            last_session: 2,
            first_track: 2,
            start: 0x2C88,
        };
        let b = info.encode();
        assert_eq!(b, [0, 10, 1, 2, 0, 0x14, 2, 0, 0, 0, 0x2C, 0x88]);
        assert_eq!(SessionInfo::decode(&b), Ok(info));
        let toc = Toc {
            first: 1,
            last: 2,
            entries: vec![
                TocEntry { track: 1, start: 0 },
                TocEntry {
                    track: 2,
                    start: 0x2C88,
                },
                TocEntry {
                    track: TocEntry::LEAD_OUT,
                    start: 0x3000,
                },
            ],
        };
        let b = toc.encode();
        assert_eq!(&b[..4], &[0, 26, 1, 2]);
        assert_eq!(&b[20..28], &[0, 0x14, 0xAA, 0, 0, 0, 0x30, 0]);
        assert_eq!(Toc::decode(&b), Ok(toc));
        assert!(SessionInfo::decode(&b[..6]).is_err());
        // A data length of 0 or 1 (below the header) holds no descriptor
        // (found by the scsi_replies fuzz target).
        let empty = Toc::decode(&[0, 0, 0, 5]).unwrap();
        assert_eq!((empty.first, empty.last, empty.entries.len()), (0, 5, 0));
    }

    #[test]
    fn configuration_round_trip_and_truncation() {
        let c = Configuration {
            current_profile: 0x41,
            features: vec![
                Configuration::profile_list(&[(0x41, true), (0x1B, false)]),
                Feature {
                    code: feature::REAL_TIME_STREAMING,
                    current: true,
                    data: vec![0x11, 0, 0, 0],
                },
            ],
        };
        let b = c.encode();
        assert_eq!(&b[0..8], &[0, 0, 0, 24, 0, 0, 0, 0x41]);
        assert_eq!(&b[8..12], &[0, 0, 0x03, 8]);
        let back = Configuration::decode(&b).unwrap();
        assert_eq!(back.profiles(), vec![(0x41, true), (0x1B, false)]);
        assert_eq!(
            back.feature(feature::REAL_TIME_STREAMING).unwrap().data[0],
            0x11
        );
        // Cut by a small allocation length: the partial descriptor is dropped.
        let cut = Configuration::decode(&b[..22]).unwrap();
        assert_eq!(cut.features.len(), 1);
    }
}
