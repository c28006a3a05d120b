/*
 * pipeline.h - fan-out of records from producers to sinks.
 *
 * Producers hold a `struct pane_pipeline *` and call the write functions;
 * the pipeline hands each batch to every registered sink that takes that
 * kind. The *primary* sink (the store, added first with PANE_SINK_PRIMARY)
 * decides the result a producer sees: a receiver acknowledges its client only
 * when the primary accepted. Secondary sinks (outputs) are best effort: their
 * failures are counted and logged, never returned.
 *
 * Sinks are registered before producers start; registration is not
 * thread-safe, writes are (each sink does its own locking).
 */
#ifndef PANE_PIPELINE_PIPELINE_H
#define PANE_PIPELINE_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "pipeline/record.h"
#include "pipeline/sink.h"

struct pane_pipeline;

enum { PANE_SINK_PRIMARY = 1 << 0 };

struct pane_pipeline *pane_pipeline_new(void);
/* Closes every sink (close callback) and frees the pipeline. NULL is a no-op. */
void pane_pipeline_free(struct pane_pipeline *p);
/* Registers a sink; the pipeline owns it from now on (closes it on free). */
void pane_pipeline_add_sink(struct pane_pipeline *p, struct pane_sink sink, unsigned flags);
/* The start gate. After pane_pipeline_hold, a write from any thread but
 * the caller's waits until pane_pipeline_open: producers started while
 * sinks are still being attached (pane serve starts its sources before its
 * outputs and notifier) lose nothing to a sink attached after them. A
 * pipeline never held is open. */
void pane_pipeline_hold(struct pane_pipeline *p);
void pane_pipeline_open(struct pane_pipeline *p);

int pane_pipeline_write_samples(struct pane_pipeline *p, const struct pane_sample *s, size_t n, struct pane_err *err);
/* The same, and *accepted = how many the primary sink kept (it may refuse
 * some without failing: beyond store.max_future, past a series limit, too
 * old for their series). Receivers tell their client about the rest. */
int pane_pipeline_write_samples_counted(struct pane_pipeline *p, const struct pane_sample *s, size_t n,
                                        size_t *accepted, struct pane_err *err);
/* How far ahead of this machine's clock a record's timestamp may be; set by
 * the primary sink's owner (the store: store.max_future), 0 = no bound.
 * Receivers refuse log records beyond it, one by one, and say so. */
void pane_pipeline_set_max_future(struct pane_pipeline *p, int64_t ms);
int64_t pane_pipeline_max_future(const struct pane_pipeline *p);
/* Why a primary sink (the store) drops samples without failing, for answers. */
#define PANE_PIPELINE_DROPPED_WHY                                                                                      \
	"beyond store.max_future, past store.max_series / store.max_series_per_metric, or older than their "           \
	"series allows"
int pane_pipeline_write_logs(struct pane_pipeline *p, const struct pane_log_record *l, size_t n, struct pane_err *err);
int pane_pipeline_write_events(struct pane_pipeline *p, const struct pane_event *e, size_t n, struct pane_err *err);
/* Metric metadata. Entries with an invalid name, or unchanged since the
 * pipeline last handed them to the sinks (a seen-set of up to 65536 names,
 * forgotten when full), are skipped, so producers may call this on every
 * scrape or push. The primary sink's result is returned. */
int pane_pipeline_write_metadata(struct pane_pipeline *p, const struct pane_metadata *m, size_t n,
                                 struct pane_err *err);
int pane_pipeline_flush(struct pane_pipeline *p, struct pane_err *err);

/* Counters, for pane's own /metrics. */
struct pane_pipeline_stats {
	uint64_t samples, logs, events; /* accepted by the primary sink */
	uint64_t rejected;              /* refused by the primary sink */
	uint64_t secondary_errors;      /* failed writes to secondary sinks */
};
void pane_pipeline_get_stats(const struct pane_pipeline *p, struct pane_pipeline_stats *out);

#endif
