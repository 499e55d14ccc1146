//! Module lifetime (kernel/module.c v2.6.34, abstracted): `try_module_get`, `module_put`,
//! `sys_init_module` and `sys_delete_module`. A module's memory holds its `struct cgroup_subsys`,
//! which is freed by `free_module` at the end of a removal.
//!
//! `try_module_get` and `module_put` run with preemption disabled; `__try_stop_module` runs under
//! `stop_machine`, so its "refcount is zero → state GOING" step is atomic with respect to every
//! get. The model expresses that with one rwlock: gets and puts read-lock it, the stop write-locks.

use crate::kernel::errno::Errno;
use crate::kernel::{modstate, Kernel, Subsys};
use crate::sim::atomic::{AtomicU32, AtomicUsize};
use crate::sim::cx::Cx;
use crate::sim::lockdep::KMutex;
use crate::sim::lockdep::LockedBy;
use crate::sim::rcu::{rcu_assign_pointer, rcu_dereference};
use crate::sim::sync::Ordering;

impl Kernel {
    /// `try_module_get(module)`: fails once the module is going; NULL (built-in) always succeeds.
    pub fn try_module_get(&self, module: Option<usize>, cx: &Cx) -> bool {
        let _f = cx.enter("try_module_get");
        let Some(mi) = module else { return true };
        let m = &self.modules[mi];
        let g = self.stop_machine.read(cx);
        let state = m.state.load(Ordering::SeqCst);
        if state == modstate::UNLOADED {
            self.bug(
                cx,
                "module-use-after-free",
                format!("try_module_get on freed module {}", m.name),
            );
        }
        let ok = state != modstate::GOING;
        if ok {
            m.refcnt.fetch_add(1, Ordering::SeqCst);
        }
        drop(g);
        ok
    }

    /// `module_put(module)`; NULL is a no-op. An underflow is a BUG.
    pub fn module_put(&self, module: Option<usize>, cx: &Cx) {
        let _f = cx.enter("module_put");
        let Some(mi) = module else { return };
        let m = &self.modules[mi];
        let g = self.stop_machine.read(cx);
        if m.state.load(Ordering::SeqCst) == modstate::UNLOADED {
            self.bug(
                cx,
                "module-use-after-free",
                format!("module_put on freed module {}", m.name),
            );
        }
        let old = m.refcnt.fetch_sub(1, Ordering::SeqCst);
        drop(g);
        if old <= 0 {
            self.bug(
                cx,
                "module-refcount-underflow",
                format!("module_put on {} at refcount {old}", m.name),
            );
        }
    }

    /// `insmod`: `sys_init_module` → `load_module` (module memory, state COMING, the initial
    /// reference held during init) → `do_one_initcall(mod->init)` → on failure state GOING,
    /// `synchronize_sched`, drop the initial ref and `free_module`; on success drop the initial
    /// ref and go LIVE.
    pub fn sys_init_module(&self, mi: usize, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("sys_init_module");
        let m = &self.modules[mi];
        let g = self.module_mutex.lock(cx);
        if m.state.load(Ordering::SeqCst) != modstate::UNLOADED {
            return Err(Errno::EEXIST);
        }
        if !cx.kmalloc_ok() {
            return Err(Errno::ENOMEM);
        }
        let ops = m.ops;
        let ss_name = ops.name;
        let ss = self.subsystems.alloc(Subsys {
            ops,
            module: Some(mi),
            subsys_id: AtomicUsize::named(0, "ss.subsys_id"),
            root: LockedBy::new(self.rootnode),
            active: AtomicU32::named(0, "ss.active"),
            hierarchy_mutex: KMutex::new(format!("{ss_name}.hierarchy_mutex")),
        });
        self.subsystems
            .set_label(ss, format!("{ss_name}_subsys in module {}", m.name));
        rcu_assign_pointer(&m.ss, Some(ss));
        m.refcnt.store(1, Ordering::SeqCst);
        m.published_id.store(-1, Ordering::SeqCst);
        m.state.store(modstate::COMING, Ordering::SeqCst);
        drop(g);
        let init = ops
            .module_init
            .expect("a module's subsystem has a module_init");
        let ret = init(self, mi, ss, cx);
        if let Err(e) = ret {
            m.state.store(modstate::GOING, Ordering::SeqCst);
            self.rcu.synchronize(cx);
            self.module_put(Some(mi), cx);
            let g = self.module_mutex.lock(cx);
            self.free_module(mi, cx);
            drop(g);
            return Err(e);
        }
        let g = self.module_mutex.lock(cx);
        self.module_put(Some(mi), cx);
        m.state.store(modstate::LIVE, Ordering::SeqCst);
        drop(g);
        Ok(())
    }

    /// `rmmod` (`O_NONBLOCK`): `sys_delete_module` under module_mutex (-ENOENT if not loaded,
    /// -EBUSY unless LIVE), `try_stop_module` under stop_machine (-EWOULDBLOCK while the refcount is
    /// held, else state GOING), then the module's exit (running `cgroup_unload_subsys`), then
    /// `free_module`: the module memory, its `struct cgroup_subsys` included, is gone.
    #[doc(alias = "delete_module")]
    pub fn sys_delete_module(&self, mi: usize, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("sys_delete_module");
        let m = &self.modules[mi];
        let g = self.module_mutex.lock(cx);
        let state = m.state.load(Ordering::SeqCst);
        if state == modstate::UNLOADED {
            return Err(Errno::ENOENT);
        }
        if state != modstate::LIVE {
            return Err(Errno::EBUSY);
        }
        {
            let _f = cx.enter("__try_stop_module");
            let sm = self.stop_machine.write(cx);
            if m.refcnt.load(Ordering::SeqCst) != 0 {
                return Err(Errno::EWOULDBLOCK);
            }
            m.state.store(modstate::GOING, Ordering::SeqCst);
            drop(sm);
        }
        drop(g);
        let ss = rcu_dereference::<Subsys>(&m.ss).expect("loaded module has its subsys");
        let exit = m
            .ops
            .module_exit
            .expect("a module's subsystem has a module_exit");
        exit(self, mi, ss, cx);
        let g = self.module_mutex.lock(cx);
        self.free_module(mi, cx);
        drop(g);
        Ok(())
    }

    /// `free_module`: the module memory goes, its `struct cgroup_subsys` with it.
    fn free_module(&self, mi: usize, cx: &Cx) {
        let _f = cx.enter("free_module");
        let m = &self.modules[mi];
        if let Some(ss) = rcu_dereference::<Subsys>(&m.ss) {
            self.subsystems.kfree(ss, cx);
        }
        rcu_assign_pointer::<Subsys>(&m.ss, None);
        m.refcnt.store(0, Ordering::SeqCst);
        m.state.store(modstate::UNLOADED, Ordering::SeqCst);
    }
}
