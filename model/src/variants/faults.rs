//! Injectable faults: named, documented deviations from the v2.6.34 code, each a historical race
//! reintroduced or a design point undone (docs/faults.md has the history and the interleaving that
//! exposes each one). A run chooses them through [`crate::Config::faults`], which by default comes
//! from the environment variable `CGROUP_MODEL_FAULTS=name,name`.

use std::fmt;

/// One fault. Its name (the `serialize` attribute) is its one spelling, from here to
/// `CGROUP_MODEL_FAULTS` and the command line; its message is where it comes from.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumMessage,
)]
#[strum(parse_err_ty = String, parse_err_fn = unknown_fault)]
pub enum Fault {
    /// `__put_css_set` decrements to zero without css_set_lock and only then unhashes
    /// (before 146aa1bd): `find_css_set` can find and resurrect a css_set at refcount 0.
    #[strum(
        serialize = "put-unlocked-final-dec",
        message = "146aa1bd \"cgroups: fix probable race with put_css_set[_taskexit] and find_css_set\" (2.6.28)"
    )]
    PutUnlockedFinalDec,
    /// `cgroup_attach_task` calls `find_css_set` on the task's css_set without pinning it
    /// (before 77efecd9): a concurrent exit frees it under find_css_set.
    #[strum(
        serialize = "attach-no-pin",
        message = "77efecd9 \"cgroups: call find_css_set() safely in cgroup_attach_task()\" (2.6.29)"
    )]
    AttachNoPin,
    /// `find_css_set` does not link new css_sets to dummytop (the cover letter's dummy-link
    /// point): `cgroup_unload_subsys` walks dummytop's links and misses them.
    #[strum(
        serialize = "no-dummy-link",
        message = "the series' cover letter: css_sets always stay linked to the dummy cgroup"
    )]
    NoDummyLink,
    /// `parse_cgroupfs_options` takes no module reference: the module can go between parse and
    /// `rebind_subsystems` (the window Ben's design closes; cf. 1d5be6b2).
    #[strum(
        serialize = "parse-no-module-get",
        message = "Ben Blum's per-hierarchy module pinning in parse; cf. 1d5be6b2 (Li Zefan's review)"
    )]
    ParseNoModuleGet,
    /// A mount that fails after parsing does not drop the module references parse took.
    #[strum(
        serialize = "mount-fail-keeps-refs",
        message = "cgroup_get_sb's drop_modules label (module refs on the error path)"
    )]
    MountFailKeepsRefs,
    /// `rebind_subsystems` keeps parse's duplicate reference for a subsystem already bound there.
    #[strum(
        serialize = "remount-keeps-dup-ref",
        message = "rebind_subsystems: \"a refcount was taken, but we already had one\""
    )]
    RemountKeepsDupRef,
    /// `cgroup_load_subsys` sets the new css in every css_set without rehashing it.
    #[strum(
        serialize = "load-no-rehash",
        message = "cgroup_load_subsys: \"pay our respects to the hashtable gods\""
    )]
    LoadNoRehash,
    /// `cgroup_unload_subsys` rewrites the css_sets' slots without css_set_lock.
    #[strum(
        serialize = "unload-no-css_set_lock",
        message = "cgroup_unload_subsys's write_lock(&css_set_lock)"
    )]
    UnloadNoCssSetLock,
    /// `cgroup_fork` takes its reference on the parent's css_set after dropping task_lock.
    #[strum(
        serialize = "fork-ref-after-unlock",
        message = "cgroup_fork: get_css_set under task_lock(current)"
    )]
    ForkRefAfterUnlock,
    /// `cgroup_attach_task` drops the old css_set without `synchronize_rcu`, freeing it at once
    /// (the pre-c378369d world, where that grace period was the readers' only protection).
    #[strum(
        serialize = "attach-no-synchronize-rcu",
        message = "cgroup_attach_task's synchronize_rcu; c378369d (css_set freed under RCU, 2.6.32)"
    )]
    AttachNoSynchronizeRcu,
    /// `cgroup_attach_task` does not recheck `PF_EXITING`: an exiting task gets a new css_set
    /// that `cgroup_exit` has already passed, so it is never put.
    #[strum(
        serialize = "attach-no-exiting-check",
        message = "cgroup_attach_task's PF_EXITING check under task_lock"
    )]
    AttachNoExitingCheck,
    /// `rebind_subsystems`'s -EBUSY path drops the module references of the subsystems it was
    /// asked to add, which its caller drops again (the shape of 839ec545).
    #[strum(
        serialize = "rebind-ebusy-puts-refs",
        message = "839ec545 \"cgroup: fix root_count when mount fails due to busy subsystem\" (shape)"
    )]
    RebindEbusyPutsRefs,
    /// `__put_css_set` frees the css_set with `kfree` instead of `call_rcu` (reverts c378369d).
    #[strum(
        serialize = "css_set-free-no-rcu",
        message = "c378369d \"cgroups: change css_set freeing mechanism to be under RCU\" (2.6.32)"
    )]
    CssSetFreeNoRcu,
    /// `cgroup_rmdir` does not recheck `count`/children after `pre_destroy`.
    #[strum(
        serialize = "rmdir-no-recheck",
        message = "cgroup_rmdir's second count/children check after pre_destroy"
    )]
    RmdirNoRecheck,
    /// `cgroup_kill_sb` frees the root before the superblock leaves the list (before 67e055d1).
    #[strum(
        serialize = "kill-sb-free-root-first",
        message = "67e055d1 \"cgroups: fix possible use after free\" (2.6.29)"
    )]
    KillSbFreeRootFirst,
    /// `cgroup_remount` takes cgroup_mutex before the root directory's i_mutex, inverting the
    /// VFS order (i_mutex, then cgroup_mutex) that mkdir and mount follow: an ABBA deadlock.
    #[strum(
        serialize = "remount-lock-inversion",
        message = "the lock order i_mutex -> cgroup_mutex (cgroup_get_sb, cgroup_mkdir, cgroup_remount)"
    )]
    RemountLockInversion,
    /// A control file's dentry holds no reference on its directory (`d_alloc`'s `dget(parent)`
    /// left out): rmdir's last `dput` frees the cgroup while a file in it is still open.
    #[strum(
        serialize = "file-no-parent-ref",
        message = "d_alloc: a dentry pins its parent (what keeps a cgroup alive under an open control file)"
    )]
    FileNoParentRef,
    /// `cgroup_pidlist_find` drops `pidlist_mutex` before taking `l->mutex` on the pidlist it
    /// found: the last reader's release can free it in between.
    #[strum(
        serialize = "pidlist-find-unlocks-early",
        message = "cgroup_pidlist_find: \"We can't drop the pidlist_mutex before taking the l->mutex\""
    )]
    PidlistFindUnlocksEarly,
    /// `cgroup_rmdir` leaves a removed cgroup on `release_list`: the release agent's work would
    /// find a freed cgroup there.
    #[strum(
        serialize = "rmdir-keeps-release-list",
        message = "cgroup_rmdir: list_del(&cgrp->release_list) under release_list_lock"
    )]
    RmdirKeepsReleaseList,
    /// `cgroup_post_fork` links the child onto the css_set it read before taking css_set_lock:
    /// an attach in between moves the child, which post_fork then lists on its old css_set.
    #[strum(
        serialize = "post-fork-early-read",
        message = "cgroup_post_fork reads child->cgroups under write_lock(&css_set_lock) and task_lock"
    )]
    PostForkEarlyRead,
    /// `cgroup_attach_task` takes `css_set_lock` for the `list_move` before dropping
    /// `task_lock`: task_lock -> css_set_lock, the inverse of `cgroup_post_fork`'s order. It
    /// deadlocks only on a child that attach finds between `attach_pid` and `cgroup_post_fork`;
    /// lockdep sees the two orders on any two tasks.
    #[strum(
        serialize = "attach-move-under-task_lock",
        message = "the lock order css_set_lock -> task_lock (cgroup_post_fork; cgroup_attach_task drops task_lock first)"
    )]
    AttachMoveUnderTaskLock,
    /// `find_css_set` allocates the new css_set before dropping `css_set_lock` (read): a
    /// `GFP_KERNEL` allocation, which may sleep, with preemption disabled.
    #[strum(
        serialize = "css_set-alloc-under-lock",
        message = "find_css_set allocates with GFP_KERNEL only after read_unlock(&css_set_lock)"
    )]
    CssSetAllocUnderLock,
    /// `attach_task_by_pid` looks the task up before `rcu_read_lock`: `pid_task`'s
    /// `rcu_dereference_check` holds neither `rcu_read_lock` nor `tasklist_lock`.
    #[strum(
        serialize = "find-task-outside-rcu",
        message = "attach_task_by_pid's rcu_read_lock around find_task_by_vpid (kernel/pid.c:370's condition)"
    )]
    FindTaskOutsideRcu,
}

fn unknown_fault(s: &str) -> String {
    super::unknown("fault", s, Fault::ALL.iter().map(|f| f.name()))
}

impl Fault {
    /// Every fault, in documentation order.
    pub const ALL: &'static [Fault] = <Fault as strum::VariantArray>::VARIANTS;

    /// The fault's name on the command line and in `CGROUP_MODEL_FAULTS`.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Where it comes from: the kernel commit or design point.
    pub fn origin(self) -> &'static str {
        strum::EnumMessage::get_message(&self).unwrap_or_default()
    }
}

impl Fault {
    /// The fault deadlocks when its race is hit: on real threads (the std backend) that is a hang,
    /// so only loom and shuttle (which detect deadlocks) run it.
    pub fn deadlocks(self) -> bool {
        matches!(self, Fault::RemountLockInversion)
    }
}

/// A set of faults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Faults(u32);

impl Faults {
    /// No fault: the design as written.
    pub const NONE: Faults = Faults(0);

    /// The set holding just `f`.
    pub fn one(f: Fault) -> Self {
        Faults(1 << f as u32)
    }

    /// Adds `f`.
    pub fn with(self, f: Fault) -> Self {
        Faults(self.0 | 1 << f as u32)
    }

    /// Whether `f` is in the set.
    pub fn has(self, f: Fault) -> bool {
        self.0 & (1 << f as u32) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The faults in the set.
    pub fn iter(self) -> impl Iterator<Item = Fault> {
        Fault::ALL.iter().copied().filter(move |f| self.has(*f))
    }

    /// Parses `a,b,c` (empty: none).
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut set = Faults::NONE;
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            set = set.with(name.parse()?);
        }
        Ok(set)
    }

    /// The set named by `CGROUP_MODEL_FAULTS`, if set.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("CGROUP_MODEL_FAULTS") {
            Ok(v) => Faults::parse(&v).map_err(|e| format!("CGROUP_MODEL_FAULTS: {e}")),
            Err(std::env::VarError::NotPresent) => Ok(Faults::NONE),
            Err(e) => Err(format!("CGROUP_MODEL_FAULTS: {e}")),
        }
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let names: Vec<_> = self.iter().map(|x| x.name()).collect();
        f.write_str(&names.join(","))
    }
}
