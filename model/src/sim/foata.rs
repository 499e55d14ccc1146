//! Mazurkiewicz classes: which of a checker's executions are the same behaviour.
//!
//! Two executions are one Mazurkiewicz trace when one turns into the other by swapping adjacent
//! independent steps: steps of different threads that touch different objects, or that both only
//! read one ([`Access`]). An optimal DPOR checker (GenMC, Nidhugg) runs one execution per class,
//! so the number of classes among a run's executions is the physical limit its execution count is
//! measured against; loom, without sleep sets, runs more.
//!
//! [`class`] names an execution's class by a hash of its Foata normal form. Each step gets a
//! level, one more than the highest level among the earlier steps it depends on: its own thread's
//! previous step, the last write of its object, and (for a write) every read of the object since
//! that write. The form is the sequence of levels, each the set of steps at that level. A step is
//! named by its thread, its position in that thread and its label (function, kernel line, what it
//! did, the values it read and wrote), never by an address, which differs between executions.
//! Equivalent executions have the same form, and two dependent steps are never at one level, so
//! the form fixes the order of every dependent pair: equal forms are equivalent executions.
//!
//! A lock taken shared (`read_lock`, `down_read`) is an atomic RMW of the lock word, as in the
//! kernel: two readers' order is two classes, as loom explores it ([`Relation::Exact`]). So is
//! where one reader's release falls against another's acquisition: the release is an RMW of the
//! word too, and an acquisition after it acquires from it (loom's `RwLock` orders it), so it
//! counts as a read of the lock that the next acquisition follows; two releases commute. The
//! count where readers commute ([`Relation::SharedReads`]) is kept beside it, and was the only
//! one before.
//!
//! What the count leaves out, and why:
//! - an allocation: a per-CPU slab's, which depends on the allocating thread alone
//!   ([`super::arena`]);
//! - a `use` step: the recorder writes one only when another thread ran since the lookup, which
//!   depends on the schedule, not on the behaviour; the lookup (a read of the object) stands for
//!   it;
//! - loom's weak-memory outcomes are told apart by the value a load read, which is in its label;
//!   a stale read can then be counted at two positions that sequential consistency would merge,
//!   which counts more classes, never fewer (a lower ratio than the true one);
//! - scheduling points that touch nothing (`yield_now`) are not steps, since moving one changes
//!   no order between dependent steps.
//!
//! A class is 64 bits of foldhash's quality hasher from a fixed seed, the same in every process:
//! for a hash that spreads like a random function, two of a million classes collide with odds
//! of about 3·10⁻⁸. (It was SipHash, which took a fifth of every loom and shuttle execution;
//! the counts did not change.)

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};

use foldhash::quality::{FixedState, FoldHasher};

use super::trace::{Event, What};

/// The shared object a step touches, which tells independent steps apart
/// ([`class`]): an identity unique within one execution (an address), and whether the
/// step only reads it. Two steps of different threads are dependent when they touch the same
/// object and at least one writes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Access {
    /// Touches nothing another thread sees: a system call's entry or return, a violation, an
    /// allocation (a per-CPU slab's, [`super::arena`]).
    #[default]
    Local,
    /// Only reads the object: a load, a failed cmpxchg, a lookup.
    Read(u64),
    /// Writes it: a store or read-modify-write, a free, a lock taken or released exclusively.
    Write(u64),
    /// Takes a lock shared (`read_lock`, `down_read`): an atomic RMW of the lock word, which
    /// orders two readers as loom does ([`Relation::Exact`]), or a read, under which readers
    /// commute ([`Relation::SharedReads`]).
    SharedLock(u64),
    /// Releases it: a read of the lock, which the next acquisition, shared or exclusive, is
    /// ordered after ([`Relation::Exact`]), or a read under which readers commute
    /// ([`Relation::SharedReads`]).
    SharedUnlock(u64),
}

/// Which steps a class count takes as dependent: they differ only in a lock taken shared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Relation {
    /// Two readers' acquisitions are ordered, as their RMWs of the lock word are in the kernel
    /// and loom explores them: what the reports count.
    Exact,
    /// Readers commute: acquisitions and releases taken shared only read the lock. The count
    /// before read acquisitions were ordered (docs/performance.md gives both).
    SharedReads,
}

impl Access {
    /// The step as `rel` sees it: local, a read, or a write of one object.
    fn under(self, rel: Relation) -> Access {
        match (self, rel) {
            (Access::SharedLock(o), Relation::Exact) => Access::Write(o),
            (Access::SharedUnlock(o), Relation::Exact) => Access::Read(o),
            (Access::SharedLock(o) | Access::SharedUnlock(o), Relation::SharedReads) => {
                Access::Read(o)
            }
            (a, _) => a,
        }
    }
}

impl Access {
    /// The identity of the object at `p`: its address, which is unique while it lives, and no
    /// object is freed back to the allocator during an execution (arena slots are never reused).
    pub fn id<T: ?Sized>(p: &T) -> u64 {
        p as *const T as *const () as usize as u64
    }
    /// Only reads the object at `p`.
    pub fn read<T: ?Sized>(p: &T) -> Self {
        Access::Read(Self::id(p))
    }
    /// Writes the object at `p`.
    pub fn write<T: ?Sized>(p: &T) -> Self {
        Access::Write(Self::id(p))
    }
    /// Whether the step writes its object (a lock taken shared counts as a write: it is an RMW
    /// of the lock word).
    pub fn is_write(self) -> bool {
        matches!(self, Access::Write(_) | Access::SharedLock(_))
    }
}

/// The hasher of every class, from a fixed seed: a class names the same form in every process.
static SEED: FixedState = FixedState::with_seed(0x2634);

/// The class of the execution whose steps are `events` (in the order they ran): a hash of its
/// Foata normal form, with the steps [`Relation::Exact`] takes as dependent.
pub fn class(events: &[Event]) -> u64 {
    class_under(events, Relation::Exact)
}

/// [`class`] under relation `rel`.
pub fn class_under(events: &[Event], rel: Relation) -> u64 {
    // Per object: the level of its last write, and the highest level of a read since then.
    let mut objects: HashMap<u64, (u32, u32), foldhash::fast::FixedState> = HashMap::default();
    // Per thread: the level of its last step, and the hash of its (label, level) sequence.
    let mut threads: Vec<(u32, FoldHasher<'static>)> = Vec::new();
    for e in events {
        if matches!(e.what, What::Obj { op: "use", .. }) {
            continue;
        }
        if threads.len() <= e.tid {
            threads.resize_with(e.tid + 1, || (0, SEED.build_hasher()));
        }
        let prev = threads[e.tid].0;
        let level = match e.access.under(rel) {
            Access::Local => prev + 1,
            Access::Read(o) => {
                let (w, r) = objects.entry(o).or_default();
                let l = prev.max(*w) + 1;
                *r = (*r).max(l);
                l
            }
            Access::Write(o) => {
                let (w, r) = objects.entry(o).or_default();
                let l = prev.max(*w).max(*r) + 1;
                (*w, *r) = (l, l);
                l
            }
            Access::SharedLock(_) | Access::SharedUnlock(_) => unreachable!("resolved by `under`"),
        };
        let (last, h) = &mut threads[e.tid];
        *last = level;
        level.hash(h);
        e.func.hash(h);
        e.site.hash(h);
        e.what.hash(h);
        e.access.is_write().hash(h);
    }
    let mut h = SEED.build_hasher();
    for (tid, (_, t)) in threads.iter().enumerate() {
        (tid, t.finish()).hash(&mut h);
    }
    h.finish()
}

/// The distinct classes among a run's executions, under [`Relation::Exact`] and under
/// [`Relation::SharedReads`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Classes {
    exact: HashSet<u64>,
    shared_reads: HashSet<u64>,
}

impl Classes {
    /// Adds the execution whose steps are `events`.
    pub fn add(&mut self, events: &[Event]) {
        self.exact.insert(class_under(events, Relation::Exact));
        self.shared_reads
            .insert(class_under(events, Relation::SharedReads));
    }
    /// Adds every class of `other` (the executions of another bound of the same plan).
    pub fn merge(&mut self, other: &Classes) {
        self.exact.extend(other.exact.iter().copied());
        self.shared_reads.extend(other.shared_reads.iter().copied());
    }
    /// How many distinct classes ([`Relation::Exact`]).
    pub fn len(&self) -> u64 {
        self.exact.len() as u64
    }
    /// How many distinct classes under `rel`.
    pub fn len_under(&self, rel: Relation) -> u64 {
        match rel {
            Relation::Exact => self.exact.len() as u64,
            Relation::SharedReads => self.shared_reads.len() as u64,
        }
    }
    /// Whether every class of `other` is one of these (under both relations).
    pub fn contains_all(&self, other: &Classes) -> bool {
        other.exact.is_subset(&self.exact) && other.shared_reads.is_subset(&self.shared_reads)
    }
    /// Whether none was added.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }
}

#[cfg(test)]
mod tests {
    //! The counter on small programs whose class count is known by hand, over every feasible
    //! interleaving of their threads.
    use super::*;
    use crate::sim::trace::Site;

    /// A step of thread `tid`: `op` on object `obj` (`w`: writes it; `obj` 0: touches nothing).
    fn ev(tid: usize, op: &'static str, obj: u64, w: bool) -> Event {
        let access = match (obj, w) {
            (0, _) => Access::Local,
            (o, true) => Access::Write(o),
            (o, false) => Access::Read(o),
        };
        Event {
            tid,
            func: "f",
            site: Site::NONE,
            what: What::Atomic {
                op,
                field: "x",
                before: 0,
                after: 0,
            },
            access,
        }
    }

    /// Every interleaving of `threads` in which no two threads hold a lock at once (a step `lock`
    /// on an object takes it, `unlock` releases it).
    fn interleavings(threads: &[Vec<Event>]) -> Vec<Vec<Event>> {
        fn go(
            threads: &[Vec<Event>],
            pos: &mut Vec<usize>,
            held: &mut HashMap<u64, usize>,
            cur: &mut Vec<Event>,
            out: &mut Vec<Vec<Event>>,
        ) {
            if pos.iter().zip(threads).all(|(p, t)| *p == t.len()) {
                out.push(cur.clone());
                return;
            }
            for t in 0..threads.len() {
                let Some(e) = threads[t].get(pos[t]) else {
                    continue;
                };
                let obj = match e.access {
                    Access::Write(o)
                    | Access::Read(o)
                    | Access::SharedLock(o)
                    | Access::SharedUnlock(o) => o,
                    Access::Local => 0,
                };
                let op = match &e.what {
                    What::Atomic { op, .. } => *op,
                    _ => "",
                };
                if op == "lock" && held.contains_key(&obj) {
                    continue;
                }
                match op {
                    "lock" => {
                        held.insert(obj, t);
                    }
                    "unlock" => {
                        held.remove(&obj);
                    }
                    _ => {}
                }
                pos[t] += 1;
                cur.push(e.clone());
                go(threads, pos, held, cur, out);
                cur.pop();
                pos[t] -= 1;
                match op {
                    "lock" => {
                        held.remove(&obj);
                    }
                    "unlock" => {
                        held.insert(obj, t);
                    }
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        let mut pos = vec![0; threads.len()];
        go(
            threads,
            &mut pos,
            &mut HashMap::new(),
            &mut Vec::new(),
            &mut out,
        );
        out
    }

    /// (interleavings, classes) of `threads`.
    fn count(threads: &[Vec<Event>]) -> (usize, u64) {
        let all = interleavings(threads);
        let mut c = Classes::default();
        for e in &all {
            c.add(e);
        }
        (all.len(), c.len())
    }

    #[test]
    fn two_independent_writers_are_one_class() {
        let t1 = vec![ev(1, "store", 10, true), ev(1, "store", 10, true)];
        let t2 = vec![ev(2, "store", 20, true), ev(2, "store", 20, true)];
        assert_eq!(count(&[t1, t2]), (6, 1));
    }

    #[test]
    fn two_writers_to_one_object_are_two_classes() {
        let t1 = vec![ev(1, "store", 10, true)];
        let t2 = vec![ev(2, "store", 10, true)];
        assert_eq!(count(&[t1, t2]), (2, 2));
        // With a private step each around the shared one, still two: only the shared pair's
        // order counts.
        let t1 = vec![ev(1, "a", 0, false), ev(1, "store", 10, true)];
        let t2 = vec![ev(2, "store", 10, true), ev(2, "b", 0, false)];
        assert_eq!(count(&[t1, t2]), (6, 2));
    }

    #[test]
    fn two_readers_are_one_class_and_a_writer_orders_them() {
        let t1 = vec![ev(1, "load", 10, false)];
        let t2 = vec![ev(2, "load", 10, false)];
        assert_eq!(count(&[t1, t2]), (2, 1));
        // Two readers and a writer: the writer before both, between them (either way round) or
        // after both.
        let t1 = vec![ev(1, "load", 10, false)];
        let t2 = vec![ev(2, "load", 10, false)];
        let t3 = vec![ev(3, "store", 10, true)];
        assert_eq!(count(&[t1, t2, t3]), (6, 4));
    }

    #[test]
    fn a_lock_protected_pair_is_two_classes() {
        let section = |t| {
            vec![
                ev(t, "lock", 99, true),
                ev(t, "fetch_add", 10, true),
                ev(t, "unlock", 99, true),
            ]
        };
        assert_eq!(count(&[section(1), section(2)]), (2, 2));
        // A private step after each section can go anywhere: still two classes.
        let mut t1 = section(1);
        t1.push(ev(1, "a", 0, false));
        let mut t2 = section(2);
        t2.push(ev(2, "b", 0, false));
        let (n, c) = count(&[t1, t2]);
        assert!(n > 2, "{n}");
        assert_eq!(c, 2);
    }

    #[test]
    fn two_readers_of_a_lock_are_ordered_exactly_and_commute_as_shared_reads() {
        let section = |t| {
            let mut l = ev(t, "read_lock", 0, false);
            l.access = Access::SharedLock(99);
            let mut u = ev(t, "read_unlock", 0, false);
            u.access = Access::SharedUnlock(99);
            vec![l, ev(t, "load", 10, false), u]
        };
        let all = interleavings(&[section(1), section(2)]);
        let count = |rel| {
            let set: HashSet<u64> = all.iter().map(|e| class_under(e, rel)).collect();
            set.len()
        };
        // The two acquisitions' order, and whether the first reader released before the
        // second acquired: four classes (the two releases commute).
        assert_eq!((all.len(), count(Relation::Exact)), (20, 4));
        assert_eq!(count(Relation::SharedReads), 1);
    }

    #[test]
    fn use_steps_do_not_split_a_class() {
        let mut a = vec![ev(1, "load", 10, false), ev(2, "store", 20, true)];
        let b = a.clone();
        a.push(Event {
            what: What::Obj {
                op: "use",
                kind: "css",
                idx: 0,
            },
            ..ev(1, "", 10, false)
        });
        assert_eq!(class(&a), class(&b));
    }
}
