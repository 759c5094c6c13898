//! Sense data: fixed (70h/71h) and descriptor (72h/73h) parsing, and what a
//! write loop does about a sense code (retry, go on, or fail with an HRESULT).

use std::fmt;

use webburn_shared::HResult;

/// Sense keys (SPC).
pub mod key {
    pub const NO_SENSE: u8 = 0x0;
    pub const RECOVERED_ERROR: u8 = 0x1;
    pub const NOT_READY: u8 = 0x2;
    pub const MEDIUM_ERROR: u8 = 0x3;
    pub const HARDWARE_ERROR: u8 = 0x4;
    pub const ILLEGAL_REQUEST: u8 = 0x5;
    pub const UNIT_ATTENTION: u8 = 0x6;
    pub const DATA_PROTECT: u8 = 0x7;
    pub const BLANK_CHECK: u8 = 0x8;
    pub const ABORTED_COMMAND: u8 = 0xB;
    pub const VOLUME_OVERFLOW: u8 = 0xD;
}

/// Decoded sense data: key, ASC, ASCQ and the fields webburn uses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sense {
    /// Sense key (low nibble).
    pub key: u8,
    /// Additional sense code.
    pub asc: u8,
    /// Additional sense code qualifier.
    pub ascq: u8,
    /// The INFORMATION field (e.g. the failing LBA) when VALID is set.
    pub information: Option<u32>,
    /// A deferred error (71h/73h) rather than one about this command.
    pub deferred: bool,
    /// Progress indication 0..=65535 when SKSV is set on NO SENSE / NOT READY.
    pub progress: Option<u16>,
}

impl Sense {
    /// A current-error sense with just key/ASC/ASCQ.
    pub const fn new(key: u8, asc: u8, ascq: u8) -> Self {
        Sense {
            key,
            asc,
            ascq,
            information: None,
            deferred: false,
            progress: None,
        }
    }

    /// The same sense with the INFORMATION field set.
    #[must_use]
    pub const fn with_information(mut self, info: u32) -> Self {
        self.information = Some(info);
        self
    }

    /// growisofs' packed form: key << 16 | ASC << 8 | ASCQ.
    pub fn packed(&self) -> u32 {
        u32::from(self.key) << 16 | u32::from(self.asc) << 8 | u32::from(self.ascq)
    }

    /// Parses fixed or descriptor format sense; `None` when the bytes are not sense data.
    pub fn parse(b: &[u8]) -> Option<Sense> {
        let code = b.first()? & 0x7F;
        match code {
            0x70 | 0x71 => {
                if b.len() < 14 {
                    // Short fixed sense: take the key when present, ASC/ASCQ as 0.
                    let key = b.get(2)? & 0x0F;
                    return Some(Sense {
                        deferred: code == 0x71,
                        ..Sense::new(key, 0, 0)
                    });
                }
                let info = u32::from_be_bytes([b[3], b[4], b[5], b[6]]);
                let key = b[2] & 0x0F;
                let sksv = b.get(15).is_some_and(|v| v & 0x80 != 0);
                let progress = (sksv && matches!(key, key::NO_SENSE | key::NOT_READY))
                    .then(|| b.get(16..18).map(|p| u16::from_be_bytes([p[0], p[1]])))
                    .flatten();
                Some(Sense {
                    key,
                    asc: b[12],
                    ascq: b[13],
                    information: (b[0] & 0x80 != 0).then_some(info),
                    deferred: code == 0x71,
                    progress,
                })
            }
            0x72 | 0x73 => {
                if b.len() < 4 {
                    return None;
                }
                let mut sense = Sense {
                    deferred: code == 0x73,
                    ..Sense::new(b[1] & 0x0F, b[2], b[3])
                };
                // Walk the descriptors for Information (00h) and progress (02h).
                let total = b.get(7).map_or(0, |&l| usize::from(l) + 8).min(b.len());
                let mut at = 8;
                while at + 2 <= total {
                    let (kind, len) = (b[at], usize::from(b[at + 1]));
                    let body = b.get(at + 2..(at + 2 + len).min(total)).unwrap_or(&[]);
                    match kind {
                        0x00 if body.len() >= 10 && body[0] & 0x80 != 0 => {
                            // 8-byte information; webburn keeps the low 32 bits.
                            sense.information =
                                Some(u32::from_be_bytes([body[6], body[7], body[8], body[9]]));
                        }
                        0x02 if body.len() >= 5 => {
                            sense.progress = Some(u16::from_be_bytes([body[3], body[4]]));
                        }
                        _ => {}
                    }
                    at += 2 + len;
                }
                Some(sense)
            }
            _ => None,
        }
    }

    /// Fixed-format (70h) sense bytes, 18 long, as a drive returns them.
    pub fn to_fixed_bytes(&self) -> [u8; 18] {
        let mut b = [0u8; 18];
        b[0] = if self.deferred { 0x71 } else { 0x70 };
        if let Some(info) = self.information {
            b[0] |= 0x80;
            b[3..7].copy_from_slice(&info.to_be_bytes());
        }
        b[2] = self.key & 0x0F;
        b[7] = 10;
        b[12] = self.asc;
        b[13] = self.ascq;
        if let Some(p) = self.progress {
            b[15] = 0x80;
            b[16..18].copy_from_slice(&p.to_be_bytes());
        }
        b
    }
}

impl fmt::Debug for Sense {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Sense {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:02X}/{:02X}", self.key, self.asc, self.ascq)?;
        if let Some(info) = self.information {
            write!(f, " at {info}")?;
        }
        Ok(())
    }
}

/// How a write loop waits before it re-sends a command the drive called busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// The drive buffer is full (2/04/08): short sleeps, as libburn does for WRITE.
    BufferFull,
    /// A longer operation or a state change: sleeps of 100 ms and more.
    Slow,
}

/// What to do about a command that ended with sense data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenseAction {
    /// The command succeeded (recovered error): go on.
    Success,
    /// Send the same command again after a backoff; if the retries run out,
    /// fail with `exhausted`.
    Retry {
        backoff: Backoff,
        exhausted: HResult,
    },
    /// Stop: the command failed for good.
    Fail(HResult),
}

/// Decides what a write loop does about `sense` (SPC-4 sense keys and MMC-6's additional sense codes).
///
/// `mid_write` is true once a WRITE of the current section has succeeded: an
/// out-of-range address then means the drive lost its streaming position.
pub fn classify(sense: &Sense, mid_write: bool) -> SenseAction {
    use SenseAction::{Fail, Retry, Success};
    let slow = |exhausted| Retry {
        backoff: Backoff::Slow,
        exhausted,
    };
    match (sense.key, sense.asc, sense.ascq) {
        (key::NO_SENSE | key::RECOVERED_ERROR, _, _) => Success,
        (key::NOT_READY, 0x04, 0x08) => Retry {
            backoff: Backoff::BufferFull,
            exhausted: HResult::E_IMAPI_RECORDER_COMMAND_TIMEOUT,
        },
        (key::NOT_READY, 0x04, 0x02) => Fail(HResult::E_IMAPI_RECORDER_MEDIA_BUSY),
        (key::NOT_READY, 0x04, 0x03) => Fail(HResult::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE),
        (key::NOT_READY, 0x04, 0x04) => slow(HResult::E_IMAPI_RECORDER_MEDIA_FORMAT_IN_PROGRESS),
        (key::NOT_READY, 0x04, 0x00 | 0x01) => slow(HResult::E_IMAPI_RECORDER_MEDIA_BECOMING_READY),
        (key::NOT_READY, 0x04, _) => slow(HResult::E_IMAPI_RECORDER_MEDIA_BUSY),
        (key::NOT_READY, 0x08, 0x00..=0x03) => slow(HResult::E_IMAPI_RECORDER_COMMAND_TIMEOUT),
        (key::UNIT_ATTENTION, 0x28, 0x00 | 0x02) | (key::UNIT_ATTENTION, 0x29, 0x00..=0x04) => {
            slow(HResult::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE)
        }
        (_, 0x3A, _) => Fail(HResult::E_IMAPI_RECORDER_MEDIA_NO_MEDIA),
        (key::DATA_PROTECT, 0x27, _) => Fail(HResult::E_IMAPI_RECORDER_MEDIA_WRITE_PROTECTED),
        (key::MEDIUM_ERROR, 0x0C, 0x09) => Fail(HResult::E_IMAPI_LOSS_OF_STREAMING),
        (key::ILLEGAL_REQUEST | key::MEDIUM_ERROR, 0x21, 0x00 | 0x02) if mid_write => {
            Fail(HResult::E_IMAPI_LOSS_OF_STREAMING)
        }
        (key::ILLEGAL_REQUEST, 0x21, 0x00) => Fail(HResult::E_INVALIDARG),
        (key::ILLEGAL_REQUEST, 0x24, 0x00) if !mid_write => Fail(HResult::E_INVALIDARG),
        (key::ILLEGAL_REQUEST, 0x26, _) => Fail(HResult::E_IMAPI_RECORDER_INVALID_MODE_PARAMETERS),
        (key::NOT_READY | key::ILLEGAL_REQUEST, 0x30, 0x10 | 0x0A) => {
            Fail(HResult::E_IMAPI_RECORDER_MEDIA_NOT_FORMATTED)
        }
        (key::NOT_READY | key::ILLEGAL_REQUEST, 0x30, _) => {
            Fail(HResult::E_IMAPI_RECORDER_MEDIA_INCOMPATIBLE)
        }
        (key::ILLEGAL_REQUEST, 0x63, 0x00) | (key::VOLUME_OVERFLOW, _, _) => {
            Fail(HResult::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA)
        }
        _ => Fail(HResult::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE),
    }
}

/// The HRESULT a command that ended with `sense` reports when it is not retried
/// (or when its retries ran out).
pub fn hresult_for(sense: &Sense, mid_write: bool) -> HResult {
    match classify(sense, mid_write) {
        SenseAction::Success => HResult::S_OK,
        SenseAction::Retry { exhausted, .. } => exhausted,
        SenseAction::Fail(h) => h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fixed_sense_bytes() {
        let bytes = [
            0xF0, 0, 0x03, 0x00, 0x00, 0x12, 0x34, 10, 0, 0, 0, 0, 0x0C, 0x00, 0, 0, 0, 0,
        ];
        let s = Sense::parse(&bytes).unwrap();
        assert_eq!((s.key, s.asc, s.ascq), (3, 0x0C, 0x00));
        assert_eq!(s.information, Some(0x1234));
        assert!(!s.deferred);
        assert_eq!(s.packed(), 0x03_0C00);
        assert_eq!(s.to_fixed_bytes(), bytes);
        assert_eq!(s.to_string(), "3/0C/00 at 4660");
    }

    #[test]
    fn parses_fixed_progress_and_deferred() {
        let mut bytes = Sense::new(2, 0x04, 0x07).to_fixed_bytes();
        bytes[0] = 0x71;
        bytes[15] = 0x80;
        bytes[16] = 0x80;
        let s = Sense::parse(&bytes).unwrap();
        assert!(s.deferred);
        assert_eq!(s.progress, Some(0x8000));
        assert_eq!(s.information, None);
    }

    #[test]
    fn parses_descriptor_sense() {
        // 72h, key 5, 21/02, one Information descriptor with LBA 0x0102_0304.
        let bytes = [
            0x72, 0x05, 0x21, 0x02, 0, 0, 0, 12, 0x00, 0x0A, 0x80, 0, 0, 0, 0, 0, 0x01, 0x02, 0x03,
            0x04,
        ];
        let s = Sense::parse(&bytes).unwrap();
        assert_eq!((s.key, s.asc, s.ascq), (5, 0x21, 0x02));
        assert_eq!(s.information, Some(0x0102_0304));
        let deferred = Sense::parse(&[0x73, 0x02, 0x04, 0x08]).unwrap();
        assert!(deferred.deferred);
        assert_eq!(deferred.packed(), 0x02_0408);
    }

    #[test]
    fn rejects_non_sense_and_truncated_data() {
        assert_eq!(Sense::parse(&[]), None);
        assert_eq!(Sense::parse(&[0x00; 18]), None);
        assert_eq!(Sense::parse(&[0x72, 5]), None);
        // A truncated fixed sense still yields its key.
        assert_eq!(Sense::parse(&[0x70, 0, 0x06]).map(|s| s.key), Some(6));
        // A descriptor length pointing past the end is cut, not trusted.
        let s = Sense::parse(&[0x72, 0x03, 0x0C, 0x00, 0, 0, 0, 200, 0x00, 0x0A, 0x80]).unwrap();
        assert_eq!(s.information, None);
    }

    #[test]
    fn classification_follows_the_reference_table() {
        use HResult as H;
        let fail = |k, a, q, mid| classify(&Sense::new(k, a, q), mid);
        assert_eq!(fail(1, 0x17, 0x01, false), SenseAction::Success);
        assert!(matches!(
            fail(2, 0x04, 0x08, true),
            SenseAction::Retry {
                backoff: Backoff::BufferFull,
                ..
            }
        ));
        assert_eq!(
            fail(2, 0x04, 0x07, true),
            SenseAction::Retry {
                backoff: Backoff::Slow,
                exhausted: H::E_IMAPI_RECORDER_MEDIA_BUSY
            }
        );
        assert_eq!(
            hresult_for(&Sense::new(2, 0x04, 0x01), false),
            H::E_IMAPI_RECORDER_MEDIA_BECOMING_READY
        );
        assert_eq!(
            hresult_for(&Sense::new(2, 0x08, 0x03), false),
            H::E_IMAPI_RECORDER_COMMAND_TIMEOUT
        );
        assert!(matches!(
            fail(6, 0x29, 0x00, true),
            SenseAction::Retry { .. }
        ));
        assert_eq!(
            fail(2, 0x3A, 0x00, true),
            SenseAction::Fail(H::E_IMAPI_RECORDER_MEDIA_NO_MEDIA)
        );
        assert_eq!(
            fail(2, 0x04, 0x02, false),
            SenseAction::Fail(H::E_IMAPI_RECORDER_MEDIA_BUSY)
        );
        assert_eq!(
            fail(3, 0x0C, 0x09, true),
            SenseAction::Fail(H::E_IMAPI_LOSS_OF_STREAMING)
        );
        assert_eq!(
            fail(3, 0x0C, 0x00, true),
            SenseAction::Fail(H::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE)
        );
        assert_eq!(
            fail(5, 0x21, 0x00, false),
            SenseAction::Fail(H::E_INVALIDARG)
        );
        assert_eq!(
            fail(5, 0x21, 0x02, false),
            SenseAction::Fail(H::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE)
        );
        assert_eq!(
            fail(5, 0x21, 0x02, true),
            SenseAction::Fail(H::E_IMAPI_LOSS_OF_STREAMING)
        );
        assert_eq!(
            fail(5, 0x24, 0x00, false),
            SenseAction::Fail(H::E_INVALIDARG)
        );
        assert_eq!(
            fail(5, 0x24, 0x00, true),
            SenseAction::Fail(H::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE)
        );
        assert_eq!(
            fail(5, 0x26, 0x02, false),
            SenseAction::Fail(H::E_IMAPI_RECORDER_INVALID_MODE_PARAMETERS)
        );
        assert_eq!(
            fail(2, 0x30, 0x05, false),
            SenseAction::Fail(H::E_IMAPI_RECORDER_MEDIA_INCOMPATIBLE)
        );
        assert_eq!(
            fail(2, 0x30, 0x10, false),
            SenseAction::Fail(H::E_IMAPI_RECORDER_MEDIA_NOT_FORMATTED)
        );
        assert_eq!(
            fail(7, 0x27, 0x00, false),
            SenseAction::Fail(H::E_IMAPI_RECORDER_MEDIA_WRITE_PROTECTED)
        );
        assert_eq!(
            fail(5, 0x63, 0x00, true),
            SenseAction::Fail(H::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA)
        );
        assert_eq!(
            fail(5, 0x73, 0x03, true),
            SenseAction::Fail(H::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE)
        );
        assert_eq!(
            fail(4, 0x44, 0x00, true),
            SenseAction::Fail(H::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE)
        );
    }
}
