//! IWriteEngine2EventArgs: the progress snapshot an Update event carries.

use serde::{Deserialize, Serialize};

/// The seven IWriteEngine2EventArgs properties plus elapsed time and rate.
///
/// `last_read_lba` and `last_written_lba` are inclusive: `start_lba - 1` means
/// nothing yet, `start_lba + sector_count - 1` means everything. Buffer sizes
/// are bytes of the helper's host-side ring buffer (the "system buffer").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteEngineEventArgs {
    /// StartLba: the startingBlockAddress of the WriteSection call.
    pub start_lba: i32,
    /// SectorCount: numberOfBlocks of the WriteSection call.
    pub sector_count: i32,
    /// LastReadLba: last sector taken from the data source.
    pub last_read_lba: i32,
    /// LastWrittenLba: last sector the device accepted.
    pub last_written_lba: i32,
    /// TotalSystemBuffer: size of the host-side buffer in bytes.
    pub total_system_buffer: i32,
    /// UsedSystemBuffer: bytes read from the source and not yet written.
    pub used_system_buffer: i32,
    /// FreeSystemBuffer: `total_system_buffer - used_system_buffer`.
    pub free_system_buffer: i32,
    /// Milliseconds since WriteSection started (webburn extension).
    pub elapsed_ms: u64,
    /// Bytes per second written to the device over the last interval (webburn extension).
    pub current_bytes_per_second: u64,
    /// The drive's own buffer in bytes, from READ BUFFER CAPACITY (webburn
    /// extension; 0 when the drive does not report it).
    #[serde(default)]
    pub drive_buffer_total: u64,
    /// Bytes in the drive's buffer not yet recorded (webburn extension).
    #[serde(default)]
    pub drive_buffer_used: u64,
}

impl WriteEngineEventArgs {
    /// Sectors written so far.
    pub fn sectors_written(&self) -> i64 {
        i64::from(self.last_written_lba) - i64::from(self.start_lba) + 1
    }

    /// Progress as IMAPI defines it: sectors written / SectorCount, 0.0..=1.0.
    pub fn progress(&self) -> f64 {
        if self.sector_count <= 0 {
            return 0.0;
        }
        (self.sectors_written() as f64 / f64::from(self.sector_count)).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_inclusive_lbas() {
        let mut args = WriteEngineEventArgs {
            start_lba: -150,
            sector_count: 300,
            last_written_lba: -151,
            ..Default::default()
        };
        assert_eq!(args.sectors_written(), 0);
        assert!(args.progress().abs() < f64::EPSILON);
        args.last_written_lba = -1;
        assert_eq!(args.sectors_written(), 150);
        assert!((args.progress() - 0.5).abs() < f64::EPSILON);
    }

    #[test]
    fn json_uses_imapi_property_names_in_camel_case() {
        let args = WriteEngineEventArgs {
            start_lba: 1,
            sector_count: 2,
            last_read_lba: 3,
            last_written_lba: 4,
            total_system_buffer: 5,
            used_system_buffer: 6,
            free_system_buffer: 7,
            elapsed_ms: 8,
            current_bytes_per_second: 9,
            drive_buffer_total: 10,
            drive_buffer_used: 11,
        };
        let json = serde_json::to_value(args).unwrap();
        for key in [
            "startLba",
            "sectorCount",
            "lastReadLba",
            "lastWrittenLba",
            "totalSystemBuffer",
            "usedSystemBuffer",
            "freeSystemBuffer",
            "elapsedMs",
            "currentBytesPerSecond",
            "driveBufferTotal",
            "driveBufferUsed",
        ] {
            assert!(json.get(key).is_some(), "{key} missing");
        }
        let back: WriteEngineEventArgs = serde_json::from_value(json).unwrap();
        assert_eq!(back, args);
    }
}
