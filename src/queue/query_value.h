/*
 * query_value.h - one-value queries, shared by the queue's client and CLI.
 */
#ifndef PANE_QUEUE_QUERY_VALUE_H
#define PANE_QUEUE_QUERY_VALUE_H

#include <libpq-fe.h>

#include "base/err.h"

/* Runs a parameterised query; *out gets a heap copy of the first row's
 * first value, or NULL when it is SQL NULL / there is no row. 0, or
 * PANE_EDB with err (what names the action). */
int pane_queue_query_value(PGconn *c, const char *sql, int n, const char *const *params, char **out,
                           struct pane_err *err, const char *what);

#endif
