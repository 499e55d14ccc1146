//! `cgcheck explore` under loom, on setups small enough for a test: its groups, their witnesses
//! and triage, and the kill matrix through the space, each shown able to fail.

#![cfg(backend_loom)]

use std::path::PathBuf;

use cgchecks::explore::{self, kill_matrix, Options, Setup};
use cgchecks::scenario::{parse, Expect};
use cgmodel::sim::rcu::Preemption;
use cgmodel::{Design, Fault, Faults};

/// The classid file of a childless net_cls hierarchy's top cgroup, with three of its setup's
/// operations: enough for the open-file finding (4.3 in the design review), which the catalog
/// reproduces as a NULL dereference (remount, write) but not as the write's use-after-free
/// (remount, rmmod, write).
static CLASSID: Setup = Setup {
    name: "classid-mini",
    about: "test",
    steps: &[
        "insmod net_cls",
        "mount m0 net_cls,cpuset",
        "open fd1 m0/net_cls.classid w",
    ],
    ops: &["remount m0 cpuset", "rmmod net_cls", "write fd1 7"],
    fresh: &[],
};

/// The classid file of a child cgroup: enough for the fault that drops the file's reference on
/// its cgroup.
static CHILD: Setup = Setup {
    name: "child-mini",
    about: "test",
    steps: &[
        "insmod net_cls",
        "mount m0 net_cls,cpuset",
        "mkdir m0/a",
        "open fd1 m0/a/net_cls.classid w",
    ],
    ops: &["rmdir m0/a", "write fd1 7", "close fd1"],
    fresh: &[],
};

/// The classid file open for writing, with the write and what frees its css: enough for the
/// write's store into a css that rmmod freed after the write loaded it (4.3), which needs the
/// write preempted between its load and its store (explore's witness: `read fd1; write fd1 7 |
/// remount m0 cpuset; rmmod net_cls`).
static CLASSID_PREEMPT: Setup = Setup {
    name: "classid-preempt-mini",
    about: "test",
    steps: &[
        "insmod net_cls",
        "mount m0 net_cls,cpuset",
        "open fd1 m0/net_cls.classid w",
    ],
    ops: &[
        "read fd1",
        "write fd1 7",
        "remount m0 cpuset",
        "rmmod net_cls",
    ],
    fresh: &[],
};

/// One task and nothing mounted: no file, so nothing the file fault breaks.
static BARE: Setup = Setup {
    name: "bare-mini",
    about: "test",
    steps: &["fork T0 T1"],
    ops: &["exit T1", "fork T0 T2"],
    fresh: &[],
};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cgcheck-explore-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn opts(setup: &'static Setup, dir: &std::path::Path) -> Options {
    Options {
        setups: vec![setup],
        designs: vec![Design::V2634],
        out: dir.join("out"),
        triage: dir.join("triage.tsv"),
        ..Options::new()
    }
}

/// With no triage table, a group no catalog scenario reproduces is new (explore would exit 1);
/// with the group in the table, it is triaged. Each witness is a scenario file that parses and
/// expects the finding on the group's design.
#[test]
fn groups_are_new_until_triaged_and_their_witnesses_are_scenario_files() {
    let dir = tmp("groups");
    let o = opts(&CLASSID, &dir);
    let s = explore::explore(&o).unwrap();
    assert!(s.scenarios > 0 && s.scenarios == s.space_size);
    assert!(
        s.groups.iter().any(|g| g.status.starts_with("catalog: ")),
        "{:?}",
        s.groups
    );
    for g in &s.groups {
        let path = g.file.as_ref().expect("a witness file");
        let text = std::fs::read_to_string(path).unwrap();
        let sc = parse::parse("w", &text).unwrap();
        assert!(
            matches!(sc.expect(Design::V2634), Expect::Finding(_)),
            "{text}"
        );
        assert!(g
            .trace
            .as_ref()
            .is_some_and(|t| std::path::Path::new(t).exists()));
    }
    let new: Vec<_> = s.groups.iter().filter(|g| !g.triaged()).collect();
    assert!(!s.ok() && !new.is_empty(), "{:?}", s.groups);
    let table: String = new
        .iter()
        .map(|g| {
            let x = &g.signature;
            format!(
                "{}\t{}\t{}\t{}\tfinding\ttest\n",
                x.design, x.violation, x.function, x.object
            )
        })
        .collect();
    std::fs::write(&o.triage, table).unwrap();
    let s = explore::explore(&o).unwrap();
    assert!(s.ok(), "{:?}", s.groups);
    assert!(s.groups.iter().all(|g| g.status != "new"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A resumed run does only what is left, and a state file of another space is refused.
#[test]
fn a_run_resumes_from_its_state_file_and_refuses_another_space() {
    let dir = tmp("state");
    let mut o = opts(&BARE, &dir);
    o.state = Some(dir.join("state.json"));
    let first = explore::explore(&o).unwrap();
    let again = explore::explore(&o).unwrap();
    assert_eq!(first.executions, again.executions, "nothing run twice");
    o.bound = Some(0);
    let e = explore::explore(&o).unwrap_err();
    assert!(e.contains("the state of another space"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The kill matrix through the space catches the file fault where the space has the file, and
/// reports it uncaught where it has none.
#[test]
fn the_kill_matrix_catches_a_fault_only_where_the_space_can() {
    let dir = tmp("kill");
    let o = opts(&CHILD, &dir);
    let k = kill_matrix(&[Fault::FileNoParentRef], &o).unwrap();
    assert!(k[0].witness.is_some(), "{k:?}");
    let o = opts(&BARE, &dir);
    let k = kill_matrix(&[Fault::FileNoParentRef], &o).unwrap();
    assert!(k[0].witness.is_none(), "{k:?}");
    assert!(k[0].tried > 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A space run in shards and merged gives what one run gives: the same groups, witnesses,
/// statuses, scenarios and executions. A missing, repeated or unfinished shard is refused.
#[test]
fn a_sharded_run_merged_equals_the_unsharded_run() {
    let dir = tmp("merge");
    let o = opts(&CLASSID, &dir);
    let whole = explore::explore(&o).unwrap();
    let mut files = Vec::new();
    for k in 1..=3 {
        let shard = Options {
            shard: (k, 3),
            state: Some(dir.join(format!("state-{k}.json"))),
            out: dir.join(format!("out-{k}")),
            ..o.clone()
        };
        explore::explore(&shard).unwrap();
        files.push(shard.state.unwrap());
    }
    let merged = explore::merge(&files, &o).unwrap();
    let key = |s: &explore::Summary| -> Vec<String> {
        s.groups
            .iter()
            .map(|g| {
                format!(
                    "{} {} {} {} {}",
                    g.signature, g.witness.index, g.witness.key, g.scenarios, g.status
                )
            })
            .collect()
    };
    assert_eq!(key(&merged), key(&whole));
    assert_eq!(
        (merged.scenarios, merged.executions),
        (whole.scenarios, whole.executions)
    );
    let e = explore::merge(&files[..2], &o).unwrap_err();
    assert!(e.contains("shard 3/3 is missing"), "{e}");
    let e = explore::merge(&[files[0].clone(), files[0].clone()], &o).unwrap_err();
    assert!(e.contains("given twice"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A fault injected into explore's run is in force: the file fault's groups appear on the
/// fixed design, where the fault-free space has none, and the output says so.
#[test]
fn explore_runs_the_faults_it_is_given() {
    let dir = tmp("faults");
    let mut o = opts(&CHILD, &dir);
    o.designs = vec![Design::Fixed];
    let clean = explore::explore(&o).unwrap();
    assert!(clean.groups.is_empty(), "{:?}", clean.groups);
    o.faults = Faults::one(Fault::FileNoParentRef);
    let s = explore::explore(&o).unwrap();
    assert!(!s.groups.is_empty() && !s.ok(), "{:?}", s.groups);
    assert!(
        s.coverage.contains("faults injected: file-no-parent-ref"),
        "{}",
        s.coverage
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Without kernel preemption (`--preempt none`) a thread in the kernel keeps its CPU until it
/// sleeps, so remount's grace period and rmmod's stops wait for a write between its load of
/// the css and its store: the store into the freed css is gone, and what needs no preemption
/// (the NULL dereference after the remount, the freed cftype after the rmmod) stays.
#[test]
fn without_kernel_preemption_a_stop_waits_for_a_thread_in_the_kernel() {
    let signatures = |preempt| {
        let dir = tmp(&format!("preempt-{preempt}"));
        let mut o = opts(&CLASSID_PREEMPT, &dir);
        o.preempt = preempt;
        let s = explore::explore(&o).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        s.groups
            .iter()
            .map(|g| {
                let x = &g.signature;
                format!("{} in {} ({})", x.violation, x.function, x.object)
            })
            .collect::<Vec<_>>()
    };
    let full = signatures(Preemption::Full);
    let none = signatures(Preemption::None);
    let css = "use-after-free in write_classid (css)";
    assert!(full.iter().any(|g| g == css), "{full:?}");
    assert!(!none.iter().any(|g| g == css), "{none:?}");
    for g in [
        "NULL-dereference in write_classid",
        "use-after-free in cgroup_file_write (cftype)",
    ] {
        assert!(full.iter().any(|x| x.starts_with(g)), "{g}: {full:?}");
        assert!(none.iter().any(|x| x.starts_with(g)), "{g}: {none:?}");
    }
}
