/* test_owners.c - the small ideas with one owner in base/: HOST:PORT
 * splitting (HTTP server, StatsD), label text for doubles (le, quantile),
 * UTF-8 validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "base/err.h"
#include "base/hostport.h"
#include "base/numfmt.h"
#include "base/utf8.h"

static void hostport(void **state)
{
	(void)state;
	char h[64], p[8];
	assert_int_equal(pane_hostport_split("127.0.0.1:8125", h, sizeof h, p, sizeof p), 0);
	assert_string_equal(h, "127.0.0.1");
	assert_string_equal(p, "8125");
	assert_int_equal(pane_hostport_split("[::1]:9090", h, sizeof h, p, sizeof p), 0);
	assert_string_equal(h, "::1");
	assert_string_equal(p, "9090");
	assert_int_equal(pane_hostport_split(":0", h, sizeof h, p, sizeof p), 0);
	assert_string_equal(h, "");
	assert_string_equal(p, "0");
	static const char *const bad[] = {"localhost", "host:",   "host:http", "host:65536",
	                                  "[::1:80",   "[::1]80", "host:-1",   "host:+80"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(pane_hostport_split(bad[i], h, sizeof h, p, sizeof p), PANE_EINVAL);
	assert_int_equal(pane_hostport_split("a-very-long-host-name:80", h, 8, p, sizeof p), PANE_EINVAL);
}

static void label_float(void **state)
{
	(void)state;
	char b[32];
	pane_fmt_label_float(b, sizeof b, 0.5);
	assert_string_equal(b, "0.5");
	pane_fmt_label_float(b, sizeof b, 100);
	assert_string_equal(b, "100");
	pane_fmt_label_float(b, sizeof b, INFINITY);
	assert_string_equal(b, "+Inf");
	pane_fmt_label_float(b, sizeof b, -INFINITY);
	assert_string_equal(b, "-Inf");
	pane_fmt_label_float(b, sizeof b, NAN);
	assert_string_equal(b, "NaN");
	pane_fmt_label_float(b, sizeof b, sqrt(2.0)); /* %g would lose it: the round-tripping form */
	assert_string_equal(b, "1.4142135623730951");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hostport),
	    cmocka_unit_test(label_float),
	    cmocka_unit_test(utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
