/*
 * overview.h - GET /api/v1/console/overview: every number of the console's
 * Overview page in one request.
 *
 * Arguments: start, end (Unix seconds or RFC 3339), step (seconds). The
 * answer is Prometheus' envelope around an object of named range-query
 * results, each {"resultType":"matrix","result":[...]} or {"error":"..."},
 * grouped by (provider, service, environment):
 *   services  which services have series at all
 *   requests, errors (ratio of 5xx), p95 (seconds), cpu and mem (fraction of
 *   the plan's limit), up (pane_source_up by source), queue_depth,
 *   queue_oldest, queue_failed, supabase (component health), db_connections,
 *   db_max_connections, db_size, db_longest_query (from postgres sources),
 *   load5 (node_load5, e.g. Supabase's metrics endpoint)
 * A failing query does not fail the others (its entry carries the error).
 */
#ifndef PANE_CONSOLE_OVERVIEW_H
#define PANE_CONSOLE_OVERVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "pipeline/reader.h"

struct pane_console_panel {
	const char *name;
	const char *expr;
};

/* The overview's queries, ending with a {NULL, NULL} row. */
extern const struct pane_console_panel pane_console_overview_panels[];

/* Runs every panel from start to end (ms) every step (ms) and writes the
 * "data" object into out. 0, or PANE_EINVAL for a bad range. */
int pane_console_overview(struct pane_reader reader, int64_t start, int64_t end, int64_t step, struct pane_buf *out,
                          struct pane_err *err);

#endif
