/*
 * pgpool.h - a small fixed pool of PostgreSQL connections for HTTP handlers.
 *
 * Handlers borrow a connection for one short statement and give it back.
 * Connections are opened lazily and re-opened after a failure, so the pool
 * starts even while PostgreSQL is down (requests then answer 503).
 *
 *     PGconn *c = pane_api_pool_get(pool, &err);     (waits, bounded, while all are busy)
 *     ... PQexecParams(c, ...) ...
 *     pane_api_pool_put(pool, c, broken);            (broken: close it)
 *
 * Thread-safe. The pool owns the connections.
 */
#ifndef PANE_API_PGPOOL_H
#define PANE_API_PGPOOL_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "base/err.h"

struct pane_api_pool;

struct pane_api_pool *pane_api_pool_new(const char *url, unsigned size);
void pane_api_pool_free(struct pane_api_pool *p);
/* A connected connection, or NULL with err (PANE_EDB) when PostgreSQL is not reachable. */
PGconn *pane_api_pool_get(struct pane_api_pool *p, struct pane_err *err);
/* Returns c; broken (or a bad connection status) closes it. */
void pane_api_pool_put(struct pane_api_pool *p, PGconn *c, bool broken);
/* Opens a new connection outside the pool (for threads that keep one).
 * Bounded by connect_timeout (PANE_API_CONNECT_TIMEOUT_S unless the URL sets
 * it), with TCP keepalives. */
PGconn *pane_api_connect(const char *url, struct pane_err *err);
/* PQping with the same connect_timeout. */
PGPing pane_api_ping(const char *url);

/* generous: a loaded machine can take seconds to fork a backend; a frozen
 * server is still found out, and no HTTP thread waits meanwhile */
#define PANE_API_CONNECT_TIMEOUT_S 10
#define PANE_API_STATEMENT_TIMEOUT_S 15

/* PQexecParams with a client-side deadline (a frozen server answers
 * nothing, and statement_timeout runs on the server). The result (check
 * its status), or NULL with err (PANE_EDB) when the connection broke or the
 * deadline passed: then c is unusable - close it. */
PGresult *pane_api_exec(PGconn *c, const char *sql, int nparams, const char *const *params, int timeout_ms,
                        struct pane_err *err);

#endif
