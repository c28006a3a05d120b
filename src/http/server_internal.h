/*
 * server_internal.h - what the HTTP server's files share: the server, a
 * request, a response, the route table and suspended connections.
 * Not a seam: only src/http/server*.c and its siblings below include it;
 * every other part sees http/server.h's opaque handles.
 *
 * The files: server.c (MHD's access-handler protocol, the request state
 * machine, start and stop), route.c (the route table and matching),
 * req.c (request accessors, query and form arguments), resp.c (building
 * responses, JSON errors), suspend.c (deferred answers and streamed
 * bodies: suspend/resume), upgrade.c (connections handed over after a
 * 101), headtimer.c (request-head deadlines: the slow-header defence),
 * blocking.c (the pool for handlers that block).
 *
 * Locks: srv->susp_mu guards the lists of suspended and upgraded
 * connections and srv->stopping; a susp's mu its flags; srv->tc_mu the
 * open connections' deadlines; srv->blk_mu the blocking pool's queue.
 */
#ifndef PANE_HTTP_SERVER_INTERNAL_H
#define PANE_HTTP_SERVER_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/stats.h"
#include "http/server.h"

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
	struct susp s; /* first */
	bool done;
	struct pane_http_resp *resp;
};

struct pane_http_stream {
	struct susp s;       /* first */
	struct pane_buf buf; /* bytes not yet handed to MHD, from off */
	size_t off;
	bool closed; /* the writer is done */
	bool gone;   /* the client (or server) is gone */
};

struct route {
	int (*on_begin)(struct pane_http_req *, struct pane_http_resp *, void *);
	int (*on_body)(struct pane_http_req *, const char *, size_t, struct pane_http_resp *, void *);
	void (*on_close)(struct pane_http_req *, bool, void *);
	char *method;
	char **segs; /* pattern segments; "{name}" / "{name*}" keep the braces */
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
	bool responded;   /* a response was queued before the handler ran */
	bool too_big;     /* body over the limit: drained, then answered 413 */
	uint64_t drained; /* bytes discarded after an early refusal */
	bool form_parsed;
	struct kv *form;
	size_t n_form;
	char peer[64];
	int64_t start_ns;
	int64_t body_start_ns; /* first body byte: the slow-body rate counts from here */
	uint64_t body_bytes;   /* body bytes received (buffered or streamed) */
	bool began;            /* on_begin ran (so on_close is owed) */
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

/* resp.c */
void http_resp_init(struct pane_http_resp *resp);
/* Frees what resp holds (an unqueued stream's MHD-side reference too). */
void http_resp_release(struct pane_http_resp *resp);

/* req.c */
void http_req_free(struct pane_http_req *req);

/* route.c */
/* The route for method and url, with req's path parameters filled; NULL
 * when none matches, with the methods that would have matched listed in
 * allow (for a 405's Allow header). */
const struct route *http_route_find(struct pane_http_server *srv, const char *method, const char *url,
                                    struct pane_http_req *req, char *allow, size_t allow_len);
void http_routes_release(struct pane_http_server *srv);

/* suspend.c */
/* Lists x so that stopping can resume it; false when the server is already
 * stopping (then x is marked abandoned). */
bool http_susp_list(struct pane_http_server *srv, struct susp *x);
void http_susp_unlist(struct susp *x);
/* Drops one reference; the last one destroys x. */
void http_susp_unref(struct susp *x);
/* Caller holds x->mu. */
void http_susp_resume_locked(struct susp *x);
/* The MHD content reader and its free callback of a streamed response (cls: the stream). */
ssize_t http_stream_read(void *cls, uint64_t pos, char *out, size_t max);
void http_stream_free_cb(void *cls);

/* upgrade.c */
/* MHD's upgrade handler (cls: the route's struct upgrade_cb, freed here). */
void http_on_upgrade(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in, size_t extra_in_size,
                     MHD_socket sock, struct MHD_UpgradeResponseHandle *urh);

/* headtimer.c */
/* MHD_OPTION_NOTIFY_CONNECTION: tracks open connections (cls: the server). */
void http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe);
/* busy: a request head arrived; else a request ended and the next head has
 * until the idle timeout. */
void http_tconn_mark(struct pane_http_server *srv, struct MHD_Connection *conn, bool busy);
/* The reaper thread (arg: the server) until srv->tc_stop. */
void *http_reaper_main(void *arg);

/* blocking.c */
void *http_blk_main(void *arg);
/* Queues req for the blocking pool; false when the queue is full or the
 * server is stopping. */
bool http_blk_submit(struct pane_http_server *srv, struct pane_http_req *req, struct pane_http_deferred *d);
/* Stops the pool: waits for running handlers (bounded by their own
 * deadlines), answers queued jobs 503. */
void http_blk_stop(struct pane_http_server *srv);

#endif
