//! css reference counts and css set-up (kernel/cgroup.c, include/linux/cgroup.h):
//! `init_cgroup_css`, `css_get`, `css_tryget`, `css_put` and `__css_put`,
//! `cgroup_clear_css_refs`; and the pattern of a subsystem's per-task path that takes and drops a
//! css reference (`task_subsys_state` + `css_tryget` under RCU, later `css_put`).
//!
//! The kernel's atomics map onto C11 orderings as the kernel documents them
//! (Documentation/atomic_ops.txt): `atomic_read`/`atomic_set`/`atomic_inc`/`atomic_add`,
//! `test_bit`, `set_bit`, `clear_bit` are relaxed; value-returning ones (`atomic_sub_return`,
//! `atomic_cmpxchg`, `atomic_inc_not_zero`, `test_and_clear_bit`) are fully ordered (SeqCst).

use crate::kernel::anchors::kfn;
use crate::kernel::blk_cgroup::BLKIO_ROOT_WEIGHT;
use crate::kernel::builtin::{NICE_0_LOAD, TOP_CPUSET_FLAGS};
use crate::kernel::errno::Errno;
use crate::kernel::{
    Cgroup, CgroupH, Css, CssH, CssSet, Kernel, SubsysOps, TaskH, BUILTIN, CGRP_RELEASABLE,
    CGRP_WAIT_ON_RMDIR, CSS_REMOVED, CSS_ROOT,
};
use crate::sim::arena::{load_ptr, store_ptr};
use crate::sim::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicUsize};
use crate::sim::cx::Cx;
use crate::sim::rcu::{check_protected, rcu_dereference_raw, DerefSite, Protection};
use crate::sim::sync::Ordering;
use crate::variants::Fix;

/// `task_subsys_state`'s `rcu_dereference_check` (include/linux/cgroup.h:531-534). The design
/// `fixed`'s `rcu_dereference` of `task->cgroups` is checked with it: the two loads are one
/// dereference of the caller's.
pub(crate) const TASK_SUBSYS_STATE: DerefSite = DerefSite {
    at: "include/linux/cgroup.h:531",
    text: "task->cgroups->subsys[subsys_id], rcu_read_lock_held() || lockdep_is_held(&task->alloc_lock) || cgroup_lock_is_held()",
};

impl Kernel {
    /// Allocates a css of subsystem `ss` (the subsystem's `create` callback's kzalloc), or sets
    /// up static state (`is_static`: `blkio_root_cgroup`, `top_cpuset`), which is never kfreed
    /// by `destroy`.
    #[doc(alias = "kzalloc")]
    pub fn alloc_css(&self, ss: &'static SubsysOps, is_static: bool, _cx: &Cx) -> CssH {
        self.csses.alloc(Css {
            ss,
            cgroup: AtomicUsize::named(0, "css.cgroup:cgroup"),
            refcnt: AtomicI64::named(0, "css.refcnt"),
            flags: AtomicU32::named(0, "css.flags"),
            classid: AtomicU32::named(0, "cls.classid"),
            // The subsystems' own fields start as their static roots' (top_cpuset,
            // init_task_group, blkio_root_cgroup); a create stores a child's.
            cs_flags: AtomicU32::named(TOP_CPUSET_FLAGS, "cpuset.flags"),
            shares: AtomicU64::named(NICE_0_LOAD, "task_group.shares"),
            weight: AtomicU32::named(BLKIO_ROOT_WEIGHT, "blkio_cgroup.weight"),
            spin: crate::sim::spin::SpinWait::new(),
            is_static,
        })
    }

    /// `init_cgroup_css(css, ss, cgrp)` (cgroup.c:3229-3241), plain stores throughout:
    /// `css->cgroup = cgrp`, refcnt 1, flags 0, `CSS_ROOT` on dummytop only, then
    /// `BUG_ON(cgrp->subsys[id])` and `cgrp->subsys[id] = css`.
    pub fn init_cgroup_css(&self, css: CssH, id: usize, cgrp: CgroupH, cx: &Cx) {
        let _f = cx.enter(&kfn::init_cgroup_css);
        let c = self.css(css, cx);
        cx.at(3233);
        store_ptr(&c.cgroup, Some(cgrp));
        cx.at(3234);
        c.refcnt.store(1, Ordering::Relaxed);
        cx.at(3235);
        c.flags.store(0, Ordering::Relaxed);
        if cgrp == self.dummytop {
            cx.at(3238);
            c.flags.fetch_or(CSS_ROOT, Ordering::Relaxed);
        }
        let g = self.cgrp(cgrp, cx);
        cx.at(3239);
        if load_ptr::<Css>(&g.subsys[id]).is_some() {
            self.bug(
                cx,
                "BUG_ON(cgrp->subsys[ss->subsys_id])",
                "css slot already set",
            );
        }
        cx.at(3240);
        store_ptr(&g.subsys[id], Some(css));
        let ssname = c.ss.name;
        drop(c);
        let where_ = if cgrp == self.dummytop {
            "dummytop".to_string()
        } else {
            self.cgroups.label(cgrp)
        };
        self.csses
            .set_label(css, format!("css of {ssname} on {where_}"));
    }

    /// `css_get(css)` (include/linux/cgroup.h:100-105): `atomic_add` unless `CSS_ROOT`.
    pub fn css_get(&self, css: CssH, cx: &Cx) {
        let _f = cx.enter(&kfn::css_get);
        let c = self.css(css, cx);
        cx.at(103);
        if c.flags.load(Ordering::Relaxed) & CSS_ROOT == 0 {
            cx.at(104);
            c.refcnt.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `css_tryget(css)` (include/linux/cgroup.h:118-128): `atomic_inc_not_zero`, failing once
    /// `CSS_REMOVED`; while rmdir holds the count at 0 the kernel spins (`cpu_relax`), here it
    /// blocks until rmdir's window closes and looks again ([`crate::sim::spin`]: every spin
    /// after the first reads what the first read).
    pub fn css_tryget(&self, css: CssH, cx: &Cx) -> bool {
        let _f = cx.enter(&kfn::css_tryget);
        let c = self.css(css, cx);
        cx.at(120);
        if c.flags.load(Ordering::Relaxed) & CSS_ROOT != 0 {
            return true;
        }
        loop {
            cx.at(122);
            let v = c.refcnt.load(Ordering::Relaxed);
            if v != 0 {
                if c.refcnt
                    .compare_exchange(v, v + 1, Ordering::SeqCst, Ordering::Relaxed)
                    .is_ok()
                {
                    return true;
                }
                continue;
            }
            cx.at(123);
            if c.flags.load(Ordering::Relaxed) & CSS_REMOVED != 0 {
                return false;
            }
            cx.at(125);
            c.spin.spin();
        }
    }

    /// `css_put(css)` (include/linux/cgroup.h:136-140): `__css_put(css, 1)` unless `CSS_ROOT`.
    pub fn css_put(&self, css: CssH, cx: &Cx) {
        let _f = cx.enter(&kfn::css_put);
        cx.at(138);
        if self.css(css, cx).flags.load(Ordering::Relaxed) & CSS_ROOT == 0 {
            cx.at(139);
            self.__css_put(css, cx);
        }
    }

    /// `__css_put(css, 1)` (cgroup.c:4312-4327): read `css->cgroup` first; under
    /// `rcu_read_lock`, `atomic_sub_return`; back at 1, a `notify_on_release` cgroup is marked
    /// releasable and checked for release, and an rmdir waiter is woken; an underflow is the
    /// kernel's `WARN_ON_ONCE`.
    #[allow(non_snake_case)]
    pub fn __css_put(&self, css: CssH, cx: &Cx) {
        let _f = cx.enter(&kfn::__css_put);
        let c = self.css(css, cx);
        cx.at(4314);
        let cgrp = load_ptr::<Cgroup>(&c.cgroup);
        cx.at(4316);
        let rcu = self.rcu.read_lock(cx);
        cx.at(4317);
        let val = c.refcnt.fetch_sub(1, Ordering::SeqCst) - 1;
        drop(c);
        if val == 1 {
            let Some(cgrp) = cgrp else {
                self.bug(
                    cx,
                    "NULL-dereference",
                    format!("__css_put: {css} has no cgroup"),
                );
            };
            cx.at(4319);
            if self.notify_on_release(cgrp, cx) {
                cx.at(4320);
                self.cgrp(cgrp, cx)
                    .flags
                    .fetch_or(CGRP_RELEASABLE, Ordering::Relaxed);
                cx.at(4321);
                self.check_for_release(cgrp, cx);
            }
            cx.at(4323);
            self.cgroup_wakeup_rmdir_waiter(cgrp, cx);
        }
        cx.at(4325);
        drop(rcu);
        if val < 1 {
            cx.at(4326);
            self.bug(
                cx,
                "WARN_ON_ONCE(val < 1)",
                format!("css_put underflow on {css}"),
            );
        }
    }

    /// `cgroup_wakeup_rmdir_waiter(cgrp)` (cgroup.c:916-920): `test_and_clear_bit
    /// (CGRP_WAIT_ON_RMDIR)`; the wake-up itself is not modelled (rmdir does not sleep in the
    /// model, see `cgroup_rmdir`).
    pub fn cgroup_wakeup_rmdir_waiter(&self, cgrp: CgroupH, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_wakeup_rmdir_waiter);
        cx.at(918);
        self.cgrp(cgrp, cx)
            .flags
            .fetch_and(!CGRP_WAIT_ON_RMDIR, Ordering::SeqCst);
    }

    /// A built-in subsystem's per-task path pins `task`'s css for `ss_name`: under
    /// `rcu_read_lock`, `task_subsys_state(task, id)` (include/linux/cgroup.h:528-535) then
    /// `css_tryget` (-ENODEV if the css is already `CSS_REMOVED`). The holder is remembered out of
    /// band for [`Kernel::css_put_task`].
    #[doc(alias = "css_tryget")]
    pub fn css_get_task(&self, task: TaskH, ss_name: &str, cx: &Cx) -> Result<(), Errno> {
        let id = BUILTIN
            .iter()
            .position(|o| o.name == ss_name)
            .ok_or(Errno::EINVAL)?;
        if id >= self.builtin() {
            return Err(Errno::EINVAL);
        }
        let rcu = self.rcu.read_lock(cx);
        let css = self.task_subsys_state(task, id, cx);
        let ok = self.css_tryget(css, cx);
        drop(rcu);
        if !ok {
            return Err(Errno::ENODEV);
        }
        self.css_pins.lock().unwrap().push((task, css));
        Ok(())
    }

    /// `task_subsys_state(task, id)` (include/linux/cgroup.h:528-535):
    /// `rcu_dereference_check(task->cgroups->subsys[id], ...)`, in which the load of
    /// `task->cgroups` is plain (the design `fixed` loads it with `rcu_dereference`, as 3.x's
    /// `task_css_set` does). PROVE_RCU checks its condition first
    /// ([`Kernel::task_subsys_state_check`]). A NULL css is reported as the kernel's NULL
    /// dereference.
    pub fn task_subsys_state(&self, task: TaskH, id: usize, cx: &Cx) -> CssH {
        let _f = cx.enter(&kfn::task_subsys_state);
        cx.at(531);
        self.task_subsys_state_check(task, cx);
        let cg = self.task_cgroups(task, cx);
        let css = rcu_dereference_raw::<Css>(&self.cset(cg, cx).subsys[id]);
        match css {
            Some(c) => c,
            None => self.bug(
                cx,
                "NULL-dereference",
                format!("task_subsys_state: {cg} has no css in slot {id}"),
            ),
        }
    }

    /// PROVE_RCU's check of `task_subsys_state`'s condition (include/linux/cgroup.h:531-534):
    /// `rcu_read_lock_held() || lockdep_is_held(&task->alloc_lock) || cgroup_lock_is_held()`.
    pub fn task_subsys_state_check(&self, task: TaskH, cx: &Cx) {
        // Out of band: lockdep's question is no step of the kernel's (task_structs are never
        // freed in the model).
        let t = self.tasks.peek(task);
        check_protected(
            cx,
            &TASK_SUBSYS_STATE,
            &[
                Protection::ReadLock,
                Protection::Held(&t.alloc_lock),
                Protection::Held(&self.cgroup_mutex),
            ],
        );
    }

    /// `task->cgroups` read by an RCU reader: a plain load in v2.6.34 (`task_subsys_state`,
    /// `task_cls_state`), `rcu_dereference` with [`Fix::RcuDereferenceCgroups`].
    pub fn task_cgroups(&self, task: TaskH, cx: &Cx) -> crate::kernel::CssSetH {
        let t = self.task(task, cx);
        let cg = if self.has(Fix::RcuDereferenceCgroups) {
            rcu_dereference_raw::<CssSet>(&t.cgroups)
        } else {
            load_ptr::<CssSet>(&t.cgroups)
        };
        match cg {
            Some(cg) => cg,
            None => self.bug(cx, "NULL-dereference", format!("{} has no css_set", t.name)),
        }
    }

    /// Drops the oldest pin `task` holds on a css of `ss_name` with `css_put` (-ENOENT if none).
    pub fn css_put_task(&self, task: TaskH, ss_name: &str, cx: &Cx) -> Result<(), Errno> {
        let pin = {
            let mut pins = self.css_pins.lock().unwrap();
            let p = pins
                .iter()
                .position(|&(t, c)| t == task && self.csses.peek(c).ss.name == ss_name);
            p.map(|p| pins.remove(p).1)
        };
        let css = pin.ok_or(Errno::ENOENT)?;
        self.css_put(css, cx);
        Ok(())
    }

    /// `cgroup_clear_css_refs(cgrp)` (cgroup.c:3422-3467), cgroup_mutex held: move every bound
    /// css's refcnt from 1 to 0 (failing if any is above 1; `BUG_ON(!refcnt)`), then either
    /// restore the ones cleared or set `CSS_REMOVED` on all.
    pub fn cgroup_clear_css_refs(&self, cgrp: CgroupH, cx: &Cx) -> bool {
        let _f = cx.enter(&kfn::cgroup_clear_css_refs);
        let root = self.cgrp(cgrp, cx).root;
        let sss = self.root(root, cx).subsys_list.get(&self.cgroup_mutex, cx);
        let css_of = |ss| {
            let id = self.ss(ss, cx).subsys_id.load(Ordering::Relaxed);
            match load_ptr::<Css>(&self.cgrp(cgrp, cx).subsys[id]) {
                Some(c) => c,
                None => self.bug(
                    cx,
                    "NULL-dereference",
                    format!("cgroup_clear_css_refs: {cgrp} has no css in slot {id}"),
                ),
            }
        };
        let mut failed = false;
        'outer: for &ss in &sss {
            cx.at(3429);
            let css = css_of(ss);
            loop {
                cx.at(3433);
                let c = self.css(css, cx);
                // The window css_tryget spins in ([`crate::sim::spin`]), from before the
                // count goes to 0 to after it is restored or the css is marked removed.
                c.spin.open();
                let r = c.refcnt.load(Ordering::Relaxed);
                drop(c);
                if r > 1 {
                    failed = true;
                    break 'outer;
                }
                if r == 0 {
                    cx.at(3438);
                    self.bug(
                        cx,
                        "BUG_ON(!refcnt)",
                        format!("{css} refcnt 0 in clear_css_refs"),
                    );
                }
                cx.at(3445);
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
        for &ss in &sss {
            cx.at(3452);
            let css = css_of(ss);
            let c = self.css(css, cx);
            if failed {
                cx.at(3458);
                if c.refcnt.load(Ordering::Relaxed) == 0 {
                    cx.at(3459);
                    c.refcnt.store(1, Ordering::Relaxed);
                }
            } else {
                cx.at(3462);
                c.flags.fetch_or(CSS_REMOVED, Ordering::Relaxed);
            }
            c.spin.close();
        }
        !failed
    }
}
