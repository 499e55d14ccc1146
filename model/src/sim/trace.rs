//! Traces: every step a model thread takes, in kernel vocabulary, recorded per execution, and the
//! turnstile that replays a recorded trace on real threads.
//!
//! A *step* is an access to shared state: a lock taken or released, an atomic read or written, an
//! object looked up, allocated or freed, a system call entered or left. Each is recorded as an
//! [`Event`]: the thread, the innermost kernel function, what happened and, for atomics, the values
//! before and after. Recording happens right *after* the access, which in loom and shuttle is also
//! right after the checker's scheduling point, so the recorded order is the order of the accesses.
//!
//! Replay runs the same plan on the std backend with a [`Turnstile`] ([`super::replay`]): before
//! each access a thread waits until the trace says it is its turn, so real threads follow the
//! recorded interleaving exactly.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use super::arena::slot_name;
pub use super::foata::Access;
pub use super::replay::{ReplayStop, Turnstile};

/// What a step did.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum What {
    /// A system call starts (the step text).
    Op(Arc<str>),
    /// It returns (the result).
    Ret(Arc<str>),
    /// An atomic access.
    Atomic {
        /// `load`, `store`, `fetch_add`...
        op: &'static str,
        /// The field (`css_set.refcount`; `task.cgroups:css_set` for a pointer), or empty.
        field: &'static str,
        /// The value before.
        before: i64,
        /// The value after.
        after: i64,
    },
    /// A lock step.
    Lock {
        /// The lock's kernel name.
        lock: Arc<str>,
        /// `lock`, `unlock`, `read_lock`, `read_unlock`, `write_lock`, `write_unlock`.
        op: &'static str,
    },
    /// An object step.
    Obj {
        /// `deref`, `kmalloc`, `kfree`.
        op: &'static str,
        /// The object's kind (`css_set`).
        kind: &'static str,
        /// Its index.
        idx: u32,
    },
    /// The violation that ends the trace.
    Violation(String),
}

/// Where a step is in the kernel source: the innermost kernel function, its file and the line
/// of the statement the step models. `inserted` marks code a design or fault adds after that
/// line (rendered `cgroup.c:1025+`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Site {
    /// The kernel function.
    pub func: &'static str,
    /// Its file (`kernel/cgroup.c`).
    pub file: &'static str,
    /// The line.
    pub line: u32,
    /// Code that is not in the kernel, inserted after `line`.
    pub inserted: bool,
}

impl Site {
    /// Outside any kernel function (the harness itself).
    pub const NONE: Site = Site {
        func: "-",
        file: "",
        line: 0,
        inserted: false,
    };

    /// `cgroup.c:1727`, or `cgroup.c:1025+` for inserted code; empty outside the kernel.
    pub fn location(&self) -> String {
        if self.file.is_empty() {
            return String::new();
        }
        let base = self.file.rsplit('/').next().unwrap_or(self.file);
        format!(
            "{base}:{}{}",
            self.line,
            if self.inserted { "+" } else { "" }
        )
    }
}

/// One recorded step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Model thread.
    pub tid: usize,
    /// Innermost kernel function.
    pub func: &'static str,
    /// The kernel line the step models.
    pub site: Site,
    /// What happened.
    pub what: What,
    /// The object it touched, for independence (not written to trace files).
    pub access: Access,
}

impl Event {
    /// The step without its values: what replay matches before letting the access happen.
    pub fn key(&self) -> String {
        let w = match &self.what {
            What::Op(s) => format!("syscall {s}"),
            What::Ret(s) => format!("returns {s}"),
            What::Atomic { op, field: "", .. } => format!("atomic {op}"),
            What::Atomic { op, field, .. } => {
                format!("{} {op}", field.split(':').next().unwrap_or(field))
            }
            What::Lock { lock, op } => format!("{op} {lock}"),
            // The index a kmalloc returns is known only after it: not part of the key.
            What::Obj {
                op: "kmalloc",
                kind,
                ..
            } => format!("kmalloc {kind}"),
            What::Obj { op, kind, idx } => format!("{op} {kind} #{}", slot_name(*idx)),
            What::Violation(_) => "VIOLATION".to_string(),
        };
        format!("T{} {:<28} {w}", self.tid, self.func)
    }

    /// The timeline line (without its number): the step, then its kernel line.
    pub fn render(&self) -> String {
        let loc = self.site.location();
        let body = self.render_body();
        if loc.is_empty() {
            body
        } else {
            format!("{body}  {loc}")
        }
    }

    fn render_body(&self) -> String {
        match &self.what {
            What::Obj {
                op: "kmalloc", idx, ..
            } => format!("{} #{}", self.key(), slot_name(*idx)),
            What::Atomic {
                before,
                after,
                field,
                ..
            } => {
                let show = |v: i64| match field.split_once(':') {
                    Some((_, kind)) if v == 0 => format!("NULL ({kind})"),
                    Some((_, kind)) => format!("{kind} #{}", slot_name((v - 1) as u32)),
                    None => v.to_string(),
                };
                if before != after {
                    format!("{} {} -> {}", self.key(), show(*before), show(*after))
                } else {
                    format!("{} = {}", self.key(), show(*before))
                }
            }
            What::Violation(v) => format!("{} {v}", self.key()),
            _ => self.key(),
        }
    }
}

/// The events of one execution.
#[derive(Debug, Default)]
pub struct Recorder {
    events: Mutex<Vec<Event>>,
}

impl Recorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Event>> {
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn push(&self, e: Event) {
        self.lock().push(e);
    }
    /// Every event so far.
    pub fn events(&self) -> Vec<Event> {
        self.lock().clone()
    }
    /// `f` of every event so far, without copying them.
    pub fn with<R>(&self, f: impl FnOnce(&[Event]) -> R) -> R {
        f(&self.lock())
    }
}

struct ThreadCtx {
    tid: usize,
    recorder: Arc<Recorder>,
    turnstile: Option<Arc<Turnstile>>,
    frames: Rc<RefCell<Vec<Site>>>,
    quiet: Cell<u32>,
}

/// How many installed thread contexts replay a trace, in this process (out of band: a std
/// atomic, not a model step). While none does, [`before`] has nothing to wait for and skips the
/// thread-local lookup, which under loom and shuttle is a hash-map lookup per step.
static REPLAYING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Drop for ThreadCtx {
    fn drop(&mut self) {
        if self.turnstile.is_some() {
            REPLAYING.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

super::sync::thread_local! {
    // Not `const`: loom's and shuttle's thread_local! take only the plain form.
    #[allow(clippy::missing_const_for_thread_local)]
    static CTX: RefCell<Option<ThreadCtx>> = RefCell::new(None);
}

/// Whether steps are recorded at all (on by default; `cgcheck bench` turns it off to measure what
/// recording costs). Replay always records.
static RECORDING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Turns recording on or off for every thread (out of band: a std atomic, not a model step).
pub fn set_recording(on: bool) {
    RECORDING.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Runs `f` on this thread's context, if it has one and can be reached: never while unwinding
/// (guards dropping after a violation, or a checker tearing an execution down).
fn with_ctx<R: Default>(f: impl FnOnce(&ThreadCtx) -> R) -> R {
    if std::thread::panicking() {
        return R::default();
    }
    CTX.try_with(|c| c.borrow().as_ref().map(f).unwrap_or_default())
        .unwrap_or_default()
}

/// Makes the calling thread record into `recorder` as model thread `tid` (and, when replaying,
/// wait for its turns at `turnstile`). `frames` is the thread's kernel-function stack.
pub fn install(
    tid: usize,
    recorder: Arc<Recorder>,
    turnstile: Option<Arc<Turnstile>>,
    frames: Rc<RefCell<Vec<Site>>>,
) {
    if turnstile.is_some() {
        REPLAYING.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    CTX.with(|c| {
        *c.borrow_mut() = Some(ThreadCtx {
            tid,
            recorder,
            turnstile,
            frames,
            quiet: Cell::new(0),
        })
    });
}

/// Runs `f` without recording or gating (out-of-band reads: invariant checks, observers).
pub fn quiet<R>(f: impl FnOnce() -> R) -> R {
    with_ctx(|ctx| ctx.quiet.set(ctx.quiet.get() + 1));
    let r = f();
    with_ctx(|ctx| ctx.quiet.set(ctx.quiet.get().saturating_sub(1)));
    r
}

/// The model thread this thread runs as (0, the setup thread, where none is installed).
pub fn current_tid() -> usize {
    CTX.try_with(|c| c.borrow().as_ref().map_or(0, |c| c.tid))
        .unwrap_or(0)
}

/// Whether this thread is replaying a trace.
pub fn replaying() -> bool {
    with_ctx(|x| x.turnstile.is_some())
}

/// The point between looking an object up and using it, where shuttle and loom may switch
/// threads ([`super::sync::pointer_use_point`]). When another thread took steps since this
/// thread's lookup, a `use` step is recorded, so that the trace shows the use coming after them;
/// when replaying, a recorded `use` step is waited for, so that those steps (a `kfree`) happen
/// before the use, as they did in the recorded execution.
pub fn use_point(kind: &'static str, idx: u32, access: Access) {
    with_ctx(|ctx| {
        if ctx.quiet.get() > 0 {
            return;
        }
        let site = ctx.frames.borrow().last().copied().unwrap_or(Site::NONE);
        let e = Event {
            tid: ctx.tid,
            func: site.func,
            site,
            what: What::Obj {
                op: "use",
                kind,
                idx,
            },
            access,
        };
        match &ctx.turnstile {
            Some(t) if t.take_if_next(ctx.tid, &e.key()) => ctx.recorder.push(e),
            Some(_) => {}
            None if RECORDING.load(std::sync::atomic::Ordering::Relaxed) => {
                let mut events = ctx.recorder.lock();
                if events.last().is_some_and(|l| l.tid != ctx.tid) {
                    events.push(e);
                }
            }
            None => {}
        }
    })
}

/// Before an access: when replaying, wait for this step's turn.
pub fn before(what: &What) {
    if REPLAYING.load(std::sync::atomic::Ordering::Relaxed) == 0 {
        return;
    }
    with_ctx(|ctx| {
        if ctx.quiet.get() > 0 {
            return;
        }
        if let Some(t) = &ctx.turnstile {
            let site = ctx.frames.borrow().last().copied().unwrap_or(Site::NONE);
            let e = Event {
                tid: ctx.tid,
                func: site.func,
                site,
                what: what.clone(),
                access: Access::Local,
            };
            let key = e.key();
            t.gate(ctx.tid, &key);
        }
    })
}

/// After an access to `access`: record it.
pub fn after(what: What, access: Access) {
    with_ctx(|ctx| {
        // Steps of a thread unwinding from its violation (guards dropping) are not part of the
        // interleaving that led to it: the trace ends at the violation.
        if ctx.quiet.get() > 0 || std::thread::panicking() {
            return;
        }
        if ctx.turnstile.is_none() && !RECORDING.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let site = ctx.frames.borrow().last().copied().unwrap_or(Site::NONE);
        ctx.recorder.push(Event {
            tid: ctx.tid,
            func: site.func,
            site,
            what,
            access,
        });
        if let Some(t) = &ctx.turnstile {
            if !std::thread::panicking() {
                t.done();
            }
        }
    })
}

/// A step on `access`: gate, then `f` (the access), then record.
pub fn step<R>(what: What, access: Access, f: impl FnOnce() -> R) -> R {
    before(&what);
    let r = f();
    after(what, access);
    r
}

/// Before an atomic access (used by the wrappers in [`super::atomic`]).
pub fn atomic(op: &'static str, field: &'static str) {
    before(&What::Atomic {
        op,
        field,
        before: 0,
        after: 0,
    });
}

/// After an atomic access to `access`: record it with its values.
pub fn atomic_done(op: &'static str, field: &'static str, before: i64, after: i64, access: Access) {
    self::after(
        What::Atomic {
            op,
            field,
            before,
            after,
        },
        access,
    );
}

/// Records the violation that ends this thread's execution.
pub fn violation(text: &str) {
    with_ctx(|ctx| {
        let site = ctx.frames.borrow().last().copied().unwrap_or(Site::NONE);
        ctx.recorder.push(Event {
            tid: ctx.tid,
            func: site.func,
            site,
            what: What::Violation(text.to_string()),
            access: Access::Local,
        });
        if let Some(t) = &ctx.turnstile {
            t.violation(ctx.tid);
        }
    })
}
