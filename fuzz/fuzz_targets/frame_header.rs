//! The 16-byte data-frame header in front of every binary message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webburn_shared::DataFrameHeader;

fuzz_target!(|data: &[u8]| {
    if let Ok((header, payload)) = DataFrameHeader::decode(data) {
        assert_eq!(payload.len() + 16, data.len());
        let again = header.encode();
        assert_eq!(&again[..], &data[..16]);
    }
});
