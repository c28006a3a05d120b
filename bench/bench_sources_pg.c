/*
 * bench_sources_pg.c - time pane's postgres source: N collections against
 * DATABASE_URL, printing the median and p90 milliseconds per collection and
 * the samples one collection writes. Used by bench/run-sources.sh, which
 * prints postgres_exporter's figures for the same database beside these.
 *
 *     bench_sources_pg RUNS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "config/config.h"
#include "pipeline/pipeline.h"
#include "sources/sources.h"

static size_t samples;

static int count_samples(void *ctx, const struct pane_sample *s, size_t n, size_t *acc, struct pane_err *err)
{
	(void)ctx, (void)s, (void)err;
	samples += n;
	if (acc)
		*acc = n;
	return 0;
}

static void nop_close(void *ctx)
{
	(void)ctx;
}

static const struct pane_sink_ops counter = {.name = "count", .write_samples = count_samples, .close = nop_close};

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long runs = argc > 1 ? strtol(argv[1], NULL, 10) : 50;
	if (runs < 1 || runs > 100000 || !getenv("DATABASE_URL")) {
		fprintf(stderr, "usage: DATABASE_URL=... bench_sources_pg RUNS\n");
		return 2;
	}
	const char *yaml = "sources:\n  db:\n    type: postgres\n    url: ${DATABASE_URL}\n";
	struct pane_err err = {0};
	struct pane_cfg *cfg = pane_cfg_parse("bench", yaml, strlen(yaml), &err);
	struct pane_pipeline *p = pane_pipeline_new();
	pane_pipeline_add_sink(p, (struct pane_sink){&counter, NULL}, PANE_SINK_PRIMARY);
	struct pane_sources_opts o = {.cfg = cfg, .section = pane_cfg_get(cfg->root, "sources"), .pipeline = p};
	struct pane_sources *ss = pane_sources_new(&o, &err);
	if (!ss || pane_sources_collect_once(ss, "db", &err) < 0) { /* warm-up: connect, learn versions */
		fprintf(stderr, "bench: %s\n", err.msg);
		return 1;
	}
	double *ms = calloc((size_t)runs, sizeof *ms);
	size_t per = 0;
	for (long i = 0; i < runs; i++) {
		samples = 0;
		int64_t t0 = pane_mono_ns();
		if (pane_sources_collect_once(ss, "db", &err) < 0) {
			fprintf(stderr, "bench: %s\n", err.msg);
			return 1;
		}
		ms[i] = (double)(pane_mono_ns() - t0) / 1e6;
		per = samples;
	}
	qsort(ms, (size_t)runs, sizeof *ms, cmp);
	printf("pane postgres source   median %.2f ms   p90 %.2f ms   %zu samples per collection (%ld runs)\n",
	       ms[runs / 2], ms[(runs * 9) / 10], per, runs);
	free(ms);
	pane_sources_free(ss);
	pane_pipeline_free(p);
	pane_cfg_free(cfg);
	return 0;
}
