//! `cgcheck verify --deep`: the nightly job. `verify` runs every catalog scenario loom can run
//! with no preemption bound, reduced (`vendor/loom/PATCH.md`); this runs each of them again
//! without the reduction and compares the two ([`crate::reduction`]), in shards (`--shard K/N`:
//! the jobs whose index is K-1 modulo N), whose outputs `--merge` puts back together.
//!
//! Before it runs anything it estimates each job's time from above: the reduced run's seconds,
//! plus the unreduced run's cap of executions at the reduced run's seconds per execution (an
//! unreduced run that finishes sooner costs less; one that hits the cap then runs at a bound,
//! whose cost the cap bounds too).

use serde::{Deserialize, Serialize};

use cgmodel::Design;

use crate::reduction::{Agreement, Row};
use crate::scenario::Scenario;

/// The jobs of shard `(k, n)`: each catalog scenario loom runs, on each design, numbered in
/// catalog order.
pub fn jobs((k, n): (usize, usize)) -> Result<Vec<(&'static Scenario, Design)>, String> {
    if k == 0 || k > n {
        return Err(format!("bad shard {k}/{n}: K/N with 1 <= K <= N"));
    }
    Ok(crate::reduction::rows_of(None, Design::ALL)?
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % n == k - 1)
        .map(|(_, j)| j)
        .collect())
}

/// One job's estimate.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Estimate {
    /// The scenario.
    pub name: String,
    /// The design.
    pub design: String,
    /// The reduced run's executions (stopped ones included) and seconds.
    pub reduced: (u64, f64),
    /// The job's seconds at most: the reduced run, and the unreduced run's cap of executions
    /// at the reduced run's seconds per execution.
    pub seconds: f64,
}

/// What a deep run writes: every job's estimate, then (unless only estimating) its comparison.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DeepPart {
    /// The shard, `K/N`.
    pub shard: String,
    /// Per job.
    pub estimates: Vec<Estimate>,
    /// Per job: the reduced run against the unreduced one.
    pub rows: Vec<Row>,
}

/// The deep part of shard `shard`: the estimates, printed as they come, then (unless
/// `estimate_only`) every job both ways.
#[cfg(backend_loom)]
pub fn part(shard: (usize, usize), estimate_only: bool, show: bool) -> Result<DeepPart, String> {
    use crate::engine::{self, loom};
    let jobs = jobs(shard)?;
    let limits = crate::reduction::Limits::default();
    let pb = super::progress(jobs.len(), "estimate", show);
    let estimates = crate::par::map(&jobs, |&(sc, design)| {
        pb.set_message(format!("{} on {design}", sc.name));
        let cfg = engine::config(sc, design, cgmodel::Faults::NONE, true);
        let o = loom::iterative(&sc.plan(), &cfg, None, true);
        pb.inc(1);
        let runs = o.executions + o.pruned;
        Estimate {
            name: sc.name.clone(),
            design: design.to_string(),
            reduced: (runs, o.seconds),
            seconds: o.seconds + limits.cap as f64 * o.seconds / runs.max(1) as f64,
        }
    });
    pb.finish_and_clear();
    if show {
        eprint!("{}", estimate_table(&estimates));
    }
    let mut rows = Vec::new();
    if !estimate_only {
        let pb = super::progress(jobs.len(), "deep", show);
        rows = crate::par::map(&jobs, |&(sc, design)| {
            pb.set_message(format!("{} on {design}", sc.name));
            let r = crate::reduction::compare(sc, design, limits);
            pb.inc(1);
            r
        });
        pb.finish_and_clear();
    }
    Ok(DeepPart {
        shard: format!("{}/{}", shard.0, shard.1),
        estimates,
        rows,
    })
}

/// The shards' parts as one: every shard `K/N` of one `N` exactly once, their rows in catalog
/// order.
pub fn merge(parts: Vec<DeepPart>) -> Result<DeepPart, String> {
    let mut seen = Vec::new();
    let mut n0 = None;
    for p in &parts {
        let (k, n) = p
            .shard
            .split_once('/')
            .and_then(|(k, n)| Some((k.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
            .ok_or_else(|| format!("a part names shard `{}`, not K/N", p.shard))?;
        if *n0.get_or_insert(n) != n {
            return Err(format!("parts of {} and of {n} shards", n0.unwrap_or(n)));
        }
        if seen.contains(&k) {
            return Err(format!("shard {k}/{n} given twice"));
        }
        seen.push(k);
    }
    let n = n0.ok_or("no part to merge")?;
    if let Some(k) = (1..=n).find(|k| !seen.contains(k)) {
        return Err(format!("shard {k}/{n} is missing"));
    }
    let order = |name: &str, design: &str| {
        let j = jobs((1, 1)).unwrap_or_default();
        j.iter()
            .position(|(sc, d)| sc.name == name && d.name() == design)
            .unwrap_or(usize::MAX)
    };
    let mut estimates: Vec<Estimate> = parts.iter().flat_map(|p| p.estimates.clone()).collect();
    estimates.sort_by_key(|e| order(&e.name, &e.design));
    let mut rows: Vec<Row> = parts.into_iter().flat_map(|p| p.rows).collect();
    rows.sort_by_key(|r| order(&r.scenario, &r.design));
    Ok(DeepPart {
        shard: format!("1-{n}/{n}"),
        estimates,
        rows,
    })
}

/// Whether every row agrees.
pub fn agrees(p: &DeepPart) -> bool {
    p.rows.iter().all(|r| r.agreement != Agreement::Mismatch)
}

/// The estimates as a table, with their total.
pub fn estimate_table(es: &[Estimate]) -> String {
    use std::fmt::Write as _;
    let mut s = format!(
        "{:<36} {:<32} {:>16} {:>12}\n",
        "scenario", "design", "reduced ex/s", "est. s"
    );
    let mut secs = 0.0;
    for e in es {
        secs += e.seconds;
        let _ = writeln!(
            s,
            "{:<36} {:<32} {:>16} {:>12.0}",
            e.name,
            e.design,
            format!("{}/{:.1}", e.reduced.0, e.reduced.1),
            e.seconds
        );
    }
    let _ = writeln!(
        s,
        "estimate: at most {:.2} h on one worker for {} jobs",
        secs / 3600.0,
        es.len()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Bound;
    use crate::reduction::Side;
    use crate::scenario::LoomPlan;

    #[test]
    fn shards_partition_the_jobs() {
        let all = jobs((1, 1)).unwrap();
        assert!(!all.is_empty());
        assert!(all
            .iter()
            .all(|(sc, _)| !matches!(sc.loom, LoomPlan::ShuttleOnly(_))));
        let mut n = 0;
        for k in 1..=3 {
            n += jobs((k, 3)).unwrap().len();
        }
        assert_eq!(n, all.len());
        assert!(jobs((0, 3)).is_err() && jobs((4, 3)).is_err());
    }

    fn row(sc: &str, d: &str) -> Row {
        let side = Side {
            executions: 1,
            stopped: 0,
            classes: 1,
            classes_shared_reads: 1,
            bound: Bound::Exhaustive,
            violation: None,
            seconds: 0.0,
        };
        Row {
            scenario: sc.into(),
            design: d.into(),
            reduced: side.clone(),
            unreduced: Some(side),
            bounded: None,
            agreement: Agreement::Same,
            why: None,
        }
    }

    /// Merging takes each shard once and puts the rows back in catalog order.
    #[test]
    fn merge_needs_every_shard_once() {
        let all = jobs((1, 1)).unwrap();
        let part = |k: usize| DeepPart {
            shard: format!("{k}/2"),
            estimates: vec![],
            rows: jobs((k, 2))
                .unwrap()
                .iter()
                .map(|(sc, d)| row(&sc.name, d.name()))
                .collect(),
        };
        let m = merge(vec![part(2), part(1)]).unwrap();
        let names: Vec<(String, String)> = m
            .rows
            .iter()
            .map(|r| (r.scenario.clone(), r.design.clone()))
            .collect();
        let want: Vec<(String, String)> = all
            .iter()
            .map(|(sc, d)| (sc.name.clone(), d.name().to_string()))
            .collect();
        assert_eq!(names, want);
        assert!(merge(vec![part(1)]).unwrap_err().contains("2/2 is missing"));
        assert!(merge(vec![part(1), part(1)]).unwrap_err().contains("twice"));
        assert!(merge(vec![]).is_err());
    }
}
