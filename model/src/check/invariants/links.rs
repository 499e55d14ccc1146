//! cg_cgroup_links: one per css_set and active hierarchy, the walk over dummytop's, and each cgroup's `count`.

use super::*;

/// `links-per-hierarchy`.
pub const LINKS_PER_HIERARCHY: Invariant = Invariant {
    name: "links-per-hierarchy",
    about: "every hashed css_set has exactly one link per active hierarchy (the dummy one included while it is active: always in v2.6.34), in one order, each also on its cgroup's css_sets list",
    check: links_per_hierarchy,
};

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

/// `dummy-link-walk`.
pub const DUMMY_LINK_WALK: Invariant = Invariant {
    name: "dummy-link-walk",
    about: "the css_sets reached through dummytop's links are exactly the hashed ones (what cgroup_unload_subsys walks = what cgroup_load_subsys walks), or none while the dummy hierarchy is inactive (dummy-unlinked designs)",
    check: dummy_link_walk,
};

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

/// `cgroup-count`.
pub const CGROUP_COUNT: Invariant = Invariant {
    name: "cgroup-count",
    about: "every cgroup's count equals the number of links on its css_sets list",
    check: cgroup_count,
};

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
