//! What a visitor downloads: the page's wasm module and its JavaScript glue,
//! raw and compressed as a web server sends them (gzip level 9, brotli
//! quality 11, by Node's zlib), and how long the page takes from load to
//! `connected` in headless Chromium (tests/examples/page_load.rs), for the
//! page as it ships and as it was built before the size work (release
//! profile, no wasm-opt); written as a section of BENCHMARKS.md.
//! `cargo xtask size` rewrites that section alone.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::www::{self, Build};
use crate::{cargo, tools};

/// Raw, gzip and brotli bytes of one file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Size {
    /// On disk.
    pub raw: u64,
    /// `gzip -9`.
    pub gzip: u64,
    /// brotli, quality 11.
    pub brotli: u64,
}

/// The library's two files.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    /// `pkg/webburn_web_bg.wasm`.
    pub wasm: Size,
    /// `pkg/webburn_web.js`.
    pub js: Size,
}

const COMPRESS: &str = "const z = require('zlib'), f = require('fs');\
for (const p of process.argv.slice(1)) {\
  const b = f.readFileSync(p);\
  const br = z.brotliCompressSync(b, { params: { [z.constants.BROTLI_PARAM_QUALITY]: 11 } });\
  console.log(b.length, z.gzipSync(b, { level: 9 }).length, br.length);\
}";

/// Measures the built page in `page` (target/www).
pub(crate) fn measure(page: &Path) -> Result<Sizes> {
    let files = [
        page.join("pkg/webburn_web_bg.wasm"),
        page.join("pkg/webburn_web.js"),
    ];
    let out = Command::new("node")
        .arg("-e")
        .arg(COMPRESS)
        .args(&files)
        .output()
        .context("node compresses the library's files")?;
    if !out.status.success() {
        bail!("node: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut sizes = text.lines().map(|l| {
        let n: Vec<u64> = l
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        match n[..] {
            [raw, gzip, brotli] => Ok(Size { raw, gzip, brotli }),
            _ => bail!("node printed {l:?}"),
        }
    });
    let mut next = || sizes.next().context("node printed too little")?;
    Ok(Sizes {
        wasm: next()?,
        js: next()?,
    })
}

/// Loads of each build the load figure takes (after one uncounted each).
const LOADS: usize = 9;

/// Milliseconds from navigation start to `connected`, one per fresh load.
#[derive(Debug, Clone, Default)]
pub(crate) struct Load {
    /// The page as it ships.
    pub now: Vec<f64>,
    /// The plain build.
    pub before: Vec<f64>,
}

/// The section's figures.
#[derive(Debug, Clone)]
pub(crate) struct Library {
    /// The page as it ships (target/www).
    pub now: Sizes,
    /// The plain build (target/www-plain).
    pub before: Sizes,
    /// Load to `connected`.
    pub load: Load,
}

/// Builds the plain page beside `page` (as shipped, already built) and
/// measures both: sizes, and load to `connected` in headless Chromium.
pub(crate) fn library(bindgen: &Path, page: &Path) -> Result<Library> {
    tools::chromium()?;
    let plain = www::build_as(bindgen, Build::Plain)?;
    let mut loads = cargo();
    loads
        .args([
            "run",
            "--release",
            "-p",
            "webburn-tests",
            "--example",
            "page_load",
            "--",
        ])
        .arg(&plain)
        .arg(page)
        .arg(LOADS.to_string())
        .env("CHROMEDRIVER", tools::CHROMEDRIVER);
    let out = loads
        .output()
        .context("cargo run --example page_load (page load to connected)")?;
    if !out.status.success() {
        bail!("page_load: {}", String::from_utf8_lossy(&out.stderr));
    }
    let v: Value = serde_json::from_slice(&out.stdout).context("page_load's JSON")?;
    let ms = |k: &str| -> Vec<f64> {
        v[k].as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    Ok(Library {
        now: measure(page)?,
        before: measure(&plain)?,
        load: Load {
            before: ms("a"),
            now: ms("b"),
        },
    })
}

pub(crate) fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => f64::midpoint(v[n / 2 - 1], v[n / 2]),
    }
}

fn range(v: &[f64]) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{lo:.0}–{hi:.0}")
}

fn kb(n: u64) -> String {
    format!("{:.1} KB", n as f64 / 1000.0)
}

/// The section's heading.
pub(crate) const HEADING: &str = "## Library size";

/// The section for `lib`.
pub(crate) fn section(lib: &Library) -> String {
    let mut md = format!(
        "{HEADING}\n\n\
         What a page downloads: the wasm module and its JavaScript glue as `cargo xtask \
         test` builds them (the `wasm` profile: opt-level \"z\", LTO, one codegen unit; \
         then `wasm-opt -Oz` from npm's binaryen, which also drops the names), raw and compressed as a web \
         server sends them (gzip -9, brotli 11). Before: the same source built with the \
         release profile and no wasm-opt, measured in the same run.\n\n\
         | file | raw | gzip | brotli | brotli before |\n|---|---|---|---|---|\n"
    );
    for (name, s, b) in [
        ("webburn_web_bg.wasm", lib.now.wasm, lib.before.wasm),
        ("webburn_web.js", lib.now.js, lib.before.js),
    ] {
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} | {} |",
            kb(s.raw),
            kb(s.gzip),
            kb(s.brotli),
            kb(b.brotli)
        );
    }
    let total = lib.now.wasm.brotli + lib.now.js.brotli;
    let before = lib.before.wasm.brotli + lib.before.js.brotli;
    let _ = writeln!(
        md,
        "\nTogether {} brotli, {} before ({:.0} % less).\n",
        kb(total),
        kb(before),
        100.0 - 100.0 * total as f64 / before as f64
    );
    let (now, was) = (&lib.load.now, &lib.load.before);
    let _ = writeln!(
        md,
        "Page load to `connected` (the page's `webburn:connected` user-timing mark: \
         milliseconds from navigation start), the burning page served by the helper on \
         loopback, each load in a fresh headless Chromium profile, the two builds taking \
         turns, {} loads each (`cargo run --release -p webburn-tests --example page_load -- \
         target/www-plain target/www {LOADS}`): median **{:.0} ms** ({} ms) as built now, \
         {:.0} ms ({} ms) before. On loopback the bytes cost almost nothing; what the \
         smaller module saves is compile and instantiate time, and over a real network \
         its transfer.\n",
        now.len(),
        median(now),
        range(now),
        median(was),
        range(was)
    );
    md
}

/// Replaces the size section of `md` (up to the next `## ` heading), or
/// appends it.
pub(crate) fn splice(md: &str, heading: &str, section: &str) -> String {
    let Some(start) = md.find(heading) else {
        return format!("{md}\n{section}");
    };
    let rest = &md[start + heading.len()..];
    let end = rest
        .find("\n## ")
        .map_or(md.len(), |i| start + heading.len() + i + 1);
    format!("{}{section}{}", &md[..start], &md[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_is_replaced_in_place() {
        let md = "# B\n\n## 1. A\n\nx\n\n## Library size\n\nold\n\n## 2. C\n\ny\n";
        let out = splice(md, HEADING, "## Library size\n\nnew\n\n");
        assert_eq!(
            out,
            "# B\n\n## 1. A\n\nx\n\n## Library size\n\nnew\n\n## 2. C\n\ny\n"
        );
        let appended = splice("# B\n", HEADING, "## Library size\n\nnew\n");
        assert!(appended.ends_with("## Library size\n\nnew\n"));
    }
}
