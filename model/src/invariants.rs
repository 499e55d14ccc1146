//! The model's invariants, one named function each, in kernel vocabulary
//! (../shared/reference/kernel-2.6.34.md section 8 and the K-notes).
//!
//! They read the state out of band and are meant for quiescent points: after every step of a
//! sequential run, and at the end of every concurrent execution (after every thread joined), when
//! no model thread runs and every pending RCU callback has run.

use std::collections::{BTreeMap, BTreeSet};

use crate::arena::Handle;
use crate::config::Fix;
use crate::kernel::{
    modstate, CgroupH, Css, CssH, CssSet, CssSetH, Kernel, LinkH, RootH, Subsys, SubsysH, TaskH,
    CSS_REMOVED,
};
use crate::report::{Violation, ViolationKind};
use crate::sync::Ordering;

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
    Invariant {
        name: "css_set-refcount",
        about: "every css_set's refcount equals the number of tasks pointing at it that hold a reference (init_task included; exited tasks hold none)",
        check: css_set_refcount,
    },
    Invariant {
        name: "css_set-reachable-live",
        about: "every css_set reachable from the hash, a task or a link is allocated and has refcount >= 1; nothing allocated is unhashed",
        check: css_set_reachable_live,
    },
    Invariant {
        name: "hash-placement",
        about: "every hashed css_set sits in bucket css_set_hash(cg->subsys), exactly once (K4)",
        check: hash_placement,
    },
    Invariant {
        name: "css_set-unique",
        about: "no two hashed css_sets have the same css template and the same cgroups (find_css_set would have shared one)",
        check: css_set_unique,
    },
    Invariant {
        name: "links-per-hierarchy",
        about: "every hashed css_set has exactly one link per active hierarchy (the dummy one included while it is active: always in v2.6.34), in one order, each also on its cgroup's css_sets list",
        check: links_per_hierarchy,
    },
    Invariant {
        name: "dummy-link-walk",
        about: "the css_sets reached through dummytop's links are exactly the hashed ones (what unload walks = what load walks; K3), or none while the dummy hierarchy is inactive (dummy-unlinked designs)",
        check: dummy_link_walk,
    },
    Invariant {
        name: "cgroup-count",
        about: "every cgroup's count equals the number of links on its css_sets list",
        check: cgroup_count,
    },
    Invariant {
        name: "modular-slot-consistency",
        about: "for each slot: subsys[i] set <=> dummytop->subsys[i] set <=> every hashed css_set has a css in slot i",
        check: modular_slot_consistency,
    },
    Invariant {
        name: "css_set-template",
        about: "each hashed css_set's css in slot i is the css of its cgroup in the hierarchy subsystem i is bound to",
        check: css_set_template,
    },
    Invariant {
        name: "no-dangling-css",
        about: "every css pointer in a hashed css_set or a live cgroup points at an allocated css (none left behind by unload)",
        check: no_dangling_css,
    },
    Invariant {
        name: "subsys-binding",
        about: "each subsystem is on its root's subsys_list and in its actual_subsys_bits; its root css sits on that root's top cgroup",
        check: subsys_binding,
    },
    Invariant {
        name: "task-css_set",
        about: "every task points at an allocated css_set; a task that exited points at init_css_set; task lists match (invariant 8)",
        check: task_css_set,
    },
    Invariant {
        name: "module-refs",
        about: "a loaded module's refcount = (its subsystem is bound to a hierarchy) + (tc filters using it); modules are LIVE or unloaded when quiescent",
        check: module_refs,
    },
    Invariant {
        name: "hierarchy-accounting",
        about: "root_count (roots + the dummy hierarchy while active), css_set_count, number_of_cgroups and s_active agree with the objects",
        check: hierarchy_accounting,
    },
    Invariant {
        name: "css-refcnt",
        about: "every css of a live cgroup has refcnt 1 + the references subsystem paths hold on it, and is not CSS_REMOVED",
        check: css_refcnt,
    },
    Invariant {
        name: "no-leak",
        about: "every allocated object is reachable from the kernel's roots (hash, tasks, roots, subsys[], the filter chain)",
        check: no_leak,
    },
];

/// Checks every invariant and returns the violations (empty when all hold).
pub fn check_all(k: &Kernel) -> Vec<Violation> {
    crate::trace::quiet(|| check_all_now(k))
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
    crate::trace::quiet(|| check_now(k))
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

fn ptr<T>(a: &crate::sync::AtomicUsize) -> Option<Handle<T>> {
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

// ---- the invariants ------------------------------------------------------------------------

fn css_set_refcount(k: &Kernel) -> Result<(), String> {
    let mut holders: BTreeMap<CssSetH, i64> = BTreeMap::new();
    for (t, exited) in tasks(k) {
        if let Some(cg) = ptr::<CssSet>(&k.tasks.peek(t).cgroups) {
            if !exited {
                *holders.entry(cg).or_default() += 1;
            }
        }
    }
    for cg in k.csets.live() {
        let rc = k.csets.peek(cg).refcount.load(Ordering::SeqCst);
        let want = holders.get(&cg).copied().unwrap_or(0);
        if rc != want {
            return Err(format!(
                "{} has refcount {rc} but {want} task(s) hold a reference",
                label_cg(k, cg)
            ));
        }
    }
    Ok(())
}

fn css_set_reachable_live(k: &Kernel) -> Result<(), String> {
    let hashed: BTreeSet<CssSetH> = hashed(k).into_iter().map(|x| x.1).collect();
    for &cg in &hashed {
        if !k.csets.is_live(cg) {
            return Err(format!("freed {cg} is still in the hash"));
        }
        let rc = k.csets.peek(cg).refcount.load(Ordering::SeqCst);
        if rc < 1 {
            return Err(format!("{} is hashed with refcount {rc}", label_cg(k, cg)));
        }
    }
    for (t, _) in tasks(k) {
        let cg = ptr::<CssSet>(&k.tasks.peek(t).cgroups).expect("task has cgroups");
        if !k.csets.is_live(cg) {
            return Err(format!("{} points at freed {cg}", k.tasks.label(t)));
        }
    }
    for l in k.links.live() {
        if let Some(cg) = k.links.peek(l).cg.peek(|c| *c) {
            if !k.csets.is_live(cg) {
                return Err(format!("{l} points at freed {cg}"));
            }
        }
    }
    for cg in k.csets.live() {
        if !hashed.contains(&cg) {
            return Err(format!("{} is allocated but not hashed", label_cg(k, cg)));
        }
    }
    Ok(())
}

fn hash_placement(k: &Kernel) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for (b, cg) in hashed(k) {
        if !seen.insert(cg) {
            return Err(format!("{} is hashed twice", label_cg(k, cg)));
        }
        if !k.csets.is_live(cg) {
            continue; // css_set-reachable-live reports it
        }
        let want = k.css_set_hash(&template(k, cg));
        if b != want {
            return Err(format!(
                "{} is in bucket {b}, its template hashes to {want}",
                label_cg(k, cg)
            ));
        }
    }
    Ok(())
}

fn cgroups_of(k: &Kernel, cg: CssSetH) -> Vec<Option<CgroupH>> {
    links_of(k, cg)
        .into_iter()
        .map(|l| link_cgrp(k, l))
        .collect()
}

fn css_set_unique(k: &Kernel) -> Result<(), String> {
    type Key = (Vec<Option<CssH>>, BTreeSet<Option<CgroupH>>);
    let mut seen: BTreeMap<Key, CssSetH> = BTreeMap::new();
    for (_, cg) in hashed(k) {
        if !k.csets.is_live(cg) {
            continue;
        }
        let key = (template(k, cg), cgroups_of(k, cg).into_iter().collect());
        if let Some(other) = seen.insert(key, cg) {
            return Err(format!(
                "{} and {} have the same css template and cgroups",
                label_cg(k, other),
                label_cg(k, cg)
            ));
        }
    }
    Ok(())
}

fn links_per_hierarchy(k: &Kernel) -> Result<(), String> {
    let roots = active_roots(k);
    let mut order: Option<Vec<RootH>> = None;
    for (_, cg) in hashed(k) {
        if !k.csets.is_live(cg) {
            continue;
        }
        let mut rs = Vec::new();
        for l in links_of(k, cg) {
            if !k.links.is_live(l) {
                return Err(format!("{} links through freed {l}", label_cg(k, cg)));
            }
            if k.links.peek(l).cg.peek(|c| *c) != Some(cg) {
                return Err(format!(
                    "{l} on {}'s cg_links points elsewhere",
                    label_cg(k, cg)
                ));
            }
            let Some(c) = link_cgrp(k, l) else {
                return Err(format!("{l} has no cgroup"));
            };
            if !k.cgroups.is_live(c) {
                return Err(format!("{} links to freed {c}", label_cg(k, cg)));
            }
            if !k.cgroups.peek(c).css_sets.peek(|v| v.contains(&l)) {
                return Err(format!(
                    "{l} of {} is missing from {}'s css_sets",
                    label_cg(k, cg),
                    k.cgroups.label(c)
                ));
            }
            rs.push(k.cgroups.peek(c).root);
        }
        let set: BTreeSet<RootH> = rs.iter().copied().collect();
        if set.len() != rs.len() || set != roots.iter().copied().collect() {
            let names: Vec<String> = rs.iter().map(|r| k.roots.label(*r)).collect();
            return Err(format!(
                "{} links to hierarchies [{}], want one link to each of {} active ones",
                label_cg(k, cg),
                names.join(", "),
                roots.len()
            ));
        }
        match &order {
            None => order = Some(rs),
            Some(o) if *o != rs => {
                return Err(format!(
                    "{} has its links in another hierarchy order",
                    label_cg(k, cg)
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn dummy_link_walk(k: &Kernel) -> Result<(), String> {
    let via_hash: BTreeSet<CssSetH> = if dummy_active(k) {
        hashed(k).into_iter().map(|x| x.1).collect()
    } else {
        BTreeSet::new() // dummy-unlinked designs: nothing on rootnode, nothing linked
    };
    let mut via_dummy = BTreeSet::new();
    for l in k.cgroups.peek(k.dummytop).css_sets.peek(|v| v.clone()) {
        let cg = k.links.peek(l).cg.peek(|c| *c).expect("linked");
        if !via_dummy.insert(cg) {
            return Err(format!("{} is linked to dummytop twice", label_cg(k, cg)));
        }
    }
    if let Some(cg) = via_hash.difference(&via_dummy).next() {
        return Err(format!(
            "{} is hashed but not linked to dummytop: unload would miss it",
            label_cg(k, *cg)
        ));
    }
    if let Some(cg) = via_dummy.difference(&via_hash).next() {
        return Err(if dummy_active(k) {
            format!("{} is linked to dummytop but not hashed", label_cg(k, *cg))
        } else {
            format!(
                "{} is linked to dummytop while no subsystem is on rootnode",
                label_cg(k, *cg)
            )
        });
    }
    Ok(())
}

fn cgroup_count(k: &Kernel) -> Result<(), String> {
    for c in k.cgroups.live() {
        let g = k.cgroups.peek(c);
        let n = g.css_sets.peek(|v| v.len()) as i64;
        let count = g.count.load(Ordering::SeqCst);
        if c != k.dummytop && count != n {
            return Err(format!(
                "{} has count {count} but {n} css_set link(s)",
                k.cgroups.label(c)
            ));
        }
    }
    Ok(())
}

fn modular_slot_consistency(k: &Kernel) -> Result<(), String> {
    let dt = k.cgroups.peek(k.dummytop);
    for i in 0..k.count() {
        let ss = ptr::<Subsys>(&k.subsys[i]).is_some();
        let dcss = ptr::<Css>(&dt.subsys[i]).is_some();
        if ss != dcss {
            return Err(format!(
                "slot {i}: subsys[] {} but dummytop css {}",
                set(ss),
                set(dcss)
            ));
        }
        for (_, cg) in hashed(k) {
            if !k.csets.is_live(cg) {
                continue;
            }
            let has = ptr::<Css>(&k.csets.peek(cg).subsys[i]).is_some();
            if has != ss {
                return Err(format!(
                    "slot {i}: subsys[] {} but {} has it {}",
                    set(ss),
                    label_cg(k, cg),
                    set(has)
                ));
            }
        }
    }
    Ok(())
}

fn set(b: bool) -> &'static str {
    if b {
        "set"
    } else {
        "NULL"
    }
}

fn css_set_template(k: &Kernel) -> Result<(), String> {
    for (_, cg) in hashed(k) {
        if !k.csets.is_live(cg) {
            continue;
        }
        let cgs: Vec<CgroupH> = cgroups_of(k, cg).into_iter().flatten().collect();
        for i in 0..k.count() {
            let Some(ss) = ptr::<Subsys>(&k.subsys[i]) else {
                continue;
            };
            if !k.subsystems.is_live(ss) {
                continue; // no-leak / no-dangling report it
            }
            let root = k.subsystems.peek(ss).root.peek(|r| *r);
            let Some(&c) = cgs
                .iter()
                .find(|&&c| k.cgroups.is_live(c) && k.cgroups.peek(c).root == root)
            else {
                continue; // links-per-hierarchy reports it
            };
            let want = if root == k.rootnode {
                ptr::<Css>(&k.cgroups.peek(k.dummytop).subsys[i])
            } else {
                ptr::<Css>(&k.cgroups.peek(c).subsys[i])
            };
            let have = ptr::<Css>(&k.csets.peek(cg).subsys[i]);
            if have != want {
                return Err(format!(
                    "{} slot {i} holds {have:?}, but its cgroup {} has {want:?}",
                    label_cg(k, cg),
                    k.cgroups.label(c)
                ));
            }
        }
    }
    Ok(())
}

fn no_dangling_css(k: &Kernel) -> Result<(), String> {
    for (_, cg) in hashed(k) {
        if !k.csets.is_live(cg) {
            continue;
        }
        for (i, css) in template(k, cg).into_iter().enumerate() {
            if let Some(css) = css {
                if !k.csses.is_live(css) {
                    return Err(format!(
                        "{} slot {i} points at freed {}",
                        label_cg(k, cg),
                        k.csses.label(css)
                    ));
                }
            }
        }
    }
    for c in k.cgroups.live() {
        for (i, a) in k.cgroups.peek(c).subsys.iter().enumerate() {
            if let Some(css) = ptr::<Css>(a) {
                if !k.csses.is_live(css) {
                    return Err(format!(
                        "{} slot {i} points at freed {}",
                        k.cgroups.label(c),
                        k.csses.label(css)
                    ));
                }
            }
        }
    }
    Ok(())
}

fn subsys_binding(k: &Kernel) -> Result<(), String> {
    for i in 0..k.count() {
        let Some(ss) = ptr::<Subsys>(&k.subsys[i]) else {
            continue;
        };
        if !k.subsystems.is_live(ss) {
            return Err(format!(
                "subsys[{i}] points at freed {}",
                k.subsystems.label(ss)
            ));
        }
        let s = k.subsystems.peek(ss);
        let root = s.root.peek(|r| *r);
        if !k.roots.is_live(root) {
            return Err(format!(
                "{} is bound to freed {root}",
                k.subsystems.label(ss)
            ));
        }
        let r = k.roots.peek(root);
        if !r.subsys_list.peek(|l| l.contains(&ss)) {
            return Err(format!(
                "{} is not on {}'s subsys_list",
                k.subsystems.label(ss),
                k.roots.label(root)
            ));
        }
        let css = ptr::<Css>(&k.cgroups.peek(k.dummytop).subsys[i]);
        if root != k.rootnode {
            if r.actual_subsys_bits.peek(|b| *b) & (1 << i) == 0 {
                return Err(format!(
                    "{} bound to {} outside its actual_subsys_bits",
                    k.subsystems.label(ss),
                    k.roots.label(root)
                ));
            }
            if ptr::<Css>(&k.cgroups.peek(r.top()).subsys[i]) != css {
                return Err(format!(
                    "{}'s top cgroup does not hold {}'s root css",
                    k.roots.label(root),
                    s.name
                ));
            }
        }
        if let Some(css) = css {
            if k.csses.is_live(css)
                && ptr(&k.csses.peek(css).cgroup)
                    != Some(if root == k.rootnode {
                        k.dummytop
                    } else {
                        r.top()
                    })
            {
                return Err(format!(
                    "{}'s cgroup pointer disagrees with {}'s binding",
                    k.csses.label(css),
                    s.name
                ));
            }
        }
    }
    for r in k.roots.live() {
        for ss in k.roots.peek(r).subsys_list.peek(|l| l.clone()) {
            if !k.subsystems.is_live(ss) {
                return Err(format!(
                    "{}'s subsys_list holds freed {}",
                    k.roots.label(r),
                    k.subsystems.label(ss)
                ));
            }
        }
    }
    Ok(())
}

fn task_css_set(k: &Kernel) -> Result<(), String> {
    for (t, exited) in tasks(k) {
        let tk = k.tasks.peek(t);
        let cg = ptr::<CssSet>(&tk.cgroups).expect("task has cgroups");
        if !k.csets.is_live(cg) {
            return Err(format!("{} points at freed {cg}", k.tasks.label(t)));
        }
        if exited && cg != k.init_css_set {
            return Err(format!(
                "{} exited but points at {}",
                k.tasks.label(t),
                label_cg(k, cg)
            ));
        }
        let on = ptr::<CssSet>(&tk.cg_list);
        let want = (k.use_task_links && !exited).then_some(cg);
        if on != want {
            return Err(format!(
                "{} is on the task list of {on:?}, want {want:?}",
                k.tasks.label(t)
            ));
        }
        if let Some(on) = on {
            if !k.csets.peek(on).tasks.peek(|l| l.contains(&t)) {
                return Err(format!(
                    "{} claims to be on {}'s task list but is not",
                    k.tasks.label(t),
                    label_cg(k, on)
                ));
            }
        }
    }
    for cg in k.csets.live() {
        for t in k.csets.peek(cg).tasks.peek(|l| l.clone()) {
            if ptr::<CssSet>(&k.tasks.peek(t).cg_list) != Some(cg) {
                return Err(format!(
                    "{} lists {} which is not on it",
                    label_cg(k, cg),
                    k.tasks.label(t)
                ));
            }
        }
    }
    Ok(())
}

fn module_refs(k: &Kernel) -> Result<(), String> {
    let filters: Vec<usize> = k
        .filter_chain
        .peek(|c| c.clone())
        .into_iter()
        .map(|f| k.filters.peek(f).owner)
        .collect();
    for (mi, m) in k.modules.iter().enumerate() {
        let state = m.state.load(Ordering::SeqCst);
        if state == modstate::UNLOADED {
            if filters.contains(&mi) {
                return Err(format!("a tc filter uses unloaded module {}", m.name));
            }
            continue;
        }
        if state != modstate::LIVE {
            return Err(format!(
                "module {} is in state {state} at a quiescent point",
                m.name
            ));
        }
        let ss: SubsysH = ptr(&m.ss).expect("loaded module has its subsys");
        let bound =
            k.subsystems.is_live(ss) && k.subsystems.peek(ss).root.peek(|r| *r) != k.rootnode;
        let want = bound as i64 + filters.iter().filter(|&&o| o == mi).count() as i64;
        let have = m.refcnt.load(Ordering::SeqCst);
        if have != want {
            return Err(format!(
                "module {} refcount {have}, want {want} (bound: {bound}, filters: {})",
                m.name,
                want - bound as i64
            ));
        }
    }
    Ok(())
}

fn hierarchy_accounting(k: &Kernel) -> Result<(), String> {
    let roots = k.roots_list.peek(|l| l.clone());
    let rc = k.root_count.peek(|c| *c);
    let dummy = dummy_active(k) as usize;
    if rc != roots.len() + dummy {
        return Err(format!(
            "root_count {rc} but {} hierarchies on roots (+{dummy} dummy)",
            roots.len()
        ));
    }
    let n = hashed(k).len() as i64;
    let csc = k.css_set_count.peek();
    if csc != n {
        return Err(format!("css_set_count {csc} but {n} hashed css_sets"));
    }
    let supers = k.supers.peek(|l| l.clone());
    let mounts = k.mounts.peek(|l| l.clone());
    for r in k.roots.live() {
        if r == k.rootnode {
            continue;
        }
        if !supers.contains(&r) {
            return Err(format!(
                "{} is allocated but not on the superblock list",
                k.roots.label(r)
            ));
        }
        let root = k.roots.peek(r);
        let mut cgs = 0i64;
        let mut stack = vec![root.top()];
        while let Some(c) = stack.pop() {
            cgs += 1;
            stack.extend(k.cgroups.peek(c).children.peek(|l| l.clone()));
        }
        let noc = root.number_of_cgroups.peek(|n| *n);
        if noc != cgs {
            return Err(format!(
                "{} number_of_cgroups {noc} but {cgs} cgroups in its tree",
                k.roots.label(r)
            ));
        }
        let want = mounts.iter().filter(|(_, x)| *x == r).count() as i64 + cgs - 1;
        let have = root.s_active.load(Ordering::SeqCst);
        if have != want {
            return Err(format!(
                "{} s_active {have}, want {want} (mounts + child cgroups)",
                k.roots.label(r)
            ));
        }
        if !root.on_roots.peek(|b| *b) || !roots.contains(&r) {
            return Err(format!("{} is mounted but not on roots", k.roots.label(r)));
        }
    }
    Ok(())
}

fn css_refcnt(k: &Kernel) -> Result<(), String> {
    let pins = k.css_pins.lock().unwrap().clone();
    for c in k.cgroups.live() {
        for a in &k.cgroups.peek(c).subsys {
            let Some(css) = ptr::<Css>(a) else { continue };
            if !k.csses.is_live(css) {
                continue;
            }
            let s = k.csses.peek(css);
            let rc = s.refcnt.load(Ordering::SeqCst);
            let root = s.flags.load(Ordering::SeqCst) & crate::kernel::CSS_ROOT != 0;
            let want = if root {
                1
            } else {
                1 + pins.iter().filter(|p| p.1 == css).count() as i64
            };
            if rc != want || s.flags.load(Ordering::SeqCst) & CSS_REMOVED != 0 {
                return Err(format!(
                    "{} has refcnt {rc} flags {:#x}",
                    k.csses.label(css),
                    s.flags.load(Ordering::SeqCst)
                ));
            }
        }
    }
    Ok(())
}

fn no_leak(k: &Kernel) -> Result<(), String> {
    let hashed: BTreeSet<CssSetH> = hashed(k).into_iter().map(|x| x.1).collect();
    let mut links = BTreeSet::new();
    for &cg in &hashed {
        if k.csets.is_live(cg) {
            links.extend(links_of(k, cg));
        }
    }
    links.insert(k.init_css_set_link); // static
    if let Some(l) = k.links.live().into_iter().find(|l| !links.contains(l)) {
        return Err(format!(
            "{} is allocated but on no css_set",
            k.links.label(l)
        ));
    }
    let mut cgroups = BTreeSet::new();
    for r in k.roots.live() {
        let mut stack = vec![k.roots.peek(r).top()];
        while let Some(c) = stack.pop() {
            cgroups.insert(c);
            if k.cgroups.is_live(c) {
                stack.extend(k.cgroups.peek(c).children.peek(|l| l.clone()));
            }
        }
    }
    if let Some(c) = k.cgroups.live().into_iter().find(|c| !cgroups.contains(c)) {
        return Err(format!(
            "{} is allocated but in no hierarchy",
            k.cgroups.label(c)
        ));
    }
    let mut csses = BTreeSet::new();
    for &c in &cgroups {
        if k.cgroups.is_live(c) {
            csses.extend(k.cgroups.peek(c).subsys.iter().filter_map(ptr::<Css>));
        }
    }
    if let Some(c) = k.csses.live().into_iter().find(|c| !csses.contains(c)) {
        return Err(format!(
            "{} is allocated but no cgroup holds it",
            k.csses.label(c)
        ));
    }
    let mut sss: BTreeSet<SubsysH> = k.subsys.iter().filter_map(ptr::<Subsys>).collect();
    sss.extend(k.modules.iter().filter_map(|m| ptr::<Subsys>(&m.ss)));
    if let Some(s) = k.subsystems.live().into_iter().find(|s| !sss.contains(s)) {
        return Err(format!(
            "{} is allocated but neither in subsys[] nor a module",
            k.subsystems.label(s)
        ));
    }
    let chain: BTreeSet<_> = k.filter_chain.peek(|c| c.iter().copied().collect());
    if let Some(f) = k.filters.live().into_iter().find(|f| !chain.contains(f)) {
        return Err(format!(
            "{} is allocated but not on the filter chain",
            k.filters.label(f)
        ));
    }
    Ok(())
}
