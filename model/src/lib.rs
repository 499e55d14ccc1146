//! An executable model of the Linux v2.6.34 cgroup core with module-loadable subsystems
//! (Ben Blum's series "cgroups: support for module-loadable subsystems").
//!
//! The model is C-shaped on purpose (see `docs/model.md`): shared fields live in cells and
//! atomics, the kernel's locks are separate objects taken where the kernel takes them, objects live
//! in arenas whose frees poison, and RCU and module lifetime are modelled. Every function that
//! mirrors a kernel function carries the kernel's name and says what it abstracts.
//!
//! The crate has four layers, one folder each:
//!
//! - [`sim`]: the checker runtime (backend switch, traced atomics, traces, arenas, lockdep, RCU,
//!   the per-thread context, violations). It names nothing of the other three;
//! - [`kernel`]: the v2.6.34 model, one file per kernel source;
//! - [`variants`]: the designs that depart from v2.6.34, and the injectable faults;
//! - [`check`]: the invariants and the out-of-band observations.
//!
//! The synchronization primitives come from [`sim::sync`]: std by default, loom under
//! `--features loom` (or `--cfg loom`), shuttle under `--features shuttle`.
//!
//! ```
//! use cgmodel::{Config, Kernel, Sink, Step};
//! use std::sync::Arc;
//!
//! cgmodel::sim::sync::run_once(|| {
//!     let k = Kernel::boot(Config::default(), Arc::new(Sink::default()));
//!     let cx = k.cx(0, "shell");
//!     for s in ["insmod net_cls", "mount m0 net_cls", "mkdir m0/a", "fork T0 T1", "attach T1 m0/a"] {
//!         let step: Step = s.parse().unwrap();
//!         k.exec(&step, &cx).unwrap();
//!     }
//!     cgmodel::check::invariants::check(&k).unwrap();
//! });
//! ```

pub mod check;
pub mod kernel;
pub mod sim;
pub mod variants;

pub use kernel::config::{Config, HashKind};
pub use kernel::errno::Errno;
pub use kernel::ops::{Op, OpResult, Ret, Step};
pub use kernel::Kernel;
pub use sim::cx::Cx;
pub use sim::report::{Sink, Violation, ViolationKind};
pub use variants::{Design, Fault, Faults, Fix};
