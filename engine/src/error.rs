//! The one error type a WriteSection ends with: an HRESULT plus what a person
//! needs to understand it.

use std::fmt;

use webburn_shared::{ErrorCode, HResult};

use webburn_scsi::sense::Sense;

/// A failed WriteSection (or a rejected property put).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineError {
    /// The HRESULT WriteSection returns.
    pub hresult: HResult,
    /// What happened, for logs and people.
    pub detail: String,
    /// The sense data the device gave, when it gave any.
    pub sense: Option<Sense>,
    /// The first sector found bad (a verify failure), when known.
    pub bad_lba: Option<i32>,
    /// A machine-readable reason, where the HRESULT alone does not say what
    /// to do.
    pub code: Option<ErrorCode>,
}

impl EngineError {
    /// An error with an HRESULT and a detail sentence.
    pub fn new(hresult: HResult, detail: impl Into<String>) -> Self {
        EngineError {
            hresult,
            detail: detail.into(),
            sense: None,
            bad_lba: None,
            code: None,
        }
    }

    /// The same error with a machine-readable reason.
    #[must_use]
    pub fn with_code(mut self, code: ErrorCode) -> Self {
        self.code = Some(code);
        self
    }

    /// The same error naming the first bad sector.
    #[must_use]
    pub fn at_lba(mut self, lba: i64) -> Self {
        self.bad_lba = i32::try_from(lba).ok();
        self
    }

    /// The same error carrying the device's sense data.
    #[must_use]
    pub fn with_sense(mut self, sense: Sense) -> Self {
        self.sense = Some(sense);
        self
    }

    /// E_IMAPI_REQUEST_CANCELLED.
    pub fn cancelled() -> Self {
        EngineError::new(
            HResult::E_IMAPI_REQUEST_CANCELLED,
            "the write was cancelled",
        )
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.hresult)?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for EngineError {}

impl From<webburn_shared::section::SectionError> for EngineError {
    fn from(e: webburn_shared::section::SectionError) -> Self {
        EngineError::new(e.hresult, e.detail)
    }
}

impl From<crate::devices::DeviceError> for EngineError {
    /// Its HRESULT and words; a disk the system uses gets
    /// [`ErrorCode::DiskInUse`], which a client acts on (the HRESULT,
    /// E_IMAPI_RECORDER_LOCKED, is also that of a recorder another writer holds).
    fn from(e: crate::devices::DeviceError) -> Self {
        let error = EngineError::new(e.hresult(), e.to_string());
        match e {
            crate::devices::DeviceError::InUse(_) => error.with_code(ErrorCode::DiskInUse),
            _ => error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::DeviceError;
    use crate::devices::in_use::InUse;

    #[test]
    fn a_disk_the_system_uses_has_its_code() {
        let e = EngineError::from(DeviceError::InUse(InUse {
            disk: "sdb".into(),
            why: "sdb1 is mounted on /media/stick".into(),
            system: false,
        }));
        assert_eq!(
            (e.hresult, e.code),
            (HResult::E_IMAPI_RECORDER_LOCKED, Some(ErrorCode::DiskInUse))
        );
        let e = EngineError::from(DeviceError::BadId("usb:".into()));
        assert_eq!((e.hresult, e.code), (HResult::E_INVALIDARG, None));
    }
}
