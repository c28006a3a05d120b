/*
 * console.h - the web console at `/` of `pane serve` (web/, docs/console.md).
 *
 * pane_console_attach() registers GET / (index.html, never cached) and
 * GET /assets/{name} (the content-hashed bundle, cached forever; gzipped when
 * the client accepts it). The page itself is open; the APIs it calls keep
 * their own scopes, so off loopback the page asks for a token. Attached last
 * in serve.c, after every API it calls.
 */
#ifndef PANE_CONSOLE_CONSOLE_H
#define PANE_CONSOLE_CONSOLE_H

#include "base/err.h"

struct pane_serve;

int pane_console_attach(struct pane_serve *s, struct pane_err *err);

#endif
