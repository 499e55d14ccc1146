//! The design variants `dummy-unlinked` and `dummy-unlinked-no-special-cases`: the cover letter's
//! open question, modelled as a fix no kernel ever merged.
//!
//! In v2.6.34 every css_set keeps a link to dummytop for its whole life, even when every
//! subsystem is bound to a mounted hierarchy and nothing is left on the dummy one; the cover
//! letter notes it, and `cgroup_unload_subsys` relies on it (it walks `dummytop->css_sets`). The
//! variants link css_sets to dummytop only while the dummy hierarchy is *active*, that is while
//! `rootnode.subsys_list` is non-empty, and count it in `root_count` only then (so that
//! `find_css_set` allocates one link per linked hierarchy). `rebind_subsystems` keeps that
//! ([`Fix::DummyUnlinked`]); the special cases of load and unload are
//! [`Fix::DummySpecialCases`]. docs/design-review.md has the answer the checks give.
//!
//! Constraints the variant has to respect, and how the model meets them:
//! - links are allocated with GFP_KERNEL, so before `write_lock(css_set_lock)`: their number,
//!   `css_set_count`, is read under cgroup_mutex only (only cgroup_mutex holders create css_sets,
//!   and a css_set freed meanwhile leaves a link over, which is freed);
//! - `init_css_set_link` is static: it is unlinked but never kfreed, and relinks `init_css_set`;
//! - `cgroup_kill_sb` cannot fail, so its relink allocates with `__GFP_NOFAIL`;
//! - relinked css_sets get their dummytop link at the tail of `cg_links`, all at once, so every
//!   css_set keeps the same hierarchy order (what `compare_css_sets` walks in lock-step).

use crate::kernel::anchors::kfn;
use crate::kernel::{Kernel, LinkH};
use crate::sim::cx::Cx;
use crate::variants::Fix;

impl Kernel {
    /// Whether css_sets are (to be) linked to dummytop: always in v2.6.34; with
    /// [`Fix::DummyUnlinked`], while `rootnode.subsys_list` is non-empty. cgroup_mutex held.
    pub fn dummy_active(&self, cx: &Cx) -> bool {
        !self.has(Fix::DummyUnlinked)
            || !self
                .root(self.rootnode, cx)
                .subsys_list
                .get(&self.cgroup_mutex, cx)
                .is_empty()
    }

    /// The links [`Kernel::dummy_link_all`] needs: one per hashed css_set but `init_css_set`
    /// (`css_set_count - 1`, read under cgroup_mutex without css_set_lock, as `cgroup_get_sb`
    /// does). None means -ENOMEM; `nofail` (`__GFP_NOFAIL`, for `cgroup_kill_sb`) never fails.
    pub fn dummy_prealloc(&self, nofail: bool, cx: &Cx) -> Option<Vec<LinkH>> {
        let n = (self.css_set_count.data_race() as usize).saturating_sub(1);
        self.allocate_cg_links_gfp(n, nofail, cx)
    }

    /// The dummy hierarchy becomes active: `root_count++` and every hashed css_set is linked to
    /// dummytop (`init_css_set` through the static `init_css_set_link`), at the tail of its
    /// `cg_links`. Caller holds cgroup_mutex and `write_lock(css_set_lock)`; returns the links
    /// left over (css_sets freed since the allocation), to be freed after the unlock.
    pub fn dummy_link_all(&self, mut tmp: Vec<LinkH>, cx: &Cx) -> Vec<LinkH> {
        let _f = cx.enter_inserted("link_dummytop");
        self.root_count
            .with_mut(&self.cgroup_mutex, cx, |c| *c += 1);
        for b in &self.css_set_table {
            for cg in b.get(&self.css_set_lock, cx) {
                let link = if cg == self.init_css_set {
                    self.init_css_set_link
                } else {
                    match tmp.pop() {
                        Some(l) => l,
                        None => self.bug(
                            cx,
                            "BUG_ON(list_empty(tmp_cg_links))",
                            "css_set_count too small for the dummytop relink",
                        ),
                    }
                };
                let _l = cx.enter(&kfn::link_css_set);
                self.link_css_set_one(link, cg, self.dummytop, cx);
            }
        }
        tmp
    }

    /// The dummy hierarchy becomes inactive: `root_count--` and every link on
    /// `dummytop->css_sets` is unlinked from both lists (`init_css_set_link` is static: not
    /// freed). Caller holds cgroup_mutex and `write_lock(css_set_lock)`.
    pub fn dummy_unlink_all(&self, cx: &Cx) {
        let _f = cx.enter_inserted("unlink_dummytop");
        self.root_count
            .with_mut(&self.cgroup_mutex, cx, |c| *c -= 1);
        self.unlink_cgroup_css_sets(self.dummytop, true, cx);
    }
}
