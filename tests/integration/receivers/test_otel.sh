#!/usr/bin/env bash
# test_otel.sh - the OpenTelemetry JavaScript SDK's OTLP/HTTP protobuf
# exporters (tests/integration/receivers/otel/send.js) send metrics and logs
# to a real `pane serve`, plain and gzip-compressed, cumulative and delta;
# what pane stores is read back through /api/v1/query and /api/v1/logs:
# values, the resource -> label mapping, and receivers.default_labels (a
# label the sender set wins over a default).
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL
otel="$PANE_SOURCE_ROOT/tests/integration/receivers/otel"
[ -d "$otel/node_modules/@opentelemetry/sdk-metrics" ] || { echo "npm packages missing: run scripts/install-deps.sh"; exit 1; }

cat >"$tmp/pane.yaml" <<'YAML'
receivers:
  default_labels:
    environment: production
    team: payments
  statsd:
    enabled: false
YAML
serve_start "$tmp/serve.log" /readyz --config "$tmp/pane.yaml" --data-dir "$tmp/data" && ok ||
  bad "pane serve not ready: $(tail -5 "$tmp/serve.log")"

# value QUERY -> the single result's value, or "none"
value() {
  curl -sS --get --data-urlencode "query=$1" "$u/api/v1/query" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if len(r)==1 else "none:%d" % len(r))'
}
# labels QUERY -> the single result's labels as sorted k=v
labels() {
  curl -sS --get --data-urlencode "query=$1" "$u/api/v1/query" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(",".join("%s=%s" % kv for kv in sorted(r[0]["metric"].items())) if r else "none")'
}
want() { # what got want
  [ "$2" = "$3" ] && ok || bad "$1: got '$2', want '$3'"
}

for run in "checkout none cumulative" "checkout_gz gzip delta"; do
  set -- $run
  svc=$1
  (cd "$otel" && node send.js "$u" "$svc" "$2" "$3") >"$tmp/node.log" 2>&1 && ok ||
    bad "the OpenTelemetry SDK's export failed ($run): $(tail -5 "$tmp/node.log")"
  want "$run counter" "$(value "orders_total{service=\"$svc\"}")" 7
  want "$run labels" "$(labels "orders_total{service=\"$svc\"}")" \
    "__name__=orders_total,environment=staging,provider=app,route=/pay,service=$svc,team=payments"
  want "$run histogram +Inf" "$(value "latency_bucket{service=\"$svc\",le=\"+Inf\"}")" 3
  want "$run histogram le=100" "$(value "latency_bucket{service=\"$svc\",le=\"100\"}")" 2
  want "$run histogram sum" "$(value "latency_sum{service=\"$svc\"}")" 555
  want "$run exponential count" "$(value "payload_size_count{service=\"$svc\"}")" 3
  want "$run exponential sum" "$(value "payload_size_sum{service=\"$svc\"}")" 21
  # the classic buckets from the exponential one: all three values are under the largest bound
  want "$run exponential buckets" "$(value "max(payload_size_bucket{service=\"$svc\",le!=\"+Inf\"})")" 3
  want "$run gauge" "$(value "temperature{service=\"$svc\"}")" 42
  curl -sS --get --data-urlencode "search=payment declined for $svc" --data-urlencode "selector={service=\"$svc\"}" \
    "$u/api/v1/logs" >"$tmp/logs.json"
  python3 - "$tmp/logs.json" "$svc" <<'PY' && ok || bad "$run log record: $(head -c 600 "$tmp/logs.json")"
import json, sys
d = json.load(open(sys.argv[1]))
rows = d["data"]["logs"]
assert len(rows) == 1, rows
r = rows[0]
assert r["message"] == "payment declined for " + sys.argv[2], r
assert r["severity"] == "warn", r
assert r["labels"] == {"environment": "staging", "provider": "app", "service": sys.argv[2], "team": "payments"}, r
assert r["fields"] == {"order_id": "o-17"}, r
PY
done

serve_stop || bad "pane serve did not stop cleanly"
finish
