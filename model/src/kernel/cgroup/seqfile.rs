//! The seq_file path of control files (kernel/cgroup.c:2012-2054 and 2066-2076): a cftype with
//! `read_map` or `read_seq_string` (`blkio.time` in the model) is opened through
//! `cgroup_seqfile_state`, and the open file switches to `cgroup_seqfile_operations`: `seq_read`
//! → `cgroup_seqfile_show`, `cgroup_file_write`, `cgroup_seqfile_release`.
//!
//! The state is a second pointer to the cftype, beside the dentry's `d_fsdata`, and the open file
//! pins neither: `cgroup_seqfile_show` reads a module's cftype through it after `free_module`
//! freed it, as `cgroup_file_read` does through the dentry. `cgroup_seqfile_release` reads no
//! cftype: closing such a file after the module went is safe, reading it is not.
//!
//! `seq_read` (fs/seq_file.c) is folded into the call of `show`: its per-file `m->lock` mutex,
//! its page buffer (a GFP_KERNEL allocation at the first read) and its position are not modelled
//! (docs/model.md says so).

use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::gfp::{GFP_KERNEL, GFP_USER};
use crate::kernel::ops::Ret;
use crate::kernel::{CftH, CftKind, CgroupH, FileH, Kernel, SeqfileState};
use crate::sim::arena::{load_ptr, store_ptr};
use crate::sim::cx::Cx;

impl Kernel {
    /// The seq_file half of `cgroup_file_open` (cgroup.c:2066-2076), for a cftype whose
    /// [`CftKind::is_seq`]: kzalloc the `cgroup_seqfile_state` (GFP_USER, -ENOMEM), store the
    /// cftype and the cgroup in it, switch `f_op`, then `single_open` (its allocations are one
    /// kmalloc here; on failure the state is freed).
    pub fn cgroup_seqfile_open(
        &self,
        f: FileH,
        cft: CftH,
        cgrp: CgroupH,
        cx: &Cx,
    ) -> Result<(), Errno> {
        // frame: cgroup_file_open
        cx.at(2067);
        if !cx.kmalloc_ok(GFP_USER) {
            cx.at(2070);
            return Err(Errno::ENOMEM);
        }
        cx.at(2071);
        let state = self.seqstates.alloc(SeqfileState { cft, cgroup: cgrp });
        self.seqstates
            .set_label(state, format!("seqfile state of {}", self.files.label(f)));
        cx.at(2074);
        if !cx.kmalloc_ok(GFP_KERNEL) {
            cx.at(2076);
            self.seqstates.kfree(state, cx);
            return Err(Errno::ENOMEM);
        }
        store_ptr(&self.files.get(f, cx).seq_state, Some(state));
        Ok(())
    }

    /// `seq_read` on a control file opened through its seq_file: `cgroup_seqfile_show(m, arg)`
    /// (cgroup.c:2028-2040): the state's cftype (a read of it: the open file does not pin it),
    /// then its `read_seq_string` on the state's cgroup (`read_map` is in no modelled cftype).
    pub fn cgroup_seqfile_show(&self, f: FileH, cx: &Cx) -> Result<Ret, Errno> {
        let _f = cx.enter(&kfn::cgroup_seqfile_show);
        cx.at(2030);
        let state = load_ptr::<SeqfileState>(&self.files.get(f, cx).seq_state)
            .expect("a file on cgroup_seqfile_operations has its state");
        let (cft, cgrp) = {
            let s = self.seqstates.get(state, cx);
            (s.cft, s.cgroup)
        };
        cx.at(2032);
        let (kind, ss) = {
            let c = self.cftypes.get(cft, cx);
            (c.kind, c.ss)
        };
        cx.at(2039);
        match kind {
            CftKind::BlkioTime => self.blkiocg_time_read(cgrp, ss, cx),
            other => unreachable!("{other:?} has no read_seq_string"),
        }
    }

    /// `cgroup_seqfile_release(inode, file)` (cgroup.c:2042-2047): `kfree(seq->private)` (the
    /// state), then `single_release`. It reads no cftype.
    pub fn cgroup_seqfile_release(&self, f: FileH, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_seqfile_release);
        cx.at(2045);
        let state = load_ptr::<SeqfileState>(&self.files.get(f, cx).seq_state)
            .expect("a file on cgroup_seqfile_operations has its state");
        self.seqstates.kfree(state, cx);
    }
}
