//! Sizes, designs and choices of one model instance.

use crate::variants::{Design, Faults};

/// How `css_set_hash` maps a css template to a bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashKind {
    /// The kernel's: the sum of the css addresses, folded, modulo the number of buckets.
    Sum,
    /// Every css_set in bucket 0: every lookup walks colliding entries.
    Collide,
}

/// The configuration of one model instance. Everything is small on purpose (design.md 1).
#[derive(Clone, Debug)]
pub struct Config {
    /// Built-in subsystems, from `["cpuset", "cpu"]` (1 or 2).
    pub builtin: usize,
    /// Modular slots `[BUILTIN, COUNT)` in `subsys[]` (at least 1).
    pub modular_slots: usize,
    /// Buckets of `css_set_table` (the kernel has 128).
    pub buckets: usize,
    /// The bucket function.
    pub hash: HashKind,
    /// Model threads that may run kernel code (RCU reader slots), main thread included.
    pub max_threads: usize,
    /// The design under check.
    pub design: Design,
    /// Enforce lockdep assertions. Always on under the std backend; may be turned off under loom to
    /// let loom's own causality checker find unlocked accesses.
    pub lockdep: bool,
    /// Injected faults (docs/faults.md). `Config::default()` takes them from
    /// `CGROUP_MODEL_FAULTS`, so any test run can inject them.
    pub faults: Faults,
    /// `use_task_css_set_links` is already set at boot (as after the first `cgroup_iter_start`),
    /// so fork, exit and attach maintain the css_set task lists.
    pub task_links: bool,
}

impl Default for Config {
    /// The default sizes, design v2.6.34, and the faults named by `CGROUP_MODEL_FAULTS` (a
    /// malformed value panics with the parse error: it is a test-run setting).
    fn default() -> Self {
        let faults = Faults::from_env().unwrap_or_else(|e| panic!("{e}"));
        Self {
            faults,
            builtin: 2,
            modular_slots: 2,
            buckets: 4,
            hash: HashKind::Sum,
            max_threads: 6,
            design: Design::V2634,
            lockdep: true,
            task_links: true,
        }
    }
}

impl Config {
    /// `CGROUP_SUBSYS_COUNT`.
    pub fn count(&self) -> usize {
        self.builtin + self.modular_slots
    }
}
