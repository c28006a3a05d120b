/*
 * memreader.h - an in-memory struct pane_reader for the query engine's tests.
 *
 * Loads a Prometheus/OpenMetrics text file with timestamps in seconds
 * ("name{a=\"b\"} 1.5 1700000000.5"; "# ..." lines are skipped; the value
 * "stale" writes Prometheus' stale marker) and answers select, label_names
 * and label_values exactly as pipeline/reader.h specifies: AND of matchers, a
 * matcher that matches "" also matches series without the label, anchored
 * regexes, inclusive [mint, maxt], PANE_ETOOBIG past max_samples.
 * Thread-safe for concurrent reads once loaded.
 */
#ifndef PANE_TESTS_MEMREADER_H
#define PANE_TESTS_MEMREADER_H

#include "pipeline/reader.h"

struct pt_memdb;

/* NULL with err on a malformed line (message names the line). */
struct pt_memdb *pt_memdb_load(const char *path, struct pane_err *err);
/* From text instead of a file. */
struct pt_memdb *pt_memdb_parse(const char *text, struct pane_err *err);
/* Built sample by sample instead: new, add in time order per series (labels
 * copied, empty values dropped, any order), then seal before reading. */
struct pt_memdb *pt_memdb_new(void);
int pt_memdb_add(struct pt_memdb *db, const struct pane_label *l, size_t n, int64_t ts, double v, struct pane_err *err);
void pt_memdb_seal(struct pt_memdb *db);
void pt_memdb_free(struct pt_memdb *db);
struct pane_reader pt_memdb_reader(struct pt_memdb *db);
size_t pt_memdb_series(const struct pt_memdb *db);

#endif
