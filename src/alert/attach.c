/*
 * attach.c - rules in the daemon: `rules:` in pane.yaml, a thread per group,
 * reload, alerts to notifications. (/api/v1/rules and /api/v1/alerts read
 * the same state: rules_api.c, sharing attach_internal.h.)
 *
 * The idea: each rule group gets its own thread that sleeps until the
 * group's next slot and evaluates it, so a slow group only delays itself.
 * Slots are spread over the interval the way Prometheus does it: a group's
 * offset is a hash of its file and name modulo the interval, and it runs at
 * every k*interval + offset. Evaluation writes through the pipeline, so
 * recording rules, ALERTS and ALERTS_FOR_STATE land in the store and later
 * rules (and later evaluations) read them back through the reader.
 *
 * State: `struct rules_state` holds the running pane_rules behind a mutex.
 * A reload loads the new files first (a bad file: the old rules keep
 * running, the error names file:line:col), then stops the group threads,
 * moves alert state across (pane_rules_carry_state), swaps and restarts.
 *
 * Restart: the first evaluation of an alerting rule after start does not
 * write ALERTS; it restores each pending alert's active time from the last
 * ALERTS_FOR_STATE sample within the past hour (Prometheus'
 * outage tolerance), so `for` keeps counting across a restart.
 *
 * Alerts go to s->alerts (set by notifications) with Prometheus' resend
 * rules: firing alerts at most once per resend delay (1 m), ends_at =
 * evaluation time + 4 x max(resend delay, interval); resolved ones with
 * ends_at = resolve time, resent for as long as they are kept (15 min).
 *
 * Threads: group threads evaluate; HTTP threads read group state under
 * each group's mutex and the rule set under state->mu.
 */
#include "alert/attach.h"
#include "alert/attach_internal.h"

#include <errno.h>
#include <glob.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert/alert.h"
#include "alert/logmetrics.h"
#include "alert/rules.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/map.h"
#include "base/mem.h"
#include "base/stats.h"
#include "config/config.h"
#include "pipeline/pipeline.h"
#include "query/query.h"
#include "host/host.h"

#define RESEND_DELAY_MS 60000

#define OUTAGE_TOLERANCE_MS 3600000

static const struct pane_cfg_field rules_fields[] = {
    {"files", PANE_CFT_STRLIST, offsetof(struct rules_cfg, files), NULL, 0,
     "rule files (globs, relative to the working directory), Prometheus' format", 0, 0},
    {"evaluation_interval", PANE_CFT_DURATION, offsetof(struct rules_cfg, evaluation_interval_ms), "1m", 0,
     "how often groups without their own interval are evaluated", 1000, 86400000},
    {"external_url", PANE_CFT_STRING, offsetof(struct rules_cfg, external_url), NULL, 0,
     "URL pane is reached at: $externalURL in templates, alerts' generator URL", 0, 0},
    {"resend_delay", PANE_CFT_DURATION, offsetof(struct rules_cfg, resend_delay_ms), "1m", 0,
     "minimum time between resends of a firing alert to notifications", 0, 86400000},
    {"external_labels", PANE_CFT_SECTION, 0, NULL, 0, "labels for $externalLabels in templates (map)", 0, 0},
    {"log_metrics", PANE_CFT_SECTION, 0, NULL, 0,
     "counters from log lines: name, selector, match or regex, group_by (alert/logmetrics.c)", 0, 0},
    {"log_metrics_interval", PANE_CFT_SECTION, 0, NULL, 0,
     "how often log metrics and pane_events_total are written (duration, default 15s)", 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

static void cfg_release(struct rules_cfg *c, struct pane_labels *ext)
{
	pane_cfg_unbind(rules_fields, c);
	pane_labels_release(ext);
}

static int read_cfg(const struct pane_cfg *cfg, struct rules_cfg *c, struct pane_labels *ext, char ***files,
                    size_t *nfiles, struct pane_err *err)
{
	memset(c, 0, sizeof *c);
	pane_labels_init(ext);
	*files = NULL;
	*nfiles = 0;
	const struct pane_cfg_node *sec = pane_cfg_get(cfg->root, "rules");
	if (pane_cfg_bind(cfg, sec, rules_fields, c, err) < 0)
		return PANE_EINVAL;
	const struct pane_cfg_node *el = pane_cfg_lookup(cfg->root, "rules.external_labels");
	if (el && el->kind != PANE_CFG_MAP && el->kind != PANE_CFG_NULL)
		return pane_cfg_error(cfg, el, err, "must be a map of label names to values");
	for (size_t i = 0; el && el->kind == PANE_CFG_MAP && i < el->n_items; i++) {
		const struct pane_cfg_node *n = el->items[i];
		if (n->kind != PANE_CFG_SCALAR || pane_labels_set(ext, n->key, n->value) < 0)
			return pane_cfg_error(cfg, n, err, "not a valid label name or value");
	}
	for (size_t i = 0; i < c->files.n; i++) {
		glob_t g;
		int rc = glob(c->files.items[i], 0, NULL, &g);
		if (rc == GLOB_NOMATCH)
			continue; /* as Prometheus: a glob that matches nothing is fine */
		if (rc != 0) {
			globfree(&g);
			return pane_cfg_error(cfg, pane_cfg_lookup(cfg->root, "rules.files"), err, "cannot expand %s",
			                      c->files.items[i]);
		}
		for (size_t k = 0; k < g.gl_pathc; k++) {
			*files = pane_xrealloc(*files, pane_mul_size(*nfiles + 1, sizeof **files));
			(*files)[(*nfiles)++] = pane_xstrdup(g.gl_pathv[k]);
		}
		globfree(&g);
	}
	return 0;
}

static void free_files(char **f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i]);
	free(f);
}

static int pipe_write(void *ctx, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	struct rules_state *st = ctx;
	if (!st->s->pipeline)
		return 0;
	return pane_pipeline_write_samples(st->s->pipeline, s, n, err);
}

int64_t rules_group_interval(const struct rules_state *st, const struct pane_rule_group *g)
{
	return g->interval_ms > 0 ? g->interval_ms : st->cfg.evaluation_interval_ms;
}

/* Prometheus' Group.EvalTimestamp: slots at k*interval + hash(file;name) % interval */
static int64_t next_slot(const struct pane_rule_group *g, int64_t interval, int64_t now)
{
	struct pane_buf k;
	pane_buf_init(&k, PANE_BUF_NOLIMIT);
	pane_buf_addf(&k, "%s;%s", g->file, g->name);
	uint64_t h = pane_hash_bytes(k.data, k.len, 0);
	pane_buf_release(&k);
	int64_t offset = (int64_t)(h % (uint64_t)interval);
	int64_t base = now - offset;
	int64_t slot = base - (base % interval) + offset;
	if (slot <= now)
		slot += interval;
	return slot;
}

static void restore_for_state(struct rules_state *st, struct pane_rule_group *g, int64_t ts)
{
	pthread_mutex_lock(&g->mu);
	for (size_t i = 0; i < g->n_rules; i++) {
		struct pane_rule *r = &g->rules[i];
		if (!r->alerting || r->for_ms == 0)
			continue;
		for (size_t a = 0; a < r->n_active; a++) {
			struct pane_rule_alert *al = r->active[a];
			if (al->state != PANE_ALERT_PENDING)
				continue;
			struct pane_matcher *m = pane_xcalloc(al->labels.n + 1, sizeof *m);
			m[0] =
			    (struct pane_matcher){.name = "__name__", .value = "ALERTS_FOR_STATE", .op = PANE_MATCH_EQ};
			for (size_t k = 0; k < al->labels.n; k++)
				m[k + 1] = (struct pane_matcher){
				    .name = al->labels.v[k].name, .value = al->labels.v[k].value, .op = PANE_MATCH_EQ};
			struct pane_series_set *set = NULL;
			struct pane_err e;
			if (st->reader.ops &&
			    st->reader.ops->select(st->reader.ctx, m, al->labels.n + 1, ts - OUTAGE_TOLERANCE_MS, ts,
			                           100000, &set, &e) == 0) {
				for (size_t k = 0; k < set->n; k++) {
					if (set->series[k].labels.n != al->labels.n + 1 || set->series[k].n == 0)
						continue;
					double v = set->series[k].values[set->series[k].n - 1];
					if (isnan(v))
						continue;
					int64_t at = (int64_t)v * 1000;
					if (at > 0 && at < al->active_at) {
						al->active_at = at;
						pane_log_kv(PANE_LOG_INFO, "rules", "restored alert state", "alertname",
						            r->name, NULL);
					}
				}
				set->free(set);
			}
			free(m);
		}
	}
	pthread_mutex_unlock(&g->mu);
}

static void send_alerts(struct rules_state *st, struct pane_rule_group *g, int64_t ts)
{
	if (st->s->alerts)
		pane_rules_group_send(g, ts, st->cfg.resend_delay_ms, rules_group_interval(st, g), st->cfg.external_url,
		                      st->s->alerts);
}

static void count(struct rules_state *st, struct pane_rule_group *g)
{
	if (!st->stats)
		return;
	pthread_mutex_lock(&g->mu);
	for (size_t i = 0; i < g->n_rules; i++) {
		struct pane_rule *r = &g->rules[i];
		struct pane_buf l;
		pane_buf_init(&l, PANE_BUF_NOLIMIT);
		pane_buf_adds(&l, "rule_group=");
		pane_buf_add_go_quoted(&l, g->name);
		pane_buf_adds(&l, ",rule=");
		pane_buf_add_go_quoted(&l, r->name);
		pane_stat_inc(pane_stats_counter(st->stats, "pane_rule_evaluations_total", l.data, "rule evaluations"));
		struct pane_stat *f =
		    pane_stats_counter(st->stats, "pane_rule_evaluation_failures_total", l.data,
		                       "rule evaluations that failed (query error, duplicate series, limit)");
		if (r->last_error)
			pane_stat_inc(f);
		pane_buf_release(&l);
	}
	struct pane_buf l;
	pane_buf_init(&l, PANE_BUF_NOLIMIT);
	pane_buf_adds(&l, "rule_group=");
	pane_buf_add_go_quoted(&l, g->name);
	pane_stat_set(pane_stats_gauge(st->stats, "pane_rule_group_last_duration_seconds", l.data,
	                               "how long the group's last evaluation took"),
	              g->eval_seconds);
	pane_stat_set(pane_stats_gauge(st->stats, "pane_rule_group_last_evaluation_timestamp_seconds", l.data,
	                               "when the group was last evaluated (Unix seconds)"),
	              (double)g->last_eval_ms / 1000.0);
	pane_buf_release(&l);
	pthread_mutex_unlock(&g->mu);
}

static void *group_main(void *arg)
{
	struct group_thread *t = arg;
	struct rules_state *st = t->st;
	int64_t interval = rules_group_interval(st, t->g);
	for (;;) {
		int64_t now = pane_wall_ms();
		int64_t slot = next_slot(t->g, interval, now);
		pthread_mutex_lock(&st->mu);
		while (!st->stopping) {
			int64_t left = slot - pane_wall_ms();
			if (left <= 0)
				break;
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			int64_t ns = ts.tv_nsec + (left % 1000) * 1000000;
			ts.tv_sec += left / 1000 + ns / 1000000000;
			ts.tv_nsec = ns % 1000000000;
			pthread_cond_timedwait(&st->cond, &st->mu, &ts);
		}
		bool stop = st->stopping;
		pthread_mutex_unlock(&st->mu);
		if (stop)
			break;
		struct pane_rules_env env = {.reader = st->reader,
		                             .out = {.write = pipe_write, .ctx = st},
		                             .external_labels = &st->ext,
		                             .external_url = st->cfg.external_url,
		                             .default_interval_ms = st->cfg.evaluation_interval_ms,
		                             .write_alerts = !t->first};
		pane_rules_group_eval(t->g, &env, slot);
		if (t->first) {
			restore_for_state(st, t->g, slot);
			t->first = false;
		}
		count(st, t->g);
		send_alerts(st, t->g, slot);
	}
	return NULL;
}

/* caller holds nothing; threads of the current rules */
static void start_threads(struct rules_state *st, bool first)
{
	struct pane_rules *rs = st->rules;
	st->threads = pane_xcalloc(rs && rs->n_groups ? rs->n_groups : 1, sizeof *st->threads);
	st->n_threads = rs ? rs->n_groups : 0;
	for (size_t i = 0; i < st->n_threads; i++) {
		struct group_thread *t = &st->threads[i];
		t->st = st;
		t->g = &rs->groups[i];
		t->first = first;
		t->started = pthread_create(&t->tid, NULL, group_main, t) == 0;
		if (!t->started)
			pane_log_kv(PANE_LOG_ERROR, "rules", "cannot start a group thread", "group", t->g->name, NULL);
	}
}

static void stop_threads(struct rules_state *st)
{
	pthread_mutex_lock(&st->mu);
	st->stopping = true;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->mu);
	for (size_t i = 0; i < st->n_threads; i++)
		if (st->threads[i].started)
			pthread_join(st->threads[i].tid, NULL);
	free(st->threads);
	st->threads = NULL;
	st->n_threads = 0;
	pthread_mutex_lock(&st->mu);
	st->stopping = false;
	pthread_mutex_unlock(&st->mu);
}

static int on_reload(void *arg, const struct pane_cfg *cfg, struct pane_err *err)
{
	struct rules_state *st = arg;
	struct rules_cfg c;
	struct pane_labels ext;
	char **files;
	size_t nf;
	if (read_cfg(cfg, &c, &ext, &files, &nf, err) < 0) {
		cfg_release(&c, &ext);
		free_files(files, nf);
		return PANE_EINVAL;
	}
	struct pane_rules *rs = pane_rules_load(files, nf, err);
	free_files(files, nf);
	if (!rs) {
		cfg_release(&c, &ext);
		return PANE_EINVAL;
	}
	stop_threads(st);
	pthread_mutex_lock(&st->mu);
	pane_rules_carry_state(rs, st->rules);
	struct pane_rules *old = st->rules;
	st->rules = rs;
	cfg_release(&st->cfg, &st->ext);
	st->cfg = c;
	st->ext = ext;
	pthread_mutex_unlock(&st->mu);
	pane_rules_free(old);
	start_threads(st, false);
	size_t nr = 0;
	for (size_t i = 0; i < rs->n_groups; i++)
		nr += rs->groups[i].n_rules;
	char buf[32];
	snprintf(buf, sizeof buf, "%zu", nr);
	pane_log_kv(PANE_LOG_INFO, "rules", "rules reloaded", "rules", buf, NULL);
	return 0;
}

static void on_stop(void *arg)
{
	struct rules_state *st = arg;
	stop_threads(st);
	pane_rules_free(st->rules);
	cfg_release(&st->cfg, &st->ext);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->cond);
	free(st);
}

int pane_rules_attach(struct pane_host *s, struct pane_reader rd, struct pane_err *err)
{
	struct rules_state *st = pane_xcalloc(1, sizeof *st);
	st->s = s;
	st->reader = rd;
	st->stats = s->stats;
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->cond, NULL);
	char **files;
	size_t nf;
	if (read_cfg(s->cfg, &st->cfg, &st->ext, &files, &nf, err) < 0) {
		free_files(files, nf);
		on_stop(st);
		return PANE_EINVAL;
	}
	st->rules = pane_rules_load(files, nf, err);
	free_files(files, nf);
	if (!st->rules) {
		on_stop(st);
		return PANE_EINVAL;
	}
	rules_api_routes(st, s->http);
	start_threads(st, true);
	pane_host_on_stop(s, on_stop, st);
	pane_host_on_reload(s, on_reload, st);
	return pane_logmetrics_attach(s, err);
}
