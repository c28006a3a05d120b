#!/usr/bin/env bash
# test_oauth2.sh - http_config.oauth2 end to end: two token endpoints
# (tests/fakes/oauth2_fake.py, the client credentials grant) and a webhook
# target (tests/fakes/webhook_fake.py). Two webhook receivers:
#   basic   client_secret_file, scopes and endpoint_params, against an
#           endpoint that takes HTTP Basic
#   form    against an endpoint that refuses Basic: pane falls back to the
#           credentials in the form, once, and keeps that way
# Two alert groups make two notifications a receiver; each must carry
# "Bearer <its endpoint's token>", and a receiver asks for one token only
# (cached until 10 s before expires_in).
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL
fakes="$PANE_SOURCE_ROOT/tests/fakes"
fpids=()
trap 'rm -rf "$tmp"; [ -n "$pid" ] && kill "$pid" 2>/dev/null; for p in "${fpids[@]}"; do kill "$p" 2>/dev/null; done' EXIT
t1=$(free_port); t2=$(free_port); wp=$(free_port)
python3 "$fakes/oauth2_fake.py" "$t1" "pane id" "s3cr&t" >"$tmp/t1.log" 2>&1 &
fpids+=($!)
python3 "$fakes/oauth2_fake.py" "$t2" cid2 secret2 --form-only >"$tmp/t2.log" 2>&1 &
fpids+=($!)
python3 "$fakes/webhook_fake.py" "$wp" >"$tmp/hook.log" 2>&1 &
fpids+=($!)
for p in "$t1/_tokens" "$t2/_tokens" "$wp/_received"; do
  wait_for 10 curl -fsS "http://127.0.0.1:$p" -o /dev/null && ok || bad "a fake did not start ($p)"
done
printf 's3cr&t\n' >"$tmp/secret"
export CID2_SECRET=secret2
cat >"$tmp/pane.yaml" <<Y
alerting:
  route:
    receiver: hooks
    group_by: [alertname]
    group_wait: 1s
  receivers:
    - name: hooks
      webhook_configs:
        - url: http://127.0.0.1:$wp/basic
          http_config:
            oauth2:
              client_id: pane id
              client_secret_file: secret
              token_url: http://127.0.0.1:$t1/token
              scopes: [alerts.write, read]
              endpoint_params: {audience: https://hooks.example}
        - url: http://127.0.0.1:$wp/form
          http_config:
            oauth2:
              client_id: cid2
              client_secret: \${CID2_SECRET}
              token_url: http://127.0.0.1:$t2/token
Y
serve_start "$tmp/serve.log" /healthz --config "$tmp/pane.yaml" --data-dir "$tmp/data" ||
  bad "pane did not start: $(tail -5 "$tmp/serve.log")"
# the secret never shows in the configuration pane prints
curl -fsS "$u/api/v2/status" >"$tmp/status"
grep -q 'CID2_SECRET\|secret2' "$tmp/status" && bad "the client secret shows in /api/v2/status" || ok
for a in First Second; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$u/api/v2/alerts" -H 'Content-Type: application/json' \
    -d "[{\"labels\":{\"alertname\":\"OAuth$a\"}}]")
  [ "$code" = 200 ] && ok || bad "POST /api/v2/alerts answered $code"
done
four() { [ "$(curl -fsS "http://127.0.0.1:$wp/_received" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -ge 4 ]; }
wait_for 30 four && ok || bad "not four webhook posts: $(curl -s "http://127.0.0.1:$wp/_received"); $(tail -5 "$tmp/serve.log")"
curl -fsS "http://127.0.0.1:$wp/_received" >"$tmp/hooks.json"
curl -fsS "http://127.0.0.1:$t1/_tokens" >"$tmp/t1.json"
curl -fsS "http://127.0.0.1:$t2/_tokens" >"$tmp/t2.json"
python3 - "$tmp/hooks.json" "$tmp/t1.json" "$tmp/t2.json" <<'P' && ok || bad "oauth2 tokens were not asked for or sent as the grant says"
import json, sys
hooks, t1, t2 = (json.load(open(f)) for f in sys.argv[1:4])
bad = False
def want(cond, what):
    global bad
    if not cond:
        print(what); bad = True
auth = {p: sorted(h["auth"] for h in hooks if h["path"] == p) for p in ("/basic", "/form")}
want(auth["/basic"] == ["Bearer tok-1"] * 2, "the basic receiver sent %r" % auth["/basic"])
want(auth["/form"] == ["Bearer tok-1"] * 2, "the form receiver sent %r" % auth["/form"])
want([r["style"] for r in t1] == ["basic"] and t1[0]["ok"], "endpoint 1 saw %r (want one Basic request)" % t1)
want(t1 and t1[0].get("form") == {"grant_type": "client_credentials", "scope": "alerts.write read",
                                  "audience": "https://hooks.example"}, "endpoint 1's form: %r" % (t1 and t1[0].get("form")))
want([(r["style"], r["ok"]) for r in t2] == [("basic", False), ("form", True)],
     "endpoint 2 saw %r (want Basic refused, then the form, then nothing: the token is cached)" % t2)
sys.exit(1 if bad else 0)
P
serve_stop || bad "pane serve did not stop cleanly"
finish
