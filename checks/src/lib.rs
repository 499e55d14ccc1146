//! Scenarios, engines and (later) the `cgcheck` CLI for the cgroup model.
//!
//! A [`scenario::Scenario`] is an initial state plus one op list per thread; an engine explores
//! its interleavings: loom under `--features loom`, shuttle under `--features shuttle`, real
//! threads otherwise.

pub mod engine;
pub mod scenario;
