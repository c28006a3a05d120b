#!/usr/bin/env bash
# test_cli.sh - the pane binary end to end: help, version, usage errors (exit 2),
# config errors naming file:line and key, and `pane serve` answering /healthz,
# /readyz and /metrics, then stopping cleanly on SIGTERM.
set -u
bin=${PANE_BIN:?run through meson test}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null' EXIT
fails=0
checks=0
ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }
expect_status() { # want cmd...
  local want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "$* exited $got, want $want: $(head -3 "$tmp/err")"; fi
}
expect_in() { # file text
  if grep -qF -- "$2" "$1"; then ok; else bad "'$2' not in $1: $(head -5 "$1")"; fi
}

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
for c in serve worker enqueue jobs migrate query import demo bench; do
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
port=$(( (RANDOM % 20000) + 30000 ))
"$bin" serve --listen "127.0.0.1:$port" --data-dir "$tmp/data" >"$tmp/serve.log" 2>&1 &
pid=$!
up=0
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >"$tmp/health" 2>/dev/null; then up=1; break; fi
  sleep 0.05
done
if [ $up -eq 1 ]; then ok; else bad "pane serve did not answer /healthz: $(cat "$tmp/serve.log")"; fi
expect_in "$tmp/health" '"status":"ok"'
curl -sS "http://127.0.0.1:$port/readyz" >"$tmp/ready"
expect_in "$tmp/ready" '"data_dir":"ok"'
curl -sS "http://127.0.0.1:$port/metrics" >"$tmp/metrics"
expect_in "$tmp/metrics" "# TYPE pane_http_requests_total counter"
expect_in "$tmp/metrics" "pane_uptime_seconds"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/no/such/thing")
[ "$code" = 404 ] && ok || bad "unknown path answered $code"
kill -TERM "$pid"
wait "$pid"; st=$?
pid=
[ "$st" -eq 0 ] && ok || bad "pane serve exited $st after SIGTERM"
expect_in "$tmp/serve.log" "msg=stopped"
[ -d "$tmp/data" ] && ok || bad "data directory was not created"

echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]
