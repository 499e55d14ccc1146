//! The system call entry and the return to user space: how a step of the op language enters
//! the kernel ([`Kernel::exec`]), and the quiescent point every thread reaches after each step.

use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::ops::{module_index, Op, OpResult, Ret, Step};
use crate::kernel::{Kernel, TaskH, CGRP_REMOVED, PF_EXITING};
use crate::sim::cx::{Cx, Func};
use crate::sim::lockdep::Lockdep;
use crate::sim::sync::Ordering;
use crate::sim::trace::{self, Access, What};

impl Kernel {
    /// Runs one step as a system call by thread `cx`, then reaches the thread's quiescent point:
    /// no kernel lock may still be held, and its pending RCU callbacks run after a grace period.
    #[doc(alias = "system_call")]
    pub fn exec(&self, step: &Step, cx: &Cx) -> OpResult {
        cx.begin_op(step.to_string(), step.fail_alloc);
        // With no kernel preemption the thread keeps its CPU from here to its return, but where
        // it sleeps (sim/rcu.rs).
        self.rcu.kernel_entry(cx);
        let entry = entry(&step.op);
        let text: std::sync::Arc<str> = step.to_string().into();
        {
            let _f = cx.enter(entry);
            trace::step(What::Op(text), Access::Local, || ());
        }
        let r = self.exec_op(step, cx);
        let ret: std::sync::Arc<str> = match &r {
            Ok(v) => v.to_string().into(),
            Err(e) => e.to_string().into(),
        };
        let _f = cx.enter(entry);
        cx.at(entry.end);
        trace::step(What::Ret(ret), Access::Local, || ());
        self.rcu.kernel_exit(cx);
        r
    }

    fn exec_op(&self, step: &Step, cx: &Cx) -> OpResult {
        // The thread runs as the task the step names: found in the pid hash under RCU, as the
        // task itself exists only once its fork has published it (-ESRCH before).
        let task = |n: &str| {
            Self::pid_of(n)
                .and_then(|pid| self.current_task(pid, cx))
                .ok_or(Errno::ESRCH)
        };
        let done = |r: Result<(), Errno>| r.map(|_| Ret::Done);
        let r = match &step.op {
            Op::Insmod(m) => done(self.sys_init_module(module_index(m).expect("parsed"), cx)),
            Op::Rmmod(m) => done(self.sys_delete_module(module_index(m).expect("parsed"), cx)),
            Op::Mount { mnt, opts } => {
                done(self.sys_mount(mnt, (!opts.is_empty()).then_some(opts.as_str()), cx))
            }
            Op::Remount { mnt, opts } => done(self.sys_remount(mnt, Some(opts), cx)),
            Op::Umount { mnt } => done(self.sys_umount(mnt, cx)),
            Op::Mkdir { mnt, path } => done(self.sys_mkdir(mnt, path, cx)),
            Op::Rmdir { mnt, path } => done(self.sys_rmdir(mnt, path, cx)),
            Op::Attach { task: t, mnt, path } => {
                let pid = Self::pid_of(t).expect("parsed");
                done(self.echo_tasks(mnt, path, pid, cx))
            }
            Op::Fork { parent, child } => (|| {
                let p = task(parent)?;
                if self.is_exiting(p, cx) {
                    return Err(Errno::ESRCH);
                }
                let child = Self::pid_of(child).expect("parsed");
                self.do_fork(p, child, cx).map(|_| Ret::Done)
            })(),
            Op::Exit { task: t } => (|| {
                let p = task(t)?;
                if p == self.init_task() {
                    return Err(Errno::ESRCH); // the idle task never exits
                }
                done(self.do_exit(p, cx))
            })(),
            Op::TcAdd { filter } => done(self.tc_filter_add(filter, cx)),
            Op::TcDel { filter } => done(self.tc_filter_del(filter, cx)),
            Op::Classify { task: t } => (|| {
                let p = task(t)?;
                if self.is_exiting(p, cx) {
                    return Err(Errno::ESRCH);
                }
                Ok(Ret::Classid(self.classify_packet(p, cx)))
            })(),
            Op::Classid { mnt, path, value } => {
                let file = if path.is_empty() {
                    "net_cls.classid".to_string()
                } else {
                    format!("{path}/net_cls.classid")
                };
                done(self.echo(mnt, &file, u64::from(*value), cx))
            }
            Op::CssGet { task: t, ss } => (|| {
                let p = task(t)?;
                if self.is_exiting(p, cx) {
                    return Err(Errno::ESRCH);
                }
                done(self.css_get_task(p, ss, cx))
            })(),
            Op::CssPut { task: t, ss } => (|| {
                let p = task(t)?;
                done(self.css_put_task(p, ss, cx))
            })(),
            Op::Open {
                fd,
                mnt,
                path,
                read,
                write,
            } => done(self.sys_open(mnt, path, (*read, *write), *fd, cx)),
            Op::Read { fd } => self.sys_read(*fd, cx),
            Op::Write { fd, value } => done(self.sys_write(*fd, *value, cx)),
            Op::Close { fd } => done(self.sys_close(*fd, cx)),
        };
        self.quiescent(cx);
        r
    }

    /// `echo PID > MNT/PATH/tasks`, shortened: the path walk to the directory, then what
    /// `cgroup_file_write` does for `tasks` (the lockless removed check, then
    /// `cgroup_tasks_write`). The file's own open and release do nothing for a write-only
    /// `tasks` file (`cgroup_pidlist_open` and `cgroup_pidlist_release` return at once), its
    /// cftype is static, and the walk pins the directory and the mount as the open file would;
    /// so the `struct file` is left out (docs/model.md).
    /// v2.6.34: `cgroup_file_write`, kernel/cgroup.c:1949-1968.
    pub fn echo_tasks(&self, mnt: &str, path: &str, pid: usize, cx: &Cx) -> Result<(), Errno> {
        let p = self.path_lookup(mnt, path, cx)?;
        let r = {
            let _f = cx.enter(&kfn::cgroup_file_write);
            cx.at(1955);
            if self.cgrp(p.cgrp, cx).flags.load(Ordering::Relaxed) & CGRP_REMOVED != 0 {
                Err(Errno::ENODEV)
            } else {
                cx.at(1960);
                self.cgroup_tasks_write(p.cgrp, pid, cx)
            }
        };
        self.path_put(p, cx);
        r
    }

    /// `echo VALUE > MNT/PATH/FILE`: `open(O_WRONLY)`, `write`, `close`, with the file kept by
    /// this thread (its descriptor's table steps are left out: no other thread can use it).
    pub fn echo(&self, mnt: &str, path: &str, value: u64, cx: &Cx) -> Result<(), Errno> {
        let f = self.do_filp_open(mnt, path, (false, true), cx)?;
        let r = self.cgroup_file_write(f, value, cx);
        self.fput(f, cx);
        r
    }

    /// Whether a task has started exiting (`PF_EXITING`): a plain read, anchored at the entry
    /// that names the running task (`get_current`, arch/x86/include/asm/current.h:14). The op
    /// language lets a step name a task that has exited; such a task makes no more system calls
    /// in the kernel, and the model answers -ESRCH.
    /// v2.6.34: `get_current`, arch/x86/include/asm/current.h:12-15.
    pub fn is_exiting(&self, t: TaskH, cx: &Cx) -> bool {
        let _f = cx.enter(&kfn::get_current);
        cx.at(14);
        self.task(t, cx).flags.load(Ordering::Relaxed) & PF_EXITING != 0
    }

    /// The thread's quiescent point at the return to user space: lockdep's "lock held when
    /// returning to user space", then `call_rcu` callbacks after a grace period.
    /// v2.6.34: `lockdep_sys_exit`, kernel/lockdep.c:3784-3798.
    #[doc(alias = "syscall_exit")]
    pub fn quiescent(&self, cx: &Cx) {
        let _f = cx.enter(&kfn::lockdep_sys_exit);
        let globals: [&dyn Lockdep; 13] = [
            &self.cgroup_mutex,
            &self.css_set_lock,
            &self.release_list_lock,
            &self.module_mutex,
            &self.stop_machine,
            &self.tasklist_lock,
            &self.sb_lock,
            &self.vfsmount_lock,
            &self.dcache_lock,
            &self.file_lock,
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
        if cx.in_atomic() {
            self.bug(
                cx,
                "rcu-read-lock-held-at-return",
                "rcu_read_lock held or preemption disabled at the return to user space",
            );
        }
        self.rcu.run_callbacks(self, cx);
    }
}

/// The kernel function a step enters the kernel through: its system call (`do_mount` for
/// `sys_mount`, `copy_process` for `fork`, `do_exit` for `exit`), `dev_queue_xmit` for a packet,
/// `task_subsys_state` and `css_put` for a subsystem's own reference. The step's `syscall` and
/// `returns` trace lines are recorded at its first and last lines. `attach` is `echo PID >
/// tasks`, a write; `classid` is `echo N > net_cls.classid`, which opens the file first.
fn entry(op: &Op) -> &'static Func {
    match op {
        Op::Insmod(_) => &kfn::sys_init_module,
        Op::Rmmod(_) => &kfn::sys_delete_module,
        Op::Mount { .. } | Op::Remount { .. } => &kfn::do_mount,
        Op::Umount { .. } => &kfn::sys_umount,
        Op::Mkdir { .. } => &kfn::sys_mkdirat,
        Op::Rmdir { .. } => &kfn::sys_rmdir,
        Op::Attach { .. } | Op::Write { .. } => &kfn::sys_write,
        Op::Fork { .. } => &kfn::copy_process,
        Op::Exit { .. } => &kfn::do_exit,
        Op::TcAdd { .. } | Op::TcDel { .. } => &kfn::tc_ctl_tfilter,
        Op::Classify { .. } => &kfn::dev_queue_xmit,
        Op::CssGet { .. } => &kfn::task_subsys_state,
        Op::CssPut { .. } => &kfn::css_put,
        Op::Open { .. } | Op::Classid { .. } => &kfn::sys_open,
        Op::Read { .. } => &kfn::sys_read,
        Op::Close { .. } => &kfn::sys_close,
    }
}
