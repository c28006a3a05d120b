/* fuzz_logql.c - libFuzzer target for the LogQL parser and evaluator. Any
 * input must parse or fail with a message, never crash, leak or recurse
 * without bound; whatever parses is evaluated (a log query as a range
 * query, a metric query as instant and range queries) over a small
 * in-memory log reader and must answer or fail with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/regex.h"
#include "logql/logql.h"

/* ---- a tiny in-memory implementation of pipeline/logreader.h ---- */

struct mline {
	int64_t ts;
	int stream;
	const char *msg;
};

static struct pane_label s0[] = {{"env", "prod"}, {"service", "api"}};
static struct pane_label s1[] = {{"a", "b"}, {"service", "web"}};
static struct pane_labels streams[] = {{s0, 2, 2, false}, {s1, 2, 2, false}};
static const char *const streams_json[] = {"{\"env\":\"prod\",\"service\":\"api\"}",
                                           "{\"a\":\"b\",\"service\":\"web\"}"};
static const struct mline lines[] = {
    {1000, 0, "level=error msg=\"db timeout\" status=500 duration=1.5s"},
    {2000, 1, "{\"level\":\"info\",\"req\":{\"ms\":12},\"x\":[1,2],\"y\":null,\"z\":true}"},
    {3000, 0, "not json at all"},
    {4000, 1, "level=warn msg=\"unclosed"},
    {60000, 0, "{\"level\":\"error\",\"status\":503,\"f\":0.25}"},
};
#define N_LINES (sizeof lines / sizeof lines[0])

static int match(const struct pane_matcher *m, size_t n, const struct pane_labels *ls)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = pane_labels_get(ls, m[i].name);
		if (!v)
			v = "";
		int r;
		if (m[i].op == PANE_MATCH_EQ || m[i].op == PANE_MATCH_NE) {
			r = !strcmp(v, m[i].value) == (m[i].op == PANE_MATCH_EQ);
		} else {
			struct pane_err e = {0};
			pcre2_code *re = pane_regex_compile(m[i].value, PANE_REGEX_DOTALL, &e);
			if (!re)
				return -1;
			r = pane_regex_match(re, v, strlen(v), NULL);
			pcre2_code_free(re);
			if (r < 0)
				return -1;
			r = r == (m[i].op == PANE_MATCH_RE);
		}
		if (!r)
			return 0;
	}
	return 1;
}

static int mem_select(void *ctx, const struct pane_log_select *s, pane_log_line_fn fn, void *arg, struct pane_err *err)
{
	size_t n = 0;
	for (size_t k = 0; k < N_LINES; k++) {
		const struct mline *l = &lines[s->forward ? k : N_LINES - 1 - k];
		if (l->ts < s->mint || l->ts > s->maxt)
			continue;
		int m = match(s->matchers, s->n_matchers, &streams[l->stream]);
		if (m < 0)
			return pane_err_set(err, PANE_EINVAL, "bad matcher");
		if (!m)
			continue;
		struct pane_log_line ll = {.ts_ms = l->ts,
		                           .id = (int64_t)k,
		                           .labels = &streams[l->stream],
		                           .labels_json = streams_json[l->stream],
		                           .message = l->msg,
		                           .message_len = strlen(l->msg)};
		int r = fn(arg, &ll);
		if (r < 0)
			return r;
		if (r > 0 || (s->limit && ++n == s->limit))
			break;
	}
	return 0;
}

static int mem_streams(void *ctx, const struct pane_matcher *m, size_t n, int64_t mint, int64_t maxt,
                       pane_log_stream_fn fn, void *arg, struct pane_err *err)
{
	for (int i = 0; i < 2; i++) {
		int r = match(m, n, &streams[i]);
		if (r < 0)
			return pane_err_set(err, PANE_EINVAL, "bad matcher");
		struct pane_log_stream st = {.labels = &streams[i], .entries = 2, .bytes = 40};
		if (r && (r = fn(arg, &st)) != 0)
			return r < 0 ? r : 0;
	}
	return 0;
}

static int mem_events(void *ctx, const struct pane_event_select *s, pane_event_row_fn fn, void *arg,
                      struct pane_err *err)
{
	return 0;
}

static const struct pane_logreader_ops ops = {.select = mem_select, .streams = mem_streams, .events = mem_events};

size_t fuzz_logql_evaluated; /* inputs that parsed (read by replay_logql.c) */

static void eval(const struct pane_logql_expr *x, const struct pane_logql_params *p)
{
	struct pane_logreader r = {.ops = &ops};
	struct pane_logql_result res;
	struct pane_err e = {0};
	if (pane_logql_eval(x, &r, p, &res, &e) == 0)
		pane_logql_result_free(&res);
	else if (!e.msg[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pane_err e = {0};
	struct pane_logql_expr *x = pane_logql_parse((const char *)data, size, &e);
	if (!x) {
		if (!e.msg[0])
			abort();
		return 0;
	}
	fuzz_logql_evaluated++;
	size_t n;
	(void)pane_logql_matchers(x, &n);
	const int64_t ms = 1000000;
	if (pane_logql_is_log(x)) {
		eval(x, &(struct pane_logql_params){.start_ns = 0, .end_ns = 120000 * ms, .limit = 3});
		eval(x,
		     &(struct pane_logql_params){.start_ns = 0, .end_ns = 120000 * ms, .limit = 100, .forward = true});
	} else {
		eval(x, &(struct pane_logql_params){.start_ns = 60000 * ms, .end_ns = 60000 * ms, .instant = true});
		eval(x, &(struct pane_logql_params){.start_ns = 0, .end_ns = 120000 * ms, .step_ns = 7000 * ms});
	}
	pane_logql_free(x);
	return 0;
}
