//! Mount options (kernel/cgroup.c:1062-1216): `struct cgroup_sb_opts`, `parse_cgroupfs_options`
//! with the module references it takes, and `drop_parsed_module_refcounts`.

use crate::kernel::anchors::kfn;
use crate::kernel::errno::Errno;
use crate::kernel::gfp::GFP_KERNEL;
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
    /// `parse_cgroupfs_options(data, opts)` (cgroup.c:1067-1204), cgroup_mutex held: `data` NULL
    /// means `"all"` (1069); each `,`-separated token (an empty one is -EINVAL, 1083) is `all`,
    /// `none`, `noprefix`, `release_agent=`, `name=` or a subsystem name found in `subsys[]`
    /// (-ENOENT otherwise); then the consistency checks (-EINVAL), then `try_module_get` on every
    /// selected modular subsystem's module, undoing the pins taken so far and returning -ENOENT if
    /// one is going away. On success the caller owns one module reference per selected modular
    /// subsystem. `disabled` subsystems are not modelled.
    pub fn parse_cgroupfs_options(&self, data: Option<&str>, cx: &Cx) -> Result<SbOpts, Errno> {
        let _f = cx.enter(&kfn::parse_cgroupfs_options);
        cx.at(1074);
        if !self.cgroup_mutex.is_locked() {
            self.bug(
                cx,
                "BUG_ON(!mutex_is_locked(&cgroup_mutex))",
                "parse without cgroup_mutex",
            );
        }
        let mut o = SbOpts::default();
        let data = data.unwrap_or("all");
        // CONFIG_CPUSETS: noprefix is allowed only with cpuset (built-in slot 0).
        let mask = !1u64;
        for token in data.split(',') {
            cx.at(1083);
            if token.is_empty() {
                return Err(Errno::EINVAL);
            }
            if token == "all" {
                o.subsys_bits = 0;
                for i in 0..self.count() {
                    cx.at(1089);
                    if self.subsys_at(i).is_some() {
                        o.subsys_bits |= 1 << i;
                    }
                }
            } else if token == "none" {
                o.none = true;
            } else if token == "noprefix" {
                o.noprefix = true;
            } else if let Some(ra) = token.strip_prefix("release_agent=") {
                cx.at(1102);
                if o.release_agent.is_some() {
                    return Err(Errno::EINVAL);
                }
                cx.at(1105);
                if !cx.kmalloc_ok(GFP_KERNEL) {
                    return Err(Errno::ENOMEM);
                }
                o.release_agent = Some(ra.to_string());
            } else if let Some(name) = token.strip_prefix("name=") {
                cx.at(1111);
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
                    || o.name.is_some()
                {
                    return Err(Errno::EINVAL);
                }
                cx.at(1125);
                if !cx.kmalloc_ok(GFP_KERNEL) {
                    return Err(Errno::ENOMEM);
                }
                o.name = Some(name.to_string());
            } else {
                let found = (0..self.count()).find(|&i| {
                    cx.at(1133);
                    self.subsys_at(i).is_some_and(|ss| {
                        cx.at(1136);
                        self.ss(ss, cx).ops.name == token
                    })
                });
                match found {
                    Some(i) => o.subsys_bits |= 1 << i,
                    None => {
                        cx.at(1143);
                        return Err(Errno::ENOENT);
                    }
                }
            }
        }
        cx.at(1154);
        if o.noprefix && o.subsys_bits & mask != 0 {
            return Err(Errno::EINVAL);
        }
        cx.at(1160);
        if o.subsys_bits != 0 && o.none {
            return Err(Errno::EINVAL);
        }
        cx.at(1167);
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
            cx.at(1181);
            let ss = self.subsys_at(i).expect("selected subsystem present");
            let module = self.ss(ss, cx).module;
            if !self.try_module_get(module, cx) {
                // "oops, one of the modules was going away": drop only the pins we took.
                for j in pinned.into_iter().rev() {
                    cx.at(1198);
                    let ss = self.subsys_at(j).expect("pinned subsystem present");
                    let module = self.ss(ss, cx).module;
                    self.module_put(module, cx);
                }
                cx.at(1200);
                return Err(Errno::ENOENT);
            }
            pinned.push(i);
        }
        Ok(o)
    }

    /// `drop_parsed_module_refcounts(subsys_bits)` (cgroup.c:1206-1216): one `module_put` per
    /// selected modular subsystem (the pins keep `subsys[i]` from changing, so no lock is needed).
    pub fn drop_parsed_module_refcounts(&self, bits: u64, cx: &Cx) {
        let _f = cx.enter(&kfn::drop_parsed_module_refcounts);
        if self.fault(Fault::ParseNoModuleGet) {
            return; // nothing was taken
        }
        for i in self.builtin()..self.count() {
            if bits & (1 << i) == 0 {
                continue;
            }
            cx.at(1214);
            let ss = self.subsys_at(i);
            let Some(ss) = ss else {
                self.bug(cx, "NULL-dereference", format!("subsys[{i}] is NULL"));
            };
            let module = self.ss(ss, cx).module;
            self.module_put(module, cx);
        }
    }
}
