//! `cgcheck explore`: every small scenario, not only the catalog's. The space ([`space`]) is
//! every well-formed way of dealing a setup's operations out to a few threads, counted once up
//! to symmetry; each scenario runs under this build's engine (loom at a small preemption bound,
//! or shuttle PCT where there are more threads than loom allows); failures are grouped by
//! signature (design, violation, kernel function, object kind), each group keeps its smallest
//! witness, and each group is written as a scenario file and its trace. A group is known when a
//! catalog scenario fails with its signature, or when `checks/explore/triage.tsv` triages it;
//! otherwise it is new, and explore exits 1. docs/explore.md documents the space.

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

use cgmodel::sim::sync::{Backend, BACKEND};
use cgmodel::{Config, Design, Faults};
use serde::{Deserialize, Serialize};

use crate::engine::{self, Bound, Engine, Outcome, RunOpts};
use crate::scenario::{LoomPlan, Plan};
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
    /// loom: the preemption bound (a failure is then looked for from bound 0 up, for the fewest
    /// preemptions); shuttle runs PCT at depths 1 to 3 whatever it is.
    pub bound: usize,
    /// shuttle: PCT schedules per depth.
    pub iterations: usize,
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
    /// The defaults: every setup, 2 threads × 2 operations, v2.6.34 and fixed, bound 1,
    /// 200 PCT schedules, no shard, no sample, no state file, output in target/cgcheck/explore.
    pub fn new() -> Options {
        Options {
            setups: SETUPS.iter().collect(),
            threads: 2,
            ops: 2,
            designs: vec![Design::V2634, Design::Fixed],
            bound: 1,
            iterations: 200,
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
        Ok(match self.engine()? {
            Engine::Loom => format!(
                "loom, every interleaving with at most {} preemption(s) (a failure at the fewest of 0 to {}); \
                 not explored: interleavings with more preemptions, weak-memory outcomes loom does not model",
                self.bound, self.bound
            ),
            _ => format!(
                "shuttle PCT, {} schedules at each bug depth 1 to 3, fewest first (sampled, not \
                 exhaustive; every atomic sequentially consistent; no data-race detector)",
                self.iterations
            ),
        })
    }

    fn run_opts(&self) -> RunOpts {
        RunOpts {
            bound: Some(Bound::Preemptions(self.bound)),
            iterations: self.iterations,
            ..RunOpts::default()
        }
    }

    fn space_key(&self) -> String {
        let setups: Vec<&str> = self.setups.iter().map(|s| s.name).collect();
        let designs: Vec<&str> = self.designs.iter().map(|d| d.name()).collect();
        format!(
            "setups={} threads={} ops={} designs={} bound={} iterations={} backend={BACKEND} shard={}/{} sample={}",
            setups.join(","),
            self.threads,
            self.ops,
            designs.join(","),
            self.bound,
            self.iterations,
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

/// The configuration a scenario of `threads` threads runs with: as a scenario file's
/// ([`crate::scenario::Scenario::config_for`]), an RCU reader slot per thread and the setup's.
pub fn config(design: Design, faults: Faults, threads: usize) -> Config {
    Config {
        design,
        faults,
        lockdep: true,
        max_threads: threads + 1,
        ..Config::default()
    }
}

pub(crate) fn loom_plan(opts: &Options) -> LoomPlan {
    LoomPlan::Bounded(opts.bound, "explore's bound".into())
}

/// The bound a failure needed: loom's preemptions, or PCT's depth.
fn bound_of(o: &Outcome) -> usize {
    match o.bound {
        Bound::Preemptions(b) | Bound::PctDepth(b) => b,
        _ => 0,
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
        &config(design, faults, plan.threads.len()),
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
    let ran = crate::par::for_each(&todo, |&&(index, ref point)| {
        let plan = point.plan()?;
        let mut hits = Vec::new();
        let (mut execs, mut secs) = (0, 0.0);
        for &d in &opts.designs {
            let o = check(&plan, d, Faults::NONE, opts)?;
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
                save_state(p, &st)?;
                *ls = Instant::now();
            }
        }
        Ok(ControlFlow::Continue(()))
    });
    pb.finish_and_clear();
    let st = state.into_inner().unwrap_or_else(|e| e.into_inner());
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
