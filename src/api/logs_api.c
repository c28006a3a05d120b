/*
 * logs_api.c - GET /api/v1/logs and GET /api/v1/events over the store.
 *
 * Idea: the store streams rows through the log reader seam
 * (pipeline/logreader.h); this file turns query-string arguments into a
 * select, writes the rows as JSON and wraps the answer in Prometheus'
 * envelope, so a client (pane's dashboard, Grafana's JSON data source, curl)
 * handles metrics, logs and events the same way. Paging: a page asks for
 * limit+1 rows newest first; the extra row only says there is a next page,
 * whose cursor "TS:ID" is the last row shown.
 *
 * Arguments, all optional:
 *   selector  {service="api",environment="prod"}  label equality filters,
 *             written as a PromQL selector (only `=` matchers; the store
 *             indexes equality)
 *   search    text the message contains (case-insensitive)       [logs]
 *   severity  the least severity: debug, info, warn, error, fatal [logs]
 *   kind      the event kind (deploy, alert, issue, ...)         [events]
 *   start,end RFC 3339 or Unix seconds, inclusive
 *   limit     1..1000 (default 100)
 *   cursor    the "next" of the previous page                    [logs]
 * Answers are newest first. Errors are 400 bad_data for bad arguments and
 * 503 unavailable when the store fails, with a message that says what to fix.
 */
#include "api/logs_api.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/prom_api.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/str.h"
#include "query/ast.h"
#include "query/query.h"
#include "host/host.h"

#define MAX_FILTERS 32
#define ANSWER_MAX ((size_t)64 << 20)

struct filters {
	struct pq_expr *expr; /* owns the strings the labels point to */
	struct pane_label v[MAX_FILTERS];
	size_t n;
};

/* Parses selector= into equality filters; false after answering 400. */
static bool parse_selector(struct pane_http_req *req, struct pane_http_resp *resp, struct filters *f)
{
	f->expr = NULL;
	f->n = 0;
	const char *sel = pane_http_req_arg(req, "selector");
	if (!sel || !*sel)
		return true;
	struct pane_err e = {0};
	f->expr = pq_parse(sel, &e);
	if (!f->expr) {
		pane_prom_error(resp, 400, "bad_data", "invalid parameter \"selector\": %s", e.msg);
		return false;
	}
	const struct pq_node *r = f->expr->root;
	while (r->kind == PQ_PAREN)
		r = r->a;
	if (r->kind != PQ_VSEL || r->offset || r->at_kind != PQ_AT_NONE) {
		pane_prom_error(resp, 400, "bad_data",
		                "invalid parameter \"selector\": \"%s\" is not a label selector like {service=\"api\"}",
		                sel);
		return false;
	}
	for (size_t i = 0; i < r->n_matchers; i++) {
		const struct pane_matcher *m = &r->matchers[i];
		if (!strcmp(m->name, "__name__")) {
			pane_prom_error(resp, 400, "bad_data",
			                "invalid parameter \"selector\": logs and events have no metric name; "
			                "write only labels, like {service=\"api\"}");
			return false;
		}
		if (m->op != PANE_MATCH_EQ) {
			pane_prom_error(
			    resp, 400, "bad_data",
			    "invalid parameter \"selector\": only = matchers are supported for logs and events "
			    "(label %s)",
			    m->name);
			return false;
		}
		if (f->n == MAX_FILTERS) {
			pane_prom_error(resp, 400, "bad_data", "invalid parameter \"selector\": at most %d labels",
			                MAX_FILTERS);
			return false;
		}
		f->v[f->n++] = (struct pane_label){.name = m->name, .value = m->value};
	}
	return true;
}

static bool parse_range(struct pane_http_req *req, struct pane_http_resp *resp, int64_t *mint, int64_t *maxt)
{
	const char *ss = pane_http_req_arg(req, "start"), *es = pane_http_req_arg(req, "end");
	*mint = 0;
	*maxt = 0;
	if (!(ss && *ss) && !(es && *es))
		return true;
	*maxt = INT64_MAX;
	if (ss && *ss && pane_prom_parse_time(ss, mint) < 0) {
		pane_prom_error(resp, 400, "bad_data",
		                "invalid parameter \"start\": cannot parse \"%s\" to a valid timestamp", ss);
		return false;
	}
	if (es && *es && pane_prom_parse_time(es, maxt) < 0) {
		pane_prom_error(resp, 400, "bad_data",
		                "invalid parameter \"end\": cannot parse \"%s\" to a valid timestamp", es);
		return false;
	}
	const char *param; /* the check and its wording are the query engine's */
	struct pane_err re = {0};
	if (pane_query_check_range(*mint, *maxt, 0, false, 0, &param, &re) < 0) {
		pane_prom_error(resp, 400, "bad_data", "invalid parameter \"%s\": %s", param ? param : "end", re.msg);
		return false;
	}
	return true;
}

static bool parse_limit(struct pane_http_req *req, struct pane_http_resp *resp, size_t *limit)
{
	const char *ls = pane_http_req_arg(req, "limit");
	uint64_t v = 100;
	if (ls && *ls && (pane_str_to_u64(pane_str_c(ls), &v) < 0 || v < 1 || v > 1000)) {
		pane_prom_error(resp, 400, "bad_data",
		                "invalid parameter \"limit\": \"%s\" is not a number from 1 to 1000", ls);
		return false;
	}
	*limit = (size_t)v;
	return true;
}

#define TEXT_MAX 1024

/* A stored JSON text (labels, fields, body) as it is, or null. */
static void raw_json_or_null(struct pane_json *j, const char *s)
{
	pane_json_raw(j, s ? s : "null");
}

static int to_matchers(const struct pane_label *l, size_t n, struct pane_matcher *m, struct pane_err *err)
{
	if (n > MAX_FILTERS)
		return pane_err_set(err, PANE_EINVAL, "too many label filters (%zu, at most %d)", n, MAX_FILTERS);
	for (size_t i = 0; i < n; i++)
		m[i] = (struct pane_matcher){
		    .name = l[i].name, .value = l[i].value ? l[i].value : "", .op = PANE_MATCH_EQ};
	return 0;
}

struct page {
	struct pane_json *j;
	size_t n, limit;
	int64_t last_ts, last_id;
	bool more;
};

static int page_line(void *arg, const struct pane_log_line *l)
{
	struct page *p = arg;
	if (p->n == p->limit) {
		p->more = true;
		return 1;
	}
	p->last_ts = l->ts_ms;
	p->last_id = l->id;
	struct pane_json *j = p->j;
	pane_json_obj(j);
	pane_json_key(j, "ts");
	pane_json_int(j, l->ts_ms);
	pane_json_key(j, "severity");
	pane_json_str(j, pane_log_severity_name(l->severity));
	pane_json_key(j, "labels");
	raw_json_or_null(j, l->labels_json);
	pane_json_key(j, "message");
	pane_json_strn(j, l->message, l->message_len);
	pane_json_key(j, "fields");
	raw_json_or_null(j, l->fields_json);
	pane_json_obj_end(j);
	p->n++;
	return 0;
}

int pane_logs_api_search(struct pane_logreader r, const struct pane_log_query *q, struct pane_buf *out,
                         struct pane_err *err)
{
	size_t limit = q->limit ? q->limit : 100;
	if (limit > 1000)
		return pane_err_set(err, PANE_EINVAL, "limit %zu is over 1000", limit);
	struct pane_log_select s = {
	    .mint = INT64_MIN, .maxt = INT64_MAX, .limit = limit + 1, .min_severity = q->min_severity};
	if (q->cursor && *q->cursor) {
		char *end;
		s.after_ts = strtoll(q->cursor, &end, 10);
		if (*end != ':' || (s.after_id = strtoll(end + 1, &end, 10), *end != '\0')) {
			pane_err_set(err, PANE_EINVAL, "bad cursor '%s'", q->cursor);
			pane_err_detail(err, "pass the \"next\" value of the previous page unchanged");
			return PANE_EINVAL;
		}
		s.after = true;
	}
	if (q->text && strlen(q->text) > TEXT_MAX)
		return pane_err_set(err, PANE_EINVAL, "search text is over %d bytes", TEXT_MAX);
	struct pane_matcher m[MAX_FILTERS];
	if (to_matchers(q->labels, q->n_labels, m, err) < 0)
		return PANE_EINVAL;
	s.matchers = m;
	s.n_matchers = q->n_labels;
	if (q->mint || q->maxt) {
		s.mint = q->mint;
		s.maxt = q->maxt;
	}
	s.contains = q->text && *q->text ? q->text : NULL;
	struct pane_json j;
	pane_json_init(&j, out);
	struct page p = {.j = &j, .limit = limit};
	size_t start = out->len;
	pane_json_obj(&j);
	pane_json_key(&j, "logs");
	pane_json_arr(&j);
	int rc = r.ops->select(r.ctx, &s, page_line, &p, err);
	if (rc < 0) {
		pane_buf_truncate(out, start);
		return rc;
	}
	pane_json_arr_end(&j);
	pane_json_key(&j, "next");
	if (p.more) {
		char next[48];
		snprintf(next, sizeof next, "%" PRId64 ":%" PRId64, p.last_ts, p.last_id);
		pane_json_str(&j, next);
	} else {
		pane_json_null(&j);
	}
	pane_json_obj_end(&j);
	return 0;
}

struct evpage {
	struct pane_json *j;
};

static int event_row(void *arg, const struct pane_event_row *e)
{
	struct evpage *p = arg;
	struct pane_json *j = p->j;
	pane_json_obj(j);
	pane_json_key(j, "ts");
	pane_json_int(j, e->ts_ms);
	pane_json_key(j, "kind");
	pane_json_str(j, e->kind);
	pane_json_key(j, "labels");
	raw_json_or_null(j, e->labels_json);
	pane_json_key(j, "title");
	pane_json_str(j, e->title);
	pane_json_key(j, "url");
	pane_json_str(j, e->url); /* NULL is null */
	pane_json_key(j, "body");
	raw_json_or_null(j, e->body_json);
	pane_json_obj_end(j);
	return 0;
}

int pane_logs_api_events(struct pane_logreader r, const struct pane_event_query *q, struct pane_buf *out,
                         struct pane_err *err)
{
	size_t limit = q->limit ? q->limit : 100;
	if (limit > 1000)
		return pane_err_set(err, PANE_EINVAL, "limit %zu is over 1000", limit);
	struct pane_matcher m[MAX_FILTERS];
	if (to_matchers(q->labels, q->n_labels, m, err) < 0)
		return PANE_EINVAL;
	struct pane_event_select s = {.kind = q->kind,
	                              .matchers = m,
	                              .n_matchers = q->n_labels,
	                              .mint = INT64_MIN,
	                              .maxt = INT64_MAX,
	                              .limit = limit};
	if (q->mint || q->maxt) {
		s.mint = q->mint;
		s.maxt = q->maxt;
	}
	struct pane_json j;
	pane_json_init(&j, out);
	struct evpage p = {.j = &j};
	size_t start = out->len;
	pane_json_obj(&j);
	pane_json_key(&j, "events");
	pane_json_arr(&j);
	int rc = r.ops->events(r.ctx, &s, event_row, &p, err);
	if (rc < 0) {
		pane_buf_truncate(out, start);
		return rc;
	}
	pane_json_arr_end(&j);
	pane_json_obj_end(&j);
	return 0;
}

static void answer(struct pane_http_resp *resp, int rc, const struct pane_err *e, const struct pane_buf *b)
{
	if (rc == PANE_EINVAL)
		pane_prom_error(resp, 400, "bad_data", "%s%s%s", e->msg, e->detail[0] ? "; " : "", e->detail);
	else if (rc < 0)
		pane_prom_error(resp, 503, "unavailable", "the store could not answer: %s",
		                e->msg[0] ? e->msg : "error");
	else
		pane_prom_ok(resp, b->data, b->len);
}

static void h_logs(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_store *st = ctx;
	struct filters f;
	struct pane_log_query q = {0};
	if (!parse_selector(req, resp, &f) || !parse_range(req, resp, &q.mint, &q.maxt) ||
	    !parse_limit(req, resp, &q.limit))
		goto out;
	const char *sev = pane_http_req_arg(req, "severity");
	if (sev && *sev) {
		q.min_severity = pane_log_severity_parse(sev, strlen(sev));
		if (q.min_severity == PANE_SEV_UNKNOWN) {
			pane_prom_error(
			    resp, 400, "bad_data",
			    "invalid parameter \"severity\": \"%s\" is not debug, info, warn, error or fatal", sev);
			goto out;
		}
	}
	q.labels = f.v;
	q.n_labels = f.n;
	q.text = pane_http_req_arg(req, "search");
	q.cursor = pane_http_req_arg(req, "cursor");
	struct pane_buf b;
	struct pane_err e = {0};
	pane_buf_init(&b, ANSWER_MAX);
	int rc = pane_logs_api_search(pane_store_logreader(st), &q, &b, &e);
	answer(resp, rc, &e, &b);
	pane_buf_release(&b);
out:
	pq_expr_free(f.expr);
}

static void h_events(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx)
{
	struct pane_store *st = ctx;
	struct filters f;
	struct pane_event_query q = {0};
	if (!parse_selector(req, resp, &f) || !parse_range(req, resp, &q.mint, &q.maxt) ||
	    !parse_limit(req, resp, &q.limit))
		goto out;
	q.labels = f.v;
	q.n_labels = f.n;
	q.kind = pane_http_req_arg(req, "kind");
	struct pane_buf b;
	struct pane_err e = {0};
	pane_buf_init(&b, ANSWER_MAX);
	int rc = pane_logs_api_events(pane_store_logreader(st), &q, &b, &e);
	answer(resp, rc, &e, &b);
	pane_buf_release(&b);
out:
	pq_expr_free(f.expr);
}

int pane_logs_api_add(struct pane_http_server *http, struct pane_store *st, struct pane_err *err)
{
	static const struct {
		const char *pattern;
		pane_http_handler h;
	} routes[] = {
	    {"/api/v1/logs", h_logs},
	    {"/api/v1/events", h_events},
	};
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		struct pane_http_route r = {
		    .method = "GET", .pattern = routes[i].pattern, .handler = routes[i].h, .ctx = st, .scope = "read"};
		if (pane_http_server_route(http, &r) < 0)
			return pane_err_set(err, PANE_EINVAL, "cannot add route %s", routes[i].pattern);
	}
	return 0;
}
