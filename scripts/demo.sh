#!/usr/bin/env bash
# demo.sh - what 'make demo' runs: a local PostgreSQL, simulated Render,
# Sentry and Supabase (scripts/demo-fakes.sh), the demo app
# (examples/demo-app/app.py), a `pane worker` for its uploads, and 'pane demo'.
#
# The story (tests/fakes/story.py): within a minute, and again every 10
# minutes, the simulated Render deploys a new release of the app's `api`
# service; its error ratio and latency climb, the simulated Sentry reports a new
# issue in that release, Render's logs show the errors; Render rolls back and
# the errors stop.
#
# The PostgreSQL cluster lives in $PANE_DEMO_PG (default /tmp/pane-demo-pg)
# and survives between runs, so jobs and history are still there next time;
# pane's data goes to ./pane-data, with the pane.yaml this script writes
# (pane-data/demo.yaml) and the app's and worker's logs. The simulated
# providers (tests/fakes/) run on free loopback ports and reach 'pane demo' as
# PANE_DEMO_* variables. Ctrl-C stops everything it started.
#   PANE_DEMO_LISTEN=127.0.0.1:8080   where pane listens
#   PANE_DEMO_APP=127.0.0.1:8090      where the demo app's upload page listens (a free port if taken)
#   PANE_DEMO_STATSD=127.0.0.1:8125   pane's StatsD address (a free port if taken)
#   PANE_DEMO_SPEED=1                 the story's speed (10 = ten times faster; for tests); the
#                                     alerting's windows, for: and waits shrink as much (scripts/demo-speed.py)
#   PANE_DEMO_SECONDS=N               stop by itself after N seconds (for CI smoke runs)
#   PANE_DEMO_LIVE=5                  seconds between the simulations' background activity (0 = none)
#   PANE_DEMO_FAKES=0                 no simulated providers, no story
#   PANE_DEMO_DATA=./pane-data        pane's data directory
#   PANE_DEMO_PG_PORT=54329           the cluster's port
#   PANE_DEMO_BIN=path/to/pane        use this binary: no install-deps, no build (tests)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bin=${PANE_DEMO_BIN:-}
if [ -z "$bin" ]; then
  scripts/install-deps.sh --demo || exit 1
  if [ ! -f build/build.ninja ]; then meson setup build >/dev/null || exit 1; fi
  ninja -C build >/dev/null || { ninja -C build | tail -30; exit 1; }
  bin=build/pane
fi

# free_or ADDR: ADDR when its port is free (UDP and TCP), else a free loopback port
free_or() {
  python3 - "$1" <<'EOF'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
try:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        s.bind((host, int(port)))
        s.close()
    print(sys.argv[1])
except OSError:
    for _ in range(20):  # a port free for both
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind((host, 0))
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind((host, t.getsockname()[1]))
        except OSError:
            continue
        print("%s:%d" % (host, t.getsockname()[1]))
        break
EOF
}

pgdir=${PANE_DEMO_PG:-/tmp/pane-demo-pg}
listen=${PANE_DEMO_LISTEN:-127.0.0.1:8080}
data=${PANE_DEMO_DATA:-./pane-data}
mkdir -p "$data" || exit 1
echo "starting a local PostgreSQL in $pgdir ..."
env_lines=$(scripts/pg.sh start "$pgdir" "${PANE_DEMO_PG_PORT:-54329}") || exit 1
eval "$env_lines"
pane_pid=
app_pid=
worker_pid=
fakedir=
cleanup() {
  trap - EXIT # once
  [ -n "$worker_pid" ] && kill -TERM "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null
  [ -n "$app_pid" ] && kill -TERM "$app_pid" 2>/dev/null && wait "$app_pid" 2>/dev/null
  [ -n "$pane_pid" ] && kill -TERM "$pane_pid" 2>/dev/null && wait "$pane_pid" 2>/dev/null
  if [ -n "$fakedir" ]; then
    echo "stopping the simulated providers ..."
    scripts/demo-fakes.sh stop "$fakedir"
    rm -rf "$fakedir"
  fi
  echo "stopping PostgreSQL ..."
  scripts/pg.sh stop "$pgdir"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

if [ "${PANE_DEMO_FAKES:-1}" != 0 ]; then
  echo "starting simulated Render, Sentry and Supabase (tests/fakes/) ..."
  # the story's clock, shared by the fakes (tests/fakes/story.py) and the demo app
  export PANE_DEMO_STORY_T0=$(date +%s) PANE_DEMO_SPEED=${PANE_DEMO_SPEED:-1}
  fakedir=$(mktemp -d "${TMPDIR:-/tmp}/pane-demo-fakes.XXXXXX") || exit 1
  fake_env=$(scripts/demo-fakes.sh start "$fakedir" "${PANE_DEMO_LIVE:-5}") || exit 1
  eval "$fake_env"
else
  unset PANE_DEMO_STORY_T0
fi

statsd=$(free_or "${PANE_DEMO_STATSD:-127.0.0.1:8125}") || exit 1
app=$(free_or "${PANE_DEMO_APP:-127.0.0.1:8090}") || exit 1
config="$data/demo.yaml"
# The story runs PANE_DEMO_SPEED times faster; so do the alerting's clocks, or
# a sped-up incident would be over before its alert's `for:` has passed: the
# rules' windows and `for:`, the evaluation interval, the routes' group_wait
# and group_interval and StatsD's flush are divided by the speed (at speed 1
# the pack is loaded as it is).
speed=${PANE_DEMO_SPEED:-1}
[ "${PANE_DEMO_FAKES:-1}" != 0 ] || speed=1
# scaled DURATION: DURATION divided by the speed (as it is at speed 1)
scaled() {
  python3 "$root/scripts/demo-speed.py" duration "$1" "$speed"
}
rules=$root/examples/rules/app.yml
flush=5s
if [ "$speed" != 1 ] && [ -f "$rules" ]; then
  flush=1s
  rules="$data/app-rules-x$speed.yml"
  python3 "$root/scripts/demo-speed.py" rules "$root/examples/rules/app.yml" "$speed" >"$rules" || exit 1
fi
{
  echo "# pane.yaml of 'make demo', written by scripts/demo.sh at every start."
  echo "# The sources come from the PANE_DEMO_* variables (pane demo, src/sources/sources.c)."
  echo "receivers:"
  echo "  statsd:"
  echo "    listen: $statsd"
  echo "    flush_interval: $flush"
  # ---- plug-in point: rules (#15) ----
  # the starter pack's rules for the demo app, once the rules part has them
  if [ -f "$root/examples/rules/app.yml" ]; then
    echo "rules:"
    echo "  files: [$rules]"
    echo "  evaluation_interval: $(scaled 15s)"
    echo "  external_url: http://$listen"
  fi
  # ---- plug-in point: notifications (#16) ----
  # every alert to the simulated Slack, pages (severity="page") to the
  # simulated PagerDuty too; scripts/demo-fakes.sh starts them once their fakes
  # exist. Alertmanager 0.25's keys, inline (docs/alerting.md once it exists).
  if [ -n "${PANE_DEMO_SLACK_URL:-}" ] && [ -n "${PANE_DEMO_PAGERDUTY_URL:-}" ]; then
    echo "alerting:"
    echo "  external_url: http://$listen"
    echo "  route:"
    echo "    receiver: slack"
    echo "    group_by: [alertname, service]"
    echo "    group_wait: $(scaled 10s)"
    echo "    group_interval: $(scaled 1m)"
    echo "    repeat_interval: 4h"
    echo "    routes:"
    echo "      - receiver: slack"
    echo "        continue: true"
    echo "      - receiver: pagerduty"
    echo "        matchers: ['severity=\"page\"']"
    echo "  receivers:"
    echo "    - name: slack"
    echo "      slack_configs:"
    echo "        - api_url: \${PANE_DEMO_SLACK_WEBHOOK}"
    echo "          channel: '#demo'"
    echo "          send_resolved: true"
    echo "    - name: pagerduty"
    echo "      pagerduty_configs:"
    echo "        - routing_key: \${PANE_DEMO_PAGERDUTY_KEY}"
    echo "          url: $PANE_DEMO_PAGERDUTY_URL/v2/enqueue"
    echo "          send_resolved: true"
  fi
} >"$config" || exit 1
# the simulated Slack's webhook and PagerDuty's routing key: secrets, which
# pane.yaml takes only from the environment (as ${VAR})
if [ -n "${PANE_DEMO_SLACK_URL:-}" ]; then
  export PANE_DEMO_SLACK_WEBHOOK=$PANE_DEMO_SLACK_URL/services/T0DEMO/B0DEMO/demo0secret0not0real
  export PANE_DEMO_PAGERDUTY_KEY=0123456789abcdef0123456789abcdef
fi

# the demo app: traffic, logs and uploads (examples/demo-app/app.py)
if [ "${PANE_DEMO_FAKES:-1}" != 0 ]; then
  python3 examples/demo-app/app.py --pane "http://$listen" --statsd "$statsd" --listen "$app" \
    --render "${PANE_DEMO_RENDER_URL:-}" --queue uploads </dev/null >>"$data/demo-app.log" 2>&1 &
  app_pid=$!
  export PANE_DEMO_APP_URL="http://$app"
fi

PANE_DEMO_CMD="$bin" "$bin" demo --config "$config" --listen "$listen" --data-dir "$data" &
pane_pid=$!

# the worker that processes the app's uploads, once pane has migrated the queue
if [ -n "$app_pid" ]; then
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://$listen/readyz" 2>/dev/null && break
    kill -0 "$pane_pid" 2>/dev/null || break
    sleep 0.2
  done
  "$bin" worker --queues uploads --concurrency 4 --http "http://$app/work" </dev/null >>"$data/worker.log" 2>&1 &
  worker_pid=$!
fi

if [ -n "${PANE_DEMO_SECONDS:-}" ]; then
  sleep "$PANE_DEMO_SECONDS"
  kill -TERM "$pane_pid" 2>/dev/null
fi
wait "$pane_pid"
status=$?
pane_pid=
exit $status
