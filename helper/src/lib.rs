//! webburn's native helper: IWriteEngine2's write loop over SCSI/MMC.
//!
//! Layers from the bottom up, each unaware of the ones above it (docs/development.md,
//! "The helper's layers"; `tests/architecture_layers.rs` holds the code to it):
//! - [`account`], [`cancel`], [`sense`], [`units`], [`autostart`]: the OS
//!   account and a loopback peer's, a write's stop signal, sense data and
//!   its meaning, sizes, the autostart entries of each platform;
//! - [`transport`]: the trait every device path implements;
//! - [`scsi`]: CDBs and reply layouts;
//! - [`emulated`]: a recorder that is an image file answering SCSI commands,
//!   and a USB stick in software over it;
//! - [`devices`]: one driver per device path; naming, opening, identity;
//! - [`engine`]: WriteSection with its ring buffer, writer thread and events;
//!   [`state`]: the recorder registry, pairings, kiosk history and activity;
//! - [`disc`]: the DiscFormat2Data flow around WriteSection (medium check,
//!   speed, simulation, closing, verify, eject);
//! - [`burn`]: one burn as the session and the command line run it;
//! - [`session`]: one WebSocket session of protocol v1;
//! - [`server`]: the localhost HTTP/WebSocket server and its security;
//! - [`tray`]: the tray icon;
//! - [`cli`]: the `webburn-helper` command line.

pub mod account;
pub mod autostart;
pub mod burn;
pub mod cancel;
pub mod cli;
pub mod devices;
pub mod disc;
pub mod emulated;
pub mod engine;
pub mod scsi;
pub mod sense;
pub mod server;
pub mod session;
pub mod state;
pub mod transport;
pub mod tray;
pub mod units;
