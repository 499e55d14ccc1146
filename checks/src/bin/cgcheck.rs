//! `cgcheck`: the command-line front door of the cgroup model's checks.
//!
//! The engine is the one this binary was built with: loom (`--features loom`), shuttle
//! (`--features shuttle`) or real threads (default). Unknown names and bad flags exit with 2 and a
//! one-line error; a run that finds a violation exits with 1.

use std::process::ExitCode;

use cgchecks::engine::{self, Outcome};
use cgchecks::scenario::{by_name, catalog, Expect, LoomPlan};
use cgchecks::verify::{
    self, default_trace_dir, engine_name, run_engine, trace_name, write_trace, RunOpts,
};
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
        /// The engine: this build's (`loom`; `shuttle-pct` or `shuttle-random`; `std`). Default:
        /// loom, shuttle-pct or std, whichever this build has.
        #[arg(long)]
        engine: Option<String>,
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
    /// Verify everything: every scenario on every engine (loom and shuttle builds are made and
    /// run as needed), the fault zoo on each, and every trace in traces/ replayed; writes
    /// target/cgcheck/results.json and target/cgcheck/report.md.
    Verify {
        /// Also copy the report to docs/results.md.
        #[arg(long)]
        docs: bool,
        /// The engines, comma-separated (default: loom,shuttle,std).
        #[arg(long, default_value = "loom,shuttle,std")]
        engines: String,
    },
    /// One engine's part of `verify` (the catalog and the zoo with this build's engine), as JSON.
    #[command(hide = true)]
    VerifyPart {
        /// Where to write the JSON.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Measure this build's engine: throughput on three representative scenarios, what the
    /// instrumentation costs against the same runs without it, growth with threads and ops.
    Bench,
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
                for &d in Design::ALL {
                    out!("  {:<28} {}", d.name(), d.about());
                }
                out!("\nfaults:");
                for &f in Fault::ALL {
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
            engine: engine_flag,
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
            let built = engine_name();
            let random = match (engine_flag.as_deref(), built) {
                (None, _)
                | (Some("loom"), "loom")
                | (Some("std"), "std")
                | (Some("shuttle-pct"), "shuttle") => false,
                (Some("shuttle-random"), "shuttle") => true,
                (Some(e @ ("loom" | "std" | "shuttle-pct" | "shuttle-random")), _) => {
                    let feature = match e {
                        "loom" => "--features loom",
                        "std" => "no engine feature",
                        _ => "--features shuttle",
                    };
                    return fail(format!("this cgcheck was built for {built}; build it with {feature} to use --engine {e}"));
                }
                (Some(other), _) => {
                    return fail(format!(
                        "unknown --engine `{other}` (loom, shuttle-pct, shuttle-random, std)"
                    ))
                }
            };
            if iterations == 0 {
                return fail("--iterations must be at least 1");
            }
            if let (true, LoomPlan::ShuttleOnly(why)) = (built == "loom", sc.loom) {
                return fail(format!(
                    "{} is not loom's to run ({why}): use the shuttle build (--features shuttle)",
                    sc.name
                ));
            }
            let cfg = engine::config(&sc, design, faults, !no_lockdep);
            let opts = RunOpts {
                bound,
                seed,
                iterations,
                random,
            };
            let spinner = verify::spinner(&format!("{} on {design}", sc.name), !cli.json);
            let o = run_engine(&sc, &cfg, &opts);
            spinner.finish_and_clear();
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
                Ok(tf) if cli.json => {
                    let steps: Vec<Value> = cgchecks::tracefile::condensed(&tf)
                        .into_iter()
                        .map(|(n, l)| json!({"step": n, "line": l}))
                        .collect();
                    out!(
                        "{:#}",
                        json!({"scenario": tf.scenario, "violation": tf.violation,
                        "mermaid": cgchecks::tracefile::mermaid(&tf), "condensed": steps})
                    );
                    ExitCode::SUCCESS
                }
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
        Cmd::VerifyPart { out } => match verify_part() {
            Ok(v) => match std::fs::write(&out, format!("{v:#}")) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(format!("{}: {e}", out.display())),
            },
            Err(e) => fail(e),
        },
        Cmd::Verify { docs, engines } => verify_cmd(docs, &engines, cli.json),
        Cmd::Bench => {
            let v = verify::bench(!cli.json);
            if cli.json {
                out!("{v:#}");
            } else {
                out!("engine: {}", v["engine"].as_str().unwrap_or(""));
                out!(
                    "\n{:<26} {:>6} {:>11} {:>9} {:>12}",
                    "scenario",
                    "bound",
                    "executions",
                    "seconds",
                    "exec/s"
                );
                for r in v["throughput"].as_array().into_iter().flatten() {
                    out!(
                        "{:<26} {:>6} {:>11} {:>9.2} {:>12.0}",
                        r["scenario"].as_str().unwrap_or(""),
                        r["bound"].as_u64().map_or("-".into(), |b| b.to_string()),
                        r["executions"].as_u64().unwrap_or(0),
                        r["seconds"].as_f64().unwrap_or(0.0),
                        r["executions_per_second"].as_f64().unwrap_or(0.0)
                    );
                }
                out!(
                    "\n{:<26} {:>14} {:>10} {:>7}  bare =",
                    "instrumentation",
                    "instrumented/s",
                    "bare/s",
                    "ratio"
                );
                for r in v["instrumentation"].as_array().into_iter().flatten() {
                    out!(
                        "{:<26} {:>14.0} {:>10.0} {:>7.2}  {}",
                        r["scenario"].as_str().unwrap_or(""),
                        r["instrumented_per_second"].as_f64().unwrap_or(0.0),
                        r["bare_per_second"].as_f64().unwrap_or(0.0),
                        r["ratio"].as_f64().unwrap_or(0.0),
                        r["bare"].as_str().unwrap_or("")
                    );
                }
                out!(
                    "\n{:>7} {:>14} {:>11} {:>9}",
                    "threads",
                    "ops/thread",
                    "executions",
                    "seconds"
                );
                for r in v["growth"].as_array().into_iter().flatten() {
                    out!(
                        "{:>7} {:>14} {:>11} {:>9.2}",
                        r["threads"].as_u64().unwrap_or(0),
                        r["ops_per_thread"].as_u64().unwrap_or(0),
                        r["executions"].as_u64().unwrap_or(0),
                        r["seconds"].as_f64().unwrap_or(0.0)
                    );
                }
            }
            ExitCode::SUCCESS
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
            let rows = match verify::zoo_rows(&chosen, &trace_dir, !cli.json) {
                Ok(r) => r,
                Err(e) => return fail(e),
            };
            let missed = rows.iter().filter(|r| r["detected"] != json!(true)).count();
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

/// This build's part of `verify`: the catalog and the zoo, traces under target/cgcheck/traces/ENGINE.
fn verify_part() -> Result<Value, String> {
    let dir = default_trace_dir().join(engine_name());
    let scenarios = verify::catalog_rows(&dir, true)?;
    let faults = verify::zoo_rows(Fault::ALL, &dir, true)?;
    Ok(json!({"engine": engine_name(), "scenarios": scenarios, "faults": faults}))
}

#[cfg(any(loom, feature = "loom", feature = "shuttle"))]
fn verify_cmd(_: bool, _: &str, _: bool) -> ExitCode {
    fail("verify builds and runs every engine itself: run it from the default build (cargo run --release -p cgroup-checks --bin cgcheck -- verify)")
}

/// Builds the loom or shuttle flavour of cgcheck (in its own target directory) and runs its
/// part of `verify`.
#[cfg(not(any(loom, feature = "loom", feature = "shuttle")))]
fn engine_part(engine: &str, out_dir: &std::path::Path) -> Result<Value, String> {
    use std::process::Command;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = out_dir.join(format!("build-{engine}"));
    eprintln!("cgcheck verify: building the {engine} engine");
    let st = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "cgroup-checks",
            "--bin",
            "cgcheck",
            "--features",
            engine,
        ])
        .arg("--target-dir")
        .arg(&target)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .status()
        .map_err(|e| format!("running {cargo}: {e}"))?;
    if !st.success() {
        return Err(format!("building the {engine} engine failed"));
    }
    let json = out_dir.join(format!("part-{engine}.json"));
    eprintln!("cgcheck verify: running the {engine} engine");
    let st = Command::new(target.join("release").join("cgcheck"))
        .arg("verify-part")
        .arg("--out")
        .arg(&json)
        .status()
        .map_err(|e| format!("running the {engine} engine: {e}"))?;
    if !st.success() {
        return Err(format!("the {engine} engine's run failed"));
    }
    let text = std::fs::read_to_string(&json).map_err(|e| format!("{}: {e}", json.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", json.display()))
}

#[cfg(not(any(loom, feature = "loom", feature = "shuttle")))]
fn verify_cmd(docs: bool, engines: &str, json_out: bool) -> ExitCode {
    let out_dir = default_trace_dir()
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    let out_dir = std::fs::create_dir_all(&out_dir)
        .and_then(|_| std::fs::canonicalize(&out_dir))
        .unwrap_or(out_dir);
    if let Err(e) = std::fs::create_dir_all(&out_dir) {
        return fail(format!("{}: {e}", out_dir.display()));
    }
    let mut parts = Vec::new();
    for e in engines.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let part = match e {
            "loom" | "shuttle" => engine_part(e, &out_dir),
            "std" => verify_part(),
            other => return fail(format!("unknown engine `{other}` (loom, shuttle, std)")),
        };
        match part {
            Ok(p) => parts.push(p),
            Err(err) => return fail(err),
        }
    }
    // Every committed trace, replayed on real threads.
    let traces_dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../traces"));
    let mut files: Vec<_> = std::fs::read_dir(traces_dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "trace"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let pb = verify::progress(files.len(), "replay", true);
    let mut replays = Vec::new();
    for f in &files {
        pb.set_message(
            f.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default(),
        );
        let row = match std::fs::read_to_string(f)
            .map_err(|e| e.to_string())
            .and_then(|t| cgchecks::tracefile::parse(&t).map_err(|e| e.to_string()))
        {
            Ok(tf) => {
                let r = cgchecks::tracefile::replay(&tf);
                json!({"file": format!("traces/{}", f.file_name().unwrap_or_default().to_string_lossy()), "reproduced": r.reproduced, "reason": r.reason, "steps": r.timeline.len()})
            }
            Err(e) => json!({"file": f.display().to_string(), "reproduced": false, "reason": e}),
        };
        replays.push(row);
        pb.inc(1);
    }
    pb.finish_and_clear();
    // Merge: every scenario row; per fault, the first engine that caught it (loom first: it gives
    // the fewest preemptions), with every engine's row kept under fault_runs.
    let scenarios: Vec<Value> = parts
        .iter()
        .flat_map(|p| p["scenarios"].as_array().cloned().unwrap_or_default())
        .collect();
    let runs: Vec<Value> = parts
        .iter()
        .flat_map(|p| p["faults"].as_array().cloned().unwrap_or_default())
        .collect();
    let faults: Vec<Value> = Fault::ALL
        .iter()
        .map(|f| {
            let mine: Vec<&Value> = runs.iter().filter(|r| r["name"] == f.name()).collect();
            mine.iter()
                .find(|r| r["detected"] == json!(true))
                .or(mine.first())
                .map(|r| (*r).clone())
                .unwrap_or_else(|| json!({"name": f.name(), "detected": false}))
        })
        .collect();
    let failed: Vec<&Value> = scenarios
        .iter()
        .filter(|r| r["verdict"] == "fail")
        .collect();
    let missed: Vec<&Value> = faults
        .iter()
        .filter(|r| r["detected"] != json!(true))
        .collect();
    let unreproduced: Vec<&Value> = replays
        .iter()
        .filter(|r| r["reproduced"] != json!(true))
        .collect();
    let ok = failed.is_empty() && missed.is_empty() && unreproduced.is_empty();
    let results = json!({
        "ok": ok, "engines": engines, "scenarios": scenarios, "faults": faults,
        "fault_runs": runs, "replays": replays,
    });
    let results_path = out_dir.join("results.json");
    let report = verify_report(&results);
    for (p, text) in [
        (results_path.clone(), format!("{results:#}")),
        (out_dir.join("report.md"), report.clone()),
    ] {
        if let Err(e) = std::fs::write(&p, text) {
            return fail(format!("{}: {e}", p.display()));
        }
    }
    if docs {
        let p = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/results.md"));
        if let Err(e) = std::fs::write(p, &report) {
            return fail(format!("{}: {e}", p.display()));
        }
    }
    if json_out {
        out!("{results:#}");
    } else {
        out!("{}", verify_summary(&results));
        out!(
            "wrote {} and {}",
            results_path.display(),
            out_dir.join("report.md").display()
        );
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The short summary `verify` prints.
#[cfg(not(any(loom, feature = "loom", feature = "shuttle")))]
fn verify_summary(r: &Value) -> String {
    let arr = |k: &str| r[k].as_array().cloned().unwrap_or_default();
    let sc = arr("scenarios");
    let count = |v: &str| sc.iter().filter(|x| x["verdict"] == v).count();
    let mut s = String::from(
        "engine           runs   pass  expected-fail  fail     executions    seconds\n",
    );
    let mut engines: Vec<String> = sc
        .iter()
        .filter_map(|x| x["engine"].as_str().map(String::from))
        .collect();
    engines.dedup();
    engines.sort();
    engines.dedup();
    for e in &engines {
        let rows: Vec<&Value> = sc.iter().filter(|x| x["engine"] == e.as_str()).collect();
        let by = |v: &str| rows.iter().filter(|x| x["verdict"] == v).count();
        let ex: u64 = rows.iter().filter_map(|x| x["executions"].as_u64()).sum();
        let secs: f64 = rows.iter().filter_map(|x| x["seconds"].as_f64()).sum();
        s += &format!(
            "{e:<16} {:>5} {:>6} {:>14} {:>5} {ex:>14} {secs:>10.1}\n",
            rows.len(),
            by("pass"),
            by("expected-fail"),
            by("fail")
        );
    }
    let faults = arr("faults");
    let detected = faults
        .iter()
        .filter(|f| f["detected"] == json!(true))
        .count();
    let replays = arr("replays");
    let reproduced = replays
        .iter()
        .filter(|f| f["reproduced"] == json!(true))
        .count();
    s += &format!(
        "\nscenario runs: {} pass, {} expected-fail (documented findings), {} fail\nfaults detected: {detected} of {}\ntraces reproduced: {reproduced} of {}\nverdict: {}",
        count("pass"),
        count("expected-fail"),
        count("fail"),
        faults.len(),
        replays.len(),
        if r["ok"] == json!(true) { "OK" } else { "FAILED" }
    );
    s
}

/// The Markdown report `verify` writes (and `--docs` copies to docs/results.md).
#[cfg(not(any(loom, feature = "loom", feature = "shuttle")))]
fn verify_report(r: &Value) -> String {
    let arr = |k: &str| r[k].as_array().cloned().unwrap_or_default();
    let mut s = String::from("# Verification results\n\nRegenerate with `cargo run --release -p cgroup-checks --bin cgcheck -- verify --docs` (it builds and runs the loom and shuttle engines itself). Machine-readable: `target/cgcheck/results.json`.\n\n## Summary\n\n```text\n");
    s += &verify_summary(r);
    s += "\n```\n\n## Scenarios\n\n| scenario | design | engine | verdict | executions | seconds | bound |\n|---|---|---|---|---|---|---|\n";
    for x in arr("scenarios") {
        s += &format!(
            "| `{}` | {} | {} | {} | {} | {:.2} | {} |\n",
            x["name"].as_str().unwrap_or(""),
            x["design"].as_str().unwrap_or(""),
            x["engine"].as_str().unwrap_or(""),
            x["verdict"].as_str().unwrap_or(""),
            x["executions"],
            x["seconds"].as_f64().unwrap_or(0.0),
            x["bound"]
                .as_u64()
                .map_or("-".to_string(), |b| b.to_string())
        );
    }
    s += "\n## Faults\n\n| fault | detected | scenario | engine | seconds | preemptions |\n|---|---|---|---|---|---|\n";
    for x in arr("faults") {
        s += &format!(
            "| `{}` | {} | {} | {} | {:.3} | {} |\n",
            x["name"].as_str().unwrap_or(""),
            x["detected"],
            x["scenario"].as_str().unwrap_or("-"),
            x["engine"].as_str().unwrap_or("-"),
            x["seconds"].as_f64().unwrap_or(0.0),
            x["preemptions"]
                .as_u64()
                .map_or("-".to_string(), |b| b.to_string())
        );
    }
    s += "\n## Trace replays\n\n| trace | reproduced | steps |\n|---|---|---|\n";
    for x in arr("replays") {
        s += &format!(
            "| `{}` | {} | {} |\n",
            x["file"].as_str().unwrap_or(""),
            x["reproduced"],
            x["steps"]
        );
    }
    s
}
