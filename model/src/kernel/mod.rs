//! The v2.6.34 model: the kernel's global state and boot, and one module per kernel source.
//!
//! - [`types`]: the objects (include/linux/cgroup.h);
//! - [`cgroup`]: kernel/cgroup.c, split along its own sections;
//! - [`module`]: kernel/module.c; [`blk_cgroup`]: block/blk-cgroup.c; [`net_cls`]:
//!   net/sched/cls_cgroup.c and the tc filters of net/sched/cls_api.c;
//! - [`vfs`]: the slice of fs/super.c, fs/namespace.c and fs/namei.c that orders cgroup code;
//! - [`ops`] and [`syscall`]: the operations user space issues, and their entry into the kernel.

pub mod anchors;
pub mod blk_cgroup;
pub mod builtin;
pub mod cgroup;
pub mod config;
pub mod errno;
pub mod gfp;
pub mod module;
pub mod net_cls;
pub mod ops;
pub mod syscall;
pub mod types;
pub mod vfs;

pub use types::*;

/// Pids the model has: `T0` (the idle task) to `T15`.
pub const PID_MAX: usize = 16;
/// File descriptors the model has: `fd0` to `fd7`, in one table the model threads share (the
/// threads of one process).
pub const FD_MAX: usize = 8;

use std::sync::{Arc as StdArc, Mutex as StdMutex};

use crate::kernel::anchors::kfn;
use crate::kernel::config::Config;
use crate::sim::arena::Handle;
use crate::sim::arena::{Arena, Ref};
use crate::sim::atomic::{AtomicI64, AtomicU32, AtomicUsize};
use crate::sim::cx::Cx;
use crate::sim::lockdep::{KMutex, KRwLock, LockedBy, LockedWord};
use crate::sim::rcu::{Rcu, RcuFuncs};
use crate::sim::report::{Sink, Violation, ViolationKind};
use crate::sim::sync::Ordering;
use crate::variants::{Fault, Fix};

/// The whole modelled kernel.
pub struct Kernel {
    /// The configuration.
    pub cfg: Config,
    /// Where violations are reported.
    pub sink: StdArc<Sink>,
    /// `cgroup_mutex`.
    pub cgroup_mutex: KMutex,
    /// `css_set_lock` (rwlock).
    pub css_set_lock: KRwLock,
    /// `release_list_lock`.
    pub release_list_lock: KMutex,
    /// `module_mutex`.
    pub module_mutex: KMutex,
    /// `stop_machine` against preempt-disabled regions: `try_module_get`/`module_put` read it,
    /// `__try_stop_module` and `free_module`'s `stop_machine(__unlink_module)` write it.
    pub stop_machine: KRwLock,
    /// `tasklist_lock`: fork publishes the child's pid under it (`attach_pid`).
    pub tasklist_lock: KRwLock,
    /// `sb_lock`: the filesystem's superblock list.
    pub sb_lock: KMutex,
    /// `vfsmount_lock`: the mount table.
    pub vfsmount_lock: KMutex,
    /// `dcache_lock`.
    pub dcache_lock: KMutex,
    /// `rtnl_lock`.
    pub rtnl: KMutex,
    /// `cls_mod_lock` (rwlock): registered tc classifier ops.
    pub cls_mod_lock: KRwLock,
    /// The qdisc root lock: the filter chain of the (single) device.
    pub qdisc_lock: KMutex,
    /// sched.c's `shares_mutex`: `sched_group_set_shares` holds it across its grace period.
    pub shares_mutex: KMutex,
    /// cpuset.c's `callback_mutex`: `update_flag` stores a cpuset's `flags` under it.
    pub callback_mutex: KMutex,
    /// blk-cgroup.c's `blkio_list_lock` (a spinlock): `blkiocg_weight_write` holds it around
    /// `blkcg->lock` (folded into it: nothing else modelled takes `blkcg->lock`).
    pub blkio_list_lock: KMutex,
    /// RCU (shared with every thread's context: spinning locks disable preemption in it).
    pub rcu: StdArc<Rcu>,

    /// css_sets.
    pub csets: Arena<CssSet>,
    /// csses.
    pub csses: Arena<Css>,
    /// cgroups.
    pub cgroups: Arena<Cgroup>,
    /// cg_cgroup_links.
    pub links: Arena<Link>,
    /// cgroupfs_roots.
    pub roots: Arena<Root>,
    /// cgroup_subsys descriptors.
    pub subsystems: Arena<Subsys>,
    /// task_structs.
    pub tasks: Arena<Task>,
    /// tcf_protos.
    pub filters: Arena<TcFilter>,
    /// super_blocks.
    pub sbs: Arena<SuperBlock>,
    /// cftypes.
    pub cftypes: Arena<Cftype>,
    /// Control files' dentries.
    pub cgfiles: Arena<CgFile>,
    /// Open files.
    pub files: Arena<File>,
    /// cgroup_pidlists.
    pub pidlists: Arena<Pidlist>,
    /// cgroup_seqfile_states.
    pub seqstates: Arena<SeqfileState>,

    /// `subsys[CGROUP_SUBSYS_COUNT]`: modular slots written under cgroup_mutex.
    pub subsys: Vec<AtomicUsize>,
    /// `rootnode`.
    pub rootnode: RootH,
    /// `dummytop` (`rootnode.top_cgroup`).
    pub dummytop: CgroupH,
    /// `init_css_set`.
    pub init_css_set: CssSetH,
    /// `init_css_set_link`: the static link of `init_css_set` to dummytop (never kfreed).
    pub init_css_set_link: LinkH,
    /// `css_set_table` (css_set_lock).
    pub css_set_table: Vec<LockedBy<Vec<CssSetH>>>,
    /// `css_set_count` (css_set_lock; `cgroup_get_sb` reads it without the lock).
    pub css_set_count: LockedWord,
    /// `roots` (cgroup_mutex), in creation order.
    pub roots_list: LockedBy<Vec<RootH>>,
    /// `root_count` (cgroup_mutex): active hierarchies, the dummy one included.
    pub root_count: LockedBy<usize>,
    /// The cgroup filesystem's superblocks, `fs_supers` (sb_lock).
    pub supers: LockedBy<Vec<SbH>>,
    /// The mount table (vfsmount_lock): mountpoint → superblock.
    pub mounts: LockedBy<Vec<(String, SbH)>>,
    /// `release_list` (release_list_lock): cgroups queued for the release agent.
    pub release_list: LockedBy<Vec<CgroupH>>,
    /// The core's control files (`files[]`: `tasks`, `notify_on_release`), static.
    pub core_cftypes: Vec<CftH>,
    /// The pid hash (`find_task_by_vpid`): slot `n` is pid `n`, published by `attach_pid` under
    /// `tasklist_lock` and read under RCU.
    pub pid_hash: Vec<AtomicUsize>,
    /// The file descriptor table (`current->files->fdt->fd[]`), shared by every model thread:
    /// `fd_install` publishes with `rcu_assign_pointer` under `file_lock`; `fget` reads under RCU.
    pub fd_table: Vec<AtomicUsize>,
    /// `files->file_lock`.
    pub file_lock: KMutex,
    /// The modules.
    pub modules: Vec<Module>,
    /// The device's filter chain (qdisc_lock).
    pub filter_chain: LockedBy<Vec<FilterH>>,
    /// `use_task_css_set_links`.
    pub use_task_links: bool,

    /// Out of band: tasks that have passed the pointer swap in `cgroup_exit` (they hold no ref).
    pub exited: StdMutex<Vec<TaskH>>,
    /// Out of band: css references held by subsystem paths on behalf of tasks (`css-get`).
    pub css_pins: StdMutex<Vec<(TaskH, CssH)>>,
    /// Out of band: the next hierarchy id.
    pub next_hierarchy_id: StdMutex<usize>,
}

impl Kernel {
    /// Boots a kernel: `cgroup_init_early` and `cgroup_init` with the built-in subsystems, the
    /// dummy hierarchy, `init_css_set` and `init_task` (T0). Must run inside the model execution
    /// (loom and shuttle primitives are created here).
    ///
    /// The handle is a std `Arc` on purpose: a loom `Arc` would add two atomic operations per
    /// thread (clone, drop) that loom would interleave for nothing (measured: 3x the executions).
    #[doc(alias = "cgroup_init_early")]
    #[doc(alias = "start_kernel")]
    pub fn boot(cfg: Config, sink: StdArc<Sink>) -> StdArc<Kernel> {
        assert!((1..=2).contains(&cfg.builtin), "1 or 2 built-in subsystems");
        assert!((1..=2).contains(&cfg.modular_slots), "1 or 2 modular slots");
        assert!(cfg.buckets >= 1 && cfg.max_threads >= 1);
        let count = cfg.count();
        let roots = Arena::default();
        let rootnode = roots.alloc(Root::new(true, String::new(), false, 0, 0));
        roots.set_label(rootnode, "rootnode");
        let cgroups = Arena::default();
        let dummytop = cgroups.alloc(Cgroup::new(rootnode, None, "/".into(), count, 1));
        cgroups.set_label(dummytop, "dummytop");
        let _ = roots.peek(rootnode).top.set(dummytop);
        let csets = Arena::default();
        let init_css_set = csets.alloc(new_css_set(count));
        csets.set_label(init_css_set, "init_css_set");
        let links = Arena::default();
        let init_css_set_link = links.alloc(Link {
            cgrp: LockedBy::new(None),
            cg: LockedBy::new(None),
        });
        links.set_label(init_css_set_link, "init_css_set_link");
        let cftypes = Arena::default();
        let core_cftypes = [
            ("tasks", CftKind::Tasks),
            ("notify_on_release", CftKind::NotifyOnRelease),
        ]
        .into_iter()
        .map(|(name, kind)| {
            let c = cftypes.alloc(Cftype {
                name,
                ss: None,
                kind,
            });
            cftypes.set_label(c, format!("{name} (cgroup.c files[], static)"));
            c
        })
        .collect();
        let modules = MODULAR
            .iter()
            .map(|&ops| Module {
                name: ops.module.expect("a modular subsystem names its module"),
                ops,
                state: AtomicU32::named(modstate::UNLOADED, "module.state"),
                refcnt: AtomicI64::named(0, "module.refcnt"),
                ss: AtomicUsize::named(0, "module.ss:cgroup_subsys"),
                tcf_registered: LockedBy::new(false),
                published_id: AtomicI64::named(-1, "net_cls_subsys_id"),
            })
            .collect();
        let k = Kernel {
            sink,
            cgroup_mutex: KMutex::new("cgroup_mutex"),
            css_set_lock: KRwLock::spin("css_set_lock"),
            release_list_lock: KMutex::spin_no_rcu("release_list_lock"),
            module_mutex: KMutex::new("module_mutex"),
            stop_machine: KRwLock::spin("stop_machine"),
            tasklist_lock: KRwLock::spin_no_rcu("tasklist_lock"),
            sb_lock: KMutex::spin_no_rcu("sb_lock"),
            vfsmount_lock: KMutex::spin_no_rcu("vfsmount_lock"),
            dcache_lock: KMutex::spin_no_rcu("dcache_lock"),
            rtnl: KMutex::new("rtnl_mutex"),
            cls_mod_lock: KRwLock::spin("cls_mod_lock"),
            qdisc_lock: KMutex::spin("qdisc_root_lock"),
            shares_mutex: KMutex::new("shares_mutex"),
            callback_mutex: KMutex::new("callback_mutex"),
            blkio_list_lock: KMutex::spin("blkio_list_lock"),
            rcu: StdArc::new(Rcu::new(
                cfg.max_threads,
                cfg.rcu,
                cfg.preempt,
                RcuFuncs {
                    read_lock: &kfn::rcu_read_lock,
                    read_unlock: &kfn::rcu_read_unlock,
                    synchronize: &kfn::synchronize_rcu,
                    synchronize_sched: &kfn::synchronize_sched,
                },
            )),
            csets,
            csses: Arena::default(),
            cgroups,
            links,
            roots,
            subsystems: Arena::default(),
            tasks: Arena::default(),
            filters: Arena::default(),
            sbs: Arena::default(),
            cftypes,
            cgfiles: Arena::default(),
            files: Arena::default(),
            pidlists: Arena::default(),
            seqstates: Arena::default(),
            subsys: ptr_array(count, "subsys[]:cgroup_subsys"),
            rootnode,
            dummytop,
            init_css_set,
            init_css_set_link,
            css_set_table: (0..cfg.buckets)
                .map(|_| LockedBy::new(Vec::new()))
                .collect(),
            css_set_count: LockedWord::new(0, "css_set_count"),
            roots_list: LockedBy::new(Vec::new()),
            root_count: LockedBy::new(0),
            supers: LockedBy::new(Vec::new()),
            mounts: LockedBy::new(Vec::new()),
            release_list: LockedBy::new(Vec::new()),
            core_cftypes,
            pid_hash: ptr_array(PID_MAX, "pid_hash:task"),
            fd_table: ptr_array(FD_MAX, "fdt->fd[]:file"),
            file_lock: KMutex::spin_no_rcu("files->file_lock"),
            modules,
            filter_chain: LockedBy::new(Vec::new()),
            use_task_links: cfg.task_links,
            exited: StdMutex::new(Vec::new()),
            css_pins: StdMutex::new(Vec::new()),
            next_hierarchy_id: StdMutex::new(1),
            cfg,
        };
        k.start_kernel();
        StdArc::new(k)
    }

    /// `init_task` (T0): the idle task, holder of `init_css_set`'s initial reference. It forks but
    /// never exits and cannot be attached (it is not in the pid hash). Out of band.
    pub fn init_task(&self) -> TaskH {
        self.tasks.live()[0]
    }

    /// A context for model thread `tid` of this kernel.
    pub fn cx(&self, tid: usize, role: impl Into<String>) -> Cx {
        assert!(
            tid < self.cfg.max_threads,
            "thread {tid} beyond max_threads"
        );
        let cx = Cx::new(
            tid,
            role,
            self.sink.clone(),
            self.cfg.lockdep,
            Some(self.rcu.clone()),
        );
        cx.install_trace();
        cx
    }

    /// Dereferences a css_set handle (use-after-free checked).
    pub fn cset<'a>(&self, h: CssSetH, cx: &'a Cx) -> Ref<'a, CssSet> {
        self.csets.get(h, cx)
    }
    /// Dereferences a css handle.
    pub fn css<'a>(&self, h: CssH, cx: &'a Cx) -> Ref<'a, Css> {
        self.csses.get(h, cx)
    }
    /// Dereferences a cgroup handle.
    pub fn cgrp<'a>(&self, h: CgroupH, cx: &'a Cx) -> Ref<'a, Cgroup> {
        self.cgroups.get(h, cx)
    }
    /// Dereferences a link handle.
    pub fn link<'a>(&self, h: LinkH, cx: &'a Cx) -> Ref<'a, Link> {
        self.links.get(h, cx)
    }
    /// Dereferences a root handle.
    pub fn root<'a>(&self, h: RootH, cx: &'a Cx) -> Ref<'a, Root> {
        self.roots.get(h, cx)
    }
    /// Dereferences a subsystem handle.
    pub fn ss<'a>(&self, h: SubsysH, cx: &'a Cx) -> Ref<'a, Subsys> {
        self.subsystems.get(h, cx)
    }
    /// Dereferences a task handle.
    pub fn task<'a>(&self, h: TaskH, cx: &'a Cx) -> Ref<'a, Task> {
        self.tasks.get(h, cx)
    }

    /// `subsys[i]`: a plain load of the slot (the kernel reads it under cgroup_mutex, or
    /// locklessly where the caller's subsystem is pinned).
    pub fn subsys_at(&self, i: usize) -> Option<SubsysH> {
        Handle::from_raw(self.subsys[i].load(Ordering::Relaxed))
    }

    /// Whether the design under check applies `fix`.
    pub fn has(&self, fix: Fix) -> bool {
        self.cfg.design.fixes().contains(&fix)
    }

    /// Whether `fault` is injected in this run.
    pub fn fault(&self, fault: Fault) -> bool {
        self.cfg.faults.has(fault)
    }

    /// Number of built-in slots (`CGROUP_BUILTIN_SUBSYS_COUNT`).
    pub fn builtin(&self) -> usize {
        self.cfg.builtin
    }

    /// `CGROUP_SUBSYS_COUNT`.
    pub fn count(&self) -> usize {
        self.cfg.count()
    }

    /// Reports a `BUG_ON`/`WARN_ON` that fired (or a bad dereference) and stops the execution.
    pub fn bug(&self, cx: &Cx, name: &str, what: impl Into<String>) -> ! {
        self.sink.fail(Violation::new(
            ViolationKind::Bug,
            name,
            format!("{} at {}", what.into(), cx.whereabouts()),
        ))
    }
}
