//! The scenario catalog: each scenario is an initial state (a setup script run by thread 0) plus
//! one op list per thread, with the verdict each design is expected to get.
//!
//! The catalog covers every pair among load, unload, mount, umount/rebind, attach, fork (with
//! post_fork), exit and classify that touches shared state, the triples that matter, and the
//! races behind each fault of docs/faults.md. Setups put tasks in different cgroups so attach
//! creates and frees css_sets; some scenarios make every css_set collide in one hash bucket.

use cgmodel::{Config, Design, Fix, HashKind, Step};

/// What a design is expected to do on a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Every explored execution satisfies every check.
    Pass,
    /// Some execution breaks a check: a documented finding about this design. Any of the
    /// violation names listed is accepted, since one race can surface at different points.
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
    /// How loom explores it, and why.
    pub loom: LoomPlan,
}

/// How the loom suite explores a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoomPlan {
    /// Bounds 0, 1, 2, then unbounded: every interleaving.
    Exhaustive,
    /// Bounds 0..=N only; the reason (with the measured cost of going further) is documented.
    Bounded(usize, &'static str),
    /// Too many threads for loom (at most 5, the main thread included): shuttle only.
    ShuttleOnly(&'static str),
}

/// What an engine runs: the setup and the per-thread steps, parsed (a catalog scenario's, or a
/// generated one's).
#[derive(Clone, Debug)]
pub struct Plan {
    /// A name for reports.
    pub name: String,
    /// Setup steps (thread 0).
    pub setup: Vec<Step>,
    /// One op list per thread.
    pub threads: Vec<Vec<Step>>,
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
    /// The plan the engines run.
    pub fn plan(&self) -> Plan {
        Plan {
            name: self.name.to_string(),
            setup: self.setup_steps(),
            threads: self.thread_steps(),
        }
    }

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

    /// The configuration for `design` (faults come from the environment by default).
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

fn collide(c: Config) -> Config {
    Config {
        hash: HashKind::Collide,
        ..c
    }
}

fn pass(_: Design) -> Expect {
    Expect::Pass
}

fn netcls_finding(d: Design) -> Expect {
    if d.fixes().contains(&Fix::NetClsInitOrder) {
        Expect::Pass
    } else {
        Expect::Finding(&["container_of-type-confusion", "NULL-dereference"])
    }
}

/// The dummy-unlinked design without the special cases fails (the violations accepted are
/// listed); every other design passes.
fn dummy_finding(d: Design, names: &'static [&'static str]) -> Expect {
    let f = d.fixes();
    if f.contains(&Fix::DummyUnlinked) && !f.contains(&Fix::DummySpecialCases) {
        Expect::Finding(names)
    } else {
        Expect::Pass
    }
}

/// Every way the dummy-unlinked design without the special cases was seen to break (for the
/// storms, where any of them may come first).
const DUMMY_BREAKS: &[&str] = &[
    "links-per-hierarchy",
    "dummy-link-walk",
    "modular-slot-consistency",
    "no-dangling-css",
    "hierarchy-accounting",
    "BUG_ON(list_empty(tmp_cg_links))",
    "BUG_ON(!list_empty(&tmp_cg_links))",
];

/// Two tasks besides T0 in cgroups of a hierarchy holding both built-in subsystems, so that
/// nothing is left on the dummy hierarchy (the dummy-unlinked designs unlink it), and an empty
/// cgroup `c` (an attach there creates a css_set).
const DUMMY_EMPTY: &[&str] = &[
    "fork T0 T1",
    "fork T0 T2",
    "mount m0 cpuset,cpu",
    "mkdir m0/a",
    "mkdir m0/b",
    "mkdir m0/c",
    "attach T1 m0/b",
    "attach T2 m0/a",
];

/// Exhaustive (no preemption bound).
const FULL: LoomPlan = LoomPlan::Exhaustive;
/// The triples: three threads of heavy ops.
const TRIPLE: LoomPlan = LoomPlan::Bounded(
    3,
    "three threads: exhaustive exploration measured at 113k-204k executions (27-37 s per design, release, 2 cores), over the suite's budget for seven designs; bound 3 is 1k-15k executions (under 5 s)",
);
/// More threads than loom allows.
const STORM: LoomPlan =
    LoomPlan::ShuttleOnly("6 threads: loom allows at most 5 including the main thread");

fn storm(c: Config) -> Config {
    Config {
        max_threads: 8,
        ..c
    }
}

/// Two tasks besides T0, each alone in its own cgroup of a cpuset hierarchy (so attach creates
/// and frees css_sets).
const TWO_CGROUPS: &[&str] = &[
    "fork T0 T1",
    "fork T0 T2",
    "mount m0 cpuset",
    "mkdir m0/a",
    "mkdir m0/b",
    "attach T1 m0/b",
    "attach T2 m0/a",
];

const NETCLS_TWO_CGROUPS: &[&str] = &[
    "insmod net_cls",
    "fork T0 T1",
    "fork T0 T2",
    "mount m0 cpuset",
    "mkdir m0/a",
    "mkdir m0/b",
    "attach T1 m0/b",
    "attach T2 m0/a",
];

/// The catalog.
pub fn catalog() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "netcls-init-vs-classify",
            about: "insmod cls_cgroup races a tc filter add and a packet: v2.6.34 registers the tc ops before cgroup_load_subsys, so a filter can classify with net_cls_subsys_id still 0 or before the task's css_set has the css",
            setup: &["fork T0 T1"],
            threads: &[&["insmod net_cls"], &["tc-add F0", "classify T1"]],
            expect: netcls_finding,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "load-error-then-load",
            about: "finding K1: cgroup_load_subsys's use_id error path (blkio's idr allocation fails) leaves the freed blkio_subsys on rootnode.subsys_list, and the next load's list_add writes into it",
            setup: &[],
            threads: &[&["insmod blkio !nomem@3", "insmod net_cls"], &["fork T0 T1"]],
            expect: |d| {
                if d.fixes().contains(&Fix::LoadErrorUnlinks) {
                    Expect::Pass
                } else {
                    Expect::Finding(&["use-after-free"])
                }
            },
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "load-vs-load",
            about: "two modules take modular slots and rehash every css_set at once",
            setup: TWO_CGROUPS,
            threads: &[&["insmod net_cls"], &["insmod blkio"]],
            expect: pass,
            config: collide,
            loom: FULL,
        },
        Scenario {
            name: "load-vs-unload",
            about: "one module's load rehash runs while another unloads, walking dummytop's links",
            setup: &["insmod blkio", "fork T0 T1", "mount m0 cpuset", "mkdir m0/a", "attach T1 m0/a"],
            threads: &[&["insmod net_cls"], &["rmmod blkio"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "load-vs-mount-all",
            about: "mount -o all parses subsys[] while a module is published in it (K2: all pins every module)",
            setup: &["fork T0 T1"],
            threads: &[&["insmod net_cls"], &["mount m1 all", "umount m1"]],
            expect: |d| dummy_finding(d, &["links-per-hierarchy", "hierarchy-accounting"]),
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "load-vs-attach",
            about: "the load rehash and find_css_set creating a css_set for an attach",
            setup: TWO_CGROUPS,
            threads: &[&["insmod net_cls"], &["attach T1 m0/a"]],
            expect: pass,
            config: collide,
            loom: FULL,
        },
        Scenario {
            name: "load-vs-fork",
            about: "fork copies and references a css_set that load rehashes in place",
            setup: TWO_CGROUPS,
            threads: &[&["insmod net_cls"], &["fork T1 T3"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "load-vs-exit",
            about: "exit's last put unhashes a css_set while load rehashes the table",
            setup: TWO_CGROUPS,
            threads: &[&["insmod net_cls"], &["exit T1"]],
            expect: pass,
            config: collide,
            loom: FULL,
        },
        Scenario {
            name: "unload-vs-mount",
            about: "rmmod races a mount naming the module: parse's try_module_get fails (-ENOENT) or pins it (-EWOULDBLOCK)",
            setup: &["insmod net_cls", "fork T0 T1"],
            threads: &[&["rmmod net_cls"], &["mount m1 net_cls"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "unload-vs-umount",
            about: "umount drops the hierarchy's module ref while rmmod retries",
            setup: &["insmod net_cls", "mount m1 net_cls"],
            threads: &[&["umount m1"], &["rmmod net_cls"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "unload-vs-attach",
            about: "unload walks dummytop's links while an attach creates a css_set",
            setup: NETCLS_TWO_CGROUPS,
            threads: &[&["rmmod net_cls"], &["attach T1 m0/a"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "unload-vs-fork",
            about: "fork references a css_set whose modular slot unload clears",
            setup: NETCLS_TWO_CGROUPS,
            threads: &[&["rmmod net_cls"], &["fork T1 T3"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "unload-vs-exit",
            about: "exit frees a css_set that unload is about to rewrite through dummytop's links",
            setup: NETCLS_TWO_CGROUPS,
            threads: &[&["rmmod net_cls"], &["exit T1"]],
            expect: pass,
            config: collide,
            loom: FULL,
        },
        Scenario {
            name: "unload-vs-classify",
            about: "a filter is deleted and the module removed while a packet is classified",
            setup: &["insmod net_cls", "fork T0 T1", "tc-add F0"],
            threads: &[&["tc-del F0", "rmmod net_cls"], &["classify T1"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "mount-vs-umount",
            about: "umount kills a superblock while a mount with the same options looks it up in sget",
            setup: &["fork T0 T1", "mount m0 cpuset"],
            threads: &[&["umount m0"], &["mount m1 cpuset"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "mount-busy-vs-umount",
            about: "a mount whose rebind may fail with -EBUSY (net_cls bound elsewhere) races the umount that frees it: error paths and module refs",
            setup: &["insmod net_cls", "insmod blkio", "mount m0 net_cls"],
            threads: &[&["mount m1 net_cls,blkio"], &["umount m0"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "remount-vs-umount",
            about: "remount rebinds (dropping the duplicate ref from parse) while another mount of the hierarchy goes",
            setup: &["insmod net_cls", "mount m0 net_cls", "mount m1 net_cls"],
            threads: &[&["remount m0 net_cls,cpu"], &["umount m1"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "remount-vs-mkdir",
            about: "remount and mkdir in the top directory both take the root dir's i_mutex and cgroup_mutex, in that order",
            setup: &["mount m0 cpuset"],
            threads: &[&["remount m0 cpuset,cpu"], &["mkdir m0/x"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "mount-vs-attach",
            about: "a new hierarchy links every hashed css_set while attach creates one",
            setup: TWO_CGROUPS,
            threads: &[&["mount m1 cpu"], &["attach T1 m0/a"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "mount-vs-fork",
            about: "a new hierarchy links every css_set while fork references one",
            setup: TWO_CGROUPS,
            threads: &[&["mount m1 cpu"], &["fork T1 T3"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "mount-vs-exit",
            about: "a new hierarchy links every css_set while exit frees one",
            setup: TWO_CGROUPS,
            threads: &[&["mount m1 cpu"], &["exit T1"]],
            expect: pass,
            config: collide,
            loom: FULL,
        },
        Scenario {
            name: "mount-vs-classify",
            about: "net_cls is bound to a new hierarchy while a packet reads the task's css",
            setup: &["insmod net_cls", "fork T0 T1", "tc-add F0"],
            threads: &[&["mount m1 net_cls"], &["classify T1"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "umount-vs-attach",
            about: "kill_sb frees a hierarchy's links while attach copies a css_set's links",
            setup: &["fork T0 T1", "fork T0 T2", "mount m0 cpuset", "mkdir m0/a", "mount m1 cpu"],
            threads: &[&["umount m1"], &["attach T1 m0/a"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "umount-vs-exit",
            about: "kill_sb and exit's last put both unlink links of one css_set",
            setup: &["fork T0 T1", "fork T0 T2", "mount m0 cpuset", "mkdir m0/a", "attach T1 m0/a", "mount m1 cpu"],
            threads: &[&["umount m1"], &["exit T1"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "umount-vs-fork",
            about: "kill_sb unlinks while fork references the css_set",
            setup: &["fork T0 T1", "mount m0 cpuset", "mkdir m0/a", "attach T1 m0/a", "mount m1 cpu"],
            threads: &[&["umount m1"], &["fork T1 T3"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "attach-vs-exit",
            about: "a task alone in its css_set is moved while it exits: the pin (77efecd9) and the PF_EXITING recheck",
            setup: TWO_CGROUPS,
            threads: &[&["attach T1 m0/a"], &["exit T1"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "attach-vs-exit-of-target",
            about: "attach looks up the css_set of the target cgroup while its last member exits (146aa1bd: no resurrection from 0)",
            setup: TWO_CGROUPS,
            threads: &[&["attach T1 m0/a"], &["exit T2"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "attach-vs-fork",
            about: "a task is moved away from a css_set it alone holds while it forks (cgroup_fork's ref under task_lock)",
            setup: TWO_CGROUPS,
            threads: &[&["attach T1 m0/a"], &["fork T1 T3"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "attach-vs-css-get",
            about: "a subsystem path reads the task's css_set under RCU while attach moves the task and drops the old css_set",
            setup: TWO_CGROUPS,
            threads: &[&["attach T1 m0/a"], &["css-get T1 cpuset", "css-put T1 cpuset"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "attach-vs-classify",
            about: "a packet reads the task's net_cls css under RCU while attach moves the task",
            setup: &["insmod net_cls", "fork T0 T1", "mount m0 net_cls", "mkdir m0/a", "classid m0/a 7", "tc-add F0"],
            threads: &[&["attach T1 m0/a"], &["classify T1"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "exit-vs-css-get",
            about: "a subsystem path reads the task's css_set under RCU while the task exits and frees it",
            setup: TWO_CGROUPS,
            threads: &[&["exit T1"], &["css-get T1 cpuset", "css-put T1 cpuset"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "fork-vs-exit",
            about: "the parent's css_set gains a reference from fork while another member exits",
            setup: &["fork T0 T1", "mount m0 cpuset", "mkdir m0/a", "attach T1 m0/a", "fork T1 T2"],
            threads: &[&["fork T1 T3"], &["exit T2"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "rmdir-vs-attach",
            about: "rmdir's second count check (after pre_destroy) against an attach into the empty cgroup",
            setup: &["fork T0 T1", "mount m0 cpuset", "mkdir m0/a", "mkdir m0/b", "attach T1 m0/b"],
            threads: &[&["rmdir m0/a"], &["attach T1 m0/a"]],
            expect: pass,
            config: |c| c,
            loom: FULL,
        },
        Scenario {
            name: "rmdir-vs-css-get",
            about: "rmdir clears the css refcounts (1 -> 0, then CSS_REMOVED) while a subsystem path that read the task's old css under RCU runs css_tryget",
            setup: &["fork T0 T1", "mount m0 cpu", "mkdir m0/a", "attach T1 m0/a"],
            threads: &[&["attach T1 m0", "rmdir m0/a"], &["css-get T1 cpu", "css-put T1 cpu"]],
            expect: pass,
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "unload-vs-fork-vs-exit",
            about: "triple: unload rewrites css_sets while one task forks and another exits",
            setup: NETCLS_TWO_CGROUPS,
            threads: &[&["rmmod net_cls"], &["fork T1 T3"], &["exit T2"]],
            expect: pass,
            config: same,
            loom: TRIPLE,
        },
        Scenario {
            name: "mount-vs-rmmod-vs-attach",
            about: "triple: a mount pins net_cls while rmmod tries to remove it and an attach creates a css_set",
            setup: &["insmod net_cls", "fork T0 T1", "fork T0 T2", "mount m0 cpuset", "mkdir m0/a"],
            threads: &[&["mount m1 net_cls"], &["rmmod net_cls"], &["attach T1 m0/a"]],
            expect: pass,
            config: same,
            loom: TRIPLE,
        },
        Scenario {
            name: "load-vs-attach-vs-exit",
            about: "triple: load rehashes while attach creates a css_set and its last other member exits",
            setup: TWO_CGROUPS,
            threads: &[&["insmod net_cls"], &["attach T1 m0/a"], &["exit T2"]],
            expect: pass,
            config: collide,
            loom: TRIPLE,
        },
        Scenario {
            name: "dummy-empty-load-unload-vs-attach",
            about: "the cover letter's first special case: net_cls is loaded while nothing is on the dummy hierarchy (every css_set must be linked back to dummytop) and unloaded again, while an attach creates a css_set",
            setup: DUMMY_EMPTY,
            threads: &[&["insmod net_cls", "rmmod net_cls"], &["attach T1 m0/c"]],
            expect: |d| dummy_finding(d, &["links-per-hierarchy", "modular-slot-consistency", "no-dangling-css"]),
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "dummy-last-unload-vs-attach",
            about: "the cover letter's second special case: the unloaded net_cls was the only subsystem on the dummy hierarchy (every css_set must be unlinked from dummytop), while an attach creates a css_set",
            setup: &[
                "insmod net_cls", "fork T0 T1", "fork T0 T2", "mount m0 cpuset,cpu", "mkdir m0/a", "mkdir m0/c",
                "attach T1 m0/a",
            ],
            threads: &[&["rmmod net_cls"], &["attach T1 m0/c"]],
            expect: |d| dummy_finding(d, &["links-per-hierarchy", "dummy-link-walk", "hierarchy-accounting"]),
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "dummy-empty-reload-vs-classify",
            about: "net_cls is loaded into an empty dummy hierarchy, unloaded and loaded again, then a packet is classified, while an attach creates a css_set: a css_set the unload missed keeps the freed css, and the reload's rehash skips it as already rehashed",
            setup: &["fork T0 T1", "fork T0 T2", "mount m0 cpuset,cpu", "mkdir m0/c"],
            threads: &[
                &["insmod net_cls", "rmmod net_cls", "insmod net_cls", "tc-add F0", "classify T1"],
                &["attach T2 m0/c"],
            ],
            expect: |d| dummy_finding(d, &["use-after-free"]),
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "dummy-empty-load-vs-mount",
            about: "net_cls is loaded while nothing is on the dummy hierarchy, then mounted on its own, which empties it again (root_count--), while an attach allocates one link per hierarchy in find_css_set",
            setup: DUMMY_EMPTY,
            threads: &[&["insmod net_cls", "mount m1 net_cls"], &["attach T1 m0/c"]],
            expect: |d| dummy_finding(d, &["BUG_ON(list_empty(tmp_cg_links))", "hierarchy-accounting"]),
            config: same,
            loom: FULL,
        },
        Scenario {
            name: "dummy-relink-vs-exit",
            about: "load links every css_set back to dummytop (the links allocated beforehand, counted by css_set_count), unload unlinks them, and kill_sb relinks them through rebind_subsystems, while an exit frees a css_set",
            setup: &["fork T0 T1", "fork T0 T2", "mount m1 cpuset", "mkdir m1/a", "attach T1 m1/a", "mount m0 cpu"],
            threads: &[&["insmod net_cls", "rmmod net_cls", "umount m0"], &["exit T1"]],
            expect: |d| dummy_finding(d, &["links-per-hierarchy", "modular-slot-consistency", "no-dangling-css"]),
            config: collide,
            loom: FULL,
        },
        Scenario {
            name: "umount-relink-vs-attach-vs-exit",
            about: "triple: kill_sb gives cpu back to an empty dummy hierarchy (the dummy-unlinked designs relink every css_set in rebind_subsystems, with links counted beforehand) while an attach creates a css_set and an exit frees one",
            setup: &["fork T0 T1", "fork T0 T2", "mount m1 cpuset", "mkdir m1/a", "attach T1 m1/a", "mount m0 cpu"],
            threads: &[&["umount m0"], &["attach T2 m1/a"], &["exit T1"]],
            expect: pass,
            config: same,
            loom: TRIPLE,
        },
        Scenario {
            name: "storm-modules",
            about: "six threads: modules come and go while hierarchies are mounted, tasks move, fork and exit, and packets are classified",
            setup: &[
                "insmod net_cls", "fork T0 T1", "fork T0 T2", "fork T0 T3", "mount m0 cpuset", "mkdir m0/a", "mkdir m0/b",
                "attach T2 m0/b", "tc-add F0",
            ],
            threads: &[
                &["insmod blkio", "rmmod blkio"],
                &["mount m1 cpu,blkio", "umount m1"],
                &["attach T1 m0/a", "attach T1 m0/b", "attach T1 m0"],
                &["fork T1 T4", "exit T4"],
                &["exit T2", "rmdir m0/b"],
                &["classify T3", "tc-del F0", "rmmod net_cls"],
            ],
            expect: |d| dummy_finding(d, DUMMY_BREAKS),
            config: storm,
            loom: STORM,
        },
        Scenario {
            name: "storm-hierarchies",
            about: "six threads: two hierarchies are mounted, remounted and torn down while cgroups are made and removed and tasks move between them",
            setup: &["insmod net_cls", "fork T0 T1", "fork T0 T2", "mount m0 cpuset,net_cls", "mkdir m0/a"],
            threads: &[
                &["mount m1 cpu", "mkdir m1/x", "attach T1 m1/x"],
                &["remount m0 cpuset", "remount m0 cpuset,net_cls"],
                &["attach T2 m0/a", "attach T2 m0"],
                &["rmdir m0/a", "mkdir m0/a"],
                &["umount m1", "rmmod net_cls"],
                &["fork T2 T3", "css-get T3 cpuset", "css-put T3 cpuset", "exit T3"],
            ],
            expect: |d| dummy_finding(d, DUMMY_BREAKS),
            config: |c| storm(collide(c)),
            loom: STORM,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The design review's claim, as the catalog states it (the suites check each expectation):
    /// with the special cases, the dummy-unlinked design is expected to do exactly what the
    /// baseline does; without them, it is expected to fail scenarios the baseline passes.
    #[test]
    fn dummy_unlinked_is_expected_to_match_the_baseline_and_the_bare_variant_to_fail() {
        let mut bare_only = Vec::new();
        for sc in catalog() {
            assert_eq!(
                (sc.expect)(Design::DummyUnlinked),
                (sc.expect)(Design::V2634),
                "{}",
                sc.name
            );
            if (sc.expect)(Design::V2634) == Expect::Pass
                && (sc.expect)(Design::DummyUnlinkedNoSpecial) != Expect::Pass
            {
                bare_only.push(sc.name);
            }
        }
        assert_eq!(bare_only.len(), 8, "{bare_only:?}");
    }
}
