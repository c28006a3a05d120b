/* test_logql.c - LogQL's parser and evaluator over an in-memory log reader:
 * Loki's parse messages with their line:col, durations, bounds, the line
 * pipeline (filters, parsers, label filters, line_format, drop/keep), log
 * query order and limit, range windows (t - range, t], aggregations, topk,
 * arithmetic, and that a sum pushed into the range aggregation answers
 * exactly what the unpushed form answers. Expected values are worked out by
 * hand from the lines below. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logql/ast.h"
#include "logql/logql.h"
#include "memlogs.h"

static struct pane_label s0[] = {{"env", "prod"}, {"service", "api"}};
static struct pane_label s1[] = {{"env", "prod"}, {"service", "web"}};
static struct pane_label s2[] = {{"env", "dev"}, {"service", "api"}};
static const struct pane_labels streams[] = {{s0, 2, 2, false}, {s1, 2, 2, false}, {s2, 2, 2, false}};
static const char *const streams_json[] = {"{\"env\":\"prod\",\"service\":\"api\"}",
                                           "{\"env\":\"prod\",\"service\":\"web\"}",
                                           "{\"env\":\"dev\",\"service\":\"api\"}"};
/* seconds: api/prod at 0, 10, 20, 70; web/prod at 5, 15 (json), 65 (not json); api/dev at 30 */
static const struct pt_memlog_line lines[] = {
    {0, 0, "level=info msg=\"GET /users\" status=200 duration=12ms"},
    {5000, 1, "{\"level\":\"info\",\"path\":\"/home\",\"req\":{\"ms\":12}}"},
    {10000, 0, "level=error msg=\"db timeout\" status=500 duration=1.5s"},
    {15000, 1, "{\"level\":\"error\",\"path\":\"/cart\",\"req\":{\"ms\":340}}"},
    {20000, 0, "level=warn msg=\"slow query\" status=200 duration=800ms"},
    {30000, 2, "job 17 done"},
    {65000, 1, "not json at all"},
    {70000, 0, "level=error msg=\"db timeout again\" status=503 duration=2s"},
};
static const struct pt_memlogs logs = {streams, streams_json, 3, lines, sizeof lines / sizeof lines[0]};

#define MS ((int64_t)1000000)

static void parse_fails(const char *q, const char *want)
{
	struct pane_err e = {0};
	struct pane_logql_expr *x = pane_logql_parse(q, strlen(q), &e);
	if (x || !strstr(e.msg, want)) {
		print_error("query %s: want error containing \"%s\", got \"%s\"\n", q, want, x ? "(parsed)" : e.msg);
		pane_logql_free(x);
		fail();
	}
}

static void test_parse_errors(void **state)
{
	(void)state;
	parse_fails("", "parse error at line 1, col 1: syntax error: unexpected end of input");
	parse_fails("{a=\"b\"", "parse error at line 1, col 7: syntax error: unexpected end of input, expecting }");
	parse_fails("{a=\"b\"}\n  | foo", "parse error at line 2, col 5: syntax error: unsupported pipeline stage foo");
	parse_fails("{a=\"b\"} |= 5",
	            "parse error at line 1, col 12: syntax error: unexpected NUMBER, expecting STRING");
	parse_fails("{a=\"b\"} |= \"x", "parse error at line 1, col 12: literal not terminated");
	/* Go's escapes (base/gostr.c); a bad one is reported at its backslash */
	parse_fails("{a=\"b\"} |= \"x\\qy\"", "parse error at line 1, col 14: syntax error: invalid char escape");
	parse_fails("{a=\"b\"}\n |= \"\\x4\"", "parse error at line 2, col 6: syntax error: invalid char escape");
	parse_fails("{a=\"b\"} |= \"x\\", "parse error at line 1, col 14: syntax error: invalid char escape");
	parse_fails("{a=\"b\"} |= \"a\nb\"", "parse error at line 1, col 12: literal not terminated");
	parse_fails("{a=~\"(\"}", "parse error at line 1, col 5: error parsing regexp");
	parse_fails("{a=\"\"}", "parse error : queries require at least one regexp or equality matcher");
	parse_fails("{a=~\".*\"}", "queries require at least one regexp or equality matcher");
	parse_fails("count_over_time({a=\"b\"}[x])", "expecting a range duration");
	parse_fails("count_over_time({a=\"b\"})", "unexpected ), expecting [");
	parse_fails("sum(", "unexpected end of input");
	parse_fails("{a=\"b\"} | line_format \"{{ .a | upper }}\"", "unsupported action");
	parse_fails("{a=\"b\"} | x > \"s\"", "unexpected STRING");
	parse_fails("{a=\"b\"} + 1", "unexpected +, expecting a pipeline stage or end of input");
	parse_fails("rate({a=\"b\"}[5m]) + {a=\"b\"}", "a log query cannot be combined");
	parse_fails("topk(0, vector(1))", "topk's k must be from 1");
	parse_fails("foo(1)", "unexpected IDENTIFIER foo");
	char deep[2000];
	size_t n = 0;
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(deep + n, sizeof deep - n, "sum(");
	n += (size_t)snprintf(deep + n, sizeof deep - n, "vector(1)");
	for (int i = 0; i < 100; i++)
		deep[n++] = ')';
	deep[n] = '\0';
	parse_fails(deep, "nests more than 64 levels");
	static char big[PANE_LOGQL_MAX_QUERY + 10];
	memset(big, 'a', sizeof big - 1);
	parse_fails(big, "over the 65536-byte limit");
}

static void test_durations(void **state)
{
	(void)state;
	double v;
	assert_int_equal(lq_parse_duration("1h30m", 5, &v), 0);
	assert_true(v == 5400);
	assert_int_equal(lq_parse_duration("1.5s", 4, &v), 0);
	assert_true(v == 1.5);
	assert_int_equal(lq_parse_duration("250ms", 5, &v), 0);
	assert_true(fabs(v - 0.25) < 1e-12);
	assert_int_equal(lq_parse_duration("2d", 2, &v), 0);
	assert_true(v == 172800);
	assert_int_equal(lq_parse_duration("5", 1, &v), -1);
	assert_int_equal(lq_parse_duration("x", 1, &v), -1);
	assert_int_equal(lq_parse_duration("", 0, &v), -1);
}

static struct pane_logql_result run(const char *q, const struct pane_logql_params *p)
{
	struct pane_err e = {0};
	struct pane_logql_expr *x = pane_logql_parse(q, strlen(q), &e);
	if (!x) {
		print_error("%s: %s\n", q, e.msg);
		fail();
	}
	struct pane_logreader r = pt_memlogs_reader(&logs);
	struct pane_logql_result res;
	int rc = pane_logql_eval(x, &r, p, &res, &e);
	if (rc < 0) {
		print_error("%s: %s\n", q, e.msg);
		fail();
	}
	pane_logql_free(x);
	return res;
}

/* Lines of a log query over [0, 120 s), concatenated with '|' in answer order. */
static void lines_are(const char *q, bool forward, size_t limit, const char *want)
{
	struct pane_logql_params p = {.start_ns = 0, .end_ns = 120000 * MS, .forward = forward, .limit = limit};
	struct pane_logql_result r = run(q, &p);
	char got[2048] = "";
	size_t n = 0;
	/* merge the streams by time in the asked order */
	size_t pos[8] = {0};
	assert_true(r.n_streams <= 8);
	for (;;) {
		ptrdiff_t best = -1;
		for (size_t i = 0; i < r.n_streams; i++)
			if (pos[i] < r.streams[i].n &&
			    (best < 0 || (forward ? r.streams[i].v[pos[i]].ts_ms < r.streams[best].v[pos[best]].ts_ms
			                          : r.streams[i].v[pos[i]].ts_ms > r.streams[best].v[pos[best]].ts_ms)))
				best = (ptrdiff_t)i;
		if (best < 0)
			break;
		n += (size_t)snprintf(got + n, sizeof got - n, "%s%s", n ? "|" : "", r.streams[best].v[pos[best]].line);
		pos[best]++;
	}
	if (strcmp(got, want)) {
		print_error("%s:\n want %s\n  got %s\n", q, want, got);
		fail();
	}
	pane_logql_result_free(&r);
}

static void test_log_queries(void **state)
{
	(void)state;
	lines_are("{service=\"api\", env=\"prod\"} |= \"timeout\"", true, 100,
	          "level=error msg=\"db timeout\" status=500 duration=1.5s|"
	          "level=error msg=\"db timeout again\" status=503 duration=2s");
	lines_are("{service=\"api\"}", false, 2,
	          "level=error msg=\"db timeout again\" status=503 duration=2s|job 17 done");
	lines_are("{env=~\"p.*\"} |~ \"(?i)TIMEOUT\" != \"again\"", true, 100,
	          "level=error msg=\"db timeout\" status=500 duration=1.5s");
	lines_are("{service=\"web\"} | json | req_ms >= 100 | line_format \"{{.level}} {{.path}}\"", true, 100,
	          "error /cart");
	lines_are("{service=\"web\"} | json | __error__=\"JSONParserErr\"", true, 100, "not json at all");
	lines_are("{env=\"prod\", service=\"api\"} | logfmt | duration > 1s and status != 500 | line_format "
	          "\"{{__line__}}!\"",
	          true, 100, "level=error msg=\"db timeout again\" status=503 duration=2s!");
	lines_are(
	    "{env=\"prod\", service=\"api\"} | logfmt | (level=\"info\" or level=\"warn\") | line_format \"{{.msg}}\"",
	    true, 100, "GET /users|slow query");
	lines_are("{service!=\"web\", env=\"dev\"}", true, 100, "job 17 done");

	/* drop/keep change the stream's labels */
	struct pane_logql_params p = {.start_ns = 0, .end_ns = 120000 * MS, .limit = 100};
	struct pane_logql_result r = run("{service=\"api\"} | logfmt | keep service, level | drop level", &p);
	assert_int_equal(r.n_streams, 1);
	assert_int_equal(r.streams[0].labels.n, 1);
	assert_string_equal(r.streams[0].labels.v[0].name, "service");
	assert_int_equal(r.streams[0].n, 5);
	pane_logql_result_free(&r);
	/* an extracted name the stream has gets _extracted */
	r = run("{service=\"web\"} | json | level=\"info\" | line_format \"x\"", &p);
	assert_int_equal(r.n_streams, 1);
	assert_non_null(pane_labels_get(&r.streams[0].labels, "path"));
	assert_string_equal(pane_labels_get(&r.streams[0].labels, "req_ms"), "12");
	pane_logql_result_free(&r);
	/* an instant log query is refused */
	struct pane_err e = {0};
	struct pane_logql_expr *x = pane_logql_parse("{a=\"b\"}", 7, &e);
	struct pane_logreader rd = pt_memlogs_reader(&logs);
	assert_int_equal(pane_logql_eval(x, &rd, &(struct pane_logql_params){.instant = true, .limit = 1}, &r, &e),
	                 PANE_EINVAL);
	assert_non_null(strstr(e.msg, "not supported as an instant query"));
	pane_logql_free(x);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One "value-of-the-last-label=value" per series, sorted, at the instant t (s). */
static void instant_is(const char *q, int t, const char *want)
{
	struct pane_logql_params p = {.start_ns = t * 1000 * MS, .end_ns = t * 1000 * MS, .instant = true};
	struct pane_logql_result r = run(q, &p);
	char items[16][64], got[512] = "";
	const char *sorted[16];
	size_t m = 0, n = 0;
	for (size_t i = 0; i < r.n_series && m < 16; i++) {
		if (isnan(r.series[i].v[0]))
			continue;
		const char *lv = r.series[i].labels.n ? r.series[i].labels.v[r.series[i].labels.n - 1].value : "";
		snprintf(items[m], sizeof items[m], "%s=%g", lv, r.series[i].v[0]);
		sorted[m] = items[m];
		m++;
	}
	qsort(sorted, m, sizeof sorted[0], cmp_str);
	for (size_t i = 0; i < m; i++)
		n += (size_t)snprintf(got + n, sizeof got - n, "%s%s", i ? " " : "", sorted[i]);
	if (strcmp(got, want)) {
		print_error("%s at %d:\n want %s\n  got %s\n", q, t, want, got);
		fail();
	}
	pane_logql_result_free(&r);
}

static void test_metric_queries(void **state)
{
	(void)state;
	/* window (t - range, t]: at 60 with [1m], the line at 0 is out */
	instant_is("count_over_time({env=\"prod\"}[1m])", 60, "api=2 web=2");
	instant_is("count_over_time({env=\"prod\"}[1m])", 59, "api=3 web=2"); /* (-1, 59] has 0 */
	instant_is("count_over_time({env=\"prod\"}[1m])", 20, "api=3 web=2");
	instant_is("sum(count_over_time({service=~\".+\"}[1m]))", 60, "=5");
	instant_is("sum by (env) (count_over_time({service=~\".+\"}[1m]))", 60, "dev=1 prod=4");
	instant_is("sum without (service) (rate({service=~\".+\"}[10s]))", 15, "prod=0.2");
	instant_is("bytes_over_time({env=\"dev\"}[1h])", 60, "api=11");
	instant_is("bytes_rate({env=\"dev\"}[10s])", 35, "api=1.1");
	instant_is("avg(count_over_time({service=~\".+\"}[2m]))", 90, "=2.66667"); /* (4 + 3 + 1) / 3 */
	instant_is("min(count_over_time({service=~\".+\"}[2m]))", 90, "=1");
	instant_is("max by (service) (count_over_time({service=~\".+\"}[2m]))", 90, "api=4 web=3");
	instant_is("count(count_over_time({service=~\".+\"}[2m]))", 90, "=3");
	instant_is("topk(1, count_over_time({service=~\".+\"}[2m]))", 90, "api=4");
	instant_is("bottomk(1, count_over_time({service=~\".+\"}[2m]))", 90, "api=1");
	instant_is("count_over_time({env=\"dev\"}[1m]) * 2 + 1", 60, "api=3");
	instant_is("2 * count_over_time({env=\"dev\"}[1m]) - 5", 60, "api=-3");
	instant_is("count_over_time({env=\"prod\"}[1m]) / count_over_time({env=\"prod\"}[2m])", 60,
	           "api=0.666667 web=1"); /* 2/3, 2/2 */
	instant_is("vector(1)+vector(1)", 4, "=2");
	instant_is("sum by (level) (count_over_time({env=\"prod\", service=\"api\"} | logfmt [2m]))", 90,
	           "error=2 info=1 warn=1");
	instant_is("count_over_time({env=\"prod\"} | json | __error__=\"\" [1m])", 60,
	           "web=1 web=1"); /* one series per extracted label set; api lines are not JSON */

	/* a number alone is a scalar */
	struct pane_logql_params p = {.start_ns = 4000 * MS, .end_ns = 4000 * MS, .instant = true};
	struct pane_logql_result r = run("1 + 2 * 3", &p);
	assert_int_equal(r.kind, PANE_LOGQL_SCALAR);
	assert_true(r.series[0].v[0] == 7);
	pane_logql_result_free(&r);
}

static void test_range_and_pushdown(void **state)
{
	(void)state;
	struct pane_logql_params p = {.start_ns = 0, .end_ns = 120000 * MS, .step_ns = 30000 * MS};
	/* steps 0, 30, 60, 90, 120; [1m] windows */
	struct pane_logql_result r = run("sum(count_over_time({service=~\".+\"}[1m]))", &p);
	assert_int_equal(r.kind, PANE_LOGQL_MATRIX);
	assert_int_equal(r.n_steps, 5);
	double want[] = {1, 6, 5, 2, 2};
	for (int k = 0; k < 5; k++)
		assert_true(r.series[0].v[k] == want[k]);
	pane_logql_result_free(&r);
	/* the pushed-down sum equals the unpushed one (the * 1 keeps it from being pushed) */
	const char *qs[][2] = {
	    {"sum by (level) (count_over_time({env=\"prod\"} | logfmt [1m]))",
	     "sum by (level) (count_over_time({env=\"prod\"} | logfmt [1m]) * 1)"},
	    {"sum without (service) (bytes_rate({service=~\".+\"}[45s]))",
	     "sum without (service) (bytes_rate({service=~\".+\"}[45s]) * 1)"},
	    {"sum(rate({env=~\".+\"} |= \"e\" [2m]))", "sum(rate({env=~\".+\"} |= \"e\" [2m]) * 1)"},
	};
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		struct pane_logql_result a = run(qs[i][0], &p), b = run(qs[i][1], &p);
		assert_int_equal(a.n_series, b.n_series);
		for (size_t s = 0; s < a.n_series; s++) {
			assert_int_equal(pane_labels_cmp(&a.series[s].labels, &b.series[s].labels), 0);
			for (size_t k = 0; k < a.n_steps; k++)
				assert_true((isnan(a.series[s].v[k]) && isnan(b.series[s].v[k])) ||
				            fabs(a.series[s].v[k] - b.series[s].v[k]) < 1e-9);
		}
		pane_logql_result_free(&a);
		pane_logql_result_free(&b);
	}
	/* bounds */
	struct pane_err e = {0};
	const char *cq = "count_over_time({a=\"b\"}[1m])";
	struct pane_logql_expr *x = pane_logql_parse(cq, strlen(cq), &e);
	assert_non_null(x);
	struct pane_logreader rd = pt_memlogs_reader(&logs);
	struct pane_logql_params big = {.start_ns = 0, .end_ns = 100000000 * MS, .step_ns = MS};
	assert_int_equal(pane_logql_eval(x, &rd, &big, &r, &e), PANE_EINVAL);
	assert_non_null(strstr(e.msg, "exceeded maximum resolution"));
	struct pane_logql_params back = {.start_ns = 10, .end_ns = 5, .step_ns = MS};
	assert_int_equal(pane_logql_eval(x, &rd, &back, &r, &e), PANE_EINVAL);
	pane_logql_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_errors),       cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_log_queries),        cmocka_unit_test(test_metric_queries),
	    cmocka_unit_test(test_range_and_pushdown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
