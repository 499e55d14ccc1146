//! Cgroup directories (kernel/cgroup.c): `cgroup_create` (mkdir) with `cgroup_create_dir`,
//! `cgroup_rmdir` with `cgroup_d_remove_dir`, `cgroup_diput`, the hierarchy mutexes and
//! `cgroup_lock_live_group`. The file is long because mkdir and rmdir are each other's
//! undo, step for step, and read best side by side.

use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::gfp::GFP_KERNEL;
use crate::kernel::{
    Cgroup, CgroupH, Css, Kernel, RootH, Subsys, CGRP_NOTIFY_ON_RELEASE, CGRP_RELEASABLE,
    CGRP_REMOVED, CGRP_WAIT_ON_RMDIR, I_MUTEX_CHILD,
};
use crate::sim::arena::load_ptr;
use crate::sim::cx::Cx;
use crate::sim::lockdep::KMutexGuard;
use crate::sim::sync::Ordering;
use crate::variants::Fault;

impl Kernel {
    /// `cgroup_lock_hierarchy(root)` … `cgroup_unlock_hierarchy(root)` around `f`
    /// (cgroup.c:3243-3272): every `subsys[]` slot in id order, the `hierarchy_mutex` of each
    /// subsystem bound to `root` ("in a consistent order"), cgroup_mutex held.
    /// v2.6.34: `cgroup_lock_hierarchy`, kernel/cgroup.c:3243-3259.
    #[doc(alias = "cgroup_unlock_hierarchy")]
    fn with_hierarchy_locked<R>(&self, root: RootH, cx: &Cx, f: impl FnOnce() -> R) -> R {
        let sss: Vec<_> = {
            let _f = cx.enter(&kfn::cgroup_lock_hierarchy);
            (0..self.count())
                .filter_map(|i| {
                    cx.at(3253);
                    let ss = load_ptr::<Subsys>(&self.subsys[i])?;
                    cx.at(3256);
                    (self.ss(ss, cx).root.get(&self.cgroup_mutex, cx) == root).then_some(ss)
                })
                .collect()
        };
        let refs: Vec<_> = sss.iter().map(|&s| self.ss(s, cx)).collect();
        let guards: Vec<_> = {
            let _f = cx.enter(&kfn::cgroup_lock_hierarchy);
            cx.at(3257);
            refs.iter().map(|s| s.hierarchy_mutex.lock(cx)).collect()
        };
        let r = f();
        let _f = cx.enter(&kfn::cgroup_unlock_hierarchy);
        cx.at(3270);
        drop(guards);
        r
    }

    /// `cgroup_create(parent, dentry, mode)` (cgroup.c:3282-3370), the parent directory's
    /// i_mutex held by the VFS: kzalloc; an active reference on the superblock (child cgroups
    /// keep a hierarchy alive after umount); under cgroup_mutex inherit `notify_on_release`,
    /// create every bound subsystem's css (and its css id for `use_id`); link under the hierarchy
    /// mutexes; `number_of_cgroups++`; `cgroup_create_dir` (the new directory's i_mutex is taken
    /// inside cgroup_mutex and held while it is populated); `cgroup_populate_dir` (an error there
    /// leaves "a half-filled directory"). `err_remove` / `err_destroy` undo in reverse and drop
    /// the superblock reference.
    pub fn cgroup_create(&self, parent: CgroupH, name: &str, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::cgroup_create);
        let root = self.cgrp(parent, cx).root;
        cx.at(3289);
        let sb = self.root(root, cx).sb();
        cx.at(3291);
        if !cx.kmalloc_ok(GFP_KERNEL) {
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
        cx.at(3300);
        self.sbs
            .get(sb, cx)
            .s_active
            .fetch_add(1, Ordering::Relaxed);
        cx.at(3302);
        let m = self.cgroup_mutex.lock(cx);
        cx.at(3310);
        if self.notify_on_release(parent, cx) {
            cx.at(3311);
            self.cgrp(cgrp, cx)
                .flags
                .fetch_or(CGRP_NOTIFY_ON_RELEASE, Ordering::Relaxed);
        }
        let sss = self.root(root, cx).subsys_list.get(&self.cgroup_mutex, cx);
        let mut err = None;
        for &ss in &sss {
            cx.at(3314);
            match self.ss_create(ss, cgrp, cx) {
                Ok(css) => {
                    let id = self.ss(ss, cx).subsys_id.load(Ordering::Relaxed);
                    cx.at(3320);
                    self.init_cgroup_css(css, id, cgrp, cx);
                    cx.at(3321);
                    if self.ss(ss, cx).ops.use_id {
                        cx.at(3322);
                        let _i = cx.enter(&kfn::alloc_css_id);
                        cx.at(4605);
                        if !cx.kmalloc_ok(GFP_KERNEL) {
                            err = Some(Errno::ENOMEM);
                            break;
                        }
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
            cx.at(3329);
            self.with_hierarchy_locked(root, cx, || {
                cx.at(3330);
                self.cgrp(parent, cx)
                    .children
                    .with_mut(&self.cgroup_mutex, cx, |l| l.push(cgrp));
            });
            cx.at(3332);
            self.root(root, cx)
                .number_of_cgroups
                .with_mut(&self.cgroup_mutex, cx, |n| *n += 1);
            linked = true;
            cx.at(3334);
            let child = self.cgrp(cgrp, cx);
            if let Some(im) = self.cgroup_create_dir(&child, cgrp, parent, cx) {
                cx.at(3339);
                if !self.cgrp(cgrp, cx).i_mutex.is_locked() {
                    self.bug(
                        cx,
                        "BUG_ON(!mutex_is_locked(&cgrp->dentry->d_inode->i_mutex))",
                        "",
                    );
                }
                cx.at(3341);
                let _ = self.cgroup_populate_dir(cgrp, cx);
                cx.at(3344);
                drop(m);
                cx.at(3345);
                drop(im);
                return Ok(());
            }
            drop(child);
            err = Some(Errno::ENOMEM);
        }
        if linked {
            // err_remove
            cx.at(3351);
            self.with_hierarchy_locked(root, cx, || {
                cx.at(3352);
                self.cgrp(parent, cx)
                    .children
                    .with_mut(&self.cgroup_mutex, cx, |l| l.retain(|&x| x != cgrp));
            });
            cx.at(3354);
            self.root(root, cx)
                .number_of_cgroups
                .with_mut(&self.cgroup_mutex, cx, |n| *n -= 1);
        }
        // err_destroy
        for &ss in &sss {
            let id = self.ss(ss, cx).subsys_id.load(Ordering::Relaxed);
            cx.at(3359);
            if load_ptr::<Css>(&self.cgrp(cgrp, cx).subsys[id]).is_some() {
                cx.at(3360);
                self.ss_destroy(ss, cgrp, cx);
            }
        }
        cx.at(3363);
        drop(m);
        cx.at(3366);
        self.deactivate_super(sb, cx);
        cx.at(3368);
        self.cgroups.kfree(cgrp, cx);
        Err(err.expect("error path"))
    }

    /// `cgroup_create_dir(cgrp, dentry, mode)` (cgroup.c:2178-2195) → `cgroup_create_file` for
    /// a directory (cgroup.c:2133-2169): the inode (one kmalloc, None if it fails), its
    /// `i_mutex` taken (`mutex_lock_nested(I_MUTEX_CHILD)`: the caller holds cgroup_mutex) and
    /// returned held, `d_instantiate` into the parent's children (under dcache_lock), the pin.
    /// The new dentry's reference on its parent (`d_alloc`'s) is taken here too.
    fn cgroup_create_dir<'a>(
        &self,
        c: &'a Cgroup,
        cgrp: CgroupH,
        parent: CgroupH,
        cx: &'a Cx,
    ) -> Option<KMutexGuard<'a>> {
        let _f = cx.enter(&kfn::cgroup_create_dir);
        cx.at(2185);
        let _c = cx.enter(&kfn::cgroup_create_file);
        cx.at(2147);
        if !cx.kmalloc_ok(GFP_KERNEL) {
            return None;
        }
        cx.at(2160);
        let im = c.i_mutex.lock_nested(cx, I_MUTEX_CHILD);
        cx.at(2166);
        let name = c.name.clone();
        let g = self.dcache_lock.lock(cx);
        self.cgrp(parent, cx)
            .dchildren
            .with_mut(&self.dcache_lock, cx, |l| l.push((name, cgrp)));
        drop(g);
        self.dget(parent, cx);
        Some(im)
    }

    /// `cgroup_rmdir(dir, dentry)` (cgroup.c:3469-3575), both i_mutexes held by the VFS: -EBUSY
    /// while css_sets link to it (`count`) or it has children, checked under cgroup_mutex,
    /// dropped for `pre_destroy` (no modelled subsystem has one), then checked again;
    /// `cgroup_clear_css_refs` (if a css is still referenced the kernel sleeps on
    /// `cgroup_rmdir_waitq` until a `css_put` wakes it and retries; the model takes the sleep
    /// as interrupted by a signal, -EINTR, and retries at once if the wake-up came first);
    /// `CGRP_REMOVED` and off the release list; unlink from the parent under the hierarchy
    /// mutexes; `cgroup_d_remove_dir` (the control files, then the directory's pin); the parent
    /// becomes releasable and is checked for release.
    pub fn cgroup_rmdir(&self, cgrp: CgroupH, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::cgroup_rmdir);
        let busy = |k: &Kernel| {
            k.cgrp(cgrp, cx).count.load(Ordering::Relaxed) != 0
                || !k
                    .cgrp(cgrp, cx)
                    .children
                    .get(&k.cgroup_mutex, cx)
                    .is_empty()
        };
        let parent = loop {
            // again:
            cx.at(3480);
            let m = self.cgroup_mutex.lock(cx);
            cx.at(3481);
            if busy(self) {
                cx.at(3482);
                drop(m);
                return Err(Errno::EBUSY);
            }
            cx.at(3489);
            drop(m);
            cx.at(3500);
            self.cgrp(cgrp, cx)
                .flags
                .fetch_or(CGRP_WAIT_ON_RMDIR, Ordering::Relaxed);
            cx.at(3512);
            let m = self.cgroup_mutex.lock(cx);
            cx.at(3513);
            let parent = self.cgrp(cgrp, cx).parent.expect("not a top cgroup");
            cx.at(3514);
            if !self.fault(Fault::RmdirNoRecheck) && busy(self) {
                cx.at(3515);
                self.cgrp(cgrp, cx)
                    .flags
                    .fetch_and(!CGRP_WAIT_ON_RMDIR, Ordering::Relaxed);
                cx.at(3516);
                drop(m);
                return Err(Errno::EBUSY);
            }
            cx.at(3520);
            if self.cgroup_clear_css_refs(cgrp, cx) {
                break (parent, m);
            }
            cx.at(3521);
            drop(m);
            cx.at(3526);
            let asleep =
                self.cgrp(cgrp, cx).flags.load(Ordering::Relaxed) & CGRP_WAIT_ON_RMDIR != 0;
            if asleep {
                cx.at(3527);
                cx.might_sleep("schedule", false);
            }
            cx.at(3529);
            self.cgrp(cgrp, cx)
                .flags
                .fetch_and(!CGRP_WAIT_ON_RMDIR, Ordering::Relaxed);
            if asleep {
                cx.at(3531);
                return Err(Errno::EINTR); // schedule(), then signal_pending()
            }
            cx.at(3532);
        };
        let (parent, m) = parent;
        cx.at(3536);
        self.cgrp(cgrp, cx)
            .flags
            .fetch_and(!CGRP_WAIT_ON_RMDIR, Ordering::Relaxed);
        cx.at(3538);
        let rl = self.release_list_lock.lock(cx);
        cx.at(3539);
        self.cgrp(cgrp, cx)
            .flags
            .fetch_or(CGRP_REMOVED, Ordering::Relaxed);
        cx.at(3540);
        let c = self.cgrp(cgrp, cx);
        if c.release_list.get(&self.release_list_lock, cx)
            && !self.fault(Fault::RmdirKeepsReleaseList)
        {
            cx.at(3541);
            c.release_list.set(&self.release_list_lock, cx, false);
            self.release_list
                .with_mut(&self.release_list_lock, cx, |l| l.retain(|&x| x != cgrp));
        }
        drop(c);
        cx.at(3542);
        drop(rl);
        let root = self.cgrp(cgrp, cx).root;
        cx.at(3544);
        self.with_hierarchy_locked(root, cx, || {
            cx.at(3546);
            self.cgrp(parent, cx)
                .children
                .with_mut(&self.cgroup_mutex, cx, |l| l.retain(|&x| x != cgrp));
        });
        cx.at(3550);
        self.dget(cgrp, cx);
        cx.at(3553);
        self.cgroup_d_remove_dir(cgrp, parent, cx);
        cx.at(3554);
        self.dput(cgrp, cx);
        cx.at(3556);
        self.cgrp(parent, cx)
            .flags
            .fetch_or(CGRP_RELEASABLE, Ordering::Relaxed);
        cx.at(3557);
        self.check_for_release(parent, cx);
        cx.at(3573);
        drop(m);
        Ok(())
    }

    /// `cgroup_d_remove_dir(dentry)` (cgroup.c:896-904): `cgroup_clear_directory`, off the
    /// parent's children under dcache_lock, then `remove_dir` (`simple_rmdir` drops the pin
    /// `cgroup_create_file` took).
    fn cgroup_d_remove_dir(&self, cgrp: CgroupH, parent: CgroupH, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_d_remove_dir);
        cx.at(898);
        self.cgroup_clear_directory(cgrp, cx);
        cx.at(900);
        let g = self.dcache_lock.lock(cx);
        cx.at(901);
        self.cgrp(parent, cx)
            .dchildren
            .with_mut(&self.dcache_lock, cx, |l| l.retain(|(_, x)| *x != cgrp));
        cx.at(902);
        drop(g);
        cx.at(903);
        let _r = cx.enter(&kfn::remove_dir);
        cx.at(863);
        self.dput(cgrp, cx);
    }

    /// `cgroup_diput(dentry, inode)` (cgroup.c:816-856), from the last `dput` of a removed
    /// cgroup's directory: `synchronize_rcu` (css_put callers may still look at the cgroup), then
    /// under cgroup_mutex every bound subsystem's `destroy` and `number_of_cgroups--`; drop the
    /// superblock reference `cgroup_create` took; `BUG_ON(!list_empty(&cgrp->pidlists))`; and
    /// `call_rcu(free_cgroup_rcu)`.
    pub fn cgroup_diput(&self, cgrp: CgroupH, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_diput);
        cx.at(822);
        if self.cgrp(cgrp, cx).flags.load(Ordering::Relaxed) & CGRP_REMOVED == 0 {
            self.bug(cx, "BUG_ON(!cgroup_is_removed(cgrp))", format!("{cgrp}"));
        }
        cx.at(829);
        self.rcu.synchronize(cx);
        let root = self.cgrp(cgrp, cx).root;
        cx.at(831);
        let m = self.cgroup_mutex.lock(cx);
        for ss in self.root(root, cx).subsys_list.get(&self.cgroup_mutex, cx) {
            cx.at(836);
            self.ss_destroy(ss, cgrp, cx);
        }
        cx.at(838);
        self.root(root, cx)
            .number_of_cgroups
            .with_mut(&self.cgroup_mutex, cx, |n| *n -= 1);
        cx.at(839);
        drop(m);
        cx.at(845);
        let sb = self.root(root, cx).sb();
        self.deactivate_super(sb, cx);
        cx.at(851);
        // Read without pidlist_mutex, as the BUG_ON does.
        let busy = self.cgrp(cgrp, cx).pidlists.data_race(|l| !l.is_empty());
        if busy {
            self.bug(
                cx,
                "BUG_ON(!list_empty(&cgrp->pidlists))",
                format!("{cgrp}"),
            );
        }
        cx.at(853);
        self.rcu
            .call_rcu(cx, &kfn::free_cgroup_rcu, move |k: &Kernel, cx| {
                cx.at(813);
                k.cgroups.kfree(cgrp, cx);
            });
    }

    /// `cgroup_lock_live_group(cgrp)` (cgroup.c:1845-1853): cgroup_mutex, unless the cgroup is
    /// removed.
    pub fn cgroup_lock_live_group<'a>(
        &'a self,
        cgrp: CgroupH,
        cx: &'a Cx,
    ) -> Option<KMutexGuard<'a>> {
        let _f = cx.enter(&kfn::cgroup_lock_live_group);
        cx.at(1847);
        let m = self.cgroup_mutex.lock(cx);
        cx.at(1848);
        if self.cgrp(cgrp, cx).flags.load(Ordering::Relaxed) & CGRP_REMOVED != 0 {
            cx.at(1849);
            drop(m);
            return None;
        }
        Some(m)
    }
}
