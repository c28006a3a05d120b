/*
 * sources.c - the pull-source framework: config binding, one thread per
 * instance, standard labels, health series, cursor files.
 *
 * Idea: a source plugin only knows how to fetch once (collect) and how to
 * turn what it fetched into records. Everything every source needs the same
 * way lives here, so a new provider is one file and cannot get the
 * scheduling, labelling or health reporting subtly wrong. One thread per
 * instance (rather than one scheduler thread with a queue) is chosen because
 * sources block: libpq and libcurl calls wait on the network, and a thread
 * that blocks delays nobody else. Instances are few (tens), so threads are
 * cheap.
 *
 * Invariants:
 *   (1) After every collection the instance's health series are written,
 *       whatever the outcome: up, last success, duration, errors by reason.
 *   (2) Samples and logs emitted during a collection are buffered in the
 *       instance and written in batches; the last batch is written before
 *       the health series, so "up=1" never precedes the data it vouches for.
 *       A source that keeps a cursor calls pane_source_flush() first and
 *       advances the cursor only when the store accepted.
 *   (3) A stop request wakes every sleeping instance at once (one condition
 *       variable on the monotonic clock) and cancels HTTP transfers through
 *       pane_source_stopping(); pane_sources_free() joins every thread before
 *       any close() runs.
 *   (4) Cursor files are replaced with write-temp + fsync + rename + fsync of
 *       the directory, so a crash leaves the old or the new cursor, never a
 *       torn one.
 *   (5) A request attempt that times out marks the instance down at once
 *       (the HTTP client's on_attempt hook), not when the collection ends:
 *       a hung provider is visible within one `timeout`. The remaining
 *       parts of that collection are skipped.
 *   (6) Parts are reported one by one (pane_source_part_up{part}); an
 *       optional part that fails leaves the instance up, and one the
 *       provider does not offer (404/403) is marked unavailable.
 *
 * Threads: instance threads run collect and write to the pipeline (which is
 * thread-safe). The status of an instance is guarded by its mutex, so
 * pane_sources_status() may be called from any thread.
 */
#include "sources/sources.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
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
#include "base/stats.h"
#include "config/config.h"
#include "pipeline/pipeline.h"
#include "host/host.h"

#define BATCH_MAX 1000
#define REASONS_MAX 32

struct pending_sample {
	char *name;
	struct pane_labels labels;
	int64_t ts_ms;
	double value;
};

struct pending_log {
	struct pane_labels labels;
	int64_t ts_ms;
	enum pane_log_severity sev;
	char *message;
	size_t message_len;
	char *fields_json;
};

#define LOG_BATCH_MAX 500

struct reason_count {
	char reason[64];
	uint64_t count;
	struct pane_stat *stat;
};

struct pane_source {
	struct pane_sources *owner;
	const struct pane_source_plugin *plugin;
	char *name;
	void *cfg;                     /* plugin config struct, cfg_size bytes */
	struct pane_cfg_field *fields; /* merged table (common + plugin) */
	char def_interval[32], def_timeout[32];
	void *ctx;
	bool inited;
	struct pane_labels labels;        /* provider, service, environment */
	struct pane_labels health_labels; /* + source */

	/* per collection (instance thread only) */
	struct pending_sample *batch;
	size_t n_batch;
	struct pending_log *logs;
	size_t n_logs;
	int64_t now_ms;
	char reason[64];
	uint64_t dropped;
	int flush_rc;
	struct pane_err flush_err;
	bool timed_out;   /* a request of this collection got no answer in time */
	long last_status; /* HTTP status of the last request attempt (0: none) */

	pthread_t thread;
	bool started;

	pthread_mutex_t mu; /* guards st and reasons */
	struct pane_source_status st;
	struct reason_count reasons[REASONS_MAX];
	size_t n_reasons;
	struct pane_stat *stat_up, *stat_last, *stat_dur, *stat_coll;
};

struct pane_sources {
	struct pane_source **inst;
	size_t n;
	struct pane_pipeline *pipeline;
	struct pane_stats *stats;
	char *cursor_dir;
	atomic_bool stopping;
	pthread_mutex_t mu;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC */
	bool threads_started;
};

/* ---------- registry lookup ---------- */

const struct pane_source_plugin *pane_source_plugin_find(const char *name)
{
	for (size_t i = 0; pane_source_plugins[i]; i++)
		if (strcmp(pane_source_plugins[i]->name, name) == 0)
			return pane_source_plugins[i];
	return NULL;
}

/* ---------- config ---------- */

static const struct pane_cfg_field common_fields[] = {
    {"type", PANE_CFT_STRING, offsetof(struct pane_source_common, type), NULL, 0,
     "source type (postgres, supabase, sql, queue, ...); defaults to the instance name", 0, 0},
    {"enabled", PANE_CFT_BOOL, offsetof(struct pane_source_common, enabled), "true", 0,
     "false keeps the entry but does not run it", 0, 0},
    {"interval", PANE_CFT_DURATION, offsetof(struct pane_source_common, interval_ms), NULL, 0,
     "time between two collections", 1000, 7 * 86400000LL},
    {"timeout", PANE_CFT_DURATION, offsetof(struct pane_source_common, timeout_ms), NULL, 0,
     "deadline of one request or statement", 100, 3600000},
    {"service", PANE_CFT_STRING, offsetof(struct pane_source_common, service), NULL, 0,
     "value of the service label (default: the instance name)", 0, 0},
    {"environment", PANE_CFT_STRING, offsetof(struct pane_source_common, environment), PANE_DEFAULT_ENVIRONMENT, 0,
     "value of the environment label", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};
#define N_COMMON (sizeof common_fields / sizeof common_fields[0] - 1)

static bool name_ok(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

static struct pane_source_common *common_of(struct pane_source *src)
{
	return (struct pane_source_common *)src->cfg;
}

static void instance_free(struct pane_source *src)
{
	if (!src)
		return;
	if (src->inited && src->plugin->close)
		src->plugin->close(src->ctx);
	if (src->fields && src->cfg)
		pane_cfg_unbind(src->fields, src->cfg);
	free(src->fields);
	free(src->cfg);
	for (size_t i = 0; i < src->n_batch; i++) {
		free(src->batch[i].name);
		pane_labels_release(&src->batch[i].labels);
	}
	free(src->batch);
	for (size_t i = 0; i < src->n_logs; i++) {
		pane_labels_release(&src->logs[i].labels);
		free(src->logs[i].message);
		free(src->logs[i].fields_json);
	}
	free(src->logs);
	pane_labels_release(&src->labels);
	pane_labels_release(&src->health_labels);
	pthread_mutex_destroy(&src->mu);
	free(src->name);
	free(src);
}

static struct pane_source *instance_new(struct pane_sources *ss, const struct pane_cfg *cfg,
                                        const struct pane_cfg_node *node, struct pane_err *err)
{
	const char *name = node->key;
	if (!name_ok(name)) {
		pane_cfg_error(cfg, node, err, "instance names are letters, digits, '_' and '-' (at most 64)");
		return NULL;
	}
	if (node->kind != PANE_CFG_MAP && node->kind != PANE_CFG_NULL) {
		pane_cfg_error(cfg, node, err, "expected a map of settings");
		return NULL;
	}
	const struct pane_cfg_node *tn = pane_cfg_get(node, "type");
	const char *type = tn && tn->kind == PANE_CFG_SCALAR ? tn->value : name;
	const struct pane_source_plugin *pl = pane_source_plugin_find(type);
	if (!pl) {
		struct pane_buf known;
		pane_buf_init(&known, 1024);
		for (size_t i = 0; pane_source_plugins[i]; i++)
			pane_buf_addf(&known, "%s%s", i ? ", " : "", pane_source_plugins[i]->name);
		pane_cfg_error(cfg, tn ? tn : node, err, "unknown source type '%s' (known types: %s)", type,
		               known.data);
		if (!tn)
			pane_err_detail(err, "name the type with `type:` when the instance name is not a type");
		pane_buf_release(&known);
		return NULL;
	}

	struct pane_source *src = pane_xcalloc(1, sizeof *src);
	pthread_mutex_init(&src->mu, NULL);
	src->owner = ss;
	src->plugin = pl;
	src->name = pane_xstrdup(name);
	src->cfg = pane_xcalloc(1, pl->cfg_size < sizeof(struct pane_source_common) ? sizeof(struct pane_source_common)
	                                                                            : pl->cfg_size);
	size_t n_pl = 0;
	while (pl->fields && pl->fields[n_pl].key)
		n_pl++;
	src->fields = pane_xcalloc(N_COMMON + n_pl + 1, sizeof *src->fields);
	memcpy(src->fields, common_fields, N_COMMON * sizeof *src->fields);
	if (n_pl)
		memcpy(src->fields + N_COMMON, pl->fields, n_pl * sizeof *src->fields);
	pane_duration_format(pl->default_interval_ms > 0 ? pl->default_interval_ms : 60000, src->def_interval,
	                     sizeof src->def_interval);
	pane_duration_format(pl->default_timeout_ms > 0 ? pl->default_timeout_ms : 10000, src->def_timeout,
	                     sizeof src->def_timeout);
	for (size_t i = 0; i < N_COMMON; i++) {
		if (strcmp(src->fields[i].key, "interval") == 0)
			src->fields[i].def = src->def_interval;
		else if (strcmp(src->fields[i].key, "timeout") == 0)
			src->fields[i].def = src->def_timeout;
	}
	if (pane_cfg_bind(cfg, node->kind == PANE_CFG_MAP ? node : NULL, src->fields, src->cfg, err) < 0)
		goto fail;
	struct pane_source_common *c = common_of(src);
	pane_labels_init(&src->labels);
	pane_labels_set(&src->labels, PANE_LABEL_PROVIDER, pl->provider);
	if (pane_labels_set(&src->labels, PANE_LABEL_SERVICE, c->service && *c->service ? c->service : name) < 0 ||
	    pane_labels_set(&src->labels, PANE_LABEL_ENVIRONMENT, c->environment ? c->environment : "") < 0) {
		pane_cfg_error(cfg, node, err, "service or environment label is too long");
		goto fail;
	}
	pane_labels_copy(&src->health_labels, &src->labels);
	pane_labels_set(&src->health_labels, "source", name);
	if (!c->enabled)
		return src;
	if (pl->init) {
		src->inited = true;
		if (pl->init(src, src->cfg, cfg, node, &src->ctx, err) < 0) {
			if (!strstr(err->msg, name))
				pane_err_prefix(err, "sources.%s", name);
			goto fail;
		}
	} else {
		src->inited = true;
	}
	return src;
fail:
	instance_free(src);
	return NULL;
}

static void register_stats(struct pane_source *src)
{
	struct pane_stats *st = src->owner->stats;
	if (!st)
		return;
	char lbl[128];
	snprintf(lbl, sizeof lbl, "source=\"%s\"", src->name);
	src->stat_up = pane_stats_gauge(st, "pane_source_up", lbl, "1 when the source's last collection succeeded");
	src->stat_last = pane_stats_gauge(st, "pane_source_last_success_timestamp_seconds", lbl,
	                                  "Unix time of the source's last successful collection");
	src->stat_dur = pane_stats_gauge(st, "pane_source_scrape_duration_seconds", lbl,
	                                 "duration of the source's last collection");
	src->stat_coll = pane_stats_counter(st, "pane_source_collections_total", lbl, "collections attempted");
}

struct pane_sources *pane_sources_new(const struct pane_sources_opts *opts, struct pane_err *err)
{
	struct pane_sources *ss = pane_xcalloc(1, sizeof *ss);
	ss->pipeline = opts->pipeline;
	ss->stats = opts->stats;
	atomic_init(&ss->stopping, false);
	pthread_mutex_init(&ss->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ss->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (opts->data_dir) {
		struct pane_buf b;
		pane_buf_init(&b, 4096);
		if (pane_buf_addf(&b, "%s/sources", opts->data_dir) < 0) {
			pane_err_set(err, PANE_EINVAL, "data directory path is too long");
			pane_buf_release(&b);
			goto fail;
		}
		ss->cursor_dir = pane_buf_detach(&b, NULL);
	}
	const struct pane_cfg_node *sec = opts->section;
	if (sec && sec->kind != PANE_CFG_MAP && sec->kind != PANE_CFG_NULL) {
		pane_cfg_error(opts->cfg, sec, err, "expected a map of source instances");
		goto fail;
	}
	for (size_t i = 0; sec && sec->kind == PANE_CFG_MAP && i < sec->n_items; i++) {
		struct pane_source *src = instance_new(ss, opts->cfg, sec->items[i], err);
		if (!src)
			goto fail;
		if (!common_of(src)->enabled) {
			pane_info("sources", "source %s is disabled in the config", src->name);
			instance_free(src);
			continue;
		}
		ss->inst = pane_xrealloc(ss->inst, pane_mul_size(ss->n + 1, sizeof *ss->inst));
		ss->inst[ss->n++] = src;
		register_stats(src);
	}
	return ss;
fail:
	pane_sources_free(ss);
	return NULL;
}

size_t pane_sources_count(const struct pane_sources *ss)
{
	return ss ? ss->n : 0;
}

static struct pane_source *find_instance(struct pane_sources *ss, const char *name)
{
	for (size_t i = 0; i < ss->n; i++)
		if (strcmp(ss->inst[i]->name, name) == 0)
			return ss->inst[i];
	return NULL;
}

struct pane_source *pane_sources_instance(struct pane_sources *ss, const char *instance)
{
	return find_instance(ss, instance);
}

/* ---------- emitting ---------- */

const char *pane_source_name(const struct pane_source *src)
{
	return src->name;
}

const struct pane_labels *pane_source_labels(const struct pane_source *src)
{
	return &src->labels;
}

int64_t pane_source_now_ms(const struct pane_source *src)
{
	return src->now_ms ? src->now_ms : pane_wall_ms();
}

bool pane_source_stopping(const struct pane_source *src)
{
	return atomic_load(&src->owner->stopping);
}

void pane_source_set_reason(struct pane_source *src, const char *reason)
{
	snprintf(src->reason, sizeof src->reason, "%s", reason ? reason : "");
}

const char *pane_source_reason(const struct pane_source *src)
{
	return src->reason;
}

static int flush_batch(struct pane_source *src)
{
	if (src->n_batch == 0)
		return 0;
	struct pane_sample *s = pane_xmalloc(pane_mul_size(src->n_batch, sizeof *s));
	for (size_t i = 0; i < src->n_batch; i++) {
		s[i].name = src->batch[i].name;
		s[i].labels = &src->batch[i].labels;
		s[i].ts_ms = src->batch[i].ts_ms;
		s[i].value = src->batch[i].value;
	}
	int rc = 0;
	if (src->owner->pipeline) {
		struct pane_err e = {0};
		rc = pane_pipeline_write_samples(src->owner->pipeline, s, src->n_batch, &e);
		if (rc < 0 && src->flush_rc == 0) {
			src->flush_rc = rc;
			src->flush_err = e;
		}
	}
	free(s);
	for (size_t i = 0; i < src->n_batch; i++) {
		free(src->batch[i].name);
		pane_labels_release(&src->batch[i].labels);
	}
	src->n_batch = 0;
	return rc;
}

static int flush_logs(struct pane_source *src)
{
	if (src->n_logs == 0)
		return 0;
	struct pane_log_record *l = pane_xmalloc(pane_mul_size(src->n_logs, sizeof *l));
	for (size_t i = 0; i < src->n_logs; i++) {
		struct pending_log *p = &src->logs[i];
		l[i] = (struct pane_log_record){.ts_ms = p->ts_ms,
		                                .labels = &p->labels,
		                                .severity = p->sev,
		                                .message = p->message,
		                                .message_len = p->message_len,
		                                .fields_json = p->fields_json};
	}
	int rc = 0;
	if (src->owner->pipeline) {
		struct pane_err e = {0};
		rc = pane_pipeline_write_logs(src->owner->pipeline, l, src->n_logs, &e);
		if (rc < 0 && src->flush_rc == 0) {
			src->flush_rc = rc;
			src->flush_err = e;
		}
	}
	free(l);
	for (size_t i = 0; i < src->n_logs; i++) {
		pane_labels_release(&src->logs[i].labels);
		free(src->logs[i].message);
		free(src->logs[i].fields_json);
	}
	src->n_logs = 0;
	return rc;
}

int pane_source_flush(struct pane_source *src, struct pane_err *err)
{
	int before = src->flush_rc;
	flush_batch(src);
	flush_logs(src);
	if (src->flush_rc < 0 && before == 0) {
		if (err)
			*err = src->flush_err;
		pane_source_set_reason(src, "store");
		return src->flush_rc;
	}
	return before < 0 ? before : 0;
}

/* Copies extra and adds the instance's common labels under it. */
static int build_labels(struct pane_source *src, const struct pane_labels *extra, struct pane_labels *out)
{
	if (extra)
		pane_labels_copy(out, extra);
	else
		pane_labels_init(out);
	for (size_t i = 0; i < src->labels.n; i++) {
		if (pane_labels_get(out, src->labels.v[i].name))
			continue;
		int rc = pane_labels_set(out, src->labels.v[i].name, src->labels.v[i].value);
		if (rc < 0) {
			pane_labels_release(out);
			return rc;
		}
	}
	return 0;
}

int pane_source_emit_sample(struct pane_source *src, const char *name, const struct pane_labels *extra, int64_t ts_ms,
                            double value)
{
	if (!name || !pane_metric_name_valid(name, strlen(name))) {
		src->dropped++;
		return PANE_EINVAL;
	}
	struct pane_labels ls;
	int rc = build_labels(src, extra, &ls);
	if (rc < 0) {
		src->dropped++;
		return rc;
	}
	if (src->n_batch == BATCH_MAX)
		flush_batch(src);
	if (!src->batch)
		src->batch = pane_xcalloc(BATCH_MAX, sizeof *src->batch);
	struct pending_sample *p = &src->batch[src->n_batch++];
	p->name = pane_xstrdup(name);
	p->labels = ls;
	p->ts_ms = ts_ms ? ts_ms : pane_source_now_ms(src);
	p->value = value;
	return 0;
}

int pane_source_emit_samplev(struct pane_source *src, const char *name, int64_t ts_ms, double value, ...)
{
	struct pane_labels ls;
	pane_labels_init(&ls);
	va_list ap;
	va_start(ap, value);
	int rc = 0;
	const char *k;
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		if (rc == 0 && v)
			rc = pane_labels_set(&ls, k, v);
	}
	va_end(ap);
	if (rc == 0)
		rc = pane_source_emit_sample(src, name, &ls, ts_ms, value);
	else
		src->dropped++;
	pane_labels_release(&ls);
	return rc;
}

int pane_source_emit_log(struct pane_source *src, const struct pane_labels *extra, int64_t ts_ms,
                         enum pane_log_severity sev, const char *msg, size_t msg_len, const char *fields_json)
{
	struct pane_labels ls;
	int rc = build_labels(src, extra, &ls);
	if (rc < 0) {
		src->dropped++;
		return rc;
	}
	if (src->n_logs == LOG_BATCH_MAX)
		flush_logs(src);
	if (!src->logs)
		src->logs = pane_xcalloc(LOG_BATCH_MAX, sizeof *src->logs);
	struct pending_log *p = &src->logs[src->n_logs++];
	p->labels = ls;
	p->ts_ms = ts_ms ? ts_ms : pane_source_now_ms(src);
	p->sev = sev;
	p->message = pane_xstrndup(msg ? msg : "", msg ? msg_len : 0);
	p->message_len = msg ? msg_len : 0;
	p->fields_json = pane_xstrdup(fields_json);
	return 0;
}

int pane_source_emit_event(struct pane_source *src, const struct pane_labels *extra, int64_t ts_ms, const char *kind,
                           const char *title, const char *url, const char *body_json, const char *dedup_key)
{
	struct pane_labels ls;
	int rc = build_labels(src, extra, &ls);
	if (rc < 0) {
		src->dropped++;
		return rc;
	}
	struct pane_event e = {
	    .ts_ms = ts_ms ? ts_ms : pane_source_now_ms(src),
	    .kind = kind,
	    .labels = &ls,
	    .title = title ? title : "",
	    .url = url,
	    .body_json = body_json,
	    .dedup_key = dedup_key,
	};
	if (src->owner->pipeline) {
		struct pane_err pe = {0};
		rc = pane_pipeline_write_events(src->owner->pipeline, &e, 1, &pe);
		if (rc < 0 && src->flush_rc == 0) {
			src->flush_rc = rc;
			src->flush_err = pe;
		}
	}
	pane_labels_release(&ls);
	return rc;
}

void pane_source_emit_metadata(struct pane_source *src, const struct pane_metadata *m, size_t n)
{
	static struct pane_log_limit lim = {.burst = 3, .per_ms = 60000};
	struct pane_err e = {0};
	if (src->owner->pipeline && pane_pipeline_write_metadata(src->owner->pipeline, m, n, &e) < 0)
		pane_log_limited(&lim, PANE_LOG_WARN, "sources", "%s: metadata not stored: %s", src->name, e.msg);
}

/* ---------- waiting ---------- */

static bool wait_until_mono(struct pane_sources *ss, int64_t deadline_ns)
{
	pthread_mutex_lock(&ss->mu);
	while (!atomic_load(&ss->stopping)) {
		int64_t now = pane_mono_ns();
		if (now >= deadline_ns)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t left = deadline_ns - now;
		ts.tv_sec += (time_t)(left / 1000000000LL);
		ts.tv_nsec += (long)(left % 1000000000LL);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&ss->cond, &ss->mu, &ts);
	}
	bool stop = atomic_load(&ss->stopping);
	pthread_mutex_unlock(&ss->mu);
	return !stop;
}

bool pane_source_sleep(struct pane_source *src, int64_t ms)
{
	return wait_until_mono(src->owner, pane_mono_ns() + ms * 1000000LL);
}

static bool http_cancel(void *arg)
{
	const struct pane_source *src = arg;
	return atomic_load(&src->owner->stopping);
}

/* Down at once: the store, /metrics and /readyz see it while the client
 * still retries. */
static void mark_down_now(struct pane_source *src, const char *reason, const char *msg)
{
	pthread_mutex_lock(&src->mu);
	src->st.up = false;
	snprintf(src->st.last_reason, sizeof src->st.last_reason, "%s", reason);
	snprintf(src->st.last_error, sizeof src->st.last_error, "%s", msg);
	pthread_mutex_unlock(&src->mu);
	if (src->stat_up)
		pane_stat_set(src->stat_up, 0);
	if (src->owner->pipeline) {
		struct pane_sample smp = {"pane_source_up", &src->health_labels, pane_wall_ms(), 0};
		struct pane_err e = {0};
		if (pane_pipeline_write_samples(src->owner->pipeline, &smp, 1, &e) < 0)
			pane_warn("sources", "source %s: health series not stored: %s", src->name, e.msg);
	}
	pane_log_kv(PANE_LOG_WARN, "sources", "source down", "source", src->name, "reason", reason, "error", msg, NULL);
}

static void http_attempt(void *arg, int rc, long status)
{
	struct pane_source *src = arg;
	src->last_status = status;
	if (rc != PANE_ETIMEDOUT || src->timed_out)
		return;
	src->timed_out = true;
	char msg[128];
	snprintf(msg, sizeof msg, "a request got no answer within %lld ms",
	         (long long)((const struct pane_source_common *)src->cfg)->timeout_ms);
	mark_down_now(src, "timeout", msg);
}

void pane_source_http_opts(const struct pane_source *src, struct pane_http_client_opts *opts)
{
	memset(opts, 0, sizeof *opts);
	opts->timeout_ms = ((const struct pane_source_common *)src->cfg)->timeout_ms;
	opts->cancel = http_cancel;
	opts->cancel_arg = (void *)src;
	opts->on_attempt = http_attempt;
	opts->on_attempt_arg = (void *)src;
}

/* ---------- cursor files ---------- */

static int cursor_path(struct pane_source *src, const char *suffix, struct pane_buf *out, struct pane_err *err)
{
	if (!src->owner->cursor_dir)
		return pane_err_set(err, PANE_EINVAL, "no data directory for the cursor of source %s", src->name);
	pane_buf_init(out, 4096);
	if (pane_buf_addf(out, "%s/%s.cursor%s", src->owner->cursor_dir, src->name, suffix) < 0) {
		pane_buf_release(out);
		return pane_err_set(err, PANE_EINVAL, "cursor path is too long");
	}
	return 0;
}

int pane_source_cursor_load(struct pane_source *src, char **text, struct pane_err *err)
{
	*text = NULL;
	struct pane_buf path;
	int rc = cursor_path(src, "", &path, err);
	if (rc < 0)
		return rc;
	FILE *f = fopen(path.data, "rb");
	if (!f) {
		rc = errno == ENOENT ? PANE_ENOTFOUND
		                     : pane_err_set(err, PANE_EIO, "cannot read %s: %s", path.data, strerror(errno));
		pane_buf_release(&path);
		return rc;
	}
	struct pane_buf b;
	pane_buf_init(&b, PANE_SOURCE_CURSOR_MAX);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (pane_buf_add(&b, chunk, n) < 0) {
			rc = pane_err_set(err, PANE_ETOOBIG, "cursor file %s is larger than %u bytes", path.data,
			                  PANE_SOURCE_CURSOR_MAX);
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = pane_err_set(err, PANE_EIO, "cannot read %s", path.data);
	fclose(f);
	pane_buf_release(&path);
	if (rc < 0) {
		pane_buf_release(&b);
		return rc;
	}
	*text = pane_buf_detach(&b, NULL);
	return 0;
}

int pane_source_cursor_save(struct pane_source *src, const char *text, struct pane_err *err)
{
	size_t len = strlen(text);
	if (len > PANE_SOURCE_CURSOR_MAX)
		return pane_err_set(err, PANE_ETOOBIG, "cursor of source %s is too large", src->name);
	if (src->owner->cursor_dir && mkdir(src->owner->cursor_dir, 0755) < 0 && errno != EEXIST)
		return pane_err_set(err, PANE_EIO, "cannot create %s: %s", src->owner->cursor_dir, strerror(errno));
	struct pane_buf path, tmp;
	int rc = cursor_path(src, "", &path, err);
	if (rc < 0)
		return rc;
	rc = cursor_path(src, ".tmp", &tmp, err);
	if (rc < 0) {
		pane_buf_release(&path);
		return rc;
	}
	int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = pane_err_set(err, PANE_EIO, "cannot write %s: %s", tmp.data, strerror(errno));
		goto out;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = pane_err_set(err, PANE_EIO, "cannot write %s: %s", tmp.data, strerror(errno));
			close(fd);
			unlink(tmp.data);
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		rc = pane_err_set(err, PANE_EIO, "cannot sync %s: %s", tmp.data, strerror(errno));
		unlink(tmp.data);
		goto out;
	}
	if (rename(tmp.data, path.data) < 0) {
		rc = pane_err_set(err, PANE_EIO, "cannot rename %s: %s", tmp.data, strerror(errno));
		unlink(tmp.data);
		goto out;
	}
	int dfd = open(src->owner->cursor_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	pane_buf_release(&path);
	pane_buf_release(&tmp);
	return rc;
}

/* ---------- one collection ---------- */

static const char *reason_from_code(int code)
{
	switch (code) {
	case PANE_EAGAIN: return "rate_limited";
	case PANE_ETIMEDOUT: return "timeout";
	case PANE_EPERM: return "auth";
	case PANE_EHTTP: return "http";
	case PANE_ENOTFOUND: return "not_found";
	case PANE_EIO: return "connection";
	case PANE_EDB: return "database";
	case PANE_EINVAL: return "malformed";
	case PANE_ETOOBIG: return "too_big";
	case PANE_ECANCELED: return "canceled";
	default: return "error";
	}
}

static void emit_health(struct pane_source *src, bool ok, double dur_s)
{
	struct pane_sources *ss = src->owner;
	int64_t now = pane_wall_ms();
	pthread_mutex_lock(&src->mu);
	struct pane_source_status st = src->st;
	size_t n_reasons = src->n_reasons;
	struct reason_count reasons[REASONS_MAX];
	memcpy(reasons, src->reasons, n_reasons * sizeof *reasons);
	pthread_mutex_unlock(&src->mu);

	struct pane_sample s[4 + REASONS_MAX];
	struct pane_labels rl[REASONS_MAX];
	size_t n = 0;
	s[n++] = (struct pane_sample){"pane_source_up", &src->health_labels, now, ok ? 1.0 : 0.0};
	s[n++] = (struct pane_sample){"pane_source_scrape_duration_seconds", &src->health_labels, now, dur_s};
	s[n++] =
	    (struct pane_sample){"pane_source_collections_total", &src->health_labels, now, (double)st.collections};
	if (st.last_success_ms)
		s[n++] = (struct pane_sample){"pane_source_last_success_timestamp_seconds", &src->health_labels, now,
		                              (double)st.last_success_ms / 1000.0};
	for (size_t i = 0; i < n_reasons; i++) {
		pane_labels_copy(&rl[i], &src->health_labels);
		pane_labels_set(&rl[i], "reason", reasons[i].reason);
		s[n++] = (struct pane_sample){"pane_source_errors_total", &rl[i], now, (double)reasons[i].count};
	}
	if (ss->pipeline) {
		struct pane_err e = {0};
		if (pane_pipeline_write_samples(ss->pipeline, s, n, &e) < 0)
			pane_warn("sources", "source %s: health series not stored: %s", src->name, e.msg);
	}
	for (size_t i = 0; i < n_reasons; i++)
		pane_labels_release(&rl[i]);
	if (src->stat_up) {
		pane_stat_set(src->stat_up, ok ? 1.0 : 0.0);
		pane_stat_set(src->stat_dur, dur_s);
		pane_stat_inc(src->stat_coll);
		if (st.last_success_ms)
			pane_stat_set(src->stat_last, (double)st.last_success_ms / 1000.0);
	}
}

static int run_collect(struct pane_source *src, struct pane_err *err)
{
	struct pane_err e = {0};
	src->now_ms = pane_wall_ms();
	src->reason[0] = '\0';
	src->flush_rc = 0;
	src->dropped = 0;
	src->timed_out = false;
	src->last_status = 0;
	memset(&src->flush_err, 0, sizeof src->flush_err);
	int64_t t0 = pane_mono_ns();
	int rc = src->plugin->collect(src, src->ctx, &e);
	flush_batch(src);
	flush_logs(src);
	if (rc == 0 && src->flush_rc < 0) {
		rc = src->flush_rc;
		e = src->flush_err;
		pane_err_prefix(&e, "records not stored");
		pane_source_set_reason(src, "store");
	}
	if (rc < 0 && !e.code)
		pane_err_set(&e, rc, "collection failed");
	double dur = (double)(pane_mono_ns() - t0) / 1e9;
	bool stopped = rc == PANE_ECANCELED || (rc < 0 && atomic_load(&src->owner->stopping));

	pthread_mutex_lock(&src->mu);
	src->st.collections++;
	if (rc == 0) {
		src->st.up = true;
		src->st.last_success_ms = pane_wall_ms();
		src->st.last_error[0] = '\0';
	} else if (!stopped) {
		const char *reason = src->reason[0] ? src->reason : reason_from_code(rc);
		src->st.up = false;
		src->st.failures++;
		snprintf(src->st.last_error, sizeof src->st.last_error, "%s", e.msg);
		snprintf(src->st.last_reason, sizeof src->st.last_reason, "%s", reason);
		size_t i = 0;
		while (i < src->n_reasons && strcmp(src->reasons[i].reason, reason) != 0)
			i++;
		if (i == src->n_reasons && i < REASONS_MAX) {
			snprintf(src->reasons[i].reason, sizeof src->reasons[i].reason, "%s", reason);
			if (src->owner->stats) {
				char lbl[192];
				snprintf(lbl, sizeof lbl, "source=\"%s\",reason=\"%s\"", src->name, reason);
				src->reasons[i].stat = pane_stats_counter(src->owner->stats, "pane_source_errors_total",
				                                          lbl, "failed collections by reason");
			}
			src->n_reasons++;
		}
		if (i < src->n_reasons) {
			src->reasons[i].count++;
			if (src->reasons[i].stat)
				pane_stat_inc(src->reasons[i].stat);
		}
	}
	pthread_mutex_unlock(&src->mu);

	if (stopped)
		return rc;
	if (rc < 0) {
		pane_log_kv(PANE_LOG_WARN, "sources", "collection failed", "source", src->name, "reason",
		            src->st.last_reason, "error", e.msg, "detail", e.detail[0] ? e.detail : NULL, NULL);
	}
	if (src->dropped)
		pane_warn("sources", "source %s: %llu records dropped (invalid names or labels)", src->name,
		          (unsigned long long)src->dropped);
	emit_health(src, rc == 0, dur);
	if (rc < 0 && err)
		*err = e;
	return rc;
}

int pane_sources_collect_once(struct pane_sources *ss, const char *instance, struct pane_err *err)
{
	struct pane_source *src = find_instance(ss, instance);
	if (!src)
		return pane_err_set(err, PANE_ENOTFOUND, "no source instance named %s", instance);
	if (ss->threads_started)
		return pane_err_set(err, PANE_EINVAL, "sources are running on their own threads");
	return run_collect(src, err);
}

int pane_sources_status(struct pane_sources *ss, const char *instance, struct pane_source_status *out)
{
	struct pane_source *src = find_instance(ss, instance);
	if (!src)
		return PANE_ENOTFOUND;
	pthread_mutex_lock(&src->mu);
	*out = src->st;
	pthread_mutex_unlock(&src->mu);
	return 0;
}

/* ---------- threads ---------- */

static void *instance_main(void *arg)
{
	struct pane_source *src = arg;
	int64_t interval_ns = common_of(src)->interval_ms * 1000000LL;
	int64_t next = pane_mono_ns();
	while (!atomic_load(&src->owner->stopping)) {
		run_collect(src, NULL);
		next += interval_ns;
		int64_t now = pane_mono_ns();
		if (next < now) /* a collection longer than the interval: skip the missed ticks */
			next = now + interval_ns - (now - next) % interval_ns;
		if (!wait_until_mono(src->owner, next))
			break;
	}
	return NULL;
}

int pane_sources_start(struct pane_sources *ss, struct pane_err *err)
{
	if (!ss->pipeline)
		return pane_err_set(err, PANE_EINVAL, "sources need a pipeline to write to");
	for (size_t i = 0; i < ss->n; i++) {
		struct pane_source *src = ss->inst[i];
		int rc = pthread_create(&src->thread, NULL, instance_main, src);
		if (rc != 0)
			return pane_err_set(err, PANE_EIO, "cannot start a thread for source %s: %s", src->name,
			                    strerror(rc));
		src->started = true;
		ss->threads_started = true;
		pane_log_kv(PANE_LOG_INFO, "sources", "source started", "source", src->name, "type", src->plugin->name,
		            NULL);
	}
	return 0;
}

void pane_sources_free(struct pane_sources *ss)
{
	if (!ss)
		return;
	pthread_mutex_lock(&ss->mu);
	atomic_store(&ss->stopping, true);
	pthread_cond_broadcast(&ss->cond);
	pthread_mutex_unlock(&ss->mu);
	for (size_t i = 0; i < ss->n; i++)
		if (ss->inst[i]->started)
			pthread_join(ss->inst[i]->thread, NULL);
	for (size_t i = 0; i < ss->n; i++)
		instance_free(ss->inst[i]);
	free(ss->inst);
	free(ss->cursor_dir);
	pthread_cond_destroy(&ss->cond);
	pthread_mutex_destroy(&ss->mu);
	free(ss);
}

/* ---------- pane serve ---------- */

/* /readyz: every instance, up or down with its reason, and its parts. */
static void readyz_sources(void *arg, struct pane_buf *b)
{
	struct pane_sources *ss = arg;
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_obj(&j);
	for (size_t i = 0; i < ss->n; i++) {
		struct pane_source *src = ss->inst[i];
		pthread_mutex_lock(&src->mu);
		struct pane_source_status st = src->st;
		pthread_mutex_unlock(&src->mu);
		pane_json_key(&j, src->name);
		pane_json_obj(&j);
		pane_json_key(&j, "type");
		pane_json_str(&j, src->plugin->name);
		const char *state = !st.up && st.last_reason[0] ? "down"
		                    : st.collections == 0       ? "pending"
		                    : st.up                     ? "up"
		                                                : "down";
		pane_json_key(&j, "status");
		pane_json_str(&j, state);
		pane_json_key(&j, "collections");
		pane_json_uint(&j, st.collections);
		if (st.last_success_ms) {
			pane_json_key(&j, "last_success");
			pane_json_rawf(&j, "%.3f", (double)st.last_success_ms / 1000.0);
		}
		if (!st.up && st.last_reason[0]) {
			pane_json_key(&j, "reason");
			pane_json_str(&j, st.last_reason);
			pane_json_key(&j, "error");
			pane_json_str(&j, st.last_error);
		}
		pane_json_key(&j, "parts");
		pane_json_obj(&j);
		for (size_t k = 0; k < st.n_parts; k++) {
			const struct pane_source_part_status *ps = &st.parts[k];
			pane_json_key(&j, ps->name);
			pane_json_str(&j, ps->up ? "up" : ps->unavailable ? "unavailable" : "down");
		}
		pane_json_obj_end(&j);
		pane_json_obj_end(&j);
	}
	pane_json_obj_end(&j);
}

static void stop_sources(void *arg)
{
	pane_sources_free(arg);
}

int pane_sources_attach(struct pane_host *s, struct pane_err *err)
{
	const struct pane_cfg_node *sec = pane_cfg_get(s->cfg->root, "sources");
	struct pane_sources_opts o = {
	    .cfg = s->cfg, .section = sec, .pipeline = s->pipeline, .stats = s->stats, .data_dir = s->data_dir};
	if (!sec && s->defaults && (sec = pane_cfg_get(s->defaults->root, "sources"))) {
		o.cfg = s->defaults; /* pane demo's (src/demo/setup.c) */
		o.section = sec;
	}
	/* Bind and initialise even without a store, so a typo fails at start. */
	struct pane_sources *ss = pane_sources_new(&o, err);
	if (!ss)
		return err && err->code ? err->code : PANE_EINVAL;
	if (ss->n == 0) {
		pane_sources_free(ss);
		return 0;
	}
	if (!s->pipeline) {
		pane_warn("sources", "sources are disabled without a store: %zu configured source(s) not started",
		          ss->n);
		pane_sources_free(ss);
		return 0;
	}
	if (pane_sources_start(ss, err) < 0) {
		pane_sources_free(ss);
		return err && err->code ? err->code : PANE_EIO;
	}
	pane_host_on_stop(s, stop_sources, ss);
	pane_host_add_readyz_info(s, "sources", readyz_sources, ss);
	for (size_t i = 0; i < ss->n; i++)
		if (strcmp(ss->inst[i]->plugin->name, "queue") == 0)
			s->queue_source = true;
	return 0;
}

/* 404/410, or 403 (not 401: a bad key is not a plan's limit). */
static bool part_missing(const struct pane_source *src, int rc)
{
	return rc == PANE_ENOTFOUND || (rc == PANE_EPERM && src->last_status == 403);
}

void pane_source_part_report(struct pane_source *src, const char *part, bool optional, int rc,
                             const struct pane_err *err)
{
	bool up = rc == 0;
	bool unavailable = optional && part_missing(src, rc);
	bool was_unavailable = false;
	pthread_mutex_lock(&src->mu);
	size_t i = 0;
	while (i < src->st.n_parts && strcmp(src->st.parts[i].name, part) != 0)
		i++;
	if (i == src->st.n_parts && i < PANE_SOURCE_PARTS_MAX) {
		snprintf(src->st.parts[i].name, sizeof src->st.parts[i].name, "%s", part);
		src->st.n_parts++;
	}
	if (i < src->st.n_parts) {
		struct pane_source_part_status *ps = &src->st.parts[i];
		was_unavailable = ps->unavailable;
		ps->up = up;
		ps->unavailable = unavailable;
		snprintf(ps->error, sizeof ps->error, "%s", up || !err ? "" : err->msg);
	}
	pthread_mutex_unlock(&src->mu);
	pane_source_emit_samplev(src, "pane_source_part_up", 0, up ? 1.0 : 0.0, "source", src->name, "part", part,
	                         NULL);
	if (optional)
		pane_source_emit_samplev(src, "pane_source_part_unavailable", 0, unavailable ? 1.0 : 0.0, "source",
		                         src->name, "part", part, NULL);
	if (unavailable && !was_unavailable)
		pane_log_kv(PANE_LOG_INFO, "sources", "part not available on this plan; the source stays up without it",
		            "source", src->name, "part", part, "error", err ? err->msg : NULL, NULL);
	if (src->owner->stats) {
		char lbl[192];
		snprintf(lbl, sizeof lbl, "source=\"%s\",part=\"%s\"", src->name, part);
		pane_stat_set(pane_stats_gauge(src->owner->stats, "pane_source_part_up", lbl,
		                               "1 when that part of the source's last collection worked"),
		              up ? 1.0 : 0.0);
		if (optional)
			pane_stat_set(pane_stats_gauge(src->owner->stats, "pane_source_part_unavailable", lbl,
			                               "1 when an optional part is not offered on the provider's plan"),
			              unavailable ? 1.0 : 0.0);
	}
}

int pane_source_run_parts(struct pane_source *src, void *ctx, const struct pane_source_part *parts, size_t n,
                          bool stop_on_perm, struct pane_err *err)
{
	int first = 0;
	char reason[64] = "";
	for (size_t i = 0; i < n && !pane_source_stopping(src); i++) {
		if (!parts[i].on)
			continue;
		struct pane_err e = {0};
		pane_source_set_reason(src, "");
		int rc = parts[i].fn(src, ctx, &e);
		if (parts[i].name)
			pane_source_part_report(src, parts[i].name, parts[i].optional, rc, &e);
		bool missing = parts[i].optional && part_missing(src, rc);
		bool core = !parts[i].optional || (rc == PANE_EPERM && !missing); /* a bad key fails all alike */
		if (rc == PANE_ETIMEDOUT) {
			/* the provider hangs: every further request would wait as long,
			 * and an optional part that hangs is the provider hanging too */
			if (first == 0) {
				first = rc;
				if (err)
					*err = e;
				snprintf(reason, sizeof reason, "timeout");
			}
			break;
		}
		if (rc < 0 && core && first == 0) {
			first = rc;
			if (err)
				*err = e;
			snprintf(reason, sizeof reason, "%s", pane_source_reason(src));
			if (rc == PANE_EPERM && stop_on_perm)
				break;
		} else if (rc < 0 && !missing) {
			pane_log_kv(PANE_LOG_WARN, "sources", "collection part failed", "source", pane_source_name(src),
			            "part", parts[i].name, "error", e.msg, NULL);
		}
	}
	pane_source_set_reason(src, reason);
	return first;
}
