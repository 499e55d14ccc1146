//! Control files (kernel/cgroup.c): how a directory gets them (`cgroup_populate_dir`,
//! `cgroup_add_file`, `cgroup_create_file`) and loses them (`cgroup_clear_directory`), and what
//! open, read, write and close of one do (`cgroup_file_open`, `cgroup_file_read`,
//! `cgroup_file_write`, `cgroup_write_X64`, `cgroup_file_release`), with the `tasks` file's pid
//! arrays (`cgroup_pidlist_open`, `pidlist_array_load`, `cgroup_pidlist_find`,
//! `cgroup_release_pid_array`) and the `notify_on_release` handlers.
//!
//! What an open control file pins in v2.6.34: its dentry, which pins its directory's dentry and so
//! the `struct cgroup` (`cgroup_diput` waits for the last one), and its mount, which pins the
//! superblock. Not its cftype: `cgroup_file_operations` has no `.owner`, so a module's cftype
//! (net_cls's `ss_files[]`) is not pinned by an open file; not the css either.
//!
//! The model keeps the files the modelled paths use: `tasks` and `notify_on_release` of the core
//! (`files[]` also has `cgroup.procs` and `cgroup.event_control`, and a top cgroup
//! `release_agent`: left out, they read or write nothing the checks look at) and `net_cls.classid`.
//! blkio's `populate` (`blkio.weight` and its statistics) is left out too.
//!
//! The file is long because it holds the three halves of a control file's life: its dentry, the
//! file system calls on it, and the pid arrays behind `tasks`.

use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::gfp::GFP_KERNEL;
use crate::kernel::ops::Ret;
use crate::kernel::{
    CftH, CftKind, CgFile, CgFileH, CgroupH, FileH, Kernel, Pidlist, PidlistH, SeqfileState,
    SubsysH, CGRP_NOTIFY_ON_RELEASE, CGRP_RELEASABLE, CGRP_REMOVED,
};
use crate::sim::arena::{load_ptr, store_ptr};
use crate::sim::atomic::AtomicI64;
use crate::sim::cx::Cx;
use crate::sim::lockdep::{KRwLock, LockedBy};
use crate::sim::report::{Violation, ViolationKind};
use crate::sim::sync::Ordering;
use crate::variants::Fault;

impl Kernel {
    /// `cgroup_populate_dir(cgrp)` (cgroup.c:3193-3227), the directory's i_mutex and
    /// cgroup_mutex held: clear out the existing files, add the core's, then each bound
    /// subsystem's `populate`. An error stops it half-way ("we have a half-filled directory - oh
    /// well"); callers ignore it, as the kernel's do. The css id publication at the end
    /// (`css->id->css`) is not modelled (nothing looks css ids up).
    pub fn cgroup_populate_dir(&self, cgrp: CgroupH, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::cgroup_populate_dir);
        cx.at(3199);
        self.cgroup_clear_directory(cgrp, cx);
        cx.at(3201);
        self.cgroup_add_files(cgrp, None, &self.core_cftypes, cx)?;
        let root = self.cgrp(cgrp, cx).root;
        for ss in self.root(root, cx).subsys_list.get(&self.cgroup_mutex, cx) {
            cx.at(3211);
            let populate = self.ss(ss, cx).ops.populate;
            if let Some(populate) = populate {
                cx.at(3212);
                populate(self, ss, cgrp, cx)?;
            }
        }
        Ok(())
    }

    /// `cgroup_add_files(cgrp, subsys, cft, count)` (cgroup.c:2254-2266): each in turn, stopping
    /// at the first error.
    pub fn cgroup_add_files(
        &self,
        cgrp: CgroupH,
        ss: Option<SubsysH>,
        cfts: &[CftH],
        cx: &Cx,
    ) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::cgroup_add_files);
        for &cft in cfts {
            cx.at(2261);
            self.cgroup_add_file(cgrp, ss, cft, cx)?;
        }
        Ok(())
    }

    /// What every modelled `populate` does: `cgroup_add_files(cgrp, ss, <ss's cftypes>, ...)`,
    /// the cftypes in the same memory as its `struct cgroup_subsys` (static for a built-in,
    /// module memory for a module's).
    pub fn cgroup_add_subsys_files(
        &self,
        cgrp: CgroupH,
        ss: SubsysH,
        cx: &Cx,
    ) -> Result<(), Errno> {
        let cfts = self.ss(ss, cx).cftypes.get().cloned().unwrap_or_default();
        self.cgroup_add_files(cgrp, Some(ss), &cfts, cx)
    }

    /// `cgroup_add_file(cgrp, subsys, cft)` (cgroup.c:2224-2251): the name (`net_cls.classid`
    /// unless the hierarchy is `noprefix`), `BUG_ON(!mutex_is_locked(&dir->d_inode->i_mutex))`,
    /// `lookup_one_len` (an existing file is -EEXIST from `cgroup_create_file`), then the file.
    pub fn cgroup_add_file(
        &self,
        cgrp: CgroupH,
        ss: Option<SubsysH>,
        cft: CftH,
        cx: &Cx,
    ) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::cgroup_add_file);
        let c = self.cgrp(cgrp, cx);
        cx.at(2234);
        let prefix = match ss {
            Some(ss) if !self.root(c.root, cx).noprefix => {
                cx.at(2235);
                format!("{}.", self.ss(ss, cx).ops.name)
            }
            _ => String::new(),
        };
        cx.at(2238);
        let name = format!("{prefix}{}", self.cftypes.get(cft, cx).name);
        cx.at(2239);
        if !c.i_mutex.is_locked() {
            self.bug(
                cx,
                "BUG_ON(!mutex_is_locked(&dir->d_inode->i_mutex))",
                format!("cgroup_add_file({name})"),
            );
        }
        cx.at(2240);
        let g = self.dcache_lock.lock(cx);
        let exists = c.files.with(&self.dcache_lock, cx, |l| {
            l.iter().any(|&f| self.cgfiles.get(f, cx).name == name)
        });
        drop(g);
        drop(c);
        if exists {
            return Err(Errno::EEXIST);
        }
        cx.at(2243);
        self.cgroup_create_file(cgrp, name, cft, cx)
    }

    /// `cgroup_create_file(dentry, S_IFREG, sb)` (cgroup.c:2133-2169) for a control file: its
    /// dentry and inode (one allocation in the model, -ENOMEM), `d_instantiate` into the
    /// directory (under dcache_lock; the dentry holds a reference on its directory, as `d_alloc`
    /// takes it) and the extra `dget` that pins it (the lookup's reference is dropped by
    /// `cgroup_add_file`: the pin is its only one).
    fn cgroup_create_file(
        &self,
        cgrp: CgroupH,
        name: String,
        cft: CftH,
        cx: &Cx,
    ) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::cgroup_create_file);
        cx.at(2147);
        if !cx.kmalloc_ok(GFP_KERNEL) {
            return Err(Errno::ENOMEM);
        }
        let label = format!("{name} in {}", self.cgroups.label(cgrp));
        let d = self.cgfiles.alloc(CgFile {
            name,
            cft,
            cgrp,
            d_count: AtomicI64::named(1, "dentry.d_count"),
        });
        self.cgfiles.set_label(d, label);
        if !self.fault(Fault::FileNoParentRef) {
            self.dget(cgrp, cx);
        }
        cx.at(2166);
        let g = self.dcache_lock.lock(cx);
        self.cgrp(cgrp, cx)
            .files
            .with_mut(&self.dcache_lock, cx, |l| l.push(d));
        drop(g);
        Ok(())
    }

    /// `cgroup_clear_directory(dentry)` (cgroup.c:867-891), the directory's i_mutex held: under
    /// dcache_lock take each file off the directory, then drop the pin (`simple_unlink`'s `dput`;
    /// the `dget_locked`/`dput` pair around it is folded: it keeps the count above zero in
    /// between, which the pin does too). A file still open keeps its dentry, and its cftype
    /// pointer, until its last close.
    pub fn cgroup_clear_directory(&self, cgrp: CgroupH, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_clear_directory);
        let c = self.cgrp(cgrp, cx);
        cx.at(871);
        if !c.i_mutex.is_locked() {
            self.bug(
                cx,
                "BUG_ON(!mutex_is_locked(&dentry->d_inode->i_mutex))",
                "cgroup_clear_directory",
            );
        }
        loop {
            cx.at(872);
            let g = self.dcache_lock.lock(cx);
            cx.at(876);
            let d = c.files.with_mut(&self.dcache_lock, cx, |l| {
                (!l.is_empty()).then(|| l.remove(0))
            });
            let Some(d) = d else {
                cx.at(890);
                drop(g);
                return;
            };
            cx.at(882);
            drop(g);
            cx.at(884);
            self.dput_file(d, cx);
        }
    }

    /// The dentry of an open file and what it names: its cftype and its directory's cgroup
    /// (`__d_cft(file->f_dentry)`, `__d_cgrp(file->f_dentry->d_parent)`).
    fn file_target(&self, f: FileH, cx: &Cx) -> (CgFileH, CftH, CgroupH) {
        let d = self.files.get(f, cx).dentry;
        let dentry = self.cgfiles.get(d, cx);
        (d, dentry.cft, dentry.cgrp)
    }

    /// `cgroup_file_open(inode, file)` (cgroup.c:2056-2083): reads the cftype (the file does not
    /// pin it), then `cft->open` if it has one (`tasks`: `cgroup_tasks_open`).
    pub fn cgroup_file_open(&self, f: FileH, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::cgroup_file_open);
        let (_, cft, cgrp) = self.file_target(f, cx);
        cx.at(2064);
        let kind = self.cftypes.get(cft, cx).kind;
        cx.at(2066);
        match kind {
            k if k.is_seq() => self.cgroup_seqfile_open(f, cft, cgrp, cx),
            CftKind::Tasks => {
                cx.at(2078);
                let _o = cx.enter(&kfn::cgroup_tasks_open);
                cx.at(2961);
                self.cgroup_pidlist_open(f, cgrp, cx)
            }
            _ => Ok(()),
        }
    }

    /// `cgroup_file_read(file, buf, nbytes, ppos)` (cgroup.c:1994-2010): the cftype, -ENODEV if
    /// the cgroup is removed (a lockless `test_bit`), then `cgroup_read_u64` → `cft->read_u64`.
    /// A `tasks` file has no read handler of its own (-EINVAL): reading one goes through its pid
    /// array's seq file instead ([`Kernel::cgroup_pidlist_read`]); nor has `blkio.time`, read
    /// through its `cgroup_seqfile_state` ([`Kernel::cgroup_seqfile_show`]).
    pub fn cgroup_file_read(&self, f: FileH, cx: &Cx) -> Result<Ret, Errno> {
        let _f = cx.enter(&kfn::cgroup_file_read);
        let (_, cft, cgrp) = self.file_target(f, cx);
        cx.at(1997);
        let (kind, ss) = {
            let c = self.cftypes.get(cft, cx);
            (c.kind, c.ss)
        };
        cx.at(2000);
        if self.cgrp(cgrp, cx).flags.load(Ordering::Relaxed) & CGRP_REMOVED != 0 {
            return Err(Errno::ENODEV);
        }
        cx.at(2006);
        let _r = cx.enter(&kfn::cgroup_read_u64);
        cx.at(1976);
        let v = match kind {
            CftKind::Tasks | CftKind::BlkioTime => return Err(Errno::EINVAL),
            CftKind::NotifyOnRelease => {
                let _h = cx.enter(&kfn::cgroup_read_notify_on_release);
                cx.at(2971);
                u64::from(self.notify_on_release(cgrp, cx))
            }
            CftKind::Classid => self.read_classid(cgrp, ss, cx),
            CftKind::CpuExclusive => self.cpuset_read_u64(cgrp, cx),
            CftKind::CpuShares => self.cpu_shares_read_u64(cgrp, cx),
            CftKind::BlkioWeight => self.blkiocg_weight_read(cgrp, ss, cx),
        };
        Ok(Ret::Value(v))
    }

    /// `cgroup_file_write(file, buf, nbytes, ppos)` (cgroup.c:1949-1968): the cftype and the
    /// cgroup from the dentry, -ENODEV if the cgroup is removed (a lockless `test_bit`: nothing
    /// keeps it from being removed right after), then `cgroup_write_X64`. No lock is taken here:
    /// each handler takes what it needs (`cgroup_tasks_write` takes cgroup_mutex;
    /// `write_classid` takes none, and does not look at whether net_cls is still bound).
    pub fn cgroup_file_write(&self, f: FileH, value: u64, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::cgroup_file_write);
        let (_, cft, cgrp) = self.file_target(f, cx);
        cx.at(1952);
        let (kind, ss) = {
            let c = self.cftypes.get(cft, cx);
            (c.kind, c.ss)
        };
        cx.at(1955);
        if self.cgrp(cgrp, cx).flags.load(Ordering::Relaxed) & CGRP_REMOVED != 0 {
            return Err(Errno::ENODEV);
        }
        if kind == CftKind::BlkioTime {
            // No write handler of any kind.
            cx.at(1967);
            return Err(Errno::EINVAL);
        }
        cx.at(1960);
        let _w = cx.enter(&kfn::cgroup_write_X64);
        cx.at(1902);
        match kind {
            CftKind::BlkioTime => unreachable!("returned -EINVAL above"),
            CftKind::CpuExclusive => self.cpuset_write_u64(cgrp, value, cx),
            CftKind::CpuShares => self.cpu_shares_write_u64(cgrp, value, cx),
            CftKind::BlkioWeight => self.blkiocg_weight_write(cgrp, ss, value, cx),
            CftKind::Tasks => {
                let pid = usize::try_from(value).map_err(|_| Errno::ESRCH)?;
                self.cgroup_tasks_write(cgrp, pid, cx)
            }
            CftKind::NotifyOnRelease => {
                self.cgroup_write_notify_on_release(cgrp, value, cx);
                Ok(())
            }
            CftKind::Classid => {
                self.write_classid(cgrp, ss, value, cx);
                Ok(())
            }
        }
    }

    /// `cgroup_file_release(inode, file)` (cgroup.c:2085-2091): reads the cftype, then
    /// `cft->release` (`tasks`: `cgroup_pidlist_release`, which has nothing to do for a file not
    /// open for reading). A `tasks` file open for reading is released through its pid array's
    /// file operations instead, and a seq_file one through `cgroup_seqfile_operations`
    /// ([`Kernel::cgroup_seqfile_release`]): neither reads the cftype.
    pub fn cgroup_file_release(&self, f: FileH, cx: &Cx) {
        if load_ptr::<Pidlist>(&self.files.get(f, cx).pidlist).is_some() {
            self.cgroup_pidlist_release(f, cx);
            return;
        }
        if load_ptr::<SeqfileState>(&self.files.get(f, cx).seq_state).is_some() {
            self.cgroup_seqfile_release(f, cx);
            return;
        }
        let _f = cx.enter(&kfn::cgroup_file_release);
        let (_, cft, _) = self.file_target(f, cx);
        cx.at(2087);
        let kind = self.cftypes.get(cft, cx).kind;
        if kind == CftKind::Tasks {
            cx.at(2089);
            self.cgroup_pidlist_release(f, cx);
        }
    }

    /// `cgroup_write_notify_on_release(cgrp, cft, val)` (cgroup.c:2974-2984): `clear_bit
    /// (CGRP_RELEASABLE)`, then set or clear `CGRP_NOTIFY_ON_RELEASE`; no lock.
    fn cgroup_write_notify_on_release(&self, cgrp: CgroupH, val: u64, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_write_notify_on_release);
        let c = self.cgrp(cgrp, cx);
        cx.at(2978);
        c.flags.fetch_and(!CGRP_RELEASABLE, Ordering::Relaxed);
        if val != 0 {
            cx.at(2980);
            c.flags.fetch_or(CGRP_NOTIFY_ON_RELEASE, Ordering::Relaxed);
        } else {
            cx.at(2982);
            c.flags
                .fetch_and(!CGRP_NOTIFY_ON_RELEASE, Ordering::Relaxed);
        }
    }

    /// `cgroup_pidlist_open(file, CGROUP_FILE_TASKS)` (cgroup.c:2934-2958): nothing for a file
    /// not open for reading; otherwise load the pid array (-ENOMEM), switch to the pid array's
    /// file operations and `seq_open` (a kmalloc; on failure the array is released).
    fn cgroup_pidlist_open(&self, f: FileH, cgrp: CgroupH, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::cgroup_pidlist_open);
        cx.at(2941);
        if !self.files.get(f, cx).read {
            return Ok(());
        }
        cx.at(2945);
        let l = self.pidlist_array_load(cgrp, cx)?;
        cx.at(2951);
        if !cx.kmalloc_ok(GFP_KERNEL) {
            cx.at(2953);
            self.cgroup_release_pid_array(l, cx);
            return Err(Errno::ENOMEM);
        }
        cx.at(2956);
        store_ptr(&self.files.get(f, cx).pidlist, Some(l));
        Ok(())
    }

    /// `pidlist_array_load(cgrp, CGROUP_FILE_TASKS, &l)` (cgroup.c:2691-2743): size the array
    /// by `cgroup_task_count` (the css_sets' reference counts, under `read_lock(css_set_lock)`),
    /// allocate it (-ENOMEM), fill it from the css_sets' task lists under
    /// `read_lock(css_set_lock)` (`cgroup_iter_start`; stopping when full), then find or create
    /// the cgroup's pidlist (`cgroup_pidlist_find`: returns with `l->mutex` held for writing),
    /// store the array and count a user.
    fn pidlist_array_load(&self, cgrp: CgroupH, cx: &Cx) -> Result<PidlistH, Errno> {
        let _f = cx.enter(&kfn::pidlist_array_load);
        if !self.use_task_links {
            self.sink.fail(Violation::new(
                ViolationKind::Panic,
                "model-limit",
                "reading a tasks file needs task_links=on (cgroup_enable_task_cg_lists is not modelled)",
            ));
        }
        let c = self.cgrp(cgrp, cx);
        cx.at(2707);
        let length = {
            let r = self.css_set_lock.read(cx);
            let n: i64 = c
                .css_sets
                .get(&self.css_set_lock, cx)
                .into_iter()
                .map(|link| {
                    let cg = self.link_cg(link, cx);
                    self.cset(cg, cx).refcount.load(Ordering::Relaxed)
                })
                .sum();
            drop(r);
            n
        };
        cx.at(2708);
        if !cx.kmalloc_ok(GFP_KERNEL) {
            return Err(Errno::ENOMEM);
        }
        cx.at(2712);
        let mut pids = 0u16;
        let mut n = 0;
        {
            let r = self.css_set_lock.read(cx);
            'fill: for link in c.css_sets.get(&self.css_set_lock, cx) {
                let cg = self.link_cg(link, cx);
                for t in self.cset(cg, cx).tasks.get(&self.css_set_lock, cx) {
                    cx.at(2714);
                    if n == length {
                        break 'fill;
                    }
                    cx.at(2720);
                    let pid = self.task(t, cx).pid;
                    if pid > 0 {
                        pids |= 1 << pid;
                        n += 1;
                    }
                }
            }
            cx.at(2724);
            drop(r);
        }
        drop(c);
        // cgroup_pidlist_find (cgroup.c:2648-2686), inline: it returns with l->mutex held.
        let find = cx.enter(&kfn::cgroup_pidlist_find);
        let c = self.cgrp(cgrp, cx);
        cx.at(2661);
        let m = c.pidlist_mutex.lock(cx);
        cx.at(2662);
        let found = c.pidlists.get(&c.pidlist_mutex, cx).first().copied();
        let (l, new) = match found {
            Some(l) => (l, false),
            None => {
                cx.at(2671);
                if !cx.kmalloc_ok(GFP_KERNEL) {
                    cx.at(2673);
                    drop(m);
                    return Err(Errno::ENOMEM);
                }
                let l = self.pidlists.alloc(Pidlist {
                    owner: cgrp,
                    mutex: KRwLock::sleeping("pidlist.mutex"),
                    use_count: LockedBy::new(0),
                    pids: LockedBy::new(0),
                });
                self.pidlists
                    .set_label(l, format!("pidlist of {}", self.cgroups.label(cgrp)));
                (l, true)
            }
        };
        let pl = self.pidlists.get(l, cx);
        let m = if !new && self.fault(Fault::PidlistFindUnlocksEarly) {
            drop(m);
            None
        } else {
            Some(m)
        };
        cx.at(if new { 2677 } else { 2665 });
        let w = pl.mutex.write(cx);
        if new {
            cx.at(2683);
            c.pidlists
                .with_mut(&c.pidlist_mutex, cx, |v| v.insert(0, l));
        }
        cx.at(if new { 2684 } else { 2666 });
        drop(m);
        drop(find);
        cx.at(2737);
        pl.pids.set(&pl.mutex, cx, pids);
        cx.at(2739);
        pl.use_count.with_mut(&pl.mutex, cx, |u| *u += 1);
        cx.at(2740);
        drop(w);
        Ok(l)
    }

    /// Reading a `tasks` file open for reading: `seq_read` over the pid array
    /// (`cgroup_pidlist_start` takes `l->mutex` for reading, `cgroup_pidlist_stop` drops it).
    /// It does not look at whether the cgroup is removed.
    /// v2.6.34: `cgroup_pidlist_start`, kernel/cgroup.c:2806-2840.
    pub fn cgroup_pidlist_read(&self, l: PidlistH, cx: &Cx) -> Ret {
        let _f = cx.enter(&kfn::cgroup_pidlist_start);
        let pl = self.pidlists.get(l, cx);
        cx.at(2818);
        let r = pl.mutex.read(cx);
        let pids = pl.pids.get(&pl.mutex, cx);
        drop(r);
        Ret::Pids(pids)
    }

    /// `cgroup_pidlist_release(inode, file)` (cgroup.c:2907-2919): nothing for a file not open
    /// for reading; otherwise release its pid array.
    fn cgroup_pidlist_release(&self, f: FileH, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_pidlist_release);
        cx.at(2910);
        let Some(l) = load_ptr::<Pidlist>(&self.files.get(f, cx).pidlist) else {
            return;
        };
        cx.at(2917);
        self.cgroup_release_pid_array(l, cx);
    }

    /// `cgroup_release_pid_array(l)` (cgroup.c:2882-2905): the owner's pidlist_mutex, then
    /// `l->mutex`; `BUG_ON(!l->use_count)`; the last user takes it off the cgroup's list and
    /// frees it.
    fn cgroup_release_pid_array(&self, l: PidlistH, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_release_pid_array);
        let pl = self.pidlists.get(l, cx);
        let owner = self.cgrp(pl.owner, cx);
        cx.at(2890);
        let m = owner.pidlist_mutex.lock(cx);
        cx.at(2891);
        let w = pl.mutex.write(cx);
        cx.at(2892);
        let left = pl.use_count.with_mut(&pl.mutex, cx, |u| {
            *u -= 1;
            *u
        });
        if left < 0 {
            self.bug(cx, "BUG_ON(!l->use_count)", format!("{l}"));
        }
        if left == 0 {
            cx.at(2895);
            owner
                .pidlists
                .with_mut(&owner.pidlist_mutex, cx, |v| v.retain(|&x| x != l));
            cx.at(2896);
            drop(m);
            cx.at(2899);
            drop(w);
            drop(pl);
            drop(owner);
            cx.at(2900);
            self.pidlists.kfree(l, cx);
            return;
        }
        cx.at(2903);
        drop(m);
        cx.at(2904);
        drop(w);
    }
}
