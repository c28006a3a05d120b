/*
 * server.c - libmicrohttpd daemon for pane: a request from its head to its
 * answer (routed, bounded, possibly suspended), and the server's start and
 * stop.
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
 *
 * This file is MHD's protocol (the access handler above, queueing an
 * answer, start and stop); what the states use is beside it, one idea a
 * file, sharing server_internal.h: the route table (route.c), request
 * accessors and arguments (req.c), building responses and JSON errors
 * (resp.c), suspension - deferred answers and streams (suspend.c),
 * connections upgraded after a 101 (upgrade.c), request-head deadlines
 * against slow headers (headtimer.c), the pool for blocking handlers
 * (blocking.c).
 */
#include "http/server.h"
#include "http/server_internal.h"

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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/hostport.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"

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
		r = MHD_create_response_for_upgrade(http_on_upgrade, cb);
		if (!r) {
			free(cb);
			return MHD_NO;
		}
	} else if (resp->stream) {
		struct pane_http_stream *st = resp->stream;
		resp->stream = NULL; /* the MHD side's ref now belongs to the response */
		st->s.conn = conn;
		http_susp_list(req->srv, &st->s);
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16u << 10, http_stream_read, st,
		                                      http_stream_free_cb);
		if (!r) {
			http_stream_free_cb(st);
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
		pane_log_kv(PANE_LOG_DEBUG, "http", "request", "method", req->method, "path", req->path, "status", st,
		            "bytes", bytes, "duration", dur, "peer", req->peer, NULL);
	}
	return ret;
}

/* Answers at once (before the handler) with an error. */
static enum MHD_Result answer_error(struct pane_http_req *req, struct MHD_Connection *conn, int status,
                                    const char *code, const char *msg, const char *allow)
{
	struct pane_http_resp resp;
	http_resp_init(&resp);
	pane_http_resp_error(&resp, status, code, "%s", msg);
	if (allow)
		pane_http_resp_header(&resp, "Allow", allow);
	enum MHD_Result r = queue(req, conn, &resp);
	http_resp_release(&resp);
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

/* Runs the handler (after the whole body) and queues or defers its answer. */
static enum MHD_Result run_handler(struct pane_http_req *req, struct MHD_Connection *conn)
{
	struct pane_http_resp resp;
	http_resp_init(&resp);
	if (req->route->blocking) {
		/* answered by the pool: the same path as a handler that defers */
		struct pane_http_deferred *d = pane_http_resp_defer(&resp);
		if (!http_blk_submit(req->srv, req, d)) {
			struct pane_http_resp *r = pane_http_deferred_resp(d);
			pane_http_resp_header(r, "Retry-After", "1");
			pane_http_resp_error(r, 503, "unavailable",
			                     "the server is busy: too many requests wait for a "
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
		http_resp_release(&resp);
		req->deferred = d;
		d->s.conn = conn;
		http_susp_list(req->srv, &d->s);
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
	http_resp_release(&resp);
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
		http_tconn_mark(srv, conn, true);
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
				inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, req->peer,
				          sizeof req->peer);
			else if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->peer,
				          sizeof req->peer);
		}
		*con_cls = req;

		char allow[128];
		req->route = http_route_find(srv, method, url, req, allow, sizeof allow);
		if (!req->route) {
			if (allow[0])
				return answer_error(req, conn, 405, "method_not_allowed",
				                    "method not allowed for this path", allow);
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
			http_resp_init(&resp);
			if (!srv->auth(srv->auth_ctx, req, req->route->scope, &resp)) {
				enum MHD_Result r = queue(req, conn, &resp);
				http_resp_release(&resp);
				req->responded = true;
				return r;
			}
			http_resp_release(&resp);
		}
		if (!req->too_big && (req->route->on_begin || req->route->on_close)) {
			req->began = true;
			if (req->route->on_begin) {
				struct pane_http_resp resp;
				http_resp_init(&resp);
				if (req->route->on_begin(req, &resp, req->route->ctx) < 0) {
					enum MHD_Result r = queue(req, conn, &resp);
					http_resp_release(&resp);
					req->responded = true;
					return r;
				}
				http_resp_release(&resp);
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
			                 "closing %s: request body arrives slower than %u bytes per second", req->peer,
			                 rate);
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
			http_resp_init(resp);
			if (req->route->on_body(req, upload_data, n, resp, req->route->ctx) < 0) {
				req->early = resp;
				return MHD_YES;
			}
			http_resp_release(resp);
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

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct pane_http_server *srv = cls;
	http_tconn_mark(srv, conn, false);
	struct pane_http_req *req = *con_cls;
	if (req) {
		if (req->began && req->route->on_close)
			req->route->on_close(req, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK, req->route->ctx);
		if (req->deferred) {
			struct pane_http_deferred *d = req->deferred;
			http_susp_unlist(&d->s);
			pthread_mutex_lock(&d->s.mu);
			d->s.conn = NULL;
			d->s.suspended = false;
			pthread_mutex_unlock(&d->s.mu);
			http_susp_unref(&d->s);
			req->deferred = NULL;
		}
	}
	http_req_free(req);
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
		srv->st_requests =
		    pane_stats_counter(srv->opts.stats, "pane_http_requests_total", NULL, "HTTP requests answered");
		srv->st_errors = pane_stats_counter(srv->opts.stats, "pane_http_server_errors_total", NULL,
		                                    "HTTP requests answered with a 5xx status");
		srv->st_too_large = pane_stats_counter(srv->opts.stats, "pane_http_too_large_total", NULL,
		                                       "HTTP requests refused for a body over the route's limit");
		srv->st_slow = pane_stats_counter(srv->opts.stats, "pane_http_slow_clients_total", NULL,
		                                  "HTTP requests cut off for sending their body too slowly");
		srv->st_slow_head =
		    pane_stats_counter(srv->opts.stats, "pane_http_slow_headers_total", NULL,
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
				srv->loopback =
				    (ntohl(((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr) >> 24) == 127;
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
	    0, on_accept, srv, on_request, srv, MHD_OPTION_PER_IP_CONNECTION_LIMIT, srv->opts.max_connections_per_ip,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT,
	    srv->opts.max_connections ? srv->opts.max_connections : 1024u, MHD_OPTION_CONNECTION_TIMEOUT,
	    srv->opts.idle_timeout_s ? srv->opts.idle_timeout_s : 30u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)(srv->opts.max_header_bytes ? srv->opts.max_header_bytes : 32u * 1024u),
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, http_on_connection, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv, MHD_OPTION_END);
	if (!srv->mhd) {
		close(fd);
		srv->fd = -1;
		return pane_err_set(err, PANE_EIO, "cannot start the HTTP server on %s", srv->listen);
	}
	pthread_mutex_lock(&srv->tc_mu);
	srv->tc_started = pthread_create(&srv->tc_th, NULL, http_reaper_main, srv) == 0;
	pthread_mutex_unlock(&srv->tc_mu);
	bool any_blocking = false;
	for (size_t i = 0; i < srv->n_routes; i++)
		any_blocking = any_blocking || srv->routes[i].blocking;
	pthread_mutex_lock(&srv->blk_mu);
	for (unsigned i = 0; any_blocking && i < PANE_HTTP_BLOCKING_THREADS; i++)
		if (pthread_create(&srv->blk_th[srv->blk_n], NULL, http_blk_main, srv) == 0)
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
	http_blk_stop(srv);
	/* MHD must not stop with suspended connections: wake every one; a
	 * deferred request then answers 503, a stream ends. */
	pthread_mutex_lock(&srv->susp_mu);
	srv->stopping = true;
	for (struct susp *x = srv->susp_head; x; x = x->next) {
		pthread_mutex_lock(&x->mu);
		x->abandoned = true;
		http_susp_resume_locked(x);
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
	http_routes_release(srv);
	free(srv->listen);
	pthread_mutex_destroy(&srv->susp_mu);
	pthread_mutex_destroy(&srv->blk_mu);
	pthread_cond_destroy(&srv->blk_cv);
	pthread_mutex_destroy(&srv->tc_mu);
	pthread_cond_destroy(&srv->tc_cv);
	free(srv);
}
