#!/bin/sh
# `pane rules test` against promtool: for every X.yml with an X.out in the
# rule-test directories, pane's output (stdout+stderr, then rc=N) must equal
# X.out, which is promtool 2.42's output for the same file. When promtool is
# installed it is run too, so an expectation can never drift from Prometheus.
set -u
root="${PANE_SOURCE_ROOT:?}"
pane="${PANE_BIN:?}"
have_promtool=0
command -v promtool >/dev/null 2>&1 && have_promtool=1
fail=0
n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# dupsort: the series list of "found duplicate series ...: [{...}, {...}]" sorted
dupsort() {
  python3 -c '
import re, sys
def fix(m):
    items = m.group(1)[1:-1].split("}, {")
    return "[{" + "}, {".join(sorted(items)) + "}]"
sys.stdout.write(re.sub(r"\[(\{.*?\})\]", fix, sys.stdin.read()))'
}
for dir in tests/alert/promtool tests/alert/own examples/rules; do
  [ -d "$root/$dir" ] || continue
  if [ -f "$root/$dir/check.args" ]; then # `pane rules check` against `promtool check rules`
    n=$((n + 1))
    args=$(cat "$root/$dir/check.args")
    # shellcheck disable=SC2086
    (cd "$root/$dir" && "$pane" rules check $args >"$tmp/pane" 2>&1; echo "rc=$?" >>"$tmp/pane")
    cmp -s "$root/$dir/check.out" "$tmp/pane" || { echo "FAIL pane rules check $args in $dir:"; diff "$root/$dir/check.out" "$tmp/pane" | head -40; fail=1; }
    if [ $have_promtool = 1 ]; then
      # shellcheck disable=SC2086
      (cd "$root/$dir" && promtool check rules $args >"$tmp/prom" 2>&1; echo "rc=$?" >>"$tmp/prom")
      cmp -s "$root/$dir/check.out" "$tmp/prom" || { echo "FAIL promtool check rules output changed in $dir"; diff "$root/$dir/check.out" "$tmp/prom" | head -20; fail=1; }
    fi
  fi
  for out in "$root/$dir"/*.out; do
    [ -f "$out" ] || continue
    name=$(basename "$out" .out)
    [ "$name" = check ] && continue
    n=$((n + 1))
    (cd "$root/$dir" && "$pane" rules test "$name.yml" >"$tmp/pane" 2>&1; echo "rc=$?" >>"$tmp/pane")
    if ! cmp -s "$out" "$tmp/pane"; then
      echo "FAIL pane rules test $dir/$name.yml differs from promtool's output:"
      diff "$out" "$tmp/pane" | head -40
      fail=1
    fi
    if [ $have_promtool = 1 ]; then
      (cd "$root/$dir" && promtool test rules "$name.yml" >"$tmp/prom" 2>&1; echo "rc=$?" >>"$tmp/prom")
      # promtool lists duplicate series in Go map order, which changes from
      # run to run: compare that list as a set
      dupsort <"$out" >"$tmp/want"; dupsort <"$tmp/prom" >"$tmp/got"
      if ! cmp -s "$tmp/want" "$tmp/got"; then
        echo "FAIL promtool's output for $dir/$name.yml is not $name.out any more:"
        diff "$out" "$tmp/prom" | head -40
        fail=1
      fi
    fi
  done
done
[ $n -gt 0 ] || { echo "no rule tests found"; exit 1; }
[ $have_promtool = 1 ] && echo "$n rule test files: pane and promtool agree" || echo "$n rule test files: pane matches the recorded promtool output (promtool not installed)"
exit $fail
