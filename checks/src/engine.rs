//! Running a scenario: one execution (the same code under every backend), and the engines that
//! repeat it: loom (exhaustive, or within a preemption bound), shuttle (PCT and random
//! schedules from a recorded seed), and std (real threads, repeated).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use cgmodel::check::invariants;
use cgmodel::sim::sync;
use cgmodel::{Config, Design, Faults, Kernel, Sink, Violation};

use crate::scenario::Plan;

/// The outcome of checking one scenario on one configuration with one engine.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Executions run.
    pub executions: u64,
    /// Wall time, seconds.
    pub seconds: f64,
    /// The bound of the run that decided the verdict: loom's preemption bound (None: unbounded),
    /// or shuttle PCT's bug depth.
    pub bound: Option<usize>,
    /// The first violation found, if any.
    pub violation: Option<Violation>,
    /// The steps of the execution that found it (empty when none did).
    pub events: Vec<cgmodel::sim::trace::Event>,
}

impl Outcome {
    /// Nothing run (a skipped check, or the start of a sum).
    pub fn nothing() -> Outcome {
        Outcome {
            executions: 0,
            seconds: 0.0,
            bound: None,
            violation: None,
            events: Vec::new(),
        }
    }
}

/// One execution of `plan` with configuration `cfg`: boot, run the setup on thread 0, run each
/// op list on its own thread, join, then check every invariant. Violations go to `sink` (the
/// model panics on the first one, which is how the engines see a failure).
pub fn execution(plan: &Plan, cfg: &Config, sink: Arc<Sink>) {
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
    let handles: Vec<_> = plan
        .threads
        .clone()
        .into_iter()
        .enumerate()
        .map(|(i, steps)| {
            let k = k.clone();
            sync::spawn(move || {
                let _exit = ReplayExit(k.sink.turnstile.clone(), i + 1);
                let cx = k.cx(i + 1, "thread");
                for s in &steps {
                    let _ = k.exec(s, &cx);
                }
            })
        })
        .collect();
    for h in handles {
        if let Err(p) = h.join() {
            // The thread's violation is already in the sink; re-raise it for the engine. A replay
            // that stopped (diverged, or ran to the end of a deadlock) has none.
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

/// Tells a replay's turnstile that a thread finished, even when it unwinds.
struct ReplayExit(Option<Arc<cgmodel::sim::trace::Turnstile>>, usize);

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

/// Runs the engine `run` over executions of `sc` under `cfg`, counting executions and keeping the
/// report of the execution that failed. A panic the model did not report (loom's data-race,
/// deadlock or leak check) is classified from its message.
fn drive(run: impl FnOnce(Arc<dyn Fn() + Send + Sync>), plan: &Plan, cfg: &Config) -> Outcome {
    let count = Arc::new(Mutex::new(0u64));
    let last: Arc<Mutex<Arc<Sink>>> = Arc::new(Mutex::new(Arc::new(Sink::default())));
    let (c2, l2, plan2, cfg2) = (count.clone(), last.clone(), plan.clone(), cfg.clone());
    let body: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
        *c2.lock().unwrap() += 1;
        let sink = Arc::new(Sink::default());
        *l2.lock().unwrap() = sink.clone();
        execution(&plan2, &cfg2, sink);
    });
    let t = Instant::now();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(body)));
    let seconds = t.elapsed().as_secs_f64();
    let executions = *count.lock().unwrap();
    let violation = r.err().map(|p| {
        let recorded = last.lock().unwrap().first();
        recorded.unwrap_or_else(|| Violation::from_panic(&panic_message(p.as_ref())))
    });
    let events = if violation.is_some() {
        last.lock().unwrap().trace.events()
    } else {
        Vec::new()
    };
    Outcome {
        executions,
        seconds,
        bound: None,
        violation,
        events,
    }
}

/// The configuration a run uses: the scenario's, for `design`, with `faults` and `lockdep`.
pub fn config(
    sc: &crate::scenario::Scenario,
    design: Design,
    faults: Faults,
    lockdep: bool,
) -> Config {
    Config {
        faults,
        lockdep,
        ..sc.config_for(design)
    }
}

/// loom: every interleaving within `preemption_bound` preemptions (None: exhaustive).
#[cfg(any(loom, feature = "loom"))]
pub fn loom(plan: &Plan, cfg: &Config, preemption_bound: Option<usize>) -> Outcome {
    let mut o = drive(
        |body| {
            let mut b = loom::model::Builder::new();
            b.preemption_bound = preemption_bound;
            b.max_branches = 100_000;
            b.check(move || body());
        },
        plan,
        cfg,
    );
    o.bound = preemption_bound;
    o
}

/// loom, fewest preemptions first: bounds 0, 1, 2, ... up to `max` (None: then unbounded),
/// stopping at the first bound that finds a violation, so a counterexample has as few preemptions
/// as possible. Executions and seconds add up over the bounds tried.
#[cfg(any(loom, feature = "loom"))]
pub fn loom_iterative(plan: &Plan, cfg: &Config, max: Option<usize>) -> Outcome {
    let mut total = Outcome::nothing();
    let last_bounded = max.unwrap_or(2);
    let mut bounds: Vec<Option<usize>> = (0..=last_bounded).map(Some).collect();
    if max.is_none() {
        bounds.push(None);
    }
    for b in bounds {
        let o = loom(plan, cfg, b);
        total.executions += o.executions;
        total.seconds += o.seconds;
        total.bound = b;
        if o.violation.is_some() {
            total.violation = o.violation;
            total.events = o.events;
            break;
        }
    }
    total
}

/// shuttle PCT: `iterations` schedules with bug depth `depth`, from `seed` (replayable).
#[cfg(feature = "shuttle")]
pub fn shuttle_pct(
    plan: &Plan,
    cfg: &Config,
    iterations: usize,
    depth: usize,
    seed: u64,
) -> Outcome {
    drive(
        |body| {
            let sched = shuttle::scheduler::PctScheduler::new_from_seed(seed, depth, iterations);
            shuttle_run(sched, body);
        },
        plan,
        cfg,
    )
}

/// shuttle random: `iterations` uniformly random schedules from `seed` (replayable).
#[cfg(feature = "shuttle")]
pub fn shuttle_random(plan: &Plan, cfg: &Config, iterations: usize, seed: u64) -> Outcome {
    drive(
        |body| {
            let sched = shuttle::scheduler::RandomScheduler::new_from_seed(seed, iterations);
            shuttle_run(sched, body);
        },
        plan,
        cfg,
    )
}

#[cfg(feature = "shuttle")]
fn shuttle_run<S: shuttle::scheduler::Scheduler + 'static>(
    sched: S,
    body: Arc<dyn Fn() + Send + Sync>,
) {
    let mut c = shuttle::Config::default();
    c.failure_persistence = shuttle::FailurePersistence::None;
    // The model's atomics are documented as checked for ordering by loom, not shuttle.
    c.silence_warnings = true;
    shuttle::Runner::new(sched, c).run(move || body());
}

/// std: `iterations` executions on real threads (a stress run; it finds only what the machine's
/// own scheduling happens to expose).
#[cfg(not(any(loom, feature = "loom", feature = "shuttle")))]
pub fn stress(plan: &Plan, cfg: &Config, iterations: u64) -> Outcome {
    drive(
        |body| {
            for _ in 0..iterations {
                body();
            }
        },
        plan,
        cfg,
    )
}
