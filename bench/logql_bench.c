/* logql_bench.c - LogQL latency over a million log lines in pane's store.
 *
 *   logql_bench DIR [LINES] [FLATFILE]
 *
 * Writes LINES (default 1,000,000) logfmt lines from 10 services over one
 * hour into a fresh store in DIR (through pane_store_write_logs, so the FTS
 * index is built as in `pane serve`), optionally the same lines as
 * "UNIXSECONDS SERVICE LINE" to FLATFILE (for bench/run-logql.sh's awk
 * baseline), then times each query through the same path the Loki API
 * uses (pane_logql_eval over pane_store_logreader) and prints the median
 * of 5 runs in ms with the lines the store handed over. LINES 0 queries
 * what DIR already holds. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logql/logql.h"
#include "store/store.h"

#define T0_MS 1700000000000LL
#define HOUR_MS 3600000LL
#define RUNS 5

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void run(struct pane_store *st, const char *q, bool instant)
{
	struct pane_err e = {0};
	struct pane_logql_expr *x = pane_logql_parse(q, strlen(q), &e);
	if (!x) {
		fprintf(stderr, "logql_bench: %s: %s\n", q, e.msg);
		exit(1);
	}
	struct pane_logreader r = pane_store_logreader(st);
	const int64_t ms = 1000000;
	struct pane_logql_params p = {.start_ns = (T0_MS + 60000) * ms,
	                              .end_ns = (T0_MS + HOUR_MS) * ms,
	                              .step_ns = 60000 * ms,
	                              .instant = instant};
	if (instant)
		p.start_ns = p.end_ns;
	double t[RUNS];
	uint64_t lines = 0;
	size_t series = 0;
	for (int i = 0; i < RUNS; i++) {
		struct pane_logql_result res;
		double t0 = now_ms();
		if (pane_logql_eval(x, &r, &p, &res, &e) < 0) {
			fprintf(stderr, "logql_bench: %s: %s\n", q, e.msg);
			exit(1);
		}
		t[i] = now_ms() - t0;
		lines = res.lines_read;
		series = res.n_series;
		pane_logql_result_free(&res);
	}
	qsort(t, RUNS, sizeof t[0], cmp_d);
	printf("| `%s` | %s | %" PRIu64 " | %zu | %.0f | %.0f–%.0f |\n", q, instant ? "instant" : "range 1 h, step 1 m",
	       lines, series, t[RUNS / 2], t[0], t[RUNS - 1]);
	pane_logql_free(x);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: logql_bench DIR [LINES] [FLATFILE]\n");
		return 2;
	}
	size_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
	FILE *flat = argc > 3 ? fopen(argv[3], "w") : NULL;
	struct pane_store_opts so;
	pane_store_opts_default(&so);
	so.dir = argv[1];
	so.log_retention_ms = 0;
	struct pane_err e = {0};
	struct pane_store *st = pane_store_open(&so, &e);
	if (!st) {
		fprintf(stderr, "logql_bench: %s\n", e.msg);
		return 1;
	}
	static const char *const levels[] = {"info", "info", "info", "info", "warn", "error"};
	char svc[10][16];
	struct pane_label lab[10][3];
	struct pane_labels ls[10];
	for (int s = 0; s < 10; s++) {
		snprintf(svc[s], sizeof svc[s], "svc-%d", s);
		lab[s][0] = (struct pane_label){"environment", "prod"};
		lab[s][1] = (struct pane_label){"provider", "app"};
		lab[s][2] = (struct pane_label){"service", svc[s]};
		ls[s] = (struct pane_labels){lab[s], 3, 3, false};
	}
	enum { BATCH = 5000 };
	static struct pane_log_record recs[BATCH];
	static char msgs[BATCH][160];
	double t0 = now_ms();
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; n && i < n; i += BATCH) {
		size_t m = n - i < BATCH ? n - i : BATCH;
		for (size_t k = 0; k < m; k++) {
			size_t j = i + k;
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			int s = (int)(rng % 10);
			const char *lv = levels[(rng >> 8) % 6];
			bool timeout = (rng >> 16) % 100 == 0;
			snprintf(msgs[k], sizeof msgs[k],
			         "level=%s msg=\"%s\" path=/api/v1/items/%u status=%d duration=%ums", lv,
			         timeout ? "upstream timeout" : "request handled", (unsigned)((rng >> 20) % 10000),
			         timeout ? 504 : 200, (unsigned)((rng >> 40) % 900));
			int64_t ts = T0_MS + (int64_t)(j * (uint64_t)HOUR_MS / n);
			recs[k] = (struct pane_log_record){ts, &ls[s], PANE_SEV_INFO, msgs[k], strlen(msgs[k]), NULL};
			if (flat)
				fprintf(flat, "%" PRId64 " %s %s\n", ts / 1000, svc[s], msgs[k]);
		}
		if (pane_store_write_logs(st, recs, m, &e) < 0) {
			fprintf(stderr, "logql_bench: write: %s\n", e.msg);
			return 1;
		}
	}
	if (flat)
		fclose(flat);
	printf("wrote %zu lines in %.1f s\n\n", n, (now_ms() - t0) / 1000);
	printf("| query | type | lines read | series | median ms | min–max ms |\n|---|---|---:|---:|---:|---:|\n");
	run(st, "count_over_time({environment=\"prod\"}[1h])", true);
	run(st, "sum(count_over_time({environment=\"prod\"}[1m]))", false);
	run(st, "sum by (service) (count_over_time({service=~\"svc-.*\"}[1m]))", false);
	run(st, "sum(count_over_time({service=\"svc-3\"}[1m]))", false);
	run(st, "sum(count_over_time({environment=\"prod\"} |= \"timeout\" [1m]))", false);
	run(st, "sum by (level) (count_over_time({environment=\"prod\"} | logfmt [1m]))", false);
	pane_store_close(st);
	return 0;
}
