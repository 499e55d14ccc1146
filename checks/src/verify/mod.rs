//! What `cgcheck verify` runs: every catalog scenario on every design with each engine, the
//! fault zoo on each, and every committed trace replayed; the results, their summary and the
//! Markdown report.
//!
//! One build has one backend, so the default build (`verify`) builds the loom and shuttle
//! flavours of `cgcheck` in their own target directories and runs their [`part`] (`cgcheck
//! verify-part`), then merges the parts with its own. The file is long because the catalog,
//! the zoo and the replays share their options, progress bars and trace paths.

#[cfg(backend_std)]
mod builds;
pub mod deep;
mod graphs;
pub mod report;
pub mod rows;

use std::path::{Path, PathBuf};

use cgmodel::sim::foata::Relation;
#[cfg(backend_std)]
use cgmodel::sim::sync::Backend;
use cgmodel::{Design, Fault, Faults};
use indicatif::{ProgressBar, ProgressStyle};

use crate::engine::{self, Bound, Engine, Outcome, RunOpts};
use crate::scenario::{by_name, catalog, LoomPlan, Scenario};
use crate::{verdict, zoo};
pub use graphs::{graph_line, lock_graphs, DesignGraphs};
pub use rows::{FaultRow, GraphEdges, GraphRow, Part, ReplayRow, Results, ScenarioRow};

/// Where cgcheck writes its results: `target/cgcheck`.
pub fn out_dir() -> PathBuf {
    crate::report::dir().with_file_name("cgcheck")
}

/// Where cgcheck writes traces by default: `target/cgcheck/traces`.
pub fn default_trace_dir() -> PathBuf {
    out_dir().join("traces")
}

/// Writes the trace of `o` (which found a violation) to `path`.
pub fn write_trace(
    path: &Path,
    sc: &Scenario,
    cfg: &cgmodel::Config,
    o: &Outcome,
    opts: &RunOpts,
) -> Result<(), String> {
    let v = o.violation.as_ref().ok_or("no violation to trace")?;
    let text = crate::tracefile::write(
        &sc.name,
        cfg,
        &o.describe(opts),
        &sc.plan(),
        &format!("{}: {}", v.name, v.detail),
        &o.events,
    );
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The file name of a trace.
pub fn trace_name(sc: &str, design: Design, faults: Faults) -> String {
    if faults.is_empty() {
        format!("{sc}--{design}.trace")
    } else {
        format!("{sc}--{}.trace", faults.to_string().replace(',', "+"))
    }
}

/// A progress bar on stderr for `n` items; indicatif hides it when stderr is not a terminal.
pub fn progress(n: usize, what: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(n as u64);
    pb.set_style(
        ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} {msg} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_prefix(what.to_string());
    pb
}

/// A spinner on stderr while one long run goes (hidden when stderr is not a terminal).
pub fn spinner(msg: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

/// How `verify` runs each engine on scenario `sc` on `design`.
///
/// - A documented finding (the design is expected to fail): PCT hunts as the shuttle suite does,
///   depths 1 to 3 fewest first, [`engine::FINDING_ITERATIONS`] schedules per depth from
///   [`engine::FINDING_SEED`], so that the two sample the same schedules and a finding is not
///   missed for a budget meant for passes.
/// - A pass: PCT at bug depth 3 as the shuttle suite's passes run, and random, 1,000 schedules
///   each; [`SMOKE_ITERATIONS`] where loom explores the scenario exhaustively
///   ([`LoomPlan::Exhaustive`]: every scenario loom can run), since every schedule shuttle can
///   draw there (sequentially consistent, on the same threads) is equivalent to an execution
///   loom already ran: there shuttle only checks that its build agrees.
fn catalog_opts(engine: Engine, sc: &Scenario, design: Design) -> RunOpts {
    let finding = sc.expect(design).is_finding();
    let passes = if sc.loom == LoomPlan::Exhaustive {
        SMOKE_ITERATIONS
    } else {
        1000
    };
    match engine {
        Engine::Loom => RunOpts::default(),
        Engine::ShuttlePct if finding => RunOpts {
            seed: engine::FINDING_SEED,
            iterations: engine::FINDING_ITERATIONS,
            ..RunOpts::default()
        },
        Engine::ShuttlePct => RunOpts {
            bound: Some(Bound::PctDepth(3)),
            iterations: passes,
            ..RunOpts::default()
        },
        Engine::ShuttleRandom => RunOpts {
            iterations: if finding { 1000 } else { passes },
            ..RunOpts::default()
        },
        Engine::Std => RunOpts {
            iterations: 20,
            ..RunOpts::default()
        },
    }
}

/// shuttle's schedules per engine for a scenario loom explores exhaustively and the design is
/// expected to pass ([`catalog_opts`]).
const SMOKE_ITERATIONS: usize = 100;

/// The zoo's runs: loom exhaustive (reduced), PCT 2,000 schedules per depth, 2,000 runs on real
/// threads.
fn zoo_opts() -> RunOpts {
    RunOpts {
        iterations: 2000,
        ..RunOpts::default()
    }
}

/// The fault zoo with this build's default engine: for each fault, its catchers in turn until
/// one finds it; the trace of each detection is written to `trace_dir`. A fault that deadlocks
/// is not run on real threads, where a deadlock is a hang.
pub fn zoo_rows(chosen: &[Fault], trace_dir: &Path, show: bool) -> Result<Vec<FaultRow>, String> {
    let engine = Engine::default_built();
    let pb = progress(chosen.len(), "zoo", show);
    let rows = crate::par::map(chosen, |&f| {
        pb.set_message(f.name());
        let mut row = FaultRow {
            name: f,
            detected: false,
            scenario: None,
            engine,
            seconds: 0.0,
            bound: None,
            executions: 0,
            trace: None,
            violation: None,
        };
        for name in zoo::catchers(f) {
            if engine == Engine::Std && f.deadlocks() {
                continue;
            }
            let sc = by_name(name)?;
            let cfg = engine::config(sc, Design::Fixed, Faults::one(f), true);
            let opts = zoo_opts();
            let o = engine::run_scenario(sc, &cfg, engine, &opts)?;
            row.seconds += o.seconds;
            if let Some(v) = &o.violation {
                let p = trace_dir.join(trace_name(name, Design::Fixed, Faults::one(f)));
                write_trace(&p, sc, &cfg, &o, &opts)?;
                row.detected = true;
                row.scenario = Some(name.to_string());
                row.bound = Some(o.bound);
                row.executions = o.executions;
                row.violation = Some(format!("{}: {}", v.name, v.detail));
                row.trace = Some(p.display().to_string());
                break;
            }
        }
        pb.inc(1);
        Ok(row)
    })
    .into_iter()
    .collect::<Result<Vec<_>, String>>()?;
    pb.finish_and_clear();
    Ok(rows)
}

/// Every catalog scenario on every design with each engine of this build. Failing runs write
/// their trace to `trace_dir`.
pub fn catalog_rows(trace_dir: &Path, show: bool) -> Result<Vec<ScenarioRow>, String> {
    Ok(catalog_rows_graphs(trace_dir, show)?.0)
}

/// [`catalog_rows`], and per design the lock graph of every run: what lockdep's graph would
/// hold had one kernel run the whole catalog.
pub fn catalog_rows_graphs(
    trace_dir: &Path,
    show: bool,
) -> Result<(Vec<ScenarioRow>, Vec<GraphEdges>), String> {
    let graphs = DesignGraphs::new(Design::ALL, &[]);
    let work: Vec<(&Scenario, Design)> = catalog()
        .iter()
        .flat_map(|sc| Design::ALL.iter().map(move |&d| (sc, d)))
        .collect();
    let pb = progress(work.len(), "catalog", show);
    let rows: Vec<Result<Vec<ScenarioRow>, String>> = crate::par::map(&work, |&(sc, design)| {
        pb.set_message(format!("{} on {design}", sc.name));
        let cfg = engine::config(sc, design, Faults::NONE, true);
        let mut rows = Vec::new();
        for &eng in Engine::built() {
            if eng == Engine::Loom && matches!(sc.loom, LoomPlan::ShuttleOnly(_)) {
                continue;
            }
            let opts = catalog_opts(eng, sc, design);
            let o = engine::run_scenario(sc, &cfg, eng, &opts)?;
            graphs.add(design, &o);
            let (v, _) = verdict(sc, design, &o);
            let mut trace = None;
            if o.violation.is_some() {
                let p = trace_dir.join(format!(
                    "{eng}--{}",
                    trace_name(&sc.name, design, Faults::NONE)
                ));
                write_trace(&p, sc, &cfg, &o, &opts)?;
                trace = Some(p.display().to_string());
            }
            rows.push(ScenarioRow {
                name: sc.name.clone(),
                design,
                engine: eng,
                verdict: v,
                executions: o.executions,
                pruned: o.pruned,
                classes: o.classes.len(),
                classes_shared_reads: o.classes.len_under(Relation::SharedReads),
                threads: sc.threads.len(),
                seconds: o.seconds,
                bound: o.bound,
                violation: o
                    .violation
                    .as_ref()
                    .map(|v| format!("{}: {}", v.name, v.detail)),
                trace,
                covers: o.covers(sc.threads.len(), &opts),
            });
        }
        pb.inc(1);
        Ok(rows)
    });
    pb.finish_and_clear();
    let mut out = Vec::new();
    for r in rows {
        out.extend(r?);
    }
    Ok((out, graphs.edges()))
}

/// This build's part of `verify`: the catalog and the zoo, traces under
/// `target/cgcheck/traces/BACKEND`.
pub fn part(show: bool) -> Result<Part, String> {
    let dir = default_trace_dir().join(cgmodel::sim::sync::BACKEND.to_string());
    let (scenarios, lock_graphs) = catalog_rows_graphs(&dir, show)?;
    Ok(Part {
        scenarios,
        faults: zoo_rows(Fault::ALL, &dir, show)?,
        lock_graphs,
    })
}

/// `cgcheck verify --deep`: builds the loom engine and runs its deep part for `shard`
/// ([`deep`]); the result is also in `target/cgcheck/deep-K-of-N.json`.
#[cfg(backend_std)]
pub fn verify_deep(shard: (usize, usize), estimate_only: bool) -> Result<deep::DeepPart, String> {
    deep::jobs(shard)?;
    let out = out_dir();
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let out = std::fs::canonicalize(&out).unwrap_or(out);
    builds::deep_part(shard, estimate_only, &out)
}

/// The repository's root (this crate's parent directory).
pub fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Every committed trace (`traces/*.trace`), replayed on real threads.
#[cfg(backend_std)]
pub fn replays(show: bool) -> Vec<ReplayRow> {
    let dir = repo_root().join("traces");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "trace"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let pb = progress(files.len(), "replay", show);
    let mut rows = Vec::new();
    for f in &files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        pb.set_message(name.clone());
        let file = format!("traces/{name}");
        let row = match std::fs::read_to_string(f)
            .map_err(|e| e.to_string())
            .and_then(|t| crate::tracefile::parse(&t).map_err(|e| e.to_string()))
        {
            Ok(tf) => {
                let r = crate::tracefile::replay(&tf);
                ReplayRow {
                    file,
                    reproduced: r.reproduced,
                    reason: r.reason,
                    steps: r.timeline.len(),
                }
            }
            Err(e) => ReplayRow {
                file,
                reproduced: false,
                reason: e,
                steps: 0,
            },
        };
        rows.push(row);
        pb.inc(1);
    }
    pb.finish_and_clear();
    rows
}

/// `cgcheck verify`: runs the parts of `backends` (building loom and shuttle as needed), replays
/// every committed trace, merges, and writes `target/cgcheck/results.json` and `report.md`
/// (and, with `docs`, `docs/results.md`).
#[cfg(backend_std)]
pub fn verify(backends: &[Backend], docs: bool, show: bool) -> Result<Results, String> {
    let out = out_dir();
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let out = std::fs::canonicalize(&out).unwrap_or(out);
    let mut parts = Vec::new();
    for &b in backends {
        parts.push(match b {
            Backend::Std => part(show)?,
            other => builds::backend_part(other, &out)?,
        });
    }
    let replays = replays(show);
    let scenarios: Vec<ScenarioRow> = parts.iter().flat_map(|p| p.scenarios.clone()).collect();
    let runs: Vec<FaultRow> = parts.iter().flat_map(|p| p.faults.clone()).collect();
    let faults: Vec<FaultRow> = Fault::ALL
        .iter()
        .filter_map(|&f| {
            let mine: Vec<&FaultRow> = runs.iter().filter(|r| r.name == f).collect();
            mine.iter()
                .find(|r| r.detected)
                .or(mine.first())
                .map(|r| (*r).clone())
        })
        .collect();
    let graph_parts: Vec<GraphEdges> = parts.iter().flat_map(|p| p.lock_graphs.clone()).collect();
    let lock_graphs = lock_graphs(&graph_parts);
    let ok = scenarios.iter().all(|r| r.verdict.ok())
        && faults.len() == Fault::ALL.len()
        && faults.iter().all(|r| r.detected)
        && replays.iter().all(|r| r.reproduced)
        && lock_graphs.iter().all(|g| g.cycles.is_empty());
    let results = Results {
        ok,
        engines: backends.iter().map(|b| b.to_string()).collect(),
        scenarios,
        faults,
        fault_runs: runs,
        replays,
        lock_graphs,
    };
    let json = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    let md = report::markdown(&results);
    for (p, text) in [
        (out.join("results.json"), json),
        (out.join("report.md"), md.clone()),
    ] {
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    if docs {
        let p = repo_root().join("docs").join("results.md");
        std::fs::write(&p, &md).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// shuttle's budget: a smoke test where loom is exhaustive, 1,000 where loom does not run
    /// (the six-thread storms), the hunt through depths for a documented finding.
    #[test]
    fn shuttle_draws_less_where_loom_ran_every_schedule() {
        let o = |e, sc, d| catalog_opts(e, by_name(sc).unwrap(), d);
        let exhaustive = o(Engine::ShuttlePct, "attach-vs-fork", Design::Fixed);
        assert_eq!(
            (exhaustive.iterations, exhaustive.bound),
            (100, Some(Bound::PctDepth(3)))
        );
        assert_eq!(
            o(Engine::ShuttleRandom, "storm-modules", Design::Fixed).iterations,
            1000
        );
        let hunt = o(Engine::ShuttlePct, "netcls-init-vs-classify", Design::V2634);
        assert_eq!(
            (hunt.iterations, hunt.bound),
            (engine::FINDING_ITERATIONS, None)
        );
    }
}
