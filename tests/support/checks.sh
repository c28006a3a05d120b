# checks.sh - what the shell tests share; source it first:
#   . "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
# Gives $bin (the pane binary), $tmp (removed at exit), check counting
# (ok, bad, expect_in, expect_status, finish), a free loopback port and a
# `pane serve` started in the background (serve_start), killed at exit if
# the test did not stop it.
set -u
bin=${PANE_BIN:?run through meson test}
tmp=$(mktemp -d)
pid=
trap 'rm -rf "$tmp"; [ -n "$pid" ] && kill "$pid" 2>/dev/null' EXIT
fails=0
checks=0
ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }
expect_in() { # file text
  if grep -qF -- "$2" "$1"; then ok; else bad "'$2' not in $1: $(head -5 "$1")"; fi
}
expect_status() { # want cmd...  (stdout in $tmp/out, stderr in $tmp/err)
  local want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "$* exited $got, want $want: $(head -3 "$tmp/err")"; fi
}
# wait_for SECONDS CMD...: runs CMD every 0.1 s until it succeeds (0) or
# SECONDS have passed (1)
wait_for() {
  local n=$(($1 * 10)); shift
  for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
  return 1
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# serve_start LOG PATH ARGS...: `pane serve ARGS --listen 127.0.0.1:$port` in
# the background (output to LOG); sets $pid, $port and $u (its base URL) and
# waits up to 10 s for PATH (/healthz, /readyz) to answer 2xx. 0 when up.
serve_start() {
  local log=$1 path=$2; shift 2
  port=$(free_port)
  u="http://127.0.0.1:$port"
  "$bin" serve "$@" --listen "127.0.0.1:$port" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do
    curl -fsS "$u$path" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
# serve_stop: SIGTERM, wait; its exit status.
serve_stop() {
  kill -TERM "$pid"
  wait "$pid"; local st=$?
  pid=
  return $st
}
finish() {
  echo "$checks checks, $fails failed"
  [ "$fails" -eq 0 ]
}
