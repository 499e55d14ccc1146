//! Traces for readers: the condensed timeline and the Mermaid sequence diagram.

use std::fmt::Write as _;

use super::{atomic_op, step_key, TraceFile};

/// The steps a reader follows: from the first step of a thread other than the setup's on, every
/// system call, lock step, allocation, free, atomic write and the violation (plain loads and
/// lookups are left out; the full timeline has them). Each with its step number.
pub fn condensed(tf: &TraceFile) -> Vec<(usize, String)> {
    let start = tf
        .timeline
        .iter()
        .position(|l| !l.starts_with("T0 "))
        .unwrap_or(0);
    let what = |l: &str| {
        l.splitn(3, ' ')
            .nth(2)
            .unwrap_or("")
            .trim_start()
            .to_string()
    };
    let writes = |l: &str| {
        let w = what(l);
        match atomic_op(&w) {
            Some("store") => true,
            Some(_) => w.contains("->"),
            None => false,
        }
    };
    let mut out = Vec::new();
    for (i, l) in tf.timeline.iter().enumerate().skip(start) {
        let w = what(l);
        // Loads of pointer fields stay: they show which object a thread is about to use.
        let pointer_load = atomic_op(&w) == Some("load")
            && w.split(' ').next().is_some_and(|f| {
                [
                    "task.cgroups",
                    "css_set.subsys[]",
                    "cgroup.subsys[]",
                    "subsys[]",
                ]
                .contains(&f)
            });
        let lookup =
            w.starts_with("deref") || (atomic_op(&w).is_some() && !writes(l) && !pointer_load);
        // A lookup stays when the same thread's next step writes an atomic: it names the object
        // the write is to (`deref css_set #1`, then `css_set.refcount fetch_sub 1 -> 0`).
        let names_next = w.starts_with("deref")
            && tf
                .timeline
                .get(i + 1)
                .is_some_and(|n| n.split(' ').next() == l.split(' ').next() && writes(n));
        if !lookup || names_next {
            out.push((i + 1, l.clone()));
        }
    }
    out
}

/// Renders a trace as a Mermaid sequence diagram of its [`condensed`] steps: one participant per
/// thread, each step a note on its thread.
pub fn mermaid(tf: &TraceFile) -> String {
    let mut s = String::from("sequenceDiagram\n");
    let mut roles = vec!["setup".to_string()];
    roles.extend(tf.plan.threads.iter().map(|t| {
        t.iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }));
    for (i, r) in roles.iter().enumerate() {
        let _ = writeln!(
            s,
            "    participant T{i} as T{i}: {}",
            r.replace([':', ';', '#'], " ")
        );
    }
    for (n, l) in condensed(tf) {
        let Ok((tid, _)) = step_key(l.as_str()) else {
            continue;
        };
        let body = l.split_once(' ').map_or("", |x| x.1).trim_start();
        let text = format!("{n}: {body}").replace([';', '#'], " ");
        let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let _ = writeln!(s, "    Note over T{tid}: {text}");
    }
    s
}
