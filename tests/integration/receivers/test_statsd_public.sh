#!/usr/bin/env bash
# test_statsd_public.sh - StatsD bound to a non-loopback address starts, but
# says so (it has no authentication), like the HTTP side; on loopback it
# stays quiet.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL

p=$(free_port)
printf 'receivers:\n  statsd:\n    listen: 0.0.0.0:%s\n' "$p" >"$tmp/public.yaml"
serve_start "$tmp/public.log" /healthz --config "$tmp/public.yaml" --data-dir "$tmp/d1" && ok ||
  bad "pane serve did not start: $(tail -3 "$tmp/public.log")"
serve_stop || bad "pane serve did not stop cleanly"
expect_in "$tmp/public.log" "statsd listens on a non-loopback address"
expect_in "$tmp/public.log" "0.0.0.0:$p"

p=$(free_port)
printf 'receivers:\n  statsd:\n    listen: 127.0.0.1:%s\n' "$p" >"$tmp/local.yaml"
serve_start "$tmp/local.log" /healthz --config "$tmp/local.yaml" --data-dir "$tmp/d2" && ok ||
  bad "pane serve did not start: $(tail -3 "$tmp/local.log")"
serve_stop || bad "pane serve did not stop cleanly"
expect_in "$tmp/local.log" "statsd listening"
if grep -q "non-loopback" "$tmp/local.log"; then bad "loopback statsd warned"; else ok; fi
finish
