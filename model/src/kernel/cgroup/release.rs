//! The release path (kernel/cgroup.c): `notify_on_release`, `check_for_release` and
//! `cgroup_has_css_refs`, called from the last `put_css_set` of a cgroup's css_set, from
//! `__css_put` and from rmdir on the parent. A cgroup that is releasable, empty and without css
//! references goes on `release_list` for the release agent. The agent itself
//! (`cgroup_release_agent`, run by a work item) is not modelled: what the checks hold the
//! kernel to is the path up to the list, which runs with no lock but RCU (or css_set_lock).

use crate::kernel::anchors::kfn;
use crate::kernel::{
    CgroupH, Css, Kernel, Subsys, CGRP_NOTIFY_ON_RELEASE, CGRP_RELEASABLE, CGRP_REMOVED,
};
use crate::sim::arena::load_ptr;
use crate::sim::cx::Cx;
use crate::sim::sync::Ordering;

impl Kernel {
    /// `notify_on_release(cgrp)` (cgroup.c:242-245): `test_bit(CGRP_NOTIFY_ON_RELEASE)`.
    pub fn notify_on_release(&self, cgrp: CgroupH, cx: &Cx) -> bool {
        let _f = cx.enter(&kfn::notify_on_release);
        cx.at(244);
        self.cgrp(cgrp, cx).flags.load(Ordering::Relaxed) & CGRP_NOTIFY_ON_RELEASE != 0
    }

    /// `check_for_release(cgrp)` (cgroup.c:4289-4309). "All of these checks rely on RCU to keep
    /// the cgroup structure alive": releasable (`CGRP_RELEASABLE` and `CGRP_NOTIFY_ON_RELEASE`),
    /// `count` 0, no children (read without cgroup_mutex) and no css references; then, under
    /// `release_list_lock`, queue it unless it is removed or already queued.
    pub fn check_for_release(&self, cgrp: CgroupH, cx: &Cx) {
        let _f = cx.enter(&kfn::check_for_release);
        let c = self.cgrp(cgrp, cx);
        cx.at(4293);
        let bits = CGRP_RELEASABLE | CGRP_NOTIFY_ON_RELEASE;
        if c.flags.load(Ordering::Relaxed) & bits != bits
            || c.count.load(Ordering::Relaxed) != 0
            || !c.children.data_race(|l| l.is_empty())
        {
            return;
        }
        drop(c);
        cx.at(4294);
        if self.cgroup_has_css_refs(cgrp, cx) {
            return;
        }
        cx.at(4299);
        let g = self.release_list_lock.lock(cx);
        let c = self.cgrp(cgrp, cx);
        cx.at(4300);
        let removed = c.flags.load(Ordering::Relaxed) & CGRP_REMOVED != 0;
        if !removed && !c.release_list.get(&self.release_list_lock, cx) {
            cx.at(4302);
            c.release_list.set(&self.release_list_lock, cx, true);
            self.release_list
                .with_mut(&self.release_list_lock, cx, |l| l.insert(0, cgrp));
        }
        drop(c);
        cx.at(4305);
        drop(g);
        // schedule_work(&release_agent_work): the agent is not modelled.
    }

    /// `cgroup_has_css_refs(cgrp)` (cgroup.c:3380-3414): scans every slot of `subsys[]` without
    /// any lock ("the subsystem linked list isn't RCU-safe"): for a subsystem bound to `cgrp`'s
    /// hierarchy, whether its css has references. The slot, `ss->root` and the css are plain
    /// loads; `ss` may be a modular subsystem of another hierarchy whose module is going.
    pub fn cgroup_has_css_refs(&self, cgrp: CgroupH, cx: &Cx) -> bool {
        let _f = cx.enter(&kfn::cgroup_has_css_refs);
        let root = self.cgrp(cgrp, cx).root;
        for i in 0..self.count() {
            cx.at(3398);
            let Some(ss) = load_ptr::<Subsys>(&self.subsys[i]) else {
                continue;
            };
            cx.at(3401);
            let s = self.ss(ss, cx);
            if s.root.data_race(|r| *r) != root {
                continue;
            }
            cx.at(3403);
            let id = s.subsys_id.load(Ordering::Relaxed);
            drop(s);
            let css = load_ptr::<Css>(&self.cgrp(cgrp, cx).subsys[id]);
            cx.at(3410);
            if let Some(css) = css {
                if self.css(css, cx).refcnt.load(Ordering::Relaxed) > 1 {
                    return true;
                }
            }
        }
        false
    }
}
