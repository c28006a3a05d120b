/*
 * prom_api.h - the Prometheus HTTP API over a struct pane_reader.
 *
 * Routes (GET and form-encoded POST, scope "read"): /api/v1/query,
 * /api/v1/query_range, /api/v1/series, /api/v1/labels,
 * /api/v1/label/{name}/values, /api/v1/metadata, /api/v1/status/buildinfo,
 * /api/v1/format_query, /api/v1/query_exemplars (empty: no exemplars kept).
 * /api/v1/metadata answers from the reader's optional metadata callback
 * (the store's HELP/TYPE/UNIT per family) like Prometheus 2.42, with
 * `metric` and `limit`; `{}` when the reader keeps none.
 * Answers have Prometheus' shapes: {"status":"success","data":...} or
 * {"status":"error","errorType":"bad_data|execution|timeout","error":"..."}
 * with 400, 422 or 503. Grafana's Prometheus data source works against it.
 */
#ifndef PANE_API_PROM_API_H
#define PANE_API_PROM_API_H

#include "base/err.h"
#include "http/server.h"
#include "query/query.h"
#include "pipeline/reader.h"

struct pane_host;
struct pane_query_api;

/* Adds the routes to http (before it starts). The returned handle must
 * outlive the server; free it after pane_http_server_free(). NULL with err. */
struct pane_query_api *pane_query_api_new(struct pane_http_server *http, struct pane_reader reader,
                                          const struct pane_query_opts *opts, struct pane_err *err);
void pane_query_api_free(struct pane_query_api *api);

/* Prometheus' answer envelope, shared with pane's own /api/v1 endpoints
 * (logs_api.h): {"status":"success","data":DATA} with 200, or
 * {"status":"error","errorType":TYPE,"error":MSG} with status. */
void pane_prom_ok(struct pane_http_resp *resp, const char *data_json, size_t len);
void pane_prom_error(struct pane_http_resp *resp, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prometheus' parseTime: Unix seconds (with fraction) or RFC 3339 -> ms; 0 or -1. */
int pane_prom_parse_time(const char *s, int64_t *ms);

/* For `pane serve`: adds the routes over reader (the store's) with the
 * limits of the `query:` section (Prometheus' defaults) and frees them at
 * shutdown. */
int pane_query_attach(struct pane_host *s, struct pane_reader reader, struct pane_err *err);

#endif
