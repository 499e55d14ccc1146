//! `cgcheck verify --deep`: the three-thread scenarios with no preemption bound, for nightly
//! jobs. CI's `verify` runs them at the bound of their scenario file (2); this runs every
//! interleaving, in shards (`--shard K/N`: the jobs whose index is K-1 modulo N).
//!
//! Before it runs anything it estimates each job's executions and time from bounded runs:
//! loom's executions at bounds 1, 2 and 3 grow by a factor per bound, and the factors fall as the
//! bound nears the most preemptions an execution can hold. [`extrapolate`] assumes the excess
//! of the factor over 1 keeps falling by the ratio it fell from bounds 1-2 to bounds 2-3, and
//! sums the series; when it did not fall, there is no estimate and the job is reported as
//! growing. (Bound 0 is left out: one or two executions say nothing of the growth.) On ten
//! two-thread scenarios whose exhaustive count is known it over-estimates, by 1.8 to 12.5 times
//! and never under (docs/performance.md): it sizes shards from above.

use serde::{Deserialize, Serialize};

use cgmodel::{Design, Faults};

use super::ScenarioRow;
use crate::engine::{self, Bound, Engine, RunOpts};
use crate::scenario::{catalog, LoomPlan, Scenario};
use crate::verdict;

/// The jobs of shard `(k, n)`: each catalog scenario loom runs with three or more threads, on
/// each design, numbered in catalog order.
pub fn jobs((k, n): (usize, usize)) -> Result<Vec<(&'static Scenario, Design)>, String> {
    if k == 0 || k > n {
        return Err(format!("bad shard {k}/{n}: K/N with 1 <= K <= N"));
    }
    Ok(catalog()
        .iter()
        .filter(|sc| sc.threads.len() >= 3 && !matches!(sc.loom, LoomPlan::ShuttleOnly(_)))
        .flat_map(|sc| Design::ALL.iter().map(move |&d| (sc, d)))
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
    /// loom's executions at bounds 1, 2, 3.
    pub by_bound: Vec<u64>,
    /// Seconds per execution at the largest of those bounds.
    pub seconds_per_execution: f64,
    /// The estimated executions with no bound (None: the growth did not slow).
    pub executions: Option<f64>,
    /// The estimated seconds.
    pub seconds: Option<f64>,
}

/// The executions with no bound, from the executions at three successive bounds: the factor from
/// one bound to the next is `1 + x`, and `x` is assumed to keep shrinking by the ratio it
/// shrank over the last two bounds, until it is negligible. None when it did not shrink (or
/// there are too few bounds).
pub fn extrapolate(by_bound: &[u64]) -> Option<f64> {
    let [.., a, b, c] = by_bound else {
        return None;
    };
    let (a, b, c) = (*a as f64, *b as f64, *c as f64);
    if a <= 0.0 || b <= 0.0 {
        return None;
    }
    let (x1, x2) = (b / a - 1.0, c / b - 1.0);
    if x2 <= 1e-9 {
        return Some(c);
    }
    let q = x2 / x1;
    if x1 <= 0.0 || q >= 1.0 {
        return None;
    }
    let (mut e, mut x) = (c, x2);
    while x > 1e-4 {
        x *= q;
        e *= 1.0 + x;
    }
    Some(e)
}

/// What a deep run writes: every job's estimate, then (unless only estimating) its row.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DeepPart {
    /// The shard, `K/N`.
    pub shard: String,
    /// Per job.
    pub estimates: Vec<Estimate>,
    /// Per job run without a bound.
    pub rows: Vec<ScenarioRow>,
}

/// The deep part of shard `shard`: the estimates, printed as they come, then (unless
/// `estimate_only`) every job without a bound.
pub fn part(shard: (usize, usize), estimate_only: bool, show: bool) -> Result<DeepPart, String> {
    let jobs = jobs(shard)?;
    let pb = super::progress(jobs.len(), "estimate", show);
    let estimates = crate::par::map(&jobs, |&(sc, design)| {
        pb.set_message(format!("{} on {design}", sc.name));
        let cfg = engine::config(sc, design, Faults::NONE, true);
        let mut by_bound = Vec::new();
        let mut secs = 0.0;
        for b in 1..=3 {
            let opts = RunOpts {
                bound: Some(Bound::Preemptions(b)),
                ..RunOpts::default()
            };
            let o = engine::run_scenario(sc, &cfg, Engine::Loom, &opts)?;
            by_bound.push(o.executions);
            secs = o.seconds / o.executions.max(1) as f64;
        }
        pb.inc(1);
        let executions = extrapolate(&by_bound);
        Ok(Estimate {
            name: sc.name.clone(),
            design: design.to_string(),
            by_bound,
            seconds_per_execution: secs,
            executions,
            seconds: executions.map(|e| e * secs),
        })
    })
    .into_iter()
    .collect::<Result<Vec<_>, String>>()?;
    pb.finish_and_clear();
    if show {
        eprint!("{}", estimate_table(&estimates));
    }
    let mut rows = Vec::new();
    if !estimate_only {
        let pb = super::progress(jobs.len(), "deep", show);
        let opts = RunOpts {
            bound: Some(Bound::Exhaustive),
            ..RunOpts::default()
        };
        rows = crate::par::map(&jobs, |&(sc, design)| {
            pb.set_message(format!("{} on {design}", sc.name));
            let cfg = engine::config(sc, design, Faults::NONE, true);
            let o = engine::run_scenario(sc, &cfg, Engine::Loom, &opts)?;
            pb.inc(1);
            Ok(ScenarioRow {
                name: sc.name.clone(),
                design,
                engine: Engine::Loom,
                verdict: verdict(sc, design, &o).0,
                executions: o.executions,
                classes: o.classes.len(),
                threads: sc.threads.len(),
                seconds: o.seconds,
                bound: o.bound,
                violation: o
                    .violation
                    .as_ref()
                    .map(|v| format!("{}: {}", v.name, v.detail)),
                trace: None,
                covers: o.covers(sc.threads.len(), &opts),
            })
        })
        .into_iter()
        .collect::<Result<Vec<_>, String>>()?;
        pb.finish_and_clear();
    }
    Ok(DeepPart {
        shard: format!("{}/{}", shard.0, shard.1),
        estimates,
        rows,
    })
}

/// The estimates as a table, with their total.
pub fn estimate_table(es: &[Estimate]) -> String {
    use std::fmt::Write as _;
    let mut s = format!(
        "{:<36} {:<32} {:>22} {:>14} {:>10}\n",
        "scenario", "design", "bounds 1/2/3", "est. execs", "est. s"
    );
    let (mut ex, mut secs, mut unknown) = (0.0, 0.0, 0);
    for e in es {
        let b: Vec<String> = e.by_bound.iter().map(u64::to_string).collect();
        let (x, t) = match (e.executions, e.seconds) {
            (Some(x), Some(t)) => {
                ex += x;
                secs += t;
                (format!("{x:.0}"), format!("{t:.0}"))
            }
            _ => {
                unknown += 1;
                ("growing".into(), "-".into())
            }
        };
        let _ = writeln!(
            s,
            "{:<36} {:<32} {:>22} {x:>14} {t:>10}",
            e.name,
            e.design,
            b.join("/")
        );
    }
    let _ = writeln!(
        s,
        "estimate: {ex:.0} executions, {:.1} h on one worker{}",
        secs / 3600.0,
        if unknown > 0 {
            format!(", and {unknown} job(s) whose growth did not slow by bound 3")
        } else {
            String::new()
        }
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extrapolation_sums_a_slowing_growth_and_refuses_a_steady_one() {
        // The factors 3, 2: the excess halves each bound (2, 1, 1/2, 1/4, ...), so the total is
        // 60 × 1.5 × 1.25 × ... ≈ 60 × 2.38.
        let e = extrapolate(&[10, 30, 60]).unwrap();
        assert!((e / 60.0 - 2.38).abs() < 0.05, "{e}");
        // Saturated already: the last count.
        assert_eq!(extrapolate(&[10, 20, 20]), Some(20.0));
        // Growing as fast or faster: no estimate.
        assert_eq!(extrapolate(&[10, 30, 90]), None);
        assert_eq!(extrapolate(&[10, 20]), None);
    }

    #[test]
    fn shards_partition_the_jobs() {
        let all = jobs((1, 1)).unwrap();
        assert!(!all.is_empty());
        assert!(all.iter().all(|(sc, _)| sc.threads.len() >= 3));
        let mut n = 0;
        for k in 1..=3 {
            n += jobs((k, 3)).unwrap().len();
        }
        assert_eq!(n, all.len());
        assert!(jobs((0, 3)).is_err() && jobs((4, 3)).is_err());
    }
}
