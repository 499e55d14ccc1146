//! The summary `verify` prints and the Markdown report it writes (`--docs` copies it to
//! docs/results.md).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::Results;
use crate::Verdict;

/// The short summary: per engine, runs by verdict, executions and seconds; then the totals.
pub fn summary(r: &Results) -> String {
    let mut s = String::from(
        "engine           runs   pass  expected-fail  fail  missed     executions    seconds\n",
    );
    let mut by_engine: BTreeMap<String, Vec<&super::ScenarioRow>> = BTreeMap::new();
    for row in &r.scenarios {
        by_engine
            .entry(row.engine.to_string())
            .or_default()
            .push(row);
    }
    let count =
        |rows: &[&super::ScenarioRow], v: Verdict| rows.iter().filter(|x| x.verdict == v).count();
    for (e, rows) in &by_engine {
        let ex: u64 = rows.iter().map(|x| x.executions).sum();
        let secs: f64 = rows.iter().map(|x| x.seconds).sum();
        let _ = writeln!(
            s,
            "{e:<16} {:>5} {:>6} {:>14} {:>5} {:>7} {ex:>14} {secs:>10.1}",
            rows.len(),
            count(rows, Verdict::Pass),
            count(rows, Verdict::ExpectedFail),
            count(rows, Verdict::Fail),
            count(rows, Verdict::Missed),
        );
    }
    let all: Vec<&super::ScenarioRow> = r.scenarios.iter().collect();
    let detected = r.faults.iter().filter(|f| f.detected).count();
    let reproduced = r.replays.iter().filter(|f| f.reproduced).count();
    let _ = write!(
        s,
        "\nscenario runs: {} pass, {} expected-fail (documented findings), {} fail, {} missed\nfaults detected: {detected} of {}\ntraces reproduced: {reproduced} of {}\nverdict: {}",
        count(&all, Verdict::Pass),
        count(&all, Verdict::ExpectedFail),
        count(&all, Verdict::Fail),
        count(&all, Verdict::Missed),
        r.faults.len(),
        r.replays.len(),
        if r.ok { "OK" } else { "FAILED" }
    );
    s
}

/// The Markdown report: the summary, then every scenario, fault and replay row.
pub fn markdown(r: &Results) -> String {
    let mut s = String::from("# Verification results\n\nRegenerate with `cargo run --release -p cgroup-checks --bin cgcheck -- verify --docs` (it builds and runs the loom and shuttle engines itself). Machine-readable: `target/cgcheck/results.json`.\n\n## Summary\n\n```text\n");
    s += &summary(r);
    s += "\n```\n\n## Scenarios\n\n| scenario | design | engine | verdict | executions | seconds | bound |\n|---|---|---|---|---|---|---|\n";
    for x in &r.scenarios {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {:.2} | {} |",
            x.name, x.design, x.engine, x.verdict, x.executions, x.seconds, x.bound
        );
    }
    s += "\n## Faults\n\n| fault | detected | scenario | engine | seconds | bound |\n|---|---|---|---|---|---|\n";
    for x in &r.faults {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {:.3} | {} |",
            x.name,
            x.detected,
            x.scenario.as_deref().unwrap_or("-"),
            x.engine,
            x.seconds,
            x.bound.map_or("-".to_string(), |b| b.to_string())
        );
    }
    s += "\n## Trace replays\n\n| trace | reproduced | steps |\n|---|---|---|\n";
    for x in &r.replays {
        let _ = writeln!(s, "| `{}` | {} | {} |", x.file, x.reproduced, x.steps);
    }
    s
}

/// The zoo's figures: missed faults, the median and the slowest time to detect one.
pub struct Zoo {
    /// Faults no catcher found.
    pub missed: usize,
    /// The median seconds to detect a fault.
    pub median: f64,
    /// The slowest fault to detect, and its seconds.
    pub slowest: (String, f64),
}

impl Zoo {
    /// The figures of `rows`.
    pub fn of(rows: &[super::FaultRow]) -> Zoo {
        let mut secs: Vec<(f64, String)> = rows
            .iter()
            .filter(|r| r.detected)
            .map(|r| (r.seconds, r.name.to_string()))
            .collect();
        secs.sort_by(|a, b| a.0.total_cmp(&b.0));
        Zoo {
            missed: rows.iter().filter(|r| !r.detected).count(),
            median: secs.get(secs.len() / 2).map_or(0.0, |x| x.0),
            slowest: secs
                .last()
                .map_or(("-".to_string(), 0.0), |x| (x.1.clone(), x.0)),
        }
    }
}

/// The zoo's table: one row per fault, then the figures.
pub fn zoo_table(rows: &[super::FaultRow], z: &Zoo) -> String {
    let mut s = format!(
        "{:<28} {:<9} {:<26} {:>9} {:>12}\n",
        "fault", "detected", "scenario", "seconds", "bound"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{:<28} {:<9} {:<26} {:>9.3} {:>12}",
            r.name.name(),
            r.detected,
            r.scenario.as_deref().unwrap_or("-"),
            r.seconds,
            r.bound.map_or("-".to_string(), |b| b.to_string())
        );
    }
    let _ = write!(
        s,
        "\n{} of {} detected; median time to detect {:.3}s, slowest {} ({:.3}s)",
        rows.len() - z.missed,
        rows.len(),
        z.median,
        z.slowest.0,
        z.slowest.1
    );
    s
}
