#!/usr/bin/env bash
# install-deps.sh - install exactly what pane needs that is missing.
#
# Debian packages come from the lists in scripts/deps/: every *.txt except
# bench-*.txt always, bench-*.txt too with --bench. npm packages: each line
# of scripts/deps/*.npm names a folder (relative to the repository) with a
# package.json and package-lock.json; `npm ci` runs there when node_modules
# is missing or older than the lock file.
#
# Idempotent and quiet: dpkg is asked what is installed and apt-get runs only
# for the rest, so a second run costs a fraction of a second.
#
#   scripts/install-deps.sh            build, test and demo dependencies
#   scripts/install-deps.sh --demo     only what building pane and 'make demo' need:
#                                      core*.txt and core*.npm (no test peers)
#   scripts/install-deps.sh --bench    also what the benchmarks compare with
#   scripts/install-deps.sh --list     print the package lists and exit
#
# Runs as root on Debian 12 (as CI and a fresh machine do). As another user
# it only reports what is missing and what to run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
depdir="$root/scripts/deps"

bench=0
demo=0
case "${1:-}" in
  --bench) bench=1 ;;
  --demo) demo=1 ;;
  --list) grep -hv '^\s*#' "$depdir"/*.txt | sed '/^\s*$/d'; exit 0 ;;
  "") ;;
  -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "install-deps.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac

lists=()
for f in "$depdir"/*.txt; do
  case "$(basename "$f")" in bench-*) [ $bench -eq 1 ] || continue ;; esac
  case "$(basename "$f")" in core*) ;; *) [ $demo -eq 1 ] && continue ;; esac
  lists+=("$f")
done
mapfile -t want < <(grep -hv '^\s*#' "${lists[@]}" | sed 's/\s*#.*//; /^\s*$/d' | sort -u)

missing=()
for p in "${want[@]}"; do
  case "$p" in
    # the machine image may ship its own Node.js; accept a working binary
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "pane: missing Debian packages: ${missing[*]}" >&2
    echo "pane: run 'sudo scripts/install-deps.sh' (or install them yourself) and try again" >&2
    exit 1
  fi
  echo "pane: installing ${#missing[@]} Debian package(s): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  stamp=/var/lib/apt/periodic/pane-update-stamp
  if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +360 2>/dev/null)" ] ||
     ! apt-cache show "${missing[0]}" >/dev/null 2>&1; then
    apt-get update -qq -o DPkg::Lock::Timeout=900 >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
    mkdir -p "$(dirname "$stamp")" && touch "$stamp"
  fi
  if ! apt-get install -y -qq -o DPkg::Lock::Timeout=900 --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    echo "pane: apt-get install failed" >&2
    exit 1
  fi
  rm -f "$log"
  # services some packages start on install (prometheus, node-exporter...) are
  # not wanted: tests and benchmarks start their own instances on free ports
  for svc in prometheus prometheus-node-exporter victoria-metrics; do
    if printf '%s\n' "${missing[@]}" | grep -qx "$svc"; then
      (systemctl disable --now "$svc" || service "$svc" stop) >/dev/null 2>&1 || true
    fi
  done
  echo "pane: packages installed"
fi

shopt -s nullglob
for f in "$depdir"/*.npm; do
  case "$(basename "$f")" in bench-*) [ $bench -eq 1 ] || continue ;; esac
  case "$(basename "$f")" in core*) ;; *) [ $demo -eq 1 ] && continue ;; esac
  while read -r dir; do
    case "$dir" in ''|'#'*) continue ;; esac
    d="$root/$dir"
    [ -f "$d/package.json" ] || { echo "pane: $f names $dir, which has no package.json" >&2; exit 1; }
    if [ ! -d "$d/node_modules" ] || { [ -f "$d/package-lock.json" ] && [ "$d/package-lock.json" -nt "$d/node_modules" ]; }; then
      echo "pane: installing npm packages in $dir"
      if [ -f "$d/package-lock.json" ]; then
        (cd "$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || exit 1
      else
        (cd "$d" && npm install --no-audit --no-fund --loglevel=error >/dev/null) || exit 1
      fi
      touch "$d/node_modules"
    fi
  done <"$f"
done
