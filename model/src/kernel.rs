//! The kernel's objects and global state, and boot (`cgroup_init_early` + `cgroup_init`).
//!
//! Structures follow include/linux/cgroup.h at v2.6.34, reduced to the fields the modelled paths
//! touch. Pointer fields read under RCU are atomics holding [`Handle::to_raw`] words; list and
//! scalar fields protected by a lock are [`LCell`]s; the locks are separate objects taken where
//! the kernel takes them.

use std::collections::HashMap;
use std::sync::{Arc as StdArc, Mutex as StdMutex, OnceLock};

use crate::arena::{Arena, Handle, Object};
use crate::config::Config;
use crate::cx::Cx;
use crate::lockdep::{KMutex, KRwLock, LCell, LWord};
use crate::rcu::Rcu;
use crate::report::{Sink, Violation, ViolationKind};
use crate::sync::{AtomicI64, AtomicU32, AtomicUsize, Ordering};

/// Handle of a `struct css_set`.
pub type CssSetH = Handle<CssSet>;
/// Handle of a `struct cgroup_subsys_state`.
pub type CssH = Handle<Css>;
/// Handle of a `struct cgroup`.
pub type CgroupH = Handle<Cgroup>;
/// Handle of a `struct cg_cgroup_link`.
pub type LinkH = Handle<Link>;
/// Handle of a `struct cgroupfs_root` (and its superblock).
pub type RootH = Handle<Root>;
/// Handle of a `struct cgroup_subsys` (for a module: part of the module's memory).
pub type SubsysH = Handle<Subsys>;
/// Handle of a `struct task_struct`.
pub type TaskH = Handle<Task>;
/// Handle of a `struct tcf_proto` (a tc filter instance).
pub type FilterH = Handle<TcFilter>;

/// `CSS_ROOT` in `css.flags`: a dummytop or hierarchy-root css, never reference counted.
pub const CSS_ROOT: u32 = 1;
/// `CSS_REMOVED` in `css.flags`.
pub const CSS_REMOVED: u32 = 2;
/// `CGRP_REMOVED` in `cgroup.flags`.
pub const CGRP_REMOVED: u32 = 1;
/// `CGRP_RELEASABLE` in `cgroup.flags`.
pub const CGRP_RELEASABLE: u32 = 2;
/// `CGRP_WAIT_ON_RMDIR` in `cgroup.flags`.
pub const CGRP_WAIT_ON_RMDIR: u32 = 4;
/// `PF_EXITING` in `task.flags`.
pub const PF_EXITING: u32 = 4;

/// Loads an RCU-published pointer (`rcu_dereference`).
pub fn rcu_deref<T>(a: &AtomicUsize) -> Option<Handle<T>> {
    Handle::from_raw(a.load(Ordering::Acquire))
}
/// Publishes a pointer (`rcu_assign_pointer`).
pub fn rcu_assign<T>(a: &AtomicUsize, h: Option<Handle<T>>) {
    a.store(Handle::to_raw(h), Ordering::Release)
}

fn ptr_array(n: usize, name: &'static str) -> Vec<AtomicUsize> {
    (0..n).map(|_| AtomicUsize::named(0, name)).collect()
}

/// `struct css_set`.
pub struct CssSet {
    /// `refcount`: one per task pointing at it, plus temporary pins.
    pub refcount: AtomicI64,
    /// `subsys[]`: css pointers; RCU-read, written only at creation and by load/unload under
    /// `css_set_lock` (write).
    pub subsys: Vec<AtomicUsize>,
    /// `cg_links` (css_set_lock): one link per active hierarchy, in hierarchy order.
    pub cg_links: LCell<Vec<LinkH>>,
    /// `tasks` (css_set_lock): maintained once `use_task_css_set_links` is set.
    pub tasks: LCell<Vec<TaskH>>,
}
impl Object for CssSet {
    const KIND: &'static str = "css_set";
}

/// `struct cgroup_subsys_state`, with the per-subsystem state folded in (`classid` is
/// `struct cgroup_cls_state`'s field, meaningful only for net_cls).
pub struct Css {
    /// Which subsystem created it: the container type behind `container_of`.
    pub ss_name: &'static str,
    /// `cgroup` back pointer (rebind moves root csses between dummytop and a hierarchy's top).
    pub cgroup: AtomicUsize,
    /// `refcnt`, biased: 1 means no users, 0 means being removed.
    pub refcnt: AtomicI64,
    /// `flags`: [`CSS_ROOT`], [`CSS_REMOVED`].
    pub flags: AtomicU32,
    /// net_cls: `cgroup_cls_state.classid` (a plain u32 in the kernel, written under cgroup_mutex,
    /// read locklessly by the classifier; a relaxed atomic here so the benign race is not reported).
    pub classid: AtomicU32,
}
impl Object for Css {
    const KIND: &'static str = "css";
}

/// `struct cgroup`, with its dentry folded in (`d_count`, `i_mutex`, the dcache children).
pub struct Cgroup {
    /// `root`.
    pub root: RootH,
    /// `parent` (None for a top cgroup).
    pub parent: Option<CgroupH>,
    /// Directory name (`/` for a top cgroup).
    pub name: String,
    /// `flags`: [`CGRP_REMOVED`], [`CGRP_RELEASABLE`], [`CGRP_WAIT_ON_RMDIR`].
    pub flags: AtomicU32,
    /// `count`: number of css_set links pointing here.
    pub count: AtomicI64,
    /// `subsys[]`: css pointers for the subsystems bound to this cgroup's root.
    pub subsys: Vec<AtomicUsize>,
    /// `children` (cgroup_mutex; changed under the hierarchy mutexes too).
    pub children: LCell<Vec<CgroupH>>,
    /// `css_sets` (css_set_lock): the links of every css_set that points here.
    pub css_sets: LCell<Vec<LinkH>>,
    /// The dentry's children in the dcache (dcache_lock): name → cgroup.
    pub dchildren: LCell<Vec<(String, CgroupH)>>,
    /// The dentry's `d_count`: the dcache's own reference plus every path walk's `dget`.
    pub d_count: AtomicI64,
    /// The directory inode's `i_mutex`.
    pub i_mutex: KMutex,
}
impl Object for Cgroup {
    const KIND: &'static str = "cgroup";
}

/// `struct cg_cgroup_link`. Both pointers are set by `link_css_set` under css_set_lock.
pub struct Link {
    /// `cgrp`.
    pub cgrp: LCell<Option<CgroupH>>,
    /// `cg`.
    pub cg: LCell<Option<CssSetH>>,
}
impl Object for Link {
    const KIND: &'static str = "cg_cgroup_link";
}

/// `struct cgroupfs_root` together with its superblock (`s_active`).
pub struct Root {
    /// This is `rootnode`, the dummy hierarchy.
    pub dummy: bool,
    /// `top_cgroup`.
    pub top: OnceLock<CgroupH>,
    /// `subsys_bits` (cgroup_mutex; `cgroup_test_super` reads it under sb_lock only).
    pub subsys_bits: LWord,
    /// `actual_subsys_bits` (cgroup_mutex).
    pub actual_subsys_bits: LCell<u64>,
    /// `subsys_list` (cgroup_mutex).
    pub subsys_list: LCell<Vec<SubsysH>>,
    /// `number_of_cgroups` (cgroup_mutex).
    pub number_of_cgroups: LCell<i64>,
    /// On the `roots` list (cgroup_mutex).
    pub on_roots: LCell<bool>,
    /// `name` (from `name=`), immutable.
    pub name: String,
    /// `flags` (noprefix), immutable for the model (remount may not change them).
    pub noprefix: bool,
    /// The superblock's `s_active`.
    pub s_active: AtomicI64,
    /// `hierarchy_id`.
    pub hierarchy_id: usize,
}
impl Object for Root {
    const KIND: &'static str = "cgroupfs_root";
}

impl Root {
    /// `top_cgroup` (set once at creation, before the root is published).
    pub fn top(&self) -> CgroupH {
        *self.top.get().expect("top_cgroup set at creation")
    }
}

/// `struct cgroup_subsys`. For a modular subsystem this lives in the module's memory and is freed
/// with it.
pub struct Subsys {
    /// `name`.
    pub name: &'static str,
    /// `module`: index of the owning module in [`Kernel::modules`], None for built-ins.
    pub module: Option<usize>,
    /// `use_id` (blkio sets it).
    pub use_id: bool,
    /// `subsys_id`: assigned at load for modules (0 until then: the static initializer has none).
    pub subsys_id: AtomicUsize,
    /// `root` (cgroup_mutex): the hierarchy it is bound to; `rootnode` when unbound.
    pub root: LCell<RootH>,
    /// `active`.
    pub active: AtomicU32,
    /// `hierarchy_mutex`.
    pub hierarchy_mutex: KMutex,
}
impl Object for Subsys {
    const KIND: &'static str = "cgroup_subsys";
}

/// `struct task_struct`, reduced to its cgroup fields.
pub struct Task {
    /// The model's name for it (`T1`).
    pub name: String,
    /// `cgroups`: RCU pointer, written under `task_lock`.
    pub cgroups: AtomicUsize,
    /// `alloc_lock` (`task_lock`).
    pub alloc_lock: KMutex,
    /// `flags` ([`PF_EXITING`]); set by the task itself, read by attach under task_lock.
    pub flags: AtomicU32,
    /// `cg_list`: the css_set whose `tasks` list holds this task. Written under css_set_lock
    /// (write); `cgroup_exit` tests `list_empty` without the lock first (a benign race in the
    /// kernel), so it is a relaxed atomic word here rather than a cell.
    pub cg_list: AtomicUsize,
}
impl Object for Task {
    const KIND: &'static str = "task";
}

/// `struct tcf_proto` of kind "cgroup": holds a reference on its ops' owner module while it exists.
pub struct TcFilter {
    /// The model's name for it (`F0`).
    pub name: String,
    /// Module owning the ops (`tp->ops->owner`).
    pub owner: usize,
}
impl Object for TcFilter {
    const KIND: &'static str = "tcf_proto";
}

/// Module states (`enum module_state`), plus `UNLOADED` for "not in the module list".
pub mod modstate {
    /// Not loaded (no `struct module`).
    pub const UNLOADED: u32 = 0;
    /// `MODULE_STATE_COMING`: running its init.
    pub const COMING: u32 = 1;
    /// `MODULE_STATE_LIVE`.
    pub const LIVE: u32 = 2;
    /// `MODULE_STATE_GOING`: being removed; `try_module_get` fails.
    pub const GOING: u32 = 3;
}

/// A loadable module providing one cgroup subsystem (net_cls in cls_cgroup.ko, blkio).
pub struct Module {
    /// Module name (`cls_cgroup`, `blk_cgroup`).
    pub name: &'static str,
    /// The subsystem it provides.
    pub ss_name: &'static str,
    /// `state` ([`modstate`]).
    pub state: AtomicU32,
    /// `module_refcount`.
    pub refcnt: AtomicI64,
    /// Its `struct cgroup_subsys` (module memory) while loaded.
    pub ss: AtomicUsize,
    /// Its `struct tcf_proto_ops` is registered (cls_mod_lock).
    pub tcf_registered: LCell<bool>,
    /// `netcls-load-first` design: the module-global `net_cls_subsys_id` (-1 until published).
    pub published_id: AtomicI64,
}

/// The names of the built-in subsystems, in `subsys[]` order.
pub const BUILTIN_NAMES: [&str; 2] = ["cpuset", "cpu"];
/// The modules: (module name, subsystem name, use_id).
pub const MODULES: [(&str, &str, bool); 2] = [
    ("cls_cgroup", "net_cls", false),
    ("blk_cgroup", "blkio", true),
];

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
    pub css_set_table: Vec<LCell<Vec<CssSetH>>>,
    /// `css_set_count` (css_set_lock; `cgroup_get_sb` reads it without the lock).
    pub css_set_count: LWord,
    /// `roots` (cgroup_mutex), in creation order.
    pub roots_list: LCell<Vec<RootH>>,
    /// `root_count` (cgroup_mutex): active hierarchies, the dummy one included.
    pub root_count: LCell<usize>,
    /// The cgroup filesystem's superblocks (sb_lock).
    pub supers: LCell<Vec<RootH>>,
    /// The mount table (vfsmount_lock): mountpoint → hierarchy.
    pub mounts: LCell<Vec<(String, RootH)>>,
    /// The modules.
    pub modules: Vec<Module>,
    /// The device's filter chain (qdisc_lock).
    pub filter_chain: LCell<Vec<FilterH>>,
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
    pub fn boot(cfg: Config, sink: StdArc<Sink>) -> StdArc<Kernel> {
        assert!((1..=2).contains(&cfg.builtin), "1 or 2 built-in subsystems");
        assert!((1..=2).contains(&cfg.modular_slots), "1 or 2 modular slots");
        assert!(cfg.buckets >= 1 && cfg.max_threads >= 1);
        let count = cfg.count();
        let roots = Arena::default();
        let rootnode = roots.alloc(Root {
            dummy: true,
            top: OnceLock::new(),
            subsys_bits: LWord::new(0, "root.subsys_bits"),
            actual_subsys_bits: LCell::new(0),
            subsys_list: LCell::new(Vec::new()),
            number_of_cgroups: LCell::new(1),
            on_roots: LCell::new(false),
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
            cg_links: LCell::new(Vec::new()),
            tasks: LCell::new(Vec::new()),
        });
        csets.set_label(init_css_set, "init_css_set");
        let links = Arena::default();
        let init_css_set_link = links.alloc(Link {
            cgrp: LCell::new(None),
            cg: LCell::new(None),
        });
        links.set_label(init_css_set_link, "init_css_set_link");
        let modules = MODULES
            .iter()
            .map(|&(name, ss_name, _)| Module {
                name,
                ss_name,
                state: AtomicU32::named(modstate::UNLOADED, "module.state"),
                refcnt: AtomicI64::named(0, "module.refcnt"),
                ss: AtomicUsize::named(0, "module.ss:cgroup_subsys"),
                tcf_registered: LCell::new(false),
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
            css_set_table: (0..cfg.buckets).map(|_| LCell::new(Vec::new())).collect(),
            css_set_count: LWord::new(1, "css_set_count"),
            roots_list: LCell::new(Vec::new()),
            root_count: LCell::new(1),
            supers: LCell::new(Vec::new()),
            mounts: LCell::new(Vec::new()),
            modules,
            filter_chain: LCell::new(Vec::new()),
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

    /// `cgroup_init_early` + `cgroup_init`, single-threaded at boot: built-in subsystems get their
    /// dummytop css (`cgroup_init_subsys`), `init_css_set` is linked to dummytop by the static
    /// `init_css_set_link` and hashed, and `init_task` (T0) points at it, holding its initial ref.
    fn cgroup_init(&self) {
        let cx = self.cx(0, "boot");
        let _f = cx.enter("cgroup_init");
        let _m = self.cgroup_mutex.lock(&cx);
        let w = self.css_set_lock.write(&cx);
        for (i, name) in BUILTIN_NAMES.iter().take(self.cfg.builtin).enumerate() {
            let ss = self.subsystems.alloc(Subsys {
                name,
                module: None,
                use_id: false,
                subsys_id: AtomicUsize::named(i, "ss.subsys_id"),
                root: LCell::new(self.rootnode),
                active: AtomicU32::named(1, "ss.active"),
                hierarchy_mutex: KMutex::new(format!("{name}.hierarchy_mutex")),
            });
            self.subsystems.set_label(ss, format!("{name} (built-in)"));
            rcu_assign(&self.subsys[i], Some(ss));
            self.root(self.rootnode, &cx)
                .subsys_list
                .with_mut(&self.cgroup_mutex, &cx, |l| l.push(ss));
            // cgroup_init_subsys: css = ss->create(ss, dummytop); init_cgroup_css.
            let css = self.alloc_css(name, &cx);
            self.init_cgroup_css(css, i, self.dummytop, &cx);
            rcu_assign(&self.cset(self.init_css_set, &cx).subsys[i], Some(css));
        }
        // init_css_set_link: the static link of init_css_set to dummytop.
        self.link_css_set(
            self.init_css_set_link,
            self.init_css_set,
            self.dummytop,
            &cx,
        );
        let b = self.css_set_bucket(self.init_css_set, &cx);
        self.css_set_table[b].with_mut(&self.css_set_lock, &cx, |v| v.insert(0, self.init_css_set));
        drop(w);
        let t0 = self.tasks.alloc(Task::new("T0", self.init_css_set));
        self.tasks.set_label(t0, "init_task");
        self.pids.lock().unwrap().insert("T0".into(), t0);
        if self.use_task_links {
            self.css_set_lock_write_add_task(t0, self.init_css_set, &cx);
        }
    }

    fn css_set_lock_write_add_task(&self, t: TaskH, cg: CssSetH, cx: &Cx) {
        let _w = self.css_set_lock.write(cx);
        self.task(t, cx)
            .cg_list
            .store(Handle::to_raw(Some(cg)), Ordering::Relaxed);
        self.cset(cg, cx)
            .tasks
            .with_mut(&self.css_set_lock, cx, |l| l.insert(0, t));
    }

    /// Dereferences a css_set handle (use-after-free checked).
    pub fn cset<'a>(&self, h: CssSetH, cx: &'a Cx) -> crate::arena::Ref<'a, CssSet> {
        self.csets.get(h, cx)
    }
    /// Dereferences a css handle.
    pub fn css<'a>(&self, h: CssH, cx: &'a Cx) -> crate::arena::Ref<'a, Css> {
        self.csses.get(h, cx)
    }
    /// Dereferences a cgroup handle.
    pub fn cgrp<'a>(&self, h: CgroupH, cx: &'a Cx) -> crate::arena::Ref<'a, Cgroup> {
        self.cgroups.get(h, cx)
    }
    /// Dereferences a link handle.
    pub fn link<'a>(&self, h: LinkH, cx: &'a Cx) -> crate::arena::Ref<'a, Link> {
        self.links.get(h, cx)
    }
    /// Dereferences a root handle.
    pub fn root<'a>(&self, h: RootH, cx: &'a Cx) -> crate::arena::Ref<'a, Root> {
        self.roots.get(h, cx)
    }
    /// Dereferences a subsystem handle.
    pub fn ss<'a>(&self, h: SubsysH, cx: &'a Cx) -> crate::arena::Ref<'a, Subsys> {
        self.subsystems.get(h, cx)
    }
    /// Dereferences a task handle.
    pub fn task<'a>(&self, h: TaskH, cx: &'a Cx) -> crate::arena::Ref<'a, Task> {
        self.tasks.get(h, cx)
    }

    /// `subsys[i]` (an RCU/cgroup_mutex-protected pointer read).
    pub fn subsys_at(&self, i: usize) -> Option<SubsysH> {
        rcu_deref(&self.subsys[i])
    }

    /// Whether the design under check applies `fix`.
    pub fn has(&self, fix: crate::config::Fix) -> bool {
        self.cfg.design.fixes().contains(&fix)
    }

    /// Whether `fault` is injected in this run.
    pub fn fault(&self, fault: crate::faults::Fault) -> bool {
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

    /// Allocates a css for subsystem `ss_name` (the subsystem's `create` callback's kzalloc).
    pub fn alloc_css(&self, ss_name: &'static str, _cx: &Cx) -> CssH {
        self.csses.alloc(Css {
            ss_name,
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
        rcu_assign(&c.cgroup, Some(cgrp));
        c.refcnt.store(1, Ordering::Relaxed);
        let is_top = self.cgrp(cgrp, cx).parent.is_none();
        c.flags
            .store(if is_top { CSS_ROOT } else { 0 }, Ordering::Relaxed);
        let g = self.cgrp(cgrp, cx);
        if rcu_deref::<Css>(&g.subsys[id]).is_some() {
            self.bug(
                cx,
                "BUG_ON(cgrp->subsys[ss->subsys_id])",
                "css slot already set",
            );
        }
        rcu_assign(&g.subsys[id], Some(css));
        let ssname = c.ss_name;
        drop(c);
        let where_ = if cgrp == self.dummytop {
            "dummytop".to_string()
        } else {
            self.cgroups.label(cgrp)
        };
        self.csses
            .set_label(css, format!("css of {ssname} on {where_}"));
    }
}

impl Cgroup {
    /// A fresh cgroup (`init_cgroup_housekeeping`).
    pub fn new(
        root: RootH,
        parent: Option<CgroupH>,
        name: String,
        count: usize,
        d_count: i64,
    ) -> Self {
        let lock = format!("i_mutex of {name}");
        Cgroup {
            root,
            parent,
            name,
            flags: AtomicU32::named(0, "cgroup.flags"),
            count: AtomicI64::named(0, "cgroup.count"),
            subsys: ptr_array(count, "cgroup.subsys[]:css"),
            children: LCell::new(Vec::new()),
            css_sets: LCell::new(Vec::new()),
            dchildren: LCell::new(Vec::new()),
            d_count: AtomicI64::named(d_count, "dentry.d_count"),
            i_mutex: KMutex::new(lock),
        }
    }
}

impl Task {
    /// A task pointing at `cg` (the caller accounts for its reference).
    pub fn new(name: &str, cg: CssSetH) -> Self {
        Task {
            name: name.to_string(),
            cgroups: AtomicUsize::named(Handle::to_raw(Some(cg)), "task.cgroups:css_set"),
            alloc_lock: KMutex::new(format!("task_lock({name})")),
            flags: AtomicU32::named(0, "task.flags"),
            cg_list: AtomicUsize::named(0, "task.cg_list:css_set"),
        }
    }
}

/// Allocates a fresh, empty css_set (the kmalloc in `find_css_set`).
pub(crate) fn new_css_set(count: usize) -> CssSet {
    CssSet {
        refcount: AtomicI64::named(1, "css_set.refcount"),
        subsys: ptr_array(count, "css_set.subsys[]:css"),
        cg_links: LCell::new(Vec::new()),
        tasks: LCell::new(Vec::new()),
    }
}
