#!/usr/bin/env bash
# test_proxy.sh - the notifiers' proxy settings, end to end, as Alertmanager
# (Prometheus' HTTP client config) defines them: pane serve runs with
# http_proxy pointing at a recording proxy, and four webhook receivers must
# each take the way their http_config says:
#   direct     no proxy keys: no proxy at all, the environment is ignored
#   env        proxy_from_environment: true: through the environment's proxy
#   explicit   proxy_url: through that proxy (enable_http2: false is taken)
#   bypassed   proxy_url with the target's host in no_proxy: direct
# The proxy (the webhook fake) answers proxied requests itself and records
# each request's target (a proxied one is an absolute URL); the "env" and
# "explicit" targets are a port nothing listens on, so only the proxy can
# deliver them.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL
trap 'rm -rf "$tmp"; [ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$ppid_" ] && kill "$ppid_" 2>/dev/null' EXIT
pp=$(free_port); dead=$(free_port)
# the proxy: the webhook fake, which checks each body and records the
# request target (absolute for a proxied request)
python3 "$PANE_SOURCE_ROOT/tests/fakes/webhook_fake.py" "$pp" >"$tmp/proxy.log" 2>&1 &
ppid_=$!
seen() { curl --noproxy '*' -fsS "http://127.0.0.1:$pp/_received"; }
wait_for 10 seen -o /dev/null && ok || bad "the proxy did not start"

cat >"$tmp/pane.yaml" <<Y
alerting:
  route:
    receiver: hooks
    group_by: [alertname]
    group_wait: 1s
  receivers:
    - name: hooks
      webhook_configs:
        - url: http://127.0.0.1:$pp/direct
        - url: http://127.0.0.1:$dead/env
          http_config: {proxy_from_environment: true}
        - url: http://127.0.0.1:$dead/explicit
          http_config: {proxy_url: http://127.0.0.1:$pp, no_proxy: 127.0.0.2, enable_http2: false}
        - url: http://127.0.0.1:$pp/bypassed
          http_config: {proxy_url: http://127.0.0.1:$dead, no_proxy: 127.0.0.1}
Y
port=$(free_port); u="http://127.0.0.1:$port"
http_proxy="http://127.0.0.1:$pp" HTTP_PROXY="http://127.0.0.1:$pp" \
  "$bin" serve --config "$tmp/pane.yaml" --data-dir "$tmp/data" --listen "127.0.0.1:$port" >"$tmp/serve.log" 2>&1 &
pid=$!
wait_for 20 curl --noproxy '*' -fsS "$u/healthz" -o /dev/null && ok || bad "pane did not start: $(tail -5 "$tmp/serve.log")"
code=$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' -XPOST "$u/api/v2/alerts" -H 'Content-Type: application/json' \
  -d '[{"labels":{"alertname":"ProxyCheck","severity":"page"}}]')
[ "$code" = 200 ] && ok || bad "POST /api/v2/alerts answered $code"
four() { [ "$(seen | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -ge 4 ]; }
wait_for 30 four && ok || bad "not four webhook posts at the proxy: $(seen); $(tail -5 "$tmp/serve.log")"
sleep 1 # a fifth (a wrong way taken twice) would show here
seen >"$tmp/seen.json"
python3 - "$tmp/seen.json" "$dead" <<'P' && ok || bad "the receivers did not take the ways their http_config says: $(cat "$tmp/seen.json")"
import json, sys
seen, dead = json.load(open(sys.argv[1])), sys.argv[2]
want = sorted(["/direct", "http://127.0.0.1:%s/env" % dead, "http://127.0.0.1:%s/explicit" % dead, "/bypassed"])
got = sorted(r["target"] for r in seen)
if got != want:
    print("seen %r, want %r" % (got, want)); sys.exit(1)
P
kill -TERM "$pid"; wait "$pid" && ok || bad "pane serve did not stop cleanly"
pid=
finish
