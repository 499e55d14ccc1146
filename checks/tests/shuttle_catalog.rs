//! The shuttle race regression: every catalog scenario on every design under PCT (bug depth 3)
//! and random schedules, from fixed seeds so that any failure replays. Run with
//! `cargo test --release -p cgroup-checks --features shuttle`. Rows go to
//! `target/race-report/shuttle.tsv`.

#![cfg(feature = "shuttle")]

use cgchecks::engine::{config, shuttle_pct, shuttle_random};
use cgchecks::scenario::{by_name, Expect};
use cgchecks::{judge, report};
use cgmodel::{Design, Faults};

/// The seed of every run (printed in each row).
const SEED: u64 = 0x5eed_2634;
const ITERATIONS: usize = 1000;

fn check(name: &str) {
    let sc = by_name(name).unwrap();
    let faults = Faults::from_env().unwrap();
    let mut errors = Vec::new();
    for &design in Design::ALL {
        let cfg = config(&sc, design, faults, true);
        let expected = matches!((sc.expect)(design), Expect::Finding(_));
        for (engine, o) in [
            ("pct", shuttle_pct(&sc.plan(), &cfg, ITERATIONS, 3, SEED)),
            ("random", shuttle_random(&sc.plan(), &cfg, ITERATIONS, SEED)),
        ] {
            let label = format!("shuttle-{engine}");
            report::record(
                &label,
                name,
                design.name(),
                &format!("{faults} seed={SEED:#x}"),
                &o,
                report::verdict(&o, expected),
            );
            if !faults.is_empty() {
                continue;
            }
            // Random sampling may miss a finding; PCT from this seed must not.
            if let Err(e) = judge(&sc, design, &o, engine == "pct") {
                let trace = report::save_trace(&label, &sc, &cfg, &o);
                errors.push(format!(
                    "{label}: {e} (trace: {})",
                    trace.map_or("-".into(), |p| p.display().to_string())
                ));
            }
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

cgchecks::catalog_tests!(check);
