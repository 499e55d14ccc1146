//! loom: every interleaving of a plan, within a preemption bound or exhaustively.

use cgmodel::Config;

use super::{drive, Bound, Engine, Outcome};
use crate::scenario::Plan;

/// Every interleaving within `preemption_bound` preemptions (None: exhaustive).
pub fn bounded(plan: &Plan, cfg: &Config, preemption_bound: Option<usize>) -> Outcome {
    let bound = preemption_bound.map_or(Bound::Exhaustive, Bound::Preemptions);
    drive(
        Engine::Loom,
        bound,
        |body| {
            let mut b = loom::model::Builder::new();
            b.preemption_bound = preemption_bound;
            b.max_branches = 100_000;
            b.check(move || body());
        },
        plan,
        cfg,
    )
}

/// The largest bound `max` (None: unbounded) first: loom's run at a bound explores every
/// execution with at most that many preemptions, so a pass there is a pass at every smaller
/// bound, and a passing plan runs once. A failing one goes back through the bounds 0, 1, 2, ...
/// below `max`, stopping at the first that finds a violation, so a counterexample has as few
/// preemptions as possible; when none below does, the largest bound's counterexample stands.
/// The verdict, violation and trace are those of running the bounds fewest first; executions
/// and seconds add up over every run made.
pub fn iterative(plan: &Plan, cfg: &Config, max: Option<usize>) -> Outcome {
    let mut total = bounded(plan, cfg, max);
    let Some(top) = total.violation.take() else {
        return total;
    };
    let top_events = std::mem::take(&mut total.events);
    // Unbounded: bounds 0, 1 and 2 before the unbounded counterexample stands.
    let below = max.unwrap_or(3);
    for b in 0..below {
        let o = bounded(plan, cfg, Some(b));
        total.executions += o.executions;
        total.classes.merge(&o.classes);
        total.seconds += o.seconds;
        if o.violation.is_some() {
            total.bound = o.bound;
            total.violation = o.violation;
            total.events = o.events;
            return total;
        }
    }
    total.violation = Some(top);
    total.events = top_events;
    total
}
