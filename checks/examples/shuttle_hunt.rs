//! Hunts one fault in one scenario with shuttle PCT at several depths:
//! `cargo run --release --features shuttle -p cgroup-checks --example shuttle_hunt -- FAULT SCENARIO ITER`.
fn main() {
    #[cfg(feature = "shuttle")]
    {
        let a: Vec<String> = std::env::args().skip(1).collect();
        let f: cgmodel::Fault = a[0].parse().unwrap();
        let sc = cgchecks::scenario::by_name(&a[1]).unwrap();
        let iters: usize = a[2].parse().unwrap();
        let cfg =
            cgchecks::engine::config(&sc, cgmodel::Design::Fixed, cgmodel::Faults::one(f), true);
        let o = cgchecks::engine::shuttle_random(&sc.plan(), &cfg, iters, 7);
        println!(
            "random: {} executions {:.2}s {:?}",
            o.executions,
            o.seconds,
            o.violation.map(|v| v.name)
        );
        for depth in [2, 3, 4] {
            for seed in [1u64, 2, 3] {
                let o = cgchecks::engine::shuttle_pct(&sc.plan(), &cfg, iters, depth, seed);
                println!(
                    "depth {depth} seed {seed}: {} executions {:.2}s {:?}",
                    o.executions,
                    o.seconds,
                    o.violation.map(|v| v.name)
                );
            }
        }
    }
}
