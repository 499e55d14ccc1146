#!/usr/bin/env bash
# Prints the race regression's table from target/race-report/*.tsv (written by the suites):
# per engine and scenario, the design, faults, bound, executions, seconds and verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=target/race-report
if ! ls "$dir"/*.tsv >/dev/null 2>&1; then
    echo "no race report in $dir (run ci/race-regression.sh first)" >&2
    exit 1
fi
printf '\n%-16s %-34s %-31s %-26s %-13s %10s %9s  %s\n' engine scenario design faults bound executions seconds verdict
sort -t$'\t' -k1,1 -k2,2 -k3,3 "$dir"/*.tsv | awk -F'\t' '{
    printf "%-16s %-34s %-31s %-26s %-13s %10d %9.2f  %s\n", $1, $2, $3, substr($4,1,26), $5, $6, $7, $8
    n[$1]++; ex[$1]+=$6; s[$1]+=$7; if ($8=="fail" || $8=="missed") bad++
} END {
    print ""
    for (e in n) printf "%-16s %4d runs %12d executions %9.1f s\n", e, n[e], ex[e], s[e]
    if (bad) { printf "%d unexpected failure(s)\n", bad; exit 1 }
}'
