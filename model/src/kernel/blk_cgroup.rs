//! blkio as a module (block/blk-cgroup.c): its init and exit call `cgroup_load_subsys` and
//! `cgroup_unload_subsys`; blkio is a `use_id` subsystem.

use crate::kernel::errno::Errno;
use crate::kernel::{Kernel, SubsysH};
use crate::sim::cx::Cx;

impl Kernel {
    /// blk-cgroup's `init_cgroup_blkio`: `cgroup_load_subsys(&blkio_subsys)`.
    pub fn init_cgroup_blkio(&self, ss: SubsysH, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("init_cgroup_blkio");
        self.cgroup_load_subsys(ss, cx)
    }

    /// blk-cgroup's `exit_cgroup_blkio`: `cgroup_unload_subsys(&blkio_subsys)`.
    pub fn exit_cgroup_blkio(&self, ss: SubsysH, cx: &Cx) {
        let _f = cx.enter("exit_cgroup_blkio");
        self.cgroup_unload_subsys(ss, cx)
    }
}
