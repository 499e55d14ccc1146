//! Sleep sets and enabling order (`Builder::sleep_sets`, `Builder::enabling_order`) against
//! the exploration without them, on random small programs: every behaviour (what each thread
//! read, in which order each lock was taken, the final values) that the full exploration
//! reaches, the reduced one reaches too, and it runs fewer executions.

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex, RwLock};
use loom::thread;

use std::collections::BTreeSet;
use std::sync::Mutex as StdMutex;

/// A step of a thread.
#[derive(Clone, Debug)]
enum Op {
    Load(usize, Ordering),
    Store(usize, Ordering),
    FetchAdd(usize),
    /// A critical section of the mutex around the steps.
    Locked(Vec<Op>),
    /// A read (false) or write (true) section of the rwlock around the steps.
    Rw(bool, Vec<Op>),
    /// `thread::stop_the_world` around the steps (atomic ones only).
    Stop(Vec<Op>),
}

/// How `Op::Stop` runs.
#[derive(Clone, Copy, PartialEq)]
enum World {
    /// `thread::stop_the_world`.
    Stop,
    /// What it must be equivalent to: every thread has a mutex that each of its atomic steps
    /// holds, and the section holds every thread's (one lock per thread, so that the locks
    /// order no two other steps).
    Emulated,
}

/// xorshift64*: a fixed sequence per seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) % n
    }
}

fn atomic_op(r: &mut Rng) -> Op {
    let orders = [Ordering::Relaxed, Ordering::Acquire, Ordering::SeqCst];
    let store_orders = [Ordering::Relaxed, Ordering::Release, Ordering::SeqCst];
    let a = r.next(2) as usize;
    match r.next(3) {
        0 => Op::Load(a, orders[r.next(3) as usize]),
        1 => Op::Store(a, store_orders[r.next(3) as usize]),
        _ => Op::FetchAdd(a),
    }
}

fn op(r: &mut Rng, depth: u32) -> Op {
    match r.next(if depth == 0 { 9 } else { 6 }) {
        0..=5 => atomic_op(r),
        6 => Op::Locked((0..1 + r.next(2)).map(|_| op(r, 1)).collect()),
        _ => Op::Rw(
            r.next(2) == 0,
            (0..1 + r.next(2)).map(|_| op(r, 1)).collect(),
        ),
    }
}

/// `program(seed)` with one `Op::Stop` of one or two atomic steps inserted in one thread.
fn program_with_stop(seed: u64) -> Vec<Vec<Op>> {
    let mut prog = program(seed);
    let mut r = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
    let t = r.next(prog.len() as u64) as usize;
    let at = r.next(prog[t].len() as u64 + 1) as usize;
    let stop = Op::Stop((0..1 + r.next(2)).map(|_| atomic_op(&mut r)).collect());
    prog[t].insert(at, stop);
    prog
}

fn program(seed: u64) -> Vec<Vec<Op>> {
    let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let threads = 2 + r.next(2) as usize;
    (0..threads)
        .map(|_| {
            (0..1 + r.next(if threads == 2 { 3 } else { 2 }))
                .map(|_| op(&mut r, 0))
                .collect()
        })
        .collect()
}

struct Shared {
    atomics: [AtomicUsize; 2],
    mutex: Mutex<()>,
    rw: RwLock<()>,
    /// `World::Emulated`'s locks, one per thread.
    world: [Mutex<()>; 3],
    /// Out of band: how many sections each lock has had (read inside the section).
    entered: StdMutex<[usize; 2]>,
}

/// Where a thread runs: how `Op::Stop` runs, and whether inside one.
#[derive(Clone, Copy)]
struct Mode {
    world: World,
    stopped: bool,
}

fn run(t: usize, ops: &[Op], s: &Shared, seen: &mut Vec<usize>, step: &mut usize, m: Mode) {
    for o in ops {
        *step += 1;
        let unique = (t + 1) * 100 + *step;
        let _w = (m.world == World::Emulated
            && !m.stopped
            && matches!(o, Op::Load(..) | Op::Store(..) | Op::FetchAdd(..)))
        .then(|| s.world[t].lock().unwrap());
        match o {
            Op::Load(a, ord) => seen.push(s.atomics[*a].load(*ord)),
            Op::Store(a, ord) => s.atomics[*a].store(unique, *ord),
            Op::FetchAdd(a) => seen.push(s.atomics[*a].fetch_add(1, Ordering::AcqRel)),
            Op::Stop(inner) => {
                let inside = Mode { stopped: true, ..m };
                if m.world == World::Stop {
                    thread::stop_the_world(|| run(t, inner, s, seen, step, inside));
                } else {
                    let _g: Vec<_> = s.world.iter().map(|l| l.lock().unwrap()).collect();
                    run(t, inner, s, seen, step, inside);
                }
            }
            Op::Locked(inner) => {
                let _g = s.mutex.lock().unwrap();
                seen.push(1000 + enter(s, 0));
                run(t, inner, s, seen, step, m);
            }
            Op::Rw(write, inner) => {
                if *write {
                    let _g = s.rw.write().unwrap();
                    seen.push(2000 + enter(s, 1));
                    run(t, inner, s, seen, step, m);
                } else {
                    let _g = s.rw.read().unwrap();
                    run(t, inner, s, seen, step, m);
                }
            }
        }
    }
}

fn enter(s: &Shared, lock: usize) -> usize {
    let mut e = s.entered.lock().unwrap();
    e[lock] += 1;
    e[lock]
}

/// Every behaviour of `prog`, and the executions it took, with the reduction or without.
fn behaviours(prog: &[Vec<Op>], reduce: bool) -> (BTreeSet<Vec<Vec<usize>>>, usize) {
    behaviours_in(prog, reduce, World::Stop)
}

/// [`behaviours`], with `Op::Stop` run as `world` says.
fn behaviours_in(
    prog: &[Vec<Op>],
    reduce: bool,
    world: World,
) -> (BTreeSet<Vec<Vec<usize>>>, usize) {
    let m = Mode {
        world,
        stopped: false,
    };
    let out = std::sync::Arc::new(StdMutex::new((BTreeSet::new(), 0)));
    let (o2, prog) = (out.clone(), prog.to_vec());
    let mut b = loom::model::Builder::new();
    b.sleep_sets = reduce && std::env::var("REDUCTION_NO_SS").is_err();
    b.enabling_order = reduce && std::env::var("REDUCTION_NO_EO").is_err();
    b.check(move || {
        let s = Arc::new(Shared {
            atomics: [AtomicUsize::new(0), AtomicUsize::new(0)],
            mutex: Mutex::new(()),
            rw: RwLock::new(()),
            world: [Mutex::new(()), Mutex::new(()), Mutex::new(())],
            entered: StdMutex::new([0, 0]),
        });
        let handles: Vec<_> = prog[1..]
            .iter()
            .enumerate()
            .map(|(i, ops)| {
                let (s, ops) = (s.clone(), ops.clone());
                thread::spawn(move || {
                    let mut seen = Vec::new();
                    run(i + 1, &ops, &s, &mut seen, &mut 0, m);
                    seen
                })
            })
            .collect();
        let mut seen = vec![Vec::new()];
        run(0, &prog[0], &s, &mut seen[0], &mut 0, m);
        for h in handles {
            seen.push(h.join().unwrap());
        }
        seen.push(s.atomics.iter().map(|a| a.load(Ordering::SeqCst)).collect());
        let mut o = o2.lock().unwrap();
        o.0.insert(seen);
        o.1 += 1;
    });
    let o = out.lock().unwrap();
    (o.0.clone(), o.1)
}

/// Seed 897: a read release runs inside the step of the operation before it, not at a
/// schedule point, and a later reader acquires from it. The reduction kept the releasing
/// thread asleep across the other reader's acquisition and lost the interleaving where the
/// second reader acquires before the release (`Execution::read_holder_dependent`); DPOR never
/// raced the two at all (`RwLock`'s `read_releases`). The behaviour it shows is one only loom's
/// partial modification order allows (a final load after a join reads a value the joined
/// thread's store overwrote), but the interleaving under it is real.
#[test]
fn a_read_release_inside_a_step_races_with_the_next_reader() {
    let prog = program(897);
    let (all, _) = behaviours(&prog, false);
    let (kept, _) = behaviours(&prog, true);
    assert!(
        all.is_subset(&kept),
        "lost: {:?}",
        all.difference(&kept).collect::<Vec<_>>()
    );
}

#[test]
fn the_reduction_keeps_every_behaviour_of_random_programs() {
    let (mut full, mut reduced) = (0, 0);
    let seeds: u64 = std::env::var("REDUCTION_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let from: u64 = std::env::var("REDUCTION_FROM")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    for seed in from..seeds {
        let prog = program(seed);
        if std::env::var("REDUCTION_VERBOSE").is_ok() {
            eprintln!("seed {seed}: {prog:?}");
        }
        let (all, n) = behaviours(&prog, false);
        let (kept, m) = behaviours(&prog, true);
        assert!(
            all.is_subset(&kept),
            "seed {seed}: {prog:?}\nlost: {:?}",
            all.difference(&kept).collect::<Vec<_>>()
        );
        full += n;
        reduced += m;
    }
    assert!(
        reduced < full,
        "{reduced} reduced executions, {full} without"
    );
}

/// `thread::stop_the_world` against what it stands for (`World::Emulated`), on random programs
/// with one such section (of at most seven atomic steps in all, which the emulation can afford).
/// The oracle is the emulation searched both with the reduction and without: the search without
/// it is not complete (seed 873 of `program_with_stop`, and the same program without the
/// section, meets two behaviours fewer unreduced than reduced, both sequentially consistent
/// interleavings: loom's backtracking adds only the racing thread where Flanagan and Godefroid
/// add the threads that lead to it). No behaviour is lost: the barrier is dependent with every
/// other thread's steps. None is added: it orders them, and no thread runs inside it.
#[test]
fn stop_the_world_is_an_exclusive_barrier() {
    let seeds: u64 = std::env::var("STOP_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let (mut stop, mut emulated, mut programs) = (0, 0, 0);
    for seed in 0..seeds {
        let prog = program_with_stop(seed);
        if atomic_steps(&prog) > 7 {
            continue;
        }
        programs += 1;
        let (mut want, n) = behaviours_in(&prog, false, World::Emulated);
        let (want_reduced, _) = behaviours_in(&prog, true, World::Emulated);
        want.extend(want_reduced);
        let (mut got, _) = behaviours_in(&prog, false, World::Stop);
        let (got_reduced, m) = behaviours_in(&prog, true, World::Stop);
        assert!(
            want.is_subset(&got_reduced),
            "seed {seed}, reduced: {prog:?}\nlost: {:?}",
            want.difference(&got_reduced).collect::<Vec<_>>()
        );
        got.extend(got_reduced);
        assert!(
            got.is_subset(&want),
            "seed {seed}: {prog:?}\nadded: {:?}",
            got.difference(&want).collect::<Vec<_>>()
        );
        stop += m;
        emulated += n;
    }
    assert!(
        programs * 3 > seeds as usize,
        "{programs} of {seeds} programs compared"
    );
    assert!(stop < emulated, "{stop} executions, emulated {emulated}");
    if std::env::var("REDUCTION_VERBOSE").is_ok() {
        eprintln!("{programs} programs: {stop} executions reduced, emulated unreduced {emulated}");
    }
}

fn atomic_steps(prog: &[Vec<Op>]) -> usize {
    fn count(ops: &[Op]) -> usize {
        ops.iter()
            .map(|o| match o {
                Op::Locked(inner) | Op::Rw(_, inner) | Op::Stop(inner) => count(inner),
                _ => 1,
            })
            .sum()
    }
    prog.iter().map(|t| count(t)).sum()
}

/// The barrier orders plain memory: a cell written before `stop_the_world` by one thread and
/// read inside it by another is no data race, whichever runs first; without the barrier it is
/// one, which loom reports.
#[test]
fn stop_the_world_orders_plain_accesses() {
    use loom::cell::UnsafeCell;
    let run = |stop: bool| {
        std::panic::catch_unwind(move || {
            loom::model(move || {
                let c = Arc::new(UnsafeCell::new(0usize));
                let c2 = c.clone();
                let t = thread::spawn(move || c2.with_mut(|p| unsafe { *p = 1 }));
                let read = || c.with(|p| unsafe { *p });
                let v = if stop {
                    thread::stop_the_world(read)
                } else {
                    read()
                };
                assert!(v <= 1);
                t.join().unwrap();
            })
        })
        .is_ok()
    };
    assert!(run(true), "a data race reported across the barrier");
    assert!(!run(false), "the race without the barrier was not reported");
}
