//! webburn's native helper: IWriteEngine2's write loop over SCSI/MMC.
//!
//! Layers, each unaware of the ones above it:
//! - [`scsi`]: CDBs, sense data and reply layouts;
//! - [`transport`]: the trait every device path implements;
//! - [`emulated`]: a recorder that is an image file answering SCSI commands;
//! - [`devices`]: naming, opening and locking recorders;
//! - [`engine`]: WriteSection with its ring buffer, writer thread and events;
//! - [`disc`]: the DiscFormat2Data flow around WriteSection (medium check,
//!   speed, simulation, closing, verify, eject);
//! - [`session`]: one WebSocket session of protocol v1;
//! - [`server`]: the localhost HTTP/WebSocket server, its security and pairing;
//! - [`install`]: the autostart entries `webburn-helper install` writes;
//! - [`cli`]: the `webburn-helper` command line.

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
