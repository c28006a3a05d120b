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
#include "pipeline/reader.h"

struct pane_host;
struct pane_http_server;
struct pane_store;
struct pane_console;

/* `pane serve` step 9: the routes below on s->http, freed at shutdown. */
int pane_console_attach(struct pane_host *s, struct pane_err *err);

/* The same on any server (tests): / and /assets/ always; with a store also
 * GET /api/v1/console/overview (overview.h) and /api/v1/console/changes
 * (changes.h), scope "read". Free after the server. NULL with err. */
struct pane_console *pane_console_new(struct pane_http_server *http, struct pane_store *store, struct pane_err *err);
/* The same with the metrics read through reader (the store's or the remote
 * query backend's, src/remote): the overview needs only the reader, the
 * changes also the store (logs). */
struct pane_console *pane_console_new_reader(struct pane_http_server *http, struct pane_store *store,
                                             struct pane_reader reader, struct pane_err *err);
/* `pane serve` step 9 with the reader serve chose (step 5c). */
int pane_console_attach_reader(struct pane_host *s, struct pane_reader reader, struct pane_err *err);
void pane_console_free(struct pane_console *c);

#endif
