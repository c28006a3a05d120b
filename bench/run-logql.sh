#!/usr/bin/env bash
# run-logql.sh - LogQL count_over_time latency over a million log lines in
# pane's store (bench/logql_bench.c), next to the cost of the same counts
# by awk and grep over the same lines as a flat text file.
#
#   bench/run-logql.sh [LINES]      (default 1000000; writing them takes minutes)
#
# Loki itself is not packaged for Debian, so it cannot be run here; the
# awk/grep figures are the floor of "read every line once" on this machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PANE_BUILD_DIR:-build}
lines=${1:-1000000}
[ -x "$root/$build/bench/logql_bench" ] || ninja -C "$root/$build" >/dev/null
work=$(mktemp -d /tmp/pane-bench-logql.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/store"
"$root/$build/bench/logql_bench" "$work/store" "$lines" "$work/flat.txt"
median() { sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
echo
echo "| baseline over the flat file ($(du -h "$work/flat.txt" | cut -f1)) | median ms of 5 |"
echo "|---|---:|"
m=$(for _ in 1 2 3 4 5; do ms awk '{c[int($1/60)]++} END{for (k in c) n++; print n}' "$work/flat.txt"; done | median)
echo "| awk: lines per minute (= sum(count_over_time(...[1m]))) | $m |"
m=$(for _ in 1 2 3 4 5; do ms awk '{c[$2 " " int($1/60)]++} END{for (k in c) n++; print n}' "$work/flat.txt"; done | median)
echo "| awk: lines per service and minute (= sum by (service)) | $m |"
m=$(for _ in 1 2 3 4 5; do ms grep -c timeout "$work/flat.txt"; done | median)
echo "| grep -c timeout | $m |"
echo "| logs.db size | $(du -h "$work/store/logs.db" | cut -f1) |"
