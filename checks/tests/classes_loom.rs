//! The class counter on loom's own executions of tiny programs whose Mazurkiewicz class count is
//! known by hand, built from the model's primitives (traced atomics, a lock step as the model's
//! locks record it). loom runs more executions than there are classes; the counter must find
//! exactly the hand count.

#![cfg(backend_loom)]

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use cgmodel::sim::atomic::AtomicUsize;
use cgmodel::sim::foata::Classes;
use cgmodel::sim::sync::{self, Ordering};
use cgmodel::sim::trace::{self, Access, Recorder, What};

/// Runs `threads` (each given the shared state) under loom, every interleaving; returns
/// (executions, classes).
fn count<S: Send + Sync + 'static>(state: fn() -> S, threads: Vec<fn(&S)>) -> (u64, u64) {
    let classes = Arc::new(Mutex::new((0u64, Classes::default())));
    let c2 = classes.clone();
    loom::model::Builder::new().check(move || {
        let rec = Arc::new(Recorder::default());
        let st = sync::Arc::new(state());
        let hs: Vec<_> = threads
            .iter()
            .enumerate()
            .map(|(i, &f)| {
                let (rec, st) = (rec.clone(), st.clone());
                sync::spawn(move || {
                    trace::install(i + 1, rec, None, Rc::new(RefCell::new(Vec::new())));
                    f(&st);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        let mut c = c2.lock().unwrap();
        c.0 += 1;
        rec.with(|e| c.1.add(e));
    });
    let c = classes.lock().unwrap();
    (c.0, c.1.len())
}

struct Two(AtomicUsize, AtomicUsize);

fn two() -> Two {
    Two(AtomicUsize::new(0), AtomicUsize::new(0))
}

#[test]
fn two_independent_writers_are_one_class() {
    let (n, c) = count(
        two,
        vec![|s| s.0.store(1, Ordering::Relaxed), |s| {
            s.1.store(1, Ordering::Relaxed)
        }],
    );
    assert!(n >= 2, "loom ran {n} executions");
    assert_eq!(c, 1);
}

#[test]
fn two_writers_to_one_object_are_two_classes() {
    let (n, c) = count(
        two,
        vec![|s| s.0.store(1, Ordering::Relaxed), |s| {
            s.0.store(2, Ordering::Relaxed)
        }],
    );
    assert!(n >= 2, "loom ran {n} executions");
    assert_eq!(c, 2);
}

/// A counter behind a lock, the lock steps recorded as the model's locks record them.
struct Locked(sync::Mutex<()>, AtomicUsize);

fn section(s: &Locked) {
    let what = |op| What::Lock {
        lock: "l".into(),
        op,
    };
    let g = trace::step(what("lock"), Access::write(&s.0), || s.0.lock().unwrap());
    s.1.fetch_add(1, Ordering::Relaxed);
    trace::step(what("unlock"), Access::write(&s.0), || drop(g));
}

#[test]
fn a_lock_protected_pair_is_two_classes() {
    let (n, c) = count(
        || Locked(sync::Mutex::new(()), AtomicUsize::new(0)),
        vec![section, section],
    );
    assert!(n >= 2, "loom ran {n} executions");
    assert_eq!(c, 2);
}

#[test]
fn two_readers_are_one_class() {
    let (n, c) = count(
        two,
        vec![
            |s| {
                let _ = s.0.load(Ordering::Relaxed);
            },
            |s| {
                let _ = s.0.load(Ordering::Relaxed);
            },
        ],
    );
    assert!(n >= 1, "loom ran {n} executions");
    assert_eq!(c, 1);
}
