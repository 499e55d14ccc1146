//! The slice of the VFS that orders cgroup code (fs/super.c, fs/namespace.c, fs/namei.c,
//! fs/dcache.c, fs/open.c, fs/read_write.c, fs/file_table.c): superblocks (`sget`,
//! `grab_super`, `deactivate_super`, `generic_shutdown_super`), the mount table, path walks with
//! dentry references, the `mkdir`/`rmdir` entries that call into cgroupfs, and open, read,
//! write and close of control files.
//!
//! Abstractions, each argued in docs/model.md: a directory dentry is folded into its cgroup
//! (`d_count`, `i_mutex`, its children's names under `dcache_lock`), a control file's dentry is a
//! [`crate::kernel::CgFile`]; a mountpoint holds at most one mount; `umount` is a lazy unmount
//! (`MNT_DETACH`), and a mount reference is an active superblock reference; the BKL that
//! `do_new_mount` and `cgroup_remount` take is left out (it is dropped whenever its holder sleeps,
//! and every path here sleeps on a mutex).
//!
//! The file is long because it holds the superblock life cycle, the mount table, path walks and
//! the four file system calls: the VFS side of every cgroupfs entry point.

use crate::kernel::anchors::kfn;
use crate::kernel::cgroup::options::SbOpts;
use crate::kernel::errno::Errno;
use crate::kernel::ops::Ret;
use crate::kernel::{
    CgFileH, CgroupH, File, FileH, Kernel, Pidlist, RootH, SbH, SuperBlock, S_BIAS,
};
use crate::sim::arena::load_ptr;
use crate::sim::atomic::{AtomicI64, AtomicUsize};
use crate::sim::cx::Cx;
use crate::sim::lockdep::{KSemaphore, LockedBy};
use crate::sim::rcu::{rcu_assign_pointer, rcu_dereference};
use crate::sim::spin::SpinWait;
use crate::sim::sync::Ordering;

/// A cgroup directory resolved by a path walk: the mount's superblock (an active reference) and
/// the cgroup (a dentry reference unless it is the top cgroup).
#[derive(Clone, Copy, Debug)]
pub struct PathRef {
    /// The superblock (pinned by an active reference).
    pub sb: SbH,
    /// The hierarchy.
    pub root: RootH,
    /// The cgroup (pinned by a dentry reference unless it is the top cgroup).
    pub cgrp: CgroupH,
}

impl Kernel {
    /// The hierarchy of a superblock (`sb->s_fs_info`).
    pub fn sb_root(&self, sb: SbH, cx: &Cx) -> RootH {
        self.sbs.get(sb, cx).s_fs_info
    }

    /// `sget(cgroup_fs_type, cgroup_test_super, cgroup_set_super, opts)` (fs/super.c:339-385):
    /// under sb_lock, a superblock that passes the test is grabbed (`grab_super`: waits on its
    /// `s_umount` for a mount still being set up, and fails, making sget retry, on one that
    /// failed or is dying); otherwise a new one is allocated (`alloc_super`, with `s_umount`
    /// held for writing), set up for `new_root` (`cgroup_set_super`: -EINVAL without one) and put
    /// on the list. Either way it returns with `s_umount` held: the caller's.
    pub fn sget(&self, o: &SbOpts, new_root: Option<RootH>, cx: &Cx) -> Result<SbH, Errno> {
        let _f = cx.enter(&kfn::sget);
        let mut s: Option<SbH> = None;
        loop {
            cx.at(349);
            let g = self.sb_lock.lock(cx);
            let supers = self.supers.get(&self.sb_lock, cx);
            let found = supers.into_iter().find(|&old| {
                cx.at(352);
                self.cgroup_test_super(old, o, cx)
            });
            if let Some(old) = found {
                cx.at(354);
                if !self.grab_super(old, g, cx) {
                    continue; // goto retry
                }
                if let Some(s) = s {
                    cx.at(357);
                    self.sbs.get(s, cx).s_umount.up_write(cx);
                    cx.at(358);
                    self.sbs.kfree(s, cx);
                }
                return Ok(old);
            }
            let Some(new) = s else {
                cx.at(364);
                drop(g);
                cx.at(365);
                s = Some(self.alloc_super(new_root, cx)?);
                continue;
            };
            cx.at(370);
            let Some(root) = new_root else {
                // cgroup_set_super: "If we don't have a new root, we can't set up a new sb"
                cx.at(372);
                drop(g);
                cx.at(373);
                self.sbs.get(new, cx).s_umount.up_write(cx);
                cx.at(374);
                self.sbs.kfree(new, cx);
                return Err(Errno::EINVAL);
            };
            let _ = self.root(root, cx).sb.set(new);
            cx.at(379);
            self.supers
                .with_mut(&self.sb_lock, cx, |l| l.insert(0, new));
            cx.at(380);
            drop(g);
            return Ok(new);
        }
    }

    /// `alloc_super` (fs/super.c:55-111): kzalloc (-ENOMEM), `s_umount` held for writing,
    /// `s_count = S_BIAS`, `s_active = 1`. Its `s_fs_info` is set by `cgroup_set_super`; the model
    /// gives it at allocation (nothing reads it before the superblock is on the list).
    fn alloc_super(&self, new_root: Option<RootH>, cx: &Cx) -> Result<SbH, Errno> {
        let _f = cx.enter(&kfn::alloc_super);
        cx.at(57);
        if !cx.kmalloc_ok() {
            return Err(Errno::ENOMEM);
        }
        let sb = self.sbs.alloc(SuperBlock {
            s_umount: KSemaphore::new("s_umount"),
            s_active: AtomicI64::named(1, "sb.s_active"),
            s_count: LockedBy::new(S_BIAS),
            s_root: LockedBy::new(false),
            s_fs_info: new_root.unwrap_or(self.rootnode),
            dying: SpinWait::new(),
        });
        cx.at(95);
        self.sbs.get(sb, cx).s_umount.down_write(cx);
        Ok(sb)
    }

    /// `grab_super(s)` (fs/super.c:244-263), called with sb_lock held (`g`), which it drops:
    /// `s_count++`, wait on `s_umount`; if the superblock got set up (`s_root`) and is not dying
    /// (`s_count > S_BIAS`), an active reference and true, with `s_umount` held; otherwise
    /// release, `put_super`, `yield()` (a hint, no step here: see the body), and false.
    pub fn grab_super(&self, s: SbH, g: crate::sim::lockdep::KMutexGuard<'_>, cx: &Cx) -> bool {
        let _f = cx.enter(&kfn::grab_super);
        let sb = self.sbs.get(s, cx);
        cx.at(246);
        sb.s_count.with_mut(&self.sb_lock, cx, |c| *c += 1);
        cx.at(247);
        drop(g);
        cx.at(248);
        sb.s_umount.down_write(cx);
        cx.at(249);
        if sb.s_root.get(&sb.s_umount, cx) {
            cx.at(250);
            let g = self.sb_lock.lock(cx);
            cx.at(251);
            if sb.s_count.get(&self.sb_lock, cx) > S_BIAS {
                cx.at(252);
                sb.s_active.fetch_add(1, Ordering::SeqCst);
                cx.at(253);
                sb.s_count.with_mut(&self.sb_lock, cx, |c| *c -= 1);
                cx.at(254);
                drop(g);
                return true; // s_umount stays held: the caller's
            }
            cx.at(257);
            drop(g);
        }
        cx.at(259);
        sb.s_umount.up_write(cx);
        // yield() (line 261): sget retries the superblock until its killer takes it off the
        // list. Between the killer's `s_count -= S_BIAS - 1` and its own down_write of
        // s_umount, every retry fails the same way, a spin the kernel ends by yielding and the
        // checkers would run for ever; the retry waits here, in the window `dying` (sim/spin.rs),
        // before put_super (line 260) instead of after it, so that the superblock it waits on
        // is still pinned (docs/model.md). A retry outside the window goes on at once.
        sb.dying.spin();
        drop(sb);
        cx.at(260);
        self.put_super(s, cx);
        false
    }

    /// `put_super(sb)` (fs/super.c:172-177): `s_count--` under sb_lock; the last frees it
    /// (`destroy_super`).
    pub fn put_super(&self, s: SbH, cx: &Cx) {
        let _f = cx.enter(&kfn::put_super);
        cx.at(174);
        let g = self.sb_lock.lock(cx);
        cx.at(175);
        let last = self
            .sbs
            .get(s, cx)
            .s_count
            .with_mut(&self.sb_lock, cx, |c| {
                *c -= 1;
                *c == 0
            });
        if last {
            self.sbs.kfree(s, cx);
        }
        cx.at(176);
        drop(g);
    }

    /// `deactivate_super(sb)` (fs/super.c:189-201): drops an active reference; the last one
    /// (`atomic_dec_and_lock` on sb_lock) takes `S_BIAS - 1` off `s_count` (the superblock is
    /// dying: `grab_super` refuses it), takes `s_umount` and runs `cgroup_kill_sb`, then
    /// `put_super`.
    pub fn deactivate_super(&self, s: SbH, cx: &Cx) {
        let _f = cx.enter(&kfn::deactivate_super);
        cx.at(192);
        if !self.dec_and_lock_active(s, cx) {
            return;
        }
        cx.at(196);
        self.sbs.get(s, cx).s_umount.down_write(cx); // released by generic_shutdown_super
        cx.at(197);
        self.cgroup_kill_sb(s, cx);
        cx.at(199);
        self.put_super(s, cx);
    }

    /// `deactivate_locked_super(sb)` (fs/super.c:216-229), `s_umount` held: the last active
    /// reference kills the superblock (`s_umount` is released by `generic_shutdown_super`);
    /// otherwise `up_write(&s->s_umount)`.
    pub fn deactivate_locked_super(&self, s: SbH, cx: &Cx) {
        let _f = cx.enter(&kfn::deactivate_locked_super);
        cx.at(221);
        if self.dec_and_lock_active(s, cx) {
            cx.at(225);
            self.cgroup_kill_sb(s, cx);
            cx.at(227);
            self.put_super(s, cx);
        } else {
            cx.at(229);
            self.sbs.get(s, cx).s_umount.up_write(cx);
        }
    }

    /// `atomic_dec_and_lock(&s->s_active, &sb_lock)` and, for the last reference,
    /// `s->s_count -= S_BIAS - 1` before dropping sb_lock.
    fn dec_and_lock_active(&self, s: SbH, cx: &Cx) -> bool {
        let sb = self.sbs.get(s, cx);
        let g = self.sb_lock.lock(cx);
        let last = sb.s_active.fetch_sub(1, Ordering::SeqCst) == 1;
        if last {
            sb.s_count.with_mut(&self.sb_lock, cx, |c| *c -= S_BIAS - 1);
            // grab_super fails from here until generic_shutdown_super unlists it.
            sb.dying.open();
        }
        drop(g);
        last
    }

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

    /// `generic_shutdown_super(sb)` (fs/super.c:297-328), as `kill_litter_super` calls it:
    /// `s_root` is dropped (`shrink_dcache_for_umount`), the superblock leaves the list under
    /// sb_lock, and `s_umount` is released.
    pub fn generic_shutdown_super(&self, s: SbH, cx: &Cx) {
        let _f = cx.enter(&kfn::generic_shutdown_super);
        let sb = self.sbs.get(s, cx);
        cx.at(304);
        sb.s_root.set(&sb.s_umount, cx, false);
        cx.at(323);
        let g = self.sb_lock.lock(cx);
        cx.at(325);
        self.supers
            .with_mut(&self.sb_lock, cx, |l| l.retain(|&x| x != s));
        cx.at(327);
        drop(g);
        sb.dying.close();
        cx.at(328);
        sb.s_umount.up_write(cx);
    }

    /// `mount -t cgroup [-o DATA] cgroup MNT`: `do_mount` → `do_new_mount` (fs/namespace.c:
    /// 1681-1700) → `vfs_kern_mount` (fs/super.c:927-984: `alloc_vfsmnt`, `cgroup_get_sb`,
    /// `up_write(&sb->s_umount)`) → `do_add_mount`. `data` None is a mount without `-o`. A
    /// mountpoint holds one mount in the model (-EBUSY if taken; the VFS would over-mount).
    /// v2.6.34: `do_mount`, fs/namespace.c:1950-2018.
    #[doc(alias = "do_new_mount")]
    #[doc(alias = "vfs_kern_mount")]
    pub fn sys_mount(&self, mnt: &str, data: Option<&str>, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::do_mount);
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
        let sb = {
            let _k = cx.enter(&kfn::vfs_kern_mount);
            cx.at(938);
            if !cx.kmalloc_ok() {
                return Err(Errno::ENOMEM);
            }
            cx.at(955);
            let sb = self.cgroup_get_sb(data, cx)?;
            cx.at(975);
            self.sbs.get(sb, cx).s_umount.up_write(cx);
            sb
        };
        let g = self.vfsmount_lock.lock(cx);
        let raced = self.mounts.with_mut(&self.vfsmount_lock, cx, |l| {
            if l.iter().any(|(n, _)| n == mnt) {
                true
            } else {
                l.push((mnt.to_string(), sb));
                false
            }
        });
        drop(g);
        if raced {
            self.deactivate_super(sb, cx);
            return Err(Errno::EBUSY);
        }
        Ok(())
    }

    /// `umount MNT` as a lazy unmount (`umount -l`, `MNT_DETACH`): detach the mount, then
    /// `mntput` → `deactivate_super` (which kills the superblock only when this was its last
    /// active reference: child cgroups, open files and paths keep a hierarchy alive).
    /// v2.6.34: fs/namespace.c:1135-1167.
    pub fn sys_umount(&self, mnt: &str, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::sys_umount);
        let g = self.vfsmount_lock.lock(cx);
        let sb = self.mounts.with_mut(&self.vfsmount_lock, cx, |l| {
            let p = l.iter().position(|(n, _)| n == mnt)?;
            Some(l.remove(p).1)
        });
        drop(g);
        let sb = sb.ok_or(Errno::EINVAL)?;
        self.deactivate_super(sb, cx);
        Ok(())
    }

    /// `mount -o remount,DATA MNT`: `do_remount` (fs/namespace.c:1556-1591): under
    /// `down_write(&sb->s_umount)`, `do_remount_sb` → `cgroup_remount`.
    pub fn sys_remount(&self, mnt: &str, data: Option<&str>, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::do_remount);
        let p = self.path_mount(mnt, cx)?;
        let sb = self.sbs.get(p, cx);
        cx.at(1568);
        sb.s_umount.down_write(cx);
        drop(sb);
        cx.at(1572);
        let r = self.cgroup_remount(p, data, cx);
        cx.at(1577);
        self.sbs.get(p, cx).s_umount.up_write(cx);
        self.deactivate_super(p, cx);
        r
    }

    /// Path walk to a mountpoint: under vfsmount_lock, `mntget` pins the superblock (an active
    /// reference, dropped with [`Kernel::deactivate_super`]). -ENOENT if nothing is mounted there.
    pub fn path_mount(&self, mnt: &str, cx: &Cx) -> Result<SbH, Errno> {
        let g = self.vfsmount_lock.lock(cx);
        let s = self.mounts.with(&self.vfsmount_lock, cx, |l| {
            l.iter().find(|(n, _)| n == mnt).map(|x| x.1)
        });
        if let Some(s) = s {
            self.sbs.get(s, cx).s_active.fetch_add(1, Ordering::SeqCst);
        }
        drop(g);
        s.ok_or(Errno::ENOENT)
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
        let im = pc.i_mutex.lock(cx);
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

    /// `open("MNT/PATH/FILE", mode)` into descriptor `fd` (`sys_open` → `do_sys_open`,
    /// fs/open.c:1044-1077; the scenario names the descriptor, -EEXIST if it is in use):
    /// `do_filp_open`, then `fd_install`.
    #[doc(alias = "do_sys_open")]
    pub fn sys_open(
        &self,
        mnt: &str,
        path: &str,
        (read, write): (bool, bool),
        fd: usize,
        cx: &Cx,
    ) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::do_sys_open);
        cx.at(1050);
        {
            let g = self.file_lock.lock(cx);
            let busy = fd >= self.fd_table.len() || load_ptr::<File>(&self.fd_table[fd]).is_some();
            drop(g);
            if busy {
                return Err(Errno::EEXIST);
            }
        }
        cx.at(1052);
        let f = self.do_filp_open(mnt, path, (read, write), cx)?;
        self.files
            .set_label(f, format!("fd{fd}: {}", self.files.label(f)));
        cx.at(1058);
        let _i = cx.enter(&kfn::fd_install);
        cx.at(1035);
        let g = self.file_lock.lock(cx);
        cx.at(1038);
        rcu_assign_pointer(&self.fd_table[fd], Some(f));
        cx.at(1039);
        drop(g);
        Ok(())
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
        if !cx.kmalloc_ok() {
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
        });
        self.files
            .set_label(f, format!("file on {}", self.cgfiles.label(dentry)));
        if let Err(e) = self.cgroup_file_open(f, cx) {
            self.__fput(f, false, cx);
            return Err(e);
        }
        Ok(f)
    }

    /// `fget_light(fd)` (fs/file_table.c:299-321) for a process whose threads share the table:
    /// under `rcu_read_lock`, the file in slot `fd` and `atomic_long_inc_not_zero(&f_count)`.
    /// None is -EBADF.
    pub fn fget(&self, fd: usize, cx: &Cx) -> Option<FileH> {
        let _f = cx.enter(&kfn::fget_light);
        cx.at(308);
        let rcu = self.rcu.read_lock(cx);
        cx.at(309);
        let f = self.fd_table.get(fd).and_then(rcu_dereference::<File>);
        let got = f.filter(|&f| {
            cx.at(311);
            let c = &self.files.get(f, cx).f_count;
            let mut v = c.load(Ordering::Relaxed);
            loop {
                if v == 0 {
                    return false;
                }
                match c.compare_exchange(v, v + 1, Ordering::SeqCst, Ordering::Relaxed) {
                    Ok(_) => return true,
                    Err(now) => v = now,
                }
            }
        });
        cx.at(317);
        drop(rcu);
        got
    }

    /// `read(fd)` (`sys_read`, fs/read_write.c:374-389): `fget_light` (-EBADF), `vfs_read`
    /// (-EBADF unless open for reading), `f_op->read`: the pid array's `seq_read` for a `tasks`
    /// file open for reading, else `cgroup_file_read`; `fput_light`.
    pub fn sys_read(&self, fd: usize, cx: &Cx) -> Result<Ret, Errno> {
        let _f = cx.enter(&kfn::sys_read);
        cx.at(380);
        let f = self.fget(fd, cx).ok_or(Errno::EBADF)?;
        cx.at(383);
        let r = if !self.files.get(f, cx).read {
            Err(Errno::EBADF)
        } else {
            match load_ptr::<Pidlist>(&self.files.get(f, cx).pidlist) {
                Some(l) => Ok(self.cgroup_pidlist_read(l, cx)),
                None => self.cgroup_file_read(f, cx),
            }
        };
        cx.at(385);
        self.fput(f, cx);
        r
    }

    /// `write(fd, VALUE)` (`sys_write`, fs/read_write.c:391-407): `fget_light` (-EBADF),
    /// `vfs_write` (-EBADF unless open for writing) → `cgroup_file_write`; `fput_light`.
    pub fn sys_write(&self, fd: usize, value: u64, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::sys_write);
        cx.at(398);
        let f = self.fget(fd, cx).ok_or(Errno::EBADF)?;
        cx.at(401);
        let r = if self.files.get(f, cx).write {
            self.cgroup_file_write(f, value, cx)
        } else {
            Err(Errno::EBADF)
        };
        cx.at(403);
        self.fput(f, cx);
        r
    }

    /// `close(fd)` (`sys_close`, fs/open.c:1135-1167): under `files->file_lock` clear the slot
    /// (`rcu_assign_pointer(fdt->fd[fd], NULL)`; -EBADF if empty), then `filp_close` → `fput`.
    pub fn sys_close(&self, fd: usize, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::sys_close);
        cx.at(1142);
        let g = self.file_lock.lock(cx);
        cx.at(1146);
        let f = self.fd_table.get(fd).and_then(load_ptr::<File>);
        let Some(f) = f else {
            cx.at(1165);
            drop(g);
            return Err(Errno::EBADF);
        };
        cx.at(1149);
        rcu_assign_pointer::<File>(&self.fd_table[fd], None);
        cx.at(1152);
        drop(g);
        cx.at(1153);
        self.fput(f, cx);
        Ok(())
    }

    /// `fput(file)` (fs/file_table.c:197-201): the last reference runs `__fput`.
    pub fn fput(&self, f: FileH, cx: &Cx) {
        let _f = cx.enter(&kfn::fput);
        cx.at(199);
        let last = self.files.get(f, cx).f_count.fetch_sub(1, Ordering::SeqCst) == 1;
        if last {
            cx.at(200);
            self.__fput(f, true, cx);
        }
    }

    /// `__fput(file)` (fs/file_table.c:233-269): `f_op->release` (`cgroup_file_release`, if the
    /// open got that far), `file_free` (the `struct file` goes after a grace period:
    /// `call_rcu(file_free_rcu)`), then `dput` of the file's dentry and `mntput` (the
    /// superblock's active reference).
    #[allow(non_snake_case)]
    pub fn __fput(&self, f: FileH, opened: bool, cx: &Cx) {
        let _f = cx.enter(&kfn::__fput);
        if opened {
            cx.at(249);
            self.cgroup_file_release(f, cx);
        }
        let (dentry, sb) = {
            let file = self.files.get(f, cx);
            (file.dentry, file.sb)
        };
        cx.at(264);
        self.rcu
            .call_rcu(cx, &kfn::file_free_rcu, move |k: &Kernel, cx| {
                cx.at(48);
                k.files.kfree(f, cx);
            });
        cx.at(265);
        self.dput_file(dentry, cx);
        cx.at(266);
        self.deactivate_super(sb, cx);
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
