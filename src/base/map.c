/*
 * map.c - open-addressing string hash map (see map.h).
 *
 * Linear probing keeps lookups in one or two cache lines; tombstones keep
 * deletion O(1); the table is rebuilt (dropping tombstones) when live plus
 * tombstone slots pass 70%. The cached 64-bit hash in each slot makes the
 * rebuild and most mismatches cheap: keys are compared only when hashes match.
 */
#include "base/map.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base/mem.h"

enum { SLOT_EMPTY = 0, SLOT_LIVE = 1, SLOT_DEAD = 2 };

struct pane_map_slot {
	char *key;
	size_t klen;
	uint64_t hash;
	void *value;
	int state;
};

uint64_t pane_random_u64(void)
{
	uint64_t v = 0;
	if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
		/* Only without a kernel entropy source; still varies per run. */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		v = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_sec;
	}
	return v;
}

/* splitmix64's finaliser: every output bit depends on every input bit */
static uint64_t mix64(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}

uint64_t pane_hash_bytes(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	/* final avalanche (splitmix64 finaliser) so low bits depend on all input */
	return mix64(h);
}

uint64_t pane_hash_words(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ ((uint64_t)len * 0x9E3779B97F4A7C15ull), w;
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 29;
	}
	if (len) { /* the tail, zero-padded: the length, mixed in first, tells "a" from "a\0" */
		w = 0;
		memcpy(&w, p, len);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 29;
	}
	return mix64(h);
}

void pane_map_init(struct pane_map *m, void (*free_value)(void *))
{
	m->slots = NULL;
	m->cap = 0;
	m->len = 0;
	m->used = 0;
	m->seed = pane_random_u64();
	m->free_value = free_value;
}

void pane_map_release(struct pane_map *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slots[i].state != SLOT_LIVE)
			continue;
		free(m->slots[i].key);
		if (m->free_value)
			m->free_value(m->slots[i].value);
	}
	free(m->slots);
	m->slots = NULL;
	m->cap = m->len = m->used = 0;
}

static struct pane_map_slot *find(const struct pane_map *m, const void *key, size_t klen, uint64_t h)
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct pane_map_slot *s = &m->slots[i];
		if (s->state == SLOT_EMPTY)
			return NULL;
		if (s->state == SLOT_LIVE && s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0)
			return s;
	}
}

static void rehash(struct pane_map *m, size_t cap)
{
	struct pane_map_slot *old = m->slots;
	size_t oldcap = m->cap;
	m->slots = pane_xcalloc(cap, sizeof *m->slots);
	m->cap = cap;
	m->used = m->len;
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i].state != SLOT_LIVE)
			continue;
		size_t j = old[i].hash & (cap - 1);
		while (m->slots[j].state != SLOT_EMPTY)
			j = (j + 1) & (cap - 1);
		m->slots[j] = old[i];
	}
	free(old);
}

void *pane_map_get(const struct pane_map *m, const void *key, size_t klen)
{
	struct pane_map_slot *s = find(m, key, klen, pane_hash_bytes(key, klen, m->seed));
	return s ? s->value : NULL;
}

void *pane_map_gets(const struct pane_map *m, const char *key)
{
	return pane_map_get(m, key, strlen(key));
}

bool pane_map_has(const struct pane_map *m, const void *key, size_t klen)
{
	return find(m, key, klen, pane_hash_bytes(key, klen, m->seed)) != NULL;
}

void pane_map_put(struct pane_map *m, const void *key, size_t klen, void *value)
{
	uint64_t h = pane_hash_bytes(key, klen, m->seed);
	struct pane_map_slot *s = find(m, key, klen, h);
	if (s) {
		if (m->free_value && s->value != value)
			m->free_value(s->value);
		s->value = value;
		return;
	}
	if ((m->used + 1) * 10 >= m->cap * 7) {
		size_t cap = m->cap ? m->cap : 16;
		while ((m->len + 1) * 10 >= cap * 7 / 2)
			cap *= 2;
		rehash(m, cap);
	}
	size_t mask = m->cap - 1;
	size_t i = h & mask;
	while (m->slots[i].state == SLOT_LIVE)
		i = (i + 1) & mask;
	s = &m->slots[i];
	if (s->state == SLOT_EMPTY)
		m->used++;
	s->key = pane_xstrndup(key, klen);
	s->klen = klen;
	s->hash = h;
	s->value = value;
	s->state = SLOT_LIVE;
	m->len++;
}

void pane_map_puts(struct pane_map *m, const char *key, void *value)
{
	pane_map_put(m, key, strlen(key), value);
}

bool pane_map_del(struct pane_map *m, const void *key, size_t klen)
{
	struct pane_map_slot *s = find(m, key, klen, pane_hash_bytes(key, klen, m->seed));
	if (!s)
		return false;
	free(s->key);
	if (m->free_value)
		m->free_value(s->value);
	s->key = NULL;
	s->value = NULL;
	s->state = SLOT_DEAD;
	m->len--;
	return true;
}

bool pane_map_next(const struct pane_map *m, size_t *pos, const char **key, size_t *klen, void **value)
{
	for (; *pos < m->cap; (*pos)++) {
		struct pane_map_slot *s = &m->slots[*pos];
		if (s->state != SLOT_LIVE)
			continue;
		if (key)
			*key = s->key;
		if (klen)
			*klen = s->klen;
		if (value)
			*value = s->value;
		(*pos)++;
		return true;
	}
	return false;
}
