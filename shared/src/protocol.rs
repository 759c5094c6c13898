//! Protocol v1 text messages: JSON objects tagged by `"type"` (PROTOCOL.md is
//! the reference; this file is its machine form).
//!
//! Binary messages carry file data behind a [`crate::DataFrameHeader`].
//! Flow control is credit based: the helper grants bytes and the client never
//! sends past the credit it holds.

use serde::{Deserialize, Serialize};

use crate::disc::RecordedSession;
use crate::section::{Section, SectionError, check_rate};
use crate::{
    DataEventArgs, DiscOptions, DiscReport, ErrorCode, HResult, MediumKind, WriteEngineEventArgs,
};

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;
/// The WebSocket path of protocol v1.
pub const WS_PATH: &str = "/v1/ws";

/// The IWriteEngine2 properties that govern one WriteSection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteProperties {
    /// Recorder id, one of those `listRecorders` returned.
    pub recorder: String,
    /// BytesPerSector (IMAPI default -1 = never put).
    pub bytes_per_sector: i32,
    /// StartingSectorsPerSecond, -1 = maximum.
    #[serde(default = "minus_one")]
    pub starting_sectors_per_second: i32,
    /// EndingSectorsPerSecond, -1 = maximum.
    #[serde(default = "minus_one")]
    pub ending_sectors_per_second: i32,
    /// UseStreamingWrite12: WRITE(12) with the Streaming bit instead of WRITE(10).
    #[serde(default)]
    pub use_streaming_write12: bool,
}

fn minus_one() -> i32 {
    -1
}

fn sector_size_2048() -> u32 {
    2048
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Most recorders one write may go to (the recorder and 15 duplicates).
pub const MAX_TARGETS: usize = 16;

/// `startWrite`: WriteSection(data, startingBlockAddress, numberOfBlocks)
/// on one recorder, or the same data on several (the duplicator). The
/// session runs it as it is; [`StartWrite::validate`] is the one check of
/// its arguments, made by the library before it sends and by the helper
/// before it opens anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartWrite {
    /// The client's id for this write, greater than any it used before in
    /// this session; it goes in every data frame header.
    pub write_id: u32,
    /// The engine's properties.
    #[serde(flatten)]
    pub properties: WriteProperties,
    /// startingBlockAddress.
    pub starting_block_address: i32,
    /// numberOfBlocks.
    pub number_of_blocks: i32,
    /// Bytes the client's data source holds (at least numberOfBlocks x BytesPerSector).
    pub total_bytes: u64,
    /// Every binary message of this write is payload alone, without the
    /// data-frame header: it belongs to this write at the next offset
    /// (PROTOCOL.md section 5). Saves a browser building a Blob per frame.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub raw_frames: bool,
    /// Burn as DiscFormat2Data does (check the medium, speed, close,
    /// verify, eject) instead of the bare WriteSection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disc: Option<DiscOptions>,
    /// Duplicator: the same data also goes to these recorders at once,
    /// each with its own lock, buffer, progress and result. Target 0 is
    /// `recorder`, target i is `duplicateTo[i - 1]` (section 5a).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicate_to: Vec<String>,
}

impl WriteProperties {
    /// The rates are -1 or positive (E_INVALIDARG otherwise); BytesPerSector
    /// is checked with the section it divides.
    pub fn validate(&self) -> Result<(), SectionError> {
        check_rate("startingSectorsPerSecond", self.starting_sectors_per_second)?;
        check_rate("endingSectorsPerSecond", self.ending_sectors_per_second)?;
        Ok(())
    }
}

impl StartWrite {
    /// Checks everything that can be checked without the recorder: the
    /// rates, the section (counts, sector size, LBA overflow), that
    /// `totalBytes` covers it, and the targets (at most [`MAX_TARGETS`],
    /// none named twice). Returns the section.
    pub fn validate(&self) -> Result<Section, SectionError> {
        self.check_targets()?;
        self.properties.validate()?;
        self.section()
    }

    /// The section (counts, sector size, LBA overflow), held against `totalBytes`.
    pub fn section(&self) -> Result<Section, SectionError> {
        let section = Section::new(
            self.starting_block_address,
            self.number_of_blocks,
            self.properties.bytes_per_sector,
        )?;
        section.check_source(Some(self.total_bytes))?;
        Ok(section)
    }

    /// numberOfBlocks x BytesPerSector, as far as they are valid (0 otherwise).
    pub fn section_bytes(&self) -> u64 {
        self.section().map_or(0, Section::bytes)
    }

    /// At most [`MAX_TARGETS`] recorders, none named twice.
    pub fn check_targets(&self) -> Result<(), SectionError> {
        let ids: Vec<&str> = self.recorders().collect();
        if ids.len() > MAX_TARGETS {
            return Err(SectionError::invalid(format!(
                "a write may go to at most {MAX_TARGETS} recorders, not {}",
                ids.len()
            )));
        }
        if let Some((_, twice)) = ids
            .iter()
            .enumerate()
            .find(|(i, id)| ids[..*i].contains(id))
        {
            return Err(SectionError::invalid(format!(
                "recorder {twice} is named twice"
            )));
        }
        Ok(())
    }

    /// The recorders the write goes to, by target index.
    pub fn recorders(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.properties.recorder.as_str())
            .chain(self.duplicate_to.iter().map(String::as_str))
    }
}

/// Messages a client (the page's library) sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ClientMessage {
    /// First message: the versions the client speaks.
    Hello {
        /// Protocol versions, e.g. `[1]`.
        versions: Vec<u32>,
        /// A name for logs, e.g. `webburn-web 0.1`.
        #[serde(default)]
        client: Option<String>,
    },
    /// Ask for the recorder list.
    ListRecorders,
    /// WriteSection(data, startingBlockAddress, numberOfBlocks).
    StartWrite(StartWrite),
    /// CancelWrite().
    CancelWrite {
        /// The write to cancel.
        write_id: u32,
        /// Only this target of a duplicated write (absent: all of them).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<u32>,
    },
    /// The client's data source ended after the bytes sent so far, short of
    /// the section (a stream of unknown length). The write ends with E_INVALIDARG
    /// after the whole sectors received are written.
    EndOfData {
        /// The write.
        write_id: u32,
    },
    /// Keeps an otherwise quiet session open (answered with `pong`).
    Ping,
    /// The helper's own page only: pairing requests and paired origins.
    ListPairings,
    /// The helper's own page only: approve the request showing `code`.
    ApprovePairing {
        /// The code the helper printed.
        code: String,
    },
    /// The helper's own page only: refuse the request showing `code`.
    DenyPairing {
        /// The code the helper printed.
        code: String,
    },
    /// The helper's own page only: forget an origin's token.
    RevokePairing {
        /// The paired origin.
        origin: String,
    },
    /// Ask the person to let this origin write to a removable disk the
    /// helper found ([`Approval::Needed`]).
    RequestDevice {
        /// The recorder's id.
        recorder_id: String,
    },
    /// The helper's own page only: let the request showing `code` write.
    ApproveDevice {
        /// The code the helper showed.
        code: String,
        /// The second confirmation a large disk needs.
        #[serde(default)]
        confirm_large: bool,
    },
    /// The helper's own page only: refuse the device request showing `code`.
    DenyDevice {
        /// The code the helper showed.
        code: String,
    },
    /// IDiscFormat2Erase's EraseMedia: blanks the CD-RW or DVD-RW in
    /// `recorder` (feature `erase`). Its id is a write id (greater than any
    /// before); `eraseUpdate` events follow, and one `writeResult` ends it.
    /// An erase cannot be cancelled once the drive has started it.
    EraseDisc {
        /// The client's id for it, from the sequence of write ids.
        write_id: u32,
        /// Recorder id.
        recorder: String,
        /// FullErase: blank every sector, not only the parts that say
        /// what is on the disc.
        #[serde(default)]
        full: bool,
    },
    /// The file tree of the last closed session on the disc in `recorder`
    /// (feature `appendable`), for a page to add files to it. Its id is a
    /// write id; `sessionContents` answers, then `writeResult`.
    ReadSession {
        /// The client's id for it, from the sequence of write ids.
        write_id: u32,
        /// Recorder id.
        recorder: String,
    },
    /// What the client wants to hear of as it happens (feature `watch`),
    /// instead of asking again and again; each call sets both. Not answered.
    Watch {
        /// `recordersChanged` whenever the recorder list may read
        /// differently (a device request made or decided).
        #[serde(default)]
        recorders: bool,
        /// The helper's own page only: `pairingsChanged` whenever the
        /// pairings or device requests change.
        #[serde(default)]
        pairings: bool,
    },
}

/// The `type` of every client message, as [`ClientMessage`] names them.
pub const CLIENT_MESSAGE_TYPES: [&str; 16] = [
    "hello",
    "listRecorders",
    "startWrite",
    "cancelWrite",
    "endOfData",
    "ping",
    "listPairings",
    "approvePairing",
    "denyPairing",
    "revokePairing",
    "requestDevice",
    "approveDevice",
    "denyDevice",
    "eraseDisc",
    "readSession",
    "watch",
];

/// Whether a page may write to a removable disk the helper found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Approval {
    /// Not approved for this origin: `requestDevice` asks the person.
    Needed,
    /// A request waits for the person.
    Asked,
    /// The person let this origin write to it.
    Approved,
}

/// What a paired page asks the person to allow on a recorder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum ConsentAct {
    /// Write to a removable disk the helper found (everything on it is
    /// lost): `requestDevice`.
    #[default]
    Write,
    /// Erase a rewritable disc (`eraseDisc`).
    Erase,
    /// Burn afresh over a rewritable disc that holds files (`startWrite`).
    Overwrite,
    /// Read which files a disc holds (`readSession`).
    Read,
}

impl ConsentAct {
    /// The wire spelling (`erase`).
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentAct::Write => "write",
            ConsentAct::Erase => "erase",
            ConsentAct::Overwrite => "overwrite",
            ConsentAct::Read => "read",
        }
    }

    /// What the person is asked to allow, after "SITE wants to":
    /// `erase the CD-RW in DRIVE`.
    pub fn wants(self, subject: &str) -> String {
        match self {
            ConsentAct::Write => format!("write to {subject}"),
            ConsentAct::Erase => format!("erase {subject}"),
            ConsentAct::Overwrite => format!("burn over {subject}"),
            ConsentAct::Read => format!("read which files {subject} holds"),
        }
    }

    /// What allowing it costs, for people (empty for reading).
    pub fn consequence(self) -> &'static str {
        match self {
            ConsentAct::Write | ConsentAct::Erase => "everything on it will be erased",
            ConsentAct::Overwrite => "the files on it will be lost",
            ConsentAct::Read => "",
        }
    }
}

/// A device request waiting for the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRequest {
    /// The short code shown beside the request (and to the page).
    pub code: String,
    /// What the page asks to do (helpers before it knew only `write`).
    #[serde(default)]
    pub act: ConsentAct,
    /// The origin that asks.
    pub origin: String,
    /// The recorder it asks for.
    pub recorder_id: String,
    /// The device as people read it: `SanDisk Ultra 32 GB (sdb)`.
    pub device: String,
    /// The disk's size.
    pub size_bytes: u64,
    /// Its approval needs a second confirmation (`confirmLarge`).
    pub large: bool,
    /// Seconds since it asked.
    pub age_seconds: u64,
}

/// A pairing request waiting for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairingRequest {
    /// The short code the helper printed.
    pub code: String,
    /// The origin that asks.
    pub origin: String,
    /// Seconds since it asked.
    pub age_seconds: u64,
}

/// An origin holding a pairing token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairedOrigin {
    /// The origin.
    pub origin: String,
    /// Seconds since it was paired.
    pub age_seconds: u64,
}

/// One recorder as `recorders` lists it (IDiscRecorder2's identity fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecorderDescription {
    /// ActiveDiscRecorder: the id to put in `startWrite`.
    pub id: String,
    /// `emulated`, `sg` or `usb`.
    pub kind: String,
    /// VendorId.
    pub vendor_id: String,
    /// ProductId.
    pub product_id: String,
    /// ProductRevision.
    pub product_revision: String,
    /// SupportedProfiles (MMC profile numbers).
    pub supported_profiles: Vec<u16>,
    /// CurrentProfiles.
    pub current_profiles: Vec<u16>,
    /// Free sectors on the loaded medium, when the drive reports them.
    pub free_sectors: Option<u32>,
    /// Next writable address, when the drive reports one.
    pub next_writable_address: Option<u32>,
    /// Logical block size, when the drive reports it.
    pub block_size: Option<u32>,
    /// Whether it writes discs or a disk (absent from helpers before it: a disc).
    #[serde(default)]
    pub medium_kind: MediumKind,
    /// The sector size a write uses when the page does not say: a disk's
    /// own block size, 2048 on discs ([`MediumKind::natural_sector_size`]).
    #[serde(default = "sector_size_2048")]
    pub sector_size: u32,
    /// Another session holds the recorder.
    pub in_use: bool,
    /// SupportedWriteSpeeds for the loaded medium, sectors per second, fastest first.
    #[serde(default)]
    pub write_speeds: Vec<u32>,
    /// The drive can simulate (Test Write) on the loaded medium.
    #[serde(default)]
    pub can_simulate: bool,
    /// A disk's size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// A removable disk the helper found: whether this origin may write to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
}

/// Decoded sense data attached to an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SenseInfo {
    /// Sense key.
    pub key: u8,
    /// Additional sense code.
    pub asc: u8,
    /// Additional sense code qualifier.
    pub ascq: u8,
    /// The INFORMATION field (e.g. the failing LBA), when valid.
    pub information: Option<u32>,
}

/// The limits a session runs under, announced in `welcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// Largest text message in bytes.
    pub max_message_bytes: u32,
    /// Largest binary message (header + payload) in bytes.
    pub max_frame_bytes: u32,
    /// Seconds without any client message after which the helper closes the session.
    pub idle_timeout_seconds: u32,
    /// The helper's system buffer (TotalSystemBuffer) in bytes.
    pub buffer_bytes: u32,
}

/// Messages the helper sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ServerMessage {
    /// Answer to hello: the chosen version and the limits in force.
    Welcome {
        /// The version both sides now speak.
        version: u32,
        /// The helper's version string.
        helper_version: String,
        /// Limits of this session.
        limits: Limits,
        /// The features this helper has (see [`crate::compat`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        features: Option<Vec<String>>,
    },
    /// Answer to listRecorders.
    Recorders {
        /// The recorders this helper offers.
        recorders: Vec<RecorderDescription>,
    },
    /// A write was accepted; send data up to `credit` bytes.
    WriteStarted {
        /// The id from `startWrite`.
        write_id: u32,
        /// Initial credit in bytes.
        credit: u64,
    },
    /// More credit for an open write.
    Credit {
        /// The write.
        write_id: u32,
        /// Additional bytes the client may send.
        bytes: u64,
    },
    /// An Update event.
    Update {
        /// The write.
        write_id: u32,
        /// IWriteEngine2EventArgs.
        args: WriteEngineEventArgs,
        /// IDiscFormat2DataEventArgs, for a write with `disc`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<DataEventArgs>,
        /// The target of a duplicated write this event is about (0: `recorder`).
        #[serde(default, skip_serializing_if = "is_zero")]
        target: u32,
    },
    /// Answer to cancelWrite: S_OK or S_IMAPI_WRITE_NOT_IN_PROGRESS.
    CancelResult {
        /// The write named in the request.
        write_id: u32,
        /// CancelWrite's HRESULT.
        hresult: HResult,
        /// Its symbolic name.
        name: String,
    },
    /// The final result of a write: one per target; the write is over
    /// when every target has sent its own.
    WriteResult {
        /// The write.
        write_id: u32,
        /// The target of a duplicated write (0: `recorder`).
        #[serde(default, skip_serializing_if = "is_zero")]
        target: u32,
        /// WriteSection's HRESULT.
        hresult: HResult,
        /// Its symbolic name.
        name: String,
        /// A sentence for people.
        message: String,
        /// What happened, when something failed.
        detail: String,
        /// The device's sense data, when it gave any.
        sense: Option<SenseInfo>,
        /// A machine-readable reason, where the HRESULT alone does not say
        /// what to do (e.g. `notNextWritableAddress`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<ErrorCode>,
        /// The first sector a verify found bad.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first_bad_lba: Option<i32>,
        /// What a successful `disc` burn reports.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disc: Option<Box<DiscReport>>,
    },
    /// IDiscFormat2Erase's Update event: how long an erase has run and
    /// how long it will take in all.
    EraseUpdate {
        /// The erase's id.
        write_id: u32,
        /// Seconds since the drive started blanking.
        elapsed_seconds: u32,
        /// The expected seconds in all, from the progress the drive reports
        /// (0 while it has reported none).
        estimated_total_seconds: u32,
    },
    /// Answer to readSession: the last closed session's tree (`session`
    /// absent on a blank disc) and where the next session starts.
    SessionContents {
        /// The request's id.
        write_id: u32,
        /// The session, when the disc has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<RecordedSession>,
        /// The next session's first sector.
        next_writable_address: u32,
    },
    /// Answer to ping.
    Pong,
    /// After `watch` with `recorders`: the recorder list may read
    /// differently; `listRecorders` tells how.
    RecordersChanged,
    /// After `watch` with `pairings` (the helper's own page): pairing or
    /// device requests changed; `listPairings` tells how.
    PairingsChanged,
    /// Answer to listPairings, approvePairing, denyPairing and revokePairing:
    /// the state after the change.
    Pairings {
        /// Requests waiting for the user.
        pending: Vec<PairingRequest>,
        /// Origins holding a token.
        paired: Vec<PairedOrigin>,
        /// Device requests waiting for the user.
        #[serde(default)]
        devices: Vec<DeviceRequest>,
    },
    /// An `eraseDisc`, `readSession` or `startWrite` of a paired page is
    /// held until the person allows it on the helper (its own page or its
    /// tray shows the request with `code`); then it goes on as if just
    /// sent, or ends with `writeResult` `E_ACCESSDENIED`, code
    /// `consentRefused`.
    ConsentNeeded {
        /// The request held.
        write_id: u32,
        /// What it does.
        act: ConsentAct,
        /// The recorder it is for.
        recorder_id: String,
        /// The code the helper shows beside the request.
        code: String,
    },
    /// Answer to requestDevice: the request waits for the person.
    DeviceRequested {
        /// The recorder asked for.
        recorder_id: String,
        /// The code the helper shows beside the request.
        code: String,
    },
    /// A request failed, or the session broke a rule.
    Error {
        /// HRESULT of the failure.
        hresult: HResult,
        /// Its symbolic name.
        name: String,
        /// A sentence for people.
        message: String,
        /// What exactly was wrong.
        detail: String,
        /// Machine-readable reason, e.g. `creditExceeded` (PROTOCOL.md lists them).
        code: ErrorCode,
        /// The helper closes the connection after a fatal error.
        fatal: bool,
    },
}

impl ServerMessage {
    /// The `error` message for `code`: its HRESULT (with name and message)
    /// and whether it is fatal come from the code.
    pub fn error(code: ErrorCode, detail: impl Into<String>) -> Self {
        let hresult = code.hresult();
        ServerMessage::Error {
            hresult,
            name: hresult.name().unwrap_or("UNKNOWN").to_owned(),
            message: hresult.message().to_owned(),
            detail: detail.into(),
            code,
            fatal: code.is_fatal(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_write_decodes_from_documented_json() {
        let json = r#"{"type":"startWrite","recorder":"emulated:/tmp/a.img",
            "writeId":1,"bytesPerSector":2048,"startingBlockAddress":0,"numberOfBlocks":16,"totalBytes":32768}"#;
        let msg: ClientMessage = serde_json::from_str(json).unwrap();
        let ClientMessage::StartWrite(start) = msg else {
            panic!("wrong variant: {msg:?}");
        };
        assert_eq!(start.properties.recorder, "emulated:/tmp/a.img");
        assert_eq!(start.properties.starting_sectors_per_second, -1);
        assert!(!start.properties.use_streaming_write12);
        assert_eq!(start.number_of_blocks, 16);
        assert_eq!(start.validate().map(Section::bytes), Ok(32768));
    }

    #[test]
    fn server_messages_are_tagged() {
        let json = serde_json::to_value(ServerMessage::error(ErrorCode::BadJson, "expected value"))
            .unwrap();
        assert_eq!(json["type"], "error");
        assert_eq!(json["name"], "E_INVALIDARG");
        assert_eq!(json["hresult"], 0x8007_0057_u32);
        assert_eq!(json["code"], "badJson");
        let hello = serde_json::to_string(&ClientMessage::Hello {
            versions: vec![1],
            client: None,
        })
        .unwrap();
        assert_eq!(hello, r#"{"type":"hello","versions":[1],"client":null}"#);
    }

    #[test]
    fn a_newer_helpers_welcome_reads_and_an_older_ones_too() {
        let newer: ServerMessage = serde_json::from_str(
            r#"{"type":"welcome","version":1,"helperVersion":"9.0.0","features":["rawFrames","x"],
                "limits":{"maxMessageBytes":65536,"maxFrameBytes":1048592,"idleTimeoutSeconds":60,"bufferBytes":16777216,"later":1},
                "later":true}"#,
        )
        .unwrap();
        assert!(matches!(newer, ServerMessage::Welcome { features: Some(f), .. } if f.len() == 2));
        let older: ServerMessage = serde_json::from_str(
            r#"{"type":"welcome","version":1,"helperVersion":"0.1.0",
                "limits":{"maxMessageBytes":65536,"maxFrameBytes":1048592,"idleTimeoutSeconds":60,"bufferBytes":16777216}}"#,
        )
        .unwrap();
        assert!(matches!(
            older,
            ServerMessage::Welcome { features: None, .. }
        ));
    }

    #[test]
    fn every_client_message_type_is_listed() {
        let all = [
            ClientMessage::Hello {
                versions: vec![1],
                client: None,
            },
            ClientMessage::ListRecorders,
            ClientMessage::StartWrite(start(vec!["b".into()])),
            ClientMessage::CancelWrite {
                write_id: 1,
                target: Some(1),
            },
            ClientMessage::EndOfData { write_id: 1 },
            ClientMessage::Ping,
            ClientMessage::ListPairings,
            ClientMessage::ApprovePairing { code: "A".into() },
            ClientMessage::DenyPairing { code: "A".into() },
            ClientMessage::RevokePairing { origin: "o".into() },
            ClientMessage::RequestDevice {
                recorder_id: "r".into(),
            },
            ClientMessage::ApproveDevice {
                code: "A".into(),
                confirm_large: false,
            },
            ClientMessage::DenyDevice { code: "A".into() },
            ClientMessage::EraseDisc {
                write_id: 1,
                recorder: "r".into(),
                full: false,
            },
            ClientMessage::ReadSession {
                write_id: 1,
                recorder: "r".into(),
            },
            ClientMessage::Watch {
                recorders: true,
                pairings: false,
            },
        ];
        let names: Vec<String> = all
            .iter()
            .map(|m| {
                serde_json::to_value(m).unwrap()["type"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(names, CLIENT_MESSAGE_TYPES);
    }

    #[test]
    fn single_recorder_writes_look_as_before_on_the_wire() {
        let cancel = serde_json::to_value(ClientMessage::CancelWrite {
            write_id: 3,
            target: None,
        })
        .unwrap();
        assert_eq!(
            cancel,
            serde_json::json!({"type": "cancelWrite", "writeId": 3})
        );
        let result: ServerMessage = serde_json::from_str(
            r#"{"type":"writeResult","writeId":3,"hresult":0,"name":"S_OK","message":"","detail":"","sense":null}"#,
        )
        .unwrap();
        assert!(matches!(
            result,
            ServerMessage::WriteResult { target: 0, .. }
        ));
        let json = serde_json::to_value(&result).unwrap();
        assert!(json.get("target").is_none(), "target 0 is left out: {json}");
        let dup: ClientMessage = serde_json::from_str(
            r#"{"type":"startWrite","writeId":1,"recorder":"a","bytesPerSector":2048,
               "startingBlockAddress":0,"numberOfBlocks":1,"totalBytes":2048,"duplicateTo":["b","c"]}"#,
        )
        .unwrap();
        assert!(matches!(&dup, ClientMessage::StartWrite(s) if s.duplicate_to == ["b", "c"]));
    }

    fn start(duplicate_to: Vec<String>) -> StartWrite {
        StartWrite {
            write_id: 1,
            properties: WriteProperties {
                recorder: "a".into(),
                bytes_per_sector: 2048,
                starting_sectors_per_second: -1,
                ending_sectors_per_second: -1,
                use_streaming_write12: false,
            },
            starting_block_address: 0,
            number_of_blocks: 1,
            total_bytes: 2048,
            raw_frames: false,
            disc: None,
            duplicate_to,
        }
    }

    #[test]
    fn validate_is_the_one_check_of_a_start_write() {
        assert!(start(vec!["b".into()]).validate().is_ok());
        let refused = |s: StartWrite| s.validate().unwrap_err().detail;
        assert!(refused(start(vec!["a".into()])).contains("named twice"));
        let many = (0..MAX_TARGETS).map(|i| format!("d{i}")).collect();
        assert!(refused(start(many)).contains("at most 16"));
        let mut short = start(Vec::new());
        short.total_bytes = 2047;
        assert!(refused(short).contains("holds 2047 bytes"));
        let mut rate = start(Vec::new());
        rate.properties.ending_sectors_per_second = 0;
        assert!(refused(rate).contains("endingSectorsPerSecond"));
        let mut bps = start(Vec::new());
        bps.properties.bytes_per_sector = 0;
        assert!(refused(bps).contains("bytesPerSector"));
    }

    #[test]
    fn an_older_helpers_recorder_reads_as_a_disc_drive() {
        let r: RecorderDescription = serde_json::from_str(
            r#"{"id":"sg:/dev/sg1","kind":"sg","vendorId":"V","productId":"P","productRevision":"1",
               "supportedProfiles":[27],"currentProfiles":[27],"freeSectors":null,
               "nextWritableAddress":null,"blockSize":2048,"inUse":false}"#,
        )
        .unwrap();
        assert_eq!(r.medium_kind, MediumKind::Disc);
        assert_eq!(r.sector_size, 2048);
    }

    #[test]
    fn unknown_types_are_rejected_and_unknown_fields_ignored() {
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"format"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"versions":[1]}"#).is_err());
        let m = serde_json::from_str::<ClientMessage>(r#"{"type":"listRecorders","x":1}"#);
        assert_eq!(m.unwrap(), ClientMessage::ListRecorders);
    }
}
