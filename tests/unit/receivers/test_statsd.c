/* test_statsd.c - StatsD line parsing and per-interval aggregation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "base/clock.h"
#include "pipeline/pipeline.h"
#include "receivers/statsd.h"
#include "recorder.h"

static void parses_the_documented_forms(void **state)
{
	(void)state;
	struct pane_statsd_line l;
	struct pane_err e = {0};
	const char *s = "api.requests:1|c|@0.5|#env:prod,route:/orders";
	assert_int_equal(pane_statsd_parse_line(s, strlen(s), &l, &e), 0);
	assert_true(pane_str_eqc(l.name, "api.requests"));
	assert_int_equal(l.type, PANE_STATSD_COUNTER);
	assert_int_equal(l.n_values, 1);
	assert_true(l.values[0] == 1.0);
	assert_true(l.sample_rate == 0.5);
	assert_true(pane_str_eqc(l.tags, "env:prod,route:/orders"));

	s = "gaugor:-12|g";
	assert_int_equal(pane_statsd_parse_line(s, strlen(s), &l, &e), 0);
	assert_true(l.gauge_delta);
	assert_true(l.values[0] == -12.0);
	s = "gaugor:333|g";
	assert_int_equal(pane_statsd_parse_line(s, strlen(s), &l, &e), 0);
	assert_false(l.gauge_delta);

	s = "lat:1.5:2:3.25|d|#a";
	assert_int_equal(pane_statsd_parse_line(s, strlen(s), &l, &e), 0);
	assert_int_equal(l.type, PANE_STATSD_DISTRIBUTION);
	assert_int_equal(l.n_values, 3);
	assert_true(l.values[2] == 3.25);

	s = "users.uniques:bob|s";
	assert_int_equal(pane_statsd_parse_line(s, strlen(s), &l, &e), 0);
	assert_true(pane_str_eqc(l.set_value, "bob"));

	s = "t:12|ms|c:abc123|T1700000000";
	assert_int_equal(pane_statsd_parse_line(s, strlen(s), &l, &e), 0);
	assert_int_equal(l.type, PANE_STATSD_TIMER);

	s = "_e{5,4}:title|text|#a";
	assert_int_equal(pane_statsd_parse_line(s, strlen(s), &l, &e), PANE_EAGAIN);
	s = "_sc|check|0";
	assert_int_equal(pane_statsd_parse_line(s, strlen(s), &l, &e), PANE_EAGAIN);
}

static void refuses_malformed(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "",     "novalue", "x:1",     "x|c",      "x:abc|c", "x:1|q",   "x:1|c|@0", "x:1|c|@2", "x:1|c|@x",
	    ":1|c", "x:1|c||", "x:nan|g", "x:inf|ms", "x:1:2|g", "x y:1|c", "x:|c",     "x:|s",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct pane_statsd_line l;
		struct pane_err e = {0};
		int rc = pane_statsd_parse_line(bad[i], strlen(bad[i]), &l, &e);
		if (rc != PANE_EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		assert_non_null(strstr(e.msg, "malformed statsd line"));
	}
}

static struct pane_pipeline *rec_pipeline(struct pt_recorder **rec)
{
	*rec = pt_recorder_new();
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_add_sink(p, pt_recorder_sink(*rec), PANE_SINK_PRIMARY);
	return p;
}

static void aggregates_one_interval(void **state)
{
	(void)state;
	struct pt_recorder *rec;
	struct pane_pipeline *p = rec_pipeline(&rec);
	/* default labels: a line's own tags win over them (env: is DogStatsD's environment) */
	const char *extra[] = {"provider", "app", "environment", "staging", "team", "core", NULL};
	struct pane_statsd_agg *a = pane_statsd_agg_new(&(struct pane_statsd_agg_opts){.extra_labels = extra});
	const char pkt[] = "svc:1|c|#service:api,version:1.2\n"
	                   "req:1|c|@0.1|#env:prod,route:/a\n"
	                   "req:2|c|#route:/a,env:prod\n" /* same series, tags in another order */
	                   "bad line here\n"
	                   "g:10|g\ng:+5|g\ng:-3|g\n"
	                   "lat:100|ms\nlat:200|ms\nlat:300|ms\n"
	                   "u:a|s\nu:b|s\nu:a|s\n"
	                   "_e{1,1}:a|b\n";
	assert_int_equal(pane_statsd_agg_feed(a, pkt, sizeof pkt - 1), 12);
	struct pane_statsd_agg_counts c;
	pane_statsd_agg_counts(a, &c);
	assert_int_equal(c.malformed, 1);
	assert_int_equal(c.skipped, 1);
	assert_int_equal(c.series, 5);
	assert_int_equal(pane_statsd_agg_flush(a, p, 1000, NULL), 0);

	assert_non_null(pt_recorder_find(rec, "svc_total", "service", "api", "version", "1.2", "environment", "staging",
	                                 "team", "core", NULL));
	const struct pt_rec_sample *s = pt_recorder_find(rec, "req_total", "environment", "prod", "route", "/a",
	                                                 "provider", "app", "team", "core", NULL);
	assert_non_null(s);
	assert_true(fabs(s->value - 12.0) < 1e-9); /* 1/0.1 + 2 */
	assert_int_equal(s->ts_ms, 1000);
	assert_int_equal(pt_recorder_count(rec, "req_total", NULL), 1);
	s = pt_recorder_find(rec, "g", NULL);
	assert_true(s->value == 12.0);
	assert_true(pt_recorder_find(rec, "lat_count", NULL)->value == 3.0);
	assert_true(pt_recorder_find(rec, "lat_sum", NULL)->value == 600.0);
	assert_true(pt_recorder_find(rec, "lat_min", NULL)->value == 100.0);
	assert_true(pt_recorder_find(rec, "lat_max", NULL)->value == 300.0);
	assert_true(pt_recorder_find(rec, "lat", "quantile", "0.5", NULL)->value == 200.0);
	assert_true(pt_recorder_find(rec, "lat", "quantile", "0.99", NULL)->value == 300.0);
	assert_true(pt_recorder_find(rec, "u", NULL)->value == 2.0);

	/* second interval: counters stay cumulative, sets and quantiles reset */
	const char pkt2[] = "req:1|c|#env:prod,route:/a\nu:z|s\n";
	pane_statsd_agg_feed(a, pkt2, sizeof pkt2 - 1);
	assert_int_equal(pane_statsd_agg_flush(a, p, 2000, NULL), 0);
	assert_true(pt_recorder_find(rec, "req_total", NULL)->value == 13.0);
	assert_true(pt_recorder_find(rec, "u", NULL)->value == 1.0);
	assert_true(pt_recorder_find(rec, "lat_count", NULL)->value == 3.0);
	assert_int_equal(pt_recorder_count(rec, "lat_min", NULL), 1); /* no values this interval */

	pane_statsd_agg_free(a);
	pane_pipeline_free(p);
	pt_recorder_free(rec);
}

static void histogram_buckets_and_expiry(void **state)
{
	(void)state;
	struct pt_recorder *rec;
	struct pane_pipeline *p = rec_pipeline(&rec);
	const double b[] = {0.1, 1, 10};
	struct pane_statsd_agg *a =
	    pane_statsd_agg_new(&(struct pane_statsd_agg_opts){.buckets = b, .n_buckets = 3, .series_ttl_ms = 5000});
	const char pkt[] = "h:0.05|h\nh:0.5|h\nh:5|h\nh:50|h|@0.5\n";
	pane_statsd_agg_feed(a, pkt, sizeof pkt - 1);
	int64_t now = pane_wall_ms();
	pane_statsd_agg_flush(a, p, now, NULL);
	assert_true(pt_recorder_find(rec, "h_bucket", "le", "0.1", NULL)->value == 1.0);
	assert_true(pt_recorder_find(rec, "h_bucket", "le", "1", NULL)->value == 2.0);
	assert_true(pt_recorder_find(rec, "h_bucket", "le", "10", NULL)->value == 3.0);
	assert_true(pt_recorder_find(rec, "h_bucket", "le", "+Inf", NULL)->value == 5.0);
	assert_true(pt_recorder_find(rec, "h_count", NULL)->value == 5.0);
	/* past the ttl: one stale marker, then the series is gone */
	pane_statsd_agg_flush(a, p, now + 60000, NULL);
	assert_true(pane_is_stale_nan(pt_recorder_find(rec, "h_count", NULL)->value));
	struct pane_statsd_agg_counts c;
	pane_statsd_agg_counts(a, &c);
	assert_int_equal(c.series, 0);
	pane_statsd_agg_free(a);
	pane_pipeline_free(p);
	pt_recorder_free(rec);
}

static void bounded_series_and_reserved_tags(void **state)
{
	(void)state;
	struct pane_statsd_agg *a = pane_statsd_agg_new(&(struct pane_statsd_agg_opts){.max_series = 2});
	const char pkt[] = "a:1|c\nb:1|c\nc:1|c\nd:1|c|#__name__:x\ne:1|c|#bad-tag:v\n";
	pane_statsd_agg_feed(a, pkt, sizeof pkt - 1);
	struct pane_statsd_agg_counts c;
	pane_statsd_agg_counts(a, &c);
	assert_int_equal(c.series, 2);
	assert_int_equal(c.dropped_series, 2); /* c and e */
	assert_int_equal(c.malformed, 1);      /* d only: a line dropped at the cap is not also malformed */
	pane_statsd_agg_free(a);

	/* a reserved tag name never becomes a label */
	a = pane_statsd_agg_new(NULL);
	const char pkt2[] = "d:1|c|#__name__:x\nok:1|c|#bad-tag:v\n";
	assert_int_equal(pane_statsd_agg_feed(a, pkt2, sizeof pkt2 - 1), 1);
	pane_statsd_agg_free(a);
}

static void garbage_never_crashes(void **state)
{
	(void)state;
	struct pane_statsd_agg *a = pane_statsd_agg_new(NULL);
	char junk[4096];
	uint64_t x = 88172645463325252ull;
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof junk; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			junk[i] = "ab:|c#@,.\n1g-+ms\0"[x % 17];
		}
		pane_statsd_agg_feed(a, junk, sizeof junk);
	}
	struct pane_statsd_agg_counts c;
	pane_statsd_agg_counts(a, &c);
	assert_true(c.malformed > 0);
	pane_statsd_agg_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_the_documented_forms),      cmocka_unit_test(refuses_malformed),
	    cmocka_unit_test(aggregates_one_interval),          cmocka_unit_test(histogram_buckets_and_expiry),
	    cmocka_unit_test(bounded_series_and_reserved_tags), cmocka_unit_test(garbage_never_crashes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
