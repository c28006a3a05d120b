#!/usr/bin/env bash
# test_loki_pb.sh - a Loki protobuf push as Promtail/Alloy send it, built
# here independently of pane's own .proto: a hand protobuf encoder following
# Loki's published push.proto (PushRequest.streams = 1; StreamAdapter.labels
# = 1, entries = 2; EntryAdapter.timestamp = 1 (google.protobuf.Timestamp:
# seconds = 1, nanos = 2), line = 2, structuredMetadata = 3;
# LabelPairAdapter.name = 1, value = 2) and a snappy block encoder (literals
# only, which every snappy decoder reads). Posted to a real `pane serve` with
# receivers.default_labels; read back through /api/v1/logs.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL
printf 'receivers:\n  default_labels:\n    environment: production\n  statsd:\n    enabled: false\n' >"$tmp/pane.yaml"
serve_start "$tmp/serve.log" /readyz --config "$tmp/pane.yaml" --data-dir "$tmp/data" && ok ||
  bad "pane serve not ready: $(tail -5 "$tmp/serve.log")"

python3 - "$tmp/push.bin" <<'PY'
import sys, time
def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)
def field(num, payload):  # length-delimited
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(num << 3 | 2) + varint(len(payload)) + payload
def vint(num, v):
    return varint(num << 3 | 0) + varint(v)
now = int(time.time())
def entry(sec, nanos, line, meta=()):
    ts = vint(1, sec) + vint(2, nanos)
    e = field(1, ts) + field(2, line)
    for k, v in meta:
        e += field(3, field(1, k) + field(2, v))
    return e
s1 = field(1, '{job="promtail", service="shop", level="error", environment="edge"}')
s1 += field(2, entry(now, 250000000, "checkout failed: card expired", [("trace_id", "4bf92f3577b34da6"), ("user", "u-9")]))
s1 += field(2, entry(now + 1, 0, "retrying checkout"))
s1 += vint(3, 12345)  # hash: pane ignores it
s2 = field(1, '{job="promtail", service="shop-worker"}') + field(2, entry(now, 0, "worker started"))
push = field(1, s1) + field(1, s2)
# snappy block: uncompressed length, then literal elements of at most 60 bytes
z = bytearray(varint(len(push)))
for i in range(0, len(push), 60):
    chunk = push[i:i + 60]
    z.append((len(chunk) - 1) << 2)
    z += chunk
open(sys.argv[1], "wb").write(bytes(z))
PY

st=$(curl -sS -o "$tmp/body" -w '%{http_code}' -X POST -H 'Content-Type: application/x-protobuf' \
  --data-binary "@$tmp/push.bin" "$u/loki/api/v1/push")
[ "$st" = "204" ] && ok || bad "push answered $st: $(cat "$tmp/body")"

curl -sS --get --data-urlencode 'selector={job="promtail"}' --data-urlencode 'limit=10' "$u/api/v1/logs" >"$tmp/logs.json"
python3 - "$tmp/logs.json" <<'PY' && ok || bad "logs read back: $(head -c 800 "$tmp/logs.json")"
import json, sys
rows = json.load(open(sys.argv[1]))["data"]["logs"]
by = {r["message"]: r for r in rows}
assert set(by) == {"checkout failed: card expired", "retrying checkout", "worker started"}, list(by)
r = by["checkout failed: card expired"]
assert r["severity"] == "error", r
# the stream's own environment wins over the default; structured metadata -> fields
assert r["labels"] == {"job": "promtail", "service": "shop", "level": "error", "environment": "edge"}, r
assert r["fields"] == {"trace_id": "4bf92f3577b34da6", "user": "u-9"}, r
assert r["ts"] % 1000 == 250, r
w = by["worker started"]
assert w["labels"] == {"job": "promtail", "service": "shop-worker", "environment": "production"}, w
PY

# a Supabase log drain's form: gzipped JSON with structured metadata (the third element)
python3 - "$tmp/drain.json.gz" <<'PY'
import gzip, json, sys, time
now = int(time.time() * 1e9)
body = {"streams": [{"stream": {"source": "edge_logs", "product": "api"},
                     "values": [[str(now), "GET /rest/v1/orders 200", {"request_id": "r-1"}]]}]}
open(sys.argv[1], "wb").write(gzip.compress(json.dumps(body).encode()))
PY
st=$(curl -sS -o "$tmp/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  -H 'Content-Encoding: gzip' --data-binary "@$tmp/drain.json.gz" "$u/loki/api/v1/push")
[ "$st" = "204" ] && ok || bad "gzipped JSON push answered $st: $(cat "$tmp/body")"
curl -sS --get --data-urlencode 'selector={source="edge_logs"}' "$u/api/v1/logs" >"$tmp/drain.json"
python3 - "$tmp/drain.json" <<'PY' && ok || bad "drained line read back: $(head -c 600 "$tmp/drain.json")"
import json, sys
rows = json.load(open(sys.argv[1]))["data"]["logs"]
assert len(rows) == 1, rows
r = rows[0]
assert r["message"] == "GET /rest/v1/orders 200", r
assert r["labels"] == {"source": "edge_logs", "product": "api", "environment": "production"}, r
assert r["fields"] == {"request_id": "r-1"}, r
PY

# not snappy: 400 naming it; another Content-Encoding: 415
st=$(curl -sS -o "$tmp/body" -w '%{http_code}' -X POST -H 'Content-Type: application/x-protobuf' \
  --data-binary 'garbage' "$u/loki/api/v1/push")
[ "$st" = "400" ] && ok || bad "garbage answered $st"
expect_in "$tmp/body" "snappy"
st=$(curl -sS -o "$tmp/body" -w '%{http_code}' -X POST -H 'Content-Type: application/x-protobuf' \
  -H 'Content-Encoding: zstd' --data-binary "@$tmp/push.bin" "$u/loki/api/v1/push")
[ "$st" = "415" ] && ok || bad "zstd answered $st"

serve_stop || bad "pane serve did not stop cleanly"
finish
