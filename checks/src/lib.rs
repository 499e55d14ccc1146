//! Scenarios, engines and the race regression's report for the cgroup model.
//!
//! - [`scenario`]: the catalog, one file per scenario (`checks/scenarios/*.scn`);
//! - [`engine`]: one execution of a plan, and the engines that explore its interleavings;
//! - [`explore`]: every small scenario of named setups, failures grouped, and the kill matrix;
//! - [`figures`]: the design review's figures, held to the results and traces;
//! - [`zoo`]: which scenarios catch each injected fault;
//! - [`par`]: one worker per core over a list of runs;
//! - [`reduction`]: loom's reduction against no reduction, row by row (run in the loom build);
//! - `shapes` (the loom build): small programs whose class counts are known, both ways;
//! - [`tracefile`]: counterexamples as files, replayed on real threads and rendered;
//! - [`verify`]: what `cgcheck verify` runs, and its results;
//! - [`report`]: the race regression's per-run table.
//!
//! [`judge`] compares an outcome with the scenario's expected verdict.

pub mod anchors;
pub mod bench;
pub mod engine;
pub mod explore;
pub mod figures;
pub mod par;
pub mod reduction;
pub mod report;
pub mod scenario;
#[cfg(backend_loom)]
pub mod shapes;
pub mod tracefile;
pub mod verify;
pub mod zoo;

use cgmodel::Design;
use engine::Outcome;
use scenario::{Expect, Scenario};
use serde::{Deserialize, Serialize};

/// What a run of a scenario on a design says, measured against the scenario's expectation.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Verdict {
    /// Nothing broke, and nothing was expected to (or a sampling engine missed a finding).
    Pass,
    /// The documented finding broke the check it names.
    ExpectedFail,
    /// Something broke that was not expected: a pass that failed, or a finding that failed
    /// another way.
    Fail,
    /// An engine that must find the documented finding (loom, PCT) did not.
    Missed,
}

impl Verdict {
    /// Whether the verdict is what the scenario's file says.
    pub fn ok(self) -> bool {
        matches!(self, Verdict::Pass | Verdict::ExpectedFail)
    }
}

/// The verdict of `o`, a run of `sc` on `design`, and the reason when it is not ok.
pub fn verdict(sc: &Scenario, design: Design, o: &Outcome) -> (Verdict, Option<String>) {
    match (sc.expect(design), &o.violation) {
        (Expect::Pass, None) => (Verdict::Pass, None),
        (Expect::Pass, Some(v)) => (
            Verdict::Fail,
            Some(format!("{} on {design}: unexpected {v}", sc.name)),
        ),
        (Expect::Finding(names), Some(v)) if names.contains(&v.name) => {
            (Verdict::ExpectedFail, None)
        }
        (Expect::Finding(names), Some(v)) => (
            Verdict::Fail,
            Some(format!(
                "{} on {design}: expected one of {names:?}, got {v}",
                sc.name
            )),
        ),
        (Expect::Finding(names), None)
            if !o.engine.must_find() || !names.iter().any(|n| o.engine.can_report(n)) =>
        {
            (Verdict::Pass, None)
        }
        (Expect::Finding(names), None) => (
            Verdict::Missed,
            Some(format!(
                "{} on {design}: expected {names:?}, {} executions found nothing",
                sc.name, o.executions
            )),
        ),
    }
}

/// Whether `o` is what `sc` expects on `design`: Ok, or Err with the reason.
pub fn judge(sc: &Scenario, design: Design, o: &Outcome) -> Result<(), String> {
    match verdict(sc, design, o) {
        (v, _) if v.ok() => Ok(()),
        (_, why) => Err(why.unwrap_or_default()),
    }
}
