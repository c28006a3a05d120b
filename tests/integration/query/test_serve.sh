#!/usr/bin/env bash
# test_serve.sh - the query side inside `pane serve`: the `query:` section is
# bound (bad values name file:line:key), its timeout reaches the engine (a
# query over it answers 503 timeout), too deep a query is 400, and logs
# pushed to the JSON-lines receiver come back from GET /api/v1/logs with
# their labels and severity, and through `pane logs` (including --follow)
# and `pane events`.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL  # the store alone

printf 'query:\n  timeout: forever\n' >"$tmp/bad.yaml"
"$bin" serve --config "$tmp/bad.yaml" --data-dir "$tmp/d0" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && ok || bad "bad query.timeout accepted"
expect_in "$tmp/err" "bad.yaml:2: query.timeout"
printf 'query:\n  max_samples: 10\n' >"$tmp/bad2.yaml"
"$bin" serve --config "$tmp/bad2.yaml" --data-dir "$tmp/d0" >"$tmp/out" 2>"$tmp/err"
expect_in "$tmp/err" "bad2.yaml:2: query.max_samples"
printf 'query:\n  lookback: 5m\n' >"$tmp/bad3.yaml"
"$bin" serve --config "$tmp/bad3.yaml" --data-dir "$tmp/d0" >"$tmp/out" 2>"$tmp/err"
expect_in "$tmp/err" "query.lookback"

# a 1 ms timeout: a heavy query must answer 503 timeout, a light one still works
printf 'query:\n  timeout: 1ms\n  lookback_delta: 1m\n  max_samples: 1000000\nreceivers:\n  statsd:\n    enabled: false\n' >"$tmp/good.yaml"
serve_start "$tmp/serve.log" /readyz --config "$tmp/good.yaml" --data-dir "$tmp/data" && ok ||
  bad "pane serve not ready: $(cat "$tmp/serve.log")"
code=$(curl -sS -o "$tmp/slow" -w '%{http_code}' "$u/api/v1/query_range" \
  --data-urlencode 'query=count_values("v", vector(1)) * on() group_left sum(count_over_time(vector(time())[1d:1s]))' \
  --data-urlencode start=0 --data-urlencode end=10000 --data-urlencode step=1)
[ "$code" = 503 ] && ok || bad "a query over query.timeout answered $code: $(head -c 300 "$tmp/slow")"
expect_in "$tmp/slow" '"errorType":"timeout"'
curl -sS "$u/api/v1/query?query=1%2B1&time=4" >"$tmp/q"
expect_in "$tmp/q" '"result":[4,"2"]'

# issue 14: a 25 KB chain of 5,001 terms overflowed the stack and killed the
# server; now 400 bad_data for +, and, unless, and the server still answers
for op in %2B and unless; do  # url-encoded: %2B is +
  { printf 'query=up'; for _ in $(seq 5000); do printf '+%s+up' "$op"; done; } >"$tmp/deep.form"
  code=$(curl -sS -o "$tmp/deep" -w '%{http_code}' "$u/api/v1/query" --data-binary @"$tmp/deep.form")
  [ "$code" = 400 ] && ok || bad "a 5,001-term $op chain answered $code: $(head -c 300 "$tmp/deep")"
  expect_in "$tmp/deep" '"errorType":"bad_data"'
  expect_in "$tmp/deep" 'nests too deeply'
done
curl -sS "$u/api/v1/query?query=1%2B1&time=4" >"$tmp/q"
expect_in "$tmp/q" '"result":[4,"2"]'

# logs in through the JSON-lines receiver, out through /api/v1/logs
now=$(date +%s)
printf '{"ts":%s,"level":"error","msg":"payment webhook failed: card_declined","order":"o-17"}\n{"ts":%s,"level":"info","msg":"payment ok"}\nnot json\n' \
  "$now" "$now" | curl -sS -o "$tmp/push" -w '%{http_code}\n' --data-binary @- \
  "$u/api/v1/push/jsonlines?service=billing&environment=prod" >"$tmp/push.code"
expect_in "$tmp/push.code" "20"
curl -sS -G "$u/api/v1/logs" --data-urlencode 'selector={service="billing"}' \
  --data-urlencode search=webhook --data-urlencode severity=warn >"$tmp/logs"
expect_in "$tmp/logs" '"status":"success"'
expect_in "$tmp/logs" 'payment webhook failed: card_declined'
expect_in "$tmp/logs" '"severity":"error"'
expect_in "$tmp/logs" '"environment":"prod"'
expect_in "$tmp/logs" '"order":"o-17"'
n=$(grep -o '"message"' "$tmp/logs" | wc -l)
[ "$n" -eq 1 ] && ok || bad "expected 1 log, got $n: $(cat "$tmp/logs")"
curl -sS -G "$u/api/v1/logs" --data-urlencode 'selector={service="billing"}' >"$tmp/all"
n=$(grep -o '"message"' "$tmp/all" | wc -l)
[ "$n" -eq 2 ] && ok || bad "expected 2 logs for billing, got $n: $(cat "$tmp/all")"
# the same through `pane logs` (oldest first, provider/service, level) and its errors
export PANE_URL=$u
expect_status 0 "$bin" logs '{service="billing"}' --since 1h
expect_in "$tmp/out" "ERROR  app/billing  payment webhook failed: card_declined"
first=$(head -1 "$tmp/out"); last=$(tail -1 "$tmp/out")
case "$first$last" in *card_declined*"payment ok") ok ;; *) bad "pane logs not oldest first: $(cat "$tmp/out")" ;; esac
expect_status 0 "$bin" logs --search WEBHOOK --severity error --labels --json
expect_in "$tmp/out" '"order":"o-17"'
n=$(wc -l <"$tmp/out"); [ "$n" -eq 1 ] && ok || bad "pane logs --json printed $n lines: $(cat "$tmp/out")"
expect_status 0 "$bin" logs --search nothing-like-this
expect_in "$tmp/err" "(no logs match)"
expect_status 1 "$bin" logs '{service=~"b.*"}'
expect_in "$tmp/err" "only = matchers"
expect_status 2 "$bin" logs --since yesterday
expect_in "$tmp/err" "is not a duration"
expect_status 2 "$bin" logs --since 1h --start 0
expect_status 1 "$bin" logs --url "http://127.0.0.1:$(free_port)"
expect_in "$tmp/err" "is \`pane serve\` running there?"
expect_status 0 "$bin" events --kind deploy
expect_in "$tmp/out" "(no events)"
expect_status 2 "$bin" events --limit 5000
# --follow prints a line pushed after it started, then stops on SIGTERM
"$bin" logs -f '{service="billing"}' >"$tmp/follow" 2>&1 &
fpid=$!
sleep 0.5
printf '{"ts":%s,"level":"warn","msg":"pushed while following"}\n' "$(date +%s)" |
  curl -sS -o /dev/null --data-binary @- "$u/api/v1/push/jsonlines?service=billing&environment=prod"
for _ in $(seq 1 100); do grep -q "pushed while following" "$tmp/follow" && break; sleep 0.1; done
expect_in "$tmp/follow" "WARN   app/billing  pushed while following"
kill -TERM "$fpid"; wait "$fpid"; st=$?
[ "$st" -eq 0 ] && ok || bad "pane logs -f exited $st on SIGTERM"
n=$(grep -c "payment ok" "$tmp/follow"); [ "$n" -eq 1 ] && ok || bad "pane logs -f printed a line $n times"
code=$(curl -sS -o "$tmp/bad" -w '%{http_code}' "$u/api/v1/events?limit=0")
[ "$code" = 400 ] && ok || bad "/api/v1/events?limit=0 answered $code"
curl -sS "$u/api/v1/events" >"$tmp/ev"
expect_in "$tmp/ev" '{"status":"success","data":{"events":['

serve_stop && ok || bad "pane serve exited $? after SIGTERM: $(tail -5 "$tmp/serve.log")"
finish
