#!/usr/bin/env bash
# demo-fakes.sh - the simulated Render, Sentry and Supabase that 'make demo' shows.
#
#   scripts/demo-fakes.sh start DIR [LIVE]   start tests/fakes/{render,sentry,supabase}_fake.py
#                                            (and slack_fake.py, pagerduty_fake.py when present)
#                                            on free loopback ports with their test keys, wait
#                                            until each answers, and print
#                                              export PANE_DEMO_RENDER_URL=... (and the keys)
#                                            for eval; `pane demo` turns these into sources.
#                                            LIVE: seconds between new deploys, issues and log
#                                            lines (default 5; 0 = only the generated data).
#                                            With PANE_DEMO_STORY_T0 set (scripts/demo.sh) the
#                                            story drives Render and Sentry instead
#                                            (tests/fakes/story.py; PANE_DEMO_SPEED).
#                                            Logs and pid files go to DIR.
#   scripts/demo-fakes.sh stop DIR           stop the fakes started with DIR
#   scripts/demo-fakes.sh -h | --help
#
# The fakes follow the providers' documented APIs (see their headers); the keys
# are the fakes' own test keys, not secrets.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "demo-fakes.sh: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ours PID: the process runs and is one of our fakes (a pid file may be stale
# and its number taken by another program). A zombie has stopped already: an
# init that reaps slowly must not make us wait for it.
ours() {
  local st
  read -r st <"/proc/$1/stat" 2>/dev/null || return 1
  st=${st##*) }
  case "$st" in Z* | X*) return 1 ;; esac
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q 'tests/fakes/[a-z]*_fake\.py'
}

stop_all() { # DIR
  local f pid
  for f in "$1"/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    case "$pid" in '' | *[!0-9]*) rm -f "$f"; continue ;; esac
    if ours "$pid"; then
      kill -TERM "$pid" 2>/dev/null
      for _ in $(seq 1 50); do ours "$pid" || break; sleep 0.1; done
      ours "$pid" && kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$f"
  done
}

# start_fake NAME PING [ARGS...]: starts tests/fakes/NAME_fake.py on a free
# port with ARGS (three tries, in case another program takes the port first),
# waits until GET PING answers; prints the port.
start_fake() {
  local name=$1 ping=$2 port pid
  shift 2
  for _ in 1 2 3; do
    port=$(free_port) || return 1
    python3 "$root/tests/fakes/${name}_fake.py" "$port" "$@" </dev/null >"$dir/$name.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/$name.pid"
    for _ in $(seq 1 150); do
      if curl -fsS -o /dev/null "http://127.0.0.1:$port$ping" 2>/dev/null; then
        echo "$port"
        return 0
      fi
      ours "$pid" || break
      sleep 0.1
    done
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -f "$dir/$name.pid"
  done
  echo "demo-fakes.sh: the $name fake did not start: $(tail -3 "$dir/$name.log" 2>/dev/null)" >&2
  return 1
}

[ $# -ge 1 ] || { usage >&2; exit 2; }
cmd=$1; shift
case "$cmd" in -h | --help) usage; exit 0 ;; esac
[ $# -ge 1 ] || { echo "demo-fakes.sh: $cmd needs a directory" >&2; usage >&2; exit 2; }
dir=$1
case "$cmd" in
start)
  live=${2:-5}
  case "$live" in '' | *[!0-9.]*) die "LIVE must be a number of seconds, not '$live'" ;; esac
  command -v python3 >/dev/null || die "python3 is missing; run scripts/install-deps.sh"
  command -v curl >/dev/null || die "curl is missing; run scripts/install-deps.sh"
  mkdir -p "$dir" || die "cannot create $dir"
  stop_all "$dir"
  # with the story's clock set (PANE_DEMO_STORY_T0, scripts/demo.sh) the story
  # drives Render and Sentry (tests/fakes/story.py) instead of the random live mode
  story_live=$live
  [ -n "${PANE_DEMO_STORY_T0:-}" ] && story_live=0
  render=$(start_fake render /__fake/ping --live "$story_live") || { stop_all "$dir"; exit 1; }
  sentry=$(start_fake sentry /__fake/ping --live "$story_live") || { stop_all "$dir"; exit 1; }
  supabase=$(start_fake supabase /__fake/ping --live "$live") || { stop_all "$dir"; exit 1; }
  echo "export PANE_DEMO_RENDER_URL=http://127.0.0.1:$render/v1 PANE_DEMO_RENDER_KEY=rnd_test"
  echo "export PANE_DEMO_SENTRY_URL=http://127.0.0.1:$sentry PANE_DEMO_SENTRY_TOKEN=sntrys_test PANE_DEMO_SENTRY_ORG=acme"
  # the simulated Slack and PagerDuty (notifications, #16), once their fakes
  # exist: they log what they receive to DIR/slack.log and DIR/pagerduty.log
  # and list it at GET /_received; scripts/demo.sh routes alerts to them
  if [ -f "$root/tests/fakes/slack_fake.py" ] && [ -f "$root/tests/fakes/pagerduty_fake.py" ]; then
    slack=$(start_fake slack /_ping) || { stop_all "$dir"; exit 1; }
    pagerduty=$(start_fake pagerduty /_ping) || { stop_all "$dir"; exit 1; }
    echo "export PANE_DEMO_SLACK_URL=http://127.0.0.1:$slack PANE_DEMO_PAGERDUTY_URL=http://127.0.0.1:$pagerduty" \
      "PANE_DEMO_HOOK_LOGS=$dir"
  fi
  echo "export PANE_DEMO_SUPABASE_URL=http://127.0.0.1:$supabase PANE_DEMO_SUPABASE_TOKEN=sbp_test_token" \
    "PANE_DEMO_SUPABASE_KEY=sb_secret_test PANE_DEMO_SUPABASE_REF=abcdefghijklmnopqrst"
  ;;
stop)
  [ -d "$dir" ] && stop_all "$dir"
  exit 0
  ;;
*)
  usage >&2
  exit 2
  ;;
esac
