//! Writes the TypeScript union of the protocol's error codes from the Rust
//! enum (`ErrorCode::ALL`), so `WebburnError.code` names exactly the codes
//! this library can report; `src/lib.rs` includes it in the declarations.

use std::path::PathBuf;

fn main() {
    let codes: Vec<String> = webburn_shared::ErrorCode::ALL
        .iter()
        .map(|c| format!("\"{}\"", c.as_str()))
        .collect();
    let ts = format!(
        "\n/** Why a call failed, where the HRESULT alone does not say what to do\n * (PROTOCOL.md section 4.2; \"unknown\": a newer helper's code). */\nexport type ErrorCode =\n  | {};\n",
        codes.join("\n  | ")
    );
    let Some(out) = std::env::var_os("OUT_DIR") else {
        panic!("cargo sets OUT_DIR for build scripts");
    };
    let path = PathBuf::from(out).join("error_code.ts");
    if let Err(e) = std::fs::write(&path, ts) {
        panic!("cannot write {}: {e}", path.display());
    }
    println!("cargo::rerun-if-changed=build.rs");
}
