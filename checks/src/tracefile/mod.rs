//! Trace files: a counterexample a reviewer can read without running anything, and that
//! `cgcheck replay` re-executes deterministically.
//!
//! ```text
//! cgroup-model trace v2
//! scenario: attach-vs-exit
//! design: fixed
//! faults: attach-no-pin
//! engine: loom, preemption bound 1
//! config: builtin=2 modular_slots=2 buckets=4 hash=sum max_threads=3 lockdep=on task_links=on
//! violation: use-after-free: css_set #1 freed by T2 (exit T1) ...
//! setup: fork T0 T1
//! thread 1: attach T1 m0/a
//! thread 2: exit T1
//! timeline: 412 steps
//!      1  T0 cgroup_init                  lock cgroup_mutex  cgroup.c:3862
//!    ...
//!    412  T1 find_existing_css_set        VIOLATION use-after-free: ...  cgroup.c:497
//! end
//! ```
//!
//! Each step ends with the kernel line it models (`cgroup.c:1727`; `cgroup.c:1025+` for code a
//! design or fault inserts after that line). The timeline is the schedule: the thread column says which thread takes each step. Replay
//! (`replay()`, real threads only) runs the plan and lets each thread take a step only when it
//! is its turn ([`cgmodel::sim::replay::Turnstile`]); the trace is reproduced when the replay
//! takes exactly the same steps (byte for byte) and ends in the same violation. [`condensed`] and
//! [`mermaid`] render a trace for readers.

mod render;
#[cfg(backend_std)]
mod replay;

pub use render::{condensed, mermaid};
#[cfg(backend_std)]
pub use replay::replay;

use std::fmt::Write as _;

use cgmodel::sim::trace::Event;
use cgmodel::{Config, Design, Faults, Step};

use crate::scenario::Plan;

/// The first line of a trace file.
pub const HEADER: &str = "cgroup-model trace v2";

/// A parsed trace file.
#[derive(Clone, Debug)]
pub struct TraceFile {
    /// Scenario name (`generated` for proptest-made ones).
    pub scenario: String,
    /// Design.
    pub design: Design,
    /// Injected faults.
    pub faults: Faults,
    /// How it was found (free text).
    pub engine: String,
    /// The configuration the execution ran with.
    pub config: Config,
    /// The violation: `name: detail`.
    pub violation: String,
    /// The plan.
    pub plan: Plan,
    /// The timeline lines (rendered events, without their numbers).
    pub timeline: Vec<String>,
}

/// A malformed trace file: the line (1-based) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

fn parse_config(s: &str, design: Design, faults: Faults) -> Result<Config, String> {
    let mut c = Config {
        design,
        faults,
        ..Config::default()
    };
    c.apply_settings(s)?;
    Ok(c)
}

/// Writes a trace file.
pub fn write(
    scenario: &str,
    cfg: &Config,
    engine: &str,
    plan: &Plan,
    violation: &str,
    events: &[Event],
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{HEADER}");
    let _ = writeln!(s, "scenario: {scenario}");
    let _ = writeln!(s, "design: {}", cfg.design);
    let _ = writeln!(s, "faults: {}", cfg.faults);
    let _ = writeln!(s, "engine: {engine}");
    let _ = writeln!(s, "config: {}", cfg.settings());
    let _ = writeln!(s, "violation: {}", violation.replace('\n', " "));
    for st in &plan.setup {
        let _ = writeln!(s, "setup: {st}");
    }
    for (i, t) in plan.threads.iter().enumerate() {
        for st in t {
            let _ = writeln!(s, "thread {}: {st}", i + 1);
        }
    }
    let _ = writeln!(s, "timeline: {} steps", events.len());
    for (i, e) in events.iter().enumerate() {
        let _ = writeln!(s, "{:>6}  {}", i + 1, e.render().replace('\n', " "));
    }
    let _ = writeln!(s, "end");
    s
}

/// Parses a trace file.
pub fn parse(text: &str) -> Result<TraceFile, ParseError> {
    let err = |line: usize, reason: String| ParseError { line, reason };
    let lines: Vec<&str> = text.lines().collect();
    match lines.first().map(|l| l.trim()) {
        Some(HEADER) => {}
        Some("cgroup-model trace v1") => {
            return Err(err(
                1,
                "a v1 trace (its steps carry no kernel lines): regenerate it (bash ci/traces.sh)"
                    .into(),
            ))
        }
        _ => {
            return Err(err(
                1,
                format!("not a cgroup-model trace (the first line must be `{HEADER}`)"),
            ))
        }
    }
    let mut fields: Vec<(&str, &str)> = Vec::new();
    let mut setup = Vec::new();
    let mut threads: Vec<Vec<Step>> = Vec::new();
    let mut i = 1;
    let mut declared = None;
    while i < lines.len() {
        let l = lines[i];
        let n = i + 1;
        let (k, v) = l
            .split_once(": ")
            .ok_or_else(|| err(n, format!("expected `key: value`, got `{l}`")))?;
        if k == "timeline" {
            let count = v
                .strip_suffix(" steps")
                .and_then(|c| c.parse::<usize>().ok())
                .ok_or_else(|| err(n, format!("expected `timeline: N steps`, got `{l}`")))?;
            declared = Some((n, count));
            i += 1;
            break;
        }
        let parse_step = |v: &str| v.parse::<Step>().map_err(|e| err(n, e));
        if k == "setup" {
            setup.push(parse_step(v)?);
        } else if let Some(t) = k.strip_prefix("thread ") {
            let t: usize = t
                .parse()
                .map_err(|_| err(n, format!("bad thread number `{t}`")))?;
            if t == 0 || t > threads.len() + 1 {
                return Err(err(
                    n,
                    format!("thread {t} out of order (threads are numbered from 1, in order)"),
                ));
            }
            if t == threads.len() + 1 {
                threads.push(Vec::new());
            }
            threads[t - 1].push(parse_step(v)?);
        } else {
            fields.push((k, v));
        }
        i += 1;
    }
    let (tl_line, count) = declared.ok_or_else(|| {
        err(
            lines.len(),
            "no `timeline:` section (truncated file?)".into(),
        )
    })?;
    let field = |name: &str| -> Result<&str, ParseError> {
        fields
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| err(tl_line, format!("missing header field `{name}`")))
    };
    let design: Design = field("design")?.parse().map_err(|e| err(tl_line, e))?;
    let faults =
        Faults::parse(field("faults")?.trim_start_matches("none")).map_err(|e| err(tl_line, e))?;
    let config = parse_config(field("config")?, design, faults).map_err(|e| err(tl_line, e))?;
    if threads.is_empty() {
        return Err(err(tl_line, "no `thread N:` steps".into()));
    }
    let mut timeline = Vec::with_capacity(count);
    for k in 0..count {
        let n = i + k + 1;
        let l = lines.get(i + k).ok_or_else(|| {
            err(
                n,
                format!("timeline ends after {k} of {count} steps (truncated file?)"),
            )
        })?;
        let (num, rest) = l
            .trim_start()
            .split_once("  ")
            .ok_or_else(|| err(n, format!("expected `N  T<thread> ...`, got `{l}`")))?;
        if num.parse::<usize>().ok() != Some(k + 1) {
            return Err(err(
                n,
                format!("step number `{num}` out of order (expected {})", k + 1),
            ));
        }
        step_key(rest).map_err(|e| err(n, e))?;
        timeline.push(rest.to_string());
    }
    match lines.get(i + count) {
        Some(l) if l.trim() == "end" => {}
        Some(l) => {
            return Err(err(
                i + count + 1,
                format!("expected `end` after {count} steps, got `{l}`"),
            ))
        }
        None => return Err(err(lines.len(), "missing `end` (truncated file?)".into())),
    }
    if lines.len() > i + count + 1 && lines[i + count + 1..].iter().any(|l| !l.trim().is_empty()) {
        return Err(err(i + count + 2, "text after `end`".into()));
    }
    // loom's own reports (a deadlock, a data race) stop the execution outside the model, so those
    // timelines end at the last step taken instead.
    let violation = field("violation")?;
    let loom_report =
        violation.starts_with("deadlock") || violation.starts_with(cgmodel::sim::report::DATA_RACE);
    if !timeline.last().is_some_and(|l| l.contains(" VIOLATION")) && !loom_report {
        return Err(err(
            i + count,
            "the timeline does not end at the violation".into(),
        ));
    }
    Ok(TraceFile {
        scenario: field("scenario")?.to_string(),
        design,
        faults,
        engine: field("engine")?.to_string(),
        config,
        violation: field("violation")?.to_string(),
        plan: Plan {
            name: field("scenario")?.to_string(),
            setup,
            threads,
        },
        timeline,
    })
}

/// The result of a replay.
#[derive(Clone, Debug)]
pub struct Replay {
    /// The same steps, and the same violation.
    pub reproduced: bool,
    /// Why not (or what was reproduced).
    pub reason: String,
    /// The replay's timeline.
    pub timeline: Vec<String>,
}

/// The operations of an atomic step (`<field> <op> <values>`).
const ATOMIC_OPS: [&str; 7] = [
    "load",
    "store",
    "fetch_add",
    "fetch_sub",
    "fetch_or",
    "fetch_and",
    "cmpxchg",
];

/// The atomic operation of a step's text, if it is an atomic access.
pub(crate) fn atomic_op(what: &str) -> Option<&str> {
    what.split(' ').nth(1).filter(|op| ATOMIC_OPS.contains(op))
}

/// A timeline line and its kernel line (`cgroup.c:1727`, `cgroup.c:1025+`), if it has one.
pub fn split_location(line: &str) -> (&str, Option<&str>) {
    match line.rsplit_once("  ") {
        Some((body, loc)) if is_location(loc) => (body, Some(loc)),
        _ => (line, None),
    }
}

/// `file.c:123` or `file.h:123+`.
fn is_location(s: &str) -> bool {
    let Some((file, line)) = s.rsplit_once(':') else {
        return false;
    };
    let line = line.strip_suffix('+').unwrap_or(line);
    !line.is_empty()
        && line.chars().all(|c| c.is_ascii_digit())
        && (file.ends_with(".c") || file.ends_with(".h"))
        && !file.contains(' ')
}

/// The thread and the replay key of a timeline line (`T1 func  what [values]`).
pub fn step_key(line: &str) -> Result<(usize, String), String> {
    let (line, _) = split_location(line);
    let (t, rest) = line
        .split_once(' ')
        .ok_or("expected `T<thread> <function> <step>`")?;
    let tid: usize = t
        .strip_prefix('T')
        .and_then(|x| x.parse().ok())
        .ok_or_else(|| format!("expected a thread like `T1`, got `{t}`"))?;
    let rest = rest.trim_start();
    let (func, what) = rest
        .split_once(' ')
        .ok_or("expected a function and a step")?;
    let what = what.trim_start();
    let words: Vec<&str> = what.split(' ').collect();
    let key_what = match words.first().copied() {
        Some(_) if words.len() >= 2 && ATOMIC_OPS.contains(&words[1]) => {
            format!("{} {}", words[0], words[1])
        }
        Some("kmalloc") if words.len() >= 2 => format!("kmalloc {}", words[1]),
        Some("VIOLATION") => "VIOLATION".to_string(),
        Some(_) => what.to_string(),
        None => return Err("empty step".into()),
    };
    Ok((tid, format!("T{tid} {func:<28} {key_what}")))
}
