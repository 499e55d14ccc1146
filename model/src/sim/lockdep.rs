//! Kernel locks as separate objects, with lockdep-style ownership tracking, and the cells that
//! hold lock-protected fields.
//!
//! A lock here is a model primitive (std, loom or shuttle) plus an out-of-band record of which
//! thread holds it. [`LockedBy`] (Rust-for-Linux's name for a field guarded by a lock it does not
//! wrap) is a field protected by one lock: every access names the lock and
//! asserts it is held (for writing, where the kernel requires it), as `lockdep_assert_held` would.
//! Under loom the cell is also a `loom::cell::UnsafeCell`, so an unordered access is reported as a
//! data race even with the assertions off.
//!
//! The file is long because it holds every lock kind and the cells that name their lock.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex as StdMutex};

use super::atomic::AtomicI64;
use super::cx::Cx;
use super::rcu::PreemptDisabled;
use super::report::{Violation, ViolationKind};
use super::sync::{self, Ordering};
use super::trace::{self, Access, What};

/// A `try_lock`'s guard, or None if it would have to wait (a poisoned lock is taken anyway:
/// the panic that poisoned it is already a violation).
fn untried<G>(r: sync::TryLockResult<G>) -> Option<G> {
    match r {
        Ok(g) => Some(g),
        Err(sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
        Err(sync::TryLockError::WouldBlock) => None,
    }
}

/// The acquisition step of a lock named `name` (`op` the step's name, `access` its access,
/// `lock` the blocking acquisition). Where `cx` cannot be preempted
/// ([`Cx::nonpreemptible`]) and the lock sleeps (`sleeping`), it tries first (`try_op`, `try_`)
/// and sleeps only if it must wait, as the kernel's fast path does not sleep.
fn acquire<G>(
    cx: &Cx,
    name: &Arc<str>,
    sleeping: bool,
    (try_op, op): (&'static str, &'static str),
    access: impl Fn() -> Access,
    try_: impl FnOnce() -> sync::TryLockResult<G>,
    lock: impl FnOnce() -> G,
) -> G {
    let what = |op| What::Lock {
        lock: name.clone(),
        op,
    };
    if sleeping && cx.nonpreemptible() {
        if let Some(g) = trace::step(what(try_op), access(), || untried(try_())) {
            return g;
        }
        return cx.sleep(|| trace::step(what(op), access(), lock));
    }
    trace::step(what(op), access(), lock)
}

/// Something lockdep can ask "is it held by this thread?".
pub trait Lockdep {
    /// The lock's kernel name, e.g. `css_set_lock`.
    fn name(&self) -> &str;
    /// Held by `cx` (in any mode).
    fn held(&self, cx: &Cx) -> bool;
    /// Held by `cx` exclusively (a mutex, or an rwlock for writing).
    fn held_write(&self, cx: &Cx) -> bool;
}

fn lockdep_fail(cx: &Cx, what: String) -> ! {
    cx.sink.fail(Violation::new(
        ViolationKind::LockNotHeld,
        "lockdep",
        format!("{what} at {}", cx.whereabouts()),
    ))
}

/// Whether the kernel's debug checks of whole runs are on: the lock graph and PROVE_RCU's
/// conditions (on by default; `cgcheck bench` turns them off to measure what they cost).
static DEBUG_CHECKS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Turns the lock graph and PROVE_RCU's checks on or off for every thread (out of band).
pub fn set_debug_checks(on: bool) {
    DEBUG_CHECKS.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Whether `cx` runs the lock graph and PROVE_RCU's checks: lockdep on, and the checks on.
pub(crate) fn debug_checks(cx: &Cx) -> bool {
    cx.lockdep && DEBUG_CHECKS.load(std::sync::atomic::Ordering::Relaxed)
}

/// What taking a lock does first: a spinning one (`spin`) disables preemption (a tracked region
/// if `rcu`); a sleeping one is `might_sleep` for `op(name)`.
fn preempt_or_might_sleep(
    cx: &Cx,
    spin: bool,
    rcu: bool,
    op: &str,
    name: &str,
) -> Option<PreemptDisabled> {
    if spin {
        cx.preempt_disabled(rcu)
    } else {
        cx.might_sleep(&format!("{op}({name})"), false);
        None
    }
}

fn oob<T>(m: &StdMutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A sleeping or spinning kernel lock (`mutex`, `spinlock_t`): exclusive. A spinning one
/// disables preemption while held (so, with classic RCU, it is an RCU reader); taking a
/// sleeping one with preemption disabled is the kernel's "sleeping function called from invalid
/// context".
pub struct KMutex {
    name: std::sync::Arc<str>,
    /// Its lockdep class ([`class_of`]).
    class: std::sync::Arc<str>,
    inner: sync::Mutex<()>,
    owner: StdMutex<Option<usize>>,
    spin: bool,
    rcu: bool,
}

impl std::fmt::Debug for KMutex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KMutex({})", self.name)
    }
}

/// Holds a [`KMutex`]; unlocks on drop (then enables preemption, for a spinning lock).
pub struct KMutexGuard<'a> {
    m: &'a KMutex,
    cx: &'a Cx,
    _g: sync::MutexGuard<'a, ()>,
    _preempt: Option<PreemptDisabled>,
}

impl Drop for KMutexGuard<'_> {
    fn drop(&mut self) {
        released(self.cx, Access::id(&self.m.inner));
        let what = What::Lock {
            lock: self.m.name.clone(),
            op: "unlock",
        };
        trace::step(what, Access::write(&self.m.inner), || {
            *oob(&self.m.owner) = None
        });
    }
}

/// A lock's class, as lockdep keys it: the lock's name without the instance it names (`i_mutex
/// of /a` is `i_mutex`, `task_lock(T1)` is `task_lock`). Locks of one class are one node of the
/// graph; a subsystem's `hierarchy_mutex` has a class per subsystem, as `lockdep_set_class`
/// gives it (cgroup.c:3584-3585 and 3669-3670 name `ss->subsys_key`).
fn class_of(name: &str) -> &str {
    let name = name.split(" of ").next().unwrap_or(name);
    name.split('(').next().unwrap_or(name)
}

/// `cx` now holds the lock `id` of class `class` under nesting `subclass` (0: none; the class
/// is then `CLASS/SUBCLASS`, as lockdep prints it) (`recursive_read`: a reader of a spinning
/// rwlock, which lockdep lets nest in any order). Every lock `cx` already holds gives an edge to
/// the new one's class in the run's lock graph ([`LockGraph`]), unless either is a recursive
/// read or both are of one class (the kernel annotates those nestings: `mutex_lock_nested`,
/// `I_MUTEX_PARENT`/`I_MUTEX_CHILD`). An edge that closes a cycle is a `lock-order` BUG, printed
/// as lockdep prints it, whether or not any execution deadlocked on it. With lockdep off (loom
/// only) no edge is added.
fn acquired(cx: &Cx, class: &Arc<str>, subclass: u32, id: u64, recursive_read: bool, spin: bool) {
    let class: Arc<str> = match subclass {
        0 => class.clone(),
        n => format!("{class}/{n}").into(),
    };
    let at = Taken {
        tid: cx.tid,
        op: cx.op_name(),
        site: cx.site(),
    };
    if !recursive_read && debug_checks(cx) {
        let held = cx.held_locks.borrow();
        let cycle = held
            .iter()
            .filter(|h| !h.recursive_read && h.class != class)
            .find_map(|h| cx.sink.lock_graph.add(h, &class, &at));
        drop(held);
        if let Some(chain) = cycle {
            cx.sink.fail(Violation::new(
                ViolationKind::Bug,
                "lock-order",
                format!("possible circular locking dependency: {chain}"),
            ));
        }
    }
    cx.held_locks.borrow_mut().push(HeldLock {
        class,
        id,
        recursive_read,
        spin,
        at,
    });
}

/// `cx` released the lock `id` (the last of its holds, as a lock is held once per thread).
fn released(cx: &Cx, id: u64) {
    let mut held = cx.held_locks.borrow_mut();
    if let Some(p) = held.iter().rposition(|h| h.id == id) {
        held.remove(p);
    }
}

/// Where a lock was taken: the thread, its operation and the kernel line.
#[derive(Clone, Debug)]
struct Taken {
    tid: usize,
    op: std::rc::Rc<str>,
    site: super::trace::Site,
}

impl std::fmt::Display for Taken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "T{} ({}) in {} at {}:{}",
            self.tid, self.op, self.site.func, self.site.file, self.site.line
        )
    }
}

/// A lock a thread holds, for the lock graph.
#[derive(Clone, Debug)]
pub struct HeldLock {
    class: Arc<str>,
    id: u64,
    recursive_read: bool,
    /// A spinning lock: its holder runs with preemption disabled.
    spin: bool,
    at: Taken,
}

/// The innermost spinning lock `cx` holds and where it was taken, for a might_sleep report.
pub(crate) fn innermost_spinning(cx: &Cx) -> Option<String> {
    let held = cx.held_locks.borrow();
    let h = held.iter().rev().find(|h| h.spin)?;
    Some(format!(
        "`{}` held (taken at {}:{})",
        h.class, h.at.site.file, h.at.site.line
    ))
}

/// One dependency of a [`LockGraph`]: `to` taken while `from` was held, with where each was
/// first taken so (thread, operation, kernel function and line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// The held lock's class.
    pub from: String,
    /// The class taken while it was held.
    pub to: String,
    /// Where the held lock was taken.
    pub from_site: String,
    /// Where the new one was taken.
    pub to_site: String,
}

/// The edges of a [`LockGraph`]: (held class, taken class) → where each was first taken.
type Edges = BTreeMap<(Arc<str>, Arc<str>), (String, String)>;

/// The lock-order graph of one run (lockdep's dependency graph): an edge from each held lock's
/// class to each class acquired while it was held, with the first acquisitions that made it.
/// It spans every execution of the run: an order seen in one execution and its inverse in
/// another close a cycle, as they would in lockdep's per-boot graph.
#[derive(Debug, Default)]
pub struct LockGraph {
    edges: StdMutex<Edges>,
}

impl LockGraph {
    /// Adds the edge from `held`'s class to `to` (taken `at`), keeping the first sites of an
    /// edge seen before. If it closes a cycle, the chain, as lockdep prints it: the new
    /// dependency, then the existing ones back to `held`'s class.
    fn add(&self, held: &HeldLock, to: &Arc<str>, at: &Taken) -> Option<String> {
        // The common case, an edge the graph has, costs one lookup and no formatting.
        let key = (held.class.clone(), to.clone());
        if oob(&self.edges).contains_key(&key) {
            return None;
        }
        let edge = Edge {
            from: held.class.to_string(),
            to: to.to_string(),
            from_site: held.at.to_string(),
            to_site: at.to_string(),
        };
        self.insert(&edge)
    }

    /// Adds `edge` unless the graph has it (keeping its first sites); the chain of the cycle it
    /// closes, if it closes one, printed as lockdep prints it.
    pub fn insert(&self, edge: &Edge) -> Option<String> {
        let mut edges = self.edges.lock().unwrap_or_else(|e| e.into_inner());
        let (from, to): (Arc<str>, Arc<str>) = (edge.from.as_str().into(), edge.to.as_str().into());
        let key = (from.clone(), to.clone());
        if edges.contains_key(&key) {
            return None;
        }
        // A path to -> ... -> from among the edges already there is the inverse order.
        let path = Self::path(&edges, &to, &from);
        let (from_site, to_site) = (edge.from_site.clone(), edge.to_site.clone());
        let mut text = path.as_ref().map(|_| {
            format!(
                "`{to}` is taken by {to_site} while `{from}` is held (taken by {from_site}); the existing dependency chain:"
            )
        });
        edges.insert(key, (from_site, to_site));
        let (path, text) = (path?, text.as_mut()?);
        for w in path.windows(2) {
            let (a_site, b_site) = &edges[&(w[0].clone(), w[1].clone())];
            text.push_str(&format!(
                "\n  -> `{}` taken by {b_site} while `{}` was held (taken by {a_site})",
                w[1], w[0]
            ));
        }
        Some(std::mem::take(text))
    }

    /// Every edge, in order of its classes.
    pub fn edges(&self) -> Vec<Edge> {
        let edges = self.edges.lock().unwrap_or_else(|e| e.into_inner());
        edges
            .iter()
            .map(|((from, to), (from_site, to_site))| Edge {
                from: from.to_string(),
                to: to.to_string(),
                from_site: from_site.clone(),
                to_site: to_site.clone(),
            })
            .collect()
    }

    /// Adds every edge of `other` (lockdep's graph is per boot: the union of what every run
    /// saw); the chains of the cycles that closes, one per edge that closed one.
    pub fn merge(&self, other: &[Edge]) -> Vec<String> {
        other.iter().filter_map(|e| self.insert(e)).collect()
    }

    /// The classes of a path `from -> ... -> to`, if there is one.
    fn path(edges: &Edges, from: &Arc<str>, to: &Arc<str>) -> Option<Vec<Arc<str>>> {
        let mut prev: BTreeMap<Arc<str>, Arc<str>> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([from.clone()]);
        while let Some(c) = queue.pop_front() {
            if &c == to {
                let mut out = vec![c.clone()];
                let mut at = c;
                while let Some(p) = prev.get(&at) {
                    out.push(p.clone());
                    at = p.clone();
                }
                out.reverse();
                return Some(out);
            }
            for (a, b) in edges.keys() {
                if a == &c && b != from && !prev.contains_key(b) {
                    prev.insert(b.clone(), c.clone());
                    queue.push_back(b.clone());
                }
            }
        }
        None
    }

    /// The graph's size: its classes and edges.
    pub fn size(&self) -> (usize, usize) {
        let edges = self.edges.lock().unwrap_or_else(|e| e.into_inner());
        let classes: std::collections::BTreeSet<&Arc<str>> =
            edges.keys().flat_map(|(a, b)| [a, b]).collect();
        (classes.len(), edges.len())
    }
}

impl KMutex {
    /// A new unlocked sleeping lock (`struct mutex`, `struct rw_semaphore` taken for writing)
    /// named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        let name: std::sync::Arc<str> = name.into().into();
        Self {
            class: class_of(&name).into(),
            name,
            inner: sync::Mutex::new(()),
            owner: StdMutex::new(None),
            spin: false,
            rcu: false,
        }
    }

    /// A new unlocked spinning lock (`spinlock_t`) named `name`: its holders have preemption
    /// disabled, so with classic RCU they are RCU readers that grace periods wait for.
    pub fn spin(name: impl Into<String>) -> Self {
        Self {
            spin: true,
            rcu: true,
            ..Self::new(name)
        }
    }

    /// A spinning lock whose holders touch nothing that is freed after a grace period (what
    /// they touch is pinned by a reference or by the lock itself): preemption is disabled while
    /// it is held, but grace periods need not wait for it, which changes no outcome and saves the
    /// checkers a dependency per region (docs/model.md).
    pub fn spin_no_rcu(name: impl Into<String>) -> Self {
        Self {
            spin: true,
            rcu: false,
            ..Self::new(name)
        }
    }

    /// `mutex_lock` / `spin_lock`. Recursive locking is a lockdep report.
    pub fn lock<'a>(&'a self, cx: &'a Cx) -> KMutexGuard<'a> {
        self.lock_nested(cx, 0)
    }

    /// `mutex_lock_nested(lock, subclass)`: as [`KMutex::lock`], with the nesting annotation
    /// lockdep keys the lock's class by (`I_MUTEX_PARENT` = 1, `I_MUTEX_CHILD` = 2): a lock of
    /// one class taken inside another of the same class under another subclass is a separate
    /// node of the lock graph, as it is to lockdep.
    pub fn lock_nested<'a>(&'a self, cx: &'a Cx, subclass: u32) -> KMutexGuard<'a> {
        if *oob(&self.owner) == Some(cx.tid) {
            cx.sink.fail(Violation::new(
                ViolationKind::Bug,
                "recursive-locking",
                format!("{} taken twice at {}", self.name, cx.whereabouts()),
            ));
        }
        let preempt = preempt_or_might_sleep(cx, self.spin, self.rcu, "mutex_lock", &self.name);
        let g = acquire(
            cx,
            &self.name,
            !self.spin,
            ("mutex_trylock", "lock"),
            || Access::write(&self.inner),
            || self.inner.try_lock(),
            || self.inner.lock().unwrap_or_else(|e| e.into_inner()),
        );
        *oob(&self.owner) = Some(cx.tid);
        acquired(
            cx,
            &self.class,
            subclass,
            Access::id(&self.inner),
            false,
            self.spin,
        );
        KMutexGuard {
            m: self,
            cx,
            _g: g,
            _preempt: preempt,
        }
    }

    /// `mutex_is_locked`, by anyone (for `BUG_ON(!mutex_is_locked(...))`).
    pub fn is_locked(&self) -> bool {
        oob(&self.owner).is_some()
    }

    /// `lockdep_assert_held`.
    pub fn assert_held(&self, cx: &Cx) {
        if cx.lockdep && !self.held(cx) {
            lockdep_fail(cx, format!("{} not held", self.name));
        }
    }
}

impl Lockdep for KMutex {
    fn name(&self) -> &str {
        &self.name
    }
    fn held(&self, cx: &Cx) -> bool {
        *oob(&self.owner) == Some(cx.tid)
    }
    fn held_write(&self, cx: &Cx) -> bool {
        self.held(cx)
    }
}

#[derive(Default)]
struct RwOwners {
    writer: Option<usize>,
    readers: Vec<usize>,
}

/// A reader-writer lock: spinning (`rwlock_t`, e.g. `css_set_lock`), which disables preemption
/// while held, or sleeping (`struct rw_semaphore`).
pub struct KRwLock {
    name: std::sync::Arc<str>,
    /// Its lockdep class ([`class_of`]).
    class: std::sync::Arc<str>,
    inner: sync::RwLock<()>,
    owners: StdMutex<RwOwners>,
    spin: bool,
    rcu: bool,
}

impl std::fmt::Debug for KRwLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KRwLock({})", self.name)
    }
}

/// Holds a [`KRwLock`] for reading.
pub struct KReadGuard<'a> {
    l: &'a KRwLock,
    cx: &'a Cx,
    tid: usize,
    _g: sync::RwLockReadGuard<'a, ()>,
    _preempt: Option<PreemptDisabled>,
}

/// Holds a [`KRwLock`] for writing.
pub struct KWriteGuard<'a> {
    l: &'a KRwLock,
    cx: &'a Cx,
    _g: sync::RwLockWriteGuard<'a, ()>,
    _preempt: Option<PreemptDisabled>,
}

impl Drop for KReadGuard<'_> {
    fn drop(&mut self) {
        released(self.cx, Access::id(&self.l.inner));
        let what = What::Lock {
            lock: self.l.name.clone(),
            op: "read_unlock",
        };
        trace::step(
            what,
            Access::SharedUnlock(Access::id(&self.l.inner)),
            || {
                let mut o = oob(&self.l.owners);
                if let Some(p) = o.readers.iter().position(|&t| t == self.tid) {
                    o.readers.swap_remove(p);
                }
            },
        );
    }
}

impl Drop for KWriteGuard<'_> {
    fn drop(&mut self) {
        released(self.cx, Access::id(&self.l.inner));
        let what = What::Lock {
            lock: self.l.name.clone(),
            op: "write_unlock",
        };
        trace::step(what, Access::write(&self.l.inner), || {
            oob(&self.l.owners).writer = None
        });
    }
}

impl KRwLock {
    /// A new unlocked spinning rwlock (`rwlock_t`) named `name`.
    pub fn spin(name: impl Into<String>) -> Self {
        let name: std::sync::Arc<str> = name.into().into();
        Self {
            class: class_of(&name).into(),
            name,
            inner: sync::RwLock::new(()),
            owners: StdMutex::new(RwOwners::default()),
            spin: true,
            rcu: true,
        }
    }

    /// A spinning rwlock whose holders touch nothing freed after a grace period (see
    /// [`KMutex::spin_no_rcu`]).
    pub fn spin_no_rcu(name: impl Into<String>) -> Self {
        Self {
            rcu: false,
            ..Self::spin(name)
        }
    }

    /// A new unlocked sleeping rwlock (`struct rw_semaphore`) named `name`.
    pub fn sleeping(name: impl Into<String>) -> Self {
        Self {
            spin: false,
            rcu: false,
            ..Self::spin(name)
        }
    }

    fn preempt(&self, cx: &Cx, op: &str) -> Option<PreemptDisabled> {
        preempt_or_might_sleep(cx, self.spin, self.rcu, op, &self.name)
    }

    fn check_recursion(&self, cx: &Cx) {
        let o = oob(&self.owners);
        if o.writer == Some(cx.tid) || o.readers.contains(&cx.tid) {
            drop(o);
            cx.sink.fail(Violation::new(
                ViolationKind::Bug,
                "recursive-locking",
                format!("{} taken twice at {}", self.name, cx.whereabouts()),
            ));
        }
    }

    /// `read_lock`.
    pub fn read<'a>(&'a self, cx: &'a Cx) -> KReadGuard<'a> {
        self.check_recursion(cx);
        let preempt = self.preempt(cx, "down_read");
        let g = acquire(
            cx,
            &self.name,
            !self.spin,
            ("down_read_trylock", "read_lock"),
            || Access::SharedLock(Access::id(&self.inner)),
            || self.inner.try_read(),
            || self.inner.read().unwrap_or_else(|e| e.into_inner()),
        );
        oob(&self.owners).readers.push(cx.tid);
        // A reader of a spinning rwlock (`read_lock`) is recursive to lockdep; a reader of an
        // rw_semaphore is not.
        acquired(
            cx,
            &self.class,
            0,
            Access::id(&self.inner),
            self.spin,
            self.spin,
        );
        KReadGuard {
            l: self,
            cx,
            tid: cx.tid,
            _g: g,
            _preempt: preempt,
        }
    }

    /// `write_lock`.
    pub fn write<'a>(&'a self, cx: &'a Cx) -> KWriteGuard<'a> {
        self.check_recursion(cx);
        let preempt = self.preempt(cx, "down_write");
        let g = acquire(
            cx,
            &self.name,
            !self.spin,
            ("down_write_trylock", "write_lock"),
            || Access::write(&self.inner),
            || self.inner.try_write(),
            || self.inner.write().unwrap_or_else(|e| e.into_inner()),
        );
        oob(&self.owners).writer = Some(cx.tid);
        acquired(
            cx,
            &self.class,
            0,
            Access::id(&self.inner),
            false,
            self.spin,
        );
        KWriteGuard {
            l: self,
            cx,
            _g: g,
            _preempt: preempt,
        }
    }
}

impl Lockdep for KRwLock {
    fn name(&self) -> &str {
        &self.name
    }
    fn held(&self, cx: &Cx) -> bool {
        let o = oob(&self.owners);
        o.writer == Some(cx.tid) || o.readers.contains(&cx.tid)
    }
    fn held_write(&self, cx: &Cx) -> bool {
        oob(&self.owners).writer == Some(cx.tid)
    }
}

/// A field guarded by a kernel lock it does not wrap (Rust-for-Linux's `LockedBy`). Reads need
/// the lock held (any mode), writes need it held exclusively; every access names the lock, both
/// are checked, then the access goes through a model cell.
#[derive(Debug)]
pub struct LockedBy<T> {
    cell: sync::UnsafeCell<T>,
}

// SAFETY: every access to the cell is made under the lock that protects the field (asserted by
// lockdep at run time), which is what makes the kernel's field shareable; loom's cell checks the
// ordering of the accesses itself.
unsafe impl<T: Send> Sync for LockedBy<T> {}
unsafe impl<T: Send> Send for LockedBy<T> {}

impl<T> LockedBy<T> {
    /// A new cell holding `v`.
    pub fn new(v: T) -> Self {
        Self {
            cell: sync::UnsafeCell::new(v),
        }
    }

    /// Reads through `f`; `lock` must be held by `cx`.
    pub fn with<R>(&self, lock: &dyn Lockdep, cx: &Cx, f: impl FnOnce(&T) -> R) -> R {
        if cx.lockdep && !lock.held(cx) {
            lockdep_fail(cx, format!("{} not held for a read", lock.name()));
        }
        // SAFETY: the protecting lock is held (checked above under every backend where lockdep
        // is on; std always has it on), so no writer runs concurrently.
        self.cell.with(|p| f(unsafe { &*p }))
    }

    /// Writes through `f`; `lock` must be held exclusively by `cx`.
    pub fn with_mut<R>(&self, lock: &dyn Lockdep, cx: &Cx, f: impl FnOnce(&mut T) -> R) -> R {
        if cx.lockdep && !lock.held_write(cx) {
            lockdep_fail(cx, format!("{} not held for writing", lock.name()));
        }
        // SAFETY: the protecting lock is held exclusively (see `with`).
        self.cell.with_mut(|p| f(unsafe { &mut *p }))
    }

    /// `data_race(READ)`: a read the kernel does without the lock, on purpose (the caller's doc
    /// comment says why; KCSAN's `data_race()` marks such reads). Under loom it is still a cell
    /// access, so an unordered write is still reported.
    pub fn data_race<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        // SAFETY: only used where the kernel reads locklessly; on the std backend such reads
        // happen only where the kernel's other ordering (module refcount, RCU) excludes writers.
        self.cell.with(|p| f(unsafe { &*p }))
    }

    /// Out-of-band inspection at a quiescent point (invariant checks, after join).
    pub fn peek<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        // SAFETY: only called when no model thread runs.
        self.cell.with(|p| f(unsafe { &*p }))
    }

    /// Out-of-band mutation at a quiescent point (tests that break state on purpose).
    pub fn poke<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: only called when no model thread runs.
        self.cell.with_mut(|p| f(unsafe { &mut *p }))
    }
}

impl<T: Clone> LockedBy<T> {
    /// Clone of the value; `lock` must be held by `cx`.
    pub fn get(&self, lock: &dyn Lockdep, cx: &Cx) -> T {
        self.with(lock, cx, T::clone)
    }
    /// Replaces the value; `lock` must be held exclusively by `cx`.
    pub fn set(&self, lock: &dyn Lockdep, cx: &Cx, v: T) {
        self.with_mut(lock, cx, |x| *x = v)
    }
}

/// A word the kernel writes under a lock but also reads without it on purpose, where a stale
/// value is harmless by the kernel's own argument (e.g. `css_set_count` in `cgroup_get_sb`,
/// `root->subsys_bits` in `cgroup_test_super`). Locked accesses are lockdep-checked like an
/// [`LockedBy`]; the lockless read is a relaxed atomic load, so neither loom nor the model reports the
/// benign race (KCSAN would, as a plain-access race). docs/model.md lists every such word.
#[derive(Debug)]
pub struct LockedWord(AtomicI64);

impl LockedWord {
    /// A new word, named for traces.
    pub fn new(v: i64, name: &'static str) -> Self {
        Self(AtomicI64::named(v, name))
    }
    /// Read with `lock` held.
    pub fn get(&self, lock: &dyn Lockdep, cx: &Cx) -> i64 {
        if cx.lockdep && !lock.held(cx) {
            lockdep_fail(cx, format!("{} not held for a read", lock.name()));
        }
        self.0.load(Ordering::Relaxed)
    }
    /// Write with `lock` held exclusively.
    pub fn set(&self, lock: &dyn Lockdep, cx: &Cx, v: i64) {
        if cx.lockdep && !lock.held_write(cx) {
            lockdep_fail(cx, format!("{} not held for writing", lock.name()));
        }
        self.0.store(v, Ordering::Relaxed)
    }
    /// Add `d` with `lock` held exclusively.
    pub fn add(&self, lock: &dyn Lockdep, cx: &Cx, d: i64) {
        let v = self.get(lock, cx);
        self.set(lock, cx, v + d);
    }
    /// `data_race(READ)`: the kernel's deliberate lockless read (KCSAN's marker for it).
    pub fn data_race(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
    /// Out-of-band read at a quiescent point.
    pub fn peek(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
    /// Out-of-band write at a quiescent point (tests that break state on purpose).
    pub fn poke(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed)
    }
}

/// A sleeping lock taken and released as two separate steps, not by a guard: the
/// `rw_semaphore` `s_umount`, which `alloc_super` takes, `sget` returns held, and
/// `vfs_kern_mount` or `generic_shutdown_super` releases (only its write side is modelled).
/// Waiters are served in arrival order, as the kernel's rwsem queues them (a retrying `sget`
/// cannot overtake the `deactivate_super` already waiting). A wait queue on a model mutex, so
/// loom and shuttle see a blocked thread and report a deadlock if nobody releases it.
pub struct KSemaphore {
    name: std::sync::Arc<str>,
    /// Its lockdep class ([`class_of`]).
    class: std::sync::Arc<str>,
    /// (next ticket, ticket being served, held).
    state: sync::Mutex<(u64, u64, bool)>,
    queue: sync::Condvar,
    owner: StdMutex<Option<usize>>,
}

impl std::fmt::Debug for KSemaphore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KSemaphore({})", self.name)
    }
}

impl KSemaphore {
    /// A new released semaphore named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        let name: std::sync::Arc<str> = name.into().into();
        Self {
            class: class_of(&name).into(),
            name,
            state: sync::Mutex::new((0, 0, false)),
            queue: sync::Condvar::new(),
            owner: StdMutex::new(None),
        }
    }

    /// `down_write`: waits for its turn, then holds it. It sleeps: taking it with preemption
    /// disabled is a BUG; taking it twice deadlocks, as the kernel's would.
    ///
    /// Two steps when it has to wait, as the kernel's: the arrival (`down_write`, the atomic
    /// update of `sem->count` that finds it held and queues the task) and, once woken, the
    /// acquisition (`rwsem_down_write_failed`, which returns holding it). An arrival before
    /// or after the holder's `up_write` is a different execution, to the checkers as to the
    /// kernel.
    pub fn down_write(&self, cx: &Cx) {
        self.down_write_nested(cx, 0);
    }

    /// `down_write_nested(sem, subclass)`: [`KSemaphore::down_write`], the lock taken in
    /// lockdep's `subclass` of its class (the kernel's annotation for two locks of one class
    /// that cannot deadlock, e.g. `SINGLE_DEPTH_NESTING`).
    pub fn down_write_nested(&self, cx: &Cx, subclass: u32) {
        self.down_write_wait(cx);
        acquired(cx, &self.class, subclass, Access::id(self), false, false);
    }

    fn down_write_wait(&self, cx: &Cx) {
        cx.might_sleep(&format!("down_write({})", self.name), false);
        let what = |op| What::Lock {
            lock: self.name.clone(),
            op,
        };
        let (st, ticket) = trace::step(what("down_write"), Access::write(self), || {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let ticket = st.0;
            st.0 += 1;
            (st, ticket)
        });
        let take = |mut st: sync::MutexGuard<'_, (u64, u64, bool)>| {
            st.2 = true;
            st.1 += 1;
            *oob(&self.owner) = Some(cx.tid);
        };
        if !st.2 && st.1 == ticket {
            return take(st);
        }
        cx.sleep(|| {
            trace::step(what("down_write_woken"), Access::write(self), move || {
                let mut st = st;
                while st.2 || st.1 != ticket {
                    st = self.queue.wait(st).unwrap_or_else(|e| e.into_inner());
                }
                take(st)
            })
        });
    }

    /// `up_write`: releases it (held by `cx`, or lockdep reports it) and wakes the waiters.
    pub fn up_write(&self, cx: &Cx) {
        if cx.lockdep && !self.held(cx) {
            lockdep_fail(cx, format!("up_write({}) not held", self.name));
        }
        released(cx, Access::id(self));
        let what = What::Lock {
            lock: self.name.clone(),
            op: "up_write",
        };
        trace::step(what, Access::write(self), || {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            st.2 = false;
            *oob(&self.owner) = None;
            self.queue.notify_all();
        });
    }
}

impl Lockdep for KSemaphore {
    fn name(&self) -> &str {
        &self.name
    }
    fn held(&self, cx: &Cx) -> bool {
        *oob(&self.owner) == Some(cx.tid)
    }
    fn held_write(&self, cx: &Cx) -> bool {
        self.held(cx)
    }
}
