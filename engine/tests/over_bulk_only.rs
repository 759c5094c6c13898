//! The write engine over USB Bulk-Only, against a simulated stick that runs
//! the emulated recorder, and the `usb:` recorder ids.
#![allow(clippy::unwrap_used)]

use webburn_emulated::usb_stick::SimulatedStick;
use webburn_engine::WriteEngine;
use webburn_engine::devices::Recorder;
use webburn_scsi::transport::usb_bot::BotTransport;
use webburn_shared::HResult;

#[test]
fn the_write_engine_runs_unchanged_over_bulk_only() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("stick.img");
    let device = SimulatedStick::new(&format!(
        "emulated:{},profile=disk,capacity=16MiB",
        img.display()
    ))
    .unwrap();
    let transport = BotTransport::new(device, 0, 65536);
    let recorder = Recorder::from_transport("usb-sim".into(), Box::new(transport));
    let info = recorder.describe().unwrap();
    assert_eq!(
        (info.vendor_id.as_str(), info.current_profile),
        ("WEBBURN", 0x02)
    );
    let engine = WriteEngine::default();
    engine.put_recorder(recorder).unwrap();
    engine.put_bytes_per_sector(2048).unwrap();
    let data: Vec<u8> = (0..3 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    engine
        .write_section(
            &data[..],
            Some(data.len() as u64),
            0,
            (data.len() / 2048) as i32,
            |_| {},
        )
        .unwrap();
    assert_eq!(
        std::fs::read(&img).unwrap()[..data.len()],
        data[..],
        "the image holds the data"
    );
}

#[test]
fn a_device_error_reaches_the_engine_through_request_sense() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("stick.img");
    let device = SimulatedStick::new(&format!(
        "emulated:{},profile=disk,capacity=16MiB,write-error=100",
        img.display()
    ))
    .unwrap();
    let recorder = Recorder::from_transport(
        "usb-sim".into(),
        Box::new(BotTransport::new(device, 0, 65536)),
    );
    let engine = WriteEngine::default();
    engine.put_recorder(recorder).unwrap();
    engine.put_bytes_per_sector(2048).unwrap();
    let data = vec![0x5A; 1 << 20];
    let err = engine
        .write_section(&data[..], Some(data.len() as u64), 0, 512, |_| {})
        .unwrap_err();
    assert_eq!(
        err.hresult,
        HResult::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE,
        "{err}"
    );
    let s = err.sense.unwrap();
    assert_eq!((s.key, s.asc, s.ascq), (3, 0x0C, 0x00));
}

#[test]
fn usb_recorder_ids_are_checked_and_missing_devices_reported() {
    for bad in ["usb:", "usb:1", "usb:x:2", "usb:1:2,steal"] {
        let err = Recorder::open(bad).unwrap_err();
        assert_eq!(err.hresult(), HResult::E_INVALIDARG, "{bad}");
    }
    let err = Recorder::open("usb:255:255,detach").unwrap_err();
    assert_eq!(err.hresult(), HResult::E_DEV_NOT_EXIST, "{err}");
}
