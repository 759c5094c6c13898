//! Sense data (fixed and descriptor format) as a device returns it, and
//! what the write loop makes of it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webburn_scsi::sense::{self, Sense};

fuzz_target!(|data: &[u8]| {
    if let Some(s) = Sense::parse(data) {
        let _ = sense::classify(&s, true);
        let _ = sense::classify(&s, false);
        let _ = sense::hresult_for(&s, true);
        let _ = s.to_string();
        let fixed = s.to_fixed_bytes();
        assert_eq!(Sense::parse(&fixed).map(|b| (b.key, b.asc, b.ascq)), Some((s.key, s.asc, s.ascq)));
    }
});
