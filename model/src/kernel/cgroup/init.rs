//! Boot: `cgroup_init_early`, `cgroup_init` and `cgroup_init_subsys` (kernel/cgroup.c).

use crate::kernel::{CssSetH, Kernel, Subsys, Task, TaskH, BUILTIN};
use crate::sim::arena::Handle;
use crate::sim::atomic::{AtomicU32, AtomicUsize};
use crate::sim::cx::Cx;
use crate::sim::lockdep::{KMutex, LockedBy};
use crate::sim::rcu::rcu_assign_pointer;
use crate::sim::sync::Ordering;

impl Kernel {
    /// `cgroup_init_early` + `cgroup_init`, single-threaded at boot: built-in subsystems get their
    /// dummytop css (`cgroup_init_subsys`), `init_css_set` is linked to dummytop by the static
    /// `init_css_set_link` and hashed, and `init_task` (T0) points at it, holding its initial ref.
    pub(crate) fn cgroup_init(&self) {
        let cx = self.cx(0, "boot");
        let _f = cx.enter("cgroup_init");
        let _m = self.cgroup_mutex.lock(&cx);
        let w = self.css_set_lock.write(&cx);
        for (i, &ops) in BUILTIN.iter().take(self.cfg.builtin).enumerate() {
            let name = ops.name;
            let ss = self.subsystems.alloc(Subsys {
                ops,
                module: None,
                subsys_id: AtomicUsize::named(i, "ss.subsys_id"),
                root: LockedBy::new(self.rootnode),
                active: AtomicU32::named(1, "ss.active"),
                hierarchy_mutex: KMutex::new(format!("{name}.hierarchy_mutex")),
            });
            self.subsystems.set_label(ss, format!("{name} (built-in)"));
            rcu_assign_pointer(&self.subsys[i], Some(ss));
            self.root(self.rootnode, &cx)
                .subsys_list
                .with_mut(&self.cgroup_mutex, &cx, |l| l.push(ss));
            // cgroup_init_subsys: css = ss->create(ss, dummytop); init_cgroup_css.
            let css = self.alloc_css(ops, &cx);
            self.init_cgroup_css(css, i, self.dummytop, &cx);
            rcu_assign_pointer(&self.cset(self.init_css_set, &cx).subsys[i], Some(css));
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

    #[doc(alias = "cgroup_init")]
    fn css_set_lock_write_add_task(&self, t: TaskH, cg: CssSetH, cx: &Cx) {
        let _w = self.css_set_lock.write(cx);
        self.task(t, cx)
            .cg_list
            .store(Handle::to_raw(Some(cg)), Ordering::Relaxed);
        self.cset(cg, cx)
            .tasks
            .with_mut(&self.css_set_lock, cx, |l| l.insert(0, t));
    }
}
