#!/usr/bin/env bash
# test_worker_env.sh - the worker command render.yaml runs (deploy/pane-worker-env)
# with the settings docs/deploy.md gives for Supabase's transaction pooler:
# PANE_WORKER_DATABASE_URL instead of DATABASE_URL and --poll-only. Against the
# real PostgreSQL of scripts/test.sh: jobs enqueued before and while it runs are
# POSTed to PANE_WORKER_URL and succeed, and the worker never LISTENs.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
[ -n "${DATABASE_URL:-}" ] || { echo "DATABASE_URL not set: skipping"; exit 77; }
root=$PANE_SOURCE_ROOT
base=${DATABASE_URL%/*}
db=pt_worker_env
psql -qAtX "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null || exit 1
url="$base/$db"
hook_pid=
trap 'rm -rf "$tmp"; for p in $pid $hook_pid; do kill "$p" 2>/dev/null; done' EXIT

expect_status 0 "$bin" migrate --database-url "$url"
for i in 1 2 3; do expect_status 0 "$bin" enqueue envq "{\"n\":$i}" --database-url "$url"; done

# the endpoint jobs are POSTed to: answers 200 and counts them
cat >"$tmp/hook.py" <<'PY'
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with open(sys.argv[2], "a") as f: f.write("job\n")
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"{}")
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
python3 "$tmp/hook.py" "$tmp/hook.port" "$tmp/hook.log" &
hook_pid=$!
for _ in $(seq 1 200); do [ -s "$tmp/hook.port" ] && break; sleep 0.05; done

mkdir -p "$tmp/path" && ln -s "$bin" "$tmp/path/pane"
env -u DATABASE_URL PATH="$tmp/path:$PATH" PANE_WORKER_DATABASE_URL="$url" PANE_QUEUES=envq \
  PANE_WORKER_URL="http://127.0.0.1:$(cat "$tmp/hook.port")/jobs" \
  PANE_WORKER_ARGS="--poll-only --poll-interval 100ms" "$root/deploy/pane-worker-env" >"$tmp/worker.log" 2>&1 &
pid=$!
"$bin" enqueue envq '{"n":4}' --database-url "$url" >/dev/null
done_jobs=0
for _ in $(seq 1 400); do
  done_jobs=$(psql -qAtX "$url" -c "SELECT count(*) FROM pane.jobs_history WHERE queue = 'envq' AND state = 'completed'" 2>/dev/null || echo 0)
  [ "$done_jobs" = 4 ] && break
  sleep 0.05
done
[ "$done_jobs" = 4 ] && ok || bad "$done_jobs of 4 jobs succeeded: $(tail -5 "$tmp/worker.log")"
[ "$(wc -l <"$tmp/hook.log")" -ge 4 ] && ok || bad "the endpoint saw $(wc -l <"$tmp/hook.log") jobs"
expect_in "$tmp/worker.log" "poll-only"
listens=$(psql -qAtX "$url" -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND query ILIKE 'LISTEN%'")
[ "$listens" = 0 ] && ok || bad "the poll-only worker has $listens LISTEN connections"
kill -TERM "$pid" && wait "$pid"
st=$?
pid=
[ "$st" = 0 ] && ok || bad "pane-worker-env exited $st on SIGTERM"
psql -qAtX "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
finish
