//! Loading and unloading modular subsystems (kernel/cgroup.c v2.6.34: `cgroup_load_subsys`,
//! `cgroup_unload_subsys`) and what the subsystems' `create`/`destroy` callbacks share.
//!
//! Every store to `subsys[]`, `cg->subsys[]` and `dummytop->subsys[]` here is a plain one in the
//! kernel, so a relaxed one in the model: nothing orders the css's initialisation before its
//! publication to RCU readers but the locks the writer holds, which the readers do not take.

use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::gfp::GFP_KERNEL;
use crate::kernel::{CgroupH, Css, CssH, Kernel, RootH, Subsys, SubsysH, SubsysOps};
use crate::sim::arena::{load_ptr, store_ptr};
use crate::sim::cx::Cx;
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
        if !cx.kmalloc_ok(GFP_KERNEL) {
            return Err(Errno::ENOMEM);
        }
        Ok(self.alloc_css(ops, false, cx))
    }

    /// `cgroup_subsys_state(cgrp, id)` as every modelled `destroy` starts: a plain load of
    /// `cgrp->subsys[id]`, whose `container_of` is the subsystem's state. An empty slot is the
    /// kernel's NULL dereference.
    pub fn css_of_slot(&self, ops: &'static SubsysOps, id: usize, cgrp: CgroupH, cx: &Cx) -> CssH {
        match load_ptr::<Css>(&self.cgrp(cgrp, cx).subsys[id]) {
            Some(css) => css,
            None => self.bug(
                cx,
                "NULL-dereference",
                format!(
                    "{} destroy: {}->subsys[{id}] is NULL",
                    ops.name,
                    self.cgroups.label(cgrp)
                ),
            ),
        }
    }

    /// `cgroup_subsys_state(cgrp, id)` as a control file's handler makes it (`cgroup_cs`,
    /// `cgroup_tg`, `cgroup_to_blkio_cgroup`): a plain load of `cgrp->subsys[id]`, with no lock
    /// and no look at whether the subsystem is still bound to the cgroup's hierarchy. The
    /// handler's `container_of` is [`Kernel::subsys_state`], where it first dereferences it.
    #[doc(alias = "cgroup_subsys_state")]
    pub fn subsys_slot(&self, cgrp: CgroupH, id: usize, cx: &Cx) -> Option<CssH> {
        load_ptr::<Css>(&self.cgrp(cgrp, cx).subsys[id])
    }

    /// A control file handler's first dereference of the state it loaded with
    /// [`Kernel::subsys_slot`]: an empty slot (the subsystem was unbound from the file's
    /// hierarchy, or never bound) is the kernel's NULL dereference (the state's first member is
    /// the css, so the oops is near address 0); a css of another subsystem (a reused modular
    /// slot) is read as `ops`'s state.
    pub fn subsys_state(
        &self,
        slot: Option<CssH>,
        ops: &'static SubsysOps,
        id: usize,
        cgrp: CgroupH,
        cx: &Cx,
    ) -> CssH {
        let Some(css) = slot else {
            self.bug(
                cx,
                "NULL-dereference",
                format!(
                    "{}->subsys[{id}] is NULL ({} not bound there): the {} state is at address 0",
                    self.cgroups.label(cgrp),
                    ops.name,
                    ops.name
                ),
            );
        };
        if !std::ptr::eq(self.css(css, cx).ss, ops) {
            self.bug(
                cx,
                "container_of-type-confusion",
                format!(
                    "{} read as {}'s state (slot {id})",
                    self.csses.label(css),
                    ops.name
                ),
            );
        }
        css
    }

    /// The kfree a `destroy` ends with; static state (a top cgroup's) is not freed.
    #[doc(alias = "kfree")]
    pub fn kfree_css(&self, css: CssH, cx: &Cx) {
        if !self.css(css, cx).is_static {
            self.csses.kfree(css, cx);
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

    /// `cgroup_load_subsys(ss)` (cgroup.c:3622-3736), from the module's init. The callback checks
    /// (a module may not have fork/exit callbacks) pass for the modelled subsystems. Under
    /// cgroup_mutex: the first free modular slot (-EBUSY if none); `ss->subsys_id = i` and
    /// `subsys[i] = ss` (plain stores), published *before* the css exists; `ss->create` on
    /// dummytop (on failure the slot is cleared); onto `rootnode.subsys_list`; `init_cgroup_css`;
    /// for `use_id`, `cgroup_init_idr` (one kzalloc), whose error path clears
    /// `dummytop->subsys[i]` and *then* calls `ss->destroy(ss, dummytop)` (blkio's destroy reads
    /// the slot: NULL) and leaves `ss` on the list (finding K1; [`Fix::LoadErrorUnlinks`] undoes
    /// the load as `cgroup_unload_subsys` does, as 3.x's `goto err` does). Then under
    /// `write_lock(css_set_lock)` every hash bucket, rehashing each css_set in place with the
    /// new css (a plain store; "skip entries that we already rehashed", which may have moved to
    /// a later bucket); `ss->active = 1`.
    pub fn cgroup_load_subsys(&self, ss: SubsysH, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::cgroup_load_subsys);
        cx.at(3656);
        let m = self.cgroup_mutex.lock(cx);
        cx.at(3658);
        let Some(i) = (self.builtin()..self.count()).find(|&i| self.subsys_at(i).is_none()) else {
            cx.at(3664);
            drop(m);
            return Err(Errno::EBUSY);
        };
        // dummy-unlinked with the special cases: this subsystem will be the only one on the
        // dummy hierarchy, so every css_set must be linked back to dummytop (links allocated
        // first, before anything is published).
        let relink = if self.has(Fix::DummySpecialCases) && !self.dummy_active(cx) {
            let _i = cx.enter_inserted("dummy_prealloc");
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
        cx.at(3668);
        self.ss(ss, cx).subsys_id.store(i, Ordering::Relaxed);
        cx.at(3669);
        store_ptr(&self.subsys[i], Some(ss));
        cx.at(3675);
        let css = match self.ss_create(ss, self.dummytop, cx) {
            Ok(c) => c,
            Err(e) => {
                cx.at(3678);
                store_ptr::<Subsys>(&self.subsys[i], None);
                cx.at(3679);
                drop(m);
                self.free_cg_links(relink.unwrap_or_default(), cx);
                return Err(e);
            }
        };
        cx.at(3683);
        self.subsys_list_add(ss, self.rootnode, cx);
        cx.at(3684);
        self.ss(ss, cx)
            .root
            .set(&self.cgroup_mutex, cx, self.rootnode);
        cx.at(3687);
        self.init_cgroup_css(css, i, self.dummytop, cx);
        cx.at(3689);
        if self.ss(ss, cx).ops.use_id {
            cx.at(3690);
            if !self.cgroup_init_idr(cx) {
                if self.has(Fix::LoadErrorUnlinks) {
                    let _u = cx.enter_inserted("cgroup_unload_subsys");
                    store_ptr::<Subsys>(&self.subsys[i], None);
                    self.subsys_list_del(ss, self.rootnode, cx);
                    self.ss_destroy(ss, self.dummytop, cx);
                    store_ptr::<Css>(&self.cgrp(self.dummytop, cx).subsys[i], None);
                } else {
                    cx.at(3692);
                    store_ptr::<Css>(&self.cgrp(self.dummytop, cx).subsys[i], None);
                    cx.at(3693);
                    self.ss_destroy(ss, self.dummytop, cx);
                    cx.at(3694);
                    store_ptr::<Subsys>(&self.subsys[i], None);
                }
                cx.at(3695);
                drop(m);
                self.free_cg_links(relink.unwrap_or_default(), cx);
                return Err(Errno::ENOMEM);
            }
        }
        cx.at(3708);
        let w = self.css_set_lock.write(cx);
        for b in 0..self.css_set_table.len() {
            let entries = self.css_set_table[b].get(&self.css_set_lock, cx);
            for cg in entries {
                cx.at(3716);
                if load_ptr::<Css>(&self.cset(cg, cx).subsys[i]).is_some() {
                    continue; // already rehashed
                }
                if self.fault(Fault::LoadNoRehash) {
                    store_ptr(&self.cset(cg, cx).subsys[i], Some(css));
                    continue;
                }
                cx.at(3719);
                self.hlist_del_css_set(cg, cx);
                cx.at(3721);
                store_ptr(&self.cset(cg, cx).subsys[i], Some(css));
                cx.at(3724);
                self.hlist_add_css_set(cg, cx);
            }
        }
        let left = relink.map(|tmp| {
            let _i = cx.enter_inserted("dummy_link_all");
            self.dummy_link_all(tmp, cx)
        });
        cx.at(3727);
        drop(w);
        self.free_cg_links(left.unwrap_or_default(), cx);
        cx.at(3731);
        self.ss(ss, cx).active.store(1, Ordering::Relaxed);
        cx.at(3734);
        drop(m);
        Ok(())
    }

    /// `cgroup_init_idr(ss, rootcss)` (cgroup.c:4573-4589): `get_new_cssid` allocates the root's
    /// css id (one kzalloc: false if it fails).
    fn cgroup_init_idr(&self, cx: &Cx) -> bool {
        let _f = cx.enter(&kfn::cgroup_init_idr);
        cx.at(4581);
        cx.kmalloc_ok(GFP_KERNEL)
    }

    /// `cgroup_unload_subsys(ss)` (cgroup.c:3747-3795), from the module's exit (module refcount
    /// 0, state GOING). `BUG_ON(ss->root != &rootnode)` is read without cgroup_mutex. Under
    /// cgroup_mutex: clear `subsys[id]`, unlink from rootnode's list, then under
    /// `write_lock(css_set_lock)` walk **dummytop's** css_set links (relying on every css_set
    /// being linked to dummytop) and rehash each with the slot cleared (plain stores); then
    /// `ss->destroy` on dummytop and clear its slot.
    pub fn cgroup_unload_subsys(&self, ss: SubsysH, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_unload_subsys);
        cx.at(3752);
        if self.ss(ss, cx).module.is_none() {
            self.bug(
                cx,
                "BUG_ON(ss->module == NULL)",
                "unload of a built-in subsystem",
            );
        }
        cx.at(3759);
        if self.ss(ss, cx).root.data_race(|r| *r) != self.rootnode {
            self.bug(
                cx,
                "BUG_ON(ss->root != &rootnode)",
                "unload of a bound subsystem",
            );
        }
        cx.at(3761);
        let m = self.cgroup_mutex.lock(cx);
        cx.at(3763);
        let id = self.ss(ss, cx).subsys_id.load(Ordering::Relaxed);
        if id < self.builtin() {
            self.bug(
                cx,
                "BUG_ON(ss->subsys_id < CGROUP_BUILTIN_SUBSYS_COUNT)",
                "",
            );
        }
        cx.at(3764);
        store_ptr::<Subsys>(&self.subsys[id], None);
        cx.at(3767);
        self.subsys_list_del(ss, self.rootnode, cx);
        cx.at(3773);
        let w = (!self.fault(Fault::UnloadNoCssSetLock)).then(|| self.css_set_lock.write(cx));
        let links = self
            .cgrp(self.dummytop, cx)
            .css_sets
            .get(&self.css_set_lock, cx);
        for link in links {
            cx.at(3775);
            let cg = self.link_cg(link, cx);
            cx.at(3777);
            self.hlist_del_css_set(cg, cx);
            cx.at(3778);
            if load_ptr::<Css>(&self.cset(cg, cx).subsys[id]).is_none() {
                self.bug(
                    cx,
                    "BUG_ON(!cg->subsys[ss->subsys_id])",
                    format!("{cg} has no css in slot {id}"),
                );
            }
            cx.at(3779);
            store_ptr::<Css>(&self.cset(cg, cx).subsys[id], None);
            cx.at(3781);
            self.hlist_add_css_set(cg, cx);
        }
        // dummy-unlinked with the special cases: the removed subsystem was the only one on the
        // dummy hierarchy, so every css_set is unlinked from dummytop.
        if self.has(Fix::DummySpecialCases) && !self.dummy_active(cx) {
            let _i = cx.enter_inserted("dummy_unlink_all");
            self.dummy_unlink_all(cx);
        }
        cx.at(3783);
        drop(w);
        cx.at(3791);
        self.ss_destroy(ss, self.dummytop, cx);
        cx.at(3792);
        store_ptr::<Css>(&self.cgrp(self.dummytop, cx).subsys[id], None);
        cx.at(3794);
        drop(m);
    }
}
