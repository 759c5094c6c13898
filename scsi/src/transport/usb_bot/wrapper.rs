//! The Bulk-Only Transport's Command Block Wrapper (31 bytes, bulk OUT) and
//! Command Status Wrapper (13 bytes, bulk IN), little-endian (USB Mass Storage Class Bulk-Only Transport 1.0, 5.1 and 5.2).

/// "USBC".
pub const CBW_SIGNATURE: u32 = 0x4342_5355;
/// "USBS".
pub const CSW_SIGNATURE: u32 = 0x5342_5355;
/// Bytes of a CBW.
pub const CBW_LEN: usize = 31;
/// Bytes of a CSW.
pub const CSW_LEN: usize = 13;

/// A command for the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cbw {
    /// Echoed in the CSW.
    pub tag: u32,
    /// Bytes of the data stage.
    pub data_len: u32,
    /// Data stage direction: true = device to host.
    pub data_in: bool,
    /// Logical unit, 0..=15.
    pub lun: u8,
    /// The CDB, 1..=16 bytes on the wire (the transport sends 6..=16).
    pub cdb: Vec<u8>,
}

/// Why a wrapper could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WrapperError {
    /// A CDB of 0 or more than 16 bytes, or a LUN above 15.
    #[error(
        "a CBW carries a CDB of 1 to 16 bytes and a LUN up to 15 (got {cdb_len} bytes, LUN {lun})"
    )]
    BadCommand {
        /// CDB length.
        cdb_len: usize,
        /// LUN.
        lun: u8,
    },
    /// Not 13 bytes.
    #[error("a CSW is 13 bytes, got {0}")]
    BadLength(usize),
    /// Not "USBS".
    #[error("CSW signature {0:#010x} is not USBS")]
    BadSignature(u32),
}

impl Cbw {
    /// The 31 wire bytes.
    pub fn encode(&self) -> Result<[u8; CBW_LEN], WrapperError> {
        // bCBWCBLength 01h to 10h, bCBWLUN 0 to 15 (USB Bulk-Only 5.1); the
        // transport sends only CDBs of `crate::transport::CDB_LENGTHS`.
        let cdb_len = u8::try_from(self.cdb.len())
            .ok()
            .filter(|n| (1..=16).contains(n) && self.lun <= 15)
            .ok_or(WrapperError::BadCommand {
                cdb_len: self.cdb.len(),
                lun: self.lun,
            })?;
        let mut b = [0u8; CBW_LEN];
        b[0..4].copy_from_slice(&CBW_SIGNATURE.to_le_bytes());
        b[4..8].copy_from_slice(&self.tag.to_le_bytes());
        b[8..12].copy_from_slice(&self.data_len.to_le_bytes());
        b[12] = if self.data_in { 0x80 } else { 0x00 };
        b[13] = self.lun;
        b[14] = cdb_len;
        b[15..15 + self.cdb.len()].copy_from_slice(&self.cdb);
        Ok(b)
    }

    /// Reads a CBW (what a device does; used by the device simulator in tests).
    pub fn decode(b: &[u8]) -> Option<Cbw> {
        if b.len() != CBW_LEN || u32::from_le_bytes([b[0], b[1], b[2], b[3]]) != CBW_SIGNATURE {
            return None;
        }
        // bCBWCBLength: 01h to 10h (USB Bulk-Only 5.1).
        let len = usize::from(b[14]);
        if !(1..=16).contains(&len) {
            return None;
        }
        Some(Cbw {
            tag: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            data_len: u32::from_le_bytes([b[8], b[9], b[10], b[11]]),
            data_in: b[12] & 0x80 != 0,
            lun: b[13] & 0x0F,
            cdb: b[15..15 + len].to_vec(),
        })
    }
}

/// bCSWStatus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CswStatus {
    /// 0: the command passed.
    Passed,
    /// 1: it failed; REQUEST SENSE tells why.
    Failed,
    /// 2: phase error; the host must do reset recovery.
    PhaseError,
    /// Anything else (invalid).
    Invalid(u8),
}

/// The device's answer to a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Csw {
    /// The CBW's tag.
    pub tag: u32,
    /// Expected minus processed bytes of the data stage.
    pub residue: u32,
    /// The outcome.
    pub status: CswStatus,
}

impl Csw {
    /// Parses the 13 wire bytes.
    pub fn decode(b: &[u8]) -> Result<Csw, WrapperError> {
        if b.len() != CSW_LEN {
            return Err(WrapperError::BadLength(b.len()));
        }
        let signature = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if signature != CSW_SIGNATURE {
            return Err(WrapperError::BadSignature(signature));
        }
        Ok(Csw {
            tag: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            residue: u32::from_le_bytes([b[8], b[9], b[10], b[11]]),
            status: match b[12] {
                0 => CswStatus::Passed,
                1 => CswStatus::Failed,
                2 => CswStatus::PhaseError,
                s => CswStatus::Invalid(s),
            },
        })
    }

    /// The 13 wire bytes (what a device sends; used by the simulator in tests).
    pub fn encode(&self) -> [u8; CSW_LEN] {
        let mut b = [0u8; CSW_LEN];
        b[0..4].copy_from_slice(&CSW_SIGNATURE.to_le_bytes());
        b[4..8].copy_from_slice(&self.tag.to_le_bytes());
        b[8..12].copy_from_slice(&self.residue.to_le_bytes());
        b[12] = match self.status {
            CswStatus::Passed => 0,
            CswStatus::Failed => 1,
            CswStatus::PhaseError => 2,
            CswStatus::Invalid(s) => s,
        };
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write10_cbw_on_literal_bytes() {
        // WRITE(10) of 32 sectors at LBA 0x1234, 64 KiB OUT, tag 7, LUN 0.
        let cdb = vec![0x2A, 0, 0, 0, 0x12, 0x34, 0, 0, 0x20, 0];
        let cbw = Cbw {
            tag: 7,
            data_len: 65536,
            data_in: false,
            lun: 0,
            cdb,
        };
        let b = cbw.encode().unwrap();
        let expected: [u8; 31] = [
            0x55, 0x53, 0x42, 0x43, // USBC
            0x07, 0x00, 0x00, 0x00, // tag
            0x00, 0x00, 0x01, 0x00, // 65536
            0x00, // OUT
            0x00, // LUN
            0x0A, // CDB length
            0x2A, 0x00, 0x00, 0x00, 0x12, 0x34, 0x00, 0x00, 0x20, 0x00, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(b, expected);
        assert_eq!(Cbw::decode(&b), Some(cbw));
    }

    #[test]
    fn an_inquiry_cbw_is_in_with_lun() {
        let cbw = Cbw {
            tag: 0xDEAD_BEEF,
            data_len: 36,
            data_in: true,
            lun: 1,
            cdb: vec![0x12, 0, 0, 0, 36, 0],
        };
        let b = cbw.encode().unwrap();
        assert_eq!(&b[4..8], &[0xEF, 0xBE, 0xAD, 0xDE]);
        assert_eq!((b[12], b[13], b[14]), (0x80, 1, 6));
        let too_long = Cbw {
            cdb: vec![0; 17],
            ..cbw.clone()
        };
        assert!(too_long.encode().is_err());
        assert!(
            Cbw {
                cdb: Vec::new(),
                ..cbw.clone()
            }
            .encode()
            .is_err()
        );
        assert!(Cbw { lun: 16, ..cbw }.encode().is_err());
    }

    #[test]
    fn csws_on_literal_bytes() {
        let passed = [0x55, 0x53, 0x42, 0x53, 7, 0, 0, 0, 0, 2, 0, 0, 0];
        assert_eq!(
            Csw::decode(&passed),
            Ok(Csw {
                tag: 7,
                residue: 512,
                status: CswStatus::Passed
            })
        );
        let mut failed = passed;
        failed[12] = 1;
        assert_eq!(Csw::decode(&failed).unwrap().status, CswStatus::Failed);
        failed[12] = 2;
        assert_eq!(Csw::decode(&failed).unwrap().status, CswStatus::PhaseError);
        failed[12] = 9;
        assert_eq!(Csw::decode(&failed).unwrap().status, CswStatus::Invalid(9));
        assert_eq!(Csw::decode(&passed[..12]), Err(WrapperError::BadLength(12)));
        let mut bad = passed;
        bad[3] = 0x43; // "USBC": a CBW echoed back
        assert_eq!(
            Csw::decode(&bad),
            Err(WrapperError::BadSignature(0x4342_5355))
        );
        let csw = Csw {
            tag: 9,
            residue: 0,
            status: CswStatus::Failed,
        };
        assert_eq!(Csw::decode(&csw.encode()), Ok(csw));
    }
}
