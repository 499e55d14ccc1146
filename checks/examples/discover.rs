//! For each fault, which catalog scenarios catch it under loom (bounds 0..=2) and how fast; the
//! source of `cgchecks::zoo::catchers`:
//! `cargo run --release --features loom -p cgroup-checks --example discover [FAULT...]`.

use cgchecks::engine::{config, loom::iterative};
use cgchecks::scenario::{catalog, LoomPlan};
use cgmodel::{Design, Fault, Faults};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    for a in &args {
        if let Err(e) = a.parse::<Fault>() {
            eprintln!("discover: {e}");
            return std::process::ExitCode::from(2);
        }
    }
    for &f in Fault::ALL {
        if !args.is_empty() && !args.iter().any(|a| a == f.name()) {
            continue;
        }
        let mut hits = Vec::new();
        for sc in catalog() {
            if matches!(sc.loom, LoomPlan::ShuttleOnly(_)) {
                continue;
            }
            let cfg = config(sc, Design::Fixed, Faults::one(f), true);
            let o = iterative(&sc.plan(), &cfg, Some(2), true);
            if let Some(v) = o.violation {
                hits.push(format!(
                    "{}({}, {} executions, {:.2}s, {})",
                    sc.name, o.bound, o.executions, o.seconds, v.name
                ));
            }
        }
        println!("{:<28} {}: {}", f.name(), hits.len(), hits.join(" "));
    }
    std::process::ExitCode::SUCCESS
}
