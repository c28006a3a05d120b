/* test_sql.c - the SQL contract against the real PostgreSQL: enqueue,
 * enqueue_many (order, unique keys, validation that writes nothing), job,
 * cancel/retry/pause/resume, queue_stats, NOTIFY per statement and per
 * finished job, fencing of a worker that lost its lease, rescue, retention,
 * global concurrency, the keyed claim (006), migration idempotency and an
 * in-place upgrade. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pane/queue.h"
#include "qt.h"

static void enqueue_and_unique_keys(void **state)
{
	char *url = qt_db("queue_sql_enqueue");
	PGconn *c = qt_connect(url);
	long long a = qt_num(c, "SELECT pane.enqueue('mail', '{\"to\":\"a\"}')");
	assert_true(a > 0);
	long long k1 = qt_num(c, "SELECT pane.enqueue('mail', '{}', unique_key => 'k1')");
	long long k1b = qt_num(c, "SELECT pane.enqueue('mail', '{\"other\":1}', unique_key => 'k1')");
	assert_int_equal(k1, k1b);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs WHERE unique_key = 'k1'"), 1);
	/* enqueue_many: input order, created flags, in-batch duplicates, existing keys */
	char *rows = qt_val(
	    c, "SELECT string_agg(created::text, ',' ORDER BY ord) FROM pane.enqueue_many("
	       "'[{\"queue\":\"mail\"},{\"queue\":\"x\",\"unique_key\":\"k1\"},{\"queue\":\"x\",\"unique_key\":\"k2\"},"
	       "{\"queue\":\"x\",\"unique_key\":\"k2\"},{\"queue\":\"y\",\"delay\":\"30s\",\"priority\":5}]')"
	       " WITH ORDINALITY AS t(id, created, ord)");
	assert_string_equal(rows, "true,false,true,false,true");
	free(rows);
	char *ids = qt_val(c, "SELECT string_agg(id::text, ',' ORDER BY ord) FROM pane.enqueue_many("
	                      "'[{\"queue\":\"z\",\"unique_key\":\"k2\"},{\"queue\":\"z\",\"unique_key\":\"k1\"}]') "
	                      "WITH ORDINALITY AS t(id, created, ord)");
	char want[64];
	long long k2 = qt_num(c, "SELECT id FROM pane.jobs WHERE unique_key = 'k2'");
	snprintf(want, sizeof want, "%lld,%lld", k2, k1);
	assert_string_equal(ids, want);
	free(ids);
	/* delay 30s: scheduled, not runnable now */
	assert_int_equal(
	    qt_num(c, "SELECT count(*) FROM pane.jobs WHERE queue = 'y' AND run_at > now() + interval '25 s'"), 1);
	assert_int_equal(qt_num(c, "SELECT (pane.job(%lld)->>'priority')::int",
	                        qt_num(c, "SELECT id FROM pane.jobs WHERE queue='y'")),
	                 5);
	/* a finished job frees its key */
	qt_num(c, "SELECT count(*) FROM pane.claim('w', 'x', 10, 30)");
	qt_num(c, "SELECT count(*) FROM pane.complete_jobs('w', ARRAY[%lld], ARRAY[1])", k2);
	long long k2new = qt_num(c, "SELECT pane.enqueue('x', unique_key => 'k2')");
	assert_true(k2new != k2);
	PQfinish(c);
	free(url);
}

/* Two sessions enqueue the same key at once: the second waits for the
 * first's transaction and gets its id, for enqueue and enqueue_many alike. */
static void unique_key_race(void **state)
{
	char *url = qt_db("queue_sql_race");
	PGconn *a = qt_connect(url), *b = qt_connect(url);
	PQclear(PQexec(a, "BEGIN"));
	long long id = qt_num(a, "SELECT pane.enqueue('r', unique_key => 'same')");
	assert_int_equal(PQsendQuery(b, "SELECT pane.enqueue('r', unique_key => 'same')"), 1);
	/* b is blocked on a's uncommitted row; let a commit */
	qt_sleep_ms(100);
	PQclear(PQexec(a, "COMMIT"));
	PGresult *r = PQgetResult(b);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_int_equal(strtoll(PQgetvalue(r, 0, 0), NULL, 10), id);
	PQclear(r);
	while ((r = PQgetResult(b)))
		PQclear(r);
	/* a rolled-back holder leaves the key free for the waiter */
	PQclear(PQexec(a, "BEGIN"));
	long long gone =
	    qt_num(a, "SELECT id FROM pane.enqueue_many('[{\"queue\": \"r\", \"unique_key\": \"other\"}]')");
	assert_int_equal(PQsendQuery(b, "SELECT id::text || ' ' || created::text FROM pane.enqueue_many('[{\"queue\": "
	                                "\"r\", \"unique_key\": \"other\"}]')"),
	                 1);
	qt_sleep_ms(100);
	PQclear(PQexec(a, "ROLLBACK"));
	r = PQgetResult(b);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	char want[64];
	snprintf(want, sizeof want, "%lld true", gone);
	assert_string_not_equal(PQgetvalue(r, 0, 0), want);
	assert_non_null(strstr(PQgetvalue(r, 0, 0), " true"));
	PQclear(r);
	while ((r = PQgetResult(b)))
		PQclear(r);
	assert_int_equal(qt_num(a, "SELECT count(*) FROM pane.jobs WHERE unique_key IN ('same', 'other')"), 2);
	PQfinish(a);
	PQfinish(b);
	free(url);
}

static void invalid_input_writes_nothing(void **state)
{
	char *url = qt_db("queue_sql_invalid");
	PGconn *c = qt_connect(url);
	qt_num(c, "UPDATE pane.settings SET value = '100' WHERE key = 'max_payload_bytes'");
	static const struct {
		const char *sql, *msg;
	} cases[] = {
	    {"SELECT pane.enqueue('')", "queue name must not be empty"},
	    {"SELECT pane.enqueue(NULL)", "queue name must not be empty"},
	    {"SELECT pane.enqueue('q', max_attempts => 0)", "max_attempts must be at least 1"},
	    {"SELECT pane.enqueue('q', jsonb_build_object('big', repeat('x', 200)))", "over the limit of 100 bytes"},
	    {"SELECT pane.enqueue('q', timeout => interval '-1 s')", "timeout must be positive"},
	    {"SELECT * FROM pane.enqueue_many('{\"queue\":\"q\"}')", "must be a JSON array"},
	    {"SELECT * FROM pane.enqueue_many(NULL)", "must be a JSON array"},
	    {"SELECT * FROM pane.enqueue_many('[{\"queue\":\"q\"},{\"queue\":\"q\",\"delay\":-5}]')",
	     "job 2: \"delay\" must not be negative"},
	    {"SELECT * FROM pane.enqueue_many('[{\"queue\":\"q\",\"delay\":\"-5 minutes\"}]')", "must not be negative"},
	    {"SELECT * FROM pane.enqueue_many('[{\"queue\":\"q\",\"delay\":\"soon\"}]')",
	     "invalid input syntax for type interval"},
	    {"SELECT * FROM pane.enqueue_many('[{\"queue\":\"\"}]')", "\"queue\" must be a non-empty string"},
	    {"SELECT * FROM pane.enqueue_many('[{\"queue\":7}]')", "\"queue\" must be a non-empty string"},
	    {"SELECT * FROM pane.enqueue_many('[{\"queue\":\"q\",\"dealy\":1}]')", "unknown field(s) {\"dealy\": 1}"},
	    {"SELECT * FROM pane.enqueue_many('[[1]]')", "each job must be a JSON object"},
	    {"SELECT * FROM pane.enqueue_many('[{\"queue\":\"q\",\"priority\":1.5}]')",
	     "\"priority\" must be an integer"},
	    {"SELECT * FROM pane.enqueue_many('[{\"queue\":\"q\",\"max_attempts\":0}]')",
	     "\"max_attempts\" must be an integer"},
	    {"SELECT * FROM pane.enqueue_many('[{\"queue\":\"q\",\"run_at\":\"2026-01-01\",\"delay\":1}]')",
	     "not both"},
	    {"SELECT * FROM pane.enqueue_many('[{\"queue\":\"q\",\"run_at\":\"yesterday-ish\"}]')",
	     "invalid input syntax"},
	    {"SELECT * FROM pane.enqueue_many('[{\"queue\":\"q\",\"unique_key\":\"\"}]')",
	     "\"unique_key\" must be a non-empty"},
	    {"SELECT * FROM pane.enqueue_many('[{\"queue\":\"q\",\"timeout\":0}]')", "\"timeout\" must be positive"},
	    {"SELECT * FROM "
	     "pane.enqueue_many(jsonb_build_array(jsonb_build_object('queue','q','payload',repeat('y',300))))",
	     "over the limit of 100 bytes"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *m = qt_err(c, cases[i].sql);
		if (!strstr(m, cases[i].msg))
			fail_msg("%s: got '%s', want '%s'", cases[i].sql, m, cases[i].msg);
		free(m);
	}
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs"), 0);
	/* non-JSON text is refused by the jsonb cast before anything runs */
	char *m = qt_err(c, "SELECT pane.enqueue('q', '{nope'::text::jsonb)");
	assert_non_null(strstr(m, "invalid input syntax for type json"));
	free(m);
	/* the batch limit */
	qt_num(c, "UPDATE pane.settings SET value = '3' WHERE key = 'max_batch'");
	m = qt_err(c, "SELECT * FROM "
	              "pane.enqueue_many('[{\"queue\":\"q\"},{\"queue\":\"q\"},{\"queue\":\"q\"},{\"queue\":\"q\"}]')");
	assert_non_null(strstr(m, "over the limit of 3"));
	free(m);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs"), 0);
	PQfinish(c);
	free(url);
}

static int count_notifies(PGconn *l, const char *channel, const char *payload)
{
	int n = 0;
	PQconsumeInput(l);
	PGnotify *x;
	while ((x = PQnotifies(l))) {
		if (!strcmp(x->relname, channel) && (!payload || !strcmp(x->extra, payload)))
			n++;
		PQfreemem(x);
	}
	return n;
}

static void notifications(void **state)
{
	char *url = qt_db("queue_sql_notify");
	PGconn *c = qt_connect(url), *l = qt_connect(url);
	PQclear(PQexec(l, "LISTEN pane_jobs; LISTEN pane_job_done; LISTEN pane_cancel"));
	qt_num(c, "SELECT count(*) FROM "
	          "pane.enqueue_many('[{\"queue\":\"a\"},{\"queue\":\"a\"},{\"queue\":\"b\"},{\"queue\":\"a\"}]')");
	/* a round trip on l makes sure the notifications have arrived */
	PQclear(PQexec(l, "SELECT 1"));
	assert_int_equal(count_notifies(l, "pane_jobs", "a"), 1);
	PQclear(PQexec(l, "SELECT 1"));
	/* counted again: none left for b beyond one */
	qt_num(c, "SELECT pane.enqueue('b')");
	PQclear(PQexec(l, "SELECT 1"));
	assert_int_equal(count_notifies(l, "pane_jobs", "b"), 1);
	/* completing, failing for good and cancelling each notify pane_job_done with the id */
	long long id = qt_num(c, "SELECT id FROM pane.claim('w', 'a', 1, 30)");
	qt_num(c, "SELECT count(*) FROM pane.complete_jobs('w', ARRAY[%lld], ARRAY[1])", id);
	char idtxt[32];
	snprintf(idtxt, sizeof idtxt, "%lld", id);
	PQclear(PQexec(l, "SELECT 1"));
	assert_int_equal(count_notifies(l, "pane_job_done", idtxt), 1);
	long long id2 = qt_num(c, "SELECT id FROM pane.claim('w', 'a', 1, 30)");
	qt_num(c, "SELECT pane.cancel_job(%lld) IS NOT NULL", id2);
	snprintf(idtxt, sizeof idtxt, "%lld", id2);
	PQclear(PQexec(l, "SELECT 1"));
	PGnotify *x;
	int done = 0, cancel = 0;
	PQconsumeInput(l);
	while ((x = PQnotifies(l))) {
		done += !strcmp(x->relname, "pane_job_done") && !strcmp(x->extra, idtxt);
		cancel += !strcmp(x->relname, "pane_cancel") && !strcmp(x->extra, idtxt);
		PQfreemem(x);
	}
	assert_int_equal(done, 1);
	assert_int_equal(cancel, 1);
	PQfinish(l);
	PQfinish(c);
	free(url);
}

static void transitions_job_cancel_retry_pause(void **state)
{
	char *url = qt_db("queue_sql_states");
	PGconn *c = qt_connect(url);
	long long id = qt_num(c, "SELECT pane.enqueue('t', '{\"n\":1}', max_attempts => 2)");
	char *s = qt_val(c, "SELECT pane.job(%lld)->>'state'", id);
	assert_string_equal(s, "available");
	free(s);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim('w', 't', 5, 30)"), 1);
	s = qt_val(c, "SELECT pane.job(%lld)->>'state'", id);
	assert_string_equal(s, "running");
	free(s);
	/* attempt 1 fails: back to available with its error and a backoff */
	s = qt_val(c, "SELECT state FROM pane.fail_jobs('w', ARRAY[%lld], ARRAY[1], ARRAY['boom 1'], NULL, 0.001)", id);
	assert_string_equal(s, "available");
	free(s);
	assert_true(qt_wait(c, "1", 5000, "SELECT count(*) FROM pane.claim('w', 't', 5, 30)"));
	/* attempt 2 fails: attempts exhausted, failed, both errors kept */
	s = qt_val(c, "SELECT state FROM pane.fail_jobs('w', ARRAY[%lld], ARRAY[2], ARRAY['boom 2'])", id);
	assert_string_equal(s, "failed");
	free(s);
	s = qt_val(c,
	           "SELECT pane.job(%lld)->'errors'->1->>'error' || '|' || (pane.job(%lld)->'errors'->0->>'attempt')",
	           id, id);
	assert_string_equal(s, "boom 2|1");
	free(s);
	/* retry re-drives it */
	s = qt_val(c, "SELECT pane.retry_job(%lld)", id);
	assert_string_equal(s, "available");
	free(s);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim('w', 't', 5, 30)"), 1);
	assert_int_equal(
	    qt_num(c, "SELECT count(*) FROM pane.complete_jobs('w', ARRAY[%lld], ARRAY[3], ARRAY['{\"ok\":1}'::jsonb])",
	           id),
	    1);
	s = qt_val(c, "SELECT pane.job(%lld)->>'state' || ' ' || (pane.job(%lld)->>'result')", id, id);
	assert_string_equal(s, "completed {\"ok\": 1}");
	free(s);
	/* completed stays completed */
	s = qt_val(c, "SELECT pane.retry_job(%lld) || pane.cancel_job(%lld)", id, id);
	assert_string_equal(s, "completedcompleted");
	free(s);
	/* cancel an available job; then retry it */
	long long id2 = qt_num(c, "SELECT pane.enqueue('t')");
	s = qt_val(c, "SELECT pane.cancel_job(%lld)", id2);
	assert_string_equal(s, "cancelled");
	free(s);
	s = qt_val(c, "SELECT pane.job(%lld)->>'state'", id2);
	assert_string_equal(s, "cancelled");
	free(s);
	s = qt_val(c, "SELECT pane.retry_job(%lld)", id2);
	assert_string_equal(s, "available");
	free(s);
	/* unknown ids */
	s = qt_val(c, "SELECT coalesce(pane.cancel_job(999999), 'null') || coalesce(pane.retry_job(999999), 'null') || "
	              "coalesce(pane.job(999999)::text, 'null')");
	assert_string_equal(s, "nullnullnull");
	free(s);
	/* pause: nothing is claimed; resume: it is */
	free(qt_val(c, "SELECT pane.pause_queue('t')"));
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim('w', 't', 5, 30)"), 0);
	s = qt_val(c, "SELECT e->>'paused' FROM jsonb_array_elements(pane.queue_stats()) e WHERE e->>'queue' = 't'");
	assert_string_equal(s, "true");
	free(s);
	free(qt_val(c, "SELECT pane.resume_queue('t')"));
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim('w', 't', 5, 30)"), 1);
	/* stats use the state names */
	qt_num(c, "SELECT pane.enqueue('t', run_at => now() + interval '1 hour')");
	s = qt_val(c, "SELECT e::text FROM jsonb_array_elements(pane.queue_stats()) e WHERE e->>'queue' = 't'");
	assert_non_null(strstr(s, "\"running\": 1"));
	assert_non_null(strstr(s, "\"scheduled\": 1"));
	assert_non_null(strstr(s, "\"completed\": 1"));
	assert_non_null(strstr(s, "\"available\": 0"));
	assert_non_null(strstr(s, "\"failed\": 0"));
	assert_non_null(strstr(s, "\"cancelled\": 0"));
	free(s);
	PQfinish(c);
	free(url);
}

static void fencing_and_rescue(void **state)
{
	char *url = qt_db("queue_sql_fencing");
	PGconn *c = qt_connect(url);
	long long id = qt_num(c, "SELECT pane.enqueue('f')");
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim('w1', 'f', 1, 30)"), 1);
	/* w1's lease expires; rescue puts the job back, w2 claims it */
	qt_num(c, "UPDATE pane.jobs SET lease_expires_at = now() - interval '1 s' WHERE id = %lld RETURNING 1", id);
	assert_int_equal(qt_num(c, "SELECT pane.rescue(0.001)"), 1);
	assert_true(qt_wait(c, "1", 5000, "SELECT count(*) FROM pane.claim('w2', 'f', 1, 30)"));
	/* w1 comes back: it can neither complete, fail, renew nor release */
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.complete_jobs('w1', ARRAY[%lld], ARRAY[1])", id), 0);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.fail_jobs('w1', ARRAY[%lld], ARRAY[1], ARRAY['x'])", id),
	                 0);
	assert_int_equal(
	    qt_num(c, "SELECT count(*) FROM pane.heartbeat('w1', ARRAY[%lld], ARRAY[1], 30) h WHERE h = %lld", id, id),
	    1);
	assert_int_equal(qt_num(c, "SELECT pane.release_jobs('w1', ARRAY[%lld], ARRAY[1])", id), 0);
	/* even with the right worker id, an old attempt is fenced off */
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.complete_jobs('w2', ARRAY[%lld], ARRAY[1])", id), 0);
	char *s = qt_val(c, "SELECT pane.job(%lld)->>'state'", id);
	assert_string_equal(s, "running");
	free(s);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.complete_jobs('w2', ARRAY[%lld], ARRAY[2])", id), 1);
	s = qt_val(c, "SELECT (pane.job(%lld)->>'state') || ' ' || (pane.job(%lld)->'errors'->0->>'error')", id, id);
	assert_string_equal(s, "completed lease expired: worker w1 stopped heartbeating");
	free(s);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs_history WHERE id = %lld", id), 1);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs WHERE id = %lld", id), 0);
	PQfinish(c);
	free(url);
}

static void concurrency_limit_and_retention(void **state)
{
	char *url = qt_db("queue_sql_limits");
	PGconn *c = qt_connect(url);
	free(qt_val(c, "SELECT pane.set_queue_limits('g', concurrency => 3)"));
	qt_num(c, "SELECT count(*) FROM pane.enqueue_many((SELECT jsonb_agg(jsonb_build_object('queue', 'g')) FROM "
	          "generate_series(1, 10)))");
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim('a', 'g', 2, 30)"), 2);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim('b', 'g', 5, 30)"), 1);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim('c', 'g', 5, 30)"), 0);
	/* rate limit: 2 per hour, so a full bucket of 2 then nothing */
	free(qt_val(c, "SELECT pane.set_queue_limits('r', rate_limit => 2, rate_period => interval '1 hour')"));
	qt_num(c, "SELECT count(*) FROM pane.enqueue_many((SELECT jsonb_agg(jsonb_build_object('queue', 'r')) FROM "
	          "generate_series(1, 5)))");
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim('a', 'r', 5, 30)"), 2);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim('a', 'r', 5, 30)"), 0);
	/* the worker's claim (005) shares those limits with pane.claim */
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim_batch('d', 'g', 5, 30)"), 0);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim_batch('d', 'r', 5, 30)"), 0);
	/* and returns the columns a worker reads; the row is running, held by it */
	qt_num(c, "SELECT pane.enqueue('cb', '{\"k\": 1}', timeout => interval '2.5 s')");
	qt_num(c, "SELECT pane.enqueue('cb')");
	free(qt_val(c, "SELECT pane.pause_queue('cb')"));
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim_batch('d', 'cb', 5, 30)"), 0);
	free(qt_val(c, "SELECT pane.resume_queue('cb')"));
	char *s =
	    qt_val(c, "SELECT string_agg(attempt || ' ' || max_attempts || ' ' || timeout_ms || ' ' || (pickup_ms >= 0)"
	              " || ' ' || payload::text, '; ' ORDER BY id) FROM pane.claim_batch('d', 'cb', 5, 30)");
	assert_string_equal(s, "1 25 2500 true {\"k\": 1}; 1 25 0 true {}");
	free(s);
	assert_int_equal(
	    qt_num(c, "SELECT count(*) FROM pane.jobs WHERE queue = 'cb' AND state = 'running' AND locked_by = 'd'"),
	    2);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim_batch('d', 'cb', 5, 30)"), 0);
	/* the keyed claim (006) shares them too, with a key or without */
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim_batch_after('d', 'g', 5, 30, NULL, NULL, NULL)"),
	                 0);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim_batch_after('d', 'r', 5, 30, 0, now(), 1)"), 0);
	qt_num(c, "SELECT pane.enqueue('cb')");
	free(qt_val(c, "SELECT pane.pause_queue('cb')"));
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim_batch_after('d', 'cb', 5, 30, 0, now(), 1)"), 0);
	free(qt_val(c, "SELECT pane.resume_queue('cb')"));
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim_batch_after('d', 'cb', 5, 30, 0, now(), 1)"), 1);
	/* retention: history older than the setting is pruned, newer kept */
	qt_num(c, "INSERT INTO pane.jobs_history (id, queue, state, payload, priority, attempt, max_attempts, run_at, "
	          "created_at, finished_at)"
	          " SELECT g, 'h', 'completed', '{}', 0, 1, 25, now(), now(), now() - ((g - 100000) || ' "
	          "days')::interval + interval '1 hour'"
	          " FROM generate_series(100001, 100010) g RETURNING 1");
	assert_int_equal(qt_num(c, "SELECT pane.prune_history()"), 3); /* 8, 9, 10 days old */
	qt_num(c, "UPDATE pane.settings SET value = '2 days' WHERE key = 'history_retention' RETURNING 1");
	assert_int_equal(qt_num(c, "SELECT pane.prune_history()"), 5);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs_history WHERE queue = 'h'"), 2);
	PQfinish(c);
	free(url);
}

/* Claims up to n of queue 'k' after the key of job `after` (0: no key) and
 * returns their ids minus base, in the order the claim returned them. */
static char *claim_after(PGconn *c, int n, long long after, long long base)
{
	if (!after)
		return qt_val(c,
		              "SELECT coalesce(string_agg((t.id - %lld)::text, ',' ORDER BY t.o), '')"
		              " FROM pane.claim_batch_after('w', 'k', %d, 30, NULL, NULL, NULL)"
		              " WITH ORDINALITY t(id, attempt, max_attempts, timeout_ms, pickup_ms, payload, priority, "
		              "run_at, o)",
		              base, n);
	return qt_val(
	    c,
	    "SELECT coalesce(string_agg((t.id - %lld)::text, ',' ORDER BY t.o), '')"
	    " FROM (SELECT priority, run_at, id FROM pane.jobs WHERE id = %lld) j,"
	    " pane.claim_batch_after('w', 'k', %d, 30, j.priority, j.run_at, j.id)"
	    " WITH ORDINALITY t(id, attempt, max_attempts, timeout_ms, pickup_ms, payload, priority, run_at, o)",
	    base, after, n);
}

static void expect_claim(PGconn *c, int n, long long after, long long base, const char *want)
{
	char *got = claim_after(c, n, after, base);
	assert_string_equal(got, want);
	free(got);
}

/* pane.claim_batch_after (006): a claim that starts after the key of the
 * last job claimed returns rows in claim order; jobs behind the key (a
 * higher priority enqueued later, one given back, one another transaction
 * held) are still claimed, once, as soon as the range after the key runs
 * short; lower priorities come after the key's own. */
static void claim_after_key(void **state)
{
	char *url = qt_db("queue_sql_claim_after");
	PGconn *c = qt_connect(url);
	qt_num(c, "SELECT count(*) FROM pane.enqueue_many((SELECT jsonb_agg(jsonb_build_object('queue', 'k'))"
	          " FROM generate_series(1, 10)))");
	long long b = qt_num(c, "SELECT min(id) FROM pane.jobs WHERE queue = 'k'");
	expect_claim(c, 3, 0, b, "0,1,2");
	expect_claim(c, 3, b + 2, b, "3,4,5");
	/* behind the key: a higher priority, and job 1 given back unused */
	long long hi = qt_num(c, "SELECT pane.enqueue('k', priority => 5)");
	assert_true(hi == b + 10);
	assert_int_equal(qt_num(c, "SELECT pane.release_jobs('w', ARRAY[%lld], ARRAY[1])", b + 1), 1);
	/* the range after the key has enough: they wait */
	expect_claim(c, 2, b + 5, b, "6,7");
	/* it runs short: what the key skipped follows, in claim order */
	expect_claim(c, 5, b + 7, b, "10,1,8,9");
	expect_claim(c, 5, b + 9, b, "");
	/* after the key, its priority first, then lower ones */
	long long lo = qt_num(c, "SELECT pane.enqueue('k', priority => -1)");
	long long same = qt_num(c, "SELECT pane.enqueue('k')");
	assert_true(lo == b + 11 && same == b + 12);
	expect_claim(c, 5, b + 9, b, "12,11");
	/* every job claimed once */
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs WHERE queue = 'k' AND state = 'running'"), 13);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs WHERE queue = 'k' AND attempt <> 1"), 0);
	/* a row another transaction holds is skipped, not waited for, and
	 * claimed from the head once it is free */
	qt_num(c, "SELECT count(*) FROM pane.enqueue_many('[{\"queue\": \"k\"}, {\"queue\": \"k\"}]')");
	PGconn *o = qt_connect(url);
	free(qt_val(o, "BEGIN"));
	qt_num(o, "SELECT id FROM pane.jobs WHERE id = %lld FOR UPDATE", b + 13);
	expect_claim(c, 5, b + 12, b, "14");
	free(qt_val(o, "ROLLBACK"));
	expect_claim(c, 5, b + 14, b, "13");
	PQfinish(o);
	PQfinish(c);
	free(url);
}

/* Migration 007: a claimed job's new version stays on the page of the
 * version it replaces (pane.jobs keeps half of each page free), so a claim
 * adds no page to the table. With fillfactor 80 three in four claimed
 * versions moved to pages appended at the end (71 of 300 stayed, the table
 * grew from 6 to 11 pages); the new version is a little wider (locked_by,
 * started_at, lease_expires_at), so a few still move. */
static void claim_keeps_the_page(void **state)
{
	char *url = qt_db("queue_sql_claim_page");
	PGconn *c = qt_connect(url);
	qt_num(c, "SELECT count(*) FROM pane.enqueue_many((SELECT jsonb_agg(jsonb_build_object('queue', 'p',"
	          " 'payload', jsonb_build_object('n', g))) FROM generate_series(1, 300) g))");
	free(qt_val(c, "CREATE TABLE before AS SELECT id, (ctid::text::point)[0]::int AS page FROM pane.jobs"));
	long long pages = qt_num(c, "SELECT pg_relation_size('pane.jobs') / current_setting('block_size')::int");
	assert_true(pages >= 3); /* several full pages, not one half-empty one */
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.claim_batch_after('w', 'p', 300, 30, NULL, NULL, NULL)"),
	                 300);
	assert_true(qt_num(c, "SELECT count(*) FROM pane.jobs j JOIN before b USING (id)"
	                      " WHERE j.state = 'running' AND (j.ctid::text::point)[0]::int = b.page") >= 270);
	assert_int_equal(qt_num(c, "SELECT pg_relation_size('pane.jobs') / current_setting('block_size')::int"), pages);
	PQfinish(c);
	free(url);
}

/* A database at version 5 with jobs in it is upgraded in place: the
 * migrations add the keyed claim (006), with which the jobs are claimed,
 * and the page room and generic plans of 007. */
static void migrate_upgrades_in_place(void **state)
{
	char *url = qt_db("queue_sql_upgrade");
	PGconn *c = qt_connect(url);
	long long id = qt_num(c, "SELECT pane.enqueue('u')");
	free(qt_val(
	    c, "DROP FUNCTION pane.claim_batch_after(text, text, int, double precision, int, timestamptz, bigint)"));
	free(qt_val(c, "ALTER TABLE pane.jobs SET (fillfactor = 80)"));
	free(qt_val(c, "ALTER INDEX pane.jobs_pkey RESET (fillfactor)"));
	free(qt_val(c, "ALTER FUNCTION pane.complete_jobs(text, bigint[], int[], jsonb[]) RESET plan_cache_mode"));
	free(qt_val(c, "DELETE FROM pane.schema_version WHERE version >= 6"));
	struct pane_err err = {0};
	int from = -1, to = -1;
	assert_int_equal(pane_queue_migrate(c, NULL, &from, &to, &err), 0);
	assert_int_equal(from, 5);
	assert_int_equal(to, pane_queue_schema_version_latest());
	assert_true(qt_num(c, "SELECT id FROM pane.claim_batch_after('w', 'u', 5, 30, NULL, NULL, NULL)") == id);
	/* 007: half-empty pages for the table and its primary key, generic plans */
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pg_class WHERE oid IN ('pane.jobs'::regclass,"
	                           " 'pane.jobs_pkey'::regclass) AND 'fillfactor=50' = ANY(reloptions)"),
	                 2);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pg_proc WHERE pronamespace = 'pane'::regnamespace"
	                           " AND proname IN ('claim_batch_after', 'claim_batch', 'complete_jobs')"
	                           " AND 'plan_cache_mode=force_generic_plan' = ANY(proconfig)"),
	                 3);
	PQfinish(c);
	free(url);
}

static void migrate_is_idempotent_and_schema_configurable(void **state)
{
	char *url = qt_db("queue_sql_migrate");
	PGconn *c = qt_connect(url);
	struct pane_err err = {0};
	int from = -1, to = -1;
	assert_int_equal(pane_queue_migrate(c, NULL, &from, &to, &err), 0);
	assert_int_equal(from, to);
	assert_int_equal(pane_queue_migrate(c, "other_q", &from, &to, &err), 0);
	assert_int_equal(from, 0);
	assert_int_equal(to, pane_queue_schema_version_latest());
	assert_true(qt_num(c, "SELECT other_q.enqueue('x')") > 0);
	assert_int_equal(qt_num(c, "SELECT count(*) FROM pane.jobs"), 0);
	assert_int_equal(pane_queue_migrate(c, "Bad;drop", NULL, NULL, &err), PANE_EINVAL);
	qt_num(c, "INSERT INTO pane.schema_version VALUES (999, 'future') RETURNING 1");
	assert_int_equal(pane_queue_migrate(c, NULL, NULL, NULL, &err), PANE_EUNSUPPORTED);
	PQfinish(c);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(enqueue_and_unique_keys),
	    cmocka_unit_test(unique_key_race),
	    cmocka_unit_test(invalid_input_writes_nothing),
	    cmocka_unit_test(notifications),
	    cmocka_unit_test(transitions_job_cancel_retry_pause),
	    cmocka_unit_test(fencing_and_rescue),
	    cmocka_unit_test(concurrency_limit_and_retention),
	    cmocka_unit_test(claim_after_key),
	    cmocka_unit_test(claim_keeps_the_page),
	    cmocka_unit_test(migrate_upgrades_in_place),
	    cmocka_unit_test(migrate_is_idempotent_and_schema_configurable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
