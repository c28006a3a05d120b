/*
 * index.h - the inverted index of series: (label name, value) -> series ids.
 *
 * Series ids are dense small integers handed out by the store (1, 2, ...),
 * so a set of series is a bitmap and evaluating matchers is bitmap algebra:
 * each matcher yields a bitmap, the selector is their AND. Prometheus
 * semantics: "__name__" is an ordinary label here; a matcher that matches
 * the empty string also matches series without the label; =~ and !~ are
 * fully anchored PCRE2 expressions with dot-all (as Prometheus' RE2).
 *
 * Not thread-safe: the store serialises access.
 */
#ifndef PANE_STORE_INDEX_H
#define PANE_STORE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "pipeline/record.h"
#include "pipeline/reader.h"

struct pane_index;

/* A set of series ids: bit i set = series i is in the set. */
struct pane_bitmap {
	uint64_t *w;
	size_t nwords;
};

struct pane_index *pane_index_new(void);
void pane_index_free(struct pane_index *ix);
/* Records that series sid (> 0, larger than every earlier id) has these
 * labels (sorted, "__name__" included). */
void pane_index_add(struct pane_index *ix, uint32_t sid, const struct pane_labels *labels);
/* Number of ids in use + 1 (the bitmap size in bits). */
uint32_t pane_index_limit(const struct pane_index *ix);

/* Series matching all matchers (all series for n == 0) into out (caller
 * releases with pane_bitmap_release). 0, or PANE_EINVAL for a bad regex. */
int pane_index_match(struct pane_index *ix, const struct pane_matcher *m, size_t n, struct pane_bitmap *out,
                     struct pane_err *err);
/* Sorted unique label names / values of one name among the series in set.
 * Arrays of heap strings; the caller frees each and the array. */
void pane_index_names(struct pane_index *ix, const struct pane_bitmap *set, char ***out, size_t *n);
void pane_index_values(struct pane_index *ix, const char *name, const struct pane_bitmap *set, char ***out, size_t *n);

void pane_bitmap_init(struct pane_bitmap *b, size_t nbits, bool fill);
void pane_bitmap_release(struct pane_bitmap *b);
static inline bool pane_bitmap_has(const struct pane_bitmap *b, uint32_t i)
{
	return (size_t)(i >> 6) < b->nwords && (b->w[i >> 6] >> (i & 63)) & 1;
}
static inline void pane_bitmap_clear_bit(struct pane_bitmap *b, uint32_t i)
{
	if ((size_t)(i >> 6) < b->nwords)
		b->w[i >> 6] &= ~(1ull << (i & 63));
}
/* Next set bit at or after i, or -1. */
int64_t pane_bitmap_next(const struct pane_bitmap *b, uint32_t i);

#endif
