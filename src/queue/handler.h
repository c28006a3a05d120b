/*
 * handler.h - the job handler interface: what the worker runtime hands a
 * handler and what it gets back.
 *
 * A handler is one row of a table (struct pane_queue_handler_ops, looked up
 * by the pane_queue_worker_opts.handler kind): a name, whether it runs
 * inline on the worker's main thread (noop, fail: nothing to wait for), and
 * run(), which takes one claimed job and sets its outcome. The runtime
 * (worker.c) owns claiming, leases, fencing and acknowledgement; handlers
 * know nothing of PostgreSQL. Adding a handler is one file and one row in
 * handler.c.
 *
 * Contract of run(opts, job):
 *   - sets job->outcome; on QJ_OK may set job->result (JSON text, malloc'd,
 *     at most RESULT_MAX bytes), on QJ_RETRY / QJ_DISCARD sets job->error
 *     (malloc'd text); the runtime frees both;
 *   - returns promptly once queue_job_cancelled(job) (lost lease, cancel,
 *     shutdown), with outcome QJ_DROPPED; a handler that starts processes
 *     stores their process group in job->pgid so the runtime can kill it;
 *   - honours job->timeout_ms (0 = none) with QJ_RETRY "timed out ...";
 *   - runs on an executor thread (or the main thread when inline) and may
 *     block it; it shares nothing with other jobs.
 *
 * The handlers: handler.c (noop, fail, sleep, the library's callback),
 * handler_exec.c (--exec: a shell command under a supervisor that dies with
 * the worker), handler_http.c (--http: POST the job JSON).
 */
#ifndef PANE_QUEUE_HANDLER_H
#define PANE_QUEUE_HANDLER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pane/queue.h"

#define RESULT_MAX (1u << 20) /* largest result a handler may return */
#define ERROR_TAIL 4000       /* bytes of a handler's error text kept */

enum queue_outcome {
	QJ_OK,      /* completed */
	QJ_RETRY,   /* failed: retry with backoff while attempts remain */
	QJ_DISCARD, /* failed for good: no retry */
	QJ_DROPPED  /* not ours any more (cancelled, lost lease): report nothing */
};

/* One claimed job. Handlers read id..timeout_ms and cancel, write pgid,
 * outcome, result and error; the rest is the runtime's. */
struct queue_job {
	int64_t id;
	int attempt, max_attempts;
	char *queue;
	char *json;         /* what handlers receive */
	char *payload;      /* PANE_HANDLER_FUNC only */
	int64_t timeout_ms; /* 0 = none */
	atomic_int cancel;  /* 1: lost/cancelled, 2: shutdown */
	atomic_int pgid;    /* exec: the handler's process group */
	enum queue_outcome outcome;
	char *result; /* JSON text or NULL */
	char *error;
	int64_t started_ns;
	struct queue_job *next;
};

static inline bool queue_job_cancelled(const struct queue_job *j)
{
	return atomic_load(&j->cancel) != 0;
}

struct pane_queue_handler_ops {
	const char *name;
	bool inline_run; /* on the main thread, right after the claim */
	void (*run)(const struct pane_queue_worker_opts *o, struct queue_job *j);
};

/* The handler for a kind (never NULL for a valid kind; NULL otherwise). */
const struct pane_queue_handler_ops *pane_queue_handler_ops(enum pane_queue_handler kind);

/* Sets j->result from a handler's output: JSON as is (compacted), anything
 * else as a JSON string; nothing for empty output (trailing white space
 * ignored). */
void pane_queue_job_set_result(struct queue_job *j, const char *text, size_t len);

void pane_queue_handler_exec(const struct pane_queue_worker_opts *o, struct queue_job *j);
void pane_queue_handler_http(const struct pane_queue_worker_opts *o, struct queue_job *j);

#endif
