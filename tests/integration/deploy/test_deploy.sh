#!/usr/bin/env bash
# test_deploy.sh - the deployment files, without a docker daemon or Render:
#   render.yaml: parses and keeps to Render's Blueprint fields (check_render.py);
#   Dockerfile: its runtime packages exist in Debian 12 (apt-cache show) and
#     provide every library `pane` links against (readelf NEEDED, dpkg -S);
#     it copies deploy/pane.yaml, runs as a non-root user, has a HEALTHCHECK
#     on /healthz and a VOLUME at the data directory;
#   deploy/pane.yaml: `pane serve` starts with it the way the image runs it,
#     answers /healthz, asks for the token off loopback, refuses to start
#     without PANE_TOKEN_ADMIN;
#   deploy/systemd units: systemd-analyze verify (when systemd is installed);
#   docs/deploy.md names the worker's real poll-only flag.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
unset DATABASE_URL
root=$PANE_SOURCE_ROOT

python3 "$root/tests/integration/deploy/check_render.py" "$root" "$bin" >"$tmp/render.out" 2>&1 && ok ||
  bad "render.yaml: $(cat "$tmp/render.out")"

# the Dockerfile's runtime stage: the apt-get install after the last FROM
df=$root/Dockerfile
runtime_pkgs=$(awk '/^FROM /{stage++} stage==2' "$df" |
  sed -n '/apt-get install/,/rm -rf/p' | tr ' \\' '\n\n' |
  grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|rf|useradd|mkdir|chown)$' | sort -u)
[ -n "$runtime_pkgs" ] && ok || bad "no runtime packages found in the Dockerfile"
# shellcheck disable=SC2086 # one apt-cache call for the whole list
apt-cache show --no-all-versions $runtime_pkgs >"$tmp/apt" 2>/dev/null
for p in $runtime_pkgs; do
  if grep -qx "Package: $p" "$tmp/apt"; then ok; else bad "Dockerfile: Debian has no package $p"; fi
done
ldd "$bin" >"$tmp/ldd"
for lib in $(readelf -d "$bin" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p'); do
  case $lib in ld-linux* | libasan* | libubsan* | liblsan* | libtsan*) continue ;; esac  # sanitizer builds
  path=$(awk -v l="$lib" '$1 == l {print $3}' "$tmp/ldd")
  echo "$lib $(readlink -f "$path") $path"
done >"$tmp/libs"
# shellcheck disable=SC2046 # one dpkg -S call for every path
dpkg -S $(awk '{print $2, $3}' "$tmp/libs") >"$tmp/owners" 2>/dev/null
while read -r lib real path; do
  pkg=$(grep -m1 -F -e ": $real" -e ": $path" "$tmp/owners" | cut -d: -f1)
  case " libc6 $(echo $runtime_pkgs) " in
    *" $pkg "*) ok ;;
    *) bad "pane needs $lib (${pkg:-no package}) but the Dockerfile's runtime stage does not install it" ;;
  esac
done <"$tmp/libs"
grep -q '^USER pane' "$df" && ok || bad "Dockerfile: not run as the pane user"
grep -q '^HEALTHCHECK .*' "$df" && grep -q '/healthz' "$df" && ok || bad "Dockerfile: no HEALTHCHECK on /healthz"
grep -q '^VOLUME \["/var/lib/pane"\]' "$df" && ok || bad "Dockerfile: no VOLUME at /var/lib/pane"
grep -q '^COPY deploy/pane.yaml /etc/pane/pane.yaml' "$df" && ok || bad "Dockerfile: does not ship deploy/pane.yaml"
grep -q 'CMD \["pane", "serve"' "$df" && ok || bad "Dockerfile: pane serve is not the default command"
for f in Dockerfile deploy/pane.yaml render.yaml; do  # nothing the build context needs is ignored
  grep -qx "$f" "$root/.dockerignore" && bad ".dockerignore hides $f" || ok
done

# deploy/pane.yaml as the image runs it
port=$(free_port)
PORT=$port PANE_DATA_DIR=$tmp/data PANE_TOKEN_ADMIN=test-token-0123456789 \
  "$bin" serve --config "$root/deploy/pane.yaml" >"$tmp/serve.log" 2>&1 &
pid=$!
u="http://127.0.0.1:$port"
for _ in $(seq 1 200); do curl -fsS "$u/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
curl -fsS "$u/healthz" >/dev/null && ok || bad "pane serve with deploy/pane.yaml: $(cat "$tmp/serve.log")"
expect_in "$tmp/serve.log" "listen=0.0.0.0:$port"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$u/api/v1/query?query=1")
[ "$code" = 401 ] && ok || bad "a query without the token answered $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer test-token-0123456789' "$u/api/v1/query?query=1")
[ "$code" = 200 ] && ok || bad "a query with the admin token answered $code"
serve_stop && ok || bad "pane serve did not stop cleanly"
env -u PANE_TOKEN_ADMIN PORT=$port PANE_DATA_DIR=$tmp/data "$bin" serve --config "$root/deploy/pane.yaml" \
  >"$tmp/out" 2>"$tmp/err"
[ $? -ne 0 ] && ok || bad "pane serve started without PANE_TOKEN_ADMIN"
expect_in "$tmp/err" "PANE_TOKEN_ADMIN"

# deploy/pane-worker-env (Render's worker command) passes the environment on
mkdir -p "$tmp/path" && ln -s "$bin" "$tmp/path/pane"
PATH="$tmp/path:$PATH" PANE_QUEUES=a PANE_WORKER_URL=http://127.0.0.1:9/x PANE_WORKER_ARGS=--help \
  "$root/deploy/pane-worker-env" >"$tmp/we" 2>&1 && ok || bad "pane-worker-env: $(head -3 "$tmp/we")"
expect_in "$tmp/we" "pane worker - run jobs"
env -u PANE_WORKER_URL PATH="$tmp/path:$PATH" PANE_QUEUES=a "$root/deploy/pane-worker-env" >"$tmp/we" 2>&1 &&
  bad "pane-worker-env ran without PANE_WORKER_URL" || ok
expect_in "$tmp/we" "set PANE_WORKER_URL"

# systemd units, with ExecStart pointing at the binary under test
if command -v systemd-analyze >/dev/null; then
  for f in "$root"/deploy/systemd/*.service; do
    sed "s|/usr/local/bin/pane|$bin|g" "$f" >"$tmp/$(basename "$f")"
  done
  (cd "$tmp" && systemd-analyze verify --man=no ./pane.service ./pane-worker@.service) >"$tmp/verify" 2>&1 &&
    ok || bad "systemd-analyze verify: $(cat "$tmp/verify")"
  grep -q '^NoNewPrivileges=yes' "$root/deploy/systemd/pane-worker@.service" && ok || bad "worker unit not hardened"
else
  echo "systemd-analyze is not installed: units not verified"
fi

# the poll-only flag docs/deploy.md tells Supabase pooler users about exists
"$bin" worker --help >"$tmp/wh" 2>&1
expect_in "$tmp/wh" "--poll-only"
expect_in "$root/docs/deploy.md" "--poll-only"
finish
