//! Every invariant can fail: each one has a breaker that damages a healthy state the way a
//! kernel bug would, and the check must name that invariant. A new invariant without a breaker
//! fails `every_invariant_has_a_breaker`.

mod common;

use cgmodel::check::invariants::{self, hashed, INVARIANTS};
use cgmodel::kernel::{Css, CssSet, Kernel, Link};
use cgmodel::sim::arena::Handle;
use cgmodel::sim::lockdep::LockedBy;
use cgmodel::{Config, Cx};
use common::{run, steps};
use std::sync::atomic::Ordering as O;

const HEALTHY: &[&str] = &[
    "insmod net_cls",
    "fork T0 T1",
    "fork T0 T2",
    "mount m0 net_cls,cpuset",
    "mkdir m0/a",
    "mkdir m0/b",
    "attach T1 m0/a",
    "attach T2 m0/b",
    "classid m0/a 5",
    "tc-add F0",
];

fn task_cg(k: &Kernel, t: &str) -> Handle<CssSet> {
    let h = k.task_named(t).expect("task");
    Handle::from_raw(k.tasks.peek(h).cgroups.load(O::SeqCst)).unwrap()
}

fn cgroup_of(
    k: &Kernel,
    cg: Handle<CssSet>,
    mnt_root_not_dummy: bool,
) -> Handle<cgmodel::kernel::Cgroup> {
    let links = k.csets.peek(cg).cg_links.peek(|l| l.clone());
    links
        .into_iter()
        .map(|l| k.links.peek(l).cgrp.peek(|c| c.unwrap()))
        .find(|&c| (c != k.dummytop) == mnt_root_not_dummy)
        .unwrap()
}

type Breaker = fn(&Kernel, &Cx);

fn breakers() -> Vec<(&'static str, Breaker)> {
    vec![
        ("css_set-refcount", |k, _| {
            k.csets
                .peek(task_cg(k, "T1"))
                .refcount
                .fetch_add(1, O::SeqCst);
        }),
        ("css_set-reachable-live", |k, _| {
            // put_css_set that frees without unhashing: the hash keeps a freed css_set.
            let cg = task_cg(k, "T1");
            k.csets.peek(cg).refcount.store(0, O::SeqCst);
            let cx = k.cx(1, "breaker");
            k.csets.kfree(cg, &cx);
        }),
        ("hash-placement", |k, _| {
            let (b, cg) = hashed(k)[0];
            k.css_set_table[b].poke(|v| v.retain(|&x| x != cg));
            k.css_set_table[(b + 1) % k.css_set_table.len()].poke(|v| v.push(cg));
        }),
        ("css_set-unique", |k, _| {
            // Make T2's css_set a copy of T1's: same template, same cgroups.
            let (a, b) = (task_cg(k, "T1"), task_cg(k, "T2"));
            for i in 0..k.count() {
                let v = k.csets.peek(a).subsys[i].load(O::SeqCst);
                k.csets.peek(b).subsys[i].store(v, O::SeqCst);
            }
            let la = k.csets.peek(a).cg_links.peek(|l| l.clone());
            let lb = k.csets.peek(b).cg_links.peek(|l| l.clone());
            for (x, y) in la.into_iter().zip(lb) {
                let c = k.links.peek(x).cgrp.peek(|c| *c);
                k.links.peek(y).cgrp.poke(|d| *d = c);
            }
        }),
        ("links-per-hierarchy", |k, _| {
            let cg = task_cg(k, "T1");
            k.csets.peek(cg).cg_links.poke(|l| {
                l.pop();
            });
        }),
        ("dummy-link-walk", |k, _| {
            // The cover letter's point: a css_set not linked to dummytop is missed by unload.
            let cg = task_cg(k, "T1");
            let l = k.csets.peek(cg).cg_links.peek(|l| l[0]);
            k.cgroups
                .peek(k.dummytop)
                .css_sets
                .poke(|v| v.retain(|&x| x != l));
        }),
        ("cgroup-count", |k, _| {
            let c = cgroup_of(k, task_cg(k, "T1"), true);
            k.cgroups.peek(c).count.fetch_add(1, O::SeqCst);
        }),
        ("modular-slot-consistency", |k, _| {
            let cg = task_cg(k, "T1");
            k.csets.peek(cg).subsys[k.builtin()].store(0, O::SeqCst);
        }),
        ("css_set-template", |k, _| {
            // T1's css_set points at dummytop's net_cls css although net_cls is bound to m0.
            let cg = task_cg(k, "T1");
            let i = k.builtin();
            let d = k.cgroups.peek(k.dummytop).subsys[i].load(O::SeqCst);
            let other =
                k.cgroups.peek(cgroup_of(k, task_cg(k, "T2"), true)).subsys[i].load(O::SeqCst);
            let _ = d;
            k.csets.peek(cg).subsys[i].store(other, O::SeqCst);
        }),
        ("no-dangling-css", |k, _| {
            let c = cgroup_of(k, task_cg(k, "T1"), true);
            let css: Handle<Css> =
                Handle::from_raw(k.cgroups.peek(c).subsys[k.builtin()].load(O::SeqCst)).unwrap();
            let cx = k.cx(1, "breaker");
            k.csses.kfree(css, &cx);
        }),
        ("subsys-binding", |k, _| {
            let root = k.cgroups.peek(cgroup_of(k, task_cg(k, "T1"), true)).root;
            k.roots.peek(root).subsys_list.poke(|l| {
                l.pop();
            });
        }),
        ("task-css_set", |k, _| {
            let t = k.task_named("T2").expect("T2");
            k.tasks.peek(t).cg_list.store(0, O::SeqCst);
        }),
        ("module-refs", |k, _| {
            k.modules[0].refcnt.fetch_add(1, O::SeqCst);
        }),
        ("hierarchy-accounting", |k, _| {
            k.root_count.poke(|c| *c += 1);
        }),
        ("css-refcnt", |k, _| {
            let c = cgroup_of(k, task_cg(k, "T1"), true);
            let css: Handle<Css> =
                Handle::from_raw(k.cgroups.peek(c).subsys[0].load(O::SeqCst)).unwrap();
            k.csses.peek(css).refcnt.store(2, O::SeqCst);
        }),
        ("no-leak", |k, _| {
            k.links.alloc(Link {
                cgrp: LockedBy::new(None),
                cg: LockedBy::new(None),
            });
        }),
        ("release-list", |k, _| {
            // rmdir that leaves the removed cgroup queued for the release agent.
            let c = cgroup_of(k, task_cg(k, "T1"), true);
            k.cgroups
                .peek(c)
                .flags
                .fetch_or(cgmodel::kernel::CGRP_REMOVED, O::SeqCst);
            k.cgroups.peek(c).release_list.poke(|b| *b = true);
            k.release_list.poke(|l| l.push(c));
        }),
    ]
}

#[test]
fn the_healthy_state_satisfies_every_invariant() {
    let v = run(Config::default(), |k, cx| {
        for s in steps(HEALTHY) {
            k.exec(&s, cx).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        assert_eq!(invariants::check_all(k), vec![]);
    });
    assert!(v.is_empty(), "{v:?}");
}

#[test]
fn every_invariant_has_a_breaker() {
    let names: Vec<_> = breakers().into_iter().map(|b| b.0).collect();
    for i in INVARIANTS {
        assert!(
            names.contains(&i.name),
            "invariant {} has no breaker test",
            i.name
        );
        assert!(invariants::by_name(i.name).is_some());
    }
    assert_eq!(names.len(), INVARIANTS.len());
}

#[test]
fn each_breaker_is_reported_by_its_invariant() {
    for (name, breaker) in breakers() {
        let v = run(Config::default(), move |k, cx| {
            for s in steps(HEALTHY) {
                k.exec(&s, cx).unwrap();
            }
            breaker(k, cx);
            let found: Vec<_> = invariants::check_all(k)
                .into_iter()
                .map(|v| v.name)
                .collect();
            assert!(
                found.iter().any(|n| n == name),
                "breaking {name} was reported as {found:?}"
            );
        });
        assert!(v.is_empty(), "{name}: {v:?}");
    }
}

#[test]
fn with_rootnode_empty_the_dummy_unlinked_designs_want_no_dummytop_links() {
    let cfg = Config {
        design: cgmodel::Design::DummyUnlinked,
        ..Config::default()
    };
    let v = run(cfg, |k, cx| {
        for s in steps(&[
            "fork T0 T1",
            "mount m0 cpuset,cpu",
            "mkdir m0/a",
            "attach T1 m0/a",
        ]) {
            k.exec(&s, cx).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        assert_eq!(invariants::check_all(k), vec![]);
        // What an unload without the special case leaves: a css_set still linked to dummytop.
        let m = k.cgroup_mutex.lock(cx);
        let w = k.css_set_lock.write(cx);
        k.link_css_set_one(k.init_css_set_link, k.init_css_set, k.dummytop, cx);
        drop(w);
        drop(m);
        let found: Vec<_> = invariants::check_all(k)
            .into_iter()
            .map(|v| v.name)
            .collect();
        for name in ["links-per-hierarchy", "dummy-link-walk"] {
            assert!(found.iter().any(|n| n == name), "{found:?}");
        }
    });
    assert!(v.is_empty(), "{v:?}");
}
