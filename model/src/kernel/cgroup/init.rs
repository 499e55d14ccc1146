//! Boot: `cgroup_init_early`, `cgroup_init_subsys` and `cgroup_init` (kernel/cgroup.c), run on
//! thread 0 before any other thread exists. Boot takes no lock (the kernel takes none: nothing
//! else runs), so it initialises the lock-protected fields out of band.

use std::sync::OnceLock;

use crate::kernel::anchors::kfn;
use crate::kernel::{Cftype, Kernel, Subsys, Task, BUILTIN};
use crate::sim::arena::Handle;
use crate::sim::atomic::{AtomicU32, AtomicUsize};
use crate::sim::cx::Cx;
use crate::sim::lockdep::{KMutex, LockedBy};
use crate::sim::sync::Ordering;

impl Kernel {
    /// `start_kernel`'s part: `cgroup_init_early`, then `cgroup_init`; `init_task` (T0) is the
    /// idle task, on `init_css_set`, holding its initial reference.
    pub(crate) fn start_kernel(&self) {
        let cx = self.cx(0, "boot");
        self.cgroup_init_early(&cx);
        self.cgroup_init(&cx);
    }

    /// `cgroup_init_early` (cgroup.c:3804-3844): `init_css_set` (refcount 1), `css_set_count`,
    /// rootnode (`init_cgroup_root`), `root_count`, `init_task.cgroups`, the static
    /// `init_css_set_link` to dummytop, then `cgroup_init_subsys` for the built-ins (both
    /// modelled ones are `early_init`).
    fn cgroup_init_early(&self, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_init_early);
        cx.at(3811);
        self.css_set_count.poke(1);
        cx.at(3813);
        self.root_count.poke(|c| *c = 1);
        cx.at(3814);
        let t0 = self.tasks.alloc(Task::new(0, self.init_css_set));
        self.tasks.set_label(t0, "init_task");
        cx.at(3816);
        let link = self.links.peek(self.init_css_set_link);
        link.cg.poke(|c| *c = Some(self.init_css_set));
        link.cgrp.poke(|c| *c = Some(self.dummytop));
        cx.at(3818);
        self.cgroups
            .peek(self.dummytop)
            .css_sets
            .poke(|l| l.insert(0, self.init_css_set_link));
        self.cgroups
            .peek(self.dummytop)
            .count
            .store(1, Ordering::Relaxed);
        cx.at(3820);
        self.csets
            .peek(self.init_css_set)
            .cg_links
            .poke(|l| l.insert(0, self.init_css_set_link));
        if self.use_task_links {
            // As after the first cgroup_iter_start (cgroup_enable_task_cg_lists, 2322-2339):
            // init_task on init_css_set's task list.
            self.tasks
                .peek(t0)
                .cg_list
                .store(Handle::to_raw(Some(self.init_css_set)), Ordering::Relaxed);
            self.csets
                .peek(self.init_css_set)
                .tasks
                .poke(|l| l.insert(0, t0));
        }
        for (i, &ops) in BUILTIN.iter().take(self.cfg.builtin).enumerate() {
            cx.at(3841);
            self.cgroup_init_subsys(i, ops, cx);
        }
    }

    /// `cgroup_init_subsys` (cgroup.c:3577-3611) for built-in `ops` in slot `i`: onto rootnode's
    /// `subsys_list` (at the head), `create` on dummytop (the built-ins return static state),
    /// `init_cgroup_css`, and `init_css_set.subsys[i]`.
    fn cgroup_init_subsys(&self, i: usize, ops: &'static crate::kernel::SubsysOps, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_init_subsys);
        let name = ops.name;
        let ss = self.subsystems.alloc(Subsys {
            ops,
            module: None,
            subsys_id: AtomicUsize::named(i, "ss.subsys_id"),
            root: LockedBy::new(self.rootnode),
            active: AtomicU32::named(0, "ss.active"),
            hierarchy_mutex: KMutex::new(format!("{name}.hierarchy_mutex")),
            cftypes: OnceLock::new(),
            static_css: None,
        });
        self.subsystems
            .set_label(ss, format!("{name}_subsys (built-in)"));
        // Its cftypes (cpuset.c `files[]`, sched.c `cpu_files[]`): static, in the kernel image.
        let cfts = ops
            .files
            .iter()
            .map(|&(file, kind)| {
                let c = self.cftypes.alloc(Cftype {
                    name: file,
                    kind,
                    ss: Some(ss),
                });
                self.cftypes
                    .set_label(c, format!("{name}.{file} cftype (static)"));
                c
            })
            .collect();
        let _ = self.subsystems.peek(ss).cftypes.set(cfts);
        self.subsys[i].store(Handle::to_raw(Some(ss)), Ordering::Relaxed);
        cx.at(3584);
        self.roots
            .peek(self.rootnode)
            .subsys_list
            .poke(|l| l.insert(0, ss));
        cx.at(3586);
        let css = self.alloc_css(ops, true, cx);
        cx.at(3589);
        self.init_cgroup_css(css, i, self.dummytop, cx);
        cx.at(3595);
        self.csets.peek(self.init_css_set).subsys[i]
            .store(Handle::to_raw(Some(css)), Ordering::Relaxed);
        cx.at(3606);
        self.subsystems.peek(ss).active.store(1, Ordering::Relaxed);
    }

    /// `cgroup_init` (cgroup.c:3852-3886): the built-ins are initialised early in the model, so
    /// what is left is hashing `init_css_set` (3872-3873).
    fn cgroup_init(&self, cx: &Cx) {
        let _f = cx.enter(&kfn::cgroup_init);
        cx.at(3872);
        let b = self.css_set_bucket(self.init_css_set, cx);
        cx.at(3873);
        self.css_set_table[b].poke(|v| v.insert(0, self.init_css_set));
    }
}
