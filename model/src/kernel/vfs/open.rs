//! fs/open.c: `open` and `close` of control files.

use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::{File, Kernel};
use crate::sim::arena::load_ptr;
use crate::sim::cx::Cx;
use crate::sim::rcu::rcu_assign_pointer;

impl Kernel {
    /// `open("MNT/PATH/FILE", mode)` into descriptor `fd` (`sys_open` → `do_sys_open`,
    /// fs/open.c:1044-1077; the scenario names the descriptor, -EEXIST if it is in use):
    /// `do_filp_open`, then `fd_install`.
    #[doc(alias = "do_sys_open")]
    pub fn sys_open(
        &self,
        mnt: &str,
        path: &str,
        (read, write): (bool, bool),
        fd: usize,
        cx: &Cx,
    ) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::do_sys_open);
        cx.at(1050);
        {
            let g = self.file_lock.lock(cx);
            let busy = fd >= self.fd_table.len() || load_ptr::<File>(&self.fd_table[fd]).is_some();
            drop(g);
            if busy {
                return Err(Errno::EEXIST);
            }
        }
        cx.at(1052);
        let f = self.do_filp_open(mnt, path, (read, write), cx)?;
        self.files
            .set_label(f, format!("fd{fd}: {}", self.files.label(f)));
        cx.at(1058);
        let _i = cx.enter(&kfn::fd_install);
        cx.at(1035);
        let g = self.file_lock.lock(cx);
        cx.at(1038);
        rcu_assign_pointer(&self.fd_table[fd], Some(f));
        cx.at(1039);
        drop(g);
        Ok(())
    }

    /// `close(fd)` (`sys_close`, fs/open.c:1135-1167): under `files->file_lock` clear the slot
    /// (`rcu_assign_pointer(fdt->fd[fd], NULL)`; -EBADF if empty), then `filp_close` → `fput`.
    pub fn sys_close(&self, fd: usize, cx: &Cx) -> Result<(), Errno> {
        let _f = cx.enter(&kfn::sys_close);
        cx.at(1142);
        let g = self.file_lock.lock(cx);
        cx.at(1146);
        let f = self.fd_table.get(fd).and_then(load_ptr::<File>);
        let Some(f) = f else {
            cx.at(1165);
            drop(g);
            return Err(Errno::EBADF);
        };
        cx.at(1149);
        rcu_assign_pointer::<File>(&self.fd_table[fd], None);
        cx.at(1152);
        drop(g);
        cx.at(1153);
        self.fput(f, cx);
        Ok(())
    }
}
