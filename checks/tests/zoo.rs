//! The kill matrix: every injected fault is caught by at least one catalog scenario, and every
//! scenario is made to fail by its documented killer (a fault, or the design it documents a
//! finding for). Under loom and shuttle every fault must be caught; on the std backend only the
//! faults that break state without needing a particular interleaving are asserted (real threads
//! sample too few schedules), the others are reported.

use cgchecks::engine::{self, config, Outcome};
use cgchecks::report;
use cgchecks::scenario::{by_name, catalog, Scenario};
use cgchecks::zoo::{catchers, killer, Killer};
use cgmodel::{Config, Design, Fault, Faults};

/// Runs `sc` under `cfg` with the engine this build has, looking for a failure.
fn hunt(sc: &Scenario, cfg: &Config) -> (&'static str, Outcome) {
    #[cfg(any(loom, feature = "loom"))]
    {
        let plan = match sc.loom {
            cgchecks::scenario::LoomPlan::ShuttleOnly(_) => None,
            _ => Some(engine::loom_iterative(&sc.plan(), cfg, Some(3))),
        };
        if let Some(o) = plan {
            return ("loom", o);
        }
        ("loom", Outcome::nothing())
    }
    #[cfg(feature = "shuttle")]
    {
        let o = engine::shuttle_pct(&sc.plan(), cfg, 2000, 3, 0x5eed);
        if o.violation.is_some() {
            return ("shuttle-pct", o);
        }
        (
            "shuttle-random",
            engine::shuttle_random(&sc.plan(), cfg, 2000, 0x5eed),
        )
    }
    #[cfg(not(any(loom, feature = "loom", feature = "shuttle")))]
    {
        if cfg.faults.iter().any(|f| f.deadlocks()) {
            // A deadlock on real threads is a hang, not a report: loom and shuttle run these.
            return ("std-skipped", Outcome::nothing());
        }
        ("std", engine::stress(&sc.plan(), cfg, 200))
    }
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
    )
}

#[test]
fn every_fault_is_caught() {
    let mut missed = Vec::new();
    for &f in Fault::ALL {
        let mut caught = false;
        for name in catchers(f) {
            let sc = by_name(name).unwrap();
            let (eng, o) = hunt(&sc, &config(&sc, Design::Fixed, Faults::one(f), true));
            let verdict = if o.violation.is_some() {
                "caught"
            } else {
                "missed"
            };
            report::record(&format!("zoo-{eng}"), name, "fixed", f.name(), &o, verdict);
            if o.violation.is_some() {
                caught = true;
                break;
            }
        }
        let must = cfg!(any(loom, feature = "loom", feature = "shuttle")) || deterministic(f);
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
        let (_, o) = hunt(&sc, &config(&sc, Design::Fixed, Faults::NONE, true));
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
        let k = killer(sc.name)
            .unwrap_or_else(|| panic!("scenario {} has no killer in zoo::killer", sc.name));
        let (design, faults) = match k {
            Killer::Fault(f) => (Design::Fixed, Faults::one(f)),
            Killer::Design(d) => (d, Faults::NONE),
        };
        let deterministic_enough = match k {
            Killer::Fault(f) => deterministic(f),
            Killer::Design(_) => false,
        };
        let (eng, o) = hunt(&sc, &config(&sc, design, faults, true));
        report::record(
            &format!("kill-{eng}"),
            sc.name,
            design.name(),
            &faults.to_string(),
            &o,
            if o.violation.is_some() {
                "killed"
            } else {
                "survived"
            },
        );
        let storm = matches!(sc.loom, cgchecks::scenario::LoomPlan::ShuttleOnly(_));
        let skipped = cfg!(any(loom, feature = "loom")) && storm;
        // On real threads only single-schedule breaks are certain; six-thread storms are not.
        let must = cfg!(any(loom, feature = "loom", feature = "shuttle"))
            || (deterministic_enough && !storm);
        if o.violation.is_none() && must && !skipped {
            survivors.push(sc.name);
        }
    }
    assert!(
        survivors.is_empty(),
        "scenarios nothing made fail: {survivors:?}"
    );
}

/// loom on `scenario` with `fault` injected into the fixed design, lockdep on or off.
#[cfg(any(loom, feature = "loom"))]
fn loom_with(scenario: &str, fault: Fault, lockdep: bool) -> Outcome {
    let sc = by_name(scenario).unwrap();
    let cfg = config(&sc, Design::Fixed, Faults::one(fault), lockdep);
    let o = engine::loom_iterative(&sc.plan(), &cfg, Some(2));
    report::record("loom-checks", sc.name, "fixed", fault.name(), &o, "caught");
    o
}

/// loom's own causality check, not lockdep, finds the unlocked unload when lockdep is off.
#[cfg(any(loom, feature = "loom"))]
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

/// loom's deadlock check finds the ABBA the inverted remount creates.
#[cfg(any(loom, feature = "loom"))]
#[test]
fn loom_reports_the_inverted_remount_as_a_deadlock() {
    let o = loom_with("remount-vs-mkdir", Fault::RemountLockInversion, true);
    assert_eq!(
        o.violation.map(|v| v.kind),
        Some(cgmodel::ViolationKind::Deadlock)
    );
}
