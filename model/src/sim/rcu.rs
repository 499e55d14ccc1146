//! RCU: read-side critical sections, `synchronize_rcu`, `call_rcu`, and the pointer accessors
//! `rcu_dereference` and `rcu_assign_pointer`.
//!
//! Each model thread has one reader word: `2 * sections + (1 if inside a section)`.
//! `rcu_read_lock` makes it odd, `rcu_read_unlock` even again. `synchronize_rcu` snapshots every
//! other thread's word and waits until each odd one has changed, i.e. until every reader that was
//! inside a section when the grace period started has left it. The fences are there because loom
//! models SeqCst accesses as AcqRel: without them a reader's store to its word and its later
//! loads could be reordered around the updater's snapshot. Waiting is a `yield_now` loop,
//! which adds no reader-updater ordering that real RCU lacks.
//!
//! `call_rcu` queues the callback on the calling thread; the thread runs its callbacks after a
//! grace period at its next quiescent point (the end of its current top-level operation).

use std::any::Any;

use super::arena::Handle;
use super::atomic::{AtomicU64, AtomicUsize};
use super::cx::{Cx, RcuCallback};
use super::report::{Violation, ViolationKind};
use super::sync::{self, fence, Ordering};

/// `rcu_dereference(p)`: loads an RCU-published pointer (an acquire load of the handle word).
pub fn rcu_dereference<T>(p: &AtomicUsize) -> Option<Handle<T>> {
    Handle::from_raw(p.load(Ordering::Acquire))
}

/// `rcu_assign_pointer(p, v)`: publishes a pointer (a release store of the handle word).
pub fn rcu_assign_pointer<T>(p: &AtomicUsize, v: Option<Handle<T>>) {
    p.store(Handle::to_raw(v), Ordering::Release)
}

/// The RCU state of one kernel.
pub struct Rcu {
    readers: Vec<AtomicU64>,
}

/// An RCU read-side critical section; `rcu_read_unlock` on drop.
#[must_use]
pub struct RcuReadGuard<'a> {
    rcu: &'a Rcu,
    cx: &'a Cx,
}

impl Drop for RcuReadGuard<'_> {
    fn drop(&mut self) {
        let _f = self.cx.enter("rcu_read_unlock");
        let n = self.cx.rcu_nesting.get() - 1;
        self.cx.rcu_nesting.set(n);
        if n == 0 {
            let w = &self.rcu.readers[self.cx.tid];
            let v = w.load(Ordering::Relaxed);
            w.store(v + 1, Ordering::SeqCst);
        }
    }
}

impl Rcu {
    /// RCU for up to `threads` model threads.
    pub fn new(threads: usize) -> Self {
        Self {
            readers: (0..threads)
                .map(|_| AtomicU64::named(0, "rcu.reader"))
                .collect(),
        }
    }

    /// `rcu_read_lock`.
    pub fn read_lock<'a>(&'a self, cx: &'a Cx) -> RcuReadGuard<'a> {
        let _f = cx.enter("rcu_read_lock");
        let n = cx.rcu_nesting.get();
        if n == 0 {
            let w = &self.readers[cx.tid];
            let v = w.load(Ordering::Relaxed);
            w.store(v + 1, Ordering::SeqCst);
            fence(Ordering::SeqCst);
        }
        cx.rcu_nesting.set(n + 1);
        RcuReadGuard { rcu: self, cx }
    }

    /// `synchronize_rcu`: waits for every pre-existing reader. Calling it inside a read-side
    /// section is a BUG (it would wait for itself).
    pub fn synchronize(&self, cx: &Cx) {
        let _f = cx.enter("synchronize_rcu");
        if cx.in_rcu_read() {
            cx.sink.fail(Violation::new(
                ViolationKind::Bug,
                "synchronize_rcu-in-read-section",
                format!(
                    "synchronize_rcu inside rcu_read_lock at {}",
                    cx.whereabouts()
                ),
            ));
        }
        fence(Ordering::SeqCst);
        for (t, w) in self.readers.iter().enumerate() {
            if t == cx.tid {
                continue;
            }
            let snap = w.load(Ordering::SeqCst);
            if snap % 2 == 1 {
                while w.load(Ordering::SeqCst) == snap {
                    sync::yield_now();
                }
            }
        }
        fence(Ordering::SeqCst);
    }

    /// `call_rcu(head, func)`: queues `f` (named `what` in reports, e.g. `free_css_set_rcu`) to
    /// run after a grace period, with the state `K` it was queued against (see the module docs).
    pub fn call_rcu<K: Any>(&self, cx: &Cx, what: &'static str, f: impl FnOnce(&K, &Cx) + 'static) {
        let cb: RcuCallback =
            Box::new(
                move |state: &dyn Any, cx: &Cx| match state.downcast_ref::<K>() {
                    Some(k) => f(k, cx),
                    None => panic!("call_rcu callback {what} run against another state"),
                },
            );
        cx.rcu_pending.borrow_mut().push((what, cb));
    }

    /// The calling thread's quiescent point: if it queued callbacks, waits for a grace period and
    /// runs them, each inside a frame named after it, against `state`.
    pub fn run_callbacks<K: Any>(&self, state: &K, cx: &Cx) {
        if cx.rcu_pending.borrow().is_empty() {
            return;
        }
        self.synchronize(cx);
        let pending = std::mem::take(&mut *cx.rcu_pending.borrow_mut());
        for (what, cb) in pending {
            let _f = cx.enter(what);
            cb(state, cx);
        }
    }
}
