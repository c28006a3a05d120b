#!/usr/bin/env bash
# test_browser.sh - the web console in a real browser (Debian's chromium
# driven by playwright-core from web/node_modules).
#
# Starts what `make demo` starts - the simulated Render, Sentry and Supabase
# (tests/fakes/, scripts/demo-fakes.sh) and `pane demo` on a fresh database -
# waits until their deploys, logs (from 15 min ago and the last 4 min: the
# hover check needs lines on both sides) and metrics are in the store, then runs
# web/test/browser.mjs against it: every page loads, charts are drawn, deploy
# markers sit at the deploy times, hovering a chart moves the logs, Explore's
# unlabelled series list what the series it pushes lack, retry and cancel act, and a second `pane serve` that wants a token asks for one.
# PANE_CONSOLE_SHOTS=DIR also writes a screenshot of each page there
# (`make screenshots` writes docs/console/).
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
root=$PANE_SOURCE_ROOT
[ -n "${DATABASE_URL:-}" ] || { echo "DATABASE_URL not set: skipping"; exit 77; }
[ -x /usr/bin/chromium ] || { echo "FAIL: /usr/bin/chromium is missing: run scripts/install-deps.sh (scripts/deps/console.txt)"; exit 1; }
[ -d "$root/web/node_modules/playwright-core" ] || { echo "FAIL: web/node_modules is missing: run scripts/install-deps.sh"; exit 1; }

demo_pid=
pid2=
fakedir="$tmp/fakes"
cleanup() {
  [ -n "$demo_pid" ] && kill -TERM "$demo_pid" 2>/dev/null && wait "$demo_pid" 2>/dev/null
  [ -n "$pid2" ] && kill -TERM "$pid2" 2>/dev/null && wait "$pid2" 2>/dev/null
  [ -d "$fakedir" ] && "$root/scripts/demo-fakes.sh" stop "$fakedir" >/dev/null 2>&1
  [ -n "${dburl:-}" ] && psql -qAtX "${DATABASE_URL%/*}/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

db=pt_console_browser
PGOPTIONS="-c client_min_messages=warning" psql -qAtX "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null || exit 1
dburl="${DATABASE_URL%/*}/$db"

mkdir -p "$fakedir"
fake_env=$("$root/scripts/demo-fakes.sh" start "$fakedir" 2) || { echo "FAIL: the simulated providers did not start"; exit 1; }
eval "$fake_env"

port=$(free_port)
u="http://127.0.0.1:$port"
# notifications with one receiver that sends nowhere, so the Alerts page has
# Alertmanager's groups and silences to act on (an alert is posted below)
cat >"$tmp/demo.yaml" <<'YAML'
alerting:
  route: {receiver: nowhere, group_by: [alertname], group_wait: 0s}
  receivers: [{name: nowhere}]
YAML
DATABASE_URL="$dburl" "$bin" demo --config "$tmp/demo.yaml" --listen "127.0.0.1:$port" --data-dir "$tmp/data" >"$tmp/demo.log" 2>&1 &
demo_pid=$!

# has URL [curl args]: true when the Prometheus-style answer holds results
has() {
  curl -sS -G "$@" 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)["data"]
    n = len(d["result"]) if "result" in d else len(d.get("events", d.get("logs", [])))
    sys.exit(0 if n > 0 else 1)
except Exception:
    sys.exit(1)'
}
ready=0
for _ in $(seq 1 600); do
  kill -0 "$demo_pid" 2>/dev/null || break
  if has "$u/api/v1/events" --data-urlencode kind=deploy --data-urlencode 'selector={service="svc-0"}' &&
     has "$u/api/v1/logs" --data-urlencode 'selector={service="svc-0"}' --data-urlencode "end=$(($(date +%s) - 900))" &&
     has "$u/api/v1/logs" --data-urlencode 'selector={service="svc-0"}' --data-urlencode "start=$(($(date +%s) - 240))" &&
     has "$u/api/v1/query" --data-urlencode 'query=render_http_requests{service="svc-0"}' &&
     has "$u/api/v1/query" --data-urlencode 'query=render_cpu_usage_cores{service="svc-0"}'; then
    ready=1
    break
  fi
  sleep 0.5
done
[ $ready -eq 1 ] || { echo "FAIL: the demo's data did not arrive: $(tail -20 "$tmp/demo.log")"; exit 1; }
# an alert for the Alerts page to silence (as Prometheus would post it; resolves itself in 1 h)
curl -fsS -X POST "$u/api/v2/alerts" -H 'Content-Type: application/json' \
  -d '[{"labels": {"alertname": "ConsoleTestAlert", "service": "svc-0", "severity": "page"},
        "annotations": {"summary": "posted by the console browser test"}}]' >/dev/null ||
  { echo "FAIL: could not post an alert to /api/v2/alerts"; exit 1; }

# a second pane that wants a token for reads (as off loopback)
tok=console-browser-token-0123456789
cat >"$tmp/auth.yaml" <<YAML
auth:
  tokens:
    - name: browser
      token: \${PANE_TEST_TOKEN}
      scopes: [admin]
  open_read: false
YAML
port2=$(free_port)
PANE_TEST_TOKEN=$tok env -u DATABASE_URL "$bin" serve --config "$tmp/auth.yaml" --listen "127.0.0.1:$port2" \
  --data-dir "$tmp/data2" >"$tmp/serve2.log" 2>&1 &
pid2=$!
for _ in $(seq 1 200); do curl -fsS "http://127.0.0.1:$port2/healthz" >/dev/null 2>&1 && break; sleep 0.05; done

cd "$root/web" || exit 1
PANE_URL="$u" PANE_AUTH_URL="http://127.0.0.1:$port2" PANE_TOKEN="$tok" PANE_TMP="$tmp" \
  timeout 240 node test/browser.mjs
st=$?
[ $st -eq 0 ] || echo "pane demo log (tail): $(tail -20 "$tmp/demo.log")"
exit $st
