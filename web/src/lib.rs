//! webburn's WebAssembly library. For now it exposes the shared IMAPI2
//! vocabulary to JavaScript; the IWriteEngine2 classes arrive with the
//! browser-side work (see the README's roadmap).

use wasm_bindgen::prelude::wasm_bindgen;
use webburn_shared::HResult;

/// The protocol version this library speaks.
#[wasm_bindgen(js_name = protocolVersion)]
pub fn protocol_version() -> u32 {
    webburn_shared::protocol::PROTOCOL_VERSION
}

/// The symbolic name of an HRESULT (e.g. `E_IMAPI_REQUEST_CANCELLED`), if known.
#[wasm_bindgen(js_name = hresultName)]
pub fn hresult_name(value: u32) -> Option<String> {
    HResult(value).name().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_known_codes_only() {
        assert_eq!(
            hresult_name(0xC0AA_0002).as_deref(),
            Some("E_IMAPI_REQUEST_CANCELLED")
        );
        assert_eq!(hresult_name(0x1234_5678), None);
        assert_eq!(protocol_version(), 1);
    }
}
