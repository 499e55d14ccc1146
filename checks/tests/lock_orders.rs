//! The lock orders the kernel documents, checked against the lock graph the catalog builds on
//! v2.6.34 (docs/model.md lists them with their kernel lines): each is an edge of the graph,
//! and its inverse is not.

use cgchecks::engine::{self, config, Engine, RunOpts};
use cgchecks::scenario::catalog;
use cgmodel::sim::lockdep::LockGraph;
use cgmodel::{Design, Faults};

/// `held -> taken`, and where the kernel says so.
const DOCUMENTED: &[(&str, &str, &str)] = &[
    (
        "css_set_lock",
        "task_lock",
        "kernel/cgroup.c:296-297: css_set_lock nests outside task->alloc_lock",
    ),
    (
        "cgroup_mutex",
        "cpuset.hierarchy_mutex",
        "Documentation/cgroups/cgroups.txt:617: bind() runs with cgroup_mutex and ss->hierarchy_mutex held",
    ),
    (
        "cpuset.hierarchy_mutex",
        "cpu.hierarchy_mutex",
        "kernel/cgroup.c:3245: each hierarchy_mutex in a consistent order (subsys[] order)",
    ),
    (
        "i_mutex",
        "cgroup_mutex",
        "kernel/cgroup.c:1476-1477 (cgroup_get_sb) and 1226-1227 (cgroup_remount)",
    ),
    (
        "i_mutex/1",
        "cgroup_mutex",
        "kernel/cgroup.c:3376: the vfs holds inode->i_mutex already (mkdir)",
    ),
    (
        "cgroup_mutex",
        "i_mutex/2",
        "kernel/cgroup.c:2160: mutex_lock_nested(I_MUTEX_CHILD) under cgroup_mutex",
    ),
    (
        "pidlist_mutex",
        "pidlist.mutex",
        "kernel/cgroup.c:2656-2657: pidlist_mutex is not dropped before l->mutex is taken",
    ),
];

#[test]
fn the_documented_lock_orders_are_the_graphs() {
    // One execution of every scenario the build's default engine runs, on one graph.
    let eng = Engine::default_built();
    let opts = RunOpts {
        bound: (eng == Engine::Loom).then_some(engine::Bound::Preemptions(0)),
        iterations: 1,
        ..RunOpts::default()
    };
    let graph = LockGraph::default();
    for sc in catalog() {
        let cfg = config(sc, Design::V2634, Faults::NONE, true);
        let Ok(o) = engine::run_scenario(sc, &cfg, eng, &opts) else {
            continue; // a scenario this engine does not run (loom: the storms)
        };
        assert!(graph.merge(&o.lock_graph.edges()).is_empty(), "a cycle");
    }
    let edges: Vec<(String, String)> = graph.edges().into_iter().map(|e| (e.from, e.to)).collect();
    let has = |a: &str, b: &str| edges.iter().any(|(x, y)| x == a && y == b);
    for (held, taken, why) in DOCUMENTED {
        assert!(
            has(held, taken),
            "{held} -> {taken} ({why}) is not in the graph"
        );
        assert!(!has(taken, held), "{taken} -> {held} inverts {why}");
    }
    // The check can fail: the fault that takes css_set_lock under task_lock puts the inverse
    // of the first order in the graph.
    let sc = cgchecks::scenario::by_name("attach-vs-fork").unwrap();
    let cfg = config(
        sc,
        Design::V2634,
        Faults::one(cgmodel::Fault::AttachMoveUnderTaskLock),
        true,
    );
    let o = engine::run_scenario(sc, &cfg, eng, &opts).unwrap();
    let inverted = o
        .lock_graph
        .edges()
        .iter()
        .any(|e| e.from == "task_lock" && e.to == "css_set_lock");
    assert!(inverted, "{:?}", o.violation);
}
