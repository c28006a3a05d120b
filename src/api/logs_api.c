/*
 * logs_api.c - GET /api/v1/logs and GET /api/v1/events over the store.
 *
 * Idea: the store already answers both questions as JSON (store.h:
 * pane_store_search_logs, pane_store_query_events); this file only turns
 * query-string arguments into those queries and wraps the answer in
 * Prometheus' envelope, so a client (pane's dashboard, Grafana's JSON data
 * source, curl) handles metrics, logs and events the same way.
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/prom_api.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "query/ast.h"
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
				"invalid parameter \"selector\": \"%s\" is not a label selector like {service=\"api\"}", sel);
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
			pane_prom_error(resp, 400, "bad_data",
					"invalid parameter \"selector\": only = matchers are supported for logs and events "
					"(label %s)", m->name);
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
		pane_prom_error(resp, 400, "bad_data", "invalid parameter \"start\": cannot parse \"%s\" to a valid timestamp",
				ss);
		return false;
	}
	if (es && *es && pane_prom_parse_time(es, maxt) < 0) {
		pane_prom_error(resp, 400, "bad_data", "invalid parameter \"end\": cannot parse \"%s\" to a valid timestamp",
				es);
		return false;
	}
	if (*maxt < *mint) {
		pane_prom_error(resp, 400, "bad_data", "invalid parameter \"end\": end timestamp must not be before start time");
		return false;
	}
	return true;
}

static bool parse_limit(struct pane_http_req *req, struct pane_http_resp *resp, size_t *limit)
{
	const char *ls = pane_http_req_arg(req, "limit");
	uint64_t v = 100;
	if (ls && *ls && (pane_str_to_u64(pane_str_c(ls), &v) < 0 || v < 1 || v > 1000)) {
		pane_prom_error(resp, 400, "bad_data", "invalid parameter \"limit\": \"%s\" is not a number from 1 to 1000",
				ls);
		return false;
	}
	*limit = (size_t)v;
	return true;
}

static void answer(struct pane_http_resp *resp, int rc, const struct pane_err *e, const struct pane_buf *b)
{
	if (rc == PANE_EINVAL)
		pane_prom_error(resp, 400, "bad_data", "%s%s%s", e->msg, e->detail[0] ? "; " : "", e->detail);
	else if (rc < 0)
		pane_prom_error(resp, 503, "unavailable", "the store could not answer: %s", e->msg[0] ? e->msg : "error");
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
			pane_prom_error(resp, 400, "bad_data",
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
	int rc = pane_store_search_logs(st, &q, &b, &e);
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
	int rc = pane_store_query_events(st, &q, &b, &e);
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
		struct pane_http_route r = {.method = "GET", .pattern = routes[i].pattern, .handler = routes[i].h,
					    .ctx = st, .scope = "read"};
		if (pane_http_server_route(http, &r) < 0)
			return pane_err_set(err, PANE_EINVAL, "cannot add route %s", routes[i].pattern);
	}
	return 0;
}
