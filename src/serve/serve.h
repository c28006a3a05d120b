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
struct pane_alert_sink;

struct pane_serve {
	const struct pane_cfg *cfg;        /* the loaded pane.yaml (or empty defaults) */
	const char *data_dir;              /* existing, writable directory */
	const char *database_url;          /* NULL when no PostgreSQL is configured */
	bool demo;                         /* started by `pane demo`: simulated providers welcome */
	struct pane_stats *stats;          /* pane's own counters (/metrics) */
	struct pane_http_server *http;     /* add routes before the server starts */
	struct pane_pipeline *pipeline;    /* where records go (may be NULL until the store attaches) */
	struct pane_store *store;          /* the embedded store, NULL until it attaches */
	struct pane_alert_sink *alerts;    /* where rules send alerts (alert/alert.h); set by notify */
	void *priv;                        /* serve.c's own bookkeeping */
};

/* Registers fn(arg) to run at shutdown (reverse order of registration). */
void pane_serve_on_stop(struct pane_serve *s, void (*fn)(void *arg), void *arg);

/* A readiness check for /readyz: returns true when healthy, else false with
 * a short reason in err. Called on HTTP threads; must be quick. */
void pane_serve_add_readiness(struct pane_serve *s, const char *name,
			      bool (*check)(void *arg, struct pane_err *err), void *arg);

/* Adds `"name": <JSON>` to the body of /readyz, written by fn(arg, out)
 * (one JSON value). Informational: it does not change readiness (a
 * provider's outage is not pane's). Called on HTTP threads; must be quick. */
struct pane_buf;
void pane_serve_add_readyz_info(struct pane_serve *s, const char *name, void (*fn)(void *arg, struct pane_buf *out),
                                void *arg);

/* Registers fn(arg, cfg) to run on a reload (SIGHUP or POST /-/reload), in
 * order of registration, with the freshly loaded pane.yaml. fn validates its
 * section first and swaps in the new state only when all of it is good; on
 * an error it keeps what is running, returns a negative PANE_E* and says why
 * in err (with file:line). A failed fn does not stop the later ones; the
 * reload as a whole fails (POST /-/reload answers 400 with every reason).
 * cfg stays valid until the daemon stops. Runs on one thread at a time. */
void pane_serve_on_reload(struct pane_serve *s,
			  int (*fn)(void *arg, const struct pane_cfg *cfg, struct pane_err *err), void *arg);

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
