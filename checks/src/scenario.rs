//! Scenarios: an initial state (a setup script run sequentially) plus one op list per thread,
//! with the verdict each design is expected to get.

use cgmodel::{Config, Design, Step};

/// What a design is expected to do on a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Every explored execution satisfies every check.
    Pass,
    /// Some execution breaks a check: a documented finding about this design. The string names
    /// the violation (its `name`, e.g. `container_of-type-confusion`); any of the names listed is
    /// accepted, since one race can surface at different points.
    Finding(&'static [&'static str]),
}

/// A named concurrency scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Name, e.g. `netcls-init-vs-classify`.
    pub name: &'static str,
    /// What it exercises.
    pub about: &'static str,
    /// Setup steps, run by thread 0 before the others start.
    pub setup: &'static [&'static str],
    /// One op list per thread (threads 1..).
    pub threads: &'static [&'static [&'static str]],
    /// The expected verdict per design.
    pub expect: fn(Design) -> Expect,
    /// Configuration tweaks (sizes, hash) on top of the default.
    pub config: fn(Config) -> Config,
}

impl Scenario {
    /// The parsed setup script.
    pub fn setup_steps(&self) -> Vec<Step> {
        self.setup
            .iter()
            .map(|s| s.parse().expect("catalog steps parse"))
            .collect()
    }

    /// The parsed per-thread scripts.
    pub fn thread_steps(&self) -> Vec<Vec<Step>> {
        self.threads
            .iter()
            .map(|t| {
                t.iter()
                    .map(|s| s.parse().expect("catalog steps parse"))
                    .collect()
            })
            .collect()
    }

    /// The configuration for `design`.
    pub fn config_for(&self, design: Design) -> Config {
        (self.config)(Config {
            design,
            ..Config::default()
        })
    }
}

fn same(c: Config) -> Config {
    c
}

/// The scenarios known so far (the catalog grows with the race-check issue).
pub fn catalog() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "netcls-init-vs-classify",
            about: "insmod cls_cgroup races a tc filter add and a packet: v2.6.34 registers the tc ops before cgroup_load_subsys, so a filter can classify with net_cls_subsys_id still 0 or before the task's css_set has the css",
            setup: &["fork T0 T1"],
            threads: &[&["insmod net_cls"], &["tc-add F0", "classify T1"]],
            expect: |d| {
                if d.fixes().contains(&cgmodel::Fix::NetClsInitOrder) {
                    Expect::Pass
                } else {
                    Expect::Finding(&["container_of-type-confusion", "NULL-dereference"])
                }
            },
            config: same,
        },
        Scenario {
            name: "attach-vs-exit",
            about: "a task is moved into a new cgroup while it exits: the pin (77efecd9) and the PF_EXITING recheck keep refcounts exact",
            setup: &["fork T0 T1", "fork T0 T2", "mount m0 cpuset", "mkdir m0/a", "attach T2 m0/a"],
            threads: &[&["attach T1 m0/a"], &["exit T1"]],
            expect: |_| Expect::Pass,
            config: same,
        },
        Scenario {
            name: "rmdir-vs-css-get",
            about: "rmdir clears the css refcounts (1 -> 0, then CSS_REMOVED) while a subsystem path that read the task's old css under RCU runs css_tryget",
            setup: &["fork T0 T1", "mount m0 cpu", "mkdir m0/a", "attach T1 m0/a"],
            threads: &[&["attach T1 m0", "rmdir m0/a"], &["css-get T1 cpu", "css-put T1 cpu"]],
            expect: |_| Expect::Pass,
            config: same,
        },
    ]
}

/// Looks a scenario up by name.
pub fn by_name(name: &str) -> Result<Scenario, String> {
    catalog()
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| {
            let names: Vec<_> = catalog().iter().map(|s| s.name).collect();
            format!("unknown scenario `{name}` (known: {})", names.join(", "))
        })
}
