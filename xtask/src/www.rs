//! Builds the page into target/www: the wasm package (release build +
//! wasm-bindgen --target web) and the files of www/.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::tools::WASM_TARGET;
use crate::{cargo, root, run};

/// Where the built page goes.
pub fn dir() -> PathBuf {
    root().join("target").join("www")
}

/// Builds the page; `bindgen` is the directory holding wasm-bindgen.
pub fn build(bindgen: &Path) -> Result<PathBuf> {
    let mut wasm = cargo();
    wasm.args([
        "build",
        "--release",
        "-p",
        "webburn-web",
        "--target",
        WASM_TARGET,
    ]);
    run(
        wasm,
        "cargo build --release -p webburn-web --target wasm32-unknown-unknown",
    )?;
    let out = dir();
    let module = root()
        .join("target")
        .join(WASM_TARGET)
        .join("release/webburn_web.wasm");
    let mut bindgen_cmd = Command::new(bindgen.join("wasm-bindgen"));
    bindgen_cmd
        .args(["--target", "web", "--out-dir"])
        .arg(out.join("pkg"))
        .arg(module);
    run(
        bindgen_cmd,
        "wasm-bindgen --target web --out-dir target/www/pkg",
    )?;
    for entry in std::fs::read_dir(root().join("www")).context("reading www/")? {
        let path = entry?.path();
        if path.is_file()
            && let Some(name) = path.file_name()
        {
            std::fs::copy(&path, out.join(name))
                .with_context(|| format!("copying {}", path.display()))?;
        }
    }
    Ok(out)
}

/// Type-checks web/ts/check.ts and the page's JavaScript (www/*.js, `// @ts-check`)
/// against the generated TypeScript declarations, in one tsc run.
pub fn typecheck(tsc: &Path) -> Result<()> {
    let mut check = Command::new(tsc);
    check.arg("-p").arg(root().join("web/ts/tsconfig.json"));
    run(check, "tsc: the generated TypeScript types, checked")
}
