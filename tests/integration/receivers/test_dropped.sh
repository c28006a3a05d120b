#!/usr/bin/env bash
# test_dropped.sh - samples the store does not keep are never acknowledged as
# stored: beyond store.max_future or past store.max_series_per_metric, the
# Prometheus import answers 400 with the reason and OTLP metrics answer a
# partialSuccess; what was valid is stored (queried back), once.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL

# 0 means what the docs say (keep / any time / off), not a parse error
printf 'store:\n  retention: 0\n  log_retention: 0\n  max_future: 0\n  self_metrics_interval: 0\n' >"$tmp/zero.yaml"
serve_start "$tmp/zero.log" /readyz --config "$tmp/zero.yaml" --data-dir "$tmp/zdata" && ok ||
  bad "pane serve refused 0 for off/keep: $(tail -3 "$tmp/zero.log")"
serve_stop || bad "pane serve (zeros) did not stop cleanly"

printf 'store:\n  max_future: 1h\n  max_series_per_metric: 2\n' >"$tmp/pane.yaml"
serve_start "$tmp/serve.log" /readyz --config "$tmp/pane.yaml" --data-dir "$tmp/data" && ok ||
  bad "pane serve not ready: $(tail -5 "$tmp/serve.log")"

now_ms=$(($(date +%s) * 1000))
future_ms=$((now_ms + 3 * 86400 * 1000))
post_import() { # body -> status in $tmp/st, body in $tmp/body
  curl -sS -o "$tmp/body" -w '%{http_code}' -X POST --data-binary "$1" "$u/api/v1/import/prometheus" >"$tmp/st"
}
count_of() { # PromQL -> the value of count(...)
  curl -sS --get --data-urlencode "query=count($1)" "$u/api/v1/query" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)'
}

# one sample three days ahead among good ones
post_import "$(printf 'fut_ok{k="a"} 1 %s\nfut_ok{k="b"} 2 %s\n' "$now_ms" "$future_ms")"
expect_in "$tmp/st" "400"
expect_in "$tmp/body" "1 of 2 samples were not stored"
expect_in "$tmp/body" "max_future"
[ "$(count_of 'fut_ok')" = "1" ] && ok || bad "the valid sample was not stored once: count=$(count_of 'fut_ok')"

# a third series of one metric (the cap is 2)
post_import "$(printf 'capped{k="1"} 1\ncapped{k="2"} 1\ncapped{k="3"} 1\n')"
expect_in "$tmp/st" "400"
expect_in "$tmp/body" "1 of 3 samples were not stored"
expect_in "$tmp/body" "max_series_per_metric"
[ "$(count_of 'capped')" = "2" ] && ok || bad "capped: count=$(count_of 'capped')"

# all good: 204 as before
post_import "$(printf 'capped{k="1"} 5\n')"
expect_in "$tmp/st" "204"

# OTLP metrics: partialSuccess names the data points not stored
otlp=$(cat <<JSON
{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},
 "scopeMetrics":[{"metrics":[{"name":"otlp_fut","gauge":{"dataPoints":[
   {"asDouble":1,"timeUnixNano":"${now_ms}000000"},
   {"asDouble":2,"timeUnixNano":"${future_ms}000000","attributes":[{"key":"k","value":{"stringValue":"x"}}]}]}}]}]}]}
JSON
)
curl -sS -o "$tmp/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary "$otlp" \
  "$u/v1/metrics" >"$tmp/st"
expect_in "$tmp/st" "200"
expect_in "$tmp/body" '"rejectedDataPoints":"1"'
expect_in "$tmp/body" "were not stored"

# log timestamps are bounded like samples (store.max_future): Loki says 400
# naming it, the valid line is stored
loki=$(printf '{"streams":[{"stream":{"service":"futsvc"},"values":[["%s000000","futlog-now"],["%s000000","futlog-2262"]]}]}' \
  "$now_ms" "9200000000000")
curl -sS -o "$tmp/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary "$loki" \
  "$u/loki/api/v1/push" >"$tmp/st"
expect_in "$tmp/st" "400"
expect_in "$tmp/body" "max_future"
n=$(curl -sS --get --data-urlencode "search=futlog" --data-urlencode "limit=100" "$u/api/v1/logs" | grep -o 'futlog-[a-z0-9]*' | sort -u | tr '\n' ' ')
[ "$n" = "futlog-now " ] && ok || bad "log lines stored: '$n' (want only futlog-now)"

serve_stop || bad "pane serve did not stop cleanly"
finish
