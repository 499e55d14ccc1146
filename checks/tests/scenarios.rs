//! Each scenario on each design with the engine this build selected: the expected verdicts hold
//! (a finding is found where one is documented; nothing fails elsewhere).

use cgchecks::engine::{self, Outcome};
use cgchecks::scenario::{catalog, Expect, Scenario};
use cgmodel::Design;

fn judge(sc: &Scenario, design: Design, out: &Outcome, exhaustive: bool) {
    let verdict = out
        .violation
        .as_ref()
        .map_or("pass".to_string(), |v| v.to_string());
    eprintln!(
        "{:<28} {:<20} {:>7} executions  {verdict}",
        sc.name,
        design.name(),
        out.executions
    );
    match ((sc.expect)(design), &out.violation) {
        (Expect::Pass, None) => {}
        (Expect::Pass, Some(v)) => panic!("{} on {design}: unexpected {v}", sc.name),
        (Expect::Finding(names), Some(v)) => {
            assert!(
                names.contains(&v.name.as_str()),
                "{} on {design}: expected one of {names:?}, got {v}",
                sc.name
            )
        }
        (Expect::Finding(_), None) if !exhaustive => {}
        (Expect::Finding(names), None) => {
            panic!(
                "{} on {design}: expected {names:?}, {} executions found nothing",
                sc.name, out.executions
            )
        }
    }
}

#[cfg(any(loom, feature = "loom"))]
#[test]
fn loom_catalog_verdicts() {
    for sc in catalog() {
        for design in Design::ALL {
            // Fewest preemptions first: the first bound that fails gives the smallest counterexample.
            let mut out = None;
            for bound in 0..=2 {
                let o = engine::loom(&sc, design, Some(bound));
                let failed = o.violation.is_some();
                eprintln!("  loom bound {bound}: {} executions", o.executions);
                out = Some(o);
                if failed {
                    break;
                }
            }
            let out = out.unwrap();
            assert!(out.executions > 0);
            judge(&sc, design, &out, true);
        }
    }
}

#[cfg(feature = "shuttle")]
#[test]
fn shuttle_pct_catalog_verdicts() {
    for sc in catalog() {
        for design in Design::ALL {
            let out = engine::shuttle_pct(&sc, design, 2000, 3, 0x5eed);
            judge(&sc, design, &out, true);
        }
    }
}

#[cfg(not(any(loom, feature = "loom", feature = "shuttle")))]
#[test]
fn std_stress_catalog_verdicts() {
    for sc in catalog() {
        for design in Design::ALL {
            let out = engine::stress(&sc, design, 50);
            assert!((1..=50).contains(&out.executions));
            judge(&sc, design, &out, false);
        }
    }
}
