#!/usr/bin/env bash
# Prints what a clock read costs under clockshift compared with a native run:
# a Go program times N calls of time.Now() (wall + monotonic) and of the
# runtime's monotonic clock alone, both ways. Figures only, no pass/fail.
#
# Usage: bench.sh [N] [RUNS]     (defaults: N=100000, RUNS=3; the median run is shown)
set -euo pipefail

n="${1:-100000}"
runs="${2:-3}"
crate_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

clockshift="$("$crate_dir/build-static.sh" 2>"$work/build.log")" || { cat "$work/build.log" >&2; exit 1; }
CGO_ENABLED=0 go build -o "$work/probe" "$crate_dir/tests/fixtures/probe/main.go"

# median_ns MODE [clockshift args...]: median ns/op of $runs runs.
median_ns() {
    local mode="$1"; shift
    for _ in $(seq "$runs"); do
        "$@" "$work/probe" "$mode" "$n" | sed -n 's/.*ns_per_op=\([0-9.]*\).*/\1/p'
    done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

echo "clockshift bench: $n calls per run, median of $runs runs, $(nproc) CPUs, kernel $(uname -r)"
printf '%-34s %12s %12s %9s\n' "read" "native ns" "shifted ns" "ratio"
for mode in bench bench-mono; do
    native="$(median_ns "$mode" env)"
    shifted="$(median_ns "$mode" "$clockshift" --offset +15m --)"
    case "$mode" in
        bench) label="time.Now() (wall + monotonic)" ;;
        bench-mono) label="runtime.nanotime() (monotonic)" ;;
    esac
    awk -v l="$label" -v a="$native" -v b="$shifted" \
        'BEGIN { printf "%-34s %12.1f %12.1f %8.0fx\n", l, a, b, b / a }'
done
