/* test_saas.c - helpers of the Render and Sentry sources: provider
 * timestamps with microseconds and zones, bad timestamps refused, clock-skew
 * clamping and partial counting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "sources/saas.h"

static void timestamps_keep_microseconds(void **state)
{
	(void)state;
	int64_t us = 0;
	assert_int_equal(pane_time_parse_us("2026-05-01T11:42:17.523456Z", &us), 0);
	assert_int_equal(us, 1777635737523456LL);
	assert_int_equal(pane_time_parse_us("2026-05-01T11:42:17Z", &us), 0);
	assert_int_equal(us, 1777635737000000LL);
	assert_int_equal(pane_time_parse_us("2026-05-01T11:42:17.5Z", &us), 0);
	assert_int_equal(us, 1777635737500000LL);
	/* nanoseconds are cut to microseconds, not rounded */
	assert_int_equal(pane_time_parse_us("2026-05-01T11:42:17.123456789Z", &us), 0);
	assert_int_equal(us, 1777635737123456LL);
	/* zones */
	assert_int_equal(pane_time_parse_us("2026-05-01T13:42:17.000001+02:00", &us), 0);
	assert_int_equal(us, 1777635737000001LL);
	/* epoch seconds with a fraction */
	assert_int_equal(pane_time_parse_us("1777635737.25", &us), 0);
	assert_int_equal(us, 1777635737250000LL);
	/* two lines one microsecond apart stay apart */
	int64_t a, b;
	assert_int_equal(pane_time_parse_us("2026-05-01T11:42:17.000001Z", &a), 0);
	assert_int_equal(pane_time_parse_us("2026-05-01T11:42:17.000002Z", &b), 0);
	assert_int_equal(b - a, 1);
}

static void bad_timestamps_are_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {"",
	                                  "yesterday",
	                                  "2026-05-01T11:42:17.Z",
	                                  "2026-13-01T00:00:00Z",
	                                  "2026-05-01T11:42:17.123",
	                                  "2026-05-01T11:42:17.5Zjunk",
	                                  "x2026-05-01T11:42:17Z"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t us = 0;
		if (pane_time_parse_us(bad[i], &us) == 0)
			fail_msg("accepted '%s'", bad[i]);
	}
	int64_t us;
	assert_int_equal(pane_time_parse_us(NULL, &us), PANE_EINVAL);
	char big[200];
	memset(big, '1', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(pane_time_parse_us(big, &us), PANE_EINVAL);
}

static void skew_is_clamped_and_counted(void **state)
{
	(void)state;
	struct pane_saas_partial p = {0};
	assert_int_equal(pane_saas_clamp_ts(&p, 1000, 2000, 300), 1000);
	assert_int_equal(pane_saas_clamp_ts(&p, 2300, 2000, 300), 2300);
	assert_int_equal(p.skewed, 0);
	assert_false(p.this_round);
	assert_int_equal(pane_saas_clamp_ts(&p, 2301, 2000, 300), 2000);
	assert_int_equal(p.skewed, 1);
	assert_true(p.this_round);
	assert_string_equal(p.reason[0], "clock_skew");
	pane_saas_partial_add(&p, "not_found");
	pane_saas_partial_add(&p, "clock_skew");
	assert_int_equal(p.n, 2);
	assert_int_equal(p.count[0], 2);
	assert_int_equal(p.count[1], 1);
	/* bounded: more reasons than slots fold into the last one */
	char r[32];
	for (int i = 0; i < 40; i++) {
		snprintf(r, sizeof r, "reason_%d", i);
		pane_saas_partial_add(&p, r);
	}
	assert_int_equal(p.n, PANE_SAAS_REASONS_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(timestamps_keep_microseconds),
	    cmocka_unit_test(bad_timestamps_are_refused),
	    cmocka_unit_test(skew_is_clamped_and_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
