//! The catalog's lock graphs: per design, the union of every part's, as lockdep's per-boot
//! graph would hold them had one kernel run every scenario.

use cgmodel::sim::lockdep::{Edge, LockGraph};
use cgmodel::Design;

use super::{GraphEdges, GraphRow};
use crate::engine::Outcome;

/// Per design, one lock graph that runs add to (lockdep's graph is per boot: `verify`'s spans the
/// catalog, explore's its space), started from edges a part or a state file kept.
pub struct DesignGraphs(Vec<(Design, LockGraph)>);

impl DesignGraphs {
    /// Empty graphs for `designs`, with the edges of `kept` added.
    pub fn new(designs: &[Design], kept: &[GraphEdges]) -> Self {
        let g = DesignGraphs(designs.iter().map(|&d| (d, LockGraph::default())).collect());
        for e in kept {
            if let Some((_, graph)) = g.0.iter().find(|(d, _)| *d == e.design) {
                let _ = graph.merge(&edges_of(e));
            }
        }
        g
    }

    /// Adds the orders `o`'s run took on `design` (cycles are found when the graphs are merged
    /// into rows, [`lock_graphs`]).
    pub fn add(&self, design: Design, o: &Outcome) {
        if let Some((_, g)) = self.0.iter().find(|(d, _)| *d == design) {
            let _ = g.merge(&o.lock_graph.edges());
        }
    }

    /// Every graph's edges, as a part hands them over.
    pub fn edges(&self) -> Vec<GraphEdges> {
        self.0.iter().map(|(d, g)| graph_edges(*d, g)).collect()
    }
}

/// Per design, the union of the parts' lock graphs, in the order of their classes (so that
/// which edge closes a cycle does not depend on the order the runs finished in), with its size
/// and every cycle.
pub fn lock_graphs(parts: &[GraphEdges]) -> Vec<GraphRow> {
    Design::ALL
        .iter()
        .filter(|d| parts.iter().any(|p| p.design == **d))
        .map(|&design| {
            let mut edges: Vec<Edge> = parts
                .iter()
                .filter(|p| p.design == design)
                .flat_map(edges_of)
                .collect();
            edges.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
            let g = LockGraph::default();
            let cycles = g.merge(&edges);
            let (classes, edges) = g.size();
            GraphRow {
                design,
                classes,
                edges,
                cycles,
                orders: g
                    .edges()
                    .iter()
                    .map(|e| format!("{} -> {}", e.from, e.to))
                    .collect(),
            }
        })
        .collect()
}

/// A part's edges as the model's.
fn edges_of(p: &GraphEdges) -> Vec<Edge> {
    p.edges
        .iter()
        .map(|[from, to, from_site, to_site]| Edge {
            from: from.clone(),
            to: to.clone(),
            from_site: from_site.clone(),
            to_site: to_site.clone(),
        })
        .collect()
}

/// `g`'s edges as a part hands them over.
fn graph_edges(design: Design, g: &LockGraph) -> GraphEdges {
    GraphEdges {
        design,
        edges: g
            .edges()
            .into_iter()
            .map(|e| [e.from, e.to, e.from_site, e.to_site])
            .collect(),
    }
}

/// `lock graph (WHAT, per design): 20 classes, 41 edges, no cycle`, then each cycle; nothing
/// when there is no graph.
pub fn graph_line(g: &[GraphRow], what: &str) -> String {
    let (Some(cmin), Some(cmax)) = (
        g.iter().map(|x| x.classes).min(),
        g.iter().map(|x| x.classes).max(),
    ) else {
        return String::new();
    };
    let emin = g.iter().map(|x| x.edges).min().unwrap_or(0);
    let emax = g.iter().map(|x| x.edges).max().unwrap_or(0);
    let range = |a: usize, b: usize| {
        if a == b {
            a.to_string()
        } else {
            format!("{a}-{b}")
        }
    };
    let cycles: Vec<String> = g
        .iter()
        .flat_map(|x| x.cycles.iter().map(move |c| format!("{}: {c}", x.design)))
        .collect();
    let mut s = format!(
        "lock graph ({what}, per design): {} classes, {} edges, {}\n",
        range(cmin, cmax),
        range(emin, emax),
        match cycles.len() {
            0 => "no cycle".to_string(),
            n => format!("{n} cycle(s)"),
        }
    );
    for c in cycles {
        s += &format!("  lock-order: {c}\n");
    }
    s
}
