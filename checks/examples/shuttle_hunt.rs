//! Hunts one fault in one scenario with shuttle, random and PCT at several depths and seeds:
//! `cargo run --release --features shuttle -p cgroup-checks --example shuttle_hunt -- FAULT SCENARIO ITERATIONS`.

use cgchecks::engine::{config, shuttle};
use cgmodel::{Design, Fault, Faults};

fn args() -> Result<(Fault, &'static cgchecks::scenario::Scenario, usize), String> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [f, sc, n] = a.as_slice() else {
        return Err("usage: shuttle_hunt FAULT SCENARIO ITERATIONS".into());
    };
    let n = n
        .parse::<usize>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("bad iteration count `{n}`"))?;
    Ok((f.parse()?, cgchecks::scenario::by_name(sc)?, n))
}

fn main() -> std::process::ExitCode {
    let (f, sc, iters) = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("shuttle_hunt: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let cfg = config(sc, Design::Fixed, Faults::one(f), true);
    let o = shuttle::random(&sc.plan(), &cfg, iters, 7);
    println!(
        "random: {} executions {:.2}s {:?}",
        o.executions,
        o.seconds,
        o.violation.map(|v| v.name)
    );
    for depth in [2, 3, 4] {
        for seed in [1u64, 2, 3] {
            let o = shuttle::pct(&sc.plan(), &cfg, iters, depth, seed);
            println!(
                "depth {depth} seed {seed}: {} executions {:.2}s {:?}",
                o.executions,
                o.seconds,
                o.violation.map(|v| v.name)
            );
        }
    }
    std::process::ExitCode::SUCCESS
}
