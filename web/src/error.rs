//! Errors as the page sees them: a JS `Error` whose `name` is the HRESULT's
//! symbolic name and whose `hresult` is its value, plus `detail` and `sense`.

use js_sys::{Error, Object, Reflect};
use wasm_bindgen::JsValue;
use webburn_shared::protocol::SenseInfo;
use webburn_shared::{ErrorCode, HResult};

fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Setting a property on a plain object or an Error cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// An `Error` with `name` (e.g. `E_INVALIDARG`), `hresult` (the unsigned
/// 32-bit value, e.g. 0x80070057), `message` and `detail`.
pub(crate) fn hresult_error(hresult: HResult, detail: &str) -> JsValue {
    let message = if detail.is_empty() {
        hresult.message().to_owned()
    } else {
        format!("{} ({detail})", hresult.message())
    };
    let e = Error::new(&message);
    e.set_name(hresult.name().unwrap_or("UNKNOWN_HRESULT"));
    let v: JsValue = e.into();
    set(&v, "hresult", &JsValue::from(hresult.0));
    set(&v, "detail", &JsValue::from_str(detail));
    v
}

/// The same error carrying the device's sense data as `sense`.
pub(crate) fn with_sense(error: JsValue, sense: Option<SenseInfo>) -> JsValue {
    if let Some(s) = sense {
        let o = Object::new();
        set(&o, "key", &JsValue::from(s.key));
        set(&o, "asc", &JsValue::from(s.asc));
        set(&o, "ascq", &JsValue::from(s.ascq));
        set(
            &o,
            "information",
            &s.information.map_or(JsValue::NULL, JsValue::from),
        );
        set(&error, "sense", &o);
    }
    error
}

/// The same error naming the first bad sector a verify found, as `firstBadLba`.
pub(crate) fn with_bad_lba(error: JsValue, lba: Option<i32>) -> JsValue {
    if let Some(lba) = lba {
        set(&error, "firstBadLba", &JsValue::from(lba));
    }
    error
}

/// The same error carrying the helper's machine-readable reason as `code`
/// (e.g. `notNextWritableAddress`): pages act on it, not on the text.
pub(crate) fn with_code(error: JsValue, code: Option<ErrorCode>) -> JsValue {
    if let Some(code) = code {
        set(&error, "code", &JsValue::from_str(code.as_str()));
    }
    error
}

/// E_INVALIDARG with a detail.
pub(crate) fn invalid(detail: &str) -> JsValue {
    hresult_error(HResult::E_INVALIDARG, detail)
}
