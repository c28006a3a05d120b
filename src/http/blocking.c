/*
 * blocking.c - the blocking pool: handlers that wait on a dependency (a
 * database, a remote backend) run on their own threads, not MHD's.
 *
 * Idea: a route marked .blocking is answered the way a handler that defers
 * is: the connection is suspended and a pool thread runs the handler and
 * finishes the deferred answer. The pool is small and its queue bounded,
 * so a slow dependency costs queued requests a quick 503 with Retry-After
 * instead of every MHD thread.
 *
 * Invariants:
 *   (1) PANE_HTTP_BLOCKING_THREADS threads, started with the server only
 *       when a route needs them; at most PANE_HTTP_BLOCKING_QUEUE jobs wait;
 *   (2) a job that waited longer than PANE_HTTP_BLOCKING_WAIT_S is answered
 *       503 without running;
 *   (3) stopping joins running handlers, answers queued jobs 503, and comes
 *       before suspended connections are resumed (a running handler still
 *       uses its req).
 */
#include "http/server_internal.h"

#include <stdlib.h>

#include "base/clock.h"
#include "base/mem.h"

struct blk_job {
	struct pane_http_req *req;
	struct pane_http_deferred *d;
	int64_t queued_ns;
	struct blk_job *next;
};

/* Answers a blocking job without running it. */
static void blk_refuse(struct blk_job *j, const char *msg)
{
	struct pane_http_resp *r = pane_http_deferred_resp(j->d);
	pane_http_resp_header(r, "Retry-After", "1");
	pane_http_resp_error(r, 503, "unavailable", "%s", msg);
	pane_http_deferred_finish(j->d);
	free(j);
}

void *http_blk_main(void *arg)
{
	struct pane_http_server *srv = arg;
	pthread_mutex_lock(&srv->blk_mu);
	for (;;) {
		while (!srv->blk_head && !srv->blk_stop)
			pthread_cond_wait(&srv->blk_cv, &srv->blk_mu);
		if (!srv->blk_head)
			break;
		struct blk_job *j = srv->blk_head;
		srv->blk_head = j->next;
		if (!srv->blk_head)
			srv->blk_tail = NULL;
		srv->blk_len--;
		bool stop = srv->blk_stop;
		pthread_mutex_unlock(&srv->blk_mu);
		if (stop)
			blk_refuse(j, "the server is stopping; retry");
		else if (pane_mono_ns() - j->queued_ns > (int64_t)PANE_HTTP_BLOCKING_WAIT_S * 1000000000)
			blk_refuse(j, "the server is busy: the request waited too long for a worker; retry");
		else {
			/* the connection is suspended: MHD leaves it (and req) alone */
			j->req->route->handler(j->req, pane_http_deferred_resp(j->d), j->req->route->ctx);
			pane_http_deferred_finish(j->d);
			free(j);
		}
		pthread_mutex_lock(&srv->blk_mu);
	}
	pthread_mutex_unlock(&srv->blk_mu);
	return NULL;
}

/* Queues req for the blocking pool; false when the queue is full or the
 * server is stopping. */
bool http_blk_submit(struct pane_http_server *srv, struct pane_http_req *req, struct pane_http_deferred *d)
{
	pthread_mutex_lock(&srv->blk_mu);
	bool ok = !srv->blk_stop && srv->blk_n > 0 && srv->blk_len < PANE_HTTP_BLOCKING_QUEUE;
	if (ok) {
		struct blk_job *j = pane_xcalloc(1, sizeof *j);
		j->req = req;
		j->d = d;
		j->queued_ns = pane_mono_ns();
		if (srv->blk_tail)
			srv->blk_tail->next = j;
		else
			srv->blk_head = j;
		srv->blk_tail = j;
		srv->blk_len++;
		pthread_cond_signal(&srv->blk_cv);
	}
	pthread_mutex_unlock(&srv->blk_mu);
	return ok;
}

/* Stops the pool: waits for running handlers (bounded by their own
 * deadlines), answers queued jobs 503. Before suspended connections are
 * resumed, because a running handler still uses its req. */
void http_blk_stop(struct pane_http_server *srv)
{
	pthread_mutex_lock(&srv->blk_mu);
	srv->blk_stop = true;
	pthread_cond_broadcast(&srv->blk_cv);
	pthread_mutex_unlock(&srv->blk_mu);
	for (unsigned i = 0; i < srv->blk_n; i++)
		pthread_join(srv->blk_th[i], NULL);
	srv->blk_n = 0;
}
