/*
 * otlp_bench.c - decode + map cost of the OTLP and Loki protobuf receivers
 * per core, beside the JSON form and remote_write, in process.
 *
 *   otlp_bench [ROUNDS]      (default 7)
 *
 * Each request carries the same 2,000 samples (20 metric names x 100
 * hosts, labels service / instance / shard): an ExportMetricsServiceRequest
 * in protobuf (built with protobuf-c from pane's otlp.proto), the same
 * request in its JSON form, and a remote_write WriteRequest (snappy). Each is handed to
 * its receiver function (decode, map, write into a pipeline with a
 * discarding primary sink) in a loop on one thread; the figure is samples
 * per thread-CPU-second, the median of ROUNDS rounds. Loki: a PushRequest
 * of 10 streams x 200 lines (~100 bytes, structured metadata on every
 * tenth), snappy-compressed, through pane_loki_push_pb after
 * pane_snappy_decode: lines per CPU-second.
 * Output: "name value unit" lines. Nothing here asserts anything.
 */
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/mem.h"
#include "pipeline/pipeline.h"
#include "receivers/cumulate.h"
#include "receivers/logpush.h"
#include "receivers/loki_push.pb-c.h"
#include "receivers/otlp.h"
#include "receivers/otlp.pb-c.h"
#include "receivers/remote_write.h"

enum { HOSTS = 100, NAMES = 20, SAMPLES = HOSTS * NAMES };

static unsigned long long written;
static int d_samples(void *ctx, const struct pane_sample *s, size_t n, size_t *acc, struct pane_err *err)
{
	(void)ctx, (void)s, (void)err;
	written += n;
	*acc = n;
	return 0;
}
static int d_logs(void *ctx, const struct pane_log_record *l, size_t n, struct pane_err *err)
{
	(void)ctx, (void)l, (void)err;
	written += n;
	return 0;
}
static int d_meta(void *ctx, const struct pane_metadata *m, size_t n, struct pane_err *err)
{
	(void)ctx, (void)m, (void)n, (void)err;
	return 0;
}
static const struct pane_sink_ops discard = {
    .name = "discard", .write_samples = d_samples, .write_logs = d_logs, .write_metadata = d_meta};

static double cpu_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static Otlp__KeyValue *kv(const char *k, const char *v)
{
	Otlp__KeyValue *a = pane_xcalloc(1, sizeof *a);
	Otlp__AnyValue *val = pane_xcalloc(1, sizeof *val);
	otlp__key_value__init(a);
	otlp__any_value__init(val);
	val->value_case = OTLP__ANY_VALUE__VALUE_STRING_VALUE;
	val->string_value = pane_xstrdup(v);
	a->key = pane_xstrdup(k);
	a->value = val;
	return a;
}

/* The OTLP request as protobuf bytes (heap, *len). */
static uint8_t *otlp_request(size_t *len)
{
	Otlp__ExportMetricsServiceRequest req = OTLP__EXPORT_METRICS_SERVICE_REQUEST__INIT;
	Otlp__ResourceMetrics rm = OTLP__RESOURCE_METRICS__INIT;
	Otlp__Resource res = OTLP__RESOURCE__INIT;
	Otlp__KeyValue *rattr[] = {kv("service.name", "bench")};
	res.n_attributes = 1;
	res.attributes = rattr;
	rm.resource = &res;
	Otlp__ScopeMetrics sm = OTLP__SCOPE_METRICS__INIT;
	Otlp__Metric *ms[NAMES];
	Otlp__Gauge g[NAMES];
	Otlp__NumberDataPoint *dps[NAMES][HOSTS];
	for (int m = 0; m < NAMES; m++) {
		ms[m] = pane_xcalloc(1, sizeof **ms);
		otlp__metric__init(ms[m]);
		char name[32];
		snprintf(name, sizeof name, "bench_metric_%d", m);
		ms[m]->name = pane_xstrdup(name);
		otlp__gauge__init(&g[m]);
		for (int h = 0; h < HOSTS; h++) {
			Otlp__NumberDataPoint *d = dps[m][h] = pane_xcalloc(1, sizeof *d);
			otlp__number_data_point__init(d);
			char host[32], shard[16];
			snprintf(host, sizeof host, "host-%d", h);
			snprintf(shard, sizeof shard, "%d", m);
			d->n_attributes = 2;
			d->attributes = pane_xmalloc(2 * sizeof *d->attributes);
			d->attributes[0] = kv("instance", host);
			d->attributes[1] = kv("shard", shard);
			d->time_unix_nano = 1764331200000000000ull;
			d->value_case = OTLP__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
			d->as_double = m * HOSTS + h;
		}
		g[m].n_data_points = HOSTS;
		g[m].data_points = dps[m];
		ms[m]->data_case = OTLP__METRIC__DATA_GAUGE;
		ms[m]->gauge = &g[m];
	}
	sm.n_metrics = NAMES;
	sm.metrics = ms;
	Otlp__ScopeMetrics *sms[] = {&sm};
	rm.n_scope_metrics = 1;
	rm.scope_metrics = sms;
	Otlp__ResourceMetrics *rms[] = {&rm};
	req.n_resource_metrics = 1;
	req.resource_metrics = rms;
	*len = otlp__export_metrics_service_request__get_packed_size(&req);
	uint8_t *pb = pane_xmalloc(*len);
	otlp__export_metrics_service_request__pack(&req, pb);
	/* the builders above are freed by protobuf-c's own free (same layout as unpacked) */
	for (int m = 0; m < NAMES; m++) {
		ms[m]->gauge = NULL;
		ms[m]->data_case = OTLP__METRIC__DATA__NOT_SET;
		for (int h = 0; h < HOSTS; h++)
			protobuf_c_message_free_unpacked(&dps[m][h]->base, NULL);
		protobuf_c_message_free_unpacked(&ms[m]->base, NULL);
	}
	protobuf_c_message_free_unpacked(&rattr[0]->base, NULL);
	return pb;
}

/* The same request in its JSON form (as the SDKs' http/json exporters write it). */
static char *otlp_json_request(void)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	pane_buf_adds(&b, "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
	                  "\"value\":{\"stringValue\":\"bench\"}}]},\"scopeMetrics\":[{\"metrics\":[");
	for (int m = 0; m < NAMES; m++) {
		pane_buf_addf(&b, "%s{\"name\":\"bench_metric_%d\",\"gauge\":{\"dataPoints\":[", m ? "," : "", m);
		for (int h = 0; h < HOSTS; h++)
			pane_buf_addf(
			    &b,
			    "%s{\"attributes\":[{\"key\":\"instance\",\"value\":{\"stringValue\":\"host-%d\"}},"
			    "{\"key\":\"shard\",\"value\":{\"stringValue\":\"%d\"}}],"
			    "\"timeUnixNano\":\"1764331200000000000\",\"asDouble\":%d}",
			    h ? "," : "", h, m, m * HOSTS + h);
		pane_buf_adds(&b, "]}}");
	}
	pane_buf_adds(&b, "]}]}]}");
	return pane_buf_detach(&b, NULL);
}

static char *rw_request(size_t *len)
{
	struct pane_sample *s = pane_xcalloc(SAMPLES, sizeof *s);
	struct pane_labels *ls = pane_xcalloc(SAMPLES, sizeof *ls);
	char(*names)[32] = pane_xcalloc(SAMPLES, 32);
	for (int i = 0; i < SAMPLES; i++) {
		int m = i / HOSTS, h = i % HOSTS;
		char v[32];
		pane_labels_init(&ls[i]);
		snprintf(v, sizeof v, "host-%d", h);
		pane_labels_set(&ls[i], "instance", v);
		snprintf(v, sizeof v, "%d", m);
		pane_labels_set(&ls[i], "shard", v);
		pane_labels_set(&ls[i], "service", "bench");
		pane_labels_set(&ls[i], "provider", "app");
		snprintf(names[i], 32, "bench_metric_%d", m);
		s[i] = (struct pane_sample){.name = names[i], .labels = &ls[i], .ts_ms = 1764331200000, .value = i};
	}
	struct pane_buf pb;
	pane_buf_init(&pb, PANE_BUF_NOLIMIT);
	pane_remote_write_encode(s, SAMPLES, &pb);
	for (int i = 0; i < SAMPLES; i++)
		pane_labels_release(&ls[i]);
	free(s);
	free(ls);
	free(names);
	size_t cap = snappy_max_compressed_length(pb.len);
	char *z = pane_xmalloc(cap);
	snappy_compress(pb.data, pb.len, z, &cap);
	pane_buf_release(&pb);
	*len = cap;
	return z;
}

static char *loki_request(size_t *len, size_t *lines)
{
	enum { STREAMS = 10, PER = 200 };
	Loki__PushRequest req = LOKI__PUSH_REQUEST__INIT;
	Loki__StreamAdapter st[STREAMS], *sts[STREAMS];
	Loki__EntryAdapter en[STREAMS][PER], *ens[STREAMS][PER];
	Loki__Timestamp ts[STREAMS][PER];
	Loki__LabelPairAdapter md = LOKI__LABEL_PAIR_ADAPTER__INIT, *mds[] = {&md};
	md.name = "trace_id";
	md.value = "4bf92f3577b34da6a3ce929d0e0e4736";
	char sel[STREAMS][96], line[STREAMS][PER][128];
	for (int s = 0; s < STREAMS; s++) {
		loki__stream_adapter__init(&st[s]);
		snprintf(sel[s], sizeof sel[s], "{job=\"promtail\", service=\"svc-%d\", level=\"info\", host=\"h%d\"}",
		         s, s);
		st[s].labels = sel[s];
		for (int e = 0; e < PER; e++) {
			loki__entry_adapter__init(&en[s][e]);
			loki__timestamp__init(&ts[s][e]);
			ts[s][e].seconds = 1764331200 + e;
			ts[s][e].nanos = s * 1000;
			snprintf(line[s][e], sizeof line[s][e],
			         "level=info ts=2026-11-28T12:00:%02d msg=\"GET /api/orders/%d 200\" duration_ms=%d",
			         e % 60, e, e % 97);
			en[s][e].timestamp = &ts[s][e];
			en[s][e].line = line[s][e];
			if (e % 10 == 0) {
				en[s][e].n_structured_metadata = 1;
				en[s][e].structured_metadata = mds;
			}
			ens[s][e] = &en[s][e];
		}
		st[s].n_entries = PER;
		st[s].entries = ens[s];
		sts[s] = &st[s];
	}
	req.n_streams = STREAMS;
	req.streams = sts;
	size_t n = loki__push_request__get_packed_size(&req);
	uint8_t *pb = pane_xmalloc(n);
	loki__push_request__pack(&req, pb);
	size_t cap = snappy_max_compressed_length(n);
	char *z = pane_xmalloc(cap);
	snappy_compress((const char *)pb, n, z, &cap);
	free(pb);
	*len = cap;
	*lines = STREAMS * PER;
	return z;
}

enum kind { K_OTLP_PB, K_OTLP_JSON, K_RW, K_LOKI };

static int to_pipeline(void *arg, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	return pane_pipeline_write_samples(arg, s, n, err);
}

static void one(enum kind k, struct pane_pipeline *p, const char *body, size_t len)
{
	struct pane_err e = {0};
	if (k == K_OTLP_PB || k == K_OTLP_JSON) {
		struct pane_otlp_opts o = {.now_ms = 1764331200000};
		struct pane_otlp_result r;
		pane_otlp_metrics(p, body, len, k == K_OTLP_PB, &o, &r, &e);
	} else if (k == K_RW) {
		char *pb;
		size_t n;
		pane_snappy_decode(body, len, 64u << 20, &pb, &n, &e);
		struct pane_rw_result r;
		pane_remote_write_decode(pb, n, to_pipeline, p, &r, &e);
		free(pb);
	} else {
		char *pb;
		size_t n;
		pane_snappy_decode(body, len, 64u << 20, &pb, &n, &e);
		struct pane_logpush_result r;
		pane_loki_push_pb(p, pb, n, 256u << 20, NULL, &r, &e);
		free(pb);
	}
}

/* records per CPU-second: the median of rounds, each >= ~0.3 s of CPU */
static double measure(enum kind k, struct pane_pipeline *p, const char *body, size_t len, int rounds)
{
	double *r = pane_xcalloc((size_t)rounds, sizeof *r);
	for (int i = 0; i < rounds; i++) {
		unsigned long long w0 = written;
		double t0 = cpu_now(), t1;
		do
			one(k, p, body, len);
		while ((t1 = cpu_now()) - t0 < 0.3);
		r[i] = (double)(written - w0) / (t1 - t0);
	}
	qsort(r, (size_t)rounds, sizeof *r, cmp_d);
	double m = r[rounds / 2];
	free(r);
	return m;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 7;
	if (rounds < 1)
		rounds = 1;
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_add_sink(p, (struct pane_sink){.ops = &discard}, PANE_SINK_PRIMARY);
	size_t pbn, rwn, lkn, lines;
	uint8_t *pb = otlp_request(&pbn);
	char *js = otlp_json_request();
	char *rw = rw_request(&rwn);
	char *lk = loki_request(&lkn, &lines);
	printf("request_bytes otlp_protobuf=%zu otlp_json=%zu remote_write_snappy=%zu loki_snappy=%zu\n", pbn,
	       strlen(js), rwn, lkn);
	double opb = measure(K_OTLP_PB, p, (const char *)pb, pbn, rounds);
	double ojs = measure(K_OTLP_JSON, p, js, strlen(js), rounds);
	double orw = measure(K_RW, p, rw, rwn, rounds);
	double olk = measure(K_LOKI, p, lk, lkn, rounds);
	printf("otlp_protobuf_samples_per_cpu_s %.0f\n", opb);
	printf("otlp_json_samples_per_cpu_s %.0f\n", ojs);
	printf("remote_write_samples_per_cpu_s %.0f\n", orw);
	printf("loki_protobuf_lines_per_cpu_s %.0f\n", olk);
	printf("ratio otlp_protobuf/json %.2f, otlp_protobuf/remote_write %.2f\n", opb / ojs, opb / orw);
	free(pb);
	free(js);
	free(rw);
	free(lk);
	pane_pipeline_free(p);
	return 0;
}
