/*
 * reader.h - how the query engine reads series from a store.
 *
 * The agreed seam between the consumers (src/query, the rules, the console)
 * and whatever holds samples (src/store; the query engine's tests implement
 * it in memory). It sits beside sink.h: sinks are the write side of the
 * pipeline, readers the read side. Like the sink, it is a table of
 * callbacks plus a context pointer.
 *
 * A select returns the series whose label sets satisfy every matcher
 * (AND), with their samples in [mint, maxt] (inclusive, Unix ms) in
 * timestamp order. Matchers follow Prometheus: the metric name is the
 * label "__name__"; =~ and !~ are fully anchored regular expressions; a
 * matcher that matches the empty string also matches series that lack the
 * label. Stale markers (record.h) are returned as samples; the engine
 * interprets them.
 *
 * Ownership: a pane_series_set and everything reachable from it belongs to
 * the set until pane_series_set->free(); label and sample pointers stay
 * valid until then. Threads: a reader's select may be called from several
 * threads at once; a set is used by one thread.
 */
#ifndef PANE_PIPELINE_READER_H
#define PANE_PIPELINE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "pipeline/record.h"

enum pane_match_op { PANE_MATCH_EQ, PANE_MATCH_NE, PANE_MATCH_RE, PANE_MATCH_NRE };

struct pane_matcher {
	const char *name; /* "__name__" for the metric name */
	const char *value;
	enum pane_match_op op;
};

/* One series with its samples in the requested range. labels includes
 * "__name__" (sorted like any other label). */
struct pane_series {
	struct pane_labels labels;
	const int64_t *ts; /* ascending, n entries */
	const double *values;
	size_t n;
};

struct pane_series_set {
	struct pane_series *series; /* sorted by label set (pane_labels_cmp) */
	size_t n;
	void (*free)(struct pane_series_set *set);
	void *impl;
};

struct pane_reader_ops {
	/* Series matching all matchers with samples in [mint, maxt]. Series
	 * without a sample in range may be omitted. max_samples bounds the
	 * total samples returned: past it, PANE_ETOOBIG with a message. */
	int (*select)(void *ctx, const struct pane_matcher *m, size_t n_matchers, int64_t mint, int64_t maxt,
	              size_t max_samples, struct pane_series_set **out, struct pane_err *err);
	/* Label names (sorted, unique) of series matching the matchers (all series
	 * when n_matchers is 0) that have samples in [mint, maxt]. The caller frees
	 * each string and the array with free(). */
	int (*label_names)(void *ctx, const struct pane_matcher *m, size_t n_matchers, int64_t mint, int64_t maxt,
	                   char ***names, size_t *n, struct pane_err *err);
	/* Values of one label, same rules. */
	int (*label_values)(void *ctx, const char *name, const struct pane_matcher *m, size_t n_matchers, int64_t mint,
	                    int64_t maxt, char ***values, size_t *n, struct pane_err *err);
	/* Optional, NULL when the reader keeps no metric metadata (the API then
	 * answers an empty map). Metadata per metric family (record.h), sorted
	 * by name, only `metric` when non-NULL, at most limit entries (SIZE_MAX
	 * = all, 0 = none). *out is one allocation holding the array and its
	 * strings: the caller frees it with free(*out); NULL when *n is 0. */
	int (*metadata)(void *ctx, const char *metric, size_t limit, struct pane_metadata **out, size_t *n,
	                struct pane_err *err);
};

struct pane_reader {
	const struct pane_reader_ops *ops;
	void *ctx;
};

#endif
