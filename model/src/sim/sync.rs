//! The one place that chooses the synchronization primitives: the backend switch.
//!
//! Every other module takes its locks, cells, threads and fences from here, and its atomics from
//! [`super::atomic`], which wraps the raw ones re-exported here. The backend is std by default,
//! loom under `--features loom` (or `RUSTFLAGS="--cfg loom"`) and shuttle under `--features
//! shuttle`; `build.rs` spells that choice once, as the cfg aliases `backend_loom`,
//! `backend_shuttle` and `backend_std`. The model is written once against this surface.
//!
//! Only the *kernel's* synchronization goes through this module. Out-of-band bookkeeping (arena
//! metadata, lock ownership for lockdep, the event log) uses plain `std` primitives that are never
//! held across a model step, so they add no scheduling point and no happens-before edge that the
//! kernel does not have.

#[cfg(all(any(loom, feature = "loom"), feature = "shuttle"))]
compile_error!("features `loom` and `shuttle` are mutually exclusive");

#[cfg(backend_loom)]
mod imp {
    pub use loom::cell::UnsafeCell;
    pub use loom::sync::atomic::{fence, Ordering};
    pub use loom::sync::{
        Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
    };
    pub use loom::thread::{current, spawn, yield_now, JoinHandle};
    pub use loom::thread_local;

    /// The backend's atomics, wrapped by [`crate::sim::atomic`] to record each access.
    pub mod raw {
        pub use loom::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicUsize};
    }

    /// This build's backend.
    pub const BACKEND: super::Backend = super::Backend::Loom;

    /// A scheduling point between loading a pointer and using it. Loom already branches at every
    /// atomic and lock operation and checks cell causality, so this is a no-op there.
    #[inline]
    pub fn pointer_use_point() {}

    /// How many preemptions the current execution has taken (loom's count).
    pub fn preemptions() -> Option<usize> {
        Some(loom::preemptions())
    }

    /// Runs `f` once as a whole model execution (one loom execution with a single thread).
    pub fn run_once<F: Fn() + Send + Sync + 'static>(f: F) {
        let mut b = loom::model::Builder::new();
        b.max_branches = 100_000;
        b.check(f);
    }
}

#[cfg(backend_shuttle)]
mod imp {
    pub use super::stdcell::UnsafeCell;
    pub use shuttle::sync::atomic::{fence, Ordering};
    pub use shuttle::sync::{
        Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
    };
    pub use shuttle::thread::{current, spawn, yield_now, JoinHandle};
    pub use shuttle::thread_local;

    /// The backend's atomics, wrapped by [`crate::sim::atomic`] to record each access.
    pub mod raw {
        pub use shuttle::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicUsize};
    }

    /// This build's backend.
    pub const BACKEND: super::Backend = super::Backend::Shuttle;

    /// Shuttle only switches threads at its own primitives; without a point here it cannot put a
    /// free between loading a pointer and using it (it would never interleave a `kfree` between
    /// an object lookup and the use of the object). This is a plain
    /// context switch point (`sleep(0)`), not `yield_now`: a yield also tells the scheduler to
    /// deprioritize the thread, which at every object lookup defeats PCT (measured: a race PCT
    /// finds in ~50 schedules with `sleep(0)` went unfound in 30,000 with `yield_now`).
    #[inline]
    pub fn pointer_use_point() {
        shuttle::thread::sleep(std::time::Duration::ZERO);
    }

    /// Preemptions are loom's count; shuttle has none.
    pub fn preemptions() -> Option<usize> {
        None
    }

    /// Runs `f` once as a whole model execution (one shuttle execution).
    pub fn run_once<F: Fn() + Send + Sync + 'static>(f: F) {
        shuttle::check_random(f, 1);
    }
}

#[cfg(backend_std)]
mod imp {
    pub use super::stdcell::UnsafeCell;
    pub use std::sync::atomic::{fence, Ordering};
    pub use std::sync::{
        Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
    };
    pub use std::thread::{current, spawn, yield_now, JoinHandle};
    pub use std::thread_local;

    /// The backend's atomics, wrapped by [`crate::sim::atomic`] to record each access.
    pub mod raw {
        pub use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicUsize};
    }

    /// This build's backend.
    pub const BACKEND: super::Backend = super::Backend::Std;

    /// Real threads interleave on their own; nothing to do.
    #[inline]
    pub fn pointer_use_point() {}

    /// Preemptions are loom's count; real threads have none.
    pub fn preemptions() -> Option<usize> {
        None
    }

    /// Runs `f` once, on the calling thread.
    pub fn run_once<F: Fn() + Send + Sync + 'static>(f: F) {
        f()
    }
}

pub use imp::{
    current, fence, pointer_use_point, preemptions, raw, run_once, spawn, thread_local, yield_now,
    Arc, Condvar, JoinHandle, Mutex, MutexGuard, Ordering, RwLock, RwLockReadGuard,
    RwLockWriteGuard, UnsafeCell, BACKEND,
};
/// What `try_lock`, `try_read` and `try_write` return (std's types, on every backend).
pub use std::sync::{TryLockError, TryLockResult};

/// The synchronization backend a build runs the model on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::Display, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum Backend {
    /// Real threads and std's primitives.
    Std,
    /// loom: every interleaving (within a preemption bound), with weak-memory outcomes.
    Loom,
    /// shuttle: sampled schedules (PCT or random), every atomic sequentially consistent.
    Shuttle,
}

/// Whether this build checks under a model checker (loom or shuttle) rather than real threads.
pub const MODEL_CHECKED: bool = cfg!(not(backend_std));

#[allow(dead_code)]
mod stdcell {
    /// `UnsafeCell` with loom's closure API, for the std and shuttle backends. Shuttle has no data
    /// race detector; the lockdep assertions in [`crate::sim::lockdep`] stand in for it.
    #[derive(Debug, Default)]
    pub struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    // SAFETY: every access goes through `with`/`with_mut`, which the model only calls under the
    // kernel lock that protects the field (checked by lockdep at run time).
    unsafe impl<T: Send> Sync for UnsafeCell<T> {}

    impl<T> UnsafeCell<T> {
        /// Wraps `data`.
        pub const fn new(data: T) -> Self {
            Self(std::cell::UnsafeCell::new(data))
        }
        /// Immutable access through a raw pointer.
        pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }
        /// Mutable access through a raw pointer.
        pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}
