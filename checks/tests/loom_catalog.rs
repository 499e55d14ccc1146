//! The loom race regression: every catalog scenario on every design, fewest preemptions first,
//! then exhaustively (or at the scenario's documented bound). Run with
//! `cargo test --release --features loom`. Rows go to `target/race-report/loom.tsv`.

#![cfg(backend_loom)]

use cgchecks::engine::{self, config, Engine, RunOpts};
use cgchecks::scenario::{by_name, LoomPlan};
use cgchecks::{judge, report, verdict};
use cgmodel::{Design, Faults};

fn check(name: &str) {
    let sc = by_name(name).unwrap();
    if matches!(sc.loom, LoomPlan::ShuttleOnly(_)) {
        return; // not loom's to explore: the scenario parser checked the thread count
    }
    let faults = Faults::from_env().unwrap();
    let mut errors = Vec::new();
    for &design in Design::ALL {
        let cfg = config(sc, design, faults, true);
        let o = engine::run_scenario(sc, &cfg, Engine::Loom, &RunOpts::default()).unwrap();
        report::record(
            "loom",
            name,
            design.name(),
            &faults.to_string(),
            &o,
            verdict(sc, design, &o).0,
        );
        if faults.is_empty() {
            if let Err(e) = judge(sc, design, &o) {
                let trace = report::save_trace("loom", sc, &cfg, &o);
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

include!(concat!(env!("OUT_DIR"), "/catalog_tests.rs"));
