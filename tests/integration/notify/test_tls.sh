#!/usr/bin/env bash
# test_tls.sh - the notifiers' tls_config end to end: an HTTPS webhook
# target (the webhook fake with --tls --tls13) that demands a client
# certificate signed by a test CA and TLS 1.3 (certificates made with the
# openssl CLI), and five webhook receivers:
#   mtls      ca_file + cert_file + key_file (+ min_version TLS12): delivered,
#             and the target saw the client certificate's name
#   nocert    ca_file only: the handshake fails, nothing is delivered
#   tls12     the client certificate but max_version TLS12: refused by a
#             TLS 1.3-only target, nothing is delivered
#   inline    ca, cert and key as PEM text (from the environment): delivered
#   proxied   through a CONNECT proxy (tests/fakes/connect_proxy.py) whose
#             CONNECT must carry proxy_connect_header: delivered
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL
command -v openssl >/dev/null || { echo "openssl missing: run scripts/install-deps.sh"; exit 77; }
trap 'rm -rf "$tmp"; for p in "$pid" "$tpid" "$cpid"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done' EXIT
cd "$tmp" || exit 1
# a CA, the target's certificate for 127.0.0.1, a client certificate
ossl() { openssl "$@" >>"$tmp/openssl.log" 2>&1 || { echo "openssl $1 failed: $(tail -3 "$tmp/openssl.log")"; exit 1; }; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=pane-test-ca
ossl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1
printf 'subjectAltName=IP:127.0.0.1\n' >srv.ext
ossl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile srv.ext
ossl req -newkey rsa:2048 -nodes -keyout cli.key -out cli.csr -subj /CN=pane-notifier
ossl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cli.pem -days 2
ok

tp=$(free_port)
python3 "$PANE_SOURCE_ROOT/tests/fakes/webhook_fake.py" "$tp" --tls srv.pem srv.key ca.pem --tls13 >target.log 2>&1 &
tpid=$!
cp_=$(free_port)
python3 "$PANE_SOURCE_ROOT/tests/fakes/connect_proxy.py" "$cp_" >proxy.log 2>&1 &
cpid=$!
seen() { curl -fsS --cacert ca.pem --cert cli.pem --key cli.key "https://127.0.0.1:$tp/_received"; }
wait_for 10 seen -o /dev/null && ok || bad "the TLS target did not start: $(tail -3 target.log)"

cat >pane.yaml <<Y
alerting:
  route:
    receiver: hooks
    group_by: [alertname]
    group_wait: 1s
  receivers:
    - name: hooks
      webhook_configs:
        - url: https://127.0.0.1:$tp/mtls
          http_config:
            tls_config: {ca_file: ca.pem, cert_file: cli.pem, key_file: cli.key, min_version: TLS12}
        - url: https://127.0.0.1:$tp/nocert
          http_config:
            tls_config: {ca_file: ca.pem}
        - url: https://127.0.0.1:$tp/tls12
          http_config:
            tls_config: {ca_file: ca.pem, cert_file: cli.pem, key_file: cli.key, max_version: TLS12}
        - url: https://127.0.0.1:$tp/inline
          http_config:
            tls_config:
              ca: \${TLS_CA}
              cert: \${TLS_CERT}
              key: \${TLS_KEY}
        - url: https://127.0.0.1:$tp/proxied
          http_config:
            proxy_url: http://127.0.0.1:$cp_
            proxy_connect_header:
              X-Proxy-Token: ["\${PROXY_TOKEN}"]
            tls_config: {ca_file: ca.pem, cert_file: cli.pem, key_file: cli.key}
Y
export PROXY_TOKEN=proxy-tok-3
TLS_CA=$(cat ca.pem) TLS_CERT=$(cat cli.pem) TLS_KEY=$(cat cli.key)
export TLS_CA TLS_CERT TLS_KEY
serve_start "$tmp/serve.log" /healthz --config "$tmp/pane.yaml" --data-dir "$tmp/data" ||
  bad "pane did not start: $(tail -5 "$tmp/serve.log")"
code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$u/api/v2/alerts" -H 'Content-Type: application/json' \
  -d '[{"labels":{"alertname":"TlsCheck","severity":"page"}}]')
[ "$code" = 200 ] && ok || bad "POST /api/v2/alerts answered $code"
three() { [ "$(seen | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -ge 3 ]; }
wait_for 30 three && ok || bad "the mTLS receivers did not all deliver: $(seen); $(tail -5 "$tmp/serve.log")"
# the two that cannot connect tried and failed (counted per attempt)
failed() { curl -fsS "$u/metrics" | awk '/^pane_notifications_failed_total/ { s += $NF } END { exit !(s >= 2) }'; }
wait_for 30 failed && ok || bad "the receivers without a usable TLS setup did not fail: $(grep failed_total "$tmp/serve.log"; curl -fsS "$u/metrics" | grep notifications_failed)"
seen >seen.json
python3 - seen.json <<'P' && ok || bad "only the receivers with the client certificate and TLS 1.3 may deliver: $(cat seen.json)"
import json, sys
seen = json.load(open(sys.argv[1]))
if sorted(s["path"] for s in seen) != ["/inline", "/mtls", "/proxied"] or any(s["cn"] != "pane-notifier" or s["tls"] != "TLSv1.3" for s in seen):
    print(seen); sys.exit(1)
P
# the proxied one went through a CONNECT that carried proxy_connect_header
curl -fsS "http://127.0.0.1:$cp_/_connects" >connects.json
python3 - connects.json "$tp" <<'P' && ok || bad "the CONNECT did not carry proxy_connect_header: $(cat connects.json)"
import json, sys
c = json.load(open(sys.argv[1]))
if [x["target"] for x in c] != ["127.0.0.1:" + sys.argv[2]] or c[0]["headers"].get("X-Proxy-Token") != "proxy-tok-3":
    print(c); sys.exit(1)
P
# and the secret never shows in the configuration pane prints
curl -fsS "$u/api/v2/status" | grep -q 'proxy-tok-3' && bad "proxy_connect_header's value shows in /api/v2/status" || ok
serve_stop || bad "pane serve did not stop cleanly"
finish
