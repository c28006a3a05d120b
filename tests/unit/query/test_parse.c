/* test_parse.c - PromQL parser: accepted syntax and its printed form, type
 * checks, precise error positions and messages, bounded nesting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/ast.h"
#include "query/query.h"

static void roundtrip(const char *in, const char *want)
{
	struct pane_err err = {0};
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	if (pane_query_format(in, &b, &err) != 0)
		fail_msg("%s: %s", in, err.msg);
	if (strcmp(b.data, want))
		fail_msg("%s printed as %s, want %s", in, b.data, want);
	/* the printed form parses to the same printed form */
	struct pane_buf b2;
	pane_buf_init(&b2, PANE_BUF_NOLIMIT);
	assert_int_equal(pane_query_format(b.data, &b2, &err), 0);
	assert_string_equal(b.data, b2.data);
	pane_buf_release(&b);
	pane_buf_release(&b2);
}

static void test_print(void **state)
{
	(void)state;
	roundtrip("foo", "foo");
	roundtrip("foo{a='b',c!~\"d\"}", "foo{a=\"b\", c!~\"d\"}");
	roundtrip("{__name__=~\"a.*\"}", "{__name__=~\"a.*\"}");
	roundtrip("rate(foo[5m] offset 1m)", "rate(foo[5m] offset 1m)");
	roundtrip("sum by(a,b)(rate(x[1h30m]))", "sum by (a, b) (rate(x[1h30m]))");
	roundtrip("sum(x) without (a)", "sum without (a) (x)");
	roundtrip("a + on(b) group_left(c) d", "a + on(b) group_left(c) d");
	roundtrip("a > bool ignoring(x) b", "a > bool ignoring(x) b");
	roundtrip("1 + 2 * 3", "1 + 2 * 3");
	roundtrip("-2 ^ 2", "-2 ^ 2");
	roundtrip("max_over_time(rate(x[1m])[5m:30s])", "max_over_time(rate(x[1m])[5m:30s])");
	roundtrip("x @ 100 offset -5m", "x offset -5m @ 100.000");
	roundtrip("x @ start()", "x @ start()");
	roundtrip("topk(3, x)", "topk(3, x)");
	roundtrip("count_values(\"v\", x)", "count_values(\"v\", x)");
	roundtrip("0x10 + 1e3 + .5", "16 + 1000 + 0.5");
	roundtrip("label_replace(x, \"a\", \"$1\", \"b\", \"(.*)\")",
	          "label_replace(x, \"a\", \"$1\", \"b\", \"(.*)\")");
	roundtrip("x # a comment\n + 1", "x + 1");
}

static void test_precedence(void **state)
{
	(void)state;
	struct pane_err err = {0};
	struct pq_expr *e = pq_parse("a + b * c ^ d ^ e > bool f and x or y unless z", &err);
	assert_non_null(e);
	/* or binds loosest: (… and x) or (y unless z) */
	assert_int_equal(e->root->op, PQ_OR);
	assert_int_equal(e->root->a->op, PQ_AND);
	assert_int_equal(e->root->b->op, PQ_UNLESS);
	struct pq_node *cmp = e->root->a->a;
	assert_int_equal(cmp->op, PQ_GTR);
	assert_true(cmp->bool_mod);
	struct pq_node *pw = cmp->a->b->b; /* c ^ (d ^ e) */
	assert_int_equal(pw->op, PQ_POW);
	assert_int_equal(pw->b->op, PQ_POW);
	pq_expr_free(e);
	e = pq_parse("-2 ^ 2", &err);
	assert_non_null(e);
	assert_int_equal(e->root->kind, PQ_UNARY);
	pq_expr_free(e);
	e = pq_parse("-2", &err);
	assert_int_equal(e->root->kind, PQ_NUM);
	assert_true(e->root->num == -2);
	pq_expr_free(e);
}

static void expect_err(const char *in, const char *want)
{
	struct pane_err err = {0};
	struct pq_expr *e = pq_parse(in, &err);
	if (e)
		fail_msg("%s parsed, want error %s", in, want);
	if (!strstr(err.msg, want))
		fail_msg("%s: got \"%s\", want \"%s\"", in, err.msg, want);
}

static void test_errors(void **state)
{
	(void)state;
	expect_err("", "1:1: parse error: no expression found in input");
	expect_err("sum(", "1:5: parse error: unclosed left parenthesis");
	expect_err("rate(x[5m]", "expected \",\" or \")\"");
	expect_err("x{a=\"b\"", "1:8: parse error: unexpected end of input in label matching, expected \",\" or \"}\"");
	expect_err("x{a=b}", "1:5: parse error: unexpected identifier \"b\" in label matching, expected string");
	expect_err("x{a~\"b\"}", "1:4: parse error: unexpected character: '~'");
	expect_err("x[5]", "expected duration");
	expect_err("x[5m:1x]", "1:6: parse error: bad number or duration syntax");
	expect_err("rate(x)", "expected type range vector in call to function \"rate\", got instant vector");
	expect_err("sum(x[5m])", "expected type instant vector in aggregation expression, got range vector");
	expect_err("1 > 2", "comparisons between scalars must use BOOL modifier");
	expect_err("x and 1", "set operator \"and\" not allowed in binary scalar expression");
	expect_err("x + bool y", "bool modifier can only be used on comparison operators");
	expect_err("1 + on(a) x", "vector matching only allowed between instant vectors");
	expect_err("x + on(a) group_left(a) y", "must not occur in ON and GROUP clause at once");
	expect_err("x and on(a) group_left y", "no grouping allowed for \"and\" operation");
	expect_err("{}", "vector selector must contain at least one non-empty matcher");
	expect_err("{a=~\".*\"}", "vector selector must contain at least one non-empty matcher");
	expect_err("x{__name__=\"y\"}", "metric name must not be set twice");
	expect_err("x{a=~\"(\"}", "error parsing regexp");
	expect_err("foo(x)", "unknown function with name \"foo\"");
	expect_err("round()", "expected at least");
	expect_err("label_replace(x, \"a\")", "expected 5 argument(s) in call to \"label_replace\", got 2");
	expect_err("rate(x[5m])[1m]", "ranges only allowed for vector selectors");
	expect_err("x[5m][1m:]", "subquery is only allowed on instant vector, got range vector");
	expect_err("sum(x) offset 5m", "offset modifier must be preceded by an instant vector selector");
	expect_err("x offset 1m offset 2m", "offset may not be set multiple times");
	expect_err("x @ 1 @ 2", "may not be set multiple times");
	expect_err("\"abc", "unterminated quoted string");
	expect_err("\"\\q\"", "unknown escape sequence");
	expect_err("x\n  + )", "2:5: parse error: unexpected \")\"");
	expect_err("x y", "unexpected identifier \"y\", expected end of input or an operator");
	expect_err("topk(x)", "wrong number of arguments for aggregate expression provided, expected 2, got 1");
	expect_err("x[0s]", "duration must be greater than 0");
	expect_err("x offset 300y", "bad number or duration syntax");
	expect_err("x[99999999999999d]", "bad number or duration syntax");
	expect_err("x @ 1e300", "timestamp out of bounds");
}

static void test_depth_and_size(void **state)
{
	(void)state;
	size_t n = 100000;
	char *s = malloc(2 * n + 2);
	memset(s, '(', n);
	s[n] = '1';
	memset(s + n + 1, ')', n);
	s[2 * n + 1] = 0;
	expect_err(s, "nests too deeply");
	for (size_t i = 0; i < n; i++)
		s[i] = '-';
	s[n] = '1';
	s[n + 1] = 0;
	expect_err(s, "nests too deeply");
	/* operator chains parse iteratively but nest in the tree: bounded by
	 * PQ_MAX_HEIGHT (issue 14: 5,001 terms overflowed the evaluator's stack) */
	static const char *const ops[] = {" + ", " and ", " unless ", " or ", " * on() ", " == bool "};
	for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		for (int i = 0; i < PQ_MAX_HEIGHT;
		     i++) /* PQ_MAX_HEIGHT - 1 operators: the tree is PQ_MAX_HEIGHT high */
		{
			if (i)
				pane_buf_adds(&b, ops[k]);
			pane_buf_adds(&b, "up");
		}
		pane_buf_adds(&b, ""); /* b.data is a string even if nothing was added */
		struct pane_err err = {0};
		struct pq_expr *e = pq_parse(b.data, &err);
		if (!e)
			fail_msg("%s: %s", ops[k], err.msg);
		pq_expr_free(e);
		pane_buf_adds(&b, ops[k]);
		pane_buf_adds(&b, "up");
		expect_err(b.data, "nests too deeply");
		for (int i = PQ_MAX_HEIGHT + 1; i < 5001; i++) {
			pane_buf_adds(&b, ops[k]);
			pane_buf_adds(&b, "up");
		}
		expect_err(b.data, "nests too deeply");
		pane_buf_release(&b);
	}
	/* the height counts every kind of node: calls and parentheses in a chain */
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	for (int i = 0; i < PQ_MAX_HEIGHT; i++)
		pane_buf_adds(&b, i ? " + abs((x))" : "x");
	expect_err(b.data, "nests too deeply");
	pane_buf_release(&b);
	free(s);
	s = malloc(PQ_MAX_EXPR_LEN + 10);
	memset(s, 'x', PQ_MAX_EXPR_LEN + 5);
	s[PQ_MAX_EXPR_LEN + 5] = 0;
	expect_err(s, "query is too long");
	free(s);
}

static void test_regex_limits(void **state)
{
	(void)state;
	struct pane_err err = {0};
	pcre2_code *re = pane_regex_compile("(a+)+", 0, &err);
	assert_non_null(re);
	char s[4096];
	memset(s, 'a', sizeof s - 2);
	s[sizeof s - 2] = '!';
	s[sizeof s - 1] = 0;
	/* catastrophic backtracking stops at the match limit with an error, not a hang */
	assert_int_equal(pane_regex_match(re, s, strlen(s), NULL), PANE_ETOOBIG);
	pcre2_code_free(re);
	re = pane_regex_compile("a|b", 0, &err);
	assert_int_equal(pane_regex_match(re, "a", 1, NULL), 1);
	assert_int_equal(pane_regex_match(re, "ab", 2, NULL), 0); /* anchored */
	pcre2_code_free(re);
	re = pane_regex_compile("a.b", 0, &err);
	assert_int_equal(pane_regex_match(re, "a\nb", 3, NULL), 0);
	pcre2_code_free(re);
	re = pane_regex_compile("a.b", PANE_REGEX_DOTALL, &err);
	assert_int_equal(pane_regex_match(re, "a\nb", 3, NULL), 1);
	assert_int_equal(pane_regex_match(re,
	                                  "a\xff"
	                                  "b",
	                                  3, NULL),
	                 0); /* not UTF-8: no match, no error */
	pcre2_code_free(re);
	assert_null(pane_regex_compile("a(b", 0, &err));
	assert_int_equal(err.code, PANE_EINVAL);
	assert_non_null(strstr(err.msg, "error parsing regexp: missing closing parenthesis"));
}

static void test_durations(void **state)
{
	(void)state;
	int64_t ms;
	assert_int_equal(pq_duration_parse("1h30m", 5, &ms), 0);
	assert_int_equal(ms, 5400000);
	assert_int_equal(pq_duration_parse("1y2w3d4h5m6s7ms", 15, &ms), 0);
	assert_int_equal(ms, 365LL * 86400000 + 14LL * 86400000 + 3LL * 86400000 + 4 * 3600000 + 5 * 60000 + 6007);
	assert_int_equal(pq_duration_parse("30m1h", 5, &ms), -1);
	assert_int_equal(pq_duration_parse("5", 1, &ms), -1);
	assert_int_equal(pq_duration_parse("99999999999999999999s", 21, &ms), -1);
	char out[64];
	pq_duration_format(5400000, out, sizeof out);
	assert_string_equal(out, "1h30m");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_print),        cmocka_unit_test(test_precedence),
	    cmocka_unit_test(test_errors),       cmocka_unit_test(test_depth_and_size),
	    cmocka_unit_test(test_regex_limits), cmocka_unit_test(test_durations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
