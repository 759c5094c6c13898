//! Protocol v1 text messages: any bytes a client sends as a text message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webburn_shared::protocol::ClientMessage;

fuzz_target!(|data: &[u8]| {
    // The session reads JSON values first (to name unknown types), then messages.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = serde_json::from_str::<serde_json::Value>(text);
        if let Ok(msg) = serde_json::from_str::<ClientMessage>(text) {
            // What decodes encodes again and decodes to the same message.
            let again = serde_json::to_string(&msg).expect("a decoded message encodes");
            let back: ClientMessage = serde_json::from_str(&again).expect("and decodes again");
            assert_eq!(back, msg);
        }
    }
});
