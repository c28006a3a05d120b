/*
 * attach.c - rules in the daemon: `rules:` in pane.yaml, a thread per group,
 * reload, /api/v1/rules and /api/v1/alerts, alerts to notifications.
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
#include "base/json.h"
#include "base/log.h"
#include "base/map.h"
#include "base/mem.h"
#include "base/stats.h"
#include "config/config.h"
#include "http/server.h"
#include "pipeline/pipeline.h"
#include "query/query.h"
#include "host/host.h"

#define RESEND_DELAY_MS 60000
#define OUTAGE_TOLERANCE_MS 3600000

struct rules_cfg {
	struct pane_cfg_strlist files;
	int64_t evaluation_interval_ms;
	char *external_url;
	int64_t resend_delay_ms;
};

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

struct group_thread {
	struct rules_state *st;
	struct pane_rule_group *g;
	pthread_t tid;
	bool started;
	bool first; /* next evaluation is the first since start: restore for state */
};

struct rules_state {
	struct pane_host *s;
	struct pane_reader reader;
	pthread_mutex_t mu;  /* rules, threads, cfg */
	pthread_cond_t cond; /* stop signal for group threads */
	bool stopping;
	struct pane_rules *rules;
	struct group_thread *threads;
	size_t n_threads;
	struct rules_cfg cfg;
	struct pane_labels ext;
	struct pane_stats *stats;
};

/* ---- config ---- */

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

/* ---- evaluation threads ---- */

static int pipe_write(void *ctx, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	struct rules_state *st = ctx;
	if (!st->s->pipeline)
		return 0;
	return pane_pipeline_write_samples(st->s->pipeline, s, n, err);
}

static int64_t group_interval(const struct rules_state *st, const struct pane_rule_group *g)
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
		pane_rules_group_send(g, ts, st->cfg.resend_delay_ms, group_interval(st, g), st->cfg.external_url,
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
	int64_t interval = group_interval(st, t->g);
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

/* ---- reload and stop ---- */

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

/* ---- the API ---- */

/* Go's time.Time in RFC 3339 with trailing zeros of the fraction cut, as
 * Prometheus' API writes it; 0 is Go's zero time. */
static void json_time(struct pane_json *j, int64_t ms)
{
	if (ms == 0) {
		pane_json_str(j, "0001-01-01T00:00:00Z");
		return;
	}
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char s[48];
	int n = snprintf(s, sizeof s, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	                 tm.tm_hour, tm.tm_min, tm.tm_sec);
	int frac = (int)(ms % 1000);
	if (frac) {
		n += snprintf(s + n, sizeof s - (size_t)n, ".%03d", frac);
		while (s[n - 1] == '0')
			s[--n] = 0;
	}
	snprintf(s + n, sizeof s - (size_t)n, "Z");
	pane_json_str(j, s);
}

static void json_kv(struct pane_json *j, const struct pane_rule_kv *kv, size_t n)
{
	pane_json_obj(j);
	for (size_t i = 0; i < n; i++) {
		pane_json_key(j, kv[i].name);
		pane_json_str(j, kv[i].value);
	}
	pane_json_obj_end(j);
}

/* Go's strconv.FormatFloat(v, 'e', -1, 64), as Prometheus' API prints alert values */
static void fmt_e(double v, char *tmp, size_t len)
{
	if (isnan(v)) {
		snprintf(tmp, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(tmp, len, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int p = 1; p <= 17; p++) {
		snprintf(tmp, len, "%.*e", p - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
}

static void json_alert(struct pane_json *j, const struct pane_rule_alert *a)
{
	pane_json_obj(j);
	pane_json_key(j, "labels");
	pane_labels_json_value(j, &a->labels);
	pane_json_key(j, "annotations");
	json_kv(j, a->ann, a->n_ann);
	pane_json_key(j, "state");
	pane_json_str(j, pane_alert_state_name(a->state));
	pane_json_key(j, "activeAt");
	json_time(j, a->active_at);
	if (a->keep_firing_since) {
		pane_json_key(j, "keepFiringSince");
		json_time(j, a->keep_firing_since);
	}
	char v[40];
	fmt_e(a->value, v, sizeof v);
	pane_json_key(j, "value");
	pane_json_str(j, v);
	pane_json_obj_end(j);
}

static double secs(int64_t ms)
{
	return (double)ms / 1000.0;
}

/* A JSON number in Prometheus' formatting; NaN and infinities as 0. */
static void json_float(struct pane_json *j, double v)
{
	char f[64];
	pane_query_fmt_float(v, f, sizeof f);
	pane_json_raw(j, isnan(v) || isinf(v) ? "0" : f);
}

static void json_rule(struct pane_json *j, const struct pane_rule *r)
{
	pane_json_obj(j);
	if (r->alerting) {
		enum pane_alert_state s = PANE_ALERT_INACTIVE;
		for (size_t i = 0; i < r->n_active; i++)
			if (r->active[i]->state > s)
				s = r->active[i]->state;
		pane_json_key(j, "state");
		pane_json_str(j, pane_alert_state_name(s));
	}
	pane_json_key(j, "name");
	pane_json_str(j, r->name);
	pane_json_key(j, "query");
	/* Prometheus prints the parsed expression */
	struct pane_buf q;
	pane_buf_init(&q, PANE_BUF_NOLIMIT);
	struct pane_err e;
	if (pane_query_format(r->expr, &q, &e) == 0 && q.len)
		pane_json_strn(j, q.data, q.len);
	else
		pane_json_str(j, r->expr);
	pane_buf_release(&q);
	if (r->alerting) {
		pane_json_key(j, "duration");
		json_float(j, secs(r->for_ms));
		pane_json_key(j, "keepFiringFor");
		json_float(j, secs(r->keep_firing_for_ms));
	}
	if (r->alerting || r->n_labels) {
		pane_json_key(j, "labels");
		json_kv(j, r->labels, r->n_labels);
	}
	if (r->alerting) {
		pane_json_key(j, "annotations");
		json_kv(j, r->ann, r->n_ann);
		pane_json_key(j, "alerts");
		pane_json_arr(j);
		for (size_t i = 0; i < r->n_active; i++)
			if (r->active[i]->state != PANE_ALERT_INACTIVE)
				json_alert(j, r->active[i]);
		pane_json_arr_end(j);
	}
	pane_json_key(j, "health");
	pane_json_str(j, !r->evaluated ? "unknown" : r->last_error ? "err" : "ok");
	if (r->last_error) {
		pane_json_key(j, "lastError");
		pane_json_str(j, r->last_error);
	}
	pane_json_key(j, "evaluationTime");
	json_float(j, r->eval_seconds);
	pane_json_key(j, "lastEvaluation");
	json_time(j, r->last_eval_ms);
	pane_json_key(j, "type");
	pane_json_str(j, r->alerting ? "alerting" : "recording");
	pane_json_obj_end(j);
}

/* {"status":"success","data":{"<name>": up to the caller's array; the caller closes with answer_end. */
static void answer_begin(struct pane_json *j, struct pane_buf *b, const char *name)
{
	pane_json_init(j, b);
	pane_json_obj(j);
	pane_json_key(j, "status");
	pane_json_str(j, "success");
	pane_json_key(j, "data");
	pane_json_obj(j);
	pane_json_key(j, name);
	pane_json_arr(j);
}

static void answer_end(struct pane_json *j)
{
	pane_json_arr_end(j);
	pane_json_obj_end(j);
	pane_json_obj_end(j);
}

static void h_rules(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct rules_state *st = ctx;
	const char *type = pane_http_req_arg(req, "type");
	bool want_alert = true, want_record = true;
	if (type && *type) {
		if (strcmp(type, "alert") == 0)
			want_record = false;
		else if (strcmp(type, "record") == 0)
			want_alert = false;
		else {
			pane_http_resp_json(resp, 400,
			                    "{\"status\":\"error\",\"errorType\":\"bad_data\","
			                    "\"error\":\"type must be alert or record\"}");
			return;
		}
	}
	struct pane_buf *b = pane_http_resp_body(resp);
	struct pane_json j;
	answer_begin(&j, b, "groups");
	pthread_mutex_lock(&st->mu);
	struct pane_rules *rs = st->rules;
	for (size_t i = 0; rs && i < rs->n_groups; i++) {
		struct pane_rule_group *g = &rs->groups[i];
		pthread_mutex_lock(&g->mu);
		pane_json_obj(&j);
		pane_json_key(&j, "name");
		pane_json_str(&j, g->name);
		pane_json_key(&j, "file");
		pane_json_str(&j, g->file);
		pane_json_key(&j, "rules");
		pane_json_arr(&j);
		for (size_t k = 0; k < g->n_rules; k++) {
			const struct pane_rule *r = &g->rules[k];
			if ((r->alerting && !want_alert) || (!r->alerting && !want_record))
				continue;
			json_rule(&j, r);
		}
		pane_json_arr_end(&j);
		pane_json_key(&j, "interval");
		json_float(&j, secs(group_interval(st, g)));
		pane_json_key(&j, "limit");
		pane_json_int(&j, g->limit);
		pane_json_key(&j, "evaluationTime");
		json_float(&j, g->eval_seconds);
		pane_json_key(&j, "lastEvaluation");
		json_time(&j, g->last_eval_ms);
		pane_json_obj_end(&j);
		pthread_mutex_unlock(&g->mu);
	}
	pthread_mutex_unlock(&st->mu);
	answer_end(&j);
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "application/json");
}

static void h_alerts(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct rules_state *st = ctx;
	(void)req;
	struct pane_buf *b = pane_http_resp_body(resp);
	struct pane_json js;
	answer_begin(&js, b, "alerts");
	pthread_mutex_lock(&st->mu);
	struct pane_rules *rs = st->rules;
	for (size_t i = 0; rs && i < rs->n_groups; i++) {
		struct pane_rule_group *g = &rs->groups[i];
		pthread_mutex_lock(&g->mu);
		for (size_t j = 0; j < g->n_rules; j++) {
			const struct pane_rule *r = &g->rules[j];
			for (size_t a = 0; r->alerting && a < r->n_active; a++) {
				if (r->active[a]->state == PANE_ALERT_INACTIVE)
					continue;
				json_alert(&js, r->active[a]);
			}
		}
		pthread_mutex_unlock(&g->mu);
	}
	pthread_mutex_unlock(&st->mu);
	answer_end(&js);
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "application/json");
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
	pane_http_server_route(
	    s->http, &(struct pane_http_route){
	                 .method = "GET", .pattern = "/api/v1/rules", .handler = h_rules, .ctx = st, .scope = "read"});
	pane_http_server_route(
	    s->http,
	    &(struct pane_http_route){
	        .method = "GET", .pattern = "/api/v1/alerts", .handler = h_alerts, .ctx = st, .scope = "read"});
	start_threads(st, true);
	pane_host_on_stop(s, on_stop, st);
	pane_host_on_reload(s, on_reload, st);
	return pane_logmetrics_attach(s, err);
}
