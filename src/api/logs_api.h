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

#include "base/buf.h"
#include "base/err.h"
#include "http/server.h"
#include "pipeline/logreader.h"
#include "store/store.h"

struct pane_log_query {
	const struct pane_label *labels; /* equality filters (AND), e.g. service=api */
	size_t n_labels;
	const char *text;                    /* substring of the message (case-insensitive), or NULL */
	int64_t mint, maxt;                  /* inclusive range (ms); 0/0 = everything */
	enum pane_log_severity min_severity; /* PANE_SEV_UNKNOWN = any */
	size_t limit;                        /* 1..1000 (0 = 100) */
	const char *cursor;                  /* from a previous page's "next", or NULL */
};
/* Newest first. Appends {"logs":[{"ts":..,"severity":..,"labels":{..},
 * "message":..,"fields":{..}},..],"next":"CURSOR"|null} to out (the data of
 * GET /api/v1/logs). PANE_EINVAL for a bad cursor, text or label name;
 * PANE_EIO when the store fails. */
int pane_logs_api_search(struct pane_logreader r, const struct pane_log_query *q, struct pane_buf *out,
                         struct pane_err *err);

struct pane_event_query {
	const char *kind; /* or NULL */
	const struct pane_label *labels;
	size_t n_labels;
	int64_t mint, maxt; /* 0/0 = everything */
	size_t limit;       /* 0 = 100, at most 1000 */
};
/* Newest first: {"events":[{"ts":..,"kind":..,"labels":{..},"title":..,"url":..,"body":{..}},..]} */
int pane_logs_api_events(struct pane_logreader r, const struct pane_event_query *q, struct pane_buf *out,
                         struct pane_err *err);

/* Adds both routes to http (before it starts); st must outlive the server. */
int pane_logs_api_add(struct pane_http_server *http, struct pane_store *st, struct pane_err *err);

#endif
