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
//! open fd1 m0/a/net_cls.classid w                  (modes r, w, rw; fd0 to fd7)
//! read fd1                write fd1 7              close fd1
//! ```
//!
//! Tasks are `T0` (the idle task) to `T15`, named by their pid. `attach T1 m0/a` is
//! `echo 1 > m0/a/tasks` and `classid m0/a 7` is `echo 7 > m0/a/net_cls.classid`.
//!
//! Any step may end in `!nomem@N`: the N-th allocation the step makes fails (1-based), which is how
//! a scenario chooses an -ENOMEM path.
//!
//! The file is long because the op language's syntax, printing and parsing live together.

use std::fmt;
use std::str::FromStr;

use crate::kernel::errno::Errno;
use crate::kernel::{BUILTIN, MODULAR};

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
    /// `open("MNT/PATH/FILE", MODE)` into descriptor `fd`.
    Open {
        /// The descriptor (`fd1` is 1).
        fd: usize,
        /// Mountpoint name.
        mnt: String,
        /// Path of the file below it.
        path: String,
        /// Open for reading.
        read: bool,
        /// Open for writing.
        write: bool,
    },
    /// `read(fd)`.
    Read {
        /// The descriptor.
        fd: usize,
    },
    /// `write(fd, "VALUE")`.
    Write {
        /// The descriptor.
        fd: usize,
        /// The number written.
        value: u64,
    },
    /// `close(fd)`.
    Close {
        /// The descriptor.
        fd: usize,
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
    /// A number read from a control file.
    Value(u64),
    /// The pids read from a `tasks` file, as a bit set (pid `n` is bit `n`).
    Pids(u16),
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
    MODULAR
        .iter()
        .position(|o| o.name == name || o.module == Some(name))
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
            Op::Open {
                fd,
                mnt,
                path,
                read,
                write,
            } => {
                let mode = match (read, write) {
                    (true, true) => "rw",
                    (true, false) => "r",
                    _ => "w",
                };
                write!(f, "open fd{fd} {} {mode}", join_path(mnt, path))
            }
            Op::Read { fd } => write!(f, "read fd{fd}"),
            Op::Write { fd, value } => write!(f, "write fd{fd} {value}"),
            Op::Close { fd } => write!(f, "close fd{fd}"),
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
            Ret::Value(v) => write!(f, "{v}"),
            Ret::Pids(p) => {
                let pids: Vec<String> = (0..16)
                    .filter(|n| p & (1 << n) != 0)
                    .map(|n| n.to_string())
                    .collect();
                write!(f, "pids [{}]", pids.join(" "))
            }
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
            if !name_ok(x) {
                return Err(format!("bad {what} `{x}` in `{s}`"));
            }
            if what == "task" && crate::kernel::Kernel::pid_of(x).is_none() {
                return Err(format!(
                    "bad task `{x}` in `{s}`: tasks are T0 to T{}, named by pid",
                    crate::kernel::PID_MAX - 1
                ));
            }
            Ok(x.to_string())
        };
        let fd = |x: &str| -> Result<usize, String> {
            x.strip_prefix("fd")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|&n| n < crate::kernel::FD_MAX)
                .ok_or_else(|| {
                    format!(
                        "bad descriptor `{x}` in `{s}`: fd0 to fd{}",
                        crate::kernel::FD_MAX - 1
                    )
                })
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
                if !BUILTIN.iter().any(|o| o.name == w[2]) {
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
            "open" => {
                arity(3)?;
                let fd = fd(w[1])?;
                let (mnt, p) = path(w[2])?;
                if p.is_empty() {
                    return Err(format!("`open` needs MNT/PATH/FILE, got `{s}`"));
                }
                let (read, write) = match w[3] {
                    "r" => (true, false),
                    "w" => (false, true),
                    "rw" => (true, true),
                    m => return Err(format!("bad mode `{m}` in `{s}` (r, w, rw)")),
                };
                Op::Open {
                    fd,
                    mnt,
                    path: p,
                    read,
                    write,
                }
            }
            "read" | "close" => {
                arity(1)?;
                let fd = fd(w[1])?;
                if verb == "read" {
                    Op::Read { fd }
                } else {
                    Op::Close { fd }
                }
            }
            "write" => {
                arity(2)?;
                let fd = fd(w[1])?;
                let value = w[2]
                    .parse::<u64>()
                    .map_err(|e| format!("bad value `{}` in `{s}`: {e}", w[2]))?;
                Op::Write { fd, value }
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
