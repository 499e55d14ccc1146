//! net_cls as a module (net/sched/cls_cgroup.c v2.6.34) and the tc filter instances that use it
//! (net/sched/cls_api.c, sch_api.c, abstracted to one device with one filter chain). The file is
//! long because the module, its cgroup subsystem and its tc classifier are one unit: their init
//! and exit orders are the findings of the design review's §4.1 and §4.4.
//!
//! v2.6.34's `init_cgroup_cls` registers the "cgroup" tc classifier ops *first* and then calls
//! `cgroup_load_subsys`; `exit_cgroup_cls` unregisters them and then unloads. A filter instance
//! (`tcf_proto`) takes `try_module_get` on its ops' owner when created and `module_put` when
//! destroyed, so while it exists the module cannot be removed. The classifier reads
//! `current->cgroups->subsys[net_cls_subsys_id]` under RCU, where for a module
//! `net_cls_subsys_id` is `net_cls_subsys.subsys_id`: 0 until `cgroup_load_subsys` assigns it.

use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::gfp::GFP_KERNEL;
use crate::kernel::{
    CftKind, CgroupH, Css, CssH, FilterH, Kernel, Subsys, SubsysH, SubsysOps, TaskH, TcFilter,
};
use crate::sim::arena::load_ptr;
use crate::sim::cx::Cx;
use crate::sim::rcu::rcu_dereference_raw;
use crate::sim::sync::Ordering;
use crate::variants::Fix;

/// The module index of cls_cgroup (net_cls) in [`crate::kernel::MODULAR`].
pub const CLS_CGROUP: usize = 0;

/// `net_cls_subsys` (net/sched/cls_cgroup.c).
pub static NET_CLS_SUBSYS: SubsysOps = SubsysOps {
    name: "net_cls",
    module: Some("cls_cgroup"),
    use_id: false,
    create: cgrp_create,
    destroy: cgrp_destroy,
    module_init: Some(|k, mi, ss, cx| k.init_cgroup_cls(mi, ss, cx)),
    module_exit: Some(|k, mi, ss, cx| k.exit_cgroup_cls(mi, ss, cx)),
    files: &[("classid", CftKind::Classid)],
    populate: Some(cgrp_populate),
    static_root: false,
};

/// `cgrp_populate(ss, cgrp)` (cls_cgroup.c:97-100): `cgroup_add_files(cgrp, ss, ss_files, 1)`:
/// `net_cls.classid`, whose cftype is in the module's memory.
fn cgrp_populate(k: &Kernel, ss: SubsysH, cgrp: CgroupH, cx: &Cx) -> Result<(), Errno> {
    let _f = cx.enter(&kfn::cgrp_populate);
    cx.at(99);
    k.cgroup_add_subsys_files(cgrp, ss, cx)
}

/// `cgrp_create(ss, cgrp)`: kzalloc the `struct cgroup_cls_state`, and copy the parent's classid.
/// v2.6.34: net/sched/cls_cgroup.c:59-71.
fn cgrp_create(k: &Kernel, ss: SubsysH, cgrp: CgroupH, cx: &Cx) -> Result<CssH, Errno> {
    let _f = cx.enter(&kfn::cgrp_create);
    cx.at(64);
    let css = k.kzalloc_css(&NET_CLS_SUBSYS, cx)?;
    cx.at(67);
    if let Some(parent) = k.cgrp(cgrp, cx).parent {
        cx.at(68);
        let pcss = k.cgrp_cls_state(parent, Some(ss), cx);
        let v = k.css(pcss, cx).classid.load(Ordering::Relaxed);
        k.css(css, cx).classid.store(v, Ordering::Relaxed);
    }
    Ok(css)
}

/// `cgrp_destroy(ss, cgrp)`: frees the `struct cgroup_cls_state`.
/// v2.6.34: net/sched/cls_cgroup.c:73-76.
fn cgrp_destroy(k: &Kernel, ops: &'static SubsysOps, id: usize, cgrp: CgroupH, cx: &Cx) {
    let _f = cx.enter(&kfn::cgrp_destroy);
    cx.at(75);
    let cs = k.css_of_slot(ops, id, cgrp, cx);
    k.kfree_css(cs, cx);
}

impl Kernel {
    /// `cgrp_cls_state(cgrp)` (cls_cgroup.c:46-50): `container_of(cgrp->subsys[net_cls_subsys_id])`,
    /// a plain load of the slot, where `net_cls_subsys_id` is `net_cls_subsys.subsys_id` (a read
    /// of the module's `struct cgroup_subsys`, `ss`). An empty slot is the NULL dereference the
    /// kernel makes; a css of another subsystem is read as a `struct cgroup_cls_state`.
    pub fn cgrp_cls_state(&self, cgrp: CgroupH, ss: Option<SubsysH>, cx: &Cx) -> CssH {
        let Some(ss) = ss else {
            self.bug(
                cx,
                "NULL-dereference",
                "net_cls.classid without its subsystem",
            );
        };
        let id = self.ss(ss, cx).subsys_id.load(Ordering::Relaxed);
        let css = load_ptr::<Css>(&self.cgrp(cgrp, cx).subsys[id]);
        let Some(css) = css else {
            self.bug(
                cx,
                "NULL-dereference",
                format!(
                    "cgrp_cls_state: {} has no css in slot {id} (net_cls not bound there): oops writing near address 0",
                    self.cgroups.label(cgrp)
                ),
            );
        };
        if !std::ptr::eq(self.css(css, cx).ss, &NET_CLS_SUBSYS) {
            self.bug(
                cx,
                "container_of-type-confusion",
                format!(
                    "cgrp_cls_state read {} as struct cgroup_cls_state (slot {id})",
                    self.csses.label(css)
                ),
            );
        }
        css
    }

    /// `read_classid(cgrp, cft)` (cls_cgroup.c:78-81): `cgrp_cls_state(cgrp)->classid`, no lock.
    pub fn read_classid(&self, cgrp: CgroupH, ss: Option<SubsysH>, cx: &Cx) -> u64 {
        let _f = cx.enter(&kfn::read_classid);
        cx.at(80);
        let css = self.cgrp_cls_state(cgrp, ss, cx);
        u64::from(self.css(css, cx).classid.load(Ordering::Relaxed))
    }

    /// `write_classid(cgrp, cft, value)` (cls_cgroup.c:83-87): `cgrp_cls_state(cgrp)->classid =
    /// value`: no lock, and no look at whether net_cls is still bound to the file's hierarchy.
    pub fn write_classid(&self, cgrp: CgroupH, ss: Option<SubsysH>, value: u64, cx: &Cx) {
        let _f = cx.enter(&kfn::write_classid);
        cx.at(85);
        let css = self.cgrp_cls_state(cgrp, ss, cx);
        self.css(css, cx)
            .classid
            .store(value as u32, Ordering::Relaxed);
    }

    /// `register_tcf_proto_ops(&cls_cgroup_ops)`: under `write_lock(cls_mod_lock)`; -EEXIST if
    /// already registered.
    /// v2.6.34: net/sched/cls_api.c:63-79.
    pub fn register_tcf_proto_ops(&self, mi: usize, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::register_tcf_proto_ops);
        let w = self.cls_mod_lock.write(cx);
        let r = self.modules[mi]
            .tcf_registered
            .with_mut(&self.cls_mod_lock, cx, |reg| {
                if *reg {
                    Err(Errno::EEXIST)
                } else {
                    *reg = true;
                    Ok(())
                }
            });
        drop(w);
        r
    }

    /// `unregister_tcf_proto_ops(&cls_cgroup_ops)`: does not look for live filters (they hold
    /// module references, so none exist once the module is going).
    /// v2.6.34: net/sched/cls_api.c:82-99.
    pub fn unregister_tcf_proto_ops(&self, mi: usize, cx: &Cx) {
        let _f = cx.enter(&kfn::unregister_tcf_proto_ops);
        let w = self.cls_mod_lock.write(cx);
        self.modules[mi]
            .tcf_registered
            .set(&self.cls_mod_lock, cx, false);
        drop(w);
    }

    /// `init_cgroup_cls` (module_init of cls_cgroup). v2.6.34: register the tc ops, then
    /// `cgroup_load_subsys`, unregistering if the load fails. With [`Fix::NetClsInitOrder`]: load,
    /// publish `net_cls_subsys_id` (after a write barrier), then register (unloading on failure).
    /// v2.6.34: net/sched/cls_cgroup.c:290-299.
    pub fn init_cgroup_cls(&self, mi: usize, ss: SubsysH, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::init_cgroup_cls);
        if self.has(Fix::NetClsInitOrder) {
            self.cgroup_load_subsys(ss, cx)?;
            let id = self.ss(ss, cx).subsys_id.load(Ordering::Relaxed);
            self.modules[mi]
                .published_id
                .store(id as i64, Ordering::Release);
            if let Err(e) = self.register_tcf_proto_ops(mi, cx) {
                self.cgroup_unload_subsys(ss, cx);
                return Err(e);
            }
            return Ok(());
        }
        self.register_tcf_proto_ops(mi, cx)?;
        if let Err(e) = self.cgroup_load_subsys(ss, cx) {
            self.unregister_tcf_proto_ops(mi, cx);
            return Err(e);
        }
        Ok(())
    }

    /// `exit_cgroup_cls` (module_exit of cls_cgroup): unregister the tc ops, then
    /// `cgroup_unload_subsys`. With [`Fix::NetClsInitOrder`] the id is set back to -1 and a grace
    /// period passes in between.
    /// v2.6.34: net/sched/cls_cgroup.c:301-305.
    pub fn exit_cgroup_cls(&self, mi: usize, ss: SubsysH, cx: &Cx) {
        let _f = cx.enter(&kfn::exit_cgroup_cls);
        self.unregister_tcf_proto_ops(mi, cx);
        if self.has(Fix::NetClsInitOrder) {
            self.modules[mi].published_id.store(-1, Ordering::Release);
            self.rcu.synchronize(cx);
        }
        self.cgroup_unload_subsys(ss, cx);
    }

    /// `tcf_proto_lookup_ops(kind)` (cls_api.c:43-59): under `read_lock(cls_mod_lock)`, the
    /// registered "cgroup" ops, pinned with `try_module_get(t->owner)` (None if not registered,
    /// or if the module is going). Returns the module and the memory the ops live in (the
    /// module's; the `struct cgroup_subsys` beside them stands for it).
    fn tcf_proto_lookup_ops(&self, cx: &Cx) -> Option<(usize, SubsysH)> {
        let _f = cx.enter(&kfn::tcf_proto_lookup_ops);
        let mi = CLS_CGROUP;
        cx.at(48);
        let r = self.cls_mod_lock.read(cx);
        cx.at(50);
        let found = if self.modules[mi].tcf_registered.get(&self.cls_mod_lock, cx) {
            cx.at(51);
            self.try_module_get(Some(mi), cx)
                .then(|| load_ptr::<Subsys>(&self.modules[mi].ss))
                .flatten()
        } else {
            None
        };
        cx.at(56);
        drop(r);
        found.map(|ss| (mi, ss))
    }

    /// `tc filter add ... cgroup` named `name`: `tc_ctl_tfilter` (cls_api.c:120-341) under
    /// rtnl: the chain has no filter of that name (-EEXIST); kzalloc the `tcf_proto` (-ENOBUFS);
    /// look the ops up (`tcf_proto_lookup_ops`); if they are not registered, drop rtnl around
    /// `request_module("cls_cgroup")` and look again, replaying the request (-EAGAIN) if they
    /// are there now (the module load itself is not modelled: another thread's `insmod` is what
    /// can make them appear); `cls_cgroup_init` (nothing); `cls_cgroup_change` (kzalloc of the
    /// head, -ENOBUFS, which `tcf_destroy`s the new filter); only then link it into the chain
    /// under the qdisc root lock.
    #[doc(alias = "tc_ctl_tfilter")]
    pub fn tc_filter_add(&self, name: &str, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::tc_ctl_tfilter);
        let mut rtnl = Some(self.rtnl.lock(cx));
        loop {
            // replay:
            // The chain is read under rtnl, which every writer holds too.
            cx.at(201);
            let chain = self.filter_chain.data_race(|c| c.clone());
            let exists = chain.iter().any(|&f| self.filters.get(f, cx).name == name);
            if exists {
                return Err(Errno::EEXIST);
            }
            cx.at(228);
            if !cx.kmalloc_ok(GFP_KERNEL) {
                return Err(Errno::ENOBUFS);
            }
            cx.at(232);
            let ops = match self.tcf_proto_lookup_ops(cx) {
                Some(ops) => ops,
                None => {
                    cx.at(240);
                    drop(rtnl.take());
                    {
                        let _m = cx.enter(&kfn::__request_module);
                        // modprobe cls_cgroup: its outcome is whatever another thread's insmod
                        // does; none is started here.
                    }
                    cx.at(242);
                    rtnl = Some(self.rtnl.lock(cx));
                    cx.at(243);
                    if let Some((mi, _)) = self.tcf_proto_lookup_ops(cx) {
                        cx.at(251);
                        self.module_put(Some(mi), cx);
                        cx.at(256);
                        continue; // kfree(tp); -EAGAIN: replay
                    }
                    cx.at(256);
                    return Err(Errno::ENOENT); // kfree(tp)
                }
            };
            let (mi, mem) = ops;
            let f = self.filters.alloc(TcFilter {
                name: name.to_string(),
                owner: mi,
                ops: mem,
            });
            self.filters
                .set_label(f, format!("tc filter {name} (cls_cgroup)"));
            cx.at(266);
            let _ = self.ss(mem, cx); // tp_ops->init: cls_cgroup_init, module text
            cx.at(320);
            let head = {
                let _c = cx.enter(&kfn::cls_cgroup_change);
                cx.at(171);
                let _ = self.ss(mem, cx); // module text
                cx.at(183);
                cx.kmalloc_ok(GFP_KERNEL)
            };
            if !head {
                cx.at(331);
                self.tcf_destroy(f, cx);
                return Err(Errno::ENOBUFS);
            }
            cx.at(323);
            let q = self.qdisc_lock.lock(cx);
            cx.at(325);
            self.filter_chain
                .with_mut(&self.qdisc_lock, cx, |c| c.push(f));
            cx.at(326);
            drop(q);
            return Ok(());
        }
    }

    /// `tcf_destroy(tp)` (sch_api.c:1661-1666): `tp->ops->destroy` (module text), then
    /// `module_put(tp->ops->owner)` and kfree.
    fn tcf_destroy(&self, f: FilterH, cx: &Cx) {
        let _f = cx.enter(&kfn::tcf_destroy);
        let (owner, mem) = {
            let t = self.filters.get(f, cx);
            (t.owner, t.ops)
        };
        cx.at(1663);
        let _ = self.ss(mem, cx); // cls_cgroup_destroy: module text
        cx.at(1664);
        self.module_put(Some(owner), cx);
        cx.at(1665);
        self.filters.kfree(f, cx);
    }

    /// `tc filter del` of `name`: `tc_ctl_tfilter` under rtnl (-ENOENT if there is none),
    /// unlink from the chain under the qdisc root lock, then `tcf_destroy`.
    /// v2.6.34: `tc_ctl_tfilter`, net/sched/cls_api.c:120-341.
    #[doc(alias = "tc_ctl_tfilter")]
    pub fn tc_filter_del(&self, name: &str, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::tc_ctl_tfilter);
        let _rtnl = self.rtnl.lock(cx);
        cx.at(201);
        let chain = self.filter_chain.data_race(|c| c.clone());
        let f = chain
            .into_iter()
            .find(|&f| self.filters.get(f, cx).name == name);
        let Some(f) = f else {
            return Err(Errno::ENOENT);
        };
        cx.at(282);
        let q = self.qdisc_lock.lock(cx);
        cx.at(283);
        self.filter_chain
            .with_mut(&self.qdisc_lock, cx, |c| c.retain(|&x| x != f));
        cx.at(284);
        drop(q);
        cx.at(287);
        self.tcf_destroy(f, cx);
        Ok(())
    }

    /// A packet sent by task `tsk` (the calling thread runs as `current`): `dev_queue_xmit` takes
    /// the qdisc lock and runs each filter's classify; returns the first non-zero classid.
    /// v2.6.34: `dev_queue_xmit`, net/core/dev.c:2078-2168.
    #[doc(alias = "dev_queue_xmit")]
    #[doc(alias = "tc_classify")]
    pub fn classify_packet(&self, tsk: TaskH, cx: &Cx) -> Option<u32> {
        let _f = cx.enter(&kfn::dev_queue_xmit);
        let q = self.qdisc_lock.lock(cx);
        let chain = self.filter_chain.get(&self.qdisc_lock, cx);
        let mut res = None;
        for f in chain {
            if let Some(c) = self.cls_cgroup_classify(f, tsk, cx) {
                res = Some(c);
                break;
            }
        }
        drop(q);
        res
    }

    /// `cls_cgroup_classify(skb, tp, res)` in process context: under `rcu_read_lock`,
    /// `task_cls_state(current)->classid`, i.e. `container_of(current->cgroups->subsys[id])`
    /// with `id = net_cls_subsys_id`. A NULL css or a css of another subsystem is reported as the
    /// kernel's bad dereference. Returns None for classid 0 (no match, -1).
    /// v2.6.34: net/sched/cls_cgroup.c:109-141.
    pub fn cls_cgroup_classify(&self, f: FilterH, tsk: TaskH, cx: &Cx) -> Option<u32> {
        let _f = cx.enter(&kfn::cls_cgroup_classify);
        let (owner, mem) = {
            let t = self.filters.get(f, cx);
            (t.owner, t.ops)
        };
        let _ = self.ss(mem, cx); // tp->classify: module text
        cx.at(128);
        let rcu = self.rcu.read_lock(cx);
        cx.at(129);
        let id = if self.has(Fix::NetClsInitOrder) {
            let id = self.modules[owner].published_id.load(Ordering::Acquire);
            if id < 0 {
                drop(rcu);
                return None;
            }
            id as usize
        } else {
            // net_cls_subsys_id is #defined to net_cls_subsys.subsys_id (module memory, which
            // the filter's module reference keeps, unless the module's init failed).
            self.ss(mem, cx).subsys_id.load(Ordering::Relaxed)
        };
        // task_cls_state(current) is task_subsys_state(p, net_cls_subsys_id) (cls_cgroup.c:
        // 53-57), with its PROVE_RCU condition.
        self.task_subsys_state_check(tsk, cx);
        let cg = self.task_cgroups(tsk, cx);
        let css = rcu_dereference_raw::<Css>(&self.cset(cg, cx).subsys[id]);
        let Some(css) = css else {
            self.bug(
                cx,
                "NULL-dereference",
                format!(
                    "task_cls_state(current): {cg} has no css in slot {id} (net_cls_subsys_id)"
                ),
            );
        };
        let c = self.css(css, cx);
        if !std::ptr::eq(c.ss, &NET_CLS_SUBSYS) {
            let label = self.csses.label(css);
            self.bug(
                cx,
                "container_of-type-confusion",
                format!(
                    "task_cls_state(current) read {label} as struct cgroup_cls_state (slot {id})"
                ),
            );
        }
        let classid = c.classid.load(Ordering::Relaxed);
        drop(c);
        cx.at(130);
        drop(rcu);
        cx.at(132);
        (classid != 0).then_some(classid)
    }
}
