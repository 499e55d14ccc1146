//! RCU and preemption: read-side critical sections, `preempt_disable` regions (spinning locks
//! and `try_module_get`'s), `synchronize_rcu`, `synchronize_sched`, `call_rcu`, and the pointer
//! accessors `rcu_dereference_check` (with PROVE_RCU's check) and `rcu_assign_pointer`.
//!
//! Two flavours ([`RcuFlavour`]), as v2.6.34's Kconfig offers them:
//! - classic (`CONFIG_TREE_RCU`, the default): `rcu_read_lock` is `preempt_disable`, so a grace
//!   period waits for every region with preemption disabled: RCU readers, but also every holder
//!   of a spinning lock, and `stop_machine` waits for them all;
//! - preemptible (`CONFIG_TREE_PREEMPT_RCU`): RCU readers can be preempted, so
//!   `synchronize_rcu` waits for readers only, and `synchronize_sched` and `stop_machine` for
//!   preempt-disabled regions only, not for RCU readers.
//!
//! A grace period is a reader-writer lock per thread: every preempt-disabled region holds its
//! thread's `sched_gp` for reading from its outermost `preempt_disable` to its last
//! `preempt_enable` (with classic RCU, readers are such regions); with preemptible RCU every
//! reader holds its thread's `rcu_gp` for reading. A grace period takes every other thread's lock
//! for writing and releases it at once, so it waits until every region open when it started has
//! closed (one lock per thread, so that regions of different threads do not depend on each
//! other), and the release-acquire pairs of the lock give the
//! ordering the kernel's grace period gives (a reader's accesses before the updater's next ones,
//! the updater's earlier ones before a later reader's). A region that starts while a grace period
//! waits may wait for it to end: that only delays a reader which could not see what the grace
//! period is for anyway. Each region costs the checkers two steps, and a grace period one per
//! other thread of the scenario that has not retired ([`Rcu::retire`]).
//!
//! `call_rcu` queues the callback on the calling thread; the thread runs its callbacks after a
//! grace period at its next quiescent point (the end of its current top-level operation).
//!
//! Two preemption models ([`Preemption`]): with full preemption (`CONFIG_PREEMPT`, the
//! default) kernel code outside preempt-disabled regions is preemptible; with none
//! (`CONFIG_PREEMPT_NONE`) a thread in the kernel leaves its CPU only where it sleeps: it holds
//! its `sched_gp` for reading from its entry into the kernel ([`Rcu::kernel_entry`]) to its
//! return ([`Rcu::kernel_exit`]), and lets go of it only around a wait that blocks
//! ([`Rcu::sleep`]). The model's threads are CPUs, so the interleavings are the same under both;
//! what changes is what a grace period of preempt-disabled regions, and so a stop, waits for.
//!
//! A stop of every thread (`stop_machine`) waits as a grace period of preempt-disabled regions
//! does, and under loom also takes every thread's stop lock, which lookups of memory freed after
//! a stop hold for their step ([`Rcu::stop_ordered`]). The file is long because grace periods,
//! preemption and stops are one mechanism here, the per-thread locks they all take.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use super::arena::Handle;
use super::atomic::AtomicUsize;
use super::cx::{Cx, Func, RcuCallback};
use super::report::{Violation, ViolationKind};
use super::sync::{self, Ordering};
use super::trace::{self, Access, What};

/// `rcu_dereference_raw(p)`: loads an RCU-published pointer, checking nothing. The kernel orders
/// it by the address dependency (`smp_read_barrier_depends`); C11 has no dependency ordering, so
/// it is an acquire load here, the usual approximation of `memory_order_consume`. The kernel
/// layer uses it where the model publishes a pointer the kernel does not read with
/// `rcu_dereference` (a module's memory, `current`); every kernel `rcu_dereference` is
/// [`rcu_dereference_check`].
pub fn rcu_dereference_raw<T>(p: &AtomicUsize) -> Option<Handle<T>> {
    Handle::from_raw(p.load(Ordering::Acquire))
}

/// One term of an `rcu_dereference_check` condition: what makes the dereference safe.
#[derive(Clone, Copy)]
pub enum Protection<'a> {
    /// `rcu_read_lock_held()`: inside `rcu_read_lock` (lockdep's `rcu_lock_map`). A spinning
    /// lock or `preempt_disable` does not count, even where classic RCU's readers are exactly
    /// such regions.
    ReadLock,
    /// `lockdep_is_held(lock)`: `lock` held by this thread, in any mode.
    Held(&'a dyn super::lockdep::Lockdep),
    /// Another term, already evaluated (`atomic_read(&files->count) == 1`).
    Holds(bool),
}

/// An `rcu_dereference_check` call site: where it is and its condition as the source spells it
/// (the kernel layer names the kernel's).
#[derive(Clone, Copy, Debug)]
pub struct DerefSite {
    /// `file:line` of the `rcu_dereference_check`.
    pub at: &'static str,
    /// The checked expression and its condition, as written there.
    pub text: &'static str,
}

/// `rcu_dereference_check(p, c)` under `CONFIG_PROVE_RCU`: [`rcu_dereference_raw`], after
/// checking that one of the terms `cond` holds. None holding is lockdep's "suspicious
/// rcu_dereference_check() usage", a `suspicious-rcu-usage` BUG naming `site`. A plain
/// `rcu_dereference(p)` is the condition `[Protection::ReadLock]`. With lockdep off (loom only)
/// nothing is checked, as `debug_lockdep_rcu_enabled()` is false without `debug_locks`.
pub fn rcu_dereference_check<T>(
    cx: &Cx,
    p: &AtomicUsize,
    site: &DerefSite,
    cond: &[Protection<'_>],
) -> Option<Handle<T>> {
    check_protected(cx, site, cond);
    rcu_dereference_raw(p)
}

/// The check half of [`rcu_dereference_check`], for a dereference the model makes in more than
/// one load (`task->cgroups->subsys[id]`).
pub fn check_protected(cx: &Cx, site: &DerefSite, cond: &[Protection<'_>]) {
    if super::lockdep::debug_checks(cx) && !cond.iter().any(|c| holds(cx, c)) {
        cx.sink.fail(Violation::new(
            ViolationKind::Bug,
            "suspicious-rcu-usage",
            format!(
                "{} invoked rcu_dereference_check() without protection ({}) at {}",
                site.at,
                site.text,
                cx.whereabouts()
            ),
        ));
    }
}

fn holds(cx: &Cx, c: &Protection<'_>) -> bool {
    match c {
        Protection::ReadLock => cx.rcu_read_lock_held(),
        Protection::Held(l) => l.held(cx),
        Protection::Holds(b) => *b,
    }
}

/// `rcu_assign_pointer(p, v)`: publishes a pointer (`smp_wmb` then the store: a release store).
pub fn rcu_assign_pointer<T>(p: &AtomicUsize, v: Option<Handle<T>>) {
    p.store(Handle::to_raw(v), Ordering::Release)
}

/// The RCU implementation the kernel is built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, strum::Display, strum::EnumString)]
#[strum(serialize_all = "lowercase")]
pub enum RcuFlavour {
    /// `CONFIG_TREE_RCU` (v2.6.34's default): readers disable preemption.
    #[default]
    Classic,
    /// `CONFIG_TREE_PREEMPT_RCU`: readers can be preempted.
    Preempt,
}

/// The preemption model the kernel is built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, strum::Display, strum::EnumString)]
#[strum(serialize_all = "lowercase")]
pub enum Preemption {
    /// `CONFIG_PREEMPT`: kernel code is preemptible outside preempt-disabled regions.
    #[default]
    Full,
    /// `CONFIG_PREEMPT_NONE`: kernel code leaves its CPU only where it sleeps (a lock it must
    /// wait for, a grace period, a stop, a yield); `cond_resched` and the reclaim path of an
    /// allocation are sleep points the model does not have.
    None,
}

/// The kernel functions RCU's steps are recorded in (the kernel layer's anchors).
#[derive(Clone, Copy, Debug)]
pub struct RcuFuncs {
    /// `rcu_read_lock`.
    pub read_lock: &'static Func,
    /// `rcu_read_unlock`.
    pub read_unlock: &'static Func,
    /// `synchronize_rcu`.
    pub synchronize: &'static Func,
    /// `synchronize_sched`.
    pub synchronize_sched: &'static Func,
}

/// The RCU state of one kernel.
pub struct Rcu {
    flavour: RcuFlavour,
    preemption: Preemption,
    sched_gp: Vec<sync::RwLock<()>>,
    rcu_gp: Vec<sync::RwLock<()>>,
    stop_gp: Vec<sync::RwLock<()>>,
    funcs: RcuFuncs,
    /// Threads that run no more kernel code ([`Rcu::retire`]), out of band.
    retired: std::sync::Mutex<Vec<usize>>,
}

/// A region's hold on a grace-period lock. The lock lives in the [`Rcu`] the holder's context
/// keeps an `Arc` of, so it outlives every hold (see [`Hold::new`]).
pub(crate) struct Hold {
    /// Held for its drop: releasing it lets a waiting grace period go.
    _guard: sync::RwLockReadGuard<'static, ()>,
    /// The lock's identity, for the step that releases it.
    lock: u64,
}

impl Hold {
    /// Holds `lock` for reading, as a step named `op` of the lock `name` in the trace.
    fn new(lock: &sync::RwLock<()>, name: &'static str, op: &'static str) -> Hold {
        let what = What::Lock {
            lock: name.into(),
            op,
        };
        let g = trace::step(what, Access::read(lock), || {
            lock.read().unwrap_or_else(|e| e.into_inner())
        });
        // SAFETY: the guard borrows a lock inside an `Rcu` that every context holding a `Hold`
        // keeps alive through its `Arc<Rcu>` (`Cx::rcu`, `PreemptDisabled::rcu`), and a `Hold`
        // never leaves its thread's context: it is dropped (at the region's end, or with the
        // context) before that `Arc` is.
        Hold {
            lock: Access::id(lock),
            _guard: unsafe {
                std::mem::transmute::<
                    sync::RwLockReadGuard<'_, ()>,
                    sync::RwLockReadGuard<'static, ()>,
                >(g)
            },
        }
    }
}

/// A thread's open region: its nesting depth, how many of its entries grace periods wait for,
/// and the hold the first of those took.
#[derive(Default)]
pub(crate) struct Region {
    depth: Cell<u32>,
    tracked: Cell<u32>,
    hold: RefCell<Option<Hold>>,
}

impl Region {
    /// The depth.
    pub(crate) fn depth(&self) -> u32 {
        self.depth.get()
    }

    fn enter(&self, tracked: bool, hold: impl FnOnce() -> Option<Hold>) {
        self.depth.set(self.depth.get() + 1);
        if tracked {
            let n = self.tracked.get();
            if n == 0 {
                *self.hold.borrow_mut() = hold();
            }
            self.tracked.set(n + 1);
        }
    }

    fn leave(&self, tracked: bool, name: &'static str, op: &'static str) {
        self.depth.set(self.depth.get() - 1);
        if !tracked {
            return;
        }
        let n = self.tracked.get() - 1;
        self.tracked.set(n);
        if n == 0 {
            let h = self.hold.borrow_mut().take();
            let access = h.as_ref().map_or(Access::Local, |h| Access::Read(h.lock));
            trace::step(
                What::Lock {
                    lock: name.into(),
                    op,
                },
                access,
                || drop(h),
            );
        }
    }
}

/// Preemption disabled until dropped: what a spinning lock's guard holds.
pub struct PreemptDisabled {
    _rcu: Arc<Rcu>,
    region: Rc<Region>,
    tracked: bool,
}

impl PreemptDisabled {
    /// `preempt_disable` on behalf of `cx`, undone on drop. An untracked region (a spinning lock
    /// whose holders touch nothing that is freed after a grace period) still forbids sleeping,
    /// but grace periods do not wait for it: waiting could change no outcome, and not waiting
    /// saves the checkers a dependency per region.
    pub fn new(rcu: Arc<Rcu>, cx: &Cx, tracked: bool) -> Self {
        cx.note_preempt_site();
        cx.preempt.enter(tracked, || rcu.preempt_hold(cx));
        PreemptDisabled {
            _rcu: rcu,
            region: cx.preempt.clone(),
            tracked,
        }
    }
}

impl Drop for PreemptDisabled {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.region.leave(self.tracked, "preempt", "preempt_enable");
        }
    }
}

/// A lookup ordered with every stop ([`Rcu::stop_ordered`]); the stop lock is released on drop.
pub struct StopOrdered(#[allow(dead_code)] Hold);

/// An RCU read-side critical section; `rcu_read_unlock` on drop.
#[must_use]
pub struct RcuReadGuard<'a> {
    rcu: &'a Rcu,
    cx: &'a Cx,
}

impl Drop for RcuReadGuard<'_> {
    fn drop(&mut self) {
        let _f = self.cx.enter(self.rcu.funcs.read_unlock);
        self.cx.rcu_lock_map.set(self.cx.rcu_lock_map.get() - 1);
        match self.rcu.flavour {
            RcuFlavour::Classic => self.rcu.preempt_enable(self.cx),
            RcuFlavour::Preempt => self.cx.rcu_reader.leave(true, "rcu", "rcu_read_unlock"),
        }
    }
}

impl Rcu {
    /// RCU of `flavour` for up to `threads` model threads, its steps recorded in `funcs`.
    pub fn new(
        threads: usize,
        flavour: RcuFlavour,
        preemption: Preemption,
        funcs: RcuFuncs,
    ) -> Self {
        let locks = || (0..threads).map(|_| sync::RwLock::new(())).collect();
        Self {
            flavour,
            preemption,
            sched_gp: locks(),
            rcu_gp: locks(),
            stop_gp: locks(),
            funcs,
            retired: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Thread `tid` runs no more kernel code (the setup thread, once it has spawned the
    /// scenario's threads): grace periods stop waiting on its slot. It is quiescent from now on,
    /// as an idle CPU is to the kernel's grace period, and everything it did is already ordered
    /// before every later step by the spawn. Waiting on its slot would only make two grace
    /// periods of other threads conflict on it, an order no kernel has. Call it before the
    /// threads that could wait on it start.
    pub fn retire(&self, tid: usize) {
        self.retired
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(tid);
    }

    /// The flavour.
    pub fn flavour(&self) -> RcuFlavour {
        self.flavour
    }

    /// The preemption model.
    pub fn preemption(&self) -> Preemption {
        self.preemption
    }

    /// The hold the outermost `preempt_disable` takes: none while the thread's kernel code
    /// already holds its lock (no preemption: the region is inside a longer one).
    fn preempt_hold(&self, cx: &Cx) -> Option<Hold> {
        if cx.nonpreemptible() {
            return None;
        }
        Some(Hold::new(
            &self.sched_gp[cx.tid],
            "preempt",
            "preempt_disable",
        ))
    }

    /// `preempt_disable`: the outermost one holds `sched_gp` for reading.
    pub fn preempt_disable(&self, cx: &Cx) {
        cx.note_preempt_site();
        cx.preempt.enter(true, || self.preempt_hold(cx));
    }

    /// The thread enters the kernel (a system call). With no kernel preemption it holds its
    /// `sched_gp` for reading until it sleeps or returns; with full preemption, nothing.
    pub fn kernel_entry(&self, cx: &Cx) {
        if self.preemption == Preemption::None && !cx.nonpreemptible() {
            let h = Hold::new(&self.sched_gp[cx.tid], "sched", "kernel_entry");
            *cx.nonpreempt.borrow_mut() = Some(h);
        }
    }

    /// The thread returns to user space: it lets go of what [`Rcu::kernel_entry`] took.
    pub fn kernel_exit(&self, cx: &Cx) {
        let h = cx.nonpreempt.borrow_mut().take();
        if let Some(h) = h {
            let access = Access::Read(h.lock);
            trace::step(
                What::Lock {
                    lock: "sched".into(),
                    op: "kernel_exit",
                },
                access,
                || drop(h),
            );
        }
    }

    /// Runs `wait`, a wait that blocks the thread. With no kernel preemption the thread
    /// schedules: it lets go of its `sched_gp` for the wait (a grace period or a stop may then
    /// pass it) and takes it again once woken. With full preemption it only runs `wait`.
    pub fn sleep<R>(&self, cx: &Cx, wait: impl FnOnce() -> R) -> R {
        if !cx.nonpreemptible() {
            return wait();
        }
        self.kernel_exit(cx);
        let r = wait();
        let h = Hold::new(&self.sched_gp[cx.tid], "sched", "schedule_return");
        *cx.nonpreempt.borrow_mut() = Some(h);
        r
    }

    /// `preempt_enable`.
    pub fn preempt_enable(&self, cx: &Cx) {
        cx.preempt.leave(true, "preempt", "preempt_enable");
    }

    /// `rcu_read_lock`: `preempt_disable` for classic RCU; a hold on `rcu_gp` for preemptible
    /// RCU.
    pub fn read_lock<'a>(&'a self, cx: &'a Cx) -> RcuReadGuard<'a> {
        if cx.rcu_lock_map.get() == 0 {
            // The caller's line, before the frame of rcu_read_lock itself.
            let (_, preempt) = cx.atomic_sites.get();
            cx.atomic_sites.set((cx.site(), preempt));
        }
        let _f = cx.enter(self.funcs.read_lock);
        match self.flavour {
            RcuFlavour::Classic => self.preempt_disable(cx),
            RcuFlavour::Preempt => cx.rcu_reader.enter(true, || {
                Some(Hold::new(&self.rcu_gp[cx.tid], "rcu", "rcu_read_lock"))
            }),
        }
        cx.rcu_lock_map.set(cx.rcu_lock_map.get() + 1);
        RcuReadGuard { rcu: self, cx }
    }

    /// Whether `cx` is inside an RCU read-side critical section.
    pub fn in_read(&self, cx: &Cx) -> bool {
        match self.flavour {
            RcuFlavour::Classic => cx.preempt.depth() > 0,
            RcuFlavour::Preempt => cx.rcu_reader.depth() > 0,
        }
    }

    /// Waits for every other thread's region open when it starts: takes each thread's lock for
    /// writing and releases it.
    fn wait(&self, locks: &[sync::RwLock<()>], name: &'static str, cx: &Cx) {
        // A grace period is a full memory barrier for its caller: what the caller has read
        // (a relaxed load of a count that another thread's RMW released, say) happens before
        // every reader that starts after the grace period.
        sync::fence(sync::Ordering::SeqCst);
        let retired = self
            .retired
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        self.sleep(cx, || {
            for (t, lock) in locks.iter().enumerate() {
                if t == cx.tid || retired.contains(&t) {
                    continue;
                }
                let what = What::Lock {
                    lock: name.into(),
                    op: "grace_period",
                };
                trace::step(what, Access::write(lock), || {
                    drop(lock.write().unwrap_or_else(|e| e.into_inner()))
                });
            }
        });
    }

    /// `synchronize_rcu`: waits for every pre-existing reader (classic: every pre-existing
    /// preempt-disabled region). It sleeps: calling it with preemption disabled or inside a
    /// reader is a BUG.
    pub fn synchronize(&self, cx: &Cx) {
        let _f = cx.enter(self.funcs.synchronize);
        cx.might_sleep("synchronize_rcu", true);
        match self.flavour {
            RcuFlavour::Classic => self.wait(&self.sched_gp, "preempt", cx),
            RcuFlavour::Preempt => self.wait(&self.rcu_gp, "rcu", cx),
        }
    }

    /// `synchronize_sched`: waits for every pre-existing preempt-disabled region (classic: the
    /// readers are such regions).
    pub fn synchronize_sched(&self, cx: &Cx) {
        let _f = cx.enter(self.funcs.synchronize_sched);
        cx.might_sleep("synchronize_sched", true);
        self.wait(&self.sched_gp, "preempt", cx);
    }

    /// What `stop_machine` waits for before it runs its function: every CPU to leave its
    /// preempt-disabled region (not a preemptible RCU reader). The caller then holds its
    /// exclusion against `try_module_get` (the kernel's `stop_machine` lock).
    ///
    /// Under loom it also takes every other thread's stop lock for writing and releases it, so
    /// that every access made at a [`Rcu::stop_ordered`] point is ordered with the stop: before
    /// it if made before, after it if made after, as every CPU's stopper orders what that CPU
    /// did. The other backends detect no data race, and the stop's ordering changes no outcome
    /// they can see.
    pub fn stop_machine_wait(&self, cx: &Cx) {
        cx.might_sleep("stop_machine", true);
        self.wait(&self.sched_gp, "preempt", cx);
        if cfg!(backend_loom) {
            self.wait(&self.stop_gp, "stop", cx);
        }
    }

    /// An access ordered with every stop (`stop_machine`): under loom, this thread's stop lock
    /// held for reading until the guard drops; `None` elsewhere. Lookups of memory freed right
    /// after a stop (a module's) take one, so that an access made before the stop happens
    /// before the free, as it does in the kernel, and one made after it races with the free. A
    /// stop between the lookup of a pointer and the lookup through it is explored, as the
    /// kernel's stopper can preempt there. The guard covers the lookup only, not the use.
    pub fn stop_ordered(&self, cx: &Cx) -> Option<StopOrdered> {
        if !cfg!(backend_loom) {
            return None;
        }
        Some(StopOrdered(Hold::new(
            &self.stop_gp[cx.tid],
            "stop",
            "stop_ordered",
        )))
    }

    /// `call_rcu(head, func)`: queues `f` (named `what` in reports, e.g. `free_css_set_rcu`) to
    /// run after a grace period, with the state `K` it was queued against (see the module docs).
    pub fn call_rcu<K: Any>(
        &self,
        cx: &Cx,
        what: &'static Func,
        f: impl FnOnce(&K, &Cx) + 'static,
    ) {
        let cb: RcuCallback =
            Box::new(
                move |state: &dyn Any, cx: &Cx| match state.downcast_ref::<K>() {
                    Some(k) => f(k, cx),
                    None => panic!("call_rcu callback {} run against another state", what.name),
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
