//! fs/dcache.c: dentry references (`dget`, `dput`) and `d_genocide`, with a directory
//! dentry folded into its cgroup and a control file's into its [`crate::kernel::CgFile`].

use crate::kernel::anchors::kfn;
use crate::kernel::{CgFileH, CgroupH, Kernel};
use crate::sim::cx::Cx;
use crate::sim::sync::Ordering;

impl Kernel {
    /// `d_genocide(sb->s_root)` (fs/dcache.c) as `kill_litter_super` calls it: drops the pin of
    /// every control file left in the root directory (no file is open: an open file holds an
    /// active reference on the superblock), which frees them.
    /// v2.6.34: fs/dcache.c:2217-2245.
    pub fn d_genocide(&self, top: CgroupH, cx: &Cx) {
        let _f = cx.enter(&kfn::d_genocide);
        loop {
            let g = self.dcache_lock.lock(cx);
            let d = self
                .cgrp(top, cx)
                .files
                .with_mut(&self.dcache_lock, cx, |l| {
                    (!l.is_empty()).then(|| l.remove(0))
                });
            drop(g);
            match d {
                Some(d) => self.dput_file(d, cx),
                None => return,
            }
        }
    }

    /// `dget` of a cgroup's directory (include/linux/dcache.h:335-342). A top cgroup's dentry is
    /// the superblock's `s_root`, which the superblock holds: its count is not modelled.
    pub fn dget(&self, c: CgroupH, cx: &Cx) {
        let _f = cx.enter(&kfn::dget);
        let c_ = self.cgrp(c, cx);
        if c_.parent.is_some() {
            cx.at(339);
            c_.d_count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `dput` of a cgroup's directory (fs/dcache.c:215-259): the last reference to an unhashed
    /// (removed) one runs `d_kill`: `cgroup_diput`, then the reference on its parent goes.
    pub fn dput(&self, c: CgroupH, cx: &Cx) {
        let _f = cx.enter(&kfn::dput);
        let c_ = self.cgrp(c, cx);
        let Some(parent) = c_.parent else {
            return;
        };
        cx.at(224);
        let last = c_.d_count.fetch_sub(1, Ordering::SeqCst) == 1;
        drop(c_);
        if last {
            cx.at(252);
            self.cgroup_diput(c, cx);
            self.dput(parent, cx);
        }
    }

    /// `dput` of a control file's dentry: the last reference (the file already unhashed by
    /// `cgroup_clear_directory`) frees it (`d_kill`: `iput`, and the reference on its parent
    /// directory goes).
    /// v2.6.34: `dput`, fs/dcache.c:215-259.
    pub fn dput_file(&self, d: CgFileH, cx: &Cx) {
        let _f = cx.enter(&kfn::dput);
        cx.at(224);
        let (last, parent) = {
            let f = self.cgfiles.get(d, cx);
            (f.d_count.fetch_sub(1, Ordering::SeqCst) == 1, f.cgrp)
        };
        if last {
            cx.at(252);
            self.cgfiles.kfree(d, cx);
            if !self.fault(crate::variants::Fault::FileNoParentRef) {
                self.dput(parent, cx);
            }
        }
    }
}
