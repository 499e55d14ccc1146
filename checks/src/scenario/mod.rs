//! The scenario catalog: each scenario is a file, `checks/scenarios/NAME.scn` (the format is
//! [`parse`]'s, documented in docs/scenarios.md): an initial state (a setup script run by
//! thread 0), one op list per thread, the verdict each design is expected to get, how loom
//! explores it, and what makes it fail.
//!
//! The catalog covers every pair among load, unload, mount, umount/rebind, attach, fork (with
//! post_fork), exit and classify that touches shared state, the triples that matter, and the
//! races behind each fault of docs/faults.md. The files are embedded at build time
//! (`build.rs`), which also generates one test per file.

pub mod parse;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use cgmodel::{Config, Design, Fault, Step};

pub use parse::ParseError;

/// What a design is expected to do on a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Every explored execution satisfies every check.
    Pass,
    /// Some execution breaks a check: a documented finding about this design. Any of the
    /// violation names listed is accepted, since one race can surface at different points.
    Finding(Vec<String>),
}

impl Expect {
    /// Whether this is a finding.
    pub fn is_finding(&self) -> bool {
        matches!(self, Expect::Finding(_))
    }
}

/// How the loom suite explores a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoomPlan {
    /// Bounds 0, 1, 2, then unbounded: every interleaving.
    Exhaustive,
    /// Bounds 0..=N only; the reason (with the measured cost of going further) is documented.
    Bounded(usize, String),
    /// Too many threads for loom (at most 5, the main thread included): shuttle only.
    ShuttleOnly(String),
}

/// What makes a scenario fail, so that every scenario is shown able to fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Killer {
    /// The fault, injected into the `fixed` design.
    Fault(Fault),
    /// The design itself (a documented finding).
    Design(Design),
}

/// A named concurrency scenario, as its file states it.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Name (the file stem), e.g. `netcls-init-vs-classify`.
    pub name: String,
    /// What it exercises.
    pub about: String,
    /// Setup steps, run by thread 0 before the others start.
    pub setup: Vec<Step>,
    /// One op list per thread (threads 1..).
    pub threads: Vec<Vec<Step>>,
    /// The expected verdict of every design.
    pub expect: BTreeMap<Design, Expect>,
    /// Configuration settings on top of the default (`hash=collide`...), as `key=value` words.
    pub settings: String,
    /// How loom explores it, and why.
    pub loom: LoomPlan,
    /// What makes it fail.
    pub killer: Killer,
}

/// What an engine runs: the setup and the per-thread steps (a scenario's, or a generated one's).
#[derive(Clone, Debug)]
pub struct Plan {
    /// A name for reports.
    pub name: String,
    /// Setup steps (thread 0).
    pub setup: Vec<Step>,
    /// One op list per thread.
    pub threads: Vec<Vec<Step>>,
}

/// The task a step runs as, where the op language names it: `exit T` runs in T's own context
/// (`do_exit` as `current`), `fork P C` in P's.
fn actor(step: &Step) -> Option<&str> {
    match &step.op {
        cgmodel::Op::Exit { task } => Some(task),
        cgmodel::Op::Fork { parent, .. } => Some(parent),
        _ => None,
    }
}

/// A task is one thread of execution: the steps that run as a task (`exit T`, and `fork T C`)
/// name it in one thread only. Two threads exiting one task, or one forking as a task another
/// exits, is a state the kernel cannot reach; the model would report a double `cgroup_exit` that
/// no kernel has. A task forked by the scenario runs only once its fork has let it
/// (`wake_up_new_task` in `do_fork`, kernel/fork.c:1440, after `copy_process`), so its own
/// steps come after the fork, in the forking thread: a child exiting while `copy_process` is
/// still building it is no kernel's state either.
pub fn check_tasks(threads: &[Vec<Step>]) -> Result<(), String> {
    let mut first: std::collections::BTreeMap<&str, usize> = Default::default();
    for (i, t) in threads.iter().enumerate() {
        for (j, s) in t.iter().enumerate() {
            let cgmodel::Op::Fork { child, .. } = &s.op else {
                continue;
            };
            let acts = |u: &[Step]| u.iter().any(|s| actor(s) == Some(child.as_str()));
            if acts(&t[..j]) {
                return Err(format!(
                    "{child} runs in thread {} before the fork that creates it",
                    i + 1
                ));
            }
            if let Some(k) = (0..threads.len()).find(|&k| k != i && acts(&threads[k])) {
                return Err(format!(
                    "{child} runs in thread {} while thread {} forks it: a child runs only once \
                     its fork has returned, so its steps go after the fork, in the forking thread",
                    k + 1,
                    i + 1
                ));
            }
        }
        for a in t.iter().filter_map(actor) {
            match first.get(a) {
                Some(&j) if j != i => {
                    return Err(format!(
                        "{a} runs in thread {} and thread {}: a task is one thread of execution, \
                         so its `exit` and its `fork`s go in one thread",
                        j + 1,
                        i + 1
                    ))
                }
                _ => {
                    first.insert(a, i);
                }
            }
        }
    }
    Ok(())
}

impl Plan {
    /// [`check_tasks`] on this plan's threads.
    pub fn check_tasks(&self) -> Result<(), String> {
        check_tasks(&self.threads)
    }
}

impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "setup:")?;
        for s in &self.setup {
            writeln!(f, "    {s}")?;
        }
        for (i, t) in self.threads.iter().enumerate() {
            writeln!(f, "thread {}:", i + 1)?;
            for s in t {
                writeln!(f, "    {s}")?;
            }
        }
        Ok(())
    }
}

impl Scenario {
    /// The expected verdict of `design`.
    pub fn expect(&self, design: Design) -> &Expect {
        &self.expect[&design]
    }

    /// The plan the engines run.
    pub fn plan(&self) -> Plan {
        Plan {
            name: self.name.clone(),
            setup: self.setup.clone(),
            threads: self.threads.clone(),
        }
    }

    /// The configuration for `design` (faults come from the environment by default). Its RCU
    /// has a reader slot for each of the scenario's threads and the setup thread, unless the file
    /// says `max_threads=`: a grace period waits on each slot, and waiting on a thread the
    /// scenario does not have is a checker step with no kernel counterpart (docs/model.md).
    pub fn config_for(&self, design: Design) -> Config {
        let mut c = Config {
            design,
            max_threads: self.threads.len() + 1,
            ..Config::default()
        };
        c.apply_settings(&self.settings)
            .expect("settings were checked when the file was parsed");
        c
    }

    /// Reads a scenario file that is not in the catalog (`cgcheck run PATH.scn`); its name is the
    /// file stem.
    pub fn load(path: &std::path::Path) -> Result<Scenario, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| format!("{}: no file name", path.display()))?;
        parse::parse(name, &text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

mod files {
    include!(concat!(env!("OUT_DIR"), "/catalog.rs"));
}

/// The catalog, parsed once; a malformed file is an error naming the file and the line.
pub fn try_catalog() -> Result<&'static [Scenario], String> {
    static CATALOG: OnceLock<Result<Vec<Scenario>, String>> = OnceLock::new();
    CATALOG
        .get_or_init(|| {
            files::FILES
                .iter()
                .map(|(name, text)| {
                    parse::parse(name, text)
                        .map_err(|e| format!("checks/scenarios/{name}.scn: {e}"))
                })
                .collect()
        })
        .as_deref()
        .map_err(Clone::clone)
}

/// The catalog. The files are embedded at build time and a test parses every one, so a
/// malformed one panics here with its file and line (the CLI checks [`try_catalog`] first).
pub fn catalog() -> &'static [Scenario] {
    try_catalog().unwrap_or_else(|e| panic!("{e}"))
}

/// Looks a catalog scenario up by name.
pub fn by_name(name: &str) -> Result<&'static Scenario, String> {
    let all = try_catalog()?;
    all.iter().find(|s| s.name == name).ok_or_else(|| {
        let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
        format!("unknown scenario `{name}` (known: {})", names.join(", "))
    })
}

/// A catalog name, or a path to a `.scn` file (anything with a `/` or ending in `.scn`).
pub fn resolve(name_or_path: &str) -> Result<Scenario, String> {
    if name_or_path.ends_with(".scn") || name_or_path.contains('/') {
        Scenario::load(std::path::Path::new(name_or_path))
    } else {
        by_name(name_or_path).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_file_parses() {
        let all = try_catalog().unwrap_or_else(|e| panic!("{e}"));
        assert!(all.len() >= 45, "{} scenarios", all.len());
    }

    /// The design review's claim, as the catalog states it (the suites check each expectation):
    /// with the special cases, the dummy-unlinked design is expected to do exactly what the
    /// baseline does; without them, it is expected to fail scenarios the baseline passes.
    #[test]
    fn dummy_unlinked_is_expected_to_match_the_baseline_and_the_bare_variant_to_fail() {
        let mut bare_only = Vec::new();
        for sc in catalog() {
            assert_eq!(
                sc.expect(Design::DummyUnlinked),
                sc.expect(Design::V2634),
                "{}",
                sc.name
            );
            if *sc.expect(Design::V2634) == Expect::Pass
                && *sc.expect(Design::DummyUnlinkedNoSpecial) != Expect::Pass
            {
                bare_only.push(sc.name.as_str());
            }
        }
        assert_eq!(bare_only.len(), 8, "{bare_only:?}");
    }
}
