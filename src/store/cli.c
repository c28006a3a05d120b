/*
 * cli.c - `pane import`: load Prometheus text (with millisecond timestamps)
 * into a data directory's store, for backfill and benchmarks.
 *
 * Idea: one pass over the file, line by line. The series part of a line
 * (`name{labels}`) is parsed once per distinct text and cached, so a long
 * history costs a hash lookup and a number parse per line. Samples go to the
 * store in batches; the store is opened without per-batch fsync and closed
 * (persisted, synced) at the end. Bad lines are reported with their line
 * number and skipped; the exit status says whether any were.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/map.h"
#include "base/mem.h"
#include "base/signals.h"
#include "base/str.h"
#include "cli/cli.h"
#include "store/promtext.h"
#include "store/store.h"

#define LINE_MAX_BYTES (1u << 20)
#define BATCH 8192
#define CACHE_MAX 2000000

static const char import_usage[] =
	"usage: pane import --format prometheus FILE [--data-dir DIR] [--wal] [--tiers LIST]\n";

struct cached {
	char *name;
	struct pane_labels labels;
};

static void cached_free(void *p)
{
	struct cached *c = p;
	free(c->name);
	pane_labels_release(&c->labels);
	free(c);
}

static struct cached *parse_series(const char *p, size_t len, const char **msg)
{
	struct cached *c = pane_xcalloc(1, sizeof *c);
	pane_labels_init(&c->labels);
	if (pane_prom_parse_series(p, len, &c->name, &c->labels, msg) < 0) {
		cached_free(c);
		return NULL;
	}
	return c;
}

/* Splits a sample line into series text, value and optional timestamp. */
static int split_line(const char *line, size_t len, size_t *series_len, struct pane_str *val, struct pane_str *ts)
{
	/* the series part ends after the closing brace, or at the first blank */
	size_t i = 0;
	bool in_braces = false, in_quotes = false;
	for (; i < len; i++) {
		char ch = line[i];
		if (in_quotes) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_quotes = false;
		} else if (ch == '"' && in_braces) {
			in_quotes = true;
		} else if (ch == '{') {
			in_braces = true;
		} else if (ch == '}') {
			in_braces = false;
		} else if ((ch == ' ' || ch == '\t') && !in_braces) {
			break;
		}
	}
	if (i >= len)
		return -1;
	*series_len = i;
	struct pane_str rest = pane_str_trim(pane_str_make(line + i, len - i));
	struct pane_str head, tail;
	size_t j = 0;
	while (j < rest.len && rest.p[j] != ' ' && rest.p[j] != '\t')
		j++;
	head = pane_str_make(rest.p, j);
	tail = pane_str_trim(pane_str_make(rest.p + j, rest.len - j));
	*val = head;
	*ts = tail;
	return 0;
}

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

static int flush_batch(struct pane_store *st, struct pane_sample *b, size_t *n, uint64_t *imported,
		       uint64_t *rejected)
{
	if (!*n)
		return 0;
	struct pane_err err = {0};
	size_t acc = 0;
	if (pane_store_write(st, b, *n, &acc, &err) < 0)
		return pane_cli_fail("import", &err);
	*imported += acc;
	*rejected += *n - acc;
	*n = 0;
	return 0;
}

int pane_cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"data-dir", required_argument, NULL, 'd'},
		{"wal", no_argument, NULL, 'w'},
		{"tiers", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	const char *format = NULL, *data_dir = "./pane-data";
	bool with_wal = false;
	const char *tiers = "1h";
	int c;
	opterr = 0;
	optind = 0; /* GNU: re-initialise (main parsed with "+") so options may follow FILE */
	while ((c = getopt_long(argc, argv, "f:d:wt:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'd': data_dir = optarg; break;
		case 'w': with_wal = true; break;
		case 't': tiers = optarg; break;
		case 'h':
			printf("pane import - load Prometheus text data into a data directory (backfill, benchmarks)\n\n%s\n"
			       "FILE holds lines `name{label=\"value\",...} VALUE [TIMESTAMP_MS]` (the format of\n"
			       "VictoriaMetrics' /api/v1/import/prometheus); '#' lines are skipped, a missing\n"
			       "timestamp means now. FILE may be '-' for standard input. Samples go to DIR/store,\n"
			       "the store `pane serve --data-dir DIR` uses; stop the daemon first (the store\n"
			       "takes a lock). Bad lines are reported with their number and skipped.\n\n"
			       "options:\n"
			       "  -f, --format prometheus  input format (the only one so far)\n"
			       "  -d, --data-dir DIR       data directory (default ./pane-data)\n"
			       "      --wal                also write the WAL (by default a bulk load writes segments\n"
			       "                           only, like promtool; an interrupted import is run again)\n"
			       "      --tiers LIST         downsampled tiers to store: none, 1h (default), 5m, 5m,1h\n"
			       "  -h, --help               this help\n\n"
			       "A progress bar is shown when stderr is a terminal. Exit status 0 when every\n"
			       "line was imported, 1 when some were skipped or rejected, 2 for usage errors.\n",
			       import_usage);
			return PANE_EXIT_OK;
		default:
			return pane_cli_bad_option("import", import_usage, argv);
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
	struct progress pg = {.tty = pane_cli_is_tty(), .start_ns = pane_mono_ns()};
	struct stat sb;
	if (in != stdin && fstat(fileno(in), &sb) == 0)
		pg.total = (int64_t)sb.st_size;

	char dir[4096];
	snprintf(dir, sizeof dir, "%s/store", data_dir);
	struct pane_store_opts o;
	pane_store_opts_default(&o);
	o.dir = dir;
	o.retention_ms = 0;                /* an import keeps what it is given */
	o.ooo_window_ms = INT64_MAX / 4;   /* and in any order */
	o.max_future_ms = 0;               /* and at any time */
	o.fsync = PANE_FSYNC_NEVER;        /* close() syncs everything at the end */
	o.tiers = tier_mask;
	o.no_wal = !with_wal;              /* like promtool, a bulk load writes segments only */
	struct pane_err err = {0};
	struct pane_store *st = pane_store_open(&o, &err);
	if (!st) {
		if (in != stdin)
			fclose(in);
		return pane_cli_fail("import", &err);
	}
	pane_signals_install();
	struct pane_map cache;
	pane_map_init(&cache, cached_free);
	struct pane_sample *batch = pane_xmalloc(BATCH * sizeof *batch);
	size_t nb = 0;
	uint64_t imported = 0, rejected = 0, bad = 0, lineno = 0;
	int64_t now = pane_wall_ms(), done = 0;
	char *line = NULL, *prev_text = NULL;
	size_t cap = 0, prev_len = 0, prev_cap = 0;
	struct cached *prev = NULL; /* the previous line's series */
	ssize_t got;
	int status = PANE_EXIT_OK;
	while ((got = getline(&line, &cap, in)) > 0) {
		lineno++;
		done += got;
		size_t len = (size_t)got;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		const char *msg = NULL;
		size_t sl;
		struct pane_str val, tss;
		double v;
		int64_t ts = now;
		if (len == 0 || line[0] == '#')
			continue;
		if (len > LINE_MAX_BYTES)
			msg = "line longer than 1 MiB";
		else if (split_line(line, len, &sl, &val, &tss) < 0)
			msg = "expected `name{labels} value [timestamp_ms]`";
		else if (pane_str_to_double(val, &v) < 0)
			msg = "bad value";
		else if (tss.len && pane_str_to_i64(tss, &ts) < 0)
			msg = "bad timestamp (integer milliseconds expected)";
		struct cached *cs = NULL;
		/* files are usually grouped by series: compare with the previous line first */
		if (!msg && prev && sl == prev_len && memcmp(prev_text, line, sl) == 0)
			cs = prev;
		if (!msg && !cs && !(cs = pane_map_get(&cache, line, sl))) {
			cs = parse_series(line, sl, &msg);
			if (cs) {
				if (cache.len >= CACHE_MAX) {
					if (flush_batch(st, batch, &nb, &imported, &rejected) != 0) {
						status = PANE_EXIT_FAILURE;
						break;
					}
					pane_map_release(&cache);
					pane_map_init(&cache, cached_free);
					prev = NULL;
				}
				pane_map_put(&cache, line, sl, cs);
			}
		}
		if (msg) {
			if (++bad <= 10)
				fprintf(stderr, "%spane import: %s:%" PRIu64 ": %s\n", pg.tty ? "\n" : "", file, lineno, msg);
			continue;
		}
		if (cs != prev) {
			prev = cs;
			prev_len = sl;
			if (sl > prev_cap) {
				prev_cap = sl * 2;
				prev_text = pane_xrealloc(prev_text, prev_cap);
			}
			memcpy(prev_text, line, sl);
		}
		batch[nb++] = (struct pane_sample){cs->name, &cs->labels, ts, v};
		if (nb == BATCH) {
			if (flush_batch(st, batch, &nb, &imported, &rejected) != 0) {
				status = PANE_EXIT_FAILURE;
				break;
			}
			progress_show(&pg, done, imported, false);
			if (pane_signals_stop_requested()) {
				fprintf(stderr, "\npane import: interrupted; what was imported so far is kept\n");
				status = PANE_EXIT_FAILURE;
				break;
			}
		}
	}
	if (status == PANE_EXIT_OK && ferror(in)) {
		fprintf(stderr, "pane import: read error on %s: %s\n", file, strerror(errno));
		status = PANE_EXIT_FAILURE;
	}
	if (status == PANE_EXIT_OK && flush_batch(st, batch, &nb, &imported, &rejected) != 0)
		status = PANE_EXIT_FAILURE;
	progress_show(&pg, done, imported, true);
	struct pane_store_counters cnt;
	pane_store_get_counters(st, &cnt);
	pane_store_close(st); /* persists and syncs */
	double secs = (double)(pane_mono_ns() - pg.start_ns) / 1e9;
	printf("imported %" PRIu64 " samples into %s (%" PRIu64 " series in the store) in %.1f s\n", imported, dir,
	       cnt.series, secs);
	if (bad)
		fprintf(stderr, "pane import: %" PRIu64 " bad line(s) skipped (the first are listed above)\n", bad);
	if (rejected)
		fprintf(stderr, "pane import: %" PRIu64 " sample(s) rejected by the store (limits; see its log)\n",
			rejected);
	if (status == PANE_EXIT_OK && (bad || rejected))
		status = PANE_EXIT_FAILURE;
	free(line);
	free(prev_text);
	free(batch);
	pane_map_release(&cache);
	if (in != stdin)
		fclose(in);
	return status;
}
