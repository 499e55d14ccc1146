//! Subsystems and modules: the modular slots of `subsys[]`, each subsystem's binding, module references.

use super::*;

/// `modular-slot-consistency`.
pub const MODULAR_SLOT_CONSISTENCY: Invariant = Invariant {
    name: "modular-slot-consistency",
    about: "for each slot: subsys[i] set <=> dummytop->subsys[i] set <=> every hashed css_set has a css in slot i",
    check: modular_slot_consistency,
};

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

/// `subsys-binding`.
pub const SUBSYS_BINDING: Invariant = Invariant {
    name: "subsys-binding",
    about: "each subsystem is on its root's subsys_list and in its actual_subsys_bits; its root css sits on that root's top cgroup",
    check: subsys_binding,
};

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
                    s.ops.name
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
                    s.ops.name
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

/// `module-refs`.
pub const MODULE_REFS: Invariant = Invariant {
    name: "module-refs",
    about: "a loaded module's refcount = (its subsystem is bound to a hierarchy) + (tc filters using it); modules are LIVE or unloaded when quiescent",
    check: module_refs,
};

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

fn set(b: bool) -> &'static str {
    if b {
        "set"
    } else {
        "NULL"
    }
}
