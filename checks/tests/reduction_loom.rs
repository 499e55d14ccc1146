//! loom's reduction (`vendor/loom/PATCH.md`) keeps every class and verdict: a sample of the
//! catalog both ways (the whole catalog is `cgcheck reduction`, and the nightly
//! `verify --deep`), and the small programs whose class counts are known in closed form.

#![cfg(backend_loom)]

use cgchecks::reduction::{compare, Agreement, Limits};
use cgchecks::scenario::by_name;
use cgchecks::shapes::{self, Shape};
use cgmodel::Design;

/// Passing rows, a finding, rows whose unreduced run is cut by the cap and runs at a bound
/// instead (a three-thread scenario, and the spin window of `css_tryget`).
#[test]
fn a_sample_of_the_catalog_has_the_same_classes_and_verdicts_both_ways() {
    let limits = Limits {
        cap: 4_000,
        ..Limits::default()
    };
    for (name, design, want) in [
        ("attach-vs-fork", Design::Fixed, Agreement::Contains),
        // Its unreduced run, 47,228 executions for the same 80 classes since stop_machine is
        // ordered with every lookup of module memory, is past the cap: bounded instead.
        ("load-vs-unload", Design::V2634, Agreement::Contains),
        ("attach-vs-css-get", Design::Fixed, Agreement::Same),
        ("rmdir-vs-css-get", Design::Fixed, Agreement::Contains),
        ("netcls-init-vs-classify", Design::V2634, Agreement::Same),
        ("unload-vs-fork-vs-exit", Design::Fixed, Agreement::Contains),
    ] {
        let r = compare(by_name(name).unwrap(), design, limits);
        assert_eq!(r.agreement, want, "{name} on {design}: {r:?}");
        // Where the unreduced run finished, the reduced one ran no more executions.
        if let Some(off) = &r.unreduced {
            assert!(
                r.reduced.executions + r.reduced.stopped <= off.executions,
                "{name}: the reduction ran more: {r:?}"
            );
        }
    }
}

/// On the programs whose class counts are known, both searches meet exactly those classes,
/// and the reduced one in fewer executions.
#[test]
fn known_shapes_keep_their_classes_in_fewer_executions() {
    for shape in [
        Shape::Readers(3),
        Shape::ReadersWriter(2),
        Shape::LockIncrements(3),
        Shape::TicketLock(3),
    ] {
        let (on, off) = (shapes::run(shape, true), shapes::run(shape, false));
        let n = shape.classes();
        assert_eq!((on.classes, off.classes), (n, n), "{shape:?}");
        assert!(
            on.executions + on.stopped < off.executions,
            "{shape:?}: reduced {on:?}, unreduced {off:?}"
        );
    }
}

/// The comparison can fail: a run that reaches other classes, or another violation, is told
/// apart from the run it is compared with, unbounded and at a bound.
#[test]
fn the_comparison_tells_different_runs_apart() {
    use cgchecks::engine::{self, loom};
    use cgchecks::reduction::{differ, misses};
    use cgmodel::{Fault, Faults};
    let run = |name: &str, faults: Faults, bound: Option<usize>, reduce: bool| {
        let sc = by_name(name).unwrap();
        let cfg = engine::config(sc, Design::Fixed, faults, true);
        loom::iterative(&sc.plan(), &cfg, bound, reduce)
    };
    let fork = run("attach-vs-fork", Faults::NONE, None, true);
    assert_eq!(
        differ(&fork, &run("attach-vs-fork", Faults::NONE, None, false)),
        None
    );
    let other = run("load-vs-unload", Faults::NONE, None, false);
    assert!(differ(&fork, &other).unwrap().contains("classes"));
    let faulty = run(
        "attach-vs-fork",
        Faults::one(Fault::ForkRefAfterUnlock),
        None,
        false,
    );
    assert!(differ(&fork, &faulty).unwrap().contains("violation"));
    assert_eq!(
        misses(&fork, &run("attach-vs-fork", Faults::NONE, Some(2), false)),
        None
    );
    let other = run("load-vs-unload", Faults::NONE, Some(2), false);
    assert!(misses(&fork, &other).unwrap().contains("misses classes"));
    let faulty = run(
        "attach-vs-fork",
        Faults::one(Fault::ForkRefAfterUnlock),
        Some(2),
        false,
    );
    assert!(misses(&fork, &faulty).unwrap().contains("found"));
}
