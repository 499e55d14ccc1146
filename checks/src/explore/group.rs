//! Failures grouped by signature: what broke (design, violation, kernel function, object
//! kind), each group's smallest witness written as a scenario file and its trace, the triage
//! table that says what each known group is, and the signatures the catalog itself breaks with.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Mutex;

use cgmodel::sim::rcu::{Preemption, RcuFlavour};
use cgmodel::sim::trace::What;
use cgmodel::{Design, Faults, Violation};
use serde::{Deserialize, Serialize};

use super::{loom_plan, Options, LOOM_THREADS};
use crate::engine::{self, Engine, Outcome};
use crate::scenario::{catalog, LoomPlan};

/// What a failure is, for grouping: the design, the violation's name, the innermost kernel
/// function of the step that broke it (`-` for an invariant checked after the threads joined),
/// and the kind of object involved (`-` where the violation names none).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Signature {
    /// The design.
    pub design: String,
    /// The violation's name (`use-after-free`, an invariant's name, a BUG_ON...).
    pub violation: String,
    /// The innermost kernel function.
    pub function: String,
    /// The object kind (`css_set`, `cftype`...).
    pub object: String,
}

impl std::fmt::Display for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} in {} ({})",
            self.design, self.violation, self.function, self.object
        )
    }
}

impl Signature {
    /// The signature of a run of `design` that found `v`, with `o`'s steps.
    pub fn of(design: Design, v: &Violation, o: &Outcome) -> Signature {
        let function = o
            .events
            .iter()
            .rev()
            .find(|e| matches!(e.what, What::Violation(_)))
            .map(|e| e.func.to_string())
            .filter(|f| !f.is_empty())
            // loom raises a data race inside the access it catches: the last step recorded.
            .or_else(|| {
                (v.name == cgmodel::sim::report::DATA_RACE)
                    .then(|| o.events.last().map(|e| e.func.to_string()))
                    .flatten()
            })
            .unwrap_or_else(|| innermost(&v.detail));
        Signature {
            design: design.name().to_string(),
            violation: v.name.clone(),
            function,
            object: object_kind(&v.detail),
        }
    }
}

/// The last function of the last ` in A > B > C` of a violation's text, or `-`.
fn innermost(detail: &str) -> String {
    detail
        .rsplit_once(" in ")
        .and_then(|(_, chain)| chain.rsplit(" > ").next())
        .and_then(|f| f.split(|c: char| !(c.is_alphanumeric() || c == '_')).next())
        .filter(|f| !f.is_empty())
        .unwrap_or("-")
        .to_string()
}

/// The object kind a violation's text starts with (`cftype #2 (...)` → `cftype`), or `-`.
fn object_kind(detail: &str) -> String {
    match detail.split_once(" #") {
        Some((kind, rest))
            if !kind.is_empty()
                && kind.chars().all(|c| c.is_alphanumeric() || c == '_')
                && rest.starts_with(|c: char| c.is_ascii_digit()) =>
        {
            kind.to_string()
        }
        _ => "-".to_string(),
    }
}

/// One failure explore found: the scenario (its index in the space), the design and what broke.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Hit {
    /// The scenario's index in the (unsharded) space.
    pub index: usize,
    /// The scenario's key.
    pub key: String,
    /// What broke, grouped.
    pub signature: Signature,
    /// The loom preemption bound (or PCT depth) the failure needed.
    pub bound: usize,
    /// The violation's text.
    pub detail: String,
}

/// A group: one signature, its smallest witness, and what is known of it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Group {
    /// What broke.
    pub signature: Signature,
    /// The smallest witness (fewest threads, then operations, then preemptions).
    pub witness: Hit,
    /// How many scenarios of the space broke this way.
    pub scenarios: usize,
    /// `catalog: NAME` (a catalog scenario breaks the same way), `finding: NOTE` or
    /// `model-bug: NOTE` (the triage table), or `new`.
    pub status: String,
    /// The witness's scenario file, as written.
    pub file: Option<String>,
    /// The witness's trace, as written.
    pub trace: Option<String>,
}

impl Group {
    /// Whether the group is triaged (known to the catalog or to the triage table).
    pub fn triaged(&self) -> bool {
        self.status != "new"
    }
}

/// What an explore run found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    /// The engine and bound in force, and what they leave unexplored.
    pub coverage: String,
    /// The space's definition.
    pub space: String,
    /// Scenarios in the whole (unsharded, unsampled) space.
    pub space_size: usize,
    /// Scenarios this run covered.
    pub scenarios: usize,
    /// Executions run (loom) or schedules (shuttle), summed over the designs.
    pub executions: u64,
    /// Seconds the engines took, summed over the workers.
    pub engine_seconds: f64,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
    /// The groups, by signature.
    pub groups: Vec<Group>,
    /// Per design, the lock graph of every scenario run, with its cycles.
    #[serde(default)]
    pub lock_graphs: Vec<crate::verify::GraphRow>,
}

impl Summary {
    /// Whether every group is triaged and no lock graph has a cycle.
    pub fn ok(&self) -> bool {
        self.groups.iter().all(Group::triaged)
            && self.lock_graphs.iter().all(|g| g.cycles.is_empty())
    }
}

/// The triage table, `checks/explore/triage.tsv`: one line per known group, tab-separated:
/// design, violation, function, object, `finding` or `model-bug`, and a note (where the review
/// has it, or what was fixed). `#` starts a comment.
pub fn read_triage(path: &Path) -> Result<BTreeMap<Signature, String>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let bad = |why: &str| format!("{}:{}: {why}", path.display(), n + 1);
        let [design, violation, function, object, class, note] = f[..] else {
            return Err(bad(
                "want 6 tab-separated fields: design, violation, function, object, class, note",
            ));
        };
        design
            .parse::<Design>()
            .map_err(|_| bad(&format!("unknown design `{design}`")))?;
        if !matches!(class, "finding" | "model-bug") {
            return Err(bad(&format!(
                "class `{class}`: want `finding` or `model-bug`"
            )));
        }
        out.insert(
            Signature {
                design: design.into(),
                violation: violation.into(),
                function: function.into(),
                object: object.into(),
            },
            format!("{class}: {note}"),
        );
    }
    Ok(out)
}

/// The hits grouped by signature, each with its smallest witness: fewest threads, then
/// operations, then preemptions, then the first in the space's order.
pub fn group(
    hits: &[Hit],
    known: &BTreeMap<Signature, String>,
    triage: &BTreeMap<Signature, String>,
) -> Vec<Group> {
    let size = |h: &Hit| {
        let threads = h.key.matches(" | ").count();
        let ops = h
            .key
            .split(" | ")
            .skip(1)
            .map(|t| t.split("; ").count())
            .sum::<usize>();
        (threads, ops, h.bound, h.index)
    };
    let mut by: BTreeMap<&Signature, Vec<&Hit>> = BTreeMap::new();
    for h in hits {
        by.entry(&h.signature).or_default().push(h);
    }
    by.into_iter()
        .map(|(sig, hs)| {
            let w = hs
                .iter()
                .min_by_key(|h| size(h))
                .expect("a group has a hit");
            Group {
                signature: sig.clone(),
                witness: (*w).clone(),
                scenarios: hs.iter().map(|h| h.index).collect::<BTreeSet<_>>().len(),
                status: triage
                    .get(sig)
                    .or_else(|| known.get(sig))
                    .cloned()
                    .unwrap_or_else(|| "new".into()),
                file: None,
                trace: None,
            }
        })
        .collect()
}

/// The signatures the catalog's own scenarios break with on `designs`, at `opts`' bound: each
/// catalog scenario that expects a finding on a design, run there.
pub fn catalog_signatures(opts: &Options) -> Result<BTreeMap<Signature, String>, String> {
    let engine = opts.engine()?;
    let mut work = Vec::new();
    for sc in catalog() {
        if engine == Engine::Loom
            && (matches!(sc.loom, LoomPlan::ShuttleOnly(_)) || sc.threads.len() > LOOM_THREADS)
        {
            continue;
        }
        for &d in &opts.designs {
            if sc.expect(d).is_finding() {
                work.push((sc, d));
            }
        }
    }
    let found: Mutex<BTreeMap<Signature, String>> = Mutex::new(BTreeMap::new());
    crate::par::for_each(&work, |&(sc, d)| {
        let mut cfg = engine::config(sc, d, Faults::NONE, true);
        cfg.preempt = opts.preempt;
        if cfg.rcu == RcuFlavour::Preempt && cfg.preempt == Preemption::None {
            // Preemptible RCU needs a preemptible kernel: not a catalog row of this space.
            return Ok(ControlFlow::Continue(()));
        }
        let o = engine::run(&sc.plan(), &loom_plan(opts), &cfg, engine, &opts.run_opts())?;
        if let Some(v) = &o.violation {
            found
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(Signature::of(d, v, &o))
                .or_insert_with(|| format!("catalog: {}", sc.name));
        }
        Ok(ControlFlow::Continue(()))
    })?;
    Ok(found.into_inner().unwrap_or_else(|e| e.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_name_the_innermost_function_and_the_object() {
        let d =
            "cftype #2 (net_cls.classid cftype in module cls_cgroup) freed by T1 (rmmod net_cls) \
                 in sys_delete_module > free_module; touched at the lookup by T2 (close fd1) in \
                 sys_close > fput > __fput > cgroup_file_release";
        assert_eq!(innermost(d), "cgroup_file_release");
        assert_eq!(object_kind(d), "cftype");
        assert_eq!(innermost("root_count 1 but 2 hierarchies"), "-");
        assert_eq!(object_kind("root_count 1 but 2 hierarchies"), "-");
        assert_eq!(
            object_kind("slot 2: subsys[] NULL but css_set #3 has it set"),
            "-"
        );
    }

    #[test]
    fn a_group_keeps_its_smallest_witness_and_its_status() {
        let sig = Signature {
            design: "v2.6.34".into(),
            violation: "use-after-free".into(),
            function: "f".into(),
            object: "css_set".into(),
        };
        let hit = |index, key: &str, bound| Hit {
            index,
            key: key.into(),
            signature: sig.clone(),
            bound,
            detail: String::new(),
        };
        let hits = vec![
            hit(9, "tasks | a; b | c", 0),
            hit(7, "tasks | a | c", 1),
            hit(8, "tasks | a | d", 0),
        ];
        let gs = group(&hits, &BTreeMap::new(), &BTreeMap::new());
        assert_eq!(gs.len(), 1);
        assert_eq!(
            gs[0].witness.index, 8,
            "fewest preemptions among the smallest"
        );
        assert_eq!(gs[0].scenarios, 3);
        assert_eq!(gs[0].status, "new");
        let known = BTreeMap::from([(sig.clone(), "catalog: x".to_string())]);
        assert!(group(&hits, &known, &BTreeMap::new())[0].triaged());
    }

    #[test]
    fn a_malformed_triage_table_is_an_error_naming_the_line() {
        let dir = std::env::temp_dir().join(format!("cgcheck-triage-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("t.tsv");
        std::fs::write(
            &p,
            "# c\nv2.6.34\tuse-after-free\tf\t-\tfinding\tok\nfixed\tx\n",
        )
        .unwrap();
        let e = read_triage(&p).unwrap_err();
        assert!(
            e.ends_with(
                ":3: want 6 tab-separated fields: design, violation, function, object, class, note"
            ),
            "{e}"
        );
        std::fs::write(&p, "nope\tx\tf\t-\tfinding\tok\n").unwrap();
        assert!(read_triage(&p)
            .unwrap_err()
            .contains("unknown design `nope`"));
        std::fs::write(&p, "fixed\tx\tf\t-\tmaybe\tok\n").unwrap();
        assert!(read_triage(&p).unwrap_err().contains("class `maybe`"));
        std::fs::write(&p, "fixed\tx\tf\t-\tfinding\tok\n").unwrap();
        assert_eq!(read_triage(&p).unwrap().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
