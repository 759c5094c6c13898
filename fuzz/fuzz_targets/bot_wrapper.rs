//! USB Bulk-Only wrappers: a Command Block Wrapper and a Command Status
//! Wrapper as a device (or a hostile one) sends them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webburn_scsi::transport::usb_bot::wrapper::{Cbw, Csw};

fuzz_target!(|data: &[u8]| {
    if let Some(cbw) = Cbw::decode(data) {
        let bytes = cbw.encode().expect("a decoded CBW encodes");
        assert_eq!(Cbw::decode(&bytes), Some(cbw));
    }
    let _ = Csw::decode(data);
});
