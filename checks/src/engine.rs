//! Running a scenario: one execution (the same code under every backend), and the engines that
//! repeat it: loom (exhaustive within a preemption bound), shuttle (PCT and random schedules),
//! and std (real threads, repeated).

use std::sync::{Arc, Mutex};

use cgmodel::{invariants, sync, Design, Kernel, Sink, Violation};

use crate::scenario::Scenario;

/// The outcome of checking one scenario on one design with one engine.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Executions run.
    pub executions: u64,
    /// The first violation found, if any.
    pub violation: Option<Violation>,
}

/// One execution of `sc` on `design`: boot, run the setup on thread 0, run each op list on its own
/// thread, join, then check every invariant. Violations go to `sink` (the model panics on the
/// first one, which is how the engines see a failure).
pub fn execution(sc: &Scenario, design: Design, sink: Arc<Sink>) {
    let k = Kernel::boot(sc.config_for(design), sink.clone());
    let cx = k.cx(0, "setup");
    for s in sc.setup_steps() {
        if let Err(e) = k.exec(&s, &cx) {
            panic!("scenario {}: setup step `{s}` failed: {e}", sc.name);
        }
    }
    if let Err(v) = invariants::check(&k) {
        sink.fail(v);
    }
    let handles: Vec<_> = sc
        .thread_steps()
        .into_iter()
        .enumerate()
        .map(|(i, steps)| {
            let k = k.clone();
            sync::spawn(move || {
                let cx = k.cx(i + 1, "thread");
                for s in &steps {
                    let _ = k.exec(s, &cx);
                }
            })
        })
        .collect();
    for h in handles {
        if h.join().is_err() {
            // The thread's violation is already in the sink; re-raise for the engine.
            let v = sink
                .first()
                .expect("a model thread panicked without a report");
            panic!("{v}");
        }
    }
    if let Err(v) = invariants::check(&k) {
        sink.fail(v);
    }
    let _ = cx;
}

/// Runs `body` once per execution under the engine `run`, counting executions and keeping the
/// sink of the execution that failed.
fn drive(run: impl FnOnce(Arc<dyn Fn() + Send + Sync>), sc: &Scenario, design: Design) -> Outcome {
    let count = Arc::new(Mutex::new(0u64));
    let last: Arc<Mutex<Arc<Sink>>> = Arc::new(Mutex::new(Arc::new(Sink::default())));
    let (c2, l2, sc2) = (count.clone(), last.clone(), sc.clone());
    let body: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
        *c2.lock().unwrap() += 1;
        let sink = Arc::new(Sink::default());
        *l2.lock().unwrap() = sink.clone();
        execution(&sc2, design, sink);
    });
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(body)));
    let executions = *count.lock().unwrap();
    let violation = match r {
        Ok(()) => None,
        Err(p) => {
            let v = last.lock().unwrap().first();
            match v {
                Some(v) => Some(v),
                None => std::panic::resume_unwind(p),
            }
        }
    };
    Outcome {
        executions,
        violation,
    }
}

/// loom: every interleaving within `preemption_bound` preemptions (None: unbounded).
#[cfg(any(loom, feature = "loom"))]
pub fn loom(sc: &Scenario, design: Design, preemption_bound: Option<usize>) -> Outcome {
    drive(
        |body| {
            let mut b = loom::model::Builder::new();
            b.preemption_bound = preemption_bound;
            b.max_branches = 100_000;
            b.check(move || body());
        },
        sc,
        design,
    )
}

/// shuttle: `iterations` PCT schedules of depth `depth`, from `seed`.
#[cfg(feature = "shuttle")]
pub fn shuttle_pct(
    sc: &Scenario,
    design: Design,
    iterations: usize,
    depth: usize,
    seed: u64,
) -> Outcome {
    drive(
        |body| {
            let mut cfg = shuttle::Config::default();
            cfg.failure_persistence = shuttle::FailurePersistence::None;
            let sched = shuttle::scheduler::PctScheduler::new_from_seed(seed, depth, iterations);
            let runner = shuttle::Runner::new(sched, cfg);
            runner.run(move || body());
        },
        sc,
        design,
    )
}

/// std: `iterations` executions on real threads (a stress run; it finds only what the machine's
/// own scheduling happens to expose).
#[cfg(not(any(loom, feature = "loom", feature = "shuttle")))]
pub fn stress(sc: &Scenario, design: Design, iterations: u64) -> Outcome {
    drive(
        |body| {
            for _ in 0..iterations {
                body();
            }
        },
        sc,
        design,
    )
}
