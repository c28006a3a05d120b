#!/usr/bin/env bash
# test_disk_full.sh - pane serve with its data directory on a full disk: a
# 4 MiB tmpfs mounted for the test. With the disk full, pushes of samples and
# logs and uploads are refused with 507 or 503 (never 2xx, never a crash),
# /healthz still answers; once space is freed new writes succeed and what was
# acknowledged before is still readable. Needs root (mount); otherwise, or
# when the mount fails, it is skipped (exit 77) and says why.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
[ -n "${DATABASE_URL:-}" ] || { echo "DATABASE_URL not set: skipping"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "not root: cannot mount a small tmpfs; skipping"; exit 77; }
mnt=$tmp/mnt
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=4m tmpfs "$mnt" 2>"$tmp/mount.err"; then
  echo "mount -t tmpfs failed ($(cat "$tmp/mount.err")): skipping"
  exit 77
fi
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; umount "$mnt" 2>/dev/null || umount -l "$mnt"; rm -rf "$tmp"' EXIT

base=${DATABASE_URL%/*}
db=pt_disk_full
psql -qAtX "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null || exit 1
export DATABASE_URL="$base/$db"
"$bin" migrate >/dev/null || { echo "migrate failed"; exit 1; }

# batch: every acknowledgement follows an fsync of the WAL, so a full disk is
# seen by the request that hits it
printf 'log:\n  level: warn\nstore:\n  wal_fsync: batch\n  self_metrics_interval: 0\nuploads:\n  fsync: true\n' >"$tmp/pane.yaml"
serve_start "$tmp/serve.log" /readyz --config "$tmp/pane.yaml" --data-dir "$mnt/data" && ok ||
  { bad "pane serve not ready: $(cat "$tmp/serve.log")"; finish; exit 1; }

now_ms=$(($(date +%s) * 1000))
# post PATH BODYFILE [CONTENT-TYPE]: prints the status code
post() {
  curl -sS -o "$tmp/resp" -w '%{http_code}' -X POST -H "Content-Type: ${3:-text/plain}" \
    --data-binary "@$2" "$u$1" 2>>"$tmp/curl.err" || true
}
# a block of N series named NAME at time T
series() { awk -v n="$2" -v t="$3" -v m="$1" 'BEGIN { for (i = 0; i < n; i++) printf "%s{i=\"%d\"} %d %.0f\n", m, i, i, t }'; }
logs() { awk -v n="$2" -v t="$3" -v tag="$1" 'BEGIN { for (i = 0; i < n; i++) printf "{\"ts\":%.0f,\"level\":\"info\",\"msg\":\"%s line %d padding padding padding padding\"}\n", t, tag, i }'; }

# 1. before: acknowledged writes
series before_full 50 "$now_ms" >"$tmp/s1"
st=$(post /api/v1/import/prometheus "$tmp/s1")
[[ $st == 2* ]] && ok || bad "samples before the disk filled: $st $(cat "$tmp/resp")"
logs before 20 "$now_ms" >"$tmp/l1"
st=$(post "/api/v1/push/jsonlines?service=diskfull" "$tmp/l1" application/x-ndjson)
[[ $st == 2* ]] && ok || bad "logs before the disk filled: $st $(cat "$tmp/resp")"
head -c 100000 /dev/urandom >"$tmp/up"
st=$(post /v1/uploads/diskfull "$tmp/up" application/octet-stream)
[ "$st" = 202 ] && ok || bad "upload before the disk filled: $st $(cat "$tmp/resp")"

# 2. fill the disk
dd if=/dev/zero of="$mnt/filler" bs=4k >/dev/null 2>&1
avail=$(df --output=avail -k "$mnt" | tail -1 | tr -d ' ')
[ "$avail" -eq 0 ] && ok || bad "the tmpfs is not full ($avail KiB left)"

# 3. while full: refused with 507 or 503, the server keeps answering
series during_full 2000 "$((now_ms + 1000))" >"$tmp/s2"
st=$(post /api/v1/import/prometheus "$tmp/s2")
echo "full disk: samples -> $st $(head -c 200 "$tmp/resp")"
[[ $st == 507 || $st == 503 ]] && ok || bad "samples on a full disk answered $st: $(cat "$tmp/resp")"
logs during 2000 "$((now_ms + 1000))" >"$tmp/l2"
st=$(post "/api/v1/push/jsonlines?service=diskfull" "$tmp/l2" application/x-ndjson)
echo "full disk: logs -> $st $(head -c 200 "$tmp/resp")"
[[ $st == 507 || $st == 503 ]] && ok || bad "logs on a full disk answered $st: $(cat "$tmp/resp")"
st=$(post /v1/uploads/diskfull "$tmp/up" application/octet-stream)
echo "full disk: upload -> $st $(head -c 200 "$tmp/resp")"
[[ $st == 507 || $st == 503 ]] && ok || bad "upload on a full disk answered $st: $(cat "$tmp/resp")"
st=$(curl -s -o /dev/null -w '%{http_code}' "$u/healthz")
[ "$st" = 200 ] && ok || bad "/healthz on a full disk answered $st"
kill -0 "$pid" 2>/dev/null && ok || bad "pane serve died on a full disk: $(tail -5 "$tmp/serve.log")"

# 4. space freed: new writes succeed (bounded retry: the store may take a
# moment to notice), the acknowledged ones are still there
rm -f "$mnt/filler"
series after_full 50 "$((now_ms + 2000))" >"$tmp/s3"
for _ in $(seq 1 100); do
  st=$(post /api/v1/import/prometheus "$tmp/s3")
  [[ $st == 2* ]] && break
  sleep 0.1
done
[[ $st == 2* ]] && ok || bad "samples after space was freed: $st $(cat "$tmp/resp")"
# the client retries the refused batch (Prometheus does): now it is taken
st=$(post /api/v1/import/prometheus "$tmp/s2")
[[ $st == 2* ]] && ok || bad "the refused samples, retried: $st $(cat "$tmp/resp")"
logs after 20 "$((now_ms + 2000))" >"$tmp/l3"
st=$(post "/api/v1/push/jsonlines?service=diskfull" "$tmp/l3" application/x-ndjson)
[[ $st == 2* ]] && ok || bad "logs after space was freed: $st $(cat "$tmp/resp")"
st=$(post /v1/uploads/diskfull "$tmp/up" application/octet-stream)
[ "$st" = 202 ] && ok || bad "upload after space was freed: $st $(cat "$tmp/resp")"

t=$((now_ms / 1000 + 3))
q() { curl -sS -G "$u/api/v1/query" --data-urlencode "query=$1" --data-urlencode "time=$t" >"$tmp/q"; }
q 'count(before_full)'
expect_in "$tmp/q" '"value":['"$t"',"50"]'
q 'count(after_full)'
expect_in "$tmp/q" '"value":['"$t"',"50"]'
q 'count(during_full)'
expect_in "$tmp/q" '"value":['"$t"',"2000"]'
curl -sS -G "$u/api/v1/logs" --data-urlencode 'query={service="diskfull"}' --data-urlencode "limit=1000" \
  --data-urlencode "start=$((now_ms / 1000 - 10))" --data-urlencode "end=$((now_ms / 1000 + 10))" >"$tmp/lq"
expect_in "$tmp/lq" "before line 19"
expect_in "$tmp/lq" "after line 19"
n=$(psql -qAtX "$DATABASE_URL" -c "SELECT count(*) FROM pane.jobs WHERE queue = 'diskfull'")
[ "$n" = 2 ] && ok || bad "uploads acknowledged: 2, jobs: $n"
# the refused upload left no partial file behind: two files and their .job sidecars
n=$(find "$mnt/data/uploads" -type f | wc -l)
[ "$n" = 4 ] && ok || bad "uploads acknowledged: 2, files: $n ($(find "$mnt/data/uploads" -type f))"

# 5. the same after a crash: the WAL written across the full disk replays
# with every acknowledged batch (kill -9: no clean stop empties the WAL)
kill -KILL "$pid"
wait "$pid" 2>/dev/null
pid=
serve_start "$tmp/serve2.log" /readyz --config "$tmp/pane.yaml" --data-dir "$mnt/data" && ok ||
  { bad "pane serve did not restart: $(cat "$tmp/serve2.log")"; finish; exit 1; }
q 'count(before_full)'
expect_in "$tmp/q" '"value":['"$t"',"50"]'
q 'count(after_full)'
expect_in "$tmp/q" '"value":['"$t"',"50"]'
q 'count(during_full)'
expect_in "$tmp/q" '"value":['"$t"',"2000"]'
curl -sS -G "$u/api/v1/logs" --data-urlencode 'query={service="diskfull"}' --data-urlencode "limit=1000" \
  --data-urlencode "start=$((now_ms / 1000 - 10))" --data-urlencode "end=$((now_ms / 1000 + 10))" >"$tmp/lq"
expect_in "$tmp/lq" "before line 19"
expect_in "$tmp/lq" "after line 19"

serve_stop && ok || bad "pane serve exited $? after SIGTERM: $(tail -5 "$tmp/serve2.log")"
finish
