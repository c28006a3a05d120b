#!/usr/bin/env bash
# test_biglog.sh - a log line over 1 MiB is a permanent error for that line
# alone: Loki push answers 400 naming it, JSON lines and OTLP logs report it
# as rejected; the other lines of the push are stored exactly once (no 503,
# so no retry storing them again).
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL

serve_start "$tmp/serve.log" /readyz --data-dir "$tmp/data" && ok ||
  bad "pane serve not ready: $(tail -5 "$tmp/serve.log")"
now_ns="$(date +%s)000000000"
python3 - "$tmp" "$now_ns" <<'PY'
import json, sys
tmp, ns = sys.argv[1], sys.argv[2]
big = "x" * (1100 * 1024)
json.dump({"streams": [{"stream": {"service": "bigsvc"},
           "values": [[ns, "lokiline-one"], [ns, big], [ns, "lokiline-two"]]}]}, open(tmp + "/loki.json", "w"))
with open(tmp + "/lines.jsonl", "w") as f:
    for m in ("jsonl-one", big, "jsonl-two"):
        f.write(json.dumps({"message": m}) + "\n")
json.dump({"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "bigsvc"}}]},
           "scopeLogs": [{"logRecords": [{"timeUnixNano": ns, "body": {"stringValue": m}}
                                          for m in ("otlp-one", big, "otlp-two")]}]}]}, open(tmp + "/otlp.json", "w"))
PY
post() { # path file -> status in $tmp/st, body in $tmp/body
  curl -sS -o "$tmp/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary "@$2" "$u$1" >"$tmp/st"
}
stored() { # marker -> how many stored lines contain it
  curl -sS --get --data-urlencode "search=$1" --data-urlencode "limit=100" "$u/api/v1/logs" | grep -o "$1" | wc -l
}

post /loki/api/v1/push "$tmp/loki.json"
expect_in "$tmp/st" "400"
expect_in "$tmp/body" "over the 1048576-byte limit"
[ "$(stored lokiline-one)" -eq 1 ] && [ "$(stored lokiline-two)" -eq 1 ] && ok ||
  bad "loki: the valid lines were not stored once ($(stored lokiline-one), $(stored lokiline-two))"

post "/api/v1/push/jsonlines?service=bigsvc" "$tmp/lines.jsonl"
expect_in "$tmp/st" "200"
expect_in "$tmp/body" '"rejected":1'
[ "$(stored jsonl-one)" -eq 1 ] && [ "$(stored jsonl-two)" -eq 1 ] && ok || bad "jsonlines: valid lines not stored once"

post /v1/logs "$tmp/otlp.json"
expect_in "$tmp/st" "200"
expect_in "$tmp/body" '"rejectedLogRecords":"1"'
[ "$(stored otlp-one)" -eq 1 ] && [ "$(stored otlp-two)" -eq 1 ] && ok || bad "otlp: valid records not stored once"

serve_stop || bad "pane serve did not stop cleanly"
finish
