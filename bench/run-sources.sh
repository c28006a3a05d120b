#!/usr/bin/env bash
# run-sources.sh - pane's postgres source next to postgres_exporter (Debian's
# prometheus-postgres-exporter), both reading the same throwaway PostgreSQL 15
# with pg_stat_statements and 50 tables. Prints the median / p90 time of one
# collection (pane: in-process collect; exporter: one HTTP scrape with curl)
# and how many samples each produced. Short on purpose: RUNS (default 30).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${1:-30}
bin=build/bench/bench_sources_pg
[ -x "$bin" ] || { echo "build first (make build)"; exit 1; }
command -v prometheus-postgres-exporter >/dev/null || { echo "needs scripts/install-deps.sh --bench"; exit 1; }
pgdir=$(mktemp -d /tmp/pane-bench-pg.XXXXXX); rmdir "$pgdir"
exporter=
cleanup() { [ -n "$exporter" ] && kill "$exporter" 2>/dev/null; scripts/pg.sh stop "$pgdir" >/dev/null 2>&1; rm -rf "$pgdir"; }
trap cleanup EXIT
eval "$(scripts/pg.sh start "$pgdir")" || exit 1
psql -qAtX "$DATABASE_URL" >/dev/null <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
DO $$ BEGIN FOR i IN 1..50 LOOP
  EXECUTE format('CREATE TABLE t%s (id int primary key, v text)', i);
  EXECUTE format('INSERT INTO t%s SELECT g, md5(g::text) FROM generate_series(1, 1000) g', i);
  EXECUTE format('SELECT count(*) FROM t%s WHERE v LIKE %L', i, 'a%');
END LOOP; END $$;
SQL
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DATA_SOURCE_NAME="$DATABASE_URL?sslmode=disable" prometheus-postgres-exporter \
  --web.listen-address="127.0.0.1:$port" >/tmp/pane-bench-exporter.log 2>&1 &
exporter=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done
echo "machine: $(nproc) cores, shared with other work; figures are indicative"
"$bin" "$runs"
curl -fs "http://127.0.0.1:$port/metrics" >/dev/null   # warm-up
times=()
for _ in $(seq 1 "$runs"); do
  times+=("$(curl -fs -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/metrics")")
done
n=$(curl -fs "http://127.0.0.1:$port/metrics" | grep -vc '^#')
printf '%s\n' "${times[@]}" | sort -n | awk -v n="$n" -v runs="$runs" '{a[NR]=$1*1000} END {
  printf "postgres_exporter      median %.2f ms   p90 %.2f ms   %d samples per scrape (%d runs)\n",
    a[int(NR/2)+1], a[int(NR*0.9)], n, runs }'
