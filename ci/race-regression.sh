#!/usr/bin/env bash
# The race regression: every catalog scenario on every design, under loom and under shuttle.
# loom: bounds 0..=2 per scenario, fewest preemptions first (checks/tests/scenarios.rs); the
#       scenarios are small enough that this takes seconds in a release build.
# shuttle: 2000 PCT schedules of depth 3 per scenario and design, fixed seed 0x5eed, so a failure
#       replays.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --features loom
cargo test --release -p cgroup-checks --features shuttle
