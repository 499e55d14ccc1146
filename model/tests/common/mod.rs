//! Helpers shared by the model's integration tests: run a script on a fresh kernel inside one
//! execution of whatever backend the build selected.

#![allow(dead_code)]

use std::sync::Arc;

use cgmodel::check::invariants;
use cgmodel::{Config, Cx, Kernel, OpResult, Sink, Step, Violation};

/// Parses a script (one step per entry).
pub fn steps(script: &[&str]) -> Vec<Step> {
    script
        .iter()
        .map(|s| s.parse().unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// Boots a kernel with `cfg` inside one execution, runs `f` on it, and returns the violations
/// recorded (the execution's panic, if any, is caught).
pub fn run(cfg: Config, f: impl Fn(&Kernel, &Cx) + Send + Sync + 'static) -> Vec<Violation> {
    let sink = Arc::new(Sink::default());
    let s2 = sink.clone();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cgmodel::sim::sync::run_once(move || {
            let k = Kernel::boot(cfg.clone(), s2.clone());
            let cx = k.cx(0, "shell");
            f(&k, &cx);
        })
    }));
    let v = sink.all();
    if let Err(p) = r {
        if v.is_empty() {
            std::panic::resume_unwind(p);
        }
    }
    v
}

/// Runs `script` step by step, checking every invariant after each step; returns the results.
/// Panics (test failure) on any violation.
pub fn script(cfg: Config, script: &[&str]) -> Vec<OpResult> {
    let out = Arc::new(std::sync::Mutex::new(Vec::new()));
    let o2 = out.clone();
    let st = steps(script);
    let v = run(cfg, move |k, cx| {
        let mut res = Vec::new();
        for s in &st {
            res.push(k.exec(s, cx));
            if let Err(v) = invariants::check(k) {
                panic!("after `{s}`: {v}");
            }
        }
        *o2.lock().unwrap() = res;
    });
    assert!(v.is_empty(), "violations: {v:?}");
    let r = out.lock().unwrap().clone();
    r
}
