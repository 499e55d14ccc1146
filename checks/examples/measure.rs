//! Measures loom's exploration of every catalog scenario (or the ones named) at one bound, on the
//! fixed design:
//! `cargo run --release --features loom -p cgroup-checks --example measure -- BOUND|none [NAME...]`.

use cgchecks::engine::{config, loom::bounded};
use cgchecks::scenario::{by_name, catalog, LoomPlan};
use cgmodel::{Design, Faults};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bound = match args.first().map(String::as_str) {
        Some("none") | None => None,
        Some(b) => match b.parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => {
                eprintln!("measure: bad bound `{b}`: a number or `none`");
                return std::process::ExitCode::from(2);
            }
        },
    };
    for n in args.iter().skip(1) {
        if let Err(e) = by_name(n) {
            eprintln!("measure: {e}");
            return std::process::ExitCode::from(2);
        }
    }
    for sc in catalog() {
        if args.len() > 1 && !args[1..].contains(&sc.name) {
            continue;
        }
        if matches!(sc.loom, LoomPlan::ShuttleOnly(_)) {
            continue;
        }
        let cfg = config(sc, Design::Fixed, Faults::NONE, true);
        let o = bounded(&sc.plan(), &cfg, bound, true);
        println!(
            "{:<34} {}: {:>9} executions {:>8.2}s {}",
            sc.name,
            o.bound,
            o.executions,
            o.seconds,
            o.violation.map_or("pass".into(), |v| v.to_string())
        );
    }
    std::process::ExitCode::SUCCESS
}
