/*
 * promcache.c - series text -> parsed series, bounded (see promcache.h).
 *
 * Idea: an open-addressing table of entry pointers (hash kept in the entry,
 * the text compared in full on a hash match) over entries carved one after
 * another out of an arena (base/arena.h): an entry is one piece of it
 * (header, label array, text, strings), so the cache costs no allocation
 * per entry, no pointer-chasing free, and emptying it is releasing the
 * arena. The arena's chunks count against a budget whose limit is the
 * bound less the table.
 * Entries are never removed one by one: a cache that no longer fits is
 * emptied whole, or stops growing (promcache.h, invariant 2); both keep
 * the code free of eviction lists and the memory bound exact.
 *
 * Invariants:
 *   (1) bytes = the arena's chunks (budget.used) + table slots * sizeof
 *       pointer, and never exceeds max_bytes after a put.
 *   (2) The table is at most half full, so a probe ends at an empty slot.
 *   (3) want_clear is set only by a refused put and acted on only in
 *       pane_promcache_batch_end (or a context change), when no entry is
 *       held by the caller.
 */
#include "receivers/promcache.h"

#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/map.h"
#include "base/mem.h"

#define TAB_MIN 1024

struct entry {
	struct pane_promcache_entry pub;
	uint64_t hash;
};

struct pane_promcache {
	size_t max_bytes;
	struct entry **tab; /* cap slots, NULL = empty */
	size_t cap, n;
	struct pane_arena entries;
	struct pane_arena_budget budget; /* the arena's chunks; limit: max_bytes less the table */
	uint64_t seed;
	char *ctx; /* the context (pane_promcache_context), NULL before the first */
	size_t ctxlen;
	bool frozen;                     /* full and not worth emptying: takes no more entries */
	bool want_clear;                 /* full but answering: emptied at the next batch end */
	uint64_t hits_since, puts_since; /* since the cache was last emptied */
	struct pane_promcache_stats st;
};

struct pane_promcache *pane_promcache_new(size_t max_bytes)
{
	struct pane_promcache *c = pane_xcalloc(1, sizeof *c);
	c->max_bytes = max_bytes;
	c->seed = pane_random_u64();
	c->budget.limit = max_bytes;
	pane_arena_init_budget(&c->entries, &c->budget);
	return c;
}

static size_t tab_bytes(const struct pane_promcache *c)
{
	return c->cap * sizeof *c->tab;
}

static void clear(struct pane_promcache *c)
{
	pane_arena_release(&c->entries);
	if (c->cap)
		memset(c->tab, 0, tab_bytes(c));
	c->n = 0;
	c->hits_since = c->puts_since = 0;
	c->want_clear = c->frozen = false;
	c->st.clears++;
}

void pane_promcache_free(struct pane_promcache *c)
{
	if (!c)
		return;
	pane_arena_release(&c->entries);
	free(c->tab);
	free(c->ctx);
	free(c);
}

void pane_promcache_context(struct pane_promcache *c, const void *ctx, size_t len)
{
	if (c->ctx && c->ctxlen == len && memcmp(c->ctx, ctx, len) == 0)
		return;
	if (c->n)
		clear(c);
	c->frozen = c->want_clear = false;
	free(c->ctx);
	c->ctx = pane_xmalloc(len);
	memcpy(c->ctx, ctx, len);
	c->ctxlen = len;
}

uint64_t pane_promcache_hash_mask = UINT64_MAX;

static uint64_t hash(const struct pane_promcache *c, const char *text, size_t len)
{
	return pane_hash_words(text, len, c->seed) & pane_promcache_hash_mask;
}

struct pane_promcache_entry *pane_promcache_get(struct pane_promcache *c, const char *text, size_t len)
{
	if (!c->n)
		return NULL;
	uint64_t h = hash(c, text, len);
	size_t mask = c->cap - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct entry *e = c->tab[i];
		if (!e)
			return NULL;
		if (e->hash == h && e->pub.text_len == len && memcmp(e->pub.text, text, len) == 0) {
			c->hits_since++;
			c->st.hits++;
			return &e->pub;
		}
	}
}

/* A refused put: see promcache.h, invariant 2. */
static struct pane_promcache_entry *refuse(struct pane_promcache *c, bool full)
{
	c->st.refused++;
	if (full && !c->frozen) {
		if (c->hits_since > c->puts_since)
			c->want_clear = true;
		else
			c->frozen = true;
	}
	return NULL;
}

static void tab_insert(struct entry **tab, size_t cap, struct entry *e)
{
	size_t mask = cap - 1, i = (size_t)e->hash & mask;
	while (tab[i])
		i = (i + 1) & mask;
	tab[i] = e;
}

/* Room for one more entry in the table (invariant 2); false when growing
 * it would pass the bound. */
static bool tab_room(struct pane_promcache *c)
{
	if ((c->n + 1) * 2 <= c->cap)
		return true;
	size_t nc = c->cap ? 2 * c->cap : TAB_MIN;
	if (c->budget.used + nc * sizeof *c->tab > c->max_bytes)
		return false;
	struct entry **nt = pane_xcalloc(nc, sizeof *nt);
	for (size_t i = 0; i < c->cap; i++)
		if (c->tab[i])
			tab_insert(nt, nc, c->tab[i]);
	free(c->tab);
	c->tab = nt;
	c->cap = nc;
	c->budget.limit = c->max_bytes - tab_bytes(c);
	return true;
}

struct pane_promcache_entry *pane_promcache_put(struct pane_promcache *c, const char *text, size_t len,
                                                const char *name, const struct pane_label *labels, size_t n)
{
	if (c->frozen || c->want_clear)
		return refuse(c, false);
	if (len > PANE_PROMCACHE_TEXT_MAX)
		return refuse(c, false);
	/* header and label array, then the text and the strings */
	size_t fixed = sizeof(struct entry) + n * sizeof(struct pane_label);
	size_t size = fixed + len + strlen(name) + 1;
	for (size_t i = 0; i < n; i++)
		size += strlen(labels[i].name) + strlen(labels[i].value) + 2;
	if (!tab_room(c))
		return refuse(c, true);
	char *p = pane_arena_alloc_uninit(&c->entries, size);
	if (!p)
		return refuse(c, true);
	struct entry *e = (struct entry *)p;
	struct pane_label *lv = (struct pane_label *)(p + sizeof *e);
	char *s = p + fixed;
	memcpy(s, text, len);
	e->pub.text = s;
	e->pub.text_len = len;
	s += len;
	size_t l = strlen(name) + 1;
	memcpy(s, name, l);
	e->pub.name = s;
	s += l;
	for (size_t i = 0; i < n; i++) {
		l = strlen(labels[i].name) + 1;
		memcpy(s, labels[i].name, l);
		lv[i].name = s;
		s += l;
		l = strlen(labels[i].value) + 1;
		memcpy(s, labels[i].value, l);
		lv[i].value = s;
		s += l;
	}
	e->pub.labels = (struct pane_labels){.v = lv, .n = n, .cap = n, .owned = false};
	e->pub.ref = 0;
	e->hash = hash(c, text, len);
	tab_insert(c->tab, c->cap, e);
	c->n++;
	c->puts_since++;
	c->st.puts++;
	return &e->pub;
}

void pane_promcache_batch_end(struct pane_promcache *c, uint64_t hits)
{
	c->hits_since += hits;
	c->st.hits += hits;
	if (c->want_clear)
		clear(c);
}

void pane_promcache_get_stats(const struct pane_promcache *c, struct pane_promcache_stats *out)
{
	*out = c->st;
	out->entries = c->n;
	out->bytes = c->budget.used + tab_bytes(c);
}
