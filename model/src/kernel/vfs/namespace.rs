//! fs/namespace.c: `mount`, `umount` (lazy, `MNT_DETACH`) and `remount` of the cgroup
//! filesystem, and the mount table lookup.

use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::gfp::GFP_KERNEL;
use crate::kernel::{Kernel, SbH};
use crate::sim::cx::Cx;
use crate::sim::sync::Ordering;

impl Kernel {
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
        cx.at(2014);
        let _n = cx.enter(&kfn::do_new_mount);
        cx.at(1694);
        let sb = {
            let _k = cx.enter(&kfn::vfs_kern_mount);
            cx.at(938);
            if !cx.kmalloc_ok(GFP_KERNEL) {
                return Err(Errno::ENOMEM);
            }
            cx.at(955);
            let sb = self.cgroup_get_sb(data, cx)?;
            cx.at(977);
            self.sbs.get(sb, cx).s_umount.up_write(cx);
            sb
        };
        cx.at(1699);
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
        cx.at(1571);
        sb.s_umount.down_write(cx);
        drop(sb);
        cx.at(1575);
        let r = self.cgroup_remount(p, data, cx);
        cx.at(1582);
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
}
