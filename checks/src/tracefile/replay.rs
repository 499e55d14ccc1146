//! Replaying a trace on real threads: the plan runs on the std backend, each thread taking a step
//! only when the trace says it is its turn.

use std::sync::Arc;

use cgmodel::sim::trace::Turnstile;
use cgmodel::Sink;

use super::{step_key, Replay, TraceFile};

/// Replays a trace on real threads (the std backend only: loom and shuttle builds schedule
/// threads themselves).
pub fn replay(tf: &TraceFile) -> Replay {
    let expected: Vec<(usize, String)> = tf
        .timeline
        .iter()
        .map(|l| step_key(l).expect("parsed"))
        .collect();
    let turnstile = Arc::new(Turnstile::new(expected));
    let sink = Arc::new(Sink::replaying(turnstile.clone()));
    let (plan, cfg, s2) = (tf.plan.clone(), tf.config.clone(), sink.clone());
    let runner = std::thread::spawn(move || {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::engine::execution(&plan, &cfg, s2)
        }));
    });
    let _ = runner.join();
    let timeline: Vec<String> = sink
        .trace
        .events()
        .iter()
        .map(|e| e.render().replace('\n', " "))
        .collect();
    let got = sink.first().map(|v| format!("{}: {}", v.name, v.detail));
    // loom's own reports (a deadlock, a data race) have no counterpart on real threads: there the
    // trace is reproduced when the replay took every recorded step and nothing else broke.
    let deadlock = tf.violation.starts_with("deadlock")
        || tf.violation.starts_with(cgmodel::sim::report::DATA_RACE);
    let (reproduced, reason) = if let Some(e) = turnstile.error() {
        (false, e)
    } else if let Some(i) =
        (0..timeline.len().max(tf.timeline.len())).find(|&i| timeline.get(i) != tf.timeline.get(i))
    {
        (
            false,
            format!(
                "step {} differs: the trace has `{}`, the replay took `{}`",
                i + 1,
                tf.timeline.get(i).map_or("(end)", String::as_str),
                timeline.get(i).map_or("(end)", String::as_str)
            ),
        )
    } else if deadlock {
        if got.is_none() && turnstile.finished() {
            (
                true,
                format!(
                    "every recorded step taken, up to loom's report: {}",
                    tf.violation
                ),
            )
        } else {
            (
                false,
                format!(
                    "expected the deadlock, got {}",
                    got.unwrap_or_else(|| "no violation".into())
                ),
            )
        }
    } else {
        match got {
            // The file holds the report on one line (`write`).
            Some(g) if g.replace('\n', " ") == tf.violation => (true, g),
            Some(g) => (false, format!("a different violation: {g}")),
            None => (false, "no violation".to_string()),
        }
    };
    Replay {
        reproduced,
        reason,
        timeline,
    }
}
