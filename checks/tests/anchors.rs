//! `cgcheck anchors`: holding the anchor map to a kernel tree. The tests build a small fake tree
//! of their own (no kernel source is in the repository) and check each status, the exit codes,
//! and `--write`; and that the committed map is complete.

#![cfg(backend_std)]

use std::path::{Path, PathBuf};
mod common;

use common::cgcheck;

use cgchecks::anchors::{check, digest, locate, steps, write_map, Status};
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

#define SHOW_FAKE(__VAR)\t\t\\
static int fake_##__VAR##_read(void)\t\\
{\t\t\t\t\\
\treturn __VAR;\t\t\\
}

SHOW_FAKE(one);
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
    assert_eq!(
        locate(FAKE_C, "SHOW_FAKE"),
        Some((32, 36)),
        "a macro that defines a function: to its last continued line"
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
    let text: String = model_sources().into_iter().map(|s| s.text).collect();
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

fn model_sources() -> Vec<steps::Source> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../model/src");
    steps::sources(&dir, "model/src/").expect("the model's source")
}

#[test]
fn the_model_column_names_the_functions_that_enter_each_kernel_function() {
    let sources = model_sources();
    let entered = steps::entries(&sources);
    let tables = steps::table_enterers(&sources);
    let mut wrong = Vec::new();
    for row in map() {
        let column: std::collections::BTreeSet<String> =
            row.model.split(',').map(str::to_string).collect();
        let real = entered.get(&row.function).cloned().unwrap_or_default();
        // Beyond the functions that name it, the column may name those that enter it from a
        // table, and only those.
        if real.is_empty()
            || !column.is_superset(&real)
            || !column.difference(&real).all(|m| tables.contains(m))
        {
            wrong.push(format!(
                "{}\tmap: {}\tsource: {}",
                row.function,
                row.model,
                real.into_iter().collect::<Vec<_>>().join(",")
            ));
        }
    }
    let mapped: std::collections::BTreeSet<String> =
        map().into_iter().map(|r| r.function).collect();
    for f in entered.keys().filter(|f| !mapped.contains(*f)) {
        wrong.push(format!("{f}\tnot in the map"));
    }
    assert!(
        wrong.is_empty(),
        "{} rows:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_step_line_is_inside_its_function() {
    let all = steps::steps(&model_sources());
    assert!(all.len() > 600, "the scan found {} steps", all.len());
    let wrong = cgchecks::anchors::lines::check_lines(&all, &map(), None).unwrap();
    let shown: Vec<String> = wrong.iter().map(ToString::to_string).collect();
    assert!(wrong.is_empty(), "{}", shown.join("\n"));
}

/// A fake model for the fake tree: one good step per function, then the bad lines the check
/// must flag: a lone brace, a line outside the function, a step in no frame.
const FAKE_RS: &str = "\
impl K {
    fn attach(&self, cx: &Cx) {
        let _f = cx.enter(&kfn::fake_attach);
        cx.at(14);
        self.help(cx);
        cx.at(if ok { 16 } else { 18 });
    }

    fn help(&self, cx: &Cx) {
        // frame: helper
        cx.at(7);
    }
}
";

#[test]
fn step_lines_outside_their_function_or_off_code_are_flagged() {
    let t = tree("steps", FAKE_C);
    let m = t.join("anchors.tsv");
    std::fs::write(&m, map_text(&t)).unwrap();
    let model = t.join("model");
    std::fs::create_dir_all(&model).unwrap();
    let run = |rs: &str| {
        std::fs::write(model.join("fake.rs"), rs).unwrap();
        cgcheck(&[
            "anchors",
            "--kernel",
            t.to_str().unwrap(),
            "--map",
            m.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
        ])
    };
    let (code, out, err) = run(FAKE_RS);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("4 step lines: 0 wrong"), "{out}");
    // The scan names each step's frame; the helper's comes from its `// frame:` line.
    let src = steps::Source {
        path: "fake.rs".into(),
        module: "m".into(),
        text: FAKE_RS.into(),
    };
    let (found, entered, _) = steps::scan(&src);
    let frames: Vec<(usize, Option<&str>)> = found
        .iter()
        .map(|s| (s.kernel_line, s.function.as_deref()))
        .collect();
    assert_eq!(
        frames,
        [
            (14, Some("fake_attach")),
            (16, Some("fake_attach")),
            (18, Some("fake_attach")),
            (7, Some("helper"))
        ]
    );
    let models: Vec<(&str, &str)> = entered
        .iter()
        .map(|e| (e.function.as_str(), e.model.as_str()))
        .collect();
    assert_eq!(
        models,
        [("fake_attach", "m::attach"), ("helper", "m::help")]
    );
    // A lone brace (13), a line outside fake_attach (10), and a step in a function that opens
    // no frame.
    let bad = FAKE_RS
        .replace("cx.at(14);", "cx.at(13);")
        .replace("{ 18 }", "{ 10 }")
        + "fn loose(cx: &Cx) {\n    cx.at(14);\n}\n";
    let (code, out, _) = run(&bad);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("5 step lines: 3 wrong"), "{out}");
    assert!(
        out.contains("line 13 of fake_attach is not a line of code: `{`"),
        "{out}"
    );
    assert!(
        out.contains("line 10 is outside fake_attach (11-19)"),
        "{out}"
    );
    assert!(
        out.contains("line 14 is in no kernel function's frame"),
        "{out}"
    );
    // A comment line and a blank line inside the function are flagged too.
    let c = FAKE_C.replace("\t\tchar *s = \"}\";", "\t\t/* a comment */");
    std::fs::write(t.join("kernel/fake.c"), &c).unwrap();
    std::fs::write(&m, map_text(&t)).unwrap();
    let (code, out, _) = run(&FAKE_RS.replace("cx.at(14);", "cx.at(15);"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("`/* a comment */`"), "{out}");
    let _ = std::fs::remove_dir_all(t);
}
