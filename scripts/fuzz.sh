#!/usr/bin/env bash
# fuzz.sh - build the libFuzzer targets with clang (build-fuzz/) and run each
# for a fixed number of runs:  scripts/fuzz.sh [RUNS]   (default 20000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${1:-20000}
scripts/install-deps.sh
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzzers=true -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C build-fuzz >/dev/null
n=0
for t in build-fuzz/tests/fuzz/fuzz_*; do
  [ -f "$t" ] && [ -x "$t" ] || continue
  name=$(basename "$t")
  corpus="tests/fuzz/corpus/${name#fuzz_}"
  mkdir -p "build-fuzz/corpus-$name"
  echo "fuzzing $name for $runs runs"
  "$t" -runs="$runs" -max_len=65536 "build-fuzz/corpus-$name" $( [ -d "$corpus" ] && echo "$corpus" ) >/dev/null 2>"build-fuzz/$name.log" ||
    { tail -40 "build-fuzz/$name.log"; exit 1; }
  n=$((n + 1))
done
echo "$n fuzz target(s) ran clean"
