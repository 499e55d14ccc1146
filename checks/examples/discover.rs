//! For each fault, which catalog scenarios catch it under loom (bounds 0..=2) and how fast:
//! `cargo run --release --features loom -p cgroup-checks --example discover [FAULT...]`.
fn main() {
    #[cfg(any(loom, feature = "loom"))]
    {
        use cgchecks::engine::{config, loom_iterative};
        use cgchecks::scenario::{catalog, LoomPlan};
        use cgmodel::{Design, Fault, Faults};
        let args: Vec<String> = std::env::args().skip(1).collect();
        for &f in Fault::ALL {
            if !args.is_empty() && !args.iter().any(|a| a == f.name()) {
                continue;
            }
            let mut hits = Vec::new();
            for sc in catalog() {
                if matches!(sc.loom, LoomPlan::ShuttleOnly(_)) {
                    continue;
                }
                let cfg = config(&sc, Design::Fixed, Faults::one(f), true);
                let o = loom_iterative(&sc.plan(), &cfg, Some(2));
                if let Some(v) = o.violation {
                    hits.push(format!(
                        "{}(b{:?},{}ex,{:.2}s,{})",
                        sc.name,
                        o.bound.unwrap_or(99),
                        o.executions,
                        o.seconds,
                        v.name
                    ));
                }
            }
            println!("{:<28} {}: {}", f.name(), hits.len(), hits.join(" "));
        }
    }
}
