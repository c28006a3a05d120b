/*
 * memstore.h - an in-memory series store that grows while it is read, for
 * `pane rules test` (promtool's lazy loader), rule unit tests and the query
 * engine's tests (tests/support/memreader.h loads text files into one).
 *
 * Label sets include "__name__". Appending at a timestamp a series already
 * has replaces that sample. The reader sees samples up to the limit set by
 * pane_memstore_set_limit() (inclusive; initially unlimited).
 * Threads: one writer at a time; concurrent reads are safe while nothing
 * appends, seals or sets the limit.
 */
#ifndef PANE_QUERY_MEMSTORE_H
#define PANE_QUERY_MEMSTORE_H

#include <stdint.h>

#include "pipeline/reader.h"

struct pane_memstore;

struct pane_memstore *pane_memstore_new(void);
void pane_memstore_free(struct pane_memstore *m);
int pane_memstore_append(struct pane_memstore *m, const struct pane_labels *ls, int64_t ts, double v);
void pane_memstore_set_limit(struct pane_memstore *m, int64_t maxt);
/* Borrowed view; valid while m lives. */
struct pane_reader pane_memstore_reader(struct pane_memstore *m);

/* As pane_memstore_append, but a sample at or before the series' last
 * timestamp is refused (PANE_EINVAL, nothing stored). */
int pane_memstore_append_after(struct pane_memstore *m, const struct pane_labels *ls, int64_t ts, double v);
/* Sorts the series once so selects need not (an optimisation only). */
void pane_memstore_seal(struct pane_memstore *m);
size_t pane_memstore_series(const struct pane_memstore *m);

#endif
