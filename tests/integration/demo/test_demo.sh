#!/usr/bin/env bash
# test_demo.sh - what 'make demo' shows a newcomer, end to end.
#
# 1. `pane demo` without simulated providers still starts and says how to get
#    them; with a provider's URL but not its key it stops with a message that
#    names the missing variable.
# 2. scripts/demo.sh (with the test's binary: no install, no build) starts its
#    own PostgreSQL, the simulated Render, Sentry and Supabase and `pane demo`;
#    the banner says where to look, and what it points at answers: Render
#    deploys and Sentry issues as events (/api/v1/events), Render and Supabase
#    logs (/api/v1/logs), Render and Sentry metrics (/api/v1/query and
#    `pane query`). SIGTERM (what Ctrl-C does) stops pane, the simulations and
#    the cluster.
# Waiting is by polling with generous bounds, never by measuring time.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
root=$PANE_SOURCE_ROOT
chmod 755 "$tmp" # the cluster's directory inside must be reachable for the postgres user
demo_pid=
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
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
# vector samples); -1 when it is not a successful Prometheus-style answer.
count() {
  curl -sS -G "$@" 2>/dev/null | python3 -c '
import json, sys
try:
    a = json.load(sys.stdin)
    d = a["data"] if a.get("status") == "success" else None
    if isinstance(d, dict) and "result" in d:
        print(len(d["result"]))
    elif isinstance(d, dict):
        print(len(d.get("events", d.get("logs", []))))
    else:
        print(-1)
except Exception:
    print(-1)'
}
# Checks are queued with want NAME URL [curl args...] and polled together by
# poll_all until every one has results or a generous bound passes.
names=()
argss=()
want() { names+=("$1"); shift; argss+=("$(printf '%q ' "$@")"); }
poll_all() {
  local i n done_all last=()
  local -a got=()
  for i in "${!names[@]}"; do got[$i]=0; last[$i]=-1; done
  for _ in $(seq 1 240); do
    done_all=1
    for i in "${!names[@]}"; do
      [ "${got[$i]}" -eq 1 ] && continue
      n=$(eval "count ${argss[$i]}")
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

# ---- 2. scripts/demo.sh, the whole of 'make demo' ----
listen_port=$(free_port)
pg_port=$(free_port)
(
  cd "$tmp" || exit 1
  exec env -u DATABASE_URL PANE_DEMO_BIN="$bin" PANE_DEMO_PG="$tmp/pg" PANE_DEMO_PG_PORT="$pg_port" \
    PANE_DEMO_LISTEN="127.0.0.1:$listen_port" PANE_DEMO_DATA="$tmp/d3" PANE_DEMO_LIVE=1 TMPDIR="$tmp" \
    "$root/scripts/demo.sh"
) >"$tmp/demo" 2>&1 &
demo_pid=$!
if wait_banner "$tmp/demo" "$demo_pid"; then ok; else bad "make demo printed no banner: $(tail -20 "$tmp/demo")"; fi
api="http://127.0.0.1:$listen_port"
# the banner says where to look, with this port
expect_in "$tmp/demo" "providers     Render, Sentry, Supabase: SIMULATED on loopback"
expect_in "$tmp/demo" "docs/render-sentry.md"
expect_in "$tmp/demo" "curl '$api/api/v1/events?kind=deploy&limit=5'"
expect_in "$tmp/demo" "curl '$api/api/v1/events?kind=issue&limit=5'"
expect_in "$tmp/demo" "curl -G $api/api/v1/logs --data-urlencode 'selector={provider=\"render\"}'"
expect_in "$tmp/demo" "curl -G $api/api/v1/logs --data-urlencode 'selector={provider=\"supabase\"}'"
expect_in "$tmp/demo" "pane query 'render_cpu_usage_cores' --url $api"
expect_in "$tmp/demo" "postgres statistics + queue health"
for s in render sentry supabase postgres queue; do expect_in "$tmp/demo" "msg=\"source started\" source=$s "; done

# and what it points at answers
want "render deploys" "$api/api/v1/events" --data-urlencode kind=deploy \
  --data-urlencode 'selector={provider="render"}'
want "sentry issues" "$api/api/v1/events" --data-urlencode kind=issue \
  --data-urlencode 'selector={provider="sentry"}'
want "render logs" "$api/api/v1/logs" --data-urlencode 'selector={provider="render"}'
want "supabase logs" "$api/api/v1/logs" --data-urlencode 'selector={provider="supabase"}'
want "render metric" "$api/api/v1/query" --data-urlencode 'query=render_cpu_usage_cores'
want "sentry metric" "$api/api/v1/query" --data-urlencode 'query=sum by (project, level) (sentry_issues)'
want "supabase metric" "$api/api/v1/query" --data-urlencode 'query=node_load5'
want "postgres source up" "$api/api/v1/query" --data-urlencode 'query=pane_source_up{source="postgres"} == 1'
# the simulations keep producing (--live): a deploy of the demo's own making
want "live render deploy" "$api/api/v1/events" --data-urlencode kind=deploy \
  --data-urlencode 'selector={provider="render",service="svc-0",status="live"}' \
  --data-urlencode "start=$(date -u -d '-10 min' +%Y-%m-%dT%H:%M:%SZ)"
poll_all
# the banner's `pane query` line works as printed
if "$bin" query 'render_cpu_usage_cores' --url "$api" >"$tmp/q" 2>&1 && grep -q 'provider="render"' "$tmp/q"; then ok
else bad "pane query render_cpu_usage_cores: $(head -5 "$tmp/q")"; fi
# and so do its `pane events` and `pane logs` lines
expect_in "$tmp/demo" "pane events --kind deploy --url $api"
expect_in "$tmp/demo" "pane logs '{provider=\"render\"}' --follow --url $api"
if "$bin" events --kind deploy --json --url "$api" >"$tmp/ev" 2>&1 && grep -q '"provider":"render"' "$tmp/ev"; then ok
else bad "pane events --kind deploy: $(head -5 "$tmp/ev")"; fi
if "$bin" logs '{provider="supabase"}' --json --url "$api" >"$tmp/lg" 2>&1 && grep -q '"provider":"supabase"' "$tmp/lg"; then ok
else bad "pane logs supabase: $(head -5 "$tmp/lg")"; fi
# the secrets stay in the environment: pane's log never shows the fakes' keys
if grep -qE 'rnd_test|sntrys_test|sbp_test_token|sb_secret_test' "$tmp/demo"; then bad "a key in the demo output"; else ok; fi

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
if "$root/scripts/pg.sh" status "$tmp/pg"; then bad "the demo's PostgreSQL still runs"; else ok; fi
expect_in "$tmp/demo" "stopped"

finish
