#!/usr/bin/env bash
# demo.sh - what 'make demo' runs: a local PostgreSQL, simulated Render,
# Sentry and Supabase (scripts/demo-fakes.sh), and 'pane demo'.
#
# The PostgreSQL cluster lives in $PANE_DEMO_PG (default /tmp/pane-demo-pg)
# and survives between runs, so jobs and history are still there next time;
# pane's data goes to ./pane-data. The simulated providers (tests/fakes/) run
# on free loopback ports and reach 'pane demo' as PANE_DEMO_* variables.
# Ctrl-C stops pane, the simulations and the cluster.
#   PANE_DEMO_LISTEN=127.0.0.1:8080   where pane listens
#   PANE_DEMO_SECONDS=N               stop by itself after N seconds (for CI smoke runs)
#   PANE_DEMO_LIVE=5                  seconds between simulated deploys/issues/logs (0 = none)
#   PANE_DEMO_FAKES=0                 no simulated providers
#   PANE_DEMO_DATA=./pane-data        pane's data directory
#   PANE_DEMO_PG_PORT=54329           the cluster's port
#   PANE_DEMO_BIN=path/to/pane        use this binary: no install-deps, no build (tests)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bin=${PANE_DEMO_BIN:-}
if [ -z "$bin" ]; then
  scripts/install-deps.sh || exit 1
  if [ ! -f build/build.ninja ]; then meson setup build >/dev/null || exit 1; fi
  ninja -C build >/dev/null || { ninja -C build | tail -30; exit 1; }
  bin=build/pane
fi

pgdir=${PANE_DEMO_PG:-/tmp/pane-demo-pg}
listen=${PANE_DEMO_LISTEN:-127.0.0.1:8080}
echo "starting a local PostgreSQL in $pgdir ..."
env_lines=$(scripts/pg.sh start "$pgdir" "${PANE_DEMO_PG_PORT:-54329}") || exit 1
eval "$env_lines"
pane_pid=
fakedir=
cleanup() {
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
  fakedir=$(mktemp -d "${TMPDIR:-/tmp}/pane-demo-fakes.XXXXXX") || exit 1
  fake_env=$(scripts/demo-fakes.sh start "$fakedir" "${PANE_DEMO_LIVE:-5}") || exit 1
  eval "$fake_env"
fi

"$bin" demo --listen "$listen" --data-dir "${PANE_DEMO_DATA:-./pane-data}" &
pane_pid=$!
if [ -n "${PANE_DEMO_SECONDS:-}" ]; then
  sleep "$PANE_DEMO_SECONDS"
  kill -TERM "$pane_pid" 2>/dev/null
fi
wait "$pane_pid"
status=$?
pane_pid=
exit $status
