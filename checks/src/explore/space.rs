//! The space `cgcheck explore` enumerates: named setups (initial states), each with the
//! operations that make sense over its objects, and every well-formed way of dealing those
//! operations out to a few threads, counted once up to symmetry.
//!
//! A scenario of the space is a setup and one program (a list of operations) per thread. Two
//! scenarios are the same when one becomes the other by putting the threads in another order or
//! by renaming the fresh objects the operations create (a forked child, a new descriptor); the
//! space holds one of each, its canonical form ([`canonical`]).

use std::collections::BTreeSet;

use cgmodel::Step;

pub use super::setups::{Setup, SETUPS};
use crate::scenario::{check_tasks, Plan};

/// Looks a setup up by name.
pub fn setup(name: &str) -> Result<&'static Setup, String> {
    SETUPS.iter().find(|s| s.name == name).ok_or_else(|| {
        let names: Vec<&str> = SETUPS.iter().map(|s| s.name).collect();
        format!("unknown setup `{name}` (known: {})", names.join(", "))
    })
}

/// One scenario of the space: a setup and a program per thread, in canonical form.
#[derive(Clone, Debug)]
pub struct Point {
    /// The setup.
    pub setup: &'static Setup,
    /// One program per thread.
    pub threads: Vec<Vec<String>>,
}

impl Point {
    /// Threads, then operations in all.
    pub fn size(&self) -> (usize, usize) {
        (self.threads.len(), self.threads.iter().map(Vec::len).sum())
    }

    /// A stable one-line key, e.g. `tasks | attach T1 m0/a | exit T1`.
    pub fn key(&self) -> String {
        let mut s = self.setup.name.to_string();
        for t in &self.threads {
            s.push_str(" | ");
            s.push_str(&t.join("; "));
        }
        s
    }

    /// The plan the engines run.
    pub fn plan(&self) -> Result<Plan, String> {
        let su = self.setup;
        let parse = |s: &str| s.parse::<Step>().map_err(|e| format!("`{s}`: {e}"));
        Ok(Plan {
            name: format!("explore {}", self.key()),
            setup: su
                .steps
                .iter()
                .map(|s| parse(s))
                .collect::<Result<_, _>>()?,
            threads: self
                .threads
                .iter()
                .map(|t| t.iter().map(|s| parse(s)).collect::<Result<_, _>>())
                .collect::<Result<_, _>>()?,
        })
    }
}

/// The words of a step.
fn words(op: &str) -> Vec<&str> {
    op.split_whitespace().collect()
}

/// Whether a thread's program is one a process could run, given what the setup leaves:
/// - `css-put T SS` drops a reference this thread took with `css-get T SS` before it (the pin is
///   the thread's; a put of another thread's pin is a hand-off the op language cannot order);
/// - nothing runs as a task after its `exit` in the thread (`fork T ...` after `exit T`);
/// - `read`/`write`/`close` of a descriptor the setup did not open follow this thread's `open` of
///   it, and an `open` is of a descriptor not open at that point.
fn program_ok(su: &Setup, prog: &[&str]) -> bool {
    let mut pins: Vec<(String, String)> = Vec::new();
    let mut exited: Vec<&str> = Vec::new();
    let mut open: BTreeSet<String> = setup_fds(su);
    for op in prog {
        let w = words(op);
        match w.as_slice() {
            ["css-get", t, ss] => pins.push((t.to_string(), ss.to_string())),
            ["css-put", t, ss] => {
                match pins.iter().position(|(a, b)| a == t && b == ss) {
                    Some(i) => pins.remove(i),
                    None => return false,
                };
            }
            ["exit", t] => exited.push(t),
            ["fork", p, _] if exited.contains(p) => return false,
            ["open", fd, ..] if !open.insert(fd.to_string()) => return false,
            ["close", fd] if !open.remove(*fd) => return false,
            ["read" | "write", fd, ..] if !open.contains(*fd) && !setup_fds(su).contains(*fd) => {
                return false
            }
            _ => {}
        }
    }
    true
}

/// The descriptors the setup leaves open.
fn setup_fds(su: &Setup) -> BTreeSet<String> {
    let mut open = BTreeSet::new();
    for s in su.steps {
        match words(s).as_slice() {
            ["open", fd, ..] => {
                open.insert(fd.to_string());
            }
            ["close", fd] => {
                open.remove(*fd);
            }
            _ => {}
        }
    }
    open
}

/// Whether a whole scenario is well formed: each program is (`program_ok`); a task's `exit`
/// and `fork`s stay in one thread ([`check_tasks`]); each child is forked once; a descriptor
/// the setup did not open is opened by one thread only (the table is shared, and a second
/// `open` of it would be a different scenario with another name).
pub fn well_formed(su: &Setup, threads: &[Vec<String>]) -> bool {
    let progs: Vec<Vec<&str>> = threads
        .iter()
        .map(|t| t.iter().map(String::as_str).collect())
        .collect();
    if !progs.iter().all(|p| program_ok(su, p)) {
        return false;
    }
    let mut children = BTreeSet::new();
    let mut opened: Vec<(String, usize)> = Vec::new();
    for (i, p) in progs.iter().enumerate() {
        for op in p {
            match words(op).as_slice() {
                ["fork", _, c] if !children.insert(c.to_string()) => return false,
                ["open", fd, ..] => {
                    if opened.iter().any(|(f, j)| f == fd && *j != i) {
                        return false;
                    }
                    opened.push((fd.to_string(), i));
                }
                _ => {}
            }
        }
    }
    let steps: Result<Vec<Vec<Step>>, _> = threads
        .iter()
        .map(|t| t.iter().map(|s| s.parse::<Step>()).collect())
        .collect();
    match steps {
        Ok(s) => check_tasks(&s).is_ok(),
        Err(_) => false,
    }
}

/// The canonical form of a scenario: over every order of its threads, the fresh names renamed
/// in order of first appearance, the least. Thread order and fresh names are what the space
/// counts once.
pub fn canonical(su: &Setup, threads: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut best: Option<Vec<Vec<String>>> = None;
    for perm in permutations(threads.len()) {
        let ordered: Vec<&Vec<String>> = perm.iter().map(|&i| &threads[i]).collect();
        let renamed = rename_fresh(su, &ordered);
        if best.as_ref().is_none_or(|b| renamed < *b) {
            best = Some(renamed);
        }
    }
    best.unwrap_or_default()
}

/// Renames each class's fresh names in order of first appearance: the first one met becomes
/// the class's first name, and so on.
fn rename_fresh(su: &Setup, threads: &[&Vec<String>]) -> Vec<Vec<String>> {
    let mut maps: Vec<Vec<(String, String)>> = vec![Vec::new(); su.fresh.len()];
    threads
        .iter()
        .map(|t| {
            t.iter()
                .map(|op| {
                    words(op)
                        .into_iter()
                        .map(|w| {
                            for (ci, class) in su.fresh.iter().enumerate() {
                                if class.contains(&w) {
                                    let m = &mut maps[ci];
                                    if let Some((_, to)) = m.iter().find(|(from, _)| from == w) {
                                        return to.clone();
                                    }
                                    let to = class[m.len().min(class.len() - 1)].to_string();
                                    m.push((w.to_string(), to.clone()));
                                    return to;
                                }
                            }
                            w.to_string()
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect()
        })
        .collect()
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, n - 1);
            out.push(q);
        }
    }
    out
}

/// The programs of 1 to `ops` operations over `su`'s alphabet that are well formed alone.
fn programs(su: &Setup, ops: usize) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut frontier: Vec<Vec<String>> = vec![Vec::new()];
    for _ in 0..ops {
        let mut next = Vec::new();
        for p in &frontier {
            for op in su.ops {
                let mut q = p.clone();
                q.push(op.to_string());
                let words: Vec<&str> = q.iter().map(String::as_str).collect();
                if program_ok(su, &words) {
                    next.push(q);
                }
            }
        }
        out.extend(next.iter().cloned());
        frontier = next;
    }
    out
}

/// Every scenario of `setups` with exactly `threads` threads of 1 to `ops` operations each, well
/// formed and counted once up to symmetry, ordered smallest first (threads, then operations in
/// all, then setup and text), so that the first witness of a failure is a smallest one.
pub fn enumerate(setups: &[&'static Setup], threads: usize, ops: usize) -> Vec<Point> {
    let mut seen = BTreeSet::new();
    let mut points = Vec::new();
    for su in setups {
        let progs = programs(su, ops);
        // Multisets of programs: indices non-decreasing (thread order is a symmetry).
        let mut idx = vec![0usize; threads];
        if progs.is_empty() || threads == 0 {
            continue;
        }
        loop {
            let ts: Vec<Vec<String>> = idx.iter().map(|&i| progs[i].clone()).collect();
            if well_formed(su, &ts) {
                let c = canonical(su, &ts);
                if seen.insert((su.name, c.clone())) {
                    points.push(Point {
                        setup: su,
                        threads: c,
                    });
                }
            }
            // Next non-decreasing index vector.
            let mut k = threads;
            while k > 0 && idx[k - 1] == progs.len() - 1 {
                k -= 1;
            }
            if k == 0 {
                break;
            }
            idx[k - 1] += 1;
            for j in k..threads {
                idx[j] = idx[k - 1];
            }
        }
    }
    sort(&mut points, setups);
    points
}

/// Smallest first: threads, operations in all, the setup's place in `setups`, then the text.
fn sort(points: &mut [Point], setups: &[&'static Setup]) {
    let at = |su: &Setup| setups.iter().position(|s| s.name == su.name);
    points.sort_by(|a, b| {
        (a.size(), at(a.setup), &a.threads).cmp(&(b.size(), at(b.setup), &b.threads))
    });
}

/// The space up to a bound: 2 to `threads` threads (one thread has no interleaving to explore).
pub fn space(setups: &[&'static Setup], threads: usize, ops: usize) -> Vec<Point> {
    let mut all: Vec<Point> = (2..=threads.max(2))
        .flat_map(|n| enumerate(setups, n, ops))
        .collect();
    sort(&mut all, setups);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn su() -> &'static Setup {
        setup("tasks").unwrap()
    }

    fn t(v: &[&[&str]]) -> Vec<Vec<String>> {
        v.iter()
            .map(|p| p.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn every_setup_and_operation_parses() {
        for s in SETUPS {
            for op in s.steps.iter().chain(s.ops) {
                op.parse::<Step>()
                    .unwrap_or_else(|e| panic!("{}: `{op}`: {e}", s.name));
            }
        }
    }

    /// docs/explore.md's table names every setup.
    #[test]
    fn the_docs_list_every_setup() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/explore.md"))
                .expect("docs/explore.md");
        for s in SETUPS {
            assert!(
                doc.contains(&format!("| `{}` |", s.name)),
                "{} missing",
                s.name
            );
        }
    }

    #[test]
    fn thread_order_counts_once() {
        let a = canonical(su(), &t(&[&["exit T1"], &["attach T1 m0/a"]]));
        let b = canonical(su(), &t(&[&["attach T1 m0/a"], &["exit T1"]]));
        assert_eq!(a, b);
    }

    #[test]
    fn fresh_names_count_once() {
        const S: Setup = Setup {
            name: "x",
            about: "",
            steps: &["fork T0 T1"],
            ops: &[],
            fresh: &[&["T3", "T4"]],
        };
        let a = canonical(&S, &t(&[&["fork T1 T4", "attach T4 m0"]]));
        let b = canonical(&S, &t(&[&["fork T1 T3", "attach T3 m0"]]));
        assert_eq!(a, b);
        assert_eq!(a, t(&[&["fork T1 T3", "attach T3 m0"]]));
        // Two different fresh children are not one.
        let c = canonical(&S, &t(&[&["fork T1 T3"], &["attach T4 m0"]]));
        let d = canonical(&S, &t(&[&["fork T1 T3"], &["attach T3 m0"]]));
        assert_ne!(c, d);
    }

    #[test]
    fn ill_formed_programs_are_left_out() {
        let s = su();
        assert!(!well_formed(s, &t(&[&["css-put T1 cpuset"], &["exit T2"]])));
        assert!(well_formed(
            s,
            &t(&[&["css-get T1 cpuset", "css-put T1 cpuset"], &["exit T2"]])
        ));
        assert!(!well_formed(s, &t(&[&["exit T1"], &["exit T1"]])));
        assert!(!well_formed(
            s,
            &t(&[&["exit T1", "fork T1 T3"], &["exit T2"]])
        ));
        assert!(!well_formed(s, &t(&[&["fork T1 T3"], &["fork T1 T3"]])));
        let f = setup("files").unwrap();
        assert!(!well_formed(f, &t(&[&["read fd3"], &["close fd1"]])));
        assert!(well_formed(
            f,
            &t(&[&["open fd3 m0/a/tasks r", "read fd3"], &["close fd1"]])
        ));
        assert!(!well_formed(
            f,
            &t(&[&["open fd3 m0/a/tasks r"], &["open fd3 m0/a/tasks r"]])
        ));
    }

    #[test]
    fn the_space_is_sorted_smallest_first_and_has_no_duplicates() {
        let pts = space(&[su()], 2, 2);
        let mut keys = BTreeSet::new();
        for w in pts.windows(2) {
            assert!(w[0].size() <= w[1].size());
        }
        for p in &pts {
            assert!(keys.insert(p.key()), "{} twice", p.key());
        }
        // One operation each: 10 of the 11 run alone (not css-put), 55 pairs of them; six run
        // one task in both threads (exit/exit, fork/fork and exit/fork of T1, and of T2).
        let one = pts.iter().filter(|p| p.size() == (2, 2)).count();
        assert_eq!(one, 55 - 6);
    }
}
