//! GET PERFORMANCE type 03h: the write speeds a drive offers for the loaded
//! medium (IDiscFormat2Data's SupportedWriteSpeeds).

use super::replies::ReplyError;

/// One write speed descriptor (16 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteSpeed {
    /// The last LBA the speed holds for (the medium's capacity).
    pub end_lba: u32,
    /// Read speed in kB/s (kB = 1000 bytes).
    pub read_kb_per_s: u32,
    /// Write speed in kB/s.
    pub write_kb_per_s: u32,
}

/// Bytes per sector in a drive's speed figures: CD speeds count raw
/// 2352-byte sectors (1x = 75 sectors = 176.4 kB/s), DVD and BD 2048-byte ones.
pub fn speed_sector_bytes(profile: u16) -> u64 {
    if (0x08..=0x0A).contains(&profile) {
        2352
    } else {
        2048
    }
}

impl WriteSpeed {
    /// Encoded length of one descriptor.
    pub const LEN: usize = 16;

    /// The speed in sectors per second, as IMAPI counts speeds, for a medium
    /// of `profile` (1x CD = 75, 1x DVD = 676, 1x BD = 2197).
    pub fn sectors_per_second(&self, profile: u16) -> u32 {
        let unit = speed_sector_bytes(profile);
        u32::try_from((u64::from(self.write_kb_per_s) * 1000 + unit / 2) / unit).unwrap_or(u32::MAX)
    }
}

/// The descriptors of a GET PERFORMANCE (type 03h) reply, fastest first as
/// drives list them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WriteSpeeds(pub Vec<WriteSpeed>);

impl WriteSpeeds {
    /// The wire bytes: an 8-byte header (length, Write bit) and the descriptors.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![0u8; 8];
        for d in &self.0 {
            let mut e = [0u8; WriteSpeed::LEN];
            e[4..8].copy_from_slice(&d.end_lba.to_be_bytes());
            e[8..12].copy_from_slice(&d.read_kb_per_s.to_be_bytes());
            e[12..16].copy_from_slice(&d.write_kb_per_s.to_be_bytes());
            b.extend_from_slice(&e);
        }
        let len = u32::try_from(b.len() - 4).unwrap_or(u32::MAX);
        b[0..4].copy_from_slice(&len.to_be_bytes());
        b[4] = 0x02;
        b
    }

    /// Decodes a possibly truncated reply; descriptors cut short are dropped,
    /// zero write speeds are skipped.
    pub fn decode(b: &[u8]) -> Result<Self, ReplyError> {
        if b.len() < 8 {
            return Err(ReplyError {
                command: "GET PERFORMANCE",
                len: b.len(),
                need: 8,
            });
        }
        let stated = (u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize).saturating_add(4);
        let end = stated.min(b.len());
        let be = |at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let speeds = (8..end)
            .step_by(WriteSpeed::LEN)
            .filter(|at| at + WriteSpeed::LEN <= end)
            .map(|at| WriteSpeed {
                end_lba: be(at + 4),
                read_kb_per_s: be(at + 8),
                write_kb_per_s: be(at + 12),
            })
            .filter(|d| d.write_kb_per_s > 0)
            .collect();
        Ok(WriteSpeeds(speeds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_bytes_and_truncation() {
        let speeds = WriteSpeeds(vec![
            WriteSpeed {
                end_lba: 0x0023_053F,
                read_kb_per_s: 22_160,
                write_kb_per_s: 22_160,
            },
            WriteSpeed {
                end_lba: 0x0023_053F,
                read_kb_per_s: 5_540,
                write_kb_per_s: 5_540,
            },
        ]);
        let b = speeds.encode();
        assert_eq!(&b[..8], &[0, 0, 0, 36, 0x02, 0, 0, 0]);
        assert_eq!(
            &b[8..24],
            &[
                0, 0, 0, 0, 0x00, 0x23, 0x05, 0x3F, 0, 0, 0x56, 0x90, 0, 0, 0x56, 0x90
            ]
        );
        assert_eq!(WriteSpeeds::decode(&b), Ok(speeds.clone()));
        // 16x DVD = 22,160 kB/s = 10,820 sectors/s.
        assert_eq!(speeds.0[0].sectors_per_second(0x1B), 10_820);
        // 48x CD = 8,467 kB/s = 3,600 sectors/s (75 per 1x).
        let cd = WriteSpeed {
            end_lba: 0,
            read_kb_per_s: 8_467,
            write_kb_per_s: 8_467,
        };
        assert_eq!(cd.sectors_per_second(0x09), 3_600);
        assert_eq!(WriteSpeeds::decode(&b[..30]).map(|s| s.0.len()), Ok(1));
        assert!(WriteSpeeds::decode(&b[..7]).is_err());
    }
}
