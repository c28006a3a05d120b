/*
 * store_roll_bench.c - StatsD datagrams lost while the store rolls every
 * series into a new window (PANE_STORE_WINDOW_MS, 24 h) at once (issue #23).
 *
 * Idea: StatsD's aggregator holds its lock across the store write of a
 * flush, and its listener thread cannot take a datagram meanwhile; the
 * socket buffer absorbs only so much. A flush that lands in a new
 * window for every series is the worst store write there is (each head
 * becomes a segment), so the datagrams sent during it, against those the
 * aggregator counted, measure what that write costs the listener.
 *
 * Steps: a store and a pipeline in a temporary directory; a StatsD
 * listener on a loopback port (its own flush is pushed past the run);
 * `series` gauges fed straight into the aggregator and flushed `fill`
 * times, 10 s apart, at the end of an aligned window (fake
 * timestamps); then a sender thread sends counter datagrams at a fixed
 * rate for `secs` seconds while the main thread flushes once at the start
 * of the next window (the roll), then once more in the same window (a
 * control flush that persists nothing). Printed: the flush durations and
 * the datagrams sent, counted and lost.
 *
 *   store_roll_bench [series [fill [rate [secs]]]]   (10000 360 50000 4)
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "pipeline/pipeline.h"
#include "receivers/statsd.h"
#include "store/store.h"

struct sender {
	int port;
	long rate, secs;
	long sent;
};

static void *send_loop(void *arg)
{
	struct sender *s = arg;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int64_t t0 = pane_mono_ns();
	long total = s->rate * s->secs;
	for (long i = 0; i < total; i++) {
		/* pace: packet i goes out at t0 + i / rate */
		int64_t due = t0 + (int64_t)((double)i * 1e9 / (double)s->rate);
		while (pane_mono_ns() < due) {
			if (due - pane_mono_ns() > 200000)
				usleep(100);
		}
		static const char line[] = "bench.roll.hits:1|c";
		if (sendto(fd, line, sizeof line - 1, 0, (struct sockaddr *)&a, sizeof a) == (ssize_t)(sizeof line - 1))
			s->sent++;
	}
	close(fd);
	return NULL;
}

static uint64_t lines_counted(struct pane_statsd_agg *agg)
{
	struct pane_statsd_agg_counts c;
	pane_statsd_agg_counts(agg, &c);
	return c.lines;
}

int main(int argc, char **argv)
{
	long nser = argc > 1 ? atol(argv[1]) : 10000, fill = argc > 2 ? atol(argv[2]) : 360;
	long rate = argc > 3 ? atol(argv[3]) : 50000, secs = argc > 4 ? atol(argv[4]) : 4;
	char dir[] = "/tmp/pane-roll-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.dir = dir;
	o.retention_ms = 0;
	struct pane_err err = {0};
	struct pane_store *st = pane_store_open(&o, &err);
	if (!st) {
		fprintf(stderr, "open: %s\n", err.msg);
		return 1;
	}
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_add_sink(p, pane_store_sink(st), PANE_SINK_PRIMARY);
	struct pane_statsd_opts so = {.udp_listen = "127.0.0.1:0", .flush_interval_ms = 3600 * 1000LL};
	so.agg.series_ttl_ms = 365 * 86400000LL;
	so.agg.max_series = (size_t)nser + 100;
	struct pane_statsd *sd = pane_statsd_new(p, &so, &err);
	if (!sd) {
		fprintf(stderr, "statsd: %s\n", err.msg);
		return 1;
	}
	struct pane_statsd_agg *agg = pane_statsd_aggregator(sd);

	/* the window that ends just before the current one starts */
	int64_t now = pane_wall_ms();
	int64_t w1 = now / PANE_STORE_WINDOW_MS * PANE_STORE_WINDOW_MS, t = w1 - fill * 10000;
	char line[64];
	for (long k = 0; k < fill; k++, t += 10000) {
		for (long i = 0; i < nser; i++) {
			int n = snprintf(line, sizeof line, "bench.roll.g%ld:%ld|g", i, (k * 7 + i) % 1000);
			pane_statsd_agg_feed(agg, line, (size_t)n);
		}
		if (pane_statsd_agg_flush(agg, p, t, &err) < 0) {
			fprintf(stderr, "fill: %s\n", err.msg);
			return 1;
		}
	}
	pane_store_flush(st, &err);

	struct sender snd = {.port = pane_statsd_port(sd), .rate = rate, .secs = secs};
	for (long i = 0; i < nser; i++) {
		int n = snprintf(line, sizeof line, "bench.roll.g%ld:%ld|g", i, i % 1000);
		pane_statsd_agg_feed(agg, line, (size_t)n);
	}
	uint64_t before = lines_counted(agg);
	pthread_t th;
	pthread_create(&th, NULL, send_loop, &snd);
	usleep(500000);
	int64_t a0 = pane_mono_ns();
	int rc1 = pane_statsd_agg_flush(agg, p, w1 + 5000, &err); /* every series rolls */
	int64_t a1 = pane_mono_ns();
	usleep(300000);
	int rc2 = pane_statsd_agg_flush(agg, p, w1 + 15000, &err); /* same window: control */
	int64_t a2 = pane_mono_ns();
	pthread_join(th, NULL);
	/* the listener drains what is still queued: wait until the count stops moving */
	uint64_t got = lines_counted(agg) - before, prev = UINT64_MAX;
	for (int i = 0; i < 100 && got != prev && got < (uint64_t)snd.sent; i++) {
		prev = got;
		usleep(100000);
		got = lines_counted(agg) - before;
	}
	got = lines_counted(agg) - before;
	printf("series %ld, samples per head %ld, datagrams %ld/s for %ld s\n", nser, fill, rate, secs);
	printf("roll flush:    %8.1f ms%s\n", (double)(a1 - a0) / 1e6, rc1 ? " (failed)" : "");
	printf("control flush: %8.1f ms%s\n", (double)(a2 - a1 - 300000000LL) / 1e6, rc2 ? " (failed)" : "");
	printf("datagrams sent %ld, counted %" PRIu64 ", lost %ld (%.2f%%)\n", snd.sent, got, snd.sent - (long)got,
	       snd.sent ? 100.0 * (double)(snd.sent - (long)got) / (double)snd.sent : 0.0);
	pane_statsd_free(sd);
	int64_t c0 = pane_mono_ns();
	pane_pipeline_free(p);
	pane_store_close(st);
	printf("close:         %8.1f ms\n", (double)(pane_mono_ns() - c0) / 1e6);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) != 0;
}
