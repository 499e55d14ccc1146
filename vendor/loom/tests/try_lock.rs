//! PATCH.md item 7: a `try_lock` (`try_read`, `try_write`) fails rather than waits. loom 0.7.3
//! blocked a thread whose next step was a `try_lock` when another thread acquired the lock, as
//! if the attempt were a `lock`: the attempt could then never fail in that interleaving, and a
//! holder that waited for the attempter deadlocked.

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::{Arc, Mutex, RwLock};
use loom::thread;

/// The holder keeps the lock until the other thread has tried it: every interleaving ends, and
/// in some the attempt fails.
#[test]
fn a_try_lock_fails_while_another_thread_holds_the_lock() {
    let failed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = failed.clone();
    loom::model(move || {
        let m = Arc::new(Mutex::new(()));
        let tried = Arc::new(AtomicBool::new(false));
        let (m2, tried2) = (m.clone(), tried.clone());
        let holder = thread::spawn(move || {
            let _g = m2.lock().unwrap();
            while !tried2.load(Ordering::Acquire) {
                thread::yield_now();
            }
        });
        let r = m.try_lock().is_err();
        tried.store(true, Ordering::Release);
        holder.join().unwrap();
        if r {
            seen.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });
    assert!(failed.load(std::sync::atomic::Ordering::Relaxed));
}

/// The same for a reader-writer lock's `try_read` and `try_write` against a writer.
#[test]
fn a_try_read_or_try_write_fails_while_another_thread_writes() {
    for write in [false, true] {
        loom::model(move || {
            let l = Arc::new(RwLock::new(()));
            let tried = Arc::new(AtomicBool::new(false));
            let (l2, tried2) = (l.clone(), tried.clone());
            let holder = thread::spawn(move || {
                let _g = l2.write().unwrap();
                while !tried2.load(Ordering::Acquire) {
                    thread::yield_now();
                }
            });
            let _ = if write {
                l.try_write().is_err()
            } else {
                l.try_read().is_err()
            };
            tried.store(true, Ordering::Release);
            holder.join().unwrap();
        });
    }
}
