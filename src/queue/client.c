/*
 * client.c - the producer and management half of the C API (pane/queue.h).
 *
 * Every call is one parameterised statement against the SQL functions in
 * sql/queue/ - no logic is duplicated here, so the CLI, the HTTP API and
 * any other client validate and notify identically. The schema name is the
 * only thing formatted into SQL text, and it is validated first.
 */
#include "pane/queue.h"

#include "base/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "queue/query_value.h"

static const char *schema_or_default(const char *schema, struct pane_err *err, int *rc)
{
	schema = schema ? schema : PANE_QUEUE_DEFAULT_SCHEMA;
	*rc = 0;
	if (!pane_queue_schema_valid(schema))
		*rc = pane_err_set(err, PANE_EINVAL, "invalid schema name '%s'", schema);
	return schema;
}

int pane_queue_query_value(PGconn *c, const char *sql, int n, const char *const *params, char **out,
                           struct pane_err *err, const char *what)
{
	*out = NULL;
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		int rc = pane_queue_pg_err(c, r, err, what);
		PQclear(r);
		return rc;
	}
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		*out = pane_xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

/* Resolves the schema (default or checked) and refuses an empty queue name. */
static int check_queue(const char **schema, const char *queue, struct pane_err *err)
{
	int rc;
	*schema = schema_or_default(*schema, err, &rc);
	if (rc < 0)
		return rc;
	if (!queue || !*queue)
		return pane_err_set(err, PANE_EINVAL, "queue name must not be empty");
	return 0;
}

/* A bulk call's three parameters in, its row count out (into *n if given). */
static int count_call(PGconn *c, const char *sql, const char *const *p, int64_t *n, struct pane_err *err,
                      const char *what)
{
	char *v;
	int rc = pane_queue_query_value(c, sql, 3, p, &v, err, what);
	if (rc == 0 && n)
		*n = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return rc;
}

int pane_queue_enqueue(PGconn *c, const char *schema, const struct pane_job_spec *s, int64_t *id, struct pane_err *err)
{
	int rc;
	schema = schema_or_default(schema, err, &rc);
	if (rc < 0)
		return rc;
	if (!s->queue || !*s->queue)
		return pane_err_set(err, PANE_EINVAL, "queue name must not be empty");
	if (s->delay_ms < 0)
		return pane_err_set(err, PANE_EINVAL, "delay must not be negative");
	if (s->delay_ms > 0 && s->run_at)
		return pane_err_set(err, PANE_EINVAL, "give a run time or a delay, not both");
	if ((s->unique_period_ms > 0 || s->unique_states) && !s->unique_key)
		return pane_err_set(err, PANE_EINVAL, "a unique period or unique states need a unique key");
	char sql[512], prio[24], att[24], delay[48], timeout[48], period[48];
	if (s->unique_period_ms > 0 || s->unique_states) {
		snprintf(sql, sizeof sql,
		         "SELECT id FROM %s.enqueue_unique($1, $2::jsonb, $7, $9::interval,"
		         " coalesce(string_to_array($10, ','), ARRAY['available', 'running', 'completed']),"
		         " coalesce($3::timestamptz, now() + $4::interval), $5::int, $6::int, $8::interval)",
		         schema);
	} else {
		snprintf(sql, sizeof sql,
		         "SELECT %s.enqueue($1, $2::jsonb, coalesce($3::timestamptz, now() + $4::interval), $5::int, "
		         "$6::int, $7, "
		         "$8::interval)",
		         schema);
	}
	snprintf(prio, sizeof prio, "%d", s->priority);
	snprintf(att, sizeof att, "%d", s->max_attempts > 0 ? s->max_attempts : 25);
	snprintf(delay, sizeof delay, "%" PRId64 " milliseconds", s->delay_ms);
	snprintf(timeout, sizeof timeout, "%" PRId64 " milliseconds", s->timeout_ms);
	snprintf(period, sizeof period, "%" PRId64 " milliseconds", s->unique_period_ms);
	const char *p[10] = {s->queue,
	                     s->payload_json ? s->payload_json : "{}",
	                     s->run_at,
	                     delay,
	                     prio,
	                     att,
	                     s->unique_key,
	                     s->timeout_ms > 0 ? timeout : NULL,
	                     s->unique_period_ms > 0 ? period : NULL,
	                     s->unique_states};
	bool wide = s->unique_period_ms > 0 || s->unique_states;
	char *v;
	if ((rc = pane_queue_query_value(c, sql, wide ? 10 : 8, p, &v, err, "enqueue")) < 0)
		return rc;
	*id = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return 0;
}

int pane_queue_enqueue_many(PGconn *c, const char *schema, const char *jobs_json, char **result_json,
                            struct pane_err *err)
{
	int rc;
	schema = schema_or_default(schema, err, &rc);
	if (rc < 0)
		return rc;
	char rows[PANE_QUEUE_SQL_MAX], sql[PANE_QUEUE_SQL_MAX + 128];
	pane_queue_sql_enqueue_many(schema, rows, sizeof rows);
	snprintf(sql, sizeof sql,
	         "SELECT coalesce(json_agg(json_build_object('id', e.id, 'created', e.created)), '[]') FROM (%s) e",
	         rows);
	const char *p[1] = {jobs_json};
	return pane_queue_query_value(c, sql, 1, p, result_json, err, "enqueue");
}

/* The statements (pane/queue.h, pane_queue_sql_*): this file's calls run
 * them and so does the HTTP API (src/api), which bounds its waits its own
 * way; each text has this one owner. */
void pane_queue_sql_job(const char *schema, char *out, size_t len)
{
	snprintf(out, len, "SELECT %s.job($1::bigint)", schema);
}

void pane_queue_sql_cancel(const char *schema, char *out, size_t len)
{
	snprintf(out, len, "SELECT %s.cancel_job($1::bigint)", schema);
}

void pane_queue_sql_retry(const char *schema, char *out, size_t len)
{
	snprintf(out, len, "SELECT %s.retry_job($1::bigint)", schema);
}

void pane_queue_sql_pause(const char *schema, bool pause, char *out, size_t len)
{
	snprintf(out, len, "SELECT %s.%s($1)::text", schema, pause ? "pause_queue" : "resume_queue");
}

void pane_queue_sql_enqueue_many(const char *schema, char *out, size_t len)
{
	snprintf(out, len, "SELECT id, created FROM %s.enqueue_many($1::jsonb)", schema);
}

void pane_queue_sql_queues_throughput(const char *schema, char *out, size_t len)
{
	snprintf(out, len,
	         "SELECT jsonb_build_object('queues', coalesce(jsonb_agg(s.q || jsonb_build_object("
	         "'completed_last_minute', coalesce(t.n, 0), "
	         "'throughput_per_second', round(coalesce(t.n, 0) / 60.0, 3)) ORDER BY s.q->>'queue'), '[]'::jsonb)) "
	         "FROM jsonb_array_elements(%s.queue_stats()) AS s(q) "
	         "LEFT JOIN (SELECT queue, count(*) AS n FROM %s.jobs_history "
	         "WHERE state = 'completed' AND finished_at > now() - interval '1 minute' GROUP BY queue) t "
	         "ON t.queue = s.q->>'queue'",
	         schema, schema);
}

void pane_queue_sql_finished_since(const char *schema, char *out, size_t len)
{
	snprintf(out, len,
	         "SELECT u.up FROM unnest($1::bigint[], $2::text[]) AS u(id, up), "
	         "LATERAL (SELECT %s.job(u.id)) x(j) "
	         "WHERE x.j IS NULL OR (x.j->>'state' IN ('completed', 'failed', 'cancelled') "
	         "AND (x.j->>'finished_at')::timestamptz <= now() - $3::bigint * interval '1 millisecond')",
	         schema);
}

int pane_queue_job(PGconn *c, const char *schema, int64_t id, char **json, struct pane_err *err)
{
	int rc;
	schema = schema_or_default(schema, err, &rc);
	if (rc < 0)
		return rc;
	char sql[128], idb[24];
	pane_queue_sql_job(schema, sql, sizeof sql);
	snprintf(idb, sizeof idb, "%" PRId64, id);
	const char *p[1] = {idb};
	if ((rc = pane_queue_query_value(c, sql, 1, p, json, err, "reading the job")) < 0)
		return rc;
	if (!*json)
		return pane_err_set(err, PANE_ENOTFOUND, "no job with id %" PRId64, id);
	return 0;
}

int pane_queue_jobs_each(PGconn *c, const char *schema, const int64_t *ids, size_t n,
                         void (*fn)(void *arg, int64_t id, const char *state, const char *json), void *arg,
                         struct pane_err *err)
{
	int rc;
	schema = schema_or_default(schema, err, &rc);
	if (rc < 0 || n == 0)
		return rc;
	char sql[256];
	snprintf(sql, sizeof sql,
	         "SELECT u.id, x.j->>'state', x.j FROM unnest($1::bigint[]) AS u(id), LATERAL (SELECT %s.job(u.id)) "
	         "AS x(j)", /* pane_queue_sql_job's function, for each id */
	         schema);
	char *arr = pane_xmalloc(pane_mul_size(n, 22) + 3), *w = arr;
	*w++ = '{';
	for (size_t i = 0; i < n; i++)
		w += snprintf(w, 23, "%s%" PRId64, i ? "," : "", ids[i]);
	*w++ = '}';
	*w = '\0';
	const char *p[1] = {arr};
	PGresult *r = PQexecParams(c, sql, 1, NULL, p, NULL, NULL, 0);
	free(arr);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = pane_queue_pg_err(c, r, err, "reading jobs");
		PQclear(r);
		return rc;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		bool gone = PQgetisnull(r, i, 1);
		fn(arg, id, gone ? NULL : PQgetvalue(r, i, 1), gone ? NULL : PQgetvalue(r, i, 2));
	}
	PQclear(r);
	return 0;
}

int pane_queue_list(PGconn *c, const char *schema, const char *queue, const char *state, int limit, char **json,
                    struct pane_err *err)
{
	int rc;
	schema = schema_or_default(schema, err, &rc);
	if (rc < 0)
		return rc;
	if (limit < 1 || limit > 10000)
		return pane_err_set(err, PANE_EINVAL, "limit must be between 1 and 10000");
	static const char *states[] = {"available", "running", "completed", "failed", "cancelled"};
	if (state) {
		bool ok = false;
		for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
			ok = ok || strcmp(state, states[i]) == 0;
		if (!ok) {
			pane_err_set(err, PANE_EINVAL, "unknown state '%s'", state);
			pane_err_detail(err, "states: available, running, completed, failed, cancelled");
			return PANE_EINVAL;
		}
	}
	char sql[1024], lim[16];
	snprintf(lim, sizeof lim, "%d", limit);
	snprintf(
	    sql, sizeof sql,
	    "SELECT coalesce(json_agg(x ORDER BY x.id DESC), '[]') FROM ("
	    " (SELECT id, queue, state, priority, attempt, max_attempts, run_at, created_at, finished_at, unique_key"
	    "  FROM %s.jobs WHERE ($1::text IS NULL OR queue = $1) AND ($2::text IS NULL OR state = $2)"
	    "  ORDER BY id DESC LIMIT $3::int)"
	    " UNION ALL"
	    " (SELECT id, queue, state, priority, attempt, max_attempts, run_at, created_at, finished_at, unique_key"
	    "  FROM %s.jobs_history WHERE ($1::text IS NULL OR queue = $1) AND ($2::text IS NULL OR state = $2)"
	    "  ORDER BY id DESC LIMIT $3::int)"
	    " ORDER BY id DESC LIMIT $3::int) x",
	    schema, schema);
	const char *p[3] = {queue, state, lim};
	return pane_queue_query_value(c, sql, 3, p, json, err, "listing jobs");
}

static int state_call(PGconn *c, const char *schema, bool cancel, int64_t id, char state[16], struct pane_err *err)
{
	int rc;
	schema = schema_or_default(schema, err, &rc);
	if (rc < 0)
		return rc;
	const char *fn = cancel ? "cancel_job" : "retry_job";
	char sql[PANE_QUEUE_SQL_MAX], idb[24];
	(cancel ? pane_queue_sql_cancel : pane_queue_sql_retry)(schema, sql, sizeof sql);
	snprintf(idb, sizeof idb, "%" PRId64, id);
	const char *p[1] = {idb};
	char *v;
	if ((rc = pane_queue_query_value(c, sql, 1, p, &v, err, fn)) < 0)
		return rc;
	if (!v)
		return pane_err_set(err, PANE_ENOTFOUND, "no job with id %" PRId64, id);
	snprintf(state, 16, "%s", v);
	free(v);
	return 0;
}

int pane_queue_cancel(PGconn *c, const char *schema, int64_t id, char state[16], struct pane_err *err)
{
	return state_call(c, schema, true, id, state, err);
}

int pane_queue_retry(PGconn *c, const char *schema, int64_t id, char state[16], struct pane_err *err)
{
	return state_call(c, schema, false, id, state, err);
}

int pane_queue_pause(PGconn *c, const char *schema, const char *queue, bool pause, struct pane_err *err)
{
	int rc = check_queue(&schema, queue, err);
	if (rc < 0)
		return rc;
	char sql[PANE_QUEUE_SQL_MAX];
	pane_queue_sql_pause(schema, pause, sql, sizeof sql);
	const char *p[1] = {queue};
	char *v;
	rc = pane_queue_query_value(c, sql, 1, p, &v, err, pause ? "pausing the queue" : "resuming the queue");
	free(v);
	return rc;
}

int pane_queue_set_limits(PGconn *c, const char *schema, const char *queue, int concurrency, int rate_limit,
                          int64_t rate_period_ms, struct pane_err *err)
{
	int rc = check_queue(&schema, queue, err);
	if (rc < 0)
		return rc;
	char sql[160], cb[16], rb[16], pb[48];
	snprintf(sql, sizeof sql, "SELECT %s.set_queue_limits($1, $2::int, $3::int, $4::interval)::text", schema);
	snprintf(cb, sizeof cb, "%d", concurrency);
	snprintf(rb, sizeof rb, "%d", rate_limit);
	snprintf(pb, sizeof pb, "%" PRId64 " milliseconds", rate_period_ms > 0 ? rate_period_ms : 1000);
	const char *p[4] = {queue, concurrency >= 0 ? cb : NULL, rate_limit > 0 ? rb : NULL, pb};
	char *v;
	rc = pane_queue_query_value(c, sql, 4, p, &v, err, "setting queue limits");
	free(v);
	return rc;
}

int pane_queue_stats(PGconn *c, const char *schema, char **json, struct pane_err *err)
{
	int rc;
	schema = schema_or_default(schema, err, &rc);
	if (rc < 0)
		return rc;
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT %s.queue_stats()", schema);
	return pane_queue_query_value(c, sql, 0, NULL, json, err, "reading queue statistics");
}

int pane_queue_retry_bulk(PGconn *c, const char *schema, const char *queue, const char *state, const char *since,
                          int64_t *n, struct pane_err *err)
{
	int rc = check_queue(&schema, queue, err);
	if (rc < 0)
		return rc;
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT %s.retry_jobs($1, $2, $3::timestamptz)", schema);
	const char *p[3] = {queue, state, since};
	return count_call(c, sql, p, n, err, "re-driving jobs");
}

int pane_queue_cancel_bulk(PGconn *c, const char *schema, const char *queue, const char *states, const char *since,
                           int64_t *n, struct pane_err *err)
{
	int rc = check_queue(&schema, queue, err);
	if (rc < 0)
		return rc;
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT %s.cancel_jobs($1, string_to_array($2, ','), $3::timestamptz)", schema);
	const char *p[3] = {queue, states ? states : "available", since};
	return count_call(c, sql, p, n, err, "cancelling jobs");
}
