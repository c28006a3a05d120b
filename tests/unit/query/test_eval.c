/* test_eval.c - evaluator behaviour the Prometheus corpus cannot express:
 * stale markers, the max-samples limit, the timeout, the points limit, the
 * JSON number and timestamp formats, sorts that stay sorts with thousands of
 * ties, and memory released on every path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "memreader.h"
#include "query/ast.h"
#include "query/query.h"
#include "query/eval_internal.h"

static struct pt_memdb *db;

static int setup(void **state)
{
	(void)state;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	/* g: a sample every 10 s from 0 to 100 s, then a stale marker at 105 s, back at 400 s */
	for (int t = 0; t <= 100; t += 10)
		pane_buf_addf(&b, "g{a=\"1\"} %d %d\n", t, t);
	pane_buf_adds(&b, "g{a=\"1\"} stale 105\n");
	pane_buf_adds(&b, "g{a=\"1\"} 7 400\n");
	/* h: no stale marker, just stops at 100 s */
	for (int t = 0; t <= 100; t += 10)
		pane_buf_addf(&b, "h{a=\"1\"} %d %d\n", t, t);
	for (int t = 0; t < 3600; t += 1)
		pane_buf_addf(&b, "big{a=\"1\"} %d %d\n", t, t);
	/* many: 3000 series, few distinct values (ties, NaN, +-Inf), some runs
	 * ascending or descending, so Go's pdqsort takes every path */
	static const char *const mv[] = {"NaN", "-Inf", "0", "1", "+Inf", "1", "0", "2.5", "-3"};
	for (int i = 0; i < 3000; i++)
		pane_buf_addf(&b, "many{i=\"%04d\"} %s 0\n", i,
		              i < 600    ? mv[(i * 7 + i / 13) % 9]
		              : i < 1200 ? "5"
		              : i < 1800 ? (i % 2 ? "1" : "2")
		                         : mv[i % 9]);
	pane_buf_adds(&b, "lv{v=\"");
	for (int i = 0; i < 3000; i++)
		pane_buf_addc(&b, 'a');
	pane_buf_adds(&b, "!\"} 1 0\n");
	struct pane_err err = {0};
	db = pt_memdb_parse(b.data, &err);
	pane_buf_release(&b);
	assert_non_null(db);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pt_memdb_free(db);
	return 0;
}

static size_t instant_n(const char *q, int64_t t_ms, double *v)
{
	struct pane_query_result r;
	struct pane_err err = {0};
	int rc = pane_query_exec(pt_memdb_reader(db), NULL, q, t_ms, t_ms, 0, &r, NULL, &err);
	if (rc != 0)
		fail_msg("%s: %s", q, err.msg);
	size_t n = r.n;
	if (v && r.type == PANE_QT_VECTOR && n)
		*v = r.series[0].values[0];
	pane_query_result_release(&r);
	return n;
}

/* v[0..n) in order for sort() (asc) or sort_desc(): NaN last either way */
static bool in_order(const double *v, size_t n, bool asc)
{
	for (size_t i = 1; i < n; i++) {
		if (isnan(v[i]))
			continue;
		if (isnan(v[i - 1]) || (asc ? v[i - 1] > v[i] : v[i - 1] < v[i]))
			return false;
	}
	return true;
}

/* sort(), sort_desc(), topk and bottomk keep every series and order them,
 * whatever the ties (their order against Prometheus is in the corpus). */
static void test_sorts_are_sorts(void **state)
{
	(void)state;
	static const struct {
		const char *q;
		size_t n;
		bool asc;
	} cases[] = {
	    {"sort(many)", 3000, true},
	    {"sort_desc(many)", 3000, false},
	    {"sort_desc(many{i=~\"0[0-5].*\"})", 600, false},
	    {"sort(many{i=~\"0[0-5].*\"})", 600, true},
	    {"topk(2500, many)", 2500, false},
	    {"bottomk(40, many)", 40, true},
	    {"topk(13, many)", 13, false},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct pane_query_result r;
		struct pane_err err = {0};
		if (pane_query_exec(pt_memdb_reader(db), NULL, cases[c].q, 0, 0, 0, &r, NULL, &err) != 0)
			fail_msg("%s: %s", cases[c].q, err.msg);
		assert_int_equal(r.n, cases[c].n);
		double *v = malloc(r.n * sizeof *v);
		char *seen = calloc(3000, 1);
		for (size_t i = 0; i < r.n; i++) {
			v[i] = r.series[i].values[0];
			int id = (int)strtol(pane_labels_get(&r.series[i].labels, "i"), NULL, 10);
			assert_false(seen[id]); /* a permutation: no series twice */
			seen[id] = 1;
		}
		if (!in_order(v, r.n, cases[c].asc))
			fail_msg("%s: not in order", cases[c].q);
		free(v);
		free(seen);
		pane_query_result_release(&r);
	}
}

static void test_staleness(void **state)
{
	(void)state;
	double v;
	assert_int_equal(instant_n("g", 100000, &v), 1);
	assert_true(v == 100);
	/* right after the stale marker g is gone, while h stays for the lookback */
	assert_int_equal(instant_n("g", 106000, NULL), 0);
	assert_int_equal(instant_n("h", 106000, NULL), 1);
	assert_int_equal(instant_n("h", 400000, NULL), 1); /* 100 s + 5 m lookback, inclusive */
	assert_int_equal(instant_n("h", 400001, NULL), 0);
	assert_int_equal(instant_n("g", 400000, &v), 1);
	assert_true(v == 7);
	/* range functions skip the marker */
	assert_int_equal(instant_n("count_over_time(g[1m])", 130000, &v), 1);
	assert_true(v == 4); /* 70, 80, 90, 100: both ends inclusive */
	/* a custom lookback */
	struct pane_query_result r;
	struct pane_err err = {0};
	struct pane_query_opts o = {.lookback_ms = 30000};
	assert_int_equal(pane_query_exec(pt_memdb_reader(db), &o, "h", 131000, 131000, 0, &r, NULL, &err), 0);
	assert_int_equal(r.n, 0);
	pane_query_result_release(&r);
}

static void test_limits(void **state)
{
	(void)state;
	struct pane_query_result r;
	struct pane_err err = {0};
	enum pane_query_errclass cls;
	struct pane_query_opts o = {.max_samples = 1000};
	int rc =
	    pane_query_exec(pt_memdb_reader(db), &o, "sum_over_time(big[1h])", 3600000, 3600000, 0, &r, &cls, &err);
	assert_int_equal(rc, PANE_ETOOBIG);
	assert_int_equal(cls, PANE_QERR_EXECUTION);
	assert_non_null(strstr(err.msg, "too many samples"));
	/* output points count too */
	rc = pane_query_exec(pt_memdb_reader(db), &o, "vector(1)", 0, 3600000, 1000, &r, &cls, &err);
	assert_int_equal(rc, PANE_ETOOBIG);
	/* a subquery that would make more points than allowed fails before it starts */
	rc = pane_query_exec(pt_memdb_reader(db), &o, "max_over_time(vector(1)[1y:1ms])", 0, 0, 0, &r, &cls, &err);
	assert_int_equal(rc, PANE_ETOOBIG);
	rc = pane_query_exec(pt_memdb_reader(db), &o, "max_over_time(big[1h:1s])", 3600000, 3600000, 0, &r, &cls, &err);
	assert_int_equal(rc, PANE_ETOOBIG);
	/* more than 11,000 points per series */
	rc = pane_query_exec(pt_memdb_reader(db), NULL, "1", 0, 11001000, 1000, &r, &cls, &err);
	assert_int_equal(cls, PANE_QERR_BAD_DATA);
	assert_non_null(strstr(err.msg, "11,000"));
	rc = pane_query_exec(pt_memdb_reader(db), NULL, "1", 0, 11000000, 1000, &r, &cls, &err);
	assert_int_equal(rc, 0);
	assert_int_equal(r.series[0].n, 11001);
	pane_query_result_release(&r);
	/* timeout */
	o = (struct pane_query_opts){.timeout_ms = 1};
	rc = pane_query_exec(pt_memdb_reader(db), &o, "max_over_time(sum_over_time(big[10m])[1h:1s])", 0, 3600000,
	                     10000, &r, &cls, &err);
	assert_int_equal(rc, PANE_ETIMEDOUT);
	assert_int_equal(cls, PANE_QERR_TIMEOUT);
	assert_string_equal(err.msg, "query timed out in expression evaluation");
	/* absurd timestamps are refused, not overflowed */
	rc = pane_query_exec(pt_memdb_reader(db), NULL, "x offset 290y", INT64_MAX - 5, INT64_MAX - 5, 0, &r, &cls,
	                     &err);
	assert_int_equal(cls, PANE_QERR_BAD_DATA);
	rc = pane_query_exec(pt_memdb_reader(db), NULL, "rate(big[290y] offset -290y)", 0, 0, 0, &r, &cls, &err);
	assert_int_equal(rc, 0);
	pane_query_result_release(&r);
	/* a catastrophic regex in label_replace stops at PCRE2's match limit: an
	 * execution error, nothing leaked (ASan run) */
	rc = pane_query_exec(pt_memdb_reader(db), NULL, "label_replace(lv, \"x\", \"y\", \"v\", \"(a+)+\")", 0, 0, 0,
	                     &r, &cls, &err);
	assert_true(rc < 0);
	assert_int_equal(cls, PANE_QERR_EXECUTION);
	assert_non_null(strstr(err.msg, "match limit"));
	/* and in a selector (the reader reports it) */
	rc = pane_query_exec(pt_memdb_reader(db), NULL, "lv{v=~\"(a+)+\"}", 0, 0, 0, &r, &cls, &err);
	assert_true(rc < 0);
	/* a timeout inside a subquery inside label_join unwinds cleanly */
	o = (struct pane_query_opts){.timeout_ms = 1};
	rc = pane_query_exec(pt_memdb_reader(db), &o,
	                     "label_join(max_over_time(sum_over_time(big[10m])[1h:1s]), \"d\", \",\", \"a\")", 0,
	                     3600000, 10000, &r, &cls, &err);
	assert_int_equal(rc, PANE_ETIMEDOUT);
	/* execution error class */
	rc = pane_query_exec(pt_memdb_reader(db), NULL, "label_replace({a=\"1\"}, \"__name__\", \"x\", \"\", \"\")",
	                     50000, 50000, 0, &r, &cls, &err);
	assert_int_equal(cls, PANE_QERR_EXECUTION);
}

static void test_range_alignment(void **state)
{
	(void)state;
	struct pane_query_result r;
	struct pane_err err = {0};
	assert_int_equal(pane_query_exec(pt_memdb_reader(db), NULL, "h", 5000, 65000, 20000, &r, NULL, &err), 0);
	assert_int_equal(r.type, PANE_QT_MATRIX);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.series[0].n, 4);
	assert_int_equal(r.series[0].ts[1], 25000);
	assert_true(r.series[0].values[1] == 20);
	pane_query_result_release(&r);
	/* an instant range selector returns the raw samples */
	assert_int_equal(pane_query_exec(pt_memdb_reader(db), NULL, "h[25s]", 100000, 100000, 0, &r, NULL, &err), 0);
	assert_int_equal(r.type, PANE_QT_MATRIX);
	assert_int_equal(r.series[0].n, 3);
	assert_int_equal(r.series[0].ts[0], 80000);
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_query_result_json(&r, &b);
	assert_string_equal(b.data,
	                    "{\"resultType\":\"matrix\",\"result\":[{\"metric\":{\"__name__\":\"h\",\"a\":\"1\"},"
	                    "\"values\":[[80,\"80\"],[90,\"90\"],[100,\"100\"]]}]}");
	pane_buf_release(&b);
	pane_query_result_release(&r);
}

static void test_formats(void **state)
{
	(void)state;
	char s[64];
	struct {
		double v;
		const char *want;
	} f[] = {
	    {1, "1"},
	    {0.1, "0.1"},
	    {-2.5, "-2.5"},
	    {1e21, "1000000000000000000000"},
	    {1e-7, "0.0000001"},
	    {123456789.125, "123456789.125"},
	    {NAN, "NaN"},
	    {INFINITY, "+Inf"},
	    {-INFINITY, "-Inf"},
	    {0.30000000000000004, "0.30000000000000004"},
	    {5e-324, NULL},
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		pane_query_fmt_float(f[i].v, s, sizeof s);
		if (f[i].want)
			assert_string_equal(s, f[i].want);
		else
			assert_true(strtod(s, NULL) == f[i].v || strlen(s) >= sizeof s - 1);
	}
	pane_query_fmt_ts(1700000000000, s, sizeof s);
	assert_string_equal(s, "1700000000");
	pane_query_fmt_ts(1700000000500, s, sizeof s);
	assert_string_equal(s, "1700000000.5");
	pane_query_fmt_ts(1700000000012, s, sizeof s);
	assert_string_equal(s, "1700000000.012");
	pane_query_fmt_ts(-1500, s, sizeof s);
	assert_string_equal(s, "-1.5");
}

/* A range query's every point is the instant query at that step: range
 * functions over a plain selector are computed for all steps at once
 * (functions.c, memo_fill), series by series, and must give the same bits
 * as one step at a time, with stale markers, resets, NaN, gaps, offsets. */
static void test_range_equals_instants(void **state)
{
	(void)state;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	for (int t = 0; t <= 1800; t += 15) {
		pane_buf_addf(&b, "c{k=\"a\"} %d %d\n", t < 600 ? t * 3 : (t - 600) / 2, t);
		if (t % 450 != 0)
			pane_buf_addf(&b, "c{k=\"b\"} %.3f %d\n", t * 0.7 + (t % 7) * 0.013, t);
		if (t == 300)
			pane_buf_addf(&b, "c{k=\"b\"} stale %d\n", t + 1);
		pane_buf_addf(&b, "d{k=\"x\"} %s %d\n", t == 900 ? "NaN" : t == 1200 ? "+Inf" : "1.1", t);
		pane_buf_addf(&b, "d{k=\"y\"} %.17g %d\n", 1.0 / (t + 3), t);
	}
	struct pane_err err = {0};
	struct pt_memdb *mdb = pt_memdb_parse(b.data, &err);
	pane_buf_release(&b);
	assert_non_null(mdb);
	static const char *fns[] = {"rate",
	                            "increase",
	                            "delta",
	                            "irate",
	                            "idelta",
	                            "deriv",
	                            "avg_over_time",
	                            "sum_over_time",
	                            "count_over_time",
	                            "min_over_time",
	                            "max_over_time",
	                            "stddev_over_time",
	                            "stdvar_over_time",
	                            "last_over_time",
	                            "present_over_time",
	                            "changes",
	                            "resets"};
	static const char *args[] = {"c[1m]", "c[5m]", "(d[2m])", "d[10m] offset 3m", "c{k=\"b\"}[45s]"};
	/* instant selectors find every step's samples at once (eval.c, vidx),
	 * aggregations remember how the last step grouped (aggregate.c) and
	 * binary operators their result labels (binary.c): the series present
	 * change from step to step here */
	static const char *aggs[] = {"sum by (k) (rate(c[1m]))",
	                             "topk(1, c)",
	                             "bottomk(1, d)",
	                             "quantile(0.5, c)",
	                             "count(c)",
	                             "avg(d)",
	                             "max without (k) (c)",
	                             "stddev(c)",
	                             "group by (k) (d)",
	                             "count_values(\"v\", c)",
	                             "c - ignoring(k) group_left sum(c)",
	                             "c > bool 100",
	                             "c * on(k) c",
	                             "sum by (k) (c) / on(k) group_right c",
	                             "c",
	                             "d offset 1m",
	                             "timestamp(c)",
	                             "c @ 600"};
	size_t nf = sizeof fns / sizeof fns[0], na = sizeof args / sizeof args[0];
	size_t points = 0;
	for (size_t f = 0; f <= nf; f++)
		for (size_t a = 0; a < (f < nf ? na : sizeof aggs / sizeof aggs[0]); a++) {
			char q[128];
			if (f < nf)
				snprintf(q, sizeof q, "%s(%s)", fns[f], args[a]);
			else
				snprintf(q, sizeof q, "%s", aggs[a]);
			struct pane_query_result r;
			if (pane_query_exec(pt_memdb_reader(mdb), NULL, q, 0, 2000000, 7000, &r, NULL, &err) != 0)
				fail_msg("%s: %s", q, err.msg);
			for (size_t i = 0; i < r.n; i++)
				for (size_t j = 0; j < r.series[i].n; j++) {
					struct pane_query_result one;
					int64_t t = r.series[i].ts[j];
					if (pane_query_exec(pt_memdb_reader(mdb), NULL, q, t, t, 0, &one, NULL, &err) !=
					    0)
						fail_msg("%s: %s", q, err.msg);
					bool found = false;
					for (size_t k = 0; k < one.n; k++)
						if (!pane_labels_cmp(&one.series[k].labels, &r.series[i].labels)) {
							double x = one.series[k].values[0], y = r.series[i].values[j];
							if (memcmp(&x, &y, sizeof x) && !(isnan(x) && isnan(y)))
								fail_msg("%s at %lld: %.17g step by step, %.17g", q,
								         (long long)t, x, y);
							found = true;
						}
					if (!found)
						fail_msg("%s at %lld: a point the instant query has not", q,
						         (long long)t);
					pane_query_result_release(&one);
					points++;
				}
			pane_query_result_release(&r);
		}
	assert_true(points > 10000);
	pt_memdb_free(mdb);
}

/* pq_quantile sorts its values in place with a stable merge sort of its own:
 * the same order (bit for bit: -0 and 0, NaN payloads keep their order) as a
 * plain stable insertion sort by Go's Float64s order. */
static bool before_ref(double x, double y)
{
	if (isnan(x))
		return !isnan(y);
	return !isnan(y) && x < y;
}

static void test_quantile_sort(void **state)
{
	(void)state;
	static const double pool[] = {0.0, -0.0, 1, -1, 2.5, INFINITY, -INFINITY, 1e-300, 7, 3};
	uint64_t seed = 42;
	for (size_t n = 0; n < 700; n += 1 + n / 8) {
		for (int rep = 0; rep < 20; rep++) {
			double *v = malloc((n + 1) * sizeof *v), *ref = malloc((n + 1) * sizeof *ref);
			for (size_t i = 0; i < n; i++) {
				seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
				uint64_t r = seed >> 33;
				if (r % 11 == 0) {
					uint64_t nanbits = 0x7ff8000000000000ULL | (r & 0xffff);
					memcpy(&v[i], &nanbits, sizeof v[i]);
				} else {
					v[i] = rep % 2 ? pool[r % 10] : (double)(r % 1000) / 7 - 60;
				}
				/* stable insertion into ref */
				size_t j = i;
				while (j > 0 && before_ref(v[i], ref[j - 1])) {
					ref[j] = ref[j - 1];
					j--;
				}
				ref[j] = v[i];
			}
			pq_quantile(0.5, v, n);
			if (n && memcmp(v, ref, n * sizeof *v))
				fail_msg("n=%zu rep=%d: sorted differently", n, rep);
			free(v);
			free(ref);
		}
	}
}

struct deep {
	const char *q;
	int rc;
	enum pane_query_errclass cls;
	struct pane_err err;
	struct pane_query_result r;
};

static void *deep_run(void *arg)
{
	struct deep *d = arg;
	d->rc = pane_query_exec(pt_memdb_reader(db), NULL, d->q, 50000, 50000, 0, &d->r, &d->cls, &d->err);
	return NULL;
}

/* Runs q on a thread with a stack of stack_kb KiB: the deepest tree the
 * parser accepts must fit in far less than a default 8 MiB thread stack. */
static void deep_exec(struct deep *d, const char *q, size_t stack_kb)
{
	memset(d, 0, sizeof *d);
	d->q = q;
	pthread_attr_t a;
	pthread_attr_init(&a);
	assert_int_equal(pthread_attr_setstacksize(&a, stack_kb * 1024), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, &a, deep_run, d), 0);
	pthread_join(th, NULL);
	pthread_attr_destroy(&a);
}

/* issue 14 item 1: 5,001 terms of + (or and/unless) overflowed the stack in
 * eval_bin -> eval and killed pane serve; now bad_data, and the deepest
 * accepted chain evaluates in a bounded stack */
static void test_deep_chains(void **state)
{
	(void)state;
	static const char *const ops[] = {" + ", " and ", " unless ", " or "};
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	size_t stack_kb = 8192; /* ASan's redzones, TSan's shadow frames: frames several times larger */
#else
	size_t stack_kb = 2048;
#endif
	for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		for (int i = 0; i < PQ_MAX_HEIGHT; i++) {
			if (i)
				pane_buf_adds(&b, ops[k]);
			pane_buf_adds(&b, "g");
		}
		struct deep d;
		deep_exec(&d, b.data, stack_kb);
		if (d.rc != 0)
			fail_msg("%s chain of %d: %s", ops[k], PQ_MAX_HEIGHT, d.err.msg);
		assert_int_equal(d.r.type, PANE_QT_VECTOR);
		assert_int_equal(d.r.n, k == 2 ? 0 : 1);
		if (k == 0)
			assert_true(d.r.series[0].values[0] == 50.0 * PQ_MAX_HEIGHT);
		pane_query_result_release(&d.r);
		for (int i = PQ_MAX_HEIGHT; i < 5001; i++) {
			pane_buf_adds(&b, ops[k]);
			pane_buf_adds(&b, "g");
		}
		deep_exec(&d, b.data, stack_kb);
		assert_int_not_equal(d.rc, 0);
		assert_int_equal(d.cls, PANE_QERR_BAD_DATA);
		assert_non_null(strstr(d.err.msg, "nests too deeply"));
		pane_buf_release(&b);
	}
}

/* issue 14 item 7: memory per query is bounded by max_samples and counted
 * before it is allocated (pane_query_stats.peak_bytes is what the arenas
 * held at most; no RSS or timing involved) */
static void test_memory_bounded(void **state)
{
	(void)state;
	struct pane_query_stats st = {0};
	struct pane_query_opts o = {.max_samples = 100000, .stats = &st};
	struct pane_query_result r;
	enum pane_query_errclass cls;
	struct pane_err err = {0};
	/* a nested subquery that reads nothing: 601 x 601 inner steps used to
	 * pile up on one step arena; now each inner step's scratch is reset */
	int rc = pane_query_exec(pt_memdb_reader(db), &o, "max_over_time(max_over_time(nothing[10m:1s])[10m:1s])",
	                         3600000, 3600000, 0, &r, &cls, &err);
	if (rc != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.n, 0);
	pane_query_result_release(&r);
	if (st.peak_bytes > (1u << 20))
		fail_msg("nested empty subquery held %zu bytes", st.peak_bytes);
	/* 3000 series present at 301 of 3601 subquery steps: 903,000 points
	 * over max_samples 100,000; fails with the limit error, and what it
	 * held stays inside the budget (it allocated 3601 points per series up
	 * front: 173 MB before failing) */
	memset(&st, 0, sizeof st);
	rc = pane_query_exec(pt_memdb_reader(db), &o, "max_over_time(many[1h:1s])", 300000, 300000, 0, &r, &cls, &err);
	assert_int_equal(rc, PANE_ETOOBIG);
	assert_int_equal(cls, PANE_QERR_EXECUTION);
	assert_non_null(strstr(err.msg, "too many samples"));
	if (st.peak_bytes > 100000 * 64 + (8u << 20))
		fail_msg("a failing subquery held %zu bytes", st.peak_bytes);
	/* the same within the limit answers, holding about what it returns */
	o.max_samples = 1000000;
	memset(&st, 0, sizeof st);
	rc = pane_query_exec(pt_memdb_reader(db), &o, "count(max_over_time(many[1h:1s]))", 300000, 300000, 0, &r, &cls,
	                     &err);
	if (rc != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.n, 1);
	assert_true(r.series[0].values[0] == 3000);
	pane_query_result_release(&r);
	if (st.peak_bytes > 3000 * 512 * 16 * 2 + (4u << 20))
		fail_msg("subquery of 903,000 points held %zu bytes", st.peak_bytes);
	/* a tiny max_samples leaves the fixed allowance only: an aggregation
	 * over 3000 series still fits, the limit error is clean */
	o.max_samples = 10;
	rc = pane_query_exec(pt_memdb_reader(db), &o, "count(many)", 0, 0, 0, &r, &cls, &err);
	assert_int_equal(rc, PANE_ETOOBIG);
	assert_int_equal(cls, PANE_QERR_EXECUTION);
}

/* one owner of the range checks (the HTTP API calls the same function) */
static void test_check_range(void **state)
{
	(void)state;
	const char *param;
	struct pane_err err = {0};
	assert_int_equal(pane_query_check_range(0, 1000, 1, true, 0, &param, &err), 0);
	assert_int_equal(pane_query_check_range(10, 0, 0, false, 0, &param, &err), PANE_EINVAL);
	assert_string_equal(param, "end");
	assert_string_equal(err.msg, "end timestamp must not be before start time");
	assert_int_equal(pane_query_check_range(0, 10, 0, true, 0, &param, &err), PANE_EINVAL);
	assert_string_equal(param, "step");
	assert_int_equal(pane_query_check_range(0, 11001, 1, true, 0, &param, &err), PANE_ETOOBIG);
	assert_null(param);
	assert_string_equal(err.msg, "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing "
	                             "the query resolution (?step=XX)");
	assert_int_equal(pane_query_check_range(0, 11000, 1, true, 0, &param, &err), 0);
	assert_int_equal(pane_query_check_range(0, 1000001, 1, true, 1000000, &param, &err), PANE_ETOOBIG);
	assert_non_null(strstr(err.msg, "of 1,000,000 points"));
	assert_int_equal(pane_query_check_range(INT64_MIN, INT64_MAX, 1, true, 0, &param, &err), PANE_ETOOBIG);
	/* the engine says the same */
	struct pane_query_result r;
	enum pane_query_errclass cls;
	assert_int_equal(pane_query_exec(pt_memdb_reader(db), NULL, "1", 0, 20000000, 1000, &r, &cls, &err),
	                 PANE_ETOOBIG);
	assert_int_equal(cls, PANE_QERR_BAD_DATA);
	assert_non_null(strstr(err.msg, "exceeded maximum resolution of 11,000 points"));
}

/* A range function over many series and steps is computed by two threads
 * (functions.c, memo_fill): every series must be the same bits as a query
 * of that series alone (one thread), with resets and stale markers. */
static void test_memo_threads_same_bits(void **state)
{
	(void)state;
	enum { NS = 40, STEPS = 2400 };
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	for (int k = 0; k < NS; k++)
		for (int i = 0; i <= STEPS; i++) {
			int t = i * 15;
			if ((i + k) % 301 == 7)
				pane_buf_addf(&b, "p{k=\"%02d\"} stale %d\n", k, t);
			else if ((i * 7 + k) % 13 != 0)
				pane_buf_addf(&b, "p{k=\"%02d\"} %.17g %d\n", k,
				              (i % (500 + k)) * (1.0 + k / 7.0) + sin(i * 0.1) * 0.01, t);
		}
	struct pane_err err = {0};
	struct pt_memdb *mdb = pt_memdb_parse(b.data, &err);
	pane_buf_release(&b);
	assert_non_null(mdb);
	static const char *fns[] = {"rate", "increase", "avg_over_time", "max_over_time", "changes", "deriv"};
	for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
		char q[128];
		snprintf(q, sizeof q, "%s(p[5m])", fns[f]);
		struct pane_query_result all;
		if (pane_query_exec(pt_memdb_reader(mdb), NULL, q, 0, STEPS * 15000LL, 15000, &all, NULL, &err) != 0)
			fail_msg("%s: %s", q, err.msg);
		assert_int_equal(all.n, NS);
		for (size_t i = 0; i < all.n; i++) {
			struct pane_query_result one;
			snprintf(q, sizeof q, "%s(p{k=\"%02zu\"}[5m])", fns[f], i);
			if (pane_query_exec(pt_memdb_reader(mdb), NULL, q, 0, STEPS * 15000LL, 15000, &one, NULL,
			                    &err) != 0)
				fail_msg("%s: %s", q, err.msg);
			assert_int_equal(one.n, 1);
			assert_int_equal(pane_labels_cmp(&one.series[0].labels, &all.series[i].labels), 0);
			assert_int_equal(one.series[0].n, all.series[i].n);
			assert_true(one.series[0].n > STEPS / 2);
			assert_memory_equal(one.series[0].ts, all.series[i].ts, one.series[0].n * sizeof(int64_t));
			assert_memory_equal(one.series[0].values, all.series[i].values,
			                    one.series[0].n * sizeof(double));
			pane_query_result_release(&one);
		}
		pane_query_result_release(&all);
	}
	pt_memdb_free(mdb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_staleness),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_range_alignment),
	    cmocka_unit_test(test_formats),
	    cmocka_unit_test(test_range_equals_instants),
	    cmocka_unit_test(test_quantile_sort),
	    cmocka_unit_test(test_sorts_are_sorts),
	    cmocka_unit_test(test_deep_chains),
	    cmocka_unit_test(test_memory_bounded),
	    cmocka_unit_test(test_check_range),
	    cmocka_unit_test(test_memo_threads_same_bits),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
