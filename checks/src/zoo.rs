//! The fault zoo: which catalog scenarios catch each injected fault, and what makes each
//! scenario fail (a fault or a design), so that every check is shown able to fail
//! (docs/faults.md has the history and the interleavings).

use cgmodel::{Design, Fault};

/// The scenarios that catch a fault, cheapest first (found by exploring the whole catalog with
/// `cargo run --release --features loom -p cgroup-checks --example discover`).
pub fn catchers(f: Fault) -> &'static [&'static str] {
    match f {
        Fault::PutUnlockedFinalDec => &["attach-vs-exit-of-target", "load-vs-attach-vs-exit"],
        Fault::AttachNoPin => &["attach-vs-exit"],
        Fault::NoDummyLink => &["unload-vs-attach", "load-vs-attach"],
        Fault::ParseNoModuleGet => &["unload-vs-mount", "unload-vs-umount"],
        Fault::MountFailKeepsRefs => &["mount-busy-vs-umount"],
        Fault::RemountKeepsDupRef => &["remount-vs-umount"],
        Fault::LoadNoRehash => &["load-vs-fork", "load-vs-unload"],
        Fault::UnloadNoCssSetLock => &["unload-vs-exit", "load-vs-unload"],
        Fault::ForkRefAfterUnlock => &["attach-vs-fork"],
        Fault::AttachNoSynchronizeRcu => &["attach-vs-css-get", "rmdir-vs-css-get"],
        Fault::AttachNoExitingCheck => &["attach-vs-exit"],
        Fault::RebindEbusyPutsRefs => &["mount-busy-vs-umount"],
        Fault::CssSetFreeNoRcu => &["exit-vs-css-get"],
        Fault::RmdirNoRecheck => &["rmdir-vs-attach"],
        Fault::KillSbFreeRootFirst => &["mount-vs-umount", "mount-busy-vs-umount"],
        Fault::RemountLockInversion => &["remount-vs-mkdir"],
    }
}

/// What makes a scenario fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Killer {
    /// The fault, injected into the `fixed` design.
    Fault(Fault),
    /// The design itself (a documented finding).
    Design(Design),
}

/// The killer of each scenario: a race-dependent fault where the scenario catches one, else a
/// fault its setup or ops expose.
pub fn killer(scenario: &str) -> Option<Killer> {
    use Fault::*;
    let f = match scenario {
        "netcls-init-vs-classify" | "load-error-then-load" => {
            return Some(Killer::Design(Design::V2634))
        }
        "dummy-empty-load-unload-vs-attach"
        | "dummy-last-unload-vs-attach"
        | "dummy-empty-reload-vs-classify"
        | "dummy-empty-load-vs-mount"
        | "dummy-relink-vs-exit" => return Some(Killer::Design(Design::DummyUnlinkedNoSpecial)),
        "attach-vs-exit" => AttachNoPin,
        "attach-vs-exit-of-target" | "load-vs-attach-vs-exit" => PutUnlockedFinalDec,
        "attach-vs-fork" => ForkRefAfterUnlock,
        "attach-vs-css-get" | "rmdir-vs-css-get" => AttachNoSynchronizeRcu,
        "exit-vs-css-get" => CssSetFreeNoRcu,
        "rmdir-vs-attach" => RmdirNoRecheck,
        "mount-vs-umount" => KillSbFreeRootFirst,
        "remount-vs-mkdir" => RemountLockInversion,
        "unload-vs-mount"
        | "load-vs-mount-all"
        | "mount-vs-classify"
        | "mount-vs-rmmod-vs-attach" => ParseNoModuleGet,
        "mount-busy-vs-umount" => MountFailKeepsRefs,
        "remount-vs-umount" => RemountKeepsDupRef,
        "load-vs-unload"
        | "unload-vs-umount"
        | "unload-vs-attach"
        | "unload-vs-fork"
        | "unload-vs-exit"
        | "unload-vs-classify"
        | "unload-vs-fork-vs-exit"
        | "storm-modules"
        | "storm-hierarchies" => UnloadNoCssSetLock,
        "load-vs-load"
        | "load-vs-attach"
        | "load-vs-fork"
        | "load-vs-exit"
        | "mount-vs-attach"
        | "mount-vs-fork"
        | "mount-vs-exit"
        | "umount-vs-attach"
        | "umount-vs-exit"
        | "umount-vs-fork"
        | "attach-vs-classify"
        | "fork-vs-exit"
        | "umount-relink-vs-attach-vs-exit" => NoDummyLink,
        _ => return None,
    };
    Some(Killer::Fault(f))
}
