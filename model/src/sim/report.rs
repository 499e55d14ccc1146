//! Violations the model reports, and the sink they go to.

use std::fmt;

/// The class of a violation, so harnesses can match on it without parsing text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ViolationKind {
    /// An access through a handle whose object was freed (KASAN's use-after-free).
    UseAfterFree,
    /// A protected field touched without the lock that protects it (lockdep / KCSAN by lockset).
    LockNotHeld,
    /// A named invariant does not hold.
    Invariant,
    /// A `BUG_ON` / `WARN_ON` in the kernel code fired, or a NULL or wrong-type dereference.
    Bug,
    /// An object still allocated at the end of the execution that nothing reaches.
    Leak,
    /// Two accesses to a cell not ordered by any lock or atomic (loom's causality check).
    DataRace,
    /// Every thread blocked (loom's deadlock check).
    Deadlock,
    /// Any other panic of the execution (a model-checker limit, an assertion).
    Panic,
}

/// One report: what broke, where, and by whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The class.
    pub kind: ViolationKind,
    /// Short name: the invariant's name, the BUG_ON's function, `use-after-free`...
    pub name: String,
    /// Full human-readable description naming the objects and steps.
    pub detail: String,
}

impl Violation {
    /// Builds a violation.
    pub fn new(kind: ViolationKind, name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            kind,
            name: name.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ViolationKind::UseAfterFree => "use-after-free",
            ViolationKind::LockNotHeld => "lockdep",
            ViolationKind::Invariant => "invariant",
            ViolationKind::Bug => "BUG",
            ViolationKind::Leak => "leak",
            ViolationKind::DataRace => "data race",
            ViolationKind::Deadlock => "deadlock",
            ViolationKind::Panic => "panic",
        };
        write!(f, "{kind} [{}]: {}", self.name, self.detail)
    }
}

/// The name of loom's data-race report: the one violation only loom can find.
pub const DATA_RACE: &str = "data-race";

impl Violation {
    /// Classifies a panic that the model did not report itself (loom's data-race, deadlock and
    /// leak checks, or any other panic) from its message.
    pub fn from_panic(msg: &str) -> Violation {
        let first = msg.lines().next().unwrap_or("").trim().to_string();
        if msg.contains("Causality violation") {
            Violation::new(ViolationKind::DataRace, DATA_RACE, first)
        } else if msg.to_lowercase().contains("deadlock") {
            Violation::new(ViolationKind::Deadlock, "deadlock", first)
        } else if msg.contains("leak") {
            Violation::new(ViolationKind::Leak, "loom-leak", first)
        } else {
            Violation::new(ViolationKind::Panic, "panic", first)
        }
    }
}

/// Where violations go: an out-of-band, shared sink, with the execution's trace. The first
/// violation recorded is the verdict of the execution; the model then panics so every engine stops
/// the execution there.
#[derive(Debug, Default)]
pub struct Sink {
    violations: std::sync::Mutex<Vec<Violation>>,
    /// The preemptions loom's execution had taken at the first violation (None elsewhere).
    preemptions: std::sync::Mutex<Option<usize>>,
    /// The steps of the execution ([`super::trace`]).
    pub trace: std::sync::Arc<super::trace::Recorder>,
    /// When replaying: the turnstile every thread of the execution follows.
    pub turnstile: Option<std::sync::Arc<super::trace::Turnstile>>,
    /// The lock-order graph, shared by every execution of a run ([`super::lockdep::LockGraph`]).
    pub lock_graph: std::sync::Arc<super::lockdep::LockGraph>,
}

impl Sink {
    /// A sink whose execution adds to `graph`, the lock graph of its run.
    pub fn with_lock_graph(graph: std::sync::Arc<super::lockdep::LockGraph>) -> Self {
        Sink {
            lock_graph: graph,
            ..Sink::default()
        }
    }

    /// A sink whose execution replays `t`.
    pub fn replaying(t: std::sync::Arc<super::trace::Turnstile>) -> Self {
        Sink {
            turnstile: Some(t),
            ..Sink::default()
        }
    }

    /// Records `v` and panics with its text (the panic is how loom and shuttle see a failure).
    pub fn fail(&self, v: Violation) -> ! {
        let msg = v.to_string();
        super::trace::violation(&msg);
        let mut vs = self.lock();
        if vs.is_empty() {
            *self.preemptions.lock().unwrap_or_else(|e| e.into_inner()) =
                super::sync::preemptions();
        }
        vs.push(v);
        drop(vs);
        panic!("{msg}");
    }
    /// The preemptions loom's execution had taken when the first violation was recorded.
    pub fn preemptions(&self) -> Option<usize> {
        *self.preemptions.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// Records `v` without panicking (used by end-of-run checks that collect every break).
    pub fn record(&self, v: Violation) {
        self.lock().push(v);
    }
    /// The first violation recorded, if any.
    pub fn first(&self) -> Option<Violation> {
        self.lock().first().cloned()
    }
    /// Every violation recorded.
    pub fn all(&self) -> Vec<Violation> {
        self.lock().clone()
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Violation>> {
        self.violations.lock().unwrap_or_else(|e| e.into_inner())
    }
}
