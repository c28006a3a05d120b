/*
 * map.h - string -> pointer hash map.
 *
 * Open addressing with linear probing and tombstones, power-of-two table,
 * kept under 70% full. Keys are arbitrary bytes (length-carrying) and are
 * copied into the map; values are borrowed pointers unless a value destructor
 * is given to pane_map_init(), in which case the map frees them on overwrite,
 * delete and release.
 *
 * The hash is 64-bit FNV-1a mixed with a per-map random seed, so keys chosen
 * by a remote client (label names, queue names) cannot be precomputed to
 * collide across processes.
 *
 * Iteration order is unspecified. Inserting or deleting during iteration is
 * not allowed. Not thread-safe.
 */
#ifndef PANE_BASE_MAP_H
#define PANE_BASE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pane_map_slot;

struct pane_map {
	struct pane_map_slot *slots;
	size_t cap;  /* power of two, 0 before the first insert */
	size_t len;  /* live entries */
	size_t used; /* live + tombstones */
	uint64_t seed;
	void (*free_value)(void *);
};

/* free_value may be NULL (values are borrowed). Cannot fail. */
void pane_map_init(struct pane_map *m, void (*free_value)(void *));
/* Frees keys (and values, with a destructor); m is empty afterwards. */
void pane_map_release(struct pane_map *m);

/* Value for key, or NULL when absent. */
void *pane_map_get(const struct pane_map *m, const void *key, size_t klen);
void *pane_map_gets(const struct pane_map *m, const char *key);
bool pane_map_has(const struct pane_map *m, const void *key, size_t klen);
/* Insert or replace. A replaced value is freed with the destructor. */
void pane_map_put(struct pane_map *m, const void *key, size_t klen, void *value);
void pane_map_puts(struct pane_map *m, const char *key, void *value);
/* Remove; returns true when the key was present. */
bool pane_map_del(struct pane_map *m, const void *key, size_t klen);

/* Iteration: start with *pos = 0; returns false at the end.
 *     size_t pos = 0; const char *k; size_t kl; void *v;
 *     while (pane_map_next(&m, &pos, &k, &kl, &v)) ...
 * Keys are NUL-terminated as stored. */
bool pane_map_next(const struct pane_map *m, size_t *pos, const char **key, size_t *klen, void **value);

/* The hash function, exposed for other tables that want the same property. */
uint64_t pane_hash_bytes(const void *data, size_t len, uint64_t seed);
/* The same property a word at a time (~8x faster on long keys), for hot
 * in-memory tables; its values may change between versions: never store them. */
uint64_t pane_hash_words(const void *data, size_t len, uint64_t seed);
/* A random 64-bit value from the kernel (getrandom), for seeds and ids. */
uint64_t pane_random_u64(void);

#endif
