/*
 * loki_api.h - Loki's query API (/loki/api/v1/...) over the log reader seam.
 *
 * query_range, query, labels, label/{name}/values, series and index/stats,
 * answered in Loki's JSON so Grafana's Loki data source works against pane;
 * LogQL as src/logql/logql.h supports it. See loki_api.c for arguments.
 */
#ifndef PANE_API_LOKI_API_H
#define PANE_API_LOKI_API_H

#include "base/err.h"
#include "http/server.h"
#include "pipeline/logreader.h"

struct pane_host;

/* Adds the routes (scope "read") to http before it starts; r must outlive
 * the server. 0 or PANE_EINVAL. */
int pane_loki_api_add(struct pane_http_server *http, const struct pane_logreader *r, struct pane_err *err);
/* For `pane serve` (attach step 6): the routes over a copy of r, freed at stop. */
int pane_loki_attach(struct pane_host *h, struct pane_logreader r, struct pane_err *err);

#endif
