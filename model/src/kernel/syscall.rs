//! The system call entry and the return to user space: how a step of the op language enters
//! the kernel ([`Kernel::exec`]), and the quiescent point every thread reaches after each step.

use crate::kernel::errno::Errno;
use crate::kernel::ops::{module_index, Op, OpResult, Ret, Step};
use crate::kernel::{Kernel, TaskH, PF_EXITING};
use crate::sim::cx::Cx;
use crate::sim::lockdep::Lockdep;
use crate::sim::sync::Ordering;
use crate::sim::trace::{self, What};

impl Kernel {
    /// Runs one step as a system call by thread `cx`, then reaches the thread's quiescent point:
    /// no kernel lock may still be held, and its pending RCU callbacks run after a grace period.
    #[doc(alias = "system_call")]
    pub fn exec(&self, step: &Step, cx: &Cx) -> OpResult {
        cx.begin_op(step.to_string(), step.fail_alloc);
        let text: std::sync::Arc<str> = step.to_string().into();
        trace::step(What::Op(text), || ());
        let r = self.exec_op(step, cx);
        let ret: std::sync::Arc<str> = match &r {
            Ok(v) => v.to_string().into(),
            Err(e) => e.to_string().into(),
        };
        trace::step(What::Ret(ret), || ());
        r
    }

    fn exec_op(&self, step: &Step, cx: &Cx) -> OpResult {
        let task = |n: &str| {
            self.pids
                .lock()
                .unwrap()
                .get(n)
                .copied()
                .ok_or(Errno::ESRCH)
        };
        let r = match &step.op {
            Op::Insmod(m) => self
                .sys_init_module(module_index(m).expect("parsed"), cx)
                .map(|_| Ret::Done),
            Op::Rmmod(m) => self
                .sys_delete_module(module_index(m).expect("parsed"), cx)
                .map(|_| Ret::Done),
            Op::Mount { mnt, opts } => self.sys_mount(mnt, opts, cx).map(|_| Ret::Done),
            Op::Remount { mnt, opts } => self.sys_remount(mnt, opts, cx).map(|_| Ret::Done),
            Op::Umount { mnt } => self.sys_umount(mnt, cx).map(|_| Ret::Done),
            Op::Mkdir { mnt, path } => self.sys_mkdir(mnt, path, cx).map(|_| Ret::Done),
            Op::Rmdir { mnt, path } => self.sys_rmdir(mnt, path, cx).map(|_| Ret::Done),
            Op::Attach { task: t, mnt, path } => (|| {
                let p = self.path_lookup(mnt, path, cx)?;
                let r = self.attach_task_by_pid(p.cgrp, t, cx);
                self.path_put(p, cx);
                r.map(|_| Ret::Done)
            })(),
            Op::Fork { parent, child } => (|| {
                let p = task(parent)?;
                if self.is_exiting(p, cx) {
                    return Err(Errno::ESRCH);
                }
                self.do_fork(p, child, cx).map(|_| Ret::Done)
            })(),
            Op::Exit { task: t } => (|| {
                let p = task(t)?;
                if p == self.init_task() {
                    return Err(Errno::ESRCH); // the idle task never exits
                }
                self.do_exit(p, cx).map(|_| Ret::Done)
            })(),
            Op::TcAdd { filter } => self.tc_filter_add(filter, cx).map(|_| Ret::Done),
            Op::TcDel { filter } => self.tc_filter_del(filter, cx).map(|_| Ret::Done),
            Op::Classify { task: t } => (|| {
                let p = task(t)?;
                if self.is_exiting(p, cx) {
                    return Err(Errno::ESRCH);
                }
                Ok(Ret::Classid(self.classify_packet(p, cx)))
            })(),
            Op::Classid { mnt, path, value } => {
                self.write_classid(mnt, path, *value, cx).map(|_| Ret::Done)
            }
            Op::CssGet { task: t, ss } => (|| {
                let p = task(t)?;
                if self.is_exiting(p, cx) {
                    return Err(Errno::ESRCH);
                }
                self.css_get_task(p, ss, cx).map(|_| Ret::Done)
            })(),
            Op::CssPut { task: t, ss } => (|| {
                let p = task(t)?;
                self.css_put_task(p, ss, cx).map(|_| Ret::Done)
            })(),
        };
        self.quiescent(cx);
        r
    }

    /// Whether a task has started exiting (`PF_EXITING`).
    pub fn is_exiting(&self, t: TaskH, cx: &Cx) -> bool {
        self.task(t, cx).flags.load(Ordering::SeqCst) & PF_EXITING != 0
    }

    /// The thread's quiescent point at the return to user space: lockdep's "lock held when
    /// returning to user space", then `call_rcu` callbacks after a grace period.
    #[doc(alias = "syscall_exit")]
    pub fn quiescent(&self, cx: &Cx) {
        let _f = cx.enter("return to user space");
        let globals: [&dyn Lockdep; 11] = [
            &self.cgroup_mutex,
            &self.css_set_lock,
            &self.release_list_lock,
            &self.module_mutex,
            &self.stop_machine,
            &self.sb_lock,
            &self.vfsmount_lock,
            &self.dcache_lock,
            &self.rtnl,
            &self.cls_mod_lock,
            &self.qdisc_lock,
        ];
        for l in globals {
            if l.held(cx) {
                self.bug(
                    cx,
                    "lock-held-at-return",
                    format!("{} still held", l.name()),
                );
            }
        }
        if cx.in_rcu_read() {
            self.bug(
                cx,
                "rcu-read-lock-held-at-return",
                "rcu_read_lock still held",
            );
        }
        self.rcu.run_callbacks(self, cx);
    }
}
