//! `cgcheck`: the command-line front door of the cgroup model's checks.
//!
//! The engine is the one this binary was built with: loom (`--features loom`), shuttle
//! (`--features shuttle`) or real threads (default). Unknown names and bad flags exit with 2 and a
//! one-line error; a run that finds a violation exits with 1.

use std::process::ExitCode;

use cgchecks::engine::{self, Outcome};
use cgchecks::scenario::{by_name, catalog, Expect, Scenario};
use cgchecks::zoo;
use cgmodel::{Design, Fault, Faults};
use clap::{Parser, Subcommand};
use serde_json::{json, Value};

#[derive(Parser)]
#[command(
    name = "cgcheck",
    version,
    about = "Model-check the v2.6.34 cgroup core with module-loadable subsystems"
)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List the scenarios, designs and faults.
    List,
    /// Check one scenario with this build's engine.
    Run {
        /// The scenario's name (see `cgcheck list`).
        scenario: String,
        /// The design (default: the baseline v2.6.34).
        #[arg(long, default_value = "v2.6.34")]
        design: String,
        /// Faults to inject, comma-separated (default: none, or CGROUP_MODEL_FAULTS).
        #[arg(long)]
        faults: Option<String>,
        /// loom: the largest preemption bound, or `none` for exhaustive (default: the catalog's plan).
        #[arg(long)]
        bound: Option<String>,
        /// shuttle: the seed (default 0x5eed).
        #[arg(long, default_value_t = 0x5eed)]
        seed: u64,
        /// shuttle and std: executions to run.
        #[arg(long, default_value_t = 1000)]
        iterations: usize,
        /// shuttle: `pct` (default) or `random`.
        #[arg(long, default_value = "pct")]
        schedule: String,
        /// Turn lockdep off (loom only), so loom's causality check reports unlocked accesses.
        #[arg(long)]
        no_lockdep: bool,
        /// Where to write the trace of a violation (default: target/cgcheck/traces/).
        #[arg(long)]
        trace: Option<std::path::PathBuf>,
    },
    /// Replay a trace file on real threads: exit 0 if the same violation is reproduced, 1 if
    /// not, 2 if the file is malformed.
    Replay {
        /// The trace file.
        file: std::path::PathBuf,
    },
    /// Render a trace file as a Mermaid sequence diagram (or, with --text, the condensed timeline).
    Render {
        /// The trace file.
        file: std::path::PathBuf,
        /// Print the condensed text timeline instead of Mermaid.
        #[arg(long)]
        text: bool,
    },
    /// Run the fault zoo: for every fault, hunt it with its catcher scenarios.
    Zoo {
        /// Only these faults (comma-separated).
        #[arg(long)]
        faults: Option<String>,
        /// Directory for the trace of each detected fault (default: target/cgcheck/traces).
        #[arg(long)]
        traces: Option<std::path::PathBuf>,
    },
}

/// This build's engine.
fn engine_name() -> &'static str {
    if cfg!(any(loom, feature = "loom")) {
        "loom"
    } else if cfg!(feature = "shuttle") {
        "shuttle"
    } else {
        "std"
    }
}

struct RunOpts {
    bound: Option<Option<usize>>,
    seed: u64,
    iterations: usize,
    random: bool,
}

/// Runs `sc` under this build's engine.
fn run_engine(sc: &Scenario, cfg: &cgmodel::Config, o: &RunOpts) -> Outcome {
    let plan = sc.plan();
    #[cfg(any(loom, feature = "loom"))]
    {
        let _ = (o.seed, o.iterations, o.random);
        use cgchecks::scenario::LoomPlan;
        let max = o.bound.unwrap_or(match sc.loom {
            LoomPlan::Exhaustive => None,
            LoomPlan::Bounded(b, _) => Some(b),
            LoomPlan::ShuttleOnly(_) => Some(2),
        });
        engine::loom_iterative(&plan, cfg, max)
    }
    #[cfg(feature = "shuttle")]
    {
        let _ = o.bound;
        if o.random {
            engine::shuttle_random(&plan, cfg, o.iterations, o.seed)
        } else {
            // Fewest priority changes first: PCT at bug depth 1, 2, 3.
            let mut last = None;
            for depth in 1..=3 {
                let mut r = engine::shuttle_pct(&plan, cfg, o.iterations, depth, o.seed);
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
        engine::stress(&plan, cfg, o.iterations as u64)
    }
}

/// How an outcome was found, for the trace header.
fn engine_desc(o: &Outcome, opts: &RunOpts) -> String {
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

fn default_trace_dir() -> std::path::PathBuf {
    cgchecks::report::dir()
        .with_file_name("cgcheck")
        .join("traces")
}

/// Writes the trace of `o` (which found a violation) to `path`.
fn write_trace(
    path: &std::path::Path,
    sc: &Scenario,
    cfg: &cgmodel::Config,
    o: &Outcome,
    opts: &RunOpts,
) -> Result<(), String> {
    let v = o.violation.as_ref().expect("a violation to trace");
    let text = cgchecks::tracefile::write(
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

fn trace_name(sc: &str, design: Design, faults: Faults) -> String {
    if faults.is_empty() {
        format!("{sc}--{design}.trace")
    } else {
        format!("{sc}--{}.trace", faults.to_string().replace(',', "+"))
    }
}

fn outcome_json(o: &Outcome) -> Value {
    json!({
        "executions": o.executions,
        "seconds": o.seconds,
        "bound": o.bound,
        "violation": o.violation.as_ref().map(|v| json!({"kind": format!("{:?}", v.kind), "name": v.name, "detail": v.detail})),
    })
}

/// Prints a line to stdout; a closed pipe (`cgcheck list | head`) ends the program quietly.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write;
        if writeln!(std::io::stdout().lock(), $($t)*).is_err() {
            std::process::exit(0);
        }
    }};
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("cgcheck: {msg}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Violations travel as panics inside the model checkers, which catch and classify them;
    // their default hook output (and backtraces) would only bury the report.
    std::panic::set_hook(Box::new(|_| {}));
    let env_faults = match Faults::from_env() {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    match cli.cmd {
        Cmd::List => {
            if cli.json {
                let v = json!({
                    "engine": engine_name(),
                    "scenarios": catalog().iter().map(|s| json!({"name": s.name, "about": s.about, "threads": s.threads.len()})).collect::<Vec<_>>(),
                    "designs": Design::ALL.iter().map(|d| json!({"name": d.name(), "about": d.about()})).collect::<Vec<_>>(),
                    "faults": Fault::ALL.iter().map(|f| json!({"name": f.name(), "origin": f.origin()})).collect::<Vec<_>>(),
                });
                out!("{v:#}");
            } else {
                out!("engine: {}\n\nscenarios:", engine_name());
                for s in catalog() {
                    out!("  {:<28} {}", s.name, s.about);
                }
                out!("\ndesigns:");
                for d in Design::ALL {
                    out!("  {:<28} {}", d.name(), d.about());
                }
                out!("\nfaults:");
                for f in Fault::ALL {
                    out!("  {:<28} {}", f.name(), f.origin());
                }
            }
            ExitCode::SUCCESS
        }
        Cmd::Run {
            scenario,
            design,
            faults,
            bound,
            seed,
            iterations,
            schedule,
            no_lockdep,
            trace,
        } => {
            let sc = match by_name(&scenario) {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            let design: Design = match design.parse() {
                Ok(d) => d,
                Err(e) => return fail(e),
            };
            let faults = match faults.map(|f| Faults::parse(&f)).unwrap_or(Ok(env_faults)) {
                Ok(f) => f,
                Err(e) => return fail(e),
            };
            let bound = match bound.as_deref() {
                None => None,
                Some("none") => Some(None),
                Some(b) => match b.parse::<usize>() {
                    Ok(n) => Some(Some(n)),
                    Err(_) => return fail(format!("bad --bound `{b}`: a number or `none`")),
                },
            };
            let random = match schedule.as_str() {
                "pct" => false,
                "random" => true,
                other => return fail(format!("unknown --schedule `{other}` (pct, random)")),
            };
            if iterations == 0 {
                return fail("--iterations must be at least 1");
            }
            let cfg = engine::config(&sc, design, faults, !no_lockdep);
            let opts = RunOpts {
                bound,
                seed,
                iterations,
                random,
            };
            let o = run_engine(&sc, &cfg, &opts);
            let mut trace_path = None;
            if o.violation.is_some() {
                let p = trace.unwrap_or_else(|| {
                    default_trace_dir().join(trace_name(sc.name, design, faults))
                });
                if let Err(e) = write_trace(&p, &sc, &cfg, &o, &opts) {
                    return fail(e);
                }
                trace_path = Some(p);
            }
            let expected = match (sc.expect)(design) {
                Expect::Pass => "pass",
                Expect::Finding(_) => "finding",
            };
            let verdict = match (&o.violation, faults.is_empty(), expected) {
                (None, _, _) => "pass",
                (Some(_), true, "finding") => "expected-fail",
                (Some(_), _, _) => "fail",
            };
            if cli.json {
                let mut v = outcome_json(&o);
                v["scenario"] = json!(sc.name);
                v["design"] = json!(design.name());
                v["faults"] = json!(faults.to_string());
                v["engine"] = json!(engine_name());
                v["verdict"] = json!(verdict);
                v["trace"] = json!(trace_path.as_ref().map(|p| p.display().to_string()));
                out!("{v:#}");
            } else {
                out!(
                    "{} on {} ({}, faults: {}): {} executions in {:.2}s{}",
                    sc.name,
                    design,
                    engine_name(),
                    faults,
                    o.executions,
                    o.seconds,
                    o.bound
                        .map_or(String::new(), |b| format!(", last bound {b}"))
                );
                match &o.violation {
                    None => out!("verdict: pass"),
                    Some(v) => out!("verdict: {verdict}\n{v}"),
                }
                if let Some(p) = &trace_path {
                    out!("trace: {}", p.display());
                }
            }
            if o.violation.is_some() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Cmd::Replay { file } => {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => return fail(format!("{}: {e}", file.display())),
            };
            let tf = match cgchecks::tracefile::parse(&text) {
                Ok(t) => t,
                Err(e) => return fail(format!("{}: {e}", file.display())),
            };
            replay_cmd(&tf, cli.json)
        }
        Cmd::Render {
            file,
            text: as_text,
        } => {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => return fail(format!("{}: {e}", file.display())),
            };
            match cgchecks::tracefile::parse(&text) {
                Ok(tf) if as_text => {
                    for (n, l) in cgchecks::tracefile::condensed(&tf) {
                        out!("{n:>6}  {l}");
                    }
                    ExitCode::SUCCESS
                }
                Ok(tf) => {
                    out!("{}", cgchecks::tracefile::mermaid(&tf));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(format!("{}: {e}", file.display())),
            }
        }
        Cmd::Zoo { faults, traces } => {
            let trace_dir = traces.unwrap_or_else(default_trace_dir);
            let chosen: Vec<Fault> = match faults {
                None => Fault::ALL.to_vec(),
                Some(s) => match Faults::parse(&s) {
                    Ok(f) => f.iter().collect(),
                    Err(e) => return fail(e),
                },
            };
            let mut rows = Vec::new();
            let mut missed = 0;
            for f in chosen {
                let mut row = json!({"name": f.name(), "detected": false, "scenario": null, "engine": engine_name(),
                    "seconds": 0.0, "preemptions": null, "executions": 0, "trace": null, "violation": null});
                let mut total = 0.0;
                for name in zoo::catchers(f) {
                    let sc = by_name(name).expect("catchers name catalog scenarios");
                    if cfg!(not(any(loom, feature = "loom", feature = "shuttle"))) && f.deadlocks()
                    {
                        continue; // would hang on real threads
                    }
                    let cfg = engine::config(&sc, Design::Fixed, Faults::one(f), true);
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
                        if let Err(e) = write_trace(&p, &sc, &cfg, &o, &opts) {
                            return fail(e);
                        }
                        row["trace"] = json!(p.display().to_string());
                        break;
                    }
                }
                row["seconds"] = json!(total);
                if row["detected"] != json!(true) {
                    missed += 1;
                }
                rows.push(row);
            }
            let mut secs: Vec<(f64, &str)> = rows
                .iter()
                .filter(|r| r["detected"] == json!(true))
                .map(|r| {
                    (
                        r["seconds"].as_f64().unwrap_or(0.0),
                        r["name"].as_str().unwrap_or(""),
                    )
                })
                .collect();
            secs.sort_by(|a, b| a.0.total_cmp(&b.0));
            let median = secs.get(secs.len() / 2).map_or(0.0, |x| x.0);
            let slowest = secs.last().copied().unwrap_or((0.0, "-"));
            if cli.json {
                out!(
                    "{:#}",
                    json!({"engine": engine_name(), "faults": rows, "median_seconds": median,
                        "slowest": {"fault": slowest.1, "seconds": slowest.0}, "missed": missed})
                );
            } else {
                out!(
                    "{:<28} {:<9} {:<26} {:>9} {:>11}",
                    "fault",
                    "detected",
                    "scenario",
                    "seconds",
                    "preemptions"
                );
                for r in &rows {
                    out!(
                        "{:<28} {:<9} {:<26} {:>9.3} {:>11}",
                        r["name"].as_str().unwrap_or(""),
                        r["detected"],
                        r["scenario"].as_str().unwrap_or("-"),
                        r["seconds"].as_f64().unwrap_or(0.0),
                        r["preemptions"]
                            .as_u64()
                            .map_or("-".to_string(), |p| p.to_string())
                    );
                }
                out!(
                    "\n{} of {} detected; median time to detect {median:.3}s, slowest {} ({:.3}s)",
                    rows.len() - missed,
                    rows.len(),
                    slowest.1,
                    slowest.0
                );
            }
            if missed > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

#[cfg(not(any(loom, feature = "loom", feature = "shuttle")))]
fn replay_cmd(tf: &cgchecks::tracefile::TraceFile, json_out: bool) -> ExitCode {
    let r = cgchecks::tracefile::replay(tf);
    if json_out {
        out!(
            "{:#}",
            json!({"scenario": tf.scenario, "reproduced": r.reproduced, "reason": r.reason, "steps": r.timeline.len()})
        );
    } else {
        out!(
            "{}: {} ({} steps)",
            tf.scenario,
            if r.reproduced {
                "reproduced"
            } else {
                "not reproduced"
            },
            r.timeline.len()
        );
        out!("{}", r.reason);
    }
    if r.reproduced {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(any(loom, feature = "loom", feature = "shuttle"))]
fn replay_cmd(_: &cgchecks::tracefile::TraceFile, _: bool) -> ExitCode {
    fail("replay runs on real threads: use the default build (cargo run --release -p cgroup-checks --bin cgcheck -- replay FILE)")
}
