//! The model's own source, read as a reviewer reads it: which kernel function each step line
//! (`cx.at(LINE)`) is in, and which model functions enter each kernel function.
//!
//! A step line belongs to the innermost kernel frame open at it, in the Rust source:
//! - `let g = cx.enter(&kfn::NAME)` opens `NAME` until its block closes or `drop(g)`;
//! - `// frame: NAME` opens `NAME` in a helper that runs inside a caller's frame, until the
//!   helper's block closes;
//! - a `call_rcu(..., &kfn::NAME, closure)` opens `NAME` in the closure (the callback runs in a
//!   frame named after it);
//! - `cx.enter_inserted(..)` opens code a design or fault adds: its steps name no kernel line;
//! - `// mirrors: NAME` says a function with no steps mirrors `NAME`, and opens no frame.
//!
//! [`super::lines::check_lines`] then holds every literal line to the anchor map and the kernel tree: inside the
//! function's range, and on a line of code, not a comment, a blank line, a lone brace or a
//! preprocessor line. [`entries`] gives the model functions that name each kernel function, which
//! the map's model column must list; a function named in a table (the system calls' entries,
//! RCU's functions) is listed with the function that enters it from the table
//! ([`table_enterers`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Unreadable;

/// One Rust source file of the model.
#[derive(Clone, Debug)]
pub struct Source {
    /// Its path, as reports print it (`model/src/kernel/module.rs`).
    pub path: String,
    /// Its module path below the crate (`kernel::module`; `mod.rs` is its directory's).
    pub module: String,
    /// Its text.
    pub text: String,
}

/// Every `.rs` file below `dir` (the model's `src/`), in path order; `shown` is the prefix
/// reports print before each path below `dir`.
pub fn sources(dir: &Path, shown: &str) -> Result<Vec<Source>, Unreadable> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).map_err(|e| Unreadable(format!("{}: {e}", d.display())))?;
        for e in entries {
            let p = e
                .map_err(|e| Unreadable(format!("{}: {e}", d.display())))?
                .path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| Unreadable(format!("{}: {e}", p.display())))?;
                let rel = p
                    .strip_prefix(dir)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .into_owned();
                let module = match rel.trim_end_matches(".rs") {
                    "lib" => String::new(),
                    m => m.trim_end_matches("/mod").replace('/', "::"),
                };
                out.push(Source {
                    path: format!("{shown}{rel}"),
                    module,
                    text,
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// A step line: `cx.at(LINE)` at `path:line` of the model, in kernel function `function` (None:
/// no kernel frame is open there; `Some("+")`: code a design adds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The model file.
    pub path: String,
    /// The line in it.
    pub line: usize,
    /// The kernel function whose frame is open.
    pub function: Option<String>,
    /// The kernel line the step names.
    pub kernel_line: usize,
}

/// A model function naming a kernel function's frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The kernel function.
    pub function: String,
    /// The model function, `module::fn` (`kernel::cgroup::task::cgroup_attach_task`).
    pub model: String,
}

/// The marker a step in code a design adds is attributed to.
pub const INSERTED: &str = "+";

/// A frame a line opens: the depth it lives at and the guard's binding.
type Opened = (usize, Option<String>);

struct Frame {
    function: String,
    /// The brace depth the frame lives at: it closes when the depth falls below it.
    depth: usize,
    binding: Option<String>,
}

/// The line without `//` comments and string and brace-character literals, so that braces in
/// them do not count.
fn code_of(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == '"' {
                        break;
                    }
                }
                out.push_str("\"\"");
            }
            '\'' if matches!(chars.peek(), Some('{' | '}')) => {
                chars.next();
                chars.next();
            }
            '/' if chars.peek() == Some(&'/') => break,
            _ => out.push(c),
        }
    }
    out
}

/// The identifier starting at the beginning of `s`.
fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// Every identifier following `pat` in `s`.
fn idents_after<'a>(s: &'a str, pat: &str) -> Vec<&'a str> {
    s.match_indices(pat)
        .map(|(i, _)| ident(&s[i + pat.len()..]))
        .filter(|n| !n.is_empty())
        .collect()
}

/// The name of the function a line declares, if it does (`pub(crate) fn name<...>(`).
fn declared_fn(code: &str) -> Option<&str> {
    let mut rest = code.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("fn ") {
            let n = ident(r.trim_start());
            return (!n.is_empty()).then_some(n);
        }
        let word = rest.split_whitespace().next()?;
        if word == "pub"
            || word.starts_with("pub(")
            || matches!(word, "const" | "unsafe" | "async" | "extern" | "\"\"")
        {
            rest = rest[word.len()..].trim_start();
        } else {
            return None;
        }
    }
}

/// The literal line numbers of every `.at(...)` call in `code`.
fn at_lines(code: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices(".at(") {
        let args = &code[i + 4..];
        let mut depth = 1;
        let end = args
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(args.len(), |(j, _)| j);
        out.extend(
            args[..end]
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '.')
                .filter_map(|w| w.parse::<usize>().ok()),
        );
    }
    out
}

/// `module::fn` for the innermost function of `fns`.
fn model_name(module: &str, fns: &[(String, usize)]) -> String {
    let f = fns.last().map_or("?", |(n, _)| n.as_str());
    if module.is_empty() {
        f.to_string()
    } else {
        format!("{module}::{f}")
    }
}

/// The steps and frame entries of one source file, and the model functions that enter a frame
/// taken from a table (`cx.enter(entry)`, `cx.enter(self.funcs.read_lock)`).
pub fn scan(src: &Source) -> (Vec<Step>, Vec<Entry>, Vec<String>) {
    let mut steps = Vec::new();
    let mut entries = Vec::new();
    let mut frames: Vec<Frame> = Vec::new();
    let mut fns: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut in_call_rcu = false;
    let mut dynamic = Vec::new();
    for (n, line) in src.text.lines().enumerate() {
        let code = code_of(line);
        if let Some(name) = declared_fn(&code) {
            while fns.last().is_some_and(|(_, d)| *d >= depth) {
                fns.pop();
            }
            fns.push((name.to_string(), depth));
        }
        let model = model_name(&src.module, &fns);
        // The functions this line names, with the frame each opens (None: named in a table, or
        // a `// mirrors:` line).
        let mut opened: Vec<(&str, Option<Opened>)> = Vec::new();
        if let Some(f) = line.split("// frame: ").nth(1) {
            opened.push((ident(f), Some((depth, None))));
        }
        if let Some(f) = line.split("// mirrors: ").nth(1) {
            opened.push((ident(f), None));
        }
        if code.contains(".enter(") && !code.contains(".enter(&kfn::") {
            dynamic.push(model.clone());
        }
        if code.contains("call_rcu(") {
            in_call_rcu = true;
        }
        for f in idents_after(&code, "&kfn::") {
            if in_call_rcu {
                // The callback's closure opens on this line or the next.
                opened.push((f, Some((depth + 1, None))));
                in_call_rcu = false;
            } else if code.contains(&format!(".enter(&kfn::{f})")) {
                let binding = code
                    .split_once("let ")
                    .map(|(_, r)| ident(r).to_string())
                    .filter(|b| !b.is_empty());
                opened.push((f, Some((depth, binding))));
            } else {
                // Named in a table (the syscall entries, RCU's functions) and entered through it.
                opened.push((f, None));
            }
        }
        for (function, frame) in opened {
            entries.push(Entry {
                function: function.to_string(),
                model: model.clone(),
            });
            if let Some((depth, binding)) = frame {
                frames.push(Frame {
                    function: function.to_string(),
                    depth,
                    binding,
                });
            }
        }
        if code.contains(".enter_inserted(") {
            frames.push(Frame {
                function: INSERTED.to_string(),
                depth,
                binding: None,
            });
        }
        for v in idents_after(&code, "drop(") {
            if let Some(i) = frames.iter().rposition(|f| f.binding.as_deref() == Some(v)) {
                frames.remove(i);
            }
        }
        for k in at_lines(&code) {
            steps.push(Step {
                path: src.path.clone(),
                line: n + 1,
                function: frames.last().map(|f| f.function.clone()),
                kernel_line: k,
            });
        }
        for c in code.chars() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    while frames.last().is_some_and(|f| f.depth > depth) {
                        frames.pop();
                    }
                    while fns.last().is_some_and(|(_, d)| *d >= depth) {
                        fns.pop();
                    }
                }
                _ => {}
            }
        }
    }
    (steps, entries, dynamic)
}

/// Every step of `sources`.
pub fn steps(sources: &[Source]) -> Vec<Step> {
    sources.iter().flat_map(|s| scan(s).0).collect()
}

/// The model functions that enter a frame taken from a table rather than named.
pub fn table_enterers(sources: &[Source]) -> BTreeSet<String> {
    sources.iter().flat_map(|s| scan(s).2).collect()
}

/// The model functions naming each kernel function's frame, by kernel function.
pub fn entries(sources: &[Source]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in sources.iter().flat_map(|s| scan(s).1) {
        out.entry(e.function).or_default().insert(e.model);
    }
    out
}
