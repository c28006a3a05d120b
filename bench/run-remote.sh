#!/usr/bin/env bash
# run-remote.sh - what the remote query backend costs (bench/README.md).
# The PromQL corpus (tests/promql/expected.jsonl: 1,371 range and instant
# queries over tests/promql/data.om) answered by
#   pane over its embedded store,
#   pane over VictoriaMetrics (query: backend:, pane's engine, raw samples over HTTP),
#   VictoriaMetrics itself (its own engine; different PromQL in places),
# one query at a time from one client, 3 rounds each, median of the rounds.
#   ninja -C build && bench/run-remote.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${PANE_BIN:-$root/build/pane}
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 400); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; return 1; }

awk '!/^#/ {print $1, $2, $3 "000"}' "$root/tests/promql/data.om" >"$tmp/data.prom"
vp=$(port)
victoria-metrics -httpListenAddr="127.0.0.1:$vp" -storageDataPath="$tmp/vm" -retentionPeriod=100y \
  -search.latencyOffset=0s -loggerLevel=ERROR >"$tmp/vm.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$vp/health"
curl -fsS --data-binary @"$tmp/data.prom" "http://127.0.0.1:$vp/api/v1/import/prometheus"
curl -fsS "http://127.0.0.1:$vp/internal/force_flush" >/dev/null
for _ in $(seq 1 200); do  # searchable once indexed
  n=$(curl -fsS "http://127.0.0.1:$vp/api/v1/label/__name__/values?start=1699990000" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]))')
  [ "$n" -ge "$(cut -d'{' -f1 "$tmp/data.prom" | cut -d' ' -f1 | sort -u | wc -l)" ] && break
  sleep 0.05
done

"$bin" import --format prometheus "$tmp/data.prom" --data-dir "$tmp/local" >/dev/null
printf 'receivers:\n  statsd:\n    enabled: false\n' >"$tmp/local.yaml"
printf 'query:\n  backend: http://127.0.0.1:%s\nreceivers:\n  statsd:\n    enabled: false\n' "$vp" >"$tmp/remote.yaml"
lp=$(port); rp=$(port)
"$bin" serve --config "$tmp/local.yaml" --data-dir "$tmp/local" --listen "127.0.0.1:$lp" >"$tmp/l.log" 2>&1 &
pids+=($!)
"$bin" serve --config "$tmp/remote.yaml" --data-dir "$tmp/remote" --listen "127.0.0.1:$rp" >"$tmp/r.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$lp/readyz"
wait_up "http://127.0.0.1:$rp/readyz"

python3 - "$root" "http://127.0.0.1:$lp" "http://127.0.0.1:$rp" "http://127.0.0.1:$vp" <<'PY'
import http.client, json, statistics, sys, time, urllib.parse
root, targets = sys.argv[1], {"pane (embedded store)": sys.argv[2], "pane over VictoriaMetrics": sys.argv[3],
                              "VictoriaMetrics itself": sys.argv[4]}
T0 = 1700000000
P = {"range": {"start": T0 + 300, "end": T0 + 3900, "step": 30},
     "range_odd": {"start": T0 + 317.25, "end": T0 + 3699, "step": 47.5}, "instant": {"time": T0 + 1830}}
qs = [json.loads(l) for l in open(root + "/tests/promql/expected.jsonl")]
print("%-28s %10s %14s %14s" % ("", "wall s", "median ms/q", "p90 ms/q"))
for name, base in targets.items():
    u = urllib.parse.urlsplit(base)
    rounds = []
    for _ in range(3):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        lat = []
        t0 = time.perf_counter()
        for o in qs:
            p = dict(P[o["kind"]]); p["query"] = o["query"]
            path = "/api/v1/query" if o["kind"] == "instant" else "/api/v1/query_range"
            s = time.perf_counter()
            conn.request("POST", path, urllib.parse.urlencode(p), {"Content-Type": "application/x-www-form-urlencoded"})
            conn.getresponse().read()
            lat.append((time.perf_counter() - s) * 1000)
        rounds.append((time.perf_counter() - t0, statistics.median(lat), statistics.quantiles(lat, n=10)[-1]))
        conn.close()
    w = statistics.median(r[0] for r in rounds)
    m = statistics.median(r[1] for r in rounds)
    p90 = statistics.median(r[2] for r in rounds)
    print("%-28s %10.2f %14.2f %14.2f" % (name, w, m, p90))
PY
echo "requests to VictoriaMetrics from pane: $(curl -fsS "http://127.0.0.1:$rp/readyz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["query_backend"]["requests"])')"
