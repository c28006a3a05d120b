/* test_push.c - push receivers over real HTTP into a recorder sink:
 * remote_write (good, truncated, snappy bomb, bad labels, invalid UTF-8),
 * Prometheus text import, OTLP JSON and protobuf (gzip, delta, exponential
 * histograms) metrics and logs, Loki push (JSON, protobuf + snappy), JSON lines,
 * and a primary sink that refuses (503). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <math.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/stats.h"
#include "http/server.h"
#include "receivers/receivers.h"
#include "receivers/loki_push.pb-c.h"
#include "receivers/otlp.pb-c.h"
#include "receivers/remote_write.h"
#include "recorder.h"
#include "support.h"

static struct pane_http_server *srv;
static struct pane_stats *stats;
static struct pane_pipeline *pipe_;
static struct pt_recorder *rec;
static struct pane_receivers_http *routes;
static char base[64];

static int setup(void **state)
{
	(void)state;
	struct pane_err err = {0};
	stats = pane_stats_new();
	rec = pt_recorder_new();
	pipe_ = pane_pipeline_new();
	pane_pipeline_add_sink(pipe_, pt_recorder_sink(rec), PANE_SINK_PRIMARY);
	struct pane_http_server_opts o = {.listen = "127.0.0.1:0", .threads = 2, .stats = stats};
	srv = pane_http_server_new(&o, &err);
	assert_non_null(srv);
	routes = pane_receivers_routes(
	    srv, pipe_,
	    &(struct pane_receivers_http_opts){.stats = stats, .max_body = 4u << 20, .max_decoded = 1u << 20});
	assert_int_equal(pane_http_server_start(srv, &err), 0);
	snprintf(base, sizeof base, "http://127.0.0.1:%d", pane_http_server_port(srv));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pane_http_server_free(srv);
	pane_receivers_http_free(routes);
	pane_pipeline_free(pipe_);
	pt_recorder_free(rec);
	pane_stats_free(stats);
	return 0;
}

static long post(const char *path, const char *const *headers, const char *body, size_t len, char **out)
{
	char url[256];
	snprintf(url, sizeof url, "%s%s", base, path);
	struct pt_http_result r = {0};
	assert_int_equal(pt_http("POST", url, headers, body, len, &r), 0);
	long st = r.status;
	if (out)
		*out = pane_xstrdup(r.body);
	pt_http_result_free(&r);
	return st;
}

static const char *const rw_headers[] = {"Content-Type: application/x-protobuf", "Content-Encoding: snappy",
                                         "X-Prometheus-Remote-Write-Version: 0.1.0", NULL};

static long send_rw(const char *pb, size_t len, char **out)
{
	size_t cap = snappy_max_compressed_length(len);
	char *z = pane_xmalloc(cap);
	assert_int_equal(snappy_compress(pb, len, z, &cap), SNAPPY_OK);
	long st = post("/api/v1/write", rw_headers, z, cap, out);
	free(z);
	return st;
}

static void remote_write_good_and_bad(void **state)
{
	(void)state;
	struct pane_labels a, b;
	pane_labels_init(&a);
	pane_labels_init(&b);
	pane_labels_set(&a, "job", "rw");
	pane_labels_set(&a, "instance", "x:1");
	pane_labels_setn(&b, "job", 3, "bad\xff", 4); /* invalid UTF-8 value, set raw */
	struct pane_sample s[3] = {
	    {.name = "rw_metric", .labels = &a, .ts_ms = 1700000000000, .value = 42.5},
	    {.name = "rw_stale", .labels = &a, .ts_ms = 1700000000001, .value = pane_stale_nan()},
	    {.name = "rw_badutf8", .labels = &b, .ts_ms = 1700000000000, .value = 1},
	};
	struct pane_buf pb;
	pane_buf_init(&pb, PANE_BUF_NOLIMIT);
	pane_remote_write_encode(s, 2, &pb);
	assert_int_equal(send_rw(pb.data, pb.len, NULL), 204);
	const struct pt_rec_sample *got = pt_recorder_find(rec, "rw_metric", "job", "rw", "instance", "x:1", NULL);
	assert_non_null(got);
	assert_true(got->value == 42.5);
	assert_int_equal(got->ts_ms, 1700000000000);
	assert_true(pane_is_stale_nan(pt_recorder_find(rec, "rw_stale", NULL)->value));

	/* one invalid series among good ones: 400, good ones kept */
	pane_buf_reset(&pb);
	pane_remote_write_encode(s, 3, &pb);
	size_t before = pt_recorder_count(rec, "rw_metric", NULL);
	char *body = NULL;
	assert_int_equal(send_rw(pb.data, pb.len, &body), 400);
	assert_non_null(strstr(body, "UTF-8"));
	free(body);
	assert_int_equal(pt_recorder_count(rec, "rw_metric", NULL), before + 1);
	assert_null(pt_recorder_find(rec, "rw_badutf8", NULL));

	/* truncated protobuf: 400 */
	pane_buf_reset(&pb);
	pane_remote_write_encode(s, 1, &pb);
	assert_int_equal(send_rw(pb.data, pb.len - 3, &body), 400);
	assert_non_null(strstr(body, "truncated"));
	free(body);

	/* not snappy at all: 400; a declared 1 TiB uncompressed size: 413 before any allocation */
	assert_int_equal(post("/api/v1/write", rw_headers, "\xff\xff\xff\xff\xff\xff\xff", 7, NULL), 400);
	const char bomb[] = "\x80\x80\x80\x80\x04\x00"; /* declares 1 GiB */
	assert_int_equal(post("/api/v1/write", rw_headers, bomb, 6, &body), 413);
	assert_non_null(strstr(body, "exceeds the limit"));
	free(body);
	const char *gz[] = {"Content-Encoding: gzip", NULL};
	assert_int_equal(post("/api/v1/write", gz, "x", 1, NULL), 415);

	pane_labels_release(&a);
	pane_labels_release(&b);
	pane_buf_release(&pb);
}

/* Remote write 2.0 is not spoken: 415 (the spec's "fall back to 1.0"),
 * nothing stored; 1.0 named explicitly is fine. */
static void remote_write_2_refused(void **state)
{
	(void)state;
	struct pane_labels a;
	pane_labels_init(&a);
	pane_labels_set(&a, "job", "rw2");
	struct pane_sample s = {.name = "rw2_metric", .labels = &a, .ts_ms = 1700000000000, .value = 1};
	struct pane_buf pb;
	pane_buf_init(&pb, PANE_BUF_NOLIMIT);
	pane_remote_write_encode(&s, 1, &pb);
	size_t cap = snappy_max_compressed_length(pb.len);
	char *z = pane_xmalloc(cap);
	assert_int_equal(snappy_compress(pb.data, pb.len, z, &cap), SNAPPY_OK);

	const char *v2[] = {"Content-Type: application/x-protobuf;proto=io.prometheus.write.v2.Request",
	                    "Content-Encoding: snappy", "X-Prometheus-Remote-Write-Version: 2.0.0", NULL};
	char *body = NULL;
	assert_int_equal(post("/api/v1/write", v2, z, cap, &body), 415);
	assert_non_null(strstr(body, "io.prometheus.write.v2.Request"));
	free(body);
	assert_null(pt_recorder_find(rec, "rw2_metric", NULL));
	const char *other[] = {"Content-Type: application/json", "Content-Encoding: snappy", NULL};
	assert_int_equal(post("/api/v1/write", other, z, cap, NULL), 415);
	assert_null(pt_recorder_find(rec, "rw2_metric", NULL));

	const char *v1[] = {"Content-Type: application/x-protobuf; proto=prometheus.WriteRequest",
	                    "Content-Encoding: snappy", "X-Prometheus-Remote-Write-Version: 0.1.0", NULL};
	assert_int_equal(post("/api/v1/write", v1, z, cap, NULL), 204);
	assert_non_null(pt_recorder_find(rec, "rw2_metric", NULL));
	free(z);
	pane_buf_release(&pb);
	pane_labels_release(&a);
}

static void import_text(void **state)
{
	(void)state;
	const char *t = "# TYPE imp counter\nimp_total{a=\"1\"} 5 1700000000000\nimp_total{a=\"2\"} 6\n"
	                "bad-name 1\nimp_nan_ts 1 NaN\n";
	char *body = NULL;
	assert_int_equal(post("/api/v1/import/prometheus?extra_label=env%3Dtest", NULL, t, strlen(t), &body), 400);
	assert_non_null(strstr(body, "2 lines refused"));
	free(body);
	const struct pt_rec_sample *s = pt_recorder_find(rec, "imp_total", "a", "1", "env", "test", NULL);
	assert_non_null(s);
	assert_int_equal(s->ts_ms, 1700000000000);
	assert_non_null(pt_recorder_find(rec, "imp_total", "a", "2", NULL));
	assert_null(pt_recorder_find(rec, "imp_nan_ts", NULL));
	const char *ok = "imp_ok 1\n";
	assert_int_equal(post("/api/v1/import/prometheus", NULL, ok, strlen(ok), NULL), 204);
}

/* shaped like opentelemetry-proto/examples/metrics.json */
static const char otlp_metrics[] =
    "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"my."
    "service\"}},"
    "{\"key\":\"deployment.environment\",\"value\":{\"stringValue\":\"prod\"}}]},"
    "\"scopeMetrics\":[{\"scope\":{\"name\":\"my.library\",\"version\":\"1.0.0\",\"attributes\":[{\"key\":\"my.scope."
    "attribute\",\"value\":{\"stringValue\":\"some scope attribute\"}}]},"
    "\"metrics\":["
    "{\"name\":\"my.counter\",\"unit\":\"1\",\"description\":\"I am a "
    "Counter\",\"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":true,"
    "\"dataPoints\":[{\"asDouble\":5,\"startTimeUnixNano\":\"1544712660300000000\",\"timeUnixNano\":"
    "\"1544712660300000000\","
    "\"attributes\":[{\"key\":\"my.counter.attr\",\"value\":{\"stringValue\":\"some value\"}}]}]}},"
    "{\"name\":\"my.gauge\",\"unit\":\"1\",\"description\":\"I am a "
    "Gauge\",\"gauge\":{\"dataPoints\":[{\"asInt\":\"10\",\"timeUnixNano\":\"1544712660300000000\"}]}},"
    "{\"name\":\"my.histogram\",\"unit\":\"1\",\"description\":\"I am a "
    "Histogram\",\"histogram\":{\"aggregationTemporality\":2,"
    "\"dataPoints\":[{\"startTimeUnixNano\":\"1544712660300000000\",\"timeUnixNano\":\"1544712660300000000\",\"count\":"
    "\"2\",\"sum\":2,"
    "\"bucketCounts\":[\"1\",\"1\"],\"explicitBounds\":[1],\"min\":0,\"max\":2}]}},"
    "{\"name\":\"my.delta\",\"sum\":{\"aggregationTemporality\":1,\"isMonotonic\":true,\"dataPoints\":[{\"asInt\":"
    "\"3\"}]}},"
    "{\"name\":\"my.nodata\"}"
    "]}]}]}";

static const char otlp_logs[] =
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"my."
    "service\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"my.library\",\"version\":\"1.0.0\"},\"logRecords\":[{\"timeUnixNano\":"
    "\"1544712660300000000\","
    "\"observedTimeUnixNano\":\"1544712660300000000\",\"severityNumber\":10,\"severityText\":\"Information\","
    "\"traceId\":\"5B8EFFF798038103D269B633813FC60C\",\"spanId\":\"EEE19B7EC3C1B174\",\"body\":{\"stringValue\":"
    "\"Example log record\"},"
    "\"attributes\":[{\"key\":\"string.attribute\",\"value\":{\"stringValue\":\"some string\"}},"
    "{\"key\":\"int.attribute\",\"value\":{\"intValue\":10}},{\"key\":\"array.attribute\",\"value\":{\"arrayValue\":{"
    "\"values\":[{\"stringValue\":\"many\"},{\"stringValue\":\"values\"}]}}}]}]}]}]}";

static void otlp_json(void **state)
{
	(void)state;
	const char *json[] = {"Content-Type: application/json", NULL};
	char *body = NULL;
	assert_int_equal(post("/v1/metrics", json, otlp_metrics, sizeof otlp_metrics - 1, &body), 200);
	assert_non_null(strstr(body, "\"rejectedDataPoints\":\"1\"")); /* the metric without data */
	free(body);
	const struct pt_rec_sample *s =
	    pt_recorder_find(rec, "my_counter_total", "service", "my.service", "environment", "prod", "my_counter_attr",
	                     "some value", "provider", "app", NULL);
	assert_non_null(s);
	assert_true(s->value == 5);
	assert_int_equal(s->ts_ms, 1544712660300);
	assert_true(pt_recorder_find(rec, "my_gauge", NULL)->value == 10);
	assert_true(pt_recorder_find(rec, "my_histogram_bucket", "le", "1", NULL)->value == 1);
	assert_true(pt_recorder_find(rec, "my_histogram_bucket", "le", "+Inf", NULL)->value == 2);
	assert_true(pt_recorder_find(rec, "my_histogram_sum", NULL)->value == 2);
	assert_true(pt_recorder_find(rec, "my_delta_total", NULL)->value == 3); /* delta -> running total */

	size_t logs0 = rec->n_logs;
	assert_int_equal(post("/v1/logs", json, otlp_logs, sizeof otlp_logs - 1, &body), 200);
	assert_string_equal(body, "{}\n");
	free(body);
	assert_int_equal(rec->n_logs, logs0 + 1);
	struct pt_rec_log *l = &rec->logs[logs0];
	assert_string_equal(l->message, "Example log record");
	assert_int_equal(l->severity, PANE_SEV_INFO);
	assert_string_equal(pane_labels_get(&l->labels, "service"), "my.service");
	assert_non_null(strstr(l->fields_json, "\"int.attribute\":10"));
	assert_non_null(strstr(l->fields_json, "\"trace_id\":\"5b8efff798038103d269b633813fc60c\""));

	assert_int_equal(post("/v1/metrics", json, "{not json", 9, &body), 400);
	assert_non_null(strstr(body, "not valid JSON"));
	free(body);
	assert_int_equal(post("/v1/metrics", json,
	                      "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
	                      "\"value\":{\"stringValue\":\"\xff\"}}]}}]}",
	                      87, NULL),
	                 400);
	const char *pbh[] = {"Content-Type: application/x-protobuf", NULL};
	assert_int_equal(post("/v1/metrics", pbh, "x", 1, NULL), 400);
	const char *xml[] = {"Content-Type: text/xml", NULL};
	assert_int_equal(post("/v1/metrics", xml, "<x/>", 4, NULL), 415);
}

/* ---- OTLP protobuf: messages built with protobuf-c from pane's .proto ---- */

static Otlp__KeyValue *kv(const char *k, const char *v)
{
	Otlp__KeyValue *a = pane_xcalloc(1, sizeof *a);
	Otlp__AnyValue *val = pane_xcalloc(1, sizeof *val);
	otlp__key_value__init(a);
	otlp__any_value__init(val);
	val->value_case = OTLP__ANY_VALUE__VALUE_STRING_VALUE;
	val->string_value = (char *)v;
	a->key = (char *)k;
	a->value = val;
	return a;
}

static void kv_free(Otlp__KeyValue *a)
{
	free(a->value);
	free(a);
}

static char *gzip_of(const uint8_t *in, size_t len, size_t *out_len)
{
	z_stream z = {0};
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	size_t cap = deflateBound(&z, len) + 32;
	char *out = pane_xmalloc(cap);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out_len = z.total_out;
	deflateEnd(&z);
	return out;
}

static void otlp_protobuf(void **state)
{
	(void)state;
	Otlp__KeyValue *rattrs[] = {kv("service.name", "pb.svc"), kv("deployment.environment.name", "staging")};
	Otlp__Resource res = OTLP__RESOURCE__INIT;
	res.n_attributes = 2;
	res.attributes = rattrs;

	Otlp__KeyValue *pattrs[] = {kv("k", "v")};
	Otlp__NumberDataPoint g = OTLP__NUMBER_DATA_POINT__INIT;
	g.time_unix_nano = 1544712660300000000ull;
	g.value_case = OTLP__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
	g.as_double = 1.5;
	g.n_attributes = 1;
	g.attributes = pattrs;
	Otlp__NumberDataPoint *gp[] = {&g};
	Otlp__Gauge gauge = OTLP__GAUGE__INIT;
	gauge.n_data_points = 1;
	gauge.data_points = gp;
	Otlp__Metric m1 = OTLP__METRIC__INIT;
	m1.name = "pb.gauge";
	m1.data_case = OTLP__METRIC__DATA_GAUGE;
	m1.gauge = &gauge;

	Otlp__NumberDataPoint d = OTLP__NUMBER_DATA_POINT__INIT;
	d.value_case = OTLP__NUMBER_DATA_POINT__VALUE_AS_INT;
	d.as_int = 2;
	Otlp__NumberDataPoint *dp[] = {&d};
	Otlp__Sum sum = OTLP__SUM__INIT;
	sum.n_data_points = 1;
	sum.data_points = dp;
	sum.aggregation_temporality = OTLP__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA;
	sum.is_monotonic = 1;
	Otlp__Metric m2 = OTLP__METRIC__INIT;
	m2.name = "pb.delta";
	m2.data_case = OTLP__METRIC__DATA_SUM;
	m2.sum = &sum;

	uint64_t counts[] = {1, 2};
	Otlp__ExponentialHistogramDataPoint__Buckets pos = OTLP__EXPONENTIAL_HISTOGRAM_DATA_POINT__BUCKETS__INIT;
	pos.offset = 0;
	pos.n_bucket_counts = 2;
	pos.bucket_counts = counts;
	Otlp__ExponentialHistogramDataPoint e = OTLP__EXPONENTIAL_HISTOGRAM_DATA_POINT__INIT;
	e.time_unix_nano = 1544712660300000000ull;
	e.scale = 0;
	e.count = 4;
	e.zero_count = 1;
	e.sum_present_case = OTLP__EXPONENTIAL_HISTOGRAM_DATA_POINT__SUM_PRESENT_SUM;
	e.sum = 7;
	e.positive = &pos;
	Otlp__ExponentialHistogramDataPoint *ep[] = {&e};
	Otlp__ExponentialHistogram eh = OTLP__EXPONENTIAL_HISTOGRAM__INIT;
	eh.n_data_points = 1;
	eh.data_points = ep;
	eh.aggregation_temporality = OTLP__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
	Otlp__Metric m3 = OTLP__METRIC__INIT;
	m3.name = "pb.expo";
	m3.data_case = OTLP__METRIC__DATA_EXPONENTIAL_HISTOGRAM;
	m3.exponential_histogram = &eh;

	Otlp__Metric m4 = OTLP__METRIC__INIT; /* no data: rejected, reported in partial_success */
	m4.name = "pb.nodata";

	Otlp__Metric *ms[] = {&m1, &m2, &m3, &m4};
	Otlp__ScopeMetrics sm = OTLP__SCOPE_METRICS__INIT;
	sm.n_metrics = 4;
	sm.metrics = ms;
	Otlp__ScopeMetrics *sms[] = {&sm};
	Otlp__ResourceMetrics rm = OTLP__RESOURCE_METRICS__INIT;
	rm.resource = &res;
	rm.n_scope_metrics = 1;
	rm.scope_metrics = sms;
	Otlp__ResourceMetrics *rms[] = {&rm};
	Otlp__ExportMetricsServiceRequest req = OTLP__EXPORT_METRICS_SERVICE_REQUEST__INIT;
	req.n_resource_metrics = 1;
	req.resource_metrics = rms;
	size_t n = otlp__export_metrics_service_request__get_packed_size(&req);
	uint8_t *pb = pane_xmalloc(n);
	otlp__export_metrics_service_request__pack(&req, pb);

	const char *pbh[] = {"Content-Type: application/x-protobuf", NULL};
	char url[256];
	snprintf(url, sizeof url, "%s/v1/metrics", base);
	struct pt_http_result r = {0};
	assert_int_equal(pt_http("POST", url, pbh, (const char *)pb, n, &r), 0);
	assert_int_equal(r.status, 200);
	Otlp__ExportMetricsServiceResponse *resp =
	    otlp__export_metrics_service_response__unpack(NULL, r.len, (const uint8_t *)r.body);
	assert_non_null(resp);
	assert_non_null(resp->partial_success);
	assert_int_equal(resp->partial_success->rejected_data_points, 1);
	assert_non_null(strstr(resp->partial_success->error_message, "pb_nodata"));
	otlp__export_metrics_service_response__free_unpacked(resp, NULL);
	pt_http_result_free(&r);

	const struct pt_rec_sample *s = pt_recorder_find(rec, "pb_gauge", "service", "pb.svc", "environment", "staging",
	                                                 "k", "v", "provider", "app", NULL);
	assert_non_null(s);
	assert_true(s->value == 1.5);
	assert_int_equal(s->ts_ms, 1544712660300);
	assert_true(pt_recorder_find(rec, "pb_delta_total", NULL)->value == 2);
	assert_true(pt_recorder_find(rec, "pb_expo_bucket", "le", "0", NULL)->value == 1);
	assert_true(pt_recorder_find(rec, "pb_expo_bucket", "le", "2", NULL)->value == 2);
	assert_true(pt_recorder_find(rec, "pb_expo_bucket", "le", "4", NULL)->value == 4);
	assert_true(pt_recorder_find(rec, "pb_expo_bucket", "le", "+Inf", NULL)->value == 4);
	assert_true(pt_recorder_find(rec, "pb_expo_count", NULL)->value == 4);
	assert_true(pt_recorder_find(rec, "pb_expo_sum", NULL)->value == 7);

	/* the same request gzip-compressed: the delta adds up to a running total */
	size_t gzn;
	char *gz = gzip_of(pb, n, &gzn);
	const char *gzh[] = {"Content-Type: application/x-protobuf", "Content-Encoding: gzip", NULL};
	assert_int_equal(post("/v1/metrics", gzh, gz, gzn, NULL), 200);
	assert_true(pt_recorder_find(rec, "pb_delta_total", NULL)->value == 4);
	assert_int_equal(post("/v1/metrics", gzh, gz, gzn / 2, NULL), 400); /* truncated gzip */
	free(gz);

	/* a message nested deeper than any OTLP request is refused before decoding */
	struct pane_buf deep, tmp;
	pane_buf_init(&deep, PANE_BUF_NOLIMIT);
	pane_buf_init(&tmp, PANE_BUF_NOLIMIT);
	for (int i = 0; i < 401; i++) { /* KeyValue{value: AnyValue{kvlist_value: KeyValueList{values: <deep>}}} */
		/* values=1, kvlist_value=6, value=2; last: Resource.attributes=1, ResourceLogs.resource=1,
		 * ExportLogsServiceRequest.resource_logs=1 */
		static const uint8_t tags[] = {0x0a, 0x32, 0x12}, outer[] = {0x0a, 0x0a, 0x0a};
		for (int t = 0; t < 3; t++) {
			uint8_t tag = i < 400 ? tags[t] : outer[t];
			pane_buf_reset(&tmp);
			pane_buf_addc(&tmp, (char)tag);
			for (size_t v = deep.len;; v >>= 7) { /* varint length */
				pane_buf_addc(&tmp, (char)((v & 0x7f) | (v >> 7 ? 0x80 : 0)));
				if (!(v >> 7))
					break;
			}
			pane_buf_add(&tmp, deep.data, deep.len);
			pane_buf_reset(&deep);
			pane_buf_add(&deep, tmp.data, tmp.len);
		}
	}
	char *msg = NULL;
	assert_int_equal(post("/v1/logs", pbh, deep.data, deep.len, &msg), 400);
	assert_non_null(strstr(msg, "nest more than"));
	free(msg);
	pane_buf_release(&deep);
	pane_buf_release(&tmp);

	free(pb);
	kv_free(rattrs[0]);
	kv_free(rattrs[1]);
	kv_free(pattrs[0]);

	/* logs: protobuf, bytes trace id as hex */
	Otlp__KeyValue *la[] = {kv("http.route", "/orders")};
	Otlp__AnyValue body = OTLP__ANY_VALUE__INIT;
	body.value_case = OTLP__ANY_VALUE__VALUE_STRING_VALUE;
	body.string_value = "order placed";
	uint8_t tid[16] = {0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03,
	                   0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c};
	Otlp__LogRecord lr = OTLP__LOG_RECORD__INIT;
	lr.time_unix_nano = 1544712660300000000ull;
	lr.severity_number = 17;
	lr.body = &body;
	lr.n_attributes = 1;
	lr.attributes = la;
	lr.trace_id.data = tid;
	lr.trace_id.len = 16;
	Otlp__LogRecord *lrs[] = {&lr};
	Otlp__ScopeLogs sl = OTLP__SCOPE_LOGS__INIT;
	sl.n_log_records = 1;
	sl.log_records = lrs;
	Otlp__ScopeLogs *sls[] = {&sl};
	Otlp__KeyValue *lra[] = {kv("service.name", "pb.svc")};
	Otlp__Resource lres = OTLP__RESOURCE__INIT;
	lres.n_attributes = 1;
	lres.attributes = lra;
	Otlp__ResourceLogs rl = OTLP__RESOURCE_LOGS__INIT;
	rl.resource = &lres;
	rl.n_scope_logs = 1;
	rl.scope_logs = sls;
	Otlp__ResourceLogs *rls[] = {&rl};
	Otlp__ExportLogsServiceRequest lreq = OTLP__EXPORT_LOGS_SERVICE_REQUEST__INIT;
	lreq.n_resource_logs = 1;
	lreq.resource_logs = rls;
	n = otlp__export_logs_service_request__get_packed_size(&lreq);
	pb = pane_xmalloc(n);
	otlp__export_logs_service_request__pack(&lreq, pb);
	size_t logs0 = rec->n_logs;
	snprintf(url, sizeof url, "%s/v1/logs", base);
	memset(&r, 0, sizeof r);
	assert_int_equal(pt_http("POST", url, pbh, (const char *)pb, n, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 0); /* an empty ExportLogsServiceResponse: all accepted */
	pt_http_result_free(&r);
	assert_int_equal(rec->n_logs, logs0 + 1);
	struct pt_rec_log *l = &rec->logs[logs0];
	assert_string_equal(l->message, "order placed");
	assert_int_equal(l->severity, PANE_SEV_ERROR);
	assert_int_equal(l->ts_ms, 1544712660300);
	assert_string_equal(pane_labels_get(&l->labels, "service"), "pb.svc");
	assert_non_null(strstr(l->fields_json, "\"http.route\":\"/orders\""));
	assert_non_null(strstr(l->fields_json, "\"trace_id\":\"5b8efff798038103d269b633813fc60c\""));
	free(pb);
	kv_free(la[0]);
	kv_free(lra[0]);
}

/* exponential histograms with negative buckets, delta histograms, and a scale pane cannot express */
static void otlp_expo_and_delta(void **state)
{
	(void)state;
	const char *json[] = {"Content-Type: application/json", NULL};
	static const char body[] =
	    "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":["
	    "{\"name\":\"ex\",\"exponentialHistogram\":{\"aggregationTemporality\":2,\"dataPoints\":[{\"scale\":1,"
	    "\"count\":\"6\",\"sum\":-1.5,\"zeroCount\":\"1\",\"zeroThreshold\":0.001,"
	    "\"positive\":{\"offset\":0,\"bucketCounts\":[\"2\"]},\"negative\":{\"offset\":1,\"bucketCounts\":[\"1\","
	    "\"2\"]}}]}},"
	    "{\"name\":\"dh\",\"histogram\":{\"aggregationTemporality\":1,\"dataPoints\":[{\"count\":\"3\",\"sum\":6,"
	    "\"bucketCounts\":[\"1\",\"2\"],\"explicitBounds\":[1]}]}},"
	    "{\"name\":\"badscale\",\"exponentialHistogram\":{\"dataPoints\":[{\"scale\":21,\"count\":\"1\"}]}}"
	    "]}]}]}";
	char *out = NULL;
	for (int round = 1; round <= 2; round++) {
		assert_int_equal(post("/v1/metrics", json, body, sizeof body - 1, &out), 200);
		assert_non_null(strstr(out, "\"rejectedDataPoints\":\"1\""));
		assert_non_null(strstr(out, "scale must be between -10 and 20"));
		free(out);
	}
	/* scale 1: base sqrt(2); negative index 2 holds (-2.83, -2], index 1 (-2, -1.41]: le = -base^index */
	assert_true(pt_recorder_find(rec, "ex_bucket", "le", "-2", NULL)->value == 2);
	assert_true(pt_recorder_find(rec, "ex_bucket", "le", "-1.4142135623730951", NULL)->value == 3);
	assert_true(pt_recorder_find(rec, "ex_bucket", "le", "0.001", NULL)->value == 4);
	assert_true(pt_recorder_find(rec, "ex_bucket", "le", "1.4142135623730951", NULL)->value == 6);
	assert_true(pt_recorder_find(rec, "ex_bucket", "le", "+Inf", NULL)->value == 6);
	assert_true(pt_recorder_find(rec, "ex_sum", NULL)->value == -1.5);
	/* the delta histogram, sent twice: running totals per bucket */
	assert_true(pt_recorder_find(rec, "dh_bucket", "le", "1", NULL)->value == 2);
	assert_true(pt_recorder_find(rec, "dh_bucket", "le", "+Inf", NULL)->value == 6);
	assert_true(pt_recorder_find(rec, "dh_count", NULL)->value == 6);
	assert_true(pt_recorder_find(rec, "dh_sum", NULL)->value == 12);
}

static void loki_and_jsonlines(void **state)
{
	(void)state;
	const char *json[] = {"Content-Type: application/json", NULL};
	const char loki[] =
	    "{\"streams\":[{\"stream\":{\"source\":\"edge_logs\",\"project\":\"abc\",\"level\":\"error\"},"
	    "\"values\":[[\"1570818238000000000\",\"{\\\"msg\\\":\\\"GET /rest/v1/orders "
	    "200\\\"}\",{\"trace_id\":\"0242ac120002\"}],"
	    "[\"notanumber\",\"x\"]]}]}";
	size_t logs0 = rec->n_logs;
	char *body = NULL;
	assert_int_equal(post("/loki/api/v1/push", json, loki, sizeof loki - 1, &body), 400);
	assert_non_null(strstr(body, "1 entries refused, 1 written"));
	free(body);
	assert_int_equal(rec->n_logs, logs0 + 1);
	struct pt_rec_log *l = &rec->logs[logs0];
	assert_int_equal(l->ts_ms, 1570818238000);
	assert_int_equal(l->severity, PANE_SEV_ERROR);
	assert_string_equal(pane_labels_get(&l->labels, "source"), "edge_logs");
	assert_string_equal(l->fields_json, "{\"trace_id\":\"0242ac120002\"}");
	assert_int_equal(post("/loki/api/v1/push", NULL, loki, sizeof loki - 1, NULL), 415);

	const char jl[] = "{\"ts\":\"2026-11-28T12:00:00Z\",\"level\":\"warn\",\"msg\":\"disk low\",\"free_mb\":12}\n"
	                  "not json\n"
	                  "{\"time\":1764331200,\"message\":\"second\"}\n";
	logs0 = rec->n_logs;
	assert_int_equal(post("/api/v1/push/jsonlines?service=api&environment=prod", NULL, jl, sizeof jl - 1, &body),
	                 200);
	assert_non_null(strstr(body, "\"accepted\":2,\"rejected\":1"));
	free(body);
	l = &rec->logs[logs0];
	assert_string_equal(l->message, "disk low");
	assert_int_equal(l->severity, PANE_SEV_WARN);
	assert_string_equal(l->fields_json, "{\"free_mb\":12}");
	assert_string_equal(pane_labels_get(&l->labels, "service"), "api");
	assert_int_equal(rec->logs[logs0 + 1].ts_ms, 1764331200000);
}

static void loki_protobuf(void **state)
{
	(void)state;
	Loki__Timestamp t1 = LOKI__TIMESTAMP__INIT, t2 = LOKI__TIMESTAMP__INIT;
	t1.seconds = 1570818238;
	t1.nanos = 5000000;
	t2.seconds = 1570818239;
	Loki__LabelPairAdapter md = LOKI__LABEL_PAIR_ADAPTER__INIT;
	md.name = "trace_id";
	md.value = "0242ac120002";
	Loki__LabelPairAdapter *mds[] = {&md};
	Loki__EntryAdapter e1 = LOKI__ENTRY_ADAPTER__INIT, e2 = LOKI__ENTRY_ADAPTER__INIT;
	e1.timestamp = &t1;
	e1.line = "GET /rest/v1/orders 200";
	e1.n_structured_metadata = 1;
	e1.structured_metadata = mds;
	e2.timestamp = &t2;
	e2.line = "second line";
	Loki__EntryAdapter *es[] = {&e1, &e2};
	Loki__StreamAdapter s1 = LOKI__STREAM_ADAPTER__INIT, s2 = LOKI__STREAM_ADAPTER__INIT;
	s1.labels = "{source=\"edge_logs\", level=\"warn\", project=\"a\\\"b\"}";
	s1.n_entries = 2;
	s1.entries = es;
	s2.labels = "{unclosed=\"x\""; /* not a selector: its entry is refused */
	s2.n_entries = 1;
	s2.entries = es;
	Loki__StreamAdapter *ss[] = {&s1, &s2};
	Loki__PushRequest req = LOKI__PUSH_REQUEST__INIT;
	req.n_streams = 2;
	req.streams = ss;
	size_t n = loki__push_request__get_packed_size(&req);
	uint8_t *pb = pane_xmalloc(n);
	loki__push_request__pack(&req, pb);
	size_t zn = snappy_max_compressed_length(n);
	char *z = pane_xmalloc(zn);
	assert_int_equal(snappy_compress((const char *)pb, n, z, &zn), SNAPPY_OK);
	const char *h[] = {"Content-Type: application/x-protobuf", NULL};
	size_t logs0 = rec->n_logs;
	char *body = NULL;
	assert_int_equal(post("/loki/api/v1/push", h, z, zn, &body), 400);
	assert_non_null(strstr(body, "1 entries refused, 2 written"));
	free(body);
	assert_int_equal(rec->n_logs, logs0 + 2);
	struct pt_rec_log *l = &rec->logs[logs0];
	assert_int_equal(l->ts_ms, 1570818238005);
	assert_int_equal(l->severity, PANE_SEV_WARN);
	assert_string_equal(l->message, "GET /rest/v1/orders 200");
	assert_string_equal(pane_labels_get(&l->labels, "source"), "edge_logs");
	assert_string_equal(pane_labels_get(&l->labels, "project"), "a\"b");
	assert_string_equal(l->fields_json, "{\"trace_id\":\"0242ac120002\"}");
	assert_null(rec->logs[logs0 + 1].fields_json);

	req.n_streams = 1; /* only the good stream: 204 */
	n = loki__push_request__get_packed_size(&req);
	loki__push_request__pack(&req, pb);
	zn = snappy_max_compressed_length(n);
	assert_int_equal(snappy_compress((const char *)pb, n, z, &zn), SNAPPY_OK);
	assert_int_equal(post("/loki/api/v1/push", h, z, zn, NULL), 204);
	assert_int_equal(post("/loki/api/v1/push", h, (const char *)pb, n, NULL), 400); /* not snappy */
	free(pb);
	free(z);
}

static void store_refuses_503(void **state)
{
	(void)state;
	pthread_mutex_lock(&rec->mu);
	rec->fail_next = 1;
	pthread_mutex_unlock(&rec->mu);
	const char *t = "refused_metric 1\n";
	char *body = NULL;
	assert_int_equal(post("/api/v1/import/prometheus", NULL, t, strlen(t), &body), 503);
	assert_non_null(strstr(body, "store_unavailable"));
	free(body);
	struct pane_buf m;
	pane_buf_init(&m, PANE_BUF_NOLIMIT);
	pane_stats_render(stats, &m);
	assert_non_null(strstr(m.data, "pane_receiver_rejected_total{receiver=\"remote_write\"} 1"));
	pane_buf_release(&m);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(remote_write_good_and_bad),
	    cmocka_unit_test(remote_write_2_refused),
	    cmocka_unit_test(import_text),
	    cmocka_unit_test(otlp_json),
	    cmocka_unit_test(otlp_protobuf),
	    cmocka_unit_test(otlp_expo_and_delta),
	    cmocka_unit_test(loki_and_jsonlines),
	    cmocka_unit_test(loki_protobuf),
	    cmocka_unit_test(store_refuses_503),
	};
	int rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
