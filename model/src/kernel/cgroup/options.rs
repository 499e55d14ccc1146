//! Mount options (kernel/cgroup.c): `struct cgroup_sb_opts`, `parse_cgroupfs_options` with the
//! module references it takes, and `drop_parsed_module_refcounts`.

use crate::kernel::errno::Errno;
use crate::kernel::Kernel;
use crate::sim::cx::Cx;
use crate::variants::Fault;

/// `struct cgroup_sb_opts`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SbOpts {
    /// `subsys_bits`.
    pub subsys_bits: u64,
    /// `ROOT_NOPREFIX` in `flags`.
    pub noprefix: bool,
    /// `release_agent=`.
    pub release_agent: Option<String>,
    /// `name=`.
    pub name: Option<String>,
    /// `none`.
    pub none: bool,
}

impl Kernel {
    /// `parse_cgroupfs_options(data, opts)`, cgroup_mutex held: tokens `all`, `none`, `noprefix`,
    /// `release_agent=`, `name=` or a subsystem name found in `subsys[]` (-ENOENT otherwise); the
    /// consistency checks (-EINVAL); then `try_module_get` on every selected modular subsystem's
    /// module, undoing the pins taken so far and returning -ENOENT if one is going away. On success
    /// the caller owns one module reference per selected modular subsystem.
    pub fn parse_cgroupfs_options(&self, data: &str, cx: &Cx) -> Result<SbOpts, Errno> {
        let _f = cx.enter("parse_cgroupfs_options");
        if !self.cgroup_mutex.is_locked() {
            self.bug(
                cx,
                "BUG_ON(!mutex_is_locked(&cgroup_mutex))",
                "parse without cgroup_mutex",
            );
        }
        let mut o = SbOpts::default();
        let data = if data.is_empty() { "all" } else { data };
        // mask: noprefix is allowed only with cpuset (built-in slot 0).
        let mask = !1u64;
        for token in data.split(',') {
            if token.is_empty() {
                return Err(Errno::EINVAL);
            }
            if token == "all" {
                o.subsys_bits = 0;
                for i in 0..self.count() {
                    if self.subsys_at(i).is_some() {
                        o.subsys_bits |= 1 << i;
                    }
                }
            } else if token == "none" {
                o.none = true;
            } else if token == "noprefix" {
                o.noprefix = true;
            } else if let Some(ra) = token.strip_prefix("release_agent=") {
                if o.release_agent.is_some() {
                    return Err(Errno::EINVAL);
                }
                if !cx.kmalloc_ok() {
                    return Err(Errno::ENOMEM);
                }
                o.release_agent = Some(ra.to_string());
            } else if let Some(name) = token.strip_prefix("name=") {
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
                    || o.name.is_some()
                {
                    return Err(Errno::EINVAL);
                }
                if !cx.kmalloc_ok() {
                    return Err(Errno::ENOMEM);
                }
                o.name = Some(name.to_string());
            } else {
                let found = (0..self.count()).find(|&i| {
                    self.subsys_at(i)
                        .is_some_and(|ss| self.ss(ss, cx).ops.name == token)
                });
                match found {
                    Some(i) => o.subsys_bits |= 1 << i,
                    None => return Err(Errno::ENOENT),
                }
            }
        }
        if o.noprefix && o.subsys_bits & mask != 0 {
            return Err(Errno::EINVAL);
        }
        if o.subsys_bits != 0 && o.none {
            return Err(Errno::EINVAL);
        }
        if o.subsys_bits == 0 && o.name.is_none() {
            return Err(Errno::EINVAL);
        }
        // Grab references on all the modules we'll need.
        let mut pinned = Vec::new();
        let pins = if self.fault(Fault::ParseNoModuleGet) {
            0..0
        } else {
            self.builtin()..self.count()
        };
        for i in pins {
            if o.subsys_bits & (1 << i) == 0 {
                continue;
            }
            let ss = self.subsys_at(i).expect("selected subsystem present");
            let module = self.ss(ss, cx).module;
            if !self.try_module_get(module, cx) {
                // "oops, one of the modules was going away": drop only the pins we took.
                for j in pinned.into_iter().rev() {
                    let ss = self.subsys_at(j).expect("pinned subsystem present");
                    let module = self.ss(ss, cx).module;
                    self.module_put(module, cx);
                }
                return Err(Errno::ENOENT);
            }
            pinned.push(i);
        }
        Ok(o)
    }

    /// `drop_parsed_module_refcounts(subsys_bits)`: one `module_put` per selected modular
    /// subsystem (the pins keep `subsys[i]` from changing, so no lock is needed).
    pub fn drop_parsed_module_refcounts(&self, bits: u64, cx: &Cx) {
        let _f = cx.enter("drop_parsed_module_refcounts");
        if self.fault(Fault::ParseNoModuleGet) {
            return; // nothing was taken
        }
        for i in self.builtin()..self.count() {
            if bits & (1 << i) == 0 {
                continue;
            }
            let ss = self.subsys_at(i);
            let Some(ss) = ss else {
                self.bug(cx, "NULL-dereference", format!("subsys[{i}] is NULL"));
            };
            let module = self.ss(ss, cx).module;
            self.module_put(module, cx);
        }
    }
}
