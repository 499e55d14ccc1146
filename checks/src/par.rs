//! One worker per core over a list of runs. Each run is single-threaded (loom and shuttle run
//! an execution's threads on the calling thread), so the runs themselves are what parallelise.
//! Workers take the items in the list's order.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// `f` over `items`, one worker per core, each taking the next item in order, until `f` breaks
/// or fails. When it does, no item after those already taken starts, and the ones taken finish:
/// every item before the one that stopped the run has run. Returns the first error.
pub fn for_each<T: Sync>(
    items: &[T],
    f: impl Fn(&T) -> Result<ControlFlow<()>, String> + Sync,
) -> Result<(), String> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let err: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let Some(item) = items.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    break;
                };
                match f(item) {
                    Ok(ControlFlow::Continue(())) => {}
                    Ok(ControlFlow::Break(())) => stop.store(true, Ordering::Relaxed),
                    Err(e) => {
                        err.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert(e);
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    match err.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `f` over `items` on one worker per core, the results in the order of `items`.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let out: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let indexed: Vec<(usize, &T)> = items.iter().enumerate().collect();
    let r = for_each(&indexed, |&(i, item)| {
        let r = f(item);
        out.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r);
        Ok(ControlFlow::Continue(()))
    });
    debug_assert!(r.is_ok(), "map's closure never fails");
    out.into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keeps_the_order_and_for_each_stops_at_a_break_or_an_error() {
        let items: Vec<usize> = (0..100).collect();
        assert_eq!(
            map(&items, |&i| i * 2),
            (0..100).map(|i| i * 2).collect::<Vec<_>>()
        );
        let ran = AtomicUsize::new(0);
        let r = for_each(&items, |&i| {
            ran.fetch_add(1, Ordering::Relaxed);
            Ok(if i == 10 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        });
        assert!(r.is_ok());
        let n = ran.load(Ordering::Relaxed);
        assert!((11..100).contains(&n), "{n} ran");
        let e = for_each(&items, |&i| {
            if i == 3 {
                Err("three".into())
            } else {
                Ok(ControlFlow::Continue(()))
            }
        });
        assert_eq!(e, Err("three".to_string()));
    }
}
