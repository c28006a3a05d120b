/*
 * sink.h - the one interface through which records leave the pipeline.
 *
 * The embedded store implements it; so do outputs (remote_write, Loki push)
 * and test recorders. A sink is a table of callbacks plus a context pointer,
 * the same shape as every plugin in pane.
 *
 * Contract for implementations:
 *   (1) Every callback may be called from several threads at once; a sink
 *       does its own locking.
 *   (2) Records are borrowed for the call (record.h). Copy what you keep.
 *   (3) A write returns 0 once the records are accepted *durably as far as
 *       this sink promises* (the store: in its WAL; an output: in its
 *       bounded queue). A negative PANE_E* code with err set otherwise; a
 *       partial batch is reported through `accepted` when non-NULL.
 *   (4) A sink may leave write_logs or write_events NULL when it takes only
 *       samples (remote_write); the pipeline then skips it for that kind.
 *   (5) close() flushes what is buffered and frees ctx; no call follows it.
 *   (6) write_metadata (HELP/TYPE/UNIT per metric family) may be NULL too.
 *       The pipeline calls it only with entries that changed since it last
 *       passed them on (a bounded seen-set), so it is rare; a sink keeps
 *       the last one written per name.
 */
#ifndef PANE_PIPELINE_SINK_H
#define PANE_PIPELINE_SINK_H

#include <stddef.h>

#include "base/err.h"
#include "pipeline/record.h"

struct pane_sink_ops {
	const char *name;
	int (*write_samples)(void *ctx, const struct pane_sample *s, size_t n, size_t *accepted, struct pane_err *err);
	int (*write_logs)(void *ctx, const struct pane_log_record *l, size_t n, struct pane_err *err);
	int (*write_events)(void *ctx, const struct pane_event *e, size_t n, struct pane_err *err);
	/* Makes everything written so far durable (fsync the WAL, send the batch). May be NULL. */
	int (*flush)(void *ctx, struct pane_err *err);
	void (*close)(void *ctx);
	/* Last so that positional initialisers of the older table still compile. */
	int (*write_metadata)(void *ctx, const struct pane_metadata *m, size_t n, struct pane_err *err);
};

struct pane_sink {
	const struct pane_sink_ops *ops;
	void *ctx;
};

#endif
