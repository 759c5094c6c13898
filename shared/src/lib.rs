//! The vocabulary both sides of webburn speak: IMAPI2 HRESULTs, the
//! IWriteEngine2 event arguments, the protocol's JSON messages and the binary
//! data-frame header. No async runtime and no wasm dependencies, so the native
//! helper and the WebAssembly library compile the same definitions.

pub mod compat;
pub mod disc;
pub mod error_code;
pub mod event_args;
pub mod frame;
pub mod hresult;
pub mod http;
pub mod medium;
pub mod protocol;
pub mod section;
pub mod units;

pub use disc::{DataEventArgs, DiscOptions, DiscReport, VerificationLevel, WriteAction};
pub use error_code::ErrorCode;
pub use event_args::WriteEngineEventArgs;
pub use frame::{DataFrameHeader, FrameError};
pub use hresult::{Failure, HResult};
pub use medium::{MediumKind, medium_name, physical_media_type, profile_label, profile_name};
pub use section::{MediumRoom, Padded, Section, SectionError};
