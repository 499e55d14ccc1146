//! What explore writes: each group's smallest witness as a scenario file (with the verdict
//! every design gets on it) and its trace, and the summary (`summary.md`, `summary.json`).

use std::collections::BTreeMap;
use std::path::Path;

use cgmodel::Design;

use super::{check, config, Group, Hit, Options, Point, Signature, Summary};
use crate::engine::Outcome;
use crate::scenario::{parse, Expect, Scenario};

/// The file name of a group: `NN-design-violation-function`.
fn group_name(i: usize, s: &Signature) -> String {
    let clean = |t: &str| {
        t.chars()
            .map(|c| if c.is_alphanumeric() { c } else { '-' })
            .collect::<String>()
    };
    format!(
        "{:02}-{}-{}-{}",
        i + 1,
        clean(&s.design),
        clean(&s.violation),
        clean(&s.function)
    )
    .to_lowercase()
}

/// A group's witness as a scenario file: the verdict of every design is what explore's engine
/// finds on it at explore's bound (so the file runs as it is with `cgcheck run`). Also returns
/// the run of the group's own design, whose steps are the witness's trace.
pub fn witness_file(g: &Group, point: &Point, opts: &Options) -> Result<(String, Outcome), String> {
    let plan = point.plan()?;
    let su = point.setup;
    let mut verdicts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut own = None;
    for &d in Design::ALL {
        let o = check(&plan, d, opts.faults, opts)?;
        let v = match &o.violation {
            None => "pass".to_string(),
            Some(v) => format!("finding {}", v.name),
        };
        verdicts.entry(v).or_default().push(d.name().to_string());
        if d.name() == g.signature.design {
            own = Some(o);
        }
    }
    let own = own.ok_or_else(|| format!("unknown design {}", g.signature.design))?;
    let mut s = String::new();
    let faults = if opts.faults.is_empty() {
        String::new()
    } else {
        format!(
            " (faults {}: run it with CGROUP_MODEL_FAULTS={})",
            opts.faults, opts.faults
        )
    };
    s.push_str(&format!(
        "about: explore group {}: {} (setup {}: {}){faults}\n",
        g.signature, g.status, su.name, su.about
    ));
    match opts.bound {
        None => s.push_str("loom: exhaustive\n"),
        Some(b) => s.push_str(&format!(
            "loom: bounded {b}: the bound explore ran at; the witness needs {}\n",
            g.witness.bound
        )),
    }
    s.push_str(&format!("killer: design {}\n", g.signature.design));
    for (v, ds) in &verdicts {
        s.push_str(&format!("expect {}: {v}\n", ds.join(" ")));
    }
    s.push('\n');
    s.push_str(&plan.to_string());
    Ok((s, own))
}

/// The witness's scenario, found again among the run's by its index and key.
fn point_of<'a>(h: &Hit, work: &'a [(usize, Point)]) -> Result<&'a Point, String> {
    work.iter()
        .find(|(i, p)| *i == h.index && p.key() == h.key)
        .map(|(_, p)| p)
        .ok_or_else(|| format!("scenario {} is not #{} of this run", h.key, h.index))
}

/// Writes each group's witness (scenario file and trace) under `opts.out/groups`.
pub(super) fn write_groups(
    groups: &mut [Group],
    work: &[(usize, Point)],
    opts: &Options,
) -> Result<(), String> {
    let dir = opts.out.join("groups");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (i, g) in groups.iter_mut().enumerate() {
        let name = group_name(i, &g.signature);
        let (text, o) = witness_file(g, point_of(&g.witness, work)?, opts)?;
        let sc: Scenario = parse::parse(&name, &text)
            .map_err(|e| format!("explore wrote a scenario it cannot read ({name}): {e}"))?;
        let scn = dir.join(format!("{name}.scn"));
        std::fs::write(&scn, &text).map_err(|e| format!("{}: {e}", scn.display()))?;
        g.file = Some(scn.display().to_string());
        let design: Design = g
            .signature
            .design
            .parse()
            .map_err(|_| format!("unknown design {}", g.signature.design))?;
        if o.violation.is_some() {
            let tr = dir.join(format!("{name}.trace"));
            crate::verify::write_trace(
                &tr,
                &sc,
                &config(design, opts.faults, sc.threads.len(), opts),
                &o,
                &opts.run_opts(),
            )?;
            g.trace = Some(tr.display().to_string());
        }
        if !matches!(sc.expect(design), Expect::Finding(_)) {
            return Err(format!("{name}: the witness no longer fails on {design}"));
        }
    }
    Ok(())
}

/// The summary as Markdown.
pub fn markdown(s: &Summary) -> String {
    let mut m = String::new();
    m.push_str("# cgcheck explore\n\n");
    m.push_str(&format!("- engine: {}\n", s.coverage));
    m.push_str(&format!("- space: {}\n", s.space));
    m.push_str(&format!(
        "- scenarios: {} of the space's {}; {} executions, {:.0} s in the engines, {:.0} s wall\n\n",
        s.scenarios, s.space_size, s.executions, s.engine_seconds, s.wall_seconds
    ));
    let graph = crate::verify::graph_line(&s.lock_graphs, "the space");
    if !graph.is_empty() {
        m.push_str(&format!("- {}\n", graph.trim_end().replace('\n', "\n  ")));
    }
    m.push_str("| group | design | violation | function | object | scenarios | witness | bound | status |\n");
    m.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for (i, g) in s.groups.iter().enumerate() {
        m.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | `{}` | {} | {} |\n",
            i + 1,
            g.signature.design,
            g.signature.violation,
            g.signature.function,
            g.signature.object,
            g.scenarios,
            g.witness.key,
            g.witness.bound,
            g.status
        ));
    }
    m
}

pub(super) fn write_summary(s: &Summary, out: &Path) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let json = serde_json::to_string_pretty(s).map_err(|e| e.to_string())?;
    for (p, text) in [
        (out.join("summary.json"), json),
        (out.join("summary.md"), markdown(s)),
    ] {
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(())
}
