//! Stopping every other thread while a closure runs (`loom::thread::stop_the_world`): the
//! Linux kernel's `stop_machine`, where every other CPU is made to run a stopper that spins
//! with interrupts off until the function has run.
//!
//! For the memory model it is a barrier every thread takes part in without running code for
//! it: what each thread did before it happens before the closure, and the closure before what
//! each does after. For the search it is an operation dependent with every operation of every
//! other thread, and no other thread runs until the closure returns.

use crate::rt::{self, object, Location};

/// The object the barrier's operation names (one per execution; it holds no state).
#[derive(Debug)]
pub(crate) struct State;

pub(crate) fn stop_the_world<R>(f: impl FnOnce() -> R, location: Location) -> R {
    let obj = rt::execution(|execution| execution.world_object());
    // The schedule point: the barrier is this thread's next operation.
    obj.branch_action(object::Action::World, location);
    rt::execution(|execution| execution.world_start());
    let ret = f();
    rt::execution(|execution| execution.world_end());
    ret
}
