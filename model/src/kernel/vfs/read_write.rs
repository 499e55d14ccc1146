//! fs/read_write.c: `read` and `write` of control files.

use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::ops::Ret;
use crate::kernel::{Kernel, Pidlist, SeqfileState};
use crate::sim::arena::load_ptr;
use crate::sim::cx::Cx;

impl Kernel {
    /// `read(fd)` (`sys_read`, fs/read_write.c:374-389): `fget_light` (-EBADF), `vfs_read`
    /// (-EBADF unless open for reading), `f_op->read`: the pid array's `seq_read` for a `tasks`
    /// file open for reading, `seq_read` of `cgroup_seqfile_operations` for a seq_file cftype
    /// (`blkio.time`), else `cgroup_file_read`; `fput_light`.
    pub fn sys_read(&self, fd: usize, cx: &Cx) -> Result<Ret, Errno> {
        let _f = cx.enter(&kfn::sys_read);
        cx.at(380);
        let f = self.fget(fd, cx).ok_or(Errno::EBADF)?;
        cx.at(383);
        let r = if !self.files.get(f, cx).read {
            Err(Errno::EBADF)
        } else {
            let file = self.files.get(f, cx);
            let (pidlist, seq) = (
                load_ptr::<Pidlist>(&file.pidlist),
                load_ptr::<SeqfileState>(&file.seq_state),
            );
            drop(file);
            match (pidlist, seq) {
                (Some(l), _) => Ok(self.cgroup_pidlist_read(l, cx)),
                (None, Some(_)) => self.cgroup_seqfile_show(f, cx),
                (None, None) => self.cgroup_file_read(f, cx),
            }
        };
        cx.at(385);
        self.fput(f, cx);
        r
    }

    /// `write(fd, VALUE)` (`sys_write`, fs/read_write.c:391-407): `fget_light` (-EBADF),
    /// `vfs_write` (-EBADF unless open for writing) → `cgroup_file_write`; `fput_light`.
    pub fn sys_write(&self, fd: usize, value: u64, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::sys_write);
        cx.at(398);
        let f = self.fget(fd, cx).ok_or(Errno::EBADF)?;
        cx.at(401);
        let r = if self.files.get(f, cx).write {
            self.cgroup_file_write(f, value, cx)
        } else {
            Err(Errno::EBADF)
        };
        cx.at(403);
        self.fput(f, cx);
        r
    }
}
