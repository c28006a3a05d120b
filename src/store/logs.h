/*
 * logs.h - the store's logs and events database (internal to src/store).
 */
#ifndef PANE_STORE_LOGS_H
#define PANE_STORE_LOGS_H

#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "pipeline/logreader.h"
#include "pipeline/record.h"
#include "store/store.h"

struct pane_logdb;

struct pane_logdb *pane_logdb_open(const char *path, struct pane_err *err);
void pane_logdb_close(struct pane_logdb *db);
int pane_logdb_write_logs(struct pane_logdb *db, const struct pane_log_record *l, size_t n, struct pane_err *err);
int pane_logdb_write_events(struct pane_logdb *db, const struct pane_event *e, size_t n, struct pane_err *err);
/* The reader seam (pipeline/logreader.h) over db; valid while db is open. */
struct pane_logreader pane_logdb_reader(struct pane_logdb *db);
/* Upserts metadata by name (last writer wins; an unchanged row is left
 * alone). Entries with an invalid name or help/unit over record.h's bounds
 * are skipped and counted in *skipped (may be NULL). */
int pane_logdb_write_metadata(struct pane_logdb *db, const struct pane_metadata *m, size_t n, size_t *skipped,
                              struct pane_err *err);
/* Metadata sorted by name (only `metric` when non-NULL), at most limit rows
 * (0 = none). *out is one allocation holding the array and its strings
 * (free(*out)); NULL when *n is 0. */
int pane_logdb_metadata(struct pane_logdb *db, const char *metric, size_t limit, struct pane_metadata **out, size_t *n,
                        struct pane_err *err);
/* Drops logs/events older than cutoff_ms, then oldest first past max_bytes (0 = none). */
int pane_logdb_retain(struct pane_logdb *db, int64_t cutoff_ms, int64_t max_bytes, struct pane_err *err);

#endif
