//! `rebind_subsystems` (kernel/cgroup.c): moving subsystems between a hierarchy and the dummy
//! one, with their module references.

use crate::kernel::errno::Errno;
use crate::kernel::{Cgroup, Css, Kernel, RootH, SubsysH};
use crate::sim::cx::Cx;
use crate::sim::rcu::{rcu_assign_pointer, rcu_dereference};
use crate::sim::sync::Ordering;
use crate::variants::{Fault, Fix};

impl Kernel {
    /// `rebind_subsystems(root, final_bits)`, cgroup_mutex held. Checks that every added subsystem
    /// is free and that the hierarchy has no children (-EBUSY, touching no refcount), then binds
    /// added ones (keeping parse's module ref), unbinds removed ones (dropping the hierarchy's
    /// ref), drops the duplicate ref for ones already bound, and waits for RCU readers.
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
        let _f = cx.enter("rebind_subsystems");
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
        let actual = r.actual_subsys_bits.get(m, cx);
        let removed = actual & !final_bits;
        let added = final_bits & !actual;
        for i in 0..self.count() {
            if added & (1 << i) == 0 {
                continue;
            }
            let Some(ss) = self.subsys_at(i) else {
                self.bug(
                    cx,
                    "BUG_ON(ss == NULL)",
                    format!("added subsys[{i}] is NULL"),
                );
            };
            if self.ss(ss, cx).root.get(m, cx) != self.rootnode {
                self.rebind_ebusy_fault(added, cx);
                return Err(Errno::EBUSY);
            }
        }
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
            let ss = self.subsys_at(i);
            let cur = rcu_dereference::<Css>(&self.cgrp(cgrp, cx).subsys[i]);
            let dummy_css = rcu_dereference::<Css>(&self.cgrp(self.dummytop, cx).subsys[i]);
            if added & bit != 0 {
                let ss = ss.expect("checked above");
                if cur.is_some() {
                    self.bug(
                        cx,
                        "BUG_ON(cgrp->subsys[i])",
                        format!("slot {i} already bound"),
                    );
                }
                let Some(css) = dummy_css else {
                    self.bug(
                        cx,
                        "BUG_ON(!dummytop->subsys[i])",
                        format!("no dummytop css for slot {i}"),
                    );
                };
                if rcu_dereference::<Cgroup>(&self.css(css, cx).cgroup) != Some(self.dummytop) {
                    self.bug(
                        cx,
                        "BUG_ON(dummytop->subsys[i]->cgroup != dummytop)",
                        format!("slot {i}"),
                    );
                }
                let s = self.ss(ss, cx);
                let hm = s.hierarchy_mutex.lock(cx);
                rcu_assign_pointer(&self.cgrp(cgrp, cx).subsys[i], Some(css));
                rcu_assign_pointer(&self.css(css, cx).cgroup, Some(cgrp));
                let from = s.root.get(m, cx);
                self.move_subsys(ss, from, root, cx);
                s.root.set(m, cx, root);
                drop(hm);
                // refcount was already taken, and we're keeping it
            } else if removed & bit != 0 {
                let Some(ss) = ss else {
                    self.bug(
                        cx,
                        "BUG_ON(ss == NULL)",
                        format!("removed subsys[{i}] is NULL"),
                    );
                };
                if cur != dummy_css {
                    self.bug(
                        cx,
                        "BUG_ON(cgrp->subsys[i] != dummytop->subsys[i])",
                        format!("slot {i}"),
                    );
                }
                let css = cur.expect("bound css");
                let s = self.ss(ss, cx);
                let hm = s.hierarchy_mutex.lock(cx);
                rcu_assign_pointer(&self.css(css, cx).cgroup, Some(self.dummytop));
                rcu_assign_pointer::<Css>(&self.cgrp(cgrp, cx).subsys[i], None);
                s.root.set(m, cx, self.rootnode);
                self.move_subsys(ss, root, self.rootnode, cx);
                drop(hm);
                let module = s.module;
                drop(s);
                self.module_put(module, cx);
            } else if final_bits & bit != 0 {
                let Some(ss) = ss else {
                    self.bug(
                        cx,
                        "BUG_ON(ss == NULL)",
                        format!("kept subsys[{i}] is NULL"),
                    );
                };
                if cur.is_none() {
                    self.bug(
                        cx,
                        "BUG_ON(!cgrp->subsys[i])",
                        format!("slot {i} not bound"),
                    );
                }
                let module = self.ss(ss, cx).module;
                if !self.fault(Fault::RemountKeepsDupRef) {
                    self.module_put(module, cx);
                }
                if let Some(mi) = module {
                    if self.modules[mi].refcnt.load(Ordering::SeqCst) == 0 {
                        self.bug(cx, "BUG_ON(ss->module && !module_refcount(ss->module))", "");
                    }
                }
            } else if cur.is_some() {
                self.bug(
                    cx,
                    "BUG_ON(cgrp->subsys[i])",
                    format!("slot {i} bound but not wanted"),
                );
            }
        }
        let r = self.root(root, cx);
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
        self.rcu.synchronize(cx);
        Ok(())
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
