//! The loom build of `cgcheck` refuses what loom cannot run, with a line and exit 2.

#![cfg(backend_loom)]

use std::process::Command;

#[test]
fn a_shuttle_only_scenario_is_refused_with_exit_2() {
    let o = Command::new(env!("CARGO_BIN_EXE_cgcheck"))
        .args(["run", "storm-modules"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("not loom's to run") && err.contains("--features shuttle"),
        "{err}"
    );
}
