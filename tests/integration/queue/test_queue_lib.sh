#!/usr/bin/env bash
# test_queue_lib.sh - the C library as its users get it: `meson install`
# into a staging directory, then examples/queue-lib/thumbnailer.c compiled
# with only `pkg-config --cflags --libs pane-queue` (no -I src; the header
# included twice), run against the real PostgreSQL: a handler callback per
# job, results and a discarded job in the database.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
[ -n "${DATABASE_URL:-}" ] || { echo "DATABASE_URL not set: skipping"; exit 77; }
[ "${PANE_SANITIZE:-none}" = none ] || { echo "sanitizer build: the staged library needs the same runtime; skipping"; exit 77; }
base=${DATABASE_URL%/*}
db=pt_queue_lib
psql -qAtX "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null || exit 1
export DATABASE_URL="$base/$db"
stage="$tmp/stage"
meson install -C "${PANE_BUILD_ROOT:?}" --no-rebuild --destdir "$stage" >"$tmp/install.log" 2>&1 \
  && ok || bad "meson install: $(tail -5 "$tmp/install.log")"
pc=$(find "$stage" -name pane-queue.pc | head -1)
[ -n "$pc" ] && ok || bad "no pane-queue.pc installed"
hdr=$(find "$stage" -path '*/include/pane/queue.h' | head -1)
[ -n "$hdr" ] && ok || bad "no pane/queue.h installed"
# the staged copy is relocated: its prefix points into the staging directory
sed -i "s|^prefix=|prefix=$stage|" "$pc"
export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --cflags --libs pane-queue) && ok || bad "pkg-config pane-queue failed"
case " $flags " in *"/src "*|*"/src/"*) bad "pkg-config flags point into the source tree: $flags" ;; *) ok ;; esac
cc -std=c11 -Wall -Wextra -Werror "$PANE_SOURCE_ROOT/examples/queue-lib/thumbnailer.c" $flags -o "$tmp/thumbnailer" \
  2>"$tmp/cc.log" && ok || bad "compiling against the installed header: $(head -5 "$tmp/cc.log")"
libdir=$(dirname "$(find "$stage" -name 'libpane-queue.so' | head -1)")
LD_LIBRARY_PATH=$libdir "$tmp/thumbnailer" 6 >"$tmp/out" 2>"$tmp/err" && ok || bad "thumbnailer: $(tail -3 "$tmp/err")"
expect_in "$tmp/out" "handled 7 processed 6 failed 1"
q() { psql -qAtX "$DATABASE_URL" -c "$1"; }
[ "$(q "SELECT string_agg(result::text, ',' ORDER BY id) FROM pane.jobs_history WHERE state = 'completed'")" = \
  '{"side": 100, "attempt": 1},{"side": 101, "attempt": 1},{"side": 102, "attempt": 1},{"side": 103, "attempt": 1},{"side": 104, "attempt": 1},{"side": 105, "attempt": 1}' ] \
  && ok || bad "results: $(q "SELECT string_agg(result::text, ',' ORDER BY id) FROM pane.jobs_history")"
[ "$(q "SELECT attempt || ' ' || (errors->0->>'error') FROM pane.jobs_history WHERE state = 'failed'")" = '1 payload has no "w"' ] \
  && ok || bad "discarded job: $(q "SELECT errors FROM pane.jobs_history WHERE state = 'failed'")"
psql -qAtX "$base/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
echo "$checks checks, $fails failed"
[ "$fails" = 0 ]
