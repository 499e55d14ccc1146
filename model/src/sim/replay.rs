//! The turnstile that replays a recorded trace on real threads.
//!
//! Replay runs the same plan on the std backend: before each access a thread waits at the
//! [`Turnstile`] until the trace says it is its turn, so real threads follow the recorded
//! interleaving exactly. The schedule is therefore expressed in the trace's own steps (the thread
//! column of the timeline), not in any checker's encoding: code changes that do not touch the
//! steps of a trace leave it replayable, and ones that do are reported as a divergence at a line.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Replays a schedule: the expected step keys, in order.
#[derive(Debug)]
pub struct Turnstile {
    expected: Vec<(usize, String)>,
    state: Mutex<TurnState>,
    cv: Condvar,
}

#[derive(Debug, Default)]
struct TurnState {
    pos: usize,
    error: Option<String>,
    stop: bool,
    exited: Vec<usize>,
}

/// How long a thread waits for its turn before the replay is declared stuck.
const TURN_TIMEOUT: Duration = Duration::from_secs(5);

impl Turnstile {
    /// A turnstile for `expected` (thread, key) steps.
    pub fn new(expected: Vec<(usize, String)>) -> Self {
        Self {
            expected,
            state: Mutex::new(TurnState::default()),
            cv: Condvar::new(),
        }
    }

    fn st(&self) -> std::sync::MutexGuard<'_, TurnState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Steps consumed so far.
    pub fn position(&self) -> usize {
        self.st().pos
    }

    /// The first divergence, if any.
    pub fn error(&self) -> Option<String> {
        self.st().error.clone()
    }

    /// Whether every recorded step was taken.
    pub fn finished(&self) -> bool {
        self.st().pos >= self.expected.len()
    }

    /// Releases every waiting thread (they panic out of their gate).
    pub fn stop(&self) {
        self.st().stop = true;
        self.cv.notify_all();
    }

    /// Waits until step `key` of thread `tid` is the next one. The thread then holds the turn
    /// until [`Turnstile::done`], so the access itself happens in the recorded order. A thread
    /// whose next recorded step is the violation passes without taking the turn.
    pub(super) fn gate(&self, tid: usize, key: &str) {
        if std::thread::panicking() {
            return;
        }
        let mut st = self.st();
        loop {
            if st.stop || st.error.is_some() {
                drop(st);
                std::panic::panic_any(ReplayStop);
            }
            if st.pos >= self.expected.len() {
                // Past the end of the trace (a deadlock's threads end here): wait for the stop.
                let (g, _) = self
                    .cv
                    .wait_timeout(st, Duration::from_millis(300))
                    .unwrap_or_else(|e| e.into_inner());
                st = g;
                st.stop = true;
                self.cv.notify_all();
                continue;
            }
            let (etid, ekey) = &self.expected[st.pos];
            if *etid == tid {
                if ekey.ends_with("VIOLATION") {
                    return;
                }
                if ekey != key {
                    st.error = Some(format!(
                        "diverged at step {}: the trace has `{}`, the replay took `{}`",
                        st.pos + 1,
                        ekey.trim_end(),
                        key.trim_end()
                    ));
                    self.cv.notify_all();
                    continue;
                }
                return;
            }
            if st.exited.contains(etid) && st.error.is_none() {
                st.error = Some(format!(
                    "stuck at step {}: T{etid} finished without taking `{}`",
                    st.pos + 1,
                    ekey.trim_end()
                ));
                self.cv.notify_all();
                continue;
            }
            let (g, to) = self
                .cv
                .wait_timeout(st, TURN_TIMEOUT)
                .unwrap_or_else(|e| e.into_inner());
            st = g;
            if to.timed_out() && st.error.is_none() && !st.stop && st.pos < self.expected.len() {
                st.error = Some(format!(
                    "stuck at step {}: T{} never took `{}`",
                    st.pos + 1,
                    self.expected[st.pos].0,
                    self.expected[st.pos].1.trim_end()
                ));
                self.cv.notify_all();
            }
        }
    }

    /// Takes the optional step `key` if it is `tid`'s next recorded one (waiting for its turn),
    /// and says whether it did; otherwise returns at once.
    pub(super) fn take_if_next(&self, tid: usize, key: &str) -> bool {
        let mut st = self.st();
        let next = (st.pos..self.expected.len()).find(|&i| self.expected[i].0 == tid);
        match next {
            Some(i) if self.expected[i].1 == key => {
                while st.pos < i && !st.stop && st.error.is_none() {
                    let (g, to) = self
                        .cv
                        .wait_timeout(st, TURN_TIMEOUT)
                        .unwrap_or_else(|e| e.into_inner());
                    st = g;
                    if to.timed_out() {
                        return false;
                    }
                }
                if st.pos != i {
                    return false;
                }
                st.pos += 1;
                self.cv.notify_all();
                true
            }
            _ => false,
        }
    }

    /// The step whose turn this thread holds is done: the next one may go.
    pub(super) fn done(&self) {
        let mut st = self.st();
        st.pos += 1;
        self.cv.notify_all();
    }

    /// Model thread `tid` has finished (normally or not): a step still expected from it will
    /// never come.
    pub fn exit(&self, tid: usize) {
        let mut st = self.st();
        st.exited.push(tid);
        self.cv.notify_all();
    }

    /// The violation of the replay matches the recorded one: consume its marker.
    pub fn violation(&self, tid: usize) {
        let mut st = self.st();
        if let Some((etid, ekey)) = self.expected.get(st.pos) {
            if *etid == tid && ekey.ends_with("VIOLATION") {
                st.pos += 1;
            }
        }
        self.cv.notify_all();
    }
}

/// The panic payload that ends a replay thread when the replay stops or diverges.
#[derive(Debug)]
pub struct ReplayStop;
