#!/usr/bin/env bash
# test.sh - build, start what the tests need, run every test, stop it all.
#
#   scripts/test.sh            the normal build (build/), warnings as errors
#   scripts/test.sh --asan     AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)
#   extra arguments after the mode go to 'meson test' (e.g. a suite: --suite unit)
#                          (PostgreSQL is started unless only --suite unit, net or lint are asked for)
#   PANE_BUILD_DIR=build-x      use build-x/ (and build-x-asan/) instead of build/
#
# Ends with the line "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

mode=normal
if [ "${1:-}" = "--asan" ]; then mode=asan; shift; fi
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi

scripts/install-deps.sh || exit 1

if [ $mode = asan ]; then
  builddir=${PANE_BUILD_DIR:-build}-asan
  setup_args=(-Dwerror=true -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false)
  mult=4
else
  builddir=${PANE_BUILD_DIR:-build}
  setup_args=(-Dwerror=true)
  mult=1
fi
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" "${setup_args[@]}" >"$root/.meson-setup.log" 2>&1 || { tail -20 "$root/.meson-setup.log"; echo "meson setup failed"; echo "0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$builddir" >"$builddir/ninja.log" 2>&1; then
  grep -E 'error|FAILED' -A5 "$builddir/ninja.log" | head -60
  echo "build failed (full log: $builddir/ninja.log)"
  echo "0 passed, 1 failed"
  exit 1
fi

# PostgreSQL is started unless only suites that do not need it were asked
# for (--suite unit, net, lint; tests/meson.build names the suites)
need_pg=1
suites=() prev=
for a in "$@"; do
  if [ "$prev" = --suite ]; then suites+=("$a"); fi
  case "$a" in --suite=*) suites+=("${a#--suite=}") ;; esac
  prev=$a
done
if [ ${#suites[@]} -gt 0 ]; then
  need_pg=0
  for su in "${suites[@]}"; do
    case "$su" in unit|net|lint) ;; *) need_pg=1 ;; esac
  done
  # a test named besides the suites may need it
  for a in "$@"; do
    case "$a" in --suite|--suite=*|-*) ;; *) [[ " ${suites[*]} " == *" $a "* ]] || need_pg=1 ;; esac
  done
fi
pgdir=$(mktemp -d /tmp/pane-test-pg.XXXXXX)
rmdir "$pgdir"
cleanup() {
  [ $need_pg = 1 ] && scripts/pg.sh stop "$pgdir" >/dev/null 2>&1
  rm -rf "$pgdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ $need_pg = 1 ]; then
  if ! env_lines=$(scripts/pg.sh start "$pgdir"); then
    echo "could not start the test PostgreSQL"
    echo "0 passed, 1 failed"
    exit 1
  fi
  eval "$env_lines"
  echo "test PostgreSQL: $DATABASE_URL"
else
  unset DATABASE_URL
  echo "no PostgreSQL: suites ${suites[*]} do not need it"
fi

rm -f "$builddir/meson-logs/testlog.json"
meson test -C "$builddir" --no-rebuild --print-errorlogs --timeout-multiplier "$mult" "$@"
status=$?

read -r passed failed skipped < <(python3 - "$builddir/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = s = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            p += 1
        elif r == "SKIP":
            s += 1
        else:
            f += 1
except FileNotFoundError:
    f = 1
print(p, f, s)
PY
)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
