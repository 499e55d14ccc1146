//! fs/file_table.c: file references (`fget`, `fput`, `__fput`).

use crate::kernel::anchors::kfn;
use crate::kernel::{File, FileH, Kernel};
use crate::sim::cx::Cx;
use crate::sim::rcu::{rcu_dereference_check, DerefSite, Protection};
use crate::sim::sync::Ordering;

/// `fcheck_files`'s `rcu_dereference_check_fdtable` (include/linux/fdtable.h:88, the condition
/// at 60-64). The model's table is shared by the process's threads (`files->count > 1`).
const FCHECK_FILES: DerefSite = DerefSite {
    at: "include/linux/fdtable.h:88",
    text: "fdt->fd[fd], rcu_read_lock_held() || lockdep_is_held(&files->file_lock) || atomic_read(&files->count) == 1",
};

impl Kernel {
    /// `fget_light(fd)` (fs/file_table.c:299-321) for a process whose threads share the table:
    /// under `rcu_read_lock`, the file in slot `fd` and `atomic_long_inc_not_zero(&f_count)`.
    /// None is -EBADF.
    pub fn fget(&self, fd: usize, cx: &Cx) -> Option<FileH> {
        let _f = cx.enter(&kfn::fget_light);
        cx.at(308);
        let rcu = self.rcu.read_lock(cx);
        cx.at(309);
        let f = self.fd_table.get(fd).and_then(|p| {
            let cond = [
                Protection::ReadLock,
                Protection::Held(&self.file_lock),
                Protection::Holds(false),
            ];
            rcu_dereference_check::<File>(cx, p, &FCHECK_FILES, &cond)
        });
        let got = f.filter(|&f| {
            cx.at(311);
            let c = &self.files.get(f, cx).f_count;
            let mut v = c.load(Ordering::Relaxed);
            loop {
                if v == 0 {
                    return false;
                }
                match c.compare_exchange(v, v + 1, Ordering::SeqCst, Ordering::Relaxed) {
                    Ok(_) => return true,
                    Err(now) => v = now,
                }
            }
        });
        cx.at(317);
        drop(rcu);
        got
    }

    /// `fput(file)` (fs/file_table.c:197-201): the last reference runs `__fput`.
    pub fn fput(&self, f: FileH, cx: &Cx) {
        let _f = cx.enter(&kfn::fput);
        cx.at(199);
        let last = self.files.get(f, cx).f_count.fetch_sub(1, Ordering::SeqCst) == 1;
        if last {
            cx.at(200);
            self.__fput(f, true, cx);
        }
    }

    /// `__fput(file)` (fs/file_table.c:233-269): `f_op->release` (`cgroup_file_release`, if the
    /// open got that far), `file_free` (the `struct file` goes after a grace period:
    /// `call_rcu(file_free_rcu)`), then `dput` of the file's dentry and `mntput` (the
    /// superblock's active reference).
    #[allow(non_snake_case)]
    pub fn __fput(&self, f: FileH, opened: bool, cx: &Cx) {
        let _f = cx.enter(&kfn::__fput);
        if opened {
            cx.at(249);
            self.cgroup_file_release(f, cx);
        }
        let (dentry, sb) = {
            let file = self.files.get(f, cx);
            (file.dentry, file.sb)
        };
        cx.at(264);
        self.rcu
            .call_rcu(cx, &kfn::file_free_rcu, move |k: &Kernel, cx| {
                cx.at(48);
                k.files.kfree(f, cx);
            });
        cx.at(265);
        self.dput_file(dentry, cx);
        cx.at(266);
        self.deactivate_super(sb, cx);
    }
}
