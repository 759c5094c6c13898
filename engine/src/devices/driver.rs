//! One trait every kind of device path implements: it names its ids, lists
//! the devices the system offers and opens one. A new platform's transport
//! (SPTI, IOKit) is one new implementation in `drivers/` and one line in
//! [`super::DRIVERS`].

use super::{DeviceError, Recorder};

/// A device the system offers now, as a recorder id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// The recorder id, e.g. `sg:/dev/sg1`.
    pub id: String,
    /// An optical drive (peripheral device type 05h): offered to pages
    /// without configuration (removable disks only with the person's approval).
    pub optical: bool,
}

/// A kind of device path: `emulated:`, `sg:`, `usb:`.
pub trait Driver: Sync {
    /// The id prefix, e.g. `sg:`.
    fn prefix(&self) -> &'static str;
    /// The kind `recorders` lists (`emulated`, `sg`, `usb`).
    fn kind(&self) -> &'static str;
    /// The devices of this kind the system offers now.
    fn discover(&self) -> Vec<Discovered>;
    /// Whether [`Driver::discover`] tells optical drives apart (only such
    /// drivers are asked for the drives a server offers unconfigured).
    fn tells_optical(&self) -> bool {
        false
    }
    /// Opens recorder `id`, of which `rest` follows the prefix.
    fn open(&self, id: &str, rest: &str) -> Result<Recorder, DeviceError>;
}
