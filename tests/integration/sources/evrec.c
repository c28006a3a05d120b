/*
 * evrec.c - the event recorder sink (see evrec.h).
 */
#include "evrec.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/vec.h"

struct evrec {
	pthread_mutex_t mu;
	struct pane_vec ev; /* struct rec_event */
};

static int w_events(void *ctx, const struct pane_event *e, size_t n, struct pane_err *err)
{
	(void)err;
	struct evrec *r = ctx;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < n; i++) {
		struct rec_event *c = pane_vec_push_zero(&r->ev);
		c->ts_ms = e[i].ts_ms;
		c->kind = pane_xstrdup(e[i].kind);
		c->title = pane_xstrdup(e[i].title);
		c->url = pane_xstrdup(e[i].url);
		c->body_json = pane_xstrdup(e[i].body_json);
		c->dedup_key = pane_xstrdup(e[i].dedup_key);
		pane_labels_copy(&c->labels, e[i].labels);
	}
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static int w_samples(void *ctx, const struct pane_sample *s, size_t n, size_t *accepted, struct pane_err *err)
{
	(void)ctx, (void)s, (void)err;
	if (accepted)
		*accepted = n;
	return 0;
}

static int w_logs(void *ctx, const struct pane_log_record *l, size_t n, struct pane_err *err)
{
	(void)ctx, (void)l, (void)n, (void)err;
	return 0;
}

void evrec_clear(struct evrec *r)
{
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->ev.len; i++) {
		struct rec_event *e = pane_vec_at(&r->ev, i);
		free(e->kind), free(e->title), free(e->url), free(e->body_json), free(e->dedup_key);
		pane_labels_release(&e->labels);
	}
	pane_vec_clear(&r->ev);
	pthread_mutex_unlock(&r->mu);
}

static void r_close(void *ctx)
{
	struct evrec *r = ctx;
	evrec_clear(r);
	pane_vec_release(&r->ev);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static const struct pane_sink_ops evrec_ops = {
    .name = "evrec",
    .write_samples = w_samples,
    .write_logs = w_logs,
    .write_events = w_events,
    .close = r_close,
};

struct evrec *evrec_attach(struct pane_pipeline *p)
{
	struct evrec *r = pane_xcalloc(1, sizeof *r);
	pthread_mutex_init(&r->mu, NULL);
	pane_vec_init(&r->ev, sizeof(struct rec_event));
	pane_pipeline_add_sink(p, (struct pane_sink){&evrec_ops, r}, 0);
	return r;
}

void evrec_lock(struct evrec *r)
{
	pthread_mutex_lock(&r->mu);
}
void evrec_unlock(struct evrec *r)
{
	pthread_mutex_unlock(&r->mu);
}
size_t evrec_n(struct evrec *r)
{
	return r->ev.len;
}
const struct rec_event *evrec_at(struct evrec *r, size_t i)
{
	return pane_vec_at(&r->ev, i);
}

static bool matches(const struct rec_event *e, const char *kind, va_list ap)
{
	if (strcmp(e->kind, kind) != 0)
		return false;
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			return true;
		const char *v = va_arg(ap, const char *);
		const char *have = pane_labels_get(&e->labels, k);
		if (!have || strcmp(have, v) != 0)
			return false;
	}
}

size_t evrec_count(struct evrec *r, const char *kind, ...)
{
	size_t n = 0;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->ev.len; i++) {
		va_list ap;
		va_start(ap, kind);
		n += matches(pane_vec_at(&r->ev, i), kind, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&r->mu);
	return n;
}

const struct rec_event *evrec_find(struct evrec *r, const char *kind, ...)
{
	const struct rec_event *out = NULL;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->ev.len && !out; i++) {
		va_list ap;
		va_start(ap, kind);
		if (matches(pane_vec_at(&r->ev, i), kind, ap))
			out = pane_vec_at(&r->ev, i);
		va_end(ap);
	}
	pthread_mutex_unlock(&r->mu);
	return out;
}
