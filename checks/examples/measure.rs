//! Measures loom exploration of every catalog scenario (or the ones named) at a bound:
//! `cargo run --release --features loom -p cgroup-checks --example measure -- BOUND|none [NAME...]`.
fn main() {
    #[cfg(any(loom, feature = "loom"))]
    {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let bound = match args.first().map(String::as_str) {
            Some("none") | None => None,
            Some(b) => Some(b.parse().expect("bound")),
        };
        for sc in cgchecks::scenario::catalog() {
            if args.len() > 1 && !args[1..].iter().any(|n| n == sc.name) {
                continue;
            }
            if matches!(sc.loom, cgchecks::scenario::LoomPlan::ShuttleOnly(_)) {
                continue;
            }
            let cfg =
                cgchecks::engine::config(&sc, cgmodel::Design::Fixed, cgmodel::Faults::NONE, true);
            let t = std::time::Instant::now();
            let o = cgchecks::engine::loom(&sc.plan(), &cfg, bound);
            println!(
                "{:<28} bound {:?}: {:>9} executions {:>8.2}s {}",
                sc.name,
                bound,
                o.executions,
                t.elapsed().as_secs_f64(),
                o.violation.map_or("pass".into(), |v| v.to_string())
            );
        }
    }
}
