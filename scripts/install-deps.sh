#!/usr/bin/env bash
# install-deps.sh - install exactly the Debian packages pane needs that are missing.
#
# Idempotent and quiet: it asks dpkg which packages are already installed and
# calls apt-get only for the rest, so a second run costs a fraction of a second.
#
#   scripts/install-deps.sh            build + test + demo dependencies
#   scripts/install-deps.sh --bench    also the peers the benchmarks compare with
#   scripts/install-deps.sh --list     print the package list and exit
#
# Runs as root on Debian 12 (as CI and a fresh machine do). As another user it
# only reports what is missing and what to run.
set -euo pipefail

core=(
  build-essential pkg-config meson ninja-build
  libpq-dev libcurl4-openssl-dev libmicrohttpd-dev libjansson-dev
  libsqlite3-dev libyaml-dev libzstd-dev libpcre2-dev
  libprotobuf-c-dev protobuf-c-compiler libsnappy-dev libcmocka-dev
  postgresql-15 postgresql-client-15 curl ca-certificates
  clang libclang-rt-14-dev
)
bench=(wrk hyperfine prometheus victoria-metrics prometheus-node-exporter nodejs npm)

want=("${core[@]}")
case "${1:-}" in
  --bench) want+=("${bench[@]}") ;;
  --list) printf '%s\n' "${core[@]}"; printf '%s (--bench)\n' "${bench[@]}"; exit 0 ;;
  "") ;;
  -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "install-deps.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  # node/npm may come from outside Debian (the image ships its own); accept a working binary.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "pane: missing Debian packages: ${missing[*]}" >&2
  echo "pane: run 'sudo scripts/install-deps.sh' (or install them yourself) and try again" >&2
  exit 1
fi

echo "pane: installing ${#missing[@]} Debian package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
stamp=/var/lib/apt/periodic/pane-update-stamp
if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +360 2>/dev/null)" ] ||
   ! apt-cache show "${missing[0]}" >/dev/null 2>&1; then
  apt-get update -qq
  mkdir -p "$(dirname "$stamp")" && touch "$stamp"
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "pane: packages installed"
