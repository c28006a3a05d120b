/*
 * otlp.h - OTLP/HTTP with JSON encoding: metrics and logs into records.
 *
 * Metrics: gauge -> gauge; sum (cumulative, monotonic) -> `<name>_total`;
 * sum (non-monotonic) -> gauge; histogram (cumulative) -> classic
 * `_bucket{le}` / `_sum` / `_count`; summary -> `{quantile}` / `_sum` /
 * `_count`. Delta temporality and exponential histograms are refused per
 * data point (counted in partialSuccess). A data point with the "no
 * recorded value" flag becomes a stale marker.
 * Resource attributes: service.name -> service, deployment.environment(.name)
 * -> environment, service.instance.id -> instance; data point attributes
 * become labels (names sanitised). Every record gets provider="app" unless
 * the attributes say otherwise.
 * Metadata: each metric's kind, description and unit become the metadata
 * of its family (gauge and non-monotonic sum -> gauge, monotonic sum ->
 * counter named `<name>_total`, histogram, summary), description cut to
 * PANE_METADATA_HELP_MAX bytes; the pipeline passes on only what changed.
 * Logs: each logRecord -> a log record (severityNumber/Text, body as text,
 * attributes + trace/span ids as fields JSON).
 */
#ifndef PANE_RECEIVERS_OTLP_H
#define PANE_RECEIVERS_OTLP_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "pipeline/pipeline.h"

struct pane_otlp_result {
	size_t accepted;     /* samples or log records written */
	size_t rejected;     /* data points / records refused */
	char first_error[200];
};

/* Parses an ExportMetricsServiceRequest in JSON and writes the samples.
 * PANE_EINVAL (err) when the body is not JSON of that shape; otherwise 0 or
 * the pipeline's error. now_ms stamps points without a time. */
int pane_otlp_metrics_json(struct pane_pipeline *p, const char *body, size_t len, int64_t now_ms,
			   struct pane_otlp_result *res, struct pane_err *err);
int pane_otlp_logs_json(struct pane_pipeline *p, const char *body, size_t len, int64_t now_ms,
			struct pane_otlp_result *res, struct pane_err *err);

#endif
