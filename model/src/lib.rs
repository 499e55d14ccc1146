//! An executable model of the Linux v2.6.34 cgroup core with module-loadable subsystems
//! (Ben Blum's series "cgroups: support for module-loadable subsystems").
//!
//! The model is C-shaped on purpose (see `docs/model.md`): shared fields live in cells and
//! atomics, the kernel's locks are separate objects taken where the kernel takes them, objects live
//! in arenas whose frees poison, and RCU and module lifetime are modelled. Every function that
//! mirrors a kernel function carries the kernel's name and says what it abstracts.
//!
//! The synchronization primitives come from [`sync`]: std by default, loom under
//! `--features loom` (or `--cfg loom`), shuttle under `--features shuttle`.
//!
//! ```
//! use cgmodel::{Config, Kernel, Sink, Step};
//! use std::sync::Arc;
//!
//! cgmodel::sync::run_once(|| {
//!     let k = Kernel::boot(Config::default(), Arc::new(Sink::default()));
//!     let cx = k.cx(0, "shell");
//!     for s in ["insmod net_cls", "mount m0 net_cls", "mkdir m0/a", "fork T0 T1", "attach T1 m0/a"] {
//!         let step: Step = s.parse().unwrap();
//!         k.exec(&step, &cx).unwrap();
//!     }
//!     cgmodel::invariants::check(&k).unwrap();
//! });
//! ```

pub mod arena;
pub mod config;
pub mod css_set;
pub mod cx;
pub mod dir;
pub mod dummy;
pub mod faults;
pub mod invariants;
pub mod kernel;
pub mod lockdep;
pub mod module;
pub mod mount;
pub mod net_cls;
pub mod observe;
pub mod ops;
pub mod rcu;
pub mod report;
pub mod subsys;
pub mod sync;
pub mod task;
pub mod trace;

pub use config::{Config, Design, Fix, HashKind};
pub use cx::Cx;
pub use faults::{Fault, Faults};
pub use kernel::Kernel;
pub use ops::{Op, OpResult, Ret, Step};
pub use report::{Errno, Sink, Violation, ViolationKind};
