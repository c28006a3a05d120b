/*
 * host.h - what a part gets when it joins the running daemon.
 *
 * `pane serve` (src/serve) is the composition root: it builds the shared
 * handles (config, stats registry, HTTP server, pipeline, ...) and calls each
 * part's attach function in a fixed order, handing it a struct pane_host. A
 * part reads its own config section, registers its routes, starts its
 * threads, and registers hooks through the host: a stop callback, readiness
 * checks, /readyz information, a reload callback.
 *
 * Invariants:
 *   1. The wiring is one-way: serve includes every part; no part includes
 *      serve/. The hooks are calls through h->ops, which serve fills in.
 *   2. Stop callbacks run in reverse order of registration, after the HTTP
 *      server has stopped accepting requests and before the pipeline's sinks
 *      are closed (serve frees the pipeline after every part's stop but the
 *      store's: the primary sink outlives the pipeline).
 *   3. struct pane_host links handles; it is not a place for part state. A
 *      part keeps its own state behind its own opaque pointer (the stop
 *      callback's arg).
 */
#ifndef PANE_HOST_HOST_H
#define PANE_HOST_HOST_H

#include <stdbool.h>

#include "base/err.h"

struct pane_cfg;
struct pane_stats;
struct pane_http_server;
struct pane_pipeline;
struct pane_store;
struct pane_alert_sink;
struct pane_buf;

/* The hooks serve implements (impl is serve's own bookkeeping). */
struct pane_host_ops {
	void (*on_stop)(void *impl, void (*fn)(void *arg), void *arg);
	void (*add_readiness)(void *impl, const char *name, bool (*check)(void *arg, struct pane_err *err), void *arg);
	void (*add_readyz_info)(void *impl, const char *name, void (*fn)(void *arg, struct pane_buf *out), void *arg);
	void (*on_reload)(void *impl, int (*fn)(void *arg, const struct pane_cfg *cfg, struct pane_err *err),
	                  void *arg);
};

struct pane_host {
	const struct pane_cfg *cfg;      /* the loaded pane.yaml (or empty defaults) */
	const char *data_dir;            /* existing, writable directory */
	const char *database_url;        /* NULL when no PostgreSQL is configured */
	bool demo;                       /* started by `pane demo`: simulated providers welcome */
	struct pane_stats *stats;        /* pane's own counters (/metrics) */
	struct pane_http_server *http;   /* add routes before the server starts */
	struct pane_pipeline *pipeline;  /* where records go; serve creates it before any part attaches */
	struct pane_store *store;        /* the embedded store, NULL until it attaches */
	struct pane_alert_sink *alerts;  /* where rules send alerts (alert/alert.h); set by notify */
	bool queue_source;               /* set by sources (step 4) when an enabled `queue` source
	                                  * runs: it alone stores pane_queue_* (serve/selfscrape.c) */
	const struct pane_host_ops *ops; /* filled in by serve */
	/* Sections a part uses when pane.yaml lacks its own (`pane demo` sets
	 * sources: here, src/demo); NULL: none. Valid until the daemon stops. */
	const struct pane_cfg *defaults;
	void *impl; /* serve's own bookkeeping, passed to ops */
};

/* Registers fn(arg) to run at shutdown (reverse order of registration). */
static inline void pane_host_on_stop(struct pane_host *h, void (*fn)(void *arg), void *arg)
{
	h->ops->on_stop(h->impl, fn, arg);
}

/* A readiness check for /readyz: returns true when healthy, else false with
 * a short reason in err. Runs on /readyz's own thread; must be bounded. */
static inline void pane_host_add_readiness(struct pane_host *h, const char *name,
                                           bool (*check)(void *arg, struct pane_err *err), void *arg)
{
	h->ops->add_readiness(h->impl, name, check, arg);
}

/* Adds `"name": <JSON>` to the body of /readyz, written by fn(arg, out)
 * (one JSON value). Informational: it does not change readiness (a
 * provider's outage is not pane's). Must be quick. */
static inline void pane_host_add_readyz_info(struct pane_host *h, const char *name,
                                             void (*fn)(void *arg, struct pane_buf *out), void *arg)
{
	h->ops->add_readyz_info(h->impl, name, fn, arg);
}

/* Registers fn(arg, cfg) to run on a reload (SIGHUP or POST /-/reload), in
 * order of registration, with the freshly loaded pane.yaml. fn validates its
 * section first and swaps in the new state only when all of it is good; on
 * an error it keeps what is running, returns a negative PANE_E* and says why
 * in err (with file:line). A failed fn does not stop the later ones; the
 * reload as a whole fails (POST /-/reload answers 400 with every reason).
 * cfg stays valid until the daemon stops. Runs on one thread at a time. */
static inline void pane_host_on_reload(struct pane_host *h,
                                       int (*fn)(void *arg, const struct pane_cfg *cfg, struct pane_err *err),
                                       void *arg)
{
	h->ops->on_reload(h->impl, fn, arg);
}

#endif
