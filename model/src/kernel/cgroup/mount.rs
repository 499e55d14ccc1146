//! Mounting a hierarchy (kernel/cgroup.c): `cgroup_remount`, `cgroup_test_super`,
//! `cgroup_root_from_opts`, `cgroup_get_sb`, `cgroup_kill_sb`. The options they parse are
//! [`super::options`]'s.

use std::sync::OnceLock;

use crate::kernel::cgroup::options::SbOpts;
use crate::kernel::errno::Errno;
use crate::kernel::{Cgroup, Kernel, Root, RootH};
use crate::sim::atomic::AtomicI64;
use crate::sim::cx::Cx;
use crate::sim::lockdep::{LockedBy, LockedWord};
use crate::variants::Fault;

impl Kernel {
    /// `cgroup_test_super(sb, opts)`: same name if one was asked for; same subsystems if any (or
    /// `none`) were asked for. Runs under sb_lock only: `root->subsys_bits` is read without
    /// cgroup_mutex, as in the kernel.
    pub fn cgroup_test_super(&self, root: RootH, o: &SbOpts, cx: &Cx) -> bool {
        let _f = cx.enter("cgroup_test_super");
        let r = self.root(root, cx);
        if let Some(n) = &o.name {
            if *n != r.name {
                return false;
            }
        }
        let bits = r.subsys_bits.data_race() as u64;
        !((o.subsys_bits != 0 || o.none) && o.subsys_bits != bits)
    }

    /// `cgroup_root_from_opts(opts)`: None when no subsystems and no `none` were asked for (the
    /// mount can then only reuse an existing hierarchy); -ENOMEM if the kzalloc fails.
    pub fn cgroup_root_from_opts(&self, o: &SbOpts, cx: &Cx) -> Result<Option<RootH>, Errno> {
        let _f = cx.enter("cgroup_root_from_opts");
        if o.subsys_bits == 0 && !o.none {
            return Ok(None);
        }
        if !cx.kmalloc_ok() {
            return Err(Errno::ENOMEM);
        }
        let id = {
            let mut n = self.next_hierarchy_id.lock().unwrap();
            *n += 1;
            *n - 1
        };
        let root = self.roots.alloc(Root {
            dummy: false,
            top: OnceLock::new(),
            subsys_bits: LockedWord::new(o.subsys_bits as i64, "root.subsys_bits"),
            actual_subsys_bits: LockedBy::new(0),
            subsys_list: LockedBy::new(Vec::new()),
            number_of_cgroups: LockedBy::new(1),
            on_roots: LockedBy::new(false),
            name: o.name.clone().unwrap_or_default(),
            noprefix: o.noprefix,
            s_active: AtomicI64::named(0, "sb.s_active"),
            hierarchy_id: id,
        });
        self.roots.set_label(root, format!("hierarchy {id}"));
        let top = self
            .cgroups
            .alloc(Cgroup::new(root, None, "/".into(), self.count(), 1));
        self.cgroups
            .set_label(top, format!("top cgroup of hierarchy {id}"));
        let _ = self.root(root, cx).top.set(top);
        Ok(Some(root))
    }

    /// `cgroup_drop_root(root)`: frees the root (and its embedded top cgroup).
    pub fn cgroup_drop_root(&self, root: RootH, cx: &Cx) {
        let _f = cx.enter("cgroup_drop_root");
        let top = self.root(root, cx).top();
        self.cgroups.kfree(top, cx);
        self.roots.kfree(root, cx);
    }

    /// `cgroup_get_sb`: the mount of a cgroup hierarchy with options `data`. See the kernel for
    /// the labels: parse (under cgroup_mutex) → `cgroup_root_from_opts` → `sget` → for a new
    /// superblock: `cgroup_get_rootdir`, i_mutex + cgroup_mutex, name clash check,
    /// `allocate_cg_links(css_set_count)`, `rebind_subsystems` (-EBUSY → `drop_new_super`),
    /// `roots`/`root_count`, link every hashed css_set to the new top cgroup; for an existing one:
    /// drop the new root and the parsed module refs. Error paths: `drop_new_super`
    /// (`deactivate_locked_super`) then `drop_modules` (`drop_parsed_module_refcounts`).
    pub fn cgroup_get_sb(&self, data: &str, cx: &Cx) -> Result<RootH, Errno> {
        let _f = cx.enter("cgroup_get_sb");
        let m = self.cgroup_mutex.lock(cx);
        let opts = self.parse_cgroupfs_options(data, cx);
        drop(m);
        let opts = opts?;
        let new_root = match self.cgroup_root_from_opts(&opts, cx) {
            Ok(r) => r,
            Err(e) => {
                self.drop_modules(opts.subsys_bits, cx);
                return Err(e);
            }
        };
        let root = match self.sget(&opts, new_root, cx) {
            Ok(r) => r,
            Err(e) => {
                if let Some(nr) = new_root {
                    self.cgroup_drop_root(nr, cx);
                }
                self.drop_modules(opts.subsys_bits, cx);
                return Err(e);
            }
        };
        if Some(root) != new_root {
            // We re-used an existing hierarchy: no subsys rebinding, so refcounts don't change.
            if let Some(nr) = new_root {
                self.cgroup_drop_root(nr, cx);
            }
            self.drop_parsed_module_refcounts(opts.subsys_bits, cx);
            return Ok(root);
        }
        match self.cgroup_new_hierarchy(root, cx) {
            Ok(()) => Ok(root),
            Err(e) => {
                // drop_new_super: deactivate_locked_super(sb); drop_modules:
                self.deactivate_super(root, cx);
                self.drop_modules(opts.subsys_bits, cx);
                Err(e)
            }
        }
    }

    /// `cgroup_get_sb`'s `drop_modules:` label (skipped by the fault `mount-fail-keeps-refs`).
    #[doc(alias = "cgroup_get_sb")]
    fn drop_modules(&self, bits: u64, cx: &Cx) {
        if !self.fault(Fault::MountFailKeepsRefs) {
            self.drop_parsed_module_refcounts(bits, cx);
        }
    }

    /// The new-superblock branch of `cgroup_get_sb`, up to the point after which "there must be no
    /// failure case"; an error means `goto drop_new_super`.
    #[doc(alias = "cgroup_get_sb")]
    fn cgroup_new_hierarchy(&self, root: RootH, cx: &Cx) -> Result<(), Errno> {
        // cgroup_get_rootdir: inode + dentry.
        if !cx.kmalloc_ok() {
            return Err(Errno::ENOMEM);
        }
        let top = self.root(root, cx).top();
        let topc = self.cgrp(top, cx);
        let im = topc.i_mutex.lock(cx);
        let m = self.cgroup_mutex.lock(cx);
        let name = self.root(root, cx).name.clone();
        if !name.is_empty() {
            for r in self.roots_list.get(&self.cgroup_mutex, cx) {
                if self.root(r, cx).name == name {
                    return Err(Errno::EBUSY);
                }
            }
        }
        // css_set_count read without css_set_lock: only cgroup_mutex holders increase it.
        let n = self.css_set_count.data_race() as usize;
        let Some(mut tmp) = self.allocate_cg_links(n, cx) else {
            return Err(Errno::ENOMEM);
        };
        let bits = self.root(root, cx).subsys_bits.get(&self.cgroup_mutex, cx) as u64;
        if let Err(e) = self.rebind_subsystems(root, bits, cx) {
            drop(m);
            drop(im);
            self.free_cg_links(tmp, cx);
            return Err(e);
        }
        self.roots_list
            .with_mut(&self.cgroup_mutex, cx, |l| l.insert(0, root));
        self.root(root, cx)
            .on_roots
            .set(&self.cgroup_mutex, cx, true);
        self.root_count
            .with_mut(&self.cgroup_mutex, cx, |c| *c += 1);
        let w = self.css_set_lock.write(cx);
        for b in &self.css_set_table {
            for cg in b.get(&self.css_set_lock, cx) {
                let Some(l) = tmp.pop() else {
                    self.bug(
                        cx,
                        "BUG_ON(list_empty(tmp_cg_links))",
                        "css_set_count too small",
                    );
                };
                self.link_css_set(l, cg, top, cx);
            }
        }
        drop(w);
        self.free_cg_links(tmp, cx);
        if !topc.children.get(&self.cgroup_mutex, cx).is_empty()
            || self
                .root(root, cx)
                .number_of_cgroups
                .get(&self.cgroup_mutex, cx)
                != 1
        {
            self.bug(
                cx,
                "BUG_ON(root->number_of_cgroups != 1)",
                "new hierarchy not empty",
            );
        }
        drop(m);
        drop(im);
        Ok(())
    }

    /// `cgroup_kill_sb(sb)`: rebind every subsystem back to the dummy hierarchy (dropping the
    /// hierarchy's module refs), free every link to the top cgroup under css_set_lock, leave
    /// `roots` (only if on it: fix 839ec545), then `kill_litter_super` (off the superblock list)
    /// and only then `cgroup_drop_root` (fix 67e055d1).
    pub fn cgroup_kill_sb(&self, root: RootH, cx: &Cx) {
        let _f = cx.enter("cgroup_kill_sb");
        let top = self.root(root, cx).top();
        if self.root(root, cx).number_of_cgroups.data_race(|n| *n) != 1
            || !self.cgrp(top, cx).children.data_race(|c| c.is_empty())
        {
            self.bug(
                cx,
                "BUG_ON(root->number_of_cgroups != 1)",
                format!("{root} still has children"),
            );
        }
        let m = self.cgroup_mutex.lock(cx);
        if self.rebind_subsystems_gfp(root, 0, true, cx).is_err() {
            self.bug(cx, "BUG_ON(ret)", "rebind_subsystems(root, 0) failed");
        }
        let w = self.css_set_lock.write(cx);
        self.unlink_cgroup_css_sets(top, false, cx);
        drop(w);
        if self.root(root, cx).on_roots.get(&self.cgroup_mutex, cx) {
            self.roots_list
                .with_mut(&self.cgroup_mutex, cx, |l| l.retain(|&x| x != root));
            self.root(root, cx)
                .on_roots
                .set(&self.cgroup_mutex, cx, false);
            self.root_count
                .with_mut(&self.cgroup_mutex, cx, |c| *c -= 1);
        }
        drop(m);
        if self.fault(Fault::KillSbFreeRootFirst) {
            // Before 67e055d1: the root goes while the sb is still findable by sget.
            self.cgroup_drop_root(root, cx);
        }
        // kill_litter_super → generic_shutdown_super: the sb leaves the super list.
        let g = self.sb_lock.lock(cx);
        self.supers
            .with_mut(&self.sb_lock, cx, |l| l.retain(|&x| x != root));
        drop(g);
        if !self.fault(Fault::KillSbFreeRootFirst) {
            self.cgroup_drop_root(root, cx);
        }
    }

    /// `cgroup_remount(sb, flags, data)`: root dir i_mutex + cgroup_mutex (the BKL is not
    /// modelled: it orders nothing else here), parse, refuse a change of flags or name (-EINVAL,
    /// dropping the parsed refs), rebind (dropping the parsed refs on error).
    pub fn cgroup_remount(&self, root: RootH, data: &str, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("cgroup_remount");
        let top = self.root(root, cx).top();
        let topc = self.cgrp(top, cx);
        let (im, m) = if self.fault(Fault::RemountLockInversion) {
            let m = self.cgroup_mutex.lock(cx);
            (topc.i_mutex.lock(cx), m)
        } else {
            let im = topc.i_mutex.lock(cx);
            (im, self.cgroup_mutex.lock(cx))
        };
        let res = (|| {
            let opts = self.parse_cgroupfs_options(data, cx)?;
            let (noprefix, name) = {
                let r = self.root(root, cx);
                (r.noprefix, r.name.clone())
            };
            if opts.noprefix != noprefix || opts.name.as_ref().is_some_and(|n| *n != name) {
                self.drop_parsed_module_refcounts(opts.subsys_bits, cx);
                return Err(Errno::EINVAL);
            }
            if let Err(e) = self.rebind_subsystems(root, opts.subsys_bits, cx) {
                self.drop_parsed_module_refcounts(opts.subsys_bits, cx);
                return Err(e);
            }
            Ok(())
        })();
        drop(m);
        drop(im);
        res
    }
}
