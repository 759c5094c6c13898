//! The library as an npm package: `target/npm/webburn-web-VERSION.tgz`
//! (the ES module, the .wasm, the TypeScript declarations, a README for page
//! authors), packed by `npm pack`; then checked as a page author would use
//! it: installed into a scratch project with esbuild, the burning page's
//! own scripts bundled against the package (their import of the built
//! module replaced by `webburn-web`), and the bundled page burning a file
//! in headless Chromium (the browser test of the page, pointed at it); and
//! the hosted-site example (examples/hosted-site) built with its own
//! `npm run build` against the tarball, for its https browser test.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, root, run, tools};

/// The package's name on npm.
const NAME: &str = "webburn-web";
/// The bundler of the check.
const ESBUILD: &str = "esbuild@0.25";
/// The files of the built module the package carries.
const MODULE_FILES: [&str; 4] = [
    "webburn_web.js",
    "webburn_web_bg.wasm",
    "webburn_web.d.ts",
    "webburn_web_bg.wasm.d.ts",
];

fn package_json(version: &str) -> String {
    let files: Vec<String> = MODULE_FILES
        .iter()
        .chain(["README.md"].iter())
        .map(|f| format!("\"{f}\""))
        .collect();
    format!(
        r#"{{
  "name": "{NAME}",
  "version": "{version}",
  "description": "Burn files onto discs and USB storage from a web page, with IMAPI2's IWriteEngine2 contract, through the webburn helper",
  "license": "MIT OR Apache-2.0",
  "type": "module",
  "main": "./webburn_web.js",
  "module": "./webburn_web.js",
  "types": "./webburn_web.d.ts",
  "exports": {{
    ".": {{
      "types": "./webburn_web.d.ts",
      "default": "./webburn_web.js"
    }},
    "./webburn_web_bg.wasm": "./webburn_web_bg.wasm",
    "./package.json": "./package.json"
  }},
  "files": [{}],
  "sideEffects": ["./webburn_web.js"],
  "keywords": ["burn", "cd", "dvd", "blu-ray", "imapi2", "usb", "webassembly"]
}}
"#,
        files.join(", ")
    )
}

/// Packs the built page's module (`www`/pkg) into target/npm; returns the tarball.
pub(crate) fn pack(www: &Path) -> Result<PathBuf> {
    let version = env!("CARGO_PKG_VERSION");
    let out = root().join("target/npm");
    let dir = out.join("package");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    for f in MODULE_FILES {
        std::fs::copy(www.join("pkg").join(f), dir.join(f))
            .with_context(|| format!("the built module lacks {f}"))?;
    }
    std::fs::copy(
        root().join("packaging/npm/README.md"),
        dir.join("README.md"),
    )?;
    std::fs::write(dir.join("package.json"), package_json(version))?;
    let mut npm = Command::new("npm");
    npm.current_dir(&dir)
        .args(["pack", "--silent", "--pack-destination"])
        .arg(&out);
    run(npm, "npm pack (target/npm)")?;
    let tgz = out.join(format!("{NAME}-{version}.tgz"));
    if !tgz.is_file() {
        bail!("npm pack made no {}", tgz.display());
    }
    Ok(tgz)
}

/// The page's scripts as a page author writes them against the package.
fn as_package_user(script: &str) -> String {
    script.replace("'./pkg/webburn_web.js'", &format!("'{NAME}'"))
}

/// A TypeScript user of the package type-checks: the `types` of the
/// package are found from its name and describe IMAPI2's members.
fn types_resolve(scratch: &Path) -> Result<()> {
    std::fs::write(
        scratch.join("check.ts"),
        format!(
            "import init, {{ DiscMaster2, WriteEngine2 }} from '{NAME}';\n\
             export async function burn(file: File): Promise<void> {{\n\
             \x20 await init();\n\
             \x20 const master = new DiscMaster2('http://127.0.0.1:47801');\n\
             \x20 await master.connect();\n\
             \x20 const engine = new WriteEngine2();\n\
             \x20 engine.recorder = master.recorder(master.item(0));\n\
             \x20 engine.bytesPerSector = 2048;\n\
             \x20 const busy: boolean = engine.writeInProgress;\n\
             \x20 if (!busy) await engine.writeSection(file, 0, Math.ceil(file.size / 2048));\n\
             }}\n"
        ),
    )?;
    std::fs::write(
        scratch.join("tsconfig.json"),
        r#"{ "compilerOptions": { "strict": true, "noEmit": true, "target": "es2022",
  "module": "es2022", "moduleResolution": "bundler", "lib": ["es2022", "esnext.disposable", "dom"] },
  "files": ["check.ts"] }
"#,
    )?;
    let mut tsc = Command::new(tools::typescript()?);
    tsc.arg("-p").arg(scratch.join("tsconfig.json"));
    run(tsc, "tsc: a TypeScript user of the package type-checks")
}

/// Installs `tgz` and esbuild into a scratch project, bundles the burning
/// page against the package and runs the page's burn test on the bundle.
pub(crate) fn check(tgz: &Path, www: &Path) -> Result<()> {
    let scratch = root().join("target/npm/scratch");
    let _ = std::fs::remove_dir_all(&scratch);
    let src = scratch.join("src");
    let dist = scratch.join("dist");
    std::fs::create_dir_all(&src)?;
    std::fs::create_dir_all(&dist)?;
    std::fs::write(
        scratch.join("package.json"),
        "{ \"name\": \"scratch\", \"private\": true, \"type\": \"module\" }\n",
    )?;
    let mut install = Command::new("npm");
    install
        .current_dir(&scratch)
        .args(["install", "--no-audit", "--no-fund"])
        .arg(tgz)
        .arg(ESBUILD);
    run(
        install,
        "npm install the package and esbuild (target/npm/scratch)",
    )?;
    for entry in std::fs::read_dir(www)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !path.is_file() {
            continue;
        }
        if path.extension().is_some_and(|e| e == "js") {
            std::fs::write(
                src.join(name),
                as_package_user(&std::fs::read_to_string(&path)?),
            )?;
        } else {
            std::fs::copy(&path, dist.join(name))?;
        }
    }
    let mut bundle = Command::new(scratch.join("node_modules/.bin/esbuild"));
    bundle.current_dir(&scratch).args([
        "src/app.js",
        "src/kiosk.js",
        "--bundle",
        "--format=esm",
        "--outdir=dist",
    ]);
    run(bundle, "esbuild: the page bundled against the package")?;
    // esbuild leaves import.meta.url alone: the module's .wasm goes beside the bundle.
    let installed = scratch.join("node_modules").join(NAME);
    std::fs::copy(
        installed.join("webburn_web_bg.wasm"),
        dist.join("webburn_web_bg.wasm"),
    )?;
    types_resolve(&scratch)?;
    let bundled = std::fs::read_to_string(dist.join("app.js"))?;
    if bundled.contains("./pkg/webburn_web.js") || !bundled.contains("WriteEngine2") {
        bail!("the bundle does not carry the package's module");
    }
    browser_test(
        "browser_page",
        &["a_64_mib_file_burns_from_the_page_byte_for_byte::chromium"],
        ("WEBBURN_WWW", &dist),
        "the bundled page burns a 64 MiB file in headless Chromium, compared byte for byte",
    )?;
    eprintln!(
        "xtask: {}: installed, bundled with esbuild, burned through",
        tgz.display()
    );
    Ok(())
}

/// Builds examples/hosted-site as its README says (npm install the tarball
/// and esbuild, `npm run build`) in target/npm/hosted-site, after
/// type-checking its script against the package; returns its
/// `dist`, the site the https browser test serves.
pub(crate) fn hosted_site(tgz: &Path) -> Result<PathBuf> {
    let site = root().join("target/npm/hosted-site");
    let _ = std::fs::remove_dir_all(&site);
    std::fs::create_dir_all(&site)?;
    let example = root().join("examples/hosted-site");
    for entry in std::fs::read_dir(&example).context("reading examples/hosted-site")? {
        let path = entry?.path();
        if path.is_file()
            && let Some(name) = path.file_name()
        {
            std::fs::copy(&path, site.join(name))?;
        }
    }
    let mut install = Command::new("npm");
    install
        .current_dir(&site)
        .args(["install", "--no-audit", "--no-fund"])
        .arg(tgz)
        .arg(ESBUILD);
    run(
        install,
        "npm install the package and esbuild (target/npm/hosted-site)",
    )?;
    let mut tsc = Command::new(tools::typescript()?);
    tsc.arg("-p").arg(site.join("tsconfig.json"));
    run(
        tsc,
        "tsc: the example's site.js against the package's types",
    )?;
    let mut build = Command::new("npm");
    build.current_dir(&site).args(["run", "build"]);
    run(build, "npm run build: the hosted-site example, bundled")?;
    let dist = site.join("dist");
    for f in ["index.html", "site.js", "webburn_web_bg.wasm"] {
        if !dist.join(f).is_file() {
            bail!("the example's build made no dist/{f}");
        }
    }
    Ok(dist)
}

/// Runs the hosted-site example's https tests on the site `hosted_site`
/// built, in Chromium (`cargo xtask test` runs them in every engine).
pub(crate) fn check_hosted(site: &Path) -> Result<()> {
    browser_test(
        "browser_hosted",
        &["chromium"],
        ("WEBBURN_HOSTED_SITE", site),
        "the hosted-site example on https pairs and burns in headless Chromium",
    )
}

/// One browser test target of webburn-tests (only the tests named in
/// `filter`, if any) against a build `built` points at.
fn browser_test(target: &str, filter: &[&str], built: (&str, &Path), what: &str) -> Result<()> {
    let mut test = cargo();
    test.args(["test", "-p", "webburn-tests", "--test", target, "--"])
        .args(filter)
        .env(built.0, built.1)
        .env("WEBBURN_NO_SCREENSHOTS", "1")
        .env("CHROMEDRIVER", tools::CHROMEDRIVER);
    run(test, what)
}
