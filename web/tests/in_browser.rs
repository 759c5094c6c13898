//! The library in headless Chromium (wasm-bindgen-test, run by `cargo xtask
//! test`): IMAPI's defaults and validation, rejections carrying `hresult`
//! and `name`, the event args' shape, and a helper that is not running.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)] // test code
#![allow(clippy::float_cmp)] // JS numbers holding small integers compare exactly

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use webburn_web::{DiscMaster2, WriteEngine2, WriteEngine2EventArgs};

wasm_bindgen_test_configure!(run_in_browser);

/// (`name`, `hresult`) of a rejection.
fn hresult_of(e: &JsValue) -> (String, u32) {
    assert!(e.is_instance_of::<js_sys::Error>(), "not an Error: {e:?}");
    let name = Reflect::get(e, &"name".into())
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    let hresult = Reflect::get(e, &"hresult".into())
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(-1.0);
    (name, hresult as u32)
}

#[wasm_bindgen_test]
fn the_engine_starts_with_imapis_defaults() {
    let e = WriteEngine2::new().unwrap();
    assert_eq!(e.bytes_per_sector(), -1);
    assert_eq!(e.starting_sectors_per_second(), -1);
    assert_eq!(e.ending_sectors_per_second(), -1);
    assert!(!e.use_streaming_write12());
    assert!(!e.write_in_progress());
    assert!(e.recorder().is_none());
}

#[wasm_bindgen_test]
fn puts_are_validated_with_e_invalidarg() {
    let e = WriteEngine2::new().unwrap();
    for bad in [0, -1, i32::MIN] {
        let err = e.set_bytes_per_sector(bad).unwrap_err();
        assert_eq!(hresult_of(&err), ("E_INVALIDARG".into(), 0x8007_0057));
    }
    assert_eq!(e.bytes_per_sector(), -1, "a refused put changes nothing");
    e.set_bytes_per_sector(2352).unwrap();
    assert_eq!(e.bytes_per_sector(), 2352);
    for bad in [0, -2] {
        assert_eq!(
            hresult_of(&e.set_starting_sectors_per_second(bad).unwrap_err()).0,
            "E_INVALIDARG"
        );
        assert_eq!(
            hresult_of(&e.set_ending_sectors_per_second(bad).unwrap_err()).0,
            "E_INVALIDARG"
        );
    }
    e.set_starting_sectors_per_second(3000).unwrap();
    e.set_ending_sectors_per_second(-1).unwrap();
    assert_eq!(e.starting_sectors_per_second(), 3000);
    e.set_use_streaming_write12(true).unwrap();
    assert!(e.use_streaming_write12());
}

#[wasm_bindgen_test]
async fn write_section_without_a_recorder_rejects_with_recorder_required() {
    let e = WriteEngine2::new().unwrap();
    e.set_bytes_per_sector(2048).unwrap();
    let data: JsValue = Uint8Array::new_with_length(2048).into();
    let err = JsFuture::from(e.write_section(&data, 0, 1))
        .await
        .unwrap_err();
    assert_eq!(
        hresult_of(&err),
        ("E_IMAPI_RECORDER_REQUIRED".into(), 0xC0AA_0003)
    );
    let detail = Reflect::get(&err, &"detail".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(!detail.is_empty());
    assert!(!e.write_in_progress());
    // cancelWrite with nothing running resolves.
    JsFuture::from(e.cancel_write()).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_helper_that_is_not_running_is_told_apart() {
    // Port 9 (discard) on loopback: nothing listens there.
    let m = DiscMaster2::new(Some("http://127.0.0.1:9".into()), Some(false)).unwrap();
    assert_eq!(m.state(), "idle");
    assert!(m.is_supported_environment());
    let err = JsFuture::from(m.connect()).await.unwrap_err();
    assert_eq!(
        hresult_of(&err),
        ("E_CONNECTION_REFUSED".into(), 0x8007_274D)
    );
    assert_eq!(m.state(), "helperNotRunning");
    assert_eq!(m.count(), 0);
    assert_eq!(hresult_of(&m.item(0).unwrap_err()).0, "E_INVALIDARG");
}

#[wasm_bindgen_test]
fn a_helper_address_must_be_http() {
    let err = DiscMaster2::new(Some("ftp://127.0.0.1".into()), None).unwrap_err();
    assert_eq!(hresult_of(&err).0, "E_INVALIDARG");
}

#[wasm_bindgen_test]
fn event_args_carry_the_seven_properties_plus_time_and_rate() {
    let json = r#"{"startLba":100,"sectorCount":50,"lastReadLba":139,"lastWrittenLba":124,
        "totalSystemBuffer":1048576,"usedSystemBuffer":30720,"freeSystemBuffer":1017856,
        "elapsedMs":1500,"currentBytesPerSecond":2000000}"#;
    let args = WriteEngine2EventArgs::from_json(json).unwrap();
    let js: JsValue = args.into();
    let get = |k: &str| Reflect::get(&js, &k.into()).unwrap().as_f64().unwrap();
    assert_eq!(get("startLba"), 100.0);
    assert_eq!(get("sectorCount"), 50.0);
    assert_eq!(get("lastReadLba"), 139.0);
    assert_eq!(get("lastWrittenLba"), 124.0);
    assert_eq!(get("totalSystemBuffer"), 1_048_576.0);
    assert_eq!(get("usedSystemBuffer"), 30720.0);
    assert_eq!(get("freeSystemBuffer"), 1_017_856.0);
    assert_eq!(get("elapsedMs"), 1500.0);
    assert_eq!(get("currentBytesPerSecond"), 2_000_000.0);
    assert!((get("progress") - 0.5).abs() < 1e-9);
    assert_eq!(
        hresult_of(&WriteEngine2EventArgs::from_json("{}").unwrap_err()).0,
        "E_INVALIDARG"
    );
}
