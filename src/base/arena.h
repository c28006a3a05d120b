/*
 * arena.h - bump allocation, freed at once.
 *
 * For data with one lifetime: a parsed PromQL expression, one query's
 * intermediate results. Allocation is a pointer bump in the newest chunk;
 * release frees every chunk; reset keeps the newest for reuse. Bounded: an
 * arena has its own byte limit, or counts its chunks against a budget
 * shared by several arenas. Not thread-safe: one arena, one thread.
 */
#ifndef PANE_BASE_ARENA_H
#define PANE_BASE_ARENA_H

#include <stddef.h>

struct pane_arena_chunk;
/* Bytes several arenas may malloc together (one query's): a chunk is
 * counted against limit before it is allocated and given back when freed. */
struct pane_arena_budget {
	size_t used, peak, limit;
};
struct pane_arena {
	struct pane_arena_chunk *head;
	size_t used_total;                /* bytes handed out */
	size_t limit;                     /* 0: none; past it pane_arena_alloc returns NULL */
	struct pane_arena_budget *budget; /* NULL: none */
};
void pane_arena_init(struct pane_arena *a, size_t limit);
/* No limit of its own; its chunks count against b. */
void pane_arena_init_budget(struct pane_arena *a, struct pane_arena_budget *b);
void pane_arena_release(struct pane_arena *a);
/* Forgets everything allocated but keeps the newest chunk for reuse. */
void pane_arena_reset(struct pane_arena *a);
/* NULL only when the limit or the budget is passed. */
void *pane_arena_alloc(struct pane_arena *a, size_t n);
/* pane_arena_alloc without zeroing, for memory the caller fills at once
 * (a select's copied samples): what it holds before is undefined. */
void *pane_arena_alloc_uninit(struct pane_arena *a, size_t n);
char *pane_arena_strndup(struct pane_arena *a, const char *s, size_t n);

#endif
