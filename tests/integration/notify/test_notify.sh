#!/usr/bin/env bash
# test_notify.sh - notifications end to end: pane serve with an `alerting:`
# section in Alertmanager's format, alerts posted to /api/v2/alerts, and the
# Slack, PagerDuty and webhook fakes (tests/fakes) checking every request
# against the documented payloads. Covers: config errors with file:line,
# grouping (group_wait, group_interval, resolve) with exactly the
# notifications Alertmanager's timing gives, PagerDuty trigger/resolve with a
# stable dedup_key, silences through Debian's amtool, inhibition, 429 with
# Retry-After, a restart that neither pages twice nor forgets a resolve, a
# receiver down across a restart, reload keeping the old config on error,
# and `amtool config routes test` agreeing with `pane alerts routes test`.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL
fakes="$PANE_SOURCE_ROOT/tests/fakes"
fpids=()
trap 'rm -rf "$tmp"; [ -n "$pid" ] && kill "$pid" 2>/dev/null; for p in "${fpids[@]}"; do kill "$p" 2>/dev/null; done' EXIT

start_fake() { # name port -> pid in fpids
  python3 "$fakes/$1_fake.py" "$2" >>"$tmp/$1.log" 2>&1 &
  fpids+=($!)
  wait_for 10 curl -fsS "http://127.0.0.1:$2/_ping" -o /dev/null
}
received() { curl -fsS "$1/_received"; }
count() { received "$1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
count_is() { [ "$(count "$1")" = "$2" ]; }
count_ge() { [ "$(count "$1")" -ge "$2" ]; }
# jq-like: python expression over the received list as r
recv_py() { received "$1" | python3 -c "import json,sys; r=json.load(sys.stdin); print($2)"; }
metric() { curl -fsS "$u/metrics" | awk -v m="$1" 'index($0, m) == 1 { s += $NF } END { print s + 0 }'; }
flushes() { metric pane_notification_group_flushes_total; }
flushes_ge() { [ "$(flushes)" -ge "$1" ]; }
post_alerts() { curl -fsS -XPOST "$u/api/v2/alerts" -H 'Content-Type: application/json' -d "$1" -o /dev/null -w '%{http_code}'; }
now_iso() { date -u -d "@$(($(date +%s) + ${1:-0}))" +%Y-%m-%dT%H:%M:%SZ; }
amt() { amtool --alertmanager.url="$u" "$@" 2>"$tmp/amtool.err"; }

# ---- config errors name file:line ----
printf 'alerting:\n  route:\n    receiver: x\n  receivers:\n    - name: x\n      email_configs:\n        - to: a@b\n' >"$tmp/bad1.yaml"
"$bin" serve --config "$tmp/bad1.yaml" --data-dir "$tmp/d0" --listen 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err"
[ $? -ne 0 ] && ok || bad "email_configs accepted"
expect_in "$tmp/err" "bad1.yaml:6: alerting.receivers[0].email_configs: receiver kind 'email_configs' is not supported"
printf 'alerting:\n  route:\n    receiver: nobody\n  receivers:\n    - name: x\n' >"$tmp/bad2.yaml"
"$bin" serve --config "$tmp/bad2.yaml" --data-dir "$tmp/d0" --listen 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err"
expect_in "$tmp/err" "bad2.yaml:3: alerting.route.receiver: receiver 'nobody' is not defined"
printf 'alerting:\n  route:\n    receiver: x\n    matchers: ["a=~(("]\n  receivers:\n    - name: x\n' >"$tmp/bad3.yaml"
"$bin" serve --config "$tmp/bad3.yaml" --data-dir "$tmp/d0" --listen 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err"
expect_in "$tmp/err" "bad3.yaml:4"
printf 'alerting:\n  config_file: missing.yml\n' >"$tmp/bad4.yaml"
"$bin" serve --config "$tmp/bad4.yaml" --data-dir "$tmp/d0" --listen 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err"
expect_in "$tmp/err" "missing.yml"
printf 'alerting:\n  route:\n    receiver: x\n  receivers:\n    - name: x\n      slack_configs:\n        - api_url: http://x/services/a/b/c\n' >"$tmp/bad6.yaml"
"$bin" serve --config "$tmp/bad6.yaml" --data-dir "$tmp/d0" --listen 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err"
expect_in "$tmp/err" "bad6.yaml:7: alerting.receivers[0].slack_configs[0].api_url: a secret: write it as \${VAR}"
export SLACK_URL=http://x/services/a/b/c
printf 'alerting:\n  route:\n    receiver: x\n  receivers:\n    - name: x\n      slack_configs:\n        - api_url: ${SLACK_URL}\n          title: "{{ .Status"\n' >"$tmp/bad5.yaml"
"$bin" serve --config "$tmp/bad5.yaml" --data-dir "$tmp/d0" --listen 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err"
expect_in "$tmp/err" "bad5.yaml:8: alerting.receivers[0].slack_configs[0].title: template: title:1: unclosed action"

# ---- routes test: amtool and pane agree ----
cat >"$tmp/am.yml" <<'YML'
global:
  resolve_timeout: 5m
route:
  receiver: default
  group_by: ['alertname', 'service']
  routes:
    - matchers: ['service=~"db|cache"']
      receiver: database
      continue: true
      routes:
        - match: {severity: critical}
          receiver: db-pager
    - match_re:
        service: ^(db|api)$
      receiver: backend
    - matchers: ['team="frontend"', 'severity!="info"']
      receiver: frontend
      group_by: ['...']
receivers:
  - name: default
  - name: database
  - name: db-pager
  - name: backend
  - name: frontend
YML
for ls in "service=db severity=critical" "service=db" "service=api" "service=cache severity=critical" \
  "team=frontend" "team=frontend severity=info" "x=y"; do
  # shellcheck disable=SC2086
  want=$(amtool config routes test --config.file="$tmp/am.yml" $ls 2>/dev/null)
  # shellcheck disable=SC2086
  got=$("$bin" alerts routes test --config "$tmp/am.yml" $ls)
  [ -n "$want" ] && [ "$want" = "$got" ] && ok || bad "routes test $ls: amtool '$want', pane '$got'"
done

# ---- the daemon with fakes ----
sp=$(free_port); pp=$(free_port); wp=$(free_port)
start_fake slack "$sp" && start_fake pagerduty "$pp" && start_fake webhook "$wp" && ok || bad "fakes did not start"
S=http://127.0.0.1:$sp P=http://127.0.0.1:$pp W=http://127.0.0.1:$wp
cat >"$tmp/alertmanager.yml" <<YML
route:
  receiver: slack
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
      continue: true
    - matchers: ['alertname="HookRepeat"']
      receiver: hook
      group_interval: 1s
      repeat_interval: 3s
    - matchers: ['alertname=~"Hook.*"']
      receiver: hook
    - matchers: ['alertname=~".+"']
      receiver: slack
receivers:
  - name: slack
    slack_configs:
      - api_url: http://127.0.0.1:$sp/services/T000/B000/secret
        channel: '#ops'
        send_resolved: true
  - name: pager
    pagerduty_configs:
      - routing_key: 0123456789abcdef0123456789abcdef
        url: http://127.0.0.1:$pp/v2/enqueue
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:$wp/hook
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [service]
YML
printf 'alerting:\n  config_file: alertmanager.yml\n  external_url: http://pane.example:8080\n  give_up: 20s\n' >"$tmp/pane.yaml"
serve_start "$tmp/serve.log" /readyz --config "$tmp/pane.yaml" --data-dir "$tmp/data" && ok ||
  bad "pane serve not ready: $(cat "$tmp/serve.log")"

# two alerts of one group inside group_wait: one message with both
[ "$(post_alerts '[{"labels":{"alertname":"HighLatency","service":"api","severity":"critical"},"annotations":{"summary":"p99 over 2s"}},{"labels":{"alertname":"HighLatency","service":"web","severity":"critical"}}]')" = 200 ] && ok || bad "post alerts"
wait_for 40 count_ge "$S" 1 && ok || bad "no slack message: $(cat "$tmp/serve.log")"
wait_for 40 count_ge "$P" 1 && ok || bad "no pagerduty event"
[ "$(recv_py "$S" 'r[0]["body"]["attachments"][0]["title"]')" = "[FIRING:2] HighLatency (critical)" ] && ok ||
  bad "slack title: $(received "$S")"
recv_py "$S" 'r[0]["body"]["attachments"][0]["text"]' >"$tmp/text"
expect_in "$tmp/text" "p99 over 2s"
expect_in "$tmp/text" 'service=`web`'
[ "$(recv_py "$S" 'r[0]["body"]["attachments"][0]["title_link"]')" = "http://pane.example:8080/alerts?receiver=slack" ] && ok || bad "console link"
[ "$(recv_py "$P" 'r[0]["body"]["event_action"] + " " + r[0]["body"]["payload"]["severity"]')" = "trigger critical" ] && ok || bad "pd trigger: $(received "$P")"
dk=$(recv_py "$P" 'r[0]["body"]["dedup_key"]')

# the same alerts again: later flushes send nothing new
f0=$(flushes)
post_alerts '[{"labels":{"alertname":"HighLatency","service":"api","severity":"critical"},"annotations":{"summary":"p99 over 2s"}},{"labels":{"alertname":"HighLatency","service":"web","severity":"critical"}}]' >/dev/null
wait_for 40 flushes_ge $((f0 + 4)) && ok || bad "groups do not flush"
count_is "$S" 1 && count_is "$P" 1 && ok || bad "unchanged group notified again: $(count "$S") slack, $(count "$P") pd"

# a third alert joins: one more message at the next group_interval, with 3
post_alerts '[{"labels":{"alertname":"HighLatency","service":"db","severity":"critical"}}]' >/dev/null
wait_for 40 count_ge "$S" 2 && ok || bad "no second slack message"
[ "$(recv_py "$S" 'r[1]["body"]["attachments"][0]["title"]')" = "[FIRING:3] HighLatency (critical)" ] && ok || bad "second title: $(recv_py "$S" 'r[1]["body"]["attachments"][0]["title"]')"
wait_for 40 count_ge "$P" 2 && ok || bad "no second pd trigger"
[ "$(recv_py "$P" 'r[1]["body"]["dedup_key"]')" = "$dk" ] && ok || bad "dedup_key changed within a group"

# a warning for service=api is inhibited by the critical one (equal: service)
post_alerts '[{"labels":{"alertname":"Slow","service":"api","severity":"warning"}}]' >/dev/null
curl -fsS "$u/api/v2/alerts?filter=alertname%3DSlow" >"$tmp/slow.json"
expect_in "$tmp/slow.json" '"state":"suppressed"'
expect_in "$tmp/slow.json" '"inhibitedBy":["'
# ?receiver= keeps the alerts routed to a receiver matching the regex (Slow
# goes to slack only; the critical HighLatency to pager and, continuing, slack)
curl -fsS "$u/api/v2/alerts?filter=alertname%3DSlow&receiver=sl.*" >"$tmp/recv.json"
expect_in "$tmp/recv.json" '"alertname":"Slow"'
curl -fsS "$u/api/v2/alerts?filter=alertname%3DSlow&receiver=pager" >"$tmp/recv.json"
[ "$(cat "$tmp/recv.json")" = "[]" ] && ok || bad "receiver=pager kept Slow: $(cat "$tmp/recv.json")"
curl -fsS "$u/api/v2/alerts?filter=alertname%3DHighLatency&receiver=pager" >"$tmp/recv.json"
expect_in "$tmp/recv.json" '"alertname":"HighLatency"'

# resolve all three: one resolved message each for Slack and PagerDuty
end=$(now_iso)
post_alerts "[{\"labels\":{\"alertname\":\"Slow\",\"service\":\"api\",\"severity\":\"warning\"},\"endsAt\":\"$end\"},{\"labels\":{\"alertname\":\"HighLatency\",\"service\":\"api\",\"severity\":\"critical\"},\"endsAt\":\"$end\"},{\"labels\":{\"alertname\":\"HighLatency\",\"service\":\"web\",\"severity\":\"critical\"},\"endsAt\":\"$end\"},{\"labels\":{\"alertname\":\"HighLatency\",\"service\":\"db\",\"severity\":\"critical\"},\"endsAt\":\"$end\"}]" >/dev/null
wait_for 40 count_ge "$S" 3 && ok || bad "no resolved slack message"
[ "$(recv_py "$S" 'r[2]["body"]["attachments"][0]["title"] + " " + r[2]["body"]["attachments"][0]["color"]')" = "[RESOLVED] HighLatency (critical) good" ] && ok || bad "resolved title: $(recv_py "$S" 'r[2]["body"]')"
wait_for 40 count_ge "$P" 3 && ok || bad "no pd resolve"
[ "$(recv_py "$P" 'r[2]["body"]["event_action"] + " " + r[2]["body"]["dedup_key"]')" = "resolve $dk" ] && ok || bad "pd resolve: $(recv_py "$P" 'r[2]["body"]')"
no_groups() { [ "$(curl -fsS "$u/api/v2/alerts/groups")" = "[]" ]; }
wait_for 40 no_groups && ok || bad "resolved groups not removed: $(curl -fsS "$u/api/v2/alerts/groups")"
count_is "$S" 3 && ok || bad "extra slack messages after resolve: $(count "$S")"

# webhook: Alertmanager's version 4 JSON
post_alerts '[{"labels":{"alertname":"HookTest","env":"prod"},"annotations":{"summary":"s"}}]' >/dev/null
wait_for 40 count_ge "$W" 1 && ok || bad "no webhook: $(cat "$tmp/webhook.log")"
[ "$(recv_py "$W" 'r[0]["body"]["version"] + r[0]["body"]["status"] + r[0]["body"]["receiver"] + r[0]["body"]["commonLabels"]["env"]')" = "4firinghookprod" ] && ok || bad "webhook body: $(received "$W")"

# repeat_interval: an unchanged group is sent again once it has passed, not before
post_alerts '[{"labels":{"alertname":"HookRepeat"}}]' >/dev/null
hook_n() { recv_py "$W" 'len([x for x in r if x["body"]["commonLabels"].get("alertname") == "HookRepeat"])'; }
hook_ge() { [ "$(hook_n)" -ge "$1" ]; }
wait_for 40 hook_ge 2 && ok || bad "HookRepeat not repeated"
gap=$(recv_py "$W" '(lambda t: t[1] - t[0])([x["t"] for x in r if x["body"]["commonLabels"].get("alertname") == "HookRepeat"])')
python3 -c "import sys; sys.exit(0 if $gap >= 3.0 else 1)" && ok || bad "repeated after $gap s, before repeat_interval 3s"

# silences through amtool: a silenced alert is suppressed and not sent; expired, it is
sid=$(amt silence add alertname=Quiet -c "maintenance" -a tester) && [ -n "$sid" ] && ok || bad "amtool silence add: $(cat "$tmp/amtool.err")"
amt silence query >"$tmp/sq" && ok || bad "amtool silence query: $(cat "$tmp/amtool.err")"
expect_in "$tmp/sq" "$sid"
expect_in "$tmp/sq" 'alertname="Quiet"'
"$bin" alerts silence list --url "$u" >"$tmp/psl"
expect_in "$tmp/psl" "$sid"
n0=$(count "$S")
post_alerts '[{"labels":{"alertname":"Quiet","service":"x"}}]' >/dev/null
curl -fsS "$u/api/v2/alerts?filter=alertname%3DQuiet" >"$tmp/q.json"
expect_in "$tmp/q.json" "\"silencedBy\":[\"$sid\"]"
f0=$(flushes)
wait_for 40 flushes_ge $((f0 + 2)) && ok || bad "no flush for the silenced group"
count_is "$S" "$n0" && ok || bad "a silenced alert was sent"
amt silence expire "$sid" && ok || bad "amtool silence expire: $(cat "$tmp/amtool.err")"
amt silence query --expired >"$tmp/sq2"
expect_in "$tmp/sq2" "$sid"
wait_for 40 count_ge "$S" $((n0 + 1)) && ok || bad "alert not sent after its silence expired"
recv_py "$S" 'r[-1]["body"]["attachments"][0]["title"]' >"$tmp/t"
expect_in "$tmp/t" "[FIRING:1] Quiet"
# pane alerts silence add / expire
sid2=$("$bin" alerts silence add --url "$u" --comment "deploy" 'service=~"a.*"') && ok || bad "pane alerts silence add"
"$bin" alerts silence expire --url "$u" "$sid2" >/dev/null && ok || bad "pane alerts silence expire"
"$bin" alerts list --url "$u" >"$tmp/al"
expect_in "$tmp/al" "Quiet"

# Slack says 429 with Retry-After: pane waits and sends once it may
curl -fsS -XPOST "$S/_faults" -d '{"faults":[{"kind":"status","status":429,"retry_after":1,"count":1}]}' -o /dev/null
n0=$(count "$S")
post_alerts '[{"labels":{"alertname":"Limited"}}]' >/dev/null
wait_for 60 count_ge "$S" $((n0 + 1)) && ok || bad "message lost after a 429"
[ "$(metric 'pane_notifications_failed_total{receiver="slack",reason="rate_limited"}')" -ge 1 ] && ok || bad "429 not counted"
[ "$(metric 'pane_notifications_total{receiver="slack",integration="slack"}')" -ge 4 ] && ok || bad "sent not counted"

# a hanging Slack does not delay PagerDuty; a refused PagerDuty event becomes a pane event
curl -fsS -XPOST "$S/_faults" -d '{"faults":[{"kind":"hang","count":1}]}' -o /dev/null
curl -fsS -XPOST "$P/_faults" -d '{"faults":[{"kind":"status","status":400,"count":1}]}' -o /dev/null
nP=$(count "$P")
post_alerts '[{"labels":{"alertname":"Hung","severity":"critical"}}]' >/dev/null
post_alerts '[{"labels":{"alertname":"PagedAnyway","severity":"critical"}}]' >/dev/null
wait_for 40 count_ge "$P" $((nP + 1)) && ok || bad "no pagerduty event while slack hangs"
# PagerDuty had it while Slack's request still hung (its retry comes after pane's 10 s timeout)
slack_has() { recv_py "$S" '" ".join(x["body"]["text"] for x in r)' | grep -qF "$1"; }
slack_has "Hung" && bad "pagerduty waited for a hanging slack" || ok
has_event() { curl -fsS "$u/api/v1/events?kind=notification&start=0" | grep -q 'notification to pager (pagerduty) failed'; }
wait_for 10 has_event && ok || bad "no notification event: $(curl -fsS "$u/api/v1/events?kind=notification&start=0")"
[ "$(metric 'pane_notifications_failed_total{receiver="pager",reason="client_error"}')" -ge 1 ] && ok || bad "400 not counted"
# the hung Slack request times out (10 s) and is retried: both messages arrive
wait_for 60 slack_has "PagedAnyway" && slack_has "Hung" && ok || bad "slack messages lost after a hang"
[ "$(metric 'pane_notifications_failed_total{receiver="slack",reason="timeout"}')" -ge 1 ] && ok || bad "timeout not counted"

# restart: nothing is paged twice, and a resolve made after it still goes out
serve_stop
nS=$(count "$S"); nP=$(count "$P")
serve_start "$tmp/serve2.log" /readyz --config "$tmp/pane.yaml" --data-dir "$tmp/data" && ok || bad "restart: $(cat "$tmp/serve2.log")"
post_alerts '[{"labels":{"alertname":"Limited"}}]' >/dev/null
f0=$(flushes)
wait_for 40 flushes_ge $((f0 + 3)) && ok || bad "no flushes after restart"
count_is "$S" "$nS" && ok || bad "paged again after restart: $(recv_py "$S" '[x["body"]["text"] for x in r]')"
post_alerts "[{\"labels\":{\"alertname\":\"Limited\"},\"endsAt\":\"$(now_iso)\"}]" >/dev/null
wait_for 40 count_ge "$S" $((nS + 1)) && ok || bad "resolve lost after restart"
[ "$(recv_py "$S" 'r[-1]["body"]["attachments"][0]["title"]')" = "[RESOLVED] Limited" ] && ok || bad "resolve title after restart"

# a receiver down across a restart: the page arrives once it is back
kill "${fpids[0]}"; wait "${fpids[0]}" 2>/dev/null
post_alerts '[{"labels":{"alertname":"WhileDown"}}]' >/dev/null
down_counted() { [ "$(metric 'pane_notifications_failed_total{receiver="slack",reason="connection"}')" -ge 1 ]; }
wait_for 60 down_counted && ok || bad "failure not counted while slack is down"
serve_stop
start_fake slack "$sp" && ok || bad "slack fake restart"
serve_start "$tmp/serve3.log" /readyz --config "$tmp/pane.yaml" --data-dir "$tmp/data" && ok || bad "restart 2"
wait_for 60 count_ge "$S" 1 && ok || bad "page lost while the receiver was down"
recv_py "$S" '[x["body"]["attachments"][0]["title"] for x in r]' >"$tmp/t"
expect_in "$tmp/t" "[FIRING:1] WhileDown"

# reload: a bad file keeps the running config, a good one is taken
cp "$tmp/alertmanager.yml" "$tmp/good.yml"
printf 'route:\n  receiver: gone\nreceivers:\n  - name: other\n' >"$tmp/alertmanager.yml"
code=$(curl -sS -o "$tmp/rl" -w '%{http_code}' -XPOST "$u/-/reload")
[ "$code" = 400 ] && ok || bad "bad reload answered $code"
expect_in "$tmp/rl" "alertmanager.yml:2: route.receiver: receiver 'gone' is not defined"
curl -fsS "$u/api/v2/receivers" >"$tmp/rv"
expect_in "$tmp/rv" '"name":"pager"'
sed 's/name: hook/name: hook2/; s/receiver: hook$/receiver: hook2/' "$tmp/good.yml" >"$tmp/alertmanager.yml"
code=$(curl -sS -o "$tmp/rl" -w '%{http_code}' -XPOST "$u/-/reload")
[ "$code" = 200 ] && ok || bad "good reload answered $code: $(cat "$tmp/rl")"
curl -fsS "$u/api/v2/receivers" >"$tmp/rv"
expect_in "$tmp/rv" '"name":"hook2"'
amt config routes test alertname=HookX >"$tmp/rt" && ok || bad "amtool routes test against pane: $(cat "$tmp/amtool.err")"
expect_in "$tmp/rt" "hook2"
serve_stop && ok || bad "pane serve did not stop cleanly"

# ---- forwarding to a real Alertmanager; Render deploys become PagerDuty change events ----
amp=$(free_port); rp=$(free_port)
printf 'route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n' >"$tmp/real-am.yml"
prometheus-alertmanager --config.file="$tmp/real-am.yml" --storage.path="$tmp/amdata" \
  --web.listen-address="127.0.0.1:$amp" --cluster.listen-address= >"$tmp/am.log" 2>&1 &
fpids+=($!)
wait_for 40 curl -fsS "http://127.0.0.1:$amp/-/ready" -o /dev/null && ok || bad "alertmanager did not start: $(cat "$tmp/am.log")"
python3 "$fakes/render_fake.py" "$rp" --services 2 >"$tmp/render.log" 2>&1 &
fpids+=($!)
wait_for 10 curl -fsS "http://127.0.0.1:$rp/__fake/ping" -o /dev/null && ok || bad "render fake did not start"
curl -fsS -XPOST "$P/_reset" -o /dev/null
cat >"$tmp/pane2.yaml" <<YML
sources:
  render:
    api_key: \${RENDER_API_KEY}
    api_url: http://127.0.0.1:$rp/v1
    interval: 1s
    logs: false
    metrics: false
alerting:
  alertmanagers:
    - url: http://127.0.0.1:$amp
  route:
    receiver: pager
  receivers:
    - name: pager
      pagerduty_configs:
        - routing_key: \${PD_ROUTING_KEY}
          url: http://127.0.0.1:$pp/v2/enqueue
YML
export PD_ROUTING_KEY=0123456789abcdef0123456789abcdef
RENDER_API_KEY=rnd_test serve_start "$tmp/serve4.log" /readyz --config "$tmp/pane2.yaml" --data-dir "$tmp/data2" &&
  ok || bad "pane with render: $(cat "$tmp/serve4.log")"
post_alerts '[{"labels":{"alertname":"Forwarded","service":"api"},"annotations":{"summary":"to the real one"}}]' >/dev/null
forwarded() { amtool --alertmanager.url="http://127.0.0.1:$amp" alert query alertname=Forwarded 2>/dev/null | grep -q "to the real one"; }
wait_for 40 forwarded && ok || bad "alert not forwarded to alertmanager: $(cat "$tmp/am.log" | tail -3)"
has_change() { [ "$(recv_py "$P" 'len([x for x in r if x["path"] == "/v2/change/enqueue"])')" -ge 1 ]; }
wait_for 60 has_change && ok || bad "no change event for a deploy: $(cat "$tmp/pagerduty.log" | tail -3)"
recv_py "$P" '[x["body"]["payload"]["summary"] for x in r if x["path"] == "/v2/change/enqueue"][0]' >"$tmp/ch"
expect_in "$tmp/ch" "deploy"
serve_stop && ok || bad "pane serve (2) did not stop cleanly"
finish
