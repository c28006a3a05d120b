/*
 * memstore.h - an in-memory series store that grows while it is read, for
 * `pane rules test` (promtool's lazy loader) and rule unit tests.
 *
 * Label sets include "__name__". Appending at a timestamp a series already
 * has replaces that sample. The reader sees samples up to the limit set by
 * pane_memstore_set_limit() (inclusive; initially unlimited).
 * Threads: one thread at a time.
 */
#ifndef PANE_ALERT_MEMSTORE_H
#define PANE_ALERT_MEMSTORE_H

#include <stdint.h>

#include "store/reader.h"

struct pane_memstore;

struct pane_memstore *pane_memstore_new(void);
void pane_memstore_free(struct pane_memstore *m);
int pane_memstore_append(struct pane_memstore *m, const struct pane_labels *ls, int64_t ts, double v);
void pane_memstore_set_limit(struct pane_memstore *m, int64_t maxt);
/* Borrowed view; valid while m lives. */
struct pane_reader pane_memstore_reader(struct pane_memstore *m);

#endif
