//! Cgroup directories: path walks with dentry references, `cgroup_mkdir`/`cgroup_create`,
//! `cgroup_rmdir`, `cgroup_diput`, css refcounts, and the `net_cls.classid` file
//! (kernel/cgroup.c v2.6.34; the dcache abstracted to one child list per cgroup under
//! `dcache_lock` and a `d_count` per cgroup).

use crate::cx::Cx;
use crate::kernel::{
    rcu_deref, Cgroup, CgroupH, Css, CssH, Kernel, RootH, CGRP_REMOVED, CGRP_WAIT_ON_RMDIR,
    CSS_REMOVED, CSS_ROOT,
};
use crate::mount::PathRef;
use crate::report::Errno;
use crate::sync::Ordering;

impl Kernel {
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

    /// `cgroup_lock_hierarchy(root)` … `cgroup_unlock_hierarchy(root)` around `f`: every bound
    /// subsystem's `hierarchy_mutex`, in list order, cgroup_mutex held.
    fn with_hierarchy_locked<R>(&self, root: RootH, cx: &Cx, f: impl FnOnce() -> R) -> R {
        let _f = cx.enter("cgroup_lock_hierarchy");
        let sss = self.root(root, cx).subsys_list.get(&self.cgroup_mutex, cx);
        let refs: Vec<_> = sss.iter().map(|&s| self.ss(s, cx)).collect();
        let guards: Vec<_> = refs.iter().map(|s| s.hierarchy_mutex.lock(cx)).collect();
        let r = f();
        drop(guards);
        r
    }

    /// `mkdir MNT/PATH`: the VFS resolves the parent and holds its `i_mutex` (-EEXIST if the name
    /// exists), then `cgroup_mkdir` → `cgroup_create`.
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
                    if self.ss(ss, cx).use_id && !cx.kmalloc_ok() {
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
            if rcu_deref::<Css>(&self.cgrp(cgrp, cx).subsys[id]).is_some() {
                self.ss_destroy(ss, cgrp, cx);
            }
        }
        drop(m);
        self.deactivate_super(root, cx);
        self.cgroups.kfree(cgrp, cx);
        Err(err.expect("error path"))
    }

    /// `rmdir MNT/PATH`: the VFS holds the parent's and the victim's `i_mutex`, `cgroup_rmdir`
    /// runs, and the final `dput` frees the cgroup through `cgroup_diput`.
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
        if !self.fault(crate::faults::Fault::RmdirNoRecheck) && busy(self) {
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

    /// `cgroup_clear_css_refs(cgrp)`, cgroup_mutex held: atomically move every bound css's refcnt
    /// from 1 to 0 (failing if any is above 1, restoring the ones cleared), then set `CSS_REMOVED`.
    pub fn cgroup_clear_css_refs(&self, cgrp: CgroupH, cx: &Cx) -> bool {
        let _f = cx.enter("cgroup_clear_css_refs");
        let root = self.cgrp(cgrp, cx).root;
        let sss = self.root(root, cx).subsys_list.get(&self.cgroup_mutex, cx);
        let csses: Vec<CssH> = sss
            .iter()
            .map(|&ss| {
                let id = self.ss(ss, cx).subsys_id.load(Ordering::Relaxed);
                rcu_deref(&self.cgrp(cgrp, cx).subsys[id]).expect("bound css")
            })
            .collect();
        let mut failed = false;
        'outer: for &css in &csses {
            loop {
                let r = self.css(css, cx).refcnt.load(Ordering::SeqCst);
                if r > 1 {
                    failed = true;
                    break 'outer;
                }
                if r == 0 {
                    self.bug(
                        cx,
                        "BUG_ON(!refcnt)",
                        format!("{css} refcnt 0 in clear_css_refs"),
                    );
                }
                if self
                    .css(css, cx)
                    .refcnt
                    .compare_exchange(r, 0, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
                {
                    break;
                }
            }
        }
        for &css in &csses {
            let c = self.css(css, cx);
            if failed {
                if c.refcnt.load(Ordering::SeqCst) == 0 {
                    c.refcnt.store(1, Ordering::SeqCst);
                }
            } else {
                c.flags.fetch_or(CSS_REMOVED, Ordering::SeqCst);
            }
        }
        !failed
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

    /// `css_get(css)`: a reference unless `CSS_ROOT`.
    pub fn css_get(&self, css: CssH, cx: &Cx) {
        let c = self.css(css, cx);
        if c.flags.load(Ordering::SeqCst) & CSS_ROOT == 0 {
            c.refcnt.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// `css_tryget(css)`: fails once `CSS_REMOVED`; while rmdir holds the count at 0 the kernel
    /// spins, which the model reports as a failed tryget only after `CSS_REMOVED` is set and
    /// otherwise retries.
    pub fn css_tryget(&self, css: CssH, cx: &Cx) -> bool {
        let _f = cx.enter("css_tryget");
        let c = self.css(css, cx);
        if c.flags.load(Ordering::SeqCst) & CSS_ROOT != 0 {
            return true;
        }
        loop {
            let v = c.refcnt.load(Ordering::SeqCst);
            if v != 0 {
                if c.refcnt
                    .compare_exchange(v, v + 1, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
                {
                    return true;
                }
                continue;
            }
            if c.flags.load(Ordering::SeqCst) & CSS_REMOVED != 0 {
                return false;
            }
            crate::sync::yield_now();
        }
    }

    /// `css_put(css)` → `__css_put(css, 1)` under `rcu_read_lock`: when the count returns to 1,
    /// `cgroup_wakeup_rmdir_waiter`. An underflow below 1 is the kernel's `WARN_ON_ONCE`.
    pub fn css_put(&self, css: CssH, cx: &Cx) {
        let _f = cx.enter("css_put");
        let rcu = self.rcu.read_lock(cx);
        let c = self.css(css, cx);
        if c.flags.load(Ordering::SeqCst) & CSS_ROOT == 0 {
            let v = c.refcnt.fetch_sub(1, Ordering::SeqCst) - 1;
            if v == 1 {
                let cg = rcu_deref::<Cgroup>(&c.cgroup).expect("css cgroup");
                self.cgrp(cg, cx)
                    .flags
                    .fetch_and(!CGRP_WAIT_ON_RMDIR, Ordering::SeqCst);
            }
            if v < 1 {
                drop(c);
                drop(rcu);
                self.bug(
                    cx,
                    "WARN_ON_ONCE(val < 1)",
                    format!("css_put underflow on {css}"),
                );
            }
        }
        drop(c);
        drop(rcu);
    }

    /// A built-in subsystem's per-task path pins `task`'s css for `ss_name`: under
    /// `rcu_read_lock`, `task_subsys_state(task, id)` then `css_tryget` (-ENODEV if the css is
    /// already `CSS_REMOVED`). The holder is remembered out of band for [`Kernel::css_put_task`].
    pub fn css_get_task(
        &self,
        task: crate::kernel::TaskH,
        ss_name: &str,
        cx: &Cx,
    ) -> Result<(), Errno> {
        let _f = cx.enter("task_subsys_state+css_tryget");
        let id = crate::kernel::BUILTIN_NAMES
            .iter()
            .position(|&n| n == ss_name)
            .ok_or(Errno::EINVAL)?;
        if id >= self.builtin() {
            return Err(Errno::EINVAL);
        }
        let rcu = self.rcu.read_lock(cx);
        let cg =
            rcu_deref::<crate::kernel::CssSet>(&self.task(task, cx).cgroups).expect("task cgroups");
        let css = rcu_deref::<Css>(&self.cset(cg, cx).subsys[id]).expect("built-in css present");
        let ok = self.css_tryget(css, cx);
        drop(rcu);
        if !ok {
            return Err(Errno::ENODEV);
        }
        self.css_pins.lock().unwrap().push((task, css));
        Ok(())
    }

    /// Drops the oldest pin `task` holds on a css of `ss_name` with `css_put` (-ENOENT if none).
    pub fn css_put_task(
        &self,
        task: crate::kernel::TaskH,
        ss_name: &str,
        cx: &Cx,
    ) -> Result<(), Errno> {
        let pin = {
            let mut pins = self.css_pins.lock().unwrap();
            let p = pins
                .iter()
                .position(|&(t, c)| t == task && self.csses.peek(c).ss_name == ss_name);
            p.map(|p| pins.remove(p).1)
        };
        let css = pin.ok_or(Errno::ENOENT)?;
        self.css_put(css, cx);
        Ok(())
    }

    /// Writing `VALUE` to `net_cls.classid` of `MNT/PATH`: `cgroup_file_write` (-ENODEV if
    /// removed) → `write_classid`: `cgroup_lock_live_group`, then the store. -ENOENT if net_cls is
    /// not bound to that hierarchy (no such file).
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
                (s.name == "net_cls" && s.root.get(&self.cgroup_mutex, cx) == p.root)
                    .then(|| rcu_deref::<Css>(&self.cgrp(p.cgrp, cx).subsys[i]))
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
    pub fn cgroup_lock_live_group(
        &self,
        cgrp: CgroupH,
        cx: &Cx,
    ) -> Option<crate::lockdep::KMutexGuard<'_>> {
        let _f = cx.enter("cgroup_lock_live_group");
        let m = self.cgroup_mutex.lock(cx);
        if self.cgrp(cgrp, cx).flags.load(Ordering::SeqCst) & CGRP_REMOVED != 0 {
            drop(m);
            return None;
        }
        Some(m)
    }
}
