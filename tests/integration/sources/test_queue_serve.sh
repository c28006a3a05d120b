#!/usr/bin/env bash
# test_queue_serve.sh - one owner of the queue's series in the store: `pane
# serve` with DATABASE_URL runs the queue part's collector (into /metrics)
# and, configured here, the `queue` source on the same database. After both
# have run and pane has scraped itself since, every pane_queue_jobs{queue,
# state} (and pane_queue_workers) is stored once: the query
# `count by (queue, state) (pane_queue_jobs) > 1` answers nothing. /metrics
# still shows the queue's numbers. Then the same without the source: the
# collector's numbers reach the store through the self-scrape, once.
# (docs/queue.md, "one owner in the store")
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
[ -n "${DATABASE_URL:-}" ] || { echo "DATABASE_URL not set: skipping"; exit 77; }
db=pt_queue_serve
psql -qAtX "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null || exit 1
url="${DATABASE_URL%/*}/$db"
trap 'rm -rf "$tmp"; [ -n "$pid" ] && kill "$pid" 2>/dev/null; psql -qAtX "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1' EXIT

expect_status 0 "$bin" migrate --database-url "$url"
for i in 1 2 3; do expect_status 0 "$bin" enqueue emails "{\"n\":$i}" --database-url "$url"; done
expect_status 0 "$bin" enqueue reports --database-url "$url"

cat >"$tmp/pane.yaml" <<'Y'
store:
  self_metrics_interval: 1s
queue:
  stats_interval: 1s
sources:
  queue:
    url: ${DATABASE_URL}
    interval: 1s
Y
DATABASE_URL="$url" serve_start "$tmp/log" /healthz --config "$tmp/pane.yaml" --data-dir "$tmp/data" && ok ||
  bad "pane serve did not answer /healthz: $(tail -5 "$tmp/log")"

# q EXPR: the instant query's answer in $tmp/q
q() { curl -sS -G "$u/api/v1/query" --data-urlencode "query=$1" >"$tmp/q" 2>/dev/null; }
# value: the first sample's value in $tmp/q, or nothing
value() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["data"]["result"]; print(r[0]["value"][1] if r else "")' "$tmp/q" 2>/dev/null; }

# 1. the collector has published into /metrics (it stays useful there); it
#    sets a tick's gauges one by one, so a reader can see some before the
#    rest for a moment: wait for both
for _ in $(seq 1 600); do
  curl -sS "$u/metrics" >"$tmp/metrics" 2>/dev/null
  grep -qF 'pane_queue_jobs{queue="emails",state="available"} 3' "$tmp/metrics" &&
    grep -qF 'pane_queue_workers ' "$tmp/metrics" && break
  sleep 0.1
done
expect_in "$tmp/metrics" 'pane_queue_jobs{queue="emails",state="available"} 3'
expect_in "$tmp/metrics" 'pane_queue_workers '
# 2. pane has scraped itself after that (a self-scraped sample newer than now),
#    and the source has collected
since=$(date +%s)
for _ in $(seq 1 600); do
  q "max(timestamp(pane_http_requests_total)) >= $since"
  [ -n "$(value)" ] && break
  sleep 0.1
done
[ -n "$(value)" ] && ok || bad "no self-scrape after the collector ran: $(cat "$tmp/q")"
for _ in $(seq 1 600); do
  q 'pane_source_collections_total{source="queue"} > 1'
  [ -n "$(value)" ] && break
  sleep 0.1
done
[ -n "$(value)" ] && ok || bad "the queue source did not collect: $(cat "$tmp/q"; tail -5 "$tmp/log")"

# 3. one series per (queue, state), with the queue's numbers
q 'count by (queue, state) (pane_queue_jobs) > 1'
grep -qF '"result":[]' "$tmp/q" && ok || bad "a queue series is stored twice: $(cat "$tmp/q")"
q 'count(pane_queue_workers) > 1'
grep -qF '"result":[]' "$tmp/q" && ok || bad "pane_queue_workers is stored twice: $(cat "$tmp/q")"
q 'count(pane_queue_jobs{queue="emails"})'
[ "$(value)" = 6 ] && ok || bad "want 6 states of queue emails: $(cat "$tmp/q")"
q 'sum(pane_queue_jobs{queue="emails",state="available"})'
[ "$(value)" = 3 ] && ok || bad "want 3 available emails: $(cat "$tmp/q")"
q 'pane_queue_jobs{queue="reports",state="available"}'
expect_in "$tmp/q" '"service":"queue"'
expect_in "$tmp/q" '"provider":"pane"'

serve_stop && ok || bad "pane serve exited $? after SIGTERM"

# 4. no queue source: the collector's numbers are stored (through the
#    self-scrape), once, labelled provider="pane", service="pane" and
#    environment="production" (no receivers.default_labels here)
cat >"$tmp/pane2.yaml" <<'Y'
store:
  self_metrics_interval: 1s
queue:
  stats_interval: 1s
Y
DATABASE_URL="$url" serve_start "$tmp/log2" /healthz --config "$tmp/pane2.yaml" --data-dir "$tmp/data2" && ok ||
  bad "pane serve (no source) did not answer /healthz: $(tail -5 "$tmp/log2")"
for _ in $(seq 1 600); do
  q 'pane_queue_jobs{queue="emails",state="available"}'
  [ -n "$(value)" ] && break
  sleep 0.1
done
[ "$(value)" = 3 ] && ok || bad "without a source the queue's numbers are not stored: $(cat "$tmp/q"; tail -5 "$tmp/log2")"
expect_in "$tmp/q" '"provider":"pane"'
# the three standard labels: pane's own series are not "unlabelled"
expect_in "$tmp/q" '"service":"pane"'
expect_in "$tmp/q" '"environment":"production"'
q 'count by (queue, state) (pane_queue_jobs) > 1'
grep -qF '"result":[]' "$tmp/q" && ok || bad "without a source a queue series is stored twice: $(cat "$tmp/q")"
# (a self-scrape may land while the collector is setting a tick's gauges:
# the rest then reach the store with the next one)
for _ in $(seq 1 600); do
  q 'pane_queue_workers'
  [ -n "$(value)" ] && break
  sleep 0.1
done
[ -n "$(value)" ] && ok || bad "pane_queue_workers not stored without a source: $(cat "$tmp/q")"
serve_stop && ok || bad "pane serve (no source) exited $? after SIGTERM"
finish
