//! Running a scenario: one execution (the same code under every backend), and the engines that
//! repeat it, one file each: `loom` (exhaustive, or within a preemption bound), `shuttle`
//! (PCT and random schedules from a recorded seed) and `stress` (real threads, repeated).
//! A build has one backend, so it has loom, or both shuttle engines, or real threads;
//! [`run`] is the one place that dispatches to this build's.

#[cfg(backend_loom)]
pub mod loom;
#[cfg(backend_shuttle)]
pub mod shuttle;
#[cfg(backend_std)]
pub mod stress;
mod types;

pub use types::{Bound, Engine, Outcome, RunOpts, FINDING_ITERATIONS, FINDING_SEED};

use std::sync::{Arc, Mutex};
use std::time::Instant;

use cgmodel::check::invariants;
use cgmodel::sim::foata::Classes;
use cgmodel::sim::sync::{self, BACKEND};
use cgmodel::sim::trace::Turnstile;
use cgmodel::{Config, Design, Faults, Kernel, Sink, Step, Violation};

use crate::scenario::{LoomPlan, Plan, Scenario};

/// The loom bound a scenario's plan asks for: None is exhaustive.
pub fn loom_max(plan: &LoomPlan) -> Option<usize> {
    match plan {
        LoomPlan::Exhaustive => None,
        LoomPlan::Bounded(b, _) => Some(*b),
        LoomPlan::ShuttleOnly(_) => Some(2),
    }
}

/// Runs `plan` (of scenario `loom_plan`'s bound) under `cfg` on `engine`, which must be one this
/// build has ([`Engine::built`]): the one place that knows which engines a build has.
pub fn run(
    plan: &Plan,
    loom_plan: &LoomPlan,
    cfg: &Config,
    engine: Engine,
    opts: &RunOpts,
) -> Result<Outcome, String> {
    if !Engine::built().contains(&engine) {
        return Err(format!(
            "this build runs {}; build with {} to use {engine}",
            BACKEND,
            engine.build_flag()
        ));
    }
    #[cfg(backend_loom)]
    {
        let _ = (opts.seed, opts.iterations);
        let max = match opts.bound {
            None => loom_max(loom_plan),
            Some(Bound::Exhaustive) => None,
            Some(Bound::Preemptions(n)) => Some(n),
            Some(b) => return Err(format!("loom takes a preemption bound or none, not {b}")),
        };
        Ok(loom::iterative_counting(
            plan,
            cfg,
            max,
            opts.reduce,
            opts.classes,
        ))
    }
    #[cfg(backend_shuttle)]
    {
        let _ = (loom_plan, opts.reduce);
        Ok(match (engine, opts.pct_depth()) {
            (Engine::ShuttleRandom, _) => shuttle::random(plan, cfg, opts.iterations, opts.seed),
            (_, Some(d)) => shuttle::pct(plan, cfg, opts.iterations, d, opts.seed),
            _ => shuttle::pct_iterative(plan, cfg, opts.iterations, 3, opts.seed),
        })
    }
    #[cfg(backend_std)]
    {
        let _ = (opts.bound, opts.seed, opts.reduce, loom_plan);
        Ok(stress::stress(plan, cfg, opts.iterations as u64))
    }
}

/// [`run`] on a scenario.
pub fn run_scenario(
    sc: &Scenario,
    cfg: &Config,
    engine: Engine,
    opts: &RunOpts,
) -> Result<Outcome, String> {
    run(&sc.plan(), &sc.loom, cfg, engine, opts)
}

/// One execution of `plan` with configuration `cfg`: boot, run the setup on thread 0 (which then
/// retires from RCU, [`cgmodel::sim::rcu::Rcu::retire`]), run each op list on its own thread,
/// wait for them all, then check every invariant. Violations go to `sink` (the
/// model panics on the first one, which is how the engines see a failure).
pub fn execution(plan: &Plan, cfg: &Config, sink: Arc<Sink>) {
    execution_shaped(plan, cfg, sink, Shape::Threads)
}

/// Where thread 1 runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Every op list on a thread of its own, the setup's thread joining them: which thread
    /// starts is then a free choice (the setup's thread blocks in `join`), which is what a
    /// preemption bound counts from.
    Threads,
    /// Thread 1 on the setup's thread. Its own thread, and the setup's blocked in `join` beside
    /// it, are checker steps with no kernel counterpart, which an unbounded loom run interleaves
    /// with every step of the others: the same classes in fewer executions
    /// (docs/performance.md). Under a bound it would make starting any other thread first cost
    /// a preemption, so bounded runs keep [`Shape::Threads`].
    FirstInline,
}

/// [`execution`] with thread 1 where `shape` says. [`Shape::FirstInline`] is for loom, where a
/// panic in any thread ends the execution; on real threads a violation of an inline thread 1
/// would leave the others unjoined.
pub fn execution_shaped(plan: &Plan, cfg: &Config, sink: Arc<Sink>, shape: Shape) {
    let k = Kernel::boot(cfg.clone(), sink.clone());
    let cx = k.cx(0, "setup");
    for s in &plan.setup {
        if let Err(e) = k.exec(s, &cx) {
            panic!("scenario {}: setup step `{s}` failed: {e}", plan.name);
        }
    }
    if let Err(v) = invariants::check(&k) {
        sink.fail(v);
    }
    // The setup thread runs no kernel code from here on.
    k.rcu.retire(0);
    let mut ops = plan.threads.clone().into_iter().enumerate();
    let first = if shape == Shape::FirstInline {
        ops.next()
    } else {
        None
    };
    let handles: Vec<_> = ops
        .map(|(i, steps)| {
            let k = k.clone();
            sync::spawn(move || model_thread(&k, i, &steps))
        })
        .collect();
    if let Some((i, steps)) = first {
        model_thread(&k, i, &steps);
    }
    for h in handles {
        if let Err(p) = h.join() {
            // The thread's violation is already in the sink; re-raise it for the engine (a
            // thread still blocked, on a lock the failed one held, is left behind, as a real
            // kernel would leave it). A replay that stopped (diverged, or ran to the end of a
            // deadlock) has none.
            match sink.first() {
                Some(v) => panic!("{v}"),
                None => std::panic::resume_unwind(p),
            }
        }
    }
    if let Err(v) = invariants::check(&k) {
        sink.fail(v);
    }
}

/// Model thread `i + 1` running `steps`.
fn model_thread(k: &Kernel, i: usize, steps: &[Step]) {
    let _exit = ReplayExit(k.sink.turnstile.clone(), i + 1);
    let cx = k.cx(i + 1, "thread");
    for s in steps {
        let _ = k.exec(s, &cx);
    }
}

/// Tells a replay's turnstile that a thread finished, even when it unwinds.
struct ReplayExit(Option<Arc<Turnstile>>, usize);

impl Drop for ReplayExit {
    fn drop(&mut self) {
        if let Some(t) = &self.0 {
            t.exit(self.1);
        }
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else {
        "non-string panic".into()
    }
}

/// Runs the checker `run` over executions of `plan` under `cfg`, counting executions and keeping
/// the report of the execution that failed. A panic the model did not report (loom's data-race,
/// deadlock or leak check) is classified from its message.
pub(crate) fn drive(
    engine: Engine,
    bound: Bound,
    run: impl FnOnce(Arc<dyn Fn() + Send + Sync>),
    plan: &Plan,
    cfg: &Config,
    count_classes: bool,
) -> Outcome {
    // Executions started, and run to their end (the rest failed, or were pruned by loom's sleep
    // sets as equivalent to one already explored).
    let count = Arc::new(Mutex::new((0u64, 0u64)));
    let classes = Arc::new(Mutex::new(Classes::default()));
    let last: Arc<Mutex<Arc<Sink>>> = Arc::new(Mutex::new(Arc::new(Sink::default())));
    // One lock graph for every execution of the run (lockdep's graph is per boot, and every
    // execution is one more way the same kernel ran).
    let graph = Arc::new(cgmodel::sim::lockdep::LockGraph::default());
    let (c2, k2, l2, g2) = (count.clone(), classes.clone(), last.clone(), graph.clone());
    let (plan2, cfg2) = (plan.clone(), cfg.clone());
    let shape = if engine == Engine::Loom && bound == Bound::Exhaustive {
        Shape::FirstInline
    } else {
        Shape::Threads
    };
    let body: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
        c2.lock().unwrap().0 += 1;
        let sink = Arc::new(Sink::with_lock_graph(g2.clone()));
        *l2.lock().unwrap() = sink.clone();
        execution_shaped(&plan2, &cfg2, sink.clone(), shape);
        if count_classes {
            sink.trace.with(|e| k2.lock().unwrap().add(e));
        }
        c2.lock().unwrap().1 += 1;
    });
    let t = Instant::now();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(body)));
    let seconds = t.elapsed().as_secs_f64();
    let (started, ended) = *count.lock().unwrap();
    let violation = r.err().map(|p| {
        let recorded = last.lock().unwrap().first();
        recorded.unwrap_or_else(|| Violation::from_panic(&panic_message(p.as_ref())))
    });
    let preemptions = violation
        .as_ref()
        .and_then(|_| last.lock().unwrap().preemptions());
    let events = if violation.is_some() {
        let events = last.lock().unwrap().trace.events();
        if count_classes {
            classes.lock().unwrap().add(&events);
        }
        events
    } else {
        Vec::new()
    };
    let classes = std::mem::take(&mut *classes.lock().unwrap());
    let executions = ended + u64::from(violation.is_some());
    Outcome {
        engine,
        executions,
        pruned: started - executions.min(started),
        classes,
        seconds,
        bound,
        violation,
        preemptions,
        reduced: false,
        events,
        lock_graph: graph,
    }
}

/// The configuration a run uses: the scenario's, for `design`, with `faults` and `lockdep`.
pub fn config(sc: &Scenario, design: Design, faults: Faults, lockdep: bool) -> Config {
    Config {
        faults,
        lockdep,
        ..sc.config_for(design)
    }
}
