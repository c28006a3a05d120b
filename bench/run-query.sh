#!/usr/bin/env bash
# run-query.sh - the same PromQL range queries over the same data in pane and
# in Debian's Prometheus, one run, both over HTTP on loopback, same client.
# Prints per-query median latency and the ratio pane/Prometheus.
#   bench/run-query.sh [SERIES] [HOURS] [REPEATS]    (defaults 200 24 7)
# pane side: bench_query_server (the engine + API over the in-memory reader,
# since the store lands on another branch). Prometheus side: promtool blocks.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
series=${1:-200}; hours=${2:-24}; reps=${3:-7}
build=${BUILD:-$root/build}
[ -x "$build/bench/bench_query_server" ] || ninja -C "$build" >/dev/null
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
"$build/bench/bench_query_server" "$tmp/data.om" "$qport" 2>"$tmp/pane.log" & pids+=($!)
python3 - "$pport" "$qport" "$hours" "$reps" "$series" <<'PY'
import json, statistics, sys, time, urllib.parse, urllib.request
pport, qport, hours, reps, series = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
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
ready("http://127.0.0.1:%s/api/v1/status/buildinfo" % qport)
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
print("%s series x2, %.0f h of 15 s samples; range queries over %.0f h at step 60 s; median of %d" % (series, hours, hours - 1, reps))
print("%-92s %10s %10s %7s" % ("query", "pane ms", "prom ms", "ratio"))
ratios = []
for q in queries:
    run(pport, q); run(qport, q)  # warm up
    pt, qt = [], []
    for _ in range(reps):
        a, da = run(qport, q); b, db = run(pport, q)
        qt.append(a); pt.append(b)
    same = da.get("status") == db.get("status") and len(da.get("data", {}).get("result", [])) == len(db.get("data", {}).get("result", []))
    mq, mp = statistics.median(qt) * 1000, statistics.median(pt) * 1000
    ratios.append(mq / mp)
    print("%-92s %10.1f %10.1f %7.2f%s" % (q[:92], mq, mp, mq / mp, "" if same else "  (answers differ!)"))
print("median ratio pane/prometheus: %.2f" % statistics.median(ratios))
PY
