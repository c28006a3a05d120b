/* test_client.c - the HTTP client's pure helpers: Link pagination,
 * Retry-After, backoff with jitter, query-string building. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "http/client.h"

static void link_next_finds_rel_next(void **state)
{
	(void)state;
	const char *sentry =
	    "<https://sentry.io/api/0/organizations/o/issues/?&cursor=1:0:1>; rel=\"previous\"; results=\"false\"; "
	    "cursor=\"1:0:1\", <https://sentry.io/api/0/organizations/o/issues/?&cursor=1:100:0>; rel=\"next\"; "
	    "results=\"true\"; cursor=\"1:100:0\"";
	char *n = pane_http_link_next(sentry);
	assert_string_equal(n, "https://sentry.io/api/0/organizations/o/issues/?&cursor=1:100:0");
	free(n);
	/* results="false" on next: no more pages */
	const char *done = "<http://a/?c=1>; rel=\"previous\"; results=\"true\", <http://a/?c=2>; rel=\"next\"; "
	                   "results=\"false\"";
	assert_null(pane_http_link_next(done));
	/* GitHub style, next not first, unquoted rel and several values */
	n = pane_http_link_next("<http://a/p=1>; rel=prev, <http://a/p=3>; rel=\"last next\"");
	assert_string_equal(n, "http://a/p=3");
	free(n);
	assert_null(pane_http_link_next("<http://a/p=1>; rel=\"prev\""));
	assert_null(pane_http_link_next(NULL));
	assert_null(pane_http_link_next("garbage"));
	assert_null(pane_http_link_next("<unterminated; rel=next"));
	/* a comma inside a quoted parameter does not split links */
	n = pane_http_link_next("<http://x/1>; title=\"a, b\"; rel=\"next\"");
	assert_string_equal(n, "http://x/1");
	free(n);
}

static void retry_after_parses_both_forms(void **state)
{
	(void)state;
	assert_int_equal(pane_http_parse_retry_after("120", 0), 120000);
	assert_int_equal(pane_http_parse_retry_after(" 0 ", 0), 0);
	assert_int_equal(pane_http_parse_retry_after("-3", 0), -1);
	assert_int_equal(pane_http_parse_retry_after("soon", 0), -1);
	assert_int_equal(pane_http_parse_retry_after(NULL, 0), -1);
	/* Sun, 06 Nov 1994 08:49:37 GMT = 784111777 */
	assert_int_equal(pane_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777000LL - 5000), 5000);
	/* a date in the past means "now" */
	assert_int_equal(pane_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777000LL + 5000), 0);
}

static void backoff_is_capped_full_jitter(void **state)
{
	(void)state;
	/* the largest random value gives the cap; 0 gives 0 */
	assert_int_equal(pane_http_backoff_ms(1, 500, 30000, 500), 500);
	assert_int_equal(pane_http_backoff_ms(1, 500, 30000, 0), 0);
	for (uint64_t rnd = 1; rnd < 100000; rnd += 7919) {
		assert_true(pane_http_backoff_ms(1, 500, 30000, rnd) <= 500);
		assert_true(pane_http_backoff_ms(3, 500, 30000, rnd) <= 2000);
		assert_true(pane_http_backoff_ms(20, 500, 30000, rnd) <= 30000);
	}
	/* the window doubles: rnd = cap gives exactly the cap */
	assert_int_equal(pane_http_backoff_ms(3, 500, 30000, 2000), 2000);
	assert_int_equal(pane_http_backoff_ms(30, 500, 30000, 30000), 30000);
}

static void query_strings_are_encoded(void **state)
{
	(void)state;
	struct pane_buf u;
	pane_buf_init(&u, 4096);
	pane_buf_adds(&u, "http://h/v1/logs");
	assert_int_equal(pane_http_url_add_query(&u, "sql", "select * from logs where a = 'x y'&"), 0);
	assert_int_equal(pane_http_url_add_query(&u, "iso_timestamp_start", "2026-11-28T12:00:00Z"), 0);
	assert_string_equal(u.data, "http://h/v1/logs?sql=select%20%2A%20from%20logs%20where%20a%20%3D%20%27x%20y%27%26"
	                            "&iso_timestamp_start=2026-11-28T12%3A00%3A00Z");
	/* a bounded buffer refuses and stays unchanged */
	struct pane_buf small;
	pane_buf_init(&small, 20);
	pane_buf_adds(&small, "http://h/x");
	assert_int_equal(pane_http_url_add_query(&small, "key", "a long value that does not fit"), PANE_ETOOBIG);
	assert_string_equal(small.data, "http://h/x");
	pane_buf_release(&small);
	pane_buf_release(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(link_next_finds_rel_next),
	    cmocka_unit_test(retry_after_parses_both_forms),
	    cmocka_unit_test(backoff_is_capped_full_jitter),
	    cmocka_unit_test(query_strings_are_encoded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
