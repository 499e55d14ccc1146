//! Cgroup directories (kernel/cgroup.c): `cgroup_create` (mkdir), `cgroup_rmdir`,
//! `cgroup_diput`, the hierarchy mutexes, `cgroup_lock_live_group`, and the `net_cls.classid`
//! file write.

use crate::kernel::errno::Errno;
use crate::kernel::net_cls::NET_CLS_SUBSYS;
use crate::kernel::{Cgroup, CgroupH, Css, Kernel, RootH, CGRP_REMOVED, CGRP_WAIT_ON_RMDIR};
use crate::sim::cx::Cx;
use crate::sim::lockdep::KMutexGuard;
use crate::sim::rcu::rcu_dereference;
use crate::sim::sync::Ordering;
use crate::variants::Fault;

impl Kernel {
    /// `cgroup_lock_hierarchy(root)` … `cgroup_unlock_hierarchy(root)` around `f`: every bound
    /// subsystem's `hierarchy_mutex`, in list order, cgroup_mutex held.
    #[doc(alias = "cgroup_lock_hierarchy")]
    #[doc(alias = "cgroup_unlock_hierarchy")]
    fn with_hierarchy_locked<R>(&self, root: RootH, cx: &Cx, f: impl FnOnce() -> R) -> R {
        let _f = cx.enter("cgroup_lock_hierarchy");
        let sss = self.root(root, cx).subsys_list.get(&self.cgroup_mutex, cx);
        let refs: Vec<_> = sss.iter().map(|&s| self.ss(s, cx)).collect();
        let guards: Vec<_> = refs.iter().map(|s| s.hierarchy_mutex.lock(cx)).collect();
        let r = f();
        drop(guards);
        r
    }

    /// `cgroup_create(parent, dentry, mode)`: kzalloc; take an active reference on the superblock
    /// (child cgroups keep a hierarchy alive after umount); under cgroup_mutex create every bound
    /// subsystem's css; link under the hierarchy mutexes; `number_of_cgroups++`; create the
    /// directory. Error labels `err_remove` / `err_destroy` undo in reverse and drop the sb ref.
    pub fn cgroup_create(&self, parent: CgroupH, name: &str, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("cgroup_create");
        let root = self.cgrp(parent, cx).root;
        if !cx.kmalloc_ok() {
            return Err(Errno::ENOMEM);
        }
        let cgrp = self.cgroups.alloc(Cgroup::new(
            root,
            Some(parent),
            name.to_string(),
            self.count(),
            1,
        ));
        let pname = self.cgroups.label(parent);
        self.cgroups
            .set_label(cgrp, format!("{name} under {pname}"));
        self.root(root, cx).s_active.fetch_add(1, Ordering::SeqCst);
        let m = self.cgroup_mutex.lock(cx);
        let sss = self.root(root, cx).subsys_list.get(&self.cgroup_mutex, cx);
        let mut err = None;
        for &ss in &sss {
            match self.ss_create(ss, cgrp, cx) {
                Ok(css) => {
                    let id = self.ss(ss, cx).subsys_id.load(Ordering::Relaxed);
                    self.init_cgroup_css(css, id, cgrp, cx);
                    if self.ss(ss, cx).ops.use_id && !cx.kmalloc_ok() {
                        err = Some(Errno::ENOMEM); // alloc_css_id
                        break;
                    }
                }
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        let mut linked = false;
        if err.is_none() {
            self.with_hierarchy_locked(root, cx, || {
                self.cgrp(parent, cx)
                    .children
                    .with_mut(&self.cgroup_mutex, cx, |l| l.push(cgrp));
            });
            self.root(root, cx)
                .number_of_cgroups
                .with_mut(&self.cgroup_mutex, cx, |n| *n += 1);
            linked = true;
            // cgroup_create_dir → cgroup_create_file: new inode.
            if cx.kmalloc_ok() {
                let g = self.dcache_lock.lock(cx);
                self.cgrp(parent, cx)
                    .dchildren
                    .with_mut(&self.dcache_lock, cx, |l| l.push((name.to_string(), cgrp)));
                drop(g);
                drop(m);
                return Ok(());
            }
            err = Some(Errno::ENOMEM);
        }
        if linked {
            // err_remove
            self.with_hierarchy_locked(root, cx, || {
                self.cgrp(parent, cx)
                    .children
                    .with_mut(&self.cgroup_mutex, cx, |l| l.retain(|&x| x != cgrp));
            });
            self.root(root, cx)
                .number_of_cgroups
                .with_mut(&self.cgroup_mutex, cx, |n| *n -= 1);
        }
        // err_destroy
        for &ss in &sss {
            let id = self.ss(ss, cx).subsys_id.load(Ordering::Relaxed);
            if rcu_dereference::<Css>(&self.cgrp(cgrp, cx).subsys[id]).is_some() {
                self.ss_destroy(ss, cgrp, cx);
            }
        }
        drop(m);
        self.deactivate_super(root, cx);
        self.cgroups.kfree(cgrp, cx);
        Err(err.expect("error path"))
    }

    /// `cgroup_rmdir(dentry)`: -EBUSY while css_sets link to it (`count`) or it has children,
    /// checked under cgroup_mutex, dropped for `pre_destroy`, then checked again; then
    /// `cgroup_clear_css_refs` (the kernel sleeps on `cgroup_rmdir_waitq` and retries while a css
    /// is referenced; the model returns -EBUSY there), `CGRP_REMOVED`, unlink from the parent under
    /// the hierarchy mutexes, and remove the directory (unhash the dentry, drop its pin).
    pub fn cgroup_rmdir(&self, cgrp: CgroupH, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("cgroup_rmdir");
        let busy = |k: &Kernel| {
            k.cgrp(cgrp, cx).count.load(Ordering::SeqCst) != 0
                || !k
                    .cgrp(cgrp, cx)
                    .children
                    .get(&k.cgroup_mutex, cx)
                    .is_empty()
        };
        let m = self.cgroup_mutex.lock(cx);
        if busy(self) {
            return Err(Errno::EBUSY);
        }
        drop(m);
        self.cgrp(cgrp, cx)
            .flags
            .fetch_or(CGRP_WAIT_ON_RMDIR, Ordering::SeqCst);
        // cgroup_call_pre_destroy: no modelled subsystem has pre_destroy.
        let m = self.cgroup_mutex.lock(cx);
        let parent = self.cgrp(cgrp, cx).parent.expect("not a top cgroup");
        if !self.fault(Fault::RmdirNoRecheck) && busy(self) {
            self.cgrp(cgrp, cx)
                .flags
                .fetch_and(!CGRP_WAIT_ON_RMDIR, Ordering::SeqCst);
            return Err(Errno::EBUSY);
        }
        if !self.cgroup_clear_css_refs(cgrp, cx) {
            drop(m);
            self.cgrp(cgrp, cx)
                .flags
                .fetch_and(!CGRP_WAIT_ON_RMDIR, Ordering::SeqCst);
            return Err(Errno::EBUSY);
        }
        self.cgrp(cgrp, cx)
            .flags
            .fetch_and(!CGRP_WAIT_ON_RMDIR, Ordering::SeqCst);
        let rl = self.release_list_lock.lock(cx);
        self.cgrp(cgrp, cx)
            .flags
            .fetch_or(CGRP_REMOVED, Ordering::SeqCst);
        drop(rl);
        let root = self.cgrp(cgrp, cx).root;
        self.with_hierarchy_locked(root, cx, || {
            self.cgrp(parent, cx)
                .children
                .with_mut(&self.cgroup_mutex, cx, |l| l.retain(|&x| x != cgrp));
        });
        {
            let _f = cx.enter("cgroup_d_remove_dir");
            let g = self.dcache_lock.lock(cx);
            self.cgrp(parent, cx)
                .dchildren
                .with_mut(&self.dcache_lock, cx, |l| l.retain(|(_, x)| *x != cgrp));
            drop(g);
            self.dput(cgrp, cx); // the pin taken by cgroup_create_file
        }
        drop(m);
        Ok(())
    }

    /// `cgroup_diput(dentry, inode)`: `synchronize_rcu` (css_put callers may still look at the
    /// cgroup), then under cgroup_mutex every bound subsystem's `destroy` and
    /// `number_of_cgroups--`, then drop the superblock reference `cgroup_create` took, and kfree.
    pub fn cgroup_diput(&self, cgrp: CgroupH, cx: &Cx) {
        let _f = cx.enter("cgroup_diput");
        if self.cgrp(cgrp, cx).flags.load(Ordering::SeqCst) & CGRP_REMOVED == 0 {
            self.bug(cx, "BUG_ON(!cgroup_is_removed(cgrp))", format!("{cgrp}"));
        }
        self.rcu.synchronize(cx);
        let root = self.cgrp(cgrp, cx).root;
        let m = self.cgroup_mutex.lock(cx);
        for ss in self.root(root, cx).subsys_list.get(&self.cgroup_mutex, cx) {
            self.ss_destroy(ss, cgrp, cx);
        }
        self.root(root, cx)
            .number_of_cgroups
            .with_mut(&self.cgroup_mutex, cx, |n| *n -= 1);
        drop(m);
        self.deactivate_super(root, cx);
        self.cgroups.kfree(cgrp, cx);
    }

    /// Writing `VALUE` to `net_cls.classid` of `MNT/PATH`: `cgroup_file_write` (-ENODEV if
    /// removed) → `write_classid`: `cgroup_lock_live_group`, then the store. -ENOENT if net_cls is
    /// not bound to that hierarchy (no such file).
    #[doc(alias = "cgroup_file_write")]
    #[doc(alias = "cgroup_write_X64")]
    pub fn write_classid(&self, mnt: &str, path: &str, value: u32, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("write_classid");
        let p = self.path_lookup(mnt, path, cx)?;
        let r = (|| {
            let m = self
                .cgroup_lock_live_group(p.cgrp, cx)
                .ok_or(Errno::ENODEV)?;
            let css = (self.builtin()..self.count()).find_map(|i| {
                let ss = self.subsys_at(i)?;
                let s = self.ss(ss, cx);
                (std::ptr::eq(s.ops, &NET_CLS_SUBSYS)
                    && s.root.get(&self.cgroup_mutex, cx) == p.root)
                    .then(|| rcu_dereference::<Css>(&self.cgrp(p.cgrp, cx).subsys[i]))
                    .flatten()
            });
            let r = match css {
                Some(css) => {
                    self.css(css, cx).classid.store(value, Ordering::Relaxed);
                    Ok(())
                }
                None => Err(Errno::ENOENT),
            };
            drop(m);
            r
        })();
        self.path_put(p, cx);
        r
    }

    /// `cgroup_lock_live_group(cgrp)`: cgroup_mutex, unless the cgroup is removed.
    pub fn cgroup_lock_live_group(&self, cgrp: CgroupH, cx: &Cx) -> Option<KMutexGuard<'_>> {
        let _f = cx.enter("cgroup_lock_live_group");
        let m = self.cgroup_mutex.lock(cx);
        if self.cgrp(cgrp, cx).flags.load(Ordering::SeqCst) & CGRP_REMOVED != 0 {
            drop(m);
            return None;
        }
        Some(m)
    }
}
