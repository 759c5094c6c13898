//! The helper's layers only point down: a module may use the modules of
//! the layers below its own, never one beside or above it (docs/development.md, "The helper's layers").
//! Read from the source: every `crate::NAME` outside test code.
#![allow(clippy::unwrap_used)] // a test reading its own crate's source

use std::path::Path;

/// The helper's top-level modules, lowest layer first.
const LAYERS: &[&[&str]] = &[
    &["account", "cancel", "sense", "units", "autostart"],
    &["transport"],
    &["scsi"],
    &["emulated"],
    &["devices"],
    &["engine", "state"],
    &["disc"],
    &["burn"],
    &["session"],
    &["server"],
    &["tray"],
    &["cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The code of `text` before its first `#[cfg(test)]` (tests may reach
/// across layers to build what they check).
fn non_test(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

/// The top-level modules `text` names as `crate::NAME`.
fn uses(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.push(name);
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn modules_use_only_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut upward = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let stem = rel.iter().next().unwrap().to_string_lossy();
        let module = stem.trim_end_matches(".rs");
        if matches!(module, "lib" | "main" | "bin") {
            continue;
        }
        let name = rel.file_name().unwrap().to_string_lossy();
        if name == "tests.rs" || name.ends_with("_tests.rs") {
            continue;
        }
        let own = layer_of(module)
            .unwrap_or_else(|| panic!("module {module} is in no layer: add it to LAYERS"));
        let text = std::fs::read_to_string(file).unwrap();
        for used in uses(non_test(&text)) {
            if used == module {
                continue;
            }
            let theirs = layer_of(&used).unwrap_or_else(|| {
                panic!("{} uses crate::{used}, which is in no layer", rel.display())
            });
            if theirs >= own {
                upward.push(format!("{} uses crate::{used}", rel.display()));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that do not point down:\n{}",
        upward.join("\n")
    );
}

#[test]
fn every_module_is_in_a_layer() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    for line in lib.lines() {
        if let Some(name) = line
            .strip_prefix("pub mod ")
            .and_then(|l| l.strip_suffix(';'))
        {
            assert!(layer_of(name).is_some(), "module {name} is in no layer");
        }
    }
}

#[test]
fn the_scanner_sees_paths_and_skips_tests() {
    let text =
        "use crate::engine::X;\nfn f() { crate::server::go(); }\n#[cfg(test)]\nuse crate::cli;";
    assert_eq!(uses(non_test(text)), ["engine", "server"]);
}
