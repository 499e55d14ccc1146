use crate::rt::alloc::Allocation;
use crate::rt::{lazy_static, object, thread, Access, Path, VersionVec};

use std::collections::HashMap;
use std::fmt;

use tracing::info;

pub(crate) struct Execution {
    /// Uniquely identifies an execution
    pub(super) id: Id,

    /// Execution path taken
    pub(crate) path: Path,

    pub(crate) threads: thread::Set,

    pub(crate) lazy_statics: lazy_static::Set,

    /// All loom aware objects part of this execution run.
    pub(super) objects: object::Store,

    /// Maps raw allocations to LeakTrack objects
    pub(super) raw_allocations: HashMap<usize, Allocation>,

    pub(crate) arc_objs: HashMap<*const (), std::sync::Arc<super::Arc>>,

    /// Maximum number of concurrent threads
    pub(super) max_threads: usize,

    pub(super) max_history: usize,

    /// Capture locations for significant events
    pub(crate) location: bool,

    /// Log execution output to STDOUT
    pub(crate) log: bool,

    /// Whether schedule points keep sleep sets (see `Builder::sleep_sets`).
    pub(crate) sleep_sets: bool,

    /// Whether DPOR orders a blocked operation after the one that enabled it
    /// (see `Builder::enabling_order`).
    pub(crate) enabling_order: bool,

    /// The threads asleep at the next schedule point, one bit per thread: computed when the
    /// previous point chose its thread, used when the next point is new to the path.
    next_sleep: u32,

    /// Set when every runnable thread is asleep: the execution is redundant and stops here.
    pub(crate) pruned: bool,

    /// Per thread, the schedule points where it took an operation and its DPOR clock after
    /// it, in order (for `Path::backtrack`'s `via`).
    steps: Vec<Vec<(usize, u16)>>,

    /// Per thread, the schedule point where its current step began (for an access that
    /// runs inside a step rather than at its schedule point: `RwLock`'s read release).
    step_points: Vec<usize>,

    /// Per thread, the `RwLock`s it holds for reading (for DPOR: its next step may release
    /// one, which another reader's acquisition then races with).
    pub(super) read_held: Vec<Vec<object::Ref>>,

    /// `stop_the_world`'s object, once used in this execution.
    world: Option<object::Ref<crate::rt::world::State>>,

    /// The thread running a `stop_the_world` closure: no other runs.
    exclusive: Option<thread::Id>,

    /// The path positions each `stop_the_world` closure ran between: no other thread can be
    /// scheduled there, so a race with a step there is a race with the barrier.
    world_regions: Vec<(usize, usize)>,

    /// The last `stop_the_world` barrier, which every later operation is dependent with.
    last_barrier: Option<Access>,

    /// Each thread's last operation, which the next barrier is dependent with.
    last_step: Vec<Option<Access>>,
}

#[derive(Debug, Eq, PartialEq, Hash, Clone, Copy)]
pub(crate) struct Id(usize);

impl Execution {
    /// Create a new execution.
    ///
    /// This is only called at the start of a fuzz run. The same instance is
    /// reused across permutations.
    pub(crate) fn new(
        max_threads: usize,
        max_branches: usize,
        preemption_bound: Option<usize>,
        exploring: bool,
    ) -> Execution {
        let id = Id::new();
        let threads = thread::Set::new(id, max_threads);

        let preemption_bound =
            preemption_bound.map(|bound| bound.try_into().expect("preemption_bound too big"));

        Execution {
            id,
            path: Path::new(max_branches, preemption_bound, exploring),
            threads,
            lazy_statics: lazy_static::Set::new(),
            objects: object::Store::with_capacity(max_branches),
            raw_allocations: HashMap::new(),
            arc_objs: HashMap::new(),
            max_threads,
            max_history: 7,
            location: false,
            log: false,
            sleep_sets: false,
            enabling_order: false,
            next_sleep: 0,
            pruned: false,
            steps: vec![Vec::new(); max_threads],
            step_points: vec![0; max_threads],
            read_held: vec![Vec::new(); max_threads],
            world: None,
            exclusive: None,
            world_regions: Vec::new(),
            last_barrier: None,
            last_step: vec![None; max_threads],
        }
    }

    /// Create state to track a new thread
    pub(crate) fn new_thread(&mut self) -> thread::Id {
        let thread_id = self.threads.new_thread();
        let active_id = self.threads.active_id();

        let (active, new) = self.threads.active2_mut(thread_id);

        new.causality.join(&active.causality);
        new.dpor_vv.join(&active.dpor_vv);

        // Bump causality in order to ensure CausalCell accurately detects
        // incorrect access when first action.
        new.causality[thread_id] += 1;
        active.causality[active_id] += 1;

        thread_id
    }

    /// Resets the execution state for the next execution run
    pub(crate) fn step(self) -> Option<Self> {
        let id = Id::new();
        let max_threads = self.max_threads;
        let max_history = self.max_history;
        let location = self.location;
        let log = self.log;
        let sleep_sets = self.sleep_sets;
        let enabling_order = self.enabling_order;
        let mut path = self.path;
        let mut objects = self.objects;
        let mut lazy_statics = self.lazy_statics;
        let mut raw_allocations = self.raw_allocations;
        let mut arc_objs = self.arc_objs;

        let mut threads = self.threads;

        if !path.step() {
            return None;
        }

        objects.clear();
        lazy_statics.reset();
        raw_allocations.clear();
        arc_objs.clear();

        threads.clear(id);

        Some(Execution {
            id,
            path,
            threads,
            objects,
            lazy_statics,
            raw_allocations,
            arc_objs,
            max_threads,
            max_history,
            location,
            log,
            sleep_sets,
            enabling_order,
            next_sleep: 0,
            pruned: false,
            steps: {
                let mut steps = self.steps;
                steps.iter_mut().for_each(Vec::clear);
                steps
            },
            step_points: {
                let mut points = self.step_points;
                points.iter_mut().for_each(|p| *p = 0);
                points
            },
            read_held: {
                let mut held = self.read_held;
                held.iter_mut().for_each(Vec::clear);
                held
            },
            world: None,
            exclusive: None,
            world_regions: {
                let mut regions = self.world_regions;
                regions.clear();
                regions
            },
            last_barrier: None,
            last_step: {
                let mut last = self.last_step;
                last.iter_mut().for_each(|a| *a = None);
                last
            },
        })
    }

    /// `stop_the_world`'s object, created on first use.
    pub(super) fn world_object(&mut self) -> object::Ref<crate::rt::world::State> {
        if let Some(obj) = self.world {
            return obj;
        }
        let obj = self.objects.insert(crate::rt::world::State);
        self.world = Some(obj);
        obj
    }

    /// The barrier's start, once its operation is scheduled: what every thread did so far
    /// happens before what the active thread does next, and no other thread runs.
    pub(super) fn world_start(&mut self) {
        assert!(
            self.exclusive.is_none(),
            "stop_the_world inside stop_the_world"
        );
        let me = self.threads.active_id();
        self.exclusive = Some(me);
        self.world_regions
            .push((self.path.pos().saturating_sub(1), usize::MAX));
        let mut all = VersionVec::new();
        for (_, th) in self.threads.iter() {
            all.join(&th.causality);
        }
        self.threads.active_causality_inc();
        self.threads.active_mut().causality.join(&all);
        self.threads.seq_cst_fence();
    }

    /// The barrier's end: what the active thread did happens before what every other thread
    /// does next, and the others run again.
    pub(super) fn world_end(&mut self) {
        let me = self.threads.active_id();
        assert_eq!(
            self.exclusive,
            Some(me),
            "stop_the_world ended by another thread"
        );
        self.exclusive = None;
        if let Some(region) = self.world_regions.last_mut() {
            region.1 = self.path.pos();
        }
        self.threads.active_causality_inc();
        self.threads.seq_cst_fence();
        let mine = self.threads.active().causality;
        for (i, th) in self.threads.iter_mut() {
            if i != me {
                th.causality.join(&mine);
            }
        }
    }

    /// A race with a step inside a `stop_the_world` closure is a race with its barrier: no
    /// other thread can be scheduled between the two.
    fn outside_world(&self, point: usize) -> usize {
        self.world_regions
            .iter()
            .find(|&&(start, end)| start < point && point < end)
            .map_or(point, |&(start, _)| start)
    }

    /// Returns `true` if a switch is required
    pub(crate) fn schedule(&mut self) -> bool {
        use crate::rt::path::Thread;

        // Implementation of the DPOR algorithm.

        // A pruned execution is being unwound: its threads' destructors run, and branch no more.
        if self.pruned {
            return false;
        }

        let curr_thread = self.threads.active_id();

        for (th_id, th) in self.threads.iter() {
            let operation = match th.operation {
                Some(operation) => operation,
                None => continue,
            };

            // The latest dependent access that did not happen before this one
            // races with it: backtrack to it.
            let mut point = None;
            let enabling_order = self.enabling_order;
            if operation.is_world() {
                // The barrier is dependent with every other thread's last operation.
                for (q, access) in self.last_step.iter().enumerate() {
                    if let Some(access) = access {
                        if q != th_id.as_usize() && !access.happens_before(&th.dpor_vv) {
                            point = point.max(Some(access.path_id()));
                        }
                    }
                }
            } else {
                self.objects
                    .dependent_accesses(operation, enabling_order, |access, races| {
                        if races && !access.happens_before(&th.dpor_vv) {
                            point = point.max(Some(access.path_id()));
                        }
                    });
                // Every operation is dependent with the last barrier.
                if let Some(access) = &self.last_barrier {
                    if !access.happens_before(&th.dpor_vv) {
                        point = point.max(Some(access.path_id()));
                    }
                }
            }
            // The step may release a read lock the thread holds: it races with another
            // reader's acquisition of it, which acquires from the release only after it.
            for &lock in &self.read_held[th_id.as_usize()] {
                if let Some(access) = self.objects.rwlock_last_access(lock) {
                    if !access.happens_before(&th.dpor_vv) {
                        point = point.max(Some(access.path_id()));
                    }
                }
            }

            if let Some(point) = point.map(|p| self.outside_world(p)) {
                // The threads whose first step after the point happened before this
                // operation (for a thread asleep at the point, see `Path::backtrack`).
                let mut via = 0;
                if self.sleep_sets {
                    for (q, steps) in self.steps.iter().enumerate() {
                        let first = steps.partition_point(|&(pos, _)| pos <= point);
                        if q != th_id.as_usize()
                            && steps.get(first).is_some_and(|&(_, clock)| {
                                clock <= th.dpor_vv[thread::Id::new(self.id, q)]
                            })
                        {
                            via |= 1 << q;
                        }
                    }
                }

                // Track backtracking point
                self.path.backtrack(point, th_id, via);
            }
        }

        // Sleep sets (Godefroid): a thread asleep here was already explored from an earlier
        // point, and nothing since then was dependent with its next operation, so every
        // execution that runs it next is equivalent to one explored. It is not chosen by
        // default, and it is marked visited when this point is new, so it is never explored
        // here. The bits only matter for a point new to the path: a point replayed from the
        // path already carries them as visited threads.
        let sleep = if self.sleep_sets && self.path.is_traversed() {
            self.next_sleep
        } else {
            0
        };
        let asleep = |i: thread::Id| sleep & (1 << i.as_usize()) != 0;

        // Every runnable thread asleep: whatever runs next, the rest of this execution is
        // equivalent to one already explored. Stop it (the scheduler unwinds its threads).
        let stopped = |i: thread::Id| self.exclusive.is_some_and(|owner| owner != i);
        if sleep != 0
            && self
                .threads
                .iter()
                .all(|(i, th)| asleep(i) || stopped(i) || !(th.is_runnable() || th.is_yield()))
            && self
                .threads
                .iter()
                .any(|(i, th)| !stopped(i) && (th.is_runnable() || th.is_yield()))
        {
            self.pruned = true;
            return true;
        }

        // It's important to avoid pre-emption as much as possible
        let mut initial = Some(self.threads.active_id());

        // If the thread is not runnable, then we can pick any arbitrary other
        // runnable thread.
        if !self.threads.active().is_runnable()
            || asleep(self.threads.active_id())
            || stopped(self.threads.active_id())
        {
            initial = None;

            for (i, th) in self.threads.iter() {
                if !th.is_runnable() || asleep(i) || stopped(i) {
                    continue;
                }

                if let Some(ref mut init) = initial {
                    if th.yield_count < self.threads[*init].yield_count {
                        *init = i;
                    }
                } else {
                    initial = Some(i)
                }
            }
        }

        let path_id = self.path.pos();

        let next = self.path.branch_thread(self.id, {
            self.threads.iter().map(|(i, th)| {
                if initial.is_none() && th.is_runnable() && !asleep(i) && !stopped(i) {
                    initial = Some(i);
                }

                if initial == Some(i) {
                    Thread::Active
                } else if stopped(i) {
                    Thread::Disabled
                } else if asleep(i) && (th.is_runnable() || th.is_yield()) {
                    Thread::Asleep
                } else if th.is_yield() {
                    Thread::Yield
                } else if !th.is_runnable() {
                    Thread::Disabled
                } else {
                    Thread::Skip
                }
            })
        });

        if self.sleep_sets {
            self.next_sleep = self.sleep_after(path_id, next);
        }
        if let Some(next) = next {
            self.step_points[next.as_usize()] = path_id;
        }

        let switched = Some(self.threads.active_id()) != next;

        self.threads.set_active(next);

        // There is no active thread. Unless all threads have terminated, the
        // test has deadlocked.
        if !self.threads.is_active() {
            let terminal = self.threads.iter().all(|(_, th)| th.is_terminated());

            assert!(
                terminal,
                "deadlock; threads = {:?}",
                self.threads
                    .iter()
                    .map(|(i, th)| { (i, th.state) })
                    .collect::<Vec<_>>()
            );

            return true;
        }

        // TODO: refactor
        if let Some(operation) = self.threads.active().operation {
            let threads = &mut self.threads;
            let th_id = threads.active_id();

            let dpor_vv = &mut threads.active_mut().dpor_vv;
            if operation.is_world() {
                for access in self.last_step.iter().flatten() {
                    dpor_vv.join(access.version());
                }
            } else {
                self.objects
                    .dependent_accesses(operation, self.enabling_order, |access, _| {
                        dpor_vv.join(access.version())
                    });
                if let Some(access) = &self.last_barrier {
                    dpor_vv.join(access.version());
                }
            }

            threads.active_mut().dpor_vv[th_id] += 1;

            if self.sleep_sets || self.enabling_order {
                self.steps[th_id.as_usize()].push((path_id, threads.active().dpor_vv[th_id]));
            }

            self.objects.set_last_access(
                operation,
                path_id,
                &threads.active().dpor_vv,
                th_id.as_usize(),
            );
            let access = Access::new(path_id, &threads.active().dpor_vv);
            if operation.is_world() {
                self.last_barrier = Some(access.clone());
            }
            self.last_step[th_id.as_usize()] = Some(access);
        }

        // Reactivate yielded threads, but only if the current active thread is
        // not yielded.
        for (id, th) in self.threads.iter_mut() {
            if th.is_yield() && Some(id) != next {
                th.set_runnable();
            }
        }

        if switched {
            info!("~~~~~~~~ THREAD {} ~~~~~~~~", self.threads.active_id());
        }

        curr_thread != self.threads.active_id()
    }

    /// The sleep set of the schedule point after the one at `path_id`, which chose `next`:
    /// every thread visited at `path_id` (explored there before `next`, or asleep on arrival)
    /// whose next step is independent of the step `next` takes there: their operations are
    /// independent, and neither step may run a read release that the other's read
    /// acquisition would acquire from.
    fn sleep_after(&self, path_id: usize, next: Option<thread::Id>) -> u32 {
        let Some(next) = next else { return 0 };
        let taken = self.threads[next].operation;
        let mut sleep = 0;
        for (i, th) in self.threads.iter() {
            if i != next
                && self.path.is_visited(path_id, i.as_usize())
                && !object::Operation::dependent(th.operation, taken)
                && !self.read_holder_dependent(taken, i)
                && !self.read_holder_dependent(th.operation, next)
            {
                sleep |= 1 << i.as_usize();
            }
        }
        sleep
    }

    /// Whether a step of `holder` and a read acquisition `op` of another thread are
    /// dependent through a read release the step may run (for sleep sets): `holder` holds
    /// the `RwLock` that `op` read-acquires. A reader that acquires after the release
    /// acquires from it, and one that acquires before it does not; the release is not a
    /// schedule point of its own, so the step that runs it is the one that is dependent.
    fn read_holder_dependent(&self, op: Option<object::Operation>, holder: thread::Id) -> bool {
        op.and_then(|op| op.read_acquisition())
            .is_some_and(|lock| self.read_held[holder.as_usize()].contains(&lock))
    }

    /// The schedule point where `thread`'s current step began.
    pub(crate) fn step_point(&self, thread: thread::Id) -> usize {
        self.step_points[thread.as_usize()]
    }

    /// Panics if any leaks were detected
    pub(crate) fn check_for_leaks(&self) {
        self.objects.check_for_leaks();
    }
}

impl fmt::Debug for Execution {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt.debug_struct("Execution")
            .field("path", &self.path)
            .field("threads", &self.threads)
            .finish()
    }
}

impl Id {
    pub(crate) fn new() -> Id {
        use std::sync::atomic::AtomicUsize;
        use std::sync::atomic::Ordering::Relaxed;

        // The number picked here is arbitrary. It is mostly to avoid collision
        // with "zero" to aid with debugging.
        static NEXT_ID: AtomicUsize = AtomicUsize::new(46_413_762);

        let next = NEXT_ID.fetch_add(1, Relaxed);

        Id(next)
    }
}
