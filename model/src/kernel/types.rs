//! The kernel's objects, apart from the code that uses them, as include/linux/cgroup.h has them
//! (with the few fields of include/linux/sched.h, include/linux/module.h and
//! include/net/sch_generic.h that the modelled paths touch), reduced to those fields.
//!
//! Pointer fields read under RCU are atomics holding [`Handle::to_raw`] words; list and scalar
//! fields protected by a lock are [`LockedBy`] cells naming that lock on every access; the locks
//! are separate objects taken where the kernel takes them.
//!
//! The file is long because it holds every modelled kernel object, as cgroup.h does.

use std::sync::OnceLock;

use crate::kernel::errno::Errno;
use crate::kernel::Kernel;
use crate::sim::arena::{Handle, Object};
use crate::sim::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicUsize};
use crate::sim::cx::Cx;
use crate::sim::lockdep::{KMutex, KRwLock, KSemaphore, LockedBy, LockedWord};
use crate::sim::spin::SpinWait;

/// Handle of a `struct css_set`.
pub type CssSetH = Handle<CssSet>;
/// Handle of a `struct cgroup_subsys_state`.
pub type CssH = Handle<Css>;
/// Handle of a `struct cgroup`.
pub type CgroupH = Handle<Cgroup>;
/// Handle of a `struct cg_cgroup_link`.
pub type LinkH = Handle<Link>;
/// Handle of a `struct cgroupfs_root`.
pub type RootH = Handle<Root>;
/// Handle of a `struct super_block`.
pub type SbH = Handle<SuperBlock>;
/// Handle of a `struct cftype` (a control file's type: static in the kernel image or a module).
pub type CftH = Handle<Cftype>;
/// Handle of the dentry of a control file.
pub type CgFileH = Handle<CgFile>;
/// Handle of a `struct file` open on a control file.
pub type FileH = Handle<File>;
/// Handle of a `struct cgroup_pidlist`.
pub type PidlistH = Handle<Pidlist>;
/// A `struct cgroup_seqfile_state`.
pub type SeqStateH = Handle<SeqfileState>;
/// Handle of a `struct cgroup_subsys` (for a module: part of the module's memory).
pub type SubsysH = Handle<Subsys>;
/// Handle of a `struct task_struct`.
pub type TaskH = Handle<Task>;
/// Handle of a `struct tcf_proto` (a tc filter instance).
pub type FilterH = Handle<TcFilter>;

/// `CSS_ROOT` in `css.flags`: a dummytop css (set by `init_cgroup_css`, cgroup.c:3237; rebind
/// `I_MUTEX_PARENT` and `I_MUTEX_CHILD` (include/linux/fs.h:806-812): the nesting annotations
/// of a directory's `i_mutex` taken inside its parent's, or inside cgroup_mutex.
pub const I_MUTEX_PARENT: u32 = 1;
/// `I_MUTEX_CHILD`.
pub const I_MUTEX_CHILD: u32 = 2;
/// `SINGLE_DEPTH_NESTING` (include/linux/lockdep.h:448): `alloc_super` takes a new
/// superblock's `s_umount` in it (fs/super.c:95), as sget may hold an old one's.
pub const SINGLE_DEPTH_NESTING: u32 = 1;

/// moves it to a hierarchy's top cgroup), never reference counted.
pub const CSS_ROOT: u32 = 1;
/// `CSS_REMOVED` in `css.flags`.
pub const CSS_REMOVED: u32 = 2;
/// `CGRP_REMOVED` in `cgroup.flags` (bit 0, include/linux/cgroup.h:145).
pub const CGRP_REMOVED: u32 = 1;
/// `CGRP_RELEASABLE` in `cgroup.flags` (bit 1): the cgroup had tasks or css references.
pub const CGRP_RELEASABLE: u32 = 2;
/// `CGRP_NOTIFY_ON_RELEASE` in `cgroup.flags` (bit 2): run the release agent when it empties.
pub const CGRP_NOTIFY_ON_RELEASE: u32 = 4;
/// `CGRP_WAIT_ON_RMDIR` in `cgroup.flags` (bit 3).
pub const CGRP_WAIT_ON_RMDIR: u32 = 8;
/// `PF_EXITING` in `task.flags`.
pub const PF_EXITING: u32 = 4;

pub(crate) fn ptr_array(n: usize, name: &'static str) -> Vec<AtomicUsize> {
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
    pub cg_links: LockedBy<Vec<LinkH>>,
    /// `tasks` (css_set_lock): maintained once `use_task_css_set_links` is set.
    pub tasks: LockedBy<Vec<TaskH>>,
}
impl Object for CssSet {
    const KIND: &'static str = "css_set";
}

/// `struct cgroup_subsys_state`, with the per-subsystem state folded in (`classid` is
/// `struct cgroup_cls_state`'s field, meaningful only for net_cls).
pub struct Css {
    /// Which subsystem created it: the container type behind `container_of`.
    pub ss: &'static SubsysOps,
    /// `cgroup` back pointer (rebind moves root csses between dummytop and a hierarchy's top).
    pub cgroup: AtomicUsize,
    /// `refcnt`, biased: 1 means no users, 0 means being removed.
    pub refcnt: AtomicI64,
    /// `flags`: [`CSS_ROOT`], [`CSS_REMOVED`].
    pub flags: AtomicU32,
    /// The window during which `cgroup_clear_css_refs` holds `refcnt` at 0 and `css_tryget`
    /// spins (the model's, not the kernel's: [`crate::sim::spin`]).
    pub spin: SpinWait,
    /// net_cls: `cgroup_cls_state.classid`: a plain u32 in the kernel, written by
    /// `write_classid` and read by the classifier with no lock at all (a relaxed atomic here:
    /// a word-sized racy access, which KCSAN would report and the kernel tolerates).
    pub classid: AtomicU32,
    /// cpuset: `struct cpuset`'s `flags` (`CS_CPU_EXCLUSIVE` is the one the model's file reads
    /// and writes): written under `callback_mutex` by `update_flag`, tested with no lock.
    pub cs_flags: AtomicU32,
    /// cpu: `struct task_group`'s `shares`: written under `shares_mutex`, read with no lock.
    pub shares: AtomicU64,
    /// blkio: `struct blkio_cgroup`'s `weight`: written under `blkcg->lock`, read with no lock.
    pub weight: AtomicU32,
    /// Static data of the subsystem's module (`blkio_root_cgroup`): `destroy` does not free it;
    /// the module's memory goes with `free_module`.
    pub is_static: bool,
}
impl Object for Css {
    const KIND: &'static str = "css";
    // A modular subsystem's css are freed by its module_exit (cgroup_unload_subsys, cgrp_destroy)
    // after try_stop_module's stop_machine, and its static css by free_module after its own.
    const FREED_AFTER_STOP: bool = true;
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
    pub children: LockedBy<Vec<CgroupH>>,
    /// `css_sets` (css_set_lock): the links of every css_set that points here.
    pub css_sets: LockedBy<Vec<LinkH>>,
    /// The dentry's children in the dcache (dcache_lock): name → cgroup.
    pub dchildren: LockedBy<Vec<(String, CgroupH)>>,
    /// The dentry's `d_count`: the dcache's own reference plus every path walk's `dget`.
    pub d_count: AtomicI64,
    /// The directory inode's `i_mutex`.
    pub i_mutex: KMutex,
    /// The directory's control files (dcache_lock): their dentries, as `cgroup_add_file` made
    /// them and `cgroup_clear_directory` unhashes them.
    pub files: LockedBy<Vec<CgFileH>>,
    /// On the release list (`!list_empty(&cgrp->release_list)`, release_list_lock).
    pub release_list: LockedBy<bool>,
    /// `pidlist_mutex`.
    pub pidlist_mutex: KMutex,
    /// `pidlists` (pidlist_mutex): the pid arrays of the `tasks` files open for reading.
    pub pidlists: LockedBy<Vec<PidlistH>>,
}
impl Object for Cgroup {
    const KIND: &'static str = "cgroup";
}

/// `struct cg_cgroup_link`. Both pointers are set by `link_css_set` under css_set_lock.
pub struct Link {
    /// `cgrp`.
    pub cgrp: LockedBy<Option<CgroupH>>,
    /// `cg`.
    pub cg: LockedBy<Option<CssSetH>>,
}
impl Object for Link {
    const KIND: &'static str = "cg_cgroup_link";
}

/// `struct cgroupfs_root`.
pub struct Root {
    /// This is `rootnode`, the dummy hierarchy.
    pub dummy: bool,
    /// `top_cgroup`.
    pub top: OnceLock<CgroupH>,
    /// `subsys_bits` (cgroup_mutex; `cgroup_test_super` reads it under sb_lock only).
    pub subsys_bits: LockedWord,
    /// `actual_subsys_bits` (cgroup_mutex).
    pub actual_subsys_bits: LockedBy<u64>,
    /// `subsys_list` (cgroup_mutex).
    pub subsys_list: LockedBy<Vec<SubsysH>>,
    /// `number_of_cgroups` (cgroup_mutex).
    pub number_of_cgroups: LockedBy<i64>,
    /// On the `roots` list (cgroup_mutex).
    pub on_roots: LockedBy<bool>,
    /// `name` (from `name=`), immutable.
    pub name: String,
    /// `flags` (noprefix), immutable for the model (remount may not change them).
    pub noprefix: bool,
    /// `sb` (set by `cgroup_set_super`; None for rootnode).
    pub sb: OnceLock<SbH>,
    /// `hierarchy_id`.
    pub hierarchy_id: usize,
}
impl Object for Root {
    const KIND: &'static str = "cgroupfs_root";
}

impl Root {
    /// A fresh root (`init_cgroup_root`), its top cgroup to be set by the caller.
    pub fn new(dummy: bool, name: String, noprefix: bool, bits: u64, hierarchy_id: usize) -> Root {
        Root {
            dummy,
            top: OnceLock::new(),
            subsys_bits: LockedWord::new(bits as i64, "root.subsys_bits"),
            actual_subsys_bits: LockedBy::new(0),
            subsys_list: LockedBy::new(Vec::new()),
            number_of_cgroups: LockedBy::new(1),
            on_roots: LockedBy::new(false),
            name,
            noprefix,
            sb: OnceLock::new(),
            hierarchy_id,
        }
    }

    /// `top_cgroup` (set once at creation, before the root is published).
    pub fn top(&self) -> CgroupH {
        *self.top.get().expect("top_cgroup set at creation")
    }

    /// `sb` (set once by `cgroup_set_super`, before the superblock is on any list).
    pub fn sb(&self) -> SbH {
        *self.sb.get().expect("a mounted root has its superblock")
    }
}

/// `S_BIAS` (fs/super.c): `s_count` carries it while the superblock is alive; the last
/// `deactivate_super` takes it away, and `grab_super` then refuses the superblock.
pub const S_BIAS: i64 = 1 << 30;

/// `struct super_block` of the cgroup filesystem, reduced to what orders cgroup code.
pub struct SuperBlock {
    /// `s_umount`: held for writing from `alloc_super` until the mount is set up (or torn down),
    /// and by `grab_super` while it checks a superblock another mount found.
    pub s_umount: KSemaphore,
    /// `s_active`: active references (the mounts, the child cgroups, open paths).
    pub s_active: AtomicI64,
    /// `s_count` (sb_lock): passive references plus [`S_BIAS`] while alive.
    pub s_count: LockedBy<i64>,
    /// `s_root` is set (`cgroup_get_rootdir` succeeded, s_umount): the mount got that far.
    pub s_root: LockedBy<bool>,
    /// `s_fs_info`: the hierarchy.
    pub s_fs_info: RootH,
    /// The model's, not the kernel's ([`crate::sim::spin`]): the window from the last
    /// `deactivate_super` (`s_count -= S_BIAS - 1`) until `generic_shutdown_super` takes the
    /// superblock off the list, in which `grab_super` fails and `sget` retries it.
    pub dying: SpinWait,
}
impl Object for SuperBlock {
    const KIND: &'static str = "super_block";
}

/// The control files the model keeps (the kernel has more; these are the ones the modelled paths
/// use).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CftKind {
    /// `tasks` (cgroup.c `files[]`): open for reading loads a pid array; writing attaches a task.
    Tasks,
    /// `notify_on_release` (cgroup.c `files[]`).
    NotifyOnRelease,
    /// `net_cls.classid` (net/sched/cls_cgroup.c `ss_files[]`).
    Classid,
    /// `cpuset.cpu_exclusive` (kernel/cpuset.c `files[]`, private `FILE_CPU_EXCLUSIVE`):
    /// `cpuset_read_u64` and `cpuset_write_u64`.
    CpuExclusive,
    /// `cpu.shares` (kernel/sched.c `cpu_files[]`, CONFIG_FAIR_GROUP_SCHED):
    /// `cpu_shares_read_u64` and `cpu_shares_write_u64`.
    CpuShares,
    /// `blkio.weight` (block/blk-cgroup.c `blkio_files[]`): `blkiocg_weight_read` and
    /// `blkiocg_weight_write`.
    BlkioWeight,
    /// `blkio.time` (block/blk-cgroup.c `blkio_files[]`): `read_seq_string`
    /// (`blkiocg_time_read`), so its open file goes through `cgroup_seqfile_operations`.
    BlkioTime,
}

impl CftKind {
    /// Whether the cftype has `read_map` or `read_seq_string`: `cgroup_file_open` then gives the
    /// file a `cgroup_seqfile_state` and `cgroup_seqfile_operations` (cgroup.c:2066-2076).
    pub fn is_seq(self) -> bool {
        self == CftKind::BlkioTime
    }
}

/// `struct cftype`: a control file's name and handlers. The core's are static in the kernel
/// image; a module's live in the module's memory and go with `free_module`.
pub struct Cftype {
    /// `name` (without the subsystem prefix).
    pub name: &'static str,
    /// Which handlers it has.
    pub kind: CftKind,
    /// The `struct cgroup_subsys` whose `populate` adds it (the file is named `net_cls.classid`),
    /// in the same module memory; None for the core's.
    pub ss: Option<SubsysH>,
}
impl Object for Cftype {
    const KIND: &'static str = "cftype";
    // A modular subsystem's cftypes are module memory, as its struct is.
    const FREED_AFTER_STOP: bool = true;
}

/// The dentry (and inode) of a control file: `d_fsdata` is its cftype, `d_parent` its cgroup's.
pub struct CgFile {
    /// The file's name in its directory (`tasks`, `net_cls.classid`).
    pub name: String,
    /// `d_fsdata`: the cftype (`__d_cft`).
    pub cft: CftH,
    /// `d_parent`'s cgroup (`__d_cgrp(dentry->d_parent)`).
    pub cgrp: CgroupH,
    /// `d_count`: one for the pin `cgroup_create_file` takes, one per open file and path walk.
    pub d_count: AtomicI64,
}
impl Object for CgFile {
    const KIND: &'static str = "dentry";
}

/// `struct file` open on a control file: it holds its dentry and its mount.
pub struct File {
    /// `f_dentry`.
    pub dentry: CgFileH,
    /// The mount's superblock (`f_vfsmnt`, an active reference in the model).
    pub sb: SbH,
    /// `FMODE_READ`.
    pub read: bool,
    /// `FMODE_WRITE`.
    pub write: bool,
    /// `f_count`: the fd table's reference plus one per `fget` in progress.
    pub f_count: AtomicI64,
    /// `private_data`: the pid array of a `tasks` file open for reading (set by its open, before
    /// `fd_install` publishes the file).
    pub pidlist: AtomicUsize,
    /// `private_data`'s `seq->private` for a file of a `read_seq_string` cftype: its
    /// `cgroup_seqfile_state` (set by its open, with `f_op = &cgroup_seqfile_operations`).
    pub seq_state: AtomicUsize,
}
impl Object for File {
    const KIND: &'static str = "file";
}

/// `struct cgroup_seqfile_state` (cgroup.c:2017-2020): what `cgroup_file_open` keeps for a
/// file of a `read_map`/`read_seq_string` cftype, beside the dentry: the cftype again, and the
/// cgroup.
pub struct SeqfileState {
    /// `cft`: a second pointer to the cftype, which the open file does not pin.
    pub cft: CftH,
    /// `cgroup`.
    pub cgroup: CgroupH,
}
impl Object for SeqfileState {
    const KIND: &'static str = "cgroup_seqfile_state";
}

/// `struct cgroup_pidlist`: the pids of a cgroup's tasks, shared by the readers of its `tasks`
/// file.
pub struct Pidlist {
    /// `owner`.
    pub owner: CgroupH,
    /// `mutex` (an rw_semaphore): written by a load, read by `seq_read`.
    pub mutex: KRwLock,
    /// `use_count` (`l->mutex` held for writing, and the owner's pidlist_mutex to drop it).
    pub use_count: LockedBy<i64>,
    /// `list`: the pids, as a bit set (pid `n` is bit `n`), loaded at open.
    pub pids: LockedBy<u16>,
}
impl Object for Pidlist {
    const KIND: &'static str = "cgroup_pidlist";
}

/// The constant part of a `struct cgroup_subsys`: what a subsystem's source file defines
/// (`struct cgroup_subsys net_cls_subsys = { .name = "net_cls", .create = cgrp_create, ... }`).
/// One per subsystem, named after the kernel's variable; the core calls the callbacks through it,
/// as cgroup.c calls `ss->create(ss, cgrp)`.
#[derive(Debug)]
pub struct SubsysOps {
    /// `name`.
    pub name: &'static str,
    /// The module that provides it (`THIS_MODULE`), None for a built-in.
    pub module: Option<&'static str>,
    /// `use_id`.
    pub use_id: bool,
    /// `->create(ss, cgrp)`: allocates the subsystem's state for `cgrp` (-ENOMEM if it cannot).
    pub create: fn(&Kernel, SubsysH, CgroupH, &Cx) -> Result<CssH, Errno>,
    /// `->destroy(ss, cgrp)`: frees `cgrp->subsys[id]`, where `id` is the subsystem's id.
    pub destroy: fn(&Kernel, &'static SubsysOps, usize, CgroupH, &Cx),
    /// The providing module's `module_init` (None for a built-in); it loads the subsystem.
    pub module_init: Option<ModuleInit>,
    /// The providing module's `module_exit`; it unloads the subsystem.
    pub module_exit: Option<ModuleExit>,
    /// The control files `->populate` adds (`ss_files[]`, in the subsystem's memory), none for
    /// the built-ins and blkio (theirs are not modelled).
    pub files: &'static [(&'static str, CftKind)],
    /// `->populate(ss, cgrp)`: adds the subsystem's control files to a new directory.
    pub populate: Option<Populate>,
    /// `create` on a top cgroup returns static data (`top_cpuset`, `init_task_group`,
    /// `blkio_root_cgroup`): it cannot fail and `destroy` does not free it.
    pub static_root: bool,
}

/// A subsystem's `populate` callback: adds its control files to a directory.
pub type Populate = fn(&Kernel, SubsysH, CgroupH, &Cx) -> Result<(), Errno>;

/// A module's `module_init` function, given the module's index and its `struct cgroup_subsys`.
pub type ModuleInit = fn(&Kernel, usize, SubsysH, &Cx) -> Result<(), Errno>;
/// A module's `module_exit` function.
pub type ModuleExit = fn(&Kernel, usize, SubsysH, &Cx);

/// `struct cgroup_subsys`. For a modular subsystem this lives in the module's memory and is freed
/// with it.
pub struct Subsys {
    /// The subsystem's constant part: name, callbacks, `use_id`.
    pub ops: &'static SubsysOps,
    /// `module`: index of the owning module in [`Kernel::modules`], None for built-ins.
    pub module: Option<usize>,
    /// `subsys_id`: assigned at load for modules (0 until then: the static initializer has none).
    pub subsys_id: AtomicUsize,
    /// `root` (cgroup_mutex): the hierarchy it is bound to; `rootnode` when unbound.
    pub root: LockedBy<RootH>,
    /// `active`.
    pub active: AtomicU32,
    /// `hierarchy_mutex`.
    pub hierarchy_mutex: KMutex,
    /// The cftypes of `ops.files`, in the same memory as this `struct cgroup_subsys` (the
    /// module's, for a modular one).
    pub cftypes: OnceLock<Vec<CftH>>,
    /// The static root css (`blkio_root_cgroup`), in the module's memory, if `ops.static_root`.
    pub static_css: Option<CssH>,
}
impl Object for Subsys {
    const KIND: &'static str = "cgroup_subsys";
    // A modular subsystem's struct is module memory: free_module frees it after stop_machine.
    const FREED_AFTER_STOP: bool = true;
}

/// `struct task_struct`, reduced to its cgroup fields.
pub struct Task {
    /// The model's name for it (`T1`).
    pub name: String,
    /// `pid` (the number in its name: `T1` is pid 1).
    pub pid: usize,
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
    /// The module memory `tp->ops` (`cls_cgroup_ops`) lives in, named by the module's
    /// `struct cgroup_subsys` beside it: freed with the module.
    pub ops: SubsysH,
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
    pub ops: &'static SubsysOps,
    /// `state` ([`modstate`]).
    pub state: AtomicU32,
    /// `module_refcount`.
    pub refcnt: AtomicI64,
    /// Its `struct cgroup_subsys` (module memory) while loaded.
    pub ss: AtomicUsize,
    /// Its `struct tcf_proto_ops` is registered (cls_mod_lock).
    pub tcf_registered: LockedBy<bool>,
    /// `netcls-load-first` design: the module-global `net_cls_subsys_id` (-1 until published).
    pub published_id: AtomicI64,
}

/// The built-in subsystems, in `subsys[]` order (include/linux/cgroup_subsys.h puts cpuset first).
pub const BUILTIN: [&SubsysOps; 2] = [
    &crate::kernel::builtin::CPUSET_SUBSYS,
    &crate::kernel::builtin::CPU_CGROUP_SUBSYS,
];
/// The modular subsystems, one module each: net_cls in cls_cgroup.ko, blkio in blk-cgroup.ko.
pub const MODULAR: [&SubsysOps; 2] = [
    &crate::kernel::net_cls::NET_CLS_SUBSYS,
    &crate::kernel::blk_cgroup::BLKIO_SUBSYS,
];

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
        let name_for_lock = name.clone();
        Cgroup {
            root,
            parent,
            name,
            flags: AtomicU32::named(0, "cgroup.flags"),
            count: AtomicI64::named(0, "cgroup.count"),
            subsys: ptr_array(count, "cgroup.subsys[]:css"),
            children: LockedBy::new(Vec::new()),
            css_sets: LockedBy::new(Vec::new()),
            dchildren: LockedBy::new(Vec::new()),
            d_count: AtomicI64::named(d_count, "dentry.d_count"),
            i_mutex: KMutex::new(lock),
            files: LockedBy::new(Vec::new()),
            release_list: LockedBy::new(false),
            pidlist_mutex: KMutex::new(format!("pidlist_mutex of {}", name_for_lock)),
            pidlists: LockedBy::new(Vec::new()),
        }
    }
}

impl Task {
    /// Task `T<pid>` pointing at `cg` (the caller accounts for its reference).
    pub fn new(pid: usize, cg: CssSetH) -> Self {
        let name = format!("T{pid}");
        Task {
            pid,
            cgroups: AtomicUsize::named(Handle::to_raw(Some(cg)), "task.cgroups:css_set"),
            alloc_lock: KMutex::spin_no_rcu(format!("task_lock({name})")),
            flags: AtomicU32::named(0, "task.flags"),
            cg_list: AtomicUsize::named(0, "task.cg_list:css_set"),
            name,
        }
    }
}

/// Allocates a fresh, empty css_set (the kmalloc in `find_css_set`).
pub(crate) fn new_css_set(count: usize) -> CssSet {
    CssSet {
        refcount: AtomicI64::named(1, "css_set.refcount"),
        subsys: ptr_array(count, "css_set.subsys[]:css"),
        cg_links: LockedBy::new(Vec::new()),
        tasks: LockedBy::new(Vec::new()),
    }
}
