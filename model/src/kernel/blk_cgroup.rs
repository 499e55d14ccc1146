//! blkio as a module (block/blk-cgroup.c): its init and exit call `cgroup_load_subsys` and
//! `cgroup_unload_subsys`; blkio is a `use_id` subsystem whose root css is static module data
//! (`blkio_root_cgroup`). Its `populate` adds `blkio.weight` (`read_u64`/`write_u64`) and
//! `blkio.time` (`read_seq_string`, so opened through `cgroup_seqfile_state`); `blkio.sectors`
//! (the same handler as `time`) and CONFIG_DEBUG_BLK_CGROUP's `dequeue` are left out. Its
//! `can_attach`/`attach` callbacks, its blkio groups (so `time` lists none) and `blkcg->lock`
//! (folded into `blkio_list_lock`, which the one writer of `weight` holds around it) are not
//! modelled.
//!
//! Every handler finds the `blkio_cgroup` through `cgroup_to_blkio_cgroup(cgroup)`, that is
//! `cgroup->subsys[blkio_subsys.subsys_id]`: with blkio a module, the id is a read of the
//! module's `struct cgroup_subsys` (blk-cgroup.h:21-23), and the cftypes are module memory.

use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::ops::Ret;
use crate::kernel::{CftKind, CgroupH, Css, CssH, Kernel, SubsysH, SubsysOps};
use crate::sim::arena::load_ptr;
use crate::sim::cx::Cx;
use crate::sim::sync::Ordering;

/// `BLKIO_WEIGHT_MIN`, `BLKIO_WEIGHT_MAX` and `BLKIO_WEIGHT_DEFAULT` (blk-cgroup.h:83-85).
const BLKIO_WEIGHT_MIN: u64 = 100;
const BLKIO_WEIGHT_MAX: u64 = 1000;
const BLKIO_WEIGHT_DEFAULT: u32 = 500;
/// `blkio_root_cgroup.weight` (blk-cgroup.c:24).
pub const BLKIO_ROOT_WEIGHT: u32 = 2 * BLKIO_WEIGHT_DEFAULT;

/// `blkio_subsys` (block/blk-cgroup.c:36-49).
pub static BLKIO_SUBSYS: SubsysOps = SubsysOps {
    name: "blkio",
    module: Some("blk_cgroup"),
    use_id: true,
    create: blkiocg_create,
    destroy: blkiocg_destroy,
    module_init: Some(init_cgroup_blkio),
    module_exit: Some(exit_cgroup_blkio),
    files: &[
        ("weight", CftKind::BlkioWeight),
        ("time", CftKind::BlkioTime),
    ],
    populate: Some(blkiocg_populate),
    static_root: true,
};

/// `blkiocg_populate(subsys, cgroup)` (blk-cgroup.c:236-240): `cgroup_add_files(cgroup, subsys,
/// blkio_files, ...)`, cftypes in the module's memory.
fn blkiocg_populate(k: &Kernel, ss: SubsysH, cgrp: CgroupH, cx: &Cx) -> Result<(), Errno> {
    let _f = cx.enter(&kfn::blkiocg_populate);
    cx.at(238);
    k.cgroup_add_subsys_files(cgrp, ss, cx)
}

/// `blkiocg_create(subsys, cgroup)` (blk-cgroup.c:286-311): a top cgroup gets the static
/// `blkio_root_cgroup` (it cannot fail); a grandchild of the top is -EINVAL ("we do not support
/// hierarchy deeper than two level"); otherwise kzalloc (-ENOMEM).
fn blkiocg_create(k: &Kernel, ss: SubsysH, cgrp: CgroupH, cx: &Cx) -> Result<CssH, Errno> {
    let _f = cx.enter(&kfn::blkiocg_create);
    cx.at(292);
    let parent = k.cgrp(cgrp, cx).parent;
    let Some(parent) = parent else {
        cx.at(293);
        return Ok(k
            .ss(ss, cx)
            .static_css
            .expect("blkio's struct cgroup_subsys comes with blkio_root_cgroup"));
    };
    cx.at(298);
    if k.cgrp(parent, cx).parent.is_some() {
        return Err(Errno::EINVAL);
    }
    cx.at(301);
    let blkcg = k.kzalloc_css(&BLKIO_SUBSYS, cx)?;
    cx.at(305);
    k.css(blkcg, cx)
        .weight
        .store(BLKIO_WEIGHT_DEFAULT, Ordering::Relaxed);
    Ok(blkcg)
}

impl Kernel {
    /// `cgroup_to_blkio_cgroup(cgroup)`'s load (blk-cgroup.c:51-55): `blkio_subsys_id` is
    /// `blkio_subsys.subsys_id`, a read of the module's `struct cgroup_subsys` (`ss`, the
    /// cftype's), then the slot.
    fn blkio_slot(&self, cgrp: CgroupH, ss: Option<SubsysH>, cx: &Cx) -> (usize, Option<CssH>) {
        let ss = ss.expect("blkio's cftypes name their subsystem");
        let id = self.ss(ss, cx).subsys_id.load(Ordering::Relaxed);
        (id, self.subsys_slot(cgrp, id, cx))
    }

    /// `blkiocg_weight_read(cgroup, cftype)`, which `SHOW_FUNCTION(weight)` defines
    /// (blk-cgroup.c:137-145): `cgroup_to_blkio_cgroup(cgroup)->weight`, no lock.
    pub fn blkiocg_weight_read(&self, cgrp: CgroupH, ss: Option<SubsysH>, cx: &Cx) -> u64 {
        let _f = cx.enter(&kfn::SHOW_FUNCTION);
        cx.at(143);
        let (id, slot) = self.blkio_slot(cgrp, ss, cx);
        cx.at(144);
        let blkcg = self.subsys_state(slot, &BLKIO_SUBSYS, id, cgrp, cx);
        u64::from(self.css(blkcg, cx).weight.load(Ordering::Relaxed))
    }

    /// `blkiocg_weight_write(cgroup, cftype, val)` (blk-cgroup.c:150-173): -EINVAL out of
    /// [`BLKIO_WEIGHT_MIN`, `BLKIO_WEIGHT_MAX`], then `cgroup_to_blkio_cgroup`, and the store
    /// under `blkio_list_lock` and `blkcg->lock` (folded into it); the walk of the blkio groups
    /// to update their weights finds none.
    pub fn blkiocg_weight_write(
        &self,
        cgrp: CgroupH,
        ss: Option<SubsysH>,
        val: u64,
        cx: &Cx,
    ) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::blkiocg_weight_write);
        cx.at(158);
        if !(BLKIO_WEIGHT_MIN..=BLKIO_WEIGHT_MAX).contains(&val) {
            cx.at(159);
            return Err(Errno::EINVAL);
        }
        cx.at(161);
        let (id, slot) = self.blkio_slot(cgrp, ss, cx);
        cx.at(162);
        let g = self.blkio_list_lock.lock(cx);
        cx.at(163);
        let blkcg = self.subsys_state(slot, &BLKIO_SUBSYS, id, cgrp, cx);
        cx.at(164);
        self.css(blkcg, cx)
            .weight
            .store(val as u32, Ordering::Relaxed);
        cx.at(170);
        drop(g);
        Ok(())
    }

    /// `blkiocg_time_read(cgroup, cftype, m)`, which `SHOW_FUNCTION_PER_GROUP(time)` defines
    /// (blk-cgroup.c:175-196), through `cgroup_seqfile_show`: `cgroup_lock_live_group`
    /// (-ENODEV), `cgroup_to_blkio_cgroup`, the walk of `blkcg->blkg_list` under
    /// `rcu_read_lock` (the first read of the blkio_cgroup; the model has no blkio groups, so no
    /// line is printed: read as 0 lines), `cgroup_unlock`.
    pub fn blkiocg_time_read(
        &self,
        cgrp: CgroupH,
        ss: Option<SubsysH>,
        cx: &Cx,
    ) -> Result<Ret, Errno> {
        let _f = cx.enter(&kfn::SHOW_FUNCTION_PER_GROUP);
        cx.at(183);
        let m = self.cgroup_lock_live_group(cgrp, cx).ok_or(Errno::ENODEV)?;
        cx.at(186);
        let (id, slot) = self.blkio_slot(cgrp, ss, cx);
        cx.at(187);
        let rcu = self.rcu.read_lock(cx);
        cx.at(188);
        let blkcg = self.subsys_state(slot, &BLKIO_SUBSYS, id, cgrp, cx);
        let _ = self.css(blkcg, cx).weight.load(Ordering::Relaxed); // hlist_for_each_entry_rcu
        cx.at(193);
        drop(rcu);
        cx.at(194);
        drop(m);
        Ok(Ret::Value(0))
    }
}

/// `blkiocg_destroy(subsys, cgroup)` (blk-cgroup.c:242-284): `cgroup_to_blkio_cgroup(cgroup)`
/// reads `cgroup->subsys[blkio_subsys_id]` (a plain load; the id is `blkio_subsys.subsys_id`),
/// then `spin_lock_irqsave(&blkcg->lock)` on it under `rcu_read_lock` (an empty slot is a NULL
/// `blkcg`: the oops is there), `free_css_id`, and kfree unless it is `blkio_root_cgroup`.
fn blkiocg_destroy(k: &Kernel, ops: &'static SubsysOps, id: usize, cgrp: CgroupH, cx: &Cx) {
    let _f = cx.enter(&kfn::blkiocg_destroy);
    cx.at(244);
    let css = load_ptr::<Css>(&k.cgrp(cgrp, cx).subsys[id]);
    cx.at(250);
    let rcu = k.rcu.read_lock(cx);
    cx.at(252);
    let Some(css) = css else {
        k.bug(
            cx,
            "NULL-dereference",
            format!(
                "{} destroy: cgroup_to_blkio_cgroup({}) is NULL (cgroup->subsys[{id}] is empty): spin_lock_irqsave(&blkcg->lock) oopses",
                ops.name,
                k.cgroups.label(cgrp)
            ),
        );
    };
    let is_static = k.css(css, cx).is_static;
    cx.at(281);
    drop(rcu);
    cx.at(282);
    if !is_static {
        cx.at(283);
        k.csses.kfree(css, cx);
    }
}

/// `init_cgroup_blkio` (blk-cgroup.c:365-368): `cgroup_load_subsys(&blkio_subsys)`.
fn init_cgroup_blkio(k: &Kernel, _mi: usize, ss: SubsysH, cx: &Cx) -> Result<(), Errno> {
    let _f = cx.enter(&kfn::init_cgroup_blkio);
    cx.at(367);
    k.cgroup_load_subsys(ss, cx)
}

/// `exit_cgroup_blkio` (blk-cgroup.c:370-373): `cgroup_unload_subsys(&blkio_subsys)`.
fn exit_cgroup_blkio(k: &Kernel, _mi: usize, ss: SubsysH, cx: &Cx) {
    let _f = cx.enter(&kfn::exit_cgroup_blkio);
    cx.at(372);
    k.cgroup_unload_subsys(ss, cx)
}
