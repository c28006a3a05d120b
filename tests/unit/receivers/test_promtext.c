/* test_promtext.c - Prometheus text 0.0.4 and OpenMetrics parsing edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/utf8.h"
#include "receivers/promtext.h"

struct got {
	size_t n, batches;
	char names[64][64];
	struct pane_labels labels[64];
	int64_t ts[64];
	double v[64];
};

static int collect(void *arg, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	(void)err;
	struct got *g = arg;
	g->batches++;
	for (size_t i = 0; i < n; i++) {
		if (g->n < 64) {
			snprintf(g->names[g->n], 64, "%s", s[i].name);
			pane_labels_copy(&g->labels[g->n], s[i].labels);
			g->ts[g->n] = s[i].ts_ms;
			g->v[g->n] = s[i].value;
		}
		g->n++;
	}
	return 0;
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n && i < 64; i++)
		pane_labels_release(&g->labels[i]);
}

static void parse(const char *text, bool om, struct got *g, struct pane_promtext_result *r)
{
	memset(g, 0, sizeof *g);
	struct pane_promtext_opts o = {.openmetrics = om, .default_ts_ms = 42};
	assert_int_equal(pane_promtext_parse(text, strlen(text), &o, collect, g, r, NULL), 0);
	if (r->bad_lines)
		print_message("first error: %s\n", r->first_error);
}

static void exposition_004(void **state)
{
	(void)state;
	const char *t = "# HELP http_requests_total The total number of HTTP requests.\n"
	                "# TYPE http_requests_total counter\n"
	                "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
	                "http_requests_total{code=\"400\",method=\"post\",} 3 1395066363000\n"
	                "# a comment\n"
	                "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find "
	                "file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"
	                "metric_without_timestamp_and_labels 12.47\n"
	                "something_weird{problem=\"division by zero\"} +Inf -3982045\n"
	                "nan_value NaN\n"
	                "empty_label{a=\"\",b=\"x\"} 1\n"
	                "  \t\n"
	                "# TYPE h histogram\n"
	                "h_bucket{le=\"0.05\"} 24054\n"
	                "h_bucket{le=\"+Inf\"} 144320\n"
	                "h_sum 53423\n"
	                "h_count 144320\n"
	                "last_line_without_newline 7";
	struct got g;
	struct pane_promtext_result r;
	parse(t, false, &g, &r);
	assert_int_equal(r.bad_lines, 0);
	assert_int_equal(g.n, 12);
	assert_string_equal(g.names[0], "http_requests_total");
	assert_string_equal(g.labels[0].v[0].name, "code"); /* sorted */
	assert_string_equal(g.labels[0].v[1].value, "post");
	assert_int_equal(g.ts[0], 1395066363000);
	assert_string_equal(pane_labels_get(&g.labels[2], "path"), "C:\\DIR\\FILE.TXT");
	assert_string_equal(pane_labels_get(&g.labels[2], "error"), "Cannot find file:\n\"FILE.TXT\"");
	assert_int_equal(g.ts[3], 42); /* default timestamp */
	assert_true(isinf(g.v[4]) && g.v[4] > 0);
	assert_int_equal(g.ts[4], -3982045);
	assert_true(isnan(g.v[5]));
	assert_int_equal(g.labels[6].n, 1); /* empty value = no label */
	assert_string_equal(pane_labels_get(&g.labels[8], "le"), "+Inf");
	assert_string_equal(g.names[11], "last_line_without_newline");
	got_free(&g);
}

static void openmetrics(void **state)
{
	(void)state;
	const char *t = "# TYPE foo counter\n"
	                "# UNIT foo seconds\n"
	                "foo_total 17.0 1520879607.789 # {trace_id=\"KOO5S4vxi0o\"} 0.67 1520879602.890\n"
	                "foo_created 1520430000.123\n"
	                "# EOF\n"
	                "after_eof 1\n";
	struct got g;
	struct pane_promtext_result r;
	parse(t, true, &g, &r);
	assert_int_equal(r.bad_lines, 0);
	assert_true(r.saw_eof);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.ts[0], 1520879607789);
	assert_true(g.v[0] == 17.0);
	got_free(&g);
	assert_true(pane_promtext_is_openmetrics("application/openmetrics-text; version=1.0.0"));
	assert_false(pane_promtext_is_openmetrics("text/plain; version=0.0.4"));
}

static void bad_lines_are_skipped_not_fatal(void **state)
{
	(void)state;
	const char *t = "good_one 1\n"
	                "0bad_name 1\n"
	                "x{bad-label=\"v\"} 1\n"
	                "x{__reserved=\"v\"} 1\n"
	                "x{a=\"v\",a=\"w\"} 1\n"
	                "x{a=\"\xff\xfe\"} 1\n"
	                "x{a=\"unterminated} 1\n"
	                "x{a=\"v\" 1\n"
	                "x{a=\"\\q\"} 1\n"
	                "x notanumber\n"
	                "x 1 NaN\n"
	                "x 1 1.5\n"
	                "x 1 2 3\n"
	                "x\n"
	                "x{} \n"
	                "# TYPE x wrongtype\n"
	                "# HELP 0bad help\n"
	                "good_two{a=\"b\"} 2\n";
	struct got g;
	struct pane_promtext_result r;
	parse(t, false, &g, &r);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.names[0], "good_one");
	assert_string_equal(g.names[1], "good_two");
	assert_int_equal(r.bad_lines, 16);
	assert_int_equal(r.line, 2);
	assert_non_null(strstr(r.first_error, "line 2"));
	got_free(&g);
}

/* VictoriaMetrics' import format: the name as __name__ in a leading label set */
static void name_in_labels(void **state)
{
	(void)state;
	const char *t = "{__name__=\"http_requests_total\",path=\"/a\"} 3 1000\n"
	                "{path=\"/b\",__name__=\"up\"} 1\n"
	                "{path=\"/c\"} 1\n"
	                "{__name__=\"a\",__name__=\"b\"} 1\n"
	                "{__name__=\"0bad\"} 1\n"
	                "x{__name__=\"y\"} 1\n";
	struct got g;
	struct pane_promtext_result r;
	parse(t, false, &g, &r);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.names[0], "http_requests_total");
	assert_int_equal(g.labels[0].n, 1); /* __name__ is the name, not a label */
	assert_string_equal(pane_labels_get(&g.labels[0], "path"), "/a");
	assert_int_equal(g.ts[0], 1000);
	assert_string_equal(g.names[1], "up");
	assert_int_equal(g.ts[1], 42);
	assert_int_equal(r.bad_lines, 4);
	assert_int_equal(r.line, 3);
	assert_non_null(strstr(r.first_error, "no metric name"));
	got_free(&g);
}

static void extra_labels_and_limits(void **state)
{
	(void)state;
	struct pane_labels extra;
	pane_labels_init(&extra);
	pane_labels_set(&extra, "instance", "host:9100");
	pane_labels_set(&extra, "job", "node");
	const char *t = "up{job=\"exposed\"} 1\nother 2\nthird 3\n";
	struct got g = {0};
	struct pane_promtext_result r;
	struct pane_promtext_opts o = {.extra = &extra};
	assert_int_equal(pane_promtext_parse(t, strlen(t), &o, collect, &g, &r, NULL), 0);
	assert_string_equal(pane_labels_get(&g.labels[0], "job"), "node");
	assert_string_equal(pane_labels_get(&g.labels[1], "instance"), "host:9100");
	got_free(&g);
	memset(&g, 0, sizeof g);
	o.honor_labels = true;
	o.max_samples = 2;
	struct pane_err e = {0};
	assert_int_equal(pane_promtext_parse(t, strlen(t), &o, collect, &g, &r, &e), PANE_ETOOBIG);
	got_free(&g);
	pane_labels_release(&extra);
}

static void large_input_in_batches(void **state)
{
	(void)state;
	size_t n = 5000;
	char *t = pane_xmalloc(n * 64);
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(t + len, 64, "series_%zu{i=\"%zu\"} %zu\n", i % 7, i, i);
	struct got g = {0};
	struct pane_promtext_result r;
	struct pane_promtext_opts o = {0};
	assert_int_equal(pane_promtext_parse(t, len, &o, collect, &g, &r, NULL), 0);
	assert_int_equal(g.n, n);
	assert_int_equal(r.samples, n);
	assert_true(g.batches > 1);
	got_free(&g);
	free(t);
}

static void utf8(void **state)
{
	(void)state;
	assert_true(pane_utf8_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15));
	assert_false(pane_utf8_valid("\xc0\xaf", 2));         /* overlong */
	assert_false(pane_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	assert_false(pane_utf8_valid("\xe2\x82", 2));         /* truncated */
	assert_false(pane_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
}

/* Values and timestamps are read exactly as strtod and pane_str_to_i64 read
 * them, whatever shortcut the parser takes for plain decimals and digits. */
struct nums {
	size_t n;
	double v[4096];
	int64_t ts[4096];
};

static int collect_nums(void *arg, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	(void)err;
	struct nums *g = arg;
	for (size_t i = 0; i < n; i++) {
		g->v[g->n] = s[i].value;
		g->ts[g->n++] = s[i].ts_ms;
	}
	return 0;
}

static void numbers_as_strtod_reads_them(void **state)
{
	(void)state;
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	static const char chars[] = "0123456789012345678901234567890123456789.-+e";
	static struct nums g;
	char num[4096][32], ts[4096][32], line[128];
	for (int round = 0; round < 40; round++) {
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		for (int k = 0; k < 4096; k++) {
			for (int w = 0; w < 2; w++) {
				char *o = w ? ts[k] : num[k];
				rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
				size_t len = 1 + rng % 21, i = 0;
				/* mostly decimals of every length and shape, some junk */
				for (; i < len; i++) {
					rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
					o[i] = (rng >> 8) % 10 < 8 || w ? (char)('0' + (rng >> 16) % 10)
					                                : chars[(rng >> 16) % (sizeof chars - 1)];
				}
				if (!w && rng % 3 == 0 && len > 2)
					o[1 + (rng >> 24) % (len - 2)] = '.';
				if (rng % 11 == 0)
					o[0] = rng % 2 ? '-' : '+';
				o[i] = '\0';
			}
			snprintf(line, sizeof line, "m %s %s\n", num[k], ts[k]);
			pane_buf_add(&b, line, strlen(line));
		}
		struct pane_promtext_result r;
		struct pane_promtext_opts o = {0};
		g.n = 0;
		assert_int_equal(pane_promtext_parse(b.data, b.len, &o, collect_nums, &g, &r, NULL), 0);
		size_t at = 0;
		for (int k = 0; k < 4096; k++) {
			double want;
			int64_t wts;
			bool good = pane_str_to_double(pane_str_make(num[k], strlen(num[k])), &want) == 0 &&
			            pane_str_to_i64(pane_str_make(ts[k], strlen(ts[k])), &wts) == 0;
			if (!good)
				continue;
			assert_true(at < g.n);
			if (memcmp(&g.v[at], &want, 8) != 0 || g.ts[at] != wts)
				fail_msg("'%s %s' read as %.17g %lld, strtod: %.17g %lld", num[k], ts[k], g.v[at],
				         (long long)g.ts[at], want, (long long)wts);
			at++;
		}
		assert_int_equal(at, g.n);
		pane_buf_release(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(exposition_004),
	    cmocka_unit_test(openmetrics),
	    cmocka_unit_test(bad_lines_are_skipped_not_fatal),
	    cmocka_unit_test(name_in_labels),
	    cmocka_unit_test(extra_labels_and_limits),
	    cmocka_unit_test(large_input_in_batches),
	    cmocka_unit_test(utf8),
	    cmocka_unit_test(numbers_as_strtod_reads_them),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
