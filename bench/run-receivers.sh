#!/usr/bin/env bash
# run-receivers.sh - receivers benchmarks (see bench/README.md, "receivers"):
#   StatsD lines/s over loopback UDP (and lost lines), Prometheus text parse
#   MB/s, and remote_write ingest: the same snappy/protobuf stream POSTed to
#   pane's receiver (into a discarding sink: no store) and to Debian's
#   VictoriaMetrics (which stores it), with each server's CPU seconds.
#   bench/run-receivers.sh [--quick]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
quick=0; [ "${1:-}" = "--quick" ] && quick=1
reqs=$([ $quick = 1 ] && echo 100 || echo 300)
builddir=${PANE_BUILD_DIR:-build}
[ -f "$builddir/build.ninja" ] || meson setup "$builddir" >/dev/null
ninja -C "$builddir" bench/receivers_bench >/dev/null
bin="$builddir/bench/receivers_bench"
tmp=$(mktemp -d /tmp/pane-bench-recv.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime, clock ticks
hz=$(getconf CLK_TCK)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "-- statsd (4 s)"
"$bin" statsd 4 2>/dev/null
echo "-- prometheus text parse (64 MB)"
"$bin" promtext 64 | tail -1

echo "-- remote_write: $reqs requests x 2000 samples, one client connection"
"$bin" serve-rw "$tmp/port" 2>"$tmp/pane.log" & pids+=($!); ppid=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
pport=$(cat "$tmp/port")
c0=$(cpu_of $ppid)
pane_out=$("$bin" rw "http://127.0.0.1:$pport/api/v1/write" "$reqs")
c1=$(cpu_of $ppid)

vport=$(free_port)
victoria-metrics -httpListenAddr="127.0.0.1:$vport" -storageDataPath="$tmp/vm" -retentionPeriod=100y \
  -loggerLevel=ERROR >"$tmp/vm.log" 2>&1 & pids+=($!); vpid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$vport/health" >/dev/null && break; sleep 0.1; done
v0=$(cpu_of $vpid)
vm_out=$("$bin" rw "http://127.0.0.1:$vport/api/v1/write" "$reqs")
v1=$(cpu_of $vpid)
curl -sf "http://127.0.0.1:$vport/internal/force_flush" >/dev/null || true
vm_rows=$(curl -sf "http://127.0.0.1:$vport/api/v1/query?query=count(bench_metric_1)&time=$((1764331200 + reqs - 1))" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "0")' || echo "?")

samples=$((reqs * 2000))
python3 - "$pane_out" "$vm_out" "$c0" "$c1" "$v0" "$v1" "$hz" "$samples" "$vm_rows" <<'PY'
import re, sys
pane, vm, c0, c1, v0, v1, hz, n, rows = sys.argv[1:]
rate = lambda s: float(re.search(r"rw_samples_per_s (\d+)", s).group(1))
pc = (float(c1) - float(c0)) / float(hz); vc = (float(v1) - float(v0)) / float(hz)
print(f"{'receiver':<34}{'samples/s (wall)':>18}{'server CPU-s':>14}{'samples per CPU-s':>20}")
print(f"{'pane (discarding sink, no store)':<34}{rate(pane):>18,.0f}{pc:>14.2f}{int(n)/max(pc,1e-9):>20,.0f}")
print(f"{'VictoriaMetrics 1.79 (stores)':<34}{rate(vm):>18,.0f}{vc:>14.2f}{int(n)/max(vc,1e-9):>20,.0f}")
print(f"ratio pane/VM wall: {rate(pane)/rate(vm):.2f}x; VM series of bench_metric_1 visible after the run: {rows}")
print("pane:", pane.strip()); print("VM:  ", vm.strip())
PY
