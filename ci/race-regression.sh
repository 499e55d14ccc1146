#!/usr/bin/env bash
# The race regression: every catalog scenario (checks/scenarios/*.scn) on every design, under
# loom and under shuttle, plus the fault zoo's kill matrix and the generated scenarios.
#
# usage: ci/race-regression.sh            # everything, on this machine
#        ci/race-regression.sh K/N        # shard K of N (cargo-nextest partitions), for a CI matrix
#        ci/race-regression.sh --beside-verify
#                                         # only what `cgcheck verify` does not run: the model
#                                         # tests inside loom, the generated scenarios, the CLI
#                                         # and explore tests (.ci/run, which then runs verify)
#
# Bounds, and why (measured on 2 cores, release build; see target/race-report for the figures):
# - loom: every scenario is explored fewest-preemptions-first (bounds 0, 1, 2, ...) so a failure
#   comes with the fewest preemptions, up to the plan its file states (`loom:` in
#   checks/scenarios/*.scn): exhaustive for most; bound 3 for the two-thread scenarios whose
#   exhaustive exploration measured 20k-53k executions or did not finish in 40 s per design; bound
#   2 for the three-thread ones (bound 3 measured 14k-82k executions per design). Each file gives
#   its figure. The six-thread "storm" scenarios are beyond loom's limit of 5 threads and run
#   under shuttle only.
# - shuttle: 1000 PCT schedules (bug depth 3) and 1000 random schedules per scenario and design,
#   from the fixed seed in checks/tests/shuttle_catalog.rs, so any failure replays; the zoo uses
#   2000 PCT schedules per catcher; generated scenarios use 40 PCT schedules per proptest case.
# - the whole loom suite also runs every model test inside a loom execution.
set -euo pipefail
cd "$(dirname "$0")/.."
partition="${1:-}"
rm -rf target/race-report
if [ "$partition" = "--beside-verify" ]; then
    # verify runs the catalog on every design and engine: the suites' catalog targets are the
    # same runs, and so is the zoo's fault-free side (every catcher passes on `fixed`, which
    # verify's catalog rows for `fixed` check). The zoo's other tests stay: every scenario's own
    # killer is theirs alone, and they hold each engine, not any one, to catching every fault.
    # Each engine builds only the test files that have tests under it: not those gated to
    # another backend (`#![cfg(backend_std)]`), and not the unit tests, which test no engine
    # (`cargo test` runs them). The builds go to the target directories verify builds its
    # engines in, so that verify's builds find them done.
    skip=(-- --skip the_fault_free_fixed_design_passes_every_catcher)
    cargo test --release -p cgroup-model --features loom --target-dir target/cgcheck/build-loom \
        --test '*'
    for backend in loom shuttle; do
        targets=()
        for f in checks/tests/*.rs; do
            name=$(basename "$f" .rs)
            case "$name" in loom_catalog | shuttle_catalog) continue ;; esac
            gate=$(sed -n 's/^#!\[cfg(backend_\([a-z]*\))\]$/\1/p' "$f")
            if [ -z "$gate" ] || [ "$gate" = "$backend" ]; then
                targets+=(--test "$name")
            fi
        done
        cargo test --release -p cgroup-checks --features "$backend" \
            --target-dir "target/cgcheck/build-$backend" \
            "${targets[@]}" "${skip[@]}"
    done
    exit 0
fi
if [ -n "$partition" ]; then
    if ! [[ "$partition" =~ ^[0-9]+/[0-9]+$ ]]; then
        echo "usage: $0 [K/N | --beside-verify]   (shard K of N; or only what verify does not run)" >&2
        exit 2
    fi
    if ! cargo nextest --version >/dev/null 2>&1; then
        echo "sharding needs cargo-nextest (cargo install cargo-nextest --locked)" >&2
        exit 2
    fi
    cargo nextest run --release --workspace --features loom --partition "count:$partition" --no-fail-fast
    cargo nextest run --release -p cgroup-checks --features shuttle --partition "count:$partition" --no-fail-fast
else
    cargo test --release --features loom
    cargo test --release -p cgroup-checks --features shuttle
fi
bash ci/report.sh
