//! webburn's native helper: the localhost server and its WebSocket sessions
//! of protocol v1, the state they share, the tray and the command line.
//!
//! The helper is the top of four crates, each using only those below it
//! (docs/development.md, "The helper's layers"): `webburn-scsi` (CDBs,
//! sense, transports), `webburn-emulated` (the emulated recorders),
//! `webburn-engine` (recorders, WriteSection, the disc flow, verify, burn)
//! and this one. Inside it, from the bottom up:
//! - [`account`], [`autostart`]: the OS account and a loopback peer's, the
//!   autostart entries of each platform;
//! - [`state`]: the recorder registry, pairings, consents, kiosk history
//!   and activity;
//! - [`session`]: one WebSocket session of protocol v1;
//! - [`server`]: the localhost HTTP/WebSocket server and its security;
//! - [`tray`]: the tray icon;
//! - [`cli`]: the `webburn-helper` command line.

pub mod account;
pub(crate) mod autostart;
pub mod cli;
pub mod server;
pub(crate) mod session;
pub mod state;
pub(crate) mod tray;
