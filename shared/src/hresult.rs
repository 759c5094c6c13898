//! HRESULT values of IMAPI2 (imapi2error.h) and the COM codes a write engine
//! returns, each with its symbolic name and a message for people.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A COM HRESULT: bit 31 set means failure. Unknown values are kept as they are.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HResult(pub u32);

macro_rules! hresults {
    ($($name:ident = $value:literal, $message:literal;)*) => {
        impl HResult {
            $(
                #[doc = $message]
                pub const $name: HResult = HResult($value);
            )*
        }

        /// Every known code: (value, name, message).
        const TABLE: &[(HResult, &str, &str)] = &[
            $((HResult::$name, stringify!($name), $message),)*
        ];
    };
}

hresults! {
    S_OK = 0x0000_0000, "The operation succeeded.";
    S_FALSE = 0x0000_0001, "The operation succeeded with a negative answer.";
    E_NOTIMPL = 0x8000_4001, "The operation is not implemented.";
    E_NOINTERFACE = 0x8000_4002, "The interface is not supported.";
    E_POINTER = 0x8000_4003, "A required pointer or data source is missing.";
    E_FAIL = 0x8000_4005, "The operation failed for an unspecified reason.";
    E_UNEXPECTED = 0x8000_FFFF, "The call is not valid in the current state.";
    E_ACCESSDENIED = 0x8007_0005, "Access to the device was denied.";
    E_INVALID_HANDLE = 0x8007_0006, "The device handle is not valid.";
    E_OUTOFMEMORY = 0x8007_000E, "Not enough memory to complete the operation.";
    E_DEV_NOT_EXIST = 0x8007_0037, "The device no longer exists (it was unplugged or switched off).";
    E_INVALIDARG = 0x8007_0057, "One or more arguments are not valid.";
    E_CONNECTION_REFUSED = 0x8007_274D, "The webburn helper is not running (nothing answers on its port).";
    E_IMAPI_REQUEST_CANCELLED = 0xC0AA_0002, "The request was cancelled.";
    E_IMAPI_RECORDER_REQUIRED = 0xC0AA_0003, "The request requires a recorder to be selected.";
    S_IMAPI_SPEEDADJUSTED = 0x00AA_0004, "The requested write speed was adjusted by the drive.";
    S_IMAPI_ROTATIONADJUSTED = 0x00AA_0005, "The requested rotation type was adjusted by the drive.";
    S_IMAPI_BOTHADJUSTED = 0x00AA_0006, "The requested write speed and rotation type were adjusted by the drive.";
    E_IMAPI_BURN_VERIFICATION_FAILED = 0xC0AA_0007, "The data read back from the medium differs from the data written.";
    S_IMAPI_COMMAND_HAS_SENSE_DATA = 0x00AA_0200, "The device failed the command and returned sense data.";
    E_IMAPI_RECORDER_NO_SUCH_MODE_PAGE = 0xC0AA_0201, "The device does not support the mode page.";
    E_IMAPI_RECORDER_MEDIA_NO_MEDIA = 0xC0AA_0202, "There is no medium in the device.";
    E_IMAPI_RECORDER_MEDIA_INCOMPATIBLE = 0xC0AA_0203, "The medium is not compatible with this operation or of an unknown format.";
    E_IMAPI_RECORDER_MEDIA_UPSIDE_DOWN = 0xC0AA_0204, "The medium is inserted upside down.";
    E_IMAPI_RECORDER_MEDIA_BECOMING_READY = 0xC0AA_0205, "The device is becoming ready; try again shortly.";
    E_IMAPI_RECORDER_MEDIA_FORMAT_IN_PROGRESS = 0xC0AA_0206, "The medium is being formatted; try again later.";
    E_IMAPI_RECORDER_MEDIA_BUSY = 0xC0AA_0207, "The device is busy with a long operation; try again later.";
    E_IMAPI_RECORDER_INVALID_MODE_PARAMETERS = 0xC0AA_0208, "The device rejected the mode parameters.";
    E_IMAPI_RECORDER_MEDIA_WRITE_PROTECTED = 0xC0AA_0209, "The medium is write protected.";
    E_IMAPI_RECORDER_NO_SUCH_FEATURE = 0xC0AA_020A, "The device does not support the feature.";
    E_IMAPI_RECORDER_FEATURE_IS_NOT_CURRENT = 0xC0AA_020B, "The feature is not current for the inserted medium.";
    E_IMAPI_RECORDER_GET_CONFIGURATION_NOT_SUPPORTED = 0xC0AA_020C, "The device does not support GET CONFIGURATION.";
    E_IMAPI_RECORDER_COMMAND_TIMEOUT = 0xC0AA_020D, "The device did not complete the command in time.";
    E_IMAPI_RECORDER_DVD_STRUCTURE_NOT_PRESENT = 0xC0AA_020E, "The DVD structure is not present on the medium.";
    E_IMAPI_RECORDER_MEDIA_SPEED_MISMATCH = 0xC0AA_020F, "The medium does not support the requested speed.";
    E_IMAPI_RECORDER_LOCKED = 0xC0AA_0210, "The recorder is in use by another writer.";
    E_IMAPI_RECORDER_CLIENT_NAME_IS_NOT_VALID = 0xC0AA_0211, "The client name is not valid.";
    E_IMAPI_RECORDER_MEDIA_NOT_FORMATTED = 0xC0AA_0212, "The medium is not formatted.";
    E_IMAPI_RECORDER_INVALID_RESPONSE_FROM_DEVICE = 0xC0AA_02FF, "The device returned a response that could not be understood.";
    E_IMAPI_LOSS_OF_STREAMING = 0xC0AA_0300, "The drive ran out of data while writing (buffer underrun).";
    E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE = 0xC0AA_0301, "The device failed the command with an unrecoverable error.";
    S_IMAPI_WRITE_NOT_IN_PROGRESS = 0x00AA_0302, "No write is in progress; nothing was cancelled.";
    E_IMAPI_DF2DATA_WRITE_IN_PROGRESS = 0xC0AA_0400, "A write is already in progress.";
    E_IMAPI_DF2DATA_WRITE_NOT_IN_PROGRESS = 0xC0AA_0401, "No write is in progress.";
    E_IMAPI_DF2DATA_INVALID_MEDIA_STATE = 0xC0AA_0402, "The medium is not in a state that allows this write.";
    E_IMAPI_DF2DATA_STREAM_NOT_SUPPORTED = 0xC0AA_0403, "The data stream is not supported.";
    E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA = 0xC0AA_0404, "The data does not fit on the medium.";
    E_IMAPI_DF2DATA_MEDIA_NOT_BLANK = 0xC0AA_0405, "The medium is not blank.";
    E_IMAPI_DF2DATA_MEDIA_IS_NOT_SUPPORTED = 0xC0AA_0406, "The medium is not supported for data writing.";
    E_IMAPI_DF2DATA_RECORDER_NOT_SUPPORTED = 0xC0AA_0407, "The recorder is not supported for data writing.";
    E_IMAPI_DF2DATA_CLIENT_NAME_IS_NOT_VALID = 0xC0AA_0408, "The client name is not valid.";
    E_IMAPI_ERASE_RECORDER_IN_USE = 0x80AA_0900, "The recorder is in use: it cannot erase now.";
    E_IMAPI_ERASE_MEDIA_IS_NOT_ERASABLE = 0x80AA_0904, "The drive reports that the medium is not erasable.";
    E_IMAPI_ERASE_DRIVE_FAILED_ERASE_COMMAND = 0x80AA_0905, "The drive failed the erase command.";
    E_IMAPI_ERASE_TOOK_LONGER_THAN_ONE_HOUR = 0x80AA_0906, "The drive did not finish erasing in one hour.";
    E_IMAPI_ERASE_MEDIA_IS_NOT_SUPPORTED = 0xC0AA_0909, "The medium is not supported for erasing.";
    E_IMAPI_ERASE_RECORDER_NOT_SUPPORTED = 0xC0AA_090A, "The recorder cannot erase.";
    IMAPI_E_FSI_INTERNAL_ERROR = 0xC0AA_B100, "Internal error in the file system image.";
    IMAPI_E_INVALID_PARAM = 0xC0AA_B101, "A value given to the file system image is not valid.";
    IMAPI_E_INVALID_VOLUME_NAME = 0xC0AA_B104, "The volume name is not valid.";
    IMAPI_E_NOT_FILE = 0xC0AA_B108, "The item is not a file.";
    IMAPI_E_NOT_DIR = 0xC0AA_B109, "The item is not a directory.";
    IMAPI_E_INVALID_PATH = 0xC0AA_B110, "The path is not valid.";
    IMAPI_E_RESTRICTED_NAME_VIOLATION = 0xC0AA_B111, "The name cannot be recorded in the file systems chosen.";
    IMAPI_E_DUP_NAME = 0xC0AA_B112, "An item of that name already exists.";
    IMAPI_E_NO_UNIQUE_NAME = 0xC0AA_B113, "No unique name could be made for an item.";
    IMAPI_E_ITEM_NOT_FOUND = 0xC0AA_B118, "No item of that name is in the file system image.";
    IMAPI_E_IMAGE_SIZE_LIMIT = 0xC0AA_B120, "The image would be larger than the medium's free space.";
    IMAPI_E_DATA_STREAM_INCONSISTENCY = 0xC0AA_B128, "A file changed size while it was being burned.";
    IMAPI_E_DATA_STREAM_READ_FAILURE = 0xC0AA_B129, "A file could not be read while it was being burned.";
    IMAPI_E_DIRECTORY_READ_FAILURE = 0xC0AA_B12B, "A folder could not be read.";
    IMAPI_E_FILE_SYSTEM_READ_CONSISTENCY_ERROR = 0xC0AA_B153, "The file system on the disc contains inconsistent data.";
    IMAPI_E_IMPORT_SEEK_FAILURE = 0xC0AA_B156, "A sector of the previous session could not be read.";
    IMAPI_E_NO_COMPATIBLE_MULTISESSION_TYPE = 0xC0AA_B15C, "The disc holds no session this image can add to.";
    IMAPI_E_TOO_MANY_DIRS = 0xC0AA_B130, "The image holds more directories than ISO 9660 can number.";
    IMAPI_E_DATA_TOO_BIG = 0xC0AA_B132, "A file is too large for the file systems chosen.";
}

/// An error that knows its HRESULT, for paths where only an `std::io::Error`
/// can travel (a data source read by the write engine): wrap it with
/// `std::io::Error::other` and the engine ends the write with this HRESULT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The HRESULT the write ends with.
    pub hresult: HResult,
    /// What happened, for people.
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for Failure {}

impl Failure {
    /// The failure inside `e`, if it carries one.
    pub fn of(e: &std::io::Error) -> Option<&Failure> {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<Failure>())
    }
}

impl HResult {
    /// The symbolic name, e.g. `E_IMAPI_REQUEST_CANCELLED`; `None` for unknown values.
    pub fn name(self) -> Option<&'static str> {
        TABLE
            .iter()
            .find(|(v, _, _)| *v == self)
            .map(|(_, n, _)| *n)
    }

    /// A sentence for people; a generic one for unknown values.
    pub fn message(self) -> &'static str {
        TABLE.iter().find(|(v, _, _)| *v == self).map_or(
            if self.is_failure() {
                "The operation failed with an unknown error code."
            } else {
                "The operation succeeded with an unknown status code."
            },
            |(_, _, m)| *m,
        )
    }

    /// Looks a code up by its symbolic name.
    pub fn from_name(name: &str) -> Option<HResult> {
        TABLE
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(v, _, _)| *v)
    }

    /// Bit 31: a failure code.
    pub fn is_failure(self) -> bool {
        self.0 & 0x8000_0000 != 0
    }

    /// The value as JavaScript and COM's signed LONG see it.
    pub fn as_i32(self) -> i32 {
        self.0 as i32
    }

    /// Every code this crate knows, in table order.
    pub fn all() -> impl Iterator<Item = HResult> {
        TABLE.iter().map(|(v, _, _)| *v)
    }
}

impl fmt::Display for HResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} (0x{:08X}): {}", self.0, self.message()),
            None => write!(f, "0x{:08X}: {}", self.0, self.message()),
        }
    }
}

impl fmt::Debug for HResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}"),
            None => write!(f, "HResult(0x{:08X})", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_imapi2error_h() {
        assert_eq!(HResult::E_IMAPI_REQUEST_CANCELLED.0, 0xC0AA_0002);
        assert_eq!(HResult::E_IMAPI_RECORDER_LOCKED.0, 0xC0AA_0210);
        assert_eq!(HResult::E_IMAPI_LOSS_OF_STREAMING.0, 0xC0AA_0300);
        assert_eq!(HResult::S_IMAPI_WRITE_NOT_IN_PROGRESS.0, 0x00AA_0302);
        assert_eq!(HResult::E_INVALIDARG.0, 0x8007_0057);
        assert_eq!(HResult::E_IMAPI_DF2DATA_WRITE_IN_PROGRESS.0, 0xC0AA_0400);
    }

    #[test]
    fn names_and_values_are_unique_and_round_trip() {
        let all: Vec<HResult> = HResult::all().collect();
        for (i, a) in all.iter().enumerate() {
            let name = a.name().unwrap();
            assert_eq!(HResult::from_name(name), Some(*a));
            assert!(all[i + 1..].iter().all(|b| b != a), "{name} twice");
            assert!(!a.message().is_empty());
            // Success codes start with S_, failures with E_ (IMAPI2FS's with IMAPI_E_).
            let failure_name = name.starts_with("E_") || name.starts_with("IMAPI_E_");
            assert_eq!(failure_name, a.is_failure(), "{name}");
        }
    }

    #[test]
    fn unknown_values_display_in_hex() {
        let h = HResult(0xC0AA_0999);
        assert_eq!(h.name(), None);
        assert!(h.to_string().starts_with("0xC0AA0999"));
        assert_eq!(format!("{:?}", HResult::E_FAIL), "E_FAIL");
        assert_eq!(HResult::E_FAIL.as_i32(), -2_147_467_259);
    }

    #[test]
    fn serializes_as_a_number() {
        let json = serde_json::to_string(&HResult::E_IMAPI_REQUEST_CANCELLED).unwrap();
        assert_eq!(json, "3232366594");
        let back: HResult = serde_json::from_str(&json).unwrap();
        assert_eq!(back, HResult::E_IMAPI_REQUEST_CANCELLED);
    }
}
