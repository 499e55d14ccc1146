//! Two things happen at build time:
//!
//! - the backend switch is spelled once: `backend_loom` (`--features loom` or
//!   `RUSTFLAGS="--cfg loom"`), `backend_shuttle` (`--features shuttle`) or `backend_std`
//!   (neither);
//! - the anchor map, `anchors.tsv`, becomes one constant per kernel function
//!   (`$OUT_DIR/kfn.rs`, [`kernel::anchors::kfn`]), so that a model function names the kernel
//!   function it mirrors through its anchor, and an unanchored name does not compile.

use std::fmt::Write as _;

fn main() {
    cfg_aliases::cfg_aliases! {
        backend_loom: { any(loom, feature = "loom") },
        backend_shuttle: { all(feature = "shuttle", not(backend_loom)) },
        backend_std: { not(any(backend_loom, backend_shuttle)) },
    }
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it");
    let map = std::path::Path::new(&dir).join("anchors.tsv");
    println!("cargo::rerun-if-changed={}", map.display());
    let text = std::fs::read_to_string(&map).unwrap_or_else(|e| panic!("{}: {e}", map.display()));
    let mut out = String::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [function, file, start, end, ..] = cols.as_slice() else {
            panic!("anchors.tsv line {}: expected tab-separated columns", n + 1);
        };
        let start: u32 = start
            .parse()
            .unwrap_or_else(|_| panic!("anchors.tsv line {}: bad start line", n + 1));
        let end: u32 = end
            .parse()
            .unwrap_or_else(|_| panic!("anchors.tsv line {}: bad end line", n + 1));
        let _ = writeln!(
            out,
            "/// `{function}` ({file}:{start}-{end}).\npub static {function}: Func = Func {{ name: {function:?}, file: {file:?}, line: {start}, end: {end} }};"
        );
    }
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets it");
    std::fs::write(std::path::Path::new(&out_dir).join("kfn.rs"), out).expect("writes OUT_DIR");
}
