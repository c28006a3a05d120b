/*
 * batcher.h - micro-batching of concurrent enqueues into one pane.enqueue_many.
 *
 * HTTP requests (single jobs, arrays, uploads) each submit their job
 * objects; flusher threads take everything waiting (up to a cap), send it as
 * ONE pane.enqueue_many call - one statement, one commit - and call each
 * submitter back with its own ids. While one batch commits the next one
 * gathers, so batches grow with load and latency stays one commit at idle.
 *
 * A batch that PostgreSQL refuses for bad input is retried one submission
 * at a time, so one bad request never fails its neighbours.
 */
#ifndef PANE_API_BATCHER_H
#define PANE_API_BATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct pane_api_batcher;
struct pane_stats;

/* Called once per submission from a flusher thread. On success err is NULL
 * and ids/created hold n entries in submission order. On failure err says
 * why: PANE_EINVAL (the jobs were refused: message from PostgreSQL),
 * PANE_ETOOBIG, PANE_EEXIST, PANE_EDB (database unavailable),
 * PANE_ECANCELED (stopping). */
typedef void (*pane_api_batch_done)(void *arg, const int64_t *ids, const bool *created, size_t n,
                                    const struct pane_err *err);

struct pane_api_batcher *pane_api_batcher_new(const char *url, const char *schema, unsigned flushers,
                                              struct pane_stats *stats);
/* Stops the flushers (pending submissions get PANE_ECANCELED) and frees. */
void pane_api_batcher_free(struct pane_api_batcher *b);

/* Submits n job objects. elems is their JSON text joined by commas (no
 * brackets); it is copied. Returns 0, or PANE_EAGAIN when too many jobs are
 * already waiting (answer 429) - then done is never called. */
int pane_api_batcher_submit(struct pane_api_batcher *b, const char *elems, size_t len, size_t n,
                            pane_api_batch_done done, void *arg);

#endif
