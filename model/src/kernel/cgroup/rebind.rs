//! `rebind_subsystems` (kernel/cgroup.c:938-1029): moving subsystems between a hierarchy and the
//! dummy one, with their module references.

use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::{Cgroup, CgroupH, Css, Kernel, RootH, SubsysH};
use crate::sim::arena::{load_ptr, store_ptr};
use crate::sim::cx::Cx;
use crate::sim::sync::Ordering;
use crate::variants::{Fault, Fix};

impl Kernel {
    /// `rebind_subsystems(root, final_bits)` (cgroup.c:938-1029), cgroup_mutex held. Checks that
    /// every added subsystem is free and that the hierarchy has no children (-EBUSY, touching no
    /// refcount), then binds added ones (keeping parse's module ref), unbinds removed ones
    /// (dropping the hierarchy's ref), drops the duplicate ref for ones already bound, and waits
    /// for RCU readers. The `subsys[i]`, `cgrp->subsys[i]` and `css->cgroup` accesses are plain.
    ///
    /// Under [`Fix::DummyUnlinked`] (not in any kernel) it also unlinks every css_set from
    /// dummytop when the last subsystem leaves rootnode, and links every one back when one
    /// returns; the links for that are allocated before anything changes (-ENOMEM, touching no
    /// refcount).
    pub fn rebind_subsystems(&self, root: RootH, final_bits: u64, cx: &Cx) -> Result<(), Errno> {
        self.rebind_subsystems_gfp(root, final_bits, false, cx)
    }

    /// [`Kernel::rebind_subsystems`]; `nofail` is `cgroup_kill_sb`'s: its dummytop relink (under
    /// [`Fix::DummyUnlinked`]) allocates with `__GFP_NOFAIL`, since kill_sb cannot fail.
    #[doc(alias = "rebind_subsystems")]
    pub(crate) fn rebind_subsystems_gfp(
        &self,
        root: RootH,
        final_bits: u64,
        nofail: bool,
        cx: &Cx,
    ) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::rebind_subsystems);
        cx.at(945);
        if !self.cgroup_mutex.is_locked() {
            self.bug(
                cx,
                "BUG_ON(!mutex_is_locked(&cgroup_mutex))",
                "rebind without cgroup_mutex",
            );
        }
        let m = &self.cgroup_mutex;
        let r = self.root(root, cx);
        let cgrp = r.top();
        cx.at(947);
        let actual = r.actual_subsys_bits.get(m, cx);
        let removed = actual & !final_bits;
        let added = final_bits & !actual;
        for i in 0..self.count() {
            if added & (1 << i) == 0 {
                continue;
            }
            cx.at(952);
            let Some(ss) = self.subsys_at(i) else {
                cx.at(960);
                self.bug(
                    cx,
                    "BUG_ON(ss == NULL)",
                    format!("added subsys[{i}] is NULL"),
                );
            };
            cx.at(961);
            if self.ss(ss, cx).root.get(m, cx) != self.rootnode {
                self.rebind_ebusy_fault(added, cx);
                return Err(Errno::EBUSY);
            }
        }
        cx.at(971);
        if r.number_of_cgroups.get(m, cx) > 1 {
            self.rebind_ebusy_fault(added, cx);
            return Err(Errno::EBUSY);
        }
        drop(r);
        // dummy-unlinked: (linked before, linked after). Every added subsystem is on rootnode
        // (checked above) and every removed one goes back to it.
        let dummy = self.has(Fix::DummyUnlinked).then(|| {
            let on = self
                .root(self.rootnode, cx)
                .subsys_list
                .with(m, cx, |l| l.len() as i64);
            let after = on - i64::from(added.count_ones()) + i64::from(removed.count_ones());
            (on > 0, after > 0)
        });
        let relink = match dummy {
            Some((false, true)) => match self.dummy_prealloc(nofail, cx) {
                Some(tmp) => Some(tmp),
                None => return Err(Errno::ENOMEM),
            },
            _ => None,
        };
        for i in 0..self.count() {
            let bit = 1u64 << i;
            cx.at(976);
            let ss = self.subsys_at(i);
            if added & bit != 0 {
                self.rebind_bind(i, ss, root, cgrp, cx);
            } else if removed & bit != 0 {
                self.rebind_unbind(i, ss, root, cgrp, cx);
            } else if final_bits & bit != 0 {
                let Some(ss) = ss else {
                    cx.at(1010);
                    self.bug(
                        cx,
                        "BUG_ON(ss == NULL)",
                        format!("kept subsys[{i}] is NULL"),
                    );
                };
                cx.at(1011);
                if load_ptr::<Css>(&self.cgrp(cgrp, cx).subsys[i]).is_none() {
                    self.bug(
                        cx,
                        "BUG_ON(!cgrp->subsys[i])",
                        format!("slot {i} not bound"),
                    );
                }
                let module = self.ss(ss, cx).module;
                if !self.fault(Fault::RemountKeepsDupRef) {
                    cx.at(1016);
                    self.module_put(module, cx);
                }
                if let Some(mi) = module {
                    cx.at(1018);
                    if self.modules[mi].refcnt.load(Ordering::Relaxed) == 0 {
                        self.bug(cx, "BUG_ON(ss->module && !module_refcount(ss->module))", "");
                    }
                }
            } else {
                cx.at(1022);
                if load_ptr::<Css>(&self.cgrp(cgrp, cx).subsys[i]).is_some() {
                    self.bug(
                        cx,
                        "BUG_ON(cgrp->subsys[i])",
                        format!("slot {i} bound but not wanted"),
                    );
                }
            }
        }
        let r = self.root(root, cx);
        cx.at(1025);
        r.subsys_bits.set(m, cx, final_bits as i64);
        r.actual_subsys_bits.set(m, cx, final_bits);
        drop(r);
        if let Some(tmp) = relink {
            let w = self.css_set_lock.write(cx);
            let left = self.dummy_link_all(tmp, cx);
            drop(w);
            self.free_cg_links(left, cx);
        } else if dummy == Some((true, false)) {
            let w = self.css_set_lock.write(cx);
            self.dummy_unlink_all(cx);
            drop(w);
        }
        cx.at(1026);
        self.rcu.synchronize(cx);
        Ok(())
    }

    /// The "we're binding this subsystem to this hierarchy" branch (cgroup.c:979-992).
    fn rebind_bind(&self, i: usize, ss: Option<SubsysH>, root: RootH, cgrp: CgroupH, cx: &Cx) {
        // frame: rebind_subsystems
        let m = &self.cgroup_mutex;
        cx.at(980);
        let Some(ss) = ss else {
            self.bug(
                cx,
                "BUG_ON(ss == NULL)",
                format!("added subsys[{i}] is NULL"),
            );
        };
        cx.at(981);
        if load_ptr::<Css>(&self.cgrp(cgrp, cx).subsys[i]).is_some() {
            self.bug(
                cx,
                "BUG_ON(cgrp->subsys[i])",
                format!("slot {i} already bound"),
            );
        }
        cx.at(982);
        let Some(css) = load_ptr::<Css>(&self.cgrp(self.dummytop, cx).subsys[i]) else {
            self.bug(
                cx,
                "BUG_ON(!dummytop->subsys[i])",
                format!("no dummytop css for slot {i}"),
            );
        };
        cx.at(983);
        if load_ptr::<Cgroup>(&self.css(css, cx).cgroup) != Some(self.dummytop) {
            self.bug(
                cx,
                "BUG_ON(dummytop->subsys[i]->cgroup != dummytop)",
                format!("slot {i}"),
            );
        }
        let s = self.ss(ss, cx);
        cx.at(984);
        let hm = s.hierarchy_mutex.lock(cx);
        cx.at(985);
        store_ptr(&self.cgrp(cgrp, cx).subsys[i], Some(css));
        cx.at(986);
        store_ptr(&self.css(css, cx).cgroup, Some(cgrp));
        cx.at(987);
        let from = s.root.get(m, cx);
        self.move_subsys(ss, from, root, cx);
        cx.at(988);
        s.root.set(m, cx, root);
        cx.at(991);
        drop(hm);
        // refcount was already taken, and we're keeping it
    }

    /// The "we're removing this subsystem" branch (cgroup.c:993-1006).
    fn rebind_unbind(&self, i: usize, ss: Option<SubsysH>, root: RootH, cgrp: CgroupH, cx: &Cx) {
        // frame: rebind_subsystems
        let m = &self.cgroup_mutex;
        cx.at(995);
        let Some(ss) = ss else {
            self.bug(
                cx,
                "BUG_ON(ss == NULL)",
                format!("removed subsys[{i}] is NULL"),
            );
        };
        cx.at(996);
        let cur = load_ptr::<Css>(&self.cgrp(cgrp, cx).subsys[i]);
        if cur != load_ptr::<Css>(&self.cgrp(self.dummytop, cx).subsys[i]) {
            self.bug(
                cx,
                "BUG_ON(cgrp->subsys[i] != dummytop->subsys[i])",
                format!("slot {i}"),
            );
        }
        let Some(css) = cur else {
            self.bug(
                cx,
                "NULL-dereference",
                format!("rebind: cgrp->subsys[{i}] is NULL"),
            );
        };
        cx.at(997);
        if load_ptr::<Cgroup>(&self.css(css, cx).cgroup) != Some(cgrp) {
            self.bug(
                cx,
                "BUG_ON(cgrp->subsys[i]->cgroup != cgrp)",
                format!("slot {i}"),
            );
        }
        let s = self.ss(ss, cx);
        cx.at(998);
        let hm = s.hierarchy_mutex.lock(cx);
        cx.at(1001);
        store_ptr(&self.css(css, cx).cgroup, Some(self.dummytop));
        cx.at(1002);
        store_ptr::<Css>(&self.cgrp(cgrp, cx).subsys[i], None);
        cx.at(1003);
        s.root.set(m, cx, self.rootnode);
        cx.at(1004);
        self.move_subsys(ss, root, self.rootnode, cx);
        cx.at(1005);
        drop(hm);
        let module = s.module;
        drop(s);
        cx.at(1007);
        self.module_put(module, cx);
    }

    /// The fault `rebind-ebusy-puts-refs`: the -EBUSY path puts the refs of the subsystems it
    /// was to add (which its caller, owning them, drops again).
    fn rebind_ebusy_fault(&self, added: u64, cx: &Cx) {
        if !self.fault(Fault::RebindEbusyPutsRefs) {
            return;
        }
        for i in self.builtin()..self.count() {
            if added & (1 << i) != 0 {
                if let Some(ss) = self.subsys_at(i) {
                    let module = self.ss(ss, cx).module;
                    self.module_put(module, cx);
                }
            }
        }
    }

    /// `list_move(&ss->sibling, &to->subsys_list)` from the list of `from`.
    #[doc(alias = "list_move")]
    fn move_subsys(&self, ss: SubsysH, from: RootH, to: RootH, cx: &Cx) {
        self.subsys_list_del(ss, from, cx);
        self.subsys_list_add(ss, to, cx);
    }
}
