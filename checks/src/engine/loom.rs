//! loom: every interleaving of a plan, within a preemption bound or exhaustively.

use cgmodel::Config;

use super::{drive, Bound, Engine, Outcome};
use crate::scenario::Plan;

/// Every interleaving within `preemption_bound` preemptions (None: exhaustive), with loom's
/// reduction when `reduce` (`vendor/loom/PATCH.md`: sleep sets and enabling order; under a
/// bound it may miss executions within the bound, see [`iterative`]).
pub fn bounded(
    plan: &Plan,
    cfg: &Config,
    preemption_bound: Option<usize>,
    reduce: bool,
) -> Outcome {
    capped(plan, cfg, preemption_bound, reduce, None)
}

/// [`bounded`], stopping after `cap` executions (stopped ones included) if given: an outcome
/// whose executions and stopped ones add up to the cap, without a violation, may be incomplete.
pub fn capped(
    plan: &Plan,
    cfg: &Config,
    preemption_bound: Option<usize>,
    reduce: bool,
    cap: Option<usize>,
) -> Outcome {
    search(plan, cfg, preemption_bound, reduce, cap, true)
}

/// [`capped`], counting the classes of the executions only if `classes` (the count costs about
/// a tenth of an execution; explore reports no classes).
fn search(
    plan: &Plan,
    cfg: &Config,
    preemption_bound: Option<usize>,
    reduce: bool,
    cap: Option<usize>,
    classes: bool,
) -> Outcome {
    let bound = preemption_bound.map_or(Bound::Exhaustive, Bound::Preemptions);
    let o = drive(
        Engine::Loom,
        bound,
        |body| {
            let mut b = loom::model::Builder::new();
            b.preemption_bound = preemption_bound;
            b.max_branches = 100_000;
            b.sleep_sets = reduce;
            b.enabling_order = reduce;
            if let Some(cap) = cap {
                // loom looks at the cap before each execution every `checkpoint_interval`
                // executions, and stops before running the cap-th one.
                b.max_permutations = Some(cap + 1);
                b.checkpoint_interval = 1;
            }
            b.check(move || body());
        },
        plan,
        cfg,
        classes,
    );
    Outcome {
        reduced: reduce,
        ..o
    }
}

/// The largest bound `max` (None: unbounded) first: loom's run at a bound explores every
/// execution with at most that many preemptions, so a pass there is a pass at every smaller
/// bound, and a passing plan runs once. A failing one goes back through the bounds 0, 1, 2, ...
/// below the preemptions its counterexample took (and below `max`), stopping at the first that
/// finds a violation, so that a counterexample has few preemptions; when none below does, the
/// first counterexample stands. The violation
/// and trace are those of the run that stopped; executions, classes and seconds add up over
/// every run made.
///
/// With `reduce`, an unbounded run explores one execution per behaviour (`vendor/loom/PATCH.md`).
/// A bounded run is reduced only when it looks for a smaller counterexample below an unbounded
/// one: the reduction may miss an execution within a bound, which can cost a smaller trace but
/// never the verdict. A run whose largest bound is a bound explores without it.
pub fn iterative(plan: &Plan, cfg: &Config, max: Option<usize>, reduce: bool) -> Outcome {
    iterative_counting(plan, cfg, max, reduce, true)
}

/// [`iterative`], counting classes only if `classes` (an outcome without has none).
pub fn iterative_counting(
    plan: &Plan,
    cfg: &Config,
    max: Option<usize>,
    reduce: bool,
    classes: bool,
) -> Outcome {
    let run = |b: Option<usize>| search(plan, cfg, b, reduce && max.is_none(), None, classes);
    let mut total = run(max);
    let Some(top) = total.violation.take() else {
        return total;
    };
    let top_events = std::mem::take(&mut total.events);
    // The bounds below the preemptions the counterexample took (below 3 unbounded). An
    // unbounded counterexample whose preemptions loom did not report (a data race or deadlock
    // loom found itself) stands: the reduced search explores the execution without preemptions
    // first and then diverges as late as it can, and on the catalog the search below it never
    // found a counterexample with fewer (docs/performance.md).
    let below = match (max, total.preemptions) {
        (None, None) => 0,
        (None, Some(p)) => p.min(3),
        (Some(b), p) => p.map_or(b, |p| p.min(b)),
    };
    for b in 0..below {
        let o = run(Some(b));
        total.executions += o.executions;
        total.pruned += o.pruned;
        total.classes.merge(&o.classes);
        let _ = total.lock_graph.merge(&o.lock_graph.edges());
        total.seconds += o.seconds;
        if o.violation.is_some() {
            total.bound = o.bound;
            total.violation = o.violation;
            total.preemptions = o.preemptions;
            total.events = o.events;
            return total;
        }
    }
    total.violation = Some(top);
    total.events = top_events;
    total
}
