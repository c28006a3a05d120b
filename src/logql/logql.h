/*
 * logql.h - LogQL, Loki's query language, over the log reader seam.
 *
 * The subset Grafana's Loki data source and dashboards use:
 *   log queries     {service="api", level=~"warn|error"} |= "timeout" != "health"
 *                   | json | logfmt | level="error" | status >= 500
 *                   | duration > 1s | line_format "{{.method}} {{.path}}"
 *                   | drop __error__ | keep service
 *   metric queries  count_over_time(LOG[5m]), rate(LOG[1m]),
 *                   bytes_over_time(LOG[5m]), bytes_rate(LOG[1m]),
 *                   sum/avg/min/max/count [by|without (l, ..)] (METRIC),
 *                   topk(k, METRIC), bottomk(k, METRIC), vector(N), numbers,
 *                   + - * / % between them (vector-vector on equal label sets).
 * Errors read like Loki's: "parse error at line 1, col 12: syntax error:
 * unexpected ..., expecting ...".
 *
 * Bounds: a query is at most PANE_LOGQL_MAX_QUERY bytes and nests at most
 * PANE_LOGQL_MAX_DEPTH deep; an evaluation holds at most
 * PANE_LOGQL_MAX_POINTS points (series x steps) and collects at most
 * `limit` lines of a log query; past a bound the query fails with
 * PANE_ETOOBIG and a message, never a crash or an unbounded allocation.
 *
 * Ownership: an expression and a result belong to the caller (free with
 * pane_logql_free / pane_logql_result_free). Threads: an expression is
 * read-only once parsed and may be evaluated by several threads at once.
 */
#ifndef PANE_LOGQL_LOGQL_H
#define PANE_LOGQL_LOGQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "pipeline/logreader.h"
#include "pipeline/record.h"

#define PANE_LOGQL_MAX_QUERY (64 * 1024)
#define PANE_LOGQL_MAX_DEPTH 64
#define PANE_LOGQL_MAX_POINTS 11000000
#define PANE_LOGQL_MAX_STEPS 11000

struct pane_logql_expr;

/* NULL with PANE_EINVAL and Loki's parse message in err. */
struct pane_logql_expr *pane_logql_parse(const char *q, size_t len, struct pane_err *err);
void pane_logql_free(struct pane_logql_expr *e);
/* True for a log query (answers streams), false for a metric query. */
bool pane_logql_is_log(const struct pane_logql_expr *e);

struct pane_logql_params {
	int64_t start_ns, end_ns; /* log queries: [start, end); metric: steps from start to end */
	int64_t step_ns;          /* metric range queries; > 0 */
	bool instant;             /* metric query at end_ns only */
	bool forward;             /* log queries: oldest first */
	size_t limit;             /* log queries: at most this many lines (> 0) */
};

struct pane_logql_entry {
	int64_t ts_ms;
	char *line;
	size_t len;
};

struct pane_logql_stream {
	struct pane_labels labels;
	struct pane_logql_entry *v;
	size_t n, cap;
};

struct pane_logql_series {
	struct pane_labels labels;
	double *v; /* one per step; NaN = no point */
};

enum pane_logql_kind { PANE_LOGQL_STREAMS, PANE_LOGQL_MATRIX, PANE_LOGQL_SCALAR };

struct pane_logql_result {
	enum pane_logql_kind kind;
	struct pane_logql_stream *streams; /* STREAMS, in order of first line */
	size_t n_streams;
	struct pane_logql_series *series; /* MATRIX (SCALAR: one series, no labels) */
	size_t n_series;
	size_t n_steps;
	int64_t start_ms, step_ms;       /* step i is at start_ms + i * step_ms */
	uint64_t lines_read, bytes_read; /* what the store handed over */
};

/* Evaluates e over r. 0, or PANE_EINVAL (bad params), PANE_ETOOBIG (a
 * bound), a reader error. out is filled only on success. */
int pane_logql_eval(const struct pane_logql_expr *e, const struct pane_logreader *r, const struct pane_logql_params *p,
                    struct pane_logql_result *out, struct pane_err *err);
void pane_logql_result_free(struct pane_logql_result *res);

/* The stream selector's matchers (for /series, /index/stats, /tail). Valid
 * while e lives. */
const struct pane_matcher *pane_logql_matchers(const struct pane_logql_expr *e, size_t *n);

#endif
