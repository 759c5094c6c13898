//! Protocol v1 text messages (first cut): JSON objects tagged by `"type"`.
//!
//! Binary messages carry file data behind a [`crate::DataFrameHeader`].
//! Flow control is credit based: the helper grants bytes (free ring-buffer
//! space) and the client never sends past the credit it holds.

use serde::{Deserialize, Serialize};

use crate::{HResult, WriteEngineEventArgs};

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The IWriteEngine2 properties that govern one WriteSection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteProperties {
    /// Recorder id, e.g. `emulated:/path/disc.img`.
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
    },
    /// Ask for the recorder list.
    ListRecorders,
    /// WriteSection(data, startingBlockAddress, numberOfBlocks).
    StartWrite {
        /// The engine's properties.
        properties: WriteProperties,
        /// startingBlockAddress.
        starting_block_address: i32,
        /// numberOfBlocks.
        number_of_blocks: i32,
        /// Bytes the client will send (must cover numberOfBlocks x BytesPerSector).
        total_bytes: u64,
    },
    /// CancelWrite().
    CancelWrite {
        /// The write to cancel.
        write_id: u32,
    },
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
        /// Largest binary frame accepted, header included.
        max_frame_bytes: u32,
    },
    /// A write was accepted; send data up to `credit` bytes.
    WriteStarted {
        /// Id to put in every data frame header.
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
    },
    /// The final result of a write.
    WriteResult {
        /// The write.
        write_id: u32,
        /// Final HRESULT.
        hresult: HResult,
        /// Its symbolic name.
        name: String,
        /// A sentence for people.
        message: String,
    },
    /// A request failed.
    Error {
        /// HRESULT of the failure.
        hresult: HResult,
        /// Its symbolic name.
        name: String,
        /// A sentence for people.
        message: String,
    },
}

impl ServerMessage {
    /// A `WriteResult` carrying `hresult` with its name and message filled in.
    pub fn write_result(write_id: u32, hresult: HResult) -> Self {
        ServerMessage::WriteResult {
            write_id,
            hresult,
            name: hresult.name().unwrap_or("UNKNOWN").to_owned(),
            message: hresult.message().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_write_decodes_from_documented_json() {
        let json = r#"{"type":"startWrite","properties":{"recorder":"emulated:/tmp/a.img",
            "bytesPerSector":2048},"startingBlockAddress":0,"numberOfBlocks":16,"totalBytes":32768}"#;
        let msg: ClientMessage = serde_json::from_str(json).unwrap();
        let ClientMessage::StartWrite {
            properties,
            number_of_blocks,
            ..
        } = msg
        else {
            panic!("wrong variant: {msg:?}");
        };
        assert_eq!(properties.starting_sectors_per_second, -1);
        assert!(!properties.use_streaming_write12);
        assert_eq!(number_of_blocks, 16);
    }

    #[test]
    fn server_messages_are_tagged() {
        let json = serde_json::to_value(ServerMessage::write_result(
            3,
            HResult::E_IMAPI_REQUEST_CANCELLED,
        ))
        .unwrap();
        assert_eq!(json["type"], "writeResult");
        assert_eq!(json["writeId"], 3);
        assert_eq!(json["name"], "E_IMAPI_REQUEST_CANCELLED");
        assert_eq!(json["hresult"], 0xC0AA_0002_u32);
    }

    #[test]
    fn unknown_types_are_rejected() {
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"format"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"versions":[1]}"#).is_err());
    }
}
