//! Tasks and cgroups: fork, post_fork, exit and attach
//! (kernel/cgroup.c v2.6.34: `cgroup_fork` .. `cgroup_exit`, `cgroup_attach_task`).

use crate::kernel::errno::Errno;
use crate::kernel::{
    CgroupH, CssSet, CssSetH, Kernel, RootH, Task, TaskH, CGRP_RELEASABLE, PF_EXITING,
};
use crate::sim::arena::Handle;
use crate::sim::cx::Cx;
use crate::sim::lockdep::Lockdep;
use crate::sim::rcu::{rcu_assign_pointer, rcu_dereference};
use crate::sim::report::{Violation, ViolationKind};
use crate::sim::sync::Ordering;
use crate::variants::faults::Fault;

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
        if let Some(old) = Handle::<CssSet>::from_raw(t.cg_list.load(Ordering::Relaxed)) {
            self.cset(old, cx)
                .tasks
                .with_mut(&self.css_set_lock, cx, |l| l.retain(|&x| x != tsk));
        }
        if let Some(new) = cg {
            self.cset(new, cx)
                .tasks
                .with_mut(&self.css_set_lock, cx, |l| l.insert(0, tsk));
        }
        t.cg_list.store(Handle::to_raw(cg), Ordering::Relaxed);
    }

    /// `list_empty(&tsk->cg_list)`.
    #[doc(alias = "list_empty")]
    fn cg_list_empty(&self, tsk: TaskH, cx: &Cx) -> bool {
        self.task(tsk, cx).cg_list.load(Ordering::Relaxed) == 0
    }

    /// `fork` of `parent` into a new task named `child`: `dup_task_struct` (kmalloc),
    /// `cgroup_fork`, `cgroup_fork_callbacks`, then either a later `copy_process` failure
    /// (`cgroup_exit(p, 0)`, -ENOMEM; chosen by failing the second allocation) or `attach_pid` and
    /// `cgroup_post_fork`. The calling thread runs as `parent`.
    #[doc(alias = "copy_process")]
    pub fn do_fork(&self, parent: TaskH, child: &str, cx: &Cx) -> Result<TaskH, Errno> {
        let _f = cx.enter("copy_process");
        if self.pids.lock().unwrap().contains_key(child) {
            return Err(Errno::EEXIST);
        }
        if !cx.kmalloc_ok() {
            return Err(Errno::ENOMEM);
        }
        // dup_task_struct copies the parent's pointer; cgroup_fork overwrites it and takes the ref.
        let cg0 = rcu_dereference::<CssSet>(&self.task(parent, cx).cgroups).expect("cgroups");
        let p = self.tasks.alloc(Task::new(child, cg0));
        self.tasks.set_label(
            p,
            format!("{child}, child of {}", self.task(parent, cx).name),
        );
        self.cgroup_fork(parent, p, cx);
        self.cgroup_fork_callbacks(p, cx);
        if !cx.kmalloc_ok() {
            // bad_fork_cleanup_cgroup: cgroup_exit(p, cgroup_callbacks_done = 0)
            self.cgroup_exit(p, false, cx);
            return Err(Errno::ENOMEM);
        }
        self.pids.lock().unwrap().insert(child.to_string(), p);
        self.cgroup_post_fork(p, cx);
        Ok(p)
    }

    /// `cgroup_fork(child)`: under `task_lock(current)`, the child points at the parent's css_set
    /// and takes a reference on it. No cgroup_mutex.
    pub fn cgroup_fork(&self, parent: TaskH, child: TaskH, cx: &Cx) {
        let _f = cx.enter("cgroup_fork");
        let pt = self.task(parent, cx);
        let g = pt.alloc_lock.lock(cx);
        let cg = rcu_dereference::<CssSet>(&pt.cgroups).expect("cgroups");
        rcu_assign_pointer(&self.task(child, cx).cgroups, Some(cg));
        if self.fault(Fault::ForkRefAfterUnlock) {
            drop(g);
            self.get_css_set(cg, cx);
        } else {
            self.get_css_set(cg, cx);
            drop(g);
        }
        drop(pt);
        self.task(child, cx).cg_list.store(0, Ordering::Relaxed); // INIT_LIST_HEAD
    }

    /// `cgroup_fork_callbacks(child)`: only built-in subsystems may have `fork` callbacks (a module
    /// with one is refused at load), so this reads `subsys[0..BUILTIN)` without a lock. None of the
    /// modelled built-ins has one.
    pub fn cgroup_fork_callbacks(&self, _child: TaskH, cx: &Cx) {
        let _f = cx.enter("cgroup_fork_callbacks");
        for i in 0..self.builtin() {
            let _ = self.subsys_at(i);
        }
    }

    /// `cgroup_post_fork(child)`: links the child onto its css_set's task list (write css_set_lock,
    /// then task_lock(child)) if `use_task_css_set_links`.
    pub fn cgroup_post_fork(&self, child: TaskH, cx: &Cx) {
        let _f = cx.enter("cgroup_post_fork");
        if !self.use_task_links {
            return;
        }
        let w = self.css_set_lock.write(cx);
        let t = self.task(child, cx);
        let g = t.alloc_lock.lock(cx);
        if self.cg_list_empty(child, cx) {
            let cg = rcu_dereference(&t.cgroups);
            self.cg_list_set(child, cg, cx);
        }
        drop(g);
        drop(t);
        drop(w);
    }

    /// `do_exit` of `tsk` as far as cgroups go: `exit_signals` sets `PF_EXITING`, then
    /// `cgroup_exit(tsk, 1)`.
    pub fn do_exit(&self, tsk: TaskH, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("do_exit");
        let t = self.task(tsk, cx);
        if t.flags.fetch_or(PF_EXITING, Ordering::SeqCst) & PF_EXITING != 0 {
            return Err(Errno::ESRCH);
        }
        drop(t);
        self.cgroup_exit(tsk, true, cx);
        Ok(())
    }

    /// `cgroup_exit(tsk, run_callbacks)`: unlink from the css_set task list (optimistic
    /// `list_empty`, rechecked under the write lock), then under `task_lock` point the task at
    /// `init_css_set` *without* taking a reference ("the_top_cgroup_hack"), then drop the old
    /// css_set with `put_css_set_taskexit`. No cgroup_mutex.
    pub fn cgroup_exit(&self, tsk: TaskH, run_callbacks: bool, cx: &Cx) {
        let _f = cx.enter("cgroup_exit");
        if run_callbacks {
            for i in 0..self.builtin() {
                let _ = self.subsys_at(i); // built-in exit callbacks: none modelled
            }
        }
        if !self.cg_list_empty(tsk, cx) {
            let w = self.css_set_lock.write(cx);
            if !self.cg_list_empty(tsk, cx) {
                self.cg_list_set(tsk, None, cx);
            }
            drop(w);
        }
        let t = self.task(tsk, cx);
        let g = t.alloc_lock.lock(cx);
        let cg = rcu_dereference::<CssSet>(&t.cgroups);
        rcu_assign_pointer(&t.cgroups, Some(self.init_css_set));
        self.exited.lock().unwrap().push(tsk);
        drop(g);
        drop(t);
        if let Some(cg) = cg {
            self.put_css_set_taskexit(cg, cx);
        }
    }

    /// `task_cgroup_from_root(tsk, root)`: under `read_lock(css_set_lock)`, the task's cgroup in
    /// `root` (the top cgroup for an exited task on `init_css_set`). No task_lock: cgroup_mutex
    /// keeps the task from changing groups; only exit can move it, to init_css_set.
    pub fn task_cgroup_from_root(&self, tsk: TaskH, root: RootH, cx: &Cx) -> CgroupH {
        let _f = cx.enter("task_cgroup_from_root");
        let r = self.css_set_lock.read(cx);
        let css = rcu_dereference::<CssSet>(&self.task(tsk, cx).cgroups).expect("cgroups");
        let res = if css == self.init_css_set {
            Some(self.root(root, cx).top())
        } else {
            let links = self.cset(css, cx).cg_links.get(&self.css_set_lock, cx);
            links.into_iter().find_map(|l| {
                let c = self.link(l, cx).cgrp.get(&self.css_set_lock, cx)?;
                (self.cgrp(c, cx).root == root).then_some(c)
            })
        };
        drop(r);
        match res {
            Some(c) => c,
            None => self.bug(cx, "BUG_ON(!res)", format!("task has no cgroup in {root}")),
        }
    }

    /// `cgroup_attach_task(cgrp, tsk)`, caller holds cgroup_mutex. Pins the task's css_set
    /// (77efecd9), finds or creates the new css_set, rechecks `PF_EXITING` under task_lock,
    /// switches the pointer, moves the task list entry, waits for RCU readers of the old css_set
    /// (`synchronize_rcu`) and drops the task's old reference.
    pub fn cgroup_attach_task(&self, cgrp: CgroupH, tsk: TaskH, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("cgroup_attach_task");
        self.cgroup_mutex.assert_held(cx);
        let root = self.cgrp(cgrp, cx).root;
        let oldcgrp = self.task_cgroup_from_root(tsk, root, cx);
        if cgrp == oldcgrp {
            return Ok(());
        }
        // can_attach callbacks: none of the modelled subsystems refuses.
        let t = self.task(tsk, cx);
        let g = t.alloc_lock.lock(cx);
        let cg = rcu_dereference::<CssSet>(&t.cgroups).expect("cgroups");
        let pin = !self.fault(Fault::AttachNoPin);
        if pin {
            self.get_css_set(cg, cx);
        }
        drop(g);
        drop(t);
        let newcg = self.find_css_set(cg, cgrp, cx);
        if pin {
            self.put_css_set(cg, cx);
        }
        let Some(newcg) = newcg else {
            return Err(Errno::ENOMEM);
        };
        let t = self.task(tsk, cx);
        let g = t.alloc_lock.lock(cx);
        if !self.fault(Fault::AttachNoExitingCheck)
            && t.flags.load(Ordering::SeqCst) & PF_EXITING != 0
        {
            drop(g);
            drop(t);
            self.put_css_set(newcg, cx);
            return Err(Errno::ESRCH);
        }
        rcu_assign_pointer(&t.cgroups, Some(newcg));
        drop(g);
        drop(t);
        let w = self.css_set_lock.write(cx);
        if !self.cg_list_empty(tsk, cx) {
            self.cg_list_set(tsk, Some(newcg), cx);
        }
        drop(w);
        // attach callbacks: none modelled.
        self.cgrp(oldcgrp, cx)
            .flags
            .fetch_or(CGRP_RELEASABLE, Ordering::Relaxed);
        if self.fault(Fault::AttachNoSynchronizeRcu) {
            let _f = cx.enter("put_css_set");
            self.put_css_set_free(cg, false, true, cx);
        } else {
            if !self.has(crate::variants::Fix::AttachNoSynchronizeRcu) {
                self.rcu.synchronize(cx);
            }
            self.put_css_set(cg, cx);
        }
        Ok(())
    }

    /// `attach_task_by_pid(cgrp, pid)` as reached from a write to the `tasks` file
    /// (`cgroup_tasks_write`): `cgroup_lock_live_group` (-ENODEV if removed), look the task up
    /// under RCU (-ESRCH if absent or already `PF_EXITING`), then `cgroup_attach_task`.
    pub fn attach_task_by_pid(&self, cgrp: CgroupH, pid: &str, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("attach_task_by_pid");
        let m = self.cgroup_lock_live_group(cgrp, cx).ok_or(Errno::ENODEV)?;
        let rcu = self.rcu.read_lock(cx);
        let tsk = self.pids.lock().unwrap().get(pid).copied();
        // init_task (T0, the idle task) holds init_css_set's initial reference and is not in the
        // pid hash: `find_task_by_vpid` cannot return it.
        let Some(tsk) = tsk.filter(|&t| t != self.init_task()) else {
            drop(rcu);
            drop(m);
            return Err(Errno::ESRCH);
        };
        if self.task(tsk, cx).flags.load(Ordering::SeqCst) & PF_EXITING != 0 {
            drop(rcu);
            drop(m);
            return Err(Errno::ESRCH);
        }
        drop(rcu); // get_task_struct: task_structs are never freed in the model
        let r = self.cgroup_attach_task(cgrp, tsk, cx);
        drop(m);
        r
    }
}
