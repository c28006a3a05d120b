/* test_promtext.c - the sources' Prometheus text parser: the exposition
 * format's features, and clear errors (with line numbers) for broken input. */
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
#include "sources/promtext.h"

/* Renders each sample as one line "name{k=v,...} value ts" into a buffer. */
static int collect(void *arg, const char *name, const struct pane_labels *ls, double v, int64_t ts)
{
	struct pane_buf *b = arg;
	pane_buf_addf(b, "%s{", name);
	for (size_t i = 0; i < ls->n; i++)
		pane_buf_addf(b, "%s%s=%s", i ? "," : "", ls->v[i].name, ls->v[i].value);
	pane_buf_addf(b, "} %g %lld\n", v, (long long)ts);
	return 0;
}

static int parse(const char *text, struct pane_buf *out, struct pane_err *err)
{
	pane_buf_reset(out);
	memset(err, 0, sizeof *err);
	return pane_promtext_parse(text, strlen(text), collect, out, err);
}

static void parses_the_format(void **state)
{
	(void)state;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	struct pane_err err;
	const char *text = "# HELP http_requests_total The total number of HTTP requests.\n"
			   "# TYPE http_requests_total counter\n"
			   "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\r\n"
			   "\n"
			   "   # indented comment\n"
			   "metric_without_labels 12.47\n"
			   "escaped{path=\"C:\\\\dir\\\\\",quote=\"say \\\"hi\\\"\",nl=\"a\\nb\",} -Inf\n"
			   "empty{drop=\"\"} NaN\n"
			   "spaced { a = \"1\" , b=\"2\" }   +Inf\n"
			   "rpc:latency_seconds{quantile=\"0.99\"} 3.0e-2\n"
			   "# EOF\n"
			   "after_eof 1\n";
	assert_int_equal(parse(text, &b, &err), 0);
	assert_string_equal(b.data, "http_requests_total{code=200,method=post} 1027 1395066363000\n"
				    "metric_without_labels{} 12.47 0\n"
				    "escaped{nl=a\nb,path=C:\\dir\\,quote=say \"hi\"} -inf 0\n"
				    "empty{} nan 0\n"
				    "spaced{a=1,b=2} inf 0\n"
				    "rpc:latency_seconds{quantile=0.99} 0.03 0\n");
	/* no trailing newline is fine */
	assert_int_equal(parse("x 1", &b, &err), 0);
	assert_string_equal(b.data, "x{} 1 0\n");
	assert_int_equal(parse("", &b, &err), 0);
	assert_int_equal(b.len, 0);
	pane_buf_release(&b);
}

static void broken_input_names_the_line(void **state)
{
	(void)state;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	struct pane_err err;
	static const char *const bad[][2] = {
		{"ok 1\n{a=\"1\"} 2\n", "line 2: expected a metric name"},
		{"m{a=1} 2\n", "line 1: label value must be quoted"},
		{"m{a=\"1} 2\n", "line 1: unterminated label value"},
		{"m{a=\"\\x\"} 2\n", "line 1: bad escape"},
		{"m{a=\"1\" b=\"2\"} 2\n", "line 1: expected ',' or '}'"},
		{"m{9a=\"1\"} 2\n", "line 1: expected a label name"},
		{"m{a} 2\n", "line 1: expected '=' after label name"},
		{"m\n", "line 1: bad sample value"},
		{"m one\n", "line 1: bad sample value"},
		{"m 1 2 3\n", "line 1: bad timestamp or trailing text"},
		{"m 1 soon\n", "line 1: bad timestamp or trailing text"},
		{"m{a=\"1\",a=\"2\"} 1\n", NULL}, /* duplicate label: the last wins (labels_set replaces) */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = parse(bad[i][0], &b, &err);
		if (!bad[i][1]) {
			assert_int_equal(rc, 0);
			continue;
		}
		assert_true(rc < 0);
		if (!strstr(err.msg, bad[i][1]))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad[i][1]);
	}
	/* bounds: a huge label value and too many labels */
	struct pane_buf big;
	pane_buf_init(&big, PANE_BUF_NOLIMIT);
	pane_buf_adds(&big, "m{a=\"");
	for (int i = 0; i < PANE_LABEL_VALUE_MAX + 10; i++)
		pane_buf_addc(&big, 'x');
	pane_buf_adds(&big, "\"} 1\n");
	assert_int_equal(parse(big.data, &b, &err), PANE_ETOOBIG);
	pane_buf_reset(&big);
	pane_buf_adds(&big, "m{");
	for (int i = 0; i < PANE_LABELS_MAX + 5; i++)
		pane_buf_addf(&big, "l%d=\"v\",", i);
	pane_buf_adds(&big, "} 1\n");
	assert_true(parse(big.data, &b, &err) < 0);
	assert_non_null(strstr(err.msg, "too many labels"));
	pane_buf_release(&big);
	pane_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_the_format),
		cmocka_unit_test(broken_input_names_the_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
