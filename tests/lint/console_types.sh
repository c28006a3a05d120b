#!/usr/bin/env bash
# console_types.sh - the console's TypeScript type-checks (tsc --noEmit with
# web/tsconfig.json). esbuild, which builds the bundle, strips types without
# checking them, so a type error would otherwise reach the browser unseen.
set -u
root="${PANE_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
tsc="$root/web/node_modules/.bin/tsc"
[ -x "$tsc" ] || { echo "typescript is missing under web/node_modules: run scripts/install-deps.sh"; exit 1; }
cd "$root/web" || exit 1
out=$("$tsc" --noEmit -p . 2>&1) || { echo "the console does not type-check:"; echo "$out" | head -40; exit 1; }
echo "the console type-checks"
