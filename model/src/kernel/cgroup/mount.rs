//! Mounting a hierarchy (kernel/cgroup.c:1218-1618): `cgroup_remount`, `cgroup_test_super`,
//! `cgroup_root_from_opts`, `cgroup_drop_root`, `cgroup_get_rootdir`, `cgroup_get_sb`,
//! `cgroup_kill_sb`. The options they parse are [`super::options`]'s; the superblocks they live
//! in are [`crate::kernel::vfs`]'s.

use std::sync::OnceLock;

use crate::kernel::anchors::kfn;
use crate::kernel::cgroup::options::SbOpts;
use crate::kernel::errno::Errno;
use crate::kernel::gfp::GFP_KERNEL;
use crate::kernel::{Cgroup, Kernel, Root, RootH, SbH};
use crate::sim::cx::Cx;
use crate::variants::Fault;

impl Kernel {
    /// `cgroup_remount(sb, flags, data)` (cgroup.c:1218-1260), `s_umount` held by
    /// `do_remount`: the root directory's i_mutex, then cgroup_mutex (the BKL is left out, see
    /// `kernel::vfs`); parse; refuse a change of flags or name (-EINVAL, dropping the parsed
    /// refs); rebind (dropping the parsed refs on error); repopulate the root directory.
    /// `release_agent` is parsed but not stored (the agent is not modelled).
    pub fn cgroup_remount(&self, sb: SbH, data: Option<&str>, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::cgroup_remount);
        let root = self.sb_root(sb, cx);
        let top = self.root(root, cx).top();
        let topc = self.cgrp(top, cx);
        let (im, m) = if self.fault(Fault::RemountLockInversion) {
            cx.at(1227);
            let m = self.cgroup_mutex.lock(cx);
            cx.at(1226);
            (topc.i_mutex.lock(cx), m)
        } else {
            cx.at(1226);
            let im = topc.i_mutex.lock(cx);
            cx.at(1227);
            (im, self.cgroup_mutex.lock(cx))
        };
        let res = (|| {
            cx.at(1230);
            let opts = self.parse_cgroupfs_options(data, cx)?;
            let (noprefix, name) = {
                let r = self.root(root, cx);
                (r.noprefix, r.name.clone())
            };
            cx.at(1235);
            if opts.noprefix != noprefix || opts.name.as_ref().is_some_and(|n| *n != name) {
                cx.at(1238);
                self.drop_parsed_module_refcounts(opts.subsys_bits, cx);
                return Err(Errno::EINVAL);
            }
            cx.at(1242);
            if let Err(e) = self.rebind_subsystems(root, opts.subsys_bits, cx) {
                cx.at(1244);
                self.drop_parsed_module_refcounts(opts.subsys_bits, cx);
                return Err(e);
            }
            cx.at(1249);
            let _ = self.cgroup_populate_dir(top, cx); // errors ignored, as the kernel does
            Ok(())
        })();
        cx.at(1256);
        drop(m);
        cx.at(1257);
        drop(im);
        res
    }

    /// `cgroup_test_super(sb, opts)` (cgroup.c:1317-1335): same name if one was asked for; same
    /// subsystems if any (or `none`) were asked for. Runs under sb_lock only: `root->subsys_bits`
    /// is read without cgroup_mutex, as in the kernel.
    pub fn cgroup_test_super(&self, sb: SbH, o: &SbOpts, cx: &Cx) -> bool {
        let _f = cx.enter(&kfn::cgroup_test_super);
        cx.at(1320);
        let root = self.sb_root(sb, cx);
        let r = self.root(root, cx);
        cx.at(1323);
        if let Some(n) = &o.name {
            if *n != r.name {
                return false;
            }
        }
        cx.at(1330);
        let bits = r.subsys_bits.data_race() as u64;
        !((o.subsys_bits != 0 || o.none) && o.subsys_bits != bits)
    }

    /// `cgroup_root_from_opts(opts)` (cgroup.c:1337-1361): no root without subsystems or `none`;
    /// kzalloc (-ENOMEM); `init_root_id` (an out-of-band counter here: the ida and its failure
    /// are not modelled); `init_cgroup_root` (its top cgroup is embedded).
    pub fn cgroup_root_from_opts(&self, o: &SbOpts, cx: &Cx) -> Result<Option<RootH>, Errno> {
        let _f = cx.enter(&kfn::cgroup_root_from_opts);
        cx.at(1341);
        if o.subsys_bits == 0 && !o.none {
            return Ok(None);
        }
        cx.at(1344);
        if !cx.kmalloc_ok(GFP_KERNEL) {
            return Err(Errno::ENOMEM);
        }
        let id = {
            let mut n = self.next_hierarchy_id.lock().unwrap();
            *n += 1;
            *n - 1
        };
        let mut root = Root::new(
            false,
            o.name.clone().unwrap_or_default(),
            o.noprefix,
            o.subsys_bits,
            id,
        );
        root.top = OnceLock::new();
        let root = self.roots.alloc(root);
        self.roots.set_label(root, format!("hierarchy {id}"));
        let top = self
            .cgroups
            .alloc(Cgroup::new(root, None, "/".into(), self.count(), 1));
        self.cgroups
            .set_label(top, format!("top cgroup of hierarchy {id}"));
        let _ = self.root(root, cx).top.set(top);
        Ok(Some(root))
    }

    /// `cgroup_drop_root(root)` (cgroup.c:1363-1373): frees the root (and its embedded top
    /// cgroup).
    pub fn cgroup_drop_root(&self, root: RootH, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_drop_root);
        let top = self.root(root, cx).top();
        cx.at(1372);
        self.cgroups.kfree(top, cx);
        self.roots.kfree(root, cx);
    }

    /// `cgroup_get_rootdir(sb)` (cgroup.c:1401-1421): the root directory's inode and dentry
    /// (one kmalloc here, -ENOMEM); `sb->s_root` is set (`s_umount` held).
    fn cgroup_get_rootdir(&self, sb: SbH, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::cgroup_get_rootdir);
        cx.at(1404);
        if !cx.kmalloc_ok(GFP_KERNEL) {
            return Err(Errno::ENOMEM);
        }
        let s = self.sbs.get(sb, cx);
        cx.at(1419);
        s.s_root.set(&s.s_umount, cx, true);
        Ok(())
    }

    /// `cgroup_get_sb` (cgroup.c:1423-1573): the mount of a cgroup hierarchy with options `data`.
    /// Parse (under cgroup_mutex), `cgroup_root_from_opts`, `sget`; for a new superblock, the
    /// new-hierarchy branch below; for an existing one, drop the new root and the parsed module
    /// refs. Error paths: `drop_new_super` (`deactivate_locked_super`) then `drop_modules`
    /// (`drop_parsed_module_refcounts`). Returns the superblock with `s_umount` held.
    pub fn cgroup_get_sb(&self, data: Option<&str>, cx: &Cx) -> Result<SbH, Errno> {
        let _f = cx.enter(&kfn::cgroup_get_sb);
        cx.at(1434);
        let m = self.cgroup_mutex.lock(cx);
        cx.at(1435);
        let opts = self.parse_cgroupfs_options(data, cx);
        cx.at(1436);
        drop(m);
        let opts = opts?;
        cx.at(1444);
        let new_root = match self.cgroup_root_from_opts(&opts, cx) {
            Ok(r) => r,
            Err(e) => {
                cx.at(1567);
                self.drop_modules(opts.subsys_bits, cx);
                return Err(e);
            }
        };
        cx.at(1452);
        let sb = match self.sget(&opts, new_root, cx) {
            Ok(s) => s,
            Err(e) => {
                if let Some(nr) = new_root {
                    cx.at(1455);
                    self.cgroup_drop_root(nr, cx);
                }
                cx.at(1567);
                self.drop_modules(opts.subsys_bits, cx);
                return Err(e);
            }
        };
        cx.at(1459);
        let root = self.sb_root(sb, cx);
        if Some(root) != new_root {
            // We re-used an existing hierarchy: no subsys rebinding, so refcounts don't change.
            if let Some(nr) = new_root {
                cx.at(1554);
                self.cgroup_drop_root(nr, cx);
            }
            cx.at(1556);
            self.drop_parsed_module_refcounts(opts.subsys_bits, cx);
            return Ok(sb);
        }
        match self.cgroup_new_hierarchy(sb, root, cx) {
            Ok(()) => Ok(sb),
            Err(e) => {
                cx.at(1565);
                self.deactivate_locked_super(sb, cx);
                cx.at(1567);
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

    /// The new-superblock branch of `cgroup_get_sb` (cgroup.c:1461-1548): `cgroup_get_rootdir`,
    /// i_mutex + cgroup_mutex, the name clash check (-EBUSY), `allocate_cg_links(css_set_count)`
    /// (read without css_set_lock), `rebind_subsystems` (-EBUSY), `roots`/`root_count++`, link
    /// every hashed css_set to the new top cgroup, `cgroup_populate_dir`. An error means
    /// `goto drop_new_super`.
    #[doc(alias = "cgroup_get_sb")]
    fn cgroup_new_hierarchy(&self, sb: SbH, root: RootH, cx: &Cx) -> Result<(), Errno> {
        // frame: cgroup_get_sb
        cx.at(1471);
        self.cgroup_get_rootdir(sb, cx)?;
        let top = self.root(root, cx).top();
        let topc = self.cgrp(top, cx);
        cx.at(1476);
        let im = topc.i_mutex.lock(cx);
        cx.at(1477);
        let m = self.cgroup_mutex.lock(cx);
        let name = self.root(root, cx).name.clone();
        if !name.is_empty() {
            for r in self.roots_list.get(&self.cgroup_mutex, cx) {
                cx.at(1482);
                if self.root(r, cx).name == name {
                    return Err(Errno::EBUSY);
                }
            }
        }
        // css_set_count read without css_set_lock: only cgroup_mutex holders increase it.
        cx.at(1498);
        let n = self.css_set_count.data_race() as usize;
        let Some(mut tmp) = self.allocate_cg_links(n, cx) else {
            return Err(Errno::ENOMEM);
        };
        let bits = self.root(root, cx).subsys_bits.get(&self.cgroup_mutex, cx) as u64;
        cx.at(1505);
        if let Err(e) = self.rebind_subsystems(root, bits, cx) {
            cx.at(1507);
            drop(m);
            cx.at(1508);
            drop(im);
            cx.at(1509);
            self.free_cg_links(tmp, cx);
            return Err(e);
        }
        cx.at(1521);
        self.roots_list
            .with_mut(&self.cgroup_mutex, cx, |l| l.insert(0, root));
        self.root(root, cx)
            .on_roots
            .set(&self.cgroup_mutex, cx, true);
        cx.at(1522);
        self.root_count
            .with_mut(&self.cgroup_mutex, cx, |c| *c += 1);
        cx.at(1529);
        let w = self.css_set_lock.write(cx);
        for b in &self.css_set_table {
            for cg in b.get(&self.css_set_lock, cx) {
                cx.at(1536);
                self.link_css_set(&mut tmp, cg, top, " (css_set_count too small)", cx);
            }
        }
        cx.at(1538);
        drop(w);
        cx.at(1540);
        self.free_cg_links(tmp, cx);
        cx.at(1543);
        if !topc.children.get(&self.cgroup_mutex, cx).is_empty()
            || self
                .root(root, cx)
                .number_of_cgroups
                .get(&self.cgroup_mutex, cx)
                != 1
        {
            cx.at(1544);
            self.bug(
                cx,
                "BUG_ON(root->number_of_cgroups != 1)",
                "new hierarchy not empty",
            );
        }
        cx.at(1546);
        let _ = self.cgroup_populate_dir(top, cx); // errors ignored, as the kernel does
        cx.at(1547);
        drop(m);
        cx.at(1548);
        drop(im);
        Ok(())
    }

    /// `cgroup_kill_sb(sb)` (cgroup.c:1575-1618), `s_umount` held: `BUG_ON`s read without
    /// cgroup_mutex, rebind every subsystem back to the dummy hierarchy (dropping the
    /// hierarchy's module refs), free every link to the top cgroup under css_set_lock, leave
    /// `roots` (only if on it: 839ec545), then `kill_litter_super` (off the superblock list, and
    /// `s_umount` released) and only then `cgroup_drop_root` (67e055d1).
    pub fn cgroup_kill_sb(&self, sb: SbH, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_kill_sb);
        let root = self.sb_root(sb, cx);
        let top = self.root(root, cx).top();
        cx.at(1584);
        if self.root(root, cx).number_of_cgroups.data_race(|n| *n) != 1
            || !self.cgrp(top, cx).children.data_race(|c| c.is_empty())
        {
            self.bug(
                cx,
                "BUG_ON(root->number_of_cgroups != 1)",
                format!("{root} still has children"),
            );
        }
        cx.at(1588);
        let m = self.cgroup_mutex.lock(cx);
        cx.at(1591);
        if self.rebind_subsystems_gfp(root, 0, true, cx).is_err() {
            cx.at(1593);
            self.bug(cx, "BUG_ON(ret)", "rebind_subsystems(root, 0) failed");
        }
        cx.at(1599);
        let w = self.css_set_lock.write(cx);
        cx.at(1601);
        self.unlink_cgroup_css_sets(top, false, cx);
        cx.at(1607);
        drop(w);
        cx.at(1609);
        if self.root(root, cx).on_roots.get(&self.cgroup_mutex, cx) {
            cx.at(1610);
            self.roots_list
                .with_mut(&self.cgroup_mutex, cx, |l| l.retain(|&x| x != root));
            self.root(root, cx)
                .on_roots
                .set(&self.cgroup_mutex, cx, false);
            cx.at(1611);
            self.root_count
                .with_mut(&self.cgroup_mutex, cx, |c| *c -= 1);
        }
        cx.at(1614);
        drop(m);
        if self.fault(Fault::KillSbFreeRootFirst) {
            // Before 67e055d1: the root goes while the sb is still findable by sget.
            self.cgroup_drop_root(root, cx);
        }
        cx.at(1616);
        {
            let _k = cx.enter(&kfn::kill_litter_super);
            cx.at(720);
            self.d_genocide(top, cx);
            cx.at(721);
            self.generic_shutdown_super(sb, cx);
        }
        if !self.fault(Fault::KillSbFreeRootFirst) {
            cx.at(1617);
            self.cgroup_drop_root(root, cx);
        }
    }
}
