/*
 * promtext.h - Prometheus text exposition (0.0.4) and OpenMetrics 1.0 parser.
 *
 * Streams samples out in batches through a callback; nothing is kept after
 * a batch is delivered, so memory is bounded by the batch, not the input.
 * A bad line is counted and skipped (the first error is reported with its
 * line number); the good lines around it are still delivered.
 *
 * Accepted: HELP/TYPE/UNIT and comments (not required; with a metadata
 * callback they are delivered per family, see pane_promtext_meta_fn),
 * label value escapes \\ \" \n, trailing comma in label sets, values as Go
 * floats (NaN, +Inf, -Inf), 0.0.4 timestamps in integer milliseconds,
 * OpenMetrics timestamps in float seconds, OpenMetrics exemplars (` # {..}
 * v [ts]`, ignored), `# EOF` (OpenMetrics: end of input).
 * Refused per line: invalid metric or label names, duplicate label names,
 * invalid UTF-8 in label values, NaN/Inf timestamps, junk after the value.
 */
#ifndef PANE_RECEIVERS_PROMTEXT_H
#define PANE_RECEIVERS_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "pipeline/record.h"

/* Receives a batch of samples, valid only during the call. A negative
 * return stops the parse and is returned by pane_promtext_parse. */
typedef int (*pane_promtext_fn)(void *arg, const struct pane_sample *s, size_t n, struct pane_err *err);

/* Receives metric families' metadata in batches (valid only during the
 * call): one entry per family name seen in # HELP / # TYPE / # UNIT lines,
 * merged across lines (type "unknown" and "" until given), help unescaped
 * (\\ and \n; OpenMetrics also \") and cut to PANE_METADATA_HELP_MAX
 * bytes. A # TYPE with an unknown word, help or unit that is not UTF-8, or
 * a unit over PANE_METADATA_UNIT_MAX is a bad line and not delivered.
 * Batches hold up to 64 families (the last one comes after the samples);
 * a negative return stops the parse and is returned by it. */
typedef int (*pane_promtext_meta_fn)(void *arg, const struct pane_metadata *m, size_t n, struct pane_err *err);

struct pane_promtext_opts {
	bool openmetrics;                   /* timestamps in seconds, # EOF */
	int64_t default_ts_ms;              /* for samples without a timestamp */
	const struct pane_labels *extra;    /* added to every sample (override the target's unless honor_labels) */
	bool honor_labels;                  /* keep the exposed value when a label clashes with extra */
	const struct pane_labels *defaults; /* added only where a sample lacks the label (receivers.default_labels) */
	size_t max_samples;                 /* stop with PANE_ETOOBIG past this many; 0 = no limit */
	pane_promtext_meta_fn meta;         /* metadata receiver; NULL = HELP/TYPE/UNIT only checked */
	void *meta_arg;
};

struct pane_promtext_result {
	size_t samples;   /* delivered */
	size_t bad_lines; /* skipped as malformed */
	size_t line;      /* line number of the first bad line (0 = none) */
	char first_error[200];
	bool saw_eof;
};

/* Parses text (not necessarily NUL-terminated). Returns 0 when the input was
 * read to the end (bad lines may have been skipped: see res), or a negative
 * code from the callback or PANE_ETOOBIG for max_samples. */
int pane_promtext_parse(const char *text, size_t len, const struct pane_promtext_opts *opts, pane_promtext_fn fn,
                        void *arg, struct pane_promtext_result *res, struct pane_err *err);

struct pane_promcache;
struct pane_promcache_entry;

/* Receives a batch like pane_promtext_fn, and for each sample the cache
 * entry of its series (e[i]; NULL when its series text is not cached): the
 * sample's name and labels are the entry's, and the entry's ref is the
 * callback's to read and set (promcache.h). Valid only during the call. */
typedef int (*pane_promtext_cached_fn)(void *arg, const struct pane_sample *s, struct pane_promcache_entry *const *e,
                                       size_t n, struct pane_err *err);

/* pane_promtext_parse with a series cache kept across calls (promcache.h):
 * a line whose series text (the bytes before the value) was parsed before
 * skips parsing it again. What is delivered, counted and reported is what
 * pane_promtext_parse delivers, counts and reports for the same text and
 * opts (only where batches are cut may differ). The cache remembers what
 * opts' extra, defaults and honor_labels made of each text: a call with
 * other ones empties it first. */
int pane_promtext_parse_cached(const char *text, size_t len, const struct pane_promtext_opts *opts,
                               struct pane_promcache *cache, pane_promtext_cached_fn fn, void *arg,
                               struct pane_promtext_result *res, struct pane_err *err);

/* A pane_promtext_meta_fn for opts.meta with the struct pane_pipeline as
 * meta_arg: writes the batch through pane_pipeline_write_metadata (which
 * passes on only what changed). A failure is logged, rate-limited, and does
 * not stop the parse: metadata never costs a client its samples. */
int pane_promtext_meta_to_pipeline(void *pipeline, const struct pane_metadata *m, size_t n, struct pane_err *err);

/* Content-Type says OpenMetrics? (application/openmetrics-text) */
bool pane_promtext_is_openmetrics(const char *content_type);

#endif
