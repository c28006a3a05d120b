/*
 * store_bench.c - the store's side of bench/run-store.sh.
 *
 *   store_bench read DIR [REPEAT]      select every series over all time,
 *                                      REPEAT times; prints samples, series
 *                                      and the median wall ms
 *   store_bench hours DIR [REPEAT]     every series over each whole hour of
 *                                      the data in turn (a look at a past
 *                                      hour); prints the hours, the sum of
 *                                      their median wall ms and the slowest
 *   store_bench live DIR SERIES SCRAPES
 *                                      ingests like a live daemon (one batch per
 *                                      scrape of SERIES series, 15 s apart) and
 *                                      prints resident memory per active series
 *   store_bench bytes DIR              disk bytes, samples and codec choices
 *   store_bench rules DIR [ROUNDS]     the reads of bench/run-rules.sh' round:
 *                                      1000 selects of one job's series
 *                                      (bench_requests_total{job="jN"}, N < 50)
 *                                      over the 5 minutes before the data's
 *                                      last 20; prints the median wall and CPU
 *                                      ms per round
 *   store_bench tier DIR [REPEAT]      pane_store_select_tier (1 h, avg) of
 *                                      every series from 1970 on, REPEAT
 *                                      times (the blobs' decoding); prints
 *                                      buckets, a checksum of them (as read's)
 *                                      and the median wall and CPU ms
 */
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/mem.h"
#include "store/store.h"

static long status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t kl = strlen(key);
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, key, kl) == 0)
			v = strtol(line + kl + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static struct pane_store *open_dir(const char *dir, bool fresh)
{
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.dir = dir;
	o.retention_ms = 0;
	o.ooo_window_ms = INT64_MAX / 4;
	o.max_future_ms = 0;
	o.fsync = PANE_FSYNC_NEVER;
	(void)fresh;
	struct pane_err err = {0};
	struct pane_store *st = pane_store_open(&o, &err);
	if (!st) {
		fprintf(stderr, "store_bench: %s\n", err.msg);
		exit(1);
	}
	return st;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* FNV-1a over every timestamp and value's bits of set, in order: two
 * stores of the same samples, written by any versions, read the same */
static uint64_t set_checksum(const struct pane_series_set *set, size_t *samples)
{
	uint64_t sum = 0xcbf29ce484222325ull;
	*samples = 0;
	for (size_t i = 0; i < set->n; i++) {
		*samples += set->series[i].n;
		for (size_t j = 0; j < set->series[i].n; j++) {
			uint64_t w[2] = {(uint64_t)set->series[i].ts[j], 0};
			memcpy(&w[1], &set->series[i].values[j], 8);
			const uint8_t *b = (const uint8_t *)w;
			for (size_t x = 0; x < sizeof w; x++)
				sum = (sum ^ b[x]) * 0x100000001b3ull;
		}
	}
	return sum;
}

static int cmd_read(const char *dir, int repeat)
{
	struct pane_store *st = open_dir(dir, false);
	struct pane_reader r = pane_store_reader(st);
	double ms[64];
	size_t samples = 0, series = 0;
	uint64_t sum = 0;
	if (repeat > 64)
		repeat = 64;
	for (int k = 0; k < repeat; k++) {
		struct pane_series_set *set = NULL;
		struct pane_err err = {0};
		int64_t t0 = pane_mono_ns();
		if (r.ops->select(r.ctx, NULL, 0, INT64_MIN, INT64_MAX, 0, &set, &err) < 0) {
			fprintf(stderr, "store_bench: %s\n", err.msg);
			return 1;
		}
		ms[k] = (double)(pane_mono_ns() - t0) / 1e6;
		series = set->n;
		if (k == 0) /* once: outside the timing, and not per repetition */
			sum = set_checksum(set, &samples);
		set->free(set);
	}
	qsort(ms, (size_t)repeat, sizeof *ms, cmp_d);
	printf("read_series %zu\nread_samples %zu\nread_checksum %016" PRIx64 "\nread_ms_median %.1f\n", series,
	       samples, sum, ms[repeat / 2]);
	pane_store_close(st);
	return 0;
}

/* The first and last timestamps of everything in the store behind r. */
static int data_span(struct pane_reader r, int64_t *first, int64_t *last)
{
	struct pane_series_set *set = NULL;
	struct pane_err err = {0};
	if (r.ops->select(r.ctx, NULL, 0, INT64_MIN, INT64_MAX, 0, &set, &err) < 0) {
		fprintf(stderr, "store_bench: %s\n", err.msg);
		return -1;
	}
	*first = INT64_MAX;
	*last = INT64_MIN;
	for (size_t i = 0; i < set->n; i++) {
		const struct pane_series *ps = &set->series[i];
		if (ps->n && ps->ts[0] < *first)
			*first = ps->ts[0];
		if (ps->n && ps->ts[ps->n - 1] > *last)
			*last = ps->ts[ps->n - 1];
	}
	set->free(set);
	if (*first > *last) {
		fprintf(stderr, "store_bench: the store holds no samples\n");
		return -1;
	}
	return 0;
}

static int cmd_hours(const char *dir, int repeat)
{
	struct pane_store *st = open_dir(dir, false);
	struct pane_reader r = pane_store_reader(st);
	int64_t first, last;
	if (data_span(r, &first, &last) < 0)
		return 1;
	if (repeat > 64)
		repeat = 64;
	if (repeat < 1)
		repeat = 1;
	double total = 0, worst = 0;
	size_t samples = 0, hours = 0;
	for (int64_t h = (first + 3599999) / 3600000 * 3600000; h + 3600000 <= last + 1; h += 3600000, hours++) {
		double ms[64];
		for (int k = 0; k < repeat; k++) {
			struct pane_series_set *set = NULL;
			struct pane_err err = {0};
			int64_t t0 = pane_mono_ns();
			if (r.ops->select(r.ctx, NULL, 0, h, h + 3599999, 0, &set, &err) < 0) {
				fprintf(stderr, "store_bench: %s\n", err.msg);
				return 1;
			}
			ms[k] = (double)(pane_mono_ns() - t0) / 1e6;
			for (size_t i = 0; k == 0 && i < set->n; i++)
				samples += set->series[i].n;
			set->free(set);
		}
		qsort(ms, (size_t)repeat, sizeof *ms, cmp_d);
		total += ms[repeat / 2];
		worst = ms[repeat / 2] > worst ? ms[repeat / 2] : worst;
	}
	printf("hours %zu\nhours_samples %zu\nhours_ms_sum %.1f\nhours_ms_worst %.1f\n", hours, samples, total, worst);
	pane_store_close(st);
	return 0;
}

static double cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmd_tier(const char *dir, int repeat)
{
	struct pane_store *st = open_dir(dir, false);
	double ms[64], cpu[64];
	size_t buckets = 0;
	uint64_t sum = 0;
	if (repeat > 64)
		repeat = 64;
	if (repeat < 1)
		repeat = 1;
	for (int k = 0; k < repeat; k++) {
		struct pane_series_set *set = NULL;
		struct pane_err err = {0};
		int64_t t0 = pane_mono_ns();
		double c0 = cpu_ms();
		if (pane_store_select_tier(st, 3600000, PANE_AGG_AVG, NULL, 0, 0, INT64_MAX, 0, &set, &err) < 0) {
			fprintf(stderr, "store_bench: %s\n", err.msg);
			return 1;
		}
		ms[k] = (double)(pane_mono_ns() - t0) / 1e6;
		cpu[k] = cpu_ms() - c0;
		if (k == 0) /* once, as cmd_read */
			sum = set_checksum(set, &buckets);
		set->free(set);
	}
	qsort(ms, (size_t)repeat, sizeof *ms, cmp_d);
	qsort(cpu, (size_t)repeat, sizeof *cpu, cmp_d);
	printf("tier_buckets %zu\ntier_checksum %016" PRIx64 "\ntier_ms_median %.2f\ntier_cpu_ms_median %.2f\n",
	       buckets, sum, ms[repeat / 2], cpu[repeat / 2]);
	pane_store_close(st);
	return 0;
}

static int cmd_rules(const char *dir, int rounds)
{
	struct pane_store *st = open_dir(dir, false);
	struct pane_reader r = pane_store_reader(st);
	struct pane_series_set *set = NULL;
	struct pane_err err = {0};
	int64_t first, last;
	if (data_span(r, &first, &last) < 0)
		return 1;
	int64_t t1 = last - 20 * 60000, t0 = t1 - 5 * 60000;
	double ms[64], cpu[64];
	size_t samples = 0;
	if (rounds > 64)
		rounds = 64;
	if (rounds < 1)
		rounds = 1;
	for (int k = 0; k < rounds; k++) {
		int64_t w0 = pane_mono_ns();
		double c0 = cpu_ms();
		samples = 0;
		for (int q = 0; q < 1000; q++) {
			char job[16];
			snprintf(job, sizeof job, "j%d", q % 50);
			struct pane_matcher m[2] = {
			    {.op = PANE_MATCH_EQ, .name = "__name__", .value = "bench_requests_total"},
			    {.op = PANE_MATCH_EQ, .name = "job", .value = job}};
			if (r.ops->select(r.ctx, m, 2, t0, t1, 0, &set, &err) < 0) {
				fprintf(stderr, "store_bench: %s\n", err.msg);
				return 1;
			}
			for (size_t i = 0; i < set->n; i++)
				samples += set->series[i].n;
			set->free(set);
		}
		ms[k] = (double)(pane_mono_ns() - w0) / 1e6;
		cpu[k] = cpu_ms() - c0;
	}
	qsort(ms, (size_t)rounds, sizeof *ms, cmp_d);
	qsort(cpu, (size_t)rounds, sizeof *cpu, cmp_d);
	printf("rules_round_samples %zu\nrules_round_ms_median %.1f\nrules_round_cpu_ms_median %.1f\n", samples,
	       ms[rounds / 2], cpu[rounds / 2]);
	pane_store_close(st);
	return 0;
}

static int cmd_live(const char *dir, int nseries, int scrapes)
{
	long before = status_kb("VmRSS:");
	size_t heap0 = mallinfo2().uordblks;
	struct pane_store *st = open_dir(dir, true);
	char(*inst)[16] = pane_xcalloc((size_t)nseries, 16);
	struct pane_label *lab = pane_xcalloc((size_t)nseries * 2, sizeof *lab);
	struct pane_labels *ls = pane_xcalloc((size_t)nseries, sizeof *ls);
	struct pane_sample *b = pane_xcalloc((size_t)nseries, sizeof *b);
	double *v = pane_xcalloc((size_t)nseries, sizeof *v);
	for (int s = 0; s < nseries; s++) {
		snprintf(inst[s], 16, "h%d", s);
		lab[2 * s] = (struct pane_label){"instance", inst[s]};
		lab[2 * s + 1] = (struct pane_label){"job", s % 2 ? "node" : "api"};
		ls[s] = (struct pane_labels){&lab[2 * s], 2, 2, false};
		v[s] = (double)(s * 1000);
	}
	srand(1);
	int64_t t = 1700006400000;
	for (int k = 0; k < scrapes; k++, t += 15000) {
		for (int s = 0; s < nseries; s++) {
			v[s] += s % 3 ? (double)(rand() % 500) : 0.25 * (rand() % 9);
			b[s] = (struct pane_sample){s % 4 ? "requests_total" : "cpu_seconds_total", &ls[s],
			                            t + rand() % 5, v[s]};
		}
		struct pane_err err = {0};
		if (pane_store_write(st, b, (size_t)nseries, NULL, &err) < 0) {
			fprintf(stderr, "store_bench: %s\n", err.msg);
			return 1;
		}
	}
	long after = status_kb("VmRSS:"), peak = status_kb("VmHWM:");
	size_t heap1 = mallinfo2().uordblks;
	printf("live_series %d\nlive_scrapes %d\nrss_kb_before %ld\nrss_kb_after %ld\npeak_kb %ld\n"
	       "bytes_per_active_series %.0f\nheap_bytes_per_active_series %.0f\n",
	       nseries, scrapes, before, after, peak, (double)(after - before) * 1024.0 / nseries,
	       (double)(heap1 - heap0) / nseries);
	/* reading what is still in memory: every series over the last hour, as
	 * a dashboard would (after the figures above, so they do not include it) */
	struct pane_reader r = pane_store_reader(st);
	double ms[5];
	size_t got = 0;
	for (int k = 0; k < 5; k++) {
		struct pane_series_set *set = NULL;
		struct pane_err err = {0};
		int64_t t0 = pane_mono_ns();
		if (r.ops->select(r.ctx, NULL, 0, t - 3600000, t, 0, &set, &err) < 0) {
			fprintf(stderr, "store_bench: %s\n", err.msg);
			return 1;
		}
		ms[k] = (double)(pane_mono_ns() - t0) / 1e6;
		got = 0;
		for (size_t i = 0; i < set->n; i++)
			got += set->series[i].n;
		set->free(set);
	}
	qsort(ms, 5, sizeof *ms, cmp_d);
	printf("live_read_samples %zu\nlive_read_ms_median %.1f\n", got, ms[2]);
	pane_store_close(st);
	free(inst);
	free(lab);
	free(ls);
	free(b);
	free(v);
	return 0;
}

static int cmd_bytes(const char *dir)
{
	struct pane_store *st = open_dir(dir, false);
	struct pane_store_counters c;
	pane_store_get_counters(st, &c);
	printf("series %" PRIu64 "\n", c.series);
	pane_store_close(st);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "read") == 0)
		return cmd_read(argv[2], argc > 3 ? (int)strtol(argv[3], NULL, 10) : 5);
	if (argc >= 3 && strcmp(argv[1], "hours") == 0)
		return cmd_hours(argv[2], argc > 3 ? (int)strtol(argv[3], NULL, 10) : 5);
	if (argc == 5 && strcmp(argv[1], "live") == 0)
		return cmd_live(argv[2], (int)strtol(argv[3], NULL, 10), (int)strtol(argv[4], NULL, 10));
	if (argc == 3 && strcmp(argv[1], "bytes") == 0)
		return cmd_bytes(argv[2]);
	if (argc >= 3 && strcmp(argv[1], "tier") == 0)
		return cmd_tier(argv[2], argc > 3 ? (int)strtol(argv[3], NULL, 10) : 5);
	if (argc >= 3 && strcmp(argv[1], "rules") == 0)
		return cmd_rules(argv[2], argc > 3 ? (int)strtol(argv[3], NULL, 10) : 5);
	fprintf(stderr, "usage: store_bench read DIR [REPEAT] | hours DIR [REPEAT] | live DIR SERIES SCRAPES | bytes "
	                "DIR | rules DIR [ROUNDS] | tier DIR [REPEAT]\n");
	return 2;
}
