//! Two things happen at build time:
//!
//! - the backend switch is spelled once, as the cfg aliases `backend_loom`, `backend_shuttle` and
//!   `backend_std` (the model crate's `build.rs` has the same three);
//! - the scenario catalog, `scenarios/*.scn`, is embedded into the crate (`$OUT_DIR/catalog.rs`),
//!   and one `#[test]` per file is generated (`$OUT_DIR/catalog_tests.rs`), so that adding a
//!   scenario is adding a file.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    cfg_aliases::cfg_aliases! {
        backend_loom: { any(loom, feature = "loom") },
        backend_shuttle: { all(feature = "shuttle", not(backend_loom)) },
        backend_std: { not(any(backend_loom, backend_shuttle)) },
    }
    let dir =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("scenarios");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "scn"))
        .collect();
    files.sort();
    let mut catalog = String::from(
        "/// Every catalog scenario: its name (the file stem) and its text, embedded at build time.\n\
         pub const FILES: &[(&str, &str)] = &[\n",
    );
    let mut tests = String::new();
    for f in &files {
        let name = f
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file name");
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        assert!(
            ok,
            "{}: scenario names are lowercase words joined by `-`",
            f.display()
        );
        let _ = writeln!(
            catalog,
            "    ({name:?}, include_str!({:?})),",
            f.display().to_string()
        );
        let _ = writeln!(
            tests,
            "#[test]\nfn {}() {{\n    check({name:?})\n}}\n",
            name.replace('-', "_")
        );
    }
    catalog.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets it")).to_path_buf();
    std::fs::write(out.join("catalog.rs"), catalog).expect("writes OUT_DIR");
    std::fs::write(out.join("catalog_tests.rs"), tests).expect("writes OUT_DIR");
}
