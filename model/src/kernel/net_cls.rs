//! net_cls as a module (net/sched/cls_cgroup.c v2.6.34) and the tc filter instances that use it
//! (net/sched/cls_api.c, sch_api.c, abstracted to one device with one filter chain).
//!
//! v2.6.34's `init_cgroup_cls` registers the "cgroup" tc classifier ops *first* and then calls
//! `cgroup_load_subsys`; `exit_cgroup_cls` unregisters them and then unloads. A filter instance
//! (`tcf_proto`) takes `try_module_get` on its ops' owner when created and `module_put` when
//! destroyed, so while it exists the module cannot be removed. The classifier reads
//! `current->cgroups->subsys[net_cls_subsys_id]` under RCU, where for a module
//! `net_cls_subsys_id` is `net_cls_subsys.subsys_id`: 0 until `cgroup_load_subsys` assigns it.

use crate::kernel::errno::Errno;
use crate::kernel::{
    CgroupH, Css, CssH, CssSet, FilterH, Kernel, Subsys, SubsysH, SubsysOps, TaskH, TcFilter,
};
use crate::sim::cx::Cx;
use crate::sim::rcu::rcu_dereference;
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
};

/// `cgrp_create(ss, cgrp)`: kzalloc the `struct cgroup_cls_state`, and copy the parent's classid.
fn cgrp_create(k: &Kernel, ss: SubsysH, cgrp: CgroupH, cx: &Cx) -> Result<CssH, Errno> {
    let _f = cx.enter("cgrp_create");
    let css = k.kzalloc_css(&NET_CLS_SUBSYS, cx)?;
    if let Some(parent) = k.cgrp(cgrp, cx).parent {
        let id = k.ss(ss, cx).subsys_id.load(Ordering::Relaxed);
        if let Some(pcss) = rcu_dereference::<Css>(&k.cgrp(parent, cx).subsys[id]) {
            let v = k.css(pcss, cx).classid.load(Ordering::Relaxed);
            k.css(css, cx).classid.store(v, Ordering::Relaxed);
        }
    }
    Ok(css)
}

/// `cgrp_destroy(ss, cgrp)`: frees the `struct cgroup_cls_state`.
fn cgrp_destroy(k: &Kernel, ops: &'static SubsysOps, id: usize, cgrp: CgroupH, cx: &Cx) {
    let _f = cx.enter("cgrp_destroy");
    k.kfree_css(ops, id, cgrp, cx);
}

impl Kernel {
    /// `register_tcf_proto_ops(&cls_cgroup_ops)`: under `write_lock(cls_mod_lock)`; -EEXIST if
    /// already registered.
    pub fn register_tcf_proto_ops(&self, mi: usize, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("register_tcf_proto_ops");
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
    pub fn unregister_tcf_proto_ops(&self, mi: usize, cx: &Cx) {
        let _f = cx.enter("unregister_tcf_proto_ops");
        let w = self.cls_mod_lock.write(cx);
        self.modules[mi]
            .tcf_registered
            .set(&self.cls_mod_lock, cx, false);
        drop(w);
    }

    /// `init_cgroup_cls` (module_init of cls_cgroup). v2.6.34: register the tc ops, then
    /// `cgroup_load_subsys`, unregistering if the load fails. With [`Fix::NetClsInitOrder`]: load,
    /// publish `net_cls_subsys_id` (after a write barrier), then register (unloading on failure).
    pub fn init_cgroup_cls(&self, mi: usize, ss: SubsysH, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("init_cgroup_cls");
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
    pub fn exit_cgroup_cls(&self, mi: usize, ss: SubsysH, cx: &Cx) {
        let _f = cx.enter("exit_cgroup_cls");
        self.unregister_tcf_proto_ops(mi, cx);
        if self.has(Fix::NetClsInitOrder) {
            self.modules[mi].published_id.store(-1, Ordering::Release);
            self.rcu.synchronize(cx);
        }
        self.cgroup_unload_subsys(ss, cx);
    }

    /// `tc filter add ... cgroup` named `name`: under rtnl, `tcf_proto_lookup_ops` finds the
    /// registered "cgroup" ops under `read_lock(cls_mod_lock)` and pins their owner with
    /// `try_module_get` (-ENOENT if not registered or the module is going); allocate the
    /// `tcf_proto` (-ENOMEM drops the pin); `cls_cgroup_init`; link it into the chain under the
    /// qdisc lock.
    #[doc(alias = "tc_ctl_tfilter")]
    #[doc(alias = "tcf_proto_lookup_ops")]
    pub fn tc_filter_add(&self, name: &str, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("tc_ctl_tfilter");
        let rtnl = self.rtnl.lock(cx);
        let exists = {
            let q = self.qdisc_lock.lock(cx);
            let chain = self.filter_chain.get(&self.qdisc_lock, cx);
            drop(q);
            chain.iter().any(|&f| self.filters.get(f, cx).name == name)
        };
        if exists {
            return Err(Errno::EEXIST);
        }
        let mi = CLS_CGROUP;
        let found = {
            let _f = cx.enter("tcf_proto_lookup_ops");
            let r = self.cls_mod_lock.read(cx);
            let ok = self.modules[mi].tcf_registered.get(&self.cls_mod_lock, cx)
                && self.try_module_get(Some(mi), cx);
            drop(r);
            ok
        };
        if !found {
            return Err(Errno::ENOENT);
        }
        if !cx.kmalloc_ok() {
            self.module_put(Some(mi), cx);
            return Err(Errno::ENOMEM);
        }
        let f = self.filters.alloc(TcFilter {
            name: name.to_string(),
            owner: mi,
        });
        self.filters
            .set_label(f, format!("tc filter {name} (cls_cgroup)"));
        let q = self.qdisc_lock.lock(cx);
        self.filter_chain
            .with_mut(&self.qdisc_lock, cx, |c| c.push(f));
        drop(q);
        drop(rtnl);
        Ok(())
    }

    /// `tc filter del` of `name`: under rtnl, unlink from the chain under the qdisc lock, then
    /// `tcf_destroy`: `cls_cgroup_destroy`, `module_put(tp->ops->owner)`, kfree.
    #[doc(alias = "tc_ctl_tfilter")]
    #[doc(alias = "tcf_destroy")]
    pub fn tc_filter_del(&self, name: &str, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter("tc_ctl_tfilter");
        let rtnl = self.rtnl.lock(cx);
        let q = self.qdisc_lock.lock(cx);
        let chain = self.filter_chain.get(&self.qdisc_lock, cx);
        let f = chain
            .into_iter()
            .find(|&f| self.filters.get(f, cx).name == name);
        if let Some(f) = f {
            self.filter_chain
                .with_mut(&self.qdisc_lock, cx, |c| c.retain(|&x| x != f));
        }
        drop(q);
        let Some(f) = f else {
            return Err(Errno::ENOENT);
        };
        {
            let _f = cx.enter("tcf_destroy");
            let owner = self.filters.get(f, cx).owner;
            self.module_put(Some(owner), cx);
            self.filters.kfree(f, cx);
        }
        drop(rtnl);
        Ok(())
    }

    /// A packet sent by task `tsk` (the calling thread runs as `current`): `dev_queue_xmit` takes
    /// the qdisc lock and runs each filter's classify; returns the first non-zero classid.
    #[doc(alias = "dev_queue_xmit")]
    #[doc(alias = "tc_classify")]
    pub fn classify_packet(&self, tsk: TaskH, cx: &Cx) -> Option<u32> {
        let _f = cx.enter("dev_queue_xmit");
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
    pub fn cls_cgroup_classify(&self, f: FilterH, tsk: TaskH, cx: &Cx) -> Option<u32> {
        let _f = cx.enter("cls_cgroup_classify");
        let owner = self.filters.get(f, cx).owner;
        let rcu = self.rcu.read_lock(cx);
        let id = if self.has(Fix::NetClsInitOrder) {
            let id = self.modules[owner].published_id.load(Ordering::Acquire);
            if id < 0 {
                drop(rcu);
                return None;
            }
            id as usize
        } else {
            // net_cls_subsys_id is #defined to net_cls_subsys.subsys_id (module memory).
            let ss =
                rcu_dereference::<Subsys>(&self.modules[owner].ss).expect("filter pins its module");
            self.ss(ss, cx).subsys_id.load(Ordering::Relaxed)
        };
        let cg = rcu_dereference::<CssSet>(&self.task(tsk, cx).cgroups).expect("task cgroups");
        let css = rcu_dereference::<Css>(&self.cset(cg, cx).subsys[id]);
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
        drop(rcu);
        (classid != 0).then_some(classid)
    }
}
