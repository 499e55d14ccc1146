//! Tasks, the hierarchy counters, css reference counts, and what is allocated but unreachable.

use super::*;

/// `task-css_set`.
pub const TASK_CSS_SET: Invariant = Invariant {
    name: "task-css_set",
    about: "every task points at an allocated css_set; a task that exited points at init_css_set; task lists match (invariant 8)",
    check: task_css_set,
};

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

/// `hierarchy-accounting`.
pub const HIERARCHY_ACCOUNTING: Invariant = Invariant {
    name: "hierarchy-accounting",
    about: "root_count (roots + the dummy hierarchy while active), css_set_count, number_of_cgroups and s_active agree with the objects",
    check: hierarchy_accounting,
};

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
    for sb in k.sbs.live() {
        if !supers.contains(&sb) {
            return Err(format!(
                "{} is allocated but not on the superblock list",
                k.sbs.label(sb)
            ));
        }
    }
    for r in k.roots.live() {
        if r == k.rootnode {
            continue;
        }
        let root = k.roots.peek(r);
        let Some(&sb) = root.sb.get() else {
            return Err(format!("{} has no superblock", k.roots.label(r)));
        };
        if !supers.contains(&sb) || !k.sbs.is_live(sb) {
            return Err(format!(
                "{} is allocated but its superblock is gone",
                k.roots.label(r)
            ));
        }
        let cgs = cgroups_of_root(k, r).len() as i64;
        let noc = root.number_of_cgroups.peek(|n| *n);
        if noc != cgs {
            return Err(format!(
                "{} number_of_cgroups {noc} but {cgs} cgroups (in its tree or removed and still referenced)",
                k.roots.label(r)
            ));
        }
        let files = k
            .files
            .live()
            .into_iter()
            .filter(|&f| k.files.peek(f).sb == sb)
            .count() as i64;
        let want = mounts.iter().filter(|(_, x)| *x == sb).count() as i64 + cgs - 1 + files;
        let have = k.sbs.peek(sb).s_active.load(Ordering::SeqCst);
        if have != want {
            return Err(format!(
                "{} s_active {have}, want {want} (mounts + child cgroups + open files)",
                k.sbs.label(sb)
            ));
        }
        let s_count = k.sbs.peek(sb).s_count.peek(|c| *c);
        if s_count != S_BIAS {
            return Err(format!(
                "{} s_count {s_count:#x}, want S_BIAS (no passive reference at rest)",
                k.sbs.label(sb)
            ));
        }
        if !root.on_roots.peek(|b| *b) || !roots.contains(&r) {
            return Err(format!("{} is mounted but not on roots", k.roots.label(r)));
        }
    }
    Ok(())
}

/// `css-refcnt`.
pub const CSS_REFCNT: Invariant = Invariant {
    name: "css-refcnt",
    about: "every css of a live cgroup has refcnt 1 + the references subsystem paths hold on it, and is not CSS_REMOVED",
    check: css_refcnt,
};

fn css_refcnt(k: &Kernel) -> Result<(), String> {
    let pins = k.css_pins.lock().unwrap().clone();
    for c in k.cgroups.live() {
        if k.cgroups.peek(c).flags.load(Ordering::SeqCst) & CGRP_REMOVED != 0 {
            continue; // removed, its csses cleared, waiting for its last dentry reference
        }
        for a in &k.cgroups.peek(c).subsys {
            let Some(css) = ptr::<Css>(a) else { continue };
            if !k.csses.is_live(css) {
                continue;
            }
            let s = k.csses.peek(css);
            let rc = s.refcnt.load(Ordering::SeqCst);
            let root = s.flags.load(Ordering::SeqCst) & CSS_ROOT != 0;
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

/// `no-leak`.
pub const NO_LEAK: Invariant = Invariant {
    name: "no-leak",
    about: "every allocated object is reachable from the kernel's roots (hash, tasks, roots, subsys[], the filter chain)",
    check: no_leak,
};

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
        cgroups.extend(cgroups_of_root(k, r));
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
    for s in k.subsystems.live() {
        csses.extend(k.subsystems.peek(s).static_css);
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
    let mut cfts: BTreeSet<CftH> = k.core_cftypes.iter().copied().collect();
    for &s in &sss {
        if k.subsystems.is_live(s) {
            if let Some(v) = k.subsystems.peek(s).cftypes.get() {
                cfts.extend(v.iter().copied());
            }
        }
    }
    if let Some(c) = k.cftypes.live().into_iter().find(|c| !cfts.contains(c)) {
        return Err(format!(
            "{} is allocated but in no subsystem",
            k.cftypes.label(c)
        ));
    }
    let open: BTreeSet<FileH> = k.fd_table.iter().filter_map(ptr::<File>).collect();
    if let Some(f) = k.files.live().into_iter().find(|f| !open.contains(f)) {
        return Err(format!(
            "{} is allocated but in no descriptor",
            k.files.label(f)
        ));
    }
    let mut dentries: BTreeSet<CgFileH> = open.iter().map(|&f| k.files.peek(f).dentry).collect();
    let mut pidlists = BTreeSet::new();
    for &c in &cgroups {
        if k.cgroups.is_live(c) {
            let g = k.cgroups.peek(c);
            dentries.extend(g.files.peek(|l| l.clone()));
            pidlists.extend(g.pidlists.peek(|l| l.clone()));
        }
    }
    if let Some(d) = k.cgfiles.live().into_iter().find(|d| !dentries.contains(d)) {
        return Err(format!(
            "{} is allocated but in no directory and no open file",
            k.cgfiles.label(d)
        ));
    }
    if let Some(l) = k
        .pidlists
        .live()
        .into_iter()
        .find(|l| !pidlists.contains(l))
    {
        return Err(format!(
            "{} is allocated but on no cgroup",
            k.pidlists.label(l)
        ));
    }
    let states: BTreeSet<SeqStateH> = open
        .iter()
        .filter_map(|&f| ptr::<SeqfileState>(&k.files.peek(f).seq_state))
        .collect();
    if let Some(s) = k.seqstates.live().into_iter().find(|s| !states.contains(s)) {
        return Err(format!(
            "{} is allocated but no open file holds it",
            k.seqstates.label(s)
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

/// The cgroups of hierarchy `r`: its tree from the top, and the removed ones still referenced
/// (a dentry reference from an open file keeps a removed cgroup until its last `dput`).
fn cgroups_of_root(k: &Kernel, r: RootH) -> BTreeSet<CgroupH> {
    let mut out = BTreeSet::new();
    let mut stack = vec![k.roots.peek(r).top()];
    while let Some(c) = stack.pop() {
        out.insert(c);
        if k.cgroups.is_live(c) {
            stack.extend(k.cgroups.peek(c).children.peek(|l| l.clone()));
        }
    }
    for c in k.cgroups.live() {
        let g = k.cgroups.peek(c);
        if g.root == r
            && g.flags.load(Ordering::SeqCst) & CGRP_REMOVED != 0
            && g.d_count.load(Ordering::SeqCst) > 0
        {
            out.insert(c);
        }
    }
    out
}

/// `release-list`.
pub const RELEASE_LIST: Invariant = Invariant {
    name: "release-list",
    about: "every cgroup on release_list is allocated, not removed, and knows it is queued; no other cgroup thinks it is",
    check: release_list,
};

fn release_list(k: &Kernel) -> Result<(), String> {
    let list = k.release_list.peek(|l| l.clone());
    for &c in &list {
        if !k.cgroups.is_live(c) {
            return Err(format!("release_list holds freed {c}"));
        }
        let g = k.cgroups.peek(c);
        if g.flags.load(Ordering::SeqCst) & CGRP_REMOVED != 0 {
            return Err(format!(
                "release_list holds {}, which is removed",
                k.cgroups.label(c)
            ));
        }
        if !g.release_list.peek(|b| *b) {
            return Err(format!(
                "{} is on release_list but its entry says it is not",
                k.cgroups.label(c)
            ));
        }
    }
    for c in k.cgroups.live() {
        if k.cgroups.peek(c).release_list.peek(|b| *b) && !list.contains(&c) {
            return Err(format!(
                "{} says it is on release_list but is not",
                k.cgroups.label(c)
            ));
        }
    }
    Ok(())
}
