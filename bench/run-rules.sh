#!/usr/bin/env bash
# run-rules.sh - 500 recording + 500 alerting rules over 10,000 series, the
# same rules on the same data in pane, Prometheus 2.42 and vmalert (with
# VictoriaMetrics as its datasource and remote-write target). Prints the CPU
# each spends per evaluation round (CPU over a window with the rules minus
# the same daemon idle for the same window, divided by the rounds), and the
# wall time of a round as the tools report it (sum of group evaluation times).
#   bench/run-rules.sh [INTERVAL_S] [WINDOW_S]      (defaults 10 60)
#   PEERS="pane prometheus vmalert" (default: all three) chooses who runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
interval=${1:-10}; window=${2:-60}
build=${BUILD:-$root/build}
[ -x "$build/pane" ] || ninja -C "$build" >/dev/null
for p in prometheus promtool; do command -v $p >/dev/null || { echo "run-rules.sh: $p missing: scripts/install-deps.sh"; exit 1; }; done
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now=$(date +%s)
python3 "$root/bench/rules_data.py" "$tmp" "$now"
# CPU seconds (user+sys) of the given pids, from /proc
cpu() { local t=0; for p in "$@"; do t=$(awk -v t="$t" '{print t + $14 + $15}' "/proc/$p/stat"); done; echo "$t"; }
hz=$(getconf CLK_TCK)
wait_url() { for _ in $(seq 1 600); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "not ready: $1"; return 1; }
# measure NAME PIDS...: CPU seconds over the window, after one interval of warm-up past the first round
measure() {
  sleep $((interval * 2))
  local a; a=$(cpu "$@"); sleep "$window"; local b; b=$(cpu "$@")
  awk -v a="$a" -v b="$b" -v hz="$hz" 'BEGIN { printf "%.3f", (b - a) / hz }'
}
# sum of the groups' evaluationTime from a Prometheus-style /api/v1/rules
evaltime() {
  curl -fsS "$1/api/v1/rules" | python3 -c 'import json,sys
d=json.load(sys.stdin)
print("%.3f" % sum(float(g.get("evaluationTime", 0) or 0) for g in d["data"]["groups"]))' 2>/dev/null || echo "-"
}
rounds=$(awk -v w="$window" -v i="$interval" 'BEGIN { printf "%.1f", w / i }')
echo "10,000 series, 500 recording + 500 alerting rules in 10 groups, every ${interval}s; CPU over ${window}s (${rounds} rounds) minus idle"

# ---- pane
run_pane() { # with_rules
  local port; port=$(freeport)
  { printf 'server:\n  listen: 127.0.0.1:%s\n  data_dir: %s\nreceivers:\n  statsd:\n    enabled: false\n' "$port" "$tmp/pane"
    [ "$1" = 1 ] && printf 'rules:\n  files: [%s]\n  evaluation_interval: %ss\n' "$tmp/rules.yml" "$interval"; } >"$tmp/pane.yaml"
  "$build/pane" serve --config "$tmp/pane.yaml" >"$tmp/pane.log" 2>&1 & local p=$!; pids+=($p)
  wait_url "http://127.0.0.1:$port/healthz"
  local c; c=$(measure $p)
  local e="-"; [ "$1" = 1 ] && e=$(evaltime "http://127.0.0.1:$port")
  kill $p; wait $p 2>/dev/null || true
  echo "$c $e"
}
peers=${PEERS:-pane prometheus vmalert}
want() { case " $peers " in *" $1 "*) return 0;; esac; return 1; }
pane_busy=- pane_idle=- pane_eval=- prom_busy=- prom_idle=- prom_eval=-
if want pane; then
"$build/pane" import --format prometheus "$tmp/data.txt" --data-dir "$tmp/pane" >/dev/null 2>&1
read -r pane_busy pane_eval < <(run_pane 1)
read -r pane_idle _ < <(run_pane 0)
echo "pane: busy ${pane_busy}s idle ${pane_idle}s, round ${pane_eval}s"
fi

# ---- Prometheus 2.42
run_prom() {
  local port; port=$(freeport)
  { printf 'global:\n  evaluation_interval: %ss\n' "$interval"; [ "$1" = 1 ] && printf 'rule_files: [%s]\n' "$tmp/rules.yml"; } >"$tmp/prom.yml"
  prometheus --config.file="$tmp/prom.yml" --storage.tsdb.path="$tmp/prom" --storage.tsdb.retention.time=100y \
    --web.listen-address=127.0.0.1:$port >"$tmp/prom.log" 2>&1 & local p=$!; pids+=($p)
  wait_url "http://127.0.0.1:$port/-/ready"
  local c; c=$(measure $p)
  local e="-"; [ "$1" = 1 ] && e=$(evaltime "http://127.0.0.1:$port")
  kill $p; wait $p 2>/dev/null || true
  echo "$c $e"
}
if want prometheus; then
promtool tsdb create-blocks-from openmetrics "$tmp/data.om" "$tmp/prom" >/dev/null
read -r prom_busy prom_eval < <(run_prom 1)
read -r prom_idle _ < <(run_prom 0)
echo "Prometheus: busy ${prom_busy}s idle ${prom_idle}s, round ${prom_eval}s"
fi

# ---- vmalert + VictoriaMetrics
vm_busy=- vm_idle=- vm_eval=-
if want vmalert && command -v victoria-metrics >/dev/null && command -v vmalert >/dev/null; then
  vport=$(freeport)
  victoria-metrics -storageDataPath="$tmp/vm" -retentionPeriod=100y -httpListenAddr=127.0.0.1:$vport \
    -search.disableCache -search.latencyOffset=0s >"$tmp/vm.log" 2>&1 & vmp=$!; pids+=($vmp)
  wait_url "http://127.0.0.1:$vport/health"
  curl -fsS --data-binary @"$tmp/data.txt" "http://127.0.0.1:$vport/api/v1/import/prometheus" >/dev/null
  curl -fsS "http://127.0.0.1:$vport/internal/force_flush" >/dev/null
  vm_idle=$(measure $vmp)
  aport=$(freeport); nport=$(freeport)
  # Debian's vmalert has no -notifier.blackhole: a sink that accepts the alerts (not measured)
  python3 -c 'import http.server as h, sys
class S(h.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0))); self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
h.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), S).serve_forever()' "$nport" & pids+=($!)
  vmalert -rule="$tmp/rules.yml" -datasource.url="http://127.0.0.1:$vport" -remoteWrite.url="http://127.0.0.1:$vport" \
    -notifier.url="http://127.0.0.1:$nport" -evaluationInterval=${interval}s -httpListenAddr=127.0.0.1:$aport >"$tmp/vmalert.log" 2>&1 & ap=$!; pids+=($ap)
  if wait_url "http://127.0.0.1:$aport/health"; then
    vm_busy=$(measure $vmp $ap)
    vm_eval=$(evaltime "http://127.0.0.1:$aport")
  else
    tail -5 "$tmp/vmalert.log"
  fi
fi

python3 - "$rounds" "$pane_busy" "$pane_idle" "$pane_eval" "$prom_busy" "$prom_idle" "$prom_eval" "$vm_busy" "$vm_idle" "$vm_eval" <<'PY'
import sys
r = float(sys.argv[1])
def per(b, i):
    try:
        return max(float(b) - float(i), 0.0) / r
    except ValueError:
        return None
rows = [("pane", sys.argv[2], sys.argv[3], sys.argv[4]), ("Prometheus 2.42", sys.argv[5], sys.argv[6], sys.argv[7]),
        ("vmalert + VictoriaMetrics", sys.argv[8], sys.argv[9], sys.argv[10])]
pp = per(rows[1][1], rows[1][2])
print("%-26s %12s %10s %14s %18s" % ("", "CPU/round s", "vs Prom", "busy/idle s", "round wall s"))
for name, b, i, e in rows:
    c = per(b, i)
    if c is None:
        print("%-26s %12s" % (name, "n/a")); continue
    ratio = "%.2fx" % (c / pp) if pp else "-"
    print("%-26s %12.3f %10s %14s %18s" % (name, c, ratio, "%s/%s" % (b, i), e))
PY
