/*
 * server.h - pane's HTTP server: libmicrohttpd, a router, JSON errors.
 *
 * Every HTTP endpoint in pane (health, jobs API, ingestion, Prometheus API,
 * dashboard) is a route on one server:
 *
 *     static void get_job(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx);
 *     pane_http_server_route(srv, &(struct pane_http_route){
 *         .method = "GET", .pattern = "/v1/jobs/{id}", .handler = get_job, .ctx = q,
 *         .scope = "read"});
 *
 * Patterns are literal segments and `{name}` segments (one path segment), and
 * a final `{name*}` that takes the rest of the path. A path that matches a
 * pattern under another method answers 405 with Allow; no match is 404.
 *
 * Request bodies are buffered up to the route's max_body (default 1 MiB) and
 * answered 413 beyond it, without reading the rest. The handler runs once,
 * with the whole body, on a server thread; it fills resp and returns. The
 * response is sent after the handler returns - unless the handler deferred
 * it (pane_http_resp_defer: answered later from another thread) or made it a
 * stream (pane_http_resp_stream: Server-Sent Events). Routes with on_body
 * get their body piece by piece instead (uploads), never buffered.
 *
 * Ownership: the server owns routes' copies of pattern strings, not ctx.
 * req and resp, and every string they hand out, live only during the call.
 * Threads: handlers run concurrently on the pool threads; a handler's ctx
 * must be thread-safe. Routes are added before pane_http_server_start().
 */
#ifndef PANE_HTTP_SERVER_H
#define PANE_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/stats.h"

struct pane_http_server;
struct pane_http_req;
struct pane_http_resp;

typedef void (*pane_http_handler)(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx);

struct pane_http_route {
	const char *method;  /* "GET", "POST", ...; "GET" also answers HEAD */
	const char *pattern; /* "/v1/queues/{queue}/jobs" */
	pane_http_handler handler;
	void *ctx;
	size_t max_body;   /* bytes; 0 means the default (1 MiB) */
	const char *scope; /* NULL: open; otherwise the token scope needed ("read", "enqueue", "admin") */

	/* ---- optional, added with the jobs API (zero = old behaviour) ---- */
	/* Runs after routing and auth, before any body byte is read: may answer
	 * at once (415, 400 ...) by filling resp and returning < 0. */
	int (*on_begin)(struct pane_http_req *req, struct pane_http_resp *resp, void *ctx);
	/* Streaming body: when set the body is NOT buffered; each piece goes to
	 * on_body as it arrives (0 = go on; < 0 with resp filled = answer now,
	 * the rest is not read). handler then runs with an empty body. max_body
	 * still bounds the total (413). */
	int (*on_body)(struct pane_http_req *req, const char *data, size_t len, struct pane_http_resp *resp, void *ctx);
	/* Runs exactly once when the request ends for any reason (response sent,
	 * client gone, server stopping), after on_begin was called: completed
	 * says whether the response went out in full. For cleaning up what
	 * on_begin/on_body made (pane_http_req_user). req accessors are valid. */
	void (*on_close)(struct pane_http_req *req, bool completed, void *ctx);

	/* ---- optional, added with hardening (zero = old behaviour) ---- */
	/* The handler may wait on a dependency (PostgreSQL): it runs on the
	 * server's separate blocking pool, never on a thread that reads
	 * requests, so a hung dependency cannot stop /healthz. Its connection
	 * is suspended meanwhile. When the pool's queue is full, or a request
	 * waited in it longer than PANE_HTTP_BLOCKING_WAIT_S, it is answered 503
	 * without running. */
	bool blocking;
};

#define PANE_HTTP_BLOCKING_THREADS 4
#define PANE_HTTP_BLOCKING_QUEUE 64
#define PANE_HTTP_BLOCKING_WAIT_S 5

struct pane_http_server_opts {
	const char *listen;       /* "127.0.0.1:8080", "[::1]:0", ":8080"; port 0 picks a free port */
	unsigned threads;         /* worker threads; 0 = number of CPUs */
	unsigned max_connections; /* 0 = 1024 */
	unsigned idle_timeout_s;  /* 0 = 30 */
	size_t max_header_bytes;  /* per-connection memory for headers; 0 = 32 KiB */
	struct pane_stats *stats; /* optional: request counters land here */
	/* ---- optional, added with the jobs API (zero = default) ---- */
	unsigned max_connections_per_ip; /* 0 = no per-address limit */
	unsigned body_min_rate;          /* bytes/s a request body must average once body_grace_s
	                                  * have passed, else 408 and close (slow clients); 0 = 1024 */
	unsigned body_grace_s;           /* 0 = 10 */
	/* ---- optional, added with hardening (zero = default) ---- */
	unsigned header_timeout_s; /* a new connection must complete its request head within this
	                            * (trickled headers do not reset it), else it is closed; 0 = 10.
	                            * Later requests on a kept-alive connection get idle_timeout_s. */
};

/* Authorisation hook (installed by the auth layer): return true to let the
 * request through; otherwise fill resp (401/403) and return false. */
typedef bool (*pane_http_auth_fn)(void *ctx, struct pane_http_req *req, const char *scope, struct pane_http_resp *resp);

/* Creates a server (not yet listening). NULL with err on a bad listen address. */
struct pane_http_server *pane_http_server_new(const struct pane_http_server_opts *opts, struct pane_err *err);
/* Adds a route (copied). 0, or PANE_EINVAL for a malformed pattern. */
int pane_http_server_route(struct pane_http_server *srv, const struct pane_http_route *route);
void pane_http_server_set_auth(struct pane_http_server *srv, pane_http_auth_fn fn, void *ctx);
/* Binds and starts serving on background threads. 0 or a negative code with
 * err ("cannot listen on 127.0.0.1:8080: Address already in use"). */
int pane_http_server_start(struct pane_http_server *srv, struct pane_err *err);
/* The bound port (after start), useful with port 0. */
int pane_http_server_port(const struct pane_http_server *srv);
/* True when bound to a loopback address only. */
bool pane_http_server_is_loopback(const struct pane_http_server *srv);
/* Before start: true when every address the listen option resolves to is a
 * loopback address (":8080" and "0.0.0.0:8080" are not). */
bool pane_http_server_listen_is_loopback(const struct pane_http_server *srv);
/* The listen option as given ("127.0.0.1:8080"). */
const char *pane_http_server_listen(const struct pane_http_server *srv);
/* Stops serving (waits for handlers in flight) and frees. NULL is a no-op. */
void pane_http_server_free(struct pane_http_server *srv);

/* ---- request accessors (valid during the handler call) ---- */
const char *pane_http_req_method(const struct pane_http_req *req);
const char *pane_http_req_path(const struct pane_http_req *req);
/* Path parameter by name ("queue" for "{queue}"), or NULL. */
const char *pane_http_req_param(const struct pane_http_req *req, const char *name);
/* Query-string argument, else form-encoded body argument, or NULL. */
const char *pane_http_req_arg(struct pane_http_req *req, const char *name);
/* All values of a repeated argument (match[]=a&match[]=b), query then form.
 * Fills at most max pointers; returns how many there are in all. */
size_t pane_http_req_args(struct pane_http_req *req, const char *name, const char **out, size_t max);
/* Header by case-insensitive name, or NULL. */
const char *pane_http_req_header(const struct pane_http_req *req, const char *name);
/* The buffered body (NUL-terminated for convenience; may contain NULs). */
const char *pane_http_req_body(const struct pane_http_req *req, size_t *len);
/* The peer address as text ("127.0.0.1"). */
const char *pane_http_req_peer(const struct pane_http_req *req);
/* True when the Content-Type's media type equals type (parameters ignored). */
bool pane_http_req_content_type_is(const struct pane_http_req *req, const char *type);

/* A per-request pointer for on_begin/on_body/handler/on_close (the
 * server never touches it). NULL until set. */
void pane_http_req_set_user(struct pane_http_req *req, void *user);
void *pane_http_req_user(const struct pane_http_req *req);
/* Calls fn for every query-string argument in order (value "" when absent). */
void pane_http_req_query_each(const struct pane_http_req *req,
                              void (*fn)(void *arg, const char *key, const char *value), void *arg);
/* Body bytes received so far (also for streaming routes). */
uint64_t pane_http_req_body_bytes(const struct pane_http_req *req);

/* ---- response builders ---- */
void pane_http_resp_status(struct pane_http_resp *resp, int status);
/* Adds a response header (copied). */
void pane_http_resp_header(struct pane_http_resp *resp, const char *name, const char *value);
void pane_http_resp_content_type(struct pane_http_resp *resp, const char *type);
/* The body buffer to append to (bounded at 256 MiB). */
struct pane_buf *pane_http_resp_body(struct pane_http_resp *resp);
/* Sets status, JSON content type and body text. */
void pane_http_resp_json(struct pane_http_resp *resp, int status, const char *json);
/* {"error":{"code":"...","message":"..."}} with status. code is a short
 * snake_case identifier ("not_found", "payload_too_large"). */
void pane_http_resp_error(struct pane_http_resp *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Makes the body the first size bytes of the open file fd (a stored
 * upload), sent from the file without reading it into memory. The response
 * owns fd from here: it is closed once sent or dropped. Replaces any body
 * appended before. */
void pane_http_resp_file(struct pane_http_resp *resp, int fd, uint64_t size);

/* ---- deferred responses (answer later, from any thread) ----
 *
 * A handler that waits on something slow (a batched database commit) calls
 * pane_http_resp_defer() and returns: the pool thread is free at once and the
 * connection is suspended (it costs a socket and a little memory, no
 * thread). Later, from any thread, fill pane_http_deferred_resp() and call
 * pane_http_deferred_finish() exactly once; the handle is invalid after it.
 * If the client or the server goes away first, finish still must be called
 * (it then just frees). Whatever the handler put in its own resp is ignored.
 * req is NOT valid after the handler returns: copy what you need. */
struct pane_http_deferred;
struct pane_http_deferred *pane_http_resp_defer(struct pane_http_resp *resp);
struct pane_http_resp *pane_http_deferred_resp(struct pane_http_deferred *d);
void pane_http_deferred_finish(struct pane_http_deferred *d);

/* ---- streamed responses (Server-Sent Events and other long bodies) ----
 *
 * pane_http_resp_stream() makes the handler's response a body of unknown
 * length (chunked) that is written over time from any thread. Status and
 * headers set on resp are sent when the handler returns. While nothing is
 * buffered the connection is suspended (no thread, no polling). The writer
 * owns the handle until pane_http_stream_close(), which ends the body after
 * what was written. Buffered bytes are bounded by max_buffer (0 = 64 KiB):
 * a client that falls that far behind is cut off. A suspended connection
 * cannot see its client leave, so a writer should write something (an SSE
 * comment) every few seconds; writes then fail with PANE_EIO once the
 * client is gone. */
struct pane_http_stream;
struct pane_http_stream *pane_http_resp_stream(struct pane_http_resp *resp, size_t max_buffer);
/* 0, PANE_EIO (client or server gone), PANE_ETOOBIG (client too slow; the
 * stream is ended). Thread-safe. */
int pane_http_stream_write(struct pane_http_stream *st, const char *data, size_t len);
/* Ends the body after what was written and releases the writer's handle. */
void pane_http_stream_close(struct pane_http_stream *st);

/* ---- upgraded connections (websockets; added with the Loki API) ----
 *
 * pane_http_resp_upgrade() makes the answer 101 Switching Protocols (set the
 * Upgrade header and any other, like Sec-WebSocket-Accept, on resp); once
 * it is sent, fn runs on a server thread with the connection's socket and
 * must return promptly (start a thread). The owner then reads and writes
 * pane_http_upgraded_fd() itself and calls pane_http_upgraded_close()
 * exactly once, from any thread. When the server stops it shuts every such
 * socket down (reads and writes fail) and waits up to 5 s for the owners
 * to close. A connection that upgrades while the server stops is closed at
 * once and fn gets u == NULL (it only frees arg). Bytes the client sent
 * after its request head are not passed on. */
struct pane_http_upgraded;
void pane_http_resp_upgrade(struct pane_http_resp *resp, void (*fn)(void *arg, struct pane_http_upgraded *u),
                            void *arg);
int pane_http_upgraded_fd(const struct pane_http_upgraded *u);
void pane_http_upgraded_close(struct pane_http_upgraded *u);

/* Decodes %XX and '+' (form rules) in place; returns the new length. */
size_t pane_http_url_decode(char *s, size_t len, bool plus_is_space);

#endif
