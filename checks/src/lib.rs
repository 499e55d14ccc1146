//! Scenarios, engines and the race regression's report for the cgroup model.
//!
//! A [`scenario::Scenario`] is an initial state plus one op list per thread; an engine explores
//! its interleavings: loom under `--features loom`, shuttle under `--features shuttle`, real
//! threads otherwise. [`judge`] compares an outcome with the scenario's expected verdict.

pub mod engine;
pub mod report;
pub mod scenario;
pub mod tracefile;
pub mod verify;
pub mod zoo;

use cgmodel::Design;
use engine::Outcome;
use scenario::{Expect, Scenario};

/// Whether `o` is what `sc` expects on `design`: Ok, or Err with the reason. `exhaustive` says
/// the engine's exploration must have found an expected finding (loom, PCT); a sampling engine
/// (the std stress run) may miss one.
pub fn judge(sc: &Scenario, design: Design, o: &Outcome, exhaustive: bool) -> Result<(), String> {
    match ((sc.expect)(design), &o.violation) {
        (Expect::Pass, None) => Ok(()),
        (Expect::Pass, Some(v)) => Err(format!("{} on {design}: unexpected {v}", sc.name)),
        (Expect::Finding(names), Some(v)) if names.contains(&v.name.as_str()) => Ok(()),
        (Expect::Finding(names), Some(v)) => Err(format!(
            "{} on {design}: expected one of {names:?}, got {v}",
            sc.name
        )),
        (Expect::Finding(_), None) if !exhaustive => Ok(()),
        (Expect::Finding(names), None) => Err(format!(
            "{} on {design}: expected {names:?}, {} executions found nothing",
            sc.name, o.executions
        )),
    }
}

/// Defines one `#[test]` per catalog scenario, each calling `$check("scenario-name")`, plus a
/// test that the list covers the catalog. One test per scenario lets the harness run them in
/// parallel and lets `cargo nextest run --partition count:K/N` shard them across machines.
#[macro_export]
macro_rules! catalog_tests {
    ($check:path) => {
        $crate::catalog_tests!(@gen $check;
            netcls_init_vs_classify => "netcls-init-vs-classify",
            load_error_then_load => "load-error-then-load",
            load_vs_load => "load-vs-load",
            load_vs_unload => "load-vs-unload",
            load_vs_mount_all => "load-vs-mount-all",
            load_vs_attach => "load-vs-attach",
            load_vs_fork => "load-vs-fork",
            load_vs_exit => "load-vs-exit",
            unload_vs_mount => "unload-vs-mount",
            unload_vs_umount => "unload-vs-umount",
            unload_vs_attach => "unload-vs-attach",
            unload_vs_fork => "unload-vs-fork",
            unload_vs_exit => "unload-vs-exit",
            unload_vs_classify => "unload-vs-classify",
            mount_vs_umount => "mount-vs-umount",
            mount_busy_vs_umount => "mount-busy-vs-umount",
            remount_vs_umount => "remount-vs-umount",
            remount_vs_mkdir => "remount-vs-mkdir",
            mount_vs_attach => "mount-vs-attach",
            mount_vs_fork => "mount-vs-fork",
            mount_vs_exit => "mount-vs-exit",
            mount_vs_classify => "mount-vs-classify",
            umount_vs_attach => "umount-vs-attach",
            umount_vs_exit => "umount-vs-exit",
            umount_vs_fork => "umount-vs-fork",
            attach_vs_exit => "attach-vs-exit",
            attach_vs_exit_of_target => "attach-vs-exit-of-target",
            attach_vs_fork => "attach-vs-fork",
            attach_vs_css_get => "attach-vs-css-get",
            attach_vs_classify => "attach-vs-classify",
            exit_vs_css_get => "exit-vs-css-get",
            fork_vs_exit => "fork-vs-exit",
            rmdir_vs_attach => "rmdir-vs-attach",
            rmdir_vs_css_get => "rmdir-vs-css-get",
            unload_vs_fork_vs_exit => "unload-vs-fork-vs-exit",
            mount_vs_rmmod_vs_attach => "mount-vs-rmmod-vs-attach",
            load_vs_attach_vs_exit => "load-vs-attach-vs-exit",
            dummy_empty_load_unload_vs_attach => "dummy-empty-load-unload-vs-attach",
            dummy_last_unload_vs_attach => "dummy-last-unload-vs-attach",
            dummy_empty_reload_vs_classify => "dummy-empty-reload-vs-classify",
            dummy_empty_load_vs_mount => "dummy-empty-load-vs-mount",
            dummy_relink_vs_exit => "dummy-relink-vs-exit",
            umount_relink_vs_attach_vs_exit => "umount-relink-vs-attach-vs-exit",
            storm_modules => "storm-modules",
            storm_hierarchies => "storm-hierarchies",
        );
    };
    (@gen $check:path; $($id:ident => $name:literal),* $(,)?) => {
        $(
            #[test]
            fn $id() {
                $check($name)
            }
        )*

        #[test]
        fn every_catalog_scenario_has_a_test() {
            let listed = [$($name),*];
            for sc in $crate::scenario::catalog() {
                assert!(listed.contains(&sc.name), "scenario {} has no test in catalog_tests!", sc.name);
            }
            assert_eq!(listed.len(), $crate::scenario::catalog().len());
        }
    };
}
