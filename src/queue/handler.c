/*
 * handler.c - the handler table and the handlers that need no process or
 * socket: noop, fail, sleep, and the C library's callback (PANE_HANDLER_FUNC).
 *
 * The interface is in handler.h; --exec and --http live in handler_exec.c
 * and handler_http.c. The table is indexed by enum pane_queue_handler, so
 * the runtime finds a handler without knowing which ones exist.
 *
 * Thread context: run() on an executor thread (noop and fail inline on the
 * worker's main thread); nothing here keeps state between jobs.
 */
#include "queue/handler.h"

#include <jansson.h>
#include <stdlib.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"

void pane_queue_job_set_result(struct queue_job *j, const char *text, size_t len)
{
	size_t n = len;
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '\r'))
		n--;
	if (n == 0)
		return;
	json_error_t e;
	json_t *v = json_loadb(text, n, JSON_DECODE_ANY, &e);
	if (v) {
		j->result = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		json_decref(v);
	} else {
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		pane_buf_add_json_str(&b, text, n);
		j->result = pane_buf_detach(&b, NULL);
	}
}

static void run_noop(const struct pane_queue_worker_opts *o, struct queue_job *j)
{
	(void)o;
	j->outcome = QJ_OK;
}

static void run_fail(const struct pane_queue_worker_opts *o, struct queue_job *j)
{
	(void)o;
	j->outcome = QJ_RETRY;
	j->error = pane_xstrdup("builtin fail handler");
}

static void run_sleep(const struct pane_queue_worker_opts *o, struct queue_job *j)
{
	int64_t ms = o->sleep_ms;
	int64_t end = pane_mono_ns() + ms * 1000000;
	int64_t deadline = j->timeout_ms > 0 ? pane_mono_ns() + j->timeout_ms * 1000000 : INT64_MAX;
	for (;;) {
		int64_t now = pane_mono_ns();
		if (queue_job_cancelled(j)) {
			j->outcome = QJ_DROPPED;
			return;
		}
		if (now >= deadline) {
			j->outcome = QJ_RETRY;
			j->error = pane_xstrdup("timed out");
			return;
		}
		if (now >= end) {
			j->outcome = QJ_OK;
			return;
		}
		int64_t step = end - now;
		if (deadline - now < step)
			step = deadline - now;
		if (step > 20000000)
			step = 20000000;
		struct timespec ts = {0, (long)step};
		nanosleep(&ts, NULL);
	}
}

bool pane_queue_job_cancelled(const struct pane_queue_job *job)
{
	return job && job->internal && queue_job_cancelled(job->internal);
}

/* PANE_HANDLER_FUNC: the library user's callback, on this executor thread. */
static void run_func(const struct pane_queue_worker_opts *o, struct queue_job *j)
{
	struct pane_queue_job pj = {
	    .id = j->id,
	    .queue = j->queue,
	    .attempt = j->attempt,
	    .max_attempts = j->max_attempts,
	    .payload = j->payload ? j->payload : "{}",
	    .json = j->json,
	    .internal = j,
	};
	char *result = NULL, *error = NULL;
	int rc = o->handler_fn(o->handler_arg, &pj, &result, &error);
	if (queue_job_cancelled(j)) {
		j->outcome = QJ_DROPPED;
	} else if (rc == PANE_QUEUE_DONE) {
		j->outcome = QJ_OK;
		if (result) {
			json_error_t e;
			json_t *v = json_loads(result, JSON_DECODE_ANY, &e);
			if (v) {
				j->result = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
				json_decref(v);
			} else {
				j->outcome = QJ_RETRY;
				j->error = pane_xstrdup("handler returned a result that is not JSON");
			}
		}
	} else {
		j->outcome = rc == PANE_QUEUE_DISCARD ? QJ_DISCARD : QJ_RETRY;
		j->error = pane_xstrdup(error ? error : "handler failed");
	}
	free(result);
	free(error);
}

static const struct pane_queue_handler_ops handlers[] = {
    [PANE_HANDLER_NOOP] = {"noop", true, run_noop},
    [PANE_HANDLER_FAIL] = {"fail", true, run_fail},
    [PANE_HANDLER_SLEEP] = {"sleep", false, run_sleep},
    [PANE_HANDLER_EXEC] = {"exec", false, pane_queue_handler_exec},
    [PANE_HANDLER_HTTP] = {"http", false, pane_queue_handler_http},
    [PANE_HANDLER_FUNC] = {"func", false, run_func},
};

const struct pane_queue_handler_ops *pane_queue_handler_ops(enum pane_queue_handler kind)
{
	if ((size_t)kind >= sizeof handlers / sizeof handlers[0] || !handlers[kind].run)
		return NULL;
	return &handlers[kind];
}
