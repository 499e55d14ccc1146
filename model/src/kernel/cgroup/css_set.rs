//! css_set reference counting, the css_set hash and `find_css_set` (kernel/cgroup.c:298-647).
//!
//! The file is long because `find_css_set` and its helpers are one unit in cgroup.c (298-648).

use crate::kernel::anchors::kfn;
use crate::kernel::config::HashKind;
use crate::kernel::gfp::GFP_KERNEL;
use crate::kernel::{
    new_css_set, CgroupH, Css, CssH, CssSetH, Kernel, Link, LinkH, CGRP_RELEASABLE,
};
use crate::sim::arena::{load_ptr, store_ptr};
use crate::sim::atomic::AtomicI64;
use crate::sim::cx::Cx;
use crate::sim::lockdep::LockedBy;
use crate::sim::sync::Ordering;
use crate::variants::Fault;

/// `atomic_add_unless(v, a, u)`: adds `a` unless the value is `u`; true if it added. Fully
/// ordered when it adds (a value-returning atomic).
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
    /// `css_set_hash(css[])` (cgroup.c:310-323): the sum of every slot's css "address" (modular
    /// slots included), folded `tmp ^= tmp >> 16`, into one of the configured buckets (the kernel:
    /// `hash_long(tmp, 7)`, 128 buckets). `HashKind::Collide` puts every css_set in bucket 0.
    pub fn css_set_hash(&self, tmpl: &[Option<CssH>]) -> usize {
        // mirrors: css_set_hash (a hash of the template, with no steps)
        match self.cfg.hash {
            HashKind::Collide => 0,
            HashKind::Sum => {
                let mut tmp: usize = tmpl.iter().flatten().map(|h| h.addr()).sum();
                tmp ^= tmp >> 16;
                tmp % self.cfg.buckets
            }
        }
    }

    /// The template of `cg`: its `subsys[]`, read with plain loads (its writers hold
    /// css_set_lock for writing, its readers here hold it, or cgroup_mutex, which excludes them).
    pub fn css_set_template(&self, cg: CssSetH, cx: &Cx) -> Vec<Option<CssH>> {
        let c = self.cset(cg, cx);
        c.subsys.iter().map(load_ptr).collect()
    }

    /// The bucket `css_set_hash(cg->subsys)` of an existing css_set.
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

    /// `get_css_set(cg)` (cgroup.c:380-383): `atomic_inc`; the caller holds a reference or
    /// css_set_lock.
    pub fn get_css_set(&self, cg: CssSetH, cx: &Cx) {
        let _f = cx.enter(&kfn::get_css_set);
        cx.at(382);
        self.cset(cg, cx).refcount.fetch_add(1, Ordering::Relaxed);
    }

    /// `put_css_set(cg)` (cgroup.c:385-388).
    pub fn put_css_set(&self, cg: CssSetH, cx: &Cx) {
        let _f = cx.enter(&kfn::put_css_set);
        cx.at(387);
        self.__put_css_set(cg, false, cx)
    }

    /// `put_css_set_taskexit(cg)` (cgroup.c:390-393).
    pub fn put_css_set_taskexit(&self, cg: CssSetH, cx: &Cx) {
        let _f = cx.enter(&kfn::put_css_set_taskexit);
        cx.at(392);
        self.__put_css_set(cg, true, cx)
    }

    /// `__put_css_set(cg, taskexit)` (cgroup.c:337-375): the fast path decrements unless this is
    /// the last reference (146aa1bd); the last one is dropped under `write_lock(css_set_lock)`,
    /// where the css_set is unhashed and unlinked from every cgroup; a cgroup whose `count` drops
    /// to 0 and that is `notify_on_release` is marked releasable (on a task's exit) and checked
    /// for release; the memory goes by `call_rcu` (c378369d).
    #[allow(non_snake_case)]
    pub fn __put_css_set(&self, cg: CssSetH, taskexit: bool, cx: &Cx) {
        self.put_css_set_free(cg, taskexit, false, cx)
    }

    /// `__put_css_set` with the freeing step chosen: `free_now` frees at once (the fault
    /// `attach-no-synchronize-rcu`) instead of after a grace period.
    /// v2.6.34: `__put_css_set`, kernel/cgroup.c:337-375.
    #[doc(alias = "__put_css_set")]
    pub(crate) fn put_css_set_free(&self, cg: CssSetH, taskexit: bool, free_now: bool, cx: &Cx) {
        let _f = cx.enter(&kfn::__put_css_set);
        let w = if self.fault(Fault::PutUnlockedFinalDec) {
            // Before 146aa1bd: kref_put-style, the final decrement happens without the lock.
            cx.at(346);
            if self.cset(cg, cx).refcount.fetch_sub(1, Ordering::SeqCst) != 1 {
                return;
            }
            cx.at(348);
            self.css_set_lock.write(cx)
        } else {
            cx.at(346);
            if atomic_add_unless(&self.cset(cg, cx).refcount, -1, 1) {
                return;
            }
            cx.at(348);
            let w = self.css_set_lock.write(cx);
            cx.at(349);
            if self.cset(cg, cx).refcount.fetch_sub(1, Ordering::SeqCst) != 1 {
                cx.at(350);
                drop(w);
                return;
            }
            w
        };
        cx.at(355);
        self.hlist_del_css_set(cg, cx);
        cx.at(356);
        self.css_set_count.add(&self.css_set_lock, cx, -1);
        cx.at(358);
        let links = self
            .cset(cg, cx)
            .cg_links
            .with_mut(&self.css_set_lock, cx, std::mem::take);
        for link in links {
            cx.at(360);
            let cgrp = self.link_cgrp(link, cx);
            cx.at(362);
            self.cgrp(cgrp, cx)
                .css_sets
                .with_mut(&self.css_set_lock, cx, |l| {
                    l.retain(|&x| x != link);
                });
            cx.at(363);
            let last = self.cgrp(cgrp, cx).count.fetch_sub(1, Ordering::SeqCst) == 1;
            if last && self.notify_on_release(cgrp, cx) {
                if taskexit {
                    cx.at(366);
                    self.cgrp(cgrp, cx)
                        .flags
                        .fetch_or(CGRP_RELEASABLE, Ordering::Relaxed);
                }
                cx.at(367);
                self.check_for_release(cgrp, cx);
            }
            cx.at(370);
            self.links.kfree(link, cx);
        }
        cx.at(373);
        drop(w);
        if free_now || self.fault(Fault::CssSetFreeNoRcu) {
            self.csets.kfree(cg, cx);
            return;
        }
        cx.at(374);
        self.rcu
            .call_rcu(cx, &kfn::free_css_set_rcu, move |k: &Kernel, cx: &Cx| {
                // frame: free_css_set_rcu
                cx.at(328);
                k.csets.kfree(cg, cx)
            });
    }

    /// `find_existing_css_set(oldcg, cgrp, template)` (cgroup.c:480-520): builds the template
    /// (cgrp's csses for the subsystems of its hierarchy, oldcg's elsewhere: plain loads, "no
    /// need for locking") and looks for an equal css_set in its bucket with `compare_css_sets`.
    /// Caller holds css_set_lock (read) and cgroup_mutex.
    pub fn find_existing_css_set(
        &self,
        oldcg: CssSetH,
        cgrp: CgroupH,
        template: &mut [Option<CssH>],
        cx: &Cx,
    ) -> Option<CssSetH> {
        let _f = cx.enter(&kfn::find_existing_css_set);
        let root = self.cgrp(cgrp, cx).root;
        cx.at(497);
        let bits = self.root(root, cx).subsys_bits.get(&self.cgroup_mutex, cx) as u64;
        for (i, slot) in template.iter_mut().enumerate() {
            *slot = if bits & (1 << i) != 0 {
                cx.at(501);
                load_ptr::<Css>(&self.cgrp(cgrp, cx).subsys[i])
            } else {
                cx.at(505);
                load_ptr::<Css>(&self.cset(oldcg, cx).subsys[i])
            };
        }
        cx.at(509);
        let b = self.css_set_hash(template);
        let bucket = self.css_set_table[b].get(&self.css_set_lock, cx);
        for cg in bucket {
            cx.at(511);
            if self.compare_css_sets(cg, oldcg, cgrp, template, cx) {
                return Some(cg);
            }
        }
        None
    }

    /// `compare_css_sets(cg, old_cg, new_cgrp, template)` (cgroup.c:405-465): the same css
    /// template (`memcmp`), then both link lists walked in lock-step: the end of one must be the
    /// end of the other (`BUG_ON`, 436 and 439), the hierarchies must come in the same order
    /// (`BUG_ON`, 447), and the cgroup in `new_cgrp`'s hierarchy must be `new_cgrp`, every other
    /// one old_cg's; the walk stops at the first difference.
    pub fn compare_css_sets(
        &self,
        cg: CssSetH,
        oldcg: CssSetH,
        new_cgrp: CgroupH,
        template: &[Option<CssH>],
        cx: &Cx,
    ) -> bool {
        let _f = cx.enter(&kfn::compare_css_sets);
        cx.at(412);
        if self.css_set_template(cg, cx) != template {
            return false;
        }
        let l1 = self.cset(cg, cx).cg_links.get(&self.css_set_lock, cx);
        let l2 = self.cset(oldcg, cx).cg_links.get(&self.css_set_lock, cx);
        let new_root = self.cgrp(new_cgrp, cx).root;
        for i in 0.. {
            cx.at(435);
            match (l1.get(i), l2.get(i)) {
                (None, None) => return true,
                (None, Some(_)) => {
                    cx.at(436);
                    self.bug(
                        cx,
                        "BUG_ON(l2 != &old_cg->cg_links)",
                        format!("{cg} has {} links, {oldcg} more", l1.len()),
                    );
                }
                (Some(_), None) => {
                    cx.at(439);
                    self.bug(
                        cx,
                        "BUG_ON(l2 == &old_cg->cg_links)",
                        format!("{oldcg} has {} links, {cg} more", l2.len()),
                    );
                }
                (Some(&a), Some(&b)) => {
                    cx.at(444);
                    let cg1 = self.link_cgrp(a, cx);
                    let cg2 = self.link_cgrp(b, cx);
                    cx.at(447);
                    let r1 = self.cgrp(cg1, cx).root;
                    if r1 != self.cgrp(cg2, cx).root {
                        self.bug(
                            cx,
                            "BUG_ON(cg1->root != cg2->root)",
                            format!("{cg} vs {oldcg}"),
                        );
                    }
                    cx.at(456);
                    if r1 == new_root {
                        if cg1 != new_cgrp {
                            return false;
                        }
                    } else if cg1 != cg2 {
                        return false;
                    }
                }
            }
        }
        unreachable!("the walk ends at the end of a list")
    }

    /// `allocate_cg_links(count, &tmp)` (cgroup.c:538-552): `count` kmallocs; on failure frees
    /// what it got.
    pub fn allocate_cg_links(&self, count: usize, cx: &Cx) -> Option<Vec<LinkH>> {
        self.allocate_cg_links_gfp(count, false, cx)
    }

    /// [`Kernel::allocate_cg_links`]; `nofail` is `__GFP_NOFAIL` (no allocation can fail).
    /// v2.6.34: `allocate_cg_links`, kernel/cgroup.c:538-552.
    #[doc(alias = "allocate_cg_links")]
    pub fn allocate_cg_links_gfp(&self, count: usize, nofail: bool, cx: &Cx) -> Option<Vec<LinkH>> {
        let _f = cx.enter(&kfn::allocate_cg_links);
        let mut v = Vec::with_capacity(count);
        for _ in 0..count {
            cx.at(544);
            if !nofail && !cx.kmalloc_ok(GFP_KERNEL) {
                cx.at(546);
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

    /// `free_cg_links(&tmp)` (cgroup.c:522-531).
    pub fn free_cg_links(&self, links: Vec<LinkH>, cx: &Cx) {
        let _f = cx.enter(&kfn::free_cg_links);
        for l in links {
            cx.at(529);
            self.links.kfree(l, cx);
        }
    }

    /// Unlinks and frees every link on `cgrp->css_sets` (`list_for_each_entry_safe(link,
    /// &cgrp->css_sets, cgrp_link_list)`: `list_del` from both lists, `kfree`), as
    /// `cgroup_kill_sb` does (cgroup.c:1598-1603); `dec_count` also decrements `cgrp->count` for
    /// each (the dummy-unlinked designs). The static `init_css_set_link` is unlinked but not
    /// freed. Caller holds `write_lock(css_set_lock)`.
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

    /// `link_css_set(tmp_cg_links, cg, cgrp)` (cgroup.c:560-577): `BUG_ON(list_empty(tmp))`,
    /// take the first preallocated link, point it at `cg` and `cgrp`, `atomic_inc(&cgrp->count)`,
    /// move it onto `cgrp->css_sets` and add it at the tail of `cg->cg_links` (hierarchy order).
    /// Caller holds css_set_lock for writing. `context` names the caller's counts for the BUG.
    pub fn link_css_set(
        &self,
        tmp: &mut Vec<LinkH>,
        cg: CssSetH,
        cgrp: CgroupH,
        context: &str,
        cx: &Cx,
    ) {
        let _f = cx.enter(&kfn::link_css_set);
        cx.at(566);
        let Some(link) = tmp.pop() else {
            self.bug(
                cx,
                "BUG_ON(list_empty(tmp_cg_links))",
                format!("too few preallocated links{context}"),
            );
        };
        self.link_css_set_one(link, cg, cgrp, cx);
    }

    /// [`Kernel::link_css_set`] for a given link (`init_css_set_link`, and the dummy-unlinked
    /// designs' relinks).
    pub fn link_css_set_one(&self, link: LinkH, cg: CssSetH, cgrp: CgroupH, cx: &Cx) {
        // frame: link_css_set
        {
            let l = self.link(link, cx);
            cx.at(568);
            l.cg.set(&self.css_set_lock, cx, Some(cg));
            cx.at(569);
            l.cgrp.set(&self.css_set_lock, cx, Some(cgrp));
        }
        cx.at(570);
        self.cgrp(cgrp, cx).count.fetch_add(1, Ordering::Relaxed);
        cx.at(571);
        self.cgrp(cgrp, cx)
            .css_sets
            .with_mut(&self.css_set_lock, cx, |l| l.insert(0, link));
        cx.at(576);
        self.cset(cg, cx)
            .cg_links
            .with_mut(&self.css_set_lock, cx, |l| l.push(link));
    }

    /// `find_css_set(oldcg, cgrp)` (cgroup.c:586-647): a referenced css_set equal to `oldcg` but
    /// for `cgrp` in its hierarchy: found under `read_lock(css_set_lock)`, else kmalloc'd, given
    /// `root_count` preallocated links, filled, linked and hashed under the write lock. None
    /// means -ENOMEM. Called with cgroup_mutex held; the caller holds a reference on `oldcg`
    /// (77efecd9).
    pub fn find_css_set(&self, oldcg: CssSetH, cgrp: CgroupH, cx: &Cx) -> Option<CssSetH> {
        let _f = cx.enter(&kfn::find_css_set);
        self.cgroup_mutex.assert_held(cx);
        let mut template = vec![None; self.count()];
        cx.at(599);
        let r = self.css_set_lock.read(cx);
        cx.at(600);
        let res = self.find_existing_css_set(oldcg, cgrp, &mut template, cx);
        if let Some(res) = res {
            cx.at(602);
            self.get_css_set(res, cx);
        }
        // Fault css_set-alloc-under-lock: the allocation before read_unlock.
        let early = (res.is_none() && self.fault(Fault::CssSetAllocUnderLock)).then(|| {
            cx.at(608);
            cx.kmalloc_ok(GFP_KERNEL)
        });
        cx.at(603);
        drop(r);
        if res.is_some() {
            return res;
        }
        cx.at(608);
        if !early.unwrap_or_else(|| cx.kmalloc_ok(GFP_KERNEL)) {
            return None;
        }
        let res = self.csets.alloc(new_css_set(self.count()));
        cx.at(613);
        let root_count = self.root_count.get(&self.cgroup_mutex, cx);
        let no_dummy = self.fault(Fault::NoDummyLink) && self.dummy_active(cx);
        let Some(mut tmp) = self.allocate_cg_links(root_count - no_dummy as usize, cx) else {
            cx.at(614);
            self.csets.kfree(res, cx);
            return None;
        };
        cx.at(625);
        for (i, t) in template.iter().enumerate() {
            store_ptr(&self.cset(res, cx).subsys[i], *t);
        }
        cx.at(627);
        let w = self.css_set_lock.write(cx);
        let old_links = self.cset(oldcg, cx).cg_links.get(&self.css_set_lock, cx);
        let context = format!(
            ": {} (root_count {root_count}) for the {} links of {oldcg}",
            tmp.len(),
            old_links.len()
        );
        let new_root = self.cgrp(cgrp, cx).root;
        for link in old_links {
            cx.at(630);
            let mut c = self.link_cgrp(link, cx);
            if no_dummy && c == self.dummytop {
                continue;
            }
            cx.at(631);
            if self.cgrp(c, cx).root == new_root {
                c = cgrp;
            }
            cx.at(633);
            self.link_css_set(&mut tmp, res, c, &context, cx);
        }
        cx.at(636);
        if !tmp.is_empty() {
            self.bug(
                cx,
                "BUG_ON(!list_empty(&tmp_cg_links))",
                format!("preallocated links left over{context}"),
            );
        }
        cx.at(638);
        self.css_set_count.add(&self.css_set_lock, cx, 1);
        cx.at(641);
        self.hlist_add_css_set(res, cx);
        cx.at(644);
        drop(w);
        Some(res)
    }
}
