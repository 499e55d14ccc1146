//! The built-in subsystems the model keeps: cpuset (kernel/cpuset.c) in slot 0 and cpu
//! (kernel/sched.c) in slot 1. Only what the cgroup core calls is modelled: their `create` and
//! `destroy`, which allocate and free the css (a top cgroup's is static: `top_cpuset`,
//! `init_task_group`, set up at boot). They have no fork or exit callbacks in the model;
//! v2.6.34's cpuset has `can_attach`/`attach` and cpu has `can_attach`/`attach` too, which the
//! model leaves out (docs/model.md says so).

use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::{CgroupH, CssH, Kernel, SubsysH, SubsysOps};
use crate::sim::cx::Cx;

/// `cpuset_subsys` (kernel/cpuset.c).
pub static CPUSET_SUBSYS: SubsysOps = SubsysOps {
    name: "cpuset",
    module: None,
    use_id: false,
    create: cpuset_create,
    destroy: cpuset_destroy,
    module_init: None,
    module_exit: None,
    files: &[],
    populate: None,
    static_root: true,
};

/// `cpu_cgroup_subsys` (kernel/sched.c).
pub static CPU_CGROUP_SUBSYS: SubsysOps = SubsysOps {
    name: "cpu",
    module: None,
    use_id: false,
    create: cpu_cgroup_create,
    destroy: cpu_cgroup_destroy,
    module_init: None,
    module_exit: None,
    files: &[],
    populate: None,
    static_root: true,
};

/// `cpuset_create(ss, cont)`: the kmalloc of the `struct cpuset`.
/// v2.6.34: kernel/cpuset.c:1832-1865.
fn cpuset_create(k: &Kernel, _ss: SubsysH, _cgrp: CgroupH, cx: &Cx) -> Result<CssH, Errno> {
    let _f = cx.enter(&kfn::cpuset_create);
    cx.at(1843);
    k.kzalloc_css(&CPUSET_SUBSYS, cx)
}

/// `cpuset_destroy(ss, cont)`: frees the `struct cpuset`.
/// v2.6.34: kernel/cpuset.c:1873-1883.
fn cpuset_destroy(k: &Kernel, ops: &'static SubsysOps, id: usize, cgrp: CgroupH, cx: &Cx) {
    let _f = cx.enter(&kfn::cpuset_destroy);
    cx.at(1875);
    let cs = k.css_of_slot(ops, id, cgrp, cx);
    cx.at(1882);
    k.kfree_css(cs, cx);
}

/// `cpu_cgroup_create(ss, cgrp)`: `sched_create_group`'s allocation of the `struct task_group`.
/// v2.6.34: kernel/sched.c:8665-8681.
fn cpu_cgroup_create(k: &Kernel, _ss: SubsysH, _cgrp: CgroupH, cx: &Cx) -> Result<CssH, Errno> {
    let _f = cx.enter(&kfn::cpu_cgroup_create);
    cx.at(8676);
    k.kzalloc_css(&CPU_CGROUP_SUBSYS, cx)
}

/// `cpu_cgroup_destroy(ss, cgrp)`: `sched_destroy_group`, which frees the task_group through
/// `call_rcu(&tg->rcu, free_sched_group_rcu)`.
/// v2.6.34: kernel/sched.c:8683-8689, 8236-8252, 8229-8233.
fn cpu_cgroup_destroy(k: &Kernel, ops: &'static SubsysOps, id: usize, cgrp: CgroupH, cx: &Cx) {
    let _f = cx.enter(&kfn::cpu_cgroup_destroy);
    cx.at(8686);
    let tg = k.css_of_slot(ops, id, cgrp, cx);
    cx.at(8688);
    // sched_destroy_group: the task_group leaves the scheduler's lists under task_group_lock
    // (not modelled: nothing in the model walks them), and its memory goes by call_rcu.
    let _g = cx.enter(&kfn::sched_destroy_group);
    cx.at(8251);
    k.rcu.call_rcu(
        cx,
        &kfn::free_sched_group_rcu,
        move |k: &Kernel, cx: &Cx| {
            // frame: free_sched_group_rcu > free_sched_group's kfree(tg) (8187)
            cx.at(8232);
            k.kfree_css(tg, cx)
        },
    );
}
