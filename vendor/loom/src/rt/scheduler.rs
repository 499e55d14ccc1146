#![allow(deprecated)]

use crate::rt::Execution;

use generator::{self, Generator, Gn};
use scoped_tls::scoped_thread_local;
use std::cell::RefCell;
use std::collections::VecDeque;

pub(crate) struct Scheduler {
    max_threads: usize,
    /// Threads of finished executions, parked before their next closure, with their stack
    /// sizes: a new execution's threads take them instead of mapping new stacks (PATCH.md).
    pool: Vec<(Option<usize>, Thread)>,
}

type Thread = Generator<'static, Option<Box<dyn FnOnce()>>, ()>;

scoped_thread_local! {
    static STATE: RefCell<State<'_>>
}

struct QueuedSpawn {
    f: Box<dyn FnOnce()>,
    stack_size: Option<usize>,
}

struct State<'a> {
    execution: &'a mut Execution,
    queued_spawn: &'a mut VecDeque<QueuedSpawn>,
}

impl Scheduler {
    /// Create an execution
    pub(crate) fn new(capacity: usize) -> Scheduler {
        Scheduler {
            max_threads: capacity,
            pool: Vec::new(),
        }
    }

    /// Access the execution
    pub(crate) fn with_execution<F, R>(f: F) -> R
    where
        F: FnOnce(&mut Execution) -> R,
    {
        Self::with_state(|state| f(state.execution))
    }

    /// Perform a context switch
    pub(crate) fn switch() {
        use std::future::Future;
        use std::pin::Pin;
        use std::ptr;
        use std::task::{Context, RawWaker, RawWakerVTable, Waker};

        unsafe fn noop_clone(_: *const ()) -> RawWaker {
            unreachable!()
        }
        unsafe fn noop(_: *const ()) {}

        // Wrapping with an async block deals with the thread-local context
        // `std` uses to manage async blocks
        let mut switch = async { generator::yield_with(()) };
        let switch = unsafe { Pin::new_unchecked(&mut switch) };

        let raw_waker = RawWaker::new(
            ptr::null(),
            &RawWakerVTable::new(noop_clone, noop, noop, noop),
        );
        let waker = unsafe { Waker::from_raw(raw_waker) };
        let mut cx = Context::from_waker(&waker);

        assert!(switch.poll(&mut cx).is_ready());
    }

    pub(crate) fn spawn(stack_size: Option<usize>, f: Box<dyn FnOnce()>) {
        Self::with_state(|state| state.queued_spawn.push_back(QueuedSpawn { stack_size, f }));
    }

    pub(crate) fn run<F>(&mut self, execution: &mut Execution, f: F)
    where
        F: FnOnce() + Send + 'static,
    {
        // Each thread with its stack size (`None`: the default), for the pool.
        let mut threads = vec![(None, self.spawn_thread(Box::new(f), None))];
        threads[0].1.resume();

        loop {
            if execution.pruned {
                // Every runnable thread is asleep: unwind every thread's stack (the generators
                // cancel on drop) with the execution in reach, so that the destructors of loom
                // objects they hold still run; `schedule` no longer branches.
                let mut queued_spawn = VecDeque::new();
                let state = RefCell::new(State {
                    execution,
                    queued_spawn: &mut queued_spawn,
                });
                STATE.set(unsafe { transmute_lt(&state) }, || {
                    threads.clear();
                    let statics = Self::with_execution(|execution| execution.lazy_statics.take());
                    drop(statics);
                });
                return;
            }

            if execution.threads.is_complete() {
                // Every thread has returned from its closure and waits for the next one
                // (`spawn_thread`'s loop): keep it for the next execution.
                for (stack_size, thread) in threads {
                    assert!(!thread.is_done());
                    self.pool.push((stack_size, thread));
                }
                return;
            }

            let active = execution.threads.active_id();

            let mut queued_spawn = Self::tick(&mut threads[active.as_usize()].1, execution);

            while let Some(th) = queued_spawn.pop_front() {
                assert!(threads.len() < self.max_threads);

                let thread_id = threads.len();
                let QueuedSpawn { f, stack_size } = th;

                threads.push((stack_size, self.spawn_thread(f, stack_size)));
                threads[thread_id].1.resume();
            }
        }
    }

    fn tick(thread: &mut Thread, execution: &mut Execution) -> VecDeque<QueuedSpawn> {
        let mut queued_spawn = VecDeque::new();
        let state = RefCell::new(State {
            execution,
            queued_spawn: &mut queued_spawn,
        });

        STATE.set(unsafe { transmute_lt(&state) }, || {
            thread.resume();
        });
        queued_spawn
    }

    fn with_state<F, R>(f: F) -> R
    where
        F: FnOnce(&mut State<'_>) -> R,
    {
        if !STATE.is_set() {
            panic!("cannot access Loom execution state from outside a Loom model. \
            are you accessing a Loom synchronization primitive from outside a Loom test (a call to `model` or `check`)?")
        }
        STATE.with(|state| f(&mut state.borrow_mut()))
    }

    /// A thread that will run `f`: one of an earlier execution with the same stack size if
    /// there is one, or a new one.
    fn spawn_thread(&mut self, f: Box<dyn FnOnce()>, stack_size: Option<usize>) -> Thread {
        if let Some(i) = self.pool.iter().position(|(s, _)| *s == stack_size) {
            let (_, mut g) = self.pool.swap_remove(i);
            g.set_para(Some(f));
            return g;
        }
        new_thread(f, stack_size)
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        // A parked thread resumed without a closure leaves its loop and finishes.
        for (_, thread) in &mut self.pool {
            thread.resume();
            assert!(thread.is_done());
        }
    }
}

fn new_thread(f: Box<dyn FnOnce()>, stack_size: Option<usize>) -> Thread {
    let body = move || {
        loop {
            let f: Option<Option<Box<dyn FnOnce()>>> = generator::yield_(());

            if let Some(f) = f {
                generator::yield_with(());
                f.unwrap()();
            } else {
                break;
            }
        }

        generator::done!();
    };
    let mut g = match stack_size {
        Some(stack_size) => Gn::new_opt(stack_size, body),
        None => Gn::new(body),
    };
    g.resume();
    g.set_para(Some(f));
    g
}

unsafe fn transmute_lt<'a, 'b>(state: &'a RefCell<State<'b>>) -> &'a RefCell<State<'static>> {
    ::std::mem::transmute(state)
}
