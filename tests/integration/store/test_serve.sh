#!/usr/bin/env bash
# test_serve.sh - the store inside `pane serve`: its config section is bound
# (bad values name file:line:key), it is ready, pane's own counters reach it
# every self_metrics_interval, a second process on the same data directory is
# refused, and SIGTERM closes it cleanly (empty WAL, segments on disk).
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL  # the store alone: no queue schema to wait for

printf 'store:\n  wal_fsync: sometimes\n' >"$tmp/bad.yaml"
"$bin" serve --config "$tmp/bad.yaml" --data-dir "$tmp/d0" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && ok || bad "bad wal_fsync accepted"
expect_in "$tmp/err" "bad.yaml:2: store.wal_fsync: 'sometimes' is not batch, interval or never"
printf 'store:\n  retention: soon\n' >"$tmp/bad2.yaml"
"$bin" serve --config "$tmp/bad2.yaml" --data-dir "$tmp/d0" >"$tmp/out" 2>"$tmp/err"
expect_in "$tmp/err" "bad2.yaml:2: store.retention"
printf 'store:\n  unknown_knob: 1\n' >"$tmp/bad3.yaml"
"$bin" serve --config "$tmp/bad3.yaml" --data-dir "$tmp/d0" >"$tmp/out" 2>"$tmp/err"
expect_in "$tmp/err" "store.unknown_knob"

printf 'store:\n  retention: 7d\n  wal_fsync: batch\n  self_metrics_interval: 100ms\n' >"$tmp/good.yaml"
serve_start "$tmp/serve.log" /readyz --config "$tmp/good.yaml" --data-dir "$tmp/data" && ok ||
  bad "pane serve not ready: $(cat "$tmp/serve.log")"
curl -sS "$u/readyz" >"$tmp/ready"
expect_in "$tmp/ready" '"store":"ok"'
sleep 0.5
curl -sS "$u/metrics" >"$tmp/metrics"
expect_in "$tmp/metrics" "pane_store_series"
n=$(awk '/^pane_store_samples_total/ {print $2}' "$tmp/metrics")
[ "${n:-0}" -gt 0 ] 2>/dev/null && ok || bad "no self-metrics samples stored (pane_store_samples_total=$n)"
printf 'x 1 1\n' >"$tmp/one.prom"
"$bin" import --format prometheus "$tmp/one.prom" --data-dir "$tmp/data" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && ok || bad "import into a running daemon's store was not refused"
expect_in "$tmp/err" "in use by another pane process"
serve_stop && ok || bad "pane serve exited $? after SIGTERM: $(tail -5 "$tmp/serve.log")"
wal=$(stat -c %s "$tmp/data/store/wal")
[ "$wal" -eq 8 ] && ok || bad "WAL not emptied at a clean stop ($wal bytes)"
segs=$(cat "$tmp/data/store/chunks/"*.seg 2>/dev/null | wc -c)
[ "$segs" -gt 0 ] && ok || bad "no segments written at stop"
"$bin" import --format prometheus "$tmp/one.prom" --data-dir "$tmp/data" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 0 ] && ok || bad "import after the daemon stopped failed: $(cat "$tmp/err")"

finish
