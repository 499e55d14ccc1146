//! The loom and shuttle parts of `verify`: each built as its own flavour of cgcheck, in its own
//! target directory, and run as a child process whose JSON the default build merges.

use std::path::{Path, PathBuf};
use std::process::Command;

use cgmodel::sim::sync::Backend;

use super::{repo_root, spinner, Part};

/// Builds the `backend` flavour of cgcheck in its own target directory under `out`, and returns
/// the binary.
fn engine_binary(backend: Backend, out: &Path) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let feature = backend.to_string();
    let target = out.join(format!("build-{feature}"));
    eprintln!("cgcheck verify: building the {feature} engine");
    let st = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "cgroup-checks",
            "--bin",
            "cgcheck",
        ])
        .args(["--features", &feature])
        .arg("--target-dir")
        .arg(&target)
        .current_dir(repo_root())
        .status()
        .map_err(|e| format!("running {cargo}: {e}"))?;
    if !st.success() {
        return Err(format!("building the {feature} engine failed"));
    }
    Ok(target.join("release").join("cgcheck"))
}

/// Builds the `backend` flavour of cgcheck and runs its part.
pub(super) fn backend_part(backend: Backend, out: &Path) -> Result<Part, String> {
    let feature = backend.to_string();
    let bin = engine_binary(backend, out)?;
    let json = out.join(format!("part-{feature}.json"));
    eprintln!("cgcheck verify: running the {feature} engine");
    let mut cmd = Command::new(bin);
    cmd.arg("verify-part").arg("--out").arg(&json);
    // shuttle prints "test panicked in task ..." and its schedule to stderr for every failing
    // schedule, the documented findings' included, from a panic hook of its own; that output goes
    // to a log, shown when the part has a row that is not what its scenario expects.
    let log = out.join(format!("part-{feature}.log"));
    let spinner = (backend == Backend::Shuttle).then(|| {
        spinner(
            &format!("the {feature} engine (its output: {})", log.display()),
            true,
        )
    });
    if spinner.is_some() {
        let f = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        cmd.stderr(f);
    }
    let st = cmd
        .status()
        .map_err(|e| format!("running the {feature} engine: {e}"))?;
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let show_log = || {
        if let Ok(text) = std::fs::read_to_string(&log) {
            eprintln!(
                "cgcheck verify: the {feature} engine's output ({}):",
                log.display()
            );
            eprint!("{text}");
        }
    };
    if !st.success() {
        show_log();
        return Err(format!("the {feature} engine's run failed"));
    }
    let text = std::fs::read_to_string(&json).map_err(|e| format!("{}: {e}", json.display()))?;
    let part: Part = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", json.display()))?;
    if backend == Backend::Shuttle && !part.scenarios.iter().all(|r| r.verdict.ok()) {
        show_log();
    }
    Ok(part)
}

/// Builds the loom flavour of cgcheck and runs its deep part for `shard` (see [`super::deep`]),
/// which writes `out/deep-K-of-N.json`.
pub(super) fn deep_part(
    shard: (usize, usize),
    estimate_only: bool,
    out: &Path,
) -> Result<super::deep::DeepPart, String> {
    let bin = engine_binary(Backend::Loom, out)?;
    let json = out.join(format!("deep-{}-of-{}.json", shard.0, shard.1));
    eprintln!(
        "cgcheck verify: running the loom engine, deep, shard {}/{}",
        shard.0, shard.1
    );
    let mut cmd = Command::new(bin);
    cmd.args(["verify-part", "--deep", "--shard"])
        .arg(format!("{}/{}", shard.0, shard.1))
        .arg("--out")
        .arg(&json);
    if estimate_only {
        cmd.arg("--estimate");
    }
    let st = cmd
        .status()
        .map_err(|e| format!("running the loom engine: {e}"))?;
    if !st.success() {
        return Err("the loom engine's deep run failed".into());
    }
    let text = std::fs::read_to_string(&json).map_err(|e| format!("{}: {e}", json.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", json.display()))
}
