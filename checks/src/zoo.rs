//! The fault zoo: which catalog scenarios catch each injected fault (docs/faults.md has the
//! history and the interleavings). What makes each scenario fail is the other half of the kill
//! matrix, and is in the scenario's own file (`killer:`).

use cgmodel::Fault;

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
        Fault::FileNoParentRef => &["classid-open-vs-rmdir"],
        Fault::PidlistFindUnlocksEarly => &["tasks-open-vs-close"],
        Fault::RmdirKeepsReleaseList => &["release-vs-rmdir", "css-put-release-vs-rmmod"],
        Fault::PostForkEarlyRead => &["fork-vs-attach-child"],
        Fault::AttachMoveUnderTaskLock => &["attach-vs-fork"],
        Fault::CssSetAllocUnderLock => &["attach-vs-exit"],
        Fault::FindTaskOutsideRcu => &["attach-vs-exit"],
    }
}
