//! The process-wide state a running helper keeps, below the server, the
//! sessions, the tray and the command line that share it: the recorder
//! registry (who holds which recorder), the pairing store, a kiosk's
//! history, the activity the tray shows, and the local certificate
//! authority of the https/wss listener.

pub mod activity;
pub mod consents;
pub mod history;
pub mod local_ca;
pub mod pairing_store;
pub mod private;
pub mod registry;
