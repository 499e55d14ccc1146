//! The fault kill matrix through explore: each fault, injected into the fixed design, must be
//! caught by some scenario of the space, found in the space's order (smallest first) without
//! being told the fault's catcher scenarios.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use cgmodel::{Design, Fault, Faults};
use serde::{Deserialize, Serialize};

use super::{check, work, Options, Point};

/// One fault's row of the kill matrix: the first scenario of the space (in its order, smallest
/// first) on which the fault, injected into the fixed design, breaks a check that the fixed
/// design alone keeps.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Kill {
    /// The fault.
    pub fault: String,
    /// The scenario that caught it (None: none in the space did).
    pub witness: Option<String>,
    /// Its index in the space.
    pub index: Option<usize>,
    /// The violation.
    pub violation: Option<String>,
    /// Scenarios tried before and including the catch.
    pub tried: usize,
    /// Executions run.
    pub executions: u64,
    /// Seconds.
    pub seconds: f64,
}

/// The kill matrix through explore: for each fault, the space in order until a scenario catches
/// it, without being told the fault's catcher scenarios.
pub fn kill_matrix(faults: &[Fault], opts: &Options) -> Result<Vec<Kill>, String> {
    let work = work(opts)?;
    let pb = crate::verify::progress(faults.len(), "kill", opts.show);
    let mut rows = Vec::new();
    for &f in faults {
        pb.set_message(f.name());
        rows.push(kill_one(f, &work, opts)?);
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(rows)
}

fn kill_one(f: Fault, work: &[(usize, Point)], opts: &Options) -> Result<Kill, String> {
    let t = Instant::now();
    let best: Mutex<Option<(usize, String, String)>> = Mutex::new(None);
    let execs = AtomicUsize::new(0);
    let tried = AtomicUsize::new(0);
    // Workers take the scenarios in space order and finish the one they hold when another
    // catches the fault, so every scenario before the catch kept has run: it is the first.
    crate::par::for_each(work, |(index, point)| {
        if best
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|b| b.0 < *index)
        {
            return Ok(ControlFlow::Continue(()));
        }
        let plan = point.plan()?;
        tried.fetch_add(1, Ordering::Relaxed);
        let o = check(&plan, Design::Fixed, Faults::one(f), opts)?;
        execs.fetch_add(o.executions as usize, Ordering::Relaxed);
        let Some(v) = &o.violation else {
            return Ok(ControlFlow::Continue(()));
        };
        let clean = check(&plan, Design::Fixed, Faults::NONE, opts)?;
        execs.fetch_add(clean.executions as usize, Ordering::Relaxed);
        if clean.violation.is_some() {
            return Ok(ControlFlow::Continue(()));
        }
        let mut b = best.lock().unwrap_or_else(|e| e.into_inner());
        if b.as_ref().is_none_or(|b| *index < b.0) {
            *b = Some((*index, point.key(), format!("{}: {}", v.name, v.detail)));
        }
        Ok(ControlFlow::Break(()))
    })?;
    let b = best.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok(Kill {
        fault: f.name().to_string(),
        index: b.as_ref().map(|b| b.0),
        witness: b.as_ref().map(|b| b.1.clone()),
        violation: b.map(|b| b.2),
        tried: tried.into_inner(),
        executions: execs.into_inner() as u64,
        seconds: t.elapsed().as_secs_f64(),
    })
}
