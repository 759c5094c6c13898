//! Builds the page into target/www: the wasm package (the `wasm` profile,
//! built for size, + wasm-bindgen --target web + wasm-opt -Oz) and the files
//! of www/. The size benchmark also builds it the way it was built before
//! (release profile, no wasm-opt) into target/www-plain, to compare.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::tools::{self, WASM_TARGET};
use crate::{cargo, root, run};

/// How the page's wasm is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Build {
    /// The `wasm` profile and `wasm-opt -Oz`: what ships (target/www).
    ForSize,
    /// The release profile, no wasm-opt: the build before the size work
    /// (target/www-plain), for the benchmark's comparison.
    Plain,
}

impl Build {
    fn profile(self) -> &'static str {
        match self {
            Build::ForSize => "wasm",
            Build::Plain => "release",
        }
    }
}

/// Where the built page goes.
pub(crate) fn dir() -> PathBuf {
    root().join("target").join("www")
}

/// Builds the page as it ships; `bindgen` is the directory holding wasm-bindgen.
pub(crate) fn build(bindgen: &Path) -> Result<PathBuf> {
    build_as(bindgen, Build::ForSize)
}

/// Builds the page `how`.
pub(crate) fn build_as(bindgen: &Path, how: Build) -> Result<PathBuf> {
    let profile = how.profile();
    let mut wasm = cargo();
    wasm.args([
        "build",
        "--profile",
        profile,
        "-p",
        "webburn-web",
        "--target",
        WASM_TARGET,
    ]);
    run(
        wasm,
        &format!("cargo build --profile {profile} -p webburn-web --target wasm32-unknown-unknown"),
    )?;
    let out = match how {
        Build::ForSize => dir(),
        Build::Plain => root().join("target").join("www-plain"),
    };
    let module = root()
        .join("target")
        .join(WASM_TARGET)
        .join(profile)
        .join("webburn_web.wasm");
    let mut bindgen_cmd = Command::new(bindgen.join("wasm-bindgen"));
    bindgen_cmd
        .args(["--target", "web", "--out-dir"])
        .arg(out.join("pkg"))
        .arg(module);
    run(
        bindgen_cmd,
        &format!("wasm-bindgen --target web --out-dir {}/pkg", out.display()),
    )?;
    if how == Build::ForSize {
        optimize(&out.join("pkg/webburn_web_bg.wasm"))?;
    }
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

/// `wasm-opt -Oz` in place.
fn optimize(wasm: &Path) -> Result<()> {
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
    .arg(wasm)
    .arg("-o")
    .arg(wasm);
    run(opt, "wasm-opt -Oz target/www/pkg/webburn_web_bg.wasm")
}

/// Type-checks web/ts/check.ts and the page's JavaScript (www/*.js, `// @ts-check`)
/// against the generated TypeScript declarations, in one tsc run.
pub(crate) fn typecheck(tsc: &Path) -> Result<()> {
    let mut check = Command::new(tsc);
    check.arg("-p").arg(root().join("web/ts/tsconfig.json"));
    run(check, "tsc: the generated TypeScript types, checked")
}
