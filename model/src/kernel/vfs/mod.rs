//! The slice of the VFS that orders cgroup code (fs/super.c, fs/namespace.c, fs/namei.c,
//! fs/dcache.c, fs/open.c, fs/read_write.c, fs/file_table.c): superblocks (`sget`,
//! `grab_super`, `deactivate_super`, `generic_shutdown_super`), the mount table, path walks with
//! dentry references, the `mkdir`/`rmdir` entries that call into cgroupfs, and open, read,
//! write and close of control files.
//!
//! Abstractions, each argued in docs/model.md: a directory dentry is folded into its cgroup
//! (`d_count`, `i_mutex`, its children's names under `dcache_lock`), a control file's dentry is a
//! [`crate::kernel::CgFile`]; a mountpoint holds at most one mount; `umount` is a lazy unmount
//! (`MNT_DETACH`), and a mount reference is an active superblock reference; the BKL that
//! `do_new_mount` and `cgroup_remount` take is left out (it is dropped whenever its holder sleeps,
//! and every path here sleeps on a mutex).
//!
//! One file per fs/ source: `superblock.rs` (fs/super.c), `namespace.rs`, `namei.rs`,
//! `dcache.rs`, `open.rs`, `read_write.rs`, `file_table.rs`.

mod dcache;
mod file_table;
mod namei;
mod namespace;
mod open;
mod read_write;
mod superblock;

use crate::kernel::{CgroupH, RootH, SbH};

/// A cgroup directory resolved by a path walk: the mount's superblock (an active reference) and
/// the cgroup (a dentry reference unless it is the top cgroup).
#[derive(Clone, Copy, Debug)]
pub struct PathRef {
    /// The superblock (pinned by an active reference).
    pub sb: SbH,
    /// The hierarchy.
    pub root: RootH,
    /// The cgroup (pinned by a dentry reference unless it is the top cgroup).
    pub cgrp: CgroupH,
}
