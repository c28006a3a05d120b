#!/bin/bash
# Rules in `pane serve`, end to end: groups evaluate on their interval,
# recording rules chain within a group through the store, alerts go pending
# and firing with templates expanded, /api/v1/rules and /api/v1/alerts answer
# in Prometheus' format, a bad file on reload answers 400 with file:line and
# keeps the old rules, `for` state survives a restart (ALERTS_FOR_STATE), and
# bad configuration stops start-up with a clear message.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"

cat >"$tmp/rules.yml" <<'R'
groups:
  - name: fast
    interval: 1s
    rules:
      - record: pane_test:seven
        expr: vector(7)
      - record: pane_test:fourteen
        expr: pane_test:seven * 2
      - alert: Waiting
        expr: vector(1)
        for: 1h
        labels:
          severity: ticket
      - alert: Now
        expr: pane_test:fourteen > 10
        labels:
          severity: page
        annotations:
          summary: 'value {{ $value }} is {{ if gt $value 10.0 }}high{{ end }} ({{ humanize 2048 }})'
R
cat >"$tmp/pane.yaml" <<Y
server:
  data_dir: $tmp/data
rules:
  files: ['$tmp/rules.yml']
  evaluation_interval: 1s
Y

# wait_json URL PYTHON-EXPR: poll (up to 20 s) until the expression over the JSON answer `d` is true
wait_json() {
  for _ in $(seq 1 400); do
    if curl -fsS "$1" 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($2) else 1)" 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  return 1
}

serve_start "$tmp/serve.log" /healthz --config "$tmp/pane.yaml" || { bad "serve did not start: $(tail -5 "$tmp/serve.log")"; finish; exit 1; }

# the group evaluates, the chain is visible in the same evaluation, Now fires
if wait_json "$u/api/v1/alerts" "any(a['labels']['alertname']=='Now' and a['state']=='firing' for a in d['data']['alerts'])"; then ok; else bad "Now never fired: $(curl -s "$u/api/v1/alerts")"; fi
if wait_json "$u/api/v1/query?query=pane_test:fourteen" "d['data']['result'][0]['value'][1]=='14'"; then ok; else bad "recording chain: $(curl -s "$u/api/v1/query?query=pane_test:fourteen")"; fi

curl -fsS "$u/api/v1/rules" >"$tmp/rules.json" || bad "GET /api/v1/rules failed"
python3 - "$tmp/rules.json" <<'P' && ok || bad "/api/v1/rules answer: $(head -c 600 "$tmp/rules.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "success"
g = d["data"]["groups"][0]
assert g["name"] == "fast" and g["interval"] == 1 and g["file"].endswith("rules.yml"), g
assert g["lastEvaluation"] != "0001-01-01T00:00:00Z"
r = {x["name"]: x for x in g["rules"]}
assert [x["name"] for x in g["rules"]] == ["pane_test:seven", "pane_test:fourteen", "Waiting", "Now"]
assert r["pane_test:seven"]["type"] == "recording" and r["pane_test:seven"]["health"] == "ok"
assert r["pane_test:fourteen"]["query"] == "pane_test:seven * 2"
w = r["Waiting"]
assert w["type"] == "alerting" and w["state"] == "pending" and w["duration"] == 3600, w
assert w["labels"] == {"severity": "ticket"} and w["alerts"][0]["state"] == "pending"
n = r["Now"]
assert n["state"] == "firing" and n["alerts"][0]["value"] == "1.4e+01", n
assert n["alerts"][0]["annotations"]["summary"] == "value 14 is high (2.048k)", n["alerts"][0]
assert n["annotations"]["summary"].startswith("value {{ $value }}")
for x in g["rules"]:
    assert isinstance(x["evaluationTime"], (int, float)) and x["lastEvaluation"].endswith("Z")
P
curl -fsS "$u/api/v1/rules?type=record" | python3 -c "import json,sys; d=json.load(sys.stdin); assert all(r['type']=='recording' for g in d['data']['groups'] for r in g['rules'])" && ok || bad "type=record filter"
waiting_at=$(curl -fsS "$u/api/v1/alerts" | python3 -c "import json,sys; d=json.load(sys.stdin); print([a['activeAt'] for a in d['data']['alerts'] if a['labels']['alertname']=='Waiting'][0])")
# ALERTS written back (pending and firing)
if wait_json "$u/api/v1/query?query=ALERTS" "sorted((r['metric']['alertname'], r['metric']['alertstate']) for r in d['data']['result'])==[('Now','firing'),('Waiting','pending')]"; then ok; else bad "ALERTS series: $(curl -s "$u/api/v1/query?query=ALERTS")"; fi
curl -fsS "$u/metrics" >"$tmp/metrics"
expect_in "$tmp/metrics" 'pane_rule_evaluation_failures_total{rule_group="fast",rule="Now"} 0'

# a bad file on reload: 400 with file:line:col, the old rules keep running
cp "$tmp/rules.yml" "$tmp/rules.good"
printf 'groups:\n  - name: fast\n    rules:\n      - record: broken\n        expr: "sum(rate(x[5m])"\n' >"$tmp/rules.yml"
code=$(curl -s -o "$tmp/reload" -w '%{http_code}' -XPOST "$u/-/reload")
[ "$code" = 400 ] && ok || bad "bad reload answered $code"
expect_in "$tmp/reload" "rules.yml: 5:15: group \\\"fast\\\", rule 1, \\\"broken\\\": could not parse expression"
curl -fsS "$u/api/v1/rules" | grep -q '"pane_test:fourteen"' && ok || bad "old rules gone after a failed reload"
# a good reload swaps, alert state carried over
cp "$tmp/rules.good" "$tmp/rules.yml"
sed -i 's/vector(7)/vector(8)/' "$tmp/rules.yml"
code=$(curl -s -o "$tmp/reload" -w '%{http_code}' -XPOST "$u/-/reload")
[ "$code" = 200 ] && ok || bad "good reload answered $code: $(cat "$tmp/reload")"
if wait_json "$u/api/v1/query?query=pane_test:fourteen" "d['data']['result'][0]['value'][1]=='16'"; then ok; else bad "reloaded rule not evaluated"; fi
curl -fsS "$u/api/v1/alerts" | grep -qF "\"activeAt\":\"$waiting_at\"" && ok || bad "pending alert lost its activeAt on reload"

# restart: Waiting keeps its active time (whole seconds, from ALERTS_FOR_STATE)
serve_stop || bad "serve exited non-zero"
serve_start "$tmp/serve2.log" /healthz --config "$tmp/pane.yaml" || bad "restart failed: $(tail -5 "$tmp/serve2.log")"
want=${waiting_at%%.*}; want=${want%Z}
if wait_json "$u/api/v1/alerts" "any(a['labels']['alertname']=='Waiting' and a['activeAt'].split('.')[0].rstrip('Z')=='$want' for a in d['data']['alerts'])"; then ok; else bad "for state not restored: want $want, got $(curl -s "$u/api/v1/alerts")"; fi
expect_in "$tmp/serve2.log" "restored alert state"
serve_stop || bad "serve exited non-zero"

# bad configuration stops start-up with file:line
printf 'groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: up\n        annotations:\n          a: "{{ nosuchfunc }}"\n' >"$tmp/bad.yml"
printf 'rules:\n  files: [%s]\n' "$tmp/bad.yml" >"$tmp/bad.yaml"
expect_status 1 "$bin" serve --config "$tmp/bad.yaml" --listen 127.0.0.1:0 --data-dir "$tmp/d2"
expect_in "$tmp/err" 'annotation "a": template: __alert_X:1: function "nosuchfunc" not defined'
printf 'rules:\n  evaluation_intervl: 1m\n' >"$tmp/bad2.yaml"
expect_status 1 "$bin" serve --config "$tmp/bad2.yaml" --listen 127.0.0.1:0 --data-dir "$tmp/d3"
expect_in "$tmp/err" "bad2.yaml:2"
finish
