/* test_buf.c - growable buffer: invariants, limits, JSON escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"

static void empty_buffer_is_a_string(void **state)
{
	(void)state;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	pane_buf_release(&b);
}

static void appends_and_formats(void **state)
{
	(void)state;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	assert_int_equal(pane_buf_adds(&b, "abc"), 0);
	assert_int_equal(pane_buf_addc(&b, '-'), 0);
	assert_int_equal(pane_buf_addf(&b, "%d/%s", 42, "x"), 0);
	assert_string_equal(b.data, "abc-42/x");
	/* a long formatted string goes through the second vsnprintf path */
	char big[1000];
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(pane_buf_addf(&b, "%s", big), 0);
	assert_int_equal(b.len, 8 + 999);
	assert_int_equal(b.data[b.len], '\0');
	size_t len;
	char *s = pane_buf_detach(&b, &len);
	assert_int_equal(len, 1007);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	free(s);
	pane_buf_release(&b);
}

static void maximum_is_enforced_and_buffer_unchanged(void **state)
{
	(void)state;
	struct pane_buf b;
	pane_buf_init(&b, 10);
	assert_int_equal(pane_buf_adds(&b, "0123456789"), 0);
	assert_int_equal(pane_buf_addc(&b, 'x'), PANE_ETOOBIG);
	assert_string_equal(b.data, "0123456789");
	assert_int_equal(pane_buf_addf(&b, "%s", "y"), PANE_ETOOBIG);
	assert_int_equal(b.len, 10);
	assert_true(b.cap <= 11);
	pane_buf_release(&b);
}

static void json_strings_are_escaped(void **state)
{
	(void)state;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	const char in[] = "a\"b\\c\n\x01\xff\xc3\xa9";
	assert_int_equal(pane_buf_add_json_str(&b, in, sizeof in - 1), 0);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\xEF\xBF\xBD\xc3\xa9\"");
	pane_buf_release(&b);
}

static void json_string_over_limit_leaves_no_partial(void **state)
{
	(void)state;
	struct pane_buf b;
	pane_buf_init(&b, 8);
	assert_int_equal(pane_buf_adds(&b, "ab"), 0);
	assert_int_equal(pane_buf_add_json_str(&b, "0123456789", 10), PANE_ETOOBIG);
	assert_string_equal(b.data, "ab");
	pane_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(empty_buffer_is_a_string),
	    cmocka_unit_test(appends_and_formats),
	    cmocka_unit_test(maximum_is_enforced_and_buffer_unchanged),
	    cmocka_unit_test(json_strings_are_escaped),
	    cmocka_unit_test(json_string_over_limit_leaves_no_partial),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
