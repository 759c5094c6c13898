//! The DiscFormat2Data layer over WriteSection: the options a client picks,
//! the IDiscFormat2DataEventArgs its events carry and what a finished burn
//! reports.

use serde::{Deserialize, Serialize};

/// IMAPI_FORMAT2_DATA_WRITE_ACTION: what the burn is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(into = "i32", try_from = "i32")]
pub enum WriteAction {
    /// Checking the medium (profile, blank or appendable, room).
    #[default]
    ValidatingMedia = 0,
    /// Formatting a blank rewritable disc (DVD+RW, BD-RE) before its first write.
    FormattingMedia = 1,
    /// Loading the tray, setting the speed and the write mode.
    InitializingHardware = 2,
    /// Optimum power calibration (done by the drive on its own).
    CalibratingPower = 3,
    /// WRITE commands.
    WritingData = 4,
    /// SYNCHRONIZE CACHE, closing the track and the session.
    Finalization = 5,
    /// Done.
    Completed = 6,
    /// Reading the data back and comparing it.
    Verifying = 7,
}

/// A number or name that is none of an IMAPI enumeration's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value} is not an {enumeration} ({expected})")]
pub struct NotAValue {
    /// The IMAPI enumeration, e.g. `IMAPI_BURN_VERIFICATION_LEVEL`.
    pub enumeration: &'static str,
    /// The value given.
    pub value: String,
    /// The values it takes.
    pub expected: &'static str,
}

impl From<WriteAction> for i32 {
    fn from(a: WriteAction) -> i32 {
        a as i32
    }
}

impl TryFrom<i32> for WriteAction {
    type Error = NotAValue;
    fn try_from(v: i32) -> Result<Self, NotAValue> {
        [
            WriteAction::ValidatingMedia,
            WriteAction::FormattingMedia,
            WriteAction::InitializingHardware,
            WriteAction::CalibratingPower,
            WriteAction::WritingData,
            WriteAction::Finalization,
            WriteAction::Completed,
            WriteAction::Verifying,
        ]
        .into_iter()
        .find(|a| *a as i32 == v)
        .ok_or_else(|| NotAValue {
            enumeration: "IMAPI_FORMAT2_DATA_WRITE_ACTION",
            value: v.to_string(),
            expected: "0 to 7",
        })
    }
}

impl WriteAction {
    /// The IMAPI constant's name without its prefix, e.g. `WRITING_DATA`.
    pub fn name(self) -> &'static str {
        match self {
            WriteAction::ValidatingMedia => "VALIDATING_MEDIA",
            WriteAction::FormattingMedia => "FORMATTING_MEDIA",
            WriteAction::InitializingHardware => "INITIALIZING_HARDWARE",
            WriteAction::CalibratingPower => "CALIBRATING_POWER",
            WriteAction::WritingData => "WRITING_DATA",
            WriteAction::Finalization => "FINALIZATION",
            WriteAction::Completed => "COMPLETED",
            WriteAction::Verifying => "VERIFYING",
        }
    }
}

/// IMAPI_BURN_VERIFICATION_LEVEL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(into = "i32", try_from = "i32")]
pub enum VerificationLevel {
    /// No read-back.
    None = 0,
    /// Read back and compare the first and the last block of the section.
    Quick = 1,
    /// Read back every sector and compare its SHA-256.
    #[default]
    Full = 2,
}

impl std::str::FromStr for VerificationLevel {
    type Err = NotAValue;
    /// `none`, `quick` or `full`, as command lines and config files name it.
    fn from_str(s: &str) -> Result<Self, NotAValue> {
        match s {
            "none" => Ok(VerificationLevel::None),
            "quick" => Ok(VerificationLevel::Quick),
            "full" => Ok(VerificationLevel::Full),
            _ => Err(NotAValue {
                enumeration: "IMAPI_BURN_VERIFICATION_LEVEL",
                value: format!("'{s}'"),
                expected: "none, quick or full",
            }),
        }
    }
}

impl From<VerificationLevel> for i32 {
    fn from(v: VerificationLevel) -> i32 {
        v as i32
    }
}

impl TryFrom<i32> for VerificationLevel {
    type Error = NotAValue;
    fn try_from(v: i32) -> Result<Self, NotAValue> {
        match v {
            0 => Ok(VerificationLevel::None),
            1 => Ok(VerificationLevel::Quick),
            2 => Ok(VerificationLevel::Full),
            _ => Err(NotAValue {
                enumeration: "IMAPI_BURN_VERIFICATION_LEVEL",
                value: v.to_string(),
                expected: "0, 1 or 2",
            }),
        }
    }
}

/// What the DiscFormat2Data flow does around the WRITEs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscOptions {
    /// BurnVerificationLevel: read back and compare after writing.
    #[serde(default)]
    pub verification: VerificationLevel,
    /// Requested write speed in sectors per second (SetWriteSpeed); -1 = the
    /// drive's choice. The drive takes the fastest speed it offers that is
    /// not faster than this.
    #[serde(default = "minus_one")]
    pub write_speed: i32,
    /// Test write: the drive goes through the burn with the laser off (CD-R,
    /// DVD-R only); nothing is recorded, closed or verified.
    #[serde(default)]
    pub simulate: bool,
    /// Open the tray when done.
    #[serde(default)]
    pub eject: bool,
    /// A disk on USB is powered off when done, so it can be pulled out
    /// (helper feature `powerOff`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub power_off: bool,
    /// The data may end before the section does (`endOfData`): the burn
    /// then ends with the data, its last sector padded with zeros, and is
    /// verified as far as it went. For images whose size is known only once
    /// they are decoded; the section is then the room on the medium.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub open_end: bool,
    /// IMAPI's ForceMediaToBeClosed = false: a write-once disc (CD-R,
    /// DVD±R, BD-R) is left appendable, so a later burn adds a session
    /// (helper feature `appendable`). Rewritable and random-access media
    /// ignore it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub leave_appendable: bool,
    /// A rewritable disc (DVD+RW, BD-RE) grows its file system in place:
    /// the section holds a session laid out after the disc's volume, and
    /// once it is written (and verified) its volume descriptors are copied
    /// to sector 16, where every reader looks (helper feature `appendable`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub grow_in_place: bool,
}

fn minus_one() -> i32 {
    -1
}

impl Default for DiscOptions {
    fn default() -> Self {
        DiscOptions {
            verification: VerificationLevel::Full,
            write_speed: -1,
            simulate: false,
            eject: false,
            power_off: false,
            open_end: false,
            leave_appendable: false,
            grow_in_place: false,
        }
    }
}

/// One file or folder of a session on a disc.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedItem {
    /// Its path from the root, `/`-separated.
    pub path: String,
    /// A folder.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dir: bool,
    /// A file's bytes.
    #[serde(default)]
    pub size: u64,
    /// Modification time, seconds since 1970-01-01 UTC.
    pub mtime: i64,
    /// Where a file's data starts (its bytes are contiguous from there).
    #[serde(default)]
    pub lba: u32,
}

/// The file tree of one session on a disc (IMAPI2FS's ImportFileSystem
/// reads it so the next session can keep its files).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedSession {
    /// Where the session starts.
    pub start: u32,
    /// Where its volume ends (ECMA-119's Volume Space Size): the sector
    /// after everything the volume holds, earlier sessions included.
    #[serde(default)]
    pub end: u32,
    /// Its volume name.
    pub volume_name: String,
    /// Its folders and files, parents before children.
    pub items: Vec<RecordedItem>,
}

/// IDiscFormat2DataEventArgs beyond the IWriteEngine2EventArgs it extends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataEventArgs {
    /// CurrentAction.
    pub current_action: WriteAction,
    /// ElapsedTime in seconds since the burn started.
    pub elapsed_time: i32,
    /// RemainingTime: estimated seconds left (writing plus verifying).
    pub remaining_time: i32,
    /// TotalTime: ElapsedTime + RemainingTime.
    pub total_time: i32,
    /// The write speed in force, sectors per second; -1 if the drive did not say.
    pub write_speed: i32,
    /// Last sector read back and found equal (webburn extension); StartLba - 1 before verifying.
    pub last_verified_lba: i32,
    /// Read-back rate over the last interval in bytes per second (webburn extension).
    pub verify_bytes_per_second: u64,
}

/// What a finished DiscFormat2Data burn reports besides its HRESULT.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscReport {
    /// SHA-256 of the section as it was streamed, lowercase hex.
    pub sha256: String,
    /// The write speed in force, sectors per second; -1 if not set.
    pub write_speed: i32,
    /// The drive took another speed than the one asked for (S_IMAPI_SPEEDADJUSTED).
    pub speed_adjusted: bool,
    /// The read-back compared equal (false when not verified).
    pub verified: bool,
    /// It was a test write: nothing was recorded.
    pub simulated: bool,
    /// The tray was opened.
    pub ejected: bool,
    /// The disk's USB device was powered off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub powered_off: bool,
    /// A disk's partitions as the system sees them after it was asked to
    /// read the partition table again (Linux: BLKRRPART), e.g. `["sdb1",
    /// "sdb2"]`; empty where it was not asked or could not be.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_on_the_wire_and_defaults() {
        let o: DiscOptions = serde_json::from_str("{}").unwrap();
        assert_eq!(o, DiscOptions::default());
        let o: DiscOptions =
            serde_json::from_str(r#"{"verification":0,"writeSpeed":5410,"eject":true}"#).unwrap();
        assert_eq!(o.verification, VerificationLevel::None);
        assert_eq!((o.write_speed, o.eject), (5410, true));
        assert!(serde_json::from_str::<DiscOptions>(r#"{"verification":3}"#).is_err());
        assert_eq!("quick".parse(), Ok(VerificationLevel::Quick));
        assert!("most".parse::<VerificationLevel>().is_err());
        let args = DataEventArgs {
            current_action: WriteAction::Verifying,
            ..DataEventArgs::default()
        };
        let json = serde_json::to_value(args).unwrap();
        assert_eq!(json["currentAction"], 7);
        assert_eq!(WriteAction::try_from(4), Ok(WriteAction::WritingData));
        assert!(WriteAction::try_from(8).is_err());
        assert_eq!(WriteAction::Finalization.name(), "FINALIZATION");
    }
}
