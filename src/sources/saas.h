/*
 * saas.h - small helpers the SaaS API sources (Render, Sentry) share on top
 * of the plugin contract (source.h) and the shared HTTP client
 * (http/client.h): a bounded GET that parses JSON, provider timestamps with
 * microseconds, clock-skew clamping, "partial" bookkeeping and the cursor
 * kept as one JSON object.
 *
 * "Partial": a collection that delivered most of its data but lost a piece
 * (one deleted service answered 404, a cursor loop was cut short, records
 * carried timestamps from the future) still counts as a success for
 * pane_source_up, and the lost piece is counted in
 *     pane_source_partial_errors_total{source="<instance>",reason="..."}
 * which the plugin keeps cumulative in its ctx and emits every collection.
 *
 * Thread context: the instance thread only (like the plugin's ctx).
 */
#ifndef PANE_SOURCES_SAAS_H
#define PANE_SOURCES_SAAS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "http/client.h"
#include "sources/source.h"

#define PANE_SAAS_REASONS_MAX 16

struct pane_saas_partial {
	size_t n;
	char reason[PANE_SAAS_REASONS_MAX][32];
	uint64_t count[PANE_SAAS_REASONS_MAX];
	uint64_t skewed; /* records whose timestamp was in the future (cumulative) */
	bool this_round; /* something was lost in the current collection */
};

/* GET url with the bearer token and parse the body as JSON into *root (a new
 * reference). On a transport/HTTP failure returns the client's code (err set,
 * *root NULL); on a body that is not JSON sets the reason "malformed" and
 * returns PANE_EINVAL. The response is left filled for headers (Link). */
int pane_saas_get_json(struct pane_source *src, struct pane_http_client *c, const char *url, const char *bearer,
                       struct pane_http_response *resp, json_t **root, struct pane_err *err);

/* Borrowed string member or NULL (also for null / non-string values). */
const char *pane_saas_str(const json_t *obj, const char *key);

/* ts_ms unchanged when it is at most max_skew_ms after now_ms; otherwise
 * counts a skewed record (p->skewed, reason "clock_skew") and returns now_ms. */
int64_t pane_saas_clamp_ts(struct pane_saas_partial *p, int64_t ts_ms, int64_t now_ms, int64_t max_skew_ms);

/* Counts a lost piece under reason ([a-z_]+) and marks the round partial. */
void pane_saas_partial_add(struct pane_saas_partial *p, const char *reason);
/* Emits pane_source_partial_errors_total per reason, pane_source_partial
 * (1 when this round lost something) and pane_source_skewed_records_total;
 * clears this_round. */
void pane_saas_partial_emit(struct pane_source *src, struct pane_saas_partial *p);

/* The cursor as a JSON object: loads it (an empty object when there is none
 * or it is unreadable, with a warning) / saves it after pane_source_flush()
 * succeeded (a refused write leaves the old cursor: nothing is skipped). */
json_t *pane_saas_cursor_load(struct pane_source *src);
int pane_saas_cursor_save(struct pane_source *src, const json_t *state, struct pane_err *err);

/* Appends base (without trailing slashes) + path to u, a URL buffer. */
int pane_saas_url(struct pane_buf *u, const char *base, const char *path);

#endif
