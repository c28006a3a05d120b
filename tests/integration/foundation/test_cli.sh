#!/usr/bin/env bash
# test_cli.sh - the pane binary end to end: help, version, usage errors (exit 2),
# config errors naming file:line and key, and `pane serve` answering /healthz,
# /readyz and /metrics, reloading on POST /-/reload and SIGHUP, then stopping
# cleanly on SIGTERM.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"

expect_status 0 "$bin" --help
expect_in "$tmp/out" "commands:"
expect_in "$tmp/out" "serve"
expect_status 0 "$bin" --version
expect_in "$tmp/out" "pane 0."
expect_status 2 "$bin"
expect_in "$tmp/err" "no command given"
expect_status 2 "$bin" frobnicate
expect_in "$tmp/err" "unknown command 'frobnicate'"
expect_status 2 "$bin" --bogus
expect_status 2 "$bin" --log-level loud serve
for c in serve worker enqueue jobs migrate query logs events import demo bench rules; do
  expect_status 0 "$bin" "$c" --help
  expect_in "$tmp/out" "usage: pane $c"
done
expect_status 2 "$bin" serve --no-such-flag
expect_in "$tmp/err" "pane serve: option '--no-such-flag' is unknown"
expect_in "$tmp/err" "usage: pane serve"
expect_status 2 "$bin" serve extra-arg

# config errors: YAML syntax, missing key, unset variable, unknown section, bad value
printf 'server:\n  listen: [oops\n' >"$tmp/syntax.yaml"
expect_status 1 "$bin" serve --config "$tmp/syntax.yaml"
expect_in "$tmp/err" "syntax.yaml:"
expect_in "$tmp/err" "YAML syntax error"
printf 'server:\n  listen: ${PANE_SURELY_UNSET_VAR}\n' >"$tmp/unset.yaml"
expect_status 1 "$bin" serve --config "$tmp/unset.yaml"
expect_in "$tmp/err" "unset.yaml:2: server.listen: environment variable PANE_SURELY_UNSET_VAR is not set"
printf 'server:\n  listen: 127.0.0.1:1\nsourcse: {}\n' >"$tmp/section.yaml"
expect_status 1 "$bin" serve --config "$tmp/section.yaml"
expect_in "$tmp/err" "section.yaml:3: sourcse: unknown section"
printf 'server:\n  idle_timeout: forever\n' >"$tmp/value.yaml"
expect_status 1 "$bin" serve --config "$tmp/value.yaml"
expect_in "$tmp/err" "value.yaml:2: server.idle_timeout: 'forever' is not a duration"
expect_status 1 "$bin" serve --config "$tmp/missing.yaml"
expect_in "$tmp/err" "missing.yaml: cannot open"

# serve on defaults answers health, readiness and metrics, and stops on SIGTERM
serve_start "$tmp/serve.log" /healthz --data-dir "$tmp/data" && ok || bad "pane serve did not answer /healthz: $(cat "$tmp/serve.log")"
curl -sS "$u/healthz" >"$tmp/health"
expect_in "$tmp/health" '"status":"ok"'
curl -sS "$u/readyz" >"$tmp/ready"
expect_in "$tmp/ready" '"data_dir":"ok"'
curl -sS "$u/metrics" >"$tmp/metrics"
expect_in "$tmp/metrics" "# TYPE pane_http_requests_total counter"
expect_in "$tmp/metrics" "pane_uptime_seconds"
code=$(curl -s -o /dev/null -w '%{http_code}' "$u/no/such/thing")
[ "$code" = 404 ] && ok || bad "unknown path answered $code"
serve_stop && ok || bad "pane serve exited $? after SIGTERM"
expect_in "$tmp/serve.log" "msg=stopped"
[ -d "$tmp/data" ] && ok || bad "data directory was not created"

# reload: POST /-/reload and SIGHUP re-read pane.yaml; a bad file is refused
# with file:line and the daemon keeps running on what it had
printf 'log:\n  level: info\n' >"$tmp/reload.yaml"
serve_start "$tmp/reload.log" /healthz --config "$tmp/reload.yaml" --data-dir "$tmp/data2" && ok || bad "pane serve did not start: $(cat "$tmp/reload.log")"
code=$(curl -s -o "$tmp/rl1" -w '%{http_code}' -X POST "$u/-/reload")
[ "$code" = 200 ] && ok || bad "POST /-/reload answered $code: $(cat "$tmp/rl1")"
expect_in "$tmp/rl1" '"status":"reloaded"'
printf 'log:\n  level: info\nsourcse: {}\n' >"$tmp/reload.yaml"
code=$(curl -s -o "$tmp/rl2" -w '%{http_code}' -X POST "$u/-/reload")
[ "$code" = 400 ] && ok || bad "a bad reload answered $code: $(cat "$tmp/rl2")"
expect_in "$tmp/rl2" 'reload.yaml:3: sourcse: unknown section'
kill -HUP "$pid"
for _ in $(seq 1 100); do grep -q 'reload failed' "$tmp/reload.log" && break; sleep 0.05; done
expect_in "$tmp/reload.log" 'msg="reload failed; the previous configuration keeps running"'
curl -sS "$u/healthz" >"$tmp/health2"
expect_in "$tmp/health2" '"status":"ok"'
serve_stop && ok || bad "pane serve exited $? after SIGTERM (after reloads)"

finish
