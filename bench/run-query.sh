#!/usr/bin/env bash
# run-query.sh - the same PromQL range queries over the same data in pane and
# in Debian's Prometheus, one run, both over HTTP on loopback, same client.
# Prints per-query median latency and the ratio pane/Prometheus.
#   bench/run-query.sh [--store] [SERIES] [HOURS] [REPEATS]    (defaults 200 24 7)
# pane side: by default bench_query_server (the engine + API over the
# in-memory reader); with --store, `pane serve` over its own store, loaded
# with `pane import` (the real read path: segments, index, heads).
# Prometheus side: promtool blocks. VictoriaMetrics: /api/v1/import/prometheus.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=memory
if [ "${1:-}" = "--store" ]; then mode=store; shift; fi
series=${1:-200}; hours=${2:-24}; reps=${3:-7}
build=${BUILD:-$root/build}
[ -x "$build/bench/bench_query_server" ] && [ -x "$build/pane" ] || ninja -C "$build" >/dev/null
command -v prometheus >/dev/null || { echo "run-query.sh: prometheus missing: scripts/install-deps.sh"; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
python3 "$root/bench/query_data.py" "$series" "$hours" > "$tmp/data.om"
promtool tsdb create-blocks-from openmetrics "$tmp/data.om" "$tmp/tsdb" >/dev/null
printf 'global:\n  scrape_interval: 15s\n' > "$tmp/prom.yml"
pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
qport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
prometheus --config.file="$tmp/prom.yml" --storage.tsdb.path="$tmp/tsdb" --storage.tsdb.retention.time=100y \
  --web.listen-address=127.0.0.1:$pport >"$tmp/prom.log" 2>&1 & pids+=($!)
if [ "$mode" = store ]; then
  # the same samples as Prometheus text with ms timestamps, into pane's store
  awk '!/^#/ { ts = $NF; $NF = ""; printf "%s%d000\n", $0, ts }' "$tmp/data.om" > "$tmp/data.prom"
  "$build/pane" import --format prometheus "$tmp/data.prom" --data-dir "$tmp/pane" >"$tmp/import.log" 2>&1
  printf 'store:\n  retention: 0s\n' > "$tmp/pane.yaml"
  env -u DATABASE_URL "$build/pane" serve --config "$tmp/pane.yaml" --listen 127.0.0.1:$qport \
    --data-dir "$tmp/pane" >"$tmp/pane.log" 2>&1 & pids+=($!)
else
  "$build/bench/bench_query_server" "$tmp/data.om" "$qport" 2>"$tmp/pane.log" & pids+=($!)
fi
vport=0
if command -v victoria-metrics >/dev/null; then
  vport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # -search.disableCache: every repetition really evaluates, as for the others
  victoria-metrics -storageDataPath="$tmp/vm" -retentionPeriod=100y -httpListenAddr=127.0.0.1:$vport \
    -search.disableCache -search.latencyOffset=0s >"$tmp/vm.log" 2>&1 & pids+=($!)
fi
python3 - "$pport" "$qport" "$hours" "$reps" "$series" "$vport" "$tmp/data.om" "$mode" "${pids[1]}" <<'PY'
import json, os, statistics, sys, time, urllib.parse, urllib.request
pport, qport, hours, reps, series = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
vport, datafile, mode, qpid = sys.argv[6], sys.argv[7], sys.argv[8], sys.argv[9]
def cpu_ms():
    # pane's user + system time (all its threads, /proc/PID/stat), in ms
    f = open("/proc/%s/stat" % qpid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")
def rss_mb():
    for line in open("/proc/%s/status" % qpid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
T0 = 1700000000
start, end, step = T0 + 3600, T0 + int(hours * 3600), 60
def ready(url):
    for _ in range(600):
        try:
            urllib.request.urlopen(url, timeout=1); return
        except Exception:
            time.sleep(0.1)
    sys.exit("not ready: " + url)
ready("http://127.0.0.1:%s/-/ready" % pport)
ready("http://127.0.0.1:%s/api/v1/status/buildinfo" % qport if mode == "memory" else "http://127.0.0.1:%s/readyz" % qport)
if vport != "0":
    ready("http://127.0.0.1:%s/health" % vport)
    # VictoriaMetrics imports Prometheus text with millisecond timestamps
    def chunks():
        buf = []
        for line in open(datafile):
            if line.startswith("#"):
                continue
            head, ts = line.rsplit(" ", 1)
            buf.append("%s %d\n" % (head, int(float(ts) * 1000)))
            if len(buf) >= 200000:
                yield "".join(buf).encode(); buf = []
        if buf:
            yield "".join(buf).encode()
    for c in chunks():
        urllib.request.urlopen("http://127.0.0.1:%s/api/v1/import/prometheus" % vport, c, timeout=300).read()
    urllib.request.urlopen("http://127.0.0.1:%s/internal/force_flush" % vport, timeout=60).read()
queries = [
    "rate(http_requests_total[5m])",
    "sum by (instance) (rate(http_requests_total[5m]))",
    "sum(rate(http_requests_total{code=~\"5..\"}[5m])) / sum(rate(http_requests_total[5m]))",
    "avg_over_time(temperature_celsius[10m])",
    "topk(5, max by (instance) (temperature_celsius))",
    "quantile(0.9, rate(http_requests_total[5m]))",
    "temperature_celsius * on(instance) group_left sum by (instance) (rate(http_requests_total[5m]))",
]
def run(port, q):
    body = urllib.parse.urlencode({"query": q, "start": start, "end": end, "step": step}).encode()
    t = time.perf_counter()
    with urllib.request.urlopen("http://127.0.0.1:%s/api/v1/query_range" % port, body, timeout=120) as r:
        data = json.loads(r.read())
    return time.perf_counter() - t, data
print("%s series x2, %.0f h of 15 s samples; range queries over %.0f h at step 60 s; median of %d; pane: %s" % (series, hours, hours - 1, reps, "pane serve over its store" if mode == "store" else "engine over the in-memory reader"))
print("%-80s %9s %9s %9s %7s %7s %9s" % ("query", "pane ms", "prom ms", "vm ms", "pane/prom", "pane/vm", "pane cpu"))
ratios, vratios = [], []
for q in queries:
    run(pport, q); run(qport, q)  # warm up
    if vport != "0":
        run(vport, q)
    pt, qt, vt, cpu = [], [], [], 0.0
    for _ in range(reps):
        c0 = cpu_ms()
        a, da = run(qport, q)
        cpu += cpu_ms() - c0
        b, db = run(pport, q)
        qt.append(a); pt.append(b)
        if vport != "0":
            vt.append(run(vport, q)[0])
    same = da.get("status") == db.get("status") and len(da.get("data", {}).get("result", [])) == len(db.get("data", {}).get("result", []))
    mq, mp = statistics.median(qt) * 1000, statistics.median(pt) * 1000
    mv = statistics.median(vt) * 1000 if vt else float("nan")
    ratios.append(mq / mp)
    if vt:
        vratios.append(mq / mv)
    print("%-80s %9.1f %9.1f %9.1f %7.2f %7.2f %9.1f%s" % (q[:80], mq, mp, mv, mq / mp, mq / mv if vt else float("nan"), cpu / reps, "" if same else "  (answers differ!)"))
print("median ratio pane/prometheus: %.2f" % statistics.median(ratios))
if vratios:
    print("median ratio pane/victoriametrics: %.2f" % statistics.median(vratios))
print("pane cpu: ms of user + system time per query (/proc, 10 ms ticks); pane RSS after: %.1f MB" % rss_mb())
PY
