//! `cgcheck bench`: throughput on three representative scenarios, the cost of the
//! instrumentation (trace recording, and lockdep under loom; the lock graph and PROVE_RCU on
//! every engine) against the same runs without it, and how the cost grows with threads and
//! operations; with this build's default engine.

use cgmodel::{Config, Design, Faults, Step};
use serde::{Deserialize, Serialize};

use crate::engine::{self, Bound, Engine, Outcome, RunOpts};
use crate::scenario::{by_name, LoomPlan, Plan};
use crate::verify::progress;

/// Throughput on one scenario.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Throughput {
    /// The scenario.
    pub scenario: String,
    /// The bound of the run.
    pub bound: Bound,
    /// Executions.
    pub executions: u64,
    /// Seconds.
    pub seconds: f64,
    /// Executions per second.
    pub executions_per_second: f64,
}

/// What the instrumentation costs on one scenario, measured in the same run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Instrumentation {
    /// The scenario.
    pub scenario: String,
    /// Executions per second with recording (and lockdep).
    pub instrumented_per_second: f64,
    /// Executions per second without.
    pub bare_per_second: f64,
    /// bare / instrumented.
    pub ratio: f64,
    /// What "bare" leaves out.
    pub bare: String,
    /// Executions per second with recording and lockdep but without the lock graph and
    /// PROVE_RCU's checks (`cgmodel::sim::lockdep::set_debug_checks`).
    #[serde(default)]
    pub without_debug_per_second: f64,
    /// without-debug / instrumented: what the lock graph and PROVE_RCU cost per execution.
    #[serde(default)]
    pub debug_ratio: f64,
}

/// One point of the growth curve.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Growth {
    /// Worker threads.
    pub threads: usize,
    /// Operations per thread.
    pub ops_per_thread: usize,
    /// Executions.
    pub executions: u64,
    /// Seconds.
    pub seconds: f64,
}

/// The benchmark's results.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Bench {
    /// The engine measured.
    pub engine: Engine,
    /// Throughput per scenario.
    pub throughput: Vec<Throughput>,
    /// The instrumentation's cost.
    pub instrumentation: Vec<Instrumentation>,
    /// Growth with threads and operations.
    pub growth: Vec<Growth>,
}

/// A plan of `threads` threads, each moving its own task between two cgroups `ops` times, over
/// a shared hierarchy (every move creates or shares a css_set, so the threads contend).
pub fn growth_plan(threads: usize, ops: usize) -> Plan {
    let parse = |s: &str| s.parse::<Step>().expect("bench steps parse");
    let mut setup: Vec<Step> = (1..=threads)
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
    Plan {
        name: "growth".into(),
        setup,
        threads,
    }
}

/// The options of every measured run: loom up to bound 2, shuttle 2,000 schedules per PCT depth,
/// 200 runs on real threads.
fn opts() -> RunOpts {
    RunOpts {
        bound: Some(Bound::Preemptions(2)),
        iterations: if Engine::default_built() == Engine::Std {
            200
        } else {
            2000
        },
        ..RunOpts::default()
    }
}

fn measure(plan: &Plan, cfg: &Config) -> Result<Outcome, String> {
    let plain = LoomPlan::Exhaustive;
    engine::run(plan, &plain, cfg, Engine::default_built(), &opts())
}

/// Runs the benchmark.
pub fn bench(show: bool) -> Result<Bench, String> {
    let representative = [
        "attach-vs-exit",
        "mount-busy-vs-umount",
        "load-vs-attach-vs-exit",
    ];
    let eng = Engine::default_built();
    let loom = eng == Engine::Loom;
    let pb = progress(representative.len() * 3 + 8, "bench", show);
    let mut throughput = Vec::new();
    let mut instrumentation = Vec::new();
    let rate = |o: &Outcome| o.executions as f64 / o.seconds.max(1e-9);
    for name in representative {
        let sc = by_name(name)?;
        let plan = sc.plan();
        let cfg = engine::config(sc, Design::Fixed, Faults::NONE, true);
        cgmodel::sim::trace::set_recording(true);
        let full = measure(&plan, &cfg)?;
        pb.inc(1);
        cgmodel::sim::lockdep::set_debug_checks(false);
        let no_debug = measure(&plan, &cfg);
        cgmodel::sim::lockdep::set_debug_checks(true);
        let no_debug = no_debug?;
        pb.inc(1);
        cgmodel::sim::trace::set_recording(false);
        let bare_cfg = engine::config(sc, Design::Fixed, Faults::NONE, !loom);
        let bare = measure(&plan, &bare_cfg)?;
        cgmodel::sim::trace::set_recording(true);
        pb.inc(1);
        throughput.push(Throughput {
            scenario: name.to_string(),
            bound: full.bound,
            executions: full.executions,
            seconds: full.seconds,
            executions_per_second: rate(&full),
        });
        instrumentation.push(Instrumentation {
            scenario: name.to_string(),
            instrumented_per_second: rate(&full),
            bare_per_second: rate(&bare),
            ratio: rate(&bare) / rate(&full).max(1e-9),
            bare: if loom {
                "no recording, lockdep off"
            } else {
                "no recording"
            }
            .to_string(),
            without_debug_per_second: rate(&no_debug),
            debug_ratio: rate(&no_debug) / rate(&full).max(1e-9),
        });
    }
    let mut growth = Vec::new();
    let max_threads = if loom { 3 } else { 5 };
    for threads in 2..=max_threads {
        for ops in [1, 2] {
            let plan = growth_plan(threads, ops);
            let cfg = Config {
                design: Design::Fixed,
                faults: Faults::NONE,
                max_threads: 8,
                ..Config::default()
            };
            let o = measure(&plan, &cfg)?;
            growth.push(Growth {
                threads,
                ops_per_thread: ops,
                executions: o.executions,
                seconds: o.seconds,
            });
            pb.inc(1);
        }
    }
    pb.finish_and_clear();
    Ok(Bench {
        engine: eng,
        throughput,
        instrumentation,
        growth,
    })
}

impl std::fmt::Display for Bench {
    /// The three tables `cgcheck bench` prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "engine: {}", self.engine)?;
        writeln!(
            f,
            "\n{:<26} {:>12} {:>11} {:>9} {:>12}",
            "scenario", "bound", "executions", "seconds", "exec/s"
        )?;
        for r in &self.throughput {
            writeln!(
                f,
                "{:<26} {:>12} {:>11} {:>9.2} {:>12.0}",
                r.scenario,
                r.bound.to_string(),
                r.executions,
                r.seconds,
                r.executions_per_second
            )?;
        }
        writeln!(
            f,
            "\n{:<26} {:>14} {:>10} {:>7} {:>12} {:>7}  bare =",
            "instrumentation", "instrumented/s", "bare/s", "ratio", "no-debug/s", "ratio"
        )?;
        for r in &self.instrumentation {
            writeln!(
                f,
                "{:<26} {:>14.0} {:>10.0} {:>7.2} {:>12.0} {:>7.2}  {}",
                r.scenario,
                r.instrumented_per_second,
                r.bare_per_second,
                r.ratio,
                r.without_debug_per_second,
                r.debug_ratio,
                r.bare
            )?;
        }
        writeln!(
            f,
            "no-debug: recording and lockdep's assertions, without the lock graph and PROVE_RCU"
        )?;
        writeln!(
            f,
            "\n{:>7} {:>14} {:>11} {:>9}",
            "threads", "ops/thread", "executions", "seconds"
        )?;
        for r in &self.growth {
            writeln!(
                f,
                "{:>7} {:>14} {:>11} {:>9.2}",
                r.threads, r.ops_per_thread, r.executions, r.seconds
            )?;
        }
        Ok(())
    }
}
