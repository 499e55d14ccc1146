//! The one place that chooses the synchronization primitives.
//!
//! Every other module imports locks, atomics, cells, threads and fences from here. The backend is
//! std by default, loom under `--features loom` (or `RUSTFLAGS="--cfg loom"`) and shuttle under
//! `--features shuttle`. The model is written once against this surface (design.md section 2).
//!
//! Only the *kernel's* synchronization goes through this module. Out-of-band bookkeeping (arena
//! metadata, lock ownership for lockdep, the event log) uses plain `std` primitives that are never
//! held across a model step, so they add no scheduling point and no happens-before edge
//! (design.md section 1a).

#[cfg(all(any(loom, feature = "loom"), feature = "shuttle"))]
compile_error!("features `loom` and `shuttle` are mutually exclusive");

#[cfg(any(loom, feature = "loom"))]
mod imp {
    pub use loom::cell::UnsafeCell;
    pub use loom::sync::atomic::{fence, Ordering};
    pub use loom::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
    pub use loom::thread::{current, spawn, yield_now, JoinHandle};
    pub use loom::thread_local;

    /// The backend's atomics, wrapped by [`super`] to record each access.
    pub mod raw {
        pub use loom::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicUsize};
    }

    /// Name of the backend, for reports.
    pub const BACKEND: &str = "loom";

    /// A scheduling point between loading a pointer and using it. Loom already branches at every
    /// atomic and lock operation and checks cell causality, so this is a no-op there.
    #[inline]
    pub fn pointer_use_point() {}

    /// Runs `f` once as a whole model execution (one loom execution with a single thread).
    pub fn run_once<F: Fn() + Send + Sync + 'static>(f: F) {
        let mut b = loom::model::Builder::new();
        b.max_branches = 100_000;
        b.check(f);
    }
}

#[cfg(all(feature = "shuttle", not(any(loom, feature = "loom"))))]
mod imp {
    pub use super::stdcell::UnsafeCell;
    pub use shuttle::sync::atomic::{fence, Ordering};
    pub use shuttle::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
    pub use shuttle::thread::{current, spawn, yield_now, JoinHandle};
    pub use shuttle::thread_local;

    /// The backend's atomics, wrapped by [`super`] to record each access.
    pub mod raw {
        pub use shuttle::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicUsize};
    }

    /// Name of the backend, for reports.
    pub const BACKEND: &str = "shuttle";

    /// Shuttle only switches threads at its own primitives; without a point here it cannot put a
    /// free between loading a pointer and using it (design.md 1b, pitfall 3). This is a plain
    /// context switch point (`sleep(0)`), not `yield_now`: a yield also tells the scheduler to
    /// deprioritize the thread, which at every object lookup defeats PCT (measured: a race PCT
    /// finds in ~50 schedules with `sleep(0)` went unfound in 30,000 with `yield_now`).
    #[inline]
    pub fn pointer_use_point() {
        shuttle::thread::sleep(std::time::Duration::ZERO);
    }

    /// Runs `f` once as a whole model execution (one shuttle execution).
    pub fn run_once<F: Fn() + Send + Sync + 'static>(f: F) {
        shuttle::check_random(f, 1);
    }
}

#[cfg(not(any(loom, feature = "loom", feature = "shuttle")))]
mod imp {
    pub use super::stdcell::UnsafeCell;
    pub use std::sync::atomic::{fence, Ordering};
    pub use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
    pub use std::thread::{current, spawn, yield_now, JoinHandle};
    pub use std::thread_local;

    /// The backend's atomics, wrapped by [`super`] to record each access.
    pub mod raw {
        pub use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicUsize};
    }

    /// Name of the backend, for reports.
    pub const BACKEND: &str = "std";

    /// Real threads interleave on their own; nothing to do.
    #[inline]
    pub fn pointer_use_point() {}

    /// Runs `f` once, on the calling thread.
    pub fn run_once<F: Fn() + Send + Sync + 'static>(f: F) {
        f()
    }
}

pub use imp::{
    current, fence, pointer_use_point, run_once, spawn, thread_local, yield_now, Arc, JoinHandle,
    Mutex, MutexGuard, Ordering, RwLock, RwLockReadGuard, RwLockWriteGuard, UnsafeCell, BACKEND,
};

macro_rules! traced_atomic {
    ($name:ident, $t:ty) => {
        /// The backend's atomic of the same name; every access is a step of the trace
        /// ([`crate::trace`]): recorded with its values, and, when a trace is replayed, taken only
        /// in the recorded order.
        #[derive(Debug)]
        pub struct $name(imp::raw::$name, &'static str);

        impl $name {
            /// A new atomic.
            pub fn new(v: $t) -> Self {
                Self(imp::raw::$name::new(v), "")
            }
            /// A new atomic named for traces: `css_set.refcount`, or `task.cgroups:css_set` for a
            /// pointer field (its values are then shown as the objects they name).
            pub fn named(v: $t, name: &'static str) -> Self {
                Self(imp::raw::$name::new(v), name)
            }
            /// `load`.
            pub fn load(&self, o: Ordering) -> $t {
                crate::trace::atomic("load", self.1);
                let v = self.0.load(o);
                crate::trace::atomic_done("load", self.1, v as i64, v as i64);
                v
            }
            /// `store`.
            pub fn store(&self, v: $t, o: Ordering) {
                crate::trace::atomic("store", self.1);
                self.0.store(v, o);
                crate::trace::atomic_done("store", self.1, v as i64, v as i64);
            }
            /// `fetch_add`.
            pub fn fetch_add(&self, v: $t, o: Ordering) -> $t {
                crate::trace::atomic("fetch_add", self.1);
                let old = self.0.fetch_add(v, o);
                crate::trace::atomic_done(
                    "fetch_add",
                    self.1,
                    old as i64,
                    old.wrapping_add(v) as i64,
                );
                old
            }
            /// `fetch_sub`.
            pub fn fetch_sub(&self, v: $t, o: Ordering) -> $t {
                crate::trace::atomic("fetch_sub", self.1);
                let old = self.0.fetch_sub(v, o);
                crate::trace::atomic_done(
                    "fetch_sub",
                    self.1,
                    old as i64,
                    old.wrapping_sub(v) as i64,
                );
                old
            }
            /// `fetch_or`.
            pub fn fetch_or(&self, v: $t, o: Ordering) -> $t {
                crate::trace::atomic("fetch_or", self.1);
                let old = self.0.fetch_or(v, o);
                crate::trace::atomic_done("fetch_or", self.1, old as i64, (old | v) as i64);
                old
            }
            /// `fetch_and`.
            pub fn fetch_and(&self, v: $t, o: Ordering) -> $t {
                crate::trace::atomic("fetch_and", self.1);
                let old = self.0.fetch_and(v, o);
                crate::trace::atomic_done("fetch_and", self.1, old as i64, (old & v) as i64);
                old
            }
            /// `compare_exchange`.
            pub fn compare_exchange(
                &self,
                current: $t,
                new: $t,
                s: Ordering,
                f: Ordering,
            ) -> Result<$t, $t> {
                crate::trace::atomic("cmpxchg", self.1);
                let r = self.0.compare_exchange(current, new, s, f);
                match r {
                    Ok(old) => crate::trace::atomic_done("cmpxchg", self.1, old as i64, new as i64),
                    Err(old) => {
                        crate::trace::atomic_done("cmpxchg", self.1, old as i64, old as i64)
                    }
                }
                r
            }
        }
    };
}

traced_atomic!(AtomicI64, i64);
traced_atomic!(AtomicU32, u32);
traced_atomic!(AtomicU64, u64);
traced_atomic!(AtomicUsize, usize);

/// Whether this build checks under a model checker (loom or shuttle) rather than real threads.
pub const MODEL_CHECKED: bool = cfg!(any(loom, feature = "loom", feature = "shuttle"));

#[allow(dead_code)]
mod stdcell {
    /// `UnsafeCell` with loom's closure API, for the std and shuttle backends. Shuttle has no data
    /// race detector; the lockdep assertions in [`crate::lockdep`] stand in for it.
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
