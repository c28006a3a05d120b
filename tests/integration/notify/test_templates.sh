#!/usr/bin/env bash
# test_templates.sh - notification templates against Debian's
# prometheus-alertmanager 0.25: the same Alertmanager configuration (a
# templates file with {{define}}s, Slack fields written as templates, one of
# them Alertmanager's own default slack.default.title) is loaded by
# Alertmanager and by pane, the same alerts are posted to both, and the
# Slack messages they send to the Slack fake must carry the same title,
# title_link, pretext, text, fallback and footer.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL
fakes="$PANE_SOURCE_ROOT/tests/fakes"
fpids=()
trap 'rm -rf "$tmp"; [ -n "$pid" ] && kill "$pid" 2>/dev/null; for p in "${fpids[@]}"; do kill "$p" 2>/dev/null; done' EXIT
wait_for() {
  local n=$(($1 * 10)); shift
  for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
  return 1
}
command -v prometheus-alertmanager >/dev/null || { echo "prometheus-alertmanager not installed"; exit 77; }

sp=$(free_port); amp=$(free_port)
python3 "$fakes/slack_fake.py" "$sp" >"$tmp/slack.log" 2>&1 &
fpids+=($!)
wait_for 10 curl -fsS "http://127.0.0.1:$sp/_ping" -o /dev/null && ok || bad "slack fake did not start"

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
  group_wait: 1s
  group_interval: 1m
  repeat_interval: 1h
templates: ['tmpl/*.tmpl']
receivers:
  - name: team a
    slack_configs:
      - api_url: http://127.0.0.1:$sp/services/T000/B000/XXXX
        send_resolved: true
        title: '{{ template "team.title" . }}'
        title_link: '{{ .ExternalURL }}/alerts?g={{ .GroupLabels.alertname }}'
        pretext: '{{ template "slack.default.title" . }}'
        text: '{{ template "team.text" . }}'
        fallback: '{{ .CommonLabels.severity | toUpper }} {{ .Alerts | len }}'
        footer: '{{ template "team.footer" . }}'
Y
ext=http://am.example:9093
prometheus-alertmanager --config.file="$tmp/am.yml" --storage.path="$tmp/amdata" --web.external-url="$ext" \
  --web.listen-address="127.0.0.1:$amp" --cluster.listen-address= >"$tmp/am.log" 2>&1 &
fpids+=($!)
wait_for 40 curl -fsS "http://127.0.0.1:$amp/-/ready" -o /dev/null && ok || bad "alertmanager did not start: $(tail -5 "$tmp/am.log")"
printf 'alerting:\n  config_file: am.yml\n  external_url: %s\n' "$ext" >"$tmp/pane.yaml"
serve_start "$tmp/serve.log" /healthz --config "$tmp/pane.yaml" --data-dir "$tmp/data" ||
  bad "pane did not start: $(tail -5 "$tmp/serve.log")"

start=$(date -u -d "@$(($(date +%s) - 120))" +%Y-%m-%dT%H:%M:%SZ)
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
two() { [ "$(curl -fsS "http://127.0.0.1:$sp/_received" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -ge 2 ]; }
wait_for 30 two && ok || bad "not two Slack messages: $(curl -s "http://127.0.0.1:$sp/_received")"
curl -fsS "http://127.0.0.1:$sp/_received" >"$tmp/received.json"
python3 - "$tmp/received.json" <<'P' && ok || bad "Alertmanager and pane rendered differently"
import json, sys
r = json.load(open(sys.argv[1]))
msgs = [m["body"] for m in r]
assert len(msgs) == 2, msgs
# tell the two apart: Alertmanager always sends callback_id, pane does not
am = [m for m in msgs if "callback_id" in m["attachments"][0]]
pn = [m for m in msgs if "callback_id" not in m["attachments"][0]]
if len(am) != 1 or len(pn) != 1:
    print("cannot tell the two messages apart:", json.dumps(msgs, indent=1)); sys.exit(1)
a, p = am[0]["attachments"][0], pn[0]["attachments"][0]
bad = False
for k in ["title", "title_link", "pretext", "text", "fallback", "footer"]:
    if a.get(k) != p.get(k):
        print("%s differs:\n  alertmanager: %r\n  pane:         %r" % (k, a.get(k), p.get(k)))
        bad = True
if a.get("title") != "[FIRING:2] DiskFull for Team A":
    print("unexpected title", a.get("title")); bad = True
sys.exit(1 if bad else 0)
P
[ -n "${KEEP_RECEIVED:-}" ] && cp "$tmp/received.json" "$KEEP_RECEIVED"
serve_stop || bad "pane serve did not stop cleanly"
finish
