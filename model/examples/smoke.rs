//! Runs a script of steps given on the command line on a fresh kernel and prints each result
//! and any invariant that breaks: `cargo run --example smoke -- "insmod net_cls" "mount m0 net_cls"`.

use cgmodel::check::invariants;
use cgmodel::{Config, Kernel, Sink, Step};
use std::sync::Arc;

fn main() {
    let script: Vec<String> = std::env::args().skip(1).collect();
    let k = Kernel::boot(Config::default(), Arc::new(Sink::default()));
    let cx = k.cx(0, "shell");
    for s in &script {
        let step: Step = s.parse().unwrap();
        let r = k.exec(&step, &cx);
        println!("{step:<30} -> {r:?}");
        for v in invariants::check_all(&k) {
            println!("   !! {v}");
        }
    }
}
