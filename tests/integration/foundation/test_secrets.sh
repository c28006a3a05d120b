#!/usr/bin/env bash
# test_secrets.sh - passwords never leave pane: a malformed DATABASE_URL (which
# libpq echoes whole) and a scrape target with user:password@ must not show up
# in pane migrate's error, /readyz, jobs API 503 bodies, /metrics or the log.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"

db_secret=s3cretPW41
scrape_secret=scr4peUSERpw
bad_url="postgresql://app:$db_secret@[::1/db"

expect_absent() { # file secret what
  if grep -qF -- "$2" "$1"; then bad "$3 shows the password: $(grep -F -- "$2" "$1" | head -2)"; else ok; fi
}

# pane migrate
expect_status 1 "$bin" migrate --database-url "$bad_url"
expect_in "$tmp/err" "cannot connect to PostgreSQL"
expect_in "$tmp/err" "postgresql://app:***@"
expect_absent "$tmp/err" "$db_secret" "pane migrate"

# pane serve with the same URL and a scrape target that fails (nothing listens there)
closed=$(free_port)
cat >"$tmp/pane.yaml" <<YAML
scrape:
  interval: 1s
  timeout: 1s
  targets:
    - url: http://scraper:$scrape_secret@127.0.0.1:$closed/metrics
      job: secretjob
YAML
export DATABASE_URL="$bad_url"
if serve_start "$tmp/serve.log" /healthz --config "$tmp/pane.yaml" --data-dir "$tmp/data"; then ok; else bad "pane serve did not start: $(tail -5 "$tmp/serve.log")"; fi

curl -sS "$u/readyz" >"$tmp/ready"
expect_in "$tmp/ready" "not_ready"
expect_absent "$tmp/ready" "$db_secret" "/readyz"

curl -sS -o "$tmp/job" -w '%{http_code}' "$u/v1/jobs/1" >"$tmp/job_status"
expect_in "$tmp/job_status" "503"
expect_in "$tmp/job" "***"
expect_absent "$tmp/job" "$db_secret" "GET /v1/jobs/1 (503)"

# wait (bounded) until a scrape has failed, then look at /metrics
for _ in $(seq 1 200); do
  curl -sS "$u/metrics" >"$tmp/metrics"
  grep -q '^pane_scrape_failures_total{.*} [1-9]' "$tmp/metrics" && break
  sleep 0.05
done
expect_in "$tmp/metrics" "pane_scrape_failures_total"
expect_in "$tmp/metrics" "127.0.0.1:$closed"
expect_absent "$tmp/metrics" "$scrape_secret" "/metrics"

serve_stop || bad "pane serve did not stop cleanly"
expect_in "$tmp/serve.log" "scrape"
expect_absent "$tmp/serve.log" "$db_secret" "the log"
expect_absent "$tmp/serve.log" "$scrape_secret" "the log"
finish
