//! Installs what the checks and the page need, each only when missing: the
//! wasm32 target, wasm-bindgen-cli (the version in Cargo.lock, into
//! target/tools), Chromium and ChromeDriver, Firefox ESR and WebKitGTK's
//! WebDriver (Debian packages), geckodriver (crates.io), TypeScript
//! (npm, into target/tools/npm), the Windows cross toolchain (mingw-w64,
//! Wine, NSIS).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, root, run};

/// The Rust target of the web crate.
pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Chromium and its WebDriver, from Debian.
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
/// ChromeDriver.
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Firefox ESR, from Debian.
const FIREFOX: &str = "/usr/bin/firefox-esr";
/// WebKitGTK's WebDriver, from Debian.
const WEBKIT_DRIVER: &str = "/usr/bin/WebKitWebDriver";

/// Project-local tools live here.
pub(crate) fn dir() -> PathBuf {
    root().join("target").join("tools")
}

/// `rustup target add wasm32-unknown-unknown` when missing.
pub(crate) fn wasm_target() -> Result<()> {
    rust_target(WASM_TARGET)
}

/// `rustup target add TARGET` when missing.
pub(crate) fn rust_target(target: &str) -> Result<()> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .with_context(|| format!("rustup is needed to install the {target} target"))?;
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == target)
    {
        return Ok(());
    }
    let mut add = Command::new("rustup");
    add.args(["target", "add", target]);
    run(add, &format!("rustup target add {target}"))
}

/// The wasm-bindgen version Cargo.lock pins.
fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == r#"name = "wasm-bindgen""#
            && let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
        {
            return Ok(v.trim_matches('"').to_owned());
        }
    }
    bail!("Cargo.lock has no wasm-bindgen")
}

fn version_of(tool: &Path) -> Option<String> {
    let out = Command::new(tool).arg("--version").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .map(str::to_owned)
}

/// wasm-bindgen-cli matching Cargo.lock, in target/tools/bin; returns that dir.
pub(crate) fn wasm_bindgen() -> Result<PathBuf> {
    let version = locked_wasm_bindgen()?;
    let bin = dir().join("bin");
    if version_of(&bin.join("wasm-bindgen")).as_deref() == Some(version.as_str())
        && bin.join("wasm-bindgen-test-runner").exists()
    {
        return Ok(bin);
    }
    // `--locked` fails with the registry here (a locked dependency is missing).
    let mut install = cargo();
    install
        .args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &version,
            "--root",
        ])
        .arg(dir());
    run(
        install,
        &format!("cargo install wasm-bindgen-cli {version} (a few minutes, once)"),
    )?;
    Ok(bin)
}

/// The cargo-fuzz version the fuzz targets are built with.
const CARGO_FUZZ: &str = "0.13.2";

/// A `cargo +nightly` command (through rustup's proxy, which honours `+`).
pub(crate) fn nightly_cargo() -> Command {
    let mut c = Command::new("cargo");
    c.arg("+nightly")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO");
    c
}

/// The nightly toolchain (cargo-fuzz needs it for the sanitizer and
/// coverage flags) and cargo-fuzz in target/tools/bin; returns that dir.
pub(crate) fn cargo_fuzz() -> Result<PathBuf> {
    let has_nightly = nightly_cargo()
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_nightly {
        let mut add = Command::new("rustup");
        add.args(["toolchain", "install", "nightly", "--profile", "minimal"]);
        run(add, "rustup toolchain install nightly (for cargo-fuzz)")?;
    }
    cargo_install("cargo-fuzz", "cargo-fuzz", CARGO_FUZZ)
}

/// `cargo install CRATE --locked --version VERSION` into target/tools
/// unless `binary` there already says that version; returns target/tools/bin.
fn cargo_install(krate: &str, binary: &str, version: &str) -> Result<PathBuf> {
    let bin = dir().join("bin");
    if version_of(&bin.join(binary)).as_deref() == Some(version) {
        return Ok(bin);
    }
    let mut install = cargo();
    install
        .args(["install", krate, "--locked", "--version", version, "--root"])
        .arg(dir());
    run(install, &format!("cargo install {krate} {version} (once)"))?;
    Ok(bin)
}

/// The cargo-deny version the supply-chain check runs with.
const CARGO_DENY: &str = "0.20.2";

/// cargo-deny in target/tools/bin; returns that dir.
pub(crate) fn cargo_deny() -> Result<PathBuf> {
    cargo_install("cargo-deny", "cargo-deny", CARGO_DENY)
}

/// The cargo-deb version the package is built with.
const CARGO_DEB: &str = "3.8.0";

/// cargo-deb in target/tools/bin; returns that dir.
pub(crate) fn cargo_deb() -> Result<PathBuf> {
    cargo_install("cargo-deb", "cargo-deb", CARGO_DEB)
}

/// Chromium and ChromeDriver from Debian's packages, and NSS's certutil
/// (the hosted-site tests make a browser trust their test authority).
pub(crate) fn chromium() -> Result<()> {
    apt_install(
        &[CHROMIUM, CHROMEDRIVER, "/usr/bin/certutil"],
        None,
        &["chromium", "chromium-driver", "libnss3-tools"],
    )
}

/// The geckodriver version Firefox is driven with.
const GECKODRIVER: &str = "0.37.1";

/// The other engines the page is tested in: Firefox ESR (Debian) with
/// geckodriver (crates.io, into target/tools/bin) and WebKitGTK's
/// MiniBrowser with WebKitWebDriver (Debian's webkit2gtk-driver; Xvfb, from
/// [`desktop`], gives it a display). Returns geckodriver's path.
pub(crate) fn other_browsers() -> Result<PathBuf> {
    apt_install(
        &[FIREFOX, WEBKIT_DRIVER],
        None,
        &["firefox-esr", "webkit2gtk-driver", "xvfb"],
    )?;
    Ok(cargo_install("geckodriver", "geckodriver", GECKODRIVER)?.join("geckodriver"))
}

/// Readers of disc images that check what webburn-fsimage writes: xorriso,
/// 7-Zip, bsdtar (libarchive), isoinfo (genisoimage) and udfinfo (udftools).
pub(crate) fn image_readers() -> Result<()> {
    apt_install(
        &[
            "/usr/bin/xorriso",
            "/usr/bin/7z",
            "/usr/bin/bsdtar",
            "/usr/bin/isoinfo",
            "/usr/bin/udfinfo",
        ],
        None,
        &[
            "xorriso",
            "p7zip-full",
            "libarchive-tools",
            "genisoimage",
            "udftools",
        ],
    )
}

/// The compressors the image tests pack their images with: xz, zstd,
/// bzip2, gzip and zip (the tools people make downloads with).
pub(crate) fn compressors() -> Result<()> {
    apt_install(
        &[
            "/usr/bin/xz",
            "/usr/bin/zstd",
            "/usr/bin/bzip2",
            "/usr/bin/gzip",
            "/usr/bin/zip",
        ],
        None,
        &["xz-utils", "zstd", "bzip2", "gzip", "zip"],
    )
}

/// A desktop for the tray test: Xvfb, xfce4-panel (its status tray hosts
/// StatusNotifierItems), xdotool and a D-Bus session bus.
pub(crate) fn desktop() -> Result<()> {
    apt_install(
        &[
            "/usr/bin/Xvfb",
            "/usr/bin/xfce4-panel",
            "/usr/bin/xdotool",
            "/usr/bin/dbus-daemon",
        ],
        None,
        &["xvfb", "xfce4-panel", "xdotool", "dbus-daemon", "dbus-bin"],
    )
}

/// The Windows cross toolchain and what runs its output here: mingw-w64
/// (the linker), Wine (runs the tests) and NSIS (builds the installer),
/// from Debian's packages.
pub(crate) fn windows_packages() -> Result<()> {
    apt_install(
        &[
            "/usr/bin/x86_64-w64-mingw32-gcc",
            "/usr/lib/wine/wine64",
            "/usr/bin/makensis",
        ],
        None,
        &["gcc-mingw-w64-x86-64", "wine64", "nsis"],
    )
}

/// Installs `packages` (from `release`, if given) with apt-get unless every
/// file in `present` exists already. Needs root.
fn apt_install(present: &[&str], release: Option<&str>, packages: &[&str]) -> Result<()> {
    if present.iter().all(|p| Path::new(p).exists()) {
        return Ok(());
    }
    if release.is_some() {
        backports_source()?;
    }
    let mut update = Command::new("apt-get");
    update.arg("update");
    run(update, "apt-get update (installing packages needs root)")?;
    let mut install = Command::new("apt-get");
    install
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["install", "-y"]);
    if let Some(r) = release {
        install.args(["-t", r]);
    }
    install.args(packages);
    run(install, &format!("apt-get install {}", packages.join(" ")))
}

/// The TypeScript compiler, from npm into target/tools/npm.
pub(crate) fn typescript() -> Result<PathBuf> {
    npm_tool("typescript@5", "tsc")
}

/// binaryen's wasm-opt, from npm into target/tools/npm (Debian's older
/// binaryen breaks wasm-bindgen's output; npm's current one does not).
pub(crate) fn wasm_opt() -> Result<PathBuf> {
    npm_tool("binaryen@132", "wasm-opt")
}

/// The program `bin` of npm package `spec`, installed into
/// target/tools/npm when missing.
fn npm_tool(spec: &str, bin: &str) -> Result<PathBuf> {
    let prefix = dir().join("npm");
    let program = prefix.join("node_modules/.bin").join(bin);
    if program.exists() {
        return Ok(program);
    }
    std::fs::create_dir_all(&prefix)?;
    let mut install = Command::new("npm");
    install
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&prefix)
        .arg(spec);
    run(
        install,
        &format!("npm install {spec} (into target/tools/npm)"),
    )?;
    Ok(program)
}

/// QEMU (from bookworm-backports: bookworm's own would replace the machine's
/// newer qemu-utils), busybox-static for the guest and tgt for the optical
/// writer, from Debian's packages.
pub(crate) fn vm_packages() -> Result<()> {
    apt_install(
        &[
            "/usr/bin/qemu-system-x86_64",
            "/bin/busybox",
            "/usr/sbin/tgtd",
        ],
        Some("bookworm-backports"),
        &[
            "qemu-system-x86",
            "qemu-block-extra",
            "busybox-static",
            "tgt",
        ],
    )
}

/// The peers the benchmark compares with: xorriso, and sg3-utils (sg_dd) for
/// the guest.
pub(crate) fn bench_packages() -> Result<()> {
    vm_packages()?;
    apt_install(
        &["/usr/bin/xorriso", "/usr/bin/sg_dd"],
        None,
        &["xorriso", "sg3-utils"],
    )
}

/// Adds bookworm-backports to apt's sources if it is missing, on the same
/// mirror as the machine's bookworm entry (the only release besides the
/// default that `apt_install` is asked for).
fn backports_source() -> Result<()> {
    const LIST: &str = "/etc/apt/sources.list.d/webburn-backports.sources";
    let policy = Command::new("apt-cache").arg("policy").output()?;
    if String::from_utf8_lossy(&policy.stdout).contains("bookworm-backports")
        || Path::new(LIST).exists()
    {
        return Ok(());
    }
    let mirror = [
        "/etc/apt/sources.list.d/debian.sources",
        "/etc/apt/sources.list",
    ]
    .iter()
    .filter_map(|p| std::fs::read_to_string(p).ok())
    .find_map(|text| first_mirror(&text))
    .context("no Debian mirror found in apt's sources to add bookworm-backports from")?;
    let entry = format!(
        "Types: deb\nURIs: {mirror}\nSuites: bookworm-backports\nComponents: main\n\
         Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    );
    eprintln!("xtask: adding bookworm-backports ({mirror}) to {LIST}");
    std::fs::write(LIST, entry).with_context(|| format!("writing {LIST} (needs root)"))?;
    Ok(())
}

/// The mirror of the first `bookworm` entry of a sources file (deb822 or one-line).
fn first_mirror(text: &str) -> Option<String> {
    let deb822 = text.split("\n\n").find_map(|stanza| {
        let field = |name: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(name).map(str::trim))
        };
        let suites = field("Suites:")?;
        suites
            .split_whitespace()
            .any(|s| s == "bookworm")
            .then(|| field("URIs:"))
            .flatten()
            .and_then(|u| u.split_whitespace().next())
            .map(str::to_owned)
    });
    deb822.or_else(|| {
        text.lines().find_map(|l| {
            let mut words = l.split_whitespace().filter(|w| !w.starts_with('['));
            (words.next()? == "deb").then_some(())?;
            let uri = words.next()?;
            (words.next()? == "bookworm").then(|| uri.to_owned())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::first_mirror;

    #[test]
    fn finds_the_bookworm_mirror_in_both_formats() {
        let deb822 = "Types: deb\nURIs: http://mirror.test/debian\nSuites: bookworm bookworm-updates\n\
                      Components: main\n\nTypes: deb\nURIs: http://sec.test/x\nSuites: bookworm-security\n";
        assert_eq!(
            first_mirror(deb822).as_deref(),
            Some("http://mirror.test/debian")
        );
        let one_line = "# comment\ndeb [arch=amd64] http://m.test/debian bookworm main\n";
        assert_eq!(
            first_mirror(one_line).as_deref(),
            Some("http://m.test/debian")
        );
        assert_eq!(first_mirror("deb http://m.test/debian trixie main\n"), None);
    }
}
