#!/usr/bin/env bash
# regen.sh - regenerate the PromQL corpus' data set and expected answers
# from Debian's Prometheus (scripts/deps/query.txt installs it).
#   tests/promql/regen.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v prometheus >/dev/null && command -v promtool >/dev/null || {
  echo "regen.sh: prometheus and promtool are needed: run scripts/install-deps.sh" >&2; exit 1; }
python3 "$here/gen_data.py" > "$here/data.om"
python3 "$here/regen.py"
