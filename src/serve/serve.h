/*
 * serve.h - running the daemon (`pane serve`, `pane demo`).
 *
 * serve is the composition root: it builds the shared handles, hands each
 * part a struct pane_host (host/host.h) in a fixed attach order, and
 * implements the host's hooks. Parts include host/host.h, never this file.
 */
#ifndef PANE_SERVE_SERVE_H
#define PANE_SERVE_SERVE_H

#include <stdbool.h>

#include "host/host.h"

/* ---- running the daemon (used by `pane serve` and `pane demo`) ---- */

struct pane_serve_opts {
	const char *config_path; /* NULL: embedded defaults */
	const char *listen;      /* overrides server.listen */
	const char *data_dir;    /* overrides server.data_dir */
	bool demo;
	/* Called once the shared handles exist, before any part attaches (pane
	 * demo's setup, src/demo/setup.h); a negative return stops the start. */
	int (*on_start)(struct pane_host *s, void *arg, struct pane_err *err);
	/* Called once everything listens, before waiting for a signal. */
	void (*on_ready)(struct pane_host *s, int port, void *arg);
	void *arg;
};

/* Runs until SIGINT/SIGTERM. Returns a process exit status; start-up errors
 * are printed as "pane serve: ..." on stderr. */
int pane_serve_run(const struct pane_serve_opts *opts);

#endif
