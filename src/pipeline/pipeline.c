/*
 * pipeline.c - fan-out of record batches to sinks (see pipeline.h).
 *
 * Idea: the pipeline is deliberately thin - a fixed array of sinks walked in
 * order, no queue and no thread of its own. Buffering belongs to the sinks
 * that need it (an output batches for the network, the store batches its
 * WAL), so the producer's call returns exactly when the primary sink has
 * the data, which is what lets receivers acknowledge honestly.
 *
 * Invariants:
 *   (1) At most one primary sink, and it is consulted first.
 *   (2) The sink array does not change after producers start (no lock).
 */
#include "pipeline/pipeline.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/mem.h"

#define MAX_SINKS 8

struct pane_pipeline {
	struct pane_sink sinks[MAX_SINKS];
	size_t n_sinks;
	int primary;  /* index, or -1 */
	atomic_uint_fast64_t samples, logs, events, rejected, secondary_errors;
};

struct pane_pipeline *pane_pipeline_new(void)
{
	struct pane_pipeline *p = pane_xcalloc(1, sizeof *p);
	p->primary = -1;
	return p;
}

void pane_pipeline_free(struct pane_pipeline *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_sinks; i++)
		if (p->sinks[i].ops->close)
			p->sinks[i].ops->close(p->sinks[i].ctx);
	free(p);
}

void pane_pipeline_add_sink(struct pane_pipeline *p, struct pane_sink sink, unsigned flags)
{
	if (p->n_sinks == MAX_SINKS) {
		pane_error("pipeline", "too many sinks (%d); ignoring %s", MAX_SINKS, sink.ops->name);
		if (sink.ops->close)
			sink.ops->close(sink.ctx);
		return;
	}
	if ((flags & PANE_SINK_PRIMARY) && p->primary < 0)
		p->primary = (int)p->n_sinks;
	p->sinks[p->n_sinks++] = sink;
}

static void secondary_failed(struct pane_pipeline *p, const struct pane_sink *s, const struct pane_err *e)
{
	static struct pane_log_limit lim = {.burst = 5, .per_ms = 60000};
	atomic_fetch_add(&p->secondary_errors, 1);
	pane_log_limited(&lim, PANE_LOG_WARN, "pipeline", "sink %s: %s", s->ops->name, e->msg);
}

int pane_pipeline_write_samples(struct pane_pipeline *p, const struct pane_sample *s, size_t n,
				struct pane_err *err)
{
	int rc = 0;
	if (p->primary >= 0) {
		struct pane_sink *ps = &p->sinks[p->primary];
		size_t accepted = n;
		rc = ps->ops->write_samples ? ps->ops->write_samples(ps->ctx, s, n, &accepted, err) : 0;
		if (accepted > n)
			accepted = n;
		atomic_fetch_add(&p->samples, accepted);
		atomic_fetch_add(&p->rejected, n - accepted);
	}
	for (size_t i = 0; i < p->n_sinks; i++) {
		if ((int)i == p->primary || !p->sinks[i].ops->write_samples)
			continue;
		struct pane_err e = {0};
		if (p->sinks[i].ops->write_samples(p->sinks[i].ctx, s, n, NULL, &e) < 0)
			secondary_failed(p, &p->sinks[i], &e);
	}
	return rc;
}

int pane_pipeline_write_logs(struct pane_pipeline *p, const struct pane_log_record *l, size_t n,
			     struct pane_err *err)
{
	int rc = 0;
	if (p->primary >= 0 && p->sinks[p->primary].ops->write_logs) {
		struct pane_sink *ps = &p->sinks[p->primary];
		rc = ps->ops->write_logs(ps->ctx, l, n, err);
		atomic_fetch_add(rc < 0 ? &p->rejected : &p->logs, n);
	}
	for (size_t i = 0; i < p->n_sinks; i++) {
		if ((int)i == p->primary || !p->sinks[i].ops->write_logs)
			continue;
		struct pane_err e = {0};
		if (p->sinks[i].ops->write_logs(p->sinks[i].ctx, l, n, &e) < 0)
			secondary_failed(p, &p->sinks[i], &e);
	}
	return rc;
}

int pane_pipeline_write_events(struct pane_pipeline *p, const struct pane_event *ev, size_t n,
			       struct pane_err *err)
{
	int rc = 0;
	if (p->primary >= 0 && p->sinks[p->primary].ops->write_events) {
		struct pane_sink *ps = &p->sinks[p->primary];
		rc = ps->ops->write_events(ps->ctx, ev, n, err);
		atomic_fetch_add(rc < 0 ? &p->rejected : &p->events, n);
	}
	for (size_t i = 0; i < p->n_sinks; i++) {
		if ((int)i == p->primary || !p->sinks[i].ops->write_events)
			continue;
		struct pane_err e = {0};
		if (p->sinks[i].ops->write_events(p->sinks[i].ctx, ev, n, &e) < 0)
			secondary_failed(p, &p->sinks[i], &e);
	}
	return rc;
}

int pane_pipeline_flush(struct pane_pipeline *p, struct pane_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < p->n_sinks; i++) {
		if (!p->sinks[i].ops->flush)
			continue;
		struct pane_err e = {0};
		int r = p->sinks[i].ops->flush(p->sinks[i].ctx, &e);
		if (r < 0 && (int)i == p->primary) {
			rc = r;
			if (err)
				*err = e;
		} else if (r < 0) {
			secondary_failed(p, &p->sinks[i], &e);
		}
	}
	return rc;
}

void pane_pipeline_get_stats(const struct pane_pipeline *p, struct pane_pipeline_stats *out)
{
	out->samples = atomic_load(&p->samples);
	out->logs = atomic_load(&p->logs);
	out->events = atomic_load(&p->events);
	out->rejected = atomic_load(&p->rejected);
	out->secondary_errors = atomic_load(&p->secondary_errors);
}
