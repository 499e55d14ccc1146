//! The kill matrix: every injected fault is caught by at least one catalog scenario, and every
//! scenario is made to fail by its documented killer (a fault, or the design it documents a
//! finding for). Under loom and shuttle every fault must be caught; on the std backend only the
//! faults that break state without needing a particular interleaving are asserted (real threads
//! sample too few schedules), the others are reported.

use cgchecks::engine::{self, config, Engine, Outcome, RunOpts};
use cgchecks::report;
use cgchecks::scenario::{by_name, catalog, Killer, LoomPlan, Scenario};
use cgchecks::zoo::catchers;
use cgmodel::{Config, Design, Fault, Faults};

/// Runs `sc` under `cfg` with this build's engines, looking for a failure: loom exhaustive
/// (reduced); shuttle PCT, then random; 200 runs on real threads (none for a fault that
/// deadlocks, which there is a hang, not a report).
fn hunt(sc: &Scenario, cfg: &Config) -> Outcome {
    let opts = RunOpts {
        iterations: if Engine::default_built() == Engine::Std {
            200
        } else {
            2000
        },
        ..RunOpts::default()
    };
    let mut last = Outcome::nothing(Engine::default_built());
    for &eng in Engine::built() {
        let skip = (eng == Engine::Loom && matches!(sc.loom, LoomPlan::ShuttleOnly(_)))
            || (eng == Engine::Std && cfg.faults.iter().any(|f| f.deadlocks()));
        if skip {
            continue;
        }
        last = engine::run_scenario(sc, cfg, eng, &opts).expect("a built engine");
        if last.violation.is_some() {
            break;
        }
    }
    last
}

/// Faults whose catcher breaks state without a particular interleaving (found at loom bound 0).
fn deterministic(f: Fault) -> bool {
    use Fault::*;
    matches!(
        f,
        NoDummyLink
            | MountFailKeepsRefs
            | RemountKeepsDupRef
            | LoadNoRehash
            | UnloadNoCssSetLock
            | RebindEbusyPutsRefs
            | AttachMoveUnderTaskLock
            | CssSetAllocUnderLock
            | FindTaskOutsideRcu
    )
}

#[test]
fn every_fault_is_caught() {
    let mut missed = Vec::new();
    for &f in Fault::ALL {
        let mut caught = false;
        for name in catchers(f) {
            let sc = by_name(name).unwrap();
            let o = hunt(sc, &config(sc, Design::Fixed, Faults::one(f), true));
            let verdict = if o.violation.is_some() {
                "caught"
            } else {
                "uncaught"
            };
            report::record(
                &format!("zoo-{}", o.engine),
                name,
                "fixed",
                f.name(),
                &o,
                verdict,
            );
            if o.violation.is_some() {
                caught = true;
                break;
            }
        }
        let must = cfg!(not(backend_std)) || deterministic(f);
        if !caught && must {
            missed.push(f.name());
        }
    }
    assert!(missed.is_empty(), "faults not caught: {missed:?}");
}

#[test]
fn the_fault_free_fixed_design_passes_every_catcher() {
    // The other side of the matrix: without the fault, the catchers pass (so it is the fault
    // they catch, not something else).
    for &f in Fault::ALL {
        let sc = by_name(catchers(f)[0]).unwrap();
        let o = hunt(sc, &config(sc, Design::Fixed, Faults::NONE, true));
        assert!(
            o.violation.is_none(),
            "{} fails without a fault: {:?}",
            sc.name,
            o.violation
        );
    }
}

#[test]
fn every_scenario_can_fail() {
    let mut survivors = Vec::new();
    for sc in catalog() {
        let k = sc.killer;
        let (design, faults) = match k {
            Killer::Fault(f) => (Design::Fixed, Faults::one(f)),
            Killer::Design(d) => (d, Faults::NONE),
        };
        let deterministic_enough = match k {
            Killer::Fault(f) => deterministic(f),
            Killer::Design(_) => false,
        };
        let o = hunt(sc, &config(sc, design, faults, true));
        report::record(
            &format!("kill-{}", o.engine),
            &sc.name,
            design.name(),
            &faults.to_string(),
            &o,
            if o.violation.is_some() {
                "killed"
            } else {
                "survived"
            },
        );
        let storm = matches!(sc.loom, LoomPlan::ShuttleOnly(_));
        let skipped = cfg!(backend_loom) && storm;
        // On real threads only single-schedule breaks are certain; six-thread storms are not.
        let must = cfg!(not(backend_std)) || (deterministic_enough && !storm);
        if o.violation.is_none() && must && !skipped {
            survivors.push(sc.name.as_str());
        }
    }
    assert!(
        survivors.is_empty(),
        "scenarios nothing made fail: {survivors:?}"
    );
}

/// loom on `scenario` with `fault` injected into the fixed design, lockdep on or off.
#[cfg(backend_loom)]
fn loom_with(scenario: &str, fault: Fault, lockdep: bool) -> Outcome {
    let sc = by_name(scenario).unwrap();
    let cfg = config(sc, Design::Fixed, Faults::one(fault), lockdep);
    let o = engine::loom::iterative(&sc.plan(), &cfg, None, true);
    report::record("loom-checks", &sc.name, "fixed", fault.name(), &o, "caught");
    o
}

/// loom's own causality check, not lockdep, finds the unlocked unload when lockdep is off.
#[cfg(backend_loom)]
#[test]
fn loom_reports_the_unlocked_unload_as_a_data_race() {
    use cgmodel::ViolationKind::{DataRace, LockNotHeld};
    let kind = |o: Outcome| o.violation.map(|v| v.kind);
    assert_eq!(
        kind(loom_with("unload-vs-exit", Fault::UnloadNoCssSetLock, true)),
        Some(LockNotHeld)
    );
    assert_eq!(
        kind(loom_with(
            "unload-vs-exit",
            Fault::UnloadNoCssSetLock,
            false
        )),
        Some(DataRace)
    );
}

/// The ABBA the inverted remount creates: with lockdep on, its lock graph reports the inverted
/// order at the first execution; with lockdep off (no graph), loom's deadlock check finds the
/// deadlock itself.
#[cfg(backend_loom)]
#[test]
fn loom_reports_the_inverted_remount_as_a_deadlock() {
    let o = loom_with("remount-vs-mkdir", Fault::RemountLockInversion, true);
    let v = o.violation.expect("caught");
    assert_eq!(v.name, "lock-order", "{v:?}");
    assert_eq!(
        o.executions, 1,
        "from the first execution, which does not deadlock"
    );
    let o = loom_with("remount-vs-mkdir", Fault::RemountLockInversion, false);
    assert_eq!(
        o.violation.map(|v| v.kind),
        Some(cgmodel::ViolationKind::Deadlock)
    );
}

/// The three faults only the kernel's debug checks see, each caught at the first execution
/// with the check's report: lockdep's graph (two orders on different tasks, which cannot
/// deadlock), might_sleep (an allocation under a spinning lock) and PROVE_RCU (a dereference
/// outside its protection). With lockdep off, the first two pass: neither breaks the state.
#[cfg(backend_loom)]
#[test]
fn the_debug_checks_catch_their_faults_at_the_first_execution() {
    for (scenario, fault, name, silent_without_lockdep) in [
        (
            "attach-vs-fork",
            Fault::AttachMoveUnderTaskLock,
            "lock-order",
            true,
        ),
        (
            "attach-vs-exit",
            Fault::CssSetAllocUnderLock,
            "sleeping-in-atomic",
            false,
        ),
        (
            "attach-vs-exit",
            Fault::FindTaskOutsideRcu,
            "suspicious-rcu-usage",
            true,
        ),
    ] {
        let o = loom_with(scenario, fault, true);
        let v = o.violation.expect("caught");
        assert_eq!(v.name, name, "{fault}: {v:?}");
        assert_eq!(o.executions, 1, "{fault}: at the first execution");
        if silent_without_lockdep {
            let o = loom_with(scenario, fault, false);
            assert!(o.violation.is_none(), "{fault}: {:?}", o.violation);
        }
    }
}
