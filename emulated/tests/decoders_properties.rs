//! Property tests of everything that reads bytes from outside: arbitrary input
//! never panics, and what the encoders write decodes back to itself. (The
//! fuzzing battery proper is the reliability issue's; these run in every test.)

#![allow(clippy::unwrap_used)] // test code

use std::time::Duration;

use proptest::prelude::*;
use webburn_emulated::{EmulatedRecorder, EmulatedSpec, Medium};
use webburn_scsi::Cdb;
use webburn_scsi::sense::Sense;
use webburn_scsi::transport::usb_bot::wrapper::{Cbw, Csw};
use webburn_scsi::transport::{DataDirection, ScsiCommand, ScsiTransport};
use webburn_shared::DataFrameHeader;
use webburn_shared::protocol::ClientMessage;

proptest! {
    #[test]
    fn cdb_decoding_never_panics_and_re_encodes_stably(bytes in proptest::collection::vec(any::<u8>(), 0..24)) {
        if let Ok(cdb) = Cdb::decode(&bytes) {
            let again = cdb.encode();
            prop_assert_eq!(Cdb::decode(again.as_slice()), Ok(cdb));
        }
    }

    #[test]
    fn sense_parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = Sense::parse(&bytes);
    }

    #[test]
    fn cbw_and_csw_decoding_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        let _ = Cbw::decode(&bytes);
        let _ = Csw::decode(&bytes);
    }

    #[test]
    fn cbw_round_trips(tag in any::<u32>(), data_len in any::<u32>(), data_in in any::<bool>(),
                       lun in 0u8..16, cdb in proptest::collection::vec(any::<u8>(), 1..=16)) {
        let cbw = Cbw { tag, data_len, data_in, lun, cdb };
        let bytes = cbw.encode().unwrap();
        prop_assert_eq!(Cbw::decode(&bytes), Some(cbw));
    }

    #[test]
    fn frame_headers_never_panic_and_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..40),
                                                 write_id in any::<u32>(), offset in any::<u64>()) {
        let _ = DataFrameHeader::decode(&bytes);
        let header = DataFrameHeader { write_id, offset };
        let encoded = header.encode();
        let (back, rest) = DataFrameHeader::decode(&encoded).unwrap();
        prop_assert_eq!(back, header);
        prop_assert!(rest.is_empty());
    }

    #[test]
    fn client_messages_from_arbitrary_text_never_panic(text in ".{0,200}") {
        let _ = serde_json::from_str::<ClientMessage>(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The emulated recorder answers any CDB with any data stage: a status
    /// and sense, or a transport error, never a panic.
    #[test]
    fn the_emulated_recorder_answers_any_cdb(
        cdb in proptest::collection::vec(any::<u8>(), 6..=16),
        direction in 0u8..3,
        len in 0usize..70_000,
        medium in prop_oneof![Just(Medium::DvdPlusR), Just(Medium::DvdMinusR), Just(Medium::CdR), Just(Medium::BdR), Just(Medium::RemovableDisk)],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut spec = EmulatedSpec::new(dir.path().join("r.img"), medium);
        spec.capacity = 4096;
        let mut r = EmulatedRecorder::open(spec).unwrap();
        let mut buf = vec![0x5Au8; len];
        let data = match direction {
            0 => DataDirection::None,
            1 => DataDirection::ToDevice(&buf[..]),
            _ => DataDirection::FromDevice(&mut buf[..]),
        };
        let _ = r.execute(ScsiCommand { cdb: &cdb, data, timeout: Duration::from_millis(200) });
    }
}
