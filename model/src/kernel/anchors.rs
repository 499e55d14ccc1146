//! The anchor map (`model/anchors.tsv`): every kernel function the model mirrors, with its file,
//! its line range in v2.6.34 and a digest of its text. [`kfn`] has one constant per row, which
//! the model's functions enter ([`crate::sim::cx::Cx::enter`]) so that every step of a trace
//! names the kernel function and line it models. `cgcheck anchors --kernel DIR` checks the map
//! against a kernel tree.

/// The map's text, embedded.
pub const MAP: &str = include_str!("../../anchors.tsv");

/// One kernel function per constant, named after it: `kfn::cgroup_attach_task` is
/// `cgroup_attach_task` in kernel/cgroup.c from its first line.
#[allow(non_upper_case_globals)]
pub mod kfn {
    use crate::sim::cx::Func;
    include!(concat!(env!("OUT_DIR"), "/kfn.rs"));
}

/// One row of the map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapRow {
    /// The kernel function.
    pub function: String,
    /// Its file in the kernel tree.
    pub file: String,
    /// Its first line.
    pub start: usize,
    /// Its last line.
    pub end: usize,
    /// The digest of its text.
    pub digest: String,
    /// The model functions that mirror it, comma-separated.
    pub model: String,
}

/// Parses map text: tab-separated rows, `#` comments.
pub fn parse_map(text: &str) -> Result<Vec<MapRow>, String> {
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [function, file, start, end, digest, model] = cols.as_slice() else {
            return Err(format!(
                "anchor map line {}: expected 6 tab-separated columns, got {}",
                n + 1,
                cols.len()
            ));
        };
        let num = |s: &str| {
            s.parse::<usize>()
                .map_err(|_| format!("anchor map line {}: bad line number `{s}`", n + 1))
        };
        rows.push(MapRow {
            function: function.to_string(),
            file: file.to_string(),
            start: num(start)?,
            end: num(end)?,
            digest: digest.to_string(),
            model: model.to_string(),
        });
    }
    Ok(rows)
}

/// The embedded map, parsed.
pub fn map() -> Vec<MapRow> {
    parse_map(MAP).expect("the embedded map parses (build.rs read it)")
}
