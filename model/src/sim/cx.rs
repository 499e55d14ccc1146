//! The per-thread execution context: who is running (thread id and role), in which kernel
//! function, with which RCU nesting and pending callbacks, and which allocation a scenario chose
//! to fail. One `Cx` per model thread; it is never shared, so it needs no synchronization.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use super::report::Sink;

/// A deferred RCU callback (`call_rcu`): runs after a grace period, on the thread that queued it,
/// against the state it was queued for ([`super::rcu::Rcu::call_rcu`] types it). It runs on the
/// queuing thread because work handed to another thread through an out-of-band queue would carry
/// no happens-before edge the checkers can see.
pub type RcuCallback = Box<dyn FnOnce(&dyn std::any::Any, &Cx)>;

/// Per-thread context. Every modelled kernel function takes `(&Kernel, &Cx)`.
pub struct Cx {
    /// Model thread index (0 is the main/setup thread).
    pub tid: usize,
    /// Human-readable role, e.g. `rmmod net_cls` or `fork of T1`.
    pub role: RefCell<String>,
    /// Where violations are reported.
    pub sink: Arc<Sink>,
    /// Whether lockdep assertions are enforced (always under the std backend).
    pub lockdep: bool,
    frames: std::rc::Rc<RefCell<Vec<&'static str>>>,
    pub(crate) rcu_nesting: Cell<u32>,
    pub(crate) rcu_pending: RefCell<Vec<(&'static str, RcuCallback)>>,
    allocs: Cell<u32>,
    fail_alloc: Cell<Option<u32>>,
}

impl std::fmt::Debug for Cx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cx(T{} {})", self.tid, self.role.borrow())
    }
}

/// Pops a kernel-function frame when dropped.
#[must_use]
pub struct Frame<'a>(&'a Cx);

impl Drop for Frame<'_> {
    fn drop(&mut self) {
        self.0.frames.borrow_mut().pop();
    }
}

impl Cx {
    /// A context for model thread `tid` reporting to `sink`.
    pub fn new(tid: usize, role: impl Into<String>, sink: Arc<Sink>, lockdep: bool) -> Self {
        Self {
            tid,
            role: RefCell::new(role.into()),
            sink,
            lockdep: lockdep || !super::sync::MODEL_CHECKED,
            frames: std::rc::Rc::new(RefCell::new(Vec::new())),
            rcu_nesting: Cell::new(0),
            rcu_pending: RefCell::new(Vec::new()),
            allocs: Cell::new(0),
            fail_alloc: Cell::new(None),
        }
    }

    /// Makes this thread record its steps into the sink's trace (and follow its turnstile when
    /// replaying). Called on the thread that will use this context.
    pub fn install_trace(&self) {
        super::trace::install(
            self.tid,
            self.sink.trace.clone(),
            self.sink.turnstile.clone(),
            self.frames.clone(),
        );
    }

    /// Enters kernel function `name` (for reports); the frame pops when the guard drops.
    pub fn enter(&self, name: &'static str) -> Frame<'_> {
        self.frames.borrow_mut().push(name);
        Frame(self)
    }

    /// The innermost kernel function.
    pub fn func(&self) -> &'static str {
        self.frames.borrow().last().copied().unwrap_or("-")
    }

    /// Thread, role and call chain: `T2 (attach T1 m0/a) in cgroup_attach_task > find_css_set`.
    pub fn whereabouts(&self) -> String {
        let frames = self.frames.borrow();
        let chain = if frames.is_empty() {
            "-".to_string()
        } else {
            frames.join(" > ")
        };
        format!("T{} ({}) in {}", self.tid, self.role.borrow(), chain)
    }

    /// Starts a new top-level operation: resets the allocation counter and the injected failure.
    pub fn begin_op(&self, role: String, fail_alloc: Option<u32>) {
        *self.role.borrow_mut() = role;
        self.allocs.set(0);
        self.fail_alloc.set(fail_alloc);
    }

    /// `kmalloc` succeeds? Counts allocations in the current operation; the scenario may choose
    /// the n-th (1-based) to fail, which is how every -ENOMEM path is made reachable.
    pub fn kmalloc_ok(&self) -> bool {
        let n = self.allocs.get() + 1;
        self.allocs.set(n);
        self.fail_alloc.get() != Some(n)
    }

    /// Whether this thread is inside an RCU read-side critical section.
    pub fn in_rcu_read(&self) -> bool {
        self.rcu_nesting.get() > 0
    }
}
