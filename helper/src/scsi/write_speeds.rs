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

impl WriteSpeed {
    /// Encoded length of one descriptor.
    pub const LEN: usize = 16;

    /// The speed in 2048-byte sectors per second, as IMAPI counts speeds.
    pub fn sectors_per_second(&self) -> u32 {
        (u64::from(self.write_kb_per_s) * 1000 / 2048) as u32
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
        let len = (b.len() - 4) as u32;
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
        assert_eq!(speeds.0[0].sectors_per_second(), 10_820);
        assert_eq!(WriteSpeeds::decode(&b[..30]).map(|s| s.0.len()), Ok(1));
        assert!(WriteSpeeds::decode(&b[..7]).is_err());
    }
}
