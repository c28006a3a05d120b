/*
 * bufpool.h - a bounded, thread-safe pool of equal blocks for the samples
 * that selects copy out of the store.
 *
 * A range query's select copies megabytes of samples into memory the
 * caller frees when the query ends; from malloc, that memory went back to
 * the system and the next query faulted it in again (a quarter of a small
 * query's CPU, bench/README.md). Blocks given back here stay mapped and
 * are handed out again, newest first, up to `keep` bytes; past that they
 * are freed.
 *
 * Ownership: the store owns the pool (pane_bufpool_free at close). A block
 * taken out keeps the pool alive: a series set freed after the store was
 * closed gives its blocks back to a pool that frees them, and itself with
 * the last one. A block's contents are undefined when taken.
 *
 * Thread context: any thread; one mutex per pool.
 */
#ifndef PANE_STORE_BUFPOOL_H
#define PANE_STORE_BUFPOOL_H

#include <stddef.h>

struct pane_bufpool;

struct pane_bufpool_stats {
	size_t block;  /* bytes per block */
	size_t idle;   /* blocks kept, ready to be taken */
	size_t out;    /* blocks taken and not yet given back */
	size_t made;   /* blocks malloc'ed so far */
	size_t reused; /* takes served from the idle blocks */
	size_t freed;  /* blocks given back past the cap (or after the owner's free) and freed */
};

/* A pool of blocks of `block` bytes (at least 64) keeping at most `keep`
 * bytes idle. Never NULL (allocation failure aborts, base/mem.h). */
struct pane_bufpool *pane_bufpool_new(size_t block, size_t keep);
/* The owner lets go: idle blocks are freed now, blocks still out when
 * given back. NULL is a no-op. */
void pane_bufpool_free(struct pane_bufpool *p);
/* A block of pane_bufpool_block(p) bytes, 16-byte aligned: an idle one or
 * a new one. Never NULL. */
void *pane_bufpool_take(struct pane_bufpool *p);
/* Gives back a block taken from p (kept idle or freed). */
void pane_bufpool_give(struct pane_bufpool *p, void *block);
size_t pane_bufpool_block(const struct pane_bufpool *p);
void pane_bufpool_stats(struct pane_bufpool *p, struct pane_bufpool_stats *out);

#endif
