//! The design review's figures, held to the evidence they come from: `cgcheck figures`.
//!
//! A figure in docs/design-review.md that comes from a run or a trace is written between two
//! markers that name where it comes from: `<!--f:KEY-->VALUE<!--/f-->` (invisible once
//! rendered). [`check`] reads each key's value from the committed results (docs/results.md's
//! per-run table, or a fresh `target/cgcheck/results.json`) and traces (traces/*.trace), and
//! reports every figure that differs, with its line and sentence; [`rewrite`] writes the values
//! in. The keys:
//!
//! - `run:SCENARIO:DESIGN:ENGINE:FIELD`: a field of that run (`executions`, `classes`,
//!   `stopped`, `verdict`, `bound`);
//! - `sched:TRACE`: the failing schedule in the trace's `engine:` header line;
//! - `depth:TRACE`: the PCT bug depth in that line;
//! - `step:TRACE:TEXT`: the number of the first timeline step whose line contains `TEXT`
//!   (`TEXT#N`: the N-th);
//! - `steps:TRACE`: the trace's number of steps.
//!
//! `TRACE` is a file name in traces/ without `.trace`. Numbers of four digits or more are
//! written with thousands separators, as the review writes them.

use std::collections::BTreeMap;
use std::path::Path;

/// One run's row of the results: (scenario, design, engine) → field → value.
pub type Runs = BTreeMap<(String, String, String), BTreeMap<String, String>>;

/// Where figures come from.
#[derive(Default)]
pub struct Evidence {
    /// The runs.
    pub runs: Runs,
    /// Each trace's text, by file name without `.trace`.
    pub traces: BTreeMap<String, String>,
}

/// One figure of the review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Figure {
    /// Its line in the review (1-based).
    pub line: usize,
    /// Its key.
    pub key: String,
    /// What the review says.
    pub written: String,
    /// What the evidence says, or why it says nothing.
    pub actual: Result<String, String>,
    /// The line's text, for the report.
    pub context: String,
}

impl Figure {
    /// Whether the review says what the evidence says.
    pub fn agrees(&self) -> bool {
        self.actual.as_deref() == Ok(self.written.as_str())
    }
}

/// The runs of docs/results.md's per-run table (`| scenario | design | engine | verdict |
/// executions | stopped | classes | seconds | bound |`).
pub fn runs_from_markdown(text: &str) -> Runs {
    let mut runs = Runs::new();
    let mut header: Option<Vec<String>> = None;
    for l in text.lines() {
        let cells: Vec<String> = l
            .trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`').to_string())
            .collect();
        if l.starts_with("| scenario | design | engine |") {
            header = Some(cells);
            continue;
        }
        let Some(h) = &header else { continue };
        if !l.starts_with('|') {
            header = None;
            continue;
        }
        if cells.len() != h.len() || cells[0].starts_with("---") {
            continue;
        }
        let fields = h.iter().cloned().zip(cells.iter().cloned()).collect();
        runs.insert(
            (cells[0].clone(), cells[1].clone(), cells[2].clone()),
            fields,
        );
    }
    runs
}

/// The runs of a `results.json` that `cgcheck verify` wrote (its `scenarios` rows).
pub fn runs_from_json(text: &str) -> Result<Runs, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let rows = v["scenarios"]
        .as_array()
        .ok_or("no `scenarios` array in the results")?;
    let mut runs = Runs::new();
    for r in rows {
        let s = |k: &str| match &r[k] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        let mut fields = BTreeMap::new();
        for k in ["verdict", "executions", "stopped", "classes"] {
            let key = if k == "stopped" { "pruned" } else { k };
            fields.insert(k.to_string(), s(key));
        }
        // As results.md shows it (`bound 1`, `pct depth 2`).
        let bound: crate::engine::Bound =
            serde_json::from_value(r["bound"].clone()).map_err(|e| format!("a bound: {e}"))?;
        fields.insert("bound".to_string(), bound.to_string());
        runs.insert((s("name"), s("design"), s("engine")), fields);
    }
    Ok(runs)
}

/// Every trace below `dir`, by file name without `.trace`.
pub fn traces_in(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for e in entries {
        let p = e.map_err(|e| e.to_string())?.path();
        if p.extension().is_some_and(|x| x == "trace") {
            let name = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            out.insert(name, text);
        }
    }
    Ok(out)
}

/// `1234567` as the review writes it: `1,234,567` (four digits or more).
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    if digits.len() < 4 {
        return digits;
    }
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A number as the review writes it, other text as it is.
fn shown(v: &str) -> String {
    v.parse::<u64>().map_or_else(|_| v.to_string(), grouped)
}

/// The value `key` names in `ev`.
pub fn value(key: &str, ev: &Evidence) -> Result<String, String> {
    let trace = |name: &str| {
        ev.traces
            .get(name)
            .ok_or_else(|| format!("no trace traces/{name}.trace"))
    };
    let parts: Vec<&str> = key.splitn(2, ':').collect();
    match parts.as_slice() {
        ["run", rest] => {
            let p: Vec<&str> = rest.split(':').collect();
            let [scenario, design, engine, field] = p.as_slice() else {
                return Err(format!(
                    "`{key}`: expected run:SCENARIO:DESIGN:ENGINE:FIELD"
                ));
            };
            let run = ev
                .runs
                .get(&(scenario.to_string(), design.to_string(), engine.to_string()))
                .ok_or_else(|| format!("no run of {scenario} on {design} with {engine}"))?;
            run.get(*field)
                .map(|v| shown(v))
                .ok_or_else(|| format!("runs have no field `{field}`"))
        }
        ["sched", name] => trace(name)?
            .lines()
            .find_map(|l| l.strip_prefix("engine: "))
            .and_then(|e| e.split("failing schedule ").nth(1))
            .and_then(|r| r.split_whitespace().next())
            .map(shown)
            .ok_or_else(|| format!("traces/{name}.trace names no failing schedule")),
        ["depth", name] => trace(name)?
            .lines()
            .find_map(|l| l.strip_prefix("engine: "))
            .and_then(|e| e.split("depth ").nth(1))
            .and_then(|r| r.split([',', ' ']).next())
            .map(shown)
            .ok_or_else(|| format!("traces/{name}.trace names no PCT depth")),
        ["steps", name] => trace(name)?
            .lines()
            .find_map(|l| l.strip_prefix("timeline: "))
            .and_then(|r| r.split_whitespace().next())
            .map(shown)
            .ok_or_else(|| format!("traces/{name}.trace has no timeline line")),
        ["step", rest] => {
            let (name, text) = rest
                .split_once(':')
                .ok_or_else(|| format!("`{key}`: expected step:TRACE:TEXT"))?;
            // `TEXT#N`: the N-th step that contains TEXT.
            let (text, nth) = match text.rsplit_once('#') {
                Some((t, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                    (t, n.parse::<usize>().unwrap_or(1).max(1))
                }
                _ => (text, 1),
            };
            trace(name)?
                .lines()
                .skip_while(|l| !l.starts_with("timeline: "))
                .filter(|l| l.contains(text))
                .nth(nth - 1)
                .and_then(|l| l.split_whitespace().next())
                .map(shown)
                .ok_or_else(|| format!("no step of traces/{name}.trace contains `{text}`"))
        }
        _ => Err(format!("unknown figure key `{key}`")),
    }
}

const OPEN: &str = "<!--f:";
const CLOSE: &str = "<!--/f-->";

/// Each marked figure of `review` (text of docs/design-review.md), with what `ev` says. A
/// malformed marker is a figure whose value is an error.
pub fn check(review: &str, ev: &Evidence) -> Vec<Figure> {
    let mut out = Vec::new();
    for (n, line) in review.lines().enumerate() {
        let mut rest = line;
        while let Some(i) = rest.find(OPEN) {
            let after = &rest[i + OPEN.len()..];
            let parsed = after.split_once("-->").and_then(|(key, tail)| {
                tail.split_once(CLOSE)
                    .map(|(written, tail)| (key, written, tail))
            });
            let Some((key, written, tail)) = parsed else {
                out.push(Figure {
                    line: n + 1,
                    key: after.chars().take(40).collect(),
                    written: String::new(),
                    actual: Err("a figure marker without its end on the same line".into()),
                    context: line.trim().to_string(),
                });
                break;
            };
            out.push(Figure {
                line: n + 1,
                key: key.to_string(),
                written: written.to_string(),
                actual: value(key, ev),
                context: line.trim().to_string(),
            });
            rest = tail;
        }
    }
    out
}

/// `review` with every marked figure's value written in from `ev` (figures whose key names
/// nothing are left as they are).
pub fn rewrite(review: &str, ev: &Evidence) -> String {
    let mut out = String::with_capacity(review.len());
    let mut rest = review;
    while let Some(i) = rest.find(OPEN) {
        let after = &rest[i + OPEN.len()..];
        let Some((key, tail)) = after.split_once("-->") else {
            break;
        };
        let Some((written, tail)) = tail.split_once(CLOSE) else {
            break;
        };
        out.push_str(&rest[..i]);
        let v = value(key, ev).unwrap_or_else(|_| written.to_string());
        out.push_str(&format!("{OPEN}{key}-->{v}{CLOSE}"));
        rest = tail;
    }
    out.push_str(rest);
    out
}
