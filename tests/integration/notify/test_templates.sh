#!/usr/bin/env bash
# test_templates.sh - notification templates against Debian's
# prometheus-alertmanager 0.25: the same Alertmanager configuration (a
# templates file with {{define}}s, Slack fields written as templates, one of
# them Alertmanager's own default slack.default.title; Slack fields, actions,
# image_url, thumb_url, callback_id, link_names, mrkdwn_in; a PagerDuty
# receiver with details, links, images and source; http_config with
# follow_redirects and credentials; a webhook receiver with
# authorization.credentials_file) is loaded by Alertmanager and by pane,
# the same alerts are posted to both, and the messages they send to the Slack
# and PagerDuty fakes must carry the same values in those keys. Both reach
# the fakes through a redirector that records the Authorization header each
# sent, so http_config is compared as well.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL
fakes="$PANE_SOURCE_ROOT/tests/fakes"
fpids=()
trap 'rm -rf "$tmp"; [ -n "$pid" ] && kill "$pid" 2>/dev/null; for p in "${fpids[@]}"; do kill "$p" 2>/dev/null; done' EXIT
command -v prometheus-alertmanager >/dev/null || { echo "prometheus-alertmanager not installed"; exit 77; }

sp=$(free_port); amp=$(free_port); pp=$(free_port); rp=$(free_port)
python3 "$fakes/slack_fake.py" "$sp" >"$tmp/slack.log" 2>&1 &
fpids+=($!)
python3 "$fakes/pagerduty_fake.py" "$pp" >"$tmp/pd.log" 2>&1 &
fpids+=($!)
# the redirector: 307 to the Slack fake (or, for /v2/..., the PagerDuty
# fake), recording each POST's User-Agent and Authorization
cat >"$tmp/redir.py" <<'R'
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, slack, pd = (int(a) for a in sys.argv[1:4])
seen, lock = [], threading.Lock()
class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_GET(self):
        with lock:
            data = json.dumps(seen).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers()
        self.wfile.write(data)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with lock:
            seen.append({"path": self.path, "ua": self.headers.get("User-Agent", ""),
                         "auth": self.headers.get("Authorization")})
        if self.path.startswith("/hook/"):  # the webhook receiver: answered here
            json.loads(body)
            self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
            return
        target = pd if self.path.startswith("/v2/") else slack
        self.send_response(307)
        self.send_header("Location", "http://127.0.0.1:%d%s" % (target, self.path))
        self.send_header("Content-Length", "0"); self.end_headers()
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
R
python3 "$tmp/redir.py" "$rp" "$sp" "$pp" >"$tmp/redir.log" 2>&1 &
fpids+=($!)
wait_for 10 curl -fsS "http://127.0.0.1:$sp/_ping" -o /dev/null && ok || bad "slack fake did not start"
wait_for 10 curl -fsS "http://127.0.0.1:$pp/_ping" -o /dev/null && ok || bad "pagerduty fake did not start"
wait_for 10 curl -fsS "http://127.0.0.1:$rp/_seen" -o /dev/null && ok || bad "redirector did not start"

mkdir -p "$tmp/tmpl"
cat >"$tmp/tmpl/team.tmpl" <<'T'
{{ define "team.title" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }} for {{ .Receiver | title }}{{ end }}
{{ define "team.text" }}{{ range .Alerts }}*{{ .Labels.alertname }}* on `{{ .Labels.instance }}` ({{ .Status }}, since {{ .StartsAt }}, fp {{ .Fingerprint }})
{{ range .Labels.SortedPairs }}{{ if ne .Name "alertname" }} - {{ .Name }}={{ .Value }}
{{ end }}{{ end }}{{ with .Annotations.summary }}> {{ . }}
{{ end }}{{ end }}{{ end }}
{{ define "team.footer" }}{{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Names | join "," }}: {{ .Values | join "/" }}{{ end }} | {{ reReplaceAll "[aeiou]" "_" .Receiver }} | {{ stringSlice "x" "y" | join "+" }} | {{ len .CommonAnnotations }} {{ .GroupLabels.SortedPairs.Names }}{{ end }}
T
cat >"$tmp/am.yml" <<Y
route:
  receiver: team a
  group_by: [alertname]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 1h
templates: ['tmpl/*.tmpl']
receivers:
  - name: team a
    slack_configs:
      - api_url: http://127.0.0.1:$rp/services/T000/B000/XXXX
        send_resolved: true
        title: '{{ template "team.title" . }}'
        title_link: '{{ .ExternalURL }}/alerts?g={{ .GroupLabels.alertname }}'
        pretext: '{{ template "slack.default.title" . }}'
        text: '{{ template "team.text" . }}'
        fallback: '{{ .CommonLabels.severity | toUpper }} {{ .Alerts | len }}'
        footer: '{{ template "team.footer" . }}'
        callback_id: 'cb-{{ .GroupLabels.alertname }}'
        image_url: 'https://img.example/{{ .Status }}.png'
        thumb_url: '{{ if eq .Status "resolved" }}https://img.example/thumb.png{{ end }}'
        link_names: true
        short_fields: true
        mrkdwn_in: [text, fields]
        fields:
          - title: Instances
            value: '{{ range .Alerts }}{{ .Labels.instance }} {{ end }}'
          - title: '{{ .CommonLabels.job | toUpper }}'
            value: '{{ len .Alerts.Firing }} firing'
            short: false
        actions:
          - type: button
            text: 'Runbook {{ .CommonLabels.alertname }}'
            url: 'https://runbooks.example/{{ .CommonLabels.alertname }}'
            name: ignored-with-url
            style: primary
          - type: button
            text: Silence
            name: silence
            value: '{{ .GroupLabels.alertname }}'
            style: danger
            confirm:
              title: 'Silence {{ .CommonLabels.alertname }}?'
              text: 'for {{ .Receiver }}'
              ok_text: 'Yes'
        http_config:
          follow_redirects: true
          authorization: {type: Bearer, credentials: slack-tok-1}
    pagerduty_configs:
      - routing_key: 0123456789abcdef0123456789abcdef
        url: http://127.0.0.1:$rp/v2/enqueue
        source: 'src {{ .Receiver }}'
        severity: warning
        details:
          num_firing: 'n={{ .Alerts.Firing | len }}'
          summary: '{{ range .Alerts }}{{ .Annotations.summary }}; {{ end }}'
          hosts: '{{ .CommonLabels.Remove .GroupLabels.Names | len }} common'
        links:
          - href: 'https://dash.example/d/{{ .GroupLabels.alertname }}'
            text: 'Dashboard {{ .CommonLabels.job }}'
          - href: '{{ if eq .Status "resolved" }}https://x{{ end }}'
            text: never sent
        images:
          - src: 'https://img.example/{{ .CommonLabels.alertname }}.png'
            alt: graph
          - src: ''
            alt: dropped
        http_config:
          basic_auth: {username: pd-user, password: pd-pass}
    webhook_configs:
      - url: http://127.0.0.1:$rp/hook/team-a
        http_config:
          authorization: {credentials_file: hook-token}
Y
printf 'hook-tok-2\n' >"$tmp/hook-token"
ext=http://am.example:9093
prometheus-alertmanager --config.file="$tmp/am.yml" --storage.path="$tmp/amdata" --web.external-url="$ext" \
  --web.listen-address="127.0.0.1:$amp" --cluster.listen-address= >"$tmp/am.log" 2>&1 &
fpids+=($!)
wait_for 40 curl -fsS "http://127.0.0.1:$amp/-/ready" -o /dev/null && ok || bad "alertmanager did not start: $(tail -5 "$tmp/am.log")"
printf 'alerting:\n  config_file: am.yml\n  external_url: %s\n' "$ext" >"$tmp/pane.yaml"
serve_start "$tmp/serve.log" /healthz --config "$tmp/pane.yaml" --data-dir "$tmp/data" ||
  bad "pane did not start: $(tail -5 "$tmp/serve.log")"

# startsAt now, not in the past: Alertmanager flushes a new group at once
# (no group_wait) when its first alert started more than group_wait ago, and
# it inserts a request's alerts one by one, so an old first alert could be
# sent alone before the second one joins its group (seen once in CI).
start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
alerts=$(cat <<J
[{"labels":{"alertname":"DiskFull","instance":"db-1:9100","severity":"page","job":"node"},
  "annotations":{"summary":"disk on db-1 is 97% full"},"startsAt":"$start","generatorURL":"http://prom/g?1"},
 {"labels":{"alertname":"DiskFull","instance":"db-2:9100","severity":"page","job":"node"},
  "annotations":{"summary":"disk on db-2 is 95% full"},"startsAt":"$start","generatorURL":"http://prom/g?2"}]
J
)
for base in "http://127.0.0.1:$amp" "$u"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$base/api/v2/alerts" -H 'Content-Type: application/json' -d "$alerts")
  [ "$code" = 200 ] && ok || bad "POST alerts to $base answered $code"
done
two() { [ "$(curl -fsS "http://127.0.0.1:$1/_received" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -ge 2 ]; }
wait_for 30 two "$sp" && ok || bad "not two Slack messages: $(curl -s "http://127.0.0.1:$sp/_received") $(tail -3 "$tmp/slack.log")"
wait_for 30 two "$pp" && ok || bad "not two PagerDuty events: $(curl -s "http://127.0.0.1:$pp/_requests") $(tail -3 "$tmp/pd.log")"
hooks() { [ "$(curl -fsS "http://127.0.0.1:$rp/_seen" | python3 -c 'import json,sys; print(sum(s["path"] == "/hook/team-a" for s in json.load(sys.stdin)))')" -ge 2 ]; }
wait_for 30 hooks && ok || bad "not two webhook posts: $(curl -s "http://127.0.0.1:$rp/_seen")"
curl -fsS "http://127.0.0.1:$sp/_received" >"$tmp/received.json"
curl -fsS "http://127.0.0.1:$pp/_received" >"$tmp/pd_received.json"
curl -fsS "http://127.0.0.1:$rp/_seen" >"$tmp/seen.json"
python3 - "$tmp/received.json" <<'P' && ok || bad "Alertmanager and pane rendered Slack differently"
import json, sys
r = json.load(open(sys.argv[1]))
msgs = [m["body"] for m in r]
assert len(msgs) == 2, msgs
# tell the two apart: pane also sends a top-level text, Alertmanager does not
am = [m for m in msgs if "text" not in m]
pn = [m for m in msgs if "text" in m]
if len(am) != 1 or len(pn) != 1:
    print("cannot tell the two messages apart:", json.dumps(msgs, indent=1)); sys.exit(1)
a, p = am[0]["attachments"][0], pn[0]["attachments"][0]
bad = False
for k in ["title", "title_link", "pretext", "text", "fallback", "footer", "callback_id", "image_url",
          "thumb_url", "mrkdwn_in", "fields", "actions"]:
    if a.get(k) != p.get(k):
        print("%s differs:\n  alertmanager: %r\n  pane:         %r" % (k, a.get(k), p.get(k)))
        bad = True
if am[0].get("link_names") != pn[0].get("link_names"):
    print("link_names differs:", am[0].get("link_names"), pn[0].get("link_names")); bad = True
# the comparison must have something to compare
if a.get("title") != "[FIRING:2] DiskFull for Team A":
    print("unexpected title", a.get("title")); bad = True
if len(a.get("fields", [])) != 2 or len(a.get("actions", [])) != 2 or am[0].get("link_names") is not True:
    print("Alertmanager sent no fields/actions/link_names:", json.dumps(am[0], indent=1)); bad = True
sys.exit(1 if bad else 0)
P
python3 - "$tmp/pd_received.json" <<'P' && ok || bad "Alertmanager and pane rendered PagerDuty differently"
import json, sys
msgs = [m["body"] for m in json.load(open(sys.argv[1]))]
# tell the two apart: pane sends payload.timestamp, Alertmanager does not
am = [m for m in msgs if "timestamp" not in m["payload"]]
pn = [m for m in msgs if "timestamp" in m["payload"]]
if len(am) != 1 or len(pn) != 1:
    print("cannot tell the two events apart:", json.dumps(msgs, indent=1)); sys.exit(1)
a, p = am[0], pn[0]
bad = False
for k in ["event_action", "dedup_key", "links", "images"]:
    if a.get(k) != p.get(k):
        print("%s differs:\n  alertmanager: %r\n  pane:         %r" % (k, a.get(k), p.get(k))); bad = True
for k in ["custom_details", "source", "severity"]:
    if a["payload"].get(k) != p["payload"].get(k):
        print("payload.%s differs:\n  alertmanager: %r\n  pane:         %r" % (k, a["payload"].get(k), p["payload"].get(k)))
        bad = True
cd = a["payload"].get("custom_details", {})
if sorted(cd) != ["firing", "hosts", "num_firing", "num_resolved", "resolved", "summary"] or cd["num_firing"] != "n=2":
    print("unexpected custom_details from Alertmanager:", cd); bad = True
if len(a.get("links", [])) != 1 or len(a.get("images", [])) != 1:
    print("unexpected links/images from Alertmanager:", a.get("links"), a.get("images")); bad = True
sys.exit(1 if bad else 0)
P
python3 - "$tmp/seen.json" <<'P' && ok || bad "http_config: Alertmanager and pane sent different credentials"
import json, sys
seen = json.load(open(sys.argv[1]))
want = {"slack": "Bearer slack-tok-1", "pd": "Basic cGQtdXNlcjpwZC1wYXNz",  # base64("pd-user:pd-pass")
        "webhook": "Bearer hook-tok-2"}
kind_of = lambda path: "pd" if path.startswith("/v2/") else "webhook" if path == "/hook/team-a" else "slack"
bad = False
for who in ("Alertmanager", "pane"):
    for kind in want:
        got = [s["auth"] for s in seen if s["ua"].startswith(who) and kind_of(s["path"]) == kind]
        if got != [want[kind]]:
            print("%s %s: Authorization %r, want [%r]" % (who, kind, got, want[kind])); bad = True
sys.exit(1 if bad else 0)
P
[ -n "${KEEP_RECEIVED:-}" ] && cp "$tmp/received.json" "$KEEP_RECEIVED"
serve_stop || bad "pane serve did not stop cleanly"
finish
