//! css_set reference counting, the css_set hash and `find_css_set`
//! (kernel/cgroup.c v2.6.34: `css_set_hash` .. `find_css_set`).

use crate::kernel::config::HashKind;
use crate::kernel::{new_css_set, CgroupH, CssH, CssSetH, Kernel, Link, LinkH};
use crate::sim::atomic::AtomicI64;
use crate::sim::cx::Cx;
use crate::sim::lockdep::LockedBy;
use crate::sim::rcu::{rcu_assign_pointer, rcu_dereference};
use crate::sim::sync::Ordering;
use crate::variants::faults::Fault;

/// `atomic_add_unless(v, a, u)`: adds `a` unless the value is `u`; true if it added.
pub fn atomic_add_unless(v: &AtomicI64, a: i64, u: i64) -> bool {
    let mut c = v.load(Ordering::Relaxed);
    loop {
        if c == u {
            return false;
        }
        match v.compare_exchange(c, c + a, Ordering::SeqCst, Ordering::Relaxed) {
            Ok(_) => return true,
            Err(x) => c = x,
        }
    }
}

impl Kernel {
    /// `css_set_hash(css[])`: the sum of every slot's css "address" (modular slots included),
    /// folded as the kernel does, into one of the configured buckets.
    pub fn css_set_hash(&self, tmpl: &[Option<CssH>]) -> usize {
        match self.cfg.hash {
            HashKind::Collide => 0,
            HashKind::Sum => {
                let mut tmp: usize = tmpl.iter().flatten().map(|h| h.addr()).sum();
                tmp ^= tmp >> 16;
                tmp % self.cfg.buckets
            }
        }
    }

    /// The template of `cg` (its `subsys[]`, read as RCU pointers).
    pub fn css_set_template(&self, cg: CssSetH, cx: &Cx) -> Vec<Option<CssH>> {
        let c = self.cset(cg, cx);
        c.subsys.iter().map(rcu_dereference).collect()
    }

    /// The bucket `css_set_hash(cg->subsys)` for an existing css_set.
    #[doc(alias = "css_set_hash")]
    pub fn css_set_bucket(&self, cg: CssSetH, cx: &Cx) -> usize {
        let t = self.css_set_template(cg, cx);
        self.css_set_hash(&t)
    }

    /// `hlist_del(&cg->hlist)`: unlinks `cg` from whichever bucket holds it (pointer surgery does not
    /// recompute the hash). Unlinking an unhashed css_set is a BUG (poisoned list pointers).
    #[doc(alias = "hlist_del")]
    pub fn hlist_del_css_set(&self, cg: CssSetH, cx: &Cx) {
        for b in &self.css_set_table {
            let found = b.with_mut(&self.css_set_lock, cx, |v| {
                v.iter()
                    .position(|&x| x == cg)
                    .map(|p| v.remove(p))
                    .is_some()
            });
            if found {
                return;
            }
        }
        self.bug(
            cx,
            "hlist_del-unhashed",
            format!("hlist_del of unhashed {cg}"),
        )
    }

    /// `hlist_add_head(&cg->hlist, css_set_hash(cg->subsys))`.
    #[doc(alias = "hlist_add_head")]
    pub fn hlist_add_css_set(&self, cg: CssSetH, cx: &Cx) {
        let b = self.css_set_bucket(cg, cx);
        self.css_set_table[b].with_mut(&self.css_set_lock, cx, |v| v.insert(0, cg));
    }

    /// `link->cgrp` of a link on some list (css_set_lock held).
    pub fn link_cgrp(&self, link: LinkH, cx: &Cx) -> CgroupH {
        match self.link(link, cx).cgrp.get(&self.css_set_lock, cx) {
            Some(c) => c,
            None => self.bug(cx, "NULL-dereference", format!("{link} has no cgroup")),
        }
    }

    /// `link->cg` of a link on some list (css_set_lock held).
    pub fn link_cg(&self, link: LinkH, cx: &Cx) -> CssSetH {
        match self.link(link, cx).cg.get(&self.css_set_lock, cx) {
            Some(c) => c,
            None => self.bug(cx, "NULL-dereference", format!("{link} has no css_set")),
        }
    }

    /// `get_css_set(cg)`: `atomic_inc(&cg->refcount)`; the caller holds a reference or css_set_lock.
    pub fn get_css_set(&self, cg: CssSetH, cx: &Cx) {
        let _f = cx.enter("get_css_set");
        self.cset(cg, cx).refcount.fetch_add(1, Ordering::Relaxed);
    }

    /// `put_css_set(cg)`.
    pub fn put_css_set(&self, cg: CssSetH, cx: &Cx) {
        let _f = cx.enter("put_css_set");
        self.__put_css_set(cg, false, cx)
    }

    /// `put_css_set_taskexit(cg)`.
    pub fn put_css_set_taskexit(&self, cg: CssSetH, cx: &Cx) {
        let _f = cx.enter("put_css_set_taskexit");
        self.__put_css_set(cg, true, cx)
    }

    /// `__put_css_set(cg, taskexit)`: the fast path decrements unless this is the last reference
    /// (fix 146aa1bd); the last reference is dropped under `write_lock(css_set_lock)`, where the
    /// css_set is unhashed and unlinked from every cgroup before the lock is released; the memory
    /// goes by `call_rcu` (c378369d). `notify_on_release` is not modelled, so the release-agent
    /// branch (`check_for_release`) never runs.
    #[allow(non_snake_case)]
    pub fn __put_css_set(&self, cg: CssSetH, taskexit: bool, cx: &Cx) {
        self.put_css_set_free(cg, taskexit, false, cx)
    }

    /// `__put_css_set` with the freeing step chosen: `free_now` frees at once (the fault
    /// `attach-no-synchronize-rcu`) instead of after a grace period.
    #[doc(alias = "__put_css_set")]
    pub(crate) fn put_css_set_free(&self, cg: CssSetH, _taskexit: bool, free_now: bool, cx: &Cx) {
        let _f = cx.enter("__put_css_set");
        let w = if self.fault(Fault::PutUnlockedFinalDec) {
            // Before 146aa1bd: kref_put-style, the final decrement happens without the lock.
            if self.cset(cg, cx).refcount.fetch_sub(1, Ordering::SeqCst) != 1 {
                return;
            }
            self.css_set_lock.write(cx)
        } else {
            if atomic_add_unless(&self.cset(cg, cx).refcount, -1, 1) {
                return;
            }
            let w = self.css_set_lock.write(cx);
            if self.cset(cg, cx).refcount.fetch_sub(1, Ordering::SeqCst) != 1 {
                drop(w);
                return;
            }
            w
        };
        self.hlist_del_css_set(cg, cx);
        self.css_set_count.add(&self.css_set_lock, cx, -1);
        let links = self
            .cset(cg, cx)
            .cg_links
            .with_mut(&self.css_set_lock, cx, std::mem::take);
        for link in links {
            let cgrp = self.link_cgrp(link, cx);
            self.cgrp(cgrp, cx)
                .css_sets
                .with_mut(&self.css_set_lock, cx, |l| {
                    l.retain(|&x| x != link);
                });
            self.cgrp(cgrp, cx).count.fetch_sub(1, Ordering::SeqCst);
            self.links.kfree(link, cx);
        }
        drop(w);
        if free_now || self.fault(Fault::CssSetFreeNoRcu) {
            self.csets.kfree(cg, cx);
            return;
        }
        self.rcu.call_rcu(
            cx,
            "free_css_set_rcu",
            Box::new(move |k: &Kernel, cx: &Cx| k.csets.kfree(cg, cx)),
        );
    }

    /// `find_existing_css_set(oldcg, cgrp, template)`: builds the template (cgrp's csses for the
    /// subsystems of its hierarchy, oldcg's elsewhere) and looks for an equal css_set in its bucket,
    /// comparing both the template and the per-hierarchy cgroups (`compare_css_sets`).
    /// Caller holds css_set_lock (read) and cgroup_mutex.
    pub fn find_existing_css_set(
        &self,
        oldcg: CssSetH,
        cgrp: CgroupH,
        template: &mut [Option<CssH>],
        cx: &Cx,
    ) -> Option<CssSetH> {
        let _f = cx.enter("find_existing_css_set");
        let root = self.cgrp(cgrp, cx).root;
        let bits = self.root(root, cx).subsys_bits.get(&self.cgroup_mutex, cx) as u64;
        for (i, slot) in template.iter_mut().enumerate() {
            *slot = if bits & (1 << i) != 0 {
                rcu_dereference(&self.cgrp(cgrp, cx).subsys[i])
            } else {
                rcu_dereference(&self.cset(oldcg, cx).subsys[i])
            };
        }
        let b = self.css_set_hash(template);
        let bucket = self.css_set_table[b].get(&self.css_set_lock, cx);
        bucket
            .into_iter()
            .find(|&cg| self.compare_css_sets(cg, oldcg, cgrp, template, cx))
    }

    /// `compare_css_sets(cg, old_cg, new_cgrp, template)`: same css template, and walking both
    /// link lists in lock-step (same hierarchy order, `BUG_ON` otherwise) the cgroup in
    /// `new_cgrp`'s hierarchy is `new_cgrp` and every other one is old_cg's.
    pub fn compare_css_sets(
        &self,
        cg: CssSetH,
        oldcg: CssSetH,
        new_cgrp: CgroupH,
        template: &[Option<CssH>],
        cx: &Cx,
    ) -> bool {
        let _f = cx.enter("compare_css_sets");
        if self.css_set_template(cg, cx) != template {
            return false;
        }
        let l1 = self.cset(cg, cx).cg_links.get(&self.css_set_lock, cx);
        let l2 = self.cset(oldcg, cx).cg_links.get(&self.css_set_lock, cx);
        if l1.len() != l2.len() {
            self.bug(
                cx,
                "BUG_ON(l2 list end mismatch)",
                format!("{cg} has {} links, {oldcg} has {}", l1.len(), l2.len()),
            );
        }
        let new_root = self.cgrp(new_cgrp, cx).root;
        for (a, b) in l1.into_iter().zip(l2) {
            let cg1 = self.link_cgrp(a, cx);
            let cg2 = self.link_cgrp(b, cx);
            let r1 = self.cgrp(cg1, cx).root;
            if r1 != self.cgrp(cg2, cx).root {
                self.bug(
                    cx,
                    "BUG_ON(cg1->root != cg2->root)",
                    format!("{cg} vs {oldcg}"),
                );
            }
            if r1 == new_root {
                if cg1 != new_cgrp {
                    return false;
                }
            } else if cg1 != cg2 {
                return false;
            }
        }
        true
    }

    /// `allocate_cg_links(count, &tmp)`: `count` kmallocs; on failure frees what it got.
    pub fn allocate_cg_links(&self, count: usize, cx: &Cx) -> Option<Vec<LinkH>> {
        self.allocate_cg_links_gfp(count, false, cx)
    }

    /// [`Kernel::allocate_cg_links`]; `nofail` is `__GFP_NOFAIL` (no allocation can fail).
    #[doc(alias = "allocate_cg_links")]
    pub fn allocate_cg_links_gfp(&self, count: usize, nofail: bool, cx: &Cx) -> Option<Vec<LinkH>> {
        let _f = cx.enter("allocate_cg_links");
        let mut v = Vec::with_capacity(count);
        for _ in 0..count {
            if !nofail && !cx.kmalloc_ok() {
                self.free_cg_links(v, cx);
                return None;
            }
            v.push(self.links.alloc(Link {
                cgrp: LockedBy::new(None),
                cg: LockedBy::new(None),
            }));
        }
        Some(v)
    }

    /// `free_cg_links(&tmp)`.
    pub fn free_cg_links(&self, links: Vec<LinkH>, cx: &Cx) {
        let _f = cx.enter("free_cg_links");
        for l in links {
            self.links.kfree(l, cx);
        }
    }

    /// Unlinks and frees every link on `cgrp->css_sets` (`list_for_each_entry_safe(link,
    /// &cgrp->css_sets, cgrp_link_list)`: `list_del` from both lists, `kfree`), as `cgroup_kill_sb`
    /// does; `dec_count` also decrements `cgrp->count` for each. The static `init_css_set_link`
    /// is unlinked but not freed. Caller holds `write_lock(css_set_lock)`.
    #[doc(alias = "cgroup_kill_sb")]
    pub fn unlink_cgroup_css_sets(&self, cgrp: CgroupH, dec_count: bool, cx: &Cx) {
        let links = self
            .cgrp(cgrp, cx)
            .css_sets
            .with_mut(&self.css_set_lock, cx, std::mem::take);
        for link in links {
            let cg = self.link_cg(link, cx);
            self.cset(cg, cx)
                .cg_links
                .with_mut(&self.css_set_lock, cx, |l| l.retain(|&x| x != link));
            if dec_count {
                self.cgrp(cgrp, cx).count.fetch_sub(1, Ordering::SeqCst);
            }
            if link != self.init_css_set_link {
                self.links.kfree(link, cx);
            }
        }
    }

    /// `link_css_set(tmp_cg_links, cg, cgrp)` for one preallocated link: `atomic_inc(&cgrp->count)`,
    /// link onto `cgrp->css_sets` (at the head) and onto the tail of `cg->cg_links` (keeping
    /// hierarchy order). Caller holds css_set_lock for writing.
    pub fn link_css_set(&self, link: LinkH, cg: CssSetH, cgrp: CgroupH, cx: &Cx) {
        let _f = cx.enter("link_css_set");
        {
            let l = self.link(link, cx);
            l.cg.set(&self.css_set_lock, cx, Some(cg));
            l.cgrp.set(&self.css_set_lock, cx, Some(cgrp));
        }
        self.cgrp(cgrp, cx).count.fetch_add(1, Ordering::Relaxed);
        self.cgrp(cgrp, cx)
            .css_sets
            .with_mut(&self.css_set_lock, cx, |l| l.insert(0, link));
        self.cset(cg, cx)
            .cg_links
            .with_mut(&self.css_set_lock, cx, |l| l.push(link));
    }

    /// `find_css_set(oldcg, cgrp)`: returns a referenced css_set equal to `oldcg` but for `cgrp`
    /// in its hierarchy, creating (and hashing) one if none exists. None means -ENOMEM.
    /// "Must be called with cgroup_mutex held"; the caller holds a reference on `oldcg` (77efecd9).
    pub fn find_css_set(&self, oldcg: CssSetH, cgrp: CgroupH, cx: &Cx) -> Option<CssSetH> {
        let _f = cx.enter("find_css_set");
        self.cgroup_mutex.assert_held(cx);
        let mut template = vec![None; self.count()];
        let r = self.css_set_lock.read(cx);
        let res = self.find_existing_css_set(oldcg, cgrp, &mut template, cx);
        if let Some(res) = res {
            self.get_css_set(res, cx);
        }
        drop(r);
        if res.is_some() {
            return res;
        }
        if !cx.kmalloc_ok() {
            return None;
        }
        let root_count = self.root_count.get(&self.cgroup_mutex, cx);
        let no_dummy = self.fault(Fault::NoDummyLink) && self.dummy_active(cx);
        let mut tmp = self.allocate_cg_links(root_count - no_dummy as usize, cx)?;
        let res = self.csets.alloc(new_css_set(self.count()));
        for (i, t) in template.iter().enumerate() {
            rcu_assign_pointer(&self.cset(res, cx).subsys[i], *t);
        }
        let w = self.css_set_lock.write(cx);
        let new_root = self.cgrp(cgrp, cx).root;
        let old_links = self.cset(oldcg, cx).cg_links.get(&self.css_set_lock, cx);
        let (allocated, needed) = (tmp.len(), old_links.len());
        for link in old_links {
            let mut c = self.link_cgrp(link, cx);
            if no_dummy && c == self.dummytop {
                continue;
            }
            if self.cgrp(c, cx).root == new_root {
                c = cgrp;
            }
            let Some(l) = tmp.pop() else {
                self.bug(
                    cx,
                    "BUG_ON(list_empty(tmp_cg_links))",
                    format!(
                        "too few preallocated links: {allocated} (root_count {root_count}) for the {needed} links of {oldcg}"
                    ),
                );
            };
            self.link_css_set(l, res, c, cx);
        }
        if !tmp.is_empty() {
            self.bug(
                cx,
                "BUG_ON(!list_empty(&tmp_cg_links))",
                format!(
                    "preallocated links left over: {allocated} (root_count {root_count}) for the {needed} links of {oldcg}"
                ),
            );
        }
        self.css_set_count.add(&self.css_set_lock, cx, 1);
        self.hlist_add_css_set(res, cx);
        drop(w);
        Some(res)
    }
}
