/*
 * server.c - libmicrohttpd daemon with a router, bounded bodies and
 * suspendable answers.
 *
 * Idea: libmicrohttpd owns sockets, parsing, keep-alive and its thread pool
 * (epoll, one listening socket shared by the pool); this file adds what every
 * pane endpoint needs on top: route matching with path parameters, per-route
 * body limits enforced while the body streams in, streamed bodies for
 * uploads, form decoding, an auth hook, JSON error bodies, counters and an
 * access log - and answers that are NOT produced on the pool thread:
 * deferred responses (a batched commit answers later) and streamed
 * responses (Server-Sent Events). Both suspend the connection instead of
 * blocking a thread or polling, so two pool threads can hold thousands of
 * waiting requests.
 *
 * A request moves through these access-handler calls (MHD's protocol):
 *
 *   first call   -> match route (404/405 answered at once), Content-Length
 *                   over the limit by more than DRAIN_MAX (413 at once; by
 *                   less, the body is dropped and 413 follows it, on_begin
 *                   is not called), auth (401/403), on_begin (may refuse:
 *                   415 ...); else allocate the request.
 *   body chunks  -> buffered into req->body, or handed to on_body (streamed
 *                   routes). Past max_body, or after an on_body refusal, the
 *                   rest is read and discarded (up to DRAIN_MAX, so the client
 *                   sees a clean answer), because MHD can only answer once the
 *                   body is in; past DRAIN_MAX the connection is closed. A body
 *                   slower than body_min_rate after body_grace_s (from its
 *                   first byte): closed.
 *   final call   -> run the handler; queue its response, or suspend
 *                   (deferred) until pane_http_deferred_finish resumes it and
 *                   MHD calls once more (answer_deferred).
 *   completed    -> on_close, release the deferred, free the request
 *                   (MHD_OPTION_NOTIFY_COMPLETED).
 *
 * Suspension (struct susp, shared by deferred answers and streams): one
 * reference for MHD's side, one for the completing side; whoever is last
 * frees. suspended/abandoned are read and written under its mutex, so a
 * resume never races a suspend. The server lists live ones: stopping marks
 * them abandoned and resumes them (MHD must not stop with suspended
 * connections), closes new connections as they come (on_accept), waits
 * briefly for the woken ones to answer (503 / end of stream), then stops
 * MHD. Never MHD_quiesce_daemon: it races MHD's own epoll workers.
 *
 * Invariants:
 *   (1) A handler runs at most once per request, with the whole body (or,
 *       for streamed routes, after on_body saw all of it).
 *   (2) Every request gets at most one response; a handler that sets none
 *       produces 500; on_close runs exactly once when on_begin/on_close exist.
 *   (3) Memory per request is bounded by max_body (buffered routes) or by
 *       MHD's connection buffer (streamed routes) plus max_header_bytes; a
 *       stream's pending output by its max_buffer.
 *
 * Threads: MHD pool threads call everything here; the route table is
 * read-only after start; deferred/stream handles are completed from any
 * thread.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/hostport.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"

#define DEFAULT_MAX_BODY (1u << 20)
#define MAX_PARAMS 8
#define MAX_SEGMENTS 32
#define RESP_MAX (256u << 20)
/* A body over the limit is read and discarded up to this many bytes so the
 * client sees a clean 413 instead of a reset; past it the connection is
 * answered at once and closed. */
#define DRAIN_MAX (4u << 20)
#define STREAM_BUF_DEFAULT (64u << 10)

/* Something that suspends a connection (a deferred response or a streamed
 * body). Shared between an MHD thread and the thread that completes it, so
 * it is reference counted (one ref each) and guarded by mu. The server lists
 * the live ones so that stopping can resume every suspended connection
 * first (MHD forbids stopping with suspended connections). */
struct susp {
	pthread_mutex_t mu;
	int refs;
	struct MHD_Connection *conn; /* NULL once MHD is done with the request */
	bool suspended;              /* MHD_suspend_connection called, not yet resumed */
	bool abandoned;              /* the server is stopping */
	struct pane_http_server *srv;
	struct susp *prev, *next;
	bool listed;
	void (*destroy)(struct susp *);
};

struct pane_http_deferred {
	struct susp s;  /* first */
	bool done;
	struct pane_http_resp *resp;
};

struct pane_http_stream {
	struct susp s;  /* first */
	struct pane_buf buf;  /* bytes not yet handed to MHD, from off */
	size_t off;
	bool closed;          /* the writer is done */
	bool gone;            /* the client (or server) is gone */
};

struct route {
	int (*on_begin)(struct pane_http_req *, struct pane_http_resp *, void *);
	int (*on_body)(struct pane_http_req *, const char *, size_t, struct pane_http_resp *, void *);
	void (*on_close)(struct pane_http_req *, bool, void *);
	char *method;
	char **segs;       /* pattern segments; "{name}" / "{name*}" keep the braces */
	size_t n_segs;
	pane_http_handler handler;
	void *ctx;
	size_t max_body;
	char *scope;
	bool blocking;
};

struct pane_http_server {
	struct pane_http_server_opts opts;
	char *listen;
	struct route *routes;
	size_t n_routes;
	struct MHD_Daemon *mhd;
	int fd;
	int port;
	bool loopback;
	pane_http_auth_fn auth;
	void *auth_ctx;
	struct pane_stat *st_requests, *st_errors, *st_too_large, *st_slow;
	pthread_mutex_t susp_mu;
	struct susp *susp_head;
	bool stopping;
	atomic_bool refusing; /* stopping: on_accept closes new connections */
	/* the blocking pool (routes with .blocking): a FIFO of jobs, threads
	 * started with the server when any route needs them */
	pthread_mutex_t blk_mu;
	pthread_cond_t blk_cv;
	struct blk_job *blk_head, *blk_tail;
	size_t blk_len;
	bool blk_stop;
	pthread_t blk_th[PANE_HTTP_BLOCKING_THREADS];
	unsigned blk_n;
	/* open connections and their request-head deadlines (struct tconn) */
	pthread_mutex_t tc_mu;
	pthread_cond_t tc_cv;
	struct tconn *tc_head;
	bool tc_stop, tc_started;
	pthread_t tc_th;
	unsigned header_timeout_s, idle_s;
	struct pane_stat *st_slow_head;
	struct pane_log_limit slow_lim;
	/* connections handed over after 101 Switching Protocols (under susp_mu) */
	struct pane_http_upgraded *up_head;
};

struct pane_http_upgraded {
	struct pane_http_server *srv;
	struct MHD_UpgradeResponseHandle *urh;
	int fd;
	struct pane_http_upgraded *next;
};

struct upgrade_cb {
	void (*fn)(void *arg, struct pane_http_upgraded *u);
	void *arg;
	struct pane_http_server *srv;
};

struct kv {
	char *name;
	char *value;
};

struct pane_http_req {
	struct pane_http_server *srv;
	struct MHD_Connection *conn;
	const char *method;
	char *path;
	const struct route *route;
	struct kv params[MAX_PARAMS];
	size_t n_params;
	struct pane_buf body;
	bool responded;     /* a response was queued before the handler ran */
	bool too_big;       /* body over the limit: drained, then answered 413 */
	uint64_t drained;   /* bytes discarded after an early refusal */
	bool form_parsed;
	struct kv *form;
	size_t n_form;
	char peer[64];
	int64_t start_ns;
	int64_t body_start_ns; /* first body byte: the slow-body rate counts from here */
	uint64_t body_bytes;  /* body bytes received (buffered or streamed) */
	bool began;           /* on_begin ran (so on_close is owed) */
	bool completed_ok;
	void *user;
	struct pane_http_deferred *deferred;
	struct pane_http_resp *early; /* on_body refused mid-body: sent once the body is drained */
};

struct pane_http_resp {
	struct pane_http_deferred *deferred; /* set by pane_http_resp_defer */
	struct pane_http_stream *stream;     /* set by pane_http_resp_stream */
	struct upgrade_cb *upgrade;          /* set by pane_http_resp_upgrade */
	int status;
	struct pane_buf body;
	char *content_type;
	struct kv *headers;
	size_t n_headers;
	bool has_file; /* pane_http_resp_file: the body is file_fd */
	int file_fd;
	uint64_t file_size;
};

/* ---------- routes ---------- */

static size_t split_path(char *path, char **segs, size_t max)
{
	size_t n = 0;
	char *p = path;
	while (*p == '/')
		p++;
	while (*p && n < max) {
		segs[n++] = p;
		char *slash = strchr(p, '/');
		if (!slash)
			break;
		*slash = '\0';
		p = slash + 1;
	}
	return n;
}

int pane_http_server_route(struct pane_http_server *srv, const struct pane_http_route *r)
{
	if (!r->pattern || r->pattern[0] != '/' || !r->handler || !r->method)
		return PANE_EINVAL;
	char *copy = pane_xstrdup(r->pattern);
	char *segs[MAX_SEGMENTS];
	size_t n = split_path(copy, segs, MAX_SEGMENTS);
	struct route rt = {0};
	rt.segs = pane_xcalloc(n ? n : 1, sizeof *rt.segs);
	size_t params = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(segs[i]);
		if (segs[i][0] == '{') {
			bool rest = len > 3 && segs[i][len - 2] == '*';
			if (segs[i][len - 1] != '}' || len < 3 || (rest && i != n - 1) || ++params > MAX_PARAMS) {
				for (size_t j = 0; j < i; j++)
					free(rt.segs[j]);
				free(rt.segs);
				free(copy);
				return PANE_EINVAL;
			}
		}
		rt.segs[i] = pane_xstrdup(segs[i]);
	}
	free(copy);
	rt.n_segs = n;
	rt.method = pane_xstrdup(r->method);
	rt.handler = r->handler;
	rt.ctx = r->ctx;
	rt.max_body = r->max_body ? r->max_body : DEFAULT_MAX_BODY;
	rt.scope = pane_xstrdup(r->scope);
	rt.on_begin = r->on_begin;
	rt.on_body = r->on_body;
	rt.on_close = r->on_close;
	rt.blocking = r->blocking;
	srv->routes = pane_xrealloc(srv->routes, pane_mul_size(srv->n_routes + 1, sizeof *srv->routes));
	srv->routes[srv->n_routes++] = rt;
	return 0;
}

/* Matches path segments against a route; fills params on success. */
static bool route_match(const struct route *rt, char **segs, size_t n, struct pane_http_req *req)
{
	size_t np = 0;
	struct kv params[MAX_PARAMS];
	size_t i;
	for (i = 0; i < rt->n_segs; i++) {
		const char *pat = rt->segs[i];
		size_t plen = strlen(pat);
		if (pat[0] == '{' && pat[plen - 2] == '*') {
			/* rest-of-path parameter: join remaining segments */
			struct pane_buf b;
			pane_buf_init(&b, PANE_BUF_NOLIMIT);
			for (size_t j = i; j < n; j++)
				pane_buf_addf(&b, "%s%s", j > i ? "/" : "", segs[j]);
			params[np].name = pane_xstrndup(pat + 1, plen - 3);
			params[np++].value = pane_buf_detach(&b, NULL);
			i = n;
			goto matched;
		}
		if (i >= n)
			goto nomatch;
		if (pat[0] == '{') {
			if (!*segs[i])
				goto nomatch;
			params[np].name = pane_xstrndup(pat + 1, plen - 2);
			params[np++].value = pane_xstrdup(segs[i]);
		} else if (strcmp(pat, segs[i]) != 0) {
			goto nomatch;
		}
	}
	if (i != n)
		goto nomatch;
matched:
	if (req) {
		memcpy(req->params, params, np * sizeof *params);
		req->n_params = np;
	} else {
		for (size_t k = 0; k < np; k++) {
			free(params[k].name);
			free(params[k].value);
		}
	}
	return true;
nomatch:
	for (size_t k = 0; k < np; k++) {
		free(params[k].name);
		free(params[k].value);
	}
	return false;
}

/* ---------- responses ---------- */

static void resp_init(struct pane_http_resp *resp)
{
	memset(resp, 0, sizeof *resp);
	pane_buf_init(&resp->body, RESP_MAX);
}

static void susp_unref(struct susp *x);

static void resp_release(struct pane_http_resp *resp)
{
	free(resp->upgrade);
	resp->upgrade = NULL;
	if (resp->stream) {
		/* never queued (an error path): the MHD side's ref goes here */
		pthread_mutex_lock(&resp->stream->s.mu);
		resp->stream->gone = true;
		pthread_mutex_unlock(&resp->stream->s.mu);
		susp_unref(&resp->stream->s);
		resp->stream = NULL;
	}
	if (resp->has_file)
		close(resp->file_fd);
	resp->has_file = false;
	pane_buf_release(&resp->body);
	free(resp->content_type);
	for (size_t i = 0; i < resp->n_headers; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	free(resp->headers);
}

void pane_http_resp_status(struct pane_http_resp *resp, int status)
{
	resp->status = status;
}

void pane_http_resp_header(struct pane_http_resp *resp, const char *name, const char *value)
{
	resp->headers = pane_xrealloc(resp->headers, pane_mul_size(resp->n_headers + 1, sizeof *resp->headers));
	resp->headers[resp->n_headers].name = pane_xstrdup(name);
	resp->headers[resp->n_headers].value = pane_xstrdup(value);
	resp->n_headers++;
}

void pane_http_resp_content_type(struct pane_http_resp *resp, const char *type)
{
	free(resp->content_type);
	resp->content_type = pane_xstrdup(type);
}

void pane_http_resp_file(struct pane_http_resp *resp, int fd, uint64_t size)
{
	if (resp->has_file)
		close(resp->file_fd);
	pane_buf_reset(&resp->body);
	resp->has_file = true;
	resp->file_fd = fd;
	resp->file_size = size;
}

struct pane_buf *pane_http_resp_body(struct pane_http_resp *resp)
{
	return &resp->body;
}

void pane_http_resp_json(struct pane_http_resp *resp, int status, const char *json)
{
	resp->status = status;
	pane_http_resp_content_type(resp, "application/json");
	pane_buf_reset(&resp->body);
	pane_buf_adds(&resp->body, json);
}

void pane_http_resp_error(struct pane_http_resp *resp, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	resp->status = status;
	pane_http_resp_content_type(resp, "application/json");
	pane_buf_reset(&resp->body);
	struct pane_json j;
	pane_json_init(&j, &resp->body);
	pane_json_obj(&j);
	pane_json_key(&j, "error");
	pane_json_obj(&j);
	pane_json_key(&j, "code");
	pane_json_str(&j, code);
	pane_json_key(&j, "message");
	pane_json_str(&j, msg);
	pane_json_obj_end(&j);
	pane_json_obj_end(&j);
	pane_buf_addc(&resp->body, '\n');
}

/* ---------- suspendable connections: deferred responses and streams ---------- */

static void susp_init(struct susp *x, void (*destroy)(struct susp *))
{
	pthread_mutex_init(&x->mu, NULL);
	x->refs = 2; /* the MHD side and the completing/writing side */
	x->destroy = destroy;
}

static void susp_unlist(struct susp *x)
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
static bool susp_list(struct pane_http_server *srv, struct susp *x)
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

static void susp_unref(struct susp *x)
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
static void susp_resume_locked(struct susp *x)
{
	if (x->suspended && x->conn) {
		x->suspended = false;
		MHD_resume_connection(x->conn);
	}
}

static void deferred_destroy(struct susp *x)
{
	struct pane_http_deferred *d = (struct pane_http_deferred *)x;
	resp_release(d->resp);
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
	resp_init(d->resp);
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
	susp_resume_locked(&d->s);
	pthread_mutex_unlock(&d->s.mu);
	susp_unref(&d->s);
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
		susp_resume_locked(&st->s);
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
	susp_resume_locked(&st->s);
	pthread_mutex_unlock(&st->s.mu);
	susp_unref(&st->s);
}

/* MHD content reader: hands out buffered bytes; with none, suspends the
 * connection (a writer resumes it) instead of returning 0 to a busy loop. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
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
static void stream_free_cb(void *cls)
{
	struct pane_http_stream *st = cls;
	susp_unlist(&st->s);
	pthread_mutex_lock(&st->s.mu);
	st->gone = true;
	st->s.conn = NULL;
	st->s.suspended = false;
	pthread_mutex_unlock(&st->s.mu);
	susp_unref(&st->s);
}

/* ---------- upgraded connections (101 Switching Protocols) ----------
 *
 * MHD hands the socket over once the 101 is sent; the route's function
 * owns it until pane_http_upgraded_close. The server lists them so that
 * pane_http_server_free can shut their sockets down (the owner's next read
 * or write fails) and wait for every owner to close before stopping MHD. */

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
		       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct upgrade_cb *cb = cls;
	struct pane_http_upgraded *u = pane_xcalloc(1, sizeof *u);
	*u = (struct pane_http_upgraded){.srv = cb->srv, .urh = urh, .fd = (int)sock};
	pthread_mutex_lock(&cb->srv->susp_mu);
	bool stopping = cb->srv->stopping;
	if (!stopping) {
		u->next = cb->srv->up_head;
		cb->srv->up_head = u;
	}
	pthread_mutex_unlock(&cb->srv->susp_mu);
	if (stopping) {
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		free(u);
		u = NULL; /* fn only frees its arg */
	}
	cb->fn(cb->arg, u);
	free(cb);
}

void pane_http_resp_upgrade(struct pane_http_resp *resp, void (*fn)(void *arg, struct pane_http_upgraded *u),
			    void *arg)
{
	free(resp->upgrade);
	resp->upgrade = pane_xcalloc(1, sizeof *resp->upgrade);
	resp->upgrade->fn = fn;
	resp->upgrade->arg = arg;
	resp->status = 101;
}

int pane_http_upgraded_fd(const struct pane_http_upgraded *u)
{
	return u->fd;
}

void pane_http_upgraded_close(struct pane_http_upgraded *u)
{
	struct pane_http_server *srv = u->srv;
	pthread_mutex_lock(&srv->susp_mu);
	for (struct pane_http_upgraded **p = &srv->up_head; *p; p = &(*p)->next)
		if (*p == u) {
			*p = u->next;
			break;
		}
	pthread_mutex_unlock(&srv->susp_mu);
	MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
	free(u);
}

static enum MHD_Result queue(struct pane_http_req *req, struct MHD_Connection *conn, struct pane_http_resp *resp)
{
	if (resp->status == 0)
		pane_http_resp_error(resp, 500, "internal", "the handler produced no response");
	size_t len;
	size_t body_len = resp->body.len;
	struct MHD_Response *r;
	if (resp->upgrade) {
		struct upgrade_cb *cb = resp->upgrade;
		resp->upgrade = NULL; /* the response's callback owns it now */
		cb->srv = req->srv;
		r = MHD_create_response_for_upgrade(on_upgrade, cb);
		if (!r) {
			free(cb);
			return MHD_NO;
		}
	} else if (resp->stream) {
		struct pane_http_stream *st = resp->stream;
		resp->stream = NULL; /* the MHD side's ref now belongs to the response */
		st->s.conn = conn;
		susp_list(req->srv, &st->s);
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16u << 10, stream_read, st, stream_free_cb);
		if (!r) {
			stream_free_cb(st);
			return MHD_NO;
		}
	} else if (resp->has_file) {
		resp->has_file = false; /* MHD closes the fd with the response */
		body_len = (size_t)resp->file_size;
		r = MHD_create_response_from_fd64(resp->file_size, resp->file_fd);
		if (!r) {
			close(resp->file_fd);
			return MHD_NO;
		}
	} else {
		char *body = pane_buf_detach(&resp->body, &len);
		r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
		if (!r) {
			free(body);
			return MHD_NO;
		}
	}
	if (resp->content_type)
		MHD_add_response_header(r, "Content-Type", resp->content_type);
	for (size_t i = 0; i < resp->n_headers; i++)
		MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status, r);
	MHD_destroy_response(r);

	struct pane_http_server *srv = req->srv;
	if (srv->st_requests)
		pane_stat_inc(srv->st_requests);
	if (resp->status >= 500 && srv->st_errors)
		pane_stat_inc(srv->st_errors);
	if (pane_log_enabled(PANE_LOG_DEBUG)) {
		char st[8], bytes[24], dur[32];
		snprintf(st, sizeof st, "%d", resp->status);
		snprintf(bytes, sizeof bytes, "%zu", body_len);
		snprintf(dur, sizeof dur, "%.3fms", (double)(pane_mono_ns() - req->start_ns) / 1e6);
		pane_log_kv(PANE_LOG_DEBUG, "http", "request", "method", req->method, "path", req->path, "status",
			    st, "bytes", bytes, "duration", dur, "peer", req->peer, NULL);
	}
	return ret;
}

/* Answers at once (before the handler) with an error. */
static enum MHD_Result answer_error(struct pane_http_req *req, struct MHD_Connection *conn, int status,
				   const char *code, const char *msg, const char *allow)
{
	struct pane_http_resp resp;
	resp_init(&resp);
	pane_http_resp_error(&resp, status, code, "%s", msg);
	if (allow)
		pane_http_resp_header(&resp, "Allow", allow);
	enum MHD_Result r = queue(req, conn, &resp);
	resp_release(&resp);
	req->responded = true;
	return r;
}

static enum MHD_Result answer_too_big(struct pane_http_req *req, struct MHD_Connection *conn)
{
	if (req->srv->st_too_large)
		pane_stat_inc(req->srv->st_too_large);
	char msg[128];
	snprintf(msg, sizeof msg, "request body is larger than the limit of %zu bytes", req->route->max_body);
	return answer_error(req, conn, 413, "payload_too_large", msg, NULL);
}

/* A resumed (or never suspended) deferred request: send what the completer
 * left, or 503 when the server is stopping first. */
static enum MHD_Result answer_deferred(struct pane_http_req *req, struct MHD_Connection *conn)
{
	struct pane_http_deferred *d = req->deferred;
	if (req->responded)
		return MHD_YES;
	pthread_mutex_lock(&d->s.mu);
	bool done = d->done, abandoned = d->s.abandoned;
	if (!done && !abandoned) {
		d->s.suspended = true; /* spurious wake-up: wait again */
		MHD_suspend_connection(conn);
		pthread_mutex_unlock(&d->s.mu);
		return MHD_YES;
	}
	pthread_mutex_unlock(&d->s.mu);
	if (!done)
		return answer_error(req, conn, 503, "unavailable", "the server is stopping; retry", NULL);
	enum MHD_Result r = queue(req, conn, d->resp);
	req->responded = true;
	return r;
}

/* ---------- request accessors ---------- */

const char *pane_http_req_method(const struct pane_http_req *req)
{
	return req->method;
}

const char *pane_http_req_path(const struct pane_http_req *req)
{
	return req->path;
}

const char *pane_http_req_param(const struct pane_http_req *req, const char *name)
{
	for (size_t i = 0; i < req->n_params; i++)
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	return NULL;
}

const char *pane_http_req_header(const struct pane_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *pane_http_req_body(const struct pane_http_req *req, size_t *len)
{
	if (len)
		*len = req->body.len;
	return req->body.data;
}

void pane_http_req_set_user(struct pane_http_req *req, void *user)
{
	req->user = user;
}

void *pane_http_req_user(const struct pane_http_req *req)
{
	return req->user;
}

uint64_t pane_http_req_body_bytes(const struct pane_http_req *req)
{
	return req->body_bytes;
}

const char *pane_http_req_peer(const struct pane_http_req *req)
{
	return req->peer;
}

bool pane_http_req_content_type_is(const struct pane_http_req *req, const char *type)
{
	const char *ct = pane_http_req_header(req, "Content-Type");
	if (!ct)
		return false;
	size_t n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return n == strlen(type) && strncasecmp(ct, type, n) == 0;
}

size_t pane_http_url_decode(char *s, size_t len, bool plus_is_space)
{
	size_t j = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '+' && plus_is_space) {
			c = ' ';
		} else if (c == '%' && i + 2 < len) {
			int hi = s[i + 1], lo = s[i + 2];
			int h = hi >= '0' && hi <= '9' ? hi - '0' : (hi | 32) >= 'a' && (hi | 32) <= 'f' ? (hi | 32) - 'a' + 10 : -1;
			int l = lo >= '0' && lo <= '9' ? lo - '0' : (lo | 32) >= 'a' && (lo | 32) <= 'f' ? (lo | 32) - 'a' + 10 : -1;
			if (h >= 0 && l >= 0) {
				c = (char)(h * 16 + l);
				i += 2;
			}
		}
		s[j++] = c;
	}
	if (j < len)
		s[j] = '\0';
	return j;
}

static void parse_form(struct pane_http_req *req)
{
	req->form_parsed = true;
	if (!pane_http_req_content_type_is(req, "application/x-www-form-urlencoded"))
		return;
	struct pane_str rest = pane_str_make(req->body.data, req->body.len), pair;
	while (rest.len) {
		pane_str_cut(rest, '&', &pair, &rest);
		if (!pair.len)
			continue;
		struct pane_str k, v;
		pane_str_cut(pair, '=', &k, &v);
		char *name = pane_str_dup(k);
		char *value = pane_str_dup(v);
		pane_http_url_decode(name, strlen(name), true);
		pane_http_url_decode(value, strlen(value), true);
		req->form = pane_xrealloc(req->form, pane_mul_size(req->n_form + 1, sizeof *req->form));
		req->form[req->n_form].name = name;
		req->form[req->n_form].value = value;
		req->n_form++;
	}
}

const char *pane_http_req_arg(struct pane_http_req *req, const char *name)
{
	const char *v = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
	if (v)
		return v;
	if (!req->form_parsed)
		parse_form(req);
	for (size_t i = 0; i < req->n_form; i++)
		if (strcmp(req->form[i].name, name) == 0)
			return req->form[i].value;
	return NULL;
}

struct args_iter {
	const char *name;
	const char **out;
	size_t max;
	size_t n;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct args_iter *it = cls;
	if (key && strcmp(key, it->name) == 0) {
		if (it->n < it->max)
			it->out[it->n] = value ? value : "";
		it->n++;
	}
	return MHD_YES;
}

struct each_arg {
	void (*fn)(void *arg, const char *key, const char *value);
	void *arg;
};

static enum MHD_Result each_arg_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct each_arg *e = cls;
	if (key)
		e->fn(e->arg, key, value ? value : "");
	return MHD_YES;
}

void pane_http_req_query_each(const struct pane_http_req *req,
			      void (*fn)(void *arg, const char *key, const char *value), void *arg)
{
	struct each_arg e = {fn, arg};
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, each_arg_cb, &e);
}

size_t pane_http_req_args(struct pane_http_req *req, const char *name, const char **out, size_t max)
{
	struct args_iter it = {name, out, max, 0};
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_arg, &it);
	if (!req->form_parsed)
		parse_form(req);
	for (size_t i = 0; i < req->n_form; i++)
		collect_arg(&it, MHD_POSTDATA_KIND, req->form[i].name, req->form[i].value);
	return it.n;
}

static void req_free(struct pane_http_req *req)
{
	if (!req)
		return;
	for (size_t i = 0; i < req->n_params; i++) {
		free(req->params[i].name);
		free(req->params[i].value);
	}
	for (size_t i = 0; i < req->n_form; i++) {
		free(req->form[i].name);
		free(req->form[i].value);
	}
	free(req->form);
	free(req->path);
	if (req->early) {
		resp_release(req->early);
		free(req->early);
	}
	pane_buf_release(&req->body);
	free(req);
}

/* ---------- MHD callbacks ---------- */

static const struct route *find_route(struct pane_http_server *srv, const char *method, const char *url,
				      struct pane_http_req *req, char *allow, size_t allow_len)
{
	char *copy = pane_xstrdup(url);
	char *segs[MAX_SEGMENTS + 1];
	size_t n = split_path(copy, segs, MAX_SEGMENTS + 1);
	const struct route *found = NULL;
	bool head = strcmp(method, "HEAD") == 0;
	allow[0] = '\0';
	if (n <= MAX_SEGMENTS) {
		for (size_t i = 0; i < srv->n_routes && !found; i++) {
			const struct route *rt = &srv->routes[i];
			bool same = strcmp(rt->method, method) == 0 || (head && strcmp(rt->method, "GET") == 0);
			if (!route_match(rt, segs, n, same ? req : NULL))
				continue;
			if (same) {
				found = rt;
			} else if (!strstr(allow, rt->method)) {
				size_t l = strlen(allow);
				snprintf(allow + l, allow_len - l, "%s%s", l ? ", " : "", rt->method);
			}
		}
	}
	free(copy);
	return found;
}

/* ---------- request-head deadlines ---------- */

/* One per open connection (MHD's socket context). MHD's own timeout is an
 * idle timeout, which a client trickling one header byte at a time resets
 * forever; the reaper closes a connection whose request head is not
 * complete by its deadline, by shutting its socket down (MHD then sees the
 * end and closes it on its own thread). */
struct tconn {
	struct tconn *prev, *next;
	int fd;
	bool busy;           /* a request's head is in: deadlines do not apply */
	bool cut;            /* already shut down */
	int64_t deadline_ns; /* while !busy */
};

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct pane_http_server *srv = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		struct tconn *t = pane_xcalloc(1, sizeof *t);
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		t->fd = ci ? ci->connect_fd : -1;
		t->deadline_ns = pane_mono_ns() + (int64_t)srv->header_timeout_s * 1000000000;
		pthread_mutex_lock(&srv->tc_mu);
		t->next = srv->tc_head;
		if (srv->tc_head)
			srv->tc_head->prev = t;
		srv->tc_head = t;
		pthread_mutex_unlock(&srv->tc_mu);
		*socket_context = t;
	} else if (*socket_context) {
		struct tconn *t = *socket_context;
		pthread_mutex_lock(&srv->tc_mu);
		if (t->prev)
			t->prev->next = t->next;
		else
			srv->tc_head = t->next;
		if (t->next)
			t->next->prev = t->prev;
		pthread_mutex_unlock(&srv->tc_mu);
		free(t);
		*socket_context = NULL;
	}
}

static struct tconn *tconn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* busy: a request head arrived; else a request ended and the next head has
 * until the idle timeout. */
static void tconn_mark(struct pane_http_server *srv, struct MHD_Connection *conn, bool busy)
{
	struct tconn *t = tconn_of(conn);
	if (!t)
		return;
	pthread_mutex_lock(&srv->tc_mu);
	t->busy = busy;
	if (!busy)
		t->deadline_ns = pane_mono_ns() + (int64_t)srv->idle_s * 1000000000;
	pthread_mutex_unlock(&srv->tc_mu);
}

static void *reaper_main(void *arg)
{
	struct pane_http_server *srv = arg;
	pthread_mutex_lock(&srv->tc_mu);
	while (!srv->tc_stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&srv->tc_cv, &srv->tc_mu, &until);
		int64_t now = pane_mono_ns();
		for (struct tconn *t = srv->tc_head; t; t = t->next) {
			if (t->busy || t->cut || t->fd < 0 || now < t->deadline_ns)
				continue;
			shutdown(t->fd, SHUT_RDWR);
			t->cut = true;
			if (srv->st_slow_head)
				pane_stat_inc(srv->st_slow_head);
		}
	}
	pthread_mutex_unlock(&srv->tc_mu);
	return NULL;
}

/* ---------- the blocking pool ---------- */

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

static void *blk_main(void *arg)
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
static bool blk_submit(struct pane_http_server *srv, struct pane_http_req *req, struct pane_http_deferred *d)
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
static void blk_stop(struct pane_http_server *srv)
{
	pthread_mutex_lock(&srv->blk_mu);
	srv->blk_stop = true;
	pthread_cond_broadcast(&srv->blk_cv);
	pthread_mutex_unlock(&srv->blk_mu);
	for (unsigned i = 0; i < srv->blk_n; i++)
		pthread_join(srv->blk_th[i], NULL);
	srv->blk_n = 0;
}

/* Runs the handler (after the whole body) and queues or defers its answer. */
static enum MHD_Result run_handler(struct pane_http_req *req, struct MHD_Connection *conn)
{
	struct pane_http_resp resp;
	resp_init(&resp);
	if (req->route->blocking) {
		/* answered by the pool: the same path as a handler that defers */
		struct pane_http_deferred *d = pane_http_resp_defer(&resp);
		if (!blk_submit(req->srv, req, d)) {
			struct pane_http_resp *r = pane_http_deferred_resp(d);
			pane_http_resp_header(r, "Retry-After", "1");
			pane_http_resp_error(r, 503, "unavailable", "the server is busy: too many requests wait for a "
								    "dependency; retry");
			pane_http_deferred_finish(d);
		}
	} else {
		req->route->handler(req, &resp, req->route->ctx);
	}
	if (resp.stream && resp.status == 0)
		resp.status = 200;
	if (resp.deferred) {
		struct pane_http_deferred *d = resp.deferred;
		resp.deferred = NULL;
		resp_release(&resp);
		req->deferred = d;
		d->s.conn = conn;
		susp_list(req->srv, &d->s);
		pthread_mutex_lock(&d->s.mu);
		bool ready = d->done || d->s.abandoned;
		if (!ready) {
			d->s.suspended = true;
			MHD_suspend_connection(conn);
		}
		pthread_mutex_unlock(&d->s.mu);
		if (!ready)
			return MHD_YES;
		return answer_deferred(req, conn);
	}
	enum MHD_Result r = queue(req, conn, &resp);
	resp_release(&resp);
	req->responded = true;
	return r;
}

/* Whether a refused body has been dropped long enough: DRAIN_MAX bytes past
 * the route's limit when it is too big (a Content-Length the head let through
 * always fits), DRAIN_MAX bytes after an early refusal. */
static bool drain_exceeded(const struct pane_http_req *req)
{
	if (req->too_big)
		return req->body_bytes > req->route->max_body && req->body_bytes - req->route->max_body > DRAIN_MAX;
	return req->drained > DRAIN_MAX;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	(void)version;
	struct pane_http_server *srv = cls;
	struct pane_http_req *req = *con_cls;

	if (!req) {
		tconn_mark(srv, conn, true);
		req = pane_xcalloc(1, sizeof *req);
		req->srv = srv;
		req->conn = conn;
		req->method = method;
		req->path = pane_xstrdup(url);
		req->start_ns = pane_mono_ns();
		pane_buf_init(&req->body, DEFAULT_MAX_BODY);
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr) {
			const struct sockaddr *sa = ci->client_addr;
			if (sa->sa_family == AF_INET)
				inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, req->peer, sizeof req->peer);
			else if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->peer, sizeof req->peer);
		}
		*con_cls = req;

		char allow[128];
		req->route = find_route(srv, method, url, req, allow, sizeof allow);
		if (!req->route) {
			if (allow[0])
				return answer_error(req, conn, 405, "method_not_allowed", "method not allowed for this path", allow);
			return answer_error(req, conn, 404, "not_found", "no such endpoint", NULL);
		}
		req->body.max = req->route->max_body;
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		uint64_t clen;
		if (cl && pane_str_to_u64(pane_str_c(cl), &clen) == 0 && clen > req->route->max_body) {
			/* answering before the body means closing on a client still
			 * sending: its kernel may get the reset before it reads the 413
			 * (curl: "Send failure: Broken pipe"). Within DRAIN_MAX the body
			 * is read and dropped and the 413 comes at its end, streamed
			 * routes included (without on_begin: nothing is owed on_close). */
			if (clen - req->route->max_body > DRAIN_MAX)
				return answer_too_big(req, conn);
			req->too_big = true;
		}
		if (req->route->scope && srv->auth) {
			struct pane_http_resp resp;
			resp_init(&resp);
			if (!srv->auth(srv->auth_ctx, req, req->route->scope, &resp)) {
				enum MHD_Result r = queue(req, conn, &resp);
				resp_release(&resp);
				req->responded = true;
				return r;
			}
			resp_release(&resp);
		}
		if (!req->too_big && (req->route->on_begin || req->route->on_close)) {
			req->began = true;
			if (req->route->on_begin) {
				struct pane_http_resp resp;
				resp_init(&resp);
				if (req->route->on_begin(req, &resp, req->route->ctx) < 0) {
					enum MHD_Result r = queue(req, conn, &resp);
					resp_release(&resp);
					req->responded = true;
					return r;
				}
				resp_release(&resp);
			}
		}
		return MHD_YES;
	}

	if (req->deferred)
		return answer_deferred(req, conn);

	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (req->responded)
			return MHD_YES;
		req->body_bytes += n;
		/* slow clients: a body must keep an average rate once the grace period
		 * is over, counted from its first byte (not from the head: a client
		 * waits up to a second for "100 Continue" before it sends a byte) */
		if (!req->body_start_ns)
			req->body_start_ns = pane_mono_ns();
		int64_t elapsed_ns = pane_mono_ns() - req->body_start_ns;
		unsigned grace = srv->opts.body_grace_s ? srv->opts.body_grace_s : 10u;
		unsigned rate = srv->opts.body_min_rate ? srv->opts.body_min_rate : 1024u;
		if (elapsed_ns > (int64_t)grace * 1000000000LL &&
		    (double)req->body_bytes < (double)rate * ((double)elapsed_ns / 1e9)) {
			if (srv->st_slow)
				pane_stat_inc(srv->st_slow);
			/* MHD cannot answer mid-body: close the connection */
			pane_log_limited(&srv->slow_lim, PANE_LOG_INFO, "http",
					 "closing %s: request body arrives slower than %u bytes per second", req->peer, rate);
			req->responded = true;
			return MHD_NO;
		}
		if (req->route->on_body) {
			/* MHD cannot answer mid-body: a refusal is kept, the rest of the body is
			 * read and dropped (up to DRAIN_MAX, else the connection is closed), and
			 * the refusal is sent at the end */
			if (req->early || req->too_big) {
				req->drained += n;
				return drain_exceeded(req) ? MHD_NO : MHD_YES;
			}
			if (req->body_bytes > req->route->max_body) {
				req->too_big = true;
				return MHD_YES;
			}
			struct pane_http_resp *resp = pane_xmalloc(sizeof *resp);
			resp_init(resp);
			if (req->route->on_body(req, upload_data, n, resp, req->route->ctx) < 0) {
				req->early = resp;
				return MHD_YES;
			}
			resp_release(resp);
			free(resp);
			return MHD_YES;
		}
		if (!req->too_big && pane_buf_add(&req->body, upload_data, n) < 0) {
			req->too_big = true;
			pane_buf_release(&req->body);
		}
		if (req->too_big) {
			if (drain_exceeded(req))
				return answer_too_big(req, conn);
		}
		return MHD_YES;
	}
	if (req->responded)
		return MHD_YES;
	if (req->too_big)
		return answer_too_big(req, conn);
	if (req->early) {
		enum MHD_Result r = queue(req, conn, req->early);
		req->responded = true;
		return r;
	}
	return run_handler(req, conn);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct pane_http_server *srv = cls;
	tconn_mark(srv, conn, false);
	struct pane_http_req *req = *con_cls;
	if (req) {
		if (req->began && req->route->on_close)
			req->route->on_close(req, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK, req->route->ctx);
		if (req->deferred) {
			struct pane_http_deferred *d = req->deferred;
			susp_unlist(&d->s);
			pthread_mutex_lock(&d->s.mu);
			d->s.conn = NULL;
			d->s.suspended = false;
			pthread_mutex_unlock(&d->s.mu);
			susp_unref(&d->s);
			req->deferred = NULL;
		}
	}
	req_free(req);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	pane_debug("http", "libmicrohttpd: %s", msg);
}

/* ---------- lifecycle ---------- */

/* Once the server is stopping, new connections are closed as they come
 * (instead of MHD_quiesce_daemon, see pane_http_server_free). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	(void)addr;
	(void)addrlen;
	struct pane_http_server *srv = cls;
	return atomic_load(&srv->refusing) ? MHD_NO : MHD_YES;
}

struct pane_http_server *pane_http_server_new(const struct pane_http_server_opts *opts, struct pane_err *err)
{
	char host[256], port[16];
	const char *listen = opts->listen ? opts->listen : "127.0.0.1:8080";
	if (pane_hostport_split(listen, host, sizeof host, port, sizeof port) < 0) {
		pane_err_set(err, PANE_EINVAL, "bad listen address '%s'", listen);
		pane_err_detail(err, "write HOST:PORT, e.g. 127.0.0.1:8080, [::1]:8080 or 0.0.0.0:8080");
		return NULL;
	}
	struct pane_http_server *srv = pane_xcalloc(1, sizeof *srv);
	srv->opts = *opts;
	srv->listen = pane_xstrdup(listen);
	srv->opts.listen = srv->listen;
	srv->fd = -1;
	if (srv->opts.stats) {
		srv->st_requests = pane_stats_counter(srv->opts.stats, "pane_http_requests_total", NULL,
						      "HTTP requests answered");
		srv->st_errors = pane_stats_counter(srv->opts.stats, "pane_http_server_errors_total", NULL,
						    "HTTP requests answered with a 5xx status");
		srv->st_too_large = pane_stats_counter(srv->opts.stats, "pane_http_too_large_total", NULL,
						       "HTTP requests refused for a body over the route's limit");
		srv->st_slow = pane_stats_counter(srv->opts.stats, "pane_http_slow_clients_total", NULL,
						  "HTTP requests cut off for sending their body too slowly");
		srv->st_slow_head = pane_stats_counter(srv->opts.stats, "pane_http_slow_headers_total", NULL,
						       "HTTP connections closed for not sending a request head in time");
	}
	pthread_mutex_init(&srv->susp_mu, NULL);
	pthread_mutex_init(&srv->blk_mu, NULL);
	pthread_cond_init(&srv->blk_cv, NULL);
	pthread_mutex_init(&srv->tc_mu, NULL);
	pthread_cond_init(&srv->tc_cv, NULL);
	srv->header_timeout_s = opts->header_timeout_s ? opts->header_timeout_s : 10;
	srv->idle_s = opts->idle_timeout_s ? opts->idle_timeout_s : 30;
	srv->slow_lim.burst = 5;
	srv->slow_lim.per_ms = 60000;
	return srv;
}

void pane_http_server_set_auth(struct pane_http_server *srv, pane_http_auth_fn fn, void *ctx)
{
	srv->auth = fn;
	srv->auth_ctx = ctx;
}

int pane_http_server_start(struct pane_http_server *srv, struct pane_err *err)
{
	char host[256], port[16];
	pane_hostport_split(srv->listen, host, sizeof host, port, sizeof port);
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	int gai = getaddrinfo(*host ? host : NULL, port, &hints, &res);
	if (gai != 0)
		return pane_err_set(err, PANE_EINVAL, "cannot resolve listen address '%s': %s", srv->listen,
				    gai_strerror(gai));
	int fd = -1;
	int saved = 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0) {
			if (ai->ai_family == AF_INET)
				srv->loopback = (ntohl(((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr) >> 24) == 127;
			else if (ai->ai_family == AF_INET6)
				srv->loopback = IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
			break;
		}
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		pane_err_set(err, PANE_EIO, "cannot listen on %s: %s", srv->listen, strerror(saved));
		if (saved == EADDRINUSE)
			pane_err_detail(err, "another process uses that port; pick another with --listen HOST:PORT");
		return PANE_EIO;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						   : ((struct sockaddr_in *)&ss)->sin_port);
	srv->fd = fd;

	unsigned threads = srv->opts.threads;
	if (!threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (unsigned)n : 2;
	}
	srv->mhd = MHD_start_daemon(
		MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME |
			MHD_ALLOW_UPGRADE,
		0, on_accept,
		srv, on_request, srv,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, srv->opts.max_connections_per_ip,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_CONNECTION_LIMIT, srv->opts.max_connections ? srv->opts.max_connections : 1024u,
		MHD_OPTION_CONNECTION_TIMEOUT, srv->opts.idle_timeout_s ? srv->opts.idle_timeout_s : 30u,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)(srv->opts.max_header_bytes ? srv->opts.max_header_bytes : 32u * 1024u),
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
		MHD_OPTION_END);
	if (!srv->mhd) {
		close(fd);
		srv->fd = -1;
		return pane_err_set(err, PANE_EIO, "cannot start the HTTP server on %s", srv->listen);
	}
	pthread_mutex_lock(&srv->tc_mu);
	srv->tc_started = pthread_create(&srv->tc_th, NULL, reaper_main, srv) == 0;
	pthread_mutex_unlock(&srv->tc_mu);
	bool any_blocking = false;
	for (size_t i = 0; i < srv->n_routes; i++)
		any_blocking = any_blocking || srv->routes[i].blocking;
	pthread_mutex_lock(&srv->blk_mu);
	for (unsigned i = 0; any_blocking && i < PANE_HTTP_BLOCKING_THREADS; i++)
		if (pthread_create(&srv->blk_th[srv->blk_n], NULL, blk_main, srv) == 0)
			srv->blk_n++;
	pthread_mutex_unlock(&srv->blk_mu);
	return 0;
}

int pane_http_server_port(const struct pane_http_server *srv)
{
	return srv->port;
}

bool pane_http_server_is_loopback(const struct pane_http_server *srv)
{
	return srv->loopback;
}

const char *pane_http_server_listen(const struct pane_http_server *srv)
{
	return srv->listen;
}

bool pane_http_server_listen_is_loopback(const struct pane_http_server *srv)
{
	char host[256], port[16];
	if (pane_hostport_split(srv->listen, host, sizeof host, port, sizeof port) < 0 || !*host)
		return false;
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return false;
	bool all = res != NULL;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			all = all && (ntohl(((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr) >> 24) == 127;
		else if (ai->ai_family == AF_INET6)
			all = all && IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
		else
			all = false;
	}
	freeaddrinfo(res);
	return all;
}

void pane_http_server_free(struct pane_http_server *srv)
{
	if (!srv)
		return;
	/* blocking handlers first: they use their (suspended) requests */
	blk_stop(srv);
	/* MHD must not stop with suspended connections: wake every one; a
	 * deferred request then answers 503, a stream ends. */
	pthread_mutex_lock(&srv->susp_mu);
	srv->stopping = true;
	for (struct susp *x = srv->susp_head; x; x = x->next) {
		pthread_mutex_lock(&x->mu);
		x->abandoned = true;
		susp_resume_locked(x);
		pthread_mutex_unlock(&x->mu);
	}
	for (struct pane_http_upgraded *u = srv->up_head; u; u = u->next)
		shutdown(u->fd, SHUT_RDWR); /* its owner's next read or write fails */
	pthread_mutex_unlock(&srv->susp_mu);
	for (int i = 0; i < 1000; i++) { /* owners close within a poll interval */
		pthread_mutex_lock(&srv->susp_mu);
		bool none = srv->up_head == NULL;
		pthread_mutex_unlock(&srv->susp_mu);
		if (none)
			break;
		pane_sleep_ms(5);
	}
	atomic_store(&srv->refusing, true);
	if (srv->mhd) {
		/* let the woken requests answer (bounded wait), then stop. New
		 * connections are closed at once by on_accept meanwhile. Not
		 * MHD_quiesce_daemon: with epoll and a thread pool it races the
		 * workers removing the listen socket from their epoll sets, and
		 * the loser aborts the process ("Failed to remove listen FD from
		 * epoll set", libmicrohttpd 0.9.75). MHD_stop_daemon closes the
		 * listen socket it was given. */
		for (int i = 0; i < 400; i++) {
			pthread_mutex_lock(&srv->susp_mu);
			bool empty = srv->susp_head == NULL;
			pthread_mutex_unlock(&srv->susp_mu);
			if (empty)
				break;
			pane_sleep_ms(5);
		}
		MHD_stop_daemon(srv->mhd);
	}
	pthread_mutex_lock(&srv->tc_mu);
	srv->tc_stop = true;
	pthread_cond_broadcast(&srv->tc_cv);
	bool reaper = srv->tc_started;
	pthread_mutex_unlock(&srv->tc_mu);
	if (reaper)
		pthread_join(srv->tc_th, NULL);
	else if (srv->fd >= 0)
		close(srv->fd);
	for (size_t i = 0; i < srv->n_routes; i++) {
		struct route *rt = &srv->routes[i];
		for (size_t j = 0; j < rt->n_segs; j++)
			free(rt->segs[j]);
		free(rt->segs);
		free(rt->method);
		free(rt->scope);
	}
	free(srv->routes);
	free(srv->listen);
	pthread_mutex_destroy(&srv->susp_mu);
	pthread_mutex_destroy(&srv->blk_mu);
	pthread_cond_destroy(&srv->blk_cv);
	pthread_mutex_destroy(&srv->tc_mu);
	pthread_cond_destroy(&srv->tc_cv);
	free(srv);
}
