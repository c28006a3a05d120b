#!/usr/bin/env bash
# test_demo.sh - what 'make demo' shows a newcomer, end to end.
#
# 1. `pane demo` without simulated providers still starts and says how to get
#    them; with a provider's URL but not its key it stops with a message that
#    names the missing variable.
# 2. scripts/demo.sh (with the test's binary: no install, no build; the story
#    ten times faster) starts its own PostgreSQL, the simulated Render, Sentry
#    and Supabase, the demo app, a pane worker and `pane demo`. Every command
#    the banner prints runs as typed and answers something
#    (banner_commands.py); pane_source_up has one series per source; the app's
#    metrics carry the agreed names and labels; the story happens as pane sees
#    it: the api's error ratio climbs, the deploy, the Sentry issue and release
#    and Render's error logs arrive, the rollback arrives and the ratio falls;
#    the alerting tells it (alert_chain.py): ServiceErrorRatioHigh pending,
#    firing, resolved, one Slack message and one PagerDuty trigger per group
#    and then their resolves, the deploys as PagerDuty change events, at the
#    simulated Slack's and PagerDuty's /_received the banner prints; in the
#    console (web/test/demo.mjs) the api chart shows the deploy's marker and
#    the alert's band, "What changed" lists the deploy first;
#    a file posted through the app's upload page answers 202 and its job's
#    events stream until the worker's result, in chromium too. SIGTERM (what Ctrl-C does) stops
#    pane, the simulations, the app, the worker and the cluster.
# Waiting is by polling with generous bounds, never by measuring time.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
root=$PANE_SOURCE_ROOT
chmod 755 "$tmp" # the cluster's directory inside must be reachable for the postgres user
demo_pid=
chain_pid=
console_pid=
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [ -n "$chain_pid" ] && kill -TERM "$chain_pid" 2>/dev/null && wait "$chain_pid" 2>/dev/null
  [ -n "$console_pid" ] && kill -TERM "$console_pid" 2>/dev/null && wait "$console_pid" 2>/dev/null
  [ -n "$demo_pid" ] && kill -TERM "$demo_pid" 2>/dev/null && wait "$demo_pid" 2>/dev/null
  for d in "$tmp"/pane-demo-fakes.*; do [ -d "$d" ] && "$root/scripts/demo-fakes.sh" stop "$d" >/dev/null 2>&1; done
  [ -d "$tmp/pg" ] && "$root/scripts/pg.sh" stop "$tmp/pg" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
wait_banner() { # file pid
  for _ in $(seq 1 1200); do
    grep -q "Press Ctrl-C" "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
# count URL [curl args...]: how many results the answer holds (events, logs or
# vector samples; with $MATCH set only those whose JSON contains it); -1 when
# it is not a successful Prometheus-style answer.
count() {
  curl -sS -G "$@" 2>/dev/null | MATCH="${MATCH:-}" python3 -c '
import json, os, sys
try:
    a = json.load(sys.stdin)
    d = a["data"] if a.get("status") == "success" else None
    if isinstance(d, dict) and "result" in d:
        items = d["result"]
    elif isinstance(d, dict):
        items = d.get("events", d.get("logs", []))
    else:
        items = None
    m = os.environ["MATCH"]
    print(-1 if items is None else len([x for x in items if m in json.dumps(x)]))
except Exception:
    print(-1)'
}
# Checks are queued with want NAME URL [curl args...] and polled together by
# poll_all until every one has results or a generous bound passes.
names=()
argss=()
pres=()
want() { names+=("$1"); pres+=(""); shift; argss+=("$(printf '%q ' "$@")"); }
# wantm NAME TEXT URL [curl args...]: only results whose JSON contains TEXT count
wantm() { names+=("$1"); pres+=("MATCH=$(printf '%q' "$2")"); shift 2; argss+=("$(printf '%q ' "$@")"); }
poll_all() {
  local i n done_all last=()
  local -a got=()
  for i in "${!names[@]}"; do got[$i]=0; last[$i]=-1; done
  for _ in $(seq 1 240); do
    done_all=1
    for i in "${!names[@]}"; do
      [ "${got[$i]}" -eq 1 ] && continue
      n=$(eval "${pres[$i]} count ${argss[$i]}")
      last[$i]=$n
      if [ "$n" -gt 0 ] 2>/dev/null; then got[$i]=1; else done_all=0; fi
    done
    [ $done_all -eq 1 ] && break
    sleep 0.5
  done
  for i in "${!names[@]}"; do
    if [ "${got[$i]}" -eq 1 ]; then ok; else bad "${names[$i]}: no results from ${argss[$i]}(last count ${last[$i]})"; fi
  done
  names=()
  argss=()
  pres=()
}
unset_demo_env() {
  unset PANE_DEMO_RENDER_URL PANE_DEMO_RENDER_KEY PANE_DEMO_SENTRY_URL PANE_DEMO_SENTRY_TOKEN \
    PANE_DEMO_SENTRY_ORG PANE_DEMO_SUPABASE_URL PANE_DEMO_SUPABASE_TOKEN PANE_DEMO_SUPABASE_KEY \
    PANE_DEMO_SUPABASE_REF
}
unset_demo_env

# ---- 1. pane demo on its own ----
port=$(free_port)
env -u DATABASE_URL "$bin" demo --listen "127.0.0.1:$port" --data-dir "$tmp/d1" >"$tmp/plain" 2>&1 &
pid=$!
if wait_banner "$tmp/plain" "$pid"; then ok; else bad "plain pane demo printed no banner: $(tail -5 "$tmp/plain")"; fi
expect_in "$tmp/plain" "providers     none: 'make demo' simulates Render, Sentry and Supabase"
if grep -qF "source started" "$tmp/plain"; then bad "plain pane demo started sources: $(grep -F 'source started' "$tmp/plain")"; else ok; fi
kill -TERM "$pid"; wait "$pid"; st=$?; pid=
[ $st -eq 0 ] && ok || bad "plain pane demo exited $st after SIGTERM"

# a provider named without its key: a clear error at start, naming the variable
PANE_DEMO_RENDER_URL=http://127.0.0.1:9/v1 env -u DATABASE_URL "$bin" demo --listen 127.0.0.1:0 \
  --data-dir "$tmp/d2" >"$tmp/nokey" 2>&1
st=$?
[ $st -eq 1 ] && ok || bad "render URL without key: want exit 1, got $st: $(tail -5 "$tmp/nokey")"
expect_in "$tmp/nokey" "PANE_DEMO_RENDER_KEY"

# ---- 2. scripts/demo.sh, the whole of 'make demo', its story sped up ----
listen_port=$(free_port)
pg_port=$(free_port)
statsd_port=$(free_port)
app_port=$(free_port)
(
  cd "$tmp" || exit 1
  exec env -u DATABASE_URL PANE_DEMO_BIN="$bin" PANE_DEMO_PG="$tmp/pg" PANE_DEMO_PG_PORT="$pg_port" \
    PANE_DEMO_LISTEN="127.0.0.1:$listen_port" PANE_DEMO_DATA="$tmp/d3" PANE_DEMO_LIVE=1 TMPDIR="$tmp" \
    PANE_DEMO_SPEED=10 PANE_DEMO_STATSD="127.0.0.1:$statsd_port" PANE_DEMO_APP="127.0.0.1:$app_port" \
    "$root/scripts/demo.sh"
) >"$tmp/demo" 2>&1 &
demo_pid=$!
if wait_banner "$tmp/demo" "$demo_pid"; then ok; else bad "make demo printed no banner: $(tail -20 "$tmp/demo")"; fi
api="http://127.0.0.1:$listen_port"
app="http://127.0.0.1:$app_port"
# the banner says where to look, with this port
expect_in "$tmp/demo" "providers     Render, Sentry, Supabase: SIMULATED on loopback"
expect_in "$tmp/demo" "docs/render-sentry.md"
expect_in "$tmp/demo" "open          $api/   (the console"
expect_in "$tmp/demo" "demo app      $app/"
expect_in "$tmp/demo" "the story     every 1 min"
expect_in "$tmp/demo" "curl '$api/api/v1/events?kind=deploy&limit=5'"
expect_in "$tmp/demo" "$bin query 'render_cpu_usage_cores' --url $api"
expect_in "$tmp/demo" "$bin jobs stats --database-url 'postgresql://"
expect_in "$tmp/demo" "> /dev/udp/127.0.0.1/$statsd_port"
expect_in "$tmp/demo" "postgres statistics + queue health"
for s in render sentry supabase postgres queue; do expect_in "$tmp/demo" "msg=\"source started\" source=$s "; done

# the incident as the alerting tells it (alert_chain.py, in the background
# while the rest is checked): ServiceErrorRatioHigh pending, firing, resolved;
# one Slack message and one PagerDuty trigger per group, then the resolves;
# the deploys as PagerDuty change events. The fakes' addresses are the ones the
# banner prints, and what they received is where the banner says.
expect_in "$tmp/demo" "notifications SIMULATED Slack and PagerDuty get the demo's alerts; what they received:"
recv_urls=$(grep -A1 "notifications SIMULATED" "$tmp/demo" | tail -1)
chain_pid=
if [ "$(echo "$recv_urls" | wc -w)" = 2 ]; then
  ok
  for u in $recv_urls; do
    curl -fsS "$u" | python3 -c 'import json, sys; assert isinstance(json.load(sys.stdin), list)' && ok ||
      bad "the banner's $u does not list what the fake received"
  done
  logs=$(grep -o 'tail -f [^)]*' "$tmp/demo" | sed 's/^tail -f //')
  for f in $logs; do [ -f "$f" ] && ok || bad "the banner's log $f does not exist"; done
  [ -n "$logs" ] && ok || bad "the banner names no log of the simulated Slack and PagerDuty"
  # shellcheck disable=SC2086
  python3 "$root/tests/integration/demo/alert_chain.py" "$api" ${recv_urls//\/_received/} >"$tmp/chain" 2>&1 &
  chain_pid=$!
else
  bad "the banner names no /_received of the simulated Slack and PagerDuty: '$recv_urls'"
fi

# and in the console (web/test/demo.mjs, in Chromium, in the background too):
# while the alert fires, the api chart has the deploy's marker and the alert's
# band; "What changed" over the spike lists the deploy first
console_pid=
if [ -x /usr/bin/chromium ] && [ -d "$root/web/node_modules/playwright-core" ]; then
  (cd "$root/web" && PANE_URL=$api PANE_TMP=$tmp exec timeout 600 node test/demo.mjs) >"$tmp/console" 2>&1 &
  console_pid=$!
else
  bad "chromium or web/node_modules is missing: run scripts/install-deps.sh"
fi

# every command the banner prints works as typed (from where make demo ran)
if python3 "$root/tests/integration/demo/banner_commands.py" "$tmp/demo" "$bin" "$root" >"$tmp/cmds" 2>&1; then ok
else bad "banner commands: $(grep -A1 FAIL "$tmp/cmds" | head -20)"; fi
grep -q "^ok: $bin query 'demo_hits_total'" "$tmp/cmds" && ok || bad "the StatsD example was not checked: $(tail -3 "$tmp/cmds")"

# pane_source_up: one series per source, not two
for _ in $(seq 1 240); do # until every source has collected once (bounded)
  n=$(count "$api/api/v1/query" --data-urlencode 'query=pane_source_up')
  [ "$n" -ge 5 ] 2>/dev/null && break
  sleep 0.5
done
[ "$n" = 5 ] && ok || bad "pane_source_up: want 5 series (one per source), got $n"

# the demo app's metrics have exactly the agreed names and labels
want "app requests" "$api/api/v1/query" \
  --data-urlencode 'query=http_requests_total{service="api",environment="demo",status="200"}'
want "app latency" "$api/api/v1/query" \
  --data-urlencode 'query=http_request_duration_seconds_bucket{service="api",environment="demo",le="+Inf"}'
want "app latency sum" "$api/api/v1/query" --data-urlencode 'query=http_request_duration_seconds_sum{service="api"}'
want "app logs" "$api/api/v1/logs" --data-urlencode 'selector={provider="app",service="api"}'
poll_all

# ratio VALUE: the api's error ratio over the last 20 s (empty when unknown)
ratio() {
  curl -sS -G "$api/api/v1/query" --data-urlencode \
    'query=sum(rate(http_requests_total{service="api",status="500"}[20s])) / sum(rate(http_requests_total{service="api"}[20s]))' \
    2>/dev/null | python3 -c '
import json, sys
try:
    print(json.load(sys.stdin)["data"]["result"][0]["value"][1])
except Exception:
    print("")'
}
# wait_ratio above|below LIMIT: polls (bounded) until the ratio is above/below LIMIT
wait_ratio() {
  local r
  for _ in $(seq 1 400); do
    r=$(ratio)
    if [ -n "$r" ] && python3 -c "import sys; r=float('$r'); sys.exit(0 if (r > $2 if '$1' == 'above' else r < $2) else 1)"; then
      return 0
    fi
    sleep 0.5
  done
  echo "last ratio '$r'"
  return 1
}
# the story: Render deploys a new api release, errors climb, Sentry reports the
# issue, Render's logs show the errors, Render rolls back, errors stop
if out=$(wait_ratio above 0.15); then ok; else bad "the api's error ratio never climbed above 0.15: $out"; fi
wantm "the bad deploy" "discount engine" "$api/api/v1/events" --data-urlencode kind=deploy \
  --data-urlencode 'selector={provider="render",service="api",status="live"}'
want "the sentry issue" "$api/api/v1/events" --data-urlencode kind=issue \
  --data-urlencode 'selector={provider="sentry",project="api"}'
wantm "the sentry release" "api@1.5.0" "$api/api/v1/events" --data-urlencode kind=release
want "render error logs" "$api/api/v1/logs" --data-urlencode 'selector={provider="render",service="api"}' \
  --data-urlencode severity=error --data-urlencode search=ZeroDivisionError
poll_all
if out=$(wait_ratio below 0.05); then ok; else bad "the api's error ratio never fell below 0.05: $out"; fi
wantm "the rollback" "Rollback to 1.4.0" "$api/api/v1/events" --data-urlencode kind=deploy \
  --data-urlencode 'selector={provider="render",service="api",status="live"}'
poll_all

# the upload page: a file posted through the app answers pane's 202 at once,
# and the job's progress streams until the worker's result arrives
curl -fsS "$app/" >"$tmp/page" 2>&1 && grep -q 'EventSource' "$tmp/page" && ok || bad "upload page: $(head -3 "$tmp/page")"
printf 'order,amount\n1,2.50\n2,3.75\n' >"$tmp/orders.csv"
code=$(curl -sS -o "$tmp/up" -w '%{http_code}' -X POST --data-binary @"$tmp/orders.csv" \
  -H 'Content-Type: text/csv' "$app/upload?filename=orders.csv")
[ "$code" = 202 ] && ok || bad "upload through the app: $code $(cat "$tmp/up")"
job=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["job_id"])' "$tmp/up" 2>/dev/null)
curl -sS -N --max-time 120 "$app/jobs/$job/events" >"$tmp/events" 2>&1
# the stream: the job's states in order, the last one completed with the worker's result
if python3 - "$tmp/events" <<'EOF'; then ok; else bad "the upload's job events: $(tail -c 600 "$tmp/events")"; fi
import json, sys
jobs = [json.loads(l[5:]) for l in open(sys.argv[1]) if l.startswith("data:")]
states = [j["state"] for j in jobs]
r = jobs[-1].get("result") or {}
sys.exit(0 if states[-1] == "completed" and len(states) >= 2 and r.get("lines") == 3
         and r.get("sha256_matches") is True else 1)
EOF
# and in a browser: the page's sample upload shows the 202, the job's progress
# and the worker's result (chromium ends the page when its virtual time budget
# is spent and nothing is loading; a retry covers a slow first start)
if [ -x /usr/bin/chromium ]; then
  for _ in 1 2 3; do
    timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-sync \
      --disable-background-networking --disable-component-update --user-data-dir="$tmp/chromium" \
      --virtual-time-budget=30000 --dump-dom "$app/?sample=1" >"$tmp/dom" 2>/dev/null
    grep -q 'class="completed"' "$tmp/dom" && break
  done
  if grep -q '<pre id="answer">202 {' "$tmp/dom" && grep -q '<li class="completed">' "$tmp/dom" &&
    grep -q '"sha256_matches": true' "$tmp/dom"; then ok
  else bad "the upload page in chromium: $(sed -n '/<h2>Answer/,/<script>/p' "$tmp/dom" | head -20)"; fi
else
  bad "/usr/bin/chromium is missing: run scripts/install-deps.sh (scripts/deps/demo.txt)"
fi
# and the app's own users keep uploading, processed by the pane worker
want "app uploads" "$api/api/v1/query" \
  --data-urlencode 'query=sum(pane_queue_jobs{queue="uploads",state="completed"}) > 0'
poll_all

# the alert chain (started above)
if [ -n "$chain_pid" ]; then
  if wait "$chain_pid"; then ok; else bad "the alert chain: $(grep FAIL "$tmp/chain" | head -10)"; fi
  chain_pid=
  grep -q '^ok: pagerduty: the rollback' "$tmp/chain" && ok || bad "the alert chain stopped early: $(tail -3 "$tmp/chain")"
fi

if [ -n "$console_pid" ]; then
  if wait "$console_pid"; then ok; else bad "the incident in the console: $(grep FAIL "$tmp/console" | head -10) $(tail -3 "$tmp/console")"; fi
  console_pid=
  grep -q '^ok: what changed lists the deploy first' "$tmp/console" && ok || bad "the console check stopped early: $(tail -3 "$tmp/console")"
fi

# SIGTERM (Ctrl-C) stops everything it started
fakedir=$(ls -d "$tmp"/pane-demo-fakes.* 2>/dev/null | head -1)
fake_pids=$(cat "$fakedir"/*.pid 2>/dev/null)
[ -n "$fake_pids" ] && ok || bad "no pid files of the simulated providers in '$fakedir'"
kill -TERM "$demo_pid"; wait "$demo_pid"; st=$?; demo_pid=
[ $st -eq 0 ] && ok || bad "demo.sh exited $st after SIGTERM: $(tail -5 "$tmp/demo")"
expect_in "$tmp/demo" "stopping the simulated providers"
running() { # a zombie has stopped (an init may reap it late)
  local st
  read -r st <"/proc/$1/stat" 2>/dev/null || return 1
  st=${st##*) }
  case "$st" in Z* | X*) return 1 ;; *) return 0 ;; esac
}
for p in $fake_pids; do
  if running "$p"; then bad "simulated provider $p still runs after demo.sh stopped"; else ok; fi
done
[ -d "$fakedir" ] && bad "demo.sh left $fakedir behind" || ok
# the demo app and the worker (both name the app's address) are gone too
left=$(APP="127.0.0.1:$app_port" python3 -c '
import os
me = {os.getpid(), os.getppid()}
for p in os.listdir("/proc"):
    try:
        if p.isdigit() and int(p) not in me and os.environ["APP"].encode() in open("/proc/%s/cmdline" % p, "rb").read():
            print(p)
    except OSError:
        pass')
[ -z "$left" ] && ok || bad "still running after demo.sh stopped: $left"
if "$root/scripts/pg.sh" status "$tmp/pg"; then bad "the demo's PostgreSQL still runs"; else ok; fi
expect_in "$tmp/demo" "stopped"

finish
