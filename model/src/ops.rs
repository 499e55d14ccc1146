//! The operations a scenario runs, as user-space would issue them, with a one-line text syntax
//! used by scenarios, traces and shrunk test cases:
//!
//! ```text
//! insmod net_cls          rmmod net_cls            (modules: net_cls, blkio)
//! mount m0 net_cls,cpuset remount m0 cpuset        umount m0
//! mkdir m0/a              rmdir m0/a               classid m0/a 7
//! attach T1 m0/a          fork T0 T1               exit T1
//! tc-add F0               tc-del F0                classify T1
//! css-get T1 cpu          css-put T1 cpu           (built-in subsystems: cpuset, cpu)
//! ```
//!
//! Any step may end in `!nomem@N`: the N-th allocation the step makes fails (1-based), which is how
//! a scenario chooses an -ENOMEM path.

use std::fmt;
use std::str::FromStr;

use crate::cx::Cx;
use crate::kernel::{Kernel, MODULES};
use crate::lockdep::Lockdep;
use crate::report::Errno;

/// One user-space operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `insmod` of the module providing subsystem `.0` (`net_cls` or `blkio`).
    Insmod(String),
    /// `rmmod` of that module.
    Rmmod(String),
    /// `mount -t cgroup -o OPTS cgroup MNT` (empty options mean none given: "all").
    Mount {
        /// Mountpoint name.
        mnt: String,
        /// Option string.
        opts: String,
    },
    /// `mount -o remount,OPTS MNT`.
    Remount {
        /// Mountpoint name.
        mnt: String,
        /// Option string.
        opts: String,
    },
    /// `umount MNT`.
    Umount {
        /// Mountpoint name.
        mnt: String,
    },
    /// `mkdir MNT/PATH`.
    Mkdir {
        /// Mountpoint name.
        mnt: String,
        /// Path below it.
        path: String,
    },
    /// `rmdir MNT/PATH`.
    Rmdir {
        /// Mountpoint name.
        mnt: String,
        /// Path below it.
        path: String,
    },
    /// `echo PID > MNT/PATH/tasks`.
    Attach {
        /// Task name.
        task: String,
        /// Mountpoint name.
        mnt: String,
        /// Path below it (empty: the top cgroup).
        path: String,
    },
    /// `fork()` by `parent`, creating `child`.
    Fork {
        /// The forking task.
        parent: String,
        /// The new task's name.
        child: String,
    },
    /// `exit()` of a task.
    Exit {
        /// The exiting task.
        task: String,
    },
    /// `tc filter add ... cgroup`, naming the instance.
    TcAdd {
        /// Filter name.
        filter: String,
    },
    /// `tc filter del` of the named instance.
    TcDel {
        /// Filter name.
        filter: String,
    },
    /// A packet sent by the task, classified by the cgroup filters.
    Classify {
        /// The sending task.
        task: String,
    },
    /// A built-in subsystem's per-task path takes a reference on the task's css
    /// (`task_subsys_state` + `css_tryget` under RCU).
    CssGet {
        /// The task.
        task: String,
        /// The built-in subsystem (`cpuset` or `cpu`).
        ss: String,
    },
    /// That path drops the reference (`css_put`).
    CssPut {
        /// The task.
        task: String,
        /// The built-in subsystem.
        ss: String,
    },
    /// `echo VALUE > MNT/PATH/net_cls.classid`.
    Classid {
        /// Mountpoint name.
        mnt: String,
        /// Path below it.
        path: String,
        /// The classid.
        value: u32,
    },
}

/// One step: an operation and, optionally, the allocation it makes that fails.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Step {
    /// The operation.
    pub op: Op,
    /// `!nomem@N`: the N-th allocation fails.
    pub fail_alloc: Option<u32>,
}

impl From<Op> for Step {
    fn from(op: Op) -> Self {
        Step {
            op,
            fail_alloc: None,
        }
    }
}

/// What a successful step returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ret {
    /// Success with nothing to report.
    Done,
    /// A classification: the classid, or None for no match.
    Classid(Option<u32>),
}

/// The result of a step, as user space sees it.
pub type OpResult = Result<Ret, Errno>;

fn split_path(p: &str) -> (String, String) {
    match p.split_once('/') {
        Some((m, rest)) => (m.to_string(), rest.trim_matches('/').to_string()),
        None => (p.to_string(), String::new()),
    }
}

fn join_path(mnt: &str, path: &str) -> String {
    if path.is_empty() {
        mnt.to_string()
    } else {
        format!("{mnt}/{path}")
    }
}

/// The module index for a subsystem or module name.
pub fn module_index(name: &str) -> Option<usize> {
    MODULES.iter().position(|&(m, s, _)| m == name || s == name)
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Insmod(m) => write!(f, "insmod {m}"),
            Op::Rmmod(m) => write!(f, "rmmod {m}"),
            Op::Mount { mnt, opts } if opts.is_empty() => write!(f, "mount {mnt}"),
            Op::Mount { mnt, opts } => write!(f, "mount {mnt} {opts}"),
            Op::Remount { mnt, opts } => write!(f, "remount {mnt} {opts}"),
            Op::Umount { mnt } => write!(f, "umount {mnt}"),
            Op::Mkdir { mnt, path } => write!(f, "mkdir {}", join_path(mnt, path)),
            Op::Rmdir { mnt, path } => write!(f, "rmdir {}", join_path(mnt, path)),
            Op::Attach { task, mnt, path } => write!(f, "attach {task} {}", join_path(mnt, path)),
            Op::Fork { parent, child } => write!(f, "fork {parent} {child}"),
            Op::Exit { task } => write!(f, "exit {task}"),
            Op::TcAdd { filter } => write!(f, "tc-add {filter}"),
            Op::TcDel { filter } => write!(f, "tc-del {filter}"),
            Op::Classify { task } => write!(f, "classify {task}"),
            Op::Classid { mnt, path, value } => {
                write!(f, "classid {} {value}", join_path(mnt, path))
            }
            Op::CssGet { task, ss } => write!(f, "css-get {task} {ss}"),
            Op::CssPut { task, ss } => write!(f, "css-put {task} {ss}"),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.op)?;
        if let Some(n) = self.fail_alloc {
            write!(f, " !nomem@{n}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Ret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ret::Done => f.write_str("0"),
            Ret::Classid(None) => f.write_str("no match"),
            Ret::Classid(Some(c)) => write!(f, "classid {c}"),
        }
    }
}

fn name_ok(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

impl FromStr for Op {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let w: Vec<&str> = s.split_whitespace().collect();
        let arity = |n: usize| -> Result<(), String> {
            if w.len() == n + 1 {
                Ok(())
            } else {
                Err(format!(
                    "`{}` takes {n} argument(s), got {}: `{s}`",
                    w[0],
                    w.len() - 1
                ))
            }
        };
        let name = |x: &str, what: &str| -> Result<String, String> {
            if name_ok(x) {
                Ok(x.to_string())
            } else {
                Err(format!("bad {what} `{x}` in `{s}`"))
            }
        };
        let path = |x: &str| -> Result<(String, String), String> {
            let (m, p) = split_path(x);
            name(&m, "mountpoint")?;
            for c in p.split('/').filter(|c| !c.is_empty()) {
                name(c, "directory name")?;
            }
            Ok((m, p))
        };
        let Some(&verb) = w.first() else {
            return Err("empty operation".into());
        };
        Ok(match verb {
            "insmod" | "rmmod" => {
                arity(1)?;
                if module_index(w[1]).is_none() {
                    return Err(format!("unknown module `{}` (known: net_cls, blkio)", w[1]));
                }
                if verb == "insmod" {
                    Op::Insmod(w[1].into())
                } else {
                    Op::Rmmod(w[1].into())
                }
            }
            "mount" => {
                if w.len() != 2 && w.len() != 3 {
                    return Err(format!("`mount MNT [OPTS]`, got `{s}`"));
                }
                Op::Mount {
                    mnt: name(w[1], "mountpoint")?,
                    opts: w.get(2).unwrap_or(&"").to_string(),
                }
            }
            "remount" => {
                arity(2)?;
                Op::Remount {
                    mnt: name(w[1], "mountpoint")?,
                    opts: w[2].to_string(),
                }
            }
            "umount" => {
                arity(1)?;
                Op::Umount {
                    mnt: name(w[1], "mountpoint")?,
                }
            }
            "mkdir" | "rmdir" => {
                arity(1)?;
                let (mnt, p) = path(w[1])?;
                if p.is_empty() {
                    return Err(format!("`{verb}` needs MNT/DIR, got `{s}`"));
                }
                if verb == "mkdir" {
                    Op::Mkdir { mnt, path: p }
                } else {
                    Op::Rmdir { mnt, path: p }
                }
            }
            "attach" => {
                arity(2)?;
                let (mnt, p) = path(w[2])?;
                Op::Attach {
                    task: name(w[1], "task")?,
                    mnt,
                    path: p,
                }
            }
            "fork" => {
                arity(2)?;
                Op::Fork {
                    parent: name(w[1], "task")?,
                    child: name(w[2], "task")?,
                }
            }
            "exit" => {
                arity(1)?;
                Op::Exit {
                    task: name(w[1], "task")?,
                }
            }
            "tc-add" | "tc-del" => {
                arity(1)?;
                let filter = name(w[1], "filter")?;
                if verb == "tc-add" {
                    Op::TcAdd { filter }
                } else {
                    Op::TcDel { filter }
                }
            }
            "classify" => {
                arity(1)?;
                Op::Classify {
                    task: name(w[1], "task")?,
                }
            }
            "classid" => {
                arity(2)?;
                let (mnt, p) = path(w[1])?;
                let value = w[2]
                    .parse::<u32>()
                    .map_err(|e| format!("bad classid `{}` in `{s}`: {e}", w[2]))?;
                Op::Classid {
                    mnt,
                    path: p,
                    value,
                }
            }
            "css-get" | "css-put" => {
                arity(2)?;
                if !crate::kernel::BUILTIN_NAMES.contains(&w[2]) {
                    return Err(format!(
                        "`{verb}` takes a built-in subsystem (cpuset, cpu), got `{}`",
                        w[2]
                    ));
                }
                let (task, ss) = (name(w[1], "task")?, w[2].to_string());
                if verb == "css-get" {
                    Op::CssGet { task, ss }
                } else {
                    Op::CssPut { task, ss }
                }
            }
            other => return Err(format!("unknown operation `{other}` in `{s}`")),
        })
    }
}

impl FromStr for Step {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (op, fail) = match s.rsplit_once(" !nomem@") {
            Some((op, n)) => {
                let n: u32 = n
                    .trim()
                    .parse()
                    .map_err(|e| format!("bad `!nomem@N` in `{s}`: {e}"))?;
                if n == 0 {
                    return Err(format!("`!nomem@N` counts from 1 in `{s}`"));
                }
                (op, Some(n))
            }
            None => (s, None),
        };
        Ok(Step {
            op: op.parse()?,
            fail_alloc: fail,
        })
    }
}

impl Kernel {
    /// Runs one step as a system call by thread `cx`, then reaches the thread's quiescent point:
    /// no kernel lock may still be held, and its pending RCU callbacks run after a grace period.
    pub fn exec(&self, step: &Step, cx: &Cx) -> OpResult {
        cx.begin_op(step.to_string(), step.fail_alloc);
        let text: std::sync::Arc<str> = step.to_string().into();
        crate::trace::step(crate::trace::What::Op(text), || ());
        let r = self.exec_op(step, cx);
        let ret: std::sync::Arc<str> = match &r {
            Ok(v) => v.to_string().into(),
            Err(e) => e.to_string().into(),
        };
        crate::trace::step(crate::trace::What::Ret(ret), || ());
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
                cx.set_current(Some(p));
                self.do_fork(p, child, cx).map(|_| Ret::Done)
            })(),
            Op::Exit { task: t } => (|| {
                let p = task(t)?;
                if p == self.init_task() {
                    return Err(Errno::ESRCH); // the idle task never exits
                }
                cx.set_current(Some(p));
                self.do_exit(p, cx).map(|_| Ret::Done)
            })(),
            Op::TcAdd { filter } => self.tc_filter_add(filter, cx).map(|_| Ret::Done),
            Op::TcDel { filter } => self.tc_filter_del(filter, cx).map(|_| Ret::Done),
            Op::Classify { task: t } => (|| {
                let p = task(t)?;
                if self.is_exiting(p, cx) {
                    return Err(Errno::ESRCH);
                }
                cx.set_current(Some(p));
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
                cx.set_current(Some(p));
                self.css_get_task(p, ss, cx).map(|_| Ret::Done)
            })(),
            Op::CssPut { task: t, ss } => (|| {
                let p = task(t)?;
                self.css_put_task(p, ss, cx).map(|_| Ret::Done)
            })(),
        };
        cx.set_current(None);
        self.quiescent(cx);
        r
    }

    /// Whether a task has started exiting (`PF_EXITING`).
    pub fn is_exiting(&self, t: crate::kernel::TaskH, cx: &Cx) -> bool {
        self.task(t, cx).flags.load(crate::sync::Ordering::SeqCst) & crate::kernel::PF_EXITING != 0
    }

    /// The thread's quiescent point at the return to user space: lockdep's "lock held when
    /// returning to user space", then `call_rcu` callbacks after a grace period.
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
        if self.rcu.has_pending(cx) {
            self.rcu.synchronize(cx);
            for (what, cb) in self.rcu.take_pending(cx) {
                let _f = cx.enter(what);
                cb(self, cx);
            }
        }
    }
}
