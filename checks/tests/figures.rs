//! `cgcheck figures`: the design review's marked figures agree with the committed results and
//! traces, and a figure that disagrees is named with its line and sentence.

#![cfg(backend_std)]

mod common;

use common::cgcheck;

use cgchecks::figures::{check, grouped, rewrite, runs_from_json, runs_from_markdown, Evidence};

fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_review_s_figures_agree_with_the_results_and_the_traces() {
    let (code, out, err) = cgcheck(&["figures"]);
    assert_eq!(code, 0, "{out}{err}");
    let n: usize = out
        .split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .expect("a count");
    assert!(n >= 40, "{n} figures marked: {out}");
}

const RESULTS: &str = "\
| scenario | design | engine | verdict | executions | stopped | classes | seconds | bound |
|---|---|---|---|---|---|---|---|---|
| `a` | v2.6.34 | loom | expected-fail | 12345 | 0 | 7 | 0.01 | bound 1 |
";

const TRACE: &str = "\
cgroup-model trace v2
engine: shuttle pct depth 2, seed 0x5eed, failing schedule 42 of 1000
timeline: 3 steps
     1  T1 f                            syscall insmod net_cls  module.c:2500
     2  T2 g                            VIOLATION use-after-free  x.c:1
";

fn evidence() -> Evidence {
    Evidence {
        runs: runs_from_markdown(RESULTS),
        traces: [("t".to_string(), TRACE.to_string())].into(),
    }
}

#[test]
fn each_key_reads_its_evidence() {
    let review = "loom took <!--f:run:a:v2.6.34:loom:executions-->12,345<!--/f--> executions \
        at <!--f:run:a:v2.6.34:loom:bound-->bound 1<!--/f-->; PCT at depth \
        <!--f:depth:t-->2<!--/f-->, schedule <!--f:sched:t-->42<!--/f-->, step \
        <!--f:step:t:VIOLATION-->2<!--/f--> of <!--f:steps:t-->3<!--/f-->, the second \
        `T` at <!--f:step:t:  T#2-->2<!--/f-->.";
    let figs = check(review, &evidence());
    assert_eq!(figs.len(), 7);
    assert!(figs.iter().all(|f| f.agrees()), "{figs:?}");
}

#[test]
fn a_wrong_figure_and_a_bad_key_are_named_and_rewritten() {
    let review = "first line\nschedule <!--f:sched:t-->41<!--/f--> and \
        <!--f:step:t:no such text-->9<!--/f--> and <!--f:nokey:x-->1<!--/f-->\n";
    let figs = check(review, &evidence());
    let wrong: Vec<_> = figs.iter().filter(|f| !f.agrees()).collect();
    assert_eq!(wrong.len(), 3, "{figs:?}");
    assert_eq!(wrong[0].line, 2);
    assert_eq!(wrong[0].actual.as_deref(), Ok("42"));
    assert!(wrong[1]
        .actual
        .as_ref()
        .is_err_and(|e| e.contains("no step")));
    assert!(wrong[2]
        .actual
        .as_ref()
        .is_err_and(|e| e.contains("unknown")));
    // --write takes the evidence's values, and leaves what names nothing as it is.
    let fixed = rewrite(review, &evidence());
    assert!(fixed.contains("<!--f:sched:t-->42<!--/f-->"), "{fixed}");
    assert!(fixed.contains("<!--f:nokey:x-->1<!--/f-->"), "{fixed}");
    assert_eq!(
        check(&fixed, &evidence())
            .iter()
            .filter(|f| !f.agrees())
            .count(),
        2
    );
    // A marker without its end is a figure that fails, not one that is skipped.
    let broken = check("a <!--f:sched:t-->42 and no end", &evidence());
    assert_eq!(broken.len(), 1);
    assert!(!broken[0].agrees());
}

#[test]
fn the_command_names_the_sentence_and_exits_1() {
    let dir = std::env::temp_dir().join(format!("cgcheck-figures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let review = dir.join("review.md");
    let traces = cgchecks::figures::traces_in(&repo().join("traces")).unwrap();
    let (name, text) = traces
        .iter()
        .find(|(_, t)| t.contains("failing schedule"))
        .expect("a PCT trace");
    let sched = text
        .split("failing schedule ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap();
    let wrong: u64 = sched.parse::<u64>().unwrap() + 1;
    std::fs::write(
        &review,
        format!("# r\n\nPCT found it on schedule <!--f:sched:{name}-->{wrong}<!--/f-->.\n"),
    )
    .unwrap();
    let r = review.to_str().unwrap();
    let (code, out, _) = cgcheck(&["figures", "--review", r]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(":3:") && out.contains("PCT found it on schedule"),
        "{out}"
    );
    assert_eq!(cgcheck(&["figures", "--review", r, "--write"]).0, 0);
    assert_eq!(cgcheck(&["figures", "--review", r]).0, 0);
    // Unreadable evidence or review: 2.
    assert_eq!(cgcheck(&["figures", "--review", "/no/such/file"]).0, 2);
    assert_eq!(
        cgcheck(&["figures", "--results", "/no/such.json", "--review", r]).0,
        2
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn verify_s_json_reads_as_results_md_does() {
    let json = r#"{"scenarios": [{"name": "a", "design": "v2.6.34", "engine": "loom",
        "verdict": "expected-fail", "executions": 12345, "pruned": 0, "classes": 7,
        "bound": {"preemptions": 1}}]}"#;
    assert_eq!(
        runs_from_json(json).unwrap(),
        runs_from_markdown(RESULTS)
            .into_iter()
            .map(|(k, mut v)| {
                for k in ["seconds", "scenario", "design", "engine"] {
                    v.remove(k);
                }
                (k, v)
            })
            .collect()
    );
    assert!(runs_from_json("{}").is_err());
    assert_eq!(grouped(999), "999");
    assert_eq!(grouped(1000), "1,000");
    assert_eq!(grouped(14352268), "14,352,268");
}
