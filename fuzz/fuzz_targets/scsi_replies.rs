//! Every reply a drive sends the helper (MMC-6, SPC-4): the first byte
//! picks the decoder, the rest is the reply; what decodes must describe
//! itself without panicking and, where it has an encoder, re-encode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webburn_scsi::formatting::{FormatCapacities, FormatRequest};
use webburn_scsi::{
    BufferCapacity, Capacity, Configuration, DiscInformation, InquiryData, SessionInfo, Toc,
    TrackInformation, WriteParameters, WriteSpeeds,
};

fuzz_target!(|data: &[u8]| {
    let Some((&which, reply)) = data.split_first() else {
        return;
    };
    match which % 12 {
        0 => drop(format!("{:?}", InquiryData::decode(reply))),
        1 => drop(format!("{:?}", Capacity::decode(reply))),
        2 => drop(format!("{:?}", BufferCapacity::decode(reply))),
        3 => drop(format!("{:?}", DiscInformation::decode(reply))),
        4 => drop(format!("{:?}", TrackInformation::decode(reply))),
        5 => drop(format!("{:?}", Toc::decode(reply))),
        6 => drop(format!("{:?}", SessionInfo::decode(reply))),
        7 => {
            if let Ok(c) = Configuration::decode(reply) {
                let _ = c.can_test_write();
            }
        }
        8 => {
            if let Ok(w) = WriteSpeeds::decode(reply) {
                for s in &w.0 {
                    for profile in [0x09, 0x1B, 0x41] {
                        let _ = s.sectors_per_second(profile);
                    }
                }
            }
        }
        9 => drop(format!("{:?}", FormatCapacities::decode(reply))),
        10 => drop(format!("{:?}", FormatRequest::decode(reply))),
        _ => drop(format!("{:?}", WriteParameters::decode(reply))),
    }
});
