//! The process-wide state a running helper keeps, below the server, the
//! sessions, the tray and the command line that share it: the recorder
//! registry (who holds which recorder), the pairing store, a kiosk's
//! history and the activity the tray shows.

pub mod activity;
pub mod history;
pub mod pairing_store;
pub mod registry;
