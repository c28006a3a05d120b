/* test_index.c - matchers follow Prometheus semantics, including the empty-match rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/index.h"

/* series 1..5:
 * 1 {__name__=up, job=api, env=prod}
 * 2 {__name__=up, job=web}
 * 3 {__name__=http_requests_total, job=api, env=dev, code=200}
 * 4 {__name__=http_requests_total, job=api, env=prod, code=500}
 * 5 {__name__=up, job="a\nb"} */
static struct pane_index *build(void)
{
	struct pane_index *ix = pane_index_new();
	struct pane_label l1[] = {{"__name__", "up"}, {"env", "prod"}, {"job", "api"}};
	struct pane_label l2[] = {{"__name__", "up"}, {"job", "web"}};
	struct pane_label l3[] = {{"__name__", "http_requests_total"}, {"code", "200"}, {"env", "dev"}, {"job", "api"}};
	struct pane_label l4[] = {
	    {"__name__", "http_requests_total"}, {"code", "500"}, {"env", "prod"}, {"job", "api"}};
	struct pane_label l5[] = {{"__name__", "up"}, {"job", "a\nb"}};
	struct pane_labels s[] = {
	    {l1, 3, 3, false}, {l2, 2, 2, false}, {l3, 4, 4, false}, {l4, 4, 4, false}, {l5, 2, 2, false}};
	for (uint32_t i = 0; i < 5; i++)
		pane_index_add(ix, i + 1, &s[i]);
	return ix;
}

/* Matches and returns the ids as a bit mask (bit i = series i). */
static unsigned sel(struct pane_index *ix, const struct pane_matcher *m, size_t n)
{
	struct pane_bitmap b;
	struct pane_err err = {0};
	assert_int_equal(pane_index_match(ix, m, n, &b, &err), 0);
	unsigned mask = 0;
	for (int64_t i = pane_bitmap_next(&b, 0); i >= 0; i = pane_bitmap_next(&b, (uint32_t)i + 1))
		mask |= 1u << i;
	pane_bitmap_release(&b);
	return mask;
}

#define B(i) (1u << (i))

static void matchers(void **state)
{
	(void)state;
	struct pane_index *ix = build();
	assert_int_equal(sel(ix, NULL, 0), B(1) | B(2) | B(3) | B(4) | B(5));
	struct pane_matcher up = {"__name__", "up", PANE_MATCH_EQ};
	assert_int_equal(sel(ix, &up, 1), B(1) | B(2) | B(5));
	struct pane_matcher m2[] = {{"__name__", "up", PANE_MATCH_EQ}, {"job", "api", PANE_MATCH_EQ}};
	assert_int_equal(sel(ix, m2, 2), B(1));
	struct pane_matcher ne = {"env", "prod", PANE_MATCH_NE}; /* series without env match too */
	assert_int_equal(sel(ix, &ne, 1), B(2) | B(3) | B(5));
	struct pane_matcher eq_empty = {"env", "", PANE_MATCH_EQ}; /* lacking env */
	assert_int_equal(sel(ix, &eq_empty, 1), B(2) | B(5));
	struct pane_matcher ne_empty = {"env", "", PANE_MATCH_NE}; /* having env */
	assert_int_equal(sel(ix, &ne_empty, 1), B(1) | B(3) | B(4));
	struct pane_matcher re = {"job", "ap.*", PANE_MATCH_RE};
	assert_int_equal(sel(ix, &re, 1), B(1) | B(3) | B(4));
	struct pane_matcher anchored = {"job", "p", PANE_MATCH_RE}; /* fully anchored: no partial hit */
	assert_int_equal(sel(ix, &anchored, 1), 0);
	struct pane_matcher alt = {"code", "2..|5..", PANE_MATCH_RE};
	assert_int_equal(sel(ix, &alt, 1), B(3) | B(4));
	struct pane_matcher re_empty = {"env", "prod|", PANE_MATCH_RE}; /* matches "" -> lacking too */
	assert_int_equal(sel(ix, &re_empty, 1), B(1) | B(2) | B(4) | B(5));
	struct pane_matcher nre = {"env", "prod", PANE_MATCH_NRE};
	assert_int_equal(sel(ix, &nre, 1), B(2) | B(3) | B(5));
	struct pane_matcher nre_all = {"env", ".*", PANE_MATCH_NRE};
	assert_int_equal(sel(ix, &nre_all, 1), 0);
	struct pane_matcher nre_plus = {"env", ".+", PANE_MATCH_NRE}; /* lacking env */
	assert_int_equal(sel(ix, &nre_plus, 1), B(2) | B(5));
	struct pane_matcher dotall = {"job", "a.b", PANE_MATCH_RE}; /* . matches newline as in Prometheus */
	assert_int_equal(sel(ix, &dotall, 1), B(5));
	struct pane_matcher unknown = {"nope", "x", PANE_MATCH_EQ};
	assert_int_equal(sel(ix, &unknown, 1), 0);
	struct pane_matcher bad = {"job", "(", PANE_MATCH_RE};
	struct pane_bitmap b;
	struct pane_err err = {0};
	assert_int_equal(pane_index_match(ix, &bad, 1, &b, &err), PANE_EINVAL);
	assert_non_null(strstr(err.msg, "error parsing regexp"));
	pane_index_free(ix);
}

/* issue 14 item 11: the index ran =~ without PCRE2's match limits, so a
 * catastrophic pattern on a long value held the selecting thread for hours;
 * it now fails with the limit error from base/regex.c after a bounded amount
 * of work (this test finishing at all is the check) */
static void regex_limits_on_selection(void **state)
{
	(void)state;
	struct pane_index *ix = pane_index_new();
	char v[4096];
	memset(v, 'a', sizeof v - 2);
	v[sizeof v - 2] = '!';
	v[sizeof v - 1] = 0;
	struct pane_label l1[] = {{"__name__", "up"}, {"job", v}};
	struct pane_label l2[] = {{"__name__", "up"}, {"job", "aaa"}};
	struct pane_labels s1 = {l1, 2, 2, false}, s2 = {l2, 2, 2, false};
	pane_index_add(ix, 1, &s2);
	pane_index_add(ix, 2, &s1);
	struct pane_matcher m[] = {{"__name__", "up", PANE_MATCH_EQ}, {"job", "(a+)+", PANE_MATCH_RE}};
	struct pane_bitmap b;
	struct pane_err err = {0};
	assert_int_equal(pane_index_match(ix, m, 2, &b, &err), PANE_EINVAL);
	assert_non_null(strstr(err.msg, "match limit exceeded"));
	m[1].op = PANE_MATCH_NRE;
	assert_int_equal(pane_index_match(ix, m, 2, &b, &err), PANE_EINVAL);
	/* a harmless pattern still selects */
	struct pane_matcher short_only[] = {{"job", "a{1,3}", PANE_MATCH_RE}};
	assert_int_equal(sel(ix, short_only, 1), B(1));
	pane_index_free(ix);
}

static void names_and_values(void **state)
{
	(void)state;
	struct pane_index *ix = build();
	struct pane_matcher m = {"job", "api", PANE_MATCH_EQ};
	struct pane_bitmap set;
	struct pane_err err = {0};
	assert_int_equal(pane_index_match(ix, &m, 1, &set, &err), 0);
	char **names;
	size_t n;
	pane_index_names(ix, &set, &names, &n);
	assert_int_equal(n, 4);
	assert_string_equal(names[0], "__name__");
	assert_string_equal(names[1], "code");
	assert_string_equal(names[2], "env");
	assert_string_equal(names[3], "job");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	char **vals;
	pane_index_values(ix, "env", &set, &vals, &n);
	assert_int_equal(n, 2);
	assert_string_equal(vals[0], "dev");
	assert_string_equal(vals[1], "prod");
	for (size_t i = 0; i < n; i++)
		free(vals[i]);
	free(vals);
	pane_index_values(ix, "missing", &set, &vals, &n);
	assert_int_equal(n, 0);
	free(vals);
	pane_bitmap_release(&set);
	pane_index_free(ix);
}

static void many_series_bitmap_edges(void **state)
{
	(void)state;
	struct pane_index *ix = pane_index_new();
	char val[16];
	for (uint32_t i = 1; i <= 200; i++) {
		snprintf(val, sizeof val, "%u", i % 3);
		struct pane_label l[] = {{"__name__", "m"}, {"r", val}};
		struct pane_labels ls = {l, 2, 2, false};
		pane_index_add(ix, i, &ls);
	}
	assert_int_equal(pane_index_limit(ix), 201);
	struct pane_matcher m = {"r", "0", PANE_MATCH_EQ};
	struct pane_bitmap b;
	struct pane_err err = {0};
	assert_int_equal(pane_index_match(ix, &m, 1, &b, &err), 0);
	size_t cnt = 0;
	for (int64_t i = pane_bitmap_next(&b, 0); i >= 0; i = pane_bitmap_next(&b, (uint32_t)i + 1)) {
		assert_int_equal(i % 3, 0);
		cnt++;
	}
	assert_int_equal(cnt, 66);
	assert_false(pane_bitmap_has(&b, 0));
	assert_false(pane_bitmap_has(&b, 100000));
	pane_bitmap_release(&b);
	pane_index_free(ix);
}

/* Pairs of one series keep the id inline; the second series turns them into
 * a list. Matching, names and values give the same answers either way. */
static void single_series_pairs(void **state)
{
	(void)state;
	struct pane_index *ix = pane_index_new();
	char inst[2000][16], grp[2000][16];
	for (uint32_t id = 1; id < 2000; id++) {
		snprintf(inst[id], sizeof inst[id], "h%u", id);
		/* group g3 has 3 series, g7 7 series..., others one (id 1000+) */
		snprintf(grp[id], sizeof grp[id], "g%u", id < 1000 ? id % 10 : id);
		struct pane_label l[] = {{"__name__", "m"}, {"grp", grp[id]}, {"inst", inst[id]}};
		struct pane_labels ls = {l, 3, 3, false};
		pane_index_add(ix, id, &ls);
	}
	for (uint32_t id = 1; id < 2000; id += 37) {
		struct pane_matcher m = {"inst", inst[id], PANE_MATCH_EQ};
		struct pane_bitmap b;
		struct pane_err err = {0};
		assert_int_equal(pane_index_match(ix, &m, 1, &b, &err), 0);
		assert_int_equal(pane_bitmap_next(&b, 0), id);
		assert_int_equal(pane_bitmap_next(&b, id + 1), -1);
		/* the complement: every other series */
		struct pane_matcher ne = {"inst", inst[id], PANE_MATCH_NE};
		struct pane_bitmap c;
		assert_int_equal(pane_index_match(ix, &ne, 1, &c, &err), 0);
		size_t cnt = 0;
		for (int64_t i = pane_bitmap_next(&c, 0); i >= 0; i = pane_bitmap_next(&c, (uint32_t)i + 1))
			cnt++;
		assert_int_equal(cnt, 1998);
		char **vals;
		size_t n;
		pane_index_values(ix, "grp", &b, &vals, &n);
		assert_int_equal(n, 1);
		assert_string_equal(vals[0], grp[id]);
		free(vals[0]);
		free(vals);
		pane_bitmap_release(&b);
		pane_bitmap_release(&c);
	}
	struct pane_matcher g3 = {"grp", "g3", PANE_MATCH_EQ};
	struct pane_bitmap b;
	struct pane_err err = {0};
	assert_int_equal(pane_index_match(ix, &g3, 1, &b, &err), 0);
	size_t cnt = 0;
	for (int64_t i = pane_bitmap_next(&b, 0); i >= 0; i = pane_bitmap_next(&b, (uint32_t)i + 1)) {
		assert_int_equal(i % 10, 3);
		cnt++;
	}
	assert_int_equal(cnt, 100);
	pane_bitmap_release(&b);
	struct pane_matcher re = {"grp", "g1[0-9]{3}", PANE_MATCH_RE}; /* the single-series groups g1000..g1999 */
	assert_int_equal(pane_index_match(ix, &re, 1, &b, &err), 0);
	cnt = 0;
	for (int64_t i = pane_bitmap_next(&b, 0); i >= 0; i = pane_bitmap_next(&b, (uint32_t)i + 1))
		cnt++;
	assert_int_equal(cnt, 1000);
	pane_bitmap_release(&b);
	pane_index_free(ix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(matchers),
	    cmocka_unit_test(regex_limits_on_selection),
	    cmocka_unit_test(names_and_values),
	    cmocka_unit_test(single_series_pairs),
	    cmocka_unit_test(many_series_bitmap_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
