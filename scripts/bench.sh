#!/usr/bin/env bash
# bench.sh - run every side-by-side benchmark in bench/ (see bench/README.md).
# Each benchmark is a script bench/run-*.sh that starts what it needs, prints
# its figures next to the peer's, and stops everything it started.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
found=0
for b in bench/run-*.sh; do
  [ -e "$b" ] || continue
  found=1
  echo "== $b"
  bash "$b" || echo "(failed: $b)"
done
[ $found -eq 1 ] || echo "no benchmarks yet: they are added as bench/run-*.sh"
