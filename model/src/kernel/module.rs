//! Module lifetime (kernel/module.c v2.6.34, abstracted): `try_module_get`, `module_put`,
//! `sys_init_module`, `sys_delete_module`, `free_module` and `stop_machine`. A module's memory
//! holds its `struct cgroup_subsys`, its cftypes and its static data, freed by `free_module` at
//! the end of a removal or of a failed load.
//!
//! `try_module_get` and `module_put` run with preemption disabled; `__try_stop_module` runs under
//! `stop_machine`, so its "refcount is zero → state GOING" step is atomic with respect to every
//! get. The model expresses that with one rwlock: gets and puts read-lock it, the stop write-locks.

use std::sync::OnceLock;

use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::gfp::GFP_KERNEL;
use crate::kernel::{modstate, Cftype, Kernel, Subsys};
use crate::sim::atomic::{AtomicU32, AtomicUsize};
use crate::sim::cx::Cx;
use crate::sim::lockdep::KMutex;
use crate::sim::lockdep::LockedBy;
use crate::sim::rcu::{rcu_assign_pointer, rcu_dereference_raw};
use crate::sim::sync::Ordering;

/// The module's refcount once `free_module` has freed its per-cpu counters (`free_percpu(mod->refptr)`,
/// kernel/module.c:1473): a get or put that lands on it, however far it counts, touched freed
/// memory. The struct module itself (its `state`) goes later, with the module core (line 1479).
/// The next `load_module` allocates a fresh counter (line 2233): the store of 1 in `sys_init_module`.
const REFPTR_FREED: i64 = i64::MIN / 2;

impl Kernel {
    /// `try_module_get(module)`: fails once the module is going; NULL (built-in) always succeeds.
    /// v2.6.34: include/linux/module.h:474-491.
    pub fn try_module_get(&self, module: Option<usize>, cx: &Cx) -> bool {
        let _f = cx.enter(&kfn::try_module_get);
        let Some(mi) = module else { return true };
        let m = &self.modules[mi];
        cx.at(479);
        let g = self.stop_machine.read(cx);
        cx.at(481);
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
            cx.at(482);
            if m.refcnt.fetch_add(1, Ordering::SeqCst) <= REFPTR_FREED / 2 {
                self.bug(
                    cx,
                    "module-use-after-free",
                    format!("try_module_get on {}'s freed refptr", m.name),
                );
            }
        }
        cx.at(488);
        drop(g);
        ok
    }

    /// `module_put(module)`; NULL is a no-op. An underflow is a BUG.
    /// v2.6.34: kernel/module.c:863-877.
    pub fn module_put(&self, module: Option<usize>, cx: &Cx) {
        let _f = cx.enter(&kfn::module_put);
        let Some(mi) = module else { return };
        let m = &self.modules[mi];
        cx.at(866);
        let g = self.stop_machine.read(cx);
        cx.at(868);
        let old = m.refcnt.fetch_sub(1, Ordering::SeqCst);
        if old <= REFPTR_FREED / 2 {
            self.bug(
                cx,
                "module-use-after-free",
                format!("module_put on {}'s freed refptr", m.name),
            );
        }
        cx.at(873);
        if m.state.load(Ordering::SeqCst) == modstate::UNLOADED {
            self.bug(
                cx,
                "module-use-after-free",
                format!("module_put on freed module {}", m.name),
            );
        }
        cx.at(875);
        drop(g);
        if old <= 0 {
            self.bug(
                cx,
                "module-refcount-underflow",
                format!("module_put on {} at refcount {old}", m.name),
            );
        }
    }

    /// `insmod`: `sys_init_module` (kernel/module.c:2500-2579). Under module_mutex,
    /// `load_module` (-EEXIST if loaded; the module's memory, one kmalloc here, holding its
    /// `struct cgroup_subsys`, its cftypes and its static data; state COMING with the initial
    /// reference held); module_mutex is dropped and `mod->init` runs. On failure: state GOING,
    /// `synchronize_sched`, `module_put` of the initial reference, and `free_module` under
    /// module_mutex, whatever references remain (a tc filter created while the init ran keeps
    /// one on memory that is gone). On success: state LIVE (no lock), then under module_mutex
    /// the initial reference is dropped.
    #[doc(alias = "load_module")]
    pub fn sys_init_module(&self, mi: usize, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::sys_init_module);
        let m = &self.modules[mi];
        cx.at(2511);
        let g = self.module_mutex.lock(cx);
        cx.at(2515);
        if m.state.load(Ordering::SeqCst) != modstate::UNLOADED {
            return Err(Errno::EEXIST);
        }
        if !cx.kmalloc_ok(GFP_KERNEL) {
            return Err(Errno::ENOMEM);
        }
        let ss = self.load_module_memory(mi, cx);
        rcu_assign_pointer(&m.ss, Some(ss));
        m.refcnt.store(1, Ordering::SeqCst);
        m.published_id.store(-1, Ordering::SeqCst);
        m.state.store(modstate::COMING, Ordering::SeqCst);
        cx.at(2522);
        drop(g);
        let init = m
            .ops
            .module_init
            .expect("a module's subsystem has a module_init");
        cx.at(2530);
        let ret = init(self, mi, ss, cx);
        if let Err(e) = ret {
            cx.at(2534);
            m.state.store(modstate::GOING, Ordering::SeqCst);
            cx.at(2535);
            self.rcu.synchronize_sched(cx);
            cx.at(2536);
            self.module_put(Some(mi), cx);
            cx.at(2539);
            let g = self.module_mutex.lock(cx);
            cx.at(2540);
            self.free_module(mi, cx);
            cx.at(2541);
            drop(g);
            return Err(e);
        }
        cx.at(2555);
        m.state.store(modstate::LIVE, Ordering::SeqCst);
        cx.at(2563);
        let g = self.module_mutex.lock(cx);
        cx.at(2565);
        self.module_put(Some(mi), cx);
        cx.at(2576);
        drop(g);
        Ok(())
    }

    /// What `load_module` puts in the module's memory for its subsystem: the
    /// `struct cgroup_subsys`, its cftypes (`ss_files[]`) and its static root css
    /// (`blkio_root_cgroup`). Nothing else sees them until `mod->init` runs.
    fn load_module_memory(&self, mi: usize, cx: &Cx) -> crate::kernel::SubsysH {
        let m = &self.modules[mi];
        let ops = m.ops;
        let static_css = ops.static_root.then(|| {
            let c = self.alloc_css(ops, true, cx);
            self.csses.set_label(
                c,
                format!("{}'s static root css in module {}", ops.name, m.name),
            );
            c
        });
        let ss = self.subsystems.alloc(Subsys {
            ops,
            module: Some(mi),
            subsys_id: AtomicUsize::named(0, "ss.subsys_id"),
            root: LockedBy::new(self.rootnode),
            active: AtomicU32::named(0, "ss.active"),
            hierarchy_mutex: KMutex::new(format!("{}.hierarchy_mutex", ops.name)),
            cftypes: OnceLock::new(),
            static_css,
        });
        self.subsystems
            .set_label(ss, format!("{}_subsys in module {}", ops.name, m.name));
        let cfts = ops
            .files
            .iter()
            .map(|&(name, kind)| {
                let c = self.cftypes.alloc(Cftype {
                    name,
                    kind,
                    ss: Some(ss),
                });
                self.cftypes.set_label(
                    c,
                    format!("{}.{name} cftype in module {}", ops.name, m.name),
                );
                c
            })
            .collect();
        let _ = self.subsystems.peek(ss).cftypes.set(cfts);
        ss
    }

    /// `rmmod` (`O_NONBLOCK`): `sys_delete_module` (kernel/module.c:712-798) under module_mutex
    /// (-ENOENT if not loaded, -EBUSY unless LIVE), `try_stop_module` under `stop_machine`
    /// (`__try_stop_module`: -EWOULDBLOCK while the refcount is held, else state GOING); then,
    /// module_mutex dropped, the module's exit (running `cgroup_unload_subsys`), and
    /// `free_module` under module_mutex.
    #[doc(alias = "delete_module")]
    pub fn sys_delete_module(&self, mi: usize, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::sys_delete_module);
        let m = &self.modules[mi];
        cx.at(732);
        let g = self.module_mutex.lock(cx);
        cx.at(737);
        let state = m.state.load(Ordering::SeqCst);
        if state == modstate::UNLOADED {
            return Err(Errno::ENOENT);
        }
        cx.at(750);
        if state != modstate::LIVE {
            return Err(Errno::EBUSY);
        }
        cx.at(772);
        {
            // try_stop_module: stop_machine(__try_stop_module, &sref, NULL) (module.c:653-665).
            let _s = cx.enter(&kfn::stop_machine);
            cx.at(194);
            self.rcu.stop_machine_wait(cx);
            let _f = cx.enter(&kfn::__try_stop_module);
            let sm = self.stop_machine.write(cx);
            cx.at(643);
            if m.refcnt.load(Ordering::SeqCst) != 0 {
                return Err(Errno::EWOULDBLOCK);
            }
            cx.at(649);
            m.state.store(modstate::GOING, Ordering::SeqCst);
            drop(sm);
        }
        cx.at(780);
        drop(g);
        let ss = rcu_dereference_raw::<Subsys>(&m.ss).expect("loaded module has its subsys");
        let exit = m
            .ops
            .module_exit
            .expect("a module's subsystem has a module_exit");
        cx.at(783);
        exit(self, mi, ss, cx);
        cx.at(787);
        let g = self.module_mutex.lock(cx);
        cx.at(791);
        self.free_module(mi, cx);
        cx.at(794);
        drop(g);
        Ok(())
    }

    /// `free_module(mod)` (kernel/module.c:1448-1484): `stop_machine(__unlink_module)`, which
    /// waits for every CPU to leave its preempt-disabled region (with classic RCU that includes
    /// every RCU reader; with preemptible RCU it does not), then its per-cpu refcounts
    /// (line 1473) and last the module core (line 1479), its `struct module`,
    /// `struct cgroup_subsys`, cftypes and static data with it. A get or put that starts after the
    /// stop runs against this freeing.
    fn free_module(&self, mi: usize, cx: &Cx) {
        let _f = cx.enter(&kfn::free_module);
        let m = &self.modules[mi];
        cx.at(1453);
        self.stop_machine(cx);
        cx.at(1473);
        m.refcnt.store(REFPTR_FREED, Ordering::SeqCst);
        cx.at(1479);
        if let Some(ss) = rcu_dereference_raw::<Subsys>(&m.ss) {
            let (cfts, st) = {
                let s = self.ss(ss, cx);
                (s.cftypes.get().cloned().unwrap_or_default(), s.static_css)
            };
            for c in cfts {
                self.cftypes.kfree(c, cx);
            }
            if let Some(c) = st {
                self.csses.kfree(c, cx);
            }
            self.subsystems.kfree(ss, cx);
        }
        rcu_assign_pointer::<Subsys>(&m.ss, None);
        m.state.store(modstate::UNLOADED, Ordering::SeqCst);
    }

    /// `stop_machine(fn, data, NULL)` (kernel/stop_machine.c:185-198): every other CPU is made to
    /// run the stopper thread, so the function runs once every preempt-disabled region has ended
    /// and none can start (`try_module_get` and `module_put` run with preemption disabled: the
    /// `stop_machine` rwlock they read-lock).
    pub fn stop_machine(&self, cx: &Cx) {
        let _f = cx.enter(&kfn::stop_machine);
        cx.at(194);
        self.rcu.stop_machine_wait(cx);
        let sm = self.stop_machine.write(cx);
        drop(sm);
    }
}
