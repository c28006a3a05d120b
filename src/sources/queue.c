/*
 * queue.c - the `queue` source: pane's own job queue, read like any other
 * system and labelled provider="pane".
 *
 * This source is the one producer of the queue's series in the store, for
 * pane's own database and for queues elsewhere (another database, another
 * pane) alike. The queue part's collector (queue/attach.c) publishes the
 * queue's totals in /metrics for a Prometheus that scrapes pane; the
 * self-scrape leaves those pane_queue_* families out of the store
 * (serve/selfscrape.c, invariant 1), so one queue read by one instance is
 * one series per (queue, state).
 *
 * Idea: the queue already knows its numbers; this source only reads them
 * through the agreed SQL contract `<schema>.queue_stats() RETURNS jsonb`
 * (an array of {"queue", "paused", "available", "scheduled", "running",
 * "completed", "failed", "cancelled", "oldest_runnable_age_seconds"}) and
 * turns them into series:
 *
 *     pane_queue_jobs{queue, state}                   available, scheduled, running,
 *                                                     completed, failed, cancelled
 *     pane_queue_paused{queue}                        1 when paused
 *     pane_queue_oldest_runnable_age_seconds{queue}
 *     pane_queue_<field>{queue}                       any other numeric field the queue adds later
 *
 * and, when the queue keeps a workers table (`workers: true`, default),
 * pane_queue_workers (registered workers, at most 1000 read) and
 * per-worker heartbeats: pane_queue_worker_last_seen_age_seconds{worker},
 * pane_queue_worker_concurrency{worker}, and the counters each worker
 * reports in its heartbeat (workers.stats): pane_queue_worker_processed_total,
 * _failed_total, _retried_total, _claimed_total, _lost_leases_total, ...,
 * pane_queue_worker_pickup_latency_seconds (the last pickup),
 * pane_queue_worker_running. Reading only the function keeps
 * this source independent of the queue's tables; the workers query is the
 * one exception and is switched off with `workers: false`.
 *
 * Thread context: the instance thread only.
 */
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "sources/pg.h"
#include "sources/source.h"

struct queue_cfg {
	struct pane_source_common common;
	char *url;
	char *schema;
	bool workers;
};

static const struct pane_cfg_field queue_fields[] = {
    {"url", PANE_CFT_STRING, offsetof(struct queue_cfg, url), NULL, PANE_CFG_REQUIRED | PANE_CFG_SECRET,
     "the queue's database, only as ${VAR} (usually ${DATABASE_URL})", 0, 0},
    {"schema", PANE_CFT_STRING, offsetof(struct queue_cfg, schema), "pane", 0, "schema of the queue's tables", 0, 0},
    {"workers", PANE_CFT_BOOL, offsetof(struct queue_cfg, workers), "true", 0, "per-worker heartbeat series", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct queue_ctx {
	struct queue_cfg *cfg;
	PGconn *conn;
	char *stats_sql;
	char *workers_sql;
};

static int queue_init(struct pane_source *src, void *cfgp, const struct pane_cfg *file,
                      const struct pane_cfg_node *node, void **ctxp, struct pane_err *err)
{
	(void)src;
	struct queue_cfg *cfg = cfgp;
	const char *s = cfg->schema;
	bool ok = *s && strlen(s) <= 63 && ((*s >= 'a' && *s <= 'z') || *s == '_');
	for (const char *p = s; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
	if (!ok)
		return pane_cfg_error(file, pane_cfg_get(node, "schema"), err,
		                      "a schema name is lower-case letters, digits and '_'");
	struct queue_ctx *c = pane_xcalloc(1, sizeof *c);
	*ctxp = c;
	c->cfg = cfg;
	/* the schema is validated above: an identifier, never a value */
	struct pane_buf b;
	pane_buf_init(&b, 512);
	pane_buf_addf(&b, "SELECT %s.queue_stats()::text", s);
	c->stats_sql = pane_buf_detach(&b, NULL);
	pane_buf_addf(&b,
	              "SELECT id, extract(epoch FROM now() - last_seen) AS last_seen_age_seconds, concurrency, "
	              "stats::text FROM %s.workers ORDER BY id LIMIT 1000",
	              s);
	c->workers_sql = pane_buf_detach(&b, NULL);
	return 0;
}

static void queue_close(void *p)
{
	struct queue_ctx *c = p;
	if (!c)
		return;
	PQfinish(c->conn);
	free(c->stats_sql);
	free(c->workers_sql);
	free(c);
}

static int emit_stats(struct pane_source *src, const char *text, struct pane_err *err)
{
	json_error_t je;
	json_t *a = json_loads(text, 0, &je);
	if (!json_is_array(a)) {
		json_decref(a);
		pane_source_set_reason(src, "malformed");
		return pane_err_set(err, PANE_EINVAL, "queue_stats() did not return a JSON array");
	}
	static const char *const states[] = {"available", "scheduled", "running", "completed", "failed", "cancelled"};
	size_t i;
	json_t *q;
	json_array_foreach(a, i, q)
	{
		const char *name = json_string_value(json_object_get(q, "queue"));
		if (!name || !*name)
			continue;
		const char *key;
		json_t *v;
		json_object_foreach(q, key, v)
		{
			if (strcmp(key, "queue") == 0)
				continue;
			double d;
			if (json_is_number(v))
				d = json_number_value(v);
			else if (json_is_boolean(v))
				d = json_is_true(v) ? 1 : 0;
			else
				continue;
			bool is_state = false;
			for (size_t k = 0; k < sizeof states / sizeof states[0]; k++)
				is_state = is_state || strcmp(states[k], key) == 0;
			if (is_state) {
				pane_source_emit_samplev(src, "pane_queue_jobs", 0, d, "queue", name, "state", key,
				                         NULL);
			} else {
				char metric[PANE_METRIC_NAME_MAX + 1];
				snprintf(metric, sizeof metric, "pane_queue_%s", key);
				pane_source_emit_samplev(src, metric, 0, d, "queue", name, NULL);
			}
		}
	}
	json_decref(a);
	return 0;
}

/* The worker's own counters from its last heartbeat (workers.stats):
 * cumulative counts become _total counters, pickup_ms_last the pickup
 * latency in seconds, other numbers pane_queue_worker_<key>. */
static void emit_worker_stats(struct pane_source *src, const char *worker, const char *text)
{
	static const char *const counters[] = {"claimed",   "processed",  "failed",      "retried", "lost_leases",
	                                       "cancelled", "reconnects", "run_seconds", NULL};
	json_t *o = json_loads(text, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return;
	}
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v)
	{
		if (!json_is_number(v))
			continue;
		double d = json_number_value(v);
		char metric[PANE_METRIC_NAME_MAX + 1];
		bool counter = false;
		for (size_t k = 0; counters[k]; k++)
			counter = counter || strcmp(counters[k], key) == 0;
		if (strcmp(key, "pickup_ms_last") == 0) {
			snprintf(metric, sizeof metric, "pane_queue_worker_pickup_latency_seconds");
			d /= 1000.0;
		} else {
			snprintf(metric, sizeof metric, "pane_queue_worker_%s%s", key, counter ? "_total" : "");
		}
		pane_source_emit_samplev(src, metric, 0, d, "worker", worker, NULL);
	}
	json_decref(o);
}

static int queue_collect(struct pane_source *src, void *ctxp, struct pane_err *err)
{
	struct queue_ctx *c = ctxp;
	int rc = pane_src_pg_ensure(&c->conn, c->cfg->url, pane_source_name(src), c->cfg->common.timeout_ms, true, err);
	if (rc < 0) {
		pane_source_set_reason(src, "connection");
		return rc;
	}
	PGresult *r = PQexec(c->conn, c->stats_sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		rc = pane_src_pg_error(c->conn, r, "queue_stats()", err);
		if (st && (strcmp(st, "42883") == 0 || strcmp(st, "3F000") == 0)) {
			pane_source_set_reason(src, "not_installed");
			pane_err_detail(err, "the queue schema is missing in this database: run `pane migrate`");
		} else {
			pane_source_set_reason(src, rc == PANE_ETIMEDOUT ? "timeout" : "query");
		}
		PQclear(r);
		return rc;
	}
	rc = PQntuples(r) == 1 && !PQgetisnull(r, 0, 0) ? emit_stats(src, PQgetvalue(r, 0, 0), err) : 0;
	PQclear(r);
	if (rc < 0 || !c->cfg->workers)
		return rc;
	r = PQexec(c->conn, c->workers_sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = pane_src_pg_error(c->conn, r, "queue workers", err);
		pane_err_detail(err, "set `workers: false` when the queue keeps no workers table");
		pane_source_set_reason(src, "query");
		PQclear(r);
		return rc;
	}
	pane_source_emit_samplev(src, "pane_queue_workers", 0, PQntuples(r), NULL);
	for (int i = 0; i < PQntuples(r); i++) {
		const char *w = PQgetvalue(r, i, 0);
		double v;
		if (!PQgetisnull(r, i, 1) && pane_src_pg_value(PQgetvalue(r, i, 1), &v) == 0)
			pane_source_emit_samplev(src, "pane_queue_worker_last_seen_age_seconds", 0, v, "worker", w,
			                         NULL);
		if (!PQgetisnull(r, i, 2) && pane_src_pg_value(PQgetvalue(r, i, 2), &v) == 0)
			pane_source_emit_samplev(src, "pane_queue_worker_concurrency", 0, v, "worker", w, NULL);
		if (PQnfields(r) > 3 && !PQgetisnull(r, i, 3))
			emit_worker_stats(src, w, PQgetvalue(r, i, 3));
	}
	PQclear(r);
	return 0;
}

const struct pane_source_plugin pane_source_queue = {
    .name = "queue",
    .provider = "pane",
    .description = "pane's job queue: depth by state, oldest runnable age, paused queues, worker heartbeats",
    .default_interval_ms = 15000,
    .default_timeout_ms = 5000,
    .cfg_size = sizeof(struct queue_cfg),
    .fields = queue_fields,
    .init = queue_init,
    .collect = queue_collect,
    .close = queue_close,
};
