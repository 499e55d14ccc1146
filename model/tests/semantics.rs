//! Sequential semantics of the model against v2.6.34 (issue: "Sequential semantics match the
//! kernel"). Every test runs inside one execution of the selected backend, so the file also runs
//! under `--features loom` and `--features shuttle`.

mod common;

use cgmodel::check::invariants;
use cgmodel::kernel::{modstate, CssSet};
use cgmodel::{Config, Design, Errno, HashKind, Ret, ViolationKind};
use common::{run, script, steps};
use std::sync::atomic::Ordering as O;

fn ok(n: usize) -> Vec<cgmodel::OpResult> {
    vec![Ok(Ret::Done); n]
}

const POPULATED: &[&str] = &[
    "fork T0 T1",
    "fork T0 T2",
    "fork T1 T3",
    "mount m0 cpuset",
    "mkdir m0/a",
    "mkdir m0/b",
    "attach T1 m0/a",
    "attach T2 m0/b",
    "mount m1 cpu",
    "mkdir m1/x",
    "attach T3 m1/x",
];

#[test]
fn load_rehashes_and_links_css_into_every_css_set() {
    for hash in [HashKind::Sum, HashKind::Collide] {
        let cfg = Config {
            hash,
            ..Config::default()
        };
        run(cfg, |k, cx| {
            for s in steps(POPULATED) {
                assert_eq!(k.exec(&s, cx), Ok(Ret::Done), "{s}");
            }
            let before = k.observe_css_sets();
            assert!(before >= 4, "several css_sets to rehash, got {before}");
            assert_eq!(
                k.exec(&"insmod net_cls".parse().unwrap(), cx),
                Ok(Ret::Done)
            );
            assert_eq!(k.observe_css_sets(), before, "load creates no css_set");
            let slot = k.builtin();
            let dcss = k.cgroups.peek(k.dummytop).subsys[slot].load(O::SeqCst);
            assert_ne!(dcss, 0, "dummytop has the new css");
            for (_, cg) in invariants::hashed(k) {
                assert_eq!(
                    k.csets.peek(cg).subsys[slot].load(O::SeqCst),
                    dcss,
                    "{cg} got the css"
                );
            }
            invariants::check(k).unwrap();
        });
    }
}

#[test]
fn unload_removes_css_from_every_css_set_and_frees_module_memory() {
    run(Config::default(), |k, cx| {
        for s in steps(POPULATED)
            .into_iter()
            .chain(steps(&["insmod net_cls", "rmmod net_cls"]))
        {
            assert_eq!(k.exec(&s, cx), Ok(Ret::Done), "{s}");
            invariants::check(k).unwrap();
        }
        let slot = k.builtin();
        assert!(k.subsys_at(slot).is_none());
        assert_eq!(k.cgroups.peek(k.dummytop).subsys[slot].load(O::SeqCst), 0);
        for (_, cg) in invariants::hashed(k) {
            assert_eq!(
                k.csets.peek(cg).subsys[slot].load(O::SeqCst),
                0,
                "{cg} still has the css"
            );
        }
        assert!(
            k.csses
                .live()
                .iter()
                .all(|&c| k.csses.peek(c).ss.name != "net_cls"),
            "css freed"
        );
        assert!(
            k.subsystems
                .live()
                .iter()
                .all(|&s| k.subsystems.peek(s).ops.name != "net_cls"),
            "module memory freed"
        );
        assert_eq!(k.modules[0].state.load(O::SeqCst), modstate::UNLOADED);
    });
}

#[test]
fn mount_fails_with_enoent_while_the_module_is_going() {
    run(Config::default(), |k, cx| {
        for s in steps(&["insmod net_cls", "insmod blkio"]) {
            assert_eq!(k.exec(&s, cx), Ok(Ret::Done));
        }
        // delete_module has passed __try_stop_module (GOING) but not yet run the module's exit.
        k.modules[1].state.store(modstate::GOING, O::SeqCst);
        let r = k.exec(&"mount m0 net_cls,blkio".parse().unwrap(), cx);
        assert_eq!(r, Err(Errno::ENOENT));
        assert_eq!(
            k.modules[0].refcnt.load(O::SeqCst),
            0,
            "net_cls pin taken before blkio's failure is dropped"
        );
        assert_eq!(k.modules[1].refcnt.load(O::SeqCst), 0);
        let r = k.exec(&"mount m0 all".parse().unwrap(), cx);
        assert_eq!(
            r,
            Err(Errno::ENOENT),
            "K2: `all` pins every module, so one going fails the mount"
        );
        assert_eq!(k.modules[0].refcnt.load(O::SeqCst), 0);
        assert_eq!(
            k.exec(&"mount m0 net_cls".parse().unwrap(), cx),
            Ok(Ret::Done)
        );
        assert_eq!(k.modules[0].refcnt.load(O::SeqCst), 1);
    });
}

#[test]
fn a_mount_that_fails_after_parsing_drops_the_module_refs_it_took() {
    // Every allocation of the mount, in turn, fails: each -ENOMEM leaves no module ref behind.
    for n in 1..=12 {
        let nomem = format!("mount m0 net_cls,blkio !nomem@{n}");
        let r = script(
            Config::default(),
            &[
                "insmod net_cls",
                "insmod blkio",
                &nomem,
                "rmmod net_cls",
                "rmmod blkio",
            ],
        );
        match r[2] {
            Err(Errno::ENOMEM) => assert_eq!(r[3..], ok(2)[..], "refs dropped after {nomem}"),
            Ok(Ret::Done) => assert_eq!(
                r[3..],
                [Err(Errno::EWOULDBLOCK), Err(Errno::EWOULDBLOCK)],
                "{nomem}"
            ),
            ref e => panic!("{nomem}: {e:?}"),
        }
    }
    // rebind_subsystems returns -EBUSY (net_cls is bound elsewhere): the parsed refs are dropped.
    let r = script(
        Config::default(),
        &[
            "insmod net_cls",
            "insmod blkio",
            "mount m0 net_cls",
            "mount m1 net_cls,blkio",
            "umount m0",
            "rmmod net_cls",
            "rmmod blkio",
        ],
    );
    assert_eq!(r[3], Err(Errno::EBUSY));
    assert_eq!(r[4..], ok(3)[..]);
    // A name clash also fails after parsing.
    let r = script(
        Config::default(),
        &[
            "insmod net_cls",
            "mount m0 cpu,name=x",
            "mount m1 net_cls,name=x",
            "rmmod net_cls",
        ],
    );
    assert_eq!(
        r,
        vec![
            Ok(Ret::Done),
            Ok(Ret::Done),
            Err(Errno::EBUSY),
            Ok(Ret::Done)
        ]
    );
}

#[test]
fn remount_drops_the_duplicate_ref_and_unbinding_drops_the_hierarchy_ref() {
    run(Config::default(), |k, cx| {
        let refs = |k: &cgmodel::Kernel| {
            (
                k.observe_module_refcount("net_cls"),
                k.observe_module_refcount("blkio"),
            )
        };
        for (s, want) in [
            ("insmod net_cls", (Some(0), None)),
            ("insmod blkio", (Some(0), Some(0))),
            ("mount m0 net_cls", (Some(1), Some(0))),
            ("remount m0 net_cls", (Some(1), Some(0))),
            ("remount m0 net_cls,blkio", (Some(1), Some(1))),
            ("remount m0 blkio", (Some(0), Some(1))),
            ("mount m1 blkio", (Some(0), Some(1))),
            ("umount m0", (Some(0), Some(1))),
            ("umount m1", (Some(0), Some(0))),
        ] {
            assert_eq!(k.exec(&s.parse().unwrap(), cx), Ok(Ret::Done), "{s}");
            assert_eq!(refs(k), want, "after {s}");
            invariants::check(k).unwrap();
        }
        assert_eq!(
            k.exec(&"remount m0 net_cls".parse().unwrap(), cx),
            Err(Errno::ENOENT)
        );
    });
}

#[test]
fn rmmod_is_refused_while_bound_or_used_by_a_filter() {
    let r = script(
        Config::default(),
        &[
            "insmod net_cls",
            "mount m0 net_cls",
            "rmmod net_cls",
            "umount m0",
            "tc-add F0",
            "rmmod net_cls",
            "tc-del F0",
            "rmmod net_cls",
            "tc-add F1",
        ],
    );
    assert_eq!(
        r,
        vec![
            Ok(Ret::Done),
            Ok(Ret::Done),
            Err(Errno::EWOULDBLOCK),
            Ok(Ret::Done),
            Ok(Ret::Done),
            Err(Errno::EWOULDBLOCK),
            Ok(Ret::Done),
            Ok(Ret::Done),
            Err(Errno::ENOENT),
        ]
    );
}

#[test]
fn a_hierarchy_with_children_outlives_umount_and_is_found_again() {
    let r = script(
        Config::default(),
        &[
            "insmod net_cls",
            "mount m0 net_cls",
            "mkdir m0/a",
            "umount m0",
            "rmmod net_cls",
            "mount m1 net_cls",
            "rmdir m1/a",
            "umount m1",
            "rmmod net_cls",
        ],
    );
    assert_eq!(
        r[4],
        Err(Errno::EWOULDBLOCK),
        "the invisible hierarchy still binds net_cls"
    );
    assert_eq!(
        r[5..],
        ok(4)[..],
        "the same options find the same superblock"
    );
}

#[test]
fn attach_and_exit_create_and_free_css_sets() {
    run(Config::default(), |k, cx| {
        for s in steps(&["fork T0 T1", "fork T0 T2", "mount m0 cpuset", "mkdir m0/a"]) {
            k.exec(&s, cx).unwrap();
        }
        assert_eq!(k.observe_css_sets(), 1);
        k.exec(&"attach T1 m0/a".parse().unwrap(), cx).unwrap();
        assert_eq!(k.observe_css_sets(), 2, "attach created a css_set");
        k.exec(&"attach T2 m0/a".parse().unwrap(), cx).unwrap();
        assert_eq!(k.observe_css_sets(), 2, "the second attach shares it");
        let shared = k
            .tasks
            .peek(k.task_named("T1").expect("T1"))
            .cgroups
            .load(O::SeqCst);
        assert_eq!(
            k.csets
                .peek(cgmodel::sim::arena::Handle::<CssSet>::from_raw(shared).unwrap())
                .refcount
                .load(O::SeqCst),
            2
        );
        assert_eq!(
            k.exec(&"rmdir m0/a".parse().unwrap(), cx),
            Err(Errno::EBUSY)
        );
        k.exec(&"exit T1".parse().unwrap(), cx).unwrap();
        assert_eq!(k.observe_css_sets(), 2);
        k.exec(&"exit T2".parse().unwrap(), cx).unwrap();
        assert_eq!(
            k.observe_css_sets(),
            1,
            "the last exit freed it (after a grace period)"
        );
        assert_eq!(k.exec(&"rmdir m0/a".parse().unwrap(), cx), Ok(Ret::Done));
        assert_eq!(
            k.exec(&"attach T1 m0".parse().unwrap(), cx),
            Err(Errno::ESRCH),
            "exited"
        );
        assert_eq!(
            k.exec(&"exit T0".parse().unwrap(), cx),
            Err(Errno::ESRCH),
            "the idle task"
        );
        invariants::check(k).unwrap();
    });
}

#[test]
fn classify_reads_the_classid_of_the_task_cgroup() {
    let r = script(
        Config::default(),
        &[
            "insmod net_cls",
            "fork T0 T1",
            "tc-add F0",
            "classify T1",
            "mount m0 net_cls",
            "mkdir m0/a",
            "classid m0/a 7",
            "mkdir m0/a/b",
            "attach T1 m0/a/b",
            "classify T1",
            "classid m0 3",
            "classify T0",
        ],
    );
    assert_eq!(r[3], Ok(Ret::Classid(None)), "dummytop's css has classid 0");
    assert_eq!(
        r[9],
        Ok(Ret::Classid(Some(7))),
        "a child inherits its parent's classid"
    );
    assert_eq!(r[11], Ok(Ret::Classid(Some(3))));
}

#[test]
fn every_enomem_path_of_every_operation_rolls_back() {
    let setup = [
        "insmod net_cls",
        "insmod blkio",
        "fork T0 T1",
        "mount m0 net_cls,cpuset",
        "mkdir m0/a",
        "mount m1 blkio",
    ];
    let probes = [
        "mkdir m0/b",
        "mkdir m1/x",
        "attach T1 m0/a",
        "fork T1 T2",
        "tc-add F0",
        "mount m2 cpu",
        "remount m0 net_cls,cpuset,name=q",
    ];
    for p in probes {
        for n in 1..=6 {
            let bad = format!("{p} !nomem@{n}");
            let mut sc: Vec<&str> = setup.to_vec();
            sc.push(&bad);
            let r = script(Config::default(), &sc);
            assert!(
                matches!(
                    r.last().unwrap(),
                    Ok(_)
                        | Err(Errno::ENOMEM)
                        | Err(Errno::ENOBUFS)
                        | Err(Errno::ENFILE)
                        | Err(Errno::EINVAL)
                ),
                "{bad}: {:?}",
                r.last()
            );
        }
    }
}

#[test]
fn finding_k1_load_error_path_oopses_in_blkiocg_destroy() {
    // insmod blkio's second allocation is cgroup_init_idr's css id (the first is the module's
    // memory; blkio's root css is static). Its error path (cgroup.c:3692-3693) clears
    // dummytop->subsys[id] and then calls blkiocg_destroy, which finds its state through that
    // slot: a NULL blkio_cgroup, whose lock it takes. v2.6.34 oopses there, in insmod, with
    // cgroup_mutex held.
    let v = run(Config::default(), |k, cx| {
        let _ = k.exec(&"insmod blkio !nomem@2".parse().unwrap(), cx);
    });
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].kind, ViolationKind::Bug);
    assert_eq!(v[0].name, "NULL-dereference");
    assert!(
        v[0].detail.contains("cgroup_to_blkio_cgroup") && v[0].detail.contains("blkiocg_destroy"),
        "{}",
        v[0].detail
    );
    // The same path in every design that keeps v2.6.34's error path.
    for design in [Design::DummyUnlinked, Design::NetClsLoadFirst] {
        let v = run(
            Config {
                design,
                ..Config::default()
            },
            |k, cx| {
                let _ = k.exec(&"insmod blkio !nomem@2".parse().unwrap(), cx);
            },
        );
        assert_eq!(v.len(), 1, "{design}: {v:?}");
        assert_eq!(v[0].name, "NULL-dereference", "{design}");
    }
    // Undoing the load as cgroup_unload_subsys does (3.x): -ENOMEM, and a later load works.
    let st = steps(&["insmod blkio !nomem@2", "insmod net_cls", "insmod blkio"]);
    for design in [Design::LoadErrUnlink, Design::Fixed] {
        let st3 = st.clone();
        let v = run(
            Config {
                design,
                ..Config::default()
            },
            move |k, cx| {
                assert_eq!(k.exec(&st3[0], cx), Err(Errno::ENOMEM));
                assert_eq!(k.exec(&st3[1], cx), Ok(Ret::Done));
                assert_eq!(k.exec(&st3[2], cx), Ok(Ret::Done));
                invariants::check(k).unwrap();
            },
        );
        assert!(v.is_empty(), "{design}: {v:?}");
    }
}

#[test]
fn op_syntax_round_trips_and_rejects_garbage() {
    for s in [
        "insmod net_cls",
        "rmmod blkio",
        "mount m0",
        "mount m0 net_cls,cpuset",
        "remount m0 cpu",
        "umount m0",
        "mkdir m0/a/b",
        "rmdir m0/a",
        "attach T1 m0",
        "attach T1 m0/a",
        "fork T0 T1",
        "exit T1",
        "tc-add F0",
        "tc-del F0",
        "classify T1",
        "classid m0/a 7",
        "mount m0 net_cls !nomem@2",
        "open fd1 m0/a/net_cls.classid w",
        "open fd0 m0/tasks r",
        "open fd7 m0/a/notify_on_release rw",
        "read fd1",
        "write fd1 7",
        "close fd1",
    ] {
        let st: cgmodel::Step = s.parse().unwrap();
        assert_eq!(st.to_string(), s);
    }
    for bad in [
        "",
        "insmod",
        "insmod foo",
        "mkdir m0",
        "fork T0",
        "classid m0/a x",
        "frob T1",
        "mount m0 a b",
        "exit T1 !nomem@0",
        "attach T1 m0/../x",
        "attach X1 m0",
        "fork T0 T16",
        "open fd8 m0/tasks r",
        "open fd1 m0 r",
        "open fd1 m0/tasks x",
        "read 1",
        "write fd1 -1",
    ] {
        assert!(
            bad.parse::<cgmodel::Step>().is_err(),
            "`{bad}` should not parse"
        );
    }
}

#[test]
fn css_references_keep_rmdir_busy_until_put() {
    let r = script(
        Config::default(),
        &[
            "fork T0 T1",
            "mount m0 cpu",
            "mkdir m0/a",
            "attach T1 m0/a",
            "css-get T1 cpu",
            "attach T1 m0",
            "rmdir m0/a",
            "css-put T1 cpu",
            "rmdir m0/a",
            "css-put T1 cpu",
            "css-get T0 cpu",
            "css-put T0 cpu",
        ],
    );
    assert_eq!(
        r[6],
        Err(Errno::EINTR),
        "cgroup_clear_css_refs fails while a css is referenced: rmdir sleeps (interrupted)"
    );
    assert_eq!(r[8], Ok(Ret::Done));
    assert_eq!(r[9], Err(Errno::ENOENT), "nothing left to put");
    assert_eq!(r[10..], ok(2)[..], "root csses are not counted");
}

fn design(d: Design) -> Config {
    Config {
        design: d,
        ..Config::default()
    }
}

/// How many links `init_css_set` has, and `root_count`.
fn links_and_root_count(k: &cgmodel::Kernel) -> (usize, usize) {
    let links = k.csets.peek(k.init_css_set).cg_links.peek(|l| l.len());
    (links, k.root_count.peek(|c| *c))
}

#[test]
fn dummy_unlinked_links_css_sets_to_dummytop_only_while_a_subsystem_is_on_rootnode() {
    // Each step is followed by every invariant (links-per-hierarchy and dummy-link-walk follow
    // the active flag): the mount empties rootnode, load and kill_sb refill it, unload and a
    // remount empty it again.
    let sc = [
        "fork T0 T1",
        "mount m0 cpuset,cpu",
        "remount m0 cpuset",
        "remount m0 cpuset,cpu",
        "mkdir m0/a",
        "attach T1 m0/a",
        "insmod net_cls",
        "attach T1 m0",
        "attach T1 m0/a",
        "rmmod net_cls",
        "rmdir m0/b",
        "mount m1 none,name=x",
        "umount m1",
        "attach T1 m0",
        "rmdir m0/a",
        "umount m0",
        "attach T1 m0",
    ];
    let r = script(design(Design::DummyUnlinked), &sc);
    assert_eq!(r[10], Err(Errno::ENOENT));
    assert_eq!(r[16], Err(Errno::ENOENT));
    assert!(
        r.iter()
            .enumerate()
            .all(|(i, x)| x.is_ok() || i == 10 || i == 16),
        "{r:?}"
    );
    // The link counts along the way: (links of init_css_set, root_count).
    let v = run(design(Design::DummyUnlinked), move |k, cx| {
        let mut seen = Vec::new();
        for s in steps(&sc) {
            let _ = k.exec(&s, cx);
            seen.push(links_and_root_count(k));
        }
        let want = [
            (1, 1), // fork
            (1, 1), // mount m0 cpuset,cpu: rootnode empty, unlinked from dummytop
            (2, 2), // remount m0 cpuset: cpu is back on rootnode, relinked
            (1, 1), // remount m0 cpuset,cpu: gone again
            (1, 1),
            (1, 1),
            (2, 2), // insmod net_cls: the only subsystem on rootnode, relinked
            (2, 2),
            (2, 2),
            (1, 1), // rmmod: it was the only one, unlinked again
            (1, 1),
            (2, 2), // mount m1 none,name=x: a hierarchy without subsystems
            (1, 1),
            (1, 1),
            (1, 1),
            (1, 1), // umount m0: kill_sb rebinds cpuset and cpu to rootnode (relink) and drops m0
            (1, 1),
        ];
        assert_eq!(seen, want);
    });
    assert!(v.is_empty(), "{v:?}");
}

#[test]
fn dummy_unlinked_allocation_failures_roll_back() {
    // The relinks allocate css_set_count - 1 links before anything changes: a remount that gives
    // cpu back to rootnode and an insmod into an empty rootnode fail with -ENOMEM and keep every
    // invariant. (Two css_sets exist: T1 is in m1/a.)
    for p in ["remount m0 none,name=z", "insmod net_cls"] {
        let mut failed = Vec::new();
        for n in 1..=4 {
            let bad = format!("{p} !nomem@{n}");
            let sc = [
                "fork T0 T1",
                "fork T0 T2",
                "mount m1 cpuset",
                "mkdir m1/a",
                "attach T1 m1/a",
                "mount m0 cpu,name=z",
                &bad,
                "attach T2 m1/a",
                "attach T1 m1",
            ];
            let r = script(design(Design::DummyUnlinked), &sc);
            assert!(r[..6].iter().all(Result::is_ok), "{bad}: {r:?}");
            assert!(
                matches!(r[6], Ok(_) | Err(Errno::ENOMEM)),
                "{bad}: {:?}",
                r[6]
            );
            assert!(r[7].is_ok() && r[8].is_ok(), "{bad}: {r:?}");
            failed.push(r[6].is_err());
        }
        // remount: parse's copy of name=, then the relink's one link; insmod: the module's
        // memory, the relink's link, ss->create; later allocations are not made.
        let want: &[bool] = if p.starts_with("remount") {
            &[true, true, false, false]
        } else {
            &[true, true, true, false]
        };
        assert_eq!(failed, want, "{p}");
    }
}

/// The first invariant that breaks after each step of `sc`, on `d`.
fn first_breaks(d: Design, sc: &'static [&'static str]) -> Vec<Option<String>> {
    let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let o2 = out.clone();
    let v = run(design(d), move |k, cx| {
        for s in steps(sc) {
            let _ = k.exec(&s, cx);
            o2.lock()
                .unwrap()
                .push(invariants::check(k).err().map(|v| v.name));
        }
    });
    assert!(v.is_empty(), "{v:?}");
    let r = out.lock().unwrap().clone();
    r
}

#[test]
fn dummy_unlinked_without_the_special_cases_breaks_on_load_and_unload() {
    // Load when rootnode is empty: net_cls makes the dummy hierarchy active but nothing links the
    // css_sets back, so unload's walk of dummytop's links misses every one of them.
    let b = first_breaks(
        Design::DummyUnlinkedNoSpecial,
        &["mount m0 cpuset,cpu", "insmod net_cls", "rmmod net_cls"],
    );
    assert_eq!(b[0], None);
    assert_eq!(b[1].as_deref(), Some("links-per-hierarchy"));
    assert_eq!(b[2].as_deref(), Some("modular-slot-consistency"));
    // Unload of the only subsystem on rootnode: the css_sets stay linked to an inactive dummy.
    let b = first_breaks(
        Design::DummyUnlinkedNoSpecial,
        &["insmod net_cls", "mount m0 cpuset,cpu", "rmmod net_cls"],
    );
    assert_eq!(b[..2], [None, None]);
    assert_eq!(b[2].as_deref(), Some("links-per-hierarchy"));
    // The same scripts keep every invariant with the special cases handled.
    for sc in [
        &["mount m0 cpuset,cpu", "insmod net_cls", "rmmod net_cls"],
        &["insmod net_cls", "mount m0 cpuset,cpu", "rmmod net_cls"],
    ] {
        assert!(first_breaks(Design::DummyUnlinked, sc)
            .iter()
            .all(Option::is_none));
    }
}

#[test]
fn control_files_open_read_write_close() {
    let r = script(
        Config::default(),
        &[
            "insmod net_cls",
            "fork T0 T1",
            "fork T0 T2",
            "mount m0 net_cls",
            "mkdir m0/a",
            "attach T1 m0/a",
            "attach T2 m0/a",
            "open fd1 m0/a/net_cls.classid rw",
            "write fd1 9",
            "read fd1",
            "open fd2 m0/a/tasks rw",
            "read fd2",
            "write fd2 1",
            "open fd3 m0/a/notify_on_release w",
            "read fd3",
            "write fd3 1",
            "open fd1 m0/tasks r",
            "close fd1",
            "close fd1",
            "read fd1",
            "open fd4 m0/a/nosuch r",
            "close fd2",
            "close fd3",
        ],
    );
    assert_eq!(r[8], Ok(Ret::Done));
    assert_eq!(
        r[9],
        Ok(Ret::Value(9)),
        "read_classid reads what write_classid wrote"
    );
    assert_eq!(r[11], Ok(Ret::Pids(0b110)), "the pid array has T1 and T2");
    assert_eq!(
        r[12],
        Ok(Ret::Done),
        "writing a tasks file attaches (T1 is already there)"
    );
    assert_eq!(r[14], Err(Errno::EBADF), "not open for reading");
    assert_eq!(r[15], Ok(Ret::Done));
    assert_eq!(
        r[16],
        Err(Errno::EEXIST),
        "the scenario names a descriptor in use"
    );
    assert_eq!(r[17], Ok(Ret::Done));
    assert_eq!(r[18], Err(Errno::EBADF), "closed already");
    assert_eq!(r[19], Err(Errno::EBADF));
    assert_eq!(r[20], Err(Errno::ENOENT));
    assert_eq!(r[21..], ok(2)[..]);
}

#[test]
fn subsystem_control_files_reach_their_state_through_the_css() {
    let r = script(
        Config::default(),
        &[
            "insmod blkio",
            "mount m0 cpuset,cpu,blkio",
            "mkdir m0/a",
            "open fd1 m0/cpu.shares rw",
            "read fd1",
            "write fd1 2048",
            "open fd2 m0/a/cpu.shares rw",
            "write fd2 1",
            "read fd2",
            "open fd3 m0/cpuset.cpu_exclusive rw",
            "read fd3",
            "write fd3 0",
            "read fd3",
            "open fd4 m0/a/cpuset.cpu_exclusive r",
            "read fd4",
            "open fd5 m0/blkio.weight rw",
            "read fd5",
            "write fd5 50",
            "write fd5 300",
            "read fd5",
            "open fd6 m0/a/blkio.time rw",
            "read fd6",
            "write fd6 1",
            "close fd6",
        ],
    );
    assert_eq!(r[4], Ok(Ret::Value(1024)), "init_task_group.shares");
    assert_eq!(
        r[5],
        Err(Errno::EINVAL),
        "the root group's shares are fixed"
    );
    assert_eq!(r[7], Ok(Ret::Done));
    assert_eq!(r[8], Ok(Ret::Value(2)), "clamped to MIN_SHARES");
    assert_eq!(r[10], Ok(Ret::Value(1)), "top_cpuset is cpu_exclusive");
    assert_eq!(r[11], Ok(Ret::Done));
    assert_eq!(r[12], Ok(Ret::Value(0)), "update_flag cleared it");
    assert_eq!(r[14], Ok(Ret::Value(0)), "a new cpuset is not exclusive");
    assert_eq!(r[16], Ok(Ret::Value(1000)), "blkio_root_cgroup.weight");
    assert_eq!(r[17], Err(Errno::EINVAL), "below BLKIO_WEIGHT_MIN");
    assert_eq!(r[19], Ok(Ret::Value(300)));
    assert_eq!(r[21], Ok(Ret::Value(0)), "no blkio group: no line");
    assert_eq!(r[22], Err(Errno::EINVAL), "blkio.time has no write handler");
    assert_eq!(r[23], Ok(Ret::Done), "the seq_file state is freed at close");
}

#[test]
fn a_subsystem_file_left_open_across_its_unbinding_oopses_on_v2_6_34() {
    // cgroup.c has read and written these files through cgrp->subsys[id] with no look at
    // whether the subsystem is still bound since remount could unbind one: the generic NULL
    // dereference of design review 4.3, on built-in files.
    for (file, op, unbind) in [
        ("cpu.shares", "read fd1", "cpuset"),
        ("cpuset.cpu_exclusive", "write fd1 1", "cpu"),
    ] {
        let v = run(Config::default(), move |k, cx| {
            let open = format!("open fd1 m0/{file} rw");
            let remount = format!("remount m0 {unbind}");
            for s in ["mount m0 cpu,cpuset", &open, &remount] {
                assert_eq!(k.exec(&s.parse().unwrap(), cx), Ok(Ret::Done), "{s}");
            }
            let _ = k.exec(&op.parse().unwrap(), cx);
        });
        assert!(
            v.iter()
                .any(|v| v.kind == ViolationKind::Bug && v.name == "NULL-dereference"),
            "{file}: the handler dereferences an empty slot: {v:?}"
        );
    }
}

#[test]
fn an_allocation_that_may_sleep_is_a_bug_with_preemption_disabled() {
    use cgmodel::kernel::gfp::{GFP_ATOMIC, GFP_KERNEL};
    // The allocator's might_sleep: GFP_KERNEL under a spinning lock (here css_set_lock, whose
    // holders the model's allocations never include) is "sleeping function called from invalid
    // context"; GFP_ATOMIC there, and GFP_KERNEL outside, are not.
    let v = run(Config::default(), |k, cx| {
        assert!(cx.kmalloc_ok(GFP_KERNEL));
        let g = k.css_set_lock.write(cx);
        assert!(cx.kmalloc_ok(GFP_ATOMIC));
        drop(g);
    });
    assert!(v.is_empty(), "{v:?}");
    let v = run(Config::default(), |k, cx| {
        let _g = k.css_set_lock.read(cx);
        let _ = cx.kmalloc_ok(GFP_KERNEL);
    });
    assert!(
        v.iter().any(|v| v.kind == ViolationKind::Bug
            && v.name == "sleeping-in-atomic"
            && v.detail.contains("kmalloc(GFP_KERNEL)")
            && v.detail.contains("`css_set_lock` held")),
        "{v:?}"
    );
}

#[test]
fn every_sleeping_call_in_atomic_context_is_one_report_naming_the_context() {
    // might_sleep is one check: a sleeping lock, a grace period and an allocation each report
    // sleeping-in-atomic, naming the call and what made the context atomic.
    type Case = (
        &'static str,
        &'static str,
        fn(&cgmodel::Kernel, &cgmodel::Cx),
    );
    let cases: [Case; 3] = [
        (
            "mutex_lock(cgroup_mutex)",
            "`css_set_lock` held",
            |k, cx| {
                let _g = k.css_set_lock.read(cx);
                let _m = k.cgroup_mutex.lock(cx);
            },
        ),
        ("synchronize_rcu", "in rcu_read_lock (taken at ", |k, cx| {
            let _r = k.rcu.read_lock(cx);
            k.rcu.synchronize(cx);
        }),
        ("kmalloc(GFP_KERNEL)", "`task_lock` held", |k, cx| {
            let t = k.init_task();
            let t = k.task(t, cx);
            let _g = t.alloc_lock.lock(cx);
            let _ = cx.kmalloc_ok(cgmodel::kernel::gfp::GFP_KERNEL);
        }),
    ];
    for (call, context, f) in cases {
        let v = run(Config::default(), f);
        assert!(
            v.iter().any(|v| v.name == "sleeping-in-atomic"
                && v.detail.contains(call)
                && v.detail.contains(context)),
            "{call}: {v:?}"
        );
    }
}

#[test]
fn a_dereference_outside_its_protection_is_suspicious_rcu_usage() {
    // PROVE_RCU: pid_task's rcu_dereference_check (kernel/pid.c:370) holds under rcu_read_lock
    // or tasklist_lock; a spinning lock alone (preemption disabled, which is a classic RCU
    // reader) is not in its condition, and neither is nothing.
    let ok = run(Config::default(), |k, cx| {
        let r = k.rcu.read_lock(cx);
        assert!(k.find_task_by_vpid(0, cx).is_none());
        drop(r);
        let g = k.tasklist_lock.read(cx);
        let _ = k.find_task_by_vpid(0, cx);
        drop(g);
    });
    assert!(ok.is_empty(), "{ok:?}");
    for under_spinlock in [false, true] {
        let v = run(Config::default(), move |k, cx| {
            let g = under_spinlock.then(|| k.css_set_lock.read(cx));
            let _ = k.find_task_by_vpid(0, cx);
            drop(g);
        });
        assert!(
            v.iter().any(|v| v.name == "suspicious-rcu-usage"
                && v.detail.contains("kernel/pid.c:370")
                && v.detail.contains("find_task_by_vpid")),
            "{v:?}"
        );
    }
}

#[test]
fn a_lock_order_inversion_is_reported_without_a_deadlock() {
    // mount takes the root's i_mutex, then cgroup_mutex (cgroup_get_sb); with the fault, a
    // remount takes cgroup_mutex, then i_mutex. One thread runs both: nothing deadlocks, but
    // the lock graph has both orders, which lockdep reports as a possible circular dependency.
    let ops = ["mount m0 cpuset", "remount m0 cpuset,cpu"];
    let clean = run(Config::default(), move |k, cx| {
        for s in ops {
            assert_eq!(k.exec(&s.parse().unwrap(), cx), Ok(Ret::Done), "{s}");
        }
    });
    assert!(clean.is_empty(), "{clean:?}");
    let cfg = Config {
        faults: cgmodel::Faults::NONE.with(cgmodel::Fault::RemountLockInversion),
        ..Config::default()
    };
    let v = run(cfg, move |k, cx| {
        for s in ops {
            let _ = k.exec(&s.parse().unwrap(), cx);
        }
    });
    let v = v
        .iter()
        .find(|v| v.name == "lock-order")
        .unwrap_or_else(|| panic!("{v:?}"));
    assert!(
        v.detail
            .contains("`i_mutex` is taken by T0 (remount m0 cpuset,cpu)")
            && v.detail
                .contains("`cgroup_mutex` taken by T0 (mount m0 cpuset)"),
        "the chain names both orders and where each was taken: {}",
        v.detail
    );
}

#[test]
fn an_open_file_keeps_a_removed_cgroup_until_its_last_close() {
    let v = run(Config::default(), |k, cx| {
        for s in steps(&[
            "insmod net_cls",
            "mount m0 net_cls",
            "mkdir m0/a",
            "open fd1 m0/a/net_cls.classid w",
        ]) {
            k.exec(&s, cx).unwrap();
        }
        let before = k.cgroups.live().len();
        assert_eq!(k.exec(&"rmdir m0/a".parse().unwrap(), cx), Ok(Ret::Done));
        assert_eq!(
            k.cgroups.live().len(),
            before,
            "the file's dentry pins the cgroup"
        );
        assert_eq!(
            k.exec(&"write fd1 3".parse().unwrap(), cx),
            Err(Errno::ENODEV),
            "cgroup_file_write sees CGRP_REMOVED"
        );
        assert_eq!(k.exec(&"close fd1".parse().unwrap(), cx), Ok(Ret::Done));
        assert_eq!(
            k.cgroups.live().len(),
            before - 1,
            "the last close ran cgroup_diput"
        );
        invariants::check(k).unwrap();
    });
    assert!(v.is_empty(), "{v:?}");
}
