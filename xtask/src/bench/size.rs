//! What a visitor downloads: the page's wasm module and its JavaScript glue,
//! raw and compressed as a web server sends them (gzip level 9, brotli
//! quality 11, by Node's zlib), written as a section of BENCHMARKS.md.
//! `cargo xtask size` rewrites that section alone.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Raw, gzip and brotli bytes of one file.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    /// On disk.
    pub raw: u64,
    /// `gzip -9`.
    pub gzip: u64,
    /// brotli, quality 11.
    pub brotli: u64,
}

/// The library's two files.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
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
pub fn measure(page: &Path) -> Result<Sizes> {
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

/// The build before this section existed (release profile, no wasm-opt),
/// measured the same way on 2026-12-01.
const BEFORE: Sizes = Sizes {
    wasm: Size {
        raw: 866_771,
        gzip: 304_570,
        brotli: 235_247,
    },
    js: Size {
        raw: 80_034,
        gzip: 13_574,
        brotli: 11_723,
    },
};

fn kb(n: u64) -> String {
    format!("{:.1} KB", n as f64 / 1000.0)
}

/// The section's heading.
pub const HEADING: &str = "## Library size";

/// The section for `now`.
pub fn section(now: &Sizes) -> String {
    let mut md = format!(
        "{HEADING}\n\n\
         What a page downloads: the wasm module and its JavaScript glue as `cargo xtask \
         test` builds them (the `wasm` profile: opt-level \"z\", LTO, one codegen unit; \
         then `wasm-opt -Oz` from npm's binaryen, which also drops the names), raw and compressed as a web \
         server sends them (gzip -9, brotli 11). Before: the release profile without \
         wasm-opt.\n\n\
         | file | raw | gzip | brotli | brotli before |\n|---|---|---|---|---|\n"
    );
    for (name, s, b) in [
        ("webburn_web_bg.wasm", now.wasm, BEFORE.wasm),
        ("webburn_web.js", now.js, BEFORE.js),
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
    let total = now.wasm.brotli + now.js.brotli;
    let before = BEFORE.wasm.brotli + BEFORE.js.brotli;
    let _ = writeln!(
        md,
        "\nTogether {} brotli, {} before ({:.0} % less).\n",
        kb(total),
        kb(before),
        100.0 - 100.0 * total as f64 / before as f64
    );
    md
}

/// Replaces the size section of `md` (up to the next `## ` heading), or
/// appends it.
pub fn splice(md: &str, section: &str) -> String {
    let Some(start) = md.find(HEADING) else {
        return format!("{md}\n{section}");
    };
    let rest = &md[start + HEADING.len()..];
    let end = rest
        .find("\n## ")
        .map_or(md.len(), |i| start + HEADING.len() + i + 1);
    format!("{}{section}{}", &md[..start], &md[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_is_replaced_in_place() {
        let md = "# B\n\n## 1. A\n\nx\n\n## Library size\n\nold\n\n## 2. C\n\ny\n";
        let out = splice(md, "## Library size\n\nnew\n\n");
        assert_eq!(
            out,
            "# B\n\n## 1. A\n\nx\n\n## Library size\n\nnew\n\n## 2. C\n\ny\n"
        );
        let appended = splice("# B\n", "## Library size\n\nnew\n");
        assert!(appended.ends_with("## Library size\n\nnew\n"));
    }
}
