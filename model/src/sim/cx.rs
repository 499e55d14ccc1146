//! The per-thread execution context: who is running (thread id and role), in which kernel
//! function, with which RCU nesting and pending callbacks, and which allocation a scenario chose
//! to fail. One `Cx` per model thread; it is never shared, so it needs no synchronization.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use super::report::Sink;
use super::trace::Site;

/// A kernel function the model mirrors, as the anchor map names it: its name, its file and its
/// first line (the kernel layer has one per function, `kernel::anchors::kfn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Func {
    /// The kernel function's name.
    pub name: &'static str,
    /// Its file in the kernel tree.
    pub file: &'static str,
    /// Its first line.
    pub line: u32,
    /// Its last line.
    pub end: u32,
}

/// A deferred RCU callback (`call_rcu`): runs after a grace period, on the thread that queued it,
/// against the state it was queued for ([`super::rcu::Rcu::call_rcu`] types it). It runs on the
/// queuing thread because work handed to another thread through an out-of-band queue would carry
/// no happens-before edge the checkers can see.
pub type RcuCallback = Box<dyn FnOnce(&dyn std::any::Any, &Cx)>;

/// How an allocation may wait for memory: the flags' name, and whether it may sleep (the
/// kernel layer defines the kernel's, `GFP_KERNEL` and the others).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocFlags {
    /// The flags as the kernel spells them.
    pub name: &'static str,
    /// Whether the allocation may sleep (to reclaim memory).
    pub may_sleep: bool,
}

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
    frames: std::rc::Rc<RefCell<Vec<Site>>>,
    bounds: RefCell<Vec<(u32, u32)>>,
    // The holds drop before `rcu`, whose locks they borrow (see `rcu::Hold`).
    pub(crate) rcu_reader: super::rcu::Region,
    pub(crate) preempt: std::rc::Rc<super::rcu::Region>,
    /// With no kernel preemption: the hold this thread's kernel code keeps on its grace-period
    /// lock between sleep points ([`super::rcu::Preemption::None`]).
    pub(crate) nonpreempt: RefCell<Option<super::rcu::Hold>>,
    /// The locks this thread holds, for the run's lock graph ([`super::lockdep::LockGraph`]).
    pub(crate) held_locks: RefCell<Vec<super::lockdep::HeldLock>>,
    /// `rcu_read_lock` nesting: lockdep's `rcu_lock_map` ([`Cx::rcu_read_lock_held`]).
    pub(crate) rcu_lock_map: Cell<u32>,
    /// Where the outermost `rcu_read_lock` and the outermost preempt-disabled region began, for
    /// a might_sleep report.
    pub(crate) atomic_sites: Cell<(Site, Site)>,
    /// The current operation's name, shared with the held locks that record it.
    op: RefCell<std::rc::Rc<str>>,
    rcu: Option<Arc<super::rcu::Rcu>>,
    pub(crate) rcu_pending: RefCell<Vec<(&'static Func, RcuCallback)>>,
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
        self.0.bounds.borrow_mut().pop();
    }
}

impl Cx {
    /// A context for model thread `tid` reporting to `sink`, whose spinning locks disable
    /// preemption in `rcu` (None: no RCU, as in tests of the machinery alone).
    pub fn new(
        tid: usize,
        role: impl Into<String>,
        sink: Arc<Sink>,
        lockdep: bool,
        rcu: Option<Arc<super::rcu::Rcu>>,
    ) -> Self {
        Self {
            tid,
            role: RefCell::new(role.into()),
            sink,
            lockdep: lockdep || !super::sync::MODEL_CHECKED,
            frames: std::rc::Rc::new(RefCell::new(Vec::new())),
            bounds: RefCell::new(Vec::new()),
            rcu_reader: Default::default(),
            preempt: Default::default(),
            nonpreempt: RefCell::new(None),
            held_locks: RefCell::new(Vec::new()),
            rcu_lock_map: Cell::new(0),
            atomic_sites: Cell::new((Site::NONE, Site::NONE)),
            op: RefCell::new("".into()),
            rcu,
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

    /// Enters kernel function `f`: its steps are recorded as `f`'s, at its first line until
    /// [`Cx::at`] names another; the frame pops when the guard drops.
    pub fn enter(&self, f: &'static Func) -> Frame<'_> {
        self.frames.borrow_mut().push(Site {
            func: f.name,
            file: f.file,
            line: f.line,
            inserted: false,
        });
        self.bounds.borrow_mut().push((f.line, f.end));
        Frame(self)
    }

    /// Enters `name`, code a design or fault adds to the kernel: its steps are recorded at the
    /// caller's current line, marked as inserted after it (`cgroup.c:1025+`).
    pub fn enter_inserted(&self, name: &'static str) -> Frame<'_> {
        let caller = self.site();
        self.frames.borrow_mut().push(Site {
            func: name,
            inserted: true,
            ..caller
        });
        self.bounds.borrow_mut().push((0, u32::MAX));
        Frame(self)
    }

    /// The statement at `line` of the innermost kernel function: the steps that follow are
    /// recorded at that line. A line outside that function's range in the anchor map is a model
    /// bug (a step attributed to the wrong function), and panics.
    pub fn at(&self, line: u32) {
        if let Some(top) = self.frames.borrow_mut().last_mut() {
            let (start, end) = self
                .bounds
                .borrow()
                .last()
                .copied()
                .unwrap_or((0, u32::MAX));
            assert!(
                (start..=end).contains(&line),
                "model bug: line {line} is outside {} ({}:{start}-{end})",
                top.func,
                top.file
            );
            top.line = line;
        }
    }

    /// The innermost kernel function and line.
    pub fn site(&self) -> Site {
        self.frames.borrow().last().copied().unwrap_or(Site::NONE)
    }

    /// The innermost kernel function.
    pub fn func(&self) -> &'static str {
        self.site().func
    }

    /// Thread, role and call chain: `T2 (attach T1 m0/a) in cgroup_attach_task > find_css_set`.
    pub fn whereabouts(&self) -> String {
        let frames = self.frames.borrow();
        let chain = if frames.is_empty() {
            "-".to_string()
        } else {
            frames
                .iter()
                .map(|f| f.func)
                .collect::<Vec<_>>()
                .join(" > ")
        };
        format!("T{} ({}) in {}", self.tid, self.role.borrow(), chain)
    }

    /// Starts a new top-level operation: resets the allocation counter and the injected failure.
    pub fn begin_op(&self, role: String, fail_alloc: Option<u32>) {
        *self.op.borrow_mut() = role.as_str().into();
        *self.role.borrow_mut() = role;
        self.allocs.set(0);
        self.fail_alloc.set(fail_alloc);
    }

    /// `kmalloc` succeeds? Counts allocations in the current operation; the scenario may choose
    /// the n-th (1-based) to fail, which is how every -ENOMEM path is made reachable. An
    /// allocation whose `flags` may sleep checks its context first, as the allocator's
    /// `might_sleep` does: with preemption disabled (a spinning lock, a classic RCU reader) it
    /// is a `sleeping-in-atomic` BUG.
    pub fn kmalloc_ok(&self, flags: AllocFlags) -> bool {
        if flags.may_sleep {
            self.might_sleep(&format!("kmalloc({})", flags.name), false);
        }
        let n = self.allocs.get() + 1;
        self.allocs.set(n);
        self.fail_alloc.get() != Some(n)
    }

    /// `might_sleep()` before `call`, a call that can sleep: with preemption disabled (a
    /// spinning lock, `preempt_disable`, a classic RCU reader) it is a `sleeping-in-atomic` BUG,
    /// the kernel's "sleeping function called from invalid context", naming the call and the
    /// atomic context (the innermost spinning lock held and where it was taken). With
    /// `rcu_reader_too`, a preemptible RCU reader counts as well: a grace period waited for
    /// inside one waits for itself.
    pub fn might_sleep(&self, call: &str, rcu_reader_too: bool) {
        let reader = rcu_reader_too && self.rcu_reader.depth() > 0;
        if self.preempt.depth() == 0 && !reader {
            return;
        }
        let (rcu, preempt) = self.atomic_sites.get();
        let context = match super::lockdep::innermost_spinning(self) {
            Some(lock) => lock,
            None if self.rcu_read_lock_held() => {
                format!("in rcu_read_lock (taken at {}:{})", rcu.file, rcu.line)
            }
            None => format!("preempt_disable (at {}:{})", preempt.file, preempt.line),
        };
        self.sink.fail(super::report::Violation::new(
            super::report::ViolationKind::Bug,
            "sleeping-in-atomic",
            format!(
                "{call} with preemption disabled, {context} (sleeping function called from invalid context) at {}",
                self.whereabouts()
            ),
        ));
    }

    /// The current top-level operation's name, shared (for what keeps it past the step).
    pub fn op_name(&self) -> std::rc::Rc<str> {
        self.op.borrow().clone()
    }

    /// Whether this thread is inside an RCU read-side critical section or has preemption
    /// disabled (what must not be held at the return to user space).
    pub fn in_atomic(&self) -> bool {
        self.rcu_reader.depth() > 0 || self.preempt.depth() > 0
    }

    /// `preempt_disable` until the token drops (spinning locks hold one); nothing without RCU.
    pub fn preempt_disabled(&self, tracked: bool) -> Option<super::rcu::PreemptDisabled> {
        self.rcu
            .as_ref()
            .map(|r| super::rcu::PreemptDisabled::new(r.clone(), self, tracked))
    }

    /// A point every stop of all threads is ordered with: under loom, this thread's stop lock
    /// held for reading until the guard drops ([`super::rcu::Rcu::stop_ordered`]); nothing on
    /// the other backends, or without RCU.
    pub fn stop_ordered(&self) -> Option<super::rcu::StopOrdered> {
        self.rcu.as_ref().and_then(|r| r.stop_ordered(self))
    }

    /// Runs `wait`, a wait that blocks this thread (it sleeps): with no kernel preemption, the
    /// thread leaves its CPU to others for the wait, so grace periods and stops stop waiting for
    /// it ([`super::rcu::Rcu::sleep`]); nothing else changes.
    pub fn sleep<R>(&self, wait: impl FnOnce() -> R) -> R {
        match &self.rcu {
            Some(r) => r.sleep(self, wait),
            None => wait(),
        }
    }

    /// Whether this thread's kernel code cannot be preempted here: it holds its grace-period
    /// lock until it sleeps ([`super::rcu::Preemption::None`]). A lock that can sleep then tries
    /// first, and sleeps only if it must wait.
    pub fn nonpreemptible(&self) -> bool {
        self.nonpreempt.borrow().is_some()
    }

    /// `rcu_read_lock_held()`: whether this thread is inside `rcu_read_lock` (of either
    /// flavour; a spinning lock or `preempt_disable` alone does not count, as lockdep's
    /// `rcu_lock_map` does not).
    pub fn rcu_read_lock_held(&self) -> bool {
        self.rcu_lock_map.get() > 0
    }

    /// Records where an outermost preempt-disabled region begins (called before it is entered).
    pub(crate) fn note_preempt_site(&self) {
        if self.preempt.depth() == 0 {
            let (rcu, _) = self.atomic_sites.get();
            self.atomic_sites.set((rcu, self.site()));
        }
    }

    /// Whether this thread has preemption disabled (a sleeping lock may not be taken).
    pub fn preempt_count(&self) -> u32 {
        self.preempt.depth()
    }
}
