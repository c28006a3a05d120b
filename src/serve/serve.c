/*
 * serve.c - `pane serve`: build the shared handles, attach the parts, wait.
 *
 * Idea: the daemon is a fixed sequence, not a framework. Load and validate
 * the whole config first (a typo fails at start, never at 3 a.m.), create
 * the handles every part shares, call each part's attach function in
 * dependency order, start HTTP last (so no request reaches a half-built
 * daemon), then sleep on the signal pipe; SIGHUP or POST /-/reload re-reads
 * pane.yaml and hands it to the parts that registered pane_host_on_reload. Shutdown is the reverse: HTTP
 * stops first, then the parts' stop callbacks in reverse order.
 *
 * Attach order (each line one call; a part is added by adding its line):
 *   0. store: opens DATA_DIR/store, the primary sink of s.pipeline (which
 *      serve creates first and frees after every producer has stopped,
 *      right before the store's own stop: the store outlives the pipeline)
 *   1. built-in routes: /healthz, /readyz, /metrics
 *   2. queue: queue numbers into /metrics; demo worker (src/queue/attach.c)
 *   3. api: bearer-token auth for every route; jobs API + uploads when DATABASE_URL is set
 *   4. sources (src/sources): pull sources, one thread each (needs s.pipeline)
 *   5. receivers (push endpoints, StatsD, scrape loops; need the pipeline)
 *  5b. outputs (src/outputs): remote_write / Loki push out, secondary sinks
 *  5c. remote (src/remote): the reader 6, 8 and 9 use: the store's, or a
 *      Prometheus-compatible backend's when query: backend: is set; then
 *      pane's own /metrics into the pipeline (selfscrape.c)
 *   6. query: the Prometheus API (/api/v1/query...) over that reader,
 *      and /api/v1/logs, /api/v1/events, Loki's /loki/api/v1 over the store's logs
 *   7. notify (src/notify): alerting:, /api/v2 (Alertmanager's API), s.alerts
 *   8. rules (src/alert): rules:, a thread per group, /api/v1/rules, /api/v1/alerts
 *   9. console (src/console): the web console at / and /assets/
 *
 * Runs on the main thread; parts start their own threads.
 */
#include "serve/serve.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/signals.h"
#include "base/stats.h"
#include "cli/cli.h"
#include "config/config.h"
#include "config/sections.h"
#include "api/api.h"
#include "http/server.h"
#include "pipeline/pipeline.h"
#include "serve/selfscrape.h"
#include "store/store.h"
#include "queue/attach.h"
#include "sources/sources.h"
#include "receivers/receivers.h"
#include "outputs/outputs.h"
#include "api/logs_api.h"
#include "api/loki_api.h"
#include "api/prom_api.h"
#include "notify/notify.h"
#include "alert/attach.h"
#include "console/console.h"
#include "remote/remote.h"

struct server_cfg {
	char *listen;
	char *data_dir;
	int64_t threads;
	int64_t max_connections;
	int64_t idle_timeout_ms;
	int64_t max_connections_per_ip;
	int64_t header_timeout_ms;
};

static const struct pane_cfg_field server_fields[] = {
    {"listen", PANE_CFT_STRING, offsetof(struct server_cfg, listen), "127.0.0.1:8080", 0,
     "address to listen on (HOST:PORT); non-loopback addresses need auth tokens", 0, 0},
    {"data_dir", PANE_CFT_STRING, offsetof(struct server_cfg, data_dir), "./pane-data", 0,
     "directory for the embedded store, uploads and state", 0, 0},
    {"threads", PANE_CFT_INT, offsetof(struct server_cfg, threads), "0", 0, "HTTP worker threads (0 = one per CPU)", 0,
     256},
    {"max_connections", PANE_CFT_INT, offsetof(struct server_cfg, max_connections), "1024", 0,
     "open connections at most", 1, 1000000},
    {"idle_timeout", PANE_CFT_DURATION, offsetof(struct server_cfg, idle_timeout_ms), "30s", 0,
     "close a connection idle for this long", 1000, 3600000},
    {"max_connections_per_ip", PANE_CFT_INT, offsetof(struct server_cfg, max_connections_per_ip), "256", 0,
     "open connections per client address at most (0 = no limit)", 0, 1000000},
    {"header_timeout", PANE_CFT_DURATION, offsetof(struct server_cfg, header_timeout_ms), "10s", 0,
     "a new connection must send its whole request head within this", 1000, 3600000},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct log_cfg {
	char *level;
	char *format;
};

static const struct pane_cfg_field log_fields[] = {
    {"level", PANE_CFT_STRING, offsetof(struct log_cfg, level), NULL, 0, "debug, info, warn or error", 0, 0},
    {"format", PANE_CFT_STRING, offsetof(struct log_cfg, format), NULL, 0, "logfmt or json", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

struct stop_fn {
	void (*fn)(void *);
	void *arg;
};

struct reload_fn {
	int (*fn)(void *arg, const struct pane_cfg *cfg, struct pane_err *err);
	void *arg;
};

struct readiness {
	char *name;
	bool (*check)(void *arg, struct pane_err *err);
	void *arg;
};

struct readyz_info {
	char *name;
	void (*fn)(void *arg, struct pane_buf *out);
	void *arg;
};

struct serve_priv {
	struct readyz_info *infos;
	size_t n_infos;
	struct stop_fn *stops;
	size_t n_stops;
	struct reload_fn *reloads;
	size_t n_reloads;
	const char *config_path;    /* NULL: embedded defaults (a reload re-reads nothing) */
	struct pane_cfg **old_cfgs; /* every config loaded by a reload, freed at exit */
	size_t n_old_cfgs;
	pthread_mutex_t reload_mu; /* one reload at a time (SIGHUP and POST /-/reload) */
	struct readiness *checks;
	size_t n_checks;
	int64_t started_ms;
	/* /readyz runs the checks on its own thread (started by the first
	 * request): a check that hangs on a dependency holds that thread, not
	 * an HTTP one. A request asks for a run (wanted) and waits, bounded,
	 * for it (done). */
	pthread_mutex_t ready_mu;
	pthread_cond_t ready_cv;
	pthread_t ready_th;
	bool ready_started, ready_stop;
	uint64_t ready_wanted, ready_done;
	char *ready_body;
	int ready_status;
};

static void serve_on_stop(void *impl, void (*fn)(void *arg), void *arg)
{
	struct serve_priv *p = impl;
	p->stops = pane_xrealloc(p->stops, pane_mul_size(p->n_stops + 1, sizeof *p->stops));
	p->stops[p->n_stops].fn = fn;
	p->stops[p->n_stops].arg = arg;
	p->n_stops++;
}

static void serve_on_reload(void *impl, int (*fn)(void *arg, const struct pane_cfg *cfg, struct pane_err *err),
                            void *arg)
{
	struct serve_priv *p = impl;
	p->reloads = pane_xrealloc(p->reloads, pane_mul_size(p->n_reloads + 1, sizeof *p->reloads));
	p->reloads[p->n_reloads].fn = fn;
	p->reloads[p->n_reloads].arg = arg;
	p->n_reloads++;
}

/* Re-reads pane.yaml and hands it to every reload callback. 0, or the first
 * failure with every reason in msgs ("; "-separated). */
static int serve_reload(struct pane_host *s, struct pane_buf *msgs)
{
	struct serve_priv *p = s->impl;
	struct pane_err err = {0};
	int rc = 0;
	pthread_mutex_lock(&p->reload_mu);
	struct pane_cfg *cfg = p->config_path ? pane_cfg_load(p->config_path, &err) : pane_cfg_empty();
	if (!cfg || pane_cfg_check_sections(cfg, &err) < 0) {
		pane_buf_adds(msgs, err.msg);
		pane_cfg_free(cfg);
		cfg = NULL;
		rc = err.code ? err.code : PANE_EINVAL;
	}
	for (size_t i = 0; cfg && i < p->n_reloads; i++) {
		struct pane_err e = {0};
		int r = p->reloads[i].fn(p->reloads[i].arg, cfg, &e);
		if (r < 0) {
			if (msgs->len)
				pane_buf_adds(msgs, "; ");
			pane_buf_adds(msgs, e.msg[0] ? e.msg : "reload failed");
			if (rc == 0)
				rc = r;
		}
	}
	if (cfg) {
		p->old_cfgs = pane_xrealloc(p->old_cfgs, pane_mul_size(p->n_old_cfgs + 1, sizeof *p->old_cfgs));
		p->old_cfgs[p->n_old_cfgs++] = cfg;
	}
	pthread_mutex_unlock(&p->reload_mu);
	if (rc < 0)
		pane_log_kv(PANE_LOG_ERROR, "serve", "reload failed; the previous configuration keeps running", "error",
		            msgs->data ? msgs->data : "", NULL);
	else
		pane_info("serve", "configuration reloaded");
	return rc;
}

static void h_reload(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req;
	struct pane_buf msgs;
	pane_buf_init(&msgs, 64 * 1024);
	if (serve_reload(ctx, &msgs) < 0)
		pane_http_resp_error(resp, 400, "reload_failed", "%s", msgs.data ? msgs.data : "reload failed");
	else
		pane_http_resp_json(resp, 200, "{\"status\":\"reloaded\"}\n");
	pane_buf_release(&msgs);
}

static void serve_add_readiness(void *impl, const char *name, bool (*check)(void *arg, struct pane_err *err), void *arg)
{
	struct serve_priv *p = impl;
	p->checks = pane_xrealloc(p->checks, pane_mul_size(p->n_checks + 1, sizeof *p->checks));
	p->checks[p->n_checks].name = pane_xstrdup(name);
	p->checks[p->n_checks].check = check;
	p->checks[p->n_checks].arg = arg;
	p->n_checks++;
}

static void serve_add_readyz_info(void *impl, const char *name, void (*fn)(void *arg, struct pane_buf *out), void *arg)
{
	struct serve_priv *p = impl;
	p->infos = pane_xrealloc(p->infos, pane_mul_size(p->n_infos + 1, sizeof *p->infos));
	p->infos[p->n_infos].name = pane_xstrdup(name);
	p->infos[p->n_infos].fn = fn;
	p->infos[p->n_infos].arg = arg;
	p->n_infos++;
}

static const struct pane_host_ops serve_ops = {
    .on_stop = serve_on_stop,
    .add_readiness = serve_add_readiness,
    .add_readyz_info = serve_add_readyz_info,
    .on_reload = serve_on_reload,
};

/* Frees the pipeline (closing its sinks): a stop callback registered right
 * after the store's, so it runs after every producer has stopped and before
 * the store closes. */
static void pipeline_stop(void *arg)
{
	struct pane_host *s = arg;
	pane_pipeline_free(s->pipeline);
	s->pipeline = NULL;
}

/* ---------- built-in routes ---------- */

static void h_healthz(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req;
	(void)ctx;
	pane_http_resp_json(resp, 200, "{\"status\":\"ok\"}\n");
}

/* Runs every readiness check; the JSON body, *ok when all passed. */
static char *run_checks(struct serve_priv *p, bool *okp)
{
	struct pane_buf buf, *b = &buf;
	pane_buf_init(b, PANE_BUF_NOLIMIT);
	struct pane_json j;
	pane_json_init(&j, b);
	bool ok = true;
	pane_json_obj(&j);
	pane_json_key(&j, "checks");
	pane_json_obj(&j);
	for (size_t i = 0; i < p->n_checks; i++) {
		struct pane_err e = {0};
		bool good = p->checks[i].check(p->checks[i].arg, &e);
		ok = ok && good;
		pane_json_key(&j, p->checks[i].name);
		pane_json_str(&j, good ? "ok" : e.msg);
	}
	pane_json_obj_end(&j);
	for (size_t i = 0; i < p->n_infos; i++) {
		pane_json_key(&j, p->infos[i].name);
		pane_json_raw(&j, ""); /* the info writes its own value */
		p->infos[i].fn(p->infos[i].arg, b);
	}
	pane_json_key(&j, "status");
	pane_json_str(&j, ok ? "ready" : "not_ready");
	pane_json_obj_end(&j);
	pane_buf_addc(b, '\n');
	*okp = ok;
	return b->data;
}

static void *ready_main(void *arg)
{
	struct serve_priv *p = arg;
	pthread_mutex_lock(&p->ready_mu);
	for (;;) {
		while (!p->ready_stop && p->ready_done >= p->ready_wanted)
			pthread_cond_wait(&p->ready_cv, &p->ready_mu);
		if (p->ready_stop)
			break;
		uint64_t gen = p->ready_wanted;
		pthread_mutex_unlock(&p->ready_mu);
		bool ok;
		char *body = run_checks(p, &ok);
		pthread_mutex_lock(&p->ready_mu);
		free(p->ready_body);
		p->ready_body = body;
		p->ready_status = ok ? 200 : 503;
		p->ready_done = gen;
		pthread_cond_broadcast(&p->ready_cv);
	}
	pthread_mutex_unlock(&p->ready_mu);
	return NULL;
}

#define READY_WAIT_MS 5000

/* Runs on the server's blocking pool (.blocking): waits, bounded, for a run
 * of the checks that started after this request arrived. */
static void h_readyz(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req;
	struct pane_host *s = ctx;
	struct serve_priv *p = s->impl;
	pthread_mutex_lock(&p->ready_mu);
	if (!p->ready_started && !p->ready_stop)
		p->ready_started = pthread_create(&p->ready_th, NULL, ready_main, p) == 0;
	uint64_t mine = ++p->ready_wanted;
	pthread_cond_broadcast(&p->ready_cv);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += READY_WAIT_MS / 1000;
	while (p->ready_done < mine && pthread_cond_timedwait(&p->ready_cv, &p->ready_mu, &until) == 0)
		;
	if (p->ready_body && p->ready_done >= mine) {
		pane_buf_adds(pane_http_resp_body(resp), p->ready_body);
		pane_http_resp_status(resp, p->ready_status);
		pane_http_resp_content_type(resp, "application/json");
	} else {
		pane_http_resp_error(resp, 503, "not_ready", "the readiness checks did not finish within %d s",
		                     READY_WAIT_MS / 1000);
	}
	pthread_mutex_unlock(&p->ready_mu);
}

static void ready_stop(struct serve_priv *p)
{
	pthread_mutex_lock(&p->ready_mu);
	p->ready_stop = true;
	bool started = p->ready_started;
	pthread_cond_broadcast(&p->ready_cv);
	pthread_mutex_unlock(&p->ready_mu);
	if (started)
		pthread_join(p->ready_th, NULL);
	free(p->ready_body);
	pthread_mutex_destroy(&p->ready_mu);
	pthread_cond_destroy(&p->ready_cv);
}

static void h_metrics(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req;
	struct pane_host *s = ctx;
	struct serve_priv *p = s->impl;
	struct pane_stat *up = pane_stats_gauge(s->stats, "pane_uptime_seconds", NULL, "seconds since pane started");
	pane_stat_set(up, (double)(pane_wall_ms() - p->started_ms) / 1000.0);
	pane_stats_render(s->stats, pane_http_resp_body(resp));
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "text/plain; version=0.0.4; charset=utf-8");
}

static bool check_data_dir(void *arg, struct pane_err *err)
{
	const char *dir = arg;
	if (access(dir, W_OK) == 0)
		return true;
	pane_err_set(err, PANE_EIO, "data directory %s is not writable: %s", dir, strerror(errno));
	return false;
}

static bool check_postgres(void *arg, struct pane_err *err)
{
	const char *url = arg;
	/* bounded: a frozen server still accepts TCP connections */
	static const char *const keys[] = {"connect_timeout", "dbname", NULL};
	const char *vals[] = {"3", url, NULL};
	PGPing ping = PQpingParams(keys, vals, 1);
	if (ping == PQPING_OK)
		return true;
	pane_err_set(err, PANE_EDB, "%s",
	             ping == PQPING_REJECT       ? "PostgreSQL rejects connections (starting up or shutting down?)"
	             : ping == PQPING_NO_ATTEMPT ? "bad database URL"
	                                         : "PostgreSQL is not reachable");
	return false;
}

/* ---------- run ---------- */

static int make_dir(const char *dir, struct pane_err *err)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
		return pane_err_set(err, PANE_EINVAL, "data directory path is too long");
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return pane_err_set(err, PANE_EIO, "cannot create %s: %s", path, strerror(errno));
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return pane_err_set(err, PANE_EIO, "cannot create data directory %s: %s", path, strerror(errno));
	return 0;
}

int pane_serve_run(const struct pane_serve_opts *opts)
{
	const char *cmd = opts->demo ? "demo" : "serve";
	struct pane_err err = {0};
	struct pane_cfg *cfg = NULL;
	struct server_cfg sc = {0};
	struct log_cfg lc = {0};
	struct serve_priv priv = {0};
	struct pane_host s = {0};
	int status = PANE_EXIT_FAILURE;
	bool pipeline_owned = true; /* until pipeline_stop is registered */
	pthread_mutex_init(&priv.ready_mu, NULL);
	pthread_cond_init(&priv.ready_cv, NULL);

	if (pane_signals_install() < 0) {
		fprintf(stderr, "pane %s: cannot install signal handlers\n", cmd);
		return PANE_EXIT_FAILURE;
	}
	cfg = opts->config_path ? pane_cfg_load(opts->config_path, &err) : pane_cfg_empty();
	if (!cfg)
		goto fail;
	if (pane_cfg_check_sections(cfg, &err) < 0 ||
	    pane_cfg_bind(cfg, pane_cfg_get(cfg->root, "server"), server_fields, &sc, &err) < 0 ||
	    pane_cfg_bind(cfg, pane_cfg_get(cfg->root, "log"), log_fields, &lc, &err) < 0)
		goto fail;
	if (lc.level || lc.format) {
		enum pane_log_level lvl = PANE_LOG_INFO;
		enum pane_log_format fmt = PANE_LOG_LOGFMT;
		if (lc.level && pane_log_level_parse(lc.level, &lvl) < 0) {
			pane_cfg_error(cfg, pane_cfg_lookup(cfg->root, "log.level"), &err,
			               "'%s' is not one of debug, info, warn, error", lc.level);
			goto fail;
		}
		if (lc.format && pane_log_format_parse(lc.format, &fmt) < 0) {
			pane_cfg_error(cfg, pane_cfg_lookup(cfg->root, "log.format"), &err,
			               "'%s' is not logfmt or json", lc.format);
			goto fail;
		}
		pane_log_setup(lvl, fmt);
	}
	const char *listen = opts->listen ? opts->listen : sc.listen;
	const char *data_dir = opts->data_dir ? opts->data_dir : sc.data_dir;
	if (make_dir(data_dir, &err) < 0)
		goto fail;

	priv.started_ms = pane_wall_ms();
	priv.config_path = opts->config_path;
	pthread_mutex_init(&priv.reload_mu, NULL);
	s.cfg = cfg;
	s.data_dir = data_dir;
	s.demo = opts->demo;
	s.impl = &priv;
	s.ops = &serve_ops;
	const char *db = getenv("DATABASE_URL");
	s.database_url = db && *db ? db : NULL;
	s.stats = pane_stats_new();
	struct pane_http_server_opts ho = {
	    .listen = listen,
	    .threads = (unsigned)sc.threads,
	    .max_connections = (unsigned)sc.max_connections,
	    .idle_timeout_s = (unsigned)(sc.idle_timeout_ms / 1000),
	    .max_connections_per_ip = (unsigned)sc.max_connections_per_ip,
	    .header_timeout_s = (unsigned)(sc.header_timeout_ms / 1000),
	    .stats = s.stats,
	};
	s.http = pane_http_server_new(&ho, &err);
	if (!s.http)
		goto fail;

	if (opts->on_start && opts->on_start(&s, opts->arg, &err) < 0)
		goto fail;

	/* 0. the pipeline every producer writes through, the store its primary sink */
	s.pipeline = pane_pipeline_new();
	/* held until every sink is attached (opened before the server starts) */
	pane_pipeline_hold(s.pipeline);
	if (pane_store_attach(&s, &err) < 0)
		goto fail;
	pane_host_on_stop(&s, pipeline_stop, &s);
	pipeline_owned = false;

	/* 1. built-in routes */
	pane_http_server_route(
	    s.http, &(struct pane_http_route){.method = "GET", .pattern = "/healthz", .handler = h_healthz, .ctx = &s});
	pane_http_server_route(
	    s.http, &(struct pane_http_route){
	                .method = "GET", .pattern = "/readyz", .handler = h_readyz, .ctx = &s, .blocking = true});
	pane_http_server_route(
	    s.http, &(struct pane_http_route){.method = "GET", .pattern = "/metrics", .handler = h_metrics, .ctx = &s});
	pane_http_server_route(s.http, &(struct pane_http_route){
	                                   .method = "POST", .pattern = "/-/reload", .handler = h_reload, .ctx = &s});
	pane_host_add_readiness(&s, "data_dir", check_data_dir, (void *)data_dir);
	if (s.database_url)
		pane_host_add_readiness(&s, "postgres", check_postgres, (void *)s.database_url);
	/* 2. queue */
	if (pane_queue_attach(&s, &err) < 0)
		goto fail;

	/* 3. api (auth always; jobs API and uploads with PostgreSQL) */
	if (pane_api_attach(&s, &err) < 0)
		goto fail;

	/* 4. sources */
	if (pane_sources_attach(&s, &err) < 0)
		goto fail;

	/* 5. receivers */
	if (pane_receivers_attach(&s, &err) < 0)
		goto fail;

	/* 5b. outputs: forwarding to other engines (secondary sinks) */
	if (pane_outputs_attach(&s, &err) < 0)
		goto fail;

	/* 5c. which reader steps 6, 8 and 9 read metrics from: the store's, or
	 * the remote backend's when query: backend: names one (src/remote) */
	struct pane_reader rd = {0};
	if (s.store)
		rd = pane_store_reader(s.store);
	if (pane_remote_attach(&s, &rd, &err) < 0)
		goto fail;

	/* pane's own /metrics into the pipeline, once every producer and sink
	 * attached: the outputs see it from the first scrape, and it knows
	 * whether a queue source owns pane_queue_* (selfscrape.c) */
	if (pane_serve_selfscrape_start(&s, &err) < 0)
		goto fail;

	/* 6. query API: PromQL over that reader; logs from the store */
	if (rd.ops && pane_query_attach(&s, rd, &err) < 0)
		goto fail;
	if (s.store && pane_logs_api_add(s.http, s.store, &err) < 0)
		goto fail;
	if (s.store && pane_loki_attach(&s, pane_store_logreader(s.store), &err) < 0)
		goto fail;

	/* 7. notify: alerting:, the /api/v2 routes, s.alerts */
	if (pane_notify_attach(&s, &err) < 0)
		goto fail;

	/* 8. rules: rules:, /api/v1/rules, /api/v1/alerts; alerts to s.alerts when notify set it */
	if (rd.ops && pane_rules_attach(&s, rd, &err) < 0)
		goto fail;

	/* 9. console: the web console at / (after every API it calls) */
	if (pane_console_attach_reader(&s, rd, &err) < 0)
		goto fail;

	/* every sink is attached: the producers started above may write */
	pane_pipeline_open(s.pipeline);
	if (pane_http_server_start(s.http, &err) < 0)
		goto fail;
	int port = pane_http_server_port(s.http);
	pane_log_kv(PANE_LOG_INFO, "serve", "pane is running", "listen", listen, "data_dir", data_dir, "postgres",
	            s.database_url ? "configured" : "not configured", NULL);
	if (opts->on_ready)
		opts->on_ready(&s, port, opts->arg);

	unsigned reloads_seen = pane_signals_reload_count();
	while (!pane_signals_wait(-1)) {
		unsigned now = pane_signals_reload_count();
		if (now == reloads_seen)
			continue;
		reloads_seen = now;
		struct pane_buf msgs;
		pane_buf_init(&msgs, 64 * 1024);
		serve_reload(&s, &msgs); /* logs its own outcome */
		pane_buf_release(&msgs);
	}
	pane_info("serve", "stopping");
	status = PANE_EXIT_OK;

fail:
	if (s.pipeline) /* producers waiting at the gate must reach their stop */
		pane_pipeline_open(s.pipeline);
	if (status != PANE_EXIT_OK && err.code)
		pane_cli_fail(cmd, &err);
	pane_http_server_free(s.http);
	ready_stop(&priv);    /* its checks use the parts stopped below */
	if (pipeline_owned) { /* the store did not attach: no producer has it either */
		pane_pipeline_free(s.pipeline);
		s.pipeline = NULL;
	}
	for (size_t i = priv.n_stops; i-- > 0;)
		priv.stops[i].fn(priv.stops[i].arg);
	free(priv.stops);
	free(priv.reloads);
	for (size_t i = 0; i < priv.n_old_cfgs; i++)
		pane_cfg_free(priv.old_cfgs[i]);
	free(priv.old_cfgs);
	for (size_t i = 0; i < priv.n_checks; i++)
		free(priv.checks[i].name);
	free(priv.checks);
	for (size_t i = 0; i < priv.n_infos; i++)
		free(priv.infos[i].name);
	free(priv.infos);
	pane_stats_free(s.stats);
	pane_cfg_unbind(server_fields, &sc);
	pane_cfg_unbind(log_fields, &lc);
	pane_cfg_free(cfg);
	if (status == PANE_EXIT_OK)
		pane_info("serve", "stopped");
	return status;
}

static const char serve_usage[] = "usage: pane serve [--config pane.yaml] [--listen HOST:PORT] [--data-dir DIR]\n";

int pane_cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"listen", required_argument, NULL, 'l'},
	    {"data-dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {0, 0, 0, 0},
	};
	struct pane_serve_opts so = {0};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:l:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': so.config_path = optarg; break;
		case 'l': so.listen = optarg; break;
		case 'd': so.data_dir = optarg; break;
		case 'h':
			printf(
			    "pane serve - run the console: HTTP API, receivers, sources, store and alerts\n\n%s\n"
			    "With no config file pane runs on embedded defaults: it listens on 127.0.0.1:8080,\n"
			    "keeps data in ./pane-data, and enables the jobs API when DATABASE_URL is set.\n\n"
			    "options:\n"
			    "  -c, --config FILE     pane.yaml to load (see examples/pane.yaml)\n"
			    "  -l, --listen ADDR     HOST:PORT to listen on (overrides server.listen)\n"
			    "  -d, --data-dir DIR    data directory (overrides server.data_dir)\n"
			    "  -h, --help            this help\n\n"
			    "endpoints: GET /healthz (alive), GET /readyz (dependencies), GET /metrics (pane's own),\n"
			    "  POST /-/reload (re-read pane.yaml, as SIGHUP does), GET / (the web console, "
			    "docs/console.md)\n"
			    "with DATABASE_URL: the jobs API (POST /v1/queues/Q/jobs, GET /v1/jobs/ID[/events],\n"
			    "  POST /v1/uploads/Q, GET /v1/queues ...; see docs/edge-functions.md)\n"
			    "Without auth tokens (auth: in pane.yaml) pane listens on loopback addresses only.\n"
			    "Stops cleanly on SIGINT or SIGTERM; SIGHUP reloads pane.yaml.\n",
			    serve_usage);
			return PANE_EXIT_OK;
		default: return pane_cli_bad_option("serve", serve_usage, argv);
		}
	}
	if (optind < argc)
		return pane_cli_usage_error("serve", serve_usage, "unexpected argument '%s'", argv[optind]);
	return pane_serve_run(&so);
}
