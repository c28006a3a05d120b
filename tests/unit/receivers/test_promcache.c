/* test_promcache.c - the series cache (promcache.h) and the parser with it
 * (pane_promtext_parse_cached): whatever the input, a cached parse delivers
 * and reports exactly what a parse without the cache does, entries are
 * found only by their whole text, refs stay with their series, and memory
 * stays within the bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "receivers/promcache.h"
#include "receivers/promtext.h"

/* A transcript of what a parse delivered: one line per sample. */
static void transcribe(struct pane_buf *b, const struct pane_sample *s)
{
	uint64_t bits;
	memcpy(&bits, &s->value, 8);
	pane_buf_addf(b, "%s", s->name);
	for (size_t k = 0; k < s->labels->n; k++)
		pane_buf_addf(b, "|%s=%s", s->labels->v[k].name, s->labels->v[k].value);
	pane_buf_addf(b, " %lld %016llx\n", (long long)s->ts_ms, (unsigned long long)bits);
}

static int plain_fn(void *arg, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	(void)err;
	for (size_t i = 0; i < n; i++)
		transcribe(arg, &s[i]);
	return 0;
}

/* The ref a series gets in these tests: a hash of its transcript (name and
 * labels), so a ref read back from another series' entry is noticed. */
static uint64_t ref_of(const struct pane_sample *s)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = s->name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	for (size_t k = 0; k < s->labels->n; k++) {
		for (const char *p = s->labels->v[k].name; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
		for (const char *p = s->labels->v[k].value; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ 0xfe) * 1099511628211ull;
	}
	return h | 1;
}

struct cached_run {
	struct pane_buf out;
	size_t from_cache; /* samples that had an entry */
	size_t ref_reads;  /* entries whose ref was set already */
};

static int cached_fn(void *arg, const struct pane_sample *s, struct pane_promcache_entry *const *e, size_t n,
                     struct pane_err *err)
{
	(void)err;
	struct cached_run *r = arg;
	for (size_t i = 0; i < n; i++) {
		transcribe(&r->out, &s[i]);
		if (!e[i])
			continue;
		r->from_cache++;
		assert_ptr_equal(s[i].name, e[i]->name);
		assert_ptr_equal(s[i].labels, &e[i]->labels);
		if (e[i]->ref) {
			r->ref_reads++;
			assert_true(e[i]->ref == ref_of(&s[i]));
		} else {
			e[i]->ref = ref_of(&s[i]);
		}
	}
	return 0;
}

/* Parses text without and with cache c (twice, so the second finds every
 * cacheable series text cached) and asserts the same samples and the same
 * report. Returns the samples of the second cached parse that came from
 * the cache. */
static size_t same_with_cache(const char *text, size_t len, const struct pane_promtext_opts *o,
                              struct pane_promcache *c)
{
	struct pane_buf want;
	pane_buf_init(&want, PANE_BUF_NOLIMIT);
	struct pane_promtext_result rw, rc;
	assert_int_equal(pane_promtext_parse(text, len, o, plain_fn, &want, &rw, NULL), 0);
	size_t from_cache = 0;
	for (int pass = 0; pass < 2; pass++) {
		struct cached_run r = {0};
		pane_buf_init(&r.out, PANE_BUF_NOLIMIT);
		assert_int_equal(pane_promtext_parse_cached(text, len, o, c, cached_fn, &r, &rc, NULL), 0);
		if (r.out.len != want.len || memcmp(r.out.data, want.data, want.len) != 0)
			fail_msg("pass %d: cached parse delivered\n%.*s\nwithout the cache\n%.*s", pass, (int)r.out.len,
			         r.out.data, (int)want.len, want.data);
		assert_int_equal(rc.samples, rw.samples);
		assert_int_equal(rc.bad_lines, rw.bad_lines);
		assert_int_equal(rc.line, rw.line);
		assert_string_equal(rc.first_error, rw.first_error);
		from_cache = r.from_cache;
		pane_buf_release(&r.out);
	}
	pane_buf_release(&want);
	return from_cache;
}

static size_t same_with_cache_s(const char *text, const struct pane_promtext_opts *o, struct pane_promcache *c)
{
	return same_with_cache(text, strlen(text), o, c);
}

/* Series texts that are prefixes of one another, spaces before the label
 * set, escapes that hide '}' '"' ',' and spaces in values, names given as
 * __name__, bad lines after a cached series text. */
static const char *hostile = "foo 1 1000\n"
                             "foo_bar 2 1000\n"
                             "foo 3 2000\n"
                             "foo{a=\"b\"} 4 1000\n"
                             "foo {a=\"b\"} 5 1000\n"
                             "foo\t{a=\"b\"}\t6\t1000\n"
                             "foo{a=\"b\"}7 1000\n"
                             "foo{a=\"b\"} 8 1000\n"
                             "foo{a=\"b\",} 9 1000\n"
                             "foo{a=\"b\"}\n"
                             "foo{a=\"b\"} x\n"
                             "foo{a=\"b\"} 10 nope\n"
                             "foo{a=\"b\"} 11 1000 junk\n"
                             "foo{a=\"b\"} 12 1000 # {trace=\"x\"} 1\n"
                             "foo{a=\"b\"} 13 1000\r\n"
                             "foo{a=\"}\"} 14 1000\n"
                             "foo{a=\"} 1 2\"} 15 1000\n"
                             "foo{a=\"x\\\"} 16\"} 17 1000\n"
                             "foo{a=\"x\\\\\"} 18 1000\n"
                             "foo{a=\"x\\\\\",b=\"\\n\"} 19 1000\n"
                             "foo{a=\"x\\q\"} 20 1000\n"
                             "foo{a=\"x\\q\"} 20 1000\n"
                             "foo{a=\"\"} 21 1000\n"
                             "foo{a=\"\",b=\"c\"} 22 1000\n"
                             "foo{b=\"c\",a=\"d\"} 23 1000\n"
                             "foo{a=\"d\",b=\"c\"} 24 1000\n"
                             "foo{a=\"1\",a=\"2\"} 25 1000\n"
                             "foo{a=\"1\",a=\"2\"} 25 1000\n"
                             "foo{a=\"1\",a=\"2\"} bad\n"
                             "{__name__=\"foo\",a=\"b\"} 26 1000\n"
                             "{__name__=\"foo\",a=\"b\"} 27 1000\n"
                             "{a=\"b\"} 28 1000\n"
                             "{__name__=\"foo\",__name__=\"bar\"} 29 1000\n"
                             "foo{a=\"b\" 30 1000\n"
                             "foo{a=\"b\" 30 1000\n"
                             "foo{a=\"b\\\n"
                             "foo{a=\"unterminated} 31\n"
                             "  foo{a=\"b\"}   32   1000  \n"
                             "foo{a=\"b\"} NaN 1000\n"
                             "foo{a=\"b\"} -Inf\n"
                             "foo{a=\"b\"} 1.5e3 1000\n"
                             "foo{a=\"b\"} 0x1p3 1000\n"
                             "foo{a=\"b\"} 1e400 1000\n"
                             "foo{a=\"b\"} +17 -5\n"
                             "foo{a=\"b\"} 18 9223372036854775808\n"
                             "foo:bar{a=\"b\"} 33 1000\n"
                             "foo{a=\"b\"}{c=\"d\"} 34 1000\n"
                             "foo{a=\"\xff\"} 35 1000\n"
                             "foo{a=\"b\"} 36 1000\n"
                             "1foo 37 1000\n"
                             "foo{1a=\"b\"} 38 1000\n"
                             "foo{a=\"b\"} 39";

static void same_samples_and_errors(void **state)
{
	(void)state;
	struct pane_promcache *c = pane_promcache_new(1u << 20);
	struct pane_promtext_opts o = {.default_ts_ms = 42};
	size_t hits = same_with_cache_s(hostile, &o, c);
	assert_true(hits > 20);
	/* the same cache with other labels around it: emptied, same answers */
	struct pane_labels extra, defaults;
	pane_labels_init(&extra);
	pane_labels_init(&defaults);
	pane_labels_set(&extra, "a", "forced");
	pane_labels_set(&defaults, "env", "prod");
	pane_labels_set(&defaults, "b", "dflt");
	struct pane_promtext_opts o2 = {.default_ts_ms = 42, .extra = &extra, .defaults = &defaults};
	same_with_cache_s(hostile, &o2, c);
	o2.honor_labels = true;
	same_with_cache_s(hostile, &o2, c);
	/* the same pointers with other contents are another context too */
	pane_labels_set(&defaults, "env", "dev");
	same_with_cache_s(hostile, &o2, c);
	same_with_cache_s(hostile, &o, c);
	/* OpenMetrics timestamps (seconds) after cached series */
	struct pane_promtext_opts om = {.openmetrics = true};
	same_with_cache_s("foo{a=\"b\"} 1 1.5\nfoo{a=\"b\"} 2 NaN\nfoo{a=\"b\"} 3 17\n# EOF\nfoo{a=\"b\"} 4 18\n", &om,
	                  c);
	pane_labels_release(&extra);
	pane_labels_release(&defaults);
	pane_promcache_free(c);
}

/* Every line of a long input alone, then with each prefix cut off, with
 * one cache: whatever was cached from earlier texts never changes what a
 * later text means. */
static void every_cut(void **state)
{
	(void)state;
	struct pane_promcache *c = pane_promcache_new(1u << 20);
	struct pane_promtext_opts o = {.default_ts_ms = 7};
	size_t len = strlen(hostile);
	for (size_t cut = 0; cut < len; cut += 3) {
		same_with_cache(hostile + cut, len - cut, &o, c);
		same_with_cache(hostile, len - cut, &o, c);
	}
	pane_promcache_free(c);
}

/* Lines too long to cache, too long to parse; a series text of exactly the
 * longest cached length and one byte more. */
static void long_lines(void **state)
{
	(void)state;
	struct pane_promcache *c = pane_promcache_new(1u << 20);
	struct pane_promtext_opts o = {0};
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	for (size_t want = PANE_PROMCACHE_TEXT_MAX - 1; want <= PANE_PROMCACHE_TEXT_MAX + 1; want++) {
		pane_buf_reset(&b);
		/* m{v="xxx..."}: 7 bytes around the value */
		for (int k = 0; k < 3; k++) {
			pane_buf_add(&b, "m{v=\"", 5);
			for (size_t i = 0; i + 7 < want; i++)
				pane_buf_addc(&b, (char)('a' + (i + (size_t)k) % 26 * (i % 7 == 0)));
			pane_buf_addf(&b, "\"} %d 1000\n", k);
		}
		struct pane_promcache_stats st0, st1;
		pane_promcache_get_stats(c, &st0);
		size_t hits = same_with_cache(b.data, b.len, &o, c);
		pane_promcache_get_stats(c, &st1);
		if (want <= PANE_PROMCACHE_TEXT_MAX)
			assert_true(hits == 3 && st1.puts > st0.puts);
		else
			assert_true(hits == 0 && st1.puts == st0.puts);
	}
	/* a label value over the bound, a line over the parser's limit */
	pane_buf_reset(&b);
	pane_buf_add(&b, "m{v=\"", 5);
	for (size_t i = 0; i < PANE_LABEL_VALUE_MAX + 10; i++)
		pane_buf_addc(&b, 'x');
	pane_buf_add(&b, "\"} 1 1\nm{v=\"y\"} 2 2\n", 20);
	same_with_cache(b.data, b.len, &o, c);
	pane_buf_reset(&b);
	pane_buf_add(&b, "m{v=\"y\"} 2 2\nm{v=\"y\"} 1 1", 24);
	for (size_t i = 0; i < (600u << 10); i++)
		pane_buf_addc(&b, ' ');
	pane_buf_add(&b, "\nm{v=\"y\"} 3 3\n", 14);
	same_with_cache(b.data, b.len, &o, c);
	pane_buf_release(&b);
	pane_promcache_free(c);
}

/* Texts that mean the same series are separate entries, each with the
 * series' ref; texts that differ only past a prefix are never confused;
 * many entries of one shape all come back as themselves. */
/* count texts x{i="0"} ... of one shape put (ref i + 1), then each found
 * as itself (probing, table growth, collisions) */
static void put_and_find(struct pane_promcache *c, int count)
{
	char t[64];
	for (int i = 0; i < count; i++) {
		int n = snprintf(t, sizeof t, "x{i=\"%d\"}", i);
		struct pane_label li = {"i", t + 5};
		struct pane_promcache_entry *e = pane_promcache_put(c, t, (size_t)n, "x", &li, 1);
		assert_non_null(e);
		e->ref = (uint64_t)i + 1;
	}
	for (int i = 0; i < count; i++) {
		int n = snprintf(t, sizeof t, "x{i=\"%d\"}", i);
		struct pane_promcache_entry *e = pane_promcache_get(c, t, (size_t)n);
		assert_non_null(e);
		assert_int_equal(e->ref, (uint64_t)i + 1);
		assert_memory_equal(e->text, t, (size_t)n);
	}
}

static void whole_text_decides(void **state)
{
	(void)state;
	struct pane_promcache *c = pane_promcache_new(64u << 20);
	struct pane_label l[2] = {{"a", "1"}, {"b", "2"}};
	struct pane_promcache_entry *e1 = pane_promcache_put(c, "m{a=\"1\",b=\"2\"}", 14, "m", l, 2);
	struct pane_promcache_entry *e2 = pane_promcache_put(c, "m{b=\"2\",a=\"1\"}", 14, "m", l, 2);
	assert_non_null(e1);
	assert_non_null(e2);
	assert_ptr_not_equal(e1, e2);
	e1->ref = 11;
	e2->ref = 22;
	assert_ptr_equal(pane_promcache_get(c, "m{a=\"1\",b=\"2\"}", 14), e1);
	assert_ptr_equal(pane_promcache_get(c, "m{b=\"2\",a=\"1\"}", 14), e2);
	assert_null(pane_promcache_get(c, "m{a=\"1\",b=\"2\"}", 13));
	assert_null(pane_promcache_get(c, "m{a=\"1\",b=\"2\"} ", 15));
	assert_null(pane_promcache_get(c, "m{a=\"1\",b=\"3\"}", 14));
	assert_string_equal(e2->labels.v[0].name, "a");
	assert_string_equal(e2->labels.v[1].value, "2");
	/* 100,000 texts of one shape (probing, table growth) */
	put_and_find(c, 100000);
	assert_ptr_equal(pane_promcache_get(c, "m{a=\"1\",b=\"2\"}", 14), e1);
	struct pane_promcache_stats st;
	pane_promcache_get_stats(c, &st);
	assert_int_equal(st.entries, 100002);
	assert_true(st.bytes <= (64u << 20));
	pane_promcache_free(c);
}

/* Every text colliding with every other: still each found as itself only,
 * and parses with the cache still deliver what parses without it do. */
static void collisions(void **state)
{
	(void)state;
	pane_promcache_hash_mask = 0;
	struct pane_promcache *c = pane_promcache_new(8u << 20);
	put_and_find(c, 2000);
	assert_null(pane_promcache_get(c, "x{i=\"2000\"}", 11));
	assert_null(pane_promcache_get(c, "x{i=\"1\"", 7));
	pane_promcache_free(c);
	c = pane_promcache_new(1u << 20);
	struct pane_promtext_opts o = {.default_ts_ms = 42};
	assert_true(same_with_cache_s(hostile, &o, c) > 20);
	pane_promcache_free(c);
	pane_promcache_hash_mask = UINT64_MAX;
}

/* A series text with escapes (a quote, '}' and a blank inside a value) is
 * cached like any other. */
static void escapes_cached(void **state)
{
	(void)state;
	struct pane_promcache *c = pane_promcache_new(1u << 20);
	struct pane_promtext_opts o = {0};
	assert_int_equal(
	    same_with_cache_s("e{a=\"x\\\"} y\",b=\"\\\\\"} 1 1\ne{a=\"x\\\"} y\",b=\"\\\\\"} 2 2\n", &o, c), 2);
	pane_promcache_free(c);
}

/* Refs set by a consumer come back on later parses, for the right series. */
static void refs_across_parses(void **state)
{
	(void)state;
	struct pane_promcache *c = pane_promcache_new(1u << 20);
	struct pane_promtext_opts o = {0};
	const char *day = "a{x=\"1\"} 1 1\nb 2 1\na{x=\"2\"} 3 1\na{x=\"1\"} 4 2\nb 5 2\n";
	struct cached_run r = {0};
	pane_buf_init(&r.out, PANE_BUF_NOLIMIT);
	struct pane_promtext_result res;
	for (int i = 0; i < 3; i++)
		assert_int_equal(pane_promtext_parse_cached(day, strlen(day), &o, c, cached_fn, &r, &res, NULL), 0);
	assert_int_equal(r.from_cache, 15);
	assert_int_equal(r.ref_reads, 12); /* all but the first sample of each of the 3 series */
	pane_buf_release(&r.out);
	pane_promcache_free(c);
}

/* The bound: entries past it are refused and memory stays under it; a full
 * cache that answers is emptied between batches, one that does not stops
 * taking entries. */
static void bounded(void **state)
{
	(void)state;
	size_t max = 256u << 10;
	struct pane_promcache *c = pane_promcache_new(max);
	struct pane_promtext_opts o = {0};
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	/* 20,000 series, each once: no hits, so the full cache stops growing */
	for (int i = 0; i < 20000; i++)
		pane_buf_addf(&b, "series_%d{instance=\"host-%d:9100\",job=\"node\"} %d 1000\n", i, i, i);
	same_with_cache(b.data, b.len, &o, c);
	struct pane_promcache_stats st;
	pane_promcache_get_stats(c, &st);
	assert_true(st.bytes <= max);
	assert_true(st.refused > 0);
	size_t frozen_entries = st.entries;
	assert_true(frozen_entries > 100);
	/* series that repeat, more of them than fit: the cache answers, fills,
	 * is emptied at a batch end and fills again */
	struct pane_promcache *c2 = pane_promcache_new(max);
	pane_buf_reset(&b);
	for (int i = 0; i < 4000; i++)
		for (int rep = 0; rep < 20; rep++)
			pane_buf_addf(&b, "other_%d{k=\"%d\"} %d %d\n", i, i, rep, 1000 + rep);
	same_with_cache(b.data, b.len, &o, c2);
	pane_promcache_get_stats(c2, &st);
	assert_true(st.bytes <= max);
	assert_true(st.clears > 0);
	assert_true(st.hits > st.puts);
	pane_promcache_free(c2);
	pane_buf_release(&b);
	pane_promcache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(same_samples_and_errors), cmocka_unit_test(every_cut),  cmocka_unit_test(long_lines),
	    cmocka_unit_test(whole_text_decides),      cmocka_unit_test(collisions), cmocka_unit_test(escapes_cached),
	    cmocka_unit_test(refs_across_parses),      cmocka_unit_test(bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
