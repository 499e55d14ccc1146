//! Sizes, designs and choices of one model instance (the model's Kconfig), and their one-line
//! `key=value` form used by scenario and trace files.

use crate::sim::rcu::{Preemption, RcuFlavour};
use crate::variants::{Design, Faults};

/// How `css_set_hash` maps a css template to a bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashKind {
    /// The kernel's: the sum of the css addresses, folded, modulo the number of buckets.
    Sum,
    /// Every css_set in bucket 0: every lookup walks colliding entries.
    Collide,
}

/// The configuration of one model instance. Everything is small on purpose: the checkers explore
/// every interleaving, so each object more multiplies what they explore.
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
    /// The RCU flavour the kernel is built with (`CONFIG_TREE_RCU` or `CONFIG_TREE_PREEMPT_RCU`).
    pub rcu: RcuFlavour,
    /// The preemption model (`CONFIG_PREEMPT` or `CONFIG_PREEMPT_NONE`).
    pub preempt: Preemption,
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
            rcu: RcuFlavour::Classic,
            preempt: Preemption::Full,
        }
    }
}

impl Config {
    /// `CGROUP_SUBSYS_COUNT`.
    pub fn count(&self) -> usize {
        self.builtin + self.modular_slots
    }
}

impl Config {
    /// The settings as one line of `key=value` words (the design and faults are written apart).
    /// `preempt` is written only when it is not the default, `full`, so that the traces written
    /// before it existed keep their header.
    pub fn settings(&self) -> String {
        let preempt = match self.preempt {
            Preemption::Full => String::new(),
            p => format!(" preempt={p}"),
        };
        format!(
            "builtin={} modular_slots={} buckets={} hash={} max_threads={} lockdep={} task_links={} rcu={}{}",
            self.builtin,
            self.modular_slots,
            self.buckets,
            match self.hash {
                HashKind::Sum => "sum",
                HashKind::Collide => "collide",
            },
            self.max_threads,
            if self.lockdep { "on" } else { "off" },
            if self.task_links { "on" } else { "off" },
            self.rcu,
            preempt
        )
    }

    /// Applies `key=value` words (any subset of [`Config::settings`]'s), checking each value and
    /// the ranges [`crate::Kernel::boot`] accepts.
    pub fn apply_settings(&mut self, s: &str) -> Result<(), String> {
        for kv in s.split_whitespace() {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("`{kv}` is not key=value"))?;
            let num = || {
                v.parse::<usize>()
                    .map_err(|_| format!("`{k}` needs a number, got `{v}`"))
            };
            let onoff = || match v {
                "on" => Ok(true),
                "off" => Ok(false),
                _ => Err(format!("`{k}` is on or off, got `{v}`")),
            };
            match k {
                "builtin" => self.builtin = num()?,
                "modular_slots" => self.modular_slots = num()?,
                "buckets" => self.buckets = num()?,
                "max_threads" => self.max_threads = num()?,
                "hash" => {
                    self.hash = match v {
                        "sum" => HashKind::Sum,
                        "collide" => HashKind::Collide,
                        _ => return Err(format!("unknown hash `{v}` (sum, collide)")),
                    }
                }
                "lockdep" => self.lockdep = onoff()?,
                "rcu" => {
                    self.rcu = v
                        .parse()
                        .map_err(|_| format!("unknown rcu `{v}` (classic, preempt)"))?
                }
                "task_links" => self.task_links = onoff()?,
                "preempt" => {
                    self.preempt = v
                        .parse()
                        .map_err(|_| format!("unknown preempt `{v}` (full, none)"))?
                }
                _ => {
                    return Err(format!(
                        "unknown config key `{k}` (builtin, modular_slots, buckets, hash, max_threads, lockdep, task_links, rcu, preempt)"
                    ))
                }
            }
        }
        if !(1..=2).contains(&self.builtin)
            || !(1..=2).contains(&self.modular_slots)
            || self.buckets == 0
            || self.max_threads == 0
        {
            return Err(
                "config out of range (builtin 1-2, modular_slots 1-2, buckets and max_threads >= 1)"
                    .into(),
            );
        }
        if self.rcu == RcuFlavour::Preempt && self.preempt == Preemption::None {
            return Err(
                "rcu=preempt needs preempt=full (CONFIG_TREE_PREEMPT_RCU depends on CONFIG_PREEMPT)"
                    .into(),
            );
        }
        Ok(())
    }
}
