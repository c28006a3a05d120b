/*
 * logmetrics.c - counters from log lines and provider events, written back
 * through the pipeline so rules can alert on them.
 *
 * The idea: PromQL cannot see log lines or events, so pane turns them into
 * counters where they flow. A secondary pipeline sink sees every log record
 * and event; each log-metric definition (a stream selector, an optional
 * substring or regex the line must contain, labels to keep) adds one to the
 * counter of the kept label set, and every event adds one to
 * pane_events_total{kind, provider, service, environment, project, level,
 * status}. A thread writes all counters as samples at aligned ticks
 * (multiples of log_metrics_interval), every tick, so the series never go
 * stale.
 *
 * Counters start at pane's start: a label set seen for the first time gets a
 * 0 sample at the tick before the one that first carries its count (the
 * aligned tick before pane started, for the first), so increase() and rate()
 * count the first lines too instead of taking the first value as a base. A
 * restart is a counter reset, which rate() handles as with any exporter.
 *
 * Invariants:
 *   (1) Definitions are read under an rwlock (write_logs readers, reload the
 *       writer); counters live under their own mutex.
 *   (2) At most LM_MAX_COUNTERS label sets; past that new ones are dropped
 *       and counted (pane_log_metrics_dropped_total), never grown without
 *       bound.
 *   (3) An event with a dedup key is counted once per process (a bounded
 *       seen-set), so a source replaying a change after a restart of its
 *       cursor does not count it twice.
 *   (4) Line regexes run through base/regex (unanchored, bounded); a regex
 *       that hits a limit counts nothing for that line.
 */
#include "alert/logmetrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert/rules.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/map.h"
#include "base/mem.h"
#include "base/regex.h"
#include "base/stats.h"
#include "base/str.h"
#include "config/config.h"
#include "pipeline/labelmatch.h"

#define LM_MAX_COUNTERS 10000
#define LM_MAX_SEEN 65536
#define LM_DEFAULT_INTERVAL_MS 15000
#define EVENTS_METRIC "pane_events_total"

struct lm_def {
	char *name;
	struct pane_am_matchers sel;
	char *match;    /* substring, or NULL */
	pcre2_code *re; /* regex, or NULL */
	char **keep;    /* labels kept */
	size_t n_keep;
};

struct lm_defs {
	struct lm_def *v;
	size_t n;
	int64_t interval_ms;
};

struct counter {
	char *name;
	struct pane_labels labels;
	double value;
	bool fresh; /* not written yet: gets a 0 at the previous tick */
};

struct pane_logmetrics {
	pthread_rwlock_t defs_lock;
	struct lm_defs defs;
	pthread_mutex_t mu; /* counters, seen, dropped */
	struct pane_map counters;
	struct pane_map seen;
	atomic_uint_fast64_t dropped;
	/* in pane serve */
	struct pane_host *h;
	pthread_t tid;
	bool started, stopping;
	pthread_mutex_t tmu;
	pthread_cond_t tcond;
};

/* ---- definitions ---- */

static void defs_release(struct lm_defs *d)
{
	for (size_t i = 0; i < d->n; i++) {
		struct lm_def *x = &d->v[i];
		free(x->name);
		pane_am_matchers_release(&x->sel);
		free(x->match);
		if (x->re)
			pcre2_code_free(x->re);
		for (size_t k = 0; k < x->n_keep; k++)
			free(x->keep[k]);
		free(x->keep);
	}
	free(d->v);
	memset(d, 0, sizeof *d);
}

static int add_keep(const struct pane_cfg *cfg, const struct pane_cfg_node *n, struct lm_def *x, struct pane_err *err)
{
	if (!n->value || !pane_label_name_valid(n->value, strlen(n->value)))
		return pane_cfg_error(cfg, n, err, "not a valid label name");
	x->keep = pane_xrealloc(x->keep, pane_mul_size(x->n_keep + 1, sizeof *x->keep));
	x->keep[x->n_keep++] = pane_xstrdup(n->value);
	return 0;
}

static int parse_def(const struct pane_cfg *cfg, const struct pane_cfg_node *m, struct lm_def *x, struct pane_err *err)
{
	if (m->kind != PANE_CFG_MAP)
		return pane_cfg_error(cfg, m, err,
		                      "a log metric is a map with name, selector, match or regex, group_by");
	const struct pane_cfg_node *name = NULL;
	for (size_t i = 0; i < m->n_items; i++) {
		const struct pane_cfg_node *n = m->items[i];
		bool scalar = n->kind == PANE_CFG_SCALAR;
		if (!strcmp(n->key, "name") && scalar) {
			name = n;
			if (!pane_metric_name_valid(n->value, strlen(n->value)))
				return pane_cfg_error(cfg, n, err, "\"%s\" is not a valid metric name", n->value);
			if (!strcmp(n->value, EVENTS_METRIC))
				return pane_cfg_error(cfg, n, err, "%s is pane's own event counter", EVENTS_METRIC);
			x->name = pane_xstrdup(n->value);
		} else if (!strcmp(n->key, "selector") && scalar) {
			if (pane_am_matchers_parse(&x->sel, n->value, err) < 0) {
				char why[sizeof err->msg];
				snprintf(why, sizeof why, "%s", err->msg);
				return pane_cfg_error(cfg, n, err, "bad selector: %s", why);
			}
		} else if (!strcmp(n->key, "match") && scalar) {
			if (!*n->value)
				return pane_cfg_error(cfg, n, err,
				                      "match must not be empty (leave it out to count every line)");
			x->match = pane_xstrdup(n->value);
		} else if (!strcmp(n->key, "regex") && scalar) {
			x->re = pane_regex_compile(n->value, PANE_REGEX_UNANCHORED, err);
			if (!x->re) {
				char why[sizeof err->msg];
				snprintf(why, sizeof why, "%s", err->msg);
				return pane_cfg_error(cfg, n, err, "%s", why);
			}
		} else if (!strcmp(n->key, "group_by")) {
			if (n->kind == PANE_CFG_SEQ) {
				for (size_t k = 0; k < n->n_items; k++)
					if (add_keep(cfg, n->items[k], x, err) < 0)
						return PANE_EINVAL;
			} else if (n->kind != PANE_CFG_NULL) {
				return pane_cfg_error(cfg, n, err, "group_by is a list of label names");
			}
		} else if (!strcmp(n->key, "name") || !strcmp(n->key, "selector") || !strcmp(n->key, "match") ||
		           !strcmp(n->key, "regex")) {
			return pane_cfg_error(cfg, n, err, "%s must be a string", n->key);
		} else {
			return pane_cfg_error(
			    cfg, n, err, "unknown key \"%s\" (a log metric has name, selector, match, regex, group_by)",
			    n->key);
		}
	}
	if (!name)
		return pane_cfg_error(cfg, m, err, "a log metric needs a name");
	if (x->match && x->re)
		return pane_cfg_error(cfg, m, err, "%s: match and regex exclude each other", x->name);
	return 0;
}

static int parse_defs(const struct pane_cfg *cfg, struct lm_defs *d, struct pane_err *err)
{
	memset(d, 0, sizeof *d);
	d->interval_ms = LM_DEFAULT_INTERVAL_MS;
	const struct pane_cfg_node *sec = pane_cfg_get(cfg->root, "rules");
	if (!sec || sec->kind != PANE_CFG_MAP)
		return 0;
	const struct pane_cfg_node *iv = pane_cfg_get(sec, "log_metrics_interval");
	if (iv && iv->kind != PANE_CFG_NULL) {
		if (iv->kind != PANE_CFG_SCALAR || pane_duration_parse(pane_str_c(iv->value), 0, &d->interval_ms) < 0 ||
		    d->interval_ms < 1000 || d->interval_ms > 3600000)
			return pane_cfg_error(cfg, iv, err, "log_metrics_interval must be a duration from 1s to 1h");
	}
	const struct pane_cfg_node *lm = pane_cfg_get(sec, "log_metrics");
	if (!lm || lm->kind == PANE_CFG_NULL)
		return 0;
	if (lm->kind != PANE_CFG_SEQ)
		return pane_cfg_error(cfg, lm, err, "log_metrics is a list of log metrics");
	d->v = pane_xcalloc(lm->n_items ? lm->n_items : 1, sizeof *d->v);
	for (size_t i = 0; i < lm->n_items; i++) {
		d->n = i + 1;
		if (parse_def(cfg, lm->items[i], &d->v[i], err) < 0)
			return PANE_EINVAL;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(d->v[k].name, d->v[i].name))
				return pane_cfg_error(cfg, lm->items[i], err, "log metric %s is defined twice",
				                      d->v[i].name);
	}
	return 0;
}

/* ---- counting ---- */

static void counter_free(void *p)
{
	struct counter *c = p;
	free(c->name);
	pane_labels_release(&c->labels);
	free(c);
}

/* caller holds lm->mu; ls is borrowed */
static void bump(struct pane_logmetrics *lm, const char *name, const struct pane_labels *ls)
{
	struct pane_buf k;
	pane_buf_init(&k, PANE_BUF_NOLIMIT);
	pane_buf_adds(&k, name);
	pane_rules_labels_string(ls, &k);
	struct counter *c = pane_map_get(&lm->counters, k.data, k.len);
	if (!c) {
		if (lm->counters.len >= LM_MAX_COUNTERS) {
			static struct pane_log_limit lim = {.burst = 3, .per_ms = 60000};
			atomic_fetch_add(&lm->dropped, 1);
			pane_log_limited(&lim, PANE_LOG_WARN, "rules",
			                 "log metrics: more than %d label sets, %s dropped", LM_MAX_COUNTERS, name);
			pane_buf_release(&k);
			return;
		}
		c = pane_xcalloc(1, sizeof *c);
		c->name = pane_xstrdup(name);
		pane_labels_copy(&c->labels, ls);
		c->fresh = true;
		pane_map_put(&lm->counters, k.data, k.len, c);
	}
	c->value += 1;
	pane_buf_release(&k);
}

static bool line_matches(const struct lm_def *x, const struct pane_log_record *l, pcre2_match_data *md)
{
	if (x->match)
		return memmem(l->message, l->message_len, x->match, strlen(x->match)) != NULL;
	if (x->re)
		return pane_regex_search(x->re, l->message, l->message_len, 0, 0, md) > 0;
	return true;
}

static int write_logs(void *ctx, const struct pane_log_record *l, size_t n, struct pane_err *err)
{
	(void)err;
	struct pane_logmetrics *lm = ctx;
	pthread_rwlock_rdlock(&lm->defs_lock);
	for (size_t d = 0; d < lm->defs.n; d++) {
		const struct lm_def *x = &lm->defs.v[d];
		pcre2_match_data *md = x->re ? pcre2_match_data_create_from_pattern(x->re, NULL) : NULL;
		for (size_t i = 0; i < n; i++) {
			static const struct pane_labels none = {0};
			const struct pane_labels *ls = l[i].labels ? l[i].labels : &none;
			if (!pane_am_matchers_match(&x->sel, ls) || !line_matches(x, &l[i], md))
				continue;
			struct pane_labels keep;
			pane_labels_init(&keep);
			for (size_t k = 0; k < x->n_keep; k++) {
				const char *v = pane_labels_get(ls, x->keep[k]);
				if (v)
					pane_labels_set(&keep, x->keep[k], v);
			}
			pthread_mutex_lock(&lm->mu);
			bump(lm, x->name, &keep);
			pthread_mutex_unlock(&lm->mu);
			pane_labels_release(&keep);
		}
		if (md)
			pcre2_match_data_free(md);
	}
	pthread_rwlock_unlock(&lm->defs_lock);
	return 0;
}

static int write_events(void *ctx, const struct pane_event *e, size_t n, struct pane_err *err)
{
	(void)err;
	struct pane_logmetrics *lm = ctx;
	static const char *const copy[] = {
	    PANE_LABEL_PROVIDER, PANE_LABEL_SERVICE, PANE_LABEL_ENVIRONMENT, "project", "level", "status"};
	for (size_t i = 0; i < n; i++) {
		struct pane_labels ls;
		pane_labels_init(&ls);
		if (e[i].kind && *e[i].kind)
			pane_labels_set(&ls, "kind", e[i].kind);
		for (size_t k = 0; e[i].labels && k < sizeof copy / sizeof copy[0]; k++) {
			const char *v = pane_labels_get(e[i].labels, copy[k]);
			if (v)
				pane_labels_set(&ls, copy[k], v);
		}
		pthread_mutex_lock(&lm->mu);
		bool dup = false;
		if (e[i].dedup_key) {
			struct pane_buf k;
			pane_buf_init(&k, PANE_BUF_NOLIMIT);
			pane_buf_addf(&k, "%s\x01%s", e[i].kind ? e[i].kind : "", e[i].dedup_key);
			dup = pane_map_has(&lm->seen, k.data, k.len);
			if (!dup) {
				if (lm->seen.len >= LM_MAX_SEEN) { /* forgotten when full */
					pane_map_release(&lm->seen);
					pane_map_init(&lm->seen, NULL);
				}
				pane_map_put(&lm->seen, k.data, k.len, NULL);
			}
			pane_buf_release(&k);
		}
		if (!dup)
			bump(lm, EVENTS_METRIC, &ls);
		pthread_mutex_unlock(&lm->mu);
		pane_labels_release(&ls);
	}
	return 0;
}

int pane_logmetrics_write(struct pane_logmetrics *lm, struct pane_pipeline *p, int64_t prev_ms, int64_t ts_ms,
                          struct pane_err *err)
{
	pthread_mutex_lock(&lm->mu);
	size_t cap = 2 * lm->counters.len + 1, n = 0;
	struct pane_sample *s = pane_xcalloc(cap, sizeof *s);
	size_t pos = 0;
	const char *key;
	size_t klen;
	void *v;
	while (pane_map_next(&lm->counters, &pos, &key, &klen, &v)) {
		struct counter *c = v;
		if (c->fresh && prev_ms > 0 && prev_ms < ts_ms)
			s[n++] =
			    (struct pane_sample){.name = c->name, .labels = &c->labels, .ts_ms = prev_ms, .value = 0};
		c->fresh = false;
		s[n++] = (struct pane_sample){.name = c->name, .labels = &c->labels, .ts_ms = ts_ms, .value = c->value};
	}
	/* written under the lock: the samples borrow the counters' labels */
	int rc = n ? pane_pipeline_write_samples(p, s, n, err) : 0;
	pthread_mutex_unlock(&lm->mu);
	free(s);
	return rc;
}

/* ---- the sink ---- */

static void lm_free(struct pane_logmetrics *lm)
{
	defs_release(&lm->defs);
	pane_map_release(&lm->counters);
	pane_map_release(&lm->seen);
	pthread_rwlock_destroy(&lm->defs_lock);
	pthread_mutex_destroy(&lm->mu);
	pthread_mutex_destroy(&lm->tmu);
	pthread_cond_destroy(&lm->tcond);
	free(lm);
}

static void sink_close(void *ctx)
{
	lm_free(ctx);
}

static const struct pane_sink_ops lm_ops = {
    .name = "log_metrics", .write_logs = write_logs, .write_events = write_events, .close = sink_close};

struct pane_sink pane_logmetrics_sink(struct pane_logmetrics *lm)
{
	return (struct pane_sink){.ops = &lm_ops, .ctx = lm};
}

struct pane_logmetrics *pane_logmetrics_new(const struct pane_cfg *cfg, struct pane_err *err)
{
	struct pane_logmetrics *lm = pane_xcalloc(1, sizeof *lm);
	pthread_rwlock_init(&lm->defs_lock, NULL);
	pthread_mutex_init(&lm->mu, NULL);
	pthread_mutex_init(&lm->tmu, NULL);
	pthread_cond_init(&lm->tcond, NULL);
	pane_map_init(&lm->counters, counter_free);
	pane_map_init(&lm->seen, NULL);
	if (parse_defs(cfg, &lm->defs, err) < 0) {
		lm_free(lm);
		return NULL;
	}
	return lm;
}

/* ---- in pane serve ---- */

static void *writer_main(void *arg)
{
	struct pane_logmetrics *lm = arg;
	pthread_rwlock_rdlock(&lm->defs_lock);
	int64_t iv = lm->defs.interval_ms;
	pthread_rwlock_unlock(&lm->defs_lock);
	int64_t prev = pane_wall_ms() / iv * iv; /* the aligned tick before start: counters start at 0 there */
	for (;;) {
		pthread_rwlock_rdlock(&lm->defs_lock);
		iv = lm->defs.interval_ms;
		pthread_rwlock_unlock(&lm->defs_lock);
		int64_t next = (pane_wall_ms() / iv + 1) * iv;
		pthread_mutex_lock(&lm->tmu);
		while (!lm->stopping && pane_wall_ms() < next) {
			int64_t left = next - pane_wall_ms();
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			int64_t ns = ts.tv_nsec + (left % 1000) * 1000000;
			ts.tv_sec += left / 1000 + ns / 1000000000;
			ts.tv_nsec = ns % 1000000000;
			pthread_cond_timedwait(&lm->tcond, &lm->tmu, &ts);
		}
		bool stop = lm->stopping;
		pthread_mutex_unlock(&lm->tmu);
		if (stop)
			break;
		struct pane_err err = {0};
		if (pane_logmetrics_write(lm, lm->h->pipeline, prev, next, &err) < 0) {
			static struct pane_log_limit lim = {.burst = 3, .per_ms = 60000};
			pane_log_limited(&lim, PANE_LOG_WARN, "rules", "log metrics not written: %s", err.msg);
		}
		if (lm->h->stats)
			pane_stat_set(pane_stats_counter(lm->h->stats, "pane_log_metrics_dropped_total", "",
			                                 "log and event counts dropped past the label-set limit"),
			              (double)atomic_load(&lm->dropped));
		prev = next;
	}
	return NULL;
}

static void on_stop(void *arg)
{
	struct pane_logmetrics *lm = arg;
	pthread_mutex_lock(&lm->tmu);
	lm->stopping = true;
	pthread_cond_broadcast(&lm->tcond);
	pthread_mutex_unlock(&lm->tmu);
	if (lm->started)
		pthread_join(lm->tid, NULL);
	lm->started = false;
	/* the pipeline owns lm and frees it when it closes its sinks */
}

static int on_reload(void *arg, const struct pane_cfg *cfg, struct pane_err *err)
{
	struct pane_logmetrics *lm = arg;
	struct lm_defs d;
	if (parse_defs(cfg, &d, err) < 0) {
		defs_release(&d);
		return PANE_EINVAL;
	}
	pthread_rwlock_wrlock(&lm->defs_lock);
	struct lm_defs old = lm->defs;
	lm->defs = d;
	pthread_rwlock_unlock(&lm->defs_lock);
	defs_release(&old);
	/* counters of metrics no longer defined are dropped */
	pthread_mutex_lock(&lm->mu);
	pthread_rwlock_rdlock(&lm->defs_lock);
	struct pane_map keep;
	pane_map_init(&keep, counter_free);
	size_t pos = 0;
	const char *key;
	size_t klen;
	void *v;
	while (pane_map_next(&lm->counters, &pos, &key, &klen, &v)) {
		struct counter *c = v;
		bool defined = !strcmp(c->name, EVENTS_METRIC);
		for (size_t i = 0; !defined && i < lm->defs.n; i++)
			defined = !strcmp(lm->defs.v[i].name, c->name);
		if (defined) {
			struct counter *k = pane_xcalloc(1, sizeof *k);
			*k = *c;
			memset(c, 0, sizeof *c);
			pane_labels_init(&c->labels);
			pane_map_put(&keep, key, klen, k);
		}
	}
	pthread_rwlock_unlock(&lm->defs_lock);
	pane_map_release(&lm->counters);
	lm->counters = keep;
	pthread_mutex_unlock(&lm->mu);
	return 0;
}

int pane_logmetrics_attach(struct pane_host *h, struct pane_err *err)
{
	if (!h->pipeline)
		return 0;
	struct pane_logmetrics *lm = pane_logmetrics_new(h->cfg, err);
	if (!lm)
		return PANE_EINVAL;
	lm->h = h;
	pane_pipeline_add_sink(h->pipeline, pane_logmetrics_sink(lm), 0);
	lm->started = pthread_create(&lm->tid, NULL, writer_main, lm) == 0;
	if (!lm->started)
		pane_log_kv(PANE_LOG_ERROR, "rules", "cannot start the log metrics writer", NULL);
	pane_host_on_stop(h, on_stop, lm);
	pane_host_on_reload(h, on_reload, lm);
	return 0;
}
