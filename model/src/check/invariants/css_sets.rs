//! css_sets: their reference counts, liveness, place in the hash, uniqueness and css template.

use super::*;

/// `css_set-refcount`.
pub const CSS_SET_REFCOUNT: Invariant = Invariant {
    name: "css_set-refcount",
    about: "every css_set's refcount equals the number of tasks pointing at it that hold a reference (init_task included; exited tasks hold none)",
    check: css_set_refcount,
};

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

/// `css_set-reachable-live`.
pub const CSS_SET_REACHABLE_LIVE: Invariant = Invariant {
    name: "css_set-reachable-live",
    about: "every css_set reachable from the hash, a task or a link is allocated and has refcount >= 1; nothing allocated is unhashed",
    check: css_set_reachable_live,
};

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

/// `hash-placement`.
pub const HASH_PLACEMENT: Invariant = Invariant {
    name: "hash-placement",
    about: "every hashed css_set sits in bucket css_set_hash(cg->subsys), exactly once (what cgroup_load_subsys's rehash keeps)",
    check: hash_placement,
};

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

/// `css_set-unique`.
pub const CSS_SET_UNIQUE: Invariant = Invariant {
    name: "css_set-unique",
    about: "no two hashed css_sets have the same css template and the same cgroups (find_css_set would have shared one)",
    check: css_set_unique,
};

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

/// `css_set-template`.
pub const CSS_SET_TEMPLATE: Invariant = Invariant {
    name: "css_set-template",
    about: "each hashed css_set's css in slot i is the css of its cgroup in the hierarchy subsystem i is bound to",
    check: css_set_template,
};

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

/// `no-dangling-css`.
pub const NO_DANGLING_CSS: Invariant = Invariant {
    name: "no-dangling-css",
    about: "every css pointer in a hashed css_set or a live cgroup points at an allocated css (none left behind by unload)",
    check: no_dangling_css,
};

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
