//! `cgcheck reduction`: the evidence that loom's reduction keeps every behaviour. Every catalog
//! row (scenario × design) runs as `verify` runs it, reduced (sleep sets and enabling order,
//! `vendor/loom/PATCH.md`), and again without the reduction, and the two are compared:
//!
//! - where the unreduced run finishes within its cap and passes, both must pass with the same
//!   classes, under both relations of [`cgmodel::sim::foata::Relation`] (`same`);
//! - where it finds a violation, both must fail with the same violation (`same`): each stops at
//!   its first, so their classes are not comparable;
//! - where it does not finish within the cap, it runs again at a preemption bound, and the
//!   reduced run must contain it: every class the bounded run met, and its violation if it found
//!   one (`contains`).
//!
//! Anything else is a `mismatch`, and the command exits 1.

use serde::{Deserialize, Serialize};

use crate::engine::Bound;
#[cfg(backend_loom)]
use crate::engine::{self, loom, Outcome};
use crate::scenario::{catalog, LoomPlan, Scenario};
#[cfg(backend_loom)]
use cgmodel::sim::foata::Relation;
use cgmodel::Design;
#[cfg(backend_loom)]
use cgmodel::Faults;

/// How the unreduced run of a row went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agreement {
    /// The unreduced run finished: same verdict and violation, and for a pass the same classes.
    Same,
    /// The unreduced run hit its cap, and the reduced one contains its bounded run.
    Contains,
    /// They disagree.
    Mismatch,
}

/// One row compared.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    /// The scenario.
    pub scenario: String,
    /// The design.
    pub design: String,
    /// Reduced: executions, stopped early, classes (exact, readers commute), violation.
    pub reduced: Side,
    /// Unreduced, unbounded (None: it hit the cap).
    pub unreduced: Option<Side>,
    /// Unreduced at the fallback bound, when the unbounded run hit the cap.
    pub bounded: Option<Side>,
    /// The verdict of the comparison.
    pub agreement: Agreement,
    /// Why it is a mismatch, if it is.
    pub why: Option<String>,
}

/// One run's figures.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Side {
    /// Executions run to their end.
    pub executions: u64,
    /// Executions stopped early as repeats.
    pub stopped: u64,
    /// Classes ([`cgmodel::sim::foata::Relation::Exact`]).
    pub classes: u64,
    /// Classes when readers commute ([`cgmodel::sim::foata::Relation::SharedReads`]).
    pub classes_shared_reads: u64,
    /// The bound the run explored to.
    pub bound: Bound,
    /// The violation's name, if any.
    pub violation: Option<String>,
    /// Seconds.
    pub seconds: f64,
}

#[cfg(backend_loom)]
impl Side {
    fn of(o: &Outcome) -> Side {
        Side {
            executions: o.executions,
            stopped: o.pruned,
            classes: o.classes.len(),
            classes_shared_reads: o.classes.len_under(Relation::SharedReads),
            bound: o.bound,
            violation: o.violation.as_ref().map(|v| v.name.clone()),
            seconds: o.seconds,
        }
    }
}

/// How far the unreduced runs go.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Executions an unreduced unbounded run may take before it counts as unfinished.
    pub cap: usize,
    /// The preemption bound of the fallback for a scenario of two threads.
    pub bound_two: usize,
    /// The fallback's bound for more threads.
    pub bound_more: usize,
}

impl Default for Limits {
    /// 20,000 executions; bounds 3 and 2, the catalog's bounds before the reduction.
    fn default() -> Self {
        Limits {
            cap: 20_000,
            bound_two: 3,
            bound_more: 2,
        }
    }
}

/// Compares scenario `sc` on `design` reduced and unreduced.
#[cfg(backend_loom)]
pub fn compare(sc: &Scenario, design: Design, limits: Limits) -> Row {
    let cfg = engine::config(sc, design, Faults::NONE, true);
    let plan = sc.plan();
    let on = loom::iterative(&plan, &cfg, None, true);
    let off = loom::capped(&plan, &cfg, None, false, Some(limits.cap));
    let finished = off.violation.is_some() || (off.executions + off.pruned) < limits.cap as u64;
    let (unreduced, bounded, agreement, why) = if finished {
        let why = differ(&on, &off);
        let agreement = if why.is_some() {
            Agreement::Mismatch
        } else {
            Agreement::Same
        };
        (Some(Side::of(&off)), None, agreement, why)
    } else {
        let b = if sc.threads.len() > 2 {
            limits.bound_more
        } else {
            limits.bound_two
        };
        let bounded = loom::bounded(&plan, &cfg, Some(b), false);
        let why = misses(&on, &bounded);
        let agreement = if why.is_some() {
            Agreement::Mismatch
        } else {
            Agreement::Contains
        };
        (None, Some(Side::of(&bounded)), agreement, why)
    };
    Row {
        scenario: sc.name.clone(),
        design: design.name().to_string(),
        reduced: Side::of(&on),
        unreduced,
        bounded,
        agreement,
        why,
    }
}

#[cfg(backend_loom)]
fn violation(o: &Outcome) -> Option<String> {
    o.violation.as_ref().map(|v| v.name.clone())
}

/// How a reduced run `on` differs from a finished unreduced run `off` of the same row: its
/// violation, or for a pass its classes. `None` if they agree.
#[cfg(backend_loom)]
pub fn differ(on: &Outcome, off: &Outcome) -> Option<String> {
    if violation(on) != violation(off) {
        Some(format!(
            "violation {:?} reduced, {:?} unreduced",
            violation(on),
            violation(off)
        ))
    } else if on.violation.is_none() && on.classes != off.classes {
        Some(format!(
            "classes {} reduced, {} unreduced ({} and {} if readers commute)",
            on.classes.len(),
            off.classes.len(),
            on.classes.len_under(Relation::SharedReads),
            off.classes.len_under(Relation::SharedReads)
        ))
    } else {
        None
    }
}

/// What a reduced run `on` misses of an unreduced run `bounded` at a preemption bound: its
/// violation, or for a pass one of its classes. `None` if `on` contains it.
#[cfg(backend_loom)]
pub fn misses(on: &Outcome, bounded: &Outcome) -> Option<String> {
    let b = bounded.bound;
    match (violation(on), violation(bounded)) {
        (on_v, Some(v)) if on_v.as_deref() != Some(v.as_str()) => {
            Some(format!("{b} unreduced found {v}, the reduced run {on_v:?}"))
        }
        (None, None) if !on.classes.contains_all(&bounded.classes) => Some(format!(
            "the reduced run ({} classes) misses classes of {b} unreduced ({})",
            on.classes.len(),
            bounded.classes.len()
        )),
        _ => None,
    }
}

/// The catalog rows loom can run (every scenario but the six-thread storms) on `designs`, in
/// catalog order, restricted to `names` when given: what `cgcheck reduction` compares, and what
/// `verify --deep` splits into shards.
pub fn rows_of(
    names: Option<&[String]>,
    designs: &[Design],
) -> Result<Vec<(&'static Scenario, Design)>, String> {
    if let Some(names) = names {
        for n in names {
            crate::scenario::by_name(n)?;
        }
    }
    Ok(catalog()
        .iter()
        .filter(|sc| !matches!(sc.loom, LoomPlan::ShuttleOnly(_)))
        .filter(|sc| names.is_none_or(|n| n.contains(&sc.name)))
        .flat_map(|sc| designs.iter().map(move |&d| (sc, d)))
        .collect())
}

/// The table `cgcheck reduction` prints: one line per row, then the totals.
pub fn table(rows: &[Row]) -> String {
    use std::fmt::Write as _;
    let mut s = format!(
        "{:<34} {:<31} {:>21} {:>21} {}\n",
        "scenario", "design", "reduced ex+stop/cls", "unreduced ex/cls", "agreement"
    );
    let (mut on, mut off, mut same, mut contains, mut bad) = (0u64, 0u64, 0, 0, 0);
    for r in rows {
        let unreduced = match (&r.unreduced, &r.bounded) {
            (Some(u), _) => format!("{}/{}", u.executions + u.stopped, u.classes),
            (None, Some(b)) => format!("{} {}/{}", b.bound, b.executions, b.classes),
            _ => "-".into(),
        };
        let _ = writeln!(
            s,
            "{:<34} {:<31} {:>21} {:>21} {}{}",
            r.scenario,
            r.design,
            format!(
                "{}+{}/{}",
                r.reduced.executions, r.reduced.stopped, r.reduced.classes
            ),
            unreduced,
            match r.agreement {
                Agreement::Same => "same",
                Agreement::Contains => "contains",
                Agreement::Mismatch => "MISMATCH",
            },
            r.why.as_ref().map_or(String::new(), |w| format!(": {w}"))
        );
        on += r.reduced.executions + r.reduced.stopped;
        if let Some(u) = &r.unreduced {
            off += u.executions + u.stopped;
        }
        match r.agreement {
            Agreement::Same => same += 1,
            Agreement::Contains => contains += 1,
            Agreement::Mismatch => bad += 1,
        }
    }
    let _ = write!(
        s,
        "\n{} rows: {same} the same both ways, {contains} containing the unreduced run at a \
         bound, {bad} mismatched; reduced {on} executions in all, unreduced {off} on the rows \
         it finished",
        rows.len()
    );
    s
}
