/*
 * gosort.h - Go's sort.Sort for the query engine (internal).
 *
 * pq_go_sort orders n elements of size bytes (at most PQ_GO_SORT_MAX_SIZE)
 * exactly as Go's sort.Sort would with Less(i, j) = less(&e[i], &e[j], ctx):
 * the same result for ties, which Prometheus' sort()/sort_desc() expose.
 * Not stable; no allocation; in place.
 */
#ifndef PANE_QUERY_GOSORT_H
#define PANE_QUERY_GOSORT_H

#include <stdbool.h>
#include <stddef.h>

#define PQ_GO_SORT_MAX_SIZE 64

void pq_go_sort(void *base, size_t n, size_t size, bool (*less)(const void *a, const void *b, void *ctx), void *ctx);

#endif
