/*
 * attach.c - the queue inside `pane serve` / `pane demo`.
 *
 * When PostgreSQL is configured (DATABASE_URL) and the schema is installed,
 * a collector thread reads pane.queue_stats() every queue.stats_interval and
 * publishes the queue's numbers in pane's stats registry, for /metrics (a
 * Prometheus that scrapes pane):
 *   pane_queue_jobs{queue,state}                       jobs per state
 *   pane_queue_oldest_runnable_age_seconds{queue}      age of the oldest runnable job
 *   pane_queue_paused{queue}                           1 when paused
 *   pane_queue_workers                                 registered, heartbeating workers
 * Workers keep their own counters (processed, failed, retried, rescued,
 * lost leases, run time, pickup latency) in pane.workers.stats, written with
 * each heartbeat; the collector sums them into pane_queue_worker_* gauges.
 *
 * Deliberately elsewhere: the queue's series in pane's own store. They are
 * the `queue` source's (sources/queue.c: per worker, so a worker that goes
 * away ends its counters instead of lowering a sum); pane's self-scrape
 * skips pane_queue_* (serve/selfscrape.c, invariant 1) so each number is
 * stored once.
 *
 * (`pane demo`'s sample jobs and their worker are src/demo/setup.c's; it
 * reads queue.demo_worker, which this section keeps.)
 *
 * Thread context: attach runs on the main thread; the collector runs on its
 * own thread and stops in the stop callback.
 */
#include "queue/attach.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/stats.h"
#include "config/config.h"
#include "pane/queue.h"
#include "queue/cron.h"

#include "base/err.h"
#include "host/host.h"

struct queue_cfg {
	char *schema;
	int64_t stats_interval_ms;
	bool demo_worker;
};

static const struct pane_cfg_field queue_fields[] = {
    {"schema", PANE_CFT_STRING, offsetof(struct queue_cfg, schema), "pane", 0,
     "PostgreSQL schema of the queue (pane migrate --schema)", 0, 0},
    {"stats_interval", PANE_CFT_DURATION, offsetof(struct queue_cfg, stats_interval_ms), "10s", 0,
     "how often queue depth and worker numbers are read into /metrics", 1000, 3600000},
    {"demo_worker", PANE_CFT_BOOL, offsetof(struct queue_cfg, demo_worker), "true", 0,
     "in `pane demo`: migrate, run a worker on queue 'demo' and enqueue sample jobs (read by src/demo)", 0, 0},
    {"schedules", PANE_CFT_SECTION, 0, NULL, 0,
     "cron schedules written to the database at start: [{name, cron, queue, payload, priority, max_attempts, "
     "timeout}]",
     0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct queue_part {
	struct queue_cfg cfg;
	const char *url;
	struct pane_stats *stats;
	pthread_t collector;
	bool has_collector;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

static void set_gauge(struct pane_stats *st, const char *name, const char *labels, const char *help, double v)
{
	pane_stat_set(pane_stats_gauge(st, name, labels, help), v);
}

static void collect(struct queue_part *p, PGconn *c)
{
	char *json = NULL;
	struct pane_err err = {0};
	if (pane_queue_stats(c, p->cfg.schema, &json, &err) < 0) {
		static struct pane_log_limit lim = {.burst = 2, .per_ms = 60000};
		pane_log_limited(&lim, PANE_LOG_WARN, "queue", "reading queue statistics: %s", err.msg);
		return;
	}
	/* both reads before any gauge is set: a self-scrape (or a /metrics
	 * reader) between them would see a tick's jobs without its workers */
	char sql[512];
	snprintf(
	    sql, sizeof sql,
	    "SELECT count(*), coalesce(sum((stats->>'processed')::float8), 0), "
	    "coalesce(sum((stats->>'failed')::float8), 0),"
	    " coalesce(sum((stats->>'retried')::float8), 0), coalesce(sum((stats->>'lost_leases')::float8), 0),"
	    " coalesce(sum((stats->>'run_seconds')::float8), 0), coalesce(max((stats->>'pickup_ms_last')::float8), 0)"
	    " FROM %s.workers",
	    p->cfg.schema);
	PGresult *r = PQexec(c, sql);
	json_t *a = json_loads(json, 0, NULL);
	free(json);
	size_t i;
	json_t *q;
	static const char *states[] = {"available", "scheduled", "running", "completed", "failed", "cancelled"};
	json_array_foreach(a, i, q)
	{
		const char *name = json_string_value(json_object_get(q, "queue"));
		if (!name || strlen(name) > 128 || strpbrk(name, "\"\\\n"))
			continue;
		char labels[256];
		for (size_t k = 0; k < sizeof states / sizeof states[0]; k++) {
			snprintf(labels, sizeof labels, "queue=\"%s\",state=\"%s\"", name, states[k]);
			set_gauge(p->stats, "pane_queue_jobs", labels, "jobs per queue and state",
			          json_number_value(json_object_get(q, states[k])));
		}
		snprintf(labels, sizeof labels, "queue=\"%s\"", name);
		set_gauge(p->stats, "pane_queue_oldest_runnable_age_seconds", labels,
		          "age of the oldest job that could run now",
		          json_number_value(json_object_get(q, "oldest_runnable_age_seconds")));
		set_gauge(p->stats, "pane_queue_paused", labels, "1 when the queue is paused",
		          json_is_true(json_object_get(q, "paused")) ? 1 : 0);
	}
	json_decref(a);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		set_gauge(p->stats, "pane_queue_workers", NULL, "registered workers",
		          strtod(PQgetvalue(r, 0, 0), NULL));
		set_gauge(p->stats, "pane_queue_worker_processed", NULL, "jobs completed by the running workers",
		          strtod(PQgetvalue(r, 0, 1), NULL));
		set_gauge(p->stats, "pane_queue_worker_failed", NULL, "jobs failed for good by the running workers",
		          strtod(PQgetvalue(r, 0, 2), NULL));
		set_gauge(p->stats, "pane_queue_worker_retried", NULL, "attempts that failed and will be retried",
		          strtod(PQgetvalue(r, 0, 3), NULL));
		set_gauge(p->stats, "pane_queue_worker_lost_leases", NULL, "acknowledgements refused by fencing",
		          strtod(PQgetvalue(r, 0, 4), NULL));
		set_gauge(p->stats, "pane_queue_worker_run_seconds", NULL, "handler time of the running workers",
		          strtod(PQgetvalue(r, 0, 5), NULL));
		set_gauge(p->stats, "pane_queue_pickup_latency_ms", NULL, "last claim's run_at-to-start delay",
		          strtod(PQgetvalue(r, 0, 6), NULL));
	}
	PQclear(r);
}

static void *collector_main(void *arg)
{
	struct queue_part *p = arg;
	PGconn *c = NULL;
	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		pthread_mutex_unlock(&p->mu);
		if (!c || PQstatus(c) != CONNECTION_OK) {
			if (c)
				PQfinish(c);
			c = PQconnectdb(p->url);
		}
		if (PQstatus(c) == CONNECTION_OK)
			collect(p, c);
		pthread_mutex_lock(&p->mu);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t ns = ts.tv_nsec + (p->cfg.stats_interval_ms % 1000) * 1000000;
		ts.tv_sec += p->cfg.stats_interval_ms / 1000 + ns / 1000000000;
		ts.tv_nsec = ns % 1000000000;
		if (!p->stop)
			pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	}
	pthread_mutex_unlock(&p->mu);
	if (c)
		PQfinish(c);
	return NULL;
}

static void stop_part(void *arg)
{
	struct queue_part *p = arg;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (p->has_collector)
		pthread_join(p->collector, NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	pane_cfg_unbind(queue_fields, &p->cfg);
	free(p);
}

/* One entry of queue.schedules. */
struct sched_cfg {
	char *name, *cron, *queue, *payload;
	int64_t priority, max_attempts, timeout_ms;
};

static const struct pane_cfg_field sched_fields[] = {
    {"name", PANE_CFT_STRING, offsetof(struct sched_cfg, name), NULL, PANE_CFG_REQUIRED, "schedule name", 0, 0},
    {"cron", PANE_CFT_STRING, offsetof(struct sched_cfg, cron), NULL, PANE_CFG_REQUIRED,
     "5 fields, or 6 with seconds first (UTC)", 0, 0},
    {"queue", PANE_CFT_STRING, offsetof(struct sched_cfg, queue), NULL, PANE_CFG_REQUIRED, "queue of the jobs", 0, 0},
    {"payload", PANE_CFT_STRING, offsetof(struct sched_cfg, payload), "{}", 0, "each job's payload, a JSON object", 0,
     0},
    {"priority", PANE_CFT_INT, offsetof(struct sched_cfg, priority), "0", 0, "higher runs first", -1000000, 1000000},
    {"max_attempts", PANE_CFT_INT, offsetof(struct sched_cfg, max_attempts), "25", 0, "attempts per job", 1, 1000000},
    {"timeout", PANE_CFT_DURATION, offsetof(struct sched_cfg, timeout_ms), "0s", 0, "per-job time limit (0: none)", 0,
     INT64_MAX},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

/*
 * queue.schedules: checks every entry (file:line errors: unknown keys, a
 * cron expression that cannot run, a payload that is not a JSON object, a
 * name given twice) and, when c is connected to an installed schema,
 * writes them. A schedule whose definition changed is updated; one that
 * is unchanged keeps its state (paused stays paused, next run kept);
 * schedules only in the database (added with `pane schedules add`) stay.
 */
static int sync_schedules(const struct pane_cfg *cfg, const char *schema, PGconn *c, struct pane_err *err)
{
	const struct pane_cfg_node *seq = pane_cfg_lookup(cfg->root, "queue.schedules");
	if (!seq)
		return 0;
	if (seq->kind != PANE_CFG_SEQ)
		return pane_cfg_error(cfg, seq, err, "must be a list of {name, cron, queue, ...}");
	int rc = 0;
	for (size_t i = 0; i < seq->n_items && rc == 0; i++) {
		const struct pane_cfg_node *it = seq->items[i];
		struct sched_cfg sc = {0};
		if (it->kind != PANE_CFG_MAP) {
			rc = pane_cfg_error(cfg, it, err, "must be a map {name, cron, queue, ...}");
			break;
		}
		if ((rc = pane_cfg_bind(cfg, it, sched_fields, &sc, err)) < 0)
			goto next;
		struct pane_cron pc;
		char why[160] = "";
		if (pane_cron_parse(sc.cron, &pc, why, sizeof why) < 0) {
			rc = pane_cfg_error(cfg, pane_cfg_get(it, "cron"), err, "'%s': %s", sc.cron, why);
			goto next;
		}
		json_t *pj = json_loads(sc.payload, 0, NULL);
		bool obj = json_is_object(pj);
		json_decref(pj);
		if (!obj) {
			rc = pane_cfg_error(cfg, pane_cfg_get(it, "payload"), err,
			                    "must be a JSON object, e.g. '{\"kind\": \"daily\"}'");
			goto next;
		}
		for (size_t k = 0; k < i; k++) {
			const struct pane_cfg_node *other = pane_cfg_get(seq->items[k], "name");
			if (other && other->value && !strcmp(other->value, sc.name)) {
				rc = pane_cfg_error(cfg, pane_cfg_get(it, "name"), err,
				                    "schedule '%s' is defined twice", sc.name);
				goto next;
			}
		}
		if (c) {
			char sql[768], prio[24], att[24], tmo[32];
			snprintf(sql, sizeof sql,
			         "INSERT INTO %s.schedules AS s (name, cron, queue, payload, priority, max_attempts, "
			         "timeout)"
			         " VALUES ($1, $2, $3, $4::jsonb, $5::int, $6::int,"
			         " CASE WHEN $7::float8 > 0 THEN make_interval(secs => $7::float8) END)"
			         " ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, queue = excluded.queue,"
			         " payload = excluded.payload, priority = excluded.priority, max_attempts = "
			         "excluded.max_attempts,"
			         " timeout = excluded.timeout, next_run_at = NULL"
			         " WHERE (s.cron, s.queue, s.payload, s.priority, s.max_attempts, s.timeout) IS "
			         "DISTINCT FROM"
			         " (excluded.cron, excluded.queue, excluded.payload, excluded.priority, "
			         "excluded.max_attempts,"
			         " excluded.timeout)",
			         schema);
			snprintf(prio, sizeof prio, "%" PRId64, sc.priority);
			snprintf(att, sizeof att, "%" PRId64, sc.max_attempts);
			snprintf(tmo, sizeof tmo, "%.3f", (double)sc.timeout_ms / 1000.0);
			const char *p[7] = {sc.name, sc.cron, sc.queue, sc.payload, prio, att, tmo};
			PGresult *r = PQexecParams(c, sql, 7, NULL, p, NULL, NULL, 0);
			if (PQresultStatus(r) != PGRES_COMMAND_OK) {
				struct pane_err e = {0};
				pane_queue_pg_err(c, r, &e, "writing the schedule");
				rc = pane_cfg_error(cfg, it, err, "%s", e.msg);
			}
			PQclear(r);
		}
	next:
		pane_cfg_unbind(sched_fields, &sc);
	}
	return rc < 0 ? PANE_EINVAL : 0;
}

int pane_queue_attach(struct pane_host *s, struct pane_err *err)
{
	struct queue_part *p = pane_xcalloc(1, sizeof *p);
	if (pane_cfg_bind(s->cfg, pane_cfg_get(s->cfg->root, "queue"), queue_fields, &p->cfg, err) < 0) {
		pane_cfg_unbind(queue_fields, &p->cfg);
		free(p);
		return PANE_EINVAL;
	}
	if (!pane_queue_schema_valid(p->cfg.schema)) {
		pane_cfg_error(s->cfg, pane_cfg_lookup(s->cfg->root, "queue.schema"), err,
		               "'%s' is not a valid schema name ([a-z_][a-z0-9_]*)", p->cfg.schema);
		pane_cfg_unbind(queue_fields, &p->cfg);
		free(p);
		return PANE_EINVAL;
	}
	/* schedules are checked even without a database: a bad file fails at start */
	if (sync_schedules(s->cfg, p->cfg.schema, NULL, err) < 0) {
		pane_cfg_unbind(queue_fields, &p->cfg);
		free(p);
		return PANE_EINVAL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->url = s->database_url;
	p->stats = s->stats;
	pane_host_on_stop(s, stop_part, p);
	if (!p->url)
		return 0;
	PGconn *c = PQconnectdb(p->url);
	if (PQstatus(c) == CONNECTION_OK) {
		PQclear(PQexec(c, "SET client_min_messages = warning"));
		int version = 0;
		pane_queue_schema_version(c, p->cfg.schema, &version, NULL);
		if (version == 0)
			pane_info("queue", "schema %s is not installed: queue metrics start after 'pane migrate'",
			          p->cfg.schema);
		else if (sync_schedules(s->cfg, p->cfg.schema, c, err) < 0)
			pane_warn("queue", "%s", err->msg);
	}
	PQfinish(c);
	p->has_collector = pthread_create(&p->collector, NULL, collector_main, p) == 0;
	return 0;
}
