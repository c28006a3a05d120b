/*
 * bufpool.c - a bounded pool of equal blocks (see bufpool.h).
 *
 * Idea: idle blocks form a stack linked through their first bytes, so the
 * block given back last (the one most likely still in cache and certainly
 * still mapped) is the next one taken. The pool counts the blocks it has
 * out; the owner's free only marks it closed when some are, and the last
 * block given back frees it. A mutex rather than a lock-free stack: a
 * take or give is one per megabyte of samples copied, never contended
 * enough to matter.
 *
 * Invariants:
 *   (1) idle * block <= keep, except while the owner has not freed it and
 *       keep < block (then no block is kept at all).
 *   (2) made - freed == idle + out.
 *   (3) closed implies idle == 0; the pool is freed when closed and out
 *       reaches 0.
 */
#include "store/bufpool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/mem.h"

struct idle_block {
	struct idle_block *next;
};

struct pane_bufpool {
	pthread_mutex_t mu;
	size_t block, keep_blocks;
	struct idle_block *idle;
	struct pane_bufpool_stats st;
	bool closed;
};

struct pane_bufpool *pane_bufpool_new(size_t block, size_t keep)
{
	struct pane_bufpool *p = pane_xcalloc(1, sizeof *p);
	pthread_mutex_init(&p->mu, NULL);
	p->block = block < 64 ? 64 : (block + 15) & ~(size_t)15;
	p->keep_blocks = keep / p->block;
	p->st.block = p->block;
	return p;
}

static void pool_destroy(struct pane_bufpool *p)
{
	pthread_mutex_destroy(&p->mu);
	free(p);
}

void pane_bufpool_free(struct pane_bufpool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	struct idle_block *b = p->idle;
	p->idle = NULL;
	p->st.freed += p->st.idle;
	p->st.idle = 0;
	p->closed = true;
	bool last = p->st.out == 0;
	pthread_mutex_unlock(&p->mu);
	while (b) {
		struct idle_block *n = b->next;
		free(b);
		b = n;
	}
	if (last)
		pool_destroy(p);
}

void *pane_bufpool_take(struct pane_bufpool *p)
{
	pthread_mutex_lock(&p->mu);
	struct idle_block *b = p->idle;
	if (b) {
		p->idle = b->next;
		p->st.idle--;
		p->st.reused++;
	} else
		p->st.made++;
	p->st.out++;
	pthread_mutex_unlock(&p->mu);
	return b ? (void *)b : pane_xmalloc(p->block); /* malloc aligns to 16 on the platforms pane runs on */
}

void pane_bufpool_give(struct pane_bufpool *p, void *block)
{
	if (!block)
		return;
	pthread_mutex_lock(&p->mu);
	p->st.out--;
	bool keep = !p->closed && p->st.idle < p->keep_blocks;
	if (keep) {
		struct idle_block *b = block;
		b->next = p->idle;
		p->idle = b;
		p->st.idle++;
	} else
		p->st.freed++;
	bool last = p->closed && p->st.out == 0;
	pthread_mutex_unlock(&p->mu);
	if (!keep)
		free(block);
	if (last)
		pool_destroy(p);
}

size_t pane_bufpool_block(const struct pane_bufpool *p)
{
	return p->block;
}

void pane_bufpool_stats(struct pane_bufpool *p, struct pane_bufpool_stats *out)
{
	pthread_mutex_lock(&p->mu);
	*out = p->st;
	pthread_mutex_unlock(&p->mu);
}
