/* test_cron.c - cron expressions: parsing, errors, and the next tick. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "queue/cron.h"

/* 2025-11-28T12:34:56Z (a Friday) */
#define T0 1764333296LL

static int64_t next_of(const char *expr, int64_t t)
{
	struct pane_cron c;
	char why[160];
	if (pane_cron_parse(expr, &c, why, sizeof why) != 0)
		fail_msg("%s: %s", expr, why);
	return pane_cron_next(&c, t);
}

static void next_ticks(void **state)
{
	assert_int_equal(next_of("* * * * *", T0), T0 + 4);                    /* 12:35:00 */
	assert_int_equal(next_of("* * * * * *", T0), T0 + 1);                  /* every second */
	assert_int_equal(next_of("*/15 * * * * *", T0), T0 + 4);               /* :00 */
	assert_int_equal(next_of("0 13 * * *", T0), T0 + 4 + 25 * 60);         /* 13:00 today */
	assert_int_equal(next_of("30 12 * * *", T0), T0 + 4 + 86400 - 5 * 60); /* 12:30 tomorrow */
	assert_int_equal(next_of("0 0 1 1 *", T0), 1767225600LL);              /* 2026-01-01 */
	assert_int_equal(next_of("0 0 * * 0", T0), 1764460800LL);              /* Sunday 2025-11-30 */
	assert_int_equal(next_of("0 0 * * 7", T0), 1764460800LL);              /* 7 is Sunday too */
	assert_int_equal(next_of("0 9-17/4 * * 1-5", T0), T0 + 4 + 25 * 60);   /* Friday 13:00 */
	assert_int_equal(next_of("0 9-17/4 * * 1-4", T0), 1764579600LL);       /* Monday 09:00 */
	assert_int_equal(next_of("0 0 31 2 *", T0), -1);                       /* never */
	/* both day fields restricted: either matches (the 1st, or a Monday) */
	assert_int_equal(next_of("0 0 30 * 1", T0), 1764460800LL);       /* Sunday the 30th: either day field matches */
	assert_int_equal(next_of("5,10 * * * *", T0), T0 + 4 + 60 * 30); /* 13:05 */
}

static void parse_errors(void **state)
{
	static const char *bad[] = {"",          "* * * *",    "* * * * * * *", "60 * * * *",  "* 24 * * *",
	                            "* * 0 * *", "* * * 13 *", "* * * * 8",     "*/0 * * * *", "5-1 * * * *",
	                            "a * * * *", "1, * * * *", ",1 * * * *",    "1-- * * * *", "*/x * * * *",
	                            "-1 * * * *"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct pane_cron c;
		char why[160] = "";
		if (pane_cron_parse(bad[i], &c, why, sizeof why) == 0)
			fail_msg("'%s' was accepted", bad[i]);
		assert_true(strlen(why) > 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(next_ticks), cmocka_unit_test(parse_errors)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
