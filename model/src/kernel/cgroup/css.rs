//! css reference counts and css set-up: `init_cgroup_css`, `css_get`, `css_tryget`,
//! `css_put` (`__css_put`) and `cgroup_clear_css_refs` (kernel/cgroup.c, include/linux/cgroup.h).

use crate::kernel::errno::Errno;
use crate::kernel::{
    Cgroup, CgroupH, Css, CssH, CssSet, Kernel, SubsysOps, TaskH, BUILTIN, CGRP_WAIT_ON_RMDIR,
    CSS_REMOVED, CSS_ROOT,
};
use crate::sim::atomic::{AtomicI64, AtomicU32, AtomicUsize};
use crate::sim::cx::Cx;
use crate::sim::rcu::{rcu_assign_pointer, rcu_dereference};
use crate::sim::sync::{self, Ordering};

impl Kernel {
    /// Allocates a css of subsystem `ss` (the subsystem's `create` callback's kzalloc).
    #[doc(alias = "kzalloc")]
    pub fn alloc_css(&self, ss: &'static SubsysOps, _cx: &Cx) -> CssH {
        self.csses.alloc(Css {
            ss,
            cgroup: AtomicUsize::named(0, "css.cgroup:cgroup"),
            refcnt: AtomicI64::named(1, "css.refcnt"),
            flags: AtomicU32::named(0, "css.flags"),
            classid: AtomicU32::named(0, "cls.classid"),
        })
    }

    /// `init_cgroup_css(css, ss, cgrp)`: css.cgroup = cgrp, refcnt = 1, `CSS_ROOT` on dummytop (and
    /// hierarchy tops), then `cgrp.subsys[id] = css` (BUG if already set).
    pub fn init_cgroup_css(&self, css: CssH, id: usize, cgrp: CgroupH, cx: &Cx) {
        let _f = cx.enter("init_cgroup_css");
        let c = self.css(css, cx);
        rcu_assign_pointer(&c.cgroup, Some(cgrp));
        c.refcnt.store(1, Ordering::Relaxed);
        let is_top = self.cgrp(cgrp, cx).parent.is_none();
        c.flags
            .store(if is_top { CSS_ROOT } else { 0 }, Ordering::Relaxed);
        let g = self.cgrp(cgrp, cx);
        if rcu_dereference::<Css>(&g.subsys[id]).is_some() {
            self.bug(
                cx,
                "BUG_ON(cgrp->subsys[ss->subsys_id])",
                "css slot already set",
            );
        }
        rcu_assign_pointer(&g.subsys[id], Some(css));
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
            sync::yield_now();
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
                let cg = rcu_dereference::<Cgroup>(&c.cgroup).expect("css cgroup");
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
    #[doc(alias = "task_subsys_state")]
    #[doc(alias = "css_tryget")]
    pub fn css_get_task(&self, task: TaskH, ss_name: &str, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("task_subsys_state+css_tryget");
        let id = BUILTIN
            .iter()
            .position(|o| o.name == ss_name)
            .ok_or(Errno::EINVAL)?;
        if id >= self.builtin() {
            return Err(Errno::EINVAL);
        }
        let rcu = self.rcu.read_lock(cx);
        let cg = rcu_dereference::<CssSet>(&self.task(task, cx).cgroups).expect("task cgroups");
        let css =
            rcu_dereference::<Css>(&self.cset(cg, cx).subsys[id]).expect("built-in css present");
        let ok = self.css_tryget(css, cx);
        drop(rcu);
        if !ok {
            return Err(Errno::ENODEV);
        }
        self.css_pins.lock().unwrap().push((task, css));
        Ok(())
    }

    /// Drops the oldest pin `task` holds on a css of `ss_name` with `css_put` (-ENOENT if none).
    #[doc(alias = "css_put")]
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
                rcu_dereference(&self.cgrp(cgrp, cx).subsys[id]).expect("bound css")
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
}
