//! The checks: the invariants the kernel's state must satisfy at every quiescent point, and the
//! out-of-band observations tests and reports make of it. Nothing here is a model step: every
//! read is out of band (no scheduling point, no happens-before edge).

pub mod invariants;
pub mod observe;
