#!/usr/bin/env bash
# run-api.sh - the jobs API under load, next to PostgreSQL's own figure.
#
#   bench/run-api.sh [SECONDS]     (default 8 s per run; keep it short on shared machines)
#
# Starts a throwaway PostgreSQL and `pane serve` (loopback, no tokens), then:
#   1. single-job POST /v1/queues/bench/jobs with keep-alive (wrk, 2 threads,
#      64 connections); afterwards every acknowledged (201) job must be in
#      pane.jobs;
#   2. the peer: pgbench, 64 clients, one `SELECT pane.enqueue(...)` per
#      transaction against the same server - what producers pay without the
#      HTTP layer's micro-batching;
#   3. 1 MiB uploads to POST /v1/uploads/bench (wrk, 16 connections), with
#      uploads.fsync on (the default) and then off.
# Prints one line per run; needs wrk (scripts/install-deps.sh --bench).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
secs=${1:-8}
pane=${PANE_BIN:-build/pane}
[ -x "$pane" ] || { echo "run-api.sh: build first (make)"; exit 1; }
command -v wrk >/dev/null || { echo "run-api.sh: wrk is missing: scripts/install-deps.sh --bench"; exit 1; }

work=$(mktemp -d /tmp/pane-bench-api.XXXXXX)
pgdir=$(mktemp -d /tmp/pane-bench-api-pg.XXXXXX)
rmdir "$pgdir"
pane_pid=
pane2_pid=
cleanup() {
  [ -n "$pane_pid" ] && kill "$pane_pid" 2>/dev/null && wait "$pane_pid" 2>/dev/null
  [ -n "$pane2_pid" ] && kill "$pane2_pid" 2>/dev/null && wait "$pane2_pid" 2>/dev/null
  scripts/pg.sh stop "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$work" "$pgdir"
}
trap cleanup EXIT
eval "$(scripts/pg.sh start "$pgdir" 2>/dev/null)"
"$pane" migrate --database-url "$DATABASE_URL" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'log:\n  level: warn\nuploads:\n  max_size: 2MiB\n  fsync: true\n' > "$work/pane.yaml"
DATABASE_URL=$DATABASE_URL "$pane" serve --config "$work/pane.yaml" --listen "127.0.0.1:$port" \
  --data-dir "$work/data" >"$work/pane.log" 2>&1 &
pane_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
psql=(/usr/lib/postgresql/15/bin/psql)
[ -x "${psql[0]}" ] || psql=(psql)

# p99 of the upload acknowledgement (last body byte -> answer) from pane's histogram
ack_p99() {
  curl -s "http://127.0.0.1:$port/metrics" | awk '
    /^pane_api_upload_ack_seconds_bucket/ { match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5);
                                            n++; les[n] = le; cnt[n] = $2 }
    END { total = cnt[n]; for (i = 1; i <= n; i++) if (cnt[i] >= 0.99 * total) { printf "ack_p99<=%ss (n=%d)", les[i], total; exit } }'
}

echo "machine: $(nproc) cores, shared; runs of ${secs}s; pane, PostgreSQL and the load generator on one host"

# 1. single-job POST
out=$(wrk -t2 -c64 -d"${secs}s" --latency -s bench/post-job.lua "http://127.0.0.1:$port/v1/queues/bench/jobs")
res=$(grep '^RESULT' <<<"$out")
rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
acked=$(sed -n 's/.*acked=\([0-9]*\).*/\1/p' <<<"$res")
sleep 0.5
rows=$("${psql[@]}" "$DATABASE_URL" -Atc "SELECT count(*) FROM pane.jobs WHERE queue = 'bench'")
batches=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^pane_api_enqueue_batches_total/ {print $2}')
jobs=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^pane_api_jobs_enqueued_total/ {print $2}')
check=$([ "$rows" -ge "$acked" ] && echo "ok: all acknowledged jobs present" || echo "FAILED: $acked acknowledged, $rows rows")
echo "pane  POST /v1/queues/q/jobs  req/s=$rps $res rows=$rows ($check) jobs_per_batch=$(awk -v j="$jobs" -v b="$batches" 'BEGIN{printf "%.1f", j/b}')"

# 2. peer: pgbench single-row enqueue transactions
pg=$(/usr/lib/postgresql/15/bin/pgbench -n -c 64 -j 2 -T "$secs" -f bench/enqueue.sql "$DATABASE_URL" 2>/dev/null)
tps=$(awk '/^tps/ {print $3; exit}' <<<"$pg")
lat=$(awk '/^latency average/ {print $4; exit}' <<<"$pg")
echo "peer  pgbench SELECT pane.enqueue() x64 clients  tps=$tps latency_avg_ms=$lat"

# 3. 1 MiB uploads
head -c $((1 << 20)) /dev/urandom > "$work/upload.bin"
out=$(UPLOAD_FILE="$work/upload.bin" wrk -t2 -c16 -d"${secs}s" --latency -s bench/upload.lua "http://127.0.0.1:$port/v1/uploads/bench")
res=$(grep '^RESULT' <<<"$out")
rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
echo "pane  POST /v1/uploads/q 1 MiB (fsync on)  uploads/s=$rps $res $(ack_p99)"

# 4. the same without fsync (uploads.fsync: false): what the disk flush costs
kill "$pane_pid"; wait "$pane_pid" 2>/dev/null || true; pane_pid=
printf 'log:\n  level: warn\nuploads:\n  max_size: 2MiB\n  fsync: false\n' > "$work/pane2.yaml"
DATABASE_URL=$DATABASE_URL "$pane" serve --config "$work/pane2.yaml" --listen "127.0.0.1:$port" \
  --data-dir "$work/data2" >"$work/pane2.log" 2>&1 &
pane2_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
out=$(UPLOAD_FILE="$work/upload.bin" wrk -t2 -c16 -d"${secs}s" --latency -s bench/upload.lua "http://127.0.0.1:$port/v1/uploads/bench")
res=$(grep '^RESULT' <<<"$out")
rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
echo "pane  POST /v1/uploads/q 1 MiB (fsync off) uploads/s=$rps $res $(ack_p99)"
