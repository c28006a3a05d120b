/*
 * logmetrics.h - counters from log lines and provider events, so rules can
 * alert on what PromQL cannot see (docs/rules.md, "Alerts on logs and events").
 *
 * `rules: {log_metrics: [...]}` defines counters over log lines (a stream
 * selector plus a substring or regex, like Loki's `{service="api"} |=
 * "timeout"`), and every provider event is counted in
 * pane_events_total{kind, provider, service, project, level, status}. A secondary
 * pipeline sink counts; a thread writes every counter back through the
 * pipeline as samples at aligned ticks of `log_metrics_interval`.
 */
#ifndef PANE_ALERT_LOGMETRICS_H
#define PANE_ALERT_LOGMETRICS_H

#include <stdint.h>

#include "base/err.h"
#include "host/host.h"
#include "pipeline/pipeline.h"

struct pane_cfg;
struct pane_logmetrics;

/* Reads rules.log_metrics and rules.log_metrics_interval (errors name
 * file:line). NULL with err set on a bad definition. */
struct pane_logmetrics *pane_logmetrics_new(const struct pane_cfg *cfg, struct pane_err *err);
/* The counting sink (write_logs, write_events); its close frees lm. */
struct pane_sink pane_logmetrics_sink(struct pane_logmetrics *lm);
/* Writes every counter at ts_ms to p (a counter first seen since the last
 * tick also gets a 0 at prev_ms, when prev_ms > 0, so increase() counts its
 * first lines). 0 or the pipeline's error. */
int pane_logmetrics_write(struct pane_logmetrics *lm, struct pane_pipeline *p, int64_t prev_ms, int64_t ts_ms,
                          struct pane_err *err);

/* In pane serve: adds the sink to h->pipeline, starts the writer thread,
 * registers stop and reload hooks. */
int pane_logmetrics_attach(struct pane_host *h, struct pane_err *err);

#endif
