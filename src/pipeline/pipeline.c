/*
 * pipeline.c - fan-out of record batches to sinks (see pipeline.h).
 *
 * Idea: the pipeline is deliberately thin - a fixed array of sinks walked in
 * order, no queue and no thread of its own. Buffering belongs to the sinks
 * that need it (an output batches for the network, the store batches its
 * WAL), so the producer's call returns exactly when the primary sink has
 * the data, which is what lets receivers acknowledge honestly.
 *
 * Metadata is the one kind the pipeline filters: producers send a
 * family's HELP/TYPE with every scrape or push, and the pipeline remembers
 * a fingerprint per name (bounded, under meta_mu) and passes on only what
 * changed, so the store sees a write when a help text changes, not per
 * scrape.
 *
 * Invariants:
 *   (1) At most one primary sink, and it is consulted first.
 *   (2) The sink array does not change once the pipeline is open (no
 *       lock): a held pipeline (pane_pipeline_hold) keeps every producer
 *       thread but the holder waiting at the gate until pane_pipeline_open,
 *       so all sinks see the first record.
 *   (3) A metadata fingerprint is remembered only after the primary sink
 *       accepted the entry (a failed write is retried by the next call).
 */
#include "pipeline/pipeline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/map.h"
#include "base/mem.h"

#define MAX_SINKS 8
#define META_SEEN_MAX 65536

struct pane_pipeline {
	struct pane_sink sinks[MAX_SINKS];
	size_t n_sinks;
	int primary; /* index, or -1 */
	atomic_uint_fast64_t samples, logs, events, rejected, secondary_errors;
	pthread_mutex_t meta_mu;
	struct pane_map meta_seen; /* name -> uint64_t fingerprint (heap) */
	atomic_int_fast64_t max_future_ms;
	atomic_bool held; /* the start gate (invariant 2) */
	pthread_t holder;
	pthread_mutex_t gate_mu;
	pthread_cond_t gate_cv;
};

void pane_pipeline_hold(struct pane_pipeline *p)
{
	p->holder = pthread_self();
	atomic_store(&p->held, true);
}

void pane_pipeline_open(struct pane_pipeline *p)
{
	pthread_mutex_lock(&p->gate_mu);
	atomic_store(&p->held, false);
	pthread_cond_broadcast(&p->gate_cv);
	pthread_mutex_unlock(&p->gate_mu);
}

/* Every write starts here: one atomic load once the pipeline is open. */
static void gate(struct pane_pipeline *p)
{
	if (!atomic_load(&p->held) || pthread_equal(pthread_self(), p->holder))
		return;
	pthread_mutex_lock(&p->gate_mu);
	while (atomic_load(&p->held))
		pthread_cond_wait(&p->gate_cv, &p->gate_mu);
	pthread_mutex_unlock(&p->gate_mu);
}

void pane_pipeline_set_max_future(struct pane_pipeline *p, int64_t ms)
{
	atomic_store(&p->max_future_ms, ms);
}

int64_t pane_pipeline_max_future(const struct pane_pipeline *p)
{
	return atomic_load(&((struct pane_pipeline *)p)->max_future_ms);
}

struct pane_pipeline *pane_pipeline_new(void)
{
	struct pane_pipeline *p = pane_xcalloc(1, sizeof *p);
	p->primary = -1;
	pthread_mutex_init(&p->meta_mu, NULL);
	pthread_mutex_init(&p->gate_mu, NULL);
	pthread_cond_init(&p->gate_cv, NULL);
	pane_map_init(&p->meta_seen, free);
	return p;
}

void pane_pipeline_free(struct pane_pipeline *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_sinks; i++)
		if (p->sinks[i].ops->close)
			p->sinks[i].ops->close(p->sinks[i].ctx);
	pane_map_release(&p->meta_seen);
	pthread_mutex_destroy(&p->meta_mu);
	pthread_mutex_destroy(&p->gate_mu);
	pthread_cond_destroy(&p->gate_cv);
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
	p->sinks[p->n_sinks] = sink;
	/* published after the slot is written, for a pipeline never held whose
	 * producers already run: the sink is seen whole or not yet */
	__atomic_store_n(&p->n_sinks, p->n_sinks + 1, __ATOMIC_RELEASE);
}

static void secondary_failed(struct pane_pipeline *p, const struct pane_sink *s, const struct pane_err *e)
{
	static struct pane_log_limit lim = {.burst = 5, .per_ms = 60000};
	atomic_fetch_add(&p->secondary_errors, 1);
	pane_log_limited(&lim, PANE_LOG_WARN, "pipeline", "sink %s: %s", s->ops->name, e->msg);
}

int pane_pipeline_write_samples(struct pane_pipeline *p, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	return pane_pipeline_write_samples_counted(p, s, n, NULL, err);
}

int pane_pipeline_write_samples_counted(struct pane_pipeline *p, const struct pane_sample *s, size_t n,
                                        size_t *accepted_out, struct pane_err *err)
{
	gate(p);
	int rc = 0;
	size_t accepted = n;
	if (p->primary >= 0) {
		struct pane_sink *ps = &p->sinks[p->primary];
		rc = ps->ops->write_samples ? ps->ops->write_samples(ps->ctx, s, n, &accepted, err) : 0;
		if (accepted > n)
			accepted = n;
		atomic_fetch_add(&p->samples, accepted);
		atomic_fetch_add(&p->rejected, n - accepted);
	}
	if (accepted_out)
		*accepted_out = accepted;
	for (size_t i = 0; i < p->n_sinks; i++) {
		if ((int)i == p->primary || !p->sinks[i].ops->write_samples)
			continue;
		struct pane_err e = {0};
		if (p->sinks[i].ops->write_samples(p->sinks[i].ctx, s, n, NULL, &e) < 0)
			secondary_failed(p, &p->sinks[i], &e);
	}
	return rc;
}

int pane_pipeline_write_logs(struct pane_pipeline *p, const struct pane_log_record *l, size_t n, struct pane_err *err)
{
	gate(p);
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

int pane_pipeline_write_events(struct pane_pipeline *p, const struct pane_event *ev, size_t n, struct pane_err *err)
{
	gate(p);
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

static uint64_t meta_fingerprint(const struct pane_metadata *m)
{
	uint64_t h = pane_hash_bytes(&m->type, sizeof m->type, 0x6d657461u);
	h = pane_hash_bytes(m->help, strlen(m->help) + 1, h);
	return pane_hash_bytes(m->unit, strlen(m->unit) + 1, h);
}

int pane_pipeline_write_metadata(struct pane_pipeline *p, const struct pane_metadata *m, size_t n, struct pane_err *err)
{
	gate(p);
	if (n == 0)
		return 0;
	struct pane_metadata *fresh = pane_xmalloc(pane_mul_size(n, sizeof *fresh));
	uint64_t *fp = pane_xmalloc(pane_mul_size(n, sizeof *fp));
	size_t k = 0;
	pthread_mutex_lock(&p->meta_mu);
	for (size_t i = 0; i < n; i++) {
		if (!m[i].name || !pane_metric_name_valid(m[i].name, strlen(m[i].name)))
			continue;
		struct pane_metadata e = m[i];
		if (!e.help)
			e.help = "";
		if (!e.unit)
			e.unit = "";
		uint64_t f = meta_fingerprint(&e);
		const uint64_t *seen = pane_map_gets(&p->meta_seen, e.name);
		if (seen && *seen == f)
			continue;
		fp[k] = f;
		fresh[k++] = e;
	}
	pthread_mutex_unlock(&p->meta_mu);
	int rc = 0;
	if (k && p->primary >= 0 && p->sinks[p->primary].ops->write_metadata) {
		struct pane_sink *ps = &p->sinks[p->primary];
		rc = ps->ops->write_metadata(ps->ctx, fresh, k, err);
	}
	if (k && rc == 0) {
		pthread_mutex_lock(&p->meta_mu);
		if (p->meta_seen.len + k > META_SEEN_MAX) {
			pane_map_release(&p->meta_seen);
			pane_map_init(&p->meta_seen, free);
		}
		for (size_t i = 0; i < k; i++) {
			uint64_t *v = pane_xmalloc(sizeof *v);
			*v = fp[i];
			pane_map_puts(&p->meta_seen, fresh[i].name, v);
		}
		pthread_mutex_unlock(&p->meta_mu);
	}
	for (size_t i = 0; k && i < p->n_sinks; i++) {
		if ((int)i == p->primary || !p->sinks[i].ops->write_metadata)
			continue;
		struct pane_err e = {0};
		if (p->sinks[i].ops->write_metadata(p->sinks[i].ctx, fresh, k, &e) < 0)
			secondary_failed(p, &p->sinks[i], &e);
	}
	free(fresh);
	free(fp);
	return rc;
}

int pane_pipeline_flush(struct pane_pipeline *p, struct pane_err *err)
{
	gate(p);
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
