//! blkio as a module (block/blk-cgroup.c): its init and exit call `cgroup_load_subsys` and
//! `cgroup_unload_subsys`; blkio is a `use_id` subsystem whose root css is static module data
//! (`blkio_root_cgroup`). Its `can_attach`/`attach` callbacks, its `populate` (`blkio.weight` and
//! the statistics files), its blkio groups and their `blkcg->lock` are not modelled: nothing of
//! the cgroup core's lifetime rules goes through them.

use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::{CgroupH, Css, CssH, Kernel, SubsysH, SubsysOps};
use crate::sim::arena::load_ptr;
use crate::sim::cx::Cx;

/// `blkio_subsys` (block/blk-cgroup.c:36-49).
pub static BLKIO_SUBSYS: SubsysOps = SubsysOps {
    name: "blkio",
    module: Some("blk_cgroup"),
    use_id: true,
    create: blkiocg_create,
    destroy: blkiocg_destroy,
    module_init: Some(init_cgroup_blkio),
    module_exit: Some(exit_cgroup_blkio),
    files: &[],
    populate: None,
    static_root: true,
};

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
    k.kzalloc_css(&BLKIO_SUBSYS, cx)
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
