//! The errno values the modelled kernel paths return (include/asm-generic/errno-base.h and errno.h).

use std::fmt;

/// The errno values the modelled kernel paths return, by their kernel names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Errno {
    /// `-ENOENT`: no such subsystem, or its module is going away.
    ENOENT,
    /// `-EBUSY`: subsystem bound elsewhere, cgroup in use, module slot table full, mountpoint busy.
    EBUSY,
    /// `-EINVAL`: inconsistent mount options, remount changing name or flags, bad subsystem.
    EINVAL,
    /// `-ENOMEM`: an allocation failed (chosen by the scenario).
    ENOMEM,
    /// `-ESRCH`: the task is exiting (attach) or does not exist.
    ESRCH,
    /// `-EWOULDBLOCK`: `delete_module` on a module whose refcount is held.
    EWOULDBLOCK,
    /// `-EEXIST`: the module is already loaded, or the directory exists.
    EEXIST,
    /// `-ENODEV`: the cgroup was removed under a file write.
    ENODEV,
    /// `-EBADF`: no such descriptor, or not open for that access.
    EBADF,
    /// `-ENFILE`: no `struct file` could be allocated.
    ENFILE,
    /// `-ENOBUFS`: tc could not allocate its filter.
    ENOBUFS,
    /// `-EINTR`: rmdir's sleep on a referenced css ended by a signal.
    EINTR,
}

impl Errno {
    /// All values, for parsers and generators.
    pub const ALL: [Errno; 12] = [
        Errno::ENOENT,
        Errno::EBUSY,
        Errno::EINVAL,
        Errno::ENOMEM,
        Errno::ESRCH,
        Errno::EWOULDBLOCK,
        Errno::EEXIST,
        Errno::ENODEV,
        Errno::EBADF,
        Errno::ENFILE,
        Errno::ENOBUFS,
        Errno::EINTR,
    ];
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "-{self:?}")
    }
}
