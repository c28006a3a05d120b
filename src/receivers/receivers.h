/*
 * receivers.h - push receivers on the HTTP server, and the daemon attach.
 *
 * Routes (all POST; scope "enqueue" when auth is on, i.e. a token that may
 * write):
 *   /api/v1/write                 Prometheus remote_write 1.0 (protobuf + snappy)
 *   /api/v1/import/prometheus     Prometheus text / OpenMetrics backfill
 *   /v1/metrics, /v1/logs         OTLP/HTTP, protobuf or JSON, optionally gzip
 *   /loki/api/v1/push             Loki push: JSON, or protobuf + snappy
 *   /api/v1/push/jsonlines        one JSON object per line (?service=&environment=&source=)
 * Each answers only after the pipeline's primary sink accepted (or refused:
 * 503, so the client retries). Bad input is refused with 400/413/415 and a
 * JSON error that says what was wrong; good records in the same body are
 * still written.
 */
#ifndef PANE_RECEIVERS_RECEIVERS_H
#define PANE_RECEIVERS_RECEIVERS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "pipeline/pipeline.h"

struct pane_http_server;
struct pane_stats;
struct pane_host;

struct pane_receivers_http_opts {
	struct pane_stats *stats; /* optional */
	size_t max_body;          /* per request; 0 = 16 MiB */
	size_t max_decoded;       /* after snappy or gzip; 0 = 64 MiB (protobuf messages may decode into 4x) */
	bool no_remote_write, no_import, no_otlp, no_loki, no_jsonlines;
	const struct pane_labels *default_labels; /* receivers.default_labels (borrowed; outlives the routes) */
	size_t max_delta_series;                  /* OTLP delta series tracked; 0 = 100000 */
};

struct pane_receivers_http;

/* Adds the routes to srv (before it starts). The returned handle is the
 * routes' context: free it after the server stopped. */
struct pane_receivers_http *pane_receivers_routes(struct pane_http_server *srv, struct pane_pipeline *p,
                                                  const struct pane_receivers_http_opts *opts);
void pane_receivers_http_free(struct pane_receivers_http *h);

/* `pane serve`: reads `receivers:` and `scrape:`, adds the routes, starts
 * StatsD and the scrape loops, registers a stop callback. With no pipeline
 * (no store attached) it logs that receivers are disabled and returns 0. */
int pane_receivers_attach(struct pane_host *s, struct pane_err *err);

#endif
