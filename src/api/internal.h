/*
 * internal.h - what the files of src/api share (not for other parts).
 */
#ifndef PANE_API_INTERNAL_H
#define PANE_API_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "api/batcher.h"
#include "api/pgpool.h"
#include "http/server.h"

struct pane_stats;
struct pane_api_events;
struct pane_api_uploads;

struct pane_api {
	char *url;
	char schema[64];
	struct pane_api_pool *pool;
	struct pane_api_batcher *batcher;
	struct pane_api_events *events;
	struct pane_api_uploads *uploads;
	struct pane_stats *stats;
	/* throughput: completed counts seen by the previous GET /v1/queues */
	void *tput;
};

/* pane_queue_job (pane/queue.h) on a pooled connection: the job as JSON, or
 * PANE_ENOTFOUND when there is no such job. */
int pane_api_job(struct pane_api *api, int64_t id, char **json, struct pane_err *err);
/* The queue's schema version (pane_queue_schema_version): 0 = not installed. */
int pane_api_schema_version(struct pane_api *api, int *version, struct pane_err *err);
/* jobs_api.c */
void pane_api_jobs_routes(struct pane_api *api, struct pane_http_server *srv);
/* Answers resp from a failed SQL/batch error (400/404/409/413/429/503). */
void pane_api_error_resp(struct pane_http_resp *resp, const struct pane_err *err);
bool pane_api_queue_name_ok(const char *q);
/* Parses an enqueue body (a job object or an array of them) into
 * enqueue_many elements joined by commas, appended to out. Returns the job
 * count (>= 1), or -400 / -413 with code ("malformed_json", "invalid_job",
 * "invalid_request", "payload_too_large") and msg set. *array tells which
 * form it was. idem (may be NULL) becomes the single job's unique_key. */
struct pane_buf;
int pane_api_parse_jobs(const char *body, size_t len, const char *queue, const char *idem, struct pane_buf *out,
                        bool *array, char *code, size_t codelen, char *msg, size_t msglen);
/* Runs "SELECT schema.fn($1)" style one-value queries on a pooled connection.
 * *out (may be NULL) gets the first value as a heap string or NULL for SQL NULL. */
int pane_api_query1(struct pane_api *api, const char *sql, int nparams, const char *const *params, char **out,
                    struct pane_err *err);

/* events.c: one LISTEN connection shared by every SSE client */
struct pane_api_events *pane_api_events_new(struct pane_api *api, struct pane_err *err);
void pane_api_events_free(struct pane_api_events *ev);
void pane_api_events_route(struct pane_api *api, struct pane_http_server *srv);

/* uploads.c */
struct pane_cfg;
struct pane_api_uploads *pane_api_uploads_new(struct pane_api *api, const struct pane_cfg *cfg, const char *data_dir,
                                              struct pane_err *err);
/* Stops the object storage uploaders (PUTs under way are aborted, their
 * uploads answered 503); before the batcher goes. Idempotent. */
void pane_api_uploads_stop(struct pane_api_uploads *u);
void pane_api_uploads_free(struct pane_api_uploads *u);
void pane_api_uploads_route(struct pane_api *api, struct pane_http_server *srv);

#endif
