/*
 * setup.c - `pane demo`'s additions to the daemon (see setup.h).
 *
 * Idea: the parts know nothing of the demo. `pane demo` runs `pane serve`
 * with an on_start hook that, before any part attaches, (1) hands the
 * sources part a default sources: section through h->defaults, built from
 * what it can reach: its own database (PostgreSQL statistics, and the
 * `queue` source: the one producer of the queue's series in the store,
 * docs/queue.md) when DATABASE_URL is set, Render, Sentry and Supabase when their
 * simulations run (scripts/demo.sh starts tests/fakes/ and names them in
 * PANE_DEMO_*); and (2) with DATABASE_URL, migrates the queue, enqueues
 * three sample jobs on queue "demo" and runs a worker for them (sleep 300 ms
 * per job), so a newcomer sees jobs go from available to completed.
 *
 * Like every pane.yaml, the section names the variables that hold the
 * keys, never the keys. Each entry is turned on by its URL variable; its
 * key variables must then be set too (else the usual "not set" error,
 * which names "(demo sources ...)" as its file).
 *
 * Ownership: the defaults and the worker's state live until the stop
 * callback registered here, which runs last of all (it is registered before
 * any part attaches); the worker only talks to PostgreSQL.
 */
#include "demo/setup.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "config/config.h"
#include "pane/queue.h"

static const char demo_postgres[] = "  postgres:\n    url: ${DATABASE_URL}\n    interval: 15s\n    environment: demo\n"
                                    "  queue:\n    url: ${DATABASE_URL}\n    interval: 15s\n    environment: demo\n";
static const char demo_render[] =
    "  render:\n    api_key: ${PANE_DEMO_RENDER_KEY}\n    api_url: ${PANE_DEMO_RENDER_URL}\n"
    "    interval: 15s\n    environment: demo\n    log_lookback: 1h\n";
static const char demo_sentry[] =
    "  sentry:\n    auth_token: ${PANE_DEMO_SENTRY_TOKEN}\n    url: ${PANE_DEMO_SENTRY_URL}\n"
    "    organization: ${PANE_DEMO_SENTRY_ORG:-acme}\n    interval: 15s\n    environment: demo\n";
static const char demo_supabase[] =
    "  supabase:\n    project_ref: ${PANE_DEMO_SUPABASE_REF:-abcdefghijklmnopqrst}\n"
    "    access_token: ${PANE_DEMO_SUPABASE_TOKEN}\n    service_role_key: ${PANE_DEMO_SUPABASE_KEY}\n"
    "    api_url: ${PANE_DEMO_SUPABASE_URL}\n"
    "    metrics_url: ${PANE_DEMO_SUPABASE_URL}/customer/v1/privileged/metrics\n"
    "    interval: 15s\n    environment: demo\n";

struct demo {
	struct pane_cfg *defaults;
	char *url, *schema;
	pthread_t worker;
	bool has_worker;
	volatile int worker_stop;
	const char *queues[1];
};

static bool demo_env(const char *name)
{
	const char *v = getenv(name);
	return v && *v;
}

/* The demo's sources section, or NULL (err unset) when there is nothing to watch. */
static struct pane_cfg *demo_sources(const struct pane_host *h, struct pane_err *err)
{
	struct pane_buf b;
	pane_buf_init(&b, 8192);
	pane_buf_addf(&b, "sources:\n");
	size_t empty = b.len;
	if (h->database_url)
		pane_buf_addf(&b, "%s", demo_postgres);
	if (demo_env("PANE_DEMO_RENDER_URL"))
		pane_buf_addf(&b, "%s", demo_render);
	if (demo_env("PANE_DEMO_SENTRY_URL"))
		pane_buf_addf(&b, "%s", demo_sentry);
	if (demo_env("PANE_DEMO_SUPABASE_URL"))
		pane_buf_addf(&b, "%s", demo_supabase);
	struct pane_cfg *cfg = NULL;
	if (b.len > empty) {
		cfg = pane_cfg_parse("(demo sources, from PANE_DEMO_* and DATABASE_URL)", b.data, b.len, err);
		if (!cfg)
			pane_err_detail(err, "the PANE_DEMO_* variables come from scripts/demo.sh ('make demo')");
	}
	pane_buf_release(&b);
	return cfg;
}

/* queue.schema and queue.demo_worker as the queue part binds them (it checks them too). */
static const char *queue_schema(const struct pane_cfg *cfg)
{
	const struct pane_cfg_node *n = pane_cfg_lookup(cfg->root, "queue.schema");
	return n && n->kind == PANE_CFG_SCALAR && n->value ? n->value : PANE_QUEUE_DEFAULT_SCHEMA;
}

static bool want_worker(const struct pane_cfg *cfg)
{
	const struct pane_cfg_node *n = pane_cfg_lookup(cfg->root, "queue.demo_worker");
	bool on = true;
	if (n && n->kind == PANE_CFG_SCALAR && n->value)
		pane_cfg_parse_bool(n->value, &on);
	return on;
}

static void migrate_and_enqueue(struct demo *d)
{
	PGconn *c = PQconnectdb(d->url);
	struct pane_err err = {0};
	if (PQstatus(c) != CONNECTION_OK) {
		pane_warn("demo", "cannot connect to DATABASE_URL: %s", PQerrorMessage(c));
		PQfinish(c);
		return;
	}
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	if (pane_queue_migrate(c, d->schema, NULL, NULL, &err) < 0) {
		pane_warn("demo", "migrating: %s", err.msg);
		PQfinish(c);
		return;
	}
	static const char *samples[] = {
	    "{\"kind\": \"resize-upload\", \"file\": \"cat.jpg\"}",
	    "{\"kind\": \"render-report\", \"month\": \"2026-11\"}",
	    "{\"kind\": \"send-email\", \"to\": \"newcomer@example.com\"}",
	};
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		struct pane_job_spec spec = {
		    .queue = "demo", .payload_json = samples[i], .delay_ms = (int64_t)i * 1500};
		int64_t id;
		if (pane_queue_enqueue(c, d->schema, &spec, &id, &err) < 0)
			pane_warn("demo", "enqueue: %s", err.msg);
	}
	PQfinish(c);
}

static void *worker_main(void *arg)
{
	struct demo *d = arg;
	d->queues[0] = "demo";
	struct pane_queue_worker_opts o = {
	    .database_url = d->url,
	    .schema = d->schema,
	    .queues = d->queues,
	    .n_queues = 1,
	    .concurrency = 2,
	    .handler = PANE_HANDLER_SLEEP,
	    .sleep_ms = 300,
	    .stop = &d->worker_stop,
	    .grace_ms = 2000,
	};
	struct pane_err err = {0};
	if (pane_queue_worker_run(&o, NULL, &err) < 0)
		pane_warn("demo", "worker: %s", err.msg);
	return NULL;
}

static void demo_stop(void *arg)
{
	struct demo *d = arg;
	d->worker_stop = 1;
	if (d->has_worker)
		pthread_join(d->worker, NULL);
	pane_cfg_free(d->defaults);
	free(d->url);
	free(d->schema);
	free(d);
}

int pane_demo_start(struct pane_host *h, void *arg, struct pane_err *err)
{
	(void)arg;
	struct demo *d = pane_xcalloc(1, sizeof *d);
	if (!pane_cfg_get(h->cfg->root, "sources")) {
		struct pane_err e = {0};
		d->defaults = demo_sources(h, &e);
		if (!d->defaults && e.code) {
			free(d);
			*err = e;
			return e.code;
		}
		h->defaults = d->defaults;
	}
	pane_host_on_stop(h, demo_stop, d);
	const char *schema = queue_schema(h->cfg);
	if (!h->database_url || !want_worker(h->cfg) || !pane_queue_schema_valid(schema))
		return 0; /* an invalid schema is refused, with file:line, when the queue part binds it */
	d->url = pane_xstrdup(h->database_url);
	d->schema = pane_xstrdup(schema);
	migrate_and_enqueue(d);
	d->has_worker = pthread_create(&d->worker, NULL, worker_main, d) == 0;
	return 0;
}
