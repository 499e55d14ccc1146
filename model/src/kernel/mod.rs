//! The v2.6.34 model: the kernel's global state and boot, and one module per kernel source.
//!
//! - [`types`]: the objects (include/linux/cgroup.h);
//! - [`cgroup`]: kernel/cgroup.c, split along its own sections;
//! - [`module`]: kernel/module.c; [`blk_cgroup`]: block/blk-cgroup.c; [`net_cls`]:
//!   net/sched/cls_cgroup.c and the tc filters of net/sched/cls_api.c;
//! - [`vfs`]: the slice of fs/super.c, fs/namespace.c and fs/namei.c that orders cgroup code;
//! - [`ops`] and [`syscall`]: the operations user space issues, and their entry into the kernel.

pub mod blk_cgroup;
pub mod builtin;
pub mod cgroup;
pub mod config;
pub mod errno;
pub mod module;
pub mod net_cls;
pub mod ops;
pub mod syscall;
pub mod types;
pub mod vfs;

pub use types::*;

use std::collections::HashMap;
use std::sync::{Arc as StdArc, Mutex as StdMutex, OnceLock};

use crate::kernel::config::Config;
use crate::sim::arena::{Arena, Ref};
use crate::sim::atomic::{AtomicI64, AtomicU32, AtomicUsize};
use crate::sim::cx::Cx;
use crate::sim::lockdep::{KMutex, KRwLock, LockedBy, LockedWord};
use crate::sim::rcu::{rcu_dereference, Rcu};
use crate::sim::report::{Sink, Violation, ViolationKind};
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
    /// `__try_stop_module` writes it.
    pub stop_machine: KRwLock,
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
    /// RCU.
    pub rcu: Rcu,

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
    /// The cgroup filesystem's superblocks (sb_lock).
    pub supers: LockedBy<Vec<RootH>>,
    /// The mount table (vfsmount_lock): mountpoint → hierarchy.
    pub mounts: LockedBy<Vec<(String, RootH)>>,
    /// The modules.
    pub modules: Vec<Module>,
    /// The device's filter chain (qdisc_lock).
    pub filter_chain: LockedBy<Vec<FilterH>>,
    /// `use_task_css_set_links`.
    pub use_task_links: bool,

    /// Out of band: pid table (`find_task_by_vpid`). task_structs are never freed in the model.
    pub pids: StdMutex<HashMap<String, TaskH>>,
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
        let rootnode = roots.alloc(Root {
            dummy: true,
            top: OnceLock::new(),
            subsys_bits: LockedWord::new(0, "root.subsys_bits"),
            actual_subsys_bits: LockedBy::new(0),
            subsys_list: LockedBy::new(Vec::new()),
            number_of_cgroups: LockedBy::new(1),
            on_roots: LockedBy::new(false),
            name: String::new(),
            noprefix: false,
            s_active: AtomicI64::named(1, "sb.s_active"),
            hierarchy_id: 0,
        });
        roots.set_label(rootnode, "rootnode");
        let cgroups = Arena::default();
        let dummytop = cgroups.alloc(Cgroup::new(rootnode, None, "/".into(), count, 1));
        cgroups.set_label(dummytop, "dummytop");
        let _ = roots.peek(rootnode).top.set(dummytop);
        let csets = Arena::default();
        let init_css_set = csets.alloc(CssSet {
            refcount: AtomicI64::named(1, "css_set.refcount"),
            subsys: ptr_array(count, "css_set.subsys[]:css"),
            cg_links: LockedBy::new(Vec::new()),
            tasks: LockedBy::new(Vec::new()),
        });
        csets.set_label(init_css_set, "init_css_set");
        let links = Arena::default();
        let init_css_set_link = links.alloc(Link {
            cgrp: LockedBy::new(None),
            cg: LockedBy::new(None),
        });
        links.set_label(init_css_set_link, "init_css_set_link");
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
            css_set_lock: KRwLock::new("css_set_lock"),
            release_list_lock: KMutex::new("release_list_lock"),
            module_mutex: KMutex::new("module_mutex"),
            stop_machine: KRwLock::new("stop_machine"),
            sb_lock: KMutex::new("sb_lock"),
            vfsmount_lock: KMutex::new("vfsmount_lock"),
            dcache_lock: KMutex::new("dcache_lock"),
            rtnl: KMutex::new("rtnl_mutex"),
            cls_mod_lock: KRwLock::new("cls_mod_lock"),
            qdisc_lock: KMutex::new("qdisc_root_lock"),
            rcu: Rcu::new(cfg.max_threads),
            csets,
            csses: Arena::default(),
            cgroups,
            links,
            roots,
            subsystems: Arena::default(),
            tasks: Arena::default(),
            filters: Arena::default(),
            subsys: ptr_array(count, "subsys[]:cgroup_subsys"),
            rootnode,
            dummytop,
            init_css_set,
            init_css_set_link,
            css_set_table: (0..cfg.buckets)
                .map(|_| LockedBy::new(Vec::new()))
                .collect(),
            css_set_count: LockedWord::new(1, "css_set_count"),
            roots_list: LockedBy::new(Vec::new()),
            root_count: LockedBy::new(1),
            supers: LockedBy::new(Vec::new()),
            mounts: LockedBy::new(Vec::new()),
            modules,
            filter_chain: LockedBy::new(Vec::new()),
            use_task_links: cfg.task_links,
            pids: StdMutex::new(HashMap::new()),
            exited: StdMutex::new(Vec::new()),
            css_pins: StdMutex::new(Vec::new()),
            next_hierarchy_id: StdMutex::new(1),
            cfg,
        };
        k.cgroup_init();
        StdArc::new(k)
    }

    /// `init_task` (T0): the idle task, holder of `init_css_set`'s initial reference. It forks but
    /// never exits and cannot be attached (it is not in the pid hash).
    pub fn init_task(&self) -> TaskH {
        self.pids.lock().unwrap()["T0"]
    }

    /// A context for model thread `tid` of this kernel.
    pub fn cx(&self, tid: usize, role: impl Into<String>) -> Cx {
        assert!(
            tid < self.cfg.max_threads,
            "thread {tid} beyond max_threads"
        );
        let cx = Cx::new(tid, role, self.sink.clone(), self.cfg.lockdep);
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

    /// `subsys[i]` (an RCU/cgroup_mutex-protected pointer read).
    pub fn subsys_at(&self, i: usize) -> Option<SubsysH> {
        rcu_dereference(&self.subsys[i])
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
