#!/usr/bin/env bash
# run-outputs.sh - forwarding benchmark (see bench/README.md, "outputs"):
#   the same remote_write stream (receivers_bench's 2000-sample requests)
#   pushed to `pane serve` with a remote_write output and to Debian's vmagent,
#   both forwarding to the same Debian VictoriaMetrics. Measures CPU seconds
#   per million samples forwarded, peak RSS, and the backlog drain time after
#   an outage of VictoriaMetrics (default 60 s) during which the stream goes
#   on; checks that VictoriaMetrics received every sample (0 lost).
#   bench/run-outputs.sh [--quick]     (REQS=500 OUTAGE_S=60 RATE=20 to tune)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
quick=0; [ "${1:-}" = "--quick" ] && quick=1
export REQS=${REQS:-$([ $quick = 1 ] && echo 100 || echo 500)}
export OUTAGE_S=${OUTAGE_S:-$([ $quick = 1 ] && echo 10 || echo 60)}
export RATE=${RATE:-20}
builddir=${PANE_BUILD_DIR:-build}
[ -f "$builddir/build.ninja" ] || meson setup "$builddir" >/dev/null
ninja -C "$builddir" pane bench/receivers_bench >/dev/null
PANE_BIN="$builddir/pane" RW_BIN="$builddir/bench/receivers_bench" exec python3 bench/outputs_bench.py
