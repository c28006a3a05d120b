#!/usr/bin/env bash
# run-store.sh - pane's embedded store next to Prometheus and VictoriaMetrics
# (both from Debian) on the same generated day of metrics.
#
#   bench/run-store.sh [--hours H] [--keep] [--no-shapes]
#
# Generates ~1,000 realistic series x 24 h at 15 s (bench/store/gen.py), then
#   pane:       pane import (Prometheus text, ms timestamps) into a fresh dir
#               (default: raw + the 1 h tier; again with --tiers none)
#   Prometheus: promtool tsdb create-blocks-from openmetrics
#   VictoriaMetrics: started on a loopback port, POST /api/v1/import/prometheus,
#               /internal/force_flush, stopped cleanly (SIGINT)
# and prints bytes/sample on disk (everything in the data directory after a
# clean shutdown), ingest CPU seconds, peak RSS, and the time to read every
# sample back (pane: in-process select of all series; VictoriaMetrics:
# /api/v1/export of all series, which includes JSON encoding - see the note)
# and, pane only, every series one past hour at a time (store_bench hours).
# Then, per shape of bench/store/shapes.py (regular timestamps, uniform and
# heavy-tailed increments, arbitrary floats, counter resets, sparse series,
# mostly-empty histograms, a second fleet history), bytes/sample for pane
# (default config, tiers included) and VictoriaMetrics, both everything on
# disk after a clean shutdown, next to the shape's entropy floor (shapes.py
# says how it is estimated), and Prometheus' promtool blocks of the same.
# Uses the build in ${PANE_BUILD_DIR:-build}. Runs take a few minutes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PANE_BUILD_DIR:-build}
hours=24
keep=0
shapes=1
while [ $# -gt 0 ]; do
  case "$1" in
    --hours) hours=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-shapes) shapes=0; shift ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-store.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for t in promtool victoria-metrics python3 curl; do
  command -v $t >/dev/null || { echo "run-store.sh: $t missing: scripts/install-deps.sh --bench" >&2; exit 1; }
done
[ -x "$root/$build/pane" ] && [ -x "$root/$build/bench/store_bench" ] || ninja -C "$root/$build" >/dev/null
pane="$root/$build/pane"
sb="$root/$build/bench/store_bench"
work=$(mktemp -d /tmp/pane-bench-store.XXXXXX)
vmpid=
cleanup() {
  [ -n "$vmpid" ] && kill "$vmpid" 2>/dev/null
  [ $keep -eq 1 ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

python3 "$root/bench/store/gen.py" "$work/data" --hours "$hours" 2>"$work/gen.log"
cat "$work/gen.log"
samples=$(grep -o '= [0-9]*' "$work/gen.log" | tr -dc 0-9)
series=$(grep -o 'gen.py: [0-9]* series' "$work/gen.log" | tr -dc 0-9)
floor=$(grep -o 'floor [0-9.]*' "$work/gen.log" | cut -d' ' -f2)

cpu_of() { # "user sys" from /usr/bin/time output file -> seconds
  awk '{print $1 + $2}' "$1"
}

# ---- pane
/usr/bin/time -f "%U %S %M" -o "$work/pane.time" "$pane" import --format prometheus "$work/data.prom" --data-dir "$work/pane" >/dev/null
pane_bytes=$(du -sb "$work/pane" | cut -f1)  # the whole data dir, as for the peers
"$pane" import --tiers none --format prometheus "$work/data.prom" --data-dir "$work/pane-notiers" >/dev/null
pane_notiers=$(du -sb "$work/pane-notiers" | cut -f1)
pane_seg=$(cat "$work/pane-notiers/store/chunks/"*.seg | wc -c)
pane_cpu=$(cpu_of "$work/pane.time")
pane_rss=$(awk '{print $3}' "$work/pane.time")
rows=$(python3 "$root/bench/store/sqlite_rows.py" "$work/pane-notiers/store" "$work/rows.db")
"$sb" read "$work/pane/store" 5 >"$work/pane.read"
pane_read=$(awk '/read_ms_median/ {print $2}' "$work/pane.read")
pane_read_n=$(awk '/read_samples/ {print $2}' "$work/pane.read")
"$sb" hours "$work/pane/store" 5 >"$work/pane.hours"
pane_hours=$(awk '/hours_ms_sum/ {print $2}' "$work/pane.hours")
pane_hours_worst=$(awk '/hours_ms_worst/ {print $2}' "$work/pane.hours")
pane_hours_n=$(awk '/^hours / {print $2}' "$work/pane.hours")
"$sb" live "$work/pane-live" 10000 480 >"$work/pane.live"
pane_live=$(awk '/^bytes_per_active_series/ {print $2}' "$work/pane.live")
pane_heap=$(awk '/^heap_bytes_per_active_series/ {print $2}' "$work/pane.live")

# ---- Prometheus (promtool backfill)
/usr/bin/time -f "%U %S %M" -o "$work/prom.time" promtool tsdb create-blocks-from openmetrics "$work/data.om" "$work/prom" >/dev/null 2>"$work/prom.log" || { cat "$work/prom.log"; exit 1; }
prom_bytes=$(du -sb "$work/prom" | cut -f1)
prom_cpu=$(cpu_of "$work/prom.time")
prom_rss=$(awk '{print $3}' "$work/prom.time")

# ---- VictoriaMetrics
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
victoria-metrics -storageDataPath="$work/vm" -httpListenAddr="127.0.0.1:$port" -retentionPeriod=100y \
  -search.maxExportSeries=100000 -loggerLevel=ERROR >"$work/vm.log" 2>&1 &
vmpid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
cpu_ticks() { awk '{print $14 + $15}' "/proc/$vmpid/stat"; }
hz=$(getconf CLK_TCK)
t0=$(cpu_ticks)
curl -sf --data-binary @"$work/data.prom" "http://127.0.0.1:$port/api/v1/import/prometheus"
curl -sf "http://127.0.0.1:$port/internal/force_flush" >/dev/null
t1=$(cpu_ticks)
vm_cpu=$(python3 -c "print(round(($t1 - $t0) / $hz, 2))")
vm_rss=$(awk '/VmHWM/ {print $2}' "/proc/$vmpid/status")
vm_reads=()
for _ in 1 2 3; do
  s=$(date +%s%N)
  n=$(curl -sf "http://127.0.0.1:$port/api/v1/export" --data-urlencode 'match[]={__name__!=""}' | python3 -c '
import sys, json
print(sum(len(json.loads(l)["values"]) for l in sys.stdin))' )
  e=$(date +%s%N)
  vm_reads+=($(( (e - s) / 1000000 )))
done
kill -INT "$vmpid"; wait "$vmpid" 2>/dev/null || true; vmpid=
vm_bytes=$(du -sb "$work/vm" | cut -f1)
vm_nocache=$(( vm_bytes - $(du -sb "$work/vm/cache" | cut -f1) ))
vm_read=$(printf '%s\n' "${vm_reads[@]}" | sort -n | sed -n 2p)

bps() { python3 -c "print('%.3f' % ($1 / $samples))"; }
per_series() { python3 -c "print('%.0f' % ($1 * 1024 / $series))"; }
echo
echo "store benchmark: $series series, $samples samples ($hours h at 15 s), one run on a shared 2-core machine"
printf '%-34s %14s %14s %14s\n' "" pane prometheus victoriametrics
printf '%-34s %14s %14s %14s\n' "bytes on disk" "$pane_bytes" "$prom_bytes" "$vm_bytes"
printf '%-34s %14s %14s %14s\n' "bytes/sample (everything)" "$(bps $pane_bytes)" "$(bps $prom_bytes)" "$(bps $vm_bytes)"
printf '%-34s %14s %14s %14s\n' "bytes/sample (pane without tiers)" "$(bps $pane_notiers)" "" ""
printf '%-34s %14s %14s %14s\n' "bytes/sample (VM without cache/)" "" "" "$(bps $vm_nocache)"
printf '%-34s %14s %14s %14s\n' "est. entropy floor (bytes/sample)" "$floor" "$floor" "$floor"
printf '%-34s %14s %14s %14s\n' "bytes/sample (pane: segments only, no tiers)" "$(bps $pane_seg)" "" ""
printf '%-34s %14s %14s %14s\n' "ingest CPU seconds" "$pane_cpu" "$prom_cpu" "$vm_cpu"
printf '%-34s %14s %14s %14s\n' "peak RSS during ingest (KB)" "$pane_rss" "$prom_rss" "$vm_rss"
printf '%-34s %14s %14s %14s\n' "peak RSS / series (bytes)" "$(per_series $pane_rss)" "$(per_series $prom_rss)" "$(per_series $vm_rss)"
printf '%-34s %14s %14s %14s\n' "read all samples (ms, median)" "$pane_read" "" "$vm_read"
echo "pane read returned $pane_read_n samples; VictoriaMetrics' read is /api/v1/export incl. JSON + parsing"
echo "pane, one past hour at a time (store_bench hours): $pane_hours_n hours, $pane_hours ms in all, the slowest $pane_hours_worst ms"
echo "pane live ingest, 10000 series x 480 scrapes: $pane_live bytes of RSS ($pane_heap bytes of heap) per active series"
echo "pane segments as SQLite rows instead of files: $rows"

[ $shapes -eq 1 ] || exit 0
# ---- per shape: pane (default config), VictoriaMetrics and Prometheus, everything on disk
vm_store() { # FILE DIR -> "everything without-cache" bytes after a clean shutdown
  local port pid
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  victoria-metrics -storageDataPath="$2" -httpListenAddr="127.0.0.1:$port" -retentionPeriod=100y \
    -loggerLevel=ERROR >"$2.log" 2>&1 &
  pid=$!; vmpid=$pid
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  curl -sf --data-binary @"$1" "http://127.0.0.1:$port/api/v1/import/prometheus"
  curl -sf "http://127.0.0.1:$port/internal/force_flush" >/dev/null
  kill -INT $pid; wait $pid 2>/dev/null || true; vmpid=
  echo "$(du -sb "$2" | cut -f1) $(( $(du -sb "$2" | cut -f1) - $(du -sb "$2/cache" | cut -f1) ))"
}
python3 "$root/bench/store/shapes.py" "$work/shapes" --hours "$hours" >"$work/shapes.txt"
echo
echo "per shape (bytes/sample; everything on disk after a clean shutdown; floor: bench/store/shapes.py)"
printf '%-10s %8s %9s %9s %9s %9s %9s %9s %8s %8s %8s\n' shape series samples pane "pane-seg" vm "vm-nocache" prom floor "pane/vm" "pane/fl"
tot_s=0; tot_p=0; tot_v=0; tot_f=0; tot_r=0
while read -r name nser nsamp fbits; do
  f="$work/shapes/$name.prom"
  "$pane" import --format prometheus "$f" --data-dir "$work/p-$name" >/dev/null </dev/null
  pb=$(du -sb "$work/p-$name" | cut -f1)  # everything under the data dir
  ps=$(cat "$work/p-$name/store/chunks/"*.seg | wc -c)
  read -r vb vn < <(vm_store "$f" "$work/vm-$name" </dev/null)
  promtool tsdb create-blocks-from openmetrics "$work/shapes/$name.om" "$work/pr-$name" >/dev/null 2>"$work/pr-$name.log" </dev/null ||
    { cat "$work/pr-$name.log"; exit 1; }
  rb=$(du -sb "$work/pr-$name" | cut -f1)
  rm -rf "$work/p-$name" "$work/vm-$name" "$work/pr-$name" "$f" "$work/shapes/$name.om"
  python3 - "$name" "$nser" "$nsamp" "$fbits" "$pb" "$ps" "$vb" "$vn" "$rb" <<'PY'
import sys
name, ser, n, fb, pb, ps, vb, vn, rb = sys.argv[1], *map(float, sys.argv[2:])
fl = fb / 8 / n
print("%-10s %8d %9d %9.3f %9.3f %9.3f %9.3f %9.3f %8.3f %8.2f %8.2f" % (
    name, ser, n, pb / n, ps / n, vb / n, vn / n, rb / n, fl, pb / vb, pb / (fb / 8) if fb else float("inf")))
PY
  tot_s=$((tot_s + nsamp)); tot_p=$((tot_p + pb)); tot_v=$((tot_v + vb)); tot_r=$((tot_r + rb)); tot_f=$(python3 -c "print(int($tot_f + $fbits / 8))")
done <"$work/shapes.txt"
python3 -c "print('%-10s %8s %9d %9.3f %9s %9.3f %9s %9.3f %8.3f %8.2f %8.2f' % ('total', '', $tot_s, $tot_p / $tot_s, '', $tot_v / $tot_s, '', $tot_r / $tot_s, $tot_f / $tot_s, $tot_p / $tot_v, $tot_p / $tot_f))"
echo "columns: pane-seg = pane's partition files only (segments and tier blobs, no SQLite); vm-nocache = VictoriaMetrics without cache/;"
echo "  prom = Prometheus 2.42's promtool tsdb create-blocks-from openmetrics (uncompacted 2 h blocks, as for the day above)"
echo "ratios: pane/vm and pane/floor, everything on disk (goal: pane/vm <= 0.90 and pane/floor <= 1.20)"
