#!/usr/bin/env bash
# format.sh - fail when a C file in the tree is not laid out as .clang-format
# says (STYLE habit 15: formatter configs committed, the tree kept clean). The fix is
# `clang-format -i FILE`; the message lists the files and the first lines
# that differ.
set -u
root="${PANE_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root" || exit 1
command -v clang-format >/dev/null || { echo "clang-format is missing: run scripts/install-deps.sh"; exit 1; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.c' '*.h')
else
  mapfile -t files < <(find src include tests bench -name node_modules -prune -o \( -name '*.c' -o -name '*.h' \) -print)
fi
# one clang-format process for the whole tree (a process a file took over
# 30 s on a loaded machine); the per-file pass below only names the culprits
present=()
for f in "${files[@]}"; do [ -f "$f" ] && present+=("$f"); done
if clang-format --style=file --dry-run --Werror "${present[@]}" >/dev/null 2>&1; then
  echo "${#present[@]} C files laid out as .clang-format says"
  exit 0
fi
bad=0
for f in "${present[@]}"; do
  [ -f "$f" ] || continue
  if ! clang-format --style=file "$f" | cmp -s - "$f"; then
    [ $bad -eq 0 ] && echo "not laid out as .clang-format says (fix: clang-format -i FILE):"
    echo "  $f"
    clang-format --style=file "$f" | diff "$f" - | head -6 | sed 's/^/    /'
    bad=$((bad + 1))
  fi
done
[ $bad -eq 0 ] || { echo "$bad file(s) to format"; exit 1; }
echo "${#files[@]} C files laid out as .clang-format says"
