/*
 * loki_api.c - Loki's query API over the log reader seam, so Grafana's Loki
 * data source shows pane's logs.
 *
 * Idea: each route parses Loki's arguments the way Loki does (times as
 * Unix nanoseconds, Unix seconds with a fraction, or RFC 3339; steps as
 * seconds or a duration), runs LogQL (src/logql) or asks the reader for
 * streams, and writes Loki's JSON: "streams" with nanosecond string
 * timestamps, "matrix"/"vector"/"scalar" with Prometheus' float seconds,
 * and a "stats" summary. Errors are what Loki answers: 400 text/plain with
 * the message (Grafana shows the body, or its JSON "message").
 *
 * Routes (scope "read"):
 *   GET|POST /loki/api/v1/query_range  query, start, end, limit, direction, step
 *   GET|POST /loki/api/v1/query        query, time, limit, direction
 *   GET      /loki/api/v1/labels       start, end, query
 *   GET      /loki/api/v1/label/{name}/values  start, end, query
 *   GET|POST /loki/api/v1/series       match[], start, end
 *   GET      /loki/api/v1/index/stats  query, start, end
 *   GET      /loki/api/v1/tail         query, start, limit, delay_for (websocket)
 * Grafana's "Save & test" sends `vector(1)+vector(1)` to /query (newer
 * versions) or asks /labels (older ones); both work.
 *
 * Defaults as in Loki: end = now, start = end - 1 h (6 h for labels and
 * series), limit 100 (at most 5000), direction backward, step =
 * max(1 s, ceil(range / 250)). Threads: handlers run concurrently; the
 * context is read-only.
 *
 * /tail upgrades to a websocket (RFC 6455, server frames only: text frames
 * out, the client's close or EOF ends it; the frames are http/ws.h's) and
 * runs on its own thread: every
 * TAIL_POLL_MS it evaluates the log query forward from just after the
 * newest line it sent and sends what is new as Loki's tail frame
 * {"streams":[...],"dropped_entries":null}. Lines are found by their
 * timestamp, so a line written later with an older timestamp, or with the
 * same millisecond as the last one sent, is not sent. At most
 * TAIL_MAX_SESSIONS tail at once; each ends after TAIL_MAX_S.
 */
#include "api/loki_api.h"

#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/prom_api.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/map.h"
#include "base/mem.h"
#include "base/str.h"
#include "http/ws.h"
#include "host/host.h"
#include "logql/logql.h"
#include "query/query.h"

#define MAX_LIMIT 5000
#define MAX_MATCH_ARGS 64
#define NS_PER_MS ((int64_t)1000000)
#define ANSWER_MAX ((size_t)256 << 20)
#define TAIL_POLL_MS 500
#define TAIL_MAX_SESSIONS 32
#define TAIL_MAX_S 3600

__attribute__((format(printf, 3, 4))) static void fail(struct pane_http_resp *resp, int status, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct pane_buf *b = pane_http_resp_body(resp);
	if (b->len)
		pane_buf_reset(b);
	pane_buf_adds(b, msg);
	pane_buf_addc(b, '\n');
	pane_http_resp_status(resp, status);
	pane_http_resp_content_type(resp, "text/plain; charset=utf-8");
}

static void fail_err(struct pane_http_resp *resp, int rc, const struct pane_err *e)
{
	if (rc == PANE_EINVAL || rc == PANE_ETOOBIG)
		fail(resp, 400, "%s", e->msg[0] ? e->msg : "bad request");
	else
		fail(resp, 500, "%s", e->msg[0] ? e->msg : "the store could not answer");
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Loki's parseTimestamp: "1.5" seconds, up to 10 digits seconds, more digits
 * nanoseconds, else RFC 3339. 0 or -1. */
static int parse_ts(const char *s, int64_t *ns)
{
	if (!s || !*s)
		return -1;
	if (strchr(s, '.') && !strchr(s, 'T')) {
		double d;
		if (pane_str_to_double(pane_str_c(s), &d) < 0 || !isfinite(d) || fabs(d) > 9e9)
			return -1;
		*ns = (int64_t)llround(d * 1e9);
		return 0;
	}
	int64_t v;
	if (pane_str_to_i64(pane_str_c(s), &v) == 0) {
		if (strlen(s) <= 10 + (s[0] == '-')) {
			if (v > 9000000000LL || v < -9000000000LL)
				return -1;
			*ns = v * 1000000000LL;
		} else {
			*ns = v;
		}
		return 0;
	}
	int64_t ms;
	if (pane_time_parse(pane_str_c(s), &ms) < 0 || ms > 9000000000000LL || ms < -9000000000000LL)
		return -1;
	*ns = ms * NS_PER_MS;
	return 0;
}

static bool arg_time(struct pane_http_req *req, struct pane_http_resp *resp, const char *name, int64_t dflt,
                     int64_t *ns)
{
	const char *s = pane_http_req_arg(req, name);
	*ns = dflt;
	if (!s || !*s)
		return true;
	if (parse_ts(s, ns) < 0) {
		fail(resp, 400, "invalid %s parameter \"%.200s\": cannot parse it as a timestamp", name, s);
		return false;
	}
	return true;
}

/* start/end with Loki's defaults; end before start is 400. */
static bool arg_range(struct pane_http_req *req, struct pane_http_resp *resp, int64_t back_ns, int64_t *start,
                      int64_t *end)
{
	if (!arg_time(req, resp, "end", now_ns(), end) || !arg_time(req, resp, "start", *end - back_ns, start))
		return false;
	if (*end < *start) {
		fail(resp, 400, "end timestamp must not be before or equal to start time");
		return false;
	}
	return true;
}

static bool arg_limit(struct pane_http_req *req, struct pane_http_resp *resp, size_t *limit)
{
	const char *s = pane_http_req_arg(req, "limit");
	uint64_t v = 100;
	if (s && *s && (pane_str_to_u64(pane_str_c(s), &v) < 0 || v == 0)) {
		fail(resp, 400, "invalid limit parameter \"%.100s\": must be a number above 0", s);
		return false;
	}
	if (v > MAX_LIMIT) {
		fail(resp, 400,
		     "max entries limit per query exceeded, limit > max_entries_limit_per_query (%" PRIu64 " > %d)", v,
		     MAX_LIMIT);
		return false;
	}
	*limit = (size_t)v;
	return true;
}

static bool arg_direction(struct pane_http_req *req, struct pane_http_resp *resp, bool *forward)
{
	const char *s = pane_http_req_arg(req, "direction");
	*forward = false;
	if (!s || !*s || pane_streq_nocase(s, "backward"))
		return true;
	if (pane_streq_nocase(s, "forward")) {
		*forward = true;
		return true;
	}
	fail(resp, 400, "invalid direction \"%.100s\": use forward or backward", s);
	return false;
}

/* Loki's step: seconds (with fraction) or a duration ("15s", "1000ms"). */
static bool arg_step(struct pane_http_req *req, struct pane_http_resp *resp, int64_t start, int64_t end,
                     int64_t *step_ns)
{
	const char *s = pane_http_req_arg(req, "step");
	if (!s || !*s) {
		int64_t secs = (int64_t)ceil((double)(end - start) / 1e9 / 250.0);
		*step_ns = (secs < 1 ? 1 : secs) * 1000000000LL;
		return true;
	}
	double d;
	int64_t ms;
	if (pane_str_to_double(pane_str_c(s), &d) == 0 && isfinite(d) && d > 0 && d < 1e9) {
		*step_ns = (int64_t)llround(d * 1e9);
	} else if (pane_duration_parse(pane_str_c(s), 1000, &ms) == 0 && ms > 0) {
		*step_ns = ms * NS_PER_MS;
	} else {
		fail(resp, 400, "invalid step parameter \"%.100s\": use seconds or a duration like 15s", s);
		return false;
	}
	if (*step_ns < NS_PER_MS) {
		fail(resp, 400,
		     "zero or negative query resolution step widths are not accepted. Try a positive integer");
		return false;
	}
	return true;
}

static struct pane_logql_expr *arg_query(struct pane_http_req *req, struct pane_http_resp *resp)
{
	const char *q = pane_http_req_arg(req, "query");
	if (!q || !*q) {
		fail(resp, 400, "query parameter is missing: pass a LogQL query like {service=\"api\"}");
		return NULL;
	}
	struct pane_err e = {0};
	struct pane_logql_expr *x = pane_logql_parse(q, strlen(q), &e);
	if (!x)
		fail(resp, 400, "%s", e.msg);
	return x;
}

/* ---------- JSON writers ---------- */

/* [<float seconds>,"<value>"], both in Prometheus' formatting (neither
 * needs escaping). One formatted write, as many as a range has steps. */
static void point_json(struct pane_json *j, int64_t ms, double v)
{
	char ts[64], val[64];
	pane_query_fmt_ts(ms, ts, sizeof ts);
	pane_query_fmt_float(v, val, sizeof val);
	pane_json_rawf(j, "[%s,\"%s\"]", ts, val);
}

/* [{"stream":{...},"values":[["<ns>","<line>"],...]},...]; the number of entries. */
static size_t streams_json(struct pane_json *j, const struct pane_logql_result *r)
{
	size_t returned = 0;
	pane_json_arr(j);
	for (size_t i = 0; i < r->n_streams; i++) {
		const struct pane_logql_stream *s = &r->streams[i];
		pane_json_obj(j);
		pane_json_key(j, "stream");
		pane_labels_json_value(j, &s->labels);
		pane_json_key(j, "values");
		pane_json_arr(j);
		for (size_t k = 0; k < s->n; k++) {
			char ns[32];
			snprintf(ns, sizeof ns, "%" PRId64, s->v[k].ts_ms * NS_PER_MS);
			pane_json_arr(j);
			pane_json_str(j, ns);
			pane_json_strn(j, s->v[k].line, s->v[k].len);
			pane_json_arr_end(j);
		}
		returned += s->n;
		pane_json_arr_end(j);
		pane_json_obj_end(j);
	}
	pane_json_arr_end(j);
	return returned;
}

static void stats_json(struct pane_json *j, const struct pane_logql_result *r, double secs, size_t returned)
{
	double s = secs > 0 ? secs : 1e-9;
	pane_json_key(j, "stats");
	pane_json_obj(j);
	pane_json_key(j, "summary");
	pane_json_obj(j);
	pane_json_key(j, "bytesProcessedPerSecond");
	pane_json_rawf(j, "%.0f", (double)r->bytes_read / s);
	pane_json_key(j, "linesProcessedPerSecond");
	pane_json_rawf(j, "%.0f", (double)r->lines_read / s);
	pane_json_key(j, "totalBytesProcessed");
	pane_json_uint(j, r->bytes_read);
	pane_json_key(j, "totalLinesProcessed");
	pane_json_uint(j, r->lines_read);
	pane_json_key(j, "execTime");
	pane_json_rawf(j, "%.6f", secs);
	pane_json_key(j, "queueTime");
	pane_json_int(j, 0);
	pane_json_key(j, "subqueries");
	pane_json_int(j, 0);
	pane_json_key(j, "totalEntriesReturned");
	pane_json_uint(j, returned);
	pane_json_obj_end(j);
	pane_json_obj_end(j);
}

static void result_json(struct pane_buf *b, const struct pane_logql_result *r, bool instant, bool forward, double secs)
{
	size_t returned = 0;
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_obj(&j);
	pane_json_key(&j, "status");
	pane_json_str(&j, "success");
	pane_json_key(&j, "data");
	pane_json_obj(&j);
	pane_json_key(&j, "resultType");
	if (r->kind == PANE_LOGQL_STREAMS) {
		pane_json_str(&j, "streams");
		pane_json_key(&j, "result");
		returned = streams_json(&j, r);
		(void)forward; /* entries are already in the asked order */
	} else if (r->kind == PANE_LOGQL_SCALAR) {
		double v = r->n_series ? r->series[0].v[r->n_steps - 1] : NAN;
		if (instant) {
			pane_json_str(&j, "scalar");
			pane_json_key(&j, "result");
			point_json(&j, r->start_ms, v);
		} else {
			pane_json_str(&j, "matrix");
			pane_json_key(&j, "result");
			pane_json_arr(&j);
			pane_json_obj(&j);
			pane_json_key(&j, "metric");
			pane_json_obj(&j);
			pane_json_obj_end(&j);
			pane_json_key(&j, "values");
			pane_json_arr(&j);
			for (size_t k = 0; k < r->n_steps; k++)
				point_json(&j, r->start_ms + (int64_t)k * r->step_ms, r->series[0].v[k]);
			pane_json_arr_end(&j);
			pane_json_obj_end(&j);
			pane_json_arr_end(&j);
		}
	} else if (instant) {
		pane_json_str(&j, "vector");
		pane_json_key(&j, "result");
		pane_json_arr(&j);
		for (size_t i = 0; i < r->n_series; i++) {
			double v = r->series[i].v[0];
			if (isnan(v))
				continue;
			pane_json_obj(&j);
			pane_json_key(&j, "metric");
			pane_labels_json_value(&j, &r->series[i].labels);
			pane_json_key(&j, "value");
			point_json(&j, r->start_ms, v);
			pane_json_obj_end(&j);
		}
		pane_json_arr_end(&j);
	} else {
		pane_json_str(&j, "matrix");
		pane_json_key(&j, "result");
		pane_json_arr(&j);
		for (size_t i = 0; i < r->n_series; i++) {
			const struct pane_logql_series *s = &r->series[i];
			size_t pts = 0;
			for (size_t k = 0; k < r->n_steps; k++)
				pts += !isnan(s->v[k]);
			if (!pts)
				continue;
			pane_json_obj(&j);
			pane_json_key(&j, "metric");
			pane_labels_json_value(&j, &s->labels);
			pane_json_key(&j, "values");
			pane_json_arr(&j);
			for (size_t k = 0; k < r->n_steps; k++)
				if (!isnan(s->v[k]))
					point_json(&j, r->start_ms + (int64_t)k * r->step_ms, s->v[k]);
			pane_json_arr_end(&j);
			pane_json_obj_end(&j);
		}
		pane_json_arr_end(&j);
	}
	stats_json(&j, r, secs, returned);
	pane_json_obj_end(&j);
	pane_json_obj_end(&j);
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run(const struct pane_logreader *rd, struct pane_http_resp *resp, struct pane_logql_expr *x,
                const struct pane_logql_params *p)
{
	struct pane_logql_result r;
	struct pane_err e = {0};
	double t0 = mono_s();
	int rc = pane_logql_eval(x, rd, p, &r, &e);
	if (rc < 0) {
		fail_err(resp, rc, &e);
		return;
	}
	struct pane_buf *b = pane_http_resp_body(resp);
	if (b->len)
		pane_buf_reset(b);
	result_json(b, &r, p->instant, p->forward, mono_s() - t0);
	pane_logql_result_free(&r);
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "application/json");
}

/* ---------- routes ---------- */

static void h_query_range(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_logql_params p = {0};
	if (!arg_range(req, resp, 3600 * 1000000000LL, &p.start_ns, &p.end_ns) || !arg_limit(req, resp, &p.limit) ||
	    !arg_direction(req, resp, &p.forward) || !arg_step(req, resp, p.start_ns, p.end_ns, &p.step_ns))
		return;
	struct pane_logql_expr *x = arg_query(req, resp);
	if (!x)
		return;
	run(ctx, resp, x, &p);
	pane_logql_free(x);
}

static void h_query(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_logql_params p = {.instant = true};
	if (!arg_time(req, resp, "time", now_ns(), &p.end_ns) || !arg_limit(req, resp, &p.limit) ||
	    !arg_direction(req, resp, &p.forward))
		return;
	p.start_ns = p.end_ns;
	struct pane_logql_expr *x = arg_query(req, resp);
	if (!x)
		return;
	run(ctx, resp, x, &p);
	pane_logql_free(x);
}

/* Streams over a range, for labels, values, series and stats. */
struct collect {
	const char *label; /* values of this label; NULL: names */
	struct pane_map set;
	struct pane_buf key;
	bool series;
	struct pane_json *out; /* series: the answer's data array */
	uint64_t streams, entries, bytes;
};

static int collect_stream(void *arg, const struct pane_log_stream *s)
{
	struct collect *c = arg;
	c->streams++;
	c->entries += s->entries;
	c->bytes += s->bytes;
	if (c->series) {
		pane_buf_reset(&c->key);
		pane_labels_json(s->labels, &c->key);
		if (pane_map_has(&c->set, c->key.data, c->key.len))
			return 0;
		pane_map_put(&c->set, c->key.data, c->key.len, NULL);
		pane_json_raw(c->out, "");
		if (!c->out->rc)
			pane_buf_add(c->out->b, c->key.data, c->key.len);
		return 0;
	}
	for (size_t i = 0; i < s->labels->n; i++) {
		const char *v = c->label ? (!strcmp(s->labels->v[i].name, c->label) ? s->labels->v[i].value : NULL)
		                         : s->labels->v[i].name;
		if (v)
			pane_map_puts(&c->set, v, NULL);
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void sorted_set_json(struct pane_buf *b, const struct pane_map *set)
{
	const char **v = pane_xmalloc(pane_mul_size(set->len ? set->len : 1, sizeof *v));
	size_t n = 0, pos = 0, kl;
	const char *k;
	void *val;
	while (pane_map_next(set, &pos, &k, &kl, &val))
		v[n++] = k;
	qsort(v, n, sizeof *v, cmp_str);
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_arr(&j);
	for (size_t i = 0; i < n; i++)
		pane_json_str(&j, v[i]);
	pane_json_arr_end(&j);
	free(v);
}

/* Runs the reader's streams op for the matchers of query= (optional). */
static bool streams_of(const struct pane_logreader *rd, struct pane_http_req *req, struct pane_http_resp *resp,
                       const char *qarg, struct collect *c, int64_t back_ns)
{
	int64_t start, end;
	if (!arg_range(req, resp, back_ns, &start, &end))
		return false;
	const char *q = pane_http_req_arg(req, qarg);
	struct pane_logql_expr *x = NULL;
	if (q && *q) {
		struct pane_err e = {0};
		if (!(x = pane_logql_parse(q, strlen(q), &e))) {
			fail(resp, 400, "%s", e.msg);
			return false;
		}
	}
	size_t n = 0;
	const struct pane_matcher *m = x ? pane_logql_matchers(x, &n) : NULL;
	struct pane_err e = {0};
	int rc = rd->ops->streams(rd->ctx, m, n, start / NS_PER_MS, (end - 1) / NS_PER_MS, collect_stream, c, &e);
	pane_logql_free(x);
	if (rc < 0) {
		fail_err(resp, rc, &e);
		return false;
	}
	return true;
}

static void collect_init(struct collect *c, struct pane_json *out)
{
	memset(c, 0, sizeof *c);
	pane_map_init(&c->set, NULL);
	pane_buf_init(&c->key, PANE_BUF_NOLIMIT);
	c->out = out;
}

static void collect_release(struct collect *c)
{
	pane_map_release(&c->set);
	pane_buf_release(&c->key);
}

static void answer_set(struct pane_http_resp *resp, struct collect *c)
{
	struct pane_buf *b = pane_http_resp_body(resp);
	if (b->len)
		pane_buf_reset(b);
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_obj(&j);
	pane_json_key(&j, "status");
	pane_json_str(&j, "success");
	pane_json_key(&j, "data");
	pane_json_raw(&j, "");
	sorted_set_json(b, &c->set);
	pane_json_obj_end(&j);
	pane_http_resp_status(resp, 200);
	pane_http_resp_content_type(resp, "application/json");
}

static void h_labels(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct collect c;
	collect_init(&c, NULL);
	if (streams_of(ctx, req, resp, "query", &c, 6 * 3600 * 1000000000LL))
		answer_set(resp, &c);
	collect_release(&c);
}

static void h_label_values(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	const char *name = pane_http_req_param(req, "name");
	if (!name || !pane_label_name_valid(name, strlen(name))) {
		fail(resp, 400, "invalid label name \"%.100s\"", name ? name : "");
		return;
	}
	struct collect c;
	collect_init(&c, NULL);
	c.label = name;
	if (streams_of(ctx, req, resp, "query", &c, 6 * 3600 * 1000000000LL))
		answer_set(resp, &c);
	collect_release(&c);
}

static void h_series(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	const struct pane_logreader *rd = ctx;
	const char *match[MAX_MATCH_ARGS];
	size_t n = pane_http_req_args(req, "match[]", match, MAX_MATCH_ARGS);
	if (!n)
		n = pane_http_req_args(req, "match", match, MAX_MATCH_ARGS);
	if (n > MAX_MATCH_ARGS) {
		fail(resp, 400, "at most %d match[] arguments", MAX_MATCH_ARGS);
		return;
	}
	int64_t start, end;
	if (!arg_range(req, resp, 6 * 3600 * 1000000000LL, &start, &end))
		return;
	struct pane_buf b;
	pane_buf_init(&b, ANSWER_MAX);
	struct pane_json j;
	pane_json_init(&j, &b);
	struct collect c;
	collect_init(&c, &j);
	c.series = true;
	pane_json_obj(&j);
	pane_json_key(&j, "status");
	pane_json_str(&j, "success");
	pane_json_key(&j, "data");
	pane_json_arr(&j);
	bool ok = true;
	for (size_t i = 0; i < (n ? n : 1) && ok; i++) {
		struct pane_logql_expr *x = NULL;
		size_t nm = 0;
		const struct pane_matcher *m = NULL;
		if (n) {
			struct pane_err e = {0};
			if (!(x = pane_logql_parse(match[i], strlen(match[i]), &e))) {
				fail(resp, 400, "%s", e.msg);
				ok = false;
				break;
			}
			m = pane_logql_matchers(x, &nm);
		}
		struct pane_err e = {0};
		int rc =
		    rd->ops->streams(rd->ctx, m, nm, start / NS_PER_MS, (end - 1) / NS_PER_MS, collect_stream, &c, &e);
		pane_logql_free(x);
		if (rc < 0) {
			fail_err(resp, rc, &e);
			ok = false;
		}
	}
	if (ok) {
		pane_json_arr_end(&j);
		pane_json_obj_end(&j);
		struct pane_buf *rb = pane_http_resp_body(resp);
		if (rb->len)
			pane_buf_reset(rb);
		pane_buf_add(rb, b.data, b.len);
		pane_http_resp_status(resp, 200);
		pane_http_resp_content_type(resp, "application/json");
	}
	collect_release(&c);
	pane_buf_release(&b);
}

static void h_index_stats(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	const char *q = pane_http_req_arg(req, "query");
	if (!q || !*q) {
		fail(resp, 400, "query parameter is missing: pass a stream selector like {service=\"api\"}");
		return;
	}
	struct collect c;
	collect_init(&c, NULL);
	if (streams_of(ctx, req, resp, "query", &c, 3600 * 1000000000LL)) {
		/* pane keeps no chunks: each stream counts as one */
		struct pane_buf *b = pane_http_resp_body(resp);
		if (b->len)
			pane_buf_reset(b);
		struct pane_json j;
		pane_json_init(&j, b);
		pane_json_obj(&j);
		pane_json_key(&j, "streams");
		pane_json_uint(&j, c.streams);
		pane_json_key(&j, "chunks");
		pane_json_uint(&j, c.streams);
		pane_json_key(&j, "bytes");
		pane_json_uint(&j, c.bytes);
		pane_json_key(&j, "entries");
		pane_json_uint(&j, c.entries);
		pane_json_obj_end(&j);
		pane_http_resp_status(resp, 200);
		pane_http_resp_content_type(resp, "application/json");
	}
	collect_release(&c);
}

/* ---------- /tail over a websocket ---------- */

static atomic_int tail_sessions;

struct tail {
	const struct pane_logreader *rd;
	struct pane_logql_expr *x;
	struct pane_http_upgraded *u;
	int64_t from_ns;
	size_t limit;
};

static void *tail_main(void *arg)
{
	struct tail *t = arg;
	int fd = pane_http_upgraded_fd(t->u);
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	struct pane_buf b;
	pane_buf_init(&b, ANSWER_MAX);
	double end = mono_s() + TAIL_MAX_S;
	for (bool first = true; mono_s() < end; first = false) {
		if (!first && !pane_http_ws_alive(fd, TAIL_POLL_MS))
			break;
		struct pane_logql_params p = {
		    .start_ns = t->from_ns, .end_ns = now_ns() + NS_PER_MS, .forward = true, .limit = t->limit};
		if (p.end_ns <= p.start_ns)
			continue;
		struct pane_logql_result r;
		struct pane_err e = {0};
		if (pane_logql_eval(t->x, t->rd, &p, &r, &e) < 0) {
			pane_buf_reset(&b);
			pane_buf_adds(&b, e.msg);
			pane_http_ws_send(fd, PANE_HTTP_WS_TEXT, b.data, b.len);
			break;
		}
		size_t n = 0;
		int64_t newest = -1;
		for (size_t i = 0; i < r.n_streams; i++)
			for (size_t k = 0; k < r.streams[i].n; k++, n++)
				if (r.streams[i].v[k].ts_ms > newest)
					newest = r.streams[i].v[k].ts_ms;
		int rc = 0;
		if (n) {
			pane_buf_reset(&b);
			struct pane_json j;
			pane_json_init(&j, &b);
			pane_json_obj(&j);
			pane_json_key(&j, "streams");
			streams_json(&j, &r);
			pane_json_key(&j, "dropped_entries");
			pane_json_null(&j);
			pane_json_obj_end(&j);
			rc = pane_http_ws_send(fd, PANE_HTTP_WS_TEXT, b.data, b.len);
			t->from_ns = (newest + 1) * NS_PER_MS;
		}
		pane_logql_result_free(&r);
		if (rc < 0)
			break;
	}
	pane_http_ws_send(fd, PANE_HTTP_WS_CLOSE, "\x03\xe8", 2); /* close: normal */
	pane_buf_release(&b);
	pane_http_upgraded_close(t->u);
	pane_logql_free(t->x);
	free(t);
	atomic_fetch_sub(&tail_sessions, 1);
	return NULL;
}

static void tail_start(void *arg, struct pane_http_upgraded *u)
{
	struct tail *t = arg;
	t->u = u;
	if (!u) { /* the server is stopping */
		pane_logql_free(t->x);
		free(t);
		atomic_fetch_sub(&tail_sessions, 1);
		return;
	}
	pthread_t th;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &at, tail_main, t) != 0) {
		pane_http_upgraded_close(u);
		pane_logql_free(t->x);
		free(t);
		atomic_fetch_sub(&tail_sessions, 1);
	}
	pthread_attr_destroy(&at);
}

static void h_tail(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	const char *up = pane_http_req_header(req, "Upgrade");
	const char *key = pane_http_req_header(req, "Sec-WebSocket-Key");
	if (!up || !pane_streq_nocase(up, "websocket") || !key || strlen(key) > 64) {
		fail(resp, 400, "tail needs a websocket: send Upgrade: websocket with a Sec-WebSocket-Key");
		return;
	}
	int64_t start;
	size_t limit;
	if (!arg_time(req, resp, "start", now_ns() - 3600 * 1000000000LL, &start) || !arg_limit(req, resp, &limit))
		return;
	const char *d = pane_http_req_arg(req, "delay_for");
	uint64_t delay = 0;
	if (d && *d && (pane_str_to_u64(pane_str_c(d), &delay) < 0 || delay > 5)) {
		fail(resp, 400, "delay_for can't be greater than 5");
		return;
	}
	struct pane_logql_expr *x = arg_query(req, resp);
	if (!x)
		return;
	if (!pane_logql_is_log(x)) {
		pane_logql_free(x);
		fail(resp, 400, "tail needs a log query, not a metric query");
		return;
	}
	if (atomic_fetch_add(&tail_sessions, 1) >= TAIL_MAX_SESSIONS) {
		atomic_fetch_sub(&tail_sessions, 1);
		pane_logql_free(x);
		fail(resp, 429, "at most %d tails at once", TAIL_MAX_SESSIONS);
		return;
	}
	char acc[PANE_HTTP_WS_ACCEPT_LEN];
	if (pane_http_ws_accept(key, acc) < 0) {
		atomic_fetch_sub(&tail_sessions, 1);
		pane_logql_free(x);
		fail(resp, 500, "cannot compute the websocket accept key");
		return;
	}
	struct tail *t = pane_xcalloc(1, sizeof *t);
	*t = (struct tail){.rd = ctx, .x = x, .from_ns = start, .limit = limit};
	pane_http_resp_header(resp, "Upgrade", "websocket");
	pane_http_resp_header(resp, "Sec-WebSocket-Accept", acc);
	pane_http_resp_upgrade(resp, tail_start, t);
}

int pane_loki_api_add(struct pane_http_server *http, const struct pane_logreader *r, struct pane_err *err)
{
	static const struct {
		const char *method, *pattern;
		pane_http_handler h;
	} routes[] = {
	    {"GET", "/loki/api/v1/query_range", h_query_range},
	    {"POST", "/loki/api/v1/query_range", h_query_range},
	    {"GET", "/loki/api/v1/query", h_query},
	    {"POST", "/loki/api/v1/query", h_query},
	    {"GET", "/loki/api/v1/labels", h_labels},
	    {"GET", "/loki/api/v1/label", h_labels},
	    {"GET", "/loki/api/v1/label/{name}/values", h_label_values},
	    {"GET", "/loki/api/v1/series", h_series},
	    {"POST", "/loki/api/v1/series", h_series},
	    {"GET", "/loki/api/v1/index/stats", h_index_stats},
	    {"GET", "/loki/api/v1/tail", h_tail},
	};
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		struct pane_http_route rt = {.method = routes[i].method,
		                             .pattern = routes[i].pattern,
		                             .handler = routes[i].h,
		                             .ctx = (void *)r,
		                             .scope = "read"};
		if (pane_http_server_route(http, &rt) < 0)
			return pane_err_set(err, PANE_EINVAL, "cannot add route %s", routes[i].pattern);
	}
	return 0;
}

static void stop_api(void *arg)
{
	free(arg);
}

int pane_loki_attach(struct pane_host *h, struct pane_logreader r, struct pane_err *err)
{
	struct pane_logreader *copy = pane_xmalloc(sizeof *copy);
	*copy = r;
	pane_host_on_stop(h, stop_api, copy);
	return pane_loki_api_add(h->http, copy, err);
}
