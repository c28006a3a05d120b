/*
 * cumulate.c - running totals for delta series (see cumulate.h).
 *
 * Idea: the key is the series' identity written out as bytes (name, then
 * each label as name NUL value NUL; the label set is sorted, so equal sets
 * give equal keys) in a pane_map. Expiry is lazy: only when the table is
 * full does an add sweep out totals idle longer than idle_ms, so the
 * common path is one hash lookup under the mutex.
 *
 * Invariant: a total exists only for a series that received a delta in
 * the last idle_ms (or until the next sweep); the table never holds more
 * than max_series totals.
 */
#include "receivers/cumulate.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/map.h"
#include "base/mem.h"

struct total {
	double sum;
	int64_t last_ms;
};

struct pane_cumulate {
	pthread_mutex_t mu;
	struct pane_map m;
	size_t max;
	int64_t idle_ms;
};

struct pane_cumulate *pane_cumulate_new(size_t max_series, int64_t idle_ms)
{
	struct pane_cumulate *c = pane_xcalloc(1, sizeof *c);
	pthread_mutex_init(&c->mu, NULL);
	pane_map_init(&c->m, free);
	c->max = max_series ? max_series : 1;
	c->idle_ms = idle_ms;
	return c;
}

void pane_cumulate_free(struct pane_cumulate *c)
{
	if (!c)
		return;
	pane_map_release(&c->m);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static void sweep(struct pane_cumulate *c, int64_t now_ms)
{
	size_t pos = 0, kl;
	const char *k;
	void *v;
	struct pane_buf dead;
	pane_buf_init(&dead, PANE_BUF_NOLIMIT);
	while (pane_map_next(&c->m, &pos, &k, &kl, &v)) {
		const struct total *t = v;
		if (now_ms - t->last_ms > c->idle_ms) {
			pane_buf_add(&dead, &kl, sizeof kl);
			pane_buf_add(&dead, k, kl);
		}
	}
	for (size_t off = 0; off < dead.len;) { /* deleting while iterating is not allowed: two passes */
		size_t n;
		memcpy(&n, dead.data + off, sizeof n);
		pane_map_del(&c->m, dead.data + off + sizeof n, n);
		off += sizeof n + n;
	}
	pane_buf_release(&dead);
}

bool pane_cumulate_add(struct pane_cumulate *c, const char *name, const struct pane_labels *labels, double delta,
                       int64_t now_ms, double *total)
{
	struct pane_buf key;
	pane_buf_init(&key, PANE_BUF_NOLIMIT);
	pane_buf_add(&key, name, strlen(name) + 1);
	for (size_t i = 0; i < labels->n; i++) {
		pane_buf_add(&key, labels->v[i].name, strlen(labels->v[i].name) + 1);
		pane_buf_add(&key, labels->v[i].value, strlen(labels->v[i].value) + 1);
	}
	bool ok = true;
	pthread_mutex_lock(&c->mu);
	struct total *t = pane_map_get(&c->m, key.data, key.len);
	if (t && now_ms - t->last_ms > c->idle_ms)
		t->sum = 0; /* forgotten: start again, as after a reset */
	if (!t) {
		if (c->m.len >= c->max)
			sweep(c, now_ms);
		if (c->m.len >= c->max) {
			ok = false;
			goto out;
		}
		t = pane_xcalloc(1, sizeof *t);
		pane_map_put(&c->m, key.data, key.len, t);
	}
	t->sum += delta;
	t->last_ms = now_ms;
	*total = t->sum;
out:
	pthread_mutex_unlock(&c->mu);
	pane_buf_release(&key);
	return ok;
}

size_t pane_cumulate_len(struct pane_cumulate *c)
{
	pthread_mutex_lock(&c->mu);
	size_t n = c->m.len;
	pthread_mutex_unlock(&c->mu);
	return n;
}
