//! Every catalog scenario on every design on real threads (the std backend): nothing fails that
//! is not a documented finding. Real scheduling samples few interleavings, so a finding may or
//! may not show up here; the loom and shuttle suites are the ones that must find it.

#![cfg(backend_std)]

use cgchecks::engine::{config, stress::stress};
use cgchecks::scenario::by_name;
use cgchecks::{judge, report, verdict};
use cgmodel::{Design, Faults};

fn check(name: &str) {
    let sc = by_name(name).unwrap();
    let faults = Faults::from_env().unwrap();
    let mut errors = Vec::new();
    for &design in Design::ALL {
        let o = stress(&sc.plan(), &config(sc, design, faults, true), 20);
        assert!((1..=20).contains(&o.executions));
        report::record(
            "std",
            name,
            design.name(),
            &faults.to_string(),
            &o,
            verdict(sc, design, &o).0,
        );
        if faults.is_empty() {
            if let Err(e) = judge(sc, design, &o) {
                errors.push(e);
            }
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

include!(concat!(env!("OUT_DIR"), "/catalog_tests.rs"));
