//! Builds the page into target/www: the wasm package (the `wasm` profile,
//! built for size, + wasm-bindgen --target web + wasm-opt -Oz) and the files
//! of www/.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::tools::{self, WASM_TARGET};
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
        "--profile",
        "wasm",
        "-p",
        "webburn-web",
        "--target",
        WASM_TARGET,
    ]);
    run(
        wasm,
        "cargo build --profile wasm -p webburn-web --target wasm32-unknown-unknown (for size)",
    )?;
    let out = dir();
    let module = root()
        .join("target")
        .join(WASM_TARGET)
        .join("wasm/webburn_web.wasm");
    let mut bindgen_cmd = Command::new(bindgen.join("wasm-bindgen"));
    bindgen_cmd
        .args(["--target", "web", "--out-dir"])
        .arg(out.join("pkg"))
        .arg(module);
    run(
        bindgen_cmd,
        "wasm-bindgen --target web --out-dir target/www/pkg",
    )?;
    let wasm = out.join("pkg/webburn_web_bg.wasm");
    let mut opt = Command::new(tools::wasm_opt()?);
    // The features rustc's wasm32 target uses, which every engine the
    // page supports has.
    opt.args([
        "-Oz",
        "--enable-bulk-memory",
        "--enable-nontrapping-float-to-int",
        "--enable-sign-ext",
        "--enable-mutable-globals",
        "--enable-reference-types",
        "--enable-multivalue",
        "--strip-debug",
        "--strip-producers",
    ])
    .arg(&wasm)
    .arg("-o")
    .arg(&wasm);
    run(opt, "wasm-opt -Oz target/www/pkg/webburn_web_bg.wasm")?;
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
