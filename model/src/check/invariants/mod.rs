//! The model's invariants, one named function each, in kernel vocabulary; each invariant's name
//! and statement sit beside its function, in the file of its group.
//!
//! They read the state out of band and are meant for quiescent points: after every step of a
//! sequential run, and at the end of every concurrent execution (after every thread joined), when
//! no model thread runs and every pending RCU callback has run.

use std::collections::{BTreeMap, BTreeSet};

use crate::kernel::{
    modstate, CftH, CgFileH, CgroupH, Css, CssH, CssSet, CssSetH, File, FileH, Kernel, LinkH,
    RootH, SeqStateH, SeqfileState, Subsys, SubsysH, TaskH, CGRP_REMOVED, CSS_REMOVED, CSS_ROOT,
    S_BIAS,
};
use crate::sim::arena::Handle;
use crate::sim::atomic::AtomicUsize;
use crate::sim::report::{Violation, ViolationKind};
use crate::sim::sync::Ordering;
use crate::sim::trace::quiet;
use crate::variants::Fix;

mod css_sets;
mod lifetime;
mod links;
mod subsys;

/// An invariant: its name, what it says, and its check.
pub struct Invariant {
    /// Short name used in reports and on the command line.
    pub name: &'static str,
    /// What it states, in kernel terms.
    pub about: &'static str,
    /// The check.
    pub check: fn(&Kernel) -> Result<(), String>,
}

/// Every invariant, checked in this order.
pub const INVARIANTS: &[Invariant] = &[
    css_sets::CSS_SET_REFCOUNT,
    css_sets::CSS_SET_REACHABLE_LIVE,
    css_sets::HASH_PLACEMENT,
    css_sets::CSS_SET_UNIQUE,
    links::LINKS_PER_HIERARCHY,
    links::DUMMY_LINK_WALK,
    links::CGROUP_COUNT,
    subsys::MODULAR_SLOT_CONSISTENCY,
    css_sets::CSS_SET_TEMPLATE,
    css_sets::NO_DANGLING_CSS,
    subsys::SUBSYS_BINDING,
    lifetime::TASK_CSS_SET,
    subsys::MODULE_REFS,
    lifetime::HIERARCHY_ACCOUNTING,
    lifetime::CSS_REFCNT,
    lifetime::NO_LEAK,
    lifetime::RELEASE_LIST,
];

/// Checks every invariant and returns the violations (empty when all hold).
pub fn check_all(k: &Kernel) -> Vec<Violation> {
    quiet(|| check_all_now(k))
}

fn check_all_now(k: &Kernel) -> Vec<Violation> {
    INVARIANTS
        .iter()
        .filter_map(|i| {
            (i.check)(k)
                .err()
                .map(|d| Violation::new(ViolationKind::Invariant, i.name, d))
        })
        .collect()
}

/// Checks every invariant; the first that breaks.
pub fn check(k: &Kernel) -> Result<(), Violation> {
    quiet(|| check_now(k))
}

fn check_now(k: &Kernel) -> Result<(), Violation> {
    for i in INVARIANTS {
        (i.check)(k).map_err(|d| Violation::new(ViolationKind::Invariant, i.name, d))?;
    }
    Ok(())
}

/// Looks an invariant up by name.
pub fn by_name(name: &str) -> Option<&'static Invariant> {
    INVARIANTS.iter().find(|i| i.name == name)
}

// ---- out-of-band readers -------------------------------------------------------------------

fn ptr<T>(a: &AtomicUsize) -> Option<Handle<T>> {
    Handle::from_raw(a.load(Ordering::SeqCst))
}

/// The hashed css_sets, bucket by bucket.
pub fn hashed(k: &Kernel) -> Vec<(usize, CssSetH)> {
    let mut v = Vec::new();
    for (b, l) in k.css_set_table.iter().enumerate() {
        l.peek(|l| v.extend(l.iter().map(|&c| (b, c))));
    }
    v
}

fn template(k: &Kernel, cg: CssSetH) -> Vec<Option<CssH>> {
    k.csets.peek(cg).subsys.iter().map(ptr::<Css>).collect()
}

fn links_of(k: &Kernel, cg: CssSetH) -> Vec<LinkH> {
    k.csets.peek(cg).cg_links.peek(|l| l.clone())
}

fn link_cgrp(k: &Kernel, l: LinkH) -> Option<CgroupH> {
    k.links.peek(l).cgrp.peek(|c| *c)
}

/// Whether css_sets should be linked to dummytop: always in v2.6.34; under the dummy-unlinked
/// designs, while a subsystem is on rootnode.
fn dummy_active(k: &Kernel) -> bool {
    !k.has(Fix::DummyUnlinked) || !k.roots.peek(k.rootnode).subsys_list.peek(|l| l.is_empty())
}

/// The hierarchies every css_set must link to: the dummy one if active, then `roots`.
fn active_roots(k: &Kernel) -> Vec<RootH> {
    let mut v = Vec::new();
    if dummy_active(k) {
        v.push(k.rootnode);
    }
    v.extend(k.roots_list.peek(|l| l.clone()));
    v
}

fn tasks(k: &Kernel) -> Vec<(TaskH, bool)> {
    let exited = k.exited.lock().unwrap().clone();
    k.tasks
        .live()
        .into_iter()
        .map(|t| (t, exited.contains(&t)))
        .collect()
}

fn label_cg(k: &Kernel, cg: CssSetH) -> String {
    k.csets.label(cg)
}

fn cgroups_of(k: &Kernel, cg: CssSetH) -> Vec<Option<CgroupH>> {
    links_of(k, cg)
        .into_iter()
        .map(|l| link_cgrp(k, l))
        .collect()
}
