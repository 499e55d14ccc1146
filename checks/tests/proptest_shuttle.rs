//! Generated concurrent scenarios: proptest draws 2-4 threads of 1-3 operations each over a small
//! populated kernel, and shuttle runs each under PCT from a proptest-chosen seed. A failure is
//! shrunk by proptest (fewer threads, fewer ops, simpler ops, another seed) and printed as a
//! scenario. Run with `cargo test --release -p cgroup-checks --features shuttle`.

#![cfg(backend_shuttle)]

use cgchecks::engine::shuttle;
use cgchecks::scenario::Plan;
use cgmodel::{Config, Design, Fault, Faults, Step};
use proptest::prelude::*;
use proptest::test_runner::{
    Config as PtConfig, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};

const SETUP: &[&str] = &[
    "insmod net_cls",
    "fork T0 T1",
    "fork T0 T2",
    "mount m0 cpuset,net_cls",
    "mkdir m0/a",
    "mkdir m0/b",
    "attach T1 m0/a",
    "tc-add F0",
];

fn op() -> impl Strategy<Value = String> {
    let task = prop_oneof![Just("T1"), Just("T2")];
    let dir = prop_oneof![Just("m0"), Just("m0/a"), Just("m0/b")];
    prop_oneof![
        (task.clone(), dir).prop_map(|(t, d)| format!("attach {t} {d}")),
        task.clone().prop_map(|t| format!("exit {t}")),
        (task.clone(), prop_oneof![Just("T3"), Just("T4")])
            .prop_map(|(p, c)| format!("fork {p} {c}")),
        task.clone().prop_map(|t| format!("classify {t}")),
        task.prop_map(|t| format!("css-get {t} cpuset")),
        prop_oneof![
            Just("insmod blkio"),
            Just("rmmod blkio"),
            Just("rmmod net_cls"),
            Just("mount m1 cpu"),
            Just("mount m1 blkio"),
            Just("umount m1"),
            Just("remount m0 cpuset"),
            Just("mkdir m0/c"),
            Just("rmdir m0/a"),
            Just("rmdir m0/b"),
            Just("tc-del F0"),
        ]
        .prop_map(String::from),
    ]
}

/// Threads of operations and a PCT seed; a task's `exit` and `fork`s stay in one thread, as the
/// catalog's scenario files must (`cgchecks::scenario::check_tasks`).
fn plan() -> impl Strategy<Value = (Vec<Vec<String>>, u64)> {
    (
        prop::collection::vec(prop::collection::vec(op(), 1..=3), 2..=4),
        any::<u64>(),
    )
        .prop_filter("a task runs in one thread", |(threads, _)| {
            to_plan(threads).check_tasks().is_ok()
        })
}

fn to_plan(threads: &[Vec<String>]) -> Plan {
    let parse = |s: &str| s.parse::<Step>().expect("generated steps parse");
    Plan {
        name: "generated".into(),
        setup: SETUP.iter().map(|s| parse(s)).collect(),
        threads: threads
            .iter()
            .map(|t| t.iter().map(|s| parse(s)).collect())
            .collect(),
    }
}

fn run(threads: &[Vec<String>], seed: u64, faults: Faults) -> Result<(), TestCaseError> {
    let p = to_plan(threads);
    let cfg = Config {
        design: Design::Fixed,
        faults,
        max_threads: 6,
        ..Config::default()
    };
    let o = shuttle::pct(&p, &cfg, 40, 3, seed);
    match o.violation {
        None => Ok(()),
        Some(v) => Err(TestCaseError::fail(format!("{v}\n(seed {seed:#x})\n{p}"))),
    }
}

proptest! {
    #![proptest_config(PtConfig { cases: 96, failure_persistence: None, ..PtConfig::default() })]

    /// The fixed design survives every generated scenario.
    #[test]
    fn generated_scenarios_pass_on_the_fixed_design((threads, seed) in plan()) {
        run(&threads, seed, Faults::NONE)?;
    }
}

/// With a race reintroduced, generation finds a failing scenario and shrinks it to a small one.
/// The runner's random source is fixed: how far shrinking gets depends on which schedules PCT
/// tries for each candidate, so a random source made this check flaky (it once stopped at four
/// threads).
#[test]
fn a_generated_failure_shrinks_to_a_small_scenario() {
    let mut runner = TestRunner::new_with_rng(
        PtConfig {
            cases: 512,
            failure_persistence: None,
            ..PtConfig::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let faults = Faults::one(Fault::AttachNoExitingCheck);
    let r = runner.run(&plan(), |(threads, seed)| run(&threads, seed, faults));
    match r {
        Err(TestError::Fail(why, (threads, seed))) => {
            let ops: usize = threads.iter().map(Vec::len).sum();
            eprintln!(
                "shrunk to {} threads, {ops} ops, seed {seed:#x}:\n{why}",
                threads.len()
            );
            assert!(threads.len() == 2 && ops <= 3, "shrinking left {threads:?}");
        }
        other => panic!("expected a shrunk failure, got {other:?}"),
    }
}
