/*
 * query.h - pane's PromQL engine: parse, evaluate, format like Prometheus.
 *
 * The engine reads series only through struct pane_reader (pipeline/reader.h).
 * pane_query_exec() runs an instant query (start == end, step 0) or a range
 * query and fills a result owned by the caller (pane_query_result_release).
 * Semantics follow Prometheus 2.x: 5 m lookback, stale markers end a series,
 * range selectors include both ends, rate() extrapolates as Prometheus does.
 *
 * Memory: what the evaluator holds is bounded by max_samples (64 bytes a
 * sample plus 8 MiB), counted before it is allocated; past it the query
 * fails like one over max_samples (execution, 422). After a query that held
 * more than 32 MiB, freed heap is handed back to the system (malloc_trim).
 *
 * Errors come back with a class (pane_query_errclass) that maps onto the
 * Prometheus HTTP API's errorType and status: bad_data 400, execution 422,
 * timeout 503.
 * Threads: a query uses only its own memory; many may run at once.
 */
#ifndef PANE_QUERY_QUERY_H
#define PANE_QUERY_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "pipeline/record.h"
#include "pipeline/reader.h"

/* What one query used (filled when it ends, also on failure). */
struct pane_query_stats {
	size_t peak_bytes; /* most the evaluator's arenas held at once */
	size_t samples;    /* samples loaded from the reader */
};

struct pane_query_opts {
	int64_t lookback_ms;            /* 0: 5 minutes */
	int64_t timeout_ms;             /* 0: 2 minutes */
	size_t max_samples;             /* 0: 50,000,000 (samples loaded plus points produced) */
	size_t max_points;              /* points per series in a range query; 0: 11,000 */
	struct pane_query_stats *stats; /* optional, written by pane_query_exec */
};

enum pane_query_errclass {
	PANE_QERR_NONE,
	PANE_QERR_BAD_DATA,
	PANE_QERR_EXECUTION,
	PANE_QERR_TIMEOUT,
	PANE_QERR_INTERNAL
};

enum pane_query_type { PANE_QT_SCALAR, PANE_QT_STRING, PANE_QT_VECTOR, PANE_QT_MATRIX };

struct pane_query_series {
	struct pane_labels labels; /* owned; includes __name__ when kept */
	int64_t *ts;
	double *values;
	size_t n;
};

struct pane_query_result {
	enum pane_query_type type;
	double scalar;                    /* PANE_QT_SCALAR */
	int64_t ts;                       /* evaluation time of an instant query */
	char *string;                     /* PANE_QT_STRING */
	struct pane_query_series *series; /* vector: one point each; matrix: many */
	size_t n;
};

/* Parses expr only (for validation); 0 or PANE_EINVAL with "1:7: parse error: ..." */
int pane_query_check(const char *expr, struct pane_err *err);

/* The one check of a query's time range, for the engine and the HTTP API:
 * end not before start, and with a step (> 0 means a range query; pass 0
 * for an instant query or a series/labels lookup) the step positive and at
 * most max_points (0: 11,000) points per series. 0, or PANE_EINVAL /
 * PANE_ETOOBIG with Prometheus' message and *param the request parameter it
 * is about ("end", "step"; NULL when none, as for the resolution). */
int pane_query_check_range(int64_t start, int64_t end, int64_t step, bool range, size_t max_points, const char **param,
                           struct pane_err *err);

/* Evaluates expr at start (instant: start == end, step 0) or from start to end
 * every step ms. *cls says how a failure should be reported. */
int pane_query_exec(struct pane_reader reader, const struct pane_query_opts *opts, const char *expr, int64_t start,
                    int64_t end, int64_t step, struct pane_query_result *out, enum pane_query_errclass *cls,
                    struct pane_err *err);
void pane_query_result_release(struct pane_query_result *r);

/* Writes the "data" object of a Prometheus API answer:
 * {"resultType":"vector","result":[...]} */
int pane_query_result_json(const struct pane_query_result *r, struct pane_buf *b);

/* Go's strconv.FormatFloat(v, 'f', -1, 64): "1.5", "100000", "NaN", "+Inf". */
void pane_query_fmt_float(double v, char *out, size_t outlen);
/* The shortest decimal that reads back as v (finite, not 0), as every
 * FormatFloat(v, fmt, -1, 64) places it: its digits without trailing zeros
 * (at most 17, NUL-terminated), the power of ten of the first digit
 * returned, *neg when v < 0. The one digit search of pane's Go formatting
 * (this file's 'f'; the alert templates' 'g' and 'e'; promtool's 'E'). */
int pane_query_float_digits(double v, char digits[18], bool *neg);
/* Prometheus' JSON timestamp: seconds with up to 3 decimals ("1700000000.5"). */
void pane_query_fmt_ts(int64_t ms, char *out, size_t outlen);
/* The printed (canonical) form of expr into b; 0 or PANE_EINVAL. */
int pane_query_format(const char *expr, struct pane_buf *b, struct pane_err *err);

#endif
