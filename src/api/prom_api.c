/*
 * prom_api.c - Prometheus' HTTP query API, answered by pane's PromQL engine.
 *
 * Each handler reads its arguments with pane_http_req_arg (query string or
 * form body, so Grafana's default POST works), validates them the way
 * Prometheus' web/api/v1 does (timestamps as RFC 3339 or Unix seconds, step
 * as a duration or seconds, at most 11,000 points per series, end not
 * before start) and answers with Prometheus' envelope. The reader is shared
 * by all handler threads (reader.h allows concurrent selects); everything a
 * request allocates is freed before the handler returns.
 */
#include "api/prom_api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "config/config.h"
#include "query/ast.h"
#include "host/host.h"

#define MAX_MATCH 64
#define SERIES_MAX_SAMPLES 10000000  /* samples a /api/v1/series lookup may load */
#define MIN_TIME (-62135596800000LL) /* Prometheus' minimum (year 1) in ms */
#define MAX_TIME (253402300799000LL) /* year 9999 */

struct pane_query_api {
	struct pane_reader reader;
	struct pane_query_opts opts;
};

void pane_prom_error(struct pane_http_resp *resp, int status, const char *type, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct pane_buf *b = pane_http_resp_body(resp);
	if (b->len) /* an empty buffer points at a shared static "" (base/buf.c) */
		pane_buf_reset(b);
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_obj(&j);
	pane_json_key(&j, "status");
	pane_json_str(&j, "error");
	pane_json_key(&j, "errorType");
	pane_json_str(&j, type);
	pane_json_key(&j, "error");
	pane_json_str(&j, msg);
	pane_json_obj_end(&j);
	pane_http_resp_status(resp, status);
	pane_http_resp_content_type(resp, "application/json");
}

void pane_prom_ok(struct pane_http_resp *resp, const char *data_json, size_t len)
{
	struct pane_buf *b = pane_http_resp_body(resp);
	if (b->len) /* an empty buffer points at a shared static "" (base/buf.c) */
		pane_buf_reset(b);
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_obj(&j);
	pane_json_key(&j, "status");
	pane_json_str(&j, "success");
	pane_json_key(&j, "data");
	pane_json_raw(&j, ""); /* data_json is already encoded and may not end in NUL */
	pane_buf_add(b, data_json, len);
	pane_json_obj_end(&j);
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "application/json");
}

int pane_prom_parse_time(const char *s, int64_t *ms)
{
	if (!s || !*s)
		return -1;
	double d;
	if (pane_str_to_double(pane_str_c(s), &d) == 0) {
		if (!isfinite(d) || fabs(d) > (double)PQ_MAX_TIME_MS / 1000)
			return -1;
		*ms = (int64_t)llround(d * 1000.0);
		return 0;
	}
	return pane_time_parse(pane_str_c(s), ms) == 0 ? 0 : -1;
}

/* Prometheus parseDuration: seconds (with fraction) or a duration. */
static int parse_dur(const char *s, int64_t *ms)
{
	if (!s || !*s)
		return -1;
	double d;
	if (pane_str_to_double(pane_str_c(s), &d) == 0) {
		if (!isfinite(d) || fabs(d) > (double)PQ_MAX_DURATION_MS / 1000)
			return -1;
		*ms = (int64_t)llround(d * 1000.0);
		return 0;
	}
	return pq_duration_parse(s, strlen(s), ms);
}

static void query_opts(struct pane_query_api *api, struct pane_http_req *req, struct pane_query_opts *o)
{
	*o = api->opts;
	const char *t = pane_http_req_arg(req, "timeout");
	int64_t ms;
	if (t && parse_dur(t, &ms) == 0 && ms > 0 && (o->timeout_ms == 0 || ms < o->timeout_ms))
		o->timeout_ms = ms;
}

static void answer(struct pane_http_resp *resp, int rc, enum pane_query_errclass cls, const struct pane_err *e,
                   struct pane_query_result *r)
{
	if (rc < 0) {
		switch (cls) {
		case PANE_QERR_BAD_DATA:
			pane_prom_error(resp, 400, "bad_data", "invalid parameter \"query\": %s", e->msg);
			break;
		case PANE_QERR_TIMEOUT: pane_prom_error(resp, 503, "timeout", "%s", e->msg); break;
		case PANE_QERR_EXECUTION: pane_prom_error(resp, 422, "execution", "%s", e->msg); break;
		default: pane_prom_error(resp, 500, "internal", "%s", e->msg); break;
		}
		return;
	}
	struct pane_buf b;
	pane_buf_init(&b, (size_t)200 << 20);
	if (pane_query_result_json(r, &b) < 0)
		pane_prom_error(resp, 422, "execution",
		                "the answer is larger than 200 MiB; narrow the query or raise the step");
	else
		pane_prom_ok(resp, b.data, b.len);
	pane_buf_release(&b);
}

static void h_query(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_query_api *api = ctx;
	const char *q = pane_http_req_arg(req, "query");
	const char *ts = pane_http_req_arg(req, "time");
	int64_t t = pane_wall_ms();
	if (ts && *ts && pane_prom_parse_time(ts, &t) < 0) {
		pane_prom_error(resp, 400, "bad_data",
		                "invalid parameter \"time\": cannot parse \"%s\" to a valid timestamp", ts);
		return;
	}
	struct pane_query_opts o;
	query_opts(api, req, &o);
	struct pane_query_result r;
	enum pane_query_errclass cls;
	struct pane_err e = {0};
	int rc = pane_query_exec(api->reader, &o, q ? q : "", t, t, 0, &r, &cls, &e);
	answer(resp, rc, cls, &e, &r);
	if (rc == 0)
		pane_query_result_release(&r);
}

static void h_query_range(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_query_api *api = ctx;
	const char *q = pane_http_req_arg(req, "query");
	const char *ss = pane_http_req_arg(req, "start"), *es = pane_http_req_arg(req, "end"),
	           *st = pane_http_req_arg(req, "step");
	int64_t start, end, step;
	if (pane_prom_parse_time(ss, &start) < 0) {
		pane_prom_error(resp, 400, "bad_data",
		                "invalid parameter \"start\": cannot parse \"%s\" to a valid timestamp", ss ? ss : "");
		return;
	}
	if (pane_prom_parse_time(es, &end) < 0) {
		pane_prom_error(resp, 400, "bad_data",
		                "invalid parameter \"end\": cannot parse \"%s\" to a valid timestamp", es ? es : "");
		return;
	}
	struct pane_query_opts o;
	query_opts(api, req, &o);
	/* the range checks are the engine's (one owner, one wording); end
	 * before start is reported before a step that does not parse */
	int prc = parse_dur(st, &step);
	const char *param;
	struct pane_err re = {0};
	if ((prc == 0 || end < start) &&
	    pane_query_check_range(start, end, prc == 0 ? step : 1, true, o.max_points, &param, &re) < 0) {
		if (param)
			pane_prom_error(resp, 400, "bad_data", "invalid parameter \"%s\": %s", param, re.msg);
		else
			pane_prom_error(resp, 400, "bad_data", "%s", re.msg);
		return;
	}
	if (prc < 0) {
		pane_prom_error(resp, 400, "bad_data",
		                "invalid parameter \"step\": cannot parse \"%s\" to a valid duration", st ? st : "");
		return;
	}
	struct pane_query_result r;
	enum pane_query_errclass cls;
	struct pane_err e = {0};
	int rc = pane_query_exec(api->reader, &o, q ? q : "", start, end, step, &r, &cls, &e);
	answer(resp, rc, cls, &e, &r);
	if (rc == 0)
		pane_query_result_release(&r);
}

/* Parses match[] selectors; each must be a plain vector selector. */
struct matchsets {
	struct pq_expr *e[MAX_MATCH];
	size_t n;
};

static void matchsets_free(struct matchsets *m)
{
	for (size_t i = 0; i < m->n; i++)
		pq_expr_free(m->e[i]);
	m->n = 0;
}

static bool parse_matches(struct pane_http_req *req, struct pane_http_resp *resp, struct matchsets *m)
{
	const char *v[MAX_MATCH];
	size_t n = pane_http_req_args(req, "match[]", v, MAX_MATCH);
	m->n = 0;
	if (n > MAX_MATCH) {
		pane_prom_error(resp, 400, "bad_data", "too many match[] parameters (%zu, at most %d)", n, MAX_MATCH);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		struct pane_err e = {0};
		struct pq_expr *x = pq_parse(v[i], &e);
		if (!x) {
			pane_prom_error(resp, 400, "bad_data", "invalid parameter \"match[]\": %s", e.msg);
			matchsets_free(m);
			return false;
		}
		struct pq_node *r = x->root;
		while (r->kind == PQ_PAREN)
			r = r->a;
		if (r->kind != PQ_VSEL || r->offset || r->at_kind != PQ_AT_NONE) {
			pane_prom_error(resp, 400, "bad_data",
			                "invalid parameter \"match[]\": \"%s\" is not a series selector", v[i]);
			pq_expr_free(x);
			matchsets_free(m);
			return false;
		}
		m->e[m->n++] = x;
	}
	return true;
}

static struct pq_node *sel_of(struct pq_expr *e)
{
	struct pq_node *r = e->root;
	while (r->kind == PQ_PAREN)
		r = r->a;
	return r;
}

static bool time_range(struct pane_http_req *req, struct pane_http_resp *resp, int64_t *start, int64_t *end)
{
	const char *ss = pane_http_req_arg(req, "start"), *es = pane_http_req_arg(req, "end");
	*start = MIN_TIME;
	*end = MAX_TIME;
	if (ss && *ss && pane_prom_parse_time(ss, start) < 0) {
		pane_prom_error(resp, 400, "bad_data",
		                "invalid parameter \"start\": cannot parse \"%s\" to a valid timestamp", ss);
		return false;
	}
	if (es && *es && pane_prom_parse_time(es, end) < 0) {
		pane_prom_error(resp, 400, "bad_data",
		                "invalid parameter \"end\": cannot parse \"%s\" to a valid timestamp", es);
		return false;
	}
	const char *param;
	struct pane_err re = {0};
	if (pane_query_check_range(*start, *end, 0, false, 0, &param, &re) < 0) {
		pane_prom_error(resp, 400, "bad_data", "invalid parameter \"%s\": %s", param, re.msg);
		return false;
	}
	return true;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Union of string lists, sorted and unique, as a JSON array. */
static void strings_answer(struct pane_http_resp *resp, char **v, size_t n)
{
	qsort(v, n, sizeof *v, str_cmp);
	struct pane_buf b;
	pane_buf_init(&b, (size_t)200 << 20);
	struct pane_json j;
	pane_json_init(&j, &b);
	pane_json_arr(&j);
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(v[i], v[i - 1]))
			continue;
		pane_json_str(&j, v[i]);
	}
	pane_json_arr_end(&j);
	pane_prom_ok(resp, b.data, b.len);
	pane_buf_release(&b);
}

static void names_or_values(struct pane_query_api *api, struct pane_http_req *req, struct pane_http_resp *resp,
                            const char *label)
{
	int64_t start, end;
	struct matchsets m;
	if (!time_range(req, resp, &start, &end) || !parse_matches(req, resp, &m))
		return;
	char **all = NULL;
	size_t nall = 0;
	size_t rounds = m.n ? m.n : 1;
	for (size_t i = 0; i < rounds; i++) {
		char **v = NULL;
		size_t n = 0;
		struct pane_err e = {0};
		const struct pane_matcher *mt = m.n ? sel_of(m.e[i])->matchers : NULL;
		size_t nm = m.n ? sel_of(m.e[i])->n_matchers : 0;
		int rc = label ? api->reader.ops->label_values(api->reader.ctx, label, mt, nm, start, end, &v, &n, &e)
		               : api->reader.ops->label_names(api->reader.ctx, mt, nm, start, end, &v, &n, &e);
		if (rc < 0) {
			pane_prom_error(resp, rc == PANE_ETIMEDOUT ? 503 : 422,
			                rc == PANE_ETIMEDOUT ? "timeout" : "execution", "%s",
			                e.msg[0] ? e.msg : "reading labels failed");
			for (size_t j = 0; j < nall; j++)
				free(all[j]);
			free(all);
			matchsets_free(&m);
			return;
		}
		all = pane_xrealloc(all, (nall + n + 1) * sizeof *all);
		if (n)
			memcpy(all + nall, v, n * sizeof *v);
		nall += n;
		free(v);
	}
	strings_answer(resp, all, nall);
	for (size_t j = 0; j < nall; j++)
		free(all[j]);
	free(all);
	matchsets_free(&m);
}

static void h_labels(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	names_or_values(ctx, req, resp, NULL);
}

static void h_label_values(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	const char *name = pane_http_req_param(req, "name");
	size_t n = name ? strlen(name) : 0;
	bool ok = n > 0 && (name[0] == '_' || (name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z'));
	for (size_t i = 1; ok && i < n; i++)
		ok = name[i] == '_' || (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		     (name[i] >= '0' && name[i] <= '9');
	if (!ok) {
		pane_prom_error(resp, 400, "bad_data", "invalid label name: \"%s\"", name ? name : "");
		return;
	}
	names_or_values(ctx, req, resp, name);
}

static void h_series(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_query_api *api = ctx;
	int64_t start, end;
	struct matchsets m;
	if (!time_range(req, resp, &start, &end) || !parse_matches(req, resp, &m))
		return;
	if (m.n == 0) {
		pane_prom_error(resp, 400, "bad_data", "no match[] parameter provided");
		return;
	}
	const char *lim = pane_http_req_arg(req, "limit");
	uint64_t limit = 0;
	if (lim && *lim && pane_str_to_u64(pane_str_c(lim), &limit) < 0) {
		pane_prom_error(resp, 400, "bad_data", "invalid parameter \"limit\": cannot parse \"%s\"", lim);
		matchsets_free(&m);
		return;
	}
	/* one JSON object per distinct series, sorted */
	char **objs = NULL;
	size_t nobj = 0;
	for (size_t i = 0; i < m.n; i++) {
		struct pq_node *s = sel_of(m.e[i]);
		struct pane_series_set *set = NULL;
		struct pane_err e = {0};
		/* reader.h has no "series without samples" call, so this select loads
		 * samples too: a tighter budget keeps a wide lookup's memory bounded */
		size_t budget = api->opts.max_samples ? api->opts.max_samples : 50000000;
		if (budget > SERIES_MAX_SAMPLES)
			budget = SERIES_MAX_SAMPLES;
		int rc =
		    api->reader.ops->select(api->reader.ctx, s->matchers, s->n_matchers, start, end, budget, &set, &e);
		if (rc == PANE_ETOOBIG) {
			pane_prom_error(resp, 422, "execution",
			                "the series lookup covers too many samples; narrow match[] or start/end");
			for (size_t j = 0; j < nobj; j++)
				free(objs[j]);
			free(objs);
			matchsets_free(&m);
			return;
		}
		if (rc < 0) {
			pane_prom_error(resp, rc == PANE_ETIMEDOUT ? 503 : 422,
			                rc == PANE_ETIMEDOUT ? "timeout" : "execution", "%s",
			                e.msg[0] ? e.msg : "reading series failed");
			for (size_t j = 0; j < nobj; j++)
				free(objs[j]);
			free(objs);
			matchsets_free(&m);
			return;
		}
		objs = pane_xrealloc(objs, (nobj + set->n + 1) * sizeof *objs);
		for (size_t k = 0; k < set->n; k++) {
			struct pane_buf b;
			pane_buf_init(&b, PANE_BUF_NOLIMIT);
			struct pane_json js;
			pane_json_init(&js, &b);
			pane_json_obj(&js);
			const struct pane_labels *l = &set->series[k].labels;
			for (size_t j = 0; j < l->n; j++) {
				if (!l->v[j].value || !l->v[j].value[0])
					continue;
				pane_json_key(&js, l->v[j].name);
				pane_json_str(&js, l->v[j].value);
			}
			pane_json_obj_end(&js);
			objs[nobj++] = pane_buf_detach(&b, NULL);
		}
		set->free(set);
	}
	qsort(objs, nobj, sizeof *objs, str_cmp);
	struct pane_buf out;
	pane_buf_init(&out, (size_t)200 << 20);
	struct pane_json js;
	pane_json_init(&js, &out);
	pane_json_arr(&js);
	size_t k = 0;
	for (size_t j = 0; j < nobj; j++) {
		if (j && !strcmp(objs[j], objs[j - 1]))
			continue;
		if (limit && k >= limit)
			break;
		k++;
		pane_json_raw(&js, objs[j]);
	}
	pane_json_arr_end(&js);
	pane_prom_ok(resp, out.data, out.len);
	pane_buf_release(&out);
	for (size_t j = 0; j < nobj; j++)
		free(objs[j]);
	free(objs);
	matchsets_free(&m);
}

static void h_format_query(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)ctx;
	const char *q = pane_http_req_arg(req, "query");
	struct pane_buf b, j;
	struct pane_err e = {0};
	pane_buf_init(&b, PQ_MAX_EXPR_LEN * 4);
	if (pane_query_format(q ? q : "", &b, &e) < 0) {
		pane_prom_error(resp, 400, "bad_data", "invalid parameter \"query\": %s", e.msg);
	} else {
		pane_buf_init(&j, PANE_BUF_NOLIMIT);
		struct pane_json js;
		pane_json_init(&js, &j);
		pane_json_strn(&js, b.data, b.len);
		pane_prom_ok(resp, j.data, j.len);
		pane_buf_release(&j);
	}
	pane_buf_release(&b);
}

static void h_exemplars(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)ctx;
	const char *q = pane_http_req_arg(req, "query");
	struct pane_err e = {0};
	if (pane_query_check(q ? q : "", &e) < 0) {
		pane_prom_error(resp, 400, "bad_data", "invalid parameter \"query\": %s", e.msg);
		return;
	}
	/* pane keeps no exemplars: the empty list Prometheus answers when it has none */
	pane_prom_ok(resp, "[]", 2);
}

/* Go's strconv.Atoi: optional sign, decimal digits, within int64. */
static int go_atoi(const char *s, int64_t *out)
{
	bool neg = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return -1;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return -1;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* Prometheus 2.42's metricMetadata: {"name":[{"type","help","unit"}],...};
 * `metric` picks one family, `limit` caps the number of families (negative:
 * no cap, 0: none; not a number: 400). 2.42 has no limit_per_metric (it
 * ignores the parameter, so does pane: the store keeps one entry per name).
 * A reader without metadata answers {} like Prometheus without targets. */
static void h_metadata(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_query_api *api = ctx;
	size_t limit = SIZE_MAX;
	const char *ls = pane_http_req_arg(req, "limit");
	if (ls && *ls) {
		int64_t v;
		if (go_atoi(ls, &v) < 0) {
			pane_prom_error(resp, 400, "bad_data", "limit must be a number");
			return;
		}
		if (v >= 0)
			limit = (size_t)v;
	}
	const char *metric = pane_http_req_arg(req, "metric");
	if (metric && !*metric)
		metric = NULL;
	if (!api->reader.ops->metadata || limit == 0) {
		pane_prom_ok(resp, "{}", 2);
		return;
	}
	struct pane_metadata *m = NULL;
	size_t n = 0;
	struct pane_err e = {0};
	if (api->reader.ops->metadata(api->reader.ctx, metric, limit, &m, &n, &e) < 0) {
		pane_prom_error(resp, 500, "internal", "reading metadata: %s", e.msg);
		return;
	}
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	struct pane_json j;
	pane_json_init(&j, &b);
	pane_json_obj(&j);
	for (size_t i = 0; i < n; i++) {
		pane_json_key(&j, m[i].name);
		pane_json_arr(&j);
		pane_json_obj(&j);
		pane_json_key(&j, "type");
		pane_json_str(&j, pane_metric_type_name(m[i].type));
		pane_json_key(&j, "help");
		pane_json_str(&j, m[i].help);
		pane_json_key(&j, "unit");
		pane_json_str(&j, m[i].unit);
		pane_json_obj_end(&j);
		pane_json_arr_end(&j);
	}
	pane_json_obj_end(&j);
	pane_prom_ok(resp, b.data, b.len);
	pane_buf_release(&b);
	free(m);
}

static void h_buildinfo(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	(void)req;
	(void)ctx;
	/* version: the Prometheus API level pane answers like (Grafana reads it for feature detection) */
	const char *data = "{\"version\":\"2.42.0\",\"revision\":\"pane-" PANE_VERSION "\",\"branch\":\"pane\","
	                   "\"buildUser\":\"pane\",\"buildDate\":\"\",\"goVersion\":\"none (pane is written in C)\"}";
	pane_prom_ok(resp, data, strlen(data));
}

struct pane_query_api *pane_query_api_new(struct pane_http_server *http, struct pane_reader reader,
                                          const struct pane_query_opts *opts, struct pane_err *err)
{
	struct pane_query_api *api = pane_xcalloc(1, sizeof *api);
	api->reader = reader;
	if (opts)
		api->opts = *opts;
	static const struct {
		const char *pattern;
		pane_http_handler h;
		bool post;
	} routes[] = {
	    {"/api/v1/query", h_query, true},
	    {"/api/v1/query_range", h_query_range, true},
	    {"/api/v1/series", h_series, true},
	    {"/api/v1/labels", h_labels, true},
	    {"/api/v1/label/{name}/values", h_label_values, false},
	    {"/api/v1/metadata", h_metadata, false},
	    {"/api/v1/format_query", h_format_query, true},
	    {"/api/v1/query_exemplars", h_exemplars, true},
	    {"/api/v1/status/buildinfo", h_buildinfo, false},
	};
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		for (int m = 0; m < (routes[i].post ? 2 : 1); m++) {
			struct pane_http_route r = {.method = m ? "POST" : "GET",
			                            .pattern = routes[i].pattern,
			                            .handler = routes[i].h,
			                            .ctx = api,
			                            .scope = "read",
			                            .max_body = 1 << 20};
			if (pane_http_server_route(http, &r) < 0) {
				pane_err_set(err, PANE_EINVAL, "cannot add route %s", routes[i].pattern);
				free(api);
				return NULL;
			}
		}
	}
	return api;
}

void pane_query_api_free(struct pane_query_api *api)
{
	free(api);
}

static void stop_api(void *arg)
{
	pane_query_api_free(arg);
}

struct query_cfg {
	int64_t lookback_ms, timeout_ms, max_samples;
};

static const struct pane_cfg_field query_fields[] = {
    {"lookback_delta", PANE_CFT_DURATION, offsetof(struct query_cfg, lookback_ms), "5m", 0,
     "how far back an instant selector looks for a series' latest sample", 1, PQ_MAX_DURATION_MS},
    {"timeout", PANE_CFT_DURATION, offsetof(struct query_cfg, timeout_ms), "2m", 0,
     "longest a query may run (a request's timeout= may only shorten it); then 503 timeout", 1, 3600000},
    {"max_samples", PANE_CFT_INT, offsetof(struct query_cfg, max_samples), "50000000", 0,
     "samples a query may hold at once (bounds its memory, ~16 bytes each); then 422 execution", 1000, 1000000000},
    /* the remote query backend's keys, bound by src/remote (remote.c) */
    {"backend", PANE_CFT_SECTION, 0, NULL, 0, NULL, 0, 0},
    {"remote_timeout", PANE_CFT_SECTION, 0, NULL, 0, NULL, 0, 0},
    {"max_response_size", PANE_CFT_SECTION, 0, NULL, 0, NULL, 0, 0},
    {"bearer_token", PANE_CFT_SECTION, 0, NULL, 0, NULL, 0, 0},
    {"bearer_token_file", PANE_CFT_SECTION, 0, NULL, 0, NULL, 0, 0},
    {"basic_auth", PANE_CFT_SECTION, 0, NULL, 0, NULL, 0, 0},
    {"authorization", PANE_CFT_SECTION, 0, NULL, 0, NULL, 0, 0},
    {"headers", PANE_CFT_SECTION, 0, NULL, 0, NULL, 0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

int pane_query_attach(struct pane_host *s, struct pane_reader reader, struct pane_err *err)
{
	struct query_cfg c;
	if (pane_cfg_bind(s->cfg, pane_cfg_get(s->cfg->root, "query"), query_fields, &c, err) < 0)
		return PANE_EINVAL;
	struct pane_query_opts o = {
	    .lookback_ms = c.lookback_ms, .timeout_ms = c.timeout_ms, .max_samples = (size_t)c.max_samples};
	struct pane_query_api *api = pane_query_api_new(s->http, reader, &o, err);
	if (!api)
		return err && err->code ? err->code : PANE_EINVAL;
	pane_host_on_stop(s, stop_api, api);
	return 0;
}
