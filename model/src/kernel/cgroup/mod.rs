//! kernel/cgroup.c, split along its own sections, in the file's order:
//!
//! - [`css_set`]: the css_set hash, reference counts and `find_css_set` (cgroup.c 298-648);
//! - [`task`]: `task_cgroup_from_root`, `cgroup_attach_task`, and fork/exit (653-1840, 4006-4150);
//! - [`rebind`]: `rebind_subsystems` (938-1029);
//! - [`options`]: `parse_cgroupfs_options` (1062-1216);
//! - [`mount`]: remount, `cgroup_get_sb`, `cgroup_kill_sb` (1218-1624);
//! - [`dir`]: mkdir, rmdir, `cgroup_diput` and the hierarchy mutexes (809-930, 1845-1853,
//!   2178-2195, 3243-3576);
//! - [`files`]: control files: populate, clear, open, read, write, release, the pid arrays
//!   (858-891, 1881-2260, 2648-2984, 3193-3227);
//! - [`seqfile`]: the seq_file path of control files, `cgroup_seqfile_state` (2012-2076);
//! - [`release`]: `notify_on_release`, `check_for_release`, `cgroup_has_css_refs` (242-245,
//!   3380-3414, 4289-4309);
//! - [`css`]: `init_cgroup_css` and the css reference counts (3229-3241, 3417-3468, 4312-4329);
//! - [`subsys`]: `cgroup_load_subsys` and `cgroup_unload_subsys` (3617-3800);
//! - [`init`]: `cgroup_init_early` and `cgroup_init` (3577-3616, 3801-3900).

pub mod css;
pub mod css_set;
pub mod dir;
pub mod files;
pub mod init;
pub mod mount;
pub mod options;
pub mod rebind;
pub mod release;
pub mod seqfile;
pub mod subsys;
pub mod task;
