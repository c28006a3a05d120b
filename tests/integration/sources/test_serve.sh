#!/usr/bin/env bash
# test_serve.sh - `pane serve` with a sources section: config mistakes stop
# the daemon at start with FILE:LINE: key messages; a good section starts
# (the sources run when a store is attached and are reported disabled
# without one; running ones are listed in /readyz), and the daemon still
# stops cleanly on SIGTERM.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"

# a secret written into the file
cat >"$tmp/bad1.yaml" <<'Y'
sources:
  db:
    type: postgres
    url: postgres://user:hunter2@127.0.0.1/x
Y
"$bin" serve --config "$tmp/bad1.yaml" --listen 127.0.0.1:0 --data-dir "$tmp/d1" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && ok || bad "secret in file: want exit 1"
expect_in "$tmp/err" "bad1.yaml:4: sources.db.url: secrets are read only from the environment"

# an unknown type and a missing variable
printf 'sources:\n  thing:\n    interval: 1m\n' >"$tmp/bad2.yaml"
"$bin" serve --config "$tmp/bad2.yaml" --listen 127.0.0.1:0 --data-dir "$tmp/d2" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && ok || bad "unknown type: want exit 1"
expect_in "$tmp/err" "sources.thing: unknown source type 'thing'"
printf 'sources:\n  queue:\n    url: ${PT_SURELY_UNSET_VAR}\n' >"$tmp/bad3.yaml"
"$bin" serve --config "$tmp/bad3.yaml" --listen 127.0.0.1:0 --data-dir "$tmp/d3" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && ok || bad "unset variable: want exit 1"
expect_in "$tmp/err" "PT_SURELY_UNSET_VAR"

# a good section: starts, says what it does with the sources, stops cleanly
printf 'sources:\n  queue:\n    url: ${PT_QUEUE_URL}\n    interval: 1s\n' >"$tmp/good.yaml"
PT_QUEUE_URL="${DATABASE_URL:-postgres://127.0.0.1:1/none}" serve_start "$tmp/log" /healthz \
  --config "$tmp/good.yaml" --data-dir "$tmp/d4" && ok ||
  bad "pane serve with sources did not answer /healthz: $(tail -5 "$tmp/log")"
if grep -qF "sources are disabled without a store" "$tmp/log"; then ok
elif grep -qF 'msg="source started" source=queue' "$tmp/log"; then ok
else bad "no word about the sources in the log: $(tail -5 "$tmp/log")"; fi
# /readyz lists the running sources (informational: readiness is pane's own)
if grep -qF 'msg="source started" source=queue' "$tmp/log"; then
  want='"queue":{"type":"queue","status":"'
  for _ in $(seq 1 100); do
    curl -sS "$u/readyz" >"$tmp/ready" 2>/dev/null
    grep -qF "$want" "$tmp/ready" && break
    sleep 0.1
  done
  expect_in "$tmp/ready" "\"sources\":{$want"
  expect_in "$tmp/ready" '"collections":'
fi
serve_stop && ok || bad "pane serve exited $? after SIGTERM"
expect_in "$tmp/log" "stopped"

# pane demo with DATABASE_URL watches its own database with the sources
if [ -n "${DATABASE_URL:-}" ]; then
  port=$(free_port)
  "$bin" demo --listen "127.0.0.1:$port" --data-dir "$tmp/d5" >"$tmp/demo" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do grep -q "Press Ctrl-C" "$tmp/demo" 2>/dev/null && break; sleep 0.1; done
  expect_in "$tmp/demo" "  sources       "
  if grep -qF "sources are disabled without a store: 2 configured source(s)" "$tmp/demo"; then ok
  elif grep -qF 'msg="source started" source=postgres' "$tmp/demo"; then ok
  else bad "demo did not set up its sources: $(tail -5 "$tmp/demo")"; fi
  kill -TERM "$pid"; wait "$pid"; pid=
fi

finish
