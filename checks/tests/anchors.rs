//! `cgcheck anchors`: holding the anchor map to a kernel tree. The tests build a small fake tree
//! of their own (no kernel source is in the repository) and check each status, the exit codes,
//! and `--write`; and that the committed map is complete.

#![cfg(backend_std)]

use std::path::{Path, PathBuf};
mod common;

use common::cgcheck;

use cgchecks::anchors::{check, digest, locate, write_map, Status};
use cgmodel::kernel::anchors::{map, parse_map};

const FAKE_C: &str = "\
#include <linux/fake.h>

static int helper(int x);

static int helper(int x)
{
\treturn x + 1;
}

/* a comment with a brace { */
int fake_attach(struct cgroup *cgrp,
\t\tstruct task_struct *tsk)
{
\tif (tsk) {
\t\tchar *s = \"}\";
\t\treturn helper(1);
\t}
\treturn 0;
}

struct cgroup_subsys_state *
fake_lookup(int id)
{
\treturn NULL;
}

SYSCALL_DEFINE2(fake_call, int, a, int, b)
{
\treturn a + b;
}
";

fn tree(name: &str, c: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cgcheck-anchors-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("kernel")).unwrap();
    std::fs::write(d.join("kernel/fake.c"), c).unwrap();
    d
}

fn map_text(t: &Path) -> String {
    let unfilled = "# a test map\n\
        helper\tkernel/fake.c\t0\t0\t-\tm::helper\n\
        fake_attach\tkernel/fake.c\t0\t0\t-\tm::attach\n\
        fake_lookup\tkernel/fake.c\t0\t0\t-\tm::lookup\n\
        sys_fake_call\tkernel/fake.c\t0\t0\t-\tm::call\n";
    write_map(unfilled, t).unwrap()
}

#[test]
fn the_locator_finds_definitions_not_declarations() {
    assert_eq!(locate(FAKE_C, "helper"), Some((5, 8)));
    assert_eq!(locate(FAKE_C, "fake_attach"), Some((11, 19)));
    assert_eq!(
        locate(FAKE_C, "fake_lookup"),
        Some((21, 25)),
        "type on the line above"
    );
    assert_eq!(
        locate(FAKE_C, "sys_fake_call"),
        Some((27, 30)),
        "SYSCALL_DEFINE"
    );
    assert_eq!(locate(FAKE_C, "fake"), None);
    assert_eq!(locate(FAKE_C, "nothing"), None);
}

#[test]
fn each_status_is_reported() {
    let t = tree("status", FAKE_C);
    let text = map_text(&t);
    let rows = parse_map(&text).unwrap();
    let all = |c: &str| {
        std::fs::write(t.join("kernel/fake.c"), c).unwrap();
        check(&rows, &t)
            .unwrap()
            .into_iter()
            .map(|f| (f.function, f.status))
            .collect::<Vec<_>>()
    };
    assert!(all(FAKE_C).iter().all(|(_, s)| *s == Status::Unchanged));
    // Two lines added at the top: everything moves, nothing changes.
    let moved = all(&format!("/* new */\n\n{FAKE_C}"));
    assert!(moved.iter().all(|(_, s)| *s == Status::Moved), "{moved:?}");
    // One function edited, one renamed away.
    let edited = FAKE_C
        .replace("return x + 1;", "return x + 2;")
        .replace("fake_lookup(int id)", "fake_find(int id)");
    let got = all(&edited);
    assert_eq!(got[0], ("helper".to_string(), Status::Changed));
    assert_eq!(got[1], ("fake_attach".to_string(), Status::Unchanged));
    assert_eq!(got[2], ("fake_lookup".to_string(), Status::Missing));
    // The file gone.
    std::fs::remove_file(t.join("kernel/fake.c")).unwrap();
    let gone = check(&rows, &t).unwrap();
    assert!(gone.iter().all(|f| f.status == Status::Missing));
    assert!(
        check(&rows, &t.join("no-such-dir")).is_err(),
        "an unreadable tree is an error"
    );
    let _ = std::fs::remove_dir_all(t);
}

#[test]
fn the_digest_is_of_the_function_text() {
    let lines: Vec<&str> = FAKE_C.lines().collect();
    assert_eq!(digest(&lines[4..8]), digest(&lines[4..8]));
    assert_ne!(digest(&lines[4..8]), digest(&lines[4..7]));
    assert_eq!(digest(&lines[4..8]).len(), 16);
}

#[test]
fn the_command_exits_0_1_2() {
    let t = tree("cli", FAKE_C);
    let m = t.join("anchors.tsv");
    std::fs::write(&m, map_text(&t)).unwrap();
    let (ts, ms) = (t.to_str().unwrap(), m.to_str().unwrap());
    let (code, out, _) = cgcheck(&["anchors", "--kernel", ts, "--map", ms]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("4 functions: 4 unchanged, 0 drifted"), "{out}");
    std::fs::write(
        t.join("kernel/fake.c"),
        FAKE_C.replace("return a + b;", "return a - b;"),
    )
    .unwrap();
    let (code, out, _) = cgcheck(&["anchors", "--kernel", ts, "--map", ms]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("changed") && out.contains("sys_fake_call"),
        "{out}"
    );
    let (code, out, _) = cgcheck(&["anchors", "--json", "--kernel", ts, "--map", ms]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["drift"], 1);
    // --write takes the new text; then the tree checks clean again.
    let (code, _, err) = cgcheck(&["anchors", "--kernel", ts, "--map", ms, "--write"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(cgcheck(&["anchors", "--kernel", ts, "--map", ms]).0, 0);
    // An unreadable tree, a malformed map, a missing map: 2, one line.
    for args in [
        vec!["anchors", "--kernel", "/no/such/tree", "--map", ms],
        vec!["anchors", "--kernel", ts, "--map", "/no/such/map"],
    ] {
        let (code, _, err) = cgcheck(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    std::fs::write(&m, "helper\tkernel/fake.c\tx\n").unwrap();
    let (code, _, err) = cgcheck(&["anchors", "--kernel", ts, "--map", ms]);
    assert_eq!(code, 2, "{err}");
    let _ = std::fs::remove_dir_all(t);
}

/// Every row of the committed map was filled from the v2.6.34 tree, and every model function it
/// names exists in the model's source.
#[test]
fn the_committed_map_is_complete() {
    let rows = map();
    assert!(rows.len() >= 90, "{} rows", rows.len());
    let src = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../model/src"));
    let mut text = String::new();
    let mut stack = vec![src];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                text.push_str(&std::fs::read_to_string(p).unwrap());
            }
        }
    }
    for r in &rows {
        assert!(
            r.start > 0 && r.end >= r.start && r.digest.len() == 16,
            "{r:?}"
        );
        for m in r.model.split(',') {
            let f = m.rsplit("::").next().unwrap();
            assert!(
                text.contains(&format!("fn {f}(")) || text.contains(&format!("fn {f}<")),
                "{}: model function {m} not found",
                r.function
            );
        }
    }
}

#[test]
fn model_md_lists_every_anchored_function_with_its_lines() {
    let md = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/model.md"))
        .expect("docs/model.md");
    let (begin, end) = ("<!-- anchors -->\n", "<!-- /anchors -->");
    let start = md.find(begin).expect("docs/model.md has the anchors table") + begin.len();
    let stop = md[start..].find(end).expect("the table ends") + start;
    assert_eq!(
        &md[start..stop],
        cgchecks::anchors::markdown(&cgmodel::kernel::anchors::map()),
        "docs/model.md's anchor table is stale: regenerate it with `cgcheck anchors --markdown`"
    );
}

#[test]
fn every_model_function_the_map_names_exists() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../model/src");
    let mut missing = Vec::new();
    for row in cgmodel::kernel::anchors::map() {
        for m in row.model.split(',') {
            let segs: Vec<&str> = m.split("::").collect();
            let (func, path) = segs.split_last().expect("a path");
            // The longest prefix that is a module file; the rest is a type and the function.
            let file = (1..=path.len()).rev().find_map(|k| {
                let base = src.join(path[..k].join("/"));
                [base.with_extension("rs"), base.join("mod.rs")]
                    .into_iter()
                    .find(|p| p.exists())
            });
            let defined = file.is_some_and(|f| {
                let text = std::fs::read_to_string(f).expect("readable");
                text.contains(&format!("fn {func}(")) || text.contains(&format!("fn {func}<"))
            });
            if !defined {
                missing.push(format!("{} -> {m}", row.function));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the anchor map names model functions that do not exist: {missing:?}"
    );
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("readable").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every model function that enters a kernel function (`cx.enter(&kfn::X)` at its top) names
/// X's v2.6.34 lines in its doc comment, as the anchor map has them (`START-END`).
#[test]
fn every_anchored_model_function_names_its_lines_in_its_doc() {
    let rows = map();
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../model/src/kernel"),
        &mut files,
    );
    let mut bad = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable");
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            if !(t.starts_with("fn ")
                || t.starts_with("pub fn ")
                || t.starts_with("pub(crate) fn "))
            {
                continue;
            }
            let body = lines[i..(i + 4).min(lines.len())].join("\n");
            let Some(k) = body
                .split("cx.enter(&kfn::")
                .nth(1)
                .and_then(|r| r.split(')').next())
            else {
                continue;
            };
            let row = rows
                .iter()
                .find(|r| r.function == k)
                .unwrap_or_else(|| panic!("{}: kfn::{k} is not in the map", f.display()));
            let doc: String = lines[..i]
                .iter()
                .rev()
                .take_while(|l| {
                    let t = l.trim_start();
                    t.starts_with("///") || t.starts_with("#[")
                })
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            let want = if row.start == row.end {
                row.start.to_string()
            } else {
                format!("{}-{}", row.start, row.end)
            };
            if !doc.contains(&want) {
                bad.push(format!(
                    "{}:{} enters {k} but its doc does not name {want}",
                    f.display(),
                    i + 1
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
