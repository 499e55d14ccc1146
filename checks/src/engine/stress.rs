//! Real threads: a plan repeated on the std backend. A stress run finds only what the machine's
//! own scheduling happens to expose.

use cgmodel::Config;

use super::{drive, Bound, Engine, Outcome};
use crate::scenario::Plan;

/// `iterations` executions on real threads.
pub fn stress(plan: &Plan, cfg: &Config, iterations: u64) -> Outcome {
    drive(
        Engine::Std,
        Bound::Sampled,
        |body| {
            for _ in 0..iterations {
                body();
            }
        },
        plan,
        cfg,
        true,
    )
}
