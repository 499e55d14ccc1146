//! Tasks and cgroups: `task_cgroup_from_root`, `cgroup_attach_task`, `attach_task_by_pid`,
//! `cgroup_tasks_write` (kernel/cgroup.c:653-1836), fork and exit (cgroup.c:4006-4143,
//! kernel/fork.c `copy_process`, kernel/exit.c `do_exit`), and the pid hash
//! (kernel/pid.c `attach_pid`, `find_task_by_vpid`). The file is long because these are one
//! unit: each moves a task between css_sets under the same locks, and fork and exit are the
//! other half of attach's `PF_EXITING` and pin protocol.

use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::gfp::GFP_KERNEL;
use crate::kernel::{
    CgroupH, CssSet, CssSetH, Kernel, RootH, Task, TaskH, CGRP_RELEASABLE, PF_EXITING, PID_MAX,
};
use crate::sim::arena::{load_ptr, store_ptr, Handle};
use crate::sim::cx::Cx;
use crate::sim::lockdep::Lockdep;
use crate::sim::rcu::{
    rcu_assign_pointer, rcu_dereference_check, rcu_dereference_raw, DerefSite, Protection,
};
use crate::sim::report::{Violation, ViolationKind};
use crate::sim::sync::Ordering;
use crate::variants::{Fault, Fix};

/// `pid_task`'s `rcu_dereference_check` (kernel/pid.c:370-372).
const PID_TASK: DerefSite = DerefSite {
    at: "kernel/pid.c:370",
    text: "pid->tasks[type].first, rcu_read_lock_held() || lockdep_tasklist_lock_is_held()",
};

impl Kernel {
    /// Sets or clears `tsk->cg_list` membership of `cg->tasks`; css_set_lock held for writing.
    #[doc(alias = "list_del_init")]
    #[doc(alias = "list_add")]
    fn cg_list_set(&self, tsk: TaskH, cg: Option<CssSetH>, cx: &Cx) {
        if cx.lockdep && !self.css_set_lock.held_write(cx) {
            self.sink.fail(Violation::new(
                ViolationKind::LockNotHeld,
                "lockdep",
                format!(
                    "css_set_lock not held for writing (task cg_list) at {}",
                    cx.whereabouts()
                ),
            ));
        }
        let t = self.task(tsk, cx);
        if let Some(old) = load_ptr::<CssSet>(&t.cg_list) {
            self.cset(old, cx)
                .tasks
                .with_mut(&self.css_set_lock, cx, |l| l.retain(|&x| x != tsk));
        }
        if let Some(new) = cg {
            self.cset(new, cx)
                .tasks
                .with_mut(&self.css_set_lock, cx, |l| l.insert(0, tsk));
        }
        store_ptr(&t.cg_list, cg);
    }

    /// `list_empty(&tsk->cg_list)`: a plain read (`cgroup_exit` makes it without the lock first).
    #[doc(alias = "list_empty")]
    fn cg_list_empty(&self, tsk: TaskH, cx: &Cx) -> bool {
        load_ptr::<CssSet>(&self.task(tsk, cx).cg_list).is_none()
    }

    /// `find_task_by_vpid(pid)` (kernel/pid.c:388-391), under `rcu_read_lock`: the task the pid
    /// hash holds for `pid` (published by `attach_pid` with `hlist_add_head_rcu`), loaded by
    /// `pid_task`'s `rcu_dereference_check` (pid.c:370-372; deviation: the model's pid hash is
    /// one slot per pid, so `find_pid_ns`'s walk and `pid_task` are one load).
    pub fn find_task_by_vpid(&self, pid: usize, cx: &Cx) -> Option<TaskH> {
        let _f = cx.enter(&kfn::find_task_by_vpid);
        cx.at(390);
        self.pid_hash.get(pid).and_then(|p| {
            let cond = [Protection::ReadLock, Protection::Held(&self.tasklist_lock)];
            rcu_dereference_check::<Task>(cx, p, &PID_TASK, &cond)
        })
    }

    /// `get_current()` (arch/x86/include/asm/current.h:12-15): the task a model thread runs as,
    /// the one its step names. A task runs only once its fork has woken it (`wake_up_new_task`,
    /// after `attach_pid`), which orders its first step after its creation; the model takes that
    /// edge from the pid hash slot the fork published (deviation: the kernel reads a per-CPU
    /// pointer, the model an acquire load of the pid hash, which is where the model's threads
    /// learn their task). T0 (the idle task) is not in the hash; it is `init_task`.
    #[doc(alias = "get_current")]
    pub fn current_task(&self, pid: usize, cx: &Cx) -> Option<TaskH> {
        let _f = cx.enter(&kfn::get_current);
        cx.at(14);
        if pid == 0 {
            return Some(self.init_task());
        }
        self.pid_hash.get(pid).and_then(rcu_dereference_raw::<Task>)
    }

    /// `fork` by `parent` of task `T<child>`: `copy_process` (kernel/fork.c:954-1324):
    /// `dup_task_struct` (kmalloc #1), `cgroup_fork`, a later allocation (kmalloc #2; its failure
    /// is `bad_fork_cleanup_cgroup` with `cgroup_callbacks_done = 0`, -ENOMEM),
    /// `cgroup_fork_callbacks`, then, under `write_lock_irq(&tasklist_lock)`, `attach_pid` (the
    /// child becomes findable), and `cgroup_post_fork`. The calling thread runs as `parent`.
    #[doc(alias = "copy_process")]
    pub fn do_fork(&self, parent: TaskH, child: usize, cx: &Cx) -> Result<TaskH, Errno> {
        let _f = cx.enter(&kfn::copy_process);
        if child == 0 || child >= PID_MAX || load_ptr::<Task>(&self.pid_hash[child]).is_some() {
            // The scenario names the child's pid; one in use is its mistake, not the kernel's.
            return Err(Errno::EEXIST);
        }
        cx.at(999);
        if !cx.kmalloc_ok(GFP_KERNEL) {
            return Err(Errno::ENOMEM);
        }
        // dup_task_struct copies the parent's pointer; cgroup_fork overwrites it and takes the ref.
        let cg0 = load_ptr::<CssSet>(&self.task(parent, cx).cgroups).expect("cgroups");
        let p = self.tasks.alloc(Task::new(child, cg0));
        self.tasks.set_label(
            p,
            format!("T{child}, child of {}", self.task(parent, cx).name),
        );
        cx.at(1072);
        self.cgroup_fork(parent, p, cx);
        cx.at(1149);
        if !cx.kmalloc_ok(GFP_KERNEL) {
            // An allocation between cgroup_fork and the callbacks (alloc_pid, copy_files, ...):
            // bad_fork_cleanup_cgroup with cgroup_callbacks_done = 0.
            cx.at(1314);
            self.cgroup_exit(p, false, cx);
            return Err(Errno::ENOMEM);
        }
        cx.at(1216);
        self.cgroup_fork_callbacks(p, cx);
        cx.at(1220);
        let w = self.tasklist_lock.write(cx);
        {
            let _a = cx.enter(&kfn::attach_pid);
            cx.at(322);
            rcu_assign_pointer(&self.pid_hash[child], Some(p));
        }
        cx.at(1277);
        drop(w);
        cx.at(1280);
        self.cgroup_post_fork(p, cx);
        Ok(p)
    }

    /// `cgroup_fork(child)` (cgroup.c:4018-4025): under `task_lock(current)`, the child points
    /// at the parent's css_set and takes a reference on it. No cgroup_mutex.
    pub fn cgroup_fork(&self, parent: TaskH, child: TaskH, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_fork);
        let pt = self.task(parent, cx);
        cx.at(4020);
        let g = pt.alloc_lock.lock(cx);
        cx.at(4021);
        let cg = load_ptr::<CssSet>(&pt.cgroups).expect("cgroups");
        store_ptr(&self.task(child, cx).cgroups, Some(cg));
        if self.fault(Fault::ForkRefAfterUnlock) {
            cx.at(4023);
            drop(g);
            cx.at(4022);
            self.get_css_set(cg, cx);
        } else {
            cx.at(4022);
            self.get_css_set(cg, cx);
            cx.at(4023);
            drop(g);
        }
        drop(pt);
        cx.at(4024);
        store_ptr::<CssSet>(&self.task(child, cx).cg_list, None); // INIT_LIST_HEAD
    }

    /// `cgroup_fork_callbacks(child)` (cgroup.c:4035-4050): only built-in subsystems may have
    /// `fork` callbacks (a module with one is refused at load), so this reads
    /// `subsys[0..BUILTIN)` without a lock. None of the modelled built-ins has one
    /// (`need_forkexit_callback` is 0), so nothing is read.
    pub fn cgroup_fork_callbacks(&self, _child: TaskH, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_fork_callbacks);
    }

    /// `cgroup_post_fork(child)` (cgroup.c:4061-4071): links the child onto its css_set's task
    /// list (write css_set_lock, then task_lock(child)) if `use_task_css_set_links`.
    pub fn cgroup_post_fork(&self, child: TaskH, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_post_fork);
        if !self.use_task_links {
            return;
        }
        let early = self
            .fault(Fault::PostForkEarlyRead)
            .then(|| load_ptr::<CssSet>(&self.task(child, cx).cgroups));
        cx.at(4064);
        let w = self.css_set_lock.write(cx);
        let t = self.task(child, cx);
        cx.at(4065);
        let g = t.alloc_lock.lock(cx);
        cx.at(4066);
        if self.cg_list_empty(child, cx) {
            cx.at(4067);
            let cg = early.unwrap_or_else(|| load_ptr(&t.cgroups));
            self.cg_list_set(child, cg, cx);
        }
        cx.at(4068);
        drop(g);
        drop(t);
        cx.at(4069);
        drop(w);
    }

    /// `do_exit` of `tsk` as far as cgroups go (kernel/exit.c:900-1041): `exit_signals` sets
    /// `PF_EXITING` (941; a plain `tsk->flags |= PF_EXITING` for a single-threaded process),
    /// then `cgroup_exit(tsk, 1)` (985).
    pub fn do_exit(&self, tsk: TaskH, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::do_exit);
        let t = self.task(tsk, cx);
        cx.at(922);
        if t.flags.load(Ordering::Relaxed) & PF_EXITING != 0 {
            // "Fixing recursive fault": the scenario exits a task twice.
            return Err(Errno::ESRCH);
        }
        cx.at(941);
        t.flags.fetch_or(PF_EXITING, Ordering::Relaxed);
        drop(t);
        cx.at(985);
        self.cgroup_exit(tsk, true, cx);
        Ok(())
    }

    /// `cgroup_exit(tsk, run_callbacks)` (cgroup.c:4107-4143): unlink from the css_set task list
    /// (optimistic `list_empty`, rechecked under the write lock), then under `task_lock` point
    /// the task at `init_css_set` *without* taking a reference ("the_top_cgroup_hack"), then drop
    /// the old css_set with `put_css_set_taskexit`. No cgroup_mutex. No modelled built-in has an
    /// exit callback.
    pub fn cgroup_exit(&self, tsk: TaskH, _run_callbacks: bool, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_exit);
        cx.at(4129);
        if !self.cg_list_empty(tsk, cx) {
            cx.at(4130);
            let w = self.css_set_lock.write(cx);
            cx.at(4131);
            if !self.cg_list_empty(tsk, cx) {
                cx.at(4132);
                self.cg_list_set(tsk, None, cx);
            }
            cx.at(4133);
            drop(w);
        }
        let t = self.task(tsk, cx);
        cx.at(4137);
        let g = t.alloc_lock.lock(cx);
        cx.at(4138);
        let cg = load_ptr::<CssSet>(&t.cgroups);
        cx.at(4139);
        store_ptr(&t.cgroups, Some(self.init_css_set));
        self.exited.lock().unwrap().push(tsk);
        cx.at(4140);
        drop(g);
        drop(t);
        if let Some(cg) = cg {
            cx.at(4142);
            self.put_css_set_taskexit(cg, cx);
        }
    }

    /// `task_cgroup_from_root(tsk, root)` (cgroup.c:653-682): `BUG_ON(!mutex_is_locked(
    /// &cgroup_mutex))`, then under `read_lock(css_set_lock)` the task's cgroup in `root` (the
    /// top cgroup for a task on `init_css_set`). No task_lock: cgroup_mutex keeps the task from
    /// changing groups; only exit can move it, to init_css_set.
    pub fn task_cgroup_from_root(&self, tsk: TaskH, root: RootH, cx: &Cx) -> CgroupH {
        let _f = cx.enter(&kfn::task_cgroup_from_root);
        cx.at(659);
        if !self.cgroup_mutex.is_locked() {
            self.bug(
                cx,
                "BUG_ON(!mutex_is_locked(&cgroup_mutex))",
                "task_cgroup_from_root without cgroup_mutex",
            );
        }
        cx.at(660);
        let r = self.css_set_lock.read(cx);
        cx.at(666);
        let css = load_ptr::<CssSet>(&self.task(tsk, cx).cgroups).expect("cgroups");
        let res = if css == self.init_css_set {
            cx.at(668);
            Some(self.root(root, cx).top())
        } else {
            cx.at(671);
            let links = self.cset(css, cx).cg_links.get(&self.css_set_lock, cx);
            links.into_iter().find_map(|l| {
                let c = self.link(l, cx).cgrp.get(&self.css_set_lock, cx)?;
                (self.cgrp(c, cx).root == root).then_some(c)
            })
        };
        cx.at(679);
        drop(r);
        match res {
            Some(c) => c,
            None => {
                cx.at(680);
                self.bug(cx, "BUG_ON(!res)", format!("task has no cgroup in {root}"))
            }
        }
    }

    /// `cgroup_attach_task(cgrp, tsk)` (cgroup.c:1697-1789), caller holds cgroup_mutex. Pins the
    /// task's css_set (77efecd9), finds or creates the new css_set, rechecks `PF_EXITING` under
    /// task_lock, publishes the pointer (`rcu_assign_pointer`), moves the task-list entry, marks
    /// the old cgroup releasable, waits for RCU readers of the old css_set (`synchronize_rcu`),
    /// drops the task's old reference and wakes an rmdir waiter. No modelled subsystem has
    /// `can_attach` or `attach` (v2.6.34's cpuset, cpu and blkio have them; the model's cpusets
    /// are as configured cpusets whose `can_attach` accepts).
    pub fn cgroup_attach_task(&self, cgrp: CgroupH, tsk: TaskH, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::cgroup_attach_task);
        self.cgroup_mutex.assert_held(cx);
        let root = self.cgrp(cgrp, cx).root;
        cx.at(1707);
        let oldcgrp = self.task_cgroup_from_root(tsk, root, cx);
        if cgrp == oldcgrp {
            return Ok(());
        }
        let t = self.task(tsk, cx);
        cx.at(1727);
        let g = t.alloc_lock.lock(cx);
        cx.at(1728);
        let cg = load_ptr::<CssSet>(&t.cgroups).expect("cgroups");
        let pin = !self.fault(Fault::AttachNoPin);
        if pin {
            cx.at(1729);
            self.get_css_set(cg, cx);
        }
        cx.at(1730);
        drop(g);
        drop(t);
        cx.at(1735);
        let newcg = self.find_css_set(cg, cgrp, cx);
        if pin {
            cx.at(1736);
            self.put_css_set(cg, cx);
        }
        let Some(newcg) = newcg else {
            return Err(Errno::ENOMEM);
        };
        let t = self.task(tsk, cx);
        cx.at(1742);
        let g = t.alloc_lock.lock(cx);
        cx.at(1743);
        if !self.fault(Fault::AttachNoExitingCheck)
            && t.flags.load(Ordering::Relaxed) & PF_EXITING != 0
        {
            cx.at(1744);
            drop(g);
            drop(t);
            cx.at(1745);
            self.put_css_set(newcg, cx);
            return Err(Errno::ESRCH);
        }
        cx.at(1749);
        rcu_assign_pointer(&t.cgroups, Some(newcg));
        // Fault attach-move-under-task_lock: css_set_lock taken before task_unlock.
        let early = self.fault(Fault::AttachMoveUnderTaskLock).then(|| {
            cx.at(1753);
            self.css_set_lock.write(cx)
        });
        cx.at(1750);
        drop(g);
        drop(t);
        cx.at(1753);
        let w = early.unwrap_or_else(|| self.css_set_lock.write(cx));
        cx.at(1754);
        if !self.cg_list_empty(tsk, cx) {
            cx.at(1756);
            self.cg_list_set(tsk, Some(newcg), cx);
        }
        cx.at(1758);
        drop(w);
        cx.at(1764);
        self.cgrp(oldcgrp, cx)
            .flags
            .fetch_or(CGRP_RELEASABLE, Ordering::Relaxed);
        if self.fault(Fault::AttachNoSynchronizeRcu) {
            let _f = cx.enter(&kfn::put_css_set);
            self.put_css_set_free(cg, false, true, cx);
        } else {
            if !self.has(Fix::AttachNoSynchronizeRcu) {
                cx.at(1765);
                self.rcu.synchronize(cx);
            }
            cx.at(1766);
            self.put_css_set(cg, cx);
        }
        cx.at(1772);
        self.cgroup_wakeup_rmdir_waiter(cgrp, cx);
        Ok(())
    }

    /// `cgroup_tasks_write(cgrp, cft, pid)` (cgroup.c:1828-1836): `cgroup_lock_live_group`
    /// (-ENODEV if removed), `attach_task_by_pid`, unlock.
    pub fn cgroup_tasks_write(&self, cgrp: CgroupH, pid: usize, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::cgroup_tasks_write);
        cx.at(1831);
        let m = self.cgroup_lock_live_group(cgrp, cx).ok_or(Errno::ENODEV)?;
        cx.at(1833);
        let r = self.attach_task_by_pid(cgrp, pid, cx);
        cx.at(1834);
        drop(m);
        r
    }

    /// `attach_task_by_pid(cgrp, pid)` (cgroup.c:1795-1826), cgroup_mutex held: look the task up
    /// under RCU (-ESRCH if absent or already `PF_EXITING`; no credential check), then
    /// `cgroup_attach_task`. T0 (the idle task) is not in the pid hash: -ESRCH.
    pub fn attach_task_by_pid(&self, cgrp: CgroupH, pid: usize, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::attach_task_by_pid);
        // Fault find-task-outside-rcu: the lookup before rcu_read_lock.
        let early = self.fault(Fault::FindTaskOutsideRcu).then(|| {
            cx.at(1803);
            self.find_task_by_vpid(pid, cx)
        });
        cx.at(1802);
        let rcu = self.rcu.read_lock(cx);
        cx.at(1803);
        let tsk = early.unwrap_or_else(|| self.find_task_by_vpid(pid, cx));
        cx.at(1804);
        let Some(tsk) = tsk else {
            cx.at(1805);
            drop(rcu);
            return Err(Errno::ESRCH);
        };
        if self.task(tsk, cx).flags.load(Ordering::Relaxed) & PF_EXITING != 0 {
            cx.at(1805);
            drop(rcu);
            return Err(Errno::ESRCH);
        }
        cx.at(1817);
        drop(rcu); // get_task_struct: task_structs are never freed in the model
        cx.at(1823);
        self.cgroup_attach_task(cgrp, tsk, cx)
    }

    /// The pid of a task name `T<n>`.
    pub fn pid_of(name: &str) -> Option<usize> {
        name.strip_prefix('T')?
            .parse()
            .ok()
            .filter(|&n| n < PID_MAX)
    }

    /// Out of band: the task named `name`, if it exists (tests and observers).
    pub fn task_named(&self, name: &str) -> Option<TaskH> {
        let pid = Self::pid_of(name)?;
        if pid == 0 {
            return Some(self.init_task());
        }
        crate::sim::trace::quiet(|| Handle::from_raw(self.pid_hash[pid].load(Ordering::Relaxed)))
    }
}
