//! Helpers shared by the test files that drive the `cgcheck` binary.

use std::process::Command;

/// Runs this build's `cgcheck` with `args`: its exit code, stdout and stderr.
pub fn cgcheck(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_cgcheck"))
        .args(args)
        .output()
        .expect("runs");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}
