/*
 * receivers_bench.c - throughput of pane's receivers, with the peer where
 * there is one.
 *
 *   receivers_bench statsd [SECONDS]        UDP lines/s aggregated on loopback (and loss)
 *   receivers_bench promtext [MB]           Prometheus text parse MB/s (one core)
 *   receivers_bench rw URL [REQUESTS]       POST a fixed remote_write stream to URL
 *                                           (pane or VictoriaMetrics), print samples/s
 *   receivers_bench serve-rw PORTFILE       pane's remote_write receiver into a
 *                                           discarding recorder sink, for `rw`
 *
 * Figures go to stdout as "name value unit" lines; run-receivers.sh
 * combines them with the peer's. Nothing here asserts anything.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "base/signals.h"
#include "http/server.h"
#include "pipeline/pipeline.h"
#include "receivers/promtext.h"
#include "receivers/receivers.h"
#include "receivers/remote_write.h"
#include "receivers/statsd.h"

/* a sink that only counts */
static _Atomic unsigned long long discarded;
static int discard_samples(void *ctx, const struct pane_sample *s, size_t n, size_t *acc, struct pane_err *err)
{
	(void)ctx;
	(void)s;
	(void)err;
	discarded += n;
	if (acc)
		*acc = n;
	return 0;
}
static const struct pane_sink_ops discard_ops = {.name = "discard", .write_samples = discard_samples};

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* ---- statsd ---- */

static int bench_statsd(double seconds)
{
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_add_sink(p, (struct pane_sink){.ops = &discard_ops}, PANE_SINK_PRIMARY);
	struct pane_err err = {0};
	struct pane_statsd *sd = pane_statsd_new(
	    p, &(struct pane_statsd_opts){.udp_listen = "127.0.0.1:0", .flush_interval_ms = 1000, .rcvbuf = 32u << 20},
	    &err);
	if (!sd) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	/* packets of 20 lines over 1,000 series, ~700 bytes, as clients batch them */
	enum { PKTS = 256, LINES = 20 };
	char *pkts[PKTS];
	size_t lens[PKTS];
	for (int i = 0; i < PKTS; i++) {
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		for (int l = 0; l < LINES; l++) {
			int k = (i * LINES + l) % 1000;
			switch (k % 4) {
			case 0: pane_buf_addf(&b, "app.requests.%d:1|c|#route:/r%d,env:prod\n", k, k % 10); break;
			case 1: pane_buf_addf(&b, "app.latency.%d:%d|ms|#route:/r%d\n", k, k % 300, k % 10); break;
			case 2: pane_buf_addf(&b, "app.pool.%d:%d|g\n", k, k); break;
			default: pane_buf_addf(&b, "app.hist.%d:%d|h|@0.5\n", k, k); break;
			}
		}
		lens[i] = b.len;
		pkts[i] = pane_buf_detach(&b, NULL);
	}
	/* in-process: the aggregator alone, one core */
	struct pane_statsd_agg *a = pane_statsd_agg_new(NULL);
	int64_t t0 = pane_mono_ns();
	unsigned long long lines = 0;
	while (pane_mono_ns() - t0 < (int64_t)(seconds * 1e9 / 2))
		for (int i = 0; i < PKTS; i++)
			lines += pane_statsd_agg_feed(a, pkts[i], lens[i]);
	double dt = (double)(pane_mono_ns() - t0) / 1e9;
	printf("statsd_aggregate_lines_per_s %.0f lines/s (in-process, one thread)\n", (double)lines / dt);
	pane_statsd_agg_free(a);

	/* over loopback UDP: paced in rounds so the kernel buffer never
	 * overflows; a round waits until the listener has counted it */
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)pane_statsd_port(sd))};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	struct pane_statsd_agg *sa_agg = pane_statsd_aggregator(sd);
	struct pane_statsd_agg_counts c;
	unsigned long long sent = 0;
	double c0 = cpu_seconds();
	t0 = pane_mono_ns();
	while (pane_mono_ns() - t0 < (int64_t)(seconds * 1e9 / 2)) {
		for (int r = 0; r < 16; r++)
			for (int i = 0; i < PKTS; i++) {
				if (sendto(fd, pkts[i], lens[i], 0, (struct sockaddr *)&sa, sizeof sa) < 0)
					perror("sendto");
				sent += LINES;
			}
		for (int spin = 0; spin < 2000; spin++) {
			pane_statsd_agg_counts(sa_agg, &c);
			if (c.lines >= sent)
				break;
			usleep(100);
		}
	}
	pane_statsd_agg_counts(sa_agg, &c);
	dt = (double)(pane_mono_ns() - t0) / 1e9;
	double cpu = cpu_seconds() - c0;
	printf("statsd_udp_lines_per_s %.0f lines/s (loopback, sender and listener in one process, %.2f CPU-s for %.2f "
	       "s)\n",
	       (double)c.lines / dt, cpu, dt);
	printf("statsd_udp_lost %llu of %llu lines\n", sent - c.lines, sent);
	close(fd);
	pane_statsd_free(sd);
	pane_pipeline_free(p);
	for (int i = 0; i < PKTS; i++)
		free(pkts[i]);
	return 0;
}

/* ---- promtext ---- */

static int count_cb(void *arg, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	(void)s;
	(void)err;
	*(size_t *)arg += n;
	return 0;
}

static int count_meta(void *arg, const struct pane_metadata *m, size_t n, struct pane_err *err)
{
	(void)m;
	(void)err;
	*(size_t *)arg += n;
	return 0;
}

static int bench_promtext(size_t mb)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	for (int i = 0; b.len < mb << 20; i++) {
		if (i % 50 == 0)
			pane_buf_addf(&b, "# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n"
			                  "# TYPE node_cpu_seconds_total counter\n");
		pane_buf_addf(&b, "node_cpu_seconds_total{cpu=\"%d\",mode=\"idle\"} %d.%02d\n", i % 64, i * 7, i % 100);
		pane_buf_addf(&b, "http_request_duration_seconds_bucket{handler=\"/api/v1/query\",le=\"0.%d\"} %d\n",
		              i % 10, i);
		pane_buf_addf(&b, "go_memstats_alloc_bytes %d\n", i * 1024);
	}
	size_t n = 0;
	struct pane_promtext_opts o = {.default_ts_ms = 1};
	struct pane_promtext_result r;
	double best = 0;
	for (int round = 0; round < 3; round++) {
		int64_t t0 = pane_mono_ns();
		pane_promtext_parse(b.data, b.len, &o, count_cb, &n, &r, NULL);
		double dt = (double)(pane_mono_ns() - t0) / 1e9;
		double mbs = (double)b.len / (1 << 20) / dt;
		printf("promtext_round%d %.1f MB/s (%zu samples, %.0f samples/s)\n", round + 1, mbs, r.samples,
		       (double)r.samples / dt);
		if (mbs > best)
			best = mbs;
	}
	printf("promtext_parse_MB_per_s %.1f MB/s (best of 3, %zu MB, one thread)\n", best, mb);
	/* the same with HELP/TYPE delivered as metadata (what scrape and push do) */
	size_t families = 0;
	o.meta = count_meta;
	o.meta_arg = &families;
	double best_meta = 0;
	for (int round = 0; round < 3; round++) {
		int64_t t0 = pane_mono_ns();
		pane_promtext_parse(b.data, b.len, &o, count_cb, &n, &r, NULL);
		double mbs = (double)b.len / (1 << 20) / ((double)(pane_mono_ns() - t0) / 1e9);
		if (mbs > best_meta)
			best_meta = mbs;
	}
	printf("promtext_parse_with_metadata_MB_per_s %.1f MB/s (best of 3; %zu metadata entries; %.2fx without)\n",
	       best_meta, families, best_meta / best);
	pane_buf_release(&b);
	return 0;
}

/* ---- remote_write ---- */

enum { RW_SERIES = 2000 };

static char *rw_body(int req, size_t *len)
{
	struct pane_sample s[RW_SERIES];
	struct pane_labels ls[RW_SERIES];
	char names[RW_SERIES][32];
	for (int i = 0; i < RW_SERIES; i++) {
		pane_labels_init(&ls[i]);
		char v[32];
		snprintf(v, sizeof v, "host-%d", i % 100);
		pane_labels_set(&ls[i], "instance", v);
		pane_labels_set(&ls[i], "job", "bench");
		snprintf(v, sizeof v, "%d", i / 100);
		pane_labels_set(&ls[i], "shard", v);
		snprintf(names[i], sizeof names[i], "bench_metric_%d", i % 20);
		s[i] = (struct pane_sample){
		    .name = names[i], .labels = &ls[i], .ts_ms = 1764331200000 + (int64_t)req * 1000, .value = req + i};
	}
	struct pane_buf pb;
	pane_buf_init(&pb, PANE_BUF_NOLIMIT);
	pane_remote_write_encode(s, RW_SERIES, &pb);
	for (int i = 0; i < RW_SERIES; i++)
		pane_labels_release(&ls[i]);
	size_t cap = snappy_max_compressed_length(pb.len);
	char *z = pane_xmalloc(cap);
	snappy_compress(pb.data, pb.len, z, &cap);
	pane_buf_release(&pb);
	*len = cap;
	return z;
}

static size_t sink_cb(char *p, size_t s, size_t n, void *a)
{
	(void)p;
	(void)a;
	return s * n;
}

static int bench_rw(const char *url, int requests)
{
	char **bodies = pane_xcalloc((size_t)requests, sizeof *bodies);
	size_t *lens = pane_xcalloc((size_t)requests, sizeof *lens);
	for (int i = 0; i < requests; i++)
		bodies[i] = rw_body(i, &lens[i]);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *h = curl_easy_init();
	struct curl_slist *hl = NULL;
	hl = curl_slist_append(hl, "Content-Type: application/x-protobuf");
	hl = curl_slist_append(hl, "Content-Encoding: snappy");
	hl = curl_slist_append(hl, "X-Prometheus-Remote-Write-Version: 0.1.0");
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_cb);
	int bad = 0;
	int64_t t0 = pane_mono_ns();
	for (int i = 0; i < requests; i++) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, bodies[i]);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)lens[i]);
		long st = 0;
		if (curl_easy_perform(h) != CURLE_OK ||
		    (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st), st / 100 != 2))
			bad++;
	}
	double dt = (double)(pane_mono_ns() - t0) / 1e9;
	printf("rw_samples_per_s %.0f samples/s (%d requests x %d samples, %d failed, %.2f s)\n",
	       (double)requests * RW_SERIES / dt, requests, RW_SERIES, bad, dt);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	for (int i = 0; i < requests; i++)
		free(bodies[i]);
	free(bodies);
	free(lens);
	return bad ? 1 : 0;
}

static int serve_rw(const char *portfile)
{
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_add_sink(p, (struct pane_sink){.ops = &discard_ops}, PANE_SINK_PRIMARY);
	struct pane_err err = {0};
	pane_signals_install();
	struct pane_http_server *srv =
	    pane_http_server_new(&(struct pane_http_server_opts){.listen = "127.0.0.1:0", .threads = 2}, &err);
	struct pane_receivers_http *r = pane_receivers_routes(srv, p, NULL);
	if (pane_http_server_start(srv, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	FILE *f = fopen(portfile, "w");
	fprintf(f, "%d\n", pane_http_server_port(srv));
	fclose(f);
	pane_signals_wait(-1);
	pane_http_server_free(srv);
	pane_receivers_http_free(r);
	pane_pipeline_free(p);
	fprintf(stderr, "pane receiver discarded %llu samples\n", (unsigned long long)discarded);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "statsd"))
		return bench_statsd(argc > 2 ? strtod(argv[2], NULL) : 4);
	if (argc >= 2 && !strcmp(argv[1], "promtext"))
		return bench_promtext(argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 64);
	if (argc >= 3 && !strcmp(argv[1], "rw"))
		return bench_rw(argv[2], argc > 3 ? (int)strtol(argv[3], NULL, 10) : 200);
	if (argc >= 3 && !strcmp(argv[1], "serve-rw"))
		return serve_rw(argv[2]);
	fprintf(stderr,
	        "usage: receivers_bench statsd [SECONDS] | promtext [MB] | rw URL [REQUESTS] | serve-rw PORTFILE\n");
	return 2;
}
