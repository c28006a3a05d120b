/*
 * api.h - pane's HTTP API for the job queue: jobs, uploads, live status.
 *
 * pane_api_attach() is called by `pane serve` (src/serve/serve.c). It always
 * installs bearer-token auth from the `auth:` section (and refuses a
 * non-loopback listen address without tokens); when s->database_url is set
 * it adds the jobs API and the upload endpoint:
 *
 *   POST /v1/queues/{queue}/jobs      enqueue one job or an array (enqueue)
 *   GET  /v1/jobs/{id}                state, attempts, errors, result (read)
 *   GET  /v1/jobs/{id}/events         Server-Sent Events until it finishes (read)
 *   POST /v1/jobs/{id}/cancel|retry   (admin)
 *   GET  /v1/queues                   depth by state, oldest age, throughput (read)
 *   POST /v1/queues/{queue}/pause|resume  (admin)
 *   POST /v1/uploads/{queue}          streamed to disk (then object storage), then a job (enqueue)
 *   GET  /v1/uploads/{id}             the stored file, or 307 to its object (read)
 *
 * Every write goes through the queue's SQL functions (enqueue_many & co.),
 * the same path as SQL, the CLI and the C API.
 */
#ifndef PANE_API_API_H
#define PANE_API_API_H

#include "base/err.h"

struct pane_host;

int pane_api_attach(struct pane_host *s, struct pane_err *err);

#endif
