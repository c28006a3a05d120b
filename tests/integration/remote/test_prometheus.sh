#!/usr/bin/env bash
# test_prometheus.sh - `query: backend:` against a real Prometheus (Debian's
# prometheus, the blocks written by promtool from tests/promql/data.om, as
# tests/promql/regen.py does): every answer of the PromQL corpus through pane
# over Prometheus equals pane over its embedded store holding the same data
# (no known differences: Prometheus keeps NaN samples).
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL
root=$PANE_SOURCE_ROOT
command -v prometheus >/dev/null && command -v promtool >/dev/null ||
  { echo "prometheus and promtool are missing: scripts/install-deps.sh"; exit 1; }
prom_pid= local_pid=
trap 'rm -rf "$tmp"; for p in $pid $prom_pid $local_pid; do kill "$p" 2>/dev/null; done' EXIT

promtool tsdb create-blocks-from openmetrics "$root/tests/promql/data.om" "$tmp/prom" >/dev/null && ok ||
  bad "promtool could not write blocks"
printf 'global:\n  scrape_interval: 15s\n' >"$tmp/prometheus.yml"
pp=$(free_port)
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prom" --storage.tsdb.retention.time=100y \
  --web.listen-address="127.0.0.1:$pp" >"$tmp/prom.log" 2>&1 &
prom_pid=$!
for _ in $(seq 1 400); do curl -fsS "http://127.0.0.1:$pp/-/ready" >/dev/null 2>&1 && break; sleep 0.05; done
curl -fsS "http://127.0.0.1:$pp/-/ready" >/dev/null && ok || bad "prometheus did not start: $(tail -5 "$tmp/prom.log")"

awk '!/^#/ {print $1, $2, $3 "000"}' "$root/tests/promql/data.om" >"$tmp/data.prom"
expect_status 0 "$bin" import --format prometheus "$tmp/data.prom" --data-dir "$tmp/local"
printf 'receivers:\n  statsd:\n    enabled: false\n' >"$tmp/local.yaml"
serve_start "$tmp/local.log" /readyz --config "$tmp/local.yaml" --data-dir "$tmp/local" && ok ||
  bad "embedded pane not ready: $(cat "$tmp/local.log")"
local_pid=$pid local_u=$u
printf 'query:\n  backend: http://127.0.0.1:%s\nreceivers:\n  statsd:\n    enabled: false\n' "$pp" >"$tmp/remote.yaml"
serve_start "$tmp/remote.log" /readyz --config "$tmp/remote.yaml" --data-dir "$tmp/remote" && ok ||
  bad "pane over prometheus not ready: $(cat "$tmp/remote.log")"

printf '# none\n' >"$tmp/none.txt"
python3 "$root/tests/integration/remote/corpus_compare.py" "$local_u" "$u" "$tmp/none.txt" >"$tmp/corpus.out" 2>&1 &&
  ok || bad "corpus through prometheus: $(grep -A1 MISMATCH "$tmp/corpus.out" | head -20; tail -1 "$tmp/corpus.out")"
tail -1 "$tmp/corpus.out"
expect_in "$tmp/corpus.out" "1371/1371 answers agree"

kill "$local_pid" && wait "$local_pid" 2>/dev/null
local_pid=
serve_stop && ok || bad "pane over prometheus did not stop cleanly"
finish
