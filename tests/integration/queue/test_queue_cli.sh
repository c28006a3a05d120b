#!/usr/bin/env bash
# test_queue_cli.sh - the queue's commands end to end: help, usage errors
# (exit 2), clear failures (exit 1) that write nothing, human and --json
# output of migrate, enqueue and jobs.
. "${PANE_SOURCE_ROOT:?run through meson test}/tests/support/checks.sh"
[ -n "${DATABASE_URL:-}" ] || { echo "DATABASE_URL not set: skipping"; exit 77; }
base=${DATABASE_URL%/*}
db=pt_queue_cli
psql -qAtX "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null || exit 1
export DATABASE_URL="$base/$db"
count() { psql -qAtX "$DATABASE_URL" -c "$1"; }

for c in worker enqueue jobs migrate; do
  expect_status 0 "$bin" "$c" --help
  expect_in "$tmp/out" "usage: pane $c"
  expect_in "$tmp/out" "--database-url"
done

# before migrate: a clear hint
expect_status 1 "$bin" jobs stats
expect_in "$tmp/err" "pane migrate"
expect_status 1 "$bin" worker --queues a --builtin noop --drain
expect_in "$tmp/err" "run 'pane migrate' first"

# several processes migrating at once: one does the work, the others find it done
for i in 1 2 3 4; do "$bin" migrate >"$tmp/m$i" 2>&1 & done
wait
[ "$(cat "$tmp"/m? | grep -c 'migrated from version 0 to 7')" = 1 ] && ok || bad "concurrent migrate: $(cat "$tmp"/m?)"
[ "$(cat "$tmp"/m? | grep -c 'up to date')" = 3 ] && ok || bad "concurrent migrate: $(cat "$tmp"/m?)"
[ "$(count "SELECT count(*) FROM pane.schema_version")" = 7 ] && ok || bad "schema_version rows"
expect_status 0 "$bin" migrate
expect_in "$tmp/out" "up to date"
expect_status 2 "$bin" migrate --schema 'x;drop'
expect_in "$tmp/err" "not a valid name"
(unset DATABASE_URL; expect_status 2 "$bin" worker --queues a --builtin noop)
(unset DATABASE_URL; expect_status 1 "$bin" enqueue a)
expect_in "$tmp/err" "pass --database-url"
expect_status 1 "$bin" migrate --database-url postgresql://postgres@127.0.0.1:1/none
expect_in "$tmp/err" "cannot connect to PostgreSQL"

# enqueue: ids, stdin, unique keys, options
expect_status 0 "$bin" enqueue mail '{"to": "a@example.com"}'
id1=$(cat "$tmp/out")
[ "$id1" -gt 0 ] 2>/dev/null && ok || bad "enqueue printed '$id1'"
echo '{"from": "stdin"}' | "$bin" enqueue mail - --unique-key k1 --priority 5 --json >"$tmp/out" 2>"$tmp/err"
expect_in "$tmp/out" '{"id":'
echo '{}' | "$bin" enqueue mail - --unique-key k1 --json >"$tmp/out2" 2>"$tmp/err"
cmp -s "$tmp/out" "$tmp/out2" && ok || bad "unique key gave a second id: $(cat "$tmp/out" "$tmp/out2")"
expect_status 0 "$bin" enqueue mail --delay 1h --max-attempts 3 --timeout 30s
id3=$(cat "$tmp/out")

# bad input: clear errors, nothing written
before=$(count "SELECT count(*) FROM pane.jobs")
expect_status 1 "$bin" enqueue mail '{not json'
expect_in "$tmp/err" "not valid JSON"
expect_status 2 "$bin" enqueue mail --delay -5s
expect_in "$tmp/err" "must not be negative"
expect_status 2 "$bin" enqueue mail --delay soon
expect_status 2 "$bin" enqueue mail --priority high
expect_status 2 "$bin" enqueue mail --max-attempts 0
expect_status 2 "$bin" enqueue mail --run-at 2026-01-01T00:00:00Z --delay 5s
expect_status 2 "$bin" enqueue
expect_in "$tmp/err" "no queue given"
expect_status 2 "$bin" enqueue ''
expect_status 1 "$bin" enqueue mail --run-at 'not a time'
expect_in "$tmp/err" "pane enqueue: enqueue:"
psql -qAtX "$DATABASE_URL" -c "UPDATE pane.settings SET value = '50' WHERE key = 'max_payload_bytes'"
expect_status 1 "$bin" enqueue mail "{\"big\": \"$(head -c 200 /dev/zero | tr '\0' x)\"}"
expect_in "$tmp/err" "over the limit of 50 bytes"
after=$(count "SELECT count(*) FROM pane.jobs")
[ "$before" = "$after" ] && ok || bad "bad input wrote jobs: $before -> $after"

# jobs
expect_status 0 "$bin" jobs list
expect_in "$tmp/out" "mail"
expect_in "$tmp/out" "available"
expect_status 0 "$bin" jobs list --json --queue mail --state available --limit 2
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); assert len(a)==2, a' "$tmp/out" && ok || bad "list --limit 2"
expect_status 2 "$bin" jobs list --state bogus-state-x --limit 0
expect_status 1 "$bin" jobs list --state bogus
expect_in "$tmp/err" "unknown state"
expect_status 0 "$bin" jobs show "$id1"
expect_in "$tmp/out" "a@example.com"
expect_status 0 "$bin" jobs show "$id1" --json
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["state"]=="available" and j["payload"]["to"]=="a@example.com", j' "$tmp/out" && ok || bad "show --json"
expect_status 1 "$bin" jobs show 99999999
expect_in "$tmp/err" "no job with id 99999999"
expect_status 2 "$bin" jobs show abc
expect_status 2 "$bin" jobs frob
expect_status 0 "$bin" jobs cancel "$id3"
expect_in "$tmp/out" "cancelled"
expect_status 0 "$bin" jobs retry "$id3" --json
expect_in "$tmp/out" '"state":"available"'
expect_status 0 "$bin" jobs pause mail
expect_status 0 "$bin" jobs stats --json
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); m=[q for q in a if q["queue"]=="mail"][0]; assert m["paused"] and m["available"]==3, m' "$tmp/out" && ok || bad "stats --json: $(cat "$tmp/out")"
expect_status 0 "$bin" jobs resume mail
expect_status 0 "$bin" jobs limit mail --concurrency 2 --rate 10 --per 1s
expect_status 2 "$bin" jobs limit mail
expect_status 0 "$bin" worker --queues mail --builtin noop --drain
expect_status 0 "$bin" jobs stats
expect_in "$tmp/out" "COMPLETED"
[ "$(count "SELECT count(*) FROM pane.jobs_history WHERE state = 'completed'")" = 3 ] && ok || bad "worker did not complete 3 jobs"

# bulk redrive and cancel: one statement each, --since as a duration or a time
count "SELECT count(*) FROM generate_series(1, 5) g, LATERAL pane.enqueue('bulk', jsonb_build_object('g', g), max_attempts => 1)" >/dev/null
count "SELECT pane.enqueue('bulk', '{\"k\": 1}', unique_key => 'held', max_attempts => 1)" >/dev/null
expect_status 0 "$bin" worker --queues bulk --builtin fail --drain
[ "$(count "SELECT count(*) FROM pane.jobs_history WHERE queue = 'bulk' AND state = 'failed'")" = 6 ] && ok || bad "6 failed"
# an old failure (outside --since) and a key held by an active job stay put
count "UPDATE pane.jobs_history SET finished_at = now() - interval '3 hours' WHERE payload = '{\"g\": 1}'" >/dev/null
count "SELECT pane.enqueue('bulk', '{\"k\": 2}', unique_key => 'held', run_at => now() + interval '1 day')" >/dev/null
expect_status 2 "$bin" jobs retry --queue bulk
expect_in "$tmp/err" "needs --state"
expect_status 2 "$bin" jobs show 1 --since 1h
expect_status 1 "$bin" jobs retry --queue bulk --state completed
expect_in "$tmp/err" "state must be failed or cancelled"
expect_status 0 "$bin" jobs retry --queue bulk --state failed --since 1h
expect_in "$tmp/out" "4 job(s) of queue bulk re-driven"
[ "$(count "SELECT count(*) FROM pane.jobs WHERE queue = 'bulk' AND state = 'available' AND max_attempts = 2")" = 4 ] && ok || bad "re-driven jobs"
[ "$(count "SELECT count(*) FROM pane.jobs_history WHERE queue = 'bulk' AND state = 'failed'")" = 2 ] && ok || bad "old and key-held jobs stay failed"
expect_status 0 "$bin" jobs retry --queue bulk --state failed --since 2020-01-01T00:00:00Z --json
expect_in "$tmp/out" '{"queue":"bulk","retried":1}'
expect_status 0 "$bin" jobs cancel --queue bulk --json
expect_in "$tmp/out" '{"queue":"bulk","cancelled":6}'
[ "$(count "SELECT count(*) FROM pane.jobs WHERE queue = 'bulk'")" = 0 ] && ok || bad "bulk cancel left jobs"
expect_status 1 "$bin" jobs cancel --queue bulk --state completed
expect_in "$tmp/err" "states must be available and/or running"

# unique keys that outlive completion: per period, across chosen states
expect_status 0 "$bin" enqueue rep '{"n": 1}' --unique-key daily-report --unique-period 1h
u1=$(cat "$tmp/out")
expect_status 0 "$bin" enqueue rep '{"n": 2}' --unique-key daily-report --unique-period 1h
[ "$(cat "$tmp/out")" = "$u1" ] && ok || bad "same period gave a second job: $u1 $(cat "$tmp/out")"
expect_status 0 "$bin" worker --queues rep --builtin noop --drain
expect_status 0 "$bin" enqueue rep '{"n": 3}' --unique-key daily-report --unique-period 1h
[ "$(cat "$tmp/out")" = "$u1" ] && ok || bad "a completed job in the period should hold the key"
expect_status 0 "$bin" enqueue rep '{"n": 4}' --unique-key daily-report --unique-period 1h --unique-states available,running
[ "$(cat "$tmp/out")" != "$u1" ] && ok || bad "with active states only, a completed job must not hold the key"
[ "$(count "SELECT count(*) FROM pane.jobs WHERE queue = 'rep'")" = 1 ] && ok || bad "rep jobs"
count "SELECT pane.enqueue('rep2', '{}', unique_key => 'once', max_attempts => 1)" >/dev/null
expect_status 0 "$bin" worker --queues rep2 --builtin fail --drain
expect_status 0 "$bin" enqueue rep2 --unique-key once --unique-states available,running,failed --json
expect_in "$tmp/out" '{"id":'
[ "$(count "SELECT count(*) FROM pane.jobs WHERE queue = 'rep2'")" = 0 ] && ok || bad "a failed job should hold the key"
expect_status 0 "$bin" enqueue rep2 --unique-key once --unique-states available,running,completed
[ "$(count "SELECT count(*) FROM pane.jobs WHERE queue = 'rep2'")" = 1 ] && ok || bad "failed is not in the states: a new job"
expect_status 1 "$bin" enqueue rep2 --unique-key once --unique-states available,done
expect_in "$tmp/err" "by_states must be among"
expect_status 1 "$bin" enqueue rep2 --unique-period 1h
expect_in "$tmp/err" "need a unique key"
expect_status 2 "$bin" enqueue rep2 --unique-key x --unique-period 0s

# schedules from pane.yaml: written at start, checked with file:line, a paused one stays paused
mkdir -p "$tmp/data"
cat >"$tmp/pane.yaml" <<'Y'
queue:
  schedules:
    - name: yaml-nightly
      cron: '0 4 * * *'
      queue: reports
      payload: '{"from": "yaml"}'
      timeout: 1m
Y
serve_start "$tmp/serve.log" /healthz --config "$tmp/pane.yaml" --data-dir "$tmp/data" && ok || bad "serve: $(tail -3 "$tmp/serve.log")"
kill "$pid"; wait "$pid" 2>/dev/null; pid=
[ "$(count "SELECT cron || ' ' || queue || ' ' || (payload->>'from') || ' ' || extract(epoch FROM timeout)::int FROM pane.schedules WHERE name = 'yaml-nightly'")" = "0 4 * * * reports yaml 60" ] \
  && ok || bad "schedule from pane.yaml: $(count "SELECT * FROM pane.schedules")"
expect_status 0 "$bin" schedules pause yaml-nightly
serve_start "$tmp/serve.log" /healthz --config "$tmp/pane.yaml" --data-dir "$tmp/data" && ok || bad "serve again"
kill "$pid"; wait "$pid" 2>/dev/null; pid=
[ "$(count "SELECT enabled FROM pane.schedules WHERE name = 'yaml-nightly'")" = f ] && ok || bad "an unchanged schedule was re-enabled"
cat >"$tmp/bad.yaml" <<'Y'
queue:
  schedules:
    - name: broken
      queue: reports
      cron: '0 25 * * *'
Y
"$bin" serve --config "$tmp/bad.yaml" --data-dir "$tmp/data" --listen "127.0.0.1:$(free_port)" >"$tmp/out" 2>"$tmp/err" \
  && bad "serve started with a bad schedule" || ok
expect_in "$tmp/err" "bad.yaml:5: queue.schedules[0].cron"
[ "$(count "SELECT count(*) FROM pane.schedules WHERE name = 'broken'")" = 0 ] && ok || bad "broken schedule written"

# --drain on a terminal shows progress (script(1) gives it a pseudo-terminal); not in a pipe
count "SELECT count(*) FROM generate_series(1, 8) g, LATERAL pane.enqueue('prog', jsonb_build_object('g', g))" >/dev/null
script -qec "$bin worker --queues prog --builtin sleep:300 --concurrency 2 --drain" /dev/null >"$tmp/tty.out" 2>&1 \
  && ok || bad "drain under a terminal: $(tail -3 "$tmp/tty.out")"
expect_in "$tmp/tty.out" "drain: 8 done, 0 failed, 0 retried, 0 running, 0 remaining"
grep -q "remaining" "$tmp/tty.out" && ok || bad "no progress line"
count "SELECT pane.enqueue('prog', '{}')" >/dev/null
expect_status 0 "$bin" worker --queues prog --builtin noop --drain
grep -q "remaining" "$tmp/err" && bad "progress written to a file" || ok

# cron schedules from the command line
expect_status 0 "$bin" schedules list
expect_in "$tmp/out" "yaml-nightly"
expect_status 2 "$bin" schedules add nightly --cron '61 * * * *' --queue reports
expect_in "$tmp/err" "--cron '61 * * * *'"
expect_status 2 "$bin" schedules add nightly --queue reports
expect_in "$tmp/err" "needs --cron and --queue"
expect_status 2 "$bin" schedules add nightly --cron '0 3 * * *' --queue reports --payload '[1]'
expect_status 0 "$bin" schedules add nightly --cron '0 3 * * *' --queue reports --payload '{"kind": "daily"}' --timeout 5m
expect_status 0 "$bin" schedules add tick --cron '* * * * * *' --queue ticks --max-attempts 2
expect_status 0 "$bin" schedules list --json
python3 -c 'import json,sys; a={s["name"]: s for s in json.load(open(sys.argv[1]))}; n=a["nightly"]; assert n["cron"]=="0 3 * * *" and n["payload"]=={"kind": "daily"} and n["timeout_seconds"]==300 and n["enabled"], n; assert a["tick"]["max_attempts"]==2' "$tmp/out" && ok || bad "schedules list --json: $(cat "$tmp/out")"
expect_status 0 "$bin" schedules pause nightly
[ "$(count "SELECT enabled FROM pane.schedules WHERE name = 'nightly'")" = f ] && ok || bad "pause"
expect_status 0 "$bin" schedules resume nightly
[ "$(count "SELECT enabled FROM pane.schedules WHERE name = 'nightly'")" = t ] && ok || bad "resume"
expect_status 1 "$bin" schedules pause nope
expect_in "$tmp/err" "no schedule named 'nope'"
# a worker ticks the every-second schedule
"$bin" worker --queues ticks --builtin noop >"$tmp/tick.log" 2>&1 & tw=$!
for _ in $(seq 1 200); do
  [ "$(count "SELECT count(*) FROM pane.jobs_history WHERE queue = 'ticks' AND state = 'completed'")" -ge 1 ] && break
  sleep 0.05
done
kill "$tw"; wait "$tw"
[ "$(count "SELECT count(*) FROM pane.jobs_history WHERE queue = 'ticks' AND state = 'completed'")" -ge 1 ] && ok || bad "the schedule never ran: $(cat "$tmp/tick.log")"
expect_status 0 "$bin" schedules remove tick
expect_status 0 "$bin" schedules list
expect_in "$tmp/out" "nightly"
grep -q "^tick " "$tmp/out" && bad "tick still listed" || ok

expect_status 2 "$bin" worker --queues a
expect_in "$tmp/err" "exactly one of"
expect_status 2 "$bin" worker --builtin noop
expect_status 2 "$bin" worker --queues a --builtin sleep:abc
expect_status 2 "$bin" worker --queues a --http ftp://x --builtin noop
expect_status 2 "$bin" worker --queues a --builtin noop --lease 0s

psql -qAtX "$base/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
finish
