//! The folder tree is the architecture, and these tests keep it so:
//!
//! - `sim/`, the checker runtime, names nothing of the layers it runs (`kernel/`, `variants/`,
//!   `check/`), as loom's `rt/` never names what it checks;
//! - no source file of the model or the checks grows past about 400 lines without saying why at
//!   its top.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.expect("directory entry").path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn src() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))
}

/// The offending lines of `text`: any path into a layer above the machinery.
fn upward_references(text: &str) -> Vec<String> {
    const UPWARD: [&str; 7] = [
        "crate::kernel",
        "crate::variants",
        "crate::check",
        "crate::Kernel",
        "crate::Config",
        "super::super",
        "cgmodel::",
    ];
    text.lines()
        .enumerate()
        .filter(|(_, l)| UPWARD.iter().any(|u| l.contains(u)))
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(n, l)| format!("{}: {}", n + 1, l.trim()))
        .collect()
}

#[test]
fn the_machinery_layer_imports_nothing_of_the_kernel() {
    let files = rust_files(&src().join("sim"));
    assert!(files.len() >= 8, "sim/ has its files: {files:?}");
    let mut bad = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable");
        for l in upward_references(&text) {
            bad.push(format!("{}:{l}", f.display()));
        }
    }
    assert!(
        bad.is_empty(),
        "sim/ must not name kernel/, variants/ or check/:\n{}",
        bad.join("\n")
    );
}

/// The check above can fail: a line that imports the kernel is caught, a comment is not.
#[test]
fn an_upward_import_is_caught() {
    let text = "//! mentions crate::kernel in prose\nuse crate::kernel::Kernel;\n";
    assert_eq!(
        upward_references(text),
        vec!["2: use crate::kernel::Kernel;"]
    );
}

#[test]
fn long_files_say_why_at_their_top() {
    let mut bad = Vec::new();
    let checks = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../checks/src"));
    for f in rust_files(&src()).into_iter().chain(rust_files(&checks)) {
        let text = std::fs::read_to_string(&f).expect("readable");
        let n = text.lines().count();
        let head: String = text
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join(" ");
        if n > 420 && !head.contains("long because") {
            bad.push(format!("{} ({n} lines)", f.display()));
        }
    }
    assert!(
        bad.is_empty(),
        "over 400 lines without a `long because` sentence in the module docs: {bad:?}"
    );
}
