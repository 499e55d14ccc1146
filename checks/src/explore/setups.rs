//! The named setups of `cgcheck explore`: the initial states the space starts from, each with
//! the operations explored over its objects. They are data: adding one is adding an entry.
//! docs/explore.md says what each stands for and what the space leaves out.

/// A named initial state and the operations explored over it.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Its name, e.g. `tasks`.
    pub name: &'static str,
    /// What kernel shape it stands for.
    pub about: &'static str,
    /// The steps thread 0 runs before the others start.
    pub steps: &'static [&'static str],
    /// The operations a thread may run (over the setup's objects and a few fresh ones).
    pub ops: &'static [&'static str],
    /// Classes of interchangeable fresh names: a scenario that renames one into another of its
    /// class is the same scenario.
    pub fresh: &'static [&'static [&'static str]],
}

/// The named setups: the shapes of kernel state the catalog's findings and faults start from.
/// Each has 8 to 11 operations, so that 2 threads × 2 operations stays a few thousand scenarios
/// per setup (docs/explore.md gives the counts and what is left out).
pub const SETUPS: &[Setup] = &[
    Setup {
        name: "tasks",
        about: "two tasks in two cgroups of a cpuset hierarchy; net_cls not loaded (attach, exit, \
                fork and the css paths against each other, and load or mount under them)",
        steps: &[
            "fork T0 T1",
            "fork T0 T2",
            "mount m0 cpuset",
            "mkdir m0/a",
            "mkdir m0/b",
            "attach T1 m0/b",
            "attach T2 m0/a",
        ],
        ops: &[
            "attach T1 m0/a",
            "attach T2 m0/b",
            "exit T1",
            "exit T2",
            "fork T1 T3",
            "fork T2 T4",
            "attach T3 m0/a",
            "css-get T1 cpuset",
            "css-put T1 cpuset",
            "insmod net_cls",
            "mount m1 cpu",
        ],
        fresh: &[&["T3", "T4"]],
    },
    Setup {
        name: "netcls",
        about: "cls_cgroup loaded, one task, one cgroup tc filter; nothing mounted (module \
                lifetime against the tc and packet paths and against mount)",
        steps: &["insmod net_cls", "fork T0 T1", "tc-add F0"],
        ops: &[
            "rmmod net_cls",
            "insmod net_cls",
            "tc-add F1",
            "tc-del F0",
            "classify T1",
            "mount m1 net_cls",
            "mount m1 all",
            "umount m1",
            "exit T1",
        ],
        fresh: &[],
    },
    Setup {
        name: "modules",
        about: "both modules loaded, net_cls mounted alone at m0, one task in it (rebind, \
                remount, a second mount of the same or a busy subsystem, unload)",
        steps: &[
            "insmod net_cls",
            "insmod blkio",
            "mount m0 net_cls",
            "fork T0 T1",
        ],
        ops: &[
            "mount m1 net_cls",
            "mount m1 net_cls,blkio",
            "mount m1 blkio",
            "umount m0",
            "umount m1",
            "remount m0 net_cls,cpu",
            "rmmod blkio",
            "rmmod net_cls",
            "attach T1 m0",
            "exit T1",
        ],
        fresh: &[],
    },
    Setup {
        name: "cpu",
        about: "a cpu hierarchy with one empty cgroup and no task but the idle task's (fork and \
                the first attach of a child, mkdir and remount, umount and a new mount)",
        steps: &["mount m0 cpu", "mkdir m0/a"],
        ops: &[
            "fork T0 T1",
            "attach T1 m0/a",
            "exit T1",
            "mkdir m0/b",
            "rmdir m0/a",
            "remount m0 cpu,cpuset",
            "umount m0",
            "mount m1 cpuset",
            "mount m1 cpu",
            "insmod net_cls",
        ],
        fresh: &[],
    },
    Setup {
        name: "release",
        about: "a cpu hierarchy with notify_on_release set, one task in cgroup a, net_cls loaded \
                (rmdir against attach and release, the css paths under RCU, the release list)",
        steps: &[
            "insmod net_cls",
            "mount m0 cpu",
            "open fd1 m0/notify_on_release w",
            "write fd1 1",
            "close fd1",
            "mkdir m0/a",
            "fork T0 T1",
            "attach T1 m0/a",
        ],
        ops: &[
            "attach T1 m0",
            "attach T1 m0/a",
            "rmdir m0/a",
            "css-get T1 cpu",
            "css-put T1 cpu",
            "exit T1",
            "fork T1 T2",
            "rmmod net_cls",
            "mkdir m0/a",
        ],
        fresh: &[],
    },
    Setup {
        name: "files",
        about:
            "control files open: a tasks file of cgroup a (with a task in it) and net_cls.classid \
                of cgroup b (the file paths against rmdir, rmmod, umount and the pidlists)",
        steps: &[
            "insmod net_cls",
            "mount m0 cpu,net_cls",
            "mkdir m0/a",
            "mkdir m0/b",
            "fork T0 T1",
            "attach T1 m0/a",
            "open fd1 m0/a/tasks r",
            "open fd2 m0/b/net_cls.classid w",
        ],
        ops: &[
            "open fd3 m0/a/tasks r",
            "read fd3",
            "close fd3",
            "close fd1",
            "read fd1",
            "write fd2 7",
            "close fd2",
            "rmdir m0/b",
            "rmmod net_cls",
            "attach T1 m0",
            "remount m0 cpu",
        ],
        fresh: &[],
    },
    Setup {
        name: "unloaded",
        about: "a booted kernel and nothing else: no module, no hierarchy, only the idle task \
                (module load, its failure paths and unload against tc, fork and mount)",
        steps: &[],
        ops: &[
            "insmod net_cls",
            "insmod net_cls !nomem@2",
            "insmod blkio !nomem@2",
            "rmmod net_cls",
            "tc-add F0",
            "tc-del F0",
            "classify T1",
            "fork T0 T1",
            "mount m1 net_cls",
            "umount m1",
        ],
        fresh: &[],
    },
    Setup {
        name: "classid",
        about: "net_cls.classid of a childless net_cls,cpuset hierarchy's top cgroup open for \
                writing (the open file against remount, rmmod and umount)",
        steps: &[
            "insmod net_cls",
            "mount m0 net_cls,cpuset",
            "open fd1 m0/net_cls.classid w",
        ],
        ops: &[
            "remount m0 cpuset",
            "remount m0 net_cls,cpuset",
            "write fd1 7",
            "read fd1",
            "close fd1",
            "rmmod net_cls",
            "umount m0",
            "mkdir m0/a",
        ],
        fresh: &[],
    },
    Setup {
        name: "subsys-files",
        about: "the subsystems' own control files open at the top of a childless cpu,cpuset,blkio \
                hierarchy: blkio.time (a seq_file) for reading, blkio.weight, cpu.shares and \
                cpuset.cpu_exclusive (their handlers against remount, rmmod of blk_cgroup and \
                mkdir)",
        steps: &[
            "insmod blkio",
            "mount m0 cpu,cpuset,blkio",
            "open fd1 m0/blkio.time r",
            "open fd2 m0/cpu.shares r",
            "open fd3 m0/cpuset.cpu_exclusive w",
            "open fd4 m0/blkio.weight w",
        ],
        ops: &[
            "read fd1",
            "close fd1",
            "read fd2",
            "write fd3 0",
            "write fd4 300",
            "close fd4",
            "remount m0 cpuset",
            "remount m0 cpu,blkio",
            "rmmod blkio",
            "mkdir m0/a",
        ],
        fresh: &[],
    },
];
