#!/usr/bin/env bash
# demo.sh - what 'make demo' runs: a local PostgreSQL and 'pane demo'.
#
# The PostgreSQL cluster lives in $PANE_DEMO_PG (default /tmp/pane-demo-pg)
# and survives between runs, so jobs and history are still there next time;
# pane's data goes to ./pane-data. Ctrl-C stops pane and the cluster.
#   PANE_DEMO_LISTEN=127.0.0.1:8080   where pane listens
#   PANE_DEMO_SECONDS=N               stop by itself after N seconds (for CI smoke runs)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/install-deps.sh || exit 1
if [ ! -f build/build.ninja ]; then meson setup build >/dev/null || exit 1; fi
ninja -C build >/dev/null || { ninja -C build | tail -30; exit 1; }

pgdir=${PANE_DEMO_PG:-/tmp/pane-demo-pg}
listen=${PANE_DEMO_LISTEN:-127.0.0.1:8080}
echo "starting a local PostgreSQL in $pgdir ..."
env_lines=$(scripts/pg.sh start "$pgdir" "${PANE_DEMO_PG_PORT:-54329}") || exit 1
eval "$env_lines"
pane_pid=
cleanup() {
  [ -n "$pane_pid" ] && kill -TERM "$pane_pid" 2>/dev/null && wait "$pane_pid" 2>/dev/null
  echo "stopping PostgreSQL ..."
  scripts/pg.sh stop "$pgdir"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

build/pane demo --listen "$listen" --data-dir ./pane-data &
pane_pid=$!
if [ -n "${PANE_DEMO_SECONDS:-}" ]; then
  sleep "$PANE_DEMO_SECONDS"
  kill -TERM "$pane_pid" 2>/dev/null
fi
wait "$pane_pid"
status=$?
pane_pid=
exit $status
