//! The Write Parameters mode page (05h) behind a MODE SENSE(10)/MODE
//! SELECT(10) header: webburn reads it to turn Test Write (simulation) on
//! and off and writes back every other byte as the drive gave it.

use super::replies::ReplyError;

/// The page code.
pub const PAGE: u8 = 0x05;
/// Length of the mode parameter header (10-byte CDB form).
pub const HEADER_LEN: usize = 8;
/// The page as MMC defines it: 2 header bytes + 50 (page length 32h).
pub const PAGE_LEN: usize = 52;

/// A MODE SENSE(10) reply holding page 05h (block descriptors skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteParameters {
    /// The page bytes, starting with the page code.
    page: Vec<u8>,
}

impl WriteParameters {
    /// A page with Write Type `write_type` (0 incremental/packet, 1 TAO, 2 SAO)
    /// and the given Test Write bit; the rest zero.
    pub fn new(write_type: u8, test_write: bool) -> Self {
        let mut page = vec![0u8; PAGE_LEN];
        page[0] = PAGE;
        page[1] = super::len8(PAGE_LEN - 2);
        let mut p = WriteParameters { page };
        p.page[2] = write_type & 0x0F;
        p.set_test_write(test_write);
        p
    }

    /// Test Write: the drive goes through the motions with the laser at read power.
    pub fn test_write(&self) -> bool {
        self.page[2] & 0x10 != 0
    }

    /// Sets or clears Test Write.
    pub fn set_test_write(&mut self, on: bool) {
        self.page[2] = (self.page[2] & !0x10) | if on { 0x10 } else { 0 };
    }

    /// Multi-session field 11b: the next session may follow this one.
    pub fn multi_session(&self) -> bool {
        self.page.get(3).is_some_and(|b| b & 0xC0 == 0xC0)
    }

    /// Sets the Multi-session field to 11b (`next`) or 00b (finalize); a
    /// page too short to hold it is lengthened.
    pub fn set_multi_session(&mut self, next: bool) {
        if self.page.len() < 4 {
            self.page.resize(4, 0);
            self.page[1] = super::len8(self.page.len() - 2);
        }
        self.page[3] = (self.page[3] & 0x3F) | if next { 0xC0 } else { 0 };
    }

    /// The MODE SENSE(10) reply bytes: header (no block descriptors) + page.
    pub fn encode_sense(&self) -> Vec<u8> {
        let mut b = vec![0u8; HEADER_LEN];
        b.extend_from_slice(&self.page);
        let len = super::len16(b.len() - 2);
        b[0..2].copy_from_slice(&len.to_be_bytes());
        b
    }

    /// The MODE SELECT(10) parameter list: mode data length 0 and the PS bit
    /// cleared, as MMC asks.
    pub fn encode_select(&self) -> Vec<u8> {
        let mut b = vec![0u8; HEADER_LEN];
        b.extend_from_slice(&self.page);
        b[HEADER_LEN] &= 0x3F;
        b
    }

    /// Decodes a MODE SENSE(10) reply or MODE SELECT(10) list: skips the
    /// block descriptors and checks the page code.
    pub fn decode(b: &[u8]) -> Result<Self, ReplyError> {
        let short = |need| ReplyError {
            command: "MODE SENSE page 05h",
            len: b.len(),
            need,
        };
        if b.len() < HEADER_LEN {
            return Err(short(HEADER_LEN));
        }
        let at = HEADER_LEN + usize::from(u16::from_be_bytes([b[6], b[7]]));
        let page = b.get(at..).filter(|p| p.len() >= 3).ok_or(short(at + 3))?;
        if page[0] & 0x3F != PAGE {
            return Err(short(at + 3));
        }
        // A page length under one byte of parameters still yields byte 2.
        let len = (usize::from(page[1]) + 2).clamp(3, page.len());
        Ok(WriteParameters {
            page: page[..len].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_write_bit_and_literal_header() {
        let mut p = WriteParameters::new(0, false);
        assert!(!p.test_write());
        p.set_test_write(true);
        let sense = p.encode_sense();
        assert_eq!(&sense[..11], &[0, 58, 0, 0, 0, 0, 0, 0, 0x05, 0x32, 0x10]);
        let back = WriteParameters::decode(&sense).unwrap();
        assert!(back.test_write());
        // A parameter list with the PS bit set is sent with it cleared.
        let mut ps = sense.clone();
        ps[8] |= 0x80;
        let select = WriteParameters::decode(&ps).unwrap().encode_select();
        assert_eq!(&select[..2], &[0, 0]);
        assert_eq!(select[8], 0x05);
        // Block descriptors are skipped; another page is refused.
        let mut with_bd = sense[..8].to_vec();
        with_bd[7] = 8;
        with_bd.extend_from_slice(&[0; 8]);
        with_bd.extend_from_slice(&sense[8..]);
        assert!(WriteParameters::decode(&with_bd).unwrap().test_write());
        let mut other = sense;
        other[8] = 0x2A;
        assert!(WriteParameters::decode(&other).is_err());
        assert!(WriteParameters::decode(&[0; 5]).is_err());
        // Multi-session 11b in byte 3; nothing else changes.
        let mut m = WriteParameters::new(1, true);
        m.set_multi_session(true);
        assert!(m.multi_session() && m.test_write());
        assert_eq!(m.encode_select()[HEADER_LEN + 3], 0xC0);
        m.set_multi_session(false);
        assert!(!m.multi_session());
        // Found by fuzzing: a page that says it holds nothing.
        let empty = [0, 0, 0, 0, 0, 0, 0, 0, 0x05, 0x00, 0x10];
        assert!(WriteParameters::decode(&empty).unwrap().test_write());
    }
}
