//! The summary `verify` prints and the Markdown report it writes (`--docs` copies it to
//! docs/results.md).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::Results;
use crate::engine::Engine;
use crate::Verdict;

/// The short summary: per engine, runs by verdict, executions and seconds; then the totals.
pub fn summary(r: &Results) -> String {
    let mut s = String::from(
        "engine           runs   pass  expected-fail  fail  missed     executions    seconds\n",
    );
    let mut by_engine: BTreeMap<String, Vec<&super::ScenarioRow>> = BTreeMap::new();
    for row in &r.scenarios {
        by_engine
            .entry(row.engine.to_string())
            .or_default()
            .push(row);
    }
    let count =
        |rows: &[&super::ScenarioRow], v: Verdict| rows.iter().filter(|x| x.verdict == v).count();
    for (e, rows) in &by_engine {
        let ex: u64 = rows.iter().map(|x| x.executions).sum();
        let secs: f64 = rows.iter().map(|x| x.seconds).sum();
        let _ = writeln!(
            s,
            "{e:<16} {:>5} {:>6} {:>14} {:>5} {:>7} {ex:>14} {secs:>10.1}",
            rows.len(),
            count(rows, Verdict::Pass),
            count(rows, Verdict::ExpectedFail),
            count(rows, Verdict::Fail),
            count(rows, Verdict::Missed),
        );
    }
    let all: Vec<&super::ScenarioRow> = r.scenarios.iter().collect();
    let detected = r.faults.iter().filter(|f| f.detected).count();
    let reproduced = r.replays.iter().filter(|f| f.reproduced).count();
    let _ = write!(
        s,
        "\nscenario runs: {} pass, {} expected-fail (documented findings), {} fail, {} missed\nfaults detected: {detected} of {}\ntraces reproduced: {reproduced} of {}\n{}verdict: {}",
        count(&all, Verdict::Pass),
        count(&all, Verdict::ExpectedFail),
        count(&all, Verdict::Fail),
        count(&all, Verdict::Missed),
        r.faults.len(),
        r.replays.len(),
        super::graphs::graph_line(&r.lock_graphs, "the catalog"),
        if r.ok { "OK" } else { "FAILED" }
    );
    s
}

/// The Markdown report: the summary, then every scenario, fault and replay row.
pub fn markdown(r: &Results) -> String {
    let mut s = String::from("# Verification results\n\nRegenerate with `cargo run --release -p cgroup-checks --bin cgcheck -- verify --docs` (it builds and runs the loom and shuttle engines itself). Machine-readable: `target/cgcheck/results.json`.\n\n## Summary\n\n```text\n");
    s += &summary(r);
    s += "\n```\n\n";
    s += &repetition(r);
    s += &coverage(r);
    s += "\n## Scenarios\n\nClasses: the distinct Mazurkiewicz traces among the executions (what an optimal DPOR checker would run; [performance.md](performance.md#executions-against-classes)). Stopped: executions loom's sleep sets stopped early as repeats.\n\n| scenario | design | engine | verdict | executions | stopped | classes | seconds | bound |\n|---|---|---|---|---|---|---|---|---|\n";
    for x in &r.scenarios {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {} | {} | {:.2} | {} |",
            x.name,
            x.design,
            x.engine,
            x.verdict,
            x.executions,
            x.pruned,
            x.classes,
            x.seconds,
            x.bound
        );
    }
    s += "\n## Faults\n\n| fault | detected | scenario | engine | seconds | bound |\n|---|---|---|---|---|---|\n";
    for x in &r.faults {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {:.3} | {} |",
            x.name,
            x.detected,
            x.scenario.as_deref().unwrap_or("-"),
            x.engine,
            x.seconds,
            x.bound.map_or("-".to_string(), |b| b.to_string())
        );
    }
    s += "\n## Lock graphs\n\nPer design, the lock orders every scenario of the catalog took on every engine, merged as lockdep's per-boot graph would hold them had one kernel run them all ([model.md](model.md#lockdep-might_sleep-and-prove_rcu)).\n\n| design | classes | edges | cycles |\n|---|---|---|---|\n";
    for x in &r.lock_graphs {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            x.design,
            x.classes,
            x.edges,
            x.cycles.len()
        );
    }
    s += "\n## Trace replays\n\n| trace | reproduced | steps |\n|---|---|---|\n";
    for x in &r.replays {
        let _ = writeln!(s, "| `{}` | {} | {} |", x.file, x.reproduced, x.steps);
    }
    s
}

/// executions / classes, for a row that counted its classes.
pub fn ratio(executions: u64, classes: u64) -> f64 {
    executions as f64 / classes.max(1) as f64
}

/// Per scenario (or in all): loom's executions, those stopped early, the classes, the classes
/// when readers commute, and the designs.
#[derive(Default)]
struct Tally {
    executions: u64,
    pruned: u64,
    classes: u64,
    shared_reads: u64,
    designs: usize,
    worst: f64,
}

impl Tally {
    fn add(&mut self, x: &super::ScenarioRow) {
        self.executions += x.executions;
        self.pruned += x.pruned;
        self.classes += x.classes;
        self.shared_reads += x.classes_shared_reads;
        self.designs += 1;
        self.worst = self.worst.max(ratio(x.executions + x.pruned, x.classes));
    }
    /// Every execution started, stopped ones included, per class.
    fn ratio(&self) -> f64 {
        ratio(self.executions + self.pruned, self.classes)
    }
}

/// The loom rows' executions against their classes: the totals, then per scenario (summed over
/// its designs), highest ratio first. The ratio counts every execution loom started, those its
/// sleep sets stopped early included.
pub fn repetition(r: &Results) -> String {
    let mut per: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut all = Tally::default();
    for x in r.scenarios.iter().filter(|x| x.engine == Engine::Loom) {
        per.entry(&x.name).or_default().add(x);
        all.add(x);
    }
    if per.is_empty() {
        return String::new();
    }
    let mut rows: Vec<_> = per.into_iter().collect();
    rows.sort_by(|a, b| b.1.ratio().total_cmp(&a.1.ratio()));
    let mut s = format!(
        "## Loom: executions against classes\n\nloom ran {} executions over the catalog and stopped {} more early as repeats (sleep sets); they fall into {} Mazurkiewicz classes ({} if two readers of a lock commute), a ratio of {:.2}, and {:.2} on the worst row. Per scenario, over its designs, highest ratio first (worst row: the highest of its designs):\n\n| scenario | designs | executions | stopped | classes | readers commute | ratio | worst row |\n|---|---|---|---|---|---|---|---|\n",
        all.executions,
        all.pruned,
        all.classes,
        all.shared_reads,
        all.ratio(),
        all.worst
    );
    for (name, t) in rows {
        let _ = writeln!(
            s,
            "| `{name}` | {} | {} | {} | {} | {} | {:.2} | {:.2} |",
            t.designs,
            t.executions,
            t.pruned,
            t.classes,
            t.shared_reads,
            t.ratio(),
            t.worst
        );
    }
    s + "\n"
}

/// What the verdicts covered: per engine and bound, the rows and what their runs left
/// unexplored (the part of [`super::ScenarioRow::covers`] after "not explored").
pub fn coverage(r: &Results) -> String {
    let mut per: BTreeMap<(String, String, usize), (usize, String)> = BTreeMap::new();
    for x in &r.scenarios {
        let Some((_, rest)) = x.covers.split_once("not explored: ") else {
            continue;
        };
        let e = per
            .entry((x.engine.to_string(), x.bound.to_string(), x.threads))
            .or_insert((0, rest.to_string()));
        e.0 += 1;
    }
    if per.is_empty() {
        return String::new();
    }
    let mut s = String::from("## What the passes cover\n\nEvery passing row states its engine, its bound and what it leaves unexplored (`covers` in results.json, and `cgcheck run`):\n\n| engine | bound | threads | passing rows | not explored |\n|---|---|---|---|---|\n");
    for ((engine, bound, threads), (n, rest)) in per {
        let _ = writeln!(s, "| {engine} | {bound} | {threads} | {n} | {rest} |");
    }
    s
}

/// The zoo's figures: missed faults, the median and the slowest time to detect one.
pub struct Zoo {
    /// Faults no catcher found.
    pub missed: usize,
    /// The median seconds to detect a fault.
    pub median: f64,
    /// The slowest fault to detect, and its seconds.
    pub slowest: (String, f64),
}

impl Zoo {
    /// The figures of `rows`.
    pub fn of(rows: &[super::FaultRow]) -> Zoo {
        let mut secs: Vec<(f64, String)> = rows
            .iter()
            .filter(|r| r.detected)
            .map(|r| (r.seconds, r.name.to_string()))
            .collect();
        secs.sort_by(|a, b| a.0.total_cmp(&b.0));
        Zoo {
            missed: rows.iter().filter(|r| !r.detected).count(),
            median: secs.get(secs.len() / 2).map_or(0.0, |x| x.0),
            slowest: secs
                .last()
                .map_or(("-".to_string(), 0.0), |x| (x.1.clone(), x.0)),
        }
    }
}

/// The zoo's table: one row per fault, then the figures.
pub fn zoo_table(rows: &[super::FaultRow], z: &Zoo) -> String {
    let mut s = format!(
        "{:<28} {:<9} {:<26} {:>9} {:>12}\n",
        "fault", "detected", "scenario", "seconds", "bound"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{:<28} {:<9} {:<26} {:>9.3} {:>12}",
            r.name.name(),
            r.detected,
            r.scenario.as_deref().unwrap_or("-"),
            r.seconds,
            r.bound.map_or("-".to_string(), |b| b.to_string())
        );
    }
    let _ = write!(
        s,
        "\n{} of {} detected; median time to detect {:.3}s, slowest {} ({:.3}s)",
        rows.len() - z.missed,
        rows.len(),
        z.median,
        z.slowest.0,
        z.slowest.1
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Bound;
    use crate::verify::ScenarioRow;
    use cgmodel::Design;

    fn row(name: &str, engine: Engine, executions: u64, classes: u64) -> ScenarioRow {
        ScenarioRow {
            name: name.into(),
            design: Design::Fixed,
            engine,
            verdict: Verdict::Pass,
            executions,
            pruned: 0,
            classes,
            classes_shared_reads: classes,
            threads: 2,
            seconds: 0.0,
            bound: Bound::Preemptions(3),
            violation: None,
            trace: None,
            covers: "loom, ...; not explored: 2-thread interleavings beyond 3 preemption(s)".into(),
        }
    }

    fn results(scenarios: Vec<ScenarioRow>) -> Results {
        Results {
            ok: true,
            engines: vec![],
            scenarios,
            faults: vec![],
            fault_runs: vec![],
            replays: vec![],
            lock_graphs: vec![],
        }
    }

    /// The repetition table is loom's rows only, highest ratio first, with the totals; an
    /// execution stopped early counts.
    #[test]
    fn repetition_sorts_loom_rows_by_ratio() {
        let stopped = ScenarioRow {
            pruned: 10,
            ..row("stopped", Engine::Loom, 10, 10)
        };
        let t = repetition(&results(vec![stopped]));
        assert!(
            t.contains("| `stopped` | 1 | 10 | 10 | 10 | 10 | 2.00 | 2.00 |"),
            "{t}"
        );
        let r = results(vec![
            row("low", Engine::Loom, 20, 10),
            row("high", Engine::Loom, 90, 3),
            row("shuttle", Engine::ShuttlePct, 1000, 1),
        ]);
        let t = repetition(&r);
        assert!(t.contains("loom ran 110 executions"), "{t}");
        assert!(t.contains("13 Mazurkiewicz classes"), "{t}");
        assert!(t.contains("and 30.00 on the worst row"), "{t}");
        let (hi, lo) = (t.find("`high`").unwrap(), t.find("`low`").unwrap());
        assert!(hi < lo, "{t}");
        assert!(!t.contains("`shuttle`"), "{t}");
        assert!(repetition(&results(vec![])).is_empty());
    }

    /// Coverage groups passing rows by engine, bound and threads, with what they leave out.
    #[test]
    fn coverage_groups_the_passes() {
        let r = results(vec![
            row("a", Engine::Loom, 1, 1),
            row("b", Engine::Loom, 1, 1),
        ]);
        let t = coverage(&r);
        assert!(
            t.contains(
                "| loom | bound 3 | 2 | 2 | 2-thread interleavings beyond 3 preemption(s) |"
            ),
            "{t}"
        );
    }
}
