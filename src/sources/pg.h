/*
 * pg.h - PostgreSQL helpers shared by the sources that read a database
 * (postgres, sql, queue): a collector session and rows -> samples.
 */
#ifndef PANE_SOURCES_PG_H
#define PANE_SOURCES_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "sources/source.h"

/* Connects with application_name=pane-<instance>, a connect timeout, and
 * sets statement_timeout (and lock_timeout) to timeout_ms and, when
 * read_only, default_transaction_read_only=on for the session. NULL with err
 * set (the message never contains the URL: it may hold a password). */
PGconn *pane_src_pg_connect(const char *url, const char *instance, int64_t timeout_ms, bool read_only,
                            struct pane_err *err);

/* Keeps *conn usable: connects when NULL, resets a broken connection.
 * 0 or PANE_EDB with err set. */
int pane_src_pg_ensure(PGconn **conn, const char *url, const char *instance, int64_t timeout_ms, bool read_only,
                       struct pane_err *err);

/* Sets err from a failed result or connection: "what: message" with the
 * SQLSTATE as detail. Returns PANE_ETIMEDOUT for statement timeouts
 * (57014), PANE_EPERM for insufficient privilege (42501), else PANE_EDB. */
int pane_src_pg_error(PGconn *conn, PGresult *r, const char *what, struct pane_err *err);

/* Emits one sample per (row, metric column): the first n_labels columns
 * are labels (NULL/'' omitted), later columns metrics named prefix+column.
 * Values parse as numbers or booleans (t/f); NULL is skipped; anything else
 * is counted in *bad. Returns the number of samples emitted. */
size_t pane_src_pg_emit_rows(struct pane_source *src, PGresult *r, const char *prefix, int n_labels, size_t *bad);

/* Parses a PostgreSQL text value as a double (numbers, t/f, Infinity/NaN). */
int pane_src_pg_value(const char *s, double *out);

#endif
