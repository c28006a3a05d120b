/*
 * logreader.h - how the APIs read log lines and events from a store.
 *
 * The seam between what answers questions about logs (src/api/logs_api.c,
 * src/logql/, the console) and what keeps them (src/store/logs.c), like
 * pipeline/reader.h is for samples: a table of callbacks plus a context. The
 * store selects and streams rows; the caller formats them (JSON, LogQL
 * results), so no store code knows any API's answer shape.
 *
 * Lines:
 *   - A line belongs to a stream: its label set (sorted, like every
 *     pane_labels). Matchers follow reader.h (=, !=, =~, !~ fully anchored
 *     through base/regex.h; a matcher that matches "" also matches a stream
 *     without the label).
 *   - select streams the lines of matching streams with mint <= ts <= maxt
 *     (ms, inclusive) in (ts, id) order, oldest first when forward, else
 *     newest first, at most limit (0 = no limit). "after" resumes a page:
 *     only lines strictly past (after_ts, after_id) in that order.
 *   - contains is a prefilter the store may push down to its text index:
 *     every line whose message contains the text ignoring ASCII case is
 *     returned (perhaps more). Callers that need an exact, case-sensitive
 *     match (LogQL |=) check each line themselves.
 *   - streams lists each matching stream that has lines in range, with its
 *     line count and message bytes (labels, label values, series, stats).
 * Events: newest first, filtered by kind, matchers and range.
 *
 * Ownership: every pointer handed to a callback is valid only during that
 * call. Threads: the ops may be called from several threads at once; the
 * store holds its lock during the callbacks, so a callback must not call
 * back into the reader. A callback returns 0 to go on, 1 to stop early
 * (not an error), or a negative PANE_E* that the op returns.
 */
#ifndef PANE_PIPELINE_LOGREADER_H
#define PANE_PIPELINE_LOGREADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "pipeline/record.h"
#include "pipeline/reader.h"

#define PANE_LOGREADER_MAX_MATCHERS 32
#define PANE_LOGREADER_CONTAINS_MAX 1024

struct pane_log_line {
	int64_t ts_ms;
	int64_t id; /* the store's order among equal ts (cursors) */
	enum pane_log_severity severity;
	const struct pane_labels *labels; /* the stream, sorted */
	const char *labels_json;          /* the same set as a JSON object, as stored */
	const char *message;
	size_t message_len;
	const char *fields_json; /* a JSON object, or NULL */
};

struct pane_log_select {
	const struct pane_matcher *matchers; /* AND; at most PANE_LOGREADER_MAX_MATCHERS */
	size_t n_matchers;
	int64_t mint, maxt;                  /* inclusive, ms */
	bool forward;                        /* oldest first; false = newest first */
	size_t limit;                        /* 0 = no limit */
	const char *contains;                /* prefilter (see above), or NULL */
	enum pane_log_severity min_severity; /* PANE_SEV_UNKNOWN = any */
	bool after;                          /* resume past (after_ts, after_id) */
	int64_t after_ts, after_id;
};

struct pane_log_stream {
	const struct pane_labels *labels;
	uint64_t entries; /* lines in range */
	uint64_t bytes;   /* their message bytes */
};

struct pane_event_row {
	int64_t ts_ms;
	const char *kind;
	const char *labels_json; /* JSON object */
	const char *title;
	const char *url;       /* or NULL */
	const char *body_json; /* JSON object or NULL */
};

struct pane_event_select {
	const char *kind; /* or NULL */
	const struct pane_matcher *matchers;
	size_t n_matchers;
	int64_t mint, maxt; /* inclusive, ms */
	size_t limit;       /* 0 = no limit */
};

typedef int (*pane_log_line_fn)(void *arg, const struct pane_log_line *l);
typedef int (*pane_log_stream_fn)(void *arg, const struct pane_log_stream *s);
typedef int (*pane_event_row_fn)(void *arg, const struct pane_event_row *e);

struct pane_logreader_ops {
	/* 0, a callback's negative code, PANE_EINVAL for a bad matcher or
	 * argument (message says which), PANE_EIO when the store fails. */
	int (*select)(void *ctx, const struct pane_log_select *s, pane_log_line_fn fn, void *arg, struct pane_err *err);
	/* Each matching stream with lines in [mint, maxt], in no set order. */
	int (*streams)(void *ctx, const struct pane_matcher *m, size_t n_matchers, int64_t mint, int64_t maxt,
	               pane_log_stream_fn fn, void *arg, struct pane_err *err);
	/* Newest first. */
	int (*events)(void *ctx, const struct pane_event_select *s, pane_event_row_fn fn, void *arg,
	              struct pane_err *err);
};

struct pane_logreader {
	const struct pane_logreader_ops *ops;
	void *ctx;
};

#endif
