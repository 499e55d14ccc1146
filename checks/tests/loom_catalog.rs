//! The loom race regression: every catalog scenario on every design, fewest preemptions first,
//! then exhaustively (or at the scenario's documented bound). Run with
//! `cargo test --release --features loom`. Rows go to `target/race-report/loom.tsv`.

#![cfg(any(loom, feature = "loom"))]

use cgchecks::engine::{config, loom_iterative};
use cgchecks::scenario::{by_name, LoomPlan};
use cgchecks::{judge, report};
use cgmodel::{Design, Faults};

fn check(name: &str) {
    let sc = by_name(name).unwrap();
    let max = match sc.loom {
        LoomPlan::Exhaustive => None,
        LoomPlan::Bounded(b, _) => Some(b),
        LoomPlan::ShuttleOnly(why) => {
            // Not loom's to explore: the plan must be justified by the thread count.
            assert!(
                sc.threads.len() + 1 > 5,
                "{name}: shuttle-only ({why}) but loom could run it"
            );
            return;
        }
    };
    let faults = Faults::from_env().unwrap();
    let mut errors = Vec::new();
    for &design in Design::ALL {
        let cfg = config(&sc, design, faults, true);
        let o = loom_iterative(&sc.plan(), &cfg, max);
        let expected = matches!((sc.expect)(design), cgchecks::scenario::Expect::Finding(_));
        report::record(
            "loom",
            name,
            design.name(),
            &faults.to_string(),
            &o,
            report::verdict(&o, expected),
        );
        if faults.is_empty() {
            if let Err(e) = judge(&sc, design, &o, true) {
                let trace = report::save_trace("loom", &sc, &cfg, &o);
                errors.push(format!(
                    "{e} (trace: {})",
                    trace.map_or("-".into(), |p| p.display().to_string())
                ));
            }
        } else if o.violation.is_none() {
            errors.push(format!(
                "{name} on {design}: injected {faults} went unnoticed"
            ));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

cgchecks::catalog_tests!(check);
