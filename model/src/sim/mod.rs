//! The checker runtime: everything the model needs to be explored, and nothing of what it models.
//!
//! - [`sync`]: the backend switch (std, loom or shuttle), the only file that names them;
//! - [`atomic`]: the backend's atomics, traced;
//! - [`trace`]: every step recorded in kernel vocabulary; [`replay`]: the turnstile that makes real
//!   threads take a recorded trace's steps in order; [`foata`]: which executions are the same
//!   behaviour (Mazurkiewicz classes);
//! - [`arena`]: objects named by handles, whose `kfree` poisons;
//! - [`lockdep`]: kernel locks as separate objects, and the fields they guard;
//! - [`rcu`]: read-side sections, grace periods, `call_rcu`, `rcu_dereference`;
//! - [`spin`]: busy-waiting, as a window other threads block on;
//! - [`cx`]: the per-thread context (who runs, in which function, with which RCU nesting);
//! - [`report`]: violations and where they go.
//!
//! This layer names nothing in `crate::kernel`, `crate::variants` or `crate::check` (a test in
//! `model/tests/layers.rs` keeps it so), the way loom's `rt/` and shuttle's `runtime/` never name
//! what they check.

pub mod arena;
pub mod atomic;
pub mod cx;
pub mod foata;
pub mod lockdep;
pub mod rcu;
pub mod replay;
pub mod report;
pub mod spin;
pub mod sync;
pub mod trace;
