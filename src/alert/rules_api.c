/*
 * rules_api.c - Prometheus' /api/v1/rules and /api/v1/alerts over the
 * running rules.
 *
 * Idea: the answers are Prometheus 2.42's JSON, field for field, so
 * Grafana's Prometheus data source and promtool-minded scripts read pane's
 * rules as they read Prometheus': the parsed (reprinted) query, durations
 * and evaluation times as seconds in Prometheus' number format, alert
 * values as Go's %e, times as Go's RFC 3339 with the fraction's trailing
 * zeros cut, inactive alerts left out.
 *
 * Invariants:
 *   (1) an answer is read under state->mu (the rule set cannot be swapped
 *       by a reload meanwhile) and each group under its own mutex (its
 *       evaluation thread cannot change it meanwhile);
 *   (2) type= is alert, record or absent; anything else is 400 bad_data.
 * Threads: MHD pool threads.
 */
#include "alert/attach_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert/rules.h"
#include "alert/template.h"
#include "base/buf.h"
#include "base/json.h"
#include "http/server.h"
#include "query/query.h"

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
	pane_tmpl_fmt_float_e(a->value, v, sizeof v);
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
		json_float(&j, secs(rules_group_interval(st, g)));
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

void rules_api_routes(struct rules_state *st, struct pane_http_server *http)
{
	pane_http_server_route(
	    http, &(struct pane_http_route){
	              .method = "GET", .pattern = "/api/v1/rules", .handler = h_rules, .ctx = st, .scope = "read"});
	pane_http_server_route(
	    http, &(struct pane_http_route){
	              .method = "GET", .pattern = "/api/v1/alerts", .handler = h_alerts, .ctx = st, .scope = "read"});
}
