//! The `cgcheck` front door as a user meets it: listing, clear errors with exit 2 for unknown names
//! and bad flags, replay exit codes, rendering.

#![cfg(backend_std)]

mod common;

use common::cgcheck;

fn trace(name: &str) -> String {
    format!("{}/../traces/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn list_names_everything_and_its_json_parses() {
    let (code, out, _) = cgcheck(&["list"]);
    assert_eq!(code, 0);
    for name in ["attach-vs-exit", "v2.6.34", "attach-no-pin"] {
        assert!(out.contains(name), "{name} missing from `cgcheck list`");
    }
    let (code, out, _) = cgcheck(&["list", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("list --json is JSON");
    assert_eq!(v["engine"], "std");
    assert_eq!(
        v["faults"].as_array().map(Vec::len),
        Some(cgmodel::Fault::ALL.len())
    );
}

/// `explore --list` sizes the space in any build; exploring it needs loom or shuttle.
#[test]
fn explore_lists_the_space_and_needs_an_exploring_engine() {
    let (code, out, _) = cgcheck(&["explore", "--list"]);
    assert_eq!(code, 0);
    for s in cgchecks::explore::SETUPS {
        assert!(out.contains(s.name), "{} missing: {out}", s.name);
    }
    let (code, _, err) = cgcheck(&["explore"]);
    assert_eq!(code, 2);
    assert!(err.contains("--features loom"), "{err}");
}

#[test]
fn unknown_names_and_bad_flags_exit_2_with_one_line() {
    for args in [
        &["run", "no-such-scenario"][..],
        &["run", "attach-vs-exit", "--design", "nope"],
        &["run", "attach-vs-exit", "--faults", "nope"],
        &["run", "attach-vs-exit", "--bound", "x"],
        &["run", "attach-vs-exit", "--preempt", "voluntary"],
        &[
            "run",
            "css-put-release-vs-rmmod-preempt",
            "--preempt",
            "none",
        ],
        &["explore", "--preempt", "nope", "--list"],
        &["zoo", "--faults", "nope"],
        &["replay", "/no/such/file"],
        &["verify", "--engines", "nope"],
        &["run", "attach-vs-exit", "--engine", "loom"],
        &["run", "attach-vs-exit", "--engine", "warp"],
        &["explore"],
        &["explore", "--setups", "nope", "--list"],
        &["explore", "--shard", "x"],
        &["explore", "--designs", "nope"],
        &["explore", "--kill", "nope"],
        &["verify", "--deep", "--shard", "0/2"],
        &["verify", "--deep", "--shard", "3/2"],
        &["verify", "--deep", "--shard", "x"],
    ] {
        let (code, _, err) = cgcheck(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(
            err.trim().lines().count(),
            1,
            "{args:?}: one line, got {err}"
        );
        assert!(err.starts_with("cgcheck: "), "{args:?}: {err}");
    }
    for args in [
        &["run", "attach-vs-exit", "--frob"][..],
        &["verify", "--shard", "1/2"],
        &["verify", "--deep", "--docs"],
    ] {
        let (code, _, err) = cgcheck(args);
        assert_eq!(code, 2, "{args:?}: {err}");
    }
}

#[test]
fn replay_exit_codes() {
    let (code, out, _) = cgcheck(&["replay", &trace("attach-vs-exit--attach-no-pin.trace")]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("reproduced"));
    let dir = std::env::temp_dir().join(format!("cgcheck-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("garbage.trace");
    std::fs::write(&bad, "not a trace\n").unwrap();
    let (code, _, err) = cgcheck(&["replay", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("line 1"), "{err}");
    // The same trace without its fault: not reproduced.
    let text = std::fs::read_to_string(trace("attach-vs-exit--attach-no-pin.trace")).unwrap();
    let fixed = dir.join("fixed.trace");
    std::fs::write(
        &fixed,
        text.replacen("faults: attach-no-pin", "faults: none", 1),
    )
    .unwrap();
    let (code, out, _) = cgcheck(&["replay", fixed.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn render_makes_a_mermaid_diagram() {
    let (code, out, _) = cgcheck(&[
        "render",
        &trace("mount-vs-umount--kill-sb-free-root-first.trace"),
    ]);
    assert_eq!(code, 0);
    assert!(out.starts_with("sequenceDiagram"));
    assert!(out.contains("VIOLATION"));
    let (code, out, _) = cgcheck(&[
        "render",
        "--json",
        &trace("mount-vs-umount--kill-sb-free-root-first.trace"),
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("render --json is JSON");
    assert!(v["condensed"].as_array().is_some_and(|a| !a.is_empty()));
}
