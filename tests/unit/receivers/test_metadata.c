/* test_metadata.c - metric metadata out of every receiver: the Prometheus
 * text parser (HELP/TYPE/UNIT merged per family, escapes, untyped, bad
 * types and non-UTF-8 help refused per line, huge help cut at a character,
 * many families in several batches), remote_write's metadata field (good
 * and hostile entries), OTLP metric kinds, StatsD types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "receivers/otlp.h"
#include "receivers/promtext.h"
#include "receivers/remote_write.h"
#include "receivers/statsd.h"
#include "recorder.h"

/* ---- a metadata collector for the parsers ---- */

struct got {
	char name[80][300];
	char help[80][PANE_METADATA_HELP_MAX + 1];
	char unit[80][300];
	enum pane_metric_type type[80];
	size_t n, batches;
};

static int on_meta(void *arg, const struct pane_metadata *m, size_t n, struct pane_err *err)
{
	(void)err;
	struct got *g = arg;
	g->batches++;
	for (size_t i = 0; i < n && g->n < 80; i++, g->n++) {
		snprintf(g->name[g->n], sizeof g->name[0], "%s", m[i].name);
		snprintf(g->help[g->n], sizeof g->help[0], "%s", m[i].help);
		snprintf(g->unit[g->n], sizeof g->unit[0], "%s", m[i].unit);
		g->type[g->n] = m[i].type;
	}
	return 0;
}

static int find(const struct got *g, const char *name)
{
	for (size_t i = 0; i < g->n; i++)
		if (!strcmp(g->name[i], name))
			return (int)i;
	return -1;
}

static int no_samples(void *arg, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	(void)s, (void)err;
	*(size_t *)arg += n;
	return 0;
}

static void promtext_families(void **state)
{
	(void)state;
	static const char text[] =
	    "# HELP http_requests_total Total requests, by \\\\ code\\nsecond line \\\"kept\\\".\n"
	    "# TYPE http_requests_total counter\n"
	    "http_requests_total{code=\"200\"} 3\n"
	    "# TYPE legacy untyped\n"
	    "legacy 1\n"
	    "# TYPE latency_seconds histogram\n"
	    "# UNIT latency_seconds seconds\n"
	    "# HELP latency_seconds\n"
	    "latency_seconds_bucket{le=\"+Inf\"} 2\n"
	    "# TYPE wrong_type countr\n"
	    "wrong_type 1\n"
	    "# HELP bad_help \xff\xfe not UTF-8\n"
	    "# TYPE 9bad gauge\n"
	    "# just a comment\n"
	    "# HELP late_type Help before the type, far away.\n"
	    "x 1\n"
	    "# TYPE late_type gauge\n";
	struct got *g = calloc(1, sizeof *g);
	size_t samples = 0;
	struct pane_promtext_opts o = {.default_ts_ms = 1000, .meta = on_meta, .meta_arg = g};
	struct pane_promtext_result r;
	assert_int_equal(pane_promtext_parse(text, sizeof text - 1, &o, no_samples, &samples, &r, NULL), 0);
	assert_int_equal(samples, 5);     /* metadata lines never cost samples */
	assert_int_equal(r.bad_lines, 3); /* countr, non-UTF-8 help, 9bad */
	assert_int_equal(g->n, 4);
	int i = find(g, "http_requests_total");
	assert_true(i >= 0);
	assert_int_equal(g->type[i], PANE_METRIC_COUNTER);
	/* the text format unescapes \\ and \n only */
	assert_string_equal(g->help[i], "Total requests, by \\ code\nsecond line \\\"kept\\\".");
	i = find(g, "legacy");
	assert_int_equal(g->type[i], PANE_METRIC_UNKNOWN);
	assert_string_equal(pane_metric_type_name(g->type[i]), "unknown");
	i = find(g, "latency_seconds");
	assert_int_equal(g->type[i], PANE_METRIC_HISTOGRAM);
	assert_string_equal(g->unit[i], "seconds");
	assert_string_equal(g->help[i], "");
	i = find(g, "late_type");
	assert_int_equal(g->type[i], PANE_METRIC_GAUGE);
	assert_string_equal(g->help[i], "Help before the type, far away.");
	assert_int_equal(find(g, "wrong_type"), -1);
	assert_int_equal(find(g, "bad_help"), -1);

	/* OpenMetrics also unescapes \" */
	static const char om[] = "# HELP q A \\\"quoted\\\" word.\n# TYPE q info\nq_info 1\n# EOF\n";
	memset(g, 0, sizeof *g);
	o.openmetrics = true;
	assert_int_equal(pane_promtext_parse(om, sizeof om - 1, &o, no_samples, &samples, &r, NULL), 0);
	assert_int_equal(g->n, 1);
	assert_string_equal(g->help[0], "A \"quoted\" word.");
	assert_int_equal(g->type[0], PANE_METRIC_INFO);

	/* without a metadata callback the same text parses as before */
	memset(g, 0, sizeof *g);
	struct pane_promtext_opts plain = {.default_ts_ms = 1000};
	samples = 0;
	assert_int_equal(pane_promtext_parse(text, sizeof text - 1, &plain, no_samples, &samples, &r, NULL), 0);
	assert_int_equal(samples, 5);
	assert_int_equal(g->n, 0);
	free(g);
}

static void promtext_hostile_help_and_many_families(void **state)
{
	(void)state;
	/* 1 MiB of help whose byte at the bound is inside a 3-byte character */
	size_t big = 1u << 20;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_buf_adds(&b, "# HELP huge ");
	for (size_t i = 0; i < PANE_METADATA_HELP_MAX - 1; i++)
		pane_buf_addc(&b, 'a');
	while (b.len < big)
		pane_buf_adds(&b, "\xe2\x82\xac"); /* the euro sign */
	pane_buf_adds(&b, "\n# TYPE huge gauge\nhuge 1\n");
	/* 70 families: more than one batch of slots */
	for (int i = 0; i < 70; i++)
		pane_buf_addf(&b, "# TYPE fam_%d gauge\nfam_%d 1\n", i, i);
	struct got *g = calloc(1, sizeof *g);
	size_t samples = 0;
	struct pane_promtext_opts o = {.default_ts_ms = 1000, .meta = on_meta, .meta_arg = g};
	struct pane_promtext_result r;
	assert_int_equal(pane_promtext_parse(b.data, b.len, &o, no_samples, &samples, &r, NULL), 0);
	assert_int_equal(r.bad_lines, 0);
	assert_int_equal(samples, 71);
	assert_true(g->batches >= 2);
	int i = find(g, "huge");
	assert_true(i >= 0);
	/* cut before the character that would cross the bound: 4095 a's, then nothing */
	assert_int_equal(strlen(g->help[i]), PANE_METADATA_HELP_MAX - 1);
	assert_int_equal(find(g, "fam_0"), 1);
	assert_true(find(g, "fam_69") > 0);
	pane_buf_release(&b);
	free(g);
}

/* ---- remote_write: WriteRequest.metadata built by hand ---- */

static void pb_varint(struct pane_buf *b, uint64_t v)
{
	while (v >= 0x80) {
		pane_buf_addc(b, (char)(v | 0x80));
		v >>= 7;
	}
	pane_buf_addc(b, (char)v);
}

static void pb_str(struct pane_buf *b, unsigned field, const char *s, size_t len)
{
	pb_varint(b, field << 3 | 2);
	pb_varint(b, len);
	pane_buf_add(b, s, len);
}

static void pb_meta(struct pane_buf *req, uint64_t type, const char *name, const char *help, const char *unit)
{
	struct pane_buf m;
	pane_buf_init(&m, PANE_BUF_NOLIMIT);
	pb_varint(&m, 1 << 3 | 0);
	pb_varint(&m, type);
	if (name)
		pb_str(&m, 2, name, strlen(name));
	if (help)
		pb_str(&m, 4, help, strlen(help));
	if (unit)
		pb_str(&m, 5, unit, strlen(unit));
	pb_str(req, 3, m.data, m.len);
	pane_buf_release(&m);
}

static void remote_write_metadata(void **state)
{
	(void)state;
	struct pane_buf req;
	pane_buf_init(&req, PANE_BUF_NOLIMIT);
	struct pane_label l = {"job", "x"};
	struct pane_labels ls = {&l, 1, 1, false};
	struct pane_sample s = {"up", &ls, 1000, 1};
	pane_remote_write_encode(&s, 1, &req);
	pb_meta(&req, 1, "rw_requests_total", "Requests seen.", "");
	pb_meta(&req, 3, "rw_latency_seconds", "Latency.", "seconds");
	pb_meta(&req, 2, "bad name", "x", "");           /* invalid family name */
	pb_meta(&req, 99, "rw_odd", "x", "");            /* unknown type number */
	pb_meta(&req, 2, "rw_bad_help", "\xc3\x28", ""); /* not UTF-8 */
	pb_meta(&req, 2, NULL, "no name", "");
	struct got *g = calloc(1, sizeof *g);
	size_t samples = 0;
	struct pane_rw_result r;
	struct pane_err err = {0};
	assert_int_equal(pane_remote_write_decode_meta(req.data, req.len, no_samples, &samples, on_meta, g, &r, &err),
	                 0);
	assert_int_equal(samples, 1);
	assert_int_equal(r.metadata, 2);
	assert_int_equal(r.bad_metadata, 4);
	assert_non_null(r.meta_error);
	assert_int_equal(g->n, 2);
	assert_string_equal(g->name[0], "rw_requests_total");
	assert_int_equal(g->type[0], PANE_METRIC_COUNTER);
	assert_string_equal(g->help[0], "Requests seen.");
	assert_int_equal(g->type[1], PANE_METRIC_HISTOGRAM);
	assert_string_equal(g->unit[1], "seconds");
	/* the plain decoder skips metadata, and so does a truncated entry stop cleanly */
	samples = 0;
	assert_int_equal(pane_remote_write_decode(req.data, req.len, no_samples, &samples, &r, &err), 0);
	assert_int_equal(samples, 1);
	struct pane_buf cut;
	pane_buf_init(&cut, PANE_BUF_NOLIMIT);
	pb_varint(&cut, 3 << 3 | 2);
	pb_varint(&cut, 6);
	pane_buf_add(&cut, "\x08\x01\x12\x20xx", 6); /* a name longer than its message */
	assert_int_equal(pane_remote_write_decode_meta(cut.data, cut.len, no_samples, &samples, on_meta, g, &r, &err),
	                 PANE_EINVAL);
	pane_buf_release(&cut);
	pane_buf_release(&req);
	free(g);
}

/* ---- OTLP and StatsD through a pipeline into the recorder ---- */

static void otlp_kinds(void **state)
{
	(void)state;
	struct pt_recorder *rec = pt_recorder_new();
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_add_sink(p, pt_recorder_sink(rec), PANE_SINK_PRIMARY);
	static const char body[] =
	    "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":"
	    "\"api\"}}]},"
	    "\"scopeMetrics\":[{\"metrics\":["
	    "{\"name\":\"http.requests\",\"description\":\"Requests served.\",\"unit\":\"{request}\","
	    " \"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":true,\"dataPoints\":[{\"asInt\":\"5\","
	    "\"timeUnixNano\":\"1700000000000000000\"}]}},"
	    "{\"name\":\"queue.depth\",\"description\":\"Jobs waiting.\","
	    " \"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":false,\"dataPoints\":[{\"asInt\":\"2\"}]}},"
	    "{\"name\":\"cpu.temp\",\"unit\":\"Cel\",\"gauge\":{\"dataPoints\":[{\"asDouble\":41.5}]}},"
	    "{\"name\":\"rpc.duration\",\"description\":\"RPC "
	    "latency.\",\"unit\":\"ms\",\"histogram\":{\"aggregationTemporality\":2,"
	    " \"dataPoints\":[{\"count\":\"2\",\"sum\":3,\"bucketCounts\":[\"1\",\"1\"],\"explicitBounds\":[1]}]}},"
	    "{\"name\":\"gc.pause\",\"summary\":{\"dataPoints\":[{\"count\":\"1\",\"sum\":2,\"quantileValues\":[{"
	    "\"quantile\":0.5,\"value\":2}]}]}}"
	    "]}]}]}";
	struct pane_otlp_result r;
	struct pane_err err = {0};
	assert_int_equal(pane_otlp_metrics_json(p, body, sizeof body - 1, 1000, &r, &err), 0);
	const struct pt_rec_meta *m = pt_recorder_find_meta(rec, "http_requests_total");
	assert_non_null(m);
	assert_int_equal(m->type, PANE_METRIC_COUNTER);
	assert_string_equal(m->help, "Requests served.");
	assert_string_equal(m->unit, "{request}");
	assert_non_null(pt_recorder_find(rec, "http_requests_total", NULL)); /* same name as the samples */
	m = pt_recorder_find_meta(rec, "queue_depth");
	assert_int_equal(m->type, PANE_METRIC_GAUGE);
	m = pt_recorder_find_meta(rec, "cpu_temp");
	assert_int_equal(m->type, PANE_METRIC_GAUGE);
	assert_string_equal(m->help, "");
	assert_string_equal(m->unit, "Cel");
	m = pt_recorder_find_meta(rec, "rpc_duration");
	assert_int_equal(m->type, PANE_METRIC_HISTOGRAM);
	m = pt_recorder_find_meta(rec, "gc_pause");
	assert_int_equal(m->type, PANE_METRIC_SUMMARY);
	/* the same request again changes nothing: the pipeline passes nothing on */
	size_t writes = rec->meta_writes;
	assert_int_equal(pane_otlp_metrics_json(p, body, sizeof body - 1, 2000, &r, &err), 0);
	assert_int_equal(rec->meta_writes, writes);
	pane_pipeline_free(p);
	pt_recorder_free(rec);
}

static void statsd_types(void **state)
{
	(void)state;
	struct pt_recorder *rec = pt_recorder_new();
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_add_sink(p, pt_recorder_sink(rec), PANE_SINK_PRIMARY);
	struct pane_statsd_agg *a = pane_statsd_agg_new(&(struct pane_statsd_agg_opts){0});
	static const char pkt[] = "hits:1|c\nhits:2|c|#route:a\ntemp:20|g\nlat:12|ms\nusers:bob|s\n";
	assert_int_equal(pane_statsd_agg_feed(a, pkt, sizeof pkt - 1), 5);
	assert_int_equal(pane_statsd_agg_flush(a, p, 1000, NULL), 0);
	const struct pt_rec_meta *m = pt_recorder_find_meta(rec, "hits_total");
	assert_non_null(m);
	assert_int_equal(m->type, PANE_METRIC_COUNTER);
	assert_int_equal(pt_recorder_find_meta(rec, "temp")->type, PANE_METRIC_GAUGE);
	assert_int_equal(pt_recorder_find_meta(rec, "users")->type, PANE_METRIC_GAUGE);
	assert_int_equal(pt_recorder_find_meta(rec, "lat")->type, PANE_METRIC_SUMMARY);
	assert_int_equal(pt_recorder_find_meta(rec, "lat_max")->type, PANE_METRIC_GAUGE);
	/* a second interval sends no metadata for series already described */
	size_t n = rec->n_metas;
	assert_int_equal(pane_statsd_agg_feed(a, pkt, sizeof pkt - 1), 5);
	assert_int_equal(pane_statsd_agg_flush(a, p, 2000, NULL), 0);
	assert_int_equal(rec->n_metas, n);
	pane_statsd_agg_free(a);

	/* histogram mode */
	static const double bounds[] = {10, 100};
	a = pane_statsd_agg_new(&(struct pane_statsd_agg_opts){.buckets = bounds, .n_buckets = 2});
	static const char pkt2[] = "dur:50|ms\n";
	assert_int_equal(pane_statsd_agg_feed(a, pkt2, sizeof pkt2 - 1), 1);
	assert_int_equal(pane_statsd_agg_flush(a, p, 3000, NULL), 0);
	assert_int_equal(pt_recorder_find_meta(rec, "dur")->type, PANE_METRIC_HISTOGRAM);
	assert_null(pt_recorder_find_meta(rec, "dur_max"));
	pane_statsd_agg_free(a);
	pane_pipeline_free(p);
	pt_recorder_free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(promtext_families),     cmocka_unit_test(promtext_hostile_help_and_many_families),
	    cmocka_unit_test(remote_write_metadata), cmocka_unit_test(otlp_kinds),
	    cmocka_unit_test(statsd_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
