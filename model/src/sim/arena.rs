//! Handle-based arenas whose frees poison.
//!
//! Every kernel object lives in an [`Arena`] and is named by a [`Handle`]. `kfree` marks the slot
//! dead for good (slots are never reused within an execution, so a stale handle can never alias a
//! new object), and any later access through the handle is a use-after-free report naming the
//! object, the step that freed it and the step that touched it.
//!
//! Three details make this visible to the checkers:
//! - each slot has a model-visible *shadow cell*: a lookup reads it and `kfree` writes it, so loom
//!   reports a free that is not ordered with a use (an out-of-band liveness flag alone would be
//!   invisible to loom's causality check);
//! - liveness is checked again, out of band, when the access guard drops, because a free can land
//!   between the check and the use;
//! - under shuttle a lookup is also a scheduling point, since shuttle switches threads only at its
//!   own primitives and would otherwise never put a free between a lookup and the use.
//!
//! A handle names the allocating thread and how many objects of the kind that thread allocated
//! before it (`css_set #4` for the setup thread's fifth, `css_set #2.0` for thread 2's first),
//! as a per-CPU slab hands out addresses: no allocation depends on another thread's. A single
//! counter shared by all threads would make the order of two threads' allocations a race that no
//! checker sees (it is not a model step), and that race would decide which object gets which
//! name, and so which bucket `css_set_hash` puts a css_set in.
//!
//! The file is long because the handle naming, the slot identities and their tests belong
//! together: a change to one must be read against the others.

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex as StdMutex};

use super::cx::Cx;
use super::report::{Violation, ViolationKind};
use super::sync;
use super::trace::{self, Access, What};

/// A typed index into an [`Arena`]. `Copy`, comparable, and printable as `css_set #3`.
pub struct Handle<T> {
    idx: u32,
    _p: PhantomData<fn() -> T>,
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Handle<T> {}
impl<T> PartialEq for Handle<T> {
    fn eq(&self, o: &Self) -> bool {
        self.idx == o.idx
    }
}
impl<T> Eq for Handle<T> {}
impl<T> PartialOrd for Handle<T> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Handle<T> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.idx.cmp(&o.idx)
    }
}
impl<T> std::hash::Hash for Handle<T> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.idx.hash(h)
    }
}
impl<T: Object> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} #{}", T::KIND, slot_name(self.idx))
    }
}
impl<T: Object> fmt::Display for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} #{}", T::KIND, slot_name(self.idx))
    }
}

/// How a handle's index splits: the allocating thread in the high bits, its count of earlier
/// allocations of the kind in the low ones.
const THREAD_SHIFT: u32 = 16;

/// A slot index split into the allocating thread and its count of earlier allocations.
fn split(idx: u32) -> (u32, u32) {
    (idx >> THREAD_SHIFT, idx & ((1 << THREAD_SHIFT) - 1))
}

/// The name of the slot at index `idx`, the part after `#` (as [`What::Obj`] and pointer values
/// carry the index): `4` for the setup thread's (thread 0) fifth object of a kind, `2.0` for
/// thread 2's first.
pub fn slot_name(idx: u32) -> String {
    let (tid, n) = split(idx);
    if tid == 0 {
        n.to_string()
    } else {
        format!("{tid}.{n}")
    }
}

/// The identity of slot `idx` of the arena at address `arena`, for independence: bit 63 set,
/// which no address has (user-space addresses fit in 47 bits), the arena's address over 8 (it is
/// word-aligned) in bits 19-62, and the index in bits 0-18. Distinct slots get distinct
/// identities, and none is an object's address. (It was the address XOR the index shifted to bit
/// 48, which made thread 1's first slot share an identity with thread 0's first, a false
/// dependency that split one class in two.)
fn slot_id(arena: u64, idx: u32) -> u64 {
    assert!(
        arena < 1 << 47 && arena.is_multiple_of(8) && idx < 1 << 19,
        "arena slot identity out of range: arena {arena:#x}, slot index {idx:#x}"
    );
    1 << 63 | (arena >> 3) << 19 | u64::from(idx)
}

impl<T> Handle<T> {
    /// The allocating thread, and how many objects of the kind it allocated before this one.
    fn split(self) -> (usize, usize) {
        let (tid, n) = split(self.idx);
        (tid as usize, n as usize)
    }
    /// Encodes `Option<Handle>` as a word for atomic pointer fields: 0 is NULL.
    pub fn to_raw(h: Option<Self>) -> usize {
        h.map_or(0, |h| h.idx as usize + 1)
    }
    /// Decodes a word written by [`Handle::to_raw`].
    pub fn from_raw(raw: usize) -> Option<Self> {
        raw.checked_sub(1).map(|i| Handle {
            idx: i as u32,
            _p: PhantomData,
        })
    }
    /// The "address" used by `css_set_hash`: stable, distinct per object.
    pub fn addr(self) -> usize {
        self.idx as usize + 1
    }
}

/// A kind of kernel object.
pub trait Object {
    /// Its kernel name, e.g. `css_set`.
    const KIND: &'static str;
    /// Whether objects of its kind can be freed right after a stop of every thread (the
    /// kernel's `stop_machine`), which orders every access made before the stop: under loom
    /// each lookup of one, whoever frees it and when, is then a point the stop is ordered with
    /// ([`super::rcu::Rcu::stop_ordered`]).
    const FREED_AFTER_STOP: bool = false;
}

struct Meta {
    live: bool,
    label: String,
    freed_at: Option<String>,
}

/// One arena slot: the object, its shadow cell and its out-of-band metadata.
pub struct Slot<T> {
    obj: T,
    shadow: sync::UnsafeCell<()>,
    meta: StdMutex<Meta>,
}

// SAFETY: the shadow cell holds no data; it exists so loom can check that every lookup is ordered
// with the `kfree` that writes it. The object itself carries its own synchronization.
unsafe impl<T: Sync> Sync for Slot<T> {}
unsafe impl<T: Send> Send for Slot<T> {}

impl<T> Slot<T> {
    fn meta(&self) -> std::sync::MutexGuard<'_, Meta> {
        self.meta.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An arena of kernel objects of one kind.
pub struct Arena<T> {
    /// Per allocating thread, its objects in allocation order.
    slots: StdMutex<Vec<Vec<Arc<Slot<T>>>>>,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Self {
            slots: StdMutex::new(Vec::new()),
        }
    }
}

/// A checked reference to a live object; re-checks liveness when dropped.
pub struct Ref<'a, T: Object> {
    slot: Arc<Slot<T>>,
    h: Handle<T>,
    cx: &'a Cx,
}

impl<T: Object> std::ops::Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.slot.obj
    }
}

impl<T: Object> Drop for Ref<'_, T> {
    fn drop(&mut self) {
        // Real threads race with this check by nature, so it only runs under a model checker,
        // where no other thread runs between the access and the drop.
        let checked = sync::MODEL_CHECKED || trace::replaying();
        if checked && !std::thread::panicking() && !self.slot.meta().live {
            uaf(&self.slot, self.h, self.cx, "during the access");
        }
    }
}

fn uaf<T: Object>(slot: &Slot<T>, h: Handle<T>, cx: &Cx, when: &str) -> ! {
    let (label, freed) = {
        let m = slot.meta();
        (m.label.clone(), m.freed_at.clone().unwrap_or_default())
    };
    let name = if label.is_empty() {
        h.to_string()
    } else {
        format!("{h} ({label})")
    };
    cx.sink.fail(Violation::new(
        ViolationKind::UseAfterFree,
        "use-after-free",
        format!(
            "{name} freed by {freed}; touched {when} by {}",
            cx.whereabouts()
        ),
    ))
}

impl<T: Object> Arena<T> {
    /// A lookup (read) or free (write) of slot `h`: [`slot_id`] of the arena and the slot.
    fn slot_access(&self, h: Handle<T>, write: bool) -> Access {
        let id = slot_id(Access::id(self), h.idx);
        if write {
            Access::Write(id)
        } else {
            Access::Read(id)
        }
    }

    fn slot(&self, h: Handle<T>) -> Arc<Slot<T>> {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let (tid, n) = h.split();
        slots[tid][n].clone()
    }

    /// Allocates `obj` (the caller already decided the allocation succeeds, see
    /// [`Cx::kmalloc_ok`]) and returns its handle.
    pub fn alloc(&self, obj: T) -> Handle<T> {
        trace::before(&What::Obj {
            op: "kmalloc",
            kind: T::KIND,
            idx: 0,
        });
        let h = self.alloc_now(obj);
        // Thread-local: it touches nothing another thread's allocation touches.
        trace::after(
            What::Obj {
                op: "kmalloc",
                kind: T::KIND,
                idx: h.idx,
            },
            Access::Local,
        );
        h
    }

    fn alloc_now(&self, obj: T) -> Handle<T> {
        let tid = trace::current_tid();
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if slots.len() <= tid {
            slots.resize_with(tid + 1, Vec::new);
        }
        let slots = &mut slots[tid];
        assert!(
            slots.len() < 1 << THREAD_SHIFT,
            "thread {tid} allocated more than {} objects of one kind",
            1 << THREAD_SHIFT
        );
        let idx = (tid as u32) << THREAD_SHIFT | slots.len() as u32;
        slots.push(Arc::new(Slot {
            obj,
            shadow: sync::UnsafeCell::new(()),
            meta: StdMutex::new(Meta {
                live: true,
                label: String::new(),
                freed_at: None,
            }),
        }));
        Handle {
            idx,
            _p: PhantomData,
        }
    }

    /// Gives the object a descriptive label for reports (`css of net_cls on dummytop`).
    pub fn set_label(&self, h: Handle<T>, label: impl Into<String>) {
        self.slot(h).meta().label = label.into();
    }

    /// The descriptive label.
    pub fn label(&self, h: Handle<T>) -> String {
        let l = self.slot(h).meta().label.clone();
        if l.is_empty() {
            h.to_string()
        } else {
            format!("{h} ({l})")
        }
    }

    /// Dereferences `h`: a use-after-free report if it was freed.
    pub fn get<'a>(&self, h: Handle<T>, cx: &'a Cx) -> Ref<'a, T> {
        let what = What::Obj {
            op: "deref",
            kind: T::KIND,
            idx: h.idx,
        };
        let _ordered = T::FREED_AFTER_STOP.then(|| cx.stop_ordered());
        let slot = trace::step(what, self.slot_access(h, false), || {
            let slot = self.slot(h);
            if !slot.meta().live {
                uaf(&slot, h, cx, "at the lookup");
            }
            slot.shadow.with(|_| ());
            slot
        });
        drop(_ordered);
        sync::pointer_use_point();
        trace::use_point(T::KIND, h.idx, self.slot_access(h, false));
        Ref { slot, h, cx }
    }

    /// `kfree`: poisons the slot. A double free is a BUG report.
    pub fn kfree(&self, h: Handle<T>, cx: &Cx) {
        let what = What::Obj {
            op: "kfree",
            kind: T::KIND,
            idx: h.idx,
        };
        trace::step(what, self.slot_access(h, true), || self.kfree_now(h, cx))
    }

    fn kfree_now(&self, h: Handle<T>, cx: &Cx) {
        let slot = self.slot(h);
        if !slot.meta().live {
            let freed = slot.meta().freed_at.clone().unwrap_or_default();
            cx.sink.fail(Violation::new(
                ViolationKind::Bug,
                "double-free",
                format!("{h} freed by {freed}; freed again by {}", cx.whereabouts()),
            ));
        }
        slot.shadow.with_mut(|_| ());
        let mut m = slot.meta();
        m.live = false;
        m.freed_at = Some(cx.whereabouts());
    }

    /// Out of band: is the object still allocated?
    pub fn is_live(&self, h: Handle<T>) -> bool {
        self.slot(h).meta().live
    }

    /// Out of band: every live handle, by allocating thread, then in allocation order.
    pub fn live(&self) -> Vec<Handle<T>> {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let mut live = Vec::new();
        for (tid, slots) in slots.iter().enumerate() {
            for (n, s) in slots.iter().enumerate() {
                if s.meta().live {
                    live.push(Handle {
                        idx: (tid as u32) << THREAD_SHIFT | n as u32,
                        _p: PhantomData,
                    });
                }
            }
        }
        live
    }

    /// Out of band: the object whether live or not, for invariant checks at a quiescent point
    /// and lockdep's questions about an object that is never freed.
    pub fn peek(&self, h: Handle<T>) -> Peek<T> {
        Peek(self.slot(h))
    }
}

/// Out-of-band access to an object for invariant checks (no liveness check, no shadow access).
pub struct Peek<T>(Arc<Slot<T>>);

impl<T> std::ops::Deref for Peek<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0.obj
    }
}

/// A plain load of a pointer field (`p = cgrp->subsys[i]`): a relaxed atomic load, which gives no
/// ordering, as a plain C load gives none. Where the kernel orders a pointer load it uses
/// `rcu_dereference` ([`super::rcu::rcu_dereference_check`]) or holds a lock.
pub fn load_ptr<T>(p: &super::atomic::AtomicUsize) -> Option<Handle<T>> {
    Handle::from_raw(p.load(sync::Ordering::Relaxed))
}

/// A plain store of a pointer field (`cgrp->subsys[i] = css`): a relaxed atomic store, which
/// publishes nothing by itself. Where the kernel publishes a pointer it uses `rcu_assign_pointer`
/// ([`super::rcu::rcu_assign_pointer`]) or holds a lock.
pub fn store_ptr<T>(p: &super::atomic::AtomicUsize, v: Option<Handle<T>>) {
    p.store(Handle::to_raw(v), sync::Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_identities_are_distinct_across_threads_and_arenas_and_from_addresses() {
        let arena = 0x7fff_dead_bee8_u64;
        let ids = [
            slot_id(arena, 0),
            slot_id(arena, 1),
            slot_id(arena, 1 << THREAD_SHIFT),
            slot_id(arena, 2 << THREAD_SHIFT | 1),
            slot_id(arena + 8, 0),
        ];
        for (i, a) in ids.iter().enumerate() {
            assert!(*a >= 1 << 63, "{a:#x} could be an address");
            for b in &ids[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
