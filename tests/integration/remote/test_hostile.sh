#!/usr/bin/env bash
# test_hostile.sh - `query: backend:` pointed at a hostile fake
# (tests/fakes/prom_backend_fake.py): a slow answer, 500s, a 50 MB body,
# garbage, a wrong shape and too many samples each become a Prometheus-style
# error that names the backend and what went wrong; pane keeps answering and
# its memory stays bounded; once the fake behaves, queries work again.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL
root=$PANE_SOURCE_ROOT
fake_pid=
trap 'rm -rf "$tmp"; for p in $pid $fake_pid; do kill "$p" 2>/dev/null; done' EXIT

python3 "$root/tests/fakes/prom_backend_fake.py" "$tmp/fake.port" &
fake_pid=$!
for _ in $(seq 1 200); do [ -s "$tmp/fake.port" ] && break; sleep 0.05; done
fake="http://127.0.0.1:$(cat "$tmp/fake.port")"
curl -fsS "$fake/__fake/ping" >/dev/null && ok || bad "the fake did not start"
mode() { curl -fsS --data-binary "$1" "$fake/__fake/mode" >/dev/null; }

mkdir -p "$tmp/rules"
printf 'groups:\n  - name: g\n    interval: 1s\n    rules:\n      - record: fake:sum\n        expr: sum(fake_metric)\n' \
  >"$tmp/rules/r.yml"
printf 'fake-bearer-1234\n' >"$tmp/token"
cat >"$tmp/pane.yaml" <<YAML
query:
  backend: $fake
  remote_timeout: 1s
  max_response_size: 1MiB
  max_samples: 1000
  bearer_token_file: $tmp/token
  headers:
    X-Scope-OrgID: tenant-7
rules:
  files: [$tmp/rules/*.yml]
receivers:
  statsd:
    enabled: false
YAML
serve_start "$tmp/serve.log" /readyz --config "$tmp/pane.yaml" --data-dir "$tmp/data" && ok ||
  bad "pane not ready: $(cat "$tmp/serve.log")"

# q MODE WANT_STATUS TEXT...: an instant query while the fake is in MODE
q() {
  local m=$1 want=$2; shift 2
  mode "$m"
  local code
  code=$(curl -sS -o "$tmp/$m" -w '%{http_code}' "$u/api/v1/query" --data-urlencode 'query=fake_metric' \
    --data-urlencode time=1700000030)
  [ "$code" = "$want" ] && ok || bad "mode $m: HTTP $code, want $want: $(head -c 300 "$tmp/$m")"
  for t in "$@"; do expect_in "$tmp/$m" "$t"; done
}
q ok 200 '"fake_metric"' '"job":"fake"'
counts() { curl -fsS "$fake/__fake/requests" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
[ "$(counts authorization)" = "Bearer fake-bearer-1234" ] && ok || bad "the backend got Authorization '$(counts authorization)'"
[ "$(counts org)" = "tenant-7" ] && ok || bad "the backend got X-Scope-OrgID '$(counts org)'"
# metric metadata comes from the backend: sorted, invalid names left out, metric= and limit= honoured
curl -sS "$u/api/v1/metadata" >"$tmp/md"
expect_in "$tmp/md" '{"a_gauge":[{"type":"gauge","help":"Bytes é.","unit":"bytes"}],"fake_metric":[{"type":"counter","help":"A fake counter.","unit":""}]}'
curl -sS "$u/api/v1/metadata?metric=fake_metric" >"$tmp/md1"
expect_in "$tmp/md1" '"data":{"fake_metric":[{"type":"counter"'
curl -sS "$u/api/v1/metadata?limit=1" >"$tmp/md2"
expect_in "$tmp/md2" '"data":{"a_gauge":[{"type":"gauge","help":"Bytes é.","unit":"bytes"}]}'
q slow 422 "query backend $fake" 'no answer within remote_timeout'
q error500 422 "query backend $fake: HTTP 500: boom from the fake"
q html500 422 "query backend $fake: HTTP 500 with an answer that is not JSON"
q huge 422 "answer larger than max_response_size"
q garbage 422 "query backend $fake: HTTP 200 with an answer that is not JSON"
q shape 422 "malformed answer"
q many 422 '"errorType":"execution"'
mode error500
code=$(curl -sS -o "$tmp/labels" -w '%{http_code}' "$u/api/v1/labels")
[ "$code" -ge 400 ] && ok || bad "labels during a backend 500 answered $code"
expect_in "$tmp/labels" "boom from the fake"
code=$(curl -sS -o "$tmp/md3" -w '%{http_code}' "$u/api/v1/metadata")
[ "$code" = 500 ] && ok || bad "metadata during a backend 500 answered $code"
expect_in "$tmp/md3" "query backend $fake: HTTP 500: boom from the fake"

# a rule evaluated while the backend fails says why on /api/v1/rules
seen=no
for _ in $(seq 1 300); do
  curl -sS "$u/api/v1/rules" >"$tmp/rules.json"
  grep -q '"lastError":"[^"]*boom from the fake' "$tmp/rules.json" && { seen=yes; break; }
  sleep 0.05
done
[ "$seen" = yes ] && ok || bad "the rule's lastError does not name the backend's error: $(head -c 400 "$tmp/rules.json")"

# still alive, memory bounded after a 50 MB answer (max_response_size 1 MiB)
for _ in 1 2 3; do q huge 422 "max_response_size"; done
rss_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
[ "$rss_kb" -lt 200000 ] && ok || bad "pane's peak RSS is $rss_kb kB after huge answers"
q ok 200 '"fake_metric"'
# a reload keeps the backend: unchanged settings reload fine; changed ones are
# refused with file:line and what to do, and the running backend stays
code=$(curl -sS -o "$tmp/reload" -w '%{http_code}' -X POST "$u/-/reload")
[ "$code" = 200 ] && ok || bad "a reload with the same settings answered $code: $(cat "$tmp/reload")"
sed -i 's/remote_timeout: 1s/remote_timeout: 2s/' "$tmp/pane.yaml"
code=$(curl -sS -o "$tmp/reload" -w '%{http_code}' -X POST "$u/-/reload")
[ "$code" = 400 ] && ok || bad "a reload with a changed backend answered $code: $(cat "$tmp/reload")"
expect_in "$tmp/reload" "pane.yaml:2: query.backend: the query backend settings changed"
sed -i 's/remote_timeout: 2s/remote_timeout: forever/' "$tmp/pane.yaml"
curl -sS -o "$tmp/reload" -X POST "$u/-/reload"
expect_in "$tmp/reload" "pane.yaml:3: query.remote_timeout"
sed -i 's/remote_timeout: forever/remote_timeout: 1s/' "$tmp/pane.yaml"
q slow 422 'no answer within remote_timeout (1000 ms)'
curl -sS "$u/readyz" >"$tmp/readyz"
expect_in "$tmp/readyz" '"query_backend"'
expect_in "$tmp/readyz" '"last_error":"query backend'
serve_stop && ok || bad "pane did not stop cleanly"

# stopping does not wait for a slow backend: a query and a rule blocked on it
# (remote_timeout 1h) end when pane is asked to stop, before the fake answers
# (and Prometheus' authorization: block instead of a bearer token)
cat >"$tmp/pane2.yaml" <<YAML
query:
  backend: $fake
  remote_timeout: 1h
  authorization:
    type: Token
    credentials: \${FAKE_CREDENTIALS}
rules:
  files: [$tmp/rules/*.yml]
receivers:
  statsd:
    enabled: false
YAML
export FAKE_CREDENTIALS=tok-99
serve_start "$tmp/serve2.log" /readyz --config "$tmp/pane2.yaml" --data-dir "$tmp/data2" && ok ||
  { bad "pane not ready: $(cat "$tmp/serve2.log")"; finish; exit 1; }
before=$(counts requests) slow_before=$(counts slow_answered)
mode slow
curl -sS -o /dev/null "$u/api/v1/query?query=fake_metric" &
qpid=$!
for _ in $(seq 1 400); do  # until the query's request has reached the fake
  now=$(counts requests)
  [ "$now" -gt "$before" ] && break
  sleep 0.05
done
[ "$(counts authorization)" = "Token tok-99" ] && ok || bad "the backend got Authorization '$(counts authorization)'"
serve_stop && ok || bad "pane did not stop cleanly with requests to a slow backend in flight"
wait "$qpid"
[ "$(counts slow_answered)" = "$slow_before" ] && ok || bad "pane waited for the slow backend to answer before stopping"
mode ok
finish
