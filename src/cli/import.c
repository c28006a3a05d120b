/*
 * import.c - `pane import`: load Prometheus text (with millisecond timestamps)
 * into a data directory's store, for backfill and benchmarks.
 *
 * Idea: import is a producer like any receiver. The file is read in blocks
 * of whole lines and parsed by the receivers' text parser
 * (receivers/promtext.h, the one that reads POST /api/v1/import/prometheus
 * and scrapes); HELP/TYPE go through a pipeline whose primary sink is the
 * store, opened without per-batch fsync and closed (persisted, synced) at
 * the end. Bad lines are reported with their line number and skipped; the
 * exit status says whether any were.
 *
 * Samples skip the pipeline (the store is its only sink here) for the
 * store's write by reference: a file repeats each series text thousands of
 * times, so the parser keeps a series cache (receivers/promcache.h) across
 * blocks, and each cache entry keeps the store's reference of its series.
 * A line of a known series is then a value and a timestamp parsed and a
 * head append: no label parsing, sorting or series key built again. The
 * cache is bounded (CACHE_MAX); past it lines are parsed and resolved as
 * without it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/mem.h"
#include "base/signals.h"
#include "cli/cli.h"
#include "pipeline/pipeline.h"
#include "receivers/promcache.h"
#include "receivers/promtext.h"
#include "store/store.h"

#define BLOCK (8u << 20)      /* bytes read at a time; a longer line is refused */
#define BAD_LISTED 10         /* bad lines listed on stderr (all are counted) */
#define CACHE_MAX (64u << 20) /* bytes of series cache: ~200,000 series of ~300 B */

static const char import_usage[] =
    "usage: pane import --format prometheus FILE [--data-dir DIR] [--label NAME=VALUE]... [--wal] [--tiers LIST]\n";

struct progress {
	bool tty;
	int64_t total, last_ns, start_ns;
};

static void progress_show(struct progress *pg, int64_t done, uint64_t samples, bool final)
{
	if (!pg->tty)
		return;
	int64_t now = pane_mono_ns();
	if (!final && now - pg->last_ns < 200000000)
		return;
	pg->last_ns = now;
	double secs = (double)(now - pg->start_ns) / 1e9;
	double rate = secs > 0 ? (double)samples / secs : 0;
	if (pg->total > 0) {
		int pct = (int)(done * 100 / pg->total);
		char bar[31];
		for (int i = 0; i < 30; i++)
			bar[i] = i < pct * 30 / 100 ? '#' : ' ';
		bar[30] = '\0';
		fprintf(stderr, "\r[%s] %3d%%  %" PRIu64 " samples  %.0f samples/s ", bar, pct, samples, rate);
	} else {
		fprintf(stderr, "\r%" PRIu64 " samples  %.0f samples/s ", samples, rate);
	}
	if (final)
		fputc('\n', stderr);
}

struct import {
	struct pane_pipeline *p; /* HELP/TYPE */
	struct pane_store *st;   /* samples (pane_store_write_refs) */
	struct pane_promcache *cache;
	uint32_t *refs; /* scratch: the refs of a batch */
	size_t cap_refs;
	const struct pane_labels *defaults; /* --label: filled in where a series lacks them */
	const char *file;
	struct progress pg;
	int64_t done; /* bytes read */
	uint64_t imported, rejected, bad;
	bool stopped; /* interrupted (SIGINT/SIGTERM) */
};

static int deliver(void *arg, const struct pane_sample *s, struct pane_promcache_entry *const *e, size_t n,
                   struct pane_err *err)
{
	struct import *im = arg;
	if (n > im->cap_refs) {
		im->cap_refs = n;
		im->refs = pane_xrealloc(im->refs, pane_mul_size(n, sizeof *im->refs));
	}
	for (size_t i = 0; i < n; i++)
		im->refs[i] = e[i] ? (uint32_t)e[i]->ref : 0;
	size_t acc = 0;
	int rc = pane_store_write_refs(im->st, s, im->refs, n, &acc, err);
	for (size_t i = 0; i < n; i++)
		if (e[i])
			e[i]->ref = im->refs[i];
	if (rc < 0)
		return rc;
	im->imported += acc;
	im->rejected += n - acc;
	progress_show(&im->pg, im->done, im->imported, false);
	if (pane_signals_stop_requested()) {
		im->stopped = true;
		return pane_err_set(err, PANE_EINVAL, "interrupted");
	}
	return 0;
}

static int discard(void *arg, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	(void)arg, (void)s, (void)n, (void)err;
	return 0;
}

/* "line N: what: text" (the parser's, N within the block) -> "what: text" */
static const char *without_line(const char *msg)
{
	const char *c = strncmp(msg, "line ", 5) == 0 ? strstr(msg, ": ") : NULL;
	return c ? c + 2 : msg;
}

static void report_bad(struct import *im, uint64_t lineno, const char *msg)
{
	if (++im->bad <= BAD_LISTED)
		fprintf(stderr, "%spane import: %s:%" PRIu64 ": %s\n", im->pg.tty ? "\n" : "", im->file, lineno,
		        without_line(msg));
}

/* Parses text[0..len) (whole lines) whose first line is number first_line. */
static int import_block(struct import *im, const char *text, size_t len, uint64_t first_line, int64_t now,
                        struct pane_err *err)
{
	struct pane_promtext_opts o = {
	    .default_ts_ms = now,
	    .meta = pane_promtext_meta_to_pipeline,
	    .meta_arg = im->p,
	    .defaults = im->defaults,
	};
	struct pane_promtext_result res = {0};
	int rc = pane_promtext_parse_cached(text, len, &o, im->cache, deliver, im, &res, err);
	if (rc < 0 || res.bad_lines == 0)
		return rc;
	if (res.bad_lines == 1) {
		report_bad(im, first_line + res.line - 1, res.first_error);
		return 0;
	}
	/* several: find each one (lines parsed alone, their samples discarded) */
	uint64_t found = 0, lineno = first_line;
	struct pane_promtext_opts alone = {.default_ts_ms = now};
	for (size_t i = 0; i < len; lineno++) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - (text + i)) : len - i;
		struct pane_promtext_result r = {0};
		struct pane_err e = {0};
		if (pane_promtext_parse(text + i, ll, &alone, discard, NULL, &r, &e) == 0 && r.bad_lines) {
			report_bad(im, lineno, r.first_error);
			found++;
		}
		i += ll + 1;
	}
	if (found < res.bad_lines) /* a line bad only in context (metadata order) */
		im->bad += res.bad_lines - found;
	return 0;
}

static int import_cmd(int argc, char **argv, struct pane_labels *defaults)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"data-dir", required_argument, NULL, 'd'},
	    {"wal", no_argument, NULL, 'w'},
	    {"tiers", required_argument, NULL, 't'},
	    {"label", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {0, 0, 0, 0},
	};

	const char *format = NULL, *data_dir = "./pane-data";
	bool with_wal = false;
	const char *tiers = "1h";
	int c;
	opterr = 0;
	optind = 0; /* GNU: re-initialise (main parsed with "+") so options may follow FILE */
	while ((c = getopt_long(argc, argv, "f:d:wt:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': {
			const char *eq = strchr(optarg, '=');
			if (!eq || !pane_label_name_valid(optarg, (size_t)(eq - optarg)) || !strncmp(optarg, "__", 2))
				return pane_cli_usage_error("import", import_usage,
				                            "--label '%s' is not NAME=VALUE with a valid label name",
				                            optarg);
			pane_labels_setn(defaults, optarg, (size_t)(eq - optarg), eq + 1, strlen(eq + 1));
			break;
		}
		case 'f': format = optarg; break;
		case 'd': data_dir = optarg; break;
		case 'w': with_wal = true; break;
		case 't': tiers = optarg; break;
		case 'h':
			printf("pane import - load Prometheus text data into a data directory (backfill, "
			       "benchmarks)\n\n%s\n"
			       "FILE holds lines `name{label=\"value\",...} VALUE [TIMESTAMP_MS]` (the format of\n"
			       "VictoriaMetrics' /api/v1/import/prometheus); '#' lines are skipped, a missing\n"
			       "timestamp means now. FILE may be '-' for standard input. Samples go to DIR/store,\n"
			       "the store `pane serve --data-dir DIR` uses; stop the daemon first (the store\n"
			       "takes a lock). Bad lines are reported with their number and skipped.\n\n"
			       "options:\n"
			       "  -f, --format prometheus  input format (the only one so far)\n"
			       "  -d, --data-dir DIR       data directory (default ./pane-data)\n"
			       "  -l, --label NAME=VALUE   a label every series gets where it lacks one, e.g.\n"
			       "                           --label service=api --label environment=production\n"
			       "                           (as receivers.default_labels does for pushes; repeat)\n"
			       "      --wal                also write the WAL (by default a bulk load writes segments\n"
			       "                           only, like promtool; an interrupted import is run again)\n"
			       "      --tiers LIST         downsampled tiers to store: none, 1h (default), 5m, 5m,1h\n"
			       "  -h, --help               this help\n\n"
			       "A progress bar is shown when stderr is a terminal. Exit status 0 when every\n"
			       "line was imported, 1 when some were skipped or rejected, 2 for usage errors.\n",
			       import_usage);
			return PANE_EXIT_OK;
		default: return pane_cli_bad_option("import", import_usage, argv);
		}
	}
	if (!format)
		return pane_cli_usage_error("import", import_usage, "--format is required (prometheus)");
	if (strcmp(format, "prometheus") != 0)
		return pane_cli_usage_error("import", import_usage, "unknown format '%s' (only 'prometheus')", format);
	unsigned tier_mask;
	if (pane_store_parse_tiers(tiers, &tier_mask) < 0)
		return pane_cli_usage_error("import", import_usage, "--tiers '%s' is not none, 1h, 5m or 5m,1h", tiers);
	if (optind >= argc)
		return pane_cli_usage_error("import", import_usage, "no FILE given");
	if (optind + 1 < argc)
		return pane_cli_usage_error("import", import_usage, "unexpected argument '%s'", argv[optind + 1]);
	const char *file = argv[optind];
	FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	if (!in) {
		fprintf(stderr, "pane import: cannot open %s: %s\n", file, strerror(errno));
		return PANE_EXIT_FAILURE;
	}
	struct import im = {.file = file,
	                    .defaults = defaults->n ? defaults : NULL,
	                    .pg = {.tty = pane_cli_is_tty(), .start_ns = pane_mono_ns()}};
	struct stat sb;
	if (in != stdin && fstat(fileno(in), &sb) == 0)
		im.pg.total = (int64_t)sb.st_size;

	char dir[4096];
	snprintf(dir, sizeof dir, "%s/store", data_dir);
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.dir = dir;
	o.retention_ms = 0;              /* an import keeps what it is given */
	o.ooo_window_ms = INT64_MAX / 4; /* and in any order */
	o.max_future_ms = 0;             /* and at any time */
	o.fsync = PANE_FSYNC_NEVER;      /* close() syncs everything at the end */
	o.tiers = tier_mask;
	o.no_wal = !with_wal; /* like promtool, a bulk load writes segments only */
	struct pane_err err = {0};
	struct pane_store *st = pane_store_open(&o, &err);
	if (!st) {
		if (in != stdin)
			fclose(in);
		return pane_cli_fail("import", &err);
	}
	pane_signals_install();
	im.p = pane_pipeline_new();
	pane_pipeline_add_sink(im.p, pane_store_sink(st), PANE_SINK_PRIMARY);
	im.st = st;
	im.cache = pane_promcache_new(CACHE_MAX);
	char *buf = pane_xmalloc(BLOCK);
	size_t have = 0;
	uint64_t lineno = 1;
	int64_t now = pane_wall_ms();
	int status = PANE_EXIT_OK;
	bool skipping = false; /* inside a line longer than BLOCK */
	for (;;) {
		size_t got = fread(buf + have, 1, BLOCK - have, in);
		have += got;
		im.done += (int64_t)got;
		bool eof = got == 0;
		if (eof && ferror(in)) {
			fprintf(stderr, "pane import: read error on %s: %s\n", file, strerror(errno));
			status = PANE_EXIT_FAILURE;
			break;
		}
		/* whole lines only, unless the input ends without a newline */
		size_t upto = have;
		if (!eof) {
			const char *last = have ? memrchr(buf, '\n', have) : NULL;
			if (!last) { /* a line longer than the block: refuse it, skip to its end */
				if (!skipping)
					report_bad(&im, lineno, "line longer than 8 MiB");
				skipping = true;
				have = 0;
				continue;
			}
			upto = (size_t)(last - buf) + 1;
		}
		size_t start = 0;
		if (skipping) { /* the rest of the long line */
			const char *nl = memchr(buf, '\n', upto);
			start = nl ? (size_t)(nl - buf) + 1 : upto;
			lineno++;
			skipping = false;
		}
		if (upto > start && import_block(&im, buf + start, upto - start, lineno, now, &err) < 0) {
			if (im.stopped)
				fprintf(stderr, "\npane import: interrupted; what was imported so far is kept\n");
			else
				pane_cli_fail("import", &err);
			status = PANE_EXIT_FAILURE;
			break;
		}
		/* memchr, not a loop a byte: that loop was 9% of an import's CPU */
		for (const char *q = buf + start, *end = buf + upto; (q = memchr(q, '\n', (size_t)(end - q))) != NULL;
		     q++)
			lineno++;
		memmove(buf, buf + upto, have - upto);
		have -= upto;
		if (eof)
			break;
	}
	free(buf);
	pane_promcache_free(im.cache);
	free(im.refs);
	pane_pipeline_free(im.p); /* the store's sink flushes at close */
	progress_show(&im.pg, im.done, im.imported, true);
	struct pane_store_counters cnt;
	pane_store_get_counters(st, &cnt);
	pane_store_close(st); /* persists and syncs */
	double secs = (double)(pane_mono_ns() - im.pg.start_ns) / 1e9;
	printf("imported %" PRIu64 " samples into %s (%" PRIu64 " series in the store) in %.1f s\n", im.imported, dir,
	       cnt.series, secs);
	if (im.bad)
		fprintf(stderr, "pane import: %" PRIu64 " bad line(s) skipped (the first are listed above)\n", im.bad);
	if (im.rejected)
		fprintf(stderr, "pane import: %" PRIu64 " sample(s) rejected by the store (limits; see its log)\n",
		        im.rejected);
	if (status == PANE_EXIT_OK && (im.bad || im.rejected))
		status = PANE_EXIT_FAILURE;
	if (in != stdin)
		fclose(in);
	return status;
}

int pane_cmd_import(int argc, char **argv)
{
	struct pane_labels defaults;
	pane_labels_init(&defaults);
	int rc = import_cmd(argc, argv, &defaults);
	pane_labels_release(&defaults);
	return rc;
}
