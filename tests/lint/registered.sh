#!/usr/bin/env bash
# registered.sh - fail when a test or a fuzz corpus is not wired into the build:
# every tests/**/test_*.c and test_*.sh must be named in the meson.build of its
# folder ('test_x', 'test_x.c', or 'x' in a list joined as 'test_' + t), and every tests/fuzz/corpus/NAME must have
# a fuzz target NAME in tests/fuzz/meson.build. A test that meson never runs
# passes forever without saying so.
set -u
root="${PANE_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
bad=0
while IFS= read -r f; do
  dir=$(dirname "$f")
  base=$(basename "$f")
  stem=${base%.*}
  mb="$dir/meson.build"
  short=${stem#test_}
  if [ ! -f "$mb" ] || ! { grep -qE "['\"]${stem}(\\.(c|sh))?['\"]" "$mb" ||
    { grep -qE "['\"]test_['\"] *\+" "$mb" && grep -qE "['\"]${short}['\"]" "$mb"; }; }; then
    echo "not registered in ${mb#"$root"/}: ${f#"$root"/}"
    bad=1
  fi
done < <(find "$root/tests" -type f \( -name 'test_*.c' -o -name 'test_*.sh' \) -not -path '*/node_modules/*' | sort)
if [ -d "$root/tests/fuzz/corpus" ]; then
  for d in "$root"/tests/fuzz/corpus/*/; do
    [ -d "$d" ] || continue
    name=$(basename "$d")
    if ! grep -qE "['\"]${name}['\"]" "$root/tests/fuzz/meson.build"; then
      echo "fuzz corpus without a target in tests/fuzz/meson.build: tests/fuzz/corpus/$name"
      bad=1
    fi
  done
fi
if [ "$bad" -ne 0 ]; then
  echo "register each test in its folder's meson.build (see DEVELOPERS.md), or delete it"
  exit 1
fi
echo "every test_*.c / test_*.sh and fuzz corpus is registered"
