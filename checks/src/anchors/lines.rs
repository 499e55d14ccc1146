//! Holding the model's step lines to the map and a kernel tree: each `cx.at(LINE)` must lie
//! inside its kernel function's range and, in the tree, on a line of code ([`check_lines`]).

use std::collections::BTreeMap;
use std::path::Path;

use cgmodel::kernel::anchors::MapRow;
use serde::{Deserialize, Serialize};

use super::steps::{Step, INSERTED};
use super::Unreadable;

/// Which lines of C source `src` are code: not blank, not inside or only a comment, not a lone
/// brace (`{`, `}`, `};`) and not a preprocessor line. Index 0 is line 1.
pub fn code_lines(src: &str) -> Vec<bool> {
    let mut out = Vec::new();
    let mut in_comment = false;
    for line in src.lines() {
        let mut code = String::new();
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if in_comment {
                if c == '*' && chars.peek() == Some(&'/') {
                    chars.next();
                    in_comment = false;
                }
                continue;
            }
            match c {
                '/' if chars.peek() == Some(&'*') => {
                    chars.next();
                    in_comment = true;
                }
                '/' if chars.peek() == Some(&'/') => break,
                '"' | '\'' => {
                    code.push(c);
                    while let Some(d) = chars.next() {
                        if d == '\\' {
                            chars.next();
                        } else if d == c {
                            break;
                        }
                    }
                    code.push(c);
                }
                _ => code.push(c),
            }
        }
        let t = code.trim();
        out.push(!(t.is_empty() || matches!(t, "{" | "}" | "};") || t.starts_with('#')));
    }
    out
}

/// What is wrong with a step line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "problem")]
pub enum LineProblem {
    /// No kernel frame is open at the step.
    NoFunction,
    /// The frame's function is not in the map.
    Unmapped,
    /// The line is outside the function's range in the map.
    Outside {
        /// The function's first line.
        start: usize,
        /// Its last line.
        end: usize,
    },
    /// The line is not code in the tree: this is its text.
    NotCode {
        /// The kernel line's text.
        text: String,
    },
    /// The function's file cannot be read in the tree.
    NoFile,
}

/// A step line that is wrong.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LineFinding {
    /// The step.
    pub step: Step,
    /// What is wrong.
    pub problem: LineProblem,
}

impl std::fmt::Display for LineFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.step;
        let func = s.function.as_deref().unwrap_or("-");
        write!(f, "{}:{}: line {} ", s.path, s.line, s.kernel_line)?;
        match &self.problem {
            LineProblem::NoFunction => write!(f, "is in no kernel function's frame"),
            LineProblem::Unmapped => write!(f, "is in {func}, which the map does not have"),
            LineProblem::Outside { start, end } => {
                write!(f, "is outside {func} ({start}-{end})")
            }
            LineProblem::NotCode { text } => {
                write!(f, "of {func} is not a line of code: `{text}`")
            }
            LineProblem::NoFile => write!(f, "of {func}: its file cannot be read"),
        }
    }
}

/// Holds every step line to `map` and, given one, the tree at `tree`: each must lie inside its
/// function's range and, in the tree, on a line of code. Steps in code a design adds name no
/// kernel line and are skipped.
pub fn check_lines(
    steps: &[Step],
    map: &[MapRow],
    tree: Option<&Path>,
) -> Result<Vec<LineFinding>, Unreadable> {
    if let Some(t) = tree {
        super::tree_ok(t)?;
    }
    let rows: BTreeMap<&str, &MapRow> = map.iter().map(|r| (r.function.as_str(), r)).collect();
    // Per file: its lines and which are code (None: unreadable).
    type Text = Option<(Vec<String>, Vec<bool>)>;
    let mut files: BTreeMap<&str, Text> = BTreeMap::new();
    let mut out = Vec::new();
    for s in steps {
        let problem = match s.function.as_deref() {
            Some(INSERTED) => None,
            None => Some(LineProblem::NoFunction),
            Some(f) => match rows.get(f) {
                None => Some(LineProblem::Unmapped),
                Some(r) if !(r.start..=r.end).contains(&s.kernel_line) => {
                    Some(LineProblem::Outside {
                        start: r.start,
                        end: r.end,
                    })
                }
                Some(_) if tree.is_none() => None,
                Some(r) => {
                    let tree = tree.expect("checked above");
                    let file = files.entry(r.file.as_str()).or_insert_with(|| {
                        super::read_tree_file(tree, &r.file).map(|t| {
                            let lines = t.lines().map(str::to_string).collect();
                            (lines, code_lines(&t))
                        })
                    });
                    match file {
                        None => Some(LineProblem::NoFile),
                        Some((lines, code))
                            if !code.get(s.kernel_line - 1).copied().unwrap_or(false) =>
                        {
                            Some(LineProblem::NotCode {
                                text: lines
                                    .get(s.kernel_line - 1)
                                    .map_or("", |l| l.trim())
                                    .to_string(),
                            })
                        }
                        Some(_) => None,
                    }
                }
            },
        };
        if let Some(problem) = problem {
            out.push(LineFinding {
                step: s.clone(),
                problem,
            });
        }
    }
    Ok(out)
}
