//! Out-of-band observation of the model's state in user-space terms, for tests and reports:
//! which cgroup a task is in, what is mounted, what a module's refcount is. Read only at
//! quiescent points.

use crate::check::invariants::hashed;
use crate::kernel::ops::module_index;
use crate::kernel::{modstate, CgroupH, CssSet, Kernel, Subsys};
use crate::sim::arena::Handle;
use crate::sim::sync::Ordering;
use crate::sim::trace::quiet;

impl Kernel {
    /// The path (`""` for the top, `a/b` below it) of the cgroup task `task` is in, in the
    /// hierarchy mounted at `mnt`; None if either does not exist.
    pub fn observe_task_cgroup(&self, task: &str, mnt: &str) -> Option<String> {
        quiet(|| {
            let t = self.task_named(task)?;
            let sb = self
                .mounts
                .peek(|l| l.iter().find(|(n, _)| n == mnt).map(|x| x.1))?;
            let root = self.sbs.peek(sb).s_fs_info;
            let cg: Handle<CssSet> =
                Handle::from_raw(self.tasks.peek(t).cgroups.load(Ordering::SeqCst))?;
            if cg == self.init_css_set {
                // exited tasks and tasks never moved from init_css_set sit at every top cgroup
                let links = self.csets.peek(cg).cg_links.peek(|l| l.clone());
                let hit = links.into_iter().find_map(|l| {
                    let c = self.links.peek(l).cgrp.peek(|c| *c)?;
                    (self.cgroups.peek(c).root == root).then_some(c)
                });
                return Some(hit.map_or(String::new(), |c| self.observe_path(c)));
            }
            let links = self.csets.peek(cg).cg_links.peek(|l| l.clone());
            links.into_iter().find_map(|l| {
                let c = self.links.peek(l).cgrp.peek(|c| *c)?;
                (self.cgroups.peek(c).root == root).then(|| self.observe_path(c))
            })
        })
    }

    /// The path of a cgroup below its hierarchy's top.
    pub fn observe_path(&self, c: CgroupH) -> String {
        quiet(|| {
            let mut parts = Vec::new();
            let mut cur = c;
            loop {
                let g = self.cgroups.peek(cur);
                match g.parent {
                    Some(p) => {
                        parts.push(g.name.clone());
                        cur = p;
                    }
                    None => break,
                }
            }
            parts.reverse();
            parts.join("/")
        })
    }

    /// A module's refcount, or None if it is not loaded.
    pub fn observe_module_refcount(&self, name: &str) -> Option<i64> {
        quiet(|| {
            let m = &self.modules[module_index(name)?];
            (m.state.load(Ordering::SeqCst) != modstate::UNLOADED)
                .then(|| m.refcnt.load(Ordering::SeqCst))
        })
    }

    /// The names of the subsystems bound to the hierarchy mounted at `mnt`.
    pub fn observe_mount_subsystems(&self, mnt: &str) -> Option<Vec<String>> {
        quiet(|| {
            let sb = self
                .mounts
                .peek(|l| l.iter().find(|(n, _)| n == mnt).map(|x| x.1))?;
            let root = self.sbs.peek(sb).s_fs_info;
            let mut v: Vec<String> = self
                .roots
                .peek(root)
                .subsys_list
                .peek(|l| l.clone())
                .into_iter()
                .map(|s| self.subsystems.peek(s).ops.name.to_string())
                .collect();
            v.sort();
            Some(v)
        })
    }

    /// The names of the subsystems present in `subsys[]`, in slot order.
    pub fn observe_subsystems(&self) -> Vec<String> {
        quiet(|| {
            self.subsys
                .iter()
                .filter_map(|a| Handle::<Subsys>::from_raw(a.load(Ordering::SeqCst)))
                .map(|s| self.subsystems.peek(s).ops.name.to_string())
                .collect()
        })
    }

    /// The number of hashed css_sets.
    pub fn observe_css_sets(&self) -> usize {
        quiet(|| hashed(self).len())
    }
}
