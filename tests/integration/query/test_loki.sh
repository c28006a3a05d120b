#!/usr/bin/env bash
# test_loki.sh - Loki's query API inside a real `pane serve`: eight log lines
# pushed through the Loki push receiver (three streams), then read back
# through every /loki/api/v1 route with LogQL whose answers are worked out
# by hand below; the requests Grafana's Loki data source sends ("Save &
# test" in old and new Grafana, a logs panel, its logs-volume query)
# replayed; and hostile input (huge and deeply nested queries, bad regexes,
# times, steps, limits) answered 400 while the server keeps answering.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL # the store alone

printf 'receivers:\n  statsd:\n    enabled: false\n' >"$tmp/pane.yaml"
serve_start "$tmp/serve.log" /readyz --config "$tmp/pane.yaml" --data-dir "$tmp/data" && ok ||
  bad "pane serve not ready: $(cat "$tmp/serve.log")"

# T0: a whole minute, 30 minutes ago (inside the default retention)
T0=$(( ($(date +%s) / 60 - 30) * 60 ))
ns() { echo "$(( T0 + $1 ))000000000"; }
python3 - "$T0" >"$tmp/push.json" <<'EOF'
import json, sys
t0 = int(sys.argv[1])
def v(off, line): return [str((t0 + off) * 10**9), line]
print(json.dumps({"streams": [
  {"stream": {"service": "api", "environment": "prod"}, "values": [
    v(0, 'level=info msg="GET /users" status=200 duration=12ms'),
    v(10, 'level=error msg="db timeout" status=500 duration=1.5s'),
    v(20, 'level=warn msg="slow query" status=200 duration=800ms'),
    v(70, 'level=error msg="db timeout again" status=503 duration=2s')]},
  {"stream": {"service": "web", "environment": "prod"}, "values": [
    v(5, '{"level":"info","path":"/home","req":{"ms":12}}'),
    v(15, '{"level":"error","path":"/cart","req":{"ms":340}}'),
    v(65, 'not json at all')]},
  {"stream": {"service": "worker", "environment": "staging"}, "values": [
    v(30, 'job 17 done')]}]}))
EOF
code=$(curl -sS -o "$tmp/push.out" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary @"$tmp/push.json" "$u/loki/api/v1/push")
[ "$code" = 204 ] && ok || bad "push answered $code: $(cat "$tmp/push.out")"

# check NAME FILE PYTHON-EXPR: the expression over d (the parsed JSON answer) is true
check() {
  if python3 - "$2" "$3" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
def lines(d): return [v[1] for s in d["data"]["result"] for v in s["values"]]
def series(d): return {json.dumps(s["metric"], sort_keys=True): [v[1] for v in s["values"]] for s in d["data"]["result"]}
def vec(d): return {json.dumps(s["metric"], sort_keys=True): s["value"][1] for s in d["data"]["result"]}
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
  then ok; else bad "$1: $3 is false for $(head -c 600 "$2")"; fi
}
# qr FILE QUERY [ARGS...]: query_range over [T0, T0+120 s)
qr() {
  local f=$1 q=$2; shift 2
  curl -sS -G -o "$f" -w '%{http_code}' "$u/loki/api/v1/query_range" --data-urlencode "query=$q" \
    --data-urlencode "start=$(ns 0)" --data-urlencode "end=$(ns 120)" "$@" >"$f.code"
}
# qi FILE QUERY OFFSET: instant query at T0+OFFSET
qi() {
  curl -sS -G -o "$1" -w '%{http_code}' "$u/loki/api/v1/query" --data-urlencode "query=$2" \
    --data-urlencode "time=$(ns "$3")" >"$1.code"
}

# the lines are readable once the push was answered; poll a bounded while anyway
for _ in $(seq 1 100); do
  qr "$tmp/all" '{environment=~".+"}'
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if sum(len(s["values"]) for s in d["data"]["result"]) == 8 else 1)' \
    "$tmp/all" 2>/dev/null && break
  sleep 0.05
done

# --- log queries ---
qr "$tmp/q" '{environment="prod"}'
check prod "$tmp/q" 'd["status"] == "success" and d["data"]["resultType"] == "streams" and len(d["data"]["result"]) == 2 and len(lines(d)) == 7'
check ns-strings "$tmp/q" 'all(isinstance(v[0], str) and len(v[0]) == 19 for s in d["data"]["result"] for v in s["values"])'
check backward "$tmp/q" '[s for s in d["data"]["result"] if s["stream"]["service"] == "api"][0]["values"][0][0] == "'"$(ns 70)"'"'
check stats "$tmp/q" 'd["data"]["stats"]["summary"]["totalEntriesReturned"] == 7'
qr "$tmp/q" '{service="api"}' --data-urlencode direction=forward --data-urlencode limit=2
check forward-limit "$tmp/q" '[v[0] for v in d["data"]["result"][0]["values"]] == ["'"$(ns 0)"'", "'"$(ns 10)"'"]'
qr "$tmp/q" '{service="api"}' --data-urlencode limit=1
check backward-limit "$tmp/q" 'lines(d) == ["level=error msg=\"db timeout again\" status=503 duration=2s"]'
qr "$tmp/q" '{service="api"} |= "timeout"'
check contains "$tmp/q" 'len(lines(d)) == 2'
qr "$tmp/q" '{service="api"} |= "Timeout"'
check case-sensitive "$tmp/q" 'len(lines(d)) == 0'
qr "$tmp/q" '{service="api"} != "timeout"'
check not-contains "$tmp/q" 'sorted(lines(d)) == sorted(["level=info msg=\"GET /users\" status=200 duration=12ms", "level=warn msg=\"slow query\" status=200 duration=800ms"])'
qr "$tmp/q" '{service="api"} |~ "db.*again"'
check regex "$tmp/q" 'len(lines(d)) == 1'
qr "$tmp/q" '{service="api"} !~ "^level=(info|warn)"'
check not-regex "$tmp/q" 'len(lines(d)) == 2'
qr "$tmp/q" '{service="api"} |= "timeout" != "again"'
check chained "$tmp/q" 'lines(d) == ["level=error msg=\"db timeout\" status=500 duration=1.5s"]'
qr "$tmp/q" '{service=~"api|worker", environment!="staging"}'
check matchers "$tmp/q" 'len(lines(d)) == 4'
qr "$tmp/q" '{environment=~".+", service!~"api|web"}'
check nre "$tmp/q" 'lines(d) == ["job 17 done"]'
qr "$tmp/q" '{service="web"} | json | level="error"'
check json "$tmp/q" 'd["data"]["result"][0]["stream"] == {"environment": "prod", "service": "web", "level": "error", "path": "/cart", "req_ms": "340"} and len(lines(d)) == 1'
qr "$tmp/q" '{service="web"} | json'
check json-error "$tmp/q" 'any(s["stream"].get("__error__") == "JSONParserErr" and [v[1] for v in s["values"]] == ["not json at all"] for s in d["data"]["result"])'
qr "$tmp/q" '{service="web"} | json | __error__="" | req_ms > 100'
check json-num "$tmp/q" 'len(lines(d)) == 1 and "/cart" in lines(d)[0]'
qr "$tmp/q" '{service="web"} | json | drop __error__'
check drop "$tmp/q" 'len(d["data"]["result"]) == 3 and all("__error__" not in s["stream"] for s in d["data"]["result"])'
qr "$tmp/q" '{service="api"} | logfmt | status >= 500'
check logfmt-num "$tmp/q" 'len(lines(d)) == 2'
qr "$tmp/q" '{service="api"} | logfmt | duration > 1s'
check duration-gt "$tmp/q" 'len(lines(d)) == 2'
qr "$tmp/q" '{service="api"} | logfmt | duration <= 800ms'
check duration-le "$tmp/q" 'len(lines(d)) == 2'
qr "$tmp/q" '{service="api"} | logfmt | level="warn" or status == 503'
check or "$tmp/q" 'len(lines(d)) == 2'
qr "$tmp/q" '{service="api"} | logfmt | level=~"err.*" and msg!="db timeout"'
check and "$tmp/q" 'lines(d) == ["level=error msg=\"db timeout again\" status=503 duration=2s"]'
qr "$tmp/q" '{service="api"} | logfmt | level="warn" | line_format "{{.status}} {{ .msg }}"'
check line_format "$tmp/q" 'lines(d) == ["200 slow query"]'
qr "$tmp/q" '{service="api"} | logfmt | keep service, level | level="info"'
check keep "$tmp/q" 'd["data"]["result"][0]["stream"] == {"service": "api", "level": "info"}'

# --- metric queries: windows are (t - range, t] ---
qi "$tmp/q" 'count_over_time({environment="prod"}[1m])' 60
check count "$tmp/q" 'd["data"]["resultType"] == "vector" and vec(d) == {"{\"environment\": \"prod\", \"service\": \"api\"}": "2", "{\"environment\": \"prod\", \"service\": \"web\"}": "2"}'
qi "$tmp/q" 'sum(count_over_time({environment=~".+"}[1m]))' 60
check sum "$tmp/q" 'vec(d) == {"{}": "5"}'
qi "$tmp/q" 'rate({service="api"}[1m])' 60
check rate "$tmp/q" 'list(vec(d).values()) == ["0.03333333333333333"]'
qi "$tmp/q" 'bytes_over_time({service="worker"}[1h])' 60
check bytes "$tmp/q" 'list(vec(d).values()) == ["11"]'
qi "$tmp/q" 'bytes_rate({service="worker"}[10s])' 35
check bytes_rate "$tmp/q" 'list(vec(d).values()) == ["1.1"]'
qi "$tmp/q" 'topk(1, count_over_time({service=~"api|worker"}[2m]))' 90
check topk "$tmp/q" 'vec(d) == {"{\"environment\": \"prod\", \"service\": \"api\"}": "4"}'
qi "$tmp/q" 'count_over_time({service="api"}[1m]) * 2' 60
check arith "$tmp/q" 'list(vec(d).values()) == ["4"]'
qi "$tmp/q" 'max without (service) (count_over_time({environment="prod"} |= "e" [2m]))' 90
check without "$tmp/q" 'vec(d) == {"{\"environment\": \"prod\"}": "4"}'
qi "$tmp/q" 'min without (service) (count_over_time({environment="prod"} |= "e" [2m]))' 90
check min "$tmp/q" 'vec(d) == {"{\"environment\": \"prod\"}": "2"}'
qi "$tmp/q" 'count by (environment) (count_over_time({environment=~".+"}[2m]))' 90
check count-agg "$tmp/q" 'vec(d) == {"{\"environment\": \"prod\"}": "2", "{\"environment\": \"staging\"}": "1"}'
qi "$tmp/q" 'avg by (environment) (count_over_time({environment=~".+"}[1m]))' 60
check avg "$tmp/q" 'vec(d) == {"{\"environment\": \"prod\"}": "2", "{\"environment\": \"staging\"}": "1"}'
qi "$tmp/q" 'sum by (level) (count_over_time({service="api"} | logfmt [2m]))' 90
check by-extracted "$tmp/q" 'vec(d) == {"{\"level\": \"error\"}": "2", "{\"level\": \"info\"}": "1", "{\"level\": \"warn\"}": "1"}'
curl -sS -G -o "$tmp/q" "$u/loki/api/v1/query_range" \
  --data-urlencode 'query=sum by (service) (count_over_time({environment=~".+"}[1m]))' \
  --data-urlencode "start=$(ns 60)" --data-urlencode "end=$(ns 120)" --data-urlencode step=60
check matrix "$tmp/q" 'd["data"]["resultType"] == "matrix" and series(d) == {"{\"service\": \"api\"}": ["2", "1"], "{\"service\": \"web\"}": ["2", "1"], "{\"service\": \"worker\"}": ["1"]}'
check matrix-ts "$tmp/q" '[v[0] for v in d["data"]["result"][0]["values"]] == ['"$((T0 + 60)), $((T0 + 120))"']'

# --- labels, values, series, stats ---
s="--data-urlencode start=$(ns 0) --data-urlencode end=$(ns 120)"
curl -sS -G -o "$tmp/q" "$u/loki/api/v1/labels" $s
check labels "$tmp/q" 'd == {"status": "success", "data": ["environment", "service"]}'
curl -sS -G -o "$tmp/q" "$u/loki/api/v1/label/service/values" $s
check values "$tmp/q" 'd["data"] == ["api", "web", "worker"]'
curl -sS -G -o "$tmp/q" "$u/loki/api/v1/label/service/values" $s --data-urlencode 'query={environment="staging"}'
check values-query "$tmp/q" 'd["data"] == ["worker"]'
curl -sS -G -o "$tmp/q" "$u/loki/api/v1/series" $s --data-urlencode 'match[]={environment="prod"}'
check series "$tmp/q" 'sorted(x["service"] for x in d["data"]) == ["api", "web"]'
bytes=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(len(v[1].encode()) for s in d["streams"] if s["stream"]["environment"]=="prod" for v in s["values"]))' "$tmp/push.json")
curl -sS -G -o "$tmp/q" "$u/loki/api/v1/index/stats" $s --data-urlencode 'query={environment="prod"}'
check index-stats "$tmp/q" 'd == {"streams": 2, "chunks": 2, "bytes": '"$bytes"', "entries": 7}'

# --- Grafana, replayed ---
# new Grafana's "Save & test": an instant vector(1)+vector(1) "at 4 s", sent as
# time=4000000000 (Unix ns), which Loki (and so pane) reads as 10-digit Unix
# seconds; Grafana checks one sample with the value 2
curl -sS -o "$tmp/q" "$u/loki/api/v1/query?direction=backward&query=vector%281%29%2Bvector%281%29&time=4000000000"
check grafana-health "$tmp/q" 'd["data"]["resultType"] == "vector" and len(d["data"]["result"]) == 1 and d["data"]["result"][0]["metric"] == {} and d["data"]["result"][0]["value"][1] == "2"'
# older Grafana's "Save & test" asks for label names
code=$(curl -sS -o "$tmp/q" -w '%{http_code}' "$u/loki/api/v1/label?start=$(ns 0)&end=$(ns 120)")
[ "$code" = 200 ] && ok || bad "GET /loki/api/v1/label answered $code"
check grafana-old-health "$tmp/q" 'd["status"] == "success" and len(d["data"]) > 0'
# a logs panel: range query, backward, Grafana's limit, step in ms
curl -sS -o "$tmp/q" -H 'X-Query-Tags: Source=grafana' \
  "$u/loki/api/v1/query_range?direction=backward&end=$(ns 120)&limit=1000&query=%7Bservice%3D%22api%22%7D&start=$(ns 0)&step=2000ms"
check grafana-logs "$tmp/q" 'd["data"]["resultType"] == "streams" and len(lines(d)) == 4'
# its logs volume histogram
curl -sS -o "$tmp/q" -H 'X-Query-Tags: Source=logvolhist' -G "$u/loki/api/v1/query_range" \
  --data-urlencode 'query=sum by (level) (count_over_time({service="api"} | logfmt | drop __error__[1m]))' \
  --data-urlencode "start=$(ns 0)" --data-urlencode "end=$(ns 120)" --data-urlencode step=60000ms
check grafana-volume "$tmp/q" 'series(d) == {"{\"level\": \"info\"}": ["1"], "{\"level\": \"error\"}": ["1", "1"], "{\"level\": \"warn\"}": ["1"]}'

# --- /tail: a websocket that sends what is there, then each new line ---
here=$(dirname "$0")
now=$(date +%s)
cat >"$tmp/push2.json" <<EOF2
{"streams":[{"stream":{"service":"api","environment":"prod"},"values":[["${now}000000000","level=info msg=\\"tailed line\\""]]}]}
EOF2
tailq=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1]))' '{service="api"} |= "msg"')
if python3 "$here/ws_tail.py" "$port" "/loki/api/v1/tail?query=$tailq&start=$(ns 0)&limit=100" \
  "curl -sS -H 'Content-Type: application/json' --data-binary @$tmp/push2.json $u/loki/api/v1/push" \
  'tailed line' >"$tmp/tail.out" 2>&1; then ok; else bad "tail: $(cat "$tmp/tail.out")"; fi
python3 - "$tmp/tail.out" "$T0" <<'EOF2' && ok || bad "tail frames: $(cat "$tmp/tail.out")"
import json, sys
first, second, closed = open(sys.argv[1]).read().split("\n")[:3]
f = json.loads(first)
assert f["dropped_entries"] is None
assert sorted(v[0] for s in f["streams"] for v in s["values"]) == [str((int(sys.argv[2]) + o) * 10**9) for o in (0, 10, 20, 70)]
s = json.loads(second)
assert [v[1] for st in s["streams"] for v in st["values"]] == ['level=info msg="tailed line"'], s
assert closed == "closed"
EOF2
code=$(curl -sS -o "$tmp/h" -w '%{http_code}' "$u/loki/api/v1/tail?query=%7Ba%3D%22b%22%7D")
[ "$code" = 400 ] && ok || bad "tail without a websocket answered $code"

# --- hostile input: 400 text/plain, never a crash ---
expect400() { # name file
  code=$(cat "$2.code")
  [ "$code" = 400 ] && ok || bad "$1 answered $code: $(head -c 300 "$2")"
}
qr "$tmp/h" '{service="api"'
expect400 unclosed "$tmp/h"
expect_in "$tmp/h" 'parse error at line 1, col 15: syntax error: unexpected end of input, expecting }'
qr "$tmp/h" '{service=~"(unclosed"}'
expect400 bad-regex "$tmp/h"
expect_in "$tmp/h" 'missing closing parenthesis'
qr "$tmp/h" '{service="api"} |~ "a{99999}"'
expect400 regex-limit "$tmp/h"
qr "$tmp/h" '{service=""}'
expect400 empty-selector "$tmp/h"
expect_in "$tmp/h" 'queries require at least one regexp or equality matcher'
qr "$tmp/h" '{service="api"} | unpack'
expect400 unsupported "$tmp/h"
qr "$tmp/h" '{service="api"} | line_format "{{ printf \"%s\" .x }}"'
expect400 template "$tmp/h"
{ printf '{service="'; head -c 70000 /dev/zero | tr '\0' a; printf '"}'; } >"$tmp/huge"
curl -sS -o "$tmp/h" -w '%{http_code}' --data-urlencode "query@$tmp/huge" "$u/loki/api/v1/query_range" >"$tmp/h.code"
expect400 huge "$tmp/h"
expect_in "$tmp/h" 'over the 65536-byte limit'
deep=$(printf 'sum(%.0s' $(seq 200))'count_over_time({a="b"}[1m])'$(printf ')%.0s' $(seq 200))
qi "$tmp/h" "$deep" 60
expect400 deep "$tmp/h"
expect_in "$tmp/h" 'nests more than 64 levels'
parens=$(printf '(%.0s' $(seq 5000))'vector(1)'$(printf ')%.0s' $(seq 5000))
qi "$tmp/h" "$parens" 60
expect400 parens "$tmp/h"
{ printf 'query=vector(1)'; for _ in $(seq 3000); do printf '%%2Bvector(1)'; done; } >"$tmp/chain"
curl -sS -o "$tmp/h" -w '%{http_code}' --data-binary @"$tmp/chain" "$u/loki/api/v1/query" >"$tmp/h.code"
expect400 chain "$tmp/h"
expect_in "$tmp/h" 'too many binary operators'
qi "$tmp/h" '{service="api"}' 60
expect400 instant-log "$tmp/h"
expect_in "$tmp/h" 'log queries are not supported as an instant query type'
for args in "start=abc" "end=1e400" "time=2023-13-45T00:00:00Z" "step=0" "step=-5s" "limit=0" "limit=99999" \
  "direction=sideways"; do
  for route in query_range query; do
    curl -sS -G -o "$tmp/h" -w '%{http_code}' "$u/loki/api/v1/$route" --data-urlencode "$args" \
      --data-urlencode 'query=count_over_time({service="api"}[1m])' >"$tmp/h.code"
    case "$route:$args" in
    query:start=* | query:end=* | query:step=* | query_range:time=*) ;; # not read by that route
    *) expect400 "$route $args" "$tmp/h" ;;
    esac
  done
done
curl -sS -G -o "$tmp/h" -w '%{http_code}' "$u/loki/api/v1/query_range" --data-urlencode 'query=count_over_time({a="b"}[1m])' \
  --data-urlencode start=0 --data-urlencode "end=$(ns 0)" --data-urlencode step=1ms >"$tmp/h.code"
expect400 resolution "$tmp/h"
expect_in "$tmp/h" 'exceeded maximum resolution'
curl -sS -G -o "$tmp/h" -w '%{http_code}' "$u/loki/api/v1/query_range" --data-urlencode 'query={a="b"}' \
  --data-urlencode "start=$(ns 100)" --data-urlencode "end=$(ns 0)" >"$tmp/h.code"
expect400 end-before-start "$tmp/h"
curl -sS -o "$tmp/h" -w '%{http_code}' "$u/loki/api/v1/label/bad-name/values" >"$tmp/h.code"
expect400 label-name "$tmp/h"
curl -sS -o "$tmp/h" -w '%{http_code}' "$u/loki/api/v1/query_range" >"$tmp/h.code"
expect400 no-query "$tmp/h"
# still answering
qi "$tmp/q" 'sum(count_over_time({environment=~".+"}[1m]))' 60
check alive "$tmp/q" 'vec(d) == {"{}": "5"}'

# a tail still open when pane stops: the server closes it and stops cleanly
python3 "$here/ws_tail.py" "$port" "/loki/api/v1/tail?query=$tailq&start=$(ns 0)" - - >"$tmp/hold.out" 2>&1 &
holder=$!
for _ in $(seq 1 200); do grep -q streams "$tmp/hold.out" 2>/dev/null && break; sleep 0.05; done
grep -q streams "$tmp/hold.out" && ok || bad "the held tail got no first frame: $(cat "$tmp/hold.out")"
serve_stop && ok || bad "pane serve did not stop cleanly: $(tail -5 "$tmp/serve.log")"
wait "$holder" && ok || bad "the held tail: $(cat "$tmp/hold.out")"
expect_in "$tmp/hold.out" "server closed"
finish
