//! The kernel's atomics, traced: the backend's atomic of each width, wrapped so that every
//! access is a step of the trace ([`super::trace`]): recorded with its values and, when a trace is
//! replayed, taken only in the recorded order.

use super::sync::{raw, Ordering};
use super::trace::{self, Access};

macro_rules! traced_atomic {
    ($name:ident, $t:ty) => {
        /// The backend's atomic of the same name; every access is a step of the trace
        /// ([`super::trace`]): recorded with its values, and, when a trace is replayed, taken only
        /// in the recorded order.
        #[derive(Debug)]
        pub struct $name(raw::$name, &'static str);

        impl $name {
            /// A new atomic.
            pub fn new(v: $t) -> Self {
                Self(raw::$name::new(v), "")
            }
            /// A new atomic named for traces: `css_set.refcount`, or `task.cgroups:css_set` for a
            /// pointer field (its values are then shown as the objects they name).
            pub fn named(v: $t, name: &'static str) -> Self {
                Self(raw::$name::new(v), name)
            }
            /// `load`.
            pub fn load(&self, o: Ordering) -> $t {
                trace::atomic("load", self.1);
                let v = self.0.load(o);
                trace::atomic_done("load", self.1, v as i64, v as i64, Access::read(self));
                v
            }
            /// `store`.
            pub fn store(&self, v: $t, o: Ordering) {
                trace::atomic("store", self.1);
                self.0.store(v, o);
                trace::atomic_done("store", self.1, v as i64, v as i64, Access::write(self));
            }
            /// `fetch_add`.
            pub fn fetch_add(&self, v: $t, o: Ordering) -> $t {
                trace::atomic("fetch_add", self.1);
                let old = self.0.fetch_add(v, o);
                trace::atomic_done(
                    "fetch_add",
                    self.1,
                    old as i64,
                    old.wrapping_add(v) as i64,
                    Access::write(self),
                );
                old
            }
            /// `fetch_sub`.
            pub fn fetch_sub(&self, v: $t, o: Ordering) -> $t {
                trace::atomic("fetch_sub", self.1);
                let old = self.0.fetch_sub(v, o);
                trace::atomic_done(
                    "fetch_sub",
                    self.1,
                    old as i64,
                    old.wrapping_sub(v) as i64,
                    Access::write(self),
                );
                old
            }
            /// `fetch_or`.
            pub fn fetch_or(&self, v: $t, o: Ordering) -> $t {
                trace::atomic("fetch_or", self.1);
                let old = self.0.fetch_or(v, o);
                trace::atomic_done(
                    "fetch_or",
                    self.1,
                    old as i64,
                    (old | v) as i64,
                    Access::write(self),
                );
                old
            }
            /// `fetch_and`.
            pub fn fetch_and(&self, v: $t, o: Ordering) -> $t {
                trace::atomic("fetch_and", self.1);
                let old = self.0.fetch_and(v, o);
                trace::atomic_done(
                    "fetch_and",
                    self.1,
                    old as i64,
                    (old & v) as i64,
                    Access::write(self),
                );
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
                trace::atomic("cmpxchg", self.1);
                let r = self.0.compare_exchange(current, new, s, f);
                match r {
                    Ok(old) => {
                        let w = Access::write(self);
                        trace::atomic_done("cmpxchg", self.1, old as i64, new as i64, w)
                    }
                    // A failed compare-exchange only reads.
                    Err(old) => {
                        let r = Access::read(self);
                        trace::atomic_done("cmpxchg", self.1, old as i64, old as i64, r)
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
