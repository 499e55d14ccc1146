//! fs/namei.c: path walks with dentry references, the `mkdir` and `rmdir` entries that call
//! into cgroupfs, and `do_filp_open`.

use super::PathRef;
use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::gfp::GFP_KERNEL;
use crate::kernel::{File, FileH, Kernel, I_MUTEX_PARENT};
use crate::sim::atomic::{AtomicI64, AtomicUsize};
use crate::sim::cx::Cx;
use crate::sim::sync::Ordering;

impl Kernel {
    /// Path walk `MNT/a/b` (`path_lookup`, fs/namei.c:1071-1075): pins the superblock (see
    /// [`Kernel::path_mount`]) and takes a dentry reference on the final cgroup, walking children
    /// under `dcache_lock`. -ENOENT if absent.
    pub fn path_lookup(&self, mnt: &str, path: &str, cx: &Cx) -> Result<PathRef, Errno> {
        let _f = cx.enter(&kfn::path_lookup);
        let sb = self.path_mount(mnt, cx)?;
        let root = self.sb_root(sb, cx);
        let mut cur = self.root(root, cx).top();
        for comp in path.split('/').filter(|c| !c.is_empty()) {
            let g = self.dcache_lock.lock(cx);
            let child = self
                .cgrp(cur, cx)
                .dchildren
                .with(&self.dcache_lock, cx, |l| {
                    l.iter().find(|(n, _)| n == comp).map(|x| x.1)
                });
            if let Some(ch) = child {
                self.dget(ch, cx);
            }
            drop(g);
            self.dput(cur, cx);
            match child {
                Some(ch) => cur = ch,
                None => {
                    self.deactivate_super(sb, cx);
                    return Err(Errno::ENOENT);
                }
            }
        }
        Ok(PathRef {
            sb,
            root,
            cgrp: cur,
        })
    }

    /// Drops what [`Kernel::path_lookup`] took.
    pub fn path_put(&self, p: PathRef, cx: &Cx) {
        self.dput(p.cgrp, cx);
        self.deactivate_super(p.sb, cx);
    }

    /// `mkdir MNT/PATH`: `sys_mkdirat` (fs/namei.c:2092-2127) resolves the parent and holds its
    /// `i_mutex` (-EEXIST if the name exists), then `vfs_mkdir` → `cgroup_mkdir` →
    /// `cgroup_create`.
    #[doc(alias = "sys_mkdirat")]
    #[doc(alias = "vfs_mkdir")]
    pub fn sys_mkdir(&self, mnt: &str, path: &str, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::sys_mkdirat);
        let (dir, name) = match path.rsplit_once('/') {
            Some((d, n)) => (d, n),
            None => ("", path),
        };
        if name.is_empty() {
            return Err(Errno::EEXIST);
        }
        cx.at(2104);
        let parent = self.path_lookup(mnt, dir, cx)?;
        let pc = self.cgrp(parent.cgrp, cx);
        cx.at(2106);
        let im = pc.i_mutex.lock_nested(cx, I_MUTEX_PARENT);
        let g = self.dcache_lock.lock(cx);
        let exists = pc
            .dchildren
            .with(&self.dcache_lock, cx, |l| l.iter().any(|(n, _)| n == name))
            || pc.files.with(&self.dcache_lock, cx, |l| {
                l.iter().any(|&f| self.cgfiles.get(f, cx).name == name)
            });
        drop(g);
        let r = if exists {
            Err(Errno::EEXIST)
        } else {
            cx.at(2119);
            let _m = cx.enter(&kfn::cgroup_mkdir);
            cx.at(3377);
            self.cgroup_create(parent.cgrp, name, cx)
        };
        cx.at(2122);
        drop(im);
        drop(pc);
        self.path_put(parent, cx);
        r
    }

    /// `rmdir MNT/PATH`: `sys_rmdir` → `do_rmdir` (fs/namei.c) holds the parent's and the
    /// victim's `i_mutex`, `vfs_rmdir` → `cgroup_rmdir`, and the final `dput` frees the cgroup
    /// through `cgroup_diput`.
    /// v2.6.34: fs/namei.c:2243-2246.
    #[doc(alias = "do_rmdir")]
    #[doc(alias = "vfs_rmdir")]
    pub fn sys_rmdir(&self, mnt: &str, path: &str, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::sys_rmdir);
        let p = self.path_lookup(mnt, path, cx)?;
        let Some(parent) = self.cgrp(p.cgrp, cx).parent else {
            self.path_put(p, cx);
            return Err(Errno::EBUSY); // the root directory
        };
        let pc = self.cgrp(parent, cx);
        let pim = pc.i_mutex.lock_nested(cx, I_MUTEX_PARENT);
        let c = self.cgrp(p.cgrp, cx);
        let cim = c.i_mutex.lock(cx);
        let hashed = {
            let g = self.dcache_lock.lock(cx);
            let h = pc.dchildren.with(&self.dcache_lock, cx, |l| {
                l.iter().any(|(_, x)| *x == p.cgrp)
            });
            drop(g);
            h
        };
        let r = if hashed {
            self.cgroup_rmdir(p.cgrp, cx)
        } else {
            Err(Errno::ENOENT)
        };
        drop(cim);
        drop(c);
        drop(pim);
        drop(pc);
        self.path_put(p, cx);
        r
    }

    /// `do_filp_open` (fs/namei.c:1760) for a control file: the path walk to its dentry (a
    /// dentry reference and the mount's; -ENOENT if there is no such file), a `struct file`
    /// (`get_empty_filp`: kmalloc, -ENFILE), then `f_op->open`, `cgroup_file_open` (on failure
    /// the file is put back).
    pub fn do_filp_open(
        &self,
        mnt: &str,
        path: &str,
        (read, write): (bool, bool),
        cx: &Cx,
    ) -> Result<FileH, Errno> {
        let _f = cx.enter(&kfn::do_filp_open);
        let (dir, name) = match path.rsplit_once('/') {
            Some((d, n)) => (d, n),
            None => ("", path),
        };
        let p = self.path_lookup(mnt, dir, cx)?;
        let g = self.dcache_lock.lock(cx);
        let dentry = self
            .cgrp(p.cgrp, cx)
            .files
            .with(&self.dcache_lock, cx, |l| {
                l.iter()
                    .copied()
                    .find(|&f| self.cgfiles.get(f, cx).name == name)
            });
        if let Some(d) = dentry {
            self.cgfiles
                .get(d, cx)
                .d_count
                .fetch_add(1, Ordering::Relaxed);
        }
        drop(g);
        // The walk's reference on the directory: the file's dentry holds its own on its parent.
        self.dput(p.cgrp, cx);
        let Some(dentry) = dentry else {
            self.deactivate_super(p.sb, cx);
            return Err(Errno::ENOENT);
        };
        if !cx.kmalloc_ok(GFP_KERNEL) {
            self.dput_file(dentry, cx);
            self.deactivate_super(p.sb, cx);
            return Err(Errno::ENFILE);
        }
        let f = self.files.alloc(File {
            dentry,
            sb: p.sb,
            read,
            write,
            f_count: AtomicI64::named(1, "file.f_count"),
            pidlist: AtomicUsize::named(0, "file.private_data:pidlist"),
            seq_state: AtomicUsize::named(0, "seq_file.private:cgroup_seqfile_state"),
        });
        self.files
            .set_label(f, format!("file on {}", self.cgfiles.label(dentry)));
        if let Err(e) = self.cgroup_file_open(f, cx) {
            self.__fput(f, false, cx);
            return Err(e);
        }
        Ok(f)
    }
}
