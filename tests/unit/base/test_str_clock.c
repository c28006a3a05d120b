/* test_str_clock.c - strict number parsing, durations, RFC 3339 timestamps, errors, stats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/stats.h"
#include "base/str.h"

static void strict_integers(void **state)
{
	(void)state;
	int64_t v;
	uint64_t u;
	assert_int_equal(pane_str_to_i64(pane_str_c("42"), &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(pane_str_to_i64(pane_str_c("-9223372036854775808"), &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(pane_str_to_i64(pane_str_c("9223372036854775808"), &v), PANE_EINVAL);
	assert_int_equal(pane_str_to_i64(pane_str_c(" 1"), &v), PANE_EINVAL);
	assert_int_equal(pane_str_to_i64(pane_str_c("1x"), &v), PANE_EINVAL);
	assert_int_equal(pane_str_to_i64(pane_str_c(""), &v), PANE_EINVAL);
	assert_int_equal(pane_str_to_u64(pane_str_c("18446744073709551615"), &u), 0);
	assert_int_equal(pane_str_to_u64(pane_str_c("18446744073709551616"), &u), PANE_EINVAL);
}

static void strict_doubles(void **state)
{
	(void)state;
	double d;
	assert_int_equal(pane_str_to_double(pane_str_c("1.5e3"), &d), 0);
	assert_true(d == 1500.0);
	assert_int_equal(pane_str_to_double(pane_str_c("+Inf"), &d), 0);
	assert_true(isinf(d) && d > 0);
	assert_int_equal(pane_str_to_double(pane_str_c("-inf"), &d), 0);
	assert_true(isinf(d) && d < 0);
	assert_int_equal(pane_str_to_double(pane_str_c("NaN"), &d), 0);
	assert_true(isnan(d));
	assert_int_equal(pane_str_to_double(pane_str_c("1.5 "), &d), PANE_EINVAL);
	assert_int_equal(pane_str_to_double(pane_str_c("abc"), &d), PANE_EINVAL);
	assert_int_equal(pane_str_to_double(pane_str_c("1e999"), &d), PANE_EINVAL);
}

static void durations(void **state)
{
	(void)state;
	int64_t ms;
	char out[32];
	assert_int_equal(pane_duration_parse(pane_str_c("30s"), 0, &ms), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(pane_duration_parse(pane_str_c("1h30m"), 0, &ms), 0);
	assert_int_equal(ms, 5400000);
	assert_int_equal(pane_duration_parse(pane_str_c("250ms"), 0, &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(pane_duration_parse(pane_str_c("1.5s"), 0, &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(pane_duration_parse(pane_str_c("7d"), 0, &ms), 0);
	assert_int_equal(ms, 7 * 86400000LL);
	assert_int_equal(pane_duration_parse(pane_str_c("30"), 0, &ms), PANE_EINVAL);
	assert_int_equal(pane_duration_parse(pane_str_c("30"), 1000, &ms), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(pane_duration_parse(pane_str_c("-5s"), 0, &ms), PANE_EINVAL);
	assert_int_equal(pane_duration_parse(pane_str_c("5 parsecs"), 0, &ms), PANE_EINVAL);
	assert_int_equal(pane_duration_parse(pane_str_c("5x"), 0, &ms), PANE_EINVAL);
	assert_int_equal(pane_duration_parse(pane_str_c("99999999999999999999y"), 0, &ms), PANE_EINVAL);
	pane_duration_format(5400000, out, sizeof out);
	assert_string_equal(out, "1h30m");
	pane_duration_format(1250, out, sizeof out);
	assert_string_equal(out, "1s250ms");
	pane_duration_format(0, out, sizeof out);
	assert_string_equal(out, "0s");
}

static void timestamps(void **state)
{
	(void)state;
	int64_t ms;
	char out[32];
	assert_int_equal(pane_time_parse(pane_str_c("1970-01-01T00:00:00Z"), &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(pane_time_parse(pane_str_c("2026-11-28T12:00:00.123Z"), &ms), 0);
	assert_int_equal(ms, 1795867200123LL);
	assert_int_equal(pane_time_parse(pane_str_c("2026-11-28T13:00:00+01:00"), &ms), 0);
	assert_int_equal(ms, 1795867200000LL);
	assert_int_equal(pane_time_parse(pane_str_c("1795867200.5"), &ms), 0);
	assert_int_equal(ms, 1795867200500LL);
	assert_int_equal(pane_time_parse(pane_str_c("2026-13-01T00:00:00Z"), &ms), PANE_EINVAL);
	assert_int_equal(pane_time_parse(pane_str_c("2026-11-28T12:00:00"), &ms), PANE_EINVAL);
	assert_int_equal(pane_time_parse(pane_str_c("yesterday"), &ms), PANE_EINVAL);
	pane_time_format(1795867200123LL, out, sizeof out);
	assert_string_equal(out, "2026-11-28T12:00:00.123Z");
	pane_time_format(-1, out, sizeof out);
	assert_string_equal(out, "1969-12-31T23:59:59.999Z");
	assert_true(pane_mono_ns() > 0);
	assert_true(pane_wall_ms() > 1700000000000LL);
}

static void errors_carry_messages(void **state)
{
	(void)state;
	struct pane_err e = {0};
	assert_int_equal(pane_err_set(&e, PANE_ENOTFOUND, "job %d not found", 7), PANE_ENOTFOUND);
	pane_err_prefix(&e, "jobs show");
	pane_err_detail(&e, "list jobs with %s", "pane jobs list");
	assert_string_equal(e.msg, "jobs show: job 7 not found");
	assert_string_equal(e.detail, "list jobs with pane jobs list");
	assert_string_equal(pane_err_name(e.code), "not_found");
	assert_int_equal(pane_err_set(NULL, PANE_EIO, "ignored"), PANE_EIO);
	pane_err_clear(&e);
	assert_int_equal(e.code, 0);
	assert_string_equal(e.msg, "");
}

static void stats_render_groups_families(void **state)
{
	(void)state;
	struct pane_stats *st = pane_stats_new();
	struct pane_stat *a = pane_stats_counter(st, "pane_a_total", "q=\"x\"", "a things");
	struct pane_stat *g = pane_stats_gauge(st, "pane_g", NULL, "a gauge");
	struct pane_stat *a2 = pane_stats_counter(st, "pane_a_total", "q=\"y\"", "a things");
	assert_ptr_equal(pane_stats_counter(st, "pane_a_total", "q=\"x\"", NULL), a);
	pane_stat_inc(a);
	pane_stat_add(a, 0.5);
	pane_stat_add(a, -3); /* counters never go down */
	pane_stat_add(a2, 2);
	pane_stat_set(g, -4);
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	assert_int_equal(pane_stats_render(st, &b), 0);
	assert_string_equal(b.data, "# HELP pane_a_total a things\n"
	                            "# TYPE pane_a_total counter\n"
	                            "pane_a_total{q=\"x\"} 1.5\n"
	                            "pane_a_total{q=\"y\"} 2\n"
	                            "# HELP pane_g a gauge\n"
	                            "# TYPE pane_g gauge\n"
	                            "pane_g -4\n");
	pane_buf_release(&b);
	pane_stats_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(strict_integers),
	    cmocka_unit_test(strict_doubles),
	    cmocka_unit_test(durations),
	    cmocka_unit_test(timestamps),
	    cmocka_unit_test(errors_carry_messages),
	    cmocka_unit_test(stats_render_groups_families),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
