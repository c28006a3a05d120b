#!/usr/bin/env bash
# run-soak.sh - the long run: pane serve under a modest mixed load for DURATION,
# its memory and file descriptors sampled every 30 s (issue #14, "beyond the list").
#
#   bench/run-soak.sh [SECONDS]     (default 1800 = 30 min; DURATION=... works too)
#
# Starts a throwaway PostgreSQL (scripts/pg.sh), `pane migrate`, `pane serve`
# (loopback, no tokens, StatsD on a free UDP port) and a `pane worker` on queue
# 'soak' (--builtin noop), then bench/soak_load.py drives, once a second:
# 201 series of Prometheus text, 60 StatsD lines, 20 JSON lines and 20 Loki
# lines, an instant PromQL query; every 5th second a range query, a logs read
# and a 64 KiB upload; 2 job enqueues per second. At the end it prints the RSS
# and fd series and the verdict (median of the last third against the median
# of the second third; figures, no threshold) and stops everything it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
secs=${1:-${DURATION:-1800}}
pane=${PANE_BIN:-build/pane}
[ -x "$pane" ] || { echo "run-soak.sh: build first (make)"; exit 1; }

work=$(mktemp -d /tmp/pane-soak.XXXXXX)
pgdir=$(mktemp -d /tmp/pane-soak-pg.XXXXXX)
rmdir "$pgdir"
pane_pid=
worker_pid=
cleanup() {
  [ -n "$worker_pid" ] && kill "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null
  [ -n "$pane_pid" ] && kill "$pane_pid" 2>/dev/null && wait "$pane_pid" 2>/dev/null
  scripts/pg.sh stop "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$work" "$pgdir"
}
trap cleanup EXIT
eval "$(scripts/pg.sh start "$pgdir" 2>/dev/null)"
"$pane" migrate --database-url "$DATABASE_URL" >/dev/null
free_port() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, getattr(socket, sys.argv[1])); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"; }
port=$(free_port SOCK_STREAM)
sport=$(free_port SOCK_DGRAM)
cat > "$work/pane.yaml" <<YAML
log:
  level: warn
uploads:
  max_size: 1MiB
receivers:
  statsd:
    enabled: true
    listen: 127.0.0.1:$sport
    flush_interval: 10s
YAML
DATABASE_URL=$DATABASE_URL "$pane" serve --config "$work/pane.yaml" --listen "127.0.0.1:$port" \
  --data-dir "$work/data" >"$work/pane.log" 2>&1 &
pane_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { echo "run-soak.sh: pane did not start"; cat "$work/pane.log"; exit 1; }
"$pane" worker --database-url "$DATABASE_URL" --queues soak --concurrency 2 --builtin noop \
  >"$work/worker.log" 2>&1 &
worker_pid=$!

echo "machine: $(nproc) cores, shared; soak of ${secs}s; pane, PostgreSQL, worker and the load on one host"
rc=0
python3 bench/soak_load.py --port "$port" --statsd-port "$sport" --pid "$pane_pid" \
  --worker-pid "$worker_pid" --duration "$secs" --sample "${SAMPLE:-30}" || rc=$?
psql=(/usr/lib/postgresql/15/bin/psql)
[ -x "${psql[0]}" ] || psql=(psql)
echo "jobs left runnable in queue soak: $("${psql[@]}" "$DATABASE_URL" -Atc "SELECT count(*) FROM pane.jobs WHERE queue = 'soak' AND state IN ('available','running')" 2>/dev/null || echo '?')"
kill -0 "$pane_pid" 2>/dev/null || { echo "pane serve DIED during the soak"; rc=1; }
if grep -qi 'error' "$work/pane.log"; then
  echo "pane.log errors (first 5):"; grep -i 'error' "$work/pane.log" | head -5
fi
exit $rc
