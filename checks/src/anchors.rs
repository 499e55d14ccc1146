//! Holding the model to a kernel tree: `cgcheck anchors --kernel DIR`.
//!
//! The anchor map (`model/anchors.tsv`, [`cgmodel::kernel::anchors::MAP`]) names, for every
//! kernel function the model mirrors, its file, its line range in v2.6.34 and a digest of its
//! text. [`check`] looks each function up again in another tree and says whether it is
//! unchanged, moved (same text, other lines), changed (other text) or missing, so that a kernel
//! developer can point the model at another release and see what drifted. [`write_map`]
//! regenerates the lines and digests from a tree. No kernel source is stored: only names, line
//! numbers and digests. [`steps`] reads the model's step lines (`cx.at(LINE)`) and which model
//! functions enter each kernel function; [`lines`] holds the step lines to the map and the tree.

use std::fmt;
use std::path::Path;

use cgmodel::kernel::anchors::{parse_map, MapRow};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub mod lines;
pub mod steps;

/// What became of one anchored function in the tree checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Status {
    /// Same lines, same text.
    Unchanged,
    /// Same text at other lines.
    Moved,
    /// Found, with other text.
    Changed,
    /// The file or the function is not there.
    Missing,
}

/// One row of the report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Finding {
    /// The kernel function.
    pub function: String,
    /// Its file.
    pub file: String,
    /// Where the map says it is.
    pub expected: (usize, usize),
    /// Where it is in the tree checked (None: missing).
    pub found: Option<(usize, usize)>,
    /// What became of it.
    pub status: Status,
}

/// Why a tree cannot be checked at all.
#[derive(Debug)]
pub struct Unreadable(pub String);

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The digest of a function's text: the first 16 hex digits of the SHA-256 of its lines, joined
/// by `\n`.
pub fn digest(lines: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(lines.join("\n").as_bytes());
    let d = h.finalize();
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether `line` names `name` as a called or defined identifier (`name(`, not `xname(`).
fn names(line: &str, name: &str) -> bool {
    let mut from = 0;
    while let Some(i) = line[from..].find(name) {
        let at = from + i;
        let before = line[..at].chars().next_back();
        let after = line[at + name.len()..].trim_start();
        if before.is_none_or(|c| !is_ident(c)) && after.starts_with('(') {
            return true;
        }
        from = at + name.len();
    }
    false
}

/// The lines (1-based, inclusive) of the definition of `name` in C source `src`: the first
/// definition at column 0 (`type name(...) {`, or `name(...)` under a type on the line above, or
/// `SYSCALL_DEFINEn(name, ...)`) whose body follows; its end is the matching `}`. A function
/// that a macro defines (blk-cgroup.c's `SHOW_FUNCTION_PER_GROUP(time)` defines
/// `blkiocg_time_read`) is anchored by the macro: `#define name(...)` to its last continued line.
pub fn locate(src: &str, name: &str) -> Option<(usize, usize)> {
    let lines: Vec<&str> = src.lines().collect();
    let syscall = name.strip_prefix("sys_");
    for (i, l) in lines.iter().enumerate() {
        if l.strip_prefix("#define ").is_some_and(|d| {
            d.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('('))
        }) {
            let end = (i..lines.len()).find(|&j| !lines[j].trim_end().ends_with('\\'))?;
            return Some((i + 1, end + 1));
        }
        let first = l.chars().next();
        if first.is_none_or(|c| c.is_whitespace() || matches!(c, '#' | '*' | '/' | '}' | '{')) {
            continue;
        }
        let hit = names(l, name)
            || syscall.is_some_and(|s| {
                l.starts_with("SYSCALL_DEFINE")
                    && l.split_once('(').is_some_and(|(_, rest)| {
                        rest.split([',', ')']).next().map(str::trim) == Some(s)
                    })
            });
        if !hit {
            continue;
        }
        // A definition: the first `{` comes before any `;`.
        let mut open = None;
        'scan: for (j, m) in lines.iter().enumerate().skip(i) {
            for c in m.chars() {
                match c {
                    ';' => break 'scan,
                    '{' => {
                        open = Some(j);
                        break 'scan;
                    }
                    _ => {}
                }
            }
        }
        let Some(open) = open else { continue };
        let mut depth = 0i32;
        let mut end = None;
        'body: for (j, m) in lines.iter().enumerate().skip(open) {
            let code = strip_literals(m);
            for c in code.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(j);
                            break 'body;
                        }
                    }
                    _ => {}
                }
            }
        }
        let end = end?;
        // `name(...)` at column 0 has its type on the line above.
        let start = if l.starts_with(name) && i > 0 && !lines[i - 1].trim().is_empty() {
            i - 1
        } else {
            i
        };
        return Some((start + 1, end + 1));
    }
    None
}

/// The line without its string and character literals and `//`/one-line `/* */` comments, so
/// that braces inside them do not count.
fn strip_literals(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == c {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => break,
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for d in chars.by_ref() {
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn read_tree_file(tree: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(tree.join(file)).ok()
}

fn tree_ok(tree: &Path) -> Result<(), Unreadable> {
    match std::fs::read_dir(tree) {
        Ok(_) => Ok(()),
        Err(e) => Err(Unreadable(format!("{}: {e}", tree.display()))),
    }
}

/// Checks every row of `map` against the tree at `tree`.
pub fn check(map: &[MapRow], tree: &Path) -> Result<Vec<Finding>, Unreadable> {
    tree_ok(tree)?;
    Ok(map
        .iter()
        .map(|row| {
            let expected = (row.start, row.end);
            let src = read_tree_file(tree, &row.file);
            let found = src.as_deref().and_then(|s| locate(s, &row.function));
            let status = match (&src, found) {
                (Some(s), Some((a, b))) => {
                    let lines: Vec<&str> = s.lines().collect();
                    let same_text = digest(&lines[a - 1..b]) == row.digest;
                    match (same_text, (a, b) == expected) {
                        (true, true) => Status::Unchanged,
                        (true, false) => Status::Moved,
                        (false, _) => Status::Changed,
                    }
                }
                _ => Status::Missing,
            };
            Finding {
                function: row.function.clone(),
                file: row.file.clone(),
                expected,
                found,
                status,
            }
        })
        .collect())
}

/// The map with every row's lines and digest taken from `tree` (for `--write`), comments and
/// order kept; a function the tree does not have is an error.
pub fn write_map(text: &str, tree: &Path) -> Result<String, String> {
    tree_ok(tree).map_err(|e| e.0)?;
    let mut out = String::new();
    for l in text.lines() {
        if l.starts_with('#') || l.trim().is_empty() {
            out.push_str(l);
            out.push('\n');
            continue;
        }
        let row = parse_map(l)?.into_iter().next().ok_or("a row")?;
        let src = read_tree_file(tree, &row.file)
            .ok_or_else(|| format!("{}: cannot read {}", tree.display(), row.file))?;
        let (a, b) = locate(&src, &row.function)
            .ok_or_else(|| format!("{}: no definition of {}", row.file, row.function))?;
        let lines: Vec<&str> = src.lines().collect();
        out.push_str(&format!(
            "{}\t{}\t{a}\t{b}\t{}\t{}\n",
            row.function,
            row.file,
            digest(&lines[a - 1..b]),
            row.model
        ));
    }
    Ok(out)
}

/// The map as the Markdown table docs/model.md carries between `<!-- anchors -->` and
/// `<!-- /anchors -->`: one row per kernel function, by file, with its line range and the model
/// functions that mirror it (`cgcheck anchors --markdown` prints it).
pub fn markdown(map: &[MapRow]) -> String {
    let mut rows: Vec<&MapRow> = map.iter().collect();
    rows.sort_by(|a, b| (&a.file, a.start).cmp(&(&b.file, b.start)));
    let mut out = String::from("| kernel function | v2.6.34 lines | model |\n|---|---|---|\n");
    for r in rows {
        let model: Vec<String> = r
            .model
            .split(',')
            .map(|m| format!("`{}`", m.trim_start_matches("kernel::")))
            .collect();
        out.push_str(&format!(
            "| `{}` | {}:{}-{} | {} |\n",
            r.function,
            r.file,
            r.start,
            r.end,
            model.join(", ")
        ));
    }
    out
}
