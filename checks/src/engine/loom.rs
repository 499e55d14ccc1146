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

/// Fewest preemptions first: bounds 0, 1, 2, ... up to `max` (None: then unbounded), stopping at
/// the first bound that finds a violation, so a counterexample has as few preemptions as
/// possible. Executions and seconds add up over the bounds tried.
pub fn iterative(plan: &Plan, cfg: &Config, max: Option<usize>) -> Outcome {
    let mut total = Outcome::nothing(Engine::Loom);
    let last_bounded = max.unwrap_or(2);
    let mut bounds: Vec<Option<usize>> = (0..=last_bounded).map(Some).collect();
    if max.is_none() {
        bounds.push(None);
    }
    for b in bounds {
        let o = bounded(plan, cfg, b);
        total.executions += o.executions;
        total.seconds += o.seconds;
        total.bound = o.bound;
        if o.violation.is_some() {
            total.violation = o.violation;
            total.events = o.events;
            break;
        }
    }
    total
}
