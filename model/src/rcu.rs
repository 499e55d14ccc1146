//! RCU: read-side critical sections, `synchronize_rcu` and `call_rcu`.
//!
//! Each model thread has one reader word: `2 * sections + (1 if inside a section)`.
//! `rcu_read_lock` makes it odd, `rcu_read_unlock` even again. `synchronize_rcu` snapshots every
//! other thread's word and waits until each odd one has changed, i.e. until every reader that was
//! inside a section when the grace period started has left it. The fences are there because loom
//! models SeqCst accesses as AcqRel (design.md 1b, pitfall 5). Waiting is a `yield_now` loop,
//! which adds no reader-updater ordering that real RCU lacks.
//!
//! `call_rcu` queues the callback on the calling thread; the thread runs its callbacks after a
//! grace period at its next quiescent point (the end of its current top-level operation).

use crate::cx::{Cx, RcuCallback};
use crate::report::{Violation, ViolationKind};
use crate::sync::{self, fence, AtomicU64, Ordering};

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

    /// `call_rcu`: queues `f` to run after a grace period (see the module docs).
    pub fn call_rcu(&self, cx: &Cx, what: &'static str, f: RcuCallback) {
        cx.rcu_pending.borrow_mut().push((what, f));
    }

    /// Whether the calling thread has callbacks waiting for a grace period.
    pub fn has_pending(&self, cx: &Cx) -> bool {
        !cx.rcu_pending.borrow().is_empty()
    }

    /// Takes the calling thread's pending callbacks (the caller waits a grace period, then runs them).
    pub fn take_pending(&self, cx: &Cx) -> Vec<(&'static str, RcuCallback)> {
        std::mem::take(&mut *cx.rcu_pending.borrow_mut())
    }
}
