//! The departures from v2.6.34: named designs (each a set of fixes applied to the as-merged code)
//! and injectable faults (each a historical race reintroduced or a design point undone).
//!
//! - [`Design`] and [`Fix`]: the baseline and its variants, chosen per run by
//!   [`crate::Config::design`];
//! - [`faults`]: the fault zoo, chosen per run by [`crate::Config::faults`];
//! - [`dummy`]: the code of the dummy-unlinked designs (the cover letter's open question).

pub mod dummy;
pub mod faults;

pub use faults::{Fault, Faults};

/// One fix a design variant applies on top of the v2.6.34 code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fix {
    /// net_cls init/exit ordered as after v2.6.34 (the load-first order is in v2.6.35; Herbert Xu's
    /// "cls_cgroup: Store classid in struct sock"): `net_cls_subsys_id` is -1 until
    /// `cgroup_load_subsys` has succeeded, the tc ops are registered only after it, and exit clears
    /// the id and waits for a grace period before unloading. Fixes the finding
    /// `netcls-classify-before-load`.
    NetClsInitOrder,
    /// `cgroup_load_subsys`'s `use_id` error path also undoes `list_add(&ss->sibling, ...)` (as the
    /// 3.x code does by calling `cgroup_unload_subsys` on every error). Fixes finding K1.
    LoadErrorUnlinks,
    /// The cover letter's open question: css_sets are linked to dummytop only while the dummy
    /// hierarchy is active, that is while `rootnode.subsys_list` is non-empty, and `root_count`
    /// counts the dummy hierarchy only then. `rebind_subsystems` unlinks every css_set from dummytop
    /// when the last subsystem leaves rootnode and links every one back (at the tail of `cg_links`)
    /// when one returns. The static `init_css_set_link` is never freed: it is unlinked and reused.
    DummyUnlinked,
    /// With [`Fix::DummyUnlinked`]: the two special cases the cover letter names.
    /// `cgroup_load_subsys` links every css_set back to dummytop when its subsystem is the only
    /// one on rootnode; `cgroup_unload_subsys` unlinks every css_set from dummytop when the removed
    /// subsystem was the only one.
    DummySpecialCases,
    /// `cgroup_attach_task` drops the old css_set without `synchronize_rcu()`; the css_set is
    /// still freed by `call_rcu` in `__put_css_set` (c378369d). The Android trees removed the call
    /// (Colin Cross, "cgroup: Remove call to synchronize_rcu in cgroup_attach_task"), together
    /// with a deferred link teardown the model does not take.
    AttachNoSynchronizeRcu,
    /// RCU readers load `task->cgroups` with `rcu_dereference` (3.x's `task_css_set`), where
    /// v2.6.34's `task_subsys_state` and `task_cls_state` load it plainly: without it nothing
    /// orders a reader's loads of the new css_set after the attach that published it.
    RcuDereferenceCgroups,
}

/// A design: the as-merged v2.6.34 code, or a named variant that applies fixes to it. Its name
/// (the `serialize` attribute) is its one spelling, from here to the command line.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumMessage,
)]
#[strum(parse_err_ty = String, parse_err_fn = unknown_design)]
pub enum Design {
    /// The series as merged in v2.6.34 (the baseline).
    #[strum(
        serialize = "v2.6.34",
        message = "the series as merged for v2.6.34 (baseline)"
    )]
    V2634,
    /// v2.6.34 with net_cls's later init/exit order (load first, then publish the id and register
    /// the tc ops).
    #[strum(
        serialize = "netcls-load-first",
        message = "net_cls publishes its subsys id and registers its tc ops only after cgroup_load_subsys (v2.6.35)"
    )]
    NetClsLoadFirst,
    /// v2.6.34 with the load error path unlinking the subsystem.
    #[strum(
        serialize = "load-error-unlinks",
        message = "cgroup_load_subsys's use_id error path unlinks the subsystem from rootnode"
    )]
    LoadErrUnlink,
    /// v2.6.34 with both fixes above and the readers' `rcu_dereference` of `task->cgroups`.
    #[strum(
        serialize = "fixed",
        message = "both fixes above, and RCU readers rcu_dereference task->cgroups (3.x)"
    )]
    Fixed,
    /// v2.6.34 with css_sets unlinked from dummytop while no subsystem is on it, handled in
    /// `rebind_subsystems` only: load and unload ignore the special cases (the cover letter's
    /// question, answered in docs/design-review.md).
    #[strum(
        serialize = "dummy-unlinked-no-special-cases",
        message = "css_sets linked to dummytop only while a subsystem is on it, kept in rebind_subsystems only (load and unload ignore the special cases)"
    )]
    DummyUnlinkedNoSpecial,
    /// v2.6.34 with css_sets unlinked from dummytop while no subsystem is on it, the special
    /// cases of load and unload handled.
    #[strum(
        serialize = "dummy-unlinked",
        message = "css_sets linked to dummytop only while a subsystem is on it; rebind, load and unload all keep it (the cover letter's special cases handled)"
    )]
    DummyUnlinked,
    /// v2.6.34 without the `synchronize_rcu()` in `cgroup_attach_task` (the css_set is still
    /// freed by `call_rcu`): is that grace period needed?
    #[strum(
        serialize = "attach-without-synchronize-rcu",
        message = "cgroup_attach_task without synchronize_rcu; the old css_set is still freed by call_rcu (as the Android trees did)"
    )]
    AttachNoSyncRcu,
}

fn unknown_design(s: &str) -> String {
    unknown("design", s, Design::ALL.iter().map(|d| d.name()))
}

/// The error for a name that is not one of `known` (of kind `what`).
pub(crate) fn unknown<'a>(what: &str, s: &str, known: impl Iterator<Item = &'a str>) -> String {
    let known: Vec<&str> = known.collect();
    format!("unknown {what} `{s}` (known: {})", known.join(", "))
}

impl Design {
    /// Every design, baseline first.
    pub const ALL: &'static [Design] = <Design as strum::VariantArray>::VARIANTS;

    /// The fixes this design applies.
    pub fn fixes(self) -> &'static [Fix] {
        match self {
            Design::V2634 => &[],
            Design::NetClsLoadFirst => &[Fix::NetClsInitOrder],
            Design::LoadErrUnlink => &[Fix::LoadErrorUnlinks],
            Design::Fixed => &[
                Fix::NetClsInitOrder,
                Fix::LoadErrorUnlinks,
                Fix::RcuDereferenceCgroups,
            ],
            Design::DummyUnlinkedNoSpecial => &[Fix::DummyUnlinked],
            Design::DummyUnlinked => &[Fix::DummyUnlinked, Fix::DummySpecialCases],
            Design::AttachNoSyncRcu => &[Fix::AttachNoSynchronizeRcu],
        }
    }

    /// The design's name (its one spelling).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// One-line description.
    pub fn about(self) -> &'static str {
        strum::EnumMessage::get_message(&self).unwrap_or_default()
    }
}
