#!/bin/bash
# Alerts on logs and events, end to end in `pane serve`: log lines pushed
# with Loki's JSON push API become counters defined under rules.log_metrics
# (selector + substring or regex, labels kept), provider events from the
# Render and Sentry sources (loopback fakes) become
# pane_events_total{kind, provider, service, environment, project, level, status}, both
# are written back as samples, and rules on them fire (/api/v1/alerts).
# Also: bad log_metrics definitions stop start-up with file:line, and a
# reload that breaks them is refused.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
fakes="$PANE_SOURCE_ROOT/tests/fakes"
fpids=()
cleanup_fakes() { for p in "${fpids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap cleanup_fakes EXIT

# wait_json URL PYTHON-EXPR: poll (up to 30 s) until the expression over the JSON answer `d` is true
wait_json() {
  for _ in $(seq 1 600); do
    if curl -fsS "$1" 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($2) else 1)" 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  return 1
}
q() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }

rp=$(free_port); sp=$(free_port)
python3 "$fakes/render_fake.py" "$rp" --services 2 >"$tmp/render.log" 2>&1 &
fpids+=($!)
python3 "$fakes/sentry_fake.py" "$sp" --issues 0 >"$tmp/sentry.log" 2>&1 &
fpids+=($!)
wait_for 10 curl -fsS "http://127.0.0.1:$rp/__fake/ping" -o /dev/null && ok || bad "render fake did not start"
wait_for 10 curl -fsS "http://127.0.0.1:$sp/__fake/ping" -o /dev/null && ok || bad "sentry fake did not start"

cat >"$tmp/rules.yml" <<'R'
groups:
  - name: logs
    interval: 1s
    rules:
      - alert: ApiTimeouts
        expr: sum by (service) (increase(api_timeouts_total[1m])) > 1
        annotations:
          summary: '{{ $labels.service }} logged timeouts'
      - alert: DeployFailed
        expr: sum by (service, status) (increase(pane_events_total{kind="deploy", status=~".+_failed"}[5m])) > 0
      - alert: SentryNewIssue
        expr: sum by (project) (increase(pane_events_total{provider="sentry", kind="issue", status="new"}[5m])) > 0
R
cat >"$tmp/pane.yaml" <<Y
server:
  data_dir: $tmp/data
sources:
  render:
    api_key: \${RENDER_API_KEY}
    api_url: http://127.0.0.1:$rp/v1
    interval: 1s
    logs: false
    metrics: false
  sentry:
    auth_token: \${SENTRY_AUTH_TOKEN}
    url: http://127.0.0.1:$sp
    organization: acme
    interval: 1s
    stats: false
    performance: false
    releases: false
    monitors: false
    sessions: false
rules:
  files: ['$tmp/rules.yml']
  evaluation_interval: 1s
  log_metrics_interval: 1s
  log_metrics:
    - name: api_timeouts_total
      selector: '{service="api"}'
      match: timeout
      group_by: [service, environment]
    - name: http_5xx_total
      regex: 'status=5[0-9]{2}\b'
      group_by: [service]
Y
export RENDER_API_KEY=rnd_test SENTRY_AUTH_TOKEN=sntrys_test
serve_start "$tmp/serve.log" /healthz --config "$tmp/pane.yaml" || { bad "serve did not start: $(tail -5 "$tmp/serve.log")"; finish; exit 1; }

# logs through the Loki JSON push API
now=$(date +%s%N)
cat >"$tmp/push.json" <<J
{"streams":[
 {"stream":{"service":"api","environment":"prod"},"values":[
   ["$now","GET /a timeout after 30s status=504"],["$((now+1))","upstream timeout"],["$((now+2))","ok status=200"]]},
 {"stream":{"service":"web"},"values":[["$((now+3))","timeout talking to api status=502"],["$((now+4))","status=5000 is not a status"]]}
]}
J
code=$(curl -s -o "$tmp/push.out" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$tmp/push.json" "$u/loki/api/v1/push")
[ "$code" = 204 ] && ok || bad "loki push answered $code: $(cat "$tmp/push.out")"

if wait_json "$u/api/v1/query?query=api_timeouts_total" "[(r['metric'], r['value'][1]) for r in d['data']['result']]==[({'__name__':'api_timeouts_total','service':'api','environment':'prod'},'2')]"; then ok; else bad "api_timeouts_total: $(curl -s "$u/api/v1/query?query=api_timeouts_total")"; fi
if wait_json "$u/api/v1/query?query=$(q 'sort_desc(http_5xx_total)')" "[(r['metric'].get('service'), r['value'][1]) for r in d['data']['result']]==[('api','1'),('web','1')]"; then ok; else bad "http_5xx_total: $(curl -s "$u/api/v1/query?query=http_5xx_total")"; fi
# the counter starts at 0 one tick before its first count, so increase() sees the first lines
if wait_json "$u/api/v1/query?query=$(q 'min_over_time(api_timeouts_total[5m])')" "d['data']['result'][0]['value'][1]=='0'"; then ok; else bad "no 0 start sample: $(curl -s "$u/api/v1/query?query=$(q 'api_timeouts_total[5m]')")"; fi
if wait_json "$u/api/v1/alerts" "any(a['labels']['alertname']=='ApiTimeouts' and a['labels']['service']=='api' and a['state']=='firing' and a['annotations']['summary']=='api logged timeouts' for a in d['data']['alerts'])"; then ok; else bad "ApiTimeouts never fired: $(curl -s "$u/api/v1/alerts")"; fi

# a Render deploy fails: an event, a counter, an alert
svc=$(curl -fsS "http://127.0.0.1:$rp/__fake/state" | python3 -c 'import json,sys; print(json.load(sys.stdin)["services"][0])')
name=$(curl -fsS -H 'Authorization: Bearer rnd_test' "http://127.0.0.1:$rp/v1/services/$svc" | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])')
curl -fsS -XPOST -d "{\"service\":\"$svc\",\"action\":\"new\"}" "http://127.0.0.1:$rp/__fake/deploy" -o /dev/null && ok || bad "fake deploy"
curl -fsS -XPOST -d "{\"service\":\"$svc\",\"action\":\"fail\"}" "http://127.0.0.1:$rp/__fake/deploy" -o /dev/null && ok || bad "fake deploy fail"
if wait_json "$u/api/v1/query?query=$(q 'pane_events_total{kind="deploy",status="build_failed"}')" "[(r['metric'].get('provider'), r['metric'].get('service'), r['value'][1]) for r in d['data']['result']]==[('render','$name','1')]"; then ok; else bad "deploy counter: $(curl -s "$u/api/v1/query?query=pane_events_total")"; fi
if wait_json "$u/api/v1/alerts" "any(a['labels']['alertname']=='DeployFailed' and a['labels']['service']=='$name' and a['labels']['status']=='build_failed' and a['state']=='firing' for a in d['data']['alerts'])"; then ok; else bad "DeployFailed never fired: $(curl -s "$u/api/v1/alerts")"; fi

# a new Sentry issue
curl -fsS -XPOST -d '{"action":"new","project":"billing","level":"error","title":"boom"}' "http://127.0.0.1:$sp/__fake/issue" -o /dev/null && ok || bad "fake issue"
if wait_json "$u/api/v1/query?query=$(q 'pane_events_total{kind="issue"}')" "[(r['metric'].get('provider'), r['metric'].get('project'), r['metric'].get('level'), r['metric'].get('status'), r['value'][1]) for r in d['data']['result']]==[('sentry','billing','error','new','1')]"; then ok; else bad "issue counter: $(curl -s "$u/api/v1/query?query=pane_events_total")"; fi
if wait_json "$u/api/v1/alerts" "any(a['labels']['alertname']=='SentryNewIssue' and a['labels']['project']=='billing' and a['state']=='firing' for a in d['data']['alerts'])"; then ok; else bad "SentryNewIssue never fired: $(curl -s "$u/api/v1/alerts")"; fi

# a reload with a broken definition is refused; the counters keep counting
cp "$tmp/pane.yaml" "$tmp/pane.good"
sed -i 's/match: timeout/match: timeout\n      regex: x/' "$tmp/pane.yaml"
code=$(curl -s -o "$tmp/reload" -w '%{http_code}' -XPOST "$u/-/reload")
[ "$code" = 400 ] && ok || bad "bad reload answered $code"
expect_in "$tmp/reload" "match and regex exclude each other"
cp "$tmp/pane.good" "$tmp/pane.yaml"
curl -fsS -H 'Content-Type: application/json' --data-binary @"$tmp/push.json" "$u/loki/api/v1/push" -o /dev/null
if wait_json "$u/api/v1/query?query=api_timeouts_total" "d['data']['result'][0]['value'][1]=='4'"; then ok; else bad "counting after a refused reload: $(curl -s "$u/api/v1/query?query=api_timeouts_total")"; fi
serve_stop || bad "serve exited non-zero: $(tail -5 "$tmp/serve.log")"

# bad definitions stop start-up with file:line
cat >"$tmp/bad1.yaml" <<'B'
rules:
  log_metrics:
    - name: x_total
      selector: '{a=~"("}'
B
expect_status 1 "$bin" serve --config "$tmp/bad1.yaml" --listen 127.0.0.1:0 --data-dir "$tmp/d1"
expect_in "$tmp/err" "bad1.yaml:4"
expect_in "$tmp/err" "bad selector"
printf 'rules:\n  log_metrics:\n    - name: x_total\n      regex: "(a"\n' >"$tmp/bad2.yaml"
expect_status 1 "$bin" serve --config "$tmp/bad2.yaml" --listen 127.0.0.1:0 --data-dir "$tmp/d2"
expect_in "$tmp/err" "bad2.yaml:4"
expect_in "$tmp/err" "error parsing regexp"
printf 'rules:\n  log_metrics:\n    - name: x_total\n      labels: [a]\n' >"$tmp/bad3.yaml"
expect_status 1 "$bin" serve --config "$tmp/bad3.yaml" --listen 127.0.0.1:0 --data-dir "$tmp/d3"
expect_in "$tmp/err" 'unknown key "labels"'
printf 'rules:\n  log_metrics:\n    - name: pane_events_total\n' >"$tmp/bad4.yaml"
expect_status 1 "$bin" serve --config "$tmp/bad4.yaml" --listen 127.0.0.1:0 --data-dir "$tmp/d4"
expect_in "$tmp/err" "pane's own event counter"
printf 'rules:\n  log_metrics:\n    - {name: a_total}\n    - {name: a_total}\n' >"$tmp/bad5.yaml"
expect_status 1 "$bin" serve --config "$tmp/bad5.yaml" --listen 127.0.0.1:0 --data-dir "$tmp/d5"
expect_in "$tmp/err" "defined twice"
finish
