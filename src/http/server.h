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
 * response is sent after the handler returns.
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
	const char *method;    /* "GET", "POST", ...; "GET" also answers HEAD */
	const char *pattern;   /* "/v1/queues/{queue}/jobs" */
	pane_http_handler handler;
	void *ctx;
	size_t max_body;       /* bytes; 0 means the default (1 MiB) */
	const char *scope;     /* NULL: open; otherwise the token scope needed ("read", "enqueue", "admin") */
};

struct pane_http_server_opts {
	const char *listen;          /* "127.0.0.1:8080", "[::1]:0", ":8080"; port 0 picks a free port */
	unsigned threads;            /* worker threads; 0 = number of CPUs */
	unsigned max_connections;    /* 0 = 1024 */
	unsigned idle_timeout_s;     /* 0 = 30 */
	size_t max_header_bytes;     /* per-connection memory for headers; 0 = 32 KiB */
	struct pane_stats *stats;    /* optional: request counters land here */
};

/* Authorisation hook (installed by the auth layer): return true to let the
 * request through; otherwise fill resp (401/403) and return false. */
typedef bool (*pane_http_auth_fn)(void *ctx, struct pane_http_req *req, const char *scope,
				  struct pane_http_resp *resp);

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

/* Decodes %XX and '+' (form rules) in place; returns the new length. */
size_t pane_http_url_decode(char *s, size_t len, bool plus_is_space);

#endif
