/*
 * otlp.h - OTLP/HTTP metrics and logs into records, JSON or protobuf.
 *
 * Both encodings of ExportMetricsServiceRequest / ExportLogsServiceRequest
 * are accepted and mapped the same way: both become the same protobuf-c
 * structs first (pbjson.h), then one walker maps them.
 *
 * Metrics: gauge -> gauge; sum (cumulative, monotonic) -> `<name>_total`;
 * sum (non-monotonic) -> gauge; histogram (cumulative) -> classic
 * `_bucket{le}` / `_sum` / `_count`; summary -> `{quantile}` / `_sum` /
 * `_count`; exponential histogram -> classic buckets at the exponential
 * bucket bounds (le = base^(index+1), the zero bucket at the zero
 * threshold). Delta temporality (sums, histograms) becomes cumulative
 * through opts.deltas (running totals per series); without it delta points
 * are refused (counted in partialSuccess). A data point with the "no
 * recorded value" flag becomes a stale marker.
 * Resource attributes: service.name -> service, deployment.environment(.name)
 * -> environment, service.instance.id -> instance; data point attributes
 * become labels (names sanitised). Then opts.defaults fill what is still
 * missing, and every record gets provider="app" unless something said
 * otherwise.
 * Metadata: each metric's kind, description and unit become the metadata
 * of its family (gauge and non-monotonic sum -> gauge, monotonic sum ->
 * counter named `<name>_total`, histogram, summary), description cut to
 * PANE_METADATA_HELP_MAX bytes; the pipeline passes on only what changed.
 * Logs: each logRecord -> a log record (severityNumber/Text, body as text,
 * attributes + trace/span ids as fields JSON).
 */
#ifndef PANE_RECEIVERS_OTLP_H
#define PANE_RECEIVERS_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "pipeline/pipeline.h"

struct pane_buf;
struct pane_cumulate;

struct pane_otlp_result {
	size_t accepted; /* samples or log records written */
	size_t rejected; /* data points / records refused */
	char first_error[200];
};

/* Parses an ExportMetricsServiceRequest in JSON and writes the samples.
 * PANE_EINVAL (err) when the body is not JSON of that shape; otherwise 0 or
 * the pipeline's error. now_ms stamps points without a time. */
int pane_otlp_metrics_json(struct pane_pipeline *p, const char *body, size_t len, int64_t now_ms,
                           struct pane_otlp_result *res, struct pane_err *err);
int pane_otlp_logs_json(struct pane_pipeline *p, const char *body, size_t len, int64_t now_ms,
                        struct pane_otlp_result *res, struct pane_err *err);

struct pane_otlp_opts {
	int64_t now_ms;                     /* stamps points without a time */
	struct pane_cumulate *deltas;       /* running totals for delta points; NULL refuses them */
	const struct pane_labels *defaults; /* configured default labels; may be NULL */
	size_t max_decoded;                 /* memory for a decoded protobuf request; 0 = 256 MiB */
};

/* The same requests in either encoding (protobuf: the body is the
 * uncompressed message). PANE_EINVAL (err) for a body that is not such a
 * request, PANE_ETOOBIG for a protobuf request that decodes past
 * max_decoded; otherwise 0 or the pipeline's error. */
int pane_otlp_metrics(struct pane_pipeline *p, const char *body, size_t len, bool protobuf,
                      const struct pane_otlp_opts *opts, struct pane_otlp_result *res, struct pane_err *err);
int pane_otlp_logs(struct pane_pipeline *p, const char *body, size_t len, bool protobuf,
                   const struct pane_otlp_opts *opts, struct pane_otlp_result *res, struct pane_err *err);

/* Appends the protobuf ExportMetricsServiceResponse (metrics) or
 * ExportLogsServiceResponse for res: empty when nothing was rejected,
 * else partial_success with the rejected count and the first error. */
void pane_otlp_response_pb(bool metrics, const struct pane_otlp_result *res, struct pane_buf *out);

#endif
