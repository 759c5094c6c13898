//! webburn's WebAssembly library: IMAPI2's IWriteEngine2 for web pages.
//!
//! - [`DiscMaster2`]: the connection to the helper (status, pairing,
//!   reconnect) and its recorders;
//! - [`DiscRecorder2`]: one recorder's identity and medium;
//! - [`WriteEngine2`]: the properties, `writeSection`, `cancelWrite` and
//!   `update` events ([`WriteEngine2EventArgs`]);
//! - [`DiscFormat2Data`]: a disc burn (check, write, close, verify);
//! - [`DiscFormat2Erase`]: blanks a CD-RW or DVD-RW;
//! - [`DiskImage`]: a chosen disk image, raw or compressed (gzip, xz, zstd,
//!   bzip2, zip), flashed with `DiscFormat2Data.writeImage(image)`;
//! - [`FileSystemImage`]: files and folders as a disc every computer reads
//!   (IMAPI2FS), burned with `DiscFormat2Data.write(result.imageStream)`.
//!
//! Data from a Blob or File goes to the helper as Blob slices and never
//! passes through wasm memory.

mod connection;
mod disk_image;
mod engine;
mod erase;
mod error;
mod event_args;
mod format;
mod fsimage;
mod http;
mod image_stream;
mod master;
mod recorder;
mod source;
mod timer;

use wasm_bindgen::prelude::wasm_bindgen;
use webburn_shared::HResult;

pub use disk_image::DiskImage;
pub use engine::WriteEngine2;
pub use erase::DiscFormat2Erase;
pub use event_args::WriteEngine2EventArgs;
pub use format::DiscFormat2Data;
pub use fsimage::{FileSystemImage, FileSystemImageResult, FsiDirectoryItem};
pub use master::DiscMaster2;
pub use recorder::DiscRecorder2;

/// The `ErrorCode` union, written by build.rs from the Rust enum.
#[wasm_bindgen(typescript_custom_section)]
const TS_ERROR_CODE: &str = include_str!(concat!(env!("OUT_DIR"), "/error_code.ts"));

#[wasm_bindgen(typescript_custom_section)]
const TS_EVENTS: &str = r#"
/** The `update` event of DiscFormat2Erase (DDiscFormat2EraseEvents). */
export interface DiscFormat2EraseUpdateEvent extends CustomEvent<{ elapsedSeconds: number; estimatedTotalSeconds: number }> {
  /** Seconds since the drive began blanking. */
  readonly elapsedSeconds: number;
  /** Seconds the erase takes in all, from the drive's progress; 0 while unknown. */
  readonly estimatedTotalSeconds: number;
}
/** The `update` event of FileSystemImage while its stream is composed (DFileSystemImageEvents). */
export interface FileSystemImageUpdateEvent extends CustomEvent<{ currentFile: string; copiedSectors: number; totalSectors: number }> {
  /** The file being added ("" at the end). */
  readonly currentFile: string;
  /** Sectors of the image laid so far. */
  readonly copiedSectors: number;
  /** Sectors of the whole image (TotalBlocks). */
  readonly totalSectors: number;
}

/** The `update` event of WriteEngine2: IWriteEngine2EventArgs on the event and in `detail`. */
export interface WriteEngine2UpdateEvent extends CustomEvent<WriteEngine2EventArgs> {
  readonly startLba: number;
  readonly sectorCount: number;
  readonly lastReadLba: number;
  readonly lastWrittenLba: number;
  readonly totalSystemBuffer: number;
  readonly usedSystemBuffer: number;
  readonly freeSystemBuffer: number;
  readonly elapsedMs: number;
  readonly currentBytesPerSecond: number;
  readonly driveBufferTotal: number;
  readonly driveBufferUsed: number;
  readonly progress: number;
  /** Which drive of the write: 0 for the recorder, i for the i-th duplicate recorder. */
  readonly recorderIndex: number;
  /** That drive's id (ActiveDiscRecorder). */
  readonly recorderId: string;
}

/** The `update` event of DiscFormat2Data: the WriteEngine2 properties plus IDiscFormat2DataEventArgs. */
export interface DiscFormat2DataUpdateEvent extends WriteEngine2UpdateEvent {
  /** IMAPI_FORMAT2_DATA_WRITE_ACTION: 0 validating media, 2 initializing hardware,
   *  4 writing data, 5 finalization, 6 completed, 7 verifying. */
  readonly currentAction: number;
  readonly elapsedTime: number;
  /** Seconds; -1 while unknown. */
  readonly remainingTime: number;
  /** Seconds; -1 while unknown. */
  readonly totalTime: number;
  /** Sectors per second in force; -1 if the drive does not say. */
  readonly writeSpeed: number;
  readonly lastVerifiedLba: number;
  readonly verifyBytesPerSecond: number;
}

/** What DiscFormat2Data.write resolves to. */
export interface DiscFormat2DataResult {
  /** SHA-256 of the data as streamed, lowercase hex. */
  sha256: string;
  writeSpeed: number;
  speedAdjusted: boolean;
  verified: boolean;
  simulated: boolean;
  ejected: boolean;
  /** The disk's USB device was powered off (`powerOffWhenDone`); absent otherwise. */
  poweredOff?: boolean;
  /** A flashed disk's partitions as the system sees them after reading its table again (e.g. ["sdb1"]); absent when not asked or not possible. */
  partitions?: string[];
}

/** How one drive of DiscFormat2Data.duplicate ended. */
export interface DuplicateOutcome {
  /** 0 for the recorder, i for the i-th duplicate recorder. */
  recorderIndex: number;
  recorderId: string;
  ok: boolean;
  /** The drive's report, when ok. */
  report?: DiscFormat2DataResult;
  /** What the drive failed with, when not ok. */
  error?: WebburnError;
}

/** What writeSection and the other calls reject with. */
export interface WebburnError extends Error {
  /** The HRESULT's symbolic name, e.g. "E_IMAPI_REQUEST_CANCELLED". */
  readonly name: string;
  /** The HRESULT as an unsigned 32-bit number, e.g. 0xC0AA0002. */
  readonly hresult: number;
  /** What happened, in words. */
  readonly detail: string;
  /** The device's sense data, when it gave any. */
  readonly sense?: { key: number; asc: number; ascq: number; information: number | null };
  /** The first sector a verify found different (E_IMAPI_BURN_VERIFICATION_FAILED). */
  readonly firstBadLba?: number;
  /** The helper's machine-readable reason, where the HRESULT alone does not
   * say what to do (e.g. "notNextWritableAddress", "connectionLost";
   * PROTOCOL.md lists them). Act on this, never on the message text. */
  readonly code?: ErrorCode;
}

/** What the pairing calls of the helper's own page resolve to. */
export interface Pairings {
  pending: { code: string; origin: string; ageSeconds: number }[];
  paired: { origin: string; ageSeconds: number }[];
  /** Pages asking to write to a removable disk (`large`: allowing it needs `confirmLarge`). */
  devices: { code: string; act: ConsentAct; origin: string; recorderId: string; device: string; sizeBytes: number; large: boolean; ageSeconds: number }[];
}

/** What a page asks the person to allow on a recorder. */
export type ConsentAct = "write" | "erase" | "overwrite" | "read";

/** The detail of DiscMaster2's `consentneeded` event. */
export interface ConsentNeeded { writeId: number; act: ConsentAct; recorderId: string; code: string }

/** The events DiscMaster2 dispatches. */
export type MasterEvent = "statechange" | "consentneeded" | "recorderschanged" | "pairingschanged";

/** DiscMaster2.state values. */
export type ConnectionState =
  | "idle" | "connecting" | "helperNotRunning" | "localNetworkPrompt" | "localNetworkDenied"
  | "pairingPending" | "pairingRefused" | "helperOutdated" | "notOpenedFromHelper" | "connected"
  | "disconnected";
"#;

/// The protocol version this library speaks.
#[wasm_bindgen(js_name = protocolVersion)]
pub fn protocol_version() -> u32 {
    webburn_shared::protocol::PROTOCOL_VERSION
}

/// The oldest helper release this library works with (a page tells the
/// person to update an older one).
#[wasm_bindgen(js_name = neededHelperVersion)]
pub fn needed_helper_version() -> String {
    webburn_shared::compat::MIN_HELPER_VERSION.to_owned()
}

/// The symbolic name of an HRESULT (e.g. `E_IMAPI_REQUEST_CANCELLED`), if known.
#[wasm_bindgen(js_name = hresultName)]
pub fn hresult_name(value: u32) -> Option<String> {
    HResult(value).name().map(str::to_owned)
}

/// The name of an MMC profile (`DVD+R`, `BD-R`, `Removable disk`), or its
/// number in hex (`0x50`) for one the table does not hold.
#[wasm_bindgen(js_name = profileName)]
pub fn profile_name(profile: u16) -> String {
    webburn_shared::profile_label(profile)
}

/// Whether a disc of MMC profile `profile` is written in sessions a later
/// burn can add to (CD-R/RW, DVD-R/RW, DVD+R, BD-R, ...).
#[wasm_bindgen(js_name = profileTakesSessions)]
pub fn profile_takes_sessions(profile: u16) -> bool {
    webburn_shared::medium::is_sequential(profile)
}

/// Whether a disc of MMC profile `profile` is rewritable in place, its file
/// system growing there (DVD-RAM, DVD-RW restricted overwrite, DVD+RW, BD-RE).
#[wasm_bindgen(js_name = profileRewritable)]
pub fn profile_rewritable(profile: u16) -> bool {
    webburn_shared::medium::is_rewritable(profile)
}

/// Whether DiscFormat2Erase erases a disc of MMC profile `profile`
/// (CD-RW, DVD-RW).
#[wasm_bindgen(js_name = profileErasable)]
pub fn profile_erasable(profile: u16) -> bool {
    webburn_shared::medium::is_blankable(profile)
}

/// What a request waiting for the person asks, as the helper's own page
/// shows it: `https://site.example wants to erase the CD-RW in DRIVE:
/// everything on it will be erased.` (`act`: `write`, `erase`,
/// `overwrite` or `read`).
#[wasm_bindgen(js_name = consentText)]
pub fn consent_text(
    #[wasm_bindgen(unchecked_param_type = "ConsentAct")] act: &str,
    origin: &str,
    device: &str,
) -> String {
    let act: webburn_shared::protocol::ConsentAct =
        serde_json::from_value(serde_json::Value::String(act.to_owned())).unwrap_or_default();
    match act.consequence() {
        "" => format!("{origin} wants to {}.", act.wants(device)),
        c => format!("{origin} wants to {}: {c}.", act.wants(device)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_known_codes_only() {
        assert_eq!(
            hresult_name(0xC0AA_0002).as_deref(),
            Some("E_IMAPI_REQUEST_CANCELLED")
        );
        assert_eq!(hresult_name(0x1234_5678), None);
        assert_eq!(protocol_version(), 1);
    }
}
