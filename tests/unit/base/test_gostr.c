/* test_gostr.c - Go string literals (base/gostr.h): every escape's value,
 * raw strings, the literal's length, and for each failure its status and
 * both offsets (the PromQL and LogQL lexers word them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/gostr.h"

/* Decodes lit (whole input); wants value want (want_len bytes) and the
 * literal's length used (consumed). */
static void ok(const char *lit, size_t consumed, const char *want, size_t want_len)
{
	struct pane_buf b;
	pane_buf_init(&b, 1024);
	struct pane_gostr_error e = {0};
	size_t n = pane_go_unquote(lit, strlen(lit), &b, &e);
	if (n != consumed || b.len != want_len || (want_len && memcmp(b.data, want, want_len) != 0)) {
		print_error("%s: consumed %zu (want %zu), value %zu bytes (want %zu), status %d\n", lit, n, consumed,
		            b.len, want_len, (int)e.status);
		pane_buf_release(&b);
		fail();
	}
	pane_buf_release(&b);
}

static void bad(const char *lit, enum pane_gostr_status st, size_t at, size_t escape, unsigned char ch)
{
	struct pane_buf b;
	pane_buf_init(&b, 1024);
	struct pane_gostr_error e = {0};
	size_t n = pane_go_unquote(lit, strlen(lit), &b, &e);
	pane_buf_release(&b);
	if (n != 0 || e.status != st || e.at != at || e.escape != escape || e.ch != ch) {
		print_error("%s: got n=%zu status %d at %zu escape %zu ch %u; want status %d at %zu escape %zu ch %u\n",
		            lit, n, (int)e.status, e.at, e.escape, e.ch, (int)st, at, escape, ch);
		fail();
	}
}

static void test_values(void **state)
{
	(void)state;
	ok("\"\"", 2, "", 0);
	ok("\"abc\" rest", 5, "abc", 3);
	ok("'a\"b'", 5, "a\"b", 3);
	ok("\"\\a\\b\\f\\n\\r\\t\\v\\\\\\\"\"", 20, "\a\b\f\n\r\t\v\\\"", 9);
	ok("'\\''", 4, "'", 1);
	ok("\"\\x41\\x00z\"", 11, "A\0z", 3);
	ok("\"\\101\\000\\377\"", 14, "A\0\xff", 3);
	ok("\"\\u00e9\\U0001F600\"", 18, "\xc3\xa9\xf0\x9f\x98\x80", 6);
	ok("\"\\u20AC\"", 8, "\xe2\x82\xac", 3);
	/* raw: no escapes, newlines kept, ends at the next backquote */
	ok("`a\\n\nb\"'` x", 9, "a\\n\nb\"'", 7);
	/* UTF-8 passes through */
	ok("\"h\xc3\xa9\"", 5, "h\xc3\xa9", 3);
}

static void test_errors(void **state)
{
	(void)state;
	bad("", PANE_GOSTR_UNTERMINATED, 0, 0, 0);
	bad("abc", PANE_GOSTR_UNTERMINATED, 0, 0, 0);
	bad("\"abc", PANE_GOSTR_UNTERMINATED, 0, 0, 0);
	bad("`abc", PANE_GOSTR_UNTERMINATED, 0, 0, 0);
	bad("\"ab\ncd\"", PANE_GOSTR_UNTERMINATED, 0, 0, 0);
	bad("\"ab\\", PANE_GOSTR_UNTERMINATED, 3, 0, 0); /* a lone backslash at the end */
	bad("\"a\\qb\"", PANE_GOSTR_UNKNOWN_ESCAPE, 2, 2, 'q');
	bad("\"a\\'\"", PANE_GOSTR_UNKNOWN_ESCAPE, 2, 2, '\''); /* the other quote */
	bad("'\\\"'", PANE_GOSTR_UNKNOWN_ESCAPE, 1, 1, '"');
	bad("\"\\x4g\"", PANE_GOSTR_BAD_DIGIT, 4, 1, 0);
	bad("\"\\x4", PANE_GOSTR_BAD_DIGIT, 4, 1, 0);
	bad("\"ab\\u12\"", PANE_GOSTR_BAD_DIGIT, 7, 3, 0);
	bad("\"\\18\"", PANE_GOSTR_BAD_DIGIT, 3, 1, 0);
	bad("\"\\400\"", PANE_GOSTR_OCTAL_RANGE, 5, 1, 0);
	bad("\"\\uD800\"", PANE_GOSTR_BAD_CODEPOINT, 7, 1, 0);
	bad("\"\\U00110000\"", PANE_GOSTR_BAD_CODEPOINT, 11, 1, 0);
}

static void test_hexval(void **state)
{
	(void)state;
	assert_int_equal(pane_hexval('0'), 0);
	assert_int_equal(pane_hexval('9'), 9);
	assert_int_equal(pane_hexval('a'), 10);
	assert_int_equal(pane_hexval('F'), 15);
	assert_int_equal(pane_hexval('g'), -1);
	assert_int_equal(pane_hexval(0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_hexval),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
