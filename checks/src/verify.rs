//! What `cgcheck` runs: this build's engine on a scenario, the fault zoo, the whole catalog; the
//! rows of `target/cgcheck/results.json`.

use std::path::Path;

use cgmodel::{Design, Fault, Faults};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};

use crate::engine::Outcome;
use crate::scenario::{by_name, catalog, Expect, Scenario};
use crate::zoo;

/// This build's engine.
pub fn engine_name() -> &'static str {
    if cfg!(any(loom, feature = "loom")) {
        "loom"
    } else if cfg!(feature = "shuttle") {
        "shuttle"
    } else {
        "std"
    }
}

/// How to run this build's engine.
pub struct RunOpts {
    /// loom: the largest preemption bound (None inside: exhaustive; None: the catalog's plan).
    pub bound: Option<Option<usize>>,
    /// shuttle: the seed.
    pub seed: u64,
    /// shuttle and std: executions.
    pub iterations: usize,
    /// shuttle: random schedules instead of PCT.
    pub random: bool,
}

/// Runs `sc` under this build's engine.
pub fn run_engine(sc: &Scenario, cfg: &cgmodel::Config, o: &RunOpts) -> Outcome {
    let plan = sc.plan();
    #[cfg(any(loom, feature = "loom"))]
    {
        let _ = (o.seed, o.iterations, o.random);
        use crate::scenario::LoomPlan;
        let max = o.bound.unwrap_or(match sc.loom {
            LoomPlan::Exhaustive => None,
            LoomPlan::Bounded(b, _) => Some(b),
            LoomPlan::ShuttleOnly(_) => Some(2),
        });
        crate::engine::loom_iterative(&plan, cfg, max)
    }
    #[cfg(feature = "shuttle")]
    {
        let _ = o.bound;
        if o.random {
            crate::engine::shuttle_random(&plan, cfg, o.iterations, o.seed)
        } else {
            // Fewest priority changes first: PCT at bug depth 1, 2, 3.
            let mut last = None;
            for depth in 1..=3 {
                let mut r = crate::engine::shuttle_pct(&plan, cfg, o.iterations, depth, o.seed);
                r.bound = Some(depth);
                let found = r.violation.is_some();
                last = Some(r);
                if found {
                    break;
                }
            }
            last.expect("three depths tried")
        }
    }
    #[cfg(not(any(loom, feature = "loom", feature = "shuttle")))]
    {
        let _ = (o.bound, o.seed, o.random);
        crate::engine::stress(&plan, cfg, o.iterations as u64)
    }
}

/// How an outcome was found, for the trace header.
pub fn engine_desc(o: &Outcome, opts: &RunOpts) -> String {
    match engine_name() {
        "loom" => match o.bound {
            Some(b) => format!("loom, preemption bound {b} (fewest preemptions first)"),
            None => "loom, exhaustive".to_string(),
        },
        "shuttle" => format!(
            "shuttle {}, seed {:#x}, failing schedule {} of {}",
            if opts.random {
                "random".to_string()
            } else {
                format!("pct depth {}", o.bound.unwrap_or(3))
            },
            opts.seed,
            o.executions,
            opts.iterations
        ),
        _ => format!("std (real threads), failing run {}", o.executions),
    }
}

/// Where cgcheck writes traces by default: `target/cgcheck/traces`.
pub fn default_trace_dir() -> std::path::PathBuf {
    crate::report::dir()
        .with_file_name("cgcheck")
        .join("traces")
}

/// Writes the trace of `o` (which found a violation) to `path`.
pub fn write_trace(
    path: &std::path::Path,
    sc: &Scenario,
    cfg: &cgmodel::Config,
    o: &Outcome,
    opts: &RunOpts,
) -> Result<(), String> {
    let v = o.violation.as_ref().expect("a violation to trace");
    let text = crate::tracefile::write(
        sc.name,
        cfg,
        &engine_desc(o, opts),
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
        ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} {msg}")
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

/// The fault zoo with this build's engine: for each fault, its catchers in turn until one finds
/// it; the trace of each detection is written to `trace_dir`.
pub fn zoo_rows(chosen: &[Fault], trace_dir: &Path, show: bool) -> Result<Vec<Value>, String> {
    let pb = progress(chosen.len(), "zoo", show);
    let chosen = chosen.to_vec();
    let mut rows = Vec::new();
    for f in chosen {
        pb.set_message(f.name());
        let mut row = json!({"name": f.name(), "detected": false, "scenario": null, "engine": engine_name(),
                    "seconds": 0.0, "preemptions": null, "executions": 0, "trace": null, "violation": null});
        let mut total = 0.0;
        for name in zoo::catchers(f) {
            let sc = by_name(name).expect("catchers name catalog scenarios");
            if cfg!(not(any(loom, feature = "loom", feature = "shuttle"))) && f.deadlocks() {
                continue; // would hang on real threads
            }
            let cfg = crate::engine::config(&sc, Design::Fixed, Faults::one(f), true);
            let opts = RunOpts {
                bound: Some(Some(3)),
                seed: 0x5eed,
                iterations: 2000,
                random: false,
            };
            let o = run_engine(&sc, &cfg, &opts);
            total += o.seconds;
            if let Some(v) = &o.violation {
                row["detected"] = json!(true);
                row["scenario"] = json!(name);
                row["preemptions"] = json!(if cfg!(any(loom, feature = "loom")) {
                    o.bound
                } else {
                    None
                });
                row["executions"] = json!(o.executions);
                row["violation"] = json!(format!("{}: {}", v.name, v.detail));
                let p = trace_dir.join(trace_name(name, Design::Fixed, Faults::one(f)));
                write_trace(&p, &sc, &cfg, &o, &opts)?;
                row["trace"] = json!(p.display().to_string());
                break;
            }
        }
        row["seconds"] = json!(total);
        rows.push(row);
    }
    pb.finish_and_clear();
    Ok(rows)
}

/// Every catalog scenario on every design with this build's engine (loom: fewest preemptions
/// first then the scenario's plan; shuttle: PCT and random from a fixed seed; std: 20 runs on real
/// threads). Failing runs write their trace to `trace_dir`.
pub fn catalog_rows(trace_dir: &Path, show: bool) -> Result<Vec<Value>, String> {
    let work: Vec<(Scenario, Design)> = catalog()
        .into_iter()
        .flat_map(|sc| Design::ALL.iter().map(move |&d| (sc.clone(), d)))
        .collect();
    let pb = progress(work.len(), "catalog", show);
    let mut rows = Vec::new();
    for (sc, design) in work {
        pb.set_message(format!("{} on {design}", sc.name));
        let cfg = crate::engine::config(&sc, design, Faults::NONE, true);
        let mut runs: Vec<(&str, RunOpts)> = Vec::new();
        match engine_name() {
            "loom" => {
                if matches!(sc.loom, crate::scenario::LoomPlan::ShuttleOnly(_)) {
                    pb.inc(1);
                    continue;
                }
                runs.push((
                    "loom",
                    RunOpts {
                        bound: None,
                        seed: 0,
                        iterations: 0,
                        random: false,
                    },
                ));
            }
            "shuttle" => {
                runs.push((
                    "shuttle-pct",
                    RunOpts {
                        bound: None,
                        seed: 0x5eed,
                        iterations: 1000,
                        random: false,
                    },
                ));
                runs.push((
                    "shuttle-random",
                    RunOpts {
                        bound: None,
                        seed: 0x5eed,
                        iterations: 1000,
                        random: true,
                    },
                ));
            }
            _ => runs.push((
                "std",
                RunOpts {
                    bound: None,
                    seed: 0,
                    iterations: 20,
                    random: false,
                },
            )),
        }
        for (eng, opts) in runs {
            let o = run_engine(&sc, &cfg, &opts);
            let finding = matches!((sc.expect)(design), Expect::Finding(_));
            let verdict = match (&o.violation, finding) {
                (None, _) => "pass",
                (Some(_), true) => "expected-fail",
                (Some(_), false) => "fail",
            };
            let mut trace = Value::Null;
            if o.violation.is_some() {
                let p = trace_dir.join(format!(
                    "{eng}--{}",
                    trace_name(sc.name, design, Faults::NONE)
                ));
                write_trace(&p, &sc, &cfg, &o, &opts)?;
                trace = json!(p.display().to_string());
            }
            rows.push(json!({
                "name": sc.name, "design": design.name(), "engine": eng, "verdict": verdict,
                "executions": o.executions, "seconds": o.seconds, "bound": o.bound,
                "violation": o.violation.as_ref().map(|v| format!("{}: {}", v.name, v.detail)),
                "trace": trace,
            }));
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(rows)
}

/// One benchmark measurement.
fn bench_run(plan: &crate::scenario::Plan, cfg: &cgmodel::Config, bound: Option<usize>) -> Outcome {
    #[cfg(any(loom, feature = "loom"))]
    {
        crate::engine::loom(plan, cfg, bound)
    }
    #[cfg(feature = "shuttle")]
    {
        let _ = bound;
        crate::engine::shuttle_pct(plan, cfg, 2000, 3, 0x5eed)
    }
    #[cfg(not(any(loom, feature = "loom", feature = "shuttle")))]
    {
        let _ = bound;
        crate::engine::stress(plan, cfg, 200)
    }
}

/// A plan of `threads` threads, each moving its own task between two cgroups `ops` times, over
/// a shared hierarchy (every move creates or shares a css_set, so the threads contend).
pub fn growth_plan(threads: usize, ops: usize) -> crate::scenario::Plan {
    let parse = |s: &str| s.parse().expect("bench steps parse");
    let mut setup: Vec<cgmodel::Step> = (1..=threads)
        .map(|i| parse(&format!("fork T0 T{i}")))
        .collect();
    for s in ["mount m0 cpuset", "mkdir m0/a", "mkdir m0/b"] {
        setup.push(parse(s));
    }
    let threads = (1..=threads)
        .map(|i| {
            (0..ops)
                .map(|k| {
                    parse(&format!(
                        "attach T{i} m0/{}",
                        if k % 2 == 0 { "a" } else { "b" }
                    ))
                })
                .collect()
        })
        .collect();
    crate::scenario::Plan {
        name: "growth".into(),
        setup,
        threads,
    }
}

/// `cgcheck bench`: throughput on three representative scenarios, the cost of the
/// instrumentation (trace recording and lockdep) against the same scenario without it, and how
/// the cost grows with threads and operations; with this build's engine.
pub fn bench(show: bool) -> Value {
    let representative = [
        "attach-vs-exit",
        "mount-busy-vs-umount",
        "load-vs-attach-vs-exit",
    ];
    let loom = engine_name() == "loom";
    let pb = progress(representative.len() * 2 + 8, "bench", show);
    let mut throughput = Vec::new();
    let mut cost = Vec::new();
    for name in representative {
        let sc = by_name(name).expect("catalog scenario");
        let bound = if loom { Some(2) } else { None };
        let plan = sc.plan();
        let cfg = crate::engine::config(&sc, Design::Fixed, Faults::NONE, true);
        cgmodel::sim::trace::set_recording(true);
        let full = bench_run(&plan, &cfg, bound);
        pb.inc(1);
        cgmodel::sim::trace::set_recording(false);
        let bare_cfg = crate::engine::config(&sc, Design::Fixed, Faults::NONE, !loom);
        let bare = bench_run(&plan, &bare_cfg, bound);
        cgmodel::sim::trace::set_recording(true);
        pb.inc(1);
        let rate = |o: &Outcome| o.executions as f64 / o.seconds.max(1e-9);
        throughput.push(
            json!({"scenario": name, "bound": bound, "executions": full.executions,
            "seconds": full.seconds, "executions_per_second": rate(&full)}),
        );
        cost.push(json!({"scenario": name, "instrumented_per_second": rate(&full), "bare_per_second": rate(&bare),
            "ratio": rate(&bare) / rate(&full).max(1e-9), "bare": if loom { "no recording, lockdep off" } else { "no recording" }}));
    }
    let mut growth = Vec::new();
    let max_threads = if loom { 3 } else { 5 };
    for threads in 2..=max_threads {
        for ops in [1, 2] {
            let plan = growth_plan(threads, ops);
            let cfg = cgmodel::Config {
                design: Design::Fixed,
                faults: Faults::NONE,
                max_threads: 8,
                ..cgmodel::Config::default()
            };
            let o = bench_run(&plan, &cfg, if loom { Some(2) } else { None });
            growth.push(json!({"threads": threads, "ops_per_thread": ops, "executions": o.executions, "seconds": o.seconds,
                "bound": if loom { Some(2) } else { None }}));
            pb.inc(1);
        }
    }
    pb.finish_and_clear();
    json!({"engine": engine_name(), "throughput": throughput, "instrumentation": cost, "growth": growth})
}
