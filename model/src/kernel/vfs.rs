//! The slice of the VFS that orders cgroup code (fs/super.c, fs/namespace.c, fs/namei.c,
//! fs/dcache.c, abstracted): the superblock list and `sget`, `deactivate_super`, the mount table,
//! path walks with dentry references, and the `mkdir`/`rmdir` entries that call into cgroupfs.
//!
//! A superblock is folded into its `cgroupfs_root` (`s_active`), a dentry into its cgroup
//! (`d_count`, `i_mutex`, the children's names under `dcache_lock`); a mountpoint holds at most
//! one mount.

use crate::kernel::cgroup::options::SbOpts;
use crate::kernel::errno::Errno;
use crate::kernel::{CgroupH, Kernel, RootH};
use crate::sim::cx::Cx;
use crate::sim::sync::Ordering;

impl Kernel {
    /// `sget(cgroup_fs_type, cgroup_test_super, cgroup_set_super, opts)` abstracted: under sb_lock,
    /// reuse a live superblock that passes the test (taking an active reference), else set up
    /// the new root's (-EINVAL without one). A dying superblock (`s_active` 0, not yet off the
    /// list) is skipped: the kernel's `grab_super` would wait for it to go and retry.
    pub fn sget(&self, o: &SbOpts, new_root: Option<RootH>, cx: &Cx) -> Result<RootH, Errno> {
        let _f = cx.enter("sget");
        let g = self.sb_lock.lock(cx);
        let supers = self.supers.get(&self.sb_lock, cx);
        for r in supers {
            if self.root(r, cx).s_active.load(Ordering::SeqCst) > 0
                && self.cgroup_test_super(r, o, cx)
            {
                self.root(r, cx).s_active.fetch_add(1, Ordering::SeqCst);
                drop(g);
                return Ok(r);
            }
        }
        // cgroup_set_super
        let Some(root) = new_root else {
            drop(g);
            return Err(Errno::EINVAL);
        };
        self.root(root, cx).s_active.store(1, Ordering::SeqCst);
        self.supers.with_mut(&self.sb_lock, cx, |l| l.push(root));
        drop(g);
        Ok(root)
    }

    /// `deactivate_super(sb)`: drops an active reference; the last one (`atomic_dec_and_lock`
    /// on sb_lock) runs `cgroup_kill_sb`.
    pub fn deactivate_super(&self, root: RootH, cx: &Cx) {
        let _f = cx.enter("deactivate_super");
        let g = self.sb_lock.lock(cx);
        let last = self.root(root, cx).s_active.fetch_sub(1, Ordering::SeqCst) == 1;
        drop(g);
        if last {
            self.cgroup_kill_sb(root, cx);
        }
    }

    /// `mount -t cgroup -o DATA cgroup MNT`: `do_new_mount` → `cgroup_get_sb` → `do_add_mount`.
    /// A mountpoint holds one mount in the model (-EBUSY if taken; the VFS would over-mount).
    #[doc(alias = "do_mount")]
    #[doc(alias = "do_new_mount")]
    pub fn sys_mount(&self, mnt: &str, data: &str, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("do_mount");
        let taken = {
            let g = self.vfsmount_lock.lock(cx);
            let t = self
                .mounts
                .with(&self.vfsmount_lock, cx, |l| l.iter().any(|(n, _)| n == mnt));
            drop(g);
            t
        };
        if taken {
            return Err(Errno::EBUSY);
        }
        let root = self.cgroup_get_sb(data, cx)?;
        let g = self.vfsmount_lock.lock(cx);
        let raced = self.mounts.with_mut(&self.vfsmount_lock, cx, |l| {
            if l.iter().any(|(n, _)| n == mnt) {
                true
            } else {
                l.push((mnt.to_string(), root));
                false
            }
        });
        drop(g);
        if raced {
            self.deactivate_super(root, cx);
            return Err(Errno::EBUSY);
        }
        Ok(())
    }

    /// `umount MNT`: detach the mount, then `mntput` → `deactivate_super` (which kills the
    /// superblock only when this was its last active reference: child cgroups and open paths
    /// keep a hierarchy alive after umount).
    pub fn sys_umount(&self, mnt: &str, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("sys_umount");
        let g = self.vfsmount_lock.lock(cx);
        let root = self.mounts.with_mut(&self.vfsmount_lock, cx, |l| {
            let p = l.iter().position(|(n, _)| n == mnt)?;
            Some(l.remove(p).1)
        });
        drop(g);
        let root = root.ok_or(Errno::EINVAL)?;
        self.deactivate_super(root, cx);
        Ok(())
    }

    /// `mount -o remount,DATA MNT`.
    #[doc(alias = "do_remount")]
    pub fn sys_remount(&self, mnt: &str, data: &str, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("do_remount");
        let root = self.path_mount(mnt, cx)?;
        let r = self.cgroup_remount(root, data, cx);
        self.deactivate_super(root, cx);
        r
    }

    /// Path walk to a mountpoint: under vfsmount_lock, `mntget` pins the superblock (an active
    /// reference, dropped with [`Kernel::deactivate_super`]). -ENOENT if nothing is mounted there.
    #[doc(alias = "do_path_lookup")]
    pub fn path_mount(&self, mnt: &str, cx: &Cx) -> Result<RootH, Errno> {
        let g = self.vfsmount_lock.lock(cx);
        let r = self.mounts.with(&self.vfsmount_lock, cx, |l| {
            l.iter().find(|(n, _)| n == mnt).map(|x| x.1)
        });
        if let Some(r) = r {
            self.root(r, cx).s_active.fetch_add(1, Ordering::SeqCst);
        }
        drop(g);
        r.ok_or(Errno::ENOENT)
    }

    /// `dget`.
    fn dget(&self, c: CgroupH, cx: &Cx) {
        self.cgrp(c, cx).d_count.fetch_add(1, Ordering::SeqCst);
    }

    /// `dput`: the last reference to an unhashed (removed) cgroup dentry runs `cgroup_diput`.
    /// A top cgroup's dentry belongs to the superblock and is never put here.
    pub fn dput(&self, c: CgroupH, cx: &Cx) {
        let _f = cx.enter("dput");
        let c_ = self.cgrp(c, cx);
        if c_.parent.is_none() {
            return;
        }
        let last = c_.d_count.fetch_sub(1, Ordering::SeqCst) == 1;
        drop(c_);
        if last {
            self.cgroup_diput(c, cx);
        }
    }

    /// Path walk `MNT/a/b`: pins the superblock (see [`Kernel::path_mount`]) and takes a dentry
    /// reference on the final cgroup, walking children under `dcache_lock`. -ENOENT if absent.
    pub fn path_lookup(&self, mnt: &str, path: &str, cx: &Cx) -> Result<PathRef, Errno> {
        let _f = cx.enter("path_lookup");
        let root = self.path_mount(mnt, cx)?;
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
                    self.deactivate_super(root, cx);
                    return Err(Errno::ENOENT);
                }
            }
        }
        Ok(PathRef { root, cgrp: cur })
    }

    /// Drops what [`Kernel::path_lookup`] took.
    pub fn path_put(&self, p: PathRef, cx: &Cx) {
        self.dput(p.cgrp, cx);
        self.deactivate_super(p.root, cx);
    }

    /// `mkdir MNT/PATH`: the VFS resolves the parent and holds its `i_mutex` (-EEXIST if the name
    /// exists), then `cgroup_mkdir` → `cgroup_create`.
    #[doc(alias = "sys_mkdirat")]
    #[doc(alias = "vfs_mkdir")]
    pub fn sys_mkdir(&self, mnt: &str, path: &str, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("sys_mkdirat");
        let (dir, name) = match path.rsplit_once('/') {
            Some((d, n)) => (d, n),
            None => ("", path),
        };
        if name.is_empty() {
            return Err(Errno::EEXIST);
        }
        let parent = self.path_lookup(mnt, dir, cx)?;
        let pc = self.cgrp(parent.cgrp, cx);
        let im = pc.i_mutex.lock(cx);
        let g = self.dcache_lock.lock(cx);
        let exists = pc
            .dchildren
            .with(&self.dcache_lock, cx, |l| l.iter().any(|(n, _)| n == name));
        drop(g);
        let r = if exists {
            Err(Errno::EEXIST)
        } else {
            self.cgroup_create(parent.cgrp, name, cx)
        };
        drop(im);
        drop(pc);
        self.path_put(parent, cx);
        r
    }

    /// `rmdir MNT/PATH`: the VFS holds the parent's and the victim's `i_mutex`, `cgroup_rmdir`
    /// runs, and the final `dput` frees the cgroup through `cgroup_diput`.
    #[doc(alias = "do_rmdir")]
    #[doc(alias = "vfs_rmdir")]
    pub fn sys_rmdir(&self, mnt: &str, path: &str, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("sys_rmdir");
        let p = self.path_lookup(mnt, path, cx)?;
        let Some(parent) = self.cgrp(p.cgrp, cx).parent else {
            self.path_put(p, cx);
            return Err(Errno::EBUSY); // the root directory
        };
        let pc = self.cgrp(parent, cx);
        let pim = pc.i_mutex.lock(cx);
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
}

/// A cgroup directory resolved by a path walk: the dentry reference and the pinned superblock.
#[derive(Clone, Copy, Debug)]
pub struct PathRef {
    /// The hierarchy (pinned by an active reference).
    pub root: RootH,
    /// The cgroup (pinned by a dentry reference unless it is the top cgroup).
    pub cgrp: CgroupH,
}
