//! The rows of `target/cgcheck/results.json`, as types: what one engine's part writes and what
//! `verify` merges.

use cgmodel::{Design, Fault};
use serde::{Deserialize, Serialize};

use crate::engine::{Bound, Engine};
use crate::Verdict;

/// Serializes a model name (a design or a fault) as its one spelling.
mod name {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<T: std::fmt::Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: std::str::FromStr<Err = String>,
        D: Deserializer<'de>,
    {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One scenario on one design with one engine.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScenarioRow {
    /// The scenario.
    pub name: String,
    /// The design.
    #[serde(with = "name")]
    pub design: Design,
    /// The engine.
    pub engine: Engine,
    /// The verdict against the scenario's expectation.
    pub verdict: Verdict,
    /// Executions run to their end (or to the violation that stopped the run).
    pub executions: u64,
    /// Executions loom's sleep sets stopped early as repeats ([`crate::engine::Outcome::pruned`]).
    #[serde(default)]
    pub pruned: u64,
    /// The distinct Mazurkiewicz classes among them ([`cgmodel::sim::foata`]): what an optimal
    /// DPOR checker would have run.
    #[serde(default)]
    pub classes: u64,
    /// The classes when two readers of a lock commute
    /// ([`cgmodel::sim::foata::Relation::SharedReads`]).
    #[serde(default)]
    pub classes_shared_reads: u64,
    /// The threads of the scenario (besides the setup).
    #[serde(default)]
    pub threads: usize,
    /// Wall time of the run, seconds.
    pub seconds: f64,
    /// The bound of the run that decided the verdict.
    pub bound: Bound,
    /// The violation found (`name: detail`), if any.
    pub violation: Option<String>,
    /// The trace written for it, if any.
    pub trace: Option<String>,
    /// What the run covered and left unexplored ([`crate::engine::Outcome::covers`]).
    #[serde(default)]
    pub covers: String,
}

/// One fault hunted with its catcher scenarios on one engine.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FaultRow {
    /// The fault.
    #[serde(with = "name")]
    pub name: Fault,
    /// Whether a catcher found it.
    pub detected: bool,
    /// The catcher that found it.
    pub scenario: Option<String>,
    /// The engine.
    pub engine: Engine,
    /// Seconds over every catcher tried.
    pub seconds: f64,
    /// The bound of the run that found it.
    pub bound: Option<Bound>,
    /// Executions of that run.
    pub executions: u64,
    /// The trace written for it.
    pub trace: Option<String>,
    /// The violation (`name: detail`).
    pub violation: Option<String>,
}

/// One committed trace replayed on real threads.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReplayRow {
    /// The file, relative to the repository.
    pub file: String,
    /// The same steps and the same violation.
    pub reproduced: bool,
    /// Why not, or what was reproduced.
    pub reason: String,
    /// Steps replayed.
    pub steps: usize,
}

/// What one build's engines contribute: the catalog, the zoo and the catalog's lock graphs.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Part {
    /// Every scenario on every design, per engine.
    pub scenarios: Vec<ScenarioRow>,
    /// Every fault, per engine.
    pub faults: Vec<FaultRow>,
    /// Per design, the lock orders every scenario of the catalog took, on every engine of the
    /// build.
    #[serde(default)]
    pub lock_graphs: Vec<GraphEdges>,
}

/// One design's lock graph as a part hands it over: its edges.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GraphEdges {
    /// The design.
    #[serde(with = "name")]
    pub design: Design,
    /// Held class, taken class, where each was first taken.
    pub edges: Vec<[String; 4]>,
}

/// One design's lock graph over the whole catalog, as lockdep's per-boot graph would be had one
/// kernel run every scenario.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GraphRow {
    /// The design.
    #[serde(with = "name")]
    pub design: Design,
    /// Lock classes with an edge.
    pub classes: usize,
    /// Dependencies (held class, taken class).
    pub edges: usize,
    /// Each cycle, as lockdep prints it (none expected: a cycle is a finding to triage).
    pub cycles: Vec<String>,
    /// Every dependency, `held -> taken`, in order of the classes.
    #[serde(default)]
    pub orders: Vec<String>,
}

/// `target/cgcheck/results.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Results {
    /// Every verdict as expected, every fault detected, every trace reproduced.
    pub ok: bool,
    /// The builds that ran (`loom`, `shuttle`, `std`).
    pub engines: Vec<String>,
    /// Every scenario row.
    pub scenarios: Vec<ScenarioRow>,
    /// Per fault, the first engine's row that caught it (loom first: fewest preemptions).
    pub faults: Vec<FaultRow>,
    /// Every engine's fault rows.
    pub fault_runs: Vec<FaultRow>,
    /// Every committed trace, replayed.
    pub replays: Vec<ReplayRow>,
    /// Per design, the lock graph of the whole catalog.
    #[serde(default)]
    pub lock_graphs: Vec<GraphRow>,
}
