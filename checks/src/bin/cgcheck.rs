//! `cgcheck`: the command-line front door of the cgroup model's checks: argument parsing and
//! dispatch; the work is in the `cgchecks` library. The file is long because each of its nine
//! subcommands has its arguments, its text output and its JSON output here.
//!
//! The engine is the one this binary was built with: loom (`--features loom`), shuttle
//! (`--features shuttle`) or real threads (default). Unknown names and bad flags exit with 2 and a
//! one-line error; a run that finds a violation exits with 1.

use std::path::PathBuf;
use std::process::ExitCode;

use cgchecks::engine::{self, Bound, Engine, RunOpts};
use cgchecks::scenario::{self, LoomPlan};
use cgchecks::verify::{self, default_trace_dir, trace_name, write_trace};
use cgchecks::{explore, tracefile, Verdict};
use cgmodel::sim::rcu::Preemption;
use cgmodel::sim::sync::{Backend, BACKEND};
use cgmodel::{Design, Fault, Faults};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand};
use serde_json::json;

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

fn design_parser() -> impl TypedValueParser<Value = Design> {
    PossibleValuesParser::new(
        Design::ALL
            .iter()
            .map(|d| PossibleValue::new(d.name()).help(d.about())),
    )
    .map(|s| s.parse::<Design>().expect("a listed design"))
}

fn fault_parser() -> impl TypedValueParser<Value = Fault> {
    PossibleValuesParser::new(Fault::ALL.iter().map(|f| PossibleValue::new(f.name())))
        .map(|s| s.parse::<Fault>().expect("a listed fault"))
}

fn preempt_parser() -> impl TypedValueParser<Value = Preemption> {
    PossibleValuesParser::new([
        PossibleValue::new("full").help("CONFIG_PREEMPT: kernel code is preemptible"),
        PossibleValue::new("none")
            .help("CONFIG_PREEMPT_NONE: kernel code leaves its CPU where it sleeps"),
    ])
    .map(|s| s.parse::<Preemption>().expect("a listed preemption model"))
}

fn backend_parser() -> impl TypedValueParser<Value = Backend> {
    PossibleValuesParser::new(["loom", "shuttle", "std"]).map(|s| match s.as_str() {
        "loom" => Backend::Loom,
        "shuttle" => Backend::Shuttle,
        _ => Backend::Std,
    })
}

#[derive(Subcommand)]
enum Cmd {
    /// List the scenarios, designs and faults.
    List,
    /// Check one scenario (a catalog name, or a path to a .scn file) with this build's engine.
    Run {
        /// The scenario's name (see `cgcheck list`), or a path to a scenario file.
        scenario: String,
        /// The design.
        #[arg(long, default_value = "v2.6.34", value_parser = design_parser())]
        design: Design,
        /// Faults to inject, comma-separated (default: none, or CGROUP_MODEL_FAULTS).
        #[arg(long, value_delimiter = ',', value_parser = fault_parser())]
        faults: Option<Vec<Fault>>,
        /// loom: the largest preemption bound, or `none` for exhaustive (default: the scenario's plan).
        #[arg(long)]
        bound: Option<Bound>,
        /// shuttle: the seed.
        #[arg(long, default_value_t = 0x5eed)]
        seed: u64,
        /// shuttle and std: executions to run.
        #[arg(long, default_value = "1000")]
        iterations: std::num::NonZeroUsize,
        /// The engine (default: this build's: loom, shuttle-pct or std).
        #[arg(long, value_enum)]
        engine: Option<Engine>,
        /// Turn lockdep off (loom only), so loom's causality check reports unlocked accesses.
        #[arg(long)]
        no_lockdep: bool,
        /// The preemption model, over the scenario's: `full` (CONFIG_PREEMPT) or `none`
        /// (CONFIG_PREEMPT_NONE: kernel code leaves its CPU only where it sleeps).
        #[arg(long, value_parser = preempt_parser())]
        preempt: Option<Preemption>,
        /// loom: explore without the reduction (sleep sets, enabling order), repeating
        /// behaviours; the verdict and the classes are the same (`cgcheck reduction`).
        #[arg(long)]
        no_reduction: bool,
        /// Where to write the trace of a violation (default: target/cgcheck/traces/).
        #[arg(long)]
        trace: Option<PathBuf>,
    },
    /// Replay a trace file on real threads: exit 0 if the same violation is reproduced, 1 if
    /// not, 2 if the file is malformed.
    Replay {
        /// The trace file.
        file: PathBuf,
    },
    /// Render a trace file as a Mermaid sequence diagram (or, with --text, the condensed timeline).
    Render {
        /// The trace file.
        file: PathBuf,
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
        /// The builds, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "loom,shuttle,std", value_parser = backend_parser())]
        engines: Vec<Backend>,
        /// Instead: every catalog row with loom again without its reduction, compared with the
        /// reduced run (the nightly job; docs/performance.md), after an estimate of its time.
        #[arg(long, conflicts_with_all = ["docs", "engines"])]
        deep: bool,
        /// With --deep: only shard K of N (`K/N`), the jobs whose index is K-1 modulo N.
        #[arg(long, default_value = "1/1", requires = "deep")]
        shard: String,
        /// With --deep: print the estimate and stop.
        #[arg(long, requires = "deep")]
        estimate: bool,
        /// With --deep: merge the JSON outputs of every shard (`verify-part --deep --out`, or
        /// `verify --deep --json`) into one report instead of running.
        #[arg(long, requires = "deep", num_args = 1.., conflicts_with_all = ["shard", "estimate"])]
        merge: Option<Vec<PathBuf>>,
    },
    /// One build's part of `verify` (the catalog and the zoo with this build's engines), as JSON.
    #[command(hide = true)]
    VerifyPart {
        /// Where to write the JSON.
        #[arg(long)]
        out: PathBuf,
        /// The deep part instead (see `verify --deep`).
        #[arg(long)]
        deep: bool,
        /// With --deep: the shard, `K/N`.
        #[arg(long, default_value = "1/1")]
        shard: String,
        /// With --deep: the estimate only.
        #[arg(long)]
        estimate: bool,
    },
    /// Measure this build's engine: throughput on three representative scenarios, what the
    /// instrumentation costs against the same runs without it, growth with threads and ops.
    Bench,
    /// Check the design review's marked figures (`<!--f:KEY-->VALUE<!--/f-->`) against the
    /// results and the traces: exit 0 if every figure agrees, 1 naming each that does not, 2 if
    /// the evidence cannot be read. With --write, write the evidence's values in instead.
    Figures {
        /// The results to hold the figures to: a `results.json` that `verify` wrote (default:
        /// docs/results.md, the committed ones).
        #[arg(long)]
        results: Option<PathBuf>,
        /// The review (default: docs/design-review.md).
        #[arg(long)]
        review: Option<PathBuf>,
        /// Write the values in instead of checking.
        #[arg(long)]
        write: bool,
    },
    /// Check the anchor map against a kernel tree: each kernel function the model mirrors is
    /// unchanged, moved, changed or missing (exit 0 if all are unchanged, 1 on drift, 2 if the
    /// tree cannot be read).
    Anchors {
        /// The kernel tree (the directory holding kernel/, include/, net/...).
        #[arg(long, required_unless_present = "markdown")]
        kernel: Option<PathBuf>,
        /// The map to check (default: the model's, model/anchors.tsv).
        #[arg(long)]
        map: Option<PathBuf>,
        /// The model source whose step lines (`cx.at(LINE)`) are checked against the map and
        /// the tree (default: the model's, model/src, unless --map names another map).
        #[arg(long, conflicts_with = "markdown")]
        model: Option<PathBuf>,
        /// Rewrite the map's lines and digests from the tree instead of checking.
        #[arg(long, conflicts_with = "markdown")]
        write: bool,
        /// Print the map as docs/model.md's table instead of checking (no tree needed).
        #[arg(long)]
        markdown: bool,
    },
    /// Explore every small scenario: each well-formed scenario of the named setups up to
    /// --threads × --ops (counted once up to symmetry) on each design, failures grouped by
    /// signature with their smallest witness written as a scenario file and a trace; exit 0 if
    /// every group is triaged (a catalog finding, or in checks/explore/triage.tsv), 1 if one is
    /// new. With --kill, the fault kill matrix through the space instead.
    Explore {
        /// Threads, at most (scenarios of 2 up to this many).
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Operations per thread, at most.
        #[arg(long, default_value_t = 2)]
        ops: usize,
        /// The setups, comma-separated (default: all; `cgcheck explore --list` names them).
        #[arg(long, value_delimiter = ',')]
        setups: Option<Vec<String>>,
        /// The designs each scenario runs on, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "v2.6.34,fixed", value_parser = design_parser())]
        designs: Vec<Design>,
        /// loom: a preemption bound, or `none` for every interleaving with loom's reduction
        /// (shuttle runs PCT at depths 1 to 3).
        #[arg(long, default_value = "1")]
        bound: Bound,
        /// Faults to inject into every design, comma-separated (default: none, or
        /// CGROUP_MODEL_FAULTS).
        #[arg(long, value_delimiter = ',', value_parser = fault_parser(), conflicts_with = "kill")]
        faults: Option<Vec<Fault>>,
        /// Merge the state files (`--state`) of every shard of this space into one report
        /// (the groups, each with its smallest witness, as one unsharded run gives), instead of
        /// running.
        #[arg(long, num_args = 1.., conflicts_with_all = ["kill", "list", "state"])]
        merge: Option<Vec<PathBuf>>,
        /// shuttle: PCT schedules per depth.
        #[arg(long, default_value_t = 200)]
        iterations: usize,
        /// The preemption model: `full` (CONFIG_PREEMPT) or `none` (CONFIG_PREEMPT_NONE: kernel
        /// code leaves its CPU only where it sleeps).
        #[arg(long, default_value = "full", value_parser = preempt_parser())]
        preempt: Preemption,
        /// Only shard K of N (`K/N`): the scenarios whose index is K-1 modulo N.
        #[arg(long, default_value = "1/1")]
        shard: String,
        /// Only every N-th scenario of the shard (a sample, for CI).
        #[arg(long, default_value_t = 1)]
        sample: usize,
        /// Keep progress in this file and resume from it.
        #[arg(long)]
        state: Option<PathBuf>,
        /// Where to write the groups and the summary (default: target/cgcheck/explore).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The fault kill matrix: with each fault (these, comma-separated, or every one) in the
        /// fixed design, the first scenario of the space that catches it.
        #[arg(long, value_delimiter = ',', num_args = 0.., value_parser = fault_parser())]
        kill: Option<Vec<Fault>>,
        /// List the setups and the size of the space, and run nothing.
        #[arg(long)]
        list: bool,
        /// The triage table (default: checks/explore/triage.tsv).
        #[arg(long)]
        triage: Option<PathBuf>,
    },
    /// Check loom's reduction (the loom build): every catalog row reduced, as verify runs it,
    /// and without the reduction; the same verdict and violation, and for a pass the same
    /// classes, or where the unreduced run cannot finish, every class of it at a preemption
    /// bound. Exit 0 if every row agrees, 1 if one does not.
    Reduction {
        /// Only these scenarios (comma-separated; default: every one loom runs).
        #[arg(long, value_delimiter = ',')]
        scenarios: Option<Vec<String>>,
        /// The designs, comma-separated (default: all).
        #[arg(long, value_delimiter = ',', value_parser = design_parser())]
        designs: Option<Vec<Design>>,
        /// Executions an unreduced unbounded run may take before it counts as unfinished and
        /// runs at a bound instead (3 for two threads, 2 for more).
        #[arg(long, default_value_t = 20_000)]
        cap: usize,
    },
    /// Run small programs whose class counts are known (N readers, readers and a writer, N
    /// lock-increment threads, a ticket lock; the loom build) under loom with and without its
    /// reduction, against the count an optimal DPOR checker explores. Exit 1 if a run meets
    /// other classes than the closed form, or the reduced run takes more executions.
    Shapes,
    /// Run the fault zoo: for every fault, hunt it with its catcher scenarios.
    Zoo {
        /// Only these faults (comma-separated).
        #[arg(long, value_delimiter = ',', value_parser = fault_parser())]
        faults: Option<Vec<Fault>>,
        /// Directory for the trace of each detected fault (default: target/cgcheck/traces).
        #[arg(long)]
        traces: Option<PathBuf>,
    },
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

fn json_out<T: serde::Serialize>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => out!("{s}"),
        Err(e) => eprintln!("cgcheck: {e}"),
    }
}

/// clap's error, as one line: `invalid value 'x' for '--design <DESIGN>' [possible values: ...]`.
fn one_line(e: &clap::Error) -> String {
    e.render()
        .to_string()
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("For more information") && !l.starts_with("Usage:")
        })
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => return fail(one_line(&e)),
    };
    // Violations travel as panics inside the model checkers, which catch and classify them;
    // their default hook output (and backtraces) would only bury the report.
    std::panic::set_hook(Box::new(|_| {}));
    let env_faults = match Faults::from_env() {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    if let Err(e) = scenario::try_catalog() {
        return fail(e);
    }
    match cli.cmd {
        Cmd::List => list(cli.json),
        Cmd::Run {
            scenario,
            design,
            faults,
            bound,
            seed,
            iterations,
            engine,
            no_lockdep,
            preempt,
            no_reduction,
            trace,
        } => {
            let faults = faults.map_or(env_faults, |v| {
                v.into_iter().fold(Faults::NONE, Faults::with)
            });
            let opts = RunOpts {
                bound,
                seed,
                iterations: iterations.get(),
                reduce: !no_reduction,
                classes: true,
            };
            run(
                &scenario, design, faults, engine, opts, no_lockdep, preempt, trace, cli.json,
            )
        }
        Cmd::Replay { file } => replay(&file, cli.json),
        Cmd::Render { file, text } => render(&file, text, cli.json),
        Cmd::Verify {
            deep: true,
            merge: Some(files),
            ..
        } => deep_merge(&files, cli.json),
        Cmd::Verify {
            deep: true,
            shard,
            estimate,
            ..
        } => match parse_shard(&shard) {
            Some(k) => deep_cmd(k, estimate, cli.json),
            None => fail("bad --shard: K/N, e.g. 1/4"),
        },
        Cmd::Verify { docs, engines, .. } => verify_cmd(&engines, docs, cli.json),
        Cmd::VerifyPart {
            out,
            deep,
            shard,
            estimate,
        } => {
            let written = if deep {
                parse_shard(&shard)
                    .ok_or_else(|| "bad --shard: K/N, e.g. 1/4".to_string())
                    .and_then(|k| deep_part(k, estimate))
                    .and_then(|p| write_json(&out, &p))
            } else {
                verify::part(true).and_then(|p| write_json(&out, &p))
            };
            match written {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
        Cmd::Bench => bench(cli.json),
        Cmd::Figures {
            results,
            review,
            write,
        } => figures(results.as_deref(), review.as_deref(), write),
        Cmd::Anchors {
            kernel,
            map,
            model,
            write,
            markdown,
        } => match kernel {
            Some(k) if !markdown => anchors(&k, map.as_deref(), model.as_deref(), write, cli.json),
            _ => anchors_markdown(map.as_deref()),
        },
        Cmd::Explore {
            threads,
            ops,
            setups,
            designs,
            bound,
            faults,
            merge,
            iterations,
            preempt,
            shard,
            sample,
            state,
            out,
            kill,
            list,
            triage,
        } => {
            let mut o = explore::Options::new();
            o.preempt = preempt;
            if let Some(t) = triage {
                o.triage = t;
            }
            if let Some(names) = setups {
                match names.iter().map(|n| explore::space::setup(n)).collect() {
                    Ok(s) => o.setups = s,
                    Err(e) => return fail(e),
                }
            }
            let Some(shard) = parse_shard(&shard) else {
                return fail("bad --shard: K/N, e.g. 1/4");
            };
            o.threads = threads;
            o.ops = ops;
            o.designs = designs;
            o.bound = match bound {
                Bound::Exhaustive => None,
                Bound::Preemptions(b) => Some(b),
                b => return fail(format!("explore takes a preemption bound or none, not {b}")),
            };
            o.faults = faults.map_or(env_faults, |v| {
                v.into_iter().fold(Faults::NONE, Faults::with)
            });
            o.iterations = iterations;
            o.shard = shard;
            o.sample = sample;
            o.state = state;
            o.show = !cli.json;
            if let Some(out) = out {
                o.out = out;
            }
            if let Some(files) = merge {
                explore_merge(&files, &o, cli.json)
            } else if list {
                explore_list(&o, cli.json)
            } else if let Some(k) = kill {
                let faults = if k.is_empty() { Fault::ALL.to_vec() } else { k };
                explore_kill(&faults, &o, cli.json)
            } else {
                explore_cmd(&o, cli.json)
            }
        }
        Cmd::Reduction {
            scenarios,
            designs,
            cap,
        } => reduction(
            scenarios.as_deref(),
            &designs.unwrap_or_else(|| Design::ALL.to_vec()),
            cap,
            cli.json,
        ),
        Cmd::Shapes => shapes(cli.json),
        Cmd::Zoo { faults, traces } => {
            let chosen = faults.unwrap_or_else(|| Fault::ALL.to_vec());
            zoo(&chosen, traces.unwrap_or_else(default_trace_dir), cli.json)
        }
    }
}

fn list(as_json: bool) -> ExitCode {
    let cat = scenario::catalog();
    if as_json {
        json_out(&json!({
            "engine": Engine::default_built(),
            "scenarios": cat.iter().map(|s| json!({"name": s.name, "about": s.about, "threads": s.threads.len()})).collect::<Vec<_>>(),
            "designs": Design::ALL.iter().map(|d| json!({"name": d.name(), "about": d.about()})).collect::<Vec<_>>(),
            "faults": Fault::ALL.iter().map(|f| json!({"name": f.name(), "origin": f.origin()})).collect::<Vec<_>>(),
        }));
    } else {
        out!("engine: {}\n\nscenarios:", Engine::default_built());
        for s in cat {
            out!("  {:<34} {}", s.name, s.about);
        }
        out!("\ndesigns:");
        for d in Design::ALL {
            out!("  {:<34} {}", d.name(), d.about());
        }
        out!("\nfaults:");
        for f in Fault::ALL {
            out!("  {:<34} {}", f.name(), f.origin());
        }
    }
    ExitCode::SUCCESS
}

#[allow(clippy::too_many_arguments)]
fn run(
    name: &str,
    design: Design,
    faults: Faults,
    engine: Option<Engine>,
    opts: RunOpts,
    no_lockdep: bool,
    preempt: Option<Preemption>,
    trace: Option<PathBuf>,
    as_json: bool,
) -> ExitCode {
    let sc = match scenario::resolve(name) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let engine = engine.unwrap_or_else(Engine::default_built);
    if !Engine::built().contains(&engine) {
        return fail(format!(
            "this cgcheck was built for {BACKEND}; build it with {} to use --engine {engine}",
            engine.build_flag()
        ));
    }
    if let (Engine::Loom, LoomPlan::ShuttleOnly(why)) = (engine, &sc.loom) {
        return fail(format!(
            "{} is not loom's to run ({why}): use the shuttle build (--features shuttle)",
            sc.name
        ));
    }
    let mut cfg = engine::config(&sc, design, faults, !no_lockdep);
    if let Some(p) = preempt {
        cfg.preempt = p;
        if let Err(e) = cfg.apply_settings("") {
            return fail(format!("{}: with --preempt {p}: {e}", sc.name));
        }
    }
    let spinner = verify::spinner(&format!("{} on {design}", sc.name), !as_json);
    let o = match engine::run_scenario(&sc, &cfg, engine, &opts) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    spinner.finish_and_clear();
    let mut trace_path = None;
    if o.violation.is_some() {
        let p =
            trace.unwrap_or_else(|| default_trace_dir().join(trace_name(&sc.name, design, faults)));
        if let Err(e) = write_trace(&p, &sc, &cfg, &o, &opts) {
            return fail(e);
        }
        trace_path = Some(p);
    }
    // With a fault injected every violation is a catch, not a documented finding.
    let verdict = match (faults.is_empty(), cgchecks::verdict(&sc, design, &o).0) {
        (false, _) if o.violation.is_some() => Verdict::Fail,
        (false, _) => Verdict::Pass,
        (true, v) => v,
    };
    if as_json {
        json_out(&json!({
            "scenario": sc.name, "design": design.name(), "faults": faults.to_string(),
            "engine": o.engine, "verdict": verdict, "executions": o.executions,
            "pruned": o.pruned, "classes": o.classes.len(), "seconds": o.seconds, "bound": o.bound, "covers": o.covers(sc.threads.len(), &opts),
            "violation": o.violation.as_ref().map(|v| json!({"kind": format!("{:?}", v.kind), "name": v.name, "detail": v.detail})),
            "trace": trace_path.as_ref().map(|p| p.display().to_string()),
        }));
    } else {
        out!(
            "{} on {design} ({}, faults: {faults}): {} executions in {:.2}s, {}",
            sc.name,
            o.engine,
            o.executions,
            o.seconds,
            o.bound
        );
        out!("covers: {}", o.covers(sc.threads.len(), &opts));
        match &o.violation {
            None => out!("verdict: {verdict}"),
            Some(v) => out!("verdict: {verdict}\n{v}"),
        }
        if let Some(p) = &trace_path {
            out!("trace: {}", p.display());
        }
    }
    if o.violation.is_some() || verdict == Verdict::Missed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn read_trace(file: &std::path::Path) -> Result<tracefile::TraceFile, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    tracefile::parse(&text).map_err(|e| format!("{}: {e}", file.display()))
}

fn replay(file: &std::path::Path, as_json: bool) -> ExitCode {
    let tf = match read_trace(file) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    if BACKEND != Backend::Std {
        return fail("replay runs on real threads: use the default build (cargo run --release -p cgroup-checks --bin cgcheck -- replay FILE)");
    }
    #[cfg(backend_std)]
    {
        let r = tracefile::replay(&tf);
        if as_json {
            json_out(
                &json!({"scenario": tf.scenario, "reproduced": r.reproduced, "reason": r.reason, "steps": r.timeline.len()}),
            );
        } else {
            let what = if r.reproduced {
                "reproduced"
            } else {
                "not reproduced"
            };
            out!(
                "{}: {what} ({} steps)\n{}",
                tf.scenario,
                r.timeline.len(),
                r.reason
            );
        }
        if r.reproduced {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    }
    #[cfg(not(backend_std))]
    {
        let _ = (tf, as_json);
        unreachable!("checked above")
    }
}

fn render(file: &std::path::Path, as_text: bool, as_json: bool) -> ExitCode {
    let tf = match read_trace(file) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    if as_json {
        let steps: Vec<_> = tracefile::condensed(&tf)
            .into_iter()
            .map(|(n, l)| json!({"step": n, "line": l}))
            .collect();
        json_out(&json!({"scenario": tf.scenario, "violation": tf.violation,
            "mermaid": tracefile::mermaid(&tf), "condensed": steps}));
    } else if as_text {
        for (n, l) in tracefile::condensed(&tf) {
            out!("{n:>6}  {l}");
        }
    } else {
        out!("{}", tracefile::mermaid(&tf));
    }
    ExitCode::SUCCESS
}

/// `K/N` with 1 <= K <= N.
fn parse_shard(s: &str) -> Option<(usize, usize)> {
    let (k, n) = s.split_once('/')?;
    let (k, n) = (k.parse().ok()?, n.parse().ok()?);
    (k >= 1 && k <= n).then_some((k, n))
}

fn write_json<T: serde::Serialize>(path: &std::path::Path, v: &T) -> Result<(), String> {
    let s = serde_json::to_string_pretty(v).map_err(|e| e.to_string())?;
    std::fs::write(path, s).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(backend_loom)]
fn deep_part(k: (usize, usize), estimate: bool) -> Result<verify::deep::DeepPart, String> {
    verify::deep::part(k, estimate, true)
}

#[cfg(not(backend_loom))]
fn deep_part(_: (usize, usize), _: bool) -> Result<verify::deep::DeepPart, String> {
    Err(format!(
        "the deep part runs loom: this build runs {BACKEND}; build with --features loom"
    ))
}

/// Prints a deep part (a shard's, or the merge of all of them) and its exit code.
fn deep_report(p: &verify::deep::DeepPart, estimate: bool, as_json: bool) -> ExitCode {
    if as_json {
        json_out(p);
    } else if estimate {
        out!("{}", verify::deep::estimate_table(&p.estimates));
    } else {
        out!("{}", cgchecks::reduction::table(&p.rows));
        out!("deep shard {}", p.shard);
    }
    if verify::deep::agrees(p) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn deep_merge(files: &[PathBuf], as_json: bool) -> ExitCode {
    let mut parts = Vec::new();
    for f in files {
        let part = std::fs::read_to_string(f)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()));
        match part {
            Ok(p) => parts.push(p),
            Err(e) => return fail(format!("{}: {e}", f.display())),
        }
    }
    match verify::deep::merge(parts) {
        Ok(p) => deep_report(&p, false, as_json),
        Err(e) => fail(e),
    }
}

fn deep_cmd(shard: (usize, usize), estimate: bool, as_json: bool) -> ExitCode {
    if BACKEND != Backend::Std {
        return fail(
            "verify --deep builds and runs the loom engine itself: run it from the default build",
        );
    }
    #[cfg(backend_std)]
    {
        match verify::verify_deep(shard, estimate) {
            Ok(p) => deep_report(&p, estimate, as_json),
            Err(e) => fail(e),
        }
    }
    #[cfg(not(backend_std))]
    {
        let _ = (shard, estimate, as_json);
        unreachable!("checked above")
    }
}

fn verify_cmd(backends: &[Backend], docs: bool, as_json: bool) -> ExitCode {
    if BACKEND != Backend::Std {
        return fail("verify builds and runs every engine itself: run it from the default build (cargo run --release -p cgroup-checks --bin cgcheck -- verify)");
    }
    #[cfg(backend_std)]
    {
        let r = match verify::verify(backends, docs, true) {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        if as_json {
            json_out(&r);
        } else {
            out!("{}", verify::report::summary(&r));
            let dir = verify::out_dir();
            out!(
                "wrote {} and {}",
                dir.join("results.json").display(),
                dir.join("report.md").display()
            );
        }
        if r.ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    }
    #[cfg(not(backend_std))]
    {
        let _ = (backends, docs, as_json);
        unreachable!("checked above")
    }
}

fn bench(as_json: bool) -> ExitCode {
    let b = match cgchecks::bench::bench(!as_json) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    if as_json {
        json_out(&b);
        return ExitCode::SUCCESS;
    }
    out!("{b}");
    ExitCode::SUCCESS
}

fn zoo(chosen: &[Fault], trace_dir: PathBuf, as_json: bool) -> ExitCode {
    let rows = match verify::zoo_rows(chosen, &trace_dir, !as_json) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let z = verify::report::Zoo::of(&rows);
    if as_json {
        json_out(
            &json!({"engine": Engine::default_built(), "faults": rows, "median_seconds": z.median,
            "slowest": {"fault": z.slowest.0, "seconds": z.slowest.1}, "missed": z.missed}),
        );
    } else {
        out!("{}", verify::report::zoo_table(&rows, &z));
    }
    let missed = z.missed;
    if missed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(backend_loom)]
fn reduction(names: Option<&[String]>, designs: &[Design], cap: usize, as_json: bool) -> ExitCode {
    use cgchecks::reduction::{self, Agreement, Limits};
    let rows = match reduction::rows_of(names, designs) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let limits = Limits {
        cap,
        ..Limits::default()
    };
    let pb = verify::progress(rows.len(), "reduction", !as_json);
    let out = cgchecks::par::map(&rows, |&(sc, d)| {
        pb.set_message(format!("{} on {d}", sc.name));
        let r = reduction::compare(sc, d, limits);
        pb.inc(1);
        r
    });
    pb.finish_and_clear();
    if as_json {
        json_out(&out);
    } else {
        out!("{}", reduction::table(&out));
    }
    if out.iter().any(|r| r.agreement == Agreement::Mismatch) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(backend_loom)]
fn shapes(as_json: bool) -> ExitCode {
    // No violation travels as a panic here: a panic is a defect, and should say where.
    drop(std::panic::take_hook());
    let rows = cgchecks::shapes::rows();
    if as_json {
        json_out(&rows);
    } else {
        out!("{}", cgchecks::shapes::table(&rows));
    }
    let exact = |r: &cgchecks::shapes::Row| {
        r.reduced.classes == r.expected
            && r.unreduced.classes == r.expected
            && r.reduced.executions + r.reduced.stopped <= r.unreduced.executions
    };
    if rows.iter().all(exact) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(not(backend_loom))]
fn shapes(_: bool) -> ExitCode {
    fail(format!(
        "shapes runs loom: this build runs {BACKEND}; build with --features loom"
    ))
}

#[cfg(not(backend_loom))]
fn reduction(_: Option<&[String]>, _: &[Design], _: usize, _: bool) -> ExitCode {
    fail(format!(
        "reduction compares loom's runs: this build runs {BACKEND}; build with --features loom"
    ))
}

fn figures(
    results: Option<&std::path::Path>,
    review: Option<&std::path::Path>,
    write: bool,
) -> ExitCode {
    use cgchecks::figures;
    let root = verify::repo_root();
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
    };
    let default_review = root.join("docs").join("design-review.md");
    let review_path = review.unwrap_or(&default_review);
    let evidence = (|| {
        let runs = match results {
            Some(p) if p.extension().is_some_and(|x| x == "json") => {
                figures::runs_from_json(&read(p)?).map_err(|e| format!("{}: {e}", p.display()))?
            }
            Some(p) => figures::runs_from_markdown(&read(p)?),
            None => figures::runs_from_markdown(&read(&root.join("docs").join("results.md"))?),
        };
        let traces = figures::traces_in(&root.join("traces"))?;
        Ok::<_, String>(figures::Evidence { runs, traces })
    })();
    let (ev, text) = match evidence.and_then(|ev| read(review_path).map(|t| (ev, t))) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    if write {
        return match std::fs::write(review_path, figures::rewrite(&text, &ev)) {
            Ok(()) => {
                out!("wrote {}", review_path.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(format!("{}: {e}", review_path.display())),
        };
    }
    let all = figures::check(&text, &ev);
    let wrong: Vec<_> = all.iter().filter(|f| !f.agrees()).collect();
    for f in &wrong {
        let actual = match &f.actual {
            Ok(v) => format!("the evidence says {v}"),
            Err(e) => e.clone(),
        };
        out!(
            "{}:{}: `{}` says {}, {actual}\n    {}",
            review_path.display(),
            f.line,
            f.key,
            f.written,
            f.context
        );
    }
    out!(
        "{} figures: {} agree, {} do not",
        all.len(),
        all.len() - wrong.len(),
        wrong.len()
    );
    if wrong.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn anchors_markdown(map: Option<&std::path::Path>) -> ExitCode {
    let default_map = verify::repo_root().join("model").join("anchors.tsv");
    let map_path = map.unwrap_or(&default_map);
    let rows = match std::fs::read_to_string(map_path)
        .map_err(|e| e.to_string())
        .and_then(|t| cgmodel::kernel::anchors::parse_map(&t))
    {
        Ok(r) => r,
        Err(e) => return fail(format!("{}: {e}", map_path.display())),
    };
    print!("{}", cgchecks::anchors::markdown(&rows));
    ExitCode::SUCCESS
}

fn anchors(
    tree: &std::path::Path,
    map: Option<&std::path::Path>,
    model: Option<&std::path::Path>,
    write: bool,
    as_json: bool,
) -> ExitCode {
    use cgchecks::anchors::steps;
    use cgchecks::anchors::{check, write_map, Status};
    let default_map = verify::repo_root().join("model").join("anchors.tsv");
    let map_path = map.unwrap_or(&default_map);
    let text = match std::fs::read_to_string(map_path) {
        Ok(t) => t,
        Err(e) => return fail(format!("{}: {e}", map_path.display())),
    };
    if write {
        return match write_map(&text, tree).and_then(|t| {
            std::fs::write(map_path, t).map_err(|e| format!("{}: {e}", map_path.display()))
        }) {
            Ok(()) => {
                out!("wrote {}", map_path.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        };
    }
    let rows = match cgmodel::kernel::anchors::parse_map(&text) {
        Ok(r) => r,
        Err(e) => return fail(format!("{}: {e}", map_path.display())),
    };
    let findings = match check(&rows, tree) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    // The step lines: of the model's source, or of --model's; not checked when only --map
    // names another map, whose functions the model's steps would not be in.
    let default_model = verify::repo_root().join("model").join("src");
    let model_dir = match (model, map) {
        (Some(m), _) => Some((m, format!("{}/", m.display()))),
        (None, None) => Some((default_model.as_path(), "model/src/".to_string())),
        (None, Some(_)) => None,
    };
    let (step_count, lines) = match model_dir {
        None => (None, Vec::new()),
        Some((dir, shown)) => {
            let all = match steps::sources(dir, &shown) {
                Ok(s) => steps::steps(&s),
                Err(e) => return fail(e),
            };
            match cgchecks::anchors::lines::check_lines(&all, &rows, Some(tree)) {
                Ok(l) => (Some(all.len()), l),
                Err(e) => return fail(e),
            }
        }
    };
    let drift = findings
        .iter()
        .filter(|f| f.status != Status::Unchanged)
        .count()
        + lines.len();
    if as_json {
        json_out(
            &json!({"tree": tree.display().to_string(), "functions": findings.len(), "steps": step_count, "drift": drift, "findings": findings, "lines": lines}),
        );
    } else {
        for l in &lines {
            out!("{l}");
        }
        for f in findings.iter().filter(|f| f.status != Status::Unchanged) {
            let found = f.found.map_or("-".to_string(), |(a, b)| format!("{a}-{b}"));
            out!(
                "{:<10} {:<30} {:<28} map {}-{}, tree {found}",
                f.status.to_string(),
                f.function,
                f.file,
                f.expected.0,
                f.expected.1
            );
        }
        let functions_drift = drift - lines.len();
        out!(
            "{} functions: {} unchanged, {functions_drift} drifted",
            findings.len(),
            findings.len() - functions_drift
        );
        match step_count {
            Some(n) => out!(
                "{n} step lines: {} wrong (outside their function, or not a line of code)",
                lines.len()
            ),
            None => out!("step lines: not checked (--map names another map; --model to check)"),
        }
    }
    if drift > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn explore_list(o: &explore::Options, as_json: bool) -> ExitCode {
    let rows: Vec<(&str, usize, usize)> = o
        .setups
        .iter()
        .map(|su| {
            let n = explore::space::space(&[su], o.threads, o.ops).len();
            (su.name, su.ops.len(), n)
        })
        .collect();
    if as_json {
        json_out(&json!(rows
            .iter()
            .map(|(n, a, s)| json!({"setup": n, "operations": a, "scenarios": s}))
            .collect::<Vec<_>>()));
        return ExitCode::SUCCESS;
    }
    out!(
        "the space of {} threads × {} operations (scenarios of 2 to {} threads, of 1 to {} operations each):",
        o.threads,
        o.ops,
        o.threads,
        o.ops
    );
    for ((name, ops, n), su) in rows.iter().zip(&o.setups) {
        out!(
            "  {name:<10} {ops:>2} operations {n:>7} scenarios  {}",
            su.about
        );
    }
    out!(
        "  {:<10}               {:>7} scenarios",
        "all",
        rows.iter().map(|r| r.2).sum::<usize>()
    );
    ExitCode::SUCCESS
}

fn explore_merge(files: &[PathBuf], o: &explore::Options, as_json: bool) -> ExitCode {
    match explore::merge(files, o) {
        Ok(s) => explore_report(&s, o, as_json),
        Err(e) => fail(e),
    }
}

fn explore_cmd(o: &explore::Options, as_json: bool) -> ExitCode {
    match explore::explore(o) {
        Ok(s) => explore_report(&s, o, as_json),
        Err(e) => fail(e),
    }
}

fn explore_report(s: &explore::Summary, o: &explore::Options, as_json: bool) -> ExitCode {
    if as_json {
        json_out(s);
    } else {
        out!("explore: {}", s.coverage);
        out!(
            "{} scenarios (of {}) on {}: {} executions, {:.0} s in the engines, {:.0} s wall; {} groups",
            s.scenarios,
            s.space_size,
            o.designs
                .iter()
                .map(|d| d.name())
                .collect::<Vec<_>>()
                .join(", "),
            s.executions,
            s.engine_seconds,
            s.wall_seconds,
            s.groups.len()
        );
        let bound = match o.engine() {
            Ok(Engine::Loom) => "preemption(s)",
            _ => "PCT depth",
        };
        for (i, g) in s.groups.iter().enumerate() {
            out!(
                "{:>3} {:<4} {} [{} scenarios] witness `{}`, {bound} {}: {}",
                i + 1,
                if g.triaged() { "" } else { "NEW" },
                g.signature,
                g.scenarios,
                g.witness.key,
                g.witness.bound,
                g.status
            );
        }
        let graph = cgchecks::verify::graph_line(&s.lock_graphs, "the space");
        if !graph.is_empty() {
            out!("{}", graph.trim_end());
        }
        out!("summary: {}", o.out.join("summary.md").display());
    }
    if s.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn explore_kill(faults: &[Fault], o: &explore::Options, as_json: bool) -> ExitCode {
    let rows = match explore::kill_matrix(faults, o) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let all = rows.iter().all(|r| r.witness.is_some());
    if as_json {
        json_out(&json!({"coverage": o.coverage().unwrap_or_default(), "kills": rows}));
    } else {
        out!(
            "kill matrix through explore: {}",
            o.coverage().unwrap_or_default()
        );
        for r in &rows {
            match &r.witness {
                Some(w) => out!(
                    "{:<28} caught by #{} `{w}` after {} scenarios ({} executions, {:.1} s): {}",
                    r.fault,
                    r.index.unwrap_or_default(),
                    r.tried,
                    r.executions,
                    r.seconds,
                    r.violation.as_deref().unwrap_or("")
                ),
                None => out!(
                    "{:<28} NOT CAUGHT in {} scenarios ({} executions, {:.1} s)",
                    r.fault,
                    r.tried,
                    r.executions,
                    r.seconds
                ),
            }
        }
        out!(
            "{} of {} faults caught",
            rows.iter().filter(|r| r.witness.is_some()).count(),
            rows.len()
        );
    }
    if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
