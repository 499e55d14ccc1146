//! The built-in subsystems the model keeps: cpuset (kernel/cpuset.c) in slot 0 and cpu
//! (kernel/sched.c) in slot 1. What the cgroup core calls is modelled: their `create` and
//! `destroy`, which allocate and free the css (a top cgroup's is static: `top_cpuset`,
//! `init_task_group`, set up at boot), and `populate` with one control file each that reaches
//! the subsystem's state through the css: `cpuset.cpu_exclusive` (of cpuset's 13 `files[]`,
//! and `memory_pressure_enabled` on a top cgroup) and `cpu.shares` (CONFIG_FAIR_GROUP_SCHED; the
//! two CONFIG_RT_GROUP_SCHED files are left out). They have no fork or exit callbacks in the
//! model; v2.6.34's cpuset has `can_attach`/`attach` and cpu has `can_attach`/`attach` too, which
//! the model leaves out (docs/model.md says so).
//!
//! Their handlers find their state as every v2.6.34 handler does, through
//! `cgroup_subsys_state(cgrp, id)` (`cgroup_cs`, `cgroup_tg`): a plain load of the file's
//! cgroup's slot, with no look at whether the subsystem is still bound to the file's hierarchy.

use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::gfp::GFP_KERNEL;
use crate::kernel::{CftKind, CgroupH, CssH, Kernel, SubsysH, SubsysOps};
use crate::sim::cx::Cx;
use crate::sim::sync::Ordering;

/// `cpuset_subsys_id` and `cpu_cgroup_subsys_id`: compile-time constants, the built-ins' slots.
const CPUSET_SUBSYS_ID: usize = 0;
const CPU_CGROUP_SUBSYS_ID: usize = 1;

/// `CS_CPU_EXCLUSIVE`, `CS_MEM_EXCLUSIVE` and `CS_SCHED_LOAD_BALANCE` (cpuset.c:127-135), as
/// masks of `struct cpuset`'s `flags`.
pub const CS_CPU_EXCLUSIVE: u32 = 1 << 0;
/// `CS_MEM_EXCLUSIVE`.
pub const CS_MEM_EXCLUSIVE: u32 = 1 << 1;
/// `CS_SCHED_LOAD_BALANCE`.
pub const CS_SCHED_LOAD_BALANCE: u32 = 1 << 4;
/// `top_cpuset.flags` (cpuset.c:173-175).
pub const TOP_CPUSET_FLAGS: u32 = CS_CPU_EXCLUSIVE | CS_MEM_EXCLUSIVE;
/// `NICE_0_LOAD`: `init_task_group.shares` (sched.c:7756) and a new group's (8036).
pub const NICE_0_LOAD: u64 = 1024;
/// `MIN_SHARES` and `MAX_SHARES` (sched.c:298-299).
const MIN_SHARES: u64 = 2;
const MAX_SHARES: u64 = 1 << 18;

/// `cpuset_subsys` (kernel/cpuset.c).
pub static CPUSET_SUBSYS: SubsysOps = SubsysOps {
    name: "cpuset",
    module: None,
    use_id: false,
    create: cpuset_create,
    destroy: cpuset_destroy,
    module_init: None,
    module_exit: None,
    files: &[("cpu_exclusive", CftKind::CpuExclusive)],
    populate: Some(cpuset_populate),
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
    files: &[("shares", CftKind::CpuShares)],
    populate: Some(cpu_cgroup_populate),
    static_root: true,
};

/// `cpuset_create(ss, cont)`: the kmalloc of the `struct cpuset`.
/// v2.6.34: kernel/cpuset.c:1832-1865.
fn cpuset_create(k: &Kernel, _ss: SubsysH, _cgrp: CgroupH, cx: &Cx) -> Result<CssH, Errno> {
    let _f = cx.enter(&kfn::cpuset_create);
    cx.at(1843);
    let cs = k.kzalloc_css(&CPUSET_SUBSYS, cx)?;
    // `cs->flags = 0`, the parent's spread bits (none: the model's files never set them), then
    // CS_SCHED_LOAD_BALANCE.
    cx.at(1856);
    k.css(cs, cx)
        .cs_flags
        .store(CS_SCHED_LOAD_BALANCE, Ordering::Relaxed);
    Ok(cs)
}

/// `cpuset_populate(ss, cont)` (cpuset.c:1775-1787): `cgroup_add_files(cont, ss, files, ...)`;
/// the top cgroup's `memory_pressure_enabled` is left out (docs/model.md).
fn cpuset_populate(k: &Kernel, ss: SubsysH, cgrp: CgroupH, cx: &Cx) -> Result<(), Errno> {
    let _f = cx.enter(&kfn::cpuset_populate);
    cx.at(1779);
    k.cgroup_add_subsys_files(cgrp, ss, cx)
}

/// `cpu_cgroup_populate(ss, cont)` (sched.c:8804-8807): `cgroup_add_files(cont, ss, cpu_files,
/// ...)`.
fn cpu_cgroup_populate(k: &Kernel, ss: SubsysH, cgrp: CgroupH, cx: &Cx) -> Result<(), Errno> {
    let _f = cx.enter(&kfn::cpu_cgroup_populate);
    cx.at(8806);
    k.cgroup_add_subsys_files(cgrp, ss, cx)
}

impl Kernel {
    /// `cpuset_read_u64(cont, cft)` for `FILE_CPU_EXCLUSIVE` (cpuset.c:1635-1664):
    /// `is_cpu_exclusive(cgroup_cs(cont))`, a lockless `test_bit` of the cpuset's flags.
    pub fn cpuset_read_u64(&self, cgrp: CgroupH, cx: &Cx) -> u64 {
        let _f = cx.enter(&kfn::cpuset_read_u64);
        cx.at(1637);
        let slot = self.subsys_slot(cgrp, CPUSET_SUBSYS_ID, cx);
        cx.at(1641);
        let cs = self.subsys_state(slot, &CPUSET_SUBSYS, CPUSET_SUBSYS_ID, cgrp, cx);
        u64::from(self.css(cs, cx).cs_flags.load(Ordering::Relaxed) & CS_CPU_EXCLUSIVE != 0)
    }

    /// `cpuset_write_u64(cgrp, cft, val)` for `FILE_CPU_EXCLUSIVE` (cpuset.c:1457-1500):
    /// `cgroup_cs(cgrp)` before any lock, `cgroup_lock_live_group` (-ENODEV), `update_flag`,
    /// `cgroup_unlock`.
    pub fn cpuset_write_u64(&self, cgrp: CgroupH, val: u64, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::cpuset_write_u64);
        cx.at(1460);
        let slot = self.subsys_slot(cgrp, CPUSET_SUBSYS_ID, cx);
        cx.at(1463);
        let m = self.cgroup_lock_live_group(cgrp, cx).ok_or(Errno::ENODEV)?;
        cx.at(1468);
        let r = self.update_flag(CS_CPU_EXCLUSIVE, slot, cgrp, val != 0, cx);
        cx.at(1498);
        drop(m);
        r
    }

    /// `update_flag(bit, cs, turning_on)` (cpuset.c:1187-1232), cgroup_mutex held:
    /// `alloc_trial_cpuset` (a `kmemdup` of the cpuset, -ENOMEM: the first read of it), the bit
    /// in the trial copy, `validate_change` (it passes: the model has no cpus or mems to overlap),
    /// `heap_init` (a GFP_KERNEL allocation, -ENOMEM), then `cs->flags = trialcs->flags` under
    /// `callback_mutex`. The sched-domain rebuild and the task flags update are not reached:
    /// `cpu_exclusive` changes neither the load-balance nor the spread bits.
    fn update_flag(
        &self,
        bit: u32,
        slot: Option<CssH>,
        cgrp: CgroupH,
        turning_on: bool,
        cx: &Cx,
    ) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::update_flag);
        cx.at(1196);
        let cs = self.subsys_state(slot, &CPUSET_SUBSYS, CPUSET_SUBSYS_ID, cgrp, cx);
        let flags = self.css(cs, cx).cs_flags.load(Ordering::Relaxed);
        if !cx.kmalloc_ok(GFP_KERNEL) {
            cx.at(1198);
            return Err(Errno::ENOMEM);
        }
        let trial = if turning_on {
            flags | bit
        } else {
            flags & !bit
        };
        cx.at(1209);
        if !cx.kmalloc_ok(GFP_KERNEL) {
            cx.at(1211);
            return Err(Errno::ENOMEM);
        }
        cx.at(1219);
        let m = self.callback_mutex.lock(cx);
        cx.at(1220);
        self.css(cs, cx).cs_flags.store(trial, Ordering::Relaxed);
        cx.at(1221);
        drop(m);
        Ok(())
    }

    /// `cpu_shares_read_u64(cgrp, cft)` (sched.c:8750-8755): `cgroup_tg(cgrp)->shares`, no lock.
    pub fn cpu_shares_read_u64(&self, cgrp: CgroupH, cx: &Cx) -> u64 {
        let _f = cx.enter(&kfn::cpu_shares_read_u64);
        cx.at(8752);
        let slot = self.subsys_slot(cgrp, CPU_CGROUP_SUBSYS_ID, cx);
        cx.at(8754);
        let tg = self.subsys_state(slot, &CPU_CGROUP_SUBSYS, CPU_CGROUP_SUBSYS_ID, cgrp, cx);
        self.css(tg, cx).shares.load(Ordering::Relaxed)
    }

    /// `cpu_shares_write_u64(cgrp, cftype, shareval)` (sched.c:8744-8748):
    /// `sched_group_set_shares(cgroup_tg(cgrp), shareval)`.
    pub fn cpu_shares_write_u64(&self, cgrp: CgroupH, val: u64, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::cpu_shares_write_u64);
        cx.at(8747);
        let slot = self.subsys_slot(cgrp, CPU_CGROUP_SUBSYS_ID, cx);
        self.sched_group_set_shares(slot, cgrp, val, cx)
    }

    /// `sched_group_set_shares(tg, shares)` (sched.c:8323-8377): -EINVAL for the root group
    /// (`!tg->se[0]`: the static `init_task_group`), the clamp, then under `shares_mutex`:
    /// nothing if unchanged; else the group leaves the scheduler's lists under
    /// `task_group_lock`, `synchronize_sched()` waits for every reference to it, the shares are
    /// stored, and the group goes back on the lists. The per-cpu entities and run queues are not
    /// modelled (nothing in the model walks them).
    fn sched_group_set_shares(
        &self,
        slot: Option<CssH>,
        cgrp: CgroupH,
        shares: u64,
        cx: &Cx,
    ) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::sched_group_set_shares);
        cx.at(8331);
        let tg = self.subsys_state(slot, &CPU_CGROUP_SUBSYS, CPU_CGROUP_SUBSYS_ID, cgrp, cx);
        if self.css(tg, cx).is_static {
            cx.at(8332);
            return Err(Errno::EINVAL);
        }
        let shares = shares.clamp(MIN_SHARES, MAX_SHARES);
        cx.at(8339);
        let m = self.shares_mutex.lock(cx);
        cx.at(8340);
        if self.css(tg, cx).shares.load(Ordering::Relaxed) != shares {
            cx.at(8350);
            self.rcu.synchronize_sched(cx);
            cx.at(8356);
            self.css(tg, cx).shares.store(shares, Ordering::Relaxed);
        }
        cx.at(8375);
        drop(m);
        Ok(())
    }
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
