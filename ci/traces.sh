#!/usr/bin/env bash
# Regenerates traces/ (one trace per zoo fault, per baseline finding and per scenario the
# dummy-unlinked design without the special cases fails) with shuttle PCT, fewest
# priority changes first (3,000 schedules per depth, as verify hunts a finding), then docs/traces.md
# from them. Traces come from shuttle, not loom: loom
# also explores weak-memory outcomes (a load returning an older value), which real threads cannot
# be made to take, so a loom trace does not always replay; shuttle's executions are sequentially
# consistent and replay step for step.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p cgroup-checks --bin cgcheck --features shuttle
rm -f traces/*.trace
./target/release/cgcheck zoo --traces traces >/dev/null
# The findings on v2.6.34 (docs/design-review.md section 4).
for sc in netcls-init-vs-classify load-error-then-load classid-open-vs-remount classid-open-vs-rmmod \
    blkio-time-open-vs-rmmod cpu-shares-open-vs-remount \
    netcls-init-fails-vs-tc-add css-put-release-vs-rmmod-preempt; do
    ./target/release/cgcheck run "$sc" --iterations 3000 --trace "traces/$sc--v2.6.34.trace" >/dev/null || true
done
# The cover letter's question: the dummy-unlinked design without the special cases.
for sc in dummy-empty-load-unload-vs-attach dummy-last-unload-vs-attach dummy-empty-reload-vs-classify \
    dummy-empty-load-vs-mount dummy-relink-vs-exit load-vs-mount-all storm-modules storm-hierarchies; do
    ./target/release/cgcheck run "$sc" --iterations 3000 --design dummy-unlinked-no-special-cases \
        --trace "traces/$sc--dummy-unlinked-no-special-cases.trace" >/dev/null || true
done
cargo build --release -q -p cgroup-checks --bin cgcheck
for f in traces/*.trace; do ./target/release/cgcheck replay "$f" >/dev/null; done
{
    cat docs/traces-intro.md
    for f in traces/*.trace; do
        name=$(basename "$f" .trace)
        echo
        echo "## $name"
        echo
        grep -E '^(design|faults|engine|violation): ' "$f" | sed 's/^/- /'
        echo "- plan:"
        grep -E '^(setup|thread [0-9]+): ' "$f" | sed 's/^/    - /'
        echo "- full timeline: [\`traces/$name.trace\`](../traces/$name.trace) ($(grep -m1 '^timeline:' "$f" | cut -d' ' -f2) steps)"
        echo
        echo '```text'
        ./target/release/cgcheck render --text "$f"
        echo '```'
        echo
        echo '```mermaid'
        ./target/release/cgcheck render "$f"
        echo '```'
    done
} > docs/traces.md
echo "wrote traces/ ($(ls traces/*.trace | wc -l) traces) and docs/traces.md"
