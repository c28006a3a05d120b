/*
 * arena.c - bump allocation freed at once (see arena.h).
 *
 * Chunks start at 64 KiB and double up to 4 MiB (or the request's size);
 * every allocation is 16-byte aligned and zeroed. A budget counts a chunk
 * before it is allocated and gives it back when freed, so several arenas
 * (one query's) share one limit.
 */
#include "base/arena.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

struct pane_arena_chunk {
	struct pane_arena_chunk *next;
	size_t size, used;
	max_align_t data[];
};

void pane_arena_init(struct pane_arena *a, size_t limit)
{
	a->head = NULL;
	a->used_total = 0;
	a->limit = limit;
	a->budget = NULL;
}

void pane_arena_init_budget(struct pane_arena *a, struct pane_arena_budget *b)
{
	pane_arena_init(a, 0);
	a->budget = b;
}

static void chunk_free(struct pane_arena *a, struct pane_arena_chunk *c)
{
	if (a->budget)
		a->budget->used -= sizeof *c + c->size;
	free(c);
}

void pane_arena_release(struct pane_arena *a)
{
	struct pane_arena_chunk *c = a->head;
	while (c) {
		struct pane_arena_chunk *n = c->next;
		chunk_free(a, c);
		c = n;
	}
	a->head = NULL;
	a->used_total = 0;
}

void pane_arena_reset(struct pane_arena *a)
{
	struct pane_arena_chunk *keep = a->head;
	if (!keep)
		return;
	struct pane_arena_chunk *c = keep->next;
	while (c) {
		struct pane_arena_chunk *n = c->next;
		chunk_free(a, c);
		c = n;
	}
	keep->next = NULL;
	keep->used = 0;
	a->used_total = 0;
}

void *pane_arena_alloc(struct pane_arena *a, size_t n)
{
	void *p = pane_arena_alloc_uninit(a, n);
	if (p)
		memset(p, 0, n);
	return p;
}

void *pane_arena_alloc_uninit(struct pane_arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	if (a->limit && a->used_total + n > a->limit)
		return NULL;
	struct pane_arena_chunk *c = a->head;
	if (!c || c->size - c->used < n) {
		size_t sz = 64 * 1024;
		if (c && c->size < 4 * 1024 * 1024)
			sz = c->size * 2;
		if (sz < n)
			sz = n;
		if (a->budget) {
			/* counted before it is allocated; a smaller chunk if that fits */
			struct pane_arena_budget *b = a->budget;
			size_t left = b->limit > b->used + sizeof *c ? b->limit - b->used - sizeof *c : 0;
			if (left < n)
				return NULL;
			if (sz > left)
				sz = left;
			b->used += sizeof *c + sz;
			if (b->used > b->peak)
				b->peak = b->used;
		}
		c = pane_xmalloc(sizeof *c + sz);
		c->size = sz;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	a->used_total += n;
	return p;
}

char *pane_arena_strndup(struct pane_arena *a, const char *s, size_t n)
{
	char *p = pane_arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}
