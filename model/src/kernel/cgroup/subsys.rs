//! Loading and unloading modular subsystems (kernel/cgroup.c v2.6.34: `cgroup_load_subsys`,
//! `cgroup_unload_subsys`) and the subsystems' `create`/`destroy` callbacks.

use crate::kernel::errno::Errno;
use crate::kernel::{CgroupH, Css, CssH, Kernel, RootH, Subsys, SubsysH, SubsysOps};
use crate::sim::cx::Cx;
use crate::sim::rcu::{rcu_assign_pointer, rcu_dereference};
use crate::sim::sync::Ordering;
use crate::variants::faults::Fault;
use crate::variants::Fix;

impl Kernel {
    /// `ss->create(ss, cgrp)`, through the subsystem's [`SubsysOps`].
    #[doc(alias = "create")]
    pub fn ss_create(&self, ss: SubsysH, cgrp: CgroupH, cx: &Cx) -> Result<CssH, Errno> {
        let ops = self.ss(ss, cx).ops;
        (ops.create)(self, ss, cgrp, cx)
    }

    /// `ss->destroy(ss, cgrp)`, through the subsystem's [`SubsysOps`].
    #[doc(alias = "destroy")]
    pub fn ss_destroy(&self, ss: SubsysH, cgrp: CgroupH, cx: &Cx) {
        let (ops, id) = {
            let s = self.ss(ss, cx);
            (s.ops, s.subsys_id.load(Ordering::Relaxed))
        };
        (ops.destroy)(self, ops, id, cgrp, cx)
    }

    /// What every modelled `create` starts with: the kzalloc of the subsystem's state (-ENOMEM if
    /// the scenario fails it), here a css of subsystem `ops`.
    #[doc(alias = "kzalloc")]
    pub fn kzalloc_css(&self, ops: &'static SubsysOps, cx: &Cx) -> Result<CssH, Errno> {
        if !cx.kmalloc_ok() {
            return Err(Errno::ENOMEM);
        }
        Ok(self.alloc_css(ops, cx))
    }

    /// What every modelled `destroy` does: kfree `cgrp->subsys[id]` (a NULL slot is the kernel's
    /// NULL dereference).
    #[doc(alias = "kfree")]
    pub fn kfree_css(&self, ops: &'static SubsysOps, id: usize, cgrp: CgroupH, cx: &Cx) {
        match rcu_dereference::<Css>(&self.cgrp(cgrp, cx).subsys[id]) {
            Some(css) => self.csses.kfree(css, cx),
            None => self.bug(
                cx,
                "NULL-dereference",
                format!("{} destroy: cgrp->subsys[{id}] is NULL", ops.name),
            ),
        }
    }

    /// `list_del(&ss->sibling)` (or the first half of `list_move`) on `from`'s `subsys_list`, the
    /// list `ss` is on: the unlink writes the neighbours' pointers, so a freed neighbour is a
    /// use-after-free, as the kernel's list surgery would be.
    #[doc(alias = "list_del")]
    pub fn subsys_list_del(&self, ss: SubsysH, from: RootH, cx: &Cx) {
        let nb = self
            .root(from, cx)
            .subsys_list
            .with_mut(&self.cgroup_mutex, cx, |l| {
                let p = l.iter().position(|&x| x == ss)?;
                l.remove(p);
                let prev = p.checked_sub(1).map(|q| l[q]);
                let next = l.get(p).copied();
                Some((prev, next))
            });
        match nb {
            Some((prev, next)) => {
                for n in [prev, next].into_iter().flatten() {
                    let _ = self.ss(n, cx).ops; // prev->next = next; next->prev = prev
                }
            }
            None => self.bug(
                cx,
                "list_del-corruption",
                format!("{ss} is not on {from}'s subsys_list"),
            ),
        }
    }

    /// `list_add(&ss->sibling, &root->subsys_list)`: writes the old first entry's `prev`.
    #[doc(alias = "list_add")]
    pub fn subsys_list_add(&self, ss: SubsysH, root: RootH, cx: &Cx) {
        let first = self
            .root(root, cx)
            .subsys_list
            .with_mut(&self.cgroup_mutex, cx, |l| {
                let first = l.first().copied();
                l.insert(0, ss);
                first
            });
        if let Some(n) = first {
            let _ = self.ss(n, cx).ops;
        }
    }

    /// `cgroup_load_subsys(ss)`, from the module's init. Validates callbacks (a module may not
    /// have fork/exit callbacks), then under cgroup_mutex: take the first free modular slot
    /// (-EBUSY if none) and publish `subsys[i] = ss` *before* the css exists; `ss->create` on
    /// dummytop (on failure clear the slot); link onto `rootnode.subsys_list`; `init_cgroup_css`;
    /// for `use_id`, `cgroup_init_idr` (its error path leaves `ss` on the list: finding K1); then
    /// under `write_lock(css_set_lock)` walk every hash bucket and rehash each css_set in place
    /// with the new css (skipping ones already done, which may have moved to a later bucket).
    pub fn cgroup_load_subsys(&self, ss: SubsysH, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("cgroup_load_subsys");
        let m = self.cgroup_mutex.lock(cx);
        let Some(i) = (self.builtin()..self.count()).find(|&i| self.subsys_at(i).is_none()) else {
            drop(m);
            return Err(Errno::EBUSY);
        };
        // dummy-unlinked with the special cases: this subsystem will be the only one on the
        // dummy hierarchy, so every css_set must be linked back to dummytop (links allocated
        // first, before anything is published).
        let relink = if self.has(Fix::DummySpecialCases) && !self.dummy_active(cx) {
            match self.dummy_prealloc(false, cx) {
                Some(tmp) => Some(tmp),
                None => {
                    drop(m);
                    return Err(Errno::ENOMEM);
                }
            }
        } else {
            None
        };
        self.ss(ss, cx).subsys_id.store(i, Ordering::Relaxed);
        rcu_assign_pointer(&self.subsys[i], Some(ss));
        let css = match self.ss_create(ss, self.dummytop, cx) {
            Ok(c) => c,
            Err(e) => {
                rcu_assign_pointer::<Subsys>(&self.subsys[i], None);
                drop(m);
                self.free_cg_links(relink.unwrap_or_default(), cx);
                return Err(e);
            }
        };
        self.subsys_list_add(ss, self.rootnode, cx);
        self.ss(ss, cx)
            .root
            .set(&self.cgroup_mutex, cx, self.rootnode);
        self.init_cgroup_css(css, i, self.dummytop, cx);
        if self.ss(ss, cx).ops.use_id {
            let _f = cx.enter("cgroup_init_idr");
            if !cx.kmalloc_ok() {
                rcu_assign_pointer::<Css>(&self.cgrp(self.dummytop, cx).subsys[i], None);
                self.csses.kfree(css, cx); // ss->destroy(ss, dummytop), which read the slot first
                rcu_assign_pointer::<Subsys>(&self.subsys[i], None);
                if self.has(Fix::LoadErrorUnlinks) {
                    self.subsys_list_del(ss, self.rootnode, cx);
                }
                drop(m);
                self.free_cg_links(relink.unwrap_or_default(), cx);
                return Err(Errno::ENOMEM);
            }
        }
        let w = self.css_set_lock.write(cx);
        for b in 0..self.css_set_table.len() {
            let entries = self.css_set_table[b].get(&self.css_set_lock, cx);
            for cg in entries {
                if rcu_dereference::<Css>(&self.cset(cg, cx).subsys[i]).is_some() {
                    continue; // already rehashed
                }
                if self.fault(Fault::LoadNoRehash) {
                    rcu_assign_pointer(&self.cset(cg, cx).subsys[i], Some(css));
                    continue;
                }
                self.hlist_del_css_set(cg, cx);
                rcu_assign_pointer(&self.cset(cg, cx).subsys[i], Some(css));
                self.hlist_add_css_set(cg, cx);
            }
        }
        let left = relink.map(|tmp| self.dummy_link_all(tmp, cx));
        drop(w);
        self.free_cg_links(left.unwrap_or_default(), cx);
        self.ss(ss, cx).active.store(1, Ordering::Relaxed);
        drop(m);
        Ok(())
    }

    /// `cgroup_unload_subsys(ss)`, from the module's exit (module refcount 0, state GOING).
    /// `BUG_ON(ss->root != &rootnode)` is read without cgroup_mutex. Under cgroup_mutex: clear
    /// `subsys[id]`, unlink from rootnode's list, then under `write_lock(css_set_lock)` walk
    /// **dummytop's** css_set links (relying on every css_set being linked to dummytop) and rehash
    /// each with the slot cleared; then `ss->destroy` on dummytop and clear its slot.
    pub fn cgroup_unload_subsys(&self, ss: SubsysH, cx: &Cx) {
        let _f = cx.enter("cgroup_unload_subsys");
        if self.ss(ss, cx).module.is_none() {
            self.bug(
                cx,
                "BUG_ON(ss->module == NULL)",
                "unload of a built-in subsystem",
            );
        }
        if self.ss(ss, cx).root.data_race(|r| *r) != self.rootnode {
            self.bug(
                cx,
                "BUG_ON(ss->root != &rootnode)",
                "unload of a bound subsystem",
            );
        }
        let m = self.cgroup_mutex.lock(cx);
        let id = self.ss(ss, cx).subsys_id.load(Ordering::Relaxed);
        if id < self.builtin() {
            self.bug(
                cx,
                "BUG_ON(ss->subsys_id < CGROUP_BUILTIN_SUBSYS_COUNT)",
                "",
            );
        }
        rcu_assign_pointer::<Subsys>(&self.subsys[id], None);
        self.subsys_list_del(ss, self.rootnode, cx);
        let w = (!self.fault(Fault::UnloadNoCssSetLock)).then(|| self.css_set_lock.write(cx));
        let links = self
            .cgrp(self.dummytop, cx)
            .css_sets
            .get(&self.css_set_lock, cx);
        for link in links {
            let cg = self.link_cg(link, cx);
            self.hlist_del_css_set(cg, cx);
            if rcu_dereference::<Css>(&self.cset(cg, cx).subsys[id]).is_none() {
                self.bug(
                    cx,
                    "BUG_ON(!cg->subsys[ss->subsys_id])",
                    format!("{cg} has no css in slot {id}"),
                );
            }
            rcu_assign_pointer::<Css>(&self.cset(cg, cx).subsys[id], None);
            self.hlist_add_css_set(cg, cx);
        }
        // dummy-unlinked with the special cases: the removed subsystem was the only one on the
        // dummy hierarchy, so every css_set is unlinked from dummytop.
        if self.has(Fix::DummySpecialCases) && !self.dummy_active(cx) {
            self.dummy_unlink_all(cx);
        }
        drop(w);
        self.ss_destroy(ss, self.dummytop, cx);
        rcu_assign_pointer::<Css>(&self.cgrp(self.dummytop, cx).subsys[id], None);
        drop(m);
    }
}
