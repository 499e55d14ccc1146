//! The race regression's report: one row per (engine, scenario, design, faults) run, appended to
//! `target/race-report/<engine>.tsv` so that every test (and every CI shard) adds its rows and
//! `ci/race-regression.sh` prints the table at the end.

use std::io::Write;
use std::path::PathBuf;

use crate::engine::Outcome;

/// Where the report files go: `$CARGO_TARGET_DIR/race-report` or the workspace's `target/`.
pub fn dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    target.join("race-report")
}

/// Appends one row: engine, scenario, design, faults, bound, executions, seconds, verdict, detail.
pub fn record(
    engine: &str,
    scenario: &str,
    design: &str,
    faults: &str,
    o: &Outcome,
    verdict: impl std::fmt::Display,
) {
    let d = dir();
    if std::fs::create_dir_all(&d).is_err() {
        return;
    }
    let bound = o.bound.to_string();
    let detail = o.violation.as_ref().map_or(String::new(), |v| {
        format!("{}: {}", v.name, v.detail.replace(['\t', '\n'], " "))
    });
    let line = format!(
        "{engine}\t{scenario}\t{design}\t{faults}\t{bound}\t{}\t{:.3}\t{verdict}\t{detail}\n",
        o.executions, o.seconds
    );
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(d.join(format!("{engine}.tsv")))
    {
        let _ = f.write_all(line.as_bytes());
    }
    eprintln!(
        "{engine:<8} {scenario:<28} {design:<20} {faults:<24} {bound:<12} {:>8} exec {:>8.2}s  {verdict} {detail}",
        o.executions, o.seconds
    );
}

/// Writes the counterexample of `o` (if it has one) to `target/race-report/traces/` and returns its
/// path, so that a failing suite names a trace that `cgcheck replay` can re-execute.
pub fn save_trace(
    engine: &str,
    sc: &crate::scenario::Scenario,
    cfg: &cgmodel::Config,
    o: &Outcome,
) -> Option<PathBuf> {
    let v = o.violation.as_ref()?;
    let desc = format!("{engine}, {}", o.bound);
    let text = crate::tracefile::write(
        &sc.name,
        cfg,
        &desc,
        &sc.plan(),
        &format!("{}: {}", v.name, v.detail),
        &o.events,
    );
    let d = dir().join("traces");
    std::fs::create_dir_all(&d).ok()?;
    let p = d.join(
        format!(
            "{engine}--{}--{}--{}.trace",
            sc.name, cfg.design, cfg.faults
        )
        .replace(',', "+"),
    );
    std::fs::write(&p, text).ok()?;
    Some(p)
}
