//! shuttle: PCT and random schedules, from a seed so that every failure replays.

use std::sync::Arc;

use cgmodel::Config;

use super::{drive, Bound, Engine, Outcome};
use crate::scenario::Plan;

/// PCT: `iterations` schedules with bug depth `depth`, from `seed`.
pub fn pct(plan: &Plan, cfg: &Config, iterations: usize, depth: usize, seed: u64) -> Outcome {
    drive(
        Engine::ShuttlePct,
        Bound::PctDepth(depth),
        |body| {
            let sched = shuttle::scheduler::PctScheduler::new_from_seed(seed, depth, iterations);
            run(sched, body);
        },
        plan,
        cfg,
        true,
    )
}

/// Fewest priority changes first: PCT at bug depth 1, 2, ... `max_depth`, stopping at the first
/// depth that finds a violation. The bound, violation and trace are that depth's; executions,
/// classes, lock orders and seconds add up over every depth run (a pass at depth 3 ran three depths'
/// schedules).
pub fn pct_iterative(
    plan: &Plan,
    cfg: &Config,
    iterations: usize,
    max_depth: usize,
    seed: u64,
) -> Outcome {
    let mut total = Outcome::nothing(Engine::ShuttlePct);
    for depth in 1..=max_depth {
        let o = pct(plan, cfg, iterations, depth, seed);
        total.executions += o.executions;
        total.pruned += o.pruned;
        total.classes.merge(&o.classes);
        let _ = total.lock_graph.merge(&o.lock_graph.edges());
        total.seconds += o.seconds;
        total.bound = o.bound;
        total.violation = o.violation;
        total.events = o.events;
        if total.violation.is_some() {
            break;
        }
    }
    total
}

/// Random: `iterations` uniformly random schedules from `seed`.
pub fn random(plan: &Plan, cfg: &Config, iterations: usize, seed: u64) -> Outcome {
    drive(
        Engine::ShuttleRandom,
        Bound::Sampled,
        |body| {
            let sched = shuttle::scheduler::RandomScheduler::new_from_seed(seed, iterations);
            run(sched, body);
        },
        plan,
        cfg,
        true,
    )
}

fn run<S: shuttle::scheduler::Scheduler + 'static>(sched: S, body: Arc<dyn Fn() + Send + Sync>) {
    let mut c = shuttle::Config::default();
    c.failure_persistence = shuttle::FailurePersistence::None;
    // The model's atomics are documented as checked for ordering by loom, not shuttle.
    c.silence_warnings = true;
    shuttle::Runner::new(sched, c).run(move || body());
}
