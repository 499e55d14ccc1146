//! `cgcheck explore`: every small scenario, not only the catalog's. The space ([`space`]) is
//! every well-formed way of dealing a setup's operations out to a few threads, counted once up
//! to symmetry; each scenario runs under this build's engine (loom at a small preemption bound,
//! or shuttle PCT where there are more threads than loom allows); failures are grouped by
//! signature (design, violation, kernel function, object kind), each group keeps its smallest
//! witness, and each group is written as a scenario file and its trace. A group is known when a
//! catalog scenario fails with its signature, or when `checks/explore/triage.tsv` triages it;
//! otherwise it is new, and explore exits 1. docs/explore.md documents the space.
//!
//! The file is long because the run, its resume from a state file and the merge of shards
//! all read and write that one state format, and are best read together.

pub mod group;
pub mod kill;
pub mod output;
pub mod setups;
pub mod space;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use cgmodel::sim::rcu::Preemption;
use cgmodel::sim::sync::{Backend, BACKEND};
use cgmodel::{Config, Design, Faults};
use serde::{Deserialize, Serialize};

use crate::engine::{self, Bound, Engine, Outcome, RunOpts};
use crate::scenario::{LoomPlan, Plan};
use crate::verify::{DesignGraphs, GraphEdges};
pub use group::{Group, Hit, Signature, Summary};
pub use kill::{kill_matrix, Kill};
pub use space::{Point, Setup, SETUPS};

/// loom runs at most this many scenario threads (its five, less the main thread).
pub const LOOM_THREADS: usize = 4;

/// How explore runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The setups (all of [`SETUPS`] by default).
    pub setups: Vec<&'static Setup>,
    /// Threads, at most (from 2).
    pub threads: usize,
    /// Operations per thread, at most (from 1).
    pub ops: usize,
    /// The designs each scenario runs on.
    pub designs: Vec<Design>,
    /// loom: the preemption bound (None: none, every interleaving, with loom's reduction; a
    /// bound explores without it); shuttle runs PCT at depths 1 to 3 whatever it is.
    pub bound: Option<usize>,
    /// Faults injected into every design (from `--faults` or `CGROUP_MODEL_FAULTS`).
    pub faults: Faults,
    /// shuttle: PCT schedules per depth.
    pub iterations: usize,
    /// The preemption model every scenario runs under (`--preempt`; full by default).
    pub preempt: Preemption,
    /// This shard, `(k, n)` with 1 <= k <= n: the scenarios whose index is k-1 modulo n.
    pub shard: (usize, usize),
    /// Every `sample`-th scenario of the shard only (1: all).
    pub sample: usize,
    /// Where to keep the state a run resumes from (None: not resumable).
    pub state: Option<PathBuf>,
    /// Where to write the groups and the summary.
    pub out: PathBuf,
    /// The triage table.
    pub triage: PathBuf,
    /// Show a progress bar.
    pub show: bool,
}

impl Options {
    /// The defaults: every setup, 2 threads × 2 operations, v2.6.34 and fixed, preemption
    /// bound 1 (every interleaving costs too much here yet: docs/performance.md), no fault, 200 PCT schedules, no shard, no sample, no state file, output in
    /// target/cgcheck/explore.
    pub fn new() -> Options {
        Options {
            setups: SETUPS.iter().collect(),
            threads: 2,
            ops: 2,
            designs: vec![Design::V2634, Design::Fixed],
            bound: Some(1),
            faults: Faults::NONE,
            iterations: 200,
            preempt: Preemption::Full,
            shard: (1, 1),
            sample: 1,
            state: None,
            out: crate::verify::out_dir().join("explore"),
            triage: crate::verify::repo_root()
                .join("checks")
                .join("explore")
                .join("triage.tsv"),
            show: false,
        }
    }

    /// The engine this build explores with, or why it cannot.
    pub fn engine(&self) -> Result<Engine, String> {
        match BACKEND {
            Backend::Loom if self.threads <= LOOM_THREADS => Ok(Engine::Loom),
            Backend::Loom => Err(format!(
                "{} threads are more than loom's {LOOM_THREADS} (five, less the main thread): \
                 explore them with the shuttle build (--features shuttle)",
                self.threads
            )),
            Backend::Shuttle => Ok(Engine::ShuttlePct),
            Backend::Std => Err(
                "explore needs an engine that explores interleavings: build cgcheck with \
                 --features loom (or --features shuttle for more than four threads)"
                    .to_string(),
            ),
        }
    }

    /// The engine and bound in force, as the output states it.
    pub fn coverage(&self) -> Result<String, String> {
        let faults = if self.faults.is_empty() {
            String::new()
        } else {
            format!("; faults injected: {}", self.faults)
        };
        Ok(match (self.engine()?, self.bound) {
            (Engine::Loom, None) => format!(
                "loom, every interleaving, one execution per behaviour (reduced); not explored: \
                 weak-memory outcomes loom does not model{faults}"
            ),
            (Engine::Loom, Some(b)) => format!(
                "loom, every interleaving with at most {b} preemption(s) (a failure at the fewest of 0 to {b}); \
                 not explored: interleavings with more preemptions, weak-memory outcomes loom does not model{faults}"
            ),
            _ => format!(
                "shuttle PCT, {} schedules at each bug depth 1 to 3, fewest first (sampled, not \
                 exhaustive; every atomic sequentially consistent; no data-race detector){faults}",
                self.iterations
            ),
        })
    }

    fn run_opts(&self) -> RunOpts {
        RunOpts {
            bound: Some(self.bound.map_or(Bound::Exhaustive, Bound::Preemptions)),
            iterations: self.iterations,
            classes: false,
            ..RunOpts::default()
        }
    }

    fn space_key(&self) -> String {
        let setups: Vec<&str> = self.setups.iter().map(|s| s.name).collect();
        let designs: Vec<&str> = self.designs.iter().map(|d| d.name()).collect();
        format!(
            "setups={} threads={} ops={} designs={} bound={} faults={} iterations={}{} backend={BACKEND} shard={}/{} sample={}",
            setups.join(","),
            self.threads,
            self.ops,
            designs.join(","),
            self.bound.map_or("none".to_string(), |b| b.to_string()),
            self.faults,
            self.iterations,
            match self.preempt {
                Preemption::Full => String::new(),
                p => format!(" preempt={p}"),
            },
            self.shard.0,
            self.shard.1,
            self.sample
        )
    }
}

impl Default for Options {
    fn default() -> Self {
        Options::new()
    }
}

/// The scenarios of the space this run covers: the shard, sampled, with their space index.
pub fn work(opts: &Options) -> Result<Vec<(usize, Point)>, String> {
    Ok(work_and_size(opts)?.0)
}

/// [`work`], and the size of the whole space.
fn work_and_size(opts: &Options) -> Result<(Vec<(usize, Point)>, usize), String> {
    let (k, n) = opts.shard;
    if n == 0 || k == 0 || k > n {
        return Err(format!("bad shard {k}/{n}: K/N with 1 <= K <= N"));
    }
    if opts.sample == 0 {
        return Err("bad sample 0: every N-th scenario, N >= 1".into());
    }
    if opts.threads < 2 || opts.ops < 1 {
        return Err(format!(
            "bad size {} threads × {} operations: at least 2 threads of 1 operation",
            opts.threads, opts.ops
        ));
    }
    let all = space::space(&opts.setups, opts.threads, opts.ops);
    let size = all.len();
    let work = all
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % n == k - 1)
        .enumerate()
        .filter(|(j, _)| j % opts.sample == 0)
        .map(|(_, p)| p)
        .collect();
    Ok((work, size))
}

/// What a resumable run keeps: the space it is of, the scenarios done and what they found.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// The options that define the space (a state file of another space is refused).
    pub space: String,
    /// The indices of the scenarios done.
    pub done: BTreeSet<usize>,
    /// The failures found so far.
    pub hits: Vec<Hit>,
    /// loom executions (or PCT schedules) run so far.
    pub executions: u64,
    /// Seconds spent in the engine so far.
    pub seconds: f64,
    /// Per design, the lock orders every scenario done so far took.
    #[serde(default)]
    pub lock_graphs: Vec<GraphEdges>,
}

fn load_state(opts: &Options) -> Result<State, String> {
    let fresh = State {
        space: opts.space_key(),
        ..State::default()
    };
    let Some(p) = &opts.state else {
        return Ok(fresh);
    };
    if !p.exists() {
        return Ok(fresh);
    }
    let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    let st: State = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not an explore state file: {e}", p.display()))?;
    if st.space != fresh.space {
        return Err(format!(
            "{}: the state of another space ({}), not of this run ({}); remove it or pass another --state",
            p.display(),
            st.space,
            fresh.space
        ));
    }
    Ok(st)
}

fn save_state(path: &Path, st: &State) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    let text = serde_json::to_string(st).map_err(|e| e.to_string())?;
    std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The configuration a scenario of `threads` threads runs with under `opts`: as a scenario
/// file's ([`crate::scenario::Scenario::config_for`]), an RCU reader slot per thread and the
/// setup's, and `opts`' preemption model.
pub fn config(design: Design, faults: Faults, threads: usize, opts: &Options) -> Config {
    Config {
        design,
        faults,
        lockdep: true,
        max_threads: threads + 1,
        preempt: opts.preempt,
        ..Config::default()
    }
}

pub(crate) fn loom_plan(opts: &Options) -> LoomPlan {
    match opts.bound {
        None => LoomPlan::Exhaustive,
        Some(b) => LoomPlan::Bounded(b, "explore's bound".into()),
    }
}

/// The bound a failure needed: loom's preemptions (as the counterexample's run reported them,
/// or the bound it was found at), or PCT's depth.
fn bound_of(o: &Outcome) -> usize {
    match o.bound {
        Bound::Preemptions(b) | Bound::PctDepth(b) => b,
        _ => o.preemptions.unwrap_or(0),
    }
}

/// Runs one scenario on one design (with `faults`) under `opts`' engine.
pub fn check(
    plan: &Plan,
    design: Design,
    faults: Faults,
    opts: &Options,
) -> Result<Outcome, String> {
    engine::run(
        plan,
        &loom_plan(opts),
        &config(design, faults, plan.threads.len(), opts),
        opts.engine()?,
        &opts.run_opts(),
    )
}

/// Explores the space of `opts` on its designs: runs every scenario not yet done (per the state
/// file), groups the failures, writes each group's witness as a scenario file and a trace under
/// `opts.out`, and the summary (`summary.md`, `summary.json`).
pub fn explore(opts: &Options) -> Result<Summary, String> {
    let coverage = opts.coverage()?;
    let triage = group::read_triage(&opts.triage)?;
    let (work, space_size) = work_and_size(opts)?;
    let state = Mutex::new(load_state(opts)?);
    let todo: Vec<&(usize, Point)> = {
        let st = state.lock().unwrap_or_else(|e| e.into_inner());
        work.iter().filter(|(i, _)| !st.done.contains(i)).collect()
    };
    let t0 = Instant::now();
    let pb = crate::verify::progress(work.len(), "explore", opts.show);
    pb.set_position((work.len() - todo.len()) as u64);
    let last_save = Mutex::new(Instant::now());
    let graphs = DesignGraphs::new(
        &opts.designs,
        &state.lock().unwrap_or_else(|e| e.into_inner()).lock_graphs,
    );
    let ran = crate::par::for_each(&todo, |&&(index, ref point)| {
        let plan = point.plan()?;
        let mut hits = Vec::new();
        let (mut execs, mut secs) = (0, 0.0);
        for &d in &opts.designs {
            let o = check(&plan, d, opts.faults, opts)?;
            graphs.add(d, &o);
            execs += o.executions;
            secs += o.seconds;
            if let Some(v) = &o.violation {
                hits.push(Hit {
                    index,
                    key: point.key(),
                    signature: Signature::of(d, v, &o),
                    bound: bound_of(&o),
                    detail: v.detail.clone(),
                });
            }
        }
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        st.done.insert(index);
        st.hits.extend(hits);
        st.executions += execs;
        st.seconds += secs;
        pb.inc(1);
        pb.set_message(format!("{} failing", st.hits.len()));
        if let Some(p) = &opts.state {
            let mut ls = last_save.lock().unwrap_or_else(|e| e.into_inner());
            if ls.elapsed().as_secs() >= 10 {
                st.lock_graphs = graphs.edges();
                save_state(p, &st)?;
                *ls = Instant::now();
            }
        }
        Ok(ControlFlow::Continue(()))
    });
    pb.finish_and_clear();
    let mut st = state.into_inner().unwrap_or_else(|e| e.into_inner());
    st.lock_graphs = graphs.edges();
    if let Some(p) = &opts.state {
        save_state(p, &st)?;
    }
    ran?;
    let known = if st.hits.is_empty() {
        BTreeMap::new()
    } else {
        group::catalog_signatures(opts)?
    };
    let mut groups = group::group(&st.hits, &known, &triage);
    output::write_groups(&mut groups, &work, opts)?;
    let summary = Summary {
        coverage,
        space: opts.space_key(),
        space_size,
        scenarios: work.len(),
        executions: st.executions,
        engine_seconds: st.seconds,
        wall_seconds: t0.elapsed().as_secs_f64(),
        groups,
        lock_graphs: crate::verify::lock_graphs(&st.lock_graphs),
    };
    output::write_summary(&summary, &opts.out)?;
    Ok(summary)
}

/// The shards' state files (`--state`) of the space of `opts` merged: every shard `K/N` of
/// one `N` exactly once, each run to its end, their failures grouped as one unsharded run
/// groups them (the smallest witness of each group across the shards), the witnesses written,
/// and the summary, under `opts.out`.
pub fn merge(files: &[PathBuf], opts: &Options) -> Result<Summary, String> {
    let coverage = opts.coverage()?;
    let triage = group::read_triage(&opts.triage)?;
    let mut shards: BTreeMap<usize, State> = BTreeMap::new();
    let mut n0 = None;
    let mut space_size = 0;
    let mut work_all: Vec<(usize, Point)> = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        let st: State = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not an explore state file: {e}", f.display()))?;
        let shard = st
            .space
            .rsplit_once(" shard=")
            .and_then(|(_, r)| r.split_once(' '))
            .and_then(|(kn, _)| kn.split_once('/'))
            .and_then(|(k, n)| Some((k.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
            .ok_or_else(|| format!("{}: its space names no shard: {}", f.display(), st.space))?;
        let mine = Options {
            shard,
            ..opts.clone()
        };
        if st.space != mine.space_key() {
            return Err(format!(
                "{}: the state of another space ({}), not of this one ({})",
                f.display(),
                st.space,
                mine.space_key()
            ));
        }
        if *n0.get_or_insert(shard.1) != shard.1 {
            return Err(format!(
                "{}: a shard of {}, the others of {}",
                f.display(),
                shard.1,
                n0.unwrap_or(shard.1)
            ));
        }
        let (work, size) = work_and_size(&mine)?;
        if let Some(missing) = work.iter().find(|(i, _)| !st.done.contains(i)) {
            return Err(format!(
                "{}: shard {}/{} is not finished (scenario #{} not run); resume it first",
                f.display(),
                shard.0,
                shard.1,
                missing.0
            ));
        }
        if shards.insert(shard.0, st).is_some() {
            return Err(format!("shard {}/{} given twice", shard.0, shard.1));
        }
        space_size = size;
        work_all.extend(work);
    }
    let n = n0.ok_or("no state file to merge")?;
    if let Some(k) = (1..=n).find(|k| !shards.contains_key(k)) {
        return Err(format!("shard {k}/{n} is missing"));
    }
    work_all.sort_by_key(|(i, _)| *i);
    let mut hits = Vec::new();
    let mut graph_edges = Vec::new();
    let (mut executions, mut seconds) = (0, 0.0);
    for st in shards.into_values() {
        hits.extend(st.hits);
        graph_edges.extend(st.lock_graphs);
        executions += st.executions;
        seconds += st.seconds;
    }
    hits.sort_by_key(|h| h.index);
    let known = if hits.is_empty() {
        BTreeMap::new()
    } else {
        group::catalog_signatures(opts)?
    };
    let mut groups = group::group(&hits, &known, &triage);
    output::write_groups(&mut groups, &work_all, opts)?;
    let merged = Options {
        shard: (1, 1),
        ..opts.clone()
    };
    let summary = Summary {
        coverage,
        space: format!("{} (merged from {n} shards)", merged.space_key()),
        space_size,
        scenarios: work_all.len(),
        executions,
        engine_seconds: seconds,
        wall_seconds: 0.0,
        groups,
        lock_graphs: crate::verify::lock_graphs(&graph_edges),
    };
    output::write_summary(&summary, &opts.out)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_space() {
        let mut o = Options::new();
        o.setups = vec![space::setup("netcls").unwrap()];
        o.threads = 2;
        o.ops = 1;
        let all = work(&o).unwrap();
        let mut seen = BTreeSet::new();
        for k in 1..=3 {
            o.shard = (k, 3);
            for (i, _) in work(&o).unwrap() {
                assert!(seen.insert(i));
            }
        }
        assert_eq!(seen.len(), all.len());
        o.shard = (4, 3);
        assert!(work(&o).unwrap_err().contains("bad shard 4/3"));
    }
}
