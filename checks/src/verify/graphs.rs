//! The catalog's lock graphs: per design, the union of every part's, as lockdep's per-boot
//! graph would hold them had one kernel run every scenario.

use cgmodel::sim::lockdep::{Edge, LockGraph};
use cgmodel::Design;

use super::{GraphEdges, GraphRow};

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
                .flat_map(|p| p.edges.iter())
                .map(|[from, to, from_site, to_site]| Edge {
                    from: from.clone(),
                    to: to.clone(),
                    from_site: from_site.clone(),
                    to_site: to_site.clone(),
                })
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
