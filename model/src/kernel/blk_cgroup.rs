//! blkio as a module (block/blk-cgroup.c): its init and exit call `cgroup_load_subsys` and
//! `cgroup_unload_subsys`; blkio is a `use_id` subsystem.

use crate::kernel::errno::Errno;
use crate::kernel::{CgroupH, CssH, Kernel, SubsysH, SubsysOps};
use crate::sim::cx::Cx;

/// `blkio_subsys` (block/blk-cgroup.c).
pub static BLKIO_SUBSYS: SubsysOps = SubsysOps {
    name: "blkio",
    module: Some("blk_cgroup"),
    use_id: true,
    create: blkiocg_create,
    destroy: blkiocg_destroy,
    module_init: Some(init_cgroup_blkio),
    module_exit: Some(exit_cgroup_blkio),
};

/// `blkiocg_create(subsys, cgroup)`: the kzalloc of the `struct blkio_cgroup`.
fn blkiocg_create(k: &Kernel, _ss: SubsysH, _cgrp: CgroupH, cx: &Cx) -> Result<CssH, Errno> {
    let _f = cx.enter("blkiocg_create");
    k.kzalloc_css(&BLKIO_SUBSYS, cx)
}

/// `blkiocg_destroy(subsys, cgroup)`: frees the `struct blkio_cgroup`.
fn blkiocg_destroy(k: &Kernel, ops: &'static SubsysOps, id: usize, cgrp: CgroupH, cx: &Cx) {
    let _f = cx.enter("blkiocg_destroy");
    k.kfree_css(ops, id, cgrp, cx);
}

/// blk-cgroup's `init_cgroup_blkio`: `cgroup_load_subsys(&blkio_subsys)`.
fn init_cgroup_blkio(k: &Kernel, _mi: usize, ss: SubsysH, cx: &Cx) -> Result<(), Errno> {
    let _f = cx.enter("init_cgroup_blkio");
    k.cgroup_load_subsys(ss, cx)
}

/// blk-cgroup's `exit_cgroup_blkio`: `cgroup_unload_subsys(&blkio_subsys)`.
fn exit_cgroup_blkio(k: &Kernel, _mi: usize, ss: SubsysH, cx: &Cx) {
    let _f = cx.enter("exit_cgroup_blkio");
    k.cgroup_unload_subsys(ss, cx)
}
