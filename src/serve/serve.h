/*
 * serve.h - what a part gets when it joins the running daemon (`pane serve`).
 *
 * `pane serve` builds the shared handles (config, stats registry, HTTP
 * server, pipeline, ...) and then calls each part's attach function in a
 * fixed order. A part reads its own config section, registers its routes,
 * starts its threads, and registers a stop callback. At shutdown the stop
 * callbacks run in reverse order of registration, after the HTTP server has
 * stopped accepting requests and before the pipeline's sinks are closed.
 *
 * struct pane_serve links handles; it is not a place for part state. A part
 * keeps its own state behind its own opaque pointer (the stop callback's arg).
 */
#ifndef PANE_SERVE_SERVE_H
#define PANE_SERVE_SERVE_H

#include <stdbool.h>

#include "base/err.h"

struct pane_cfg;
struct pane_stats;
struct pane_http_server;
struct pane_pipeline;
struct pane_store;

struct pane_serve {
	const struct pane_cfg *cfg;        /* the loaded pane.yaml (or empty defaults) */
	const char *data_dir;              /* existing, writable directory */
	const char *database_url;          /* NULL when no PostgreSQL is configured */
	bool demo;                         /* started by `pane demo`: simulated providers welcome */
	struct pane_stats *stats;          /* pane's own counters (/metrics) */
	struct pane_http_server *http;     /* add routes before the server starts */
	struct pane_pipeline *pipeline;    /* where records go (may be NULL until the store attaches) */
	struct pane_store *store;          /* the embedded store, NULL until it attaches */
	void *priv;                        /* serve.c's own bookkeeping */
};

/* Registers fn(arg) to run at shutdown (reverse order of registration). */
void pane_serve_on_stop(struct pane_serve *s, void (*fn)(void *arg), void *arg);

/* A readiness check for /readyz: returns true when healthy, else false with
 * a short reason in err. Called on HTTP threads; must be quick. */
void pane_serve_add_readiness(struct pane_serve *s, const char *name,
			      bool (*check)(void *arg, struct pane_err *err), void *arg);

/* ---- running the daemon (used by `pane serve` and `pane demo`) ---- */

struct pane_serve_opts {
	const char *config_path;   /* NULL: embedded defaults */
	const char *listen;        /* overrides server.listen */
	const char *data_dir;      /* overrides server.data_dir */
	bool demo;
	/* Called once everything listens, before waiting for a signal. */
	void (*on_ready)(struct pane_serve *s, int port, void *arg);
	void *arg;
};

/* Runs until SIGINT/SIGTERM. Returns a process exit status; start-up errors
 * are printed as "pane serve: ..." on stderr. */
int pane_serve_run(const struct pane_serve_opts *opts);

#endif
