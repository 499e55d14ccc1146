//! fs/super.c: the superblock life cycle that orders cgroup code: `sget`, `alloc_super`,
//! `grab_super`, `put_super`, `deactivate_super`, `deactivate_locked_super`,
//! `generic_shutdown_super`.

use crate::kernel::anchors::kfn;
use crate::kernel::cgroup::options::SbOpts;
use crate::kernel::errno::Errno;
use crate::kernel::gfp::GFP_USER;
use crate::kernel::types::SINGLE_DEPTH_NESTING;
use crate::kernel::{Kernel, RootH, SbH, SuperBlock, S_BIAS};
use crate::sim::atomic::AtomicI64;
use crate::sim::cx::Cx;
use crate::sim::lockdep::{KSemaphore, LockedBy};
use crate::sim::spin::SpinWait;
use crate::sim::sync::Ordering;

impl Kernel {
    /// The hierarchy of a superblock (`sb->s_fs_info`).
    pub fn sb_root(&self, sb: SbH, cx: &Cx) -> RootH {
        self.sbs.get(sb, cx).s_fs_info
    }

    /// `sget(cgroup_fs_type, cgroup_test_super, cgroup_set_super, opts)` (fs/super.c:339-385):
    /// under sb_lock, a superblock that passes the test is grabbed (`grab_super`: waits on its
    /// `s_umount` for a mount still being set up, and fails, making sget retry, on one that
    /// failed or is dying); otherwise a new one is allocated (`alloc_super`, with `s_umount`
    /// held for writing), set up for `new_root` (`cgroup_set_super`: -EINVAL without one) and put
    /// on the list. Either way it returns with `s_umount` held: the caller's.
    pub fn sget(&self, o: &SbOpts, new_root: Option<RootH>, cx: &Cx) -> Result<SbH, Errno> {
        let _f = cx.enter(&kfn::sget);
        let mut s: Option<SbH> = None;
        loop {
            cx.at(349);
            let g = self.sb_lock.lock(cx);
            let supers = self.supers.get(&self.sb_lock, cx);
            let found = supers.into_iter().find(|&old| {
                cx.at(352);
                self.cgroup_test_super(old, o, cx)
            });
            if let Some(old) = found {
                cx.at(354);
                if !self.grab_super(old, g, cx) {
                    continue; // goto retry
                }
                if let Some(s) = s {
                    cx.at(357);
                    self.sbs.get(s, cx).s_umount.up_write(cx);
                    cx.at(358);
                    self.sbs.kfree(s, cx);
                }
                return Ok(old);
            }
            let Some(new) = s else {
                cx.at(364);
                drop(g);
                cx.at(365);
                s = Some(self.alloc_super(new_root, cx)?);
                continue;
            };
            cx.at(371);
            let set = {
                let _s = cx.enter(&kfn::cgroup_set_super);
                // "If we don't have a new root, we can't set up a new sb"
                cx.at(1381);
                new_root.map(|root| {
                    cx.at(1391);
                    let _ = self.root(root, cx).sb.set(new);
                })
            };
            let Some(()) = set else {
                cx.at(373);
                drop(g);
                cx.at(374);
                self.sbs.get(new, cx).s_umount.up_write(cx);
                cx.at(375);
                self.sbs.kfree(new, cx);
                return Err(Errno::EINVAL);
            };
            cx.at(381);
            self.supers
                .with_mut(&self.sb_lock, cx, |l| l.insert(0, new));
            cx.at(382);
            drop(g);
            return Ok(new);
        }
    }

    /// `alloc_super` (fs/super.c:55-111): kzalloc (-ENOMEM), `s_umount` held for writing,
    /// `s_count = S_BIAS`, `s_active = 1`. Its `s_fs_info` is set by `cgroup_set_super`; the model
    /// gives it at allocation (nothing reads it before the superblock is on the list).
    fn alloc_super(&self, new_root: Option<RootH>, cx: &Cx) -> Result<SbH, Errno> {
        let _f = cx.enter(&kfn::alloc_super);
        cx.at(57);
        if !cx.kmalloc_ok(GFP_USER) {
            return Err(Errno::ENOMEM);
        }
        let sb = self.sbs.alloc(SuperBlock {
            s_umount: KSemaphore::new("s_umount"),
            s_active: AtomicI64::named(1, "sb.s_active"),
            s_count: LockedBy::new(S_BIAS),
            s_root: LockedBy::new(false),
            s_fs_info: new_root.unwrap_or(self.rootnode),
            dying: SpinWait::new(),
        });
        cx.at(95);
        self.sbs
            .get(sb, cx)
            .s_umount
            .down_write_nested(cx, SINGLE_DEPTH_NESTING);
        Ok(sb)
    }

    /// `grab_super(s)` (fs/super.c:244-263), called with sb_lock held (`g`), which it drops:
    /// `s_count++`, wait on `s_umount`; if the superblock got set up (`s_root`) and is not dying
    /// (`s_count > S_BIAS`), an active reference and true, with `s_umount` held; otherwise
    /// release, `put_super`, `yield()` (a hint, no step here: see the body), and false.
    pub fn grab_super(&self, s: SbH, g: crate::sim::lockdep::KMutexGuard<'_>, cx: &Cx) -> bool {
        let _f = cx.enter(&kfn::grab_super);
        let sb = self.sbs.get(s, cx);
        cx.at(246);
        sb.s_count.with_mut(&self.sb_lock, cx, |c| *c += 1);
        cx.at(247);
        drop(g);
        cx.at(248);
        sb.s_umount.down_write(cx);
        cx.at(249);
        if sb.s_root.get(&sb.s_umount, cx) {
            cx.at(250);
            let g = self.sb_lock.lock(cx);
            cx.at(251);
            if sb.s_count.get(&self.sb_lock, cx) > S_BIAS {
                cx.at(252);
                sb.s_active.fetch_add(1, Ordering::SeqCst);
                cx.at(253);
                sb.s_count.with_mut(&self.sb_lock, cx, |c| *c -= 1);
                cx.at(254);
                drop(g);
                return true; // s_umount stays held: the caller's
            }
            cx.at(257);
            drop(g);
        }
        cx.at(259);
        sb.s_umount.up_write(cx);
        // yield() (line 261): sget retries the superblock until its killer takes it off the
        // list. Between the killer's `s_count -= S_BIAS - 1` and its own down_write of
        // s_umount, every retry fails the same way, a spin the kernel ends by yielding and the
        // checkers would run for ever; the retry waits here, in the window `dying` (sim/spin.rs),
        // before put_super (line 260) instead of after it, so that the superblock it waits on
        // is still pinned (docs/model.md). A retry outside the window goes on at once.
        // The retry yields (261): with no kernel preemption, a sleep point.
        cx.might_sleep("yield", false);
        cx.sleep(|| sb.dying.spin());
        drop(sb);
        cx.at(260);
        self.put_super(s, cx);
        false
    }

    /// `put_super(sb)` (fs/super.c:172-177): `s_count--` under sb_lock; the last frees it
    /// (`destroy_super`).
    pub fn put_super(&self, s: SbH, cx: &Cx) {
        let _f = cx.enter(&kfn::put_super);
        cx.at(174);
        let g = self.sb_lock.lock(cx);
        cx.at(175);
        let last = self
            .sbs
            .get(s, cx)
            .s_count
            .with_mut(&self.sb_lock, cx, |c| {
                *c -= 1;
                *c == 0
            });
        if last {
            self.sbs.kfree(s, cx);
        }
        cx.at(176);
        drop(g);
    }

    /// `deactivate_super(sb)` (fs/super.c:189-201): drops an active reference; the last one
    /// (`atomic_dec_and_lock` on sb_lock) takes `S_BIAS - 1` off `s_count` (the superblock is
    /// dying: `grab_super` refuses it), takes `s_umount` and runs `cgroup_kill_sb`, then
    /// `put_super`.
    pub fn deactivate_super(&self, s: SbH, cx: &Cx) {
        let _f = cx.enter(&kfn::deactivate_super);
        cx.at(192);
        if !self.dec_and_lock_active(s, cx) {
            return;
        }
        cx.at(196);
        self.sbs.get(s, cx).s_umount.down_write(cx); // released by generic_shutdown_super
        cx.at(197);
        self.cgroup_kill_sb(s, cx);
        cx.at(199);
        self.put_super(s, cx);
    }

    /// `deactivate_locked_super(sb)` (fs/super.c:216-229), `s_umount` held: the last active
    /// reference kills the superblock (`s_umount` is released by `generic_shutdown_super`);
    /// otherwise `up_write(&s->s_umount)`.
    pub fn deactivate_locked_super(&self, s: SbH, cx: &Cx) {
        let _f = cx.enter(&kfn::deactivate_locked_super);
        cx.at(219);
        if self.dec_and_lock_active(s, cx) {
            cx.at(223);
            self.cgroup_kill_sb(s, cx);
            cx.at(225);
            self.put_super(s, cx);
        } else {
            cx.at(227);
            self.sbs.get(s, cx).s_umount.up_write(cx);
        }
    }

    /// `atomic_dec_and_lock(&s->s_active, &sb_lock)` and, for the last reference,
    /// `s->s_count -= S_BIAS - 1` before dropping sb_lock.
    fn dec_and_lock_active(&self, s: SbH, cx: &Cx) -> bool {
        let sb = self.sbs.get(s, cx);
        let g = self.sb_lock.lock(cx);
        let last = sb.s_active.fetch_sub(1, Ordering::SeqCst) == 1;
        if last {
            sb.s_count.with_mut(&self.sb_lock, cx, |c| *c -= S_BIAS - 1);
            // grab_super fails from here until generic_shutdown_super unlists it.
            sb.dying.open();
        }
        drop(g);
        last
    }

    /// `generic_shutdown_super(sb)` (fs/super.c:297-328), as `kill_litter_super` calls it:
    /// `s_root` is dropped (`shrink_dcache_for_umount`), the superblock leaves the list under
    /// sb_lock, and `s_umount` is released.
    pub fn generic_shutdown_super(&self, s: SbH, cx: &Cx) {
        let _f = cx.enter(&kfn::generic_shutdown_super);
        let sb = self.sbs.get(s, cx);
        cx.at(303);
        sb.s_root.set(&sb.s_umount, cx, false);
        cx.at(322);
        let g = self.sb_lock.lock(cx);
        cx.at(325);
        self.supers
            .with_mut(&self.sb_lock, cx, |l| l.retain(|&x| x != s));
        cx.at(326);
        drop(g);
        sb.dying.close();
        cx.at(327);
        sb.s_umount.up_write(cx);
    }
}
