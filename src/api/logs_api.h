/*
 * logs_api.h - GET /api/v1/logs and GET /api/v1/events (scope "read").
 *
 * The store's logs and events behind Prometheus' answer envelope:
 *   /api/v1/logs?selector={service="api"}&search=timeout&severity=warn
 *               &start=..&end=..&limit=100&cursor=..
 *     -> {"status":"success","data":{"logs":[{"ts":MS,"severity":"error",
 *        "labels":{..},"message":"..","fields":{..}},..],"next":"CURSOR"|null}}
 *   /api/v1/events?kind=deploy&selector={service="api"}&start=..&end=..&limit=..
 *     -> {"status":"success","data":{"events":[{"ts":MS,"kind":"deploy",
 *        "labels":{..},"title":"..","url":".."|null,"body":{..}},..]}}
 * Newest first. Times as RFC 3339 or Unix seconds; "ts" in the answer is
 * Unix milliseconds. See logs_api.c for every argument.
 */
#ifndef PANE_API_LOGS_API_H
#define PANE_API_LOGS_API_H

#include "base/err.h"
#include "http/server.h"
#include "store/store.h"

/* Adds both routes to http (before it starts); st must outlive the server. */
int pane_logs_api_add(struct pane_http_server *http, struct pane_store *st, struct pane_err *err);

#endif
