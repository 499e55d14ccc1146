//! Busy-waiting, as the checkers can explore it to its end.
//!
//! A kernel loop that spins until another CPU's store (`while (!cond) cpu_relax();`) has no
//! end a checker can reach by choosing schedules: each spin is one more execution, and loom's
//! `yield_now`, which ends such loops by never running the spinner twice in a row, is a
//! scheduling constraint its reduction cannot see (`vendor/loom/PATCH.md`). A [`SpinWait`] is
//! the window during which a spinner can only spin: the writer opens it before the store that
//! starts the wait and closes it after the store that ends it, and a spinner that finds the
//! wait in force blocks until it is closed, then looks again. Every value a spinner can read
//! is still read (before the window, inside it once, after it); every spin beyond the first
//! would read what the first read, which is why leaving them out loses nothing. The window is
//! no kernel lock, and takes no step of the trace.

use std::sync::Mutex as StdMutex;

use super::sync;

/// A window during which other threads can only spin.
pub struct SpinWait {
    lock: sync::RwLock<()>,
    /// The writer's hold while the window is open (out of band).
    open: StdMutex<Option<sync::RwLockWriteGuard<'static, ()>>>,
}

// SAFETY: the only field that is not `Send` and `Sync` is the write guard kept in `open`, behind
// a mutex. The thread that opens a window closes it (`cgroup_clear_css_refs` does both in one
// call, the last `deactivate_super` both in its call chain), so the guard is dropped where it was taken, except when that thread panicked in
// between (a violation), and then `Drop` forgets it, releasing nothing.
unsafe impl Send for SpinWait {}
// SAFETY: as for `Send`: shared access only reaches the guard through the mutex.
unsafe impl Sync for SpinWait {}

impl std::fmt::Debug for SpinWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpinWait")
    }
}

impl Default for SpinWait {
    fn default() -> Self {
        Self::new()
    }
}

impl SpinWait {
    /// A closed window.
    pub fn new() -> Self {
        Self {
            lock: sync::RwLock::new(()),
            open: StdMutex::new(None),
        }
    }

    fn hold(&self) -> std::sync::MutexGuard<'_, Option<sync::RwLockWriteGuard<'static, ()>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens the window (if it is not already), before the store that makes others spin.
    pub fn open(&self) {
        if self.hold().is_some() {
            return;
        }
        let g = self.lock.write().unwrap_or_else(|e| e.into_inner());
        // SAFETY: the guard borrows `self.lock` and lives in `self.open`; `close` drops it, and
        // `Drop` forgets it before the fields go: it is never used after `self`.
        let g = unsafe {
            std::mem::transmute::<sync::RwLockWriteGuard<'_, ()>, sync::RwLockWriteGuard<'static, ()>>(
                g,
            )
        };
        *self.hold() = Some(g);
    }

    /// Closes the window (if it is open), after the store that ends the wait.
    pub fn close(&self) {
        let g = self.hold().take();
        drop(g);
    }

    /// A spinner found the wait in force: it blocks until the window is closed.
    pub fn spin(&self) {
        drop(self.lock.read().unwrap_or_else(|e| e.into_inner()));
    }
}

impl Drop for SpinWait {
    fn drop(&mut self) {
        // The hold borrows `lock`, so it must go first; it is forgotten, not released. An
        // object dropped with its window open belonged to an execution that stopped in it (a
        // violation), and may be dropped outside that execution, where loom's release would
        // panic; nobody can be waiting, since a spinner keeps the object alive.
        let g = self.hold().take();
        std::mem::forget(g);
    }
}
