/*
 * suspend.c - answers not produced on the pool thread: deferred responses
 * and streamed bodies, both by suspending the connection.
 *
 * Idea: a request that waits (a batched commit, a Server-Sent Events
 * stream) suspends its connection instead of holding an MHD thread or
 * polling; whoever completes it resumes it. struct susp is what both kinds
 * share: one reference for MHD's side, one for the completing side; whoever
 * is last frees. The server lists live ones, so that stopping can mark them
 * abandoned and resume them first (MHD must not stop with suspended
 * connections).
 *
 * Invariants:
 *   (1) suspended and abandoned are read and written under the susp's
 *       mutex, so a resume never races a suspend;
 *   (2) a stream's pending output is bounded by its max_buffer; a writer
 *       that outruns the client ends the body (PANE_ETOOBIG);
 *   (3) with nothing to send the stream's reader suspends instead of
 *       returning 0 (which would make MHD busy-loop).
 *
 * Threads: MHD pool threads (reader, free callback); completers and
 * writers from any thread.
 */
#include "http/server_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static void susp_init(struct susp *x, void (*destroy)(struct susp *))
{
	pthread_mutex_init(&x->mu, NULL);
	x->refs = 2; /* the MHD side and the completing/writing side */
	x->destroy = destroy;
}

void http_susp_unlist(struct susp *x)
{
	struct pane_http_server *srv = x->srv;
	if (!srv)
		return;
	pthread_mutex_lock(&srv->susp_mu);
	if (x->listed) {
		if (x->prev)
			x->prev->next = x->next;
		else
			srv->susp_head = x->next;
		if (x->next)
			x->next->prev = x->prev;
		x->listed = false;
	}
	pthread_mutex_unlock(&srv->susp_mu);
	x->srv = NULL;
}

/* Lists x so that stopping can resume it; false when the server is already
 * stopping (then x is marked abandoned). */
bool http_susp_list(struct pane_http_server *srv, struct susp *x)
{
	pthread_mutex_lock(&srv->susp_mu);
	bool ok = !srv->stopping;
	if (ok) {
		x->srv = srv;
		x->prev = NULL;
		x->next = srv->susp_head;
		if (srv->susp_head)
			srv->susp_head->prev = x;
		srv->susp_head = x;
		x->listed = true;
	} else {
		x->abandoned = true;
	}
	pthread_mutex_unlock(&srv->susp_mu);
	return ok;
}

void http_susp_unref(struct susp *x)
{
	pthread_mutex_lock(&x->mu);
	int left = --x->refs;
	pthread_mutex_unlock(&x->mu);
	if (left == 0) {
		pthread_mutex_destroy(&x->mu);
		x->destroy(x);
	}
}

/* Caller holds x->mu. */
void http_susp_resume_locked(struct susp *x)
{
	if (x->suspended && x->conn) {
		x->suspended = false;
		MHD_resume_connection(x->conn);
	}
}

static void deferred_destroy(struct susp *x)
{
	struct pane_http_deferred *d = (struct pane_http_deferred *)x;
	http_resp_release(d->resp);
	free(d->resp);
	free(d);
}

struct pane_http_deferred *pane_http_resp_defer(struct pane_http_resp *resp)
{
	if (resp->deferred)
		return resp->deferred;
	struct pane_http_deferred *d = pane_xcalloc(1, sizeof *d);
	susp_init(&d->s, deferred_destroy);
	d->resp = pane_xmalloc(sizeof *d->resp);
	http_resp_init(d->resp);
	resp->deferred = d;
	return d;
}

struct pane_http_resp *pane_http_deferred_resp(struct pane_http_deferred *d)
{
	return d->resp;
}

void pane_http_deferred_finish(struct pane_http_deferred *d)
{
	pthread_mutex_lock(&d->s.mu);
	d->done = true;
	http_susp_resume_locked(&d->s);
	pthread_mutex_unlock(&d->s.mu);
	http_susp_unref(&d->s);
}

static void stream_destroy(struct susp *x)
{
	struct pane_http_stream *st = (struct pane_http_stream *)x;
	pane_buf_release(&st->buf);
	free(st);
}

struct pane_http_stream *pane_http_resp_stream(struct pane_http_resp *resp, size_t max_buffer)
{
	if (resp->stream)
		return resp->stream;
	struct pane_http_stream *st = pane_xcalloc(1, sizeof *st);
	susp_init(&st->s, stream_destroy);
	pane_buf_init(&st->buf, max_buffer ? max_buffer : STREAM_BUF_DEFAULT);
	resp->stream = st;
	return st;
}

int pane_http_stream_write(struct pane_http_stream *st, const char *data, size_t len)
{
	int rc = 0;
	pthread_mutex_lock(&st->s.mu);
	if (st->gone || st->s.abandoned || st->closed) {
		rc = PANE_EIO;
	} else {
		if (st->off && st->off == st->buf.len) {
			pane_buf_reset(&st->buf);
			st->off = 0;
		}
		if (pane_buf_add(&st->buf, data, len) < 0) {
			st->closed = true; /* the client is too slow: end the body */
			rc = PANE_ETOOBIG;
		}
		http_susp_resume_locked(&st->s);
	}
	pthread_mutex_unlock(&st->s.mu);
	return rc;
}

void pane_http_stream_close(struct pane_http_stream *st)
{
	if (!st)
		return;
	pthread_mutex_lock(&st->s.mu);
	st->closed = true;
	http_susp_resume_locked(&st->s);
	pthread_mutex_unlock(&st->s.mu);
	http_susp_unref(&st->s);
}

/* MHD content reader: hands out buffered bytes; with none, suspends the
 * connection (a writer resumes it) instead of returning 0 to a busy loop. */
ssize_t http_stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)pos;
	struct pane_http_stream *st = cls;
	ssize_t n;
	pthread_mutex_lock(&st->s.mu);
	if (st->buf.len > st->off) {
		size_t avail = st->buf.len - st->off;
		size_t take = avail < max ? avail : max;
		memcpy(out, st->buf.data + st->off, take);
		st->off += take;
		n = (ssize_t)take;
	} else if (st->closed || st->s.abandoned || st->gone) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		st->s.suspended = true;
		MHD_suspend_connection(st->s.conn);
		n = 0;
	}
	pthread_mutex_unlock(&st->s.mu);
	return n;
}

/* MHD is done with the response (sent, or the client left). */
void http_stream_free_cb(void *cls)
{
	struct pane_http_stream *st = cls;
	http_susp_unlist(&st->s);
	pthread_mutex_lock(&st->s.mu);
	st->gone = true;
	st->s.conn = NULL;
	st->s.suspended = false;
	pthread_mutex_unlock(&st->s.mu);
	http_susp_unref(&st->s);
}
