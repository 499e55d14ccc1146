//! Small programs whose Mazurkiewicz class counts are known in closed form, in the shapes of
//! GenMC's and Nidhugg's benchmark programs, run under loom with and without its reduction
//! (`vendor/loom/PATCH.md`): the executions loom runs for each, against the count an optimal
//! DPOR checker runs, which is the class count.
//!
//! Each program is written with the model's traced primitives (`cgmodel::sim`), so that the
//! class counter of [`cgmodel::sim::foata`] sees its steps, and counts what the closed form says.

use std::sync::{Arc, Mutex};

use cgmodel::sim::atomic::AtomicUsize;
use cgmodel::sim::foata::Classes;
use cgmodel::sim::lockdep::KMutex;
use cgmodel::sim::sync::{self, Ordering};
use cgmodel::{Cx, Sink};
use serde::Serialize;

/// A program shape, with its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// `n` threads that each load one shared variable: one class.
    Readers(usize),
    /// One thread stores a shared variable that `n` others load. Nothing orders a load after
    /// the store with it, so such a load may still read the old value: each load comes before
    /// the store, after it reading it, or after it reading the old value, `3^n` classes of
    /// the counter, which orders steps and records what each load read. (GenMC, which counts
    /// reads-from, not orders, has `2^n`: Abdulla et al.'s "readers".)
    ReadersWriter(usize),
    /// `n` threads that each lock one mutex, increment a shared counter and unlock: the order
    /// of the critical sections, `n!` classes.
    LockIncrements(usize),
    /// `n` threads that take a ticket with `fetch_add`, wait for their turn, increment a
    /// counter and serve the next ticket: the order of the tickets, `n!` classes. The wait
    /// blocks until the previous holder hands over (the spin of the C program, as GenMC
    /// counts it: an await, not one execution per failed spin).
    TicketLock(usize),
}

impl Shape {
    /// Its name, as tables print it.
    pub fn name(self) -> String {
        match self {
            Shape::Readers(n) => format!("{n} readers"),
            Shape::ReadersWriter(n) => format!("{n} readers, 1 writer"),
            Shape::LockIncrements(n) => format!("{n} lock-increment threads"),
            Shape::TicketLock(n) => format!("ticket lock, {n} threads"),
        }
    }

    /// The classes in closed form: what an optimal DPOR checker explores.
    pub fn classes(self) -> u64 {
        let fact = |n: usize| (1..=n as u64).product::<u64>();
        match self {
            Shape::Readers(_) => 1,
            Shape::ReadersWriter(n) => 3u64.pow(n as u32),
            Shape::LockIncrements(n) | Shape::TicketLock(n) => fact(n),
        }
    }

    /// The threads (loom allows 4 besides the main one).
    fn threads(self) -> usize {
        match self {
            Shape::Readers(n) | Shape::LockIncrements(n) | Shape::TicketLock(n) => n,
            Shape::ReadersWriter(n) => n + 1,
        }
    }
}

/// The catalog of shapes `cgcheck shapes` runs: every size loom takes up to four threads.
pub fn all() -> Vec<Shape> {
    let mut v = Vec::new();
    for n in 2..=4 {
        v.push(Shape::Readers(n));
    }
    for n in 1..=3 {
        v.push(Shape::ReadersWriter(n));
    }
    for n in 2..=4 {
        v.push(Shape::LockIncrements(n));
    }
    for n in 2..=4 {
        v.push(Shape::TicketLock(n));
    }
    v
}

/// One shape run one way.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    /// Executions run to their end.
    pub executions: u64,
    /// Executions stopped early as repeats.
    pub stopped: u64,
    /// Classes among them.
    pub classes: u64,
}

/// The state one execution of a shape shares between its threads.
struct State {
    x: AtomicUsize,
    next: AtomicUsize,
    serving: AtomicUsize,
    lock: KMutex,
    /// The ticket lock's hand-over, out of band (no step): the ticket served last, and the
    /// thread waiting for each ticket, which its predecessor unparks.
    served: Mutex<(usize, Vec<Option<loom::thread::Thread>>)>,
}

/// Thread `tid` of `shape`.
fn thread(shape: Shape, tid: usize, s: &State, cx: &Cx) {
    match shape {
        Shape::Readers(_) => {
            s.x.load(Ordering::Acquire);
        }
        Shape::ReadersWriter(_) if tid == 1 => s.x.store(1, Ordering::Release),
        Shape::ReadersWriter(_) => {
            s.x.load(Ordering::Acquire);
        }
        Shape::LockIncrements(_) => {
            let _g = s.lock.lock(cx);
            let v = s.x.load(Ordering::Relaxed);
            s.x.store(v + 1, Ordering::Relaxed);
        }
        Shape::TicketLock(_) => {
            let t = s.next.fetch_add(1, Ordering::Relaxed);
            // Wait for the turn: no step until it has come (loom's park and unpark).
            let wait = {
                let mut w = s.served.lock().unwrap();
                (w.0 != t).then(|| w.1[t] = Some(loom::thread::current()))
            };
            if wait.is_some() {
                loom::thread::park();
            }
            // The turn has come (the predecessor served it, or unparked this thread): read it
            // with a read-modify-write, which reads the latest value, as the C program's spin
            // would in the end. A plain load could read an older value, since the out-of-band
            // hand-over above is no happens-before edge loom sees.
            let serving = s.serving.fetch_add(0, Ordering::Acquire);
            assert_eq!(serving, t, "ticket {t} served out of turn");
            let v = s.x.load(Ordering::Relaxed);
            s.x.store(v + 1, Ordering::Relaxed);
            s.serving.store(t + 1, Ordering::Release);
            let next = {
                let mut w = s.served.lock().unwrap();
                w.0 = t + 1;
                w.1.get_mut(t + 1).and_then(Option::take)
            };
            if let Some(th) = next {
                th.unpark();
            }
        }
    }
}

/// Runs `shape` under loom, reduced or not.
pub fn run(shape: Shape, reduce: bool) -> Run {
    let tally = Arc::new(Mutex::new((0u64, 0u64, Classes::default())));
    let t2 = tally.clone();
    let mut b = loom::model::Builder::new();
    b.sleep_sets = reduce;
    b.enabling_order = reduce;
    b.check(move || {
        t2.lock().unwrap().0 += 1;
        let sink = Arc::new(Sink::default());
        let n = shape.threads();
        let s = sync::Arc::new(State {
            x: AtomicUsize::named(0, "x"),
            next: AtomicUsize::named(0, "next"),
            serving: AtomicUsize::named(0, "serving"),
            lock: KMutex::new("lock"),
            served: Mutex::new((0, vec![None; n + 1])),
        });
        let handles: Vec<_> = (2..=n)
            .map(|tid| {
                let (s, sink) = (s.clone(), sink.clone());
                sync::spawn(move || {
                    let cx = Cx::new(tid, "thread", sink, true, None);
                    cx.install_trace();
                    thread(shape, tid, &s, &cx);
                })
            })
            .collect();
        let cx = Cx::new(1, "thread", sink.clone(), true, None);
        cx.install_trace();
        thread(shape, 1, &s, &cx);
        for h in handles {
            h.join().unwrap();
        }
        let mut t = t2.lock().unwrap();
        t.1 += 1;
        sink.trace.with(|e| t.2.add(e));
    });
    let t = tally.lock().unwrap();
    Run {
        executions: t.1,
        stopped: t.0 - t.1,
        classes: t.2.len(),
    }
}

/// One shape both ways, against its closed form.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The shape.
    pub shape: String,
    /// The closed form's classes.
    pub expected: u64,
    /// loom without the reduction.
    pub unreduced: Run,
    /// loom with it.
    pub reduced: Run,
}

/// Every shape of [`all`], both ways.
pub fn rows() -> Vec<Row> {
    all()
        .into_iter()
        .map(|s| Row {
            shape: s.name(),
            expected: s.classes(),
            unreduced: run(s, false),
            reduced: run(s, true),
        })
        .collect()
}

/// The table `cgcheck shapes` prints.
pub fn table(rows: &[Row]) -> String {
    use std::fmt::Write as _;
    let mut s = format!(
        "{:<26} {:>8} {:>22} {:>22}\n",
        "program", "classes", "loom: executions/cls", "reduced: ex+stop/cls"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{:<26} {:>8} {:>22} {:>22}",
            r.shape,
            r.expected,
            format!("{}/{}", r.unreduced.executions, r.unreduced.classes),
            format!(
                "{}+{}/{}",
                r.reduced.executions, r.reduced.stopped, r.reduced.classes
            )
        );
    }
    s
}
