#!/usr/bin/env bash
# run-notify.sh - notifications: pane vs Debian's prometheus-alertmanager 0.25,
# each with the same route tree and a Slack fake (tests/fakes/slack_fake.py) as
# its receiver. Figures: alert POST -> Slack message latency with group_wait 0
# (median of 30), and 10,000 alerts in 500 groups (one message per group?
# time, peak RSS). See bench/README.md.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${PANE_BIN:-$root/build/pane}
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_url() { for _ in $(seq 1 200); do curl -fsS "$1" -o /dev/null 2>/dev/null && return 0; sleep 0.05; done; return 1; }
rss_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

config() { # slack_port
  cat <<YML
route:
  receiver: slack
  group_by: [alertname, g]
  group_wait: 0s
  group_interval: 1m
  repeat_interval: 4h
receivers:
  - name: slack
    slack_configs:
      - api_url: http://127.0.0.1:$1/services/T0/B0/bench
        send_resolved: true
YML
}

run_one() { # name
  local name=$1 sp tp
  sp=$(port); tp=$(port)
  python3 "$root/tests/fakes/slack_fake.py" "$sp" >"$tmp/$name-slack.log" 2>&1 &
  pids+=($!)
  wait_url "http://127.0.0.1:$sp/_ping" || { echo "$name: slack fake did not start"; return 1; }
  config "$sp" >"$tmp/$name-am.yml"
  if [ "$name" = pane ]; then
    printf 'alerting:\n  config_file: %s\n' "$tmp/$name-am.yml" >"$tmp/pane.yaml"
    "$bin" --log-level warn serve --config "$tmp/pane.yaml" --data-dir "$tmp/pane-data" --listen "127.0.0.1:$tp" \
      >"$tmp/pane.log" 2>&1 &
  else
    prometheus-alertmanager --config.file="$tmp/$name-am.yml" --storage.path="$tmp/am-data" \
      --web.listen-address="127.0.0.1:$tp" --cluster.listen-address= --log.level=warn >"$tmp/am.log" 2>&1 &
  fi
  local pid=$!
  pids+=($pid)
  wait_url "http://127.0.0.1:$tp/api/v2/status" || { echo "$name did not start"; return 1; }
  local lat fan
  lat=$(python3 "$root/bench/notify_bench.py" latency "http://127.0.0.1:$tp" "http://127.0.0.1:$sp" 30)
  fan=$(python3 "$root/bench/notify_bench.py" fanout "http://127.0.0.1:$tp" "http://127.0.0.1:$sp" 10000 500)
  printf '%-13s latency %s\n%-13s fanout  %s  peak_rss_kb=%s\n' "$name" "$lat" "$name" "$fan" "$(rss_kb "$pid")"
  kill "$pid"
}

command -v prometheus-alertmanager >/dev/null || { echo "prometheus-alertmanager missing: scripts/install-deps.sh"; exit 1; }
run_one pane
[ "${1:-}" = pane ] || run_one alertmanager
