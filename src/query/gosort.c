/*
 * gosort.c - Go's sort.Sort (pattern-defeating quicksort), move for move.
 *
 * sort(), sort_desc() and the output of topk/bottomk are, in Prometheus,
 * sort.Sort(sort.Reverse(h)) over a value heap type. sort.Sort is not
 * stable, so the order of equal values (ties, NaNs) in an instant vector is
 * whatever Go's pdqsort (Go 1.19, the toolchain Debian's Prometheus 2.42 is
 * built with) leaves. Matching Prometheus' answers byte for byte needs that
 * algorithm, not qsort(): the same pivots, the same insertion-sort cut-off,
 * the same pattern breaking with the same xorshift. Only the element access
 * is generic here (bytes and a less callback); the moves are Go's.
 */
#include "query/gosort.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct gosort {
	char *base;
	size_t size;
	bool (*less)(const void *a, const void *b, void *ctx);
	void *ctx;
};

static bool gs_less(const struct gosort *g, long i, long j)
{
	return g->less(g->base + (size_t)i * g->size, g->base + (size_t)j * g->size, g->ctx);
}

static void gs_swap(struct gosort *g, long i, long j)
{
	unsigned char t[PQ_GO_SORT_MAX_SIZE];
	char *a = g->base + (size_t)i * g->size, *b = g->base + (size_t)j * g->size;
	memcpy(t, a, g->size);
	memcpy(a, b, g->size);
	memcpy(b, t, g->size);
}

static void gs_insertion(struct gosort *g, long a, long b)
{
	for (long i = a + 1; i < b; i++)
		for (long j = i; j > a && gs_less(g, j, j - 1); j--)
			gs_swap(g, j, j - 1);
}

static void gs_sift_down(struct gosort *g, long lo, long hi, long first)
{
	long root = lo;
	for (;;) {
		long child = 2 * root + 1;
		if (child >= hi)
			return;
		if (child + 1 < hi && gs_less(g, first + child, first + child + 1))
			child++;
		if (!gs_less(g, first + root, first + child))
			return;
		gs_swap(g, first + root, first + child);
		root = child;
	}
}

static void gs_heapsort(struct gosort *g, long a, long b)
{
	long hi = b - a;
	for (long i = (hi - 1) / 2; i >= 0; i--)
		gs_sift_down(g, i, hi, a);
	for (long i = hi - 1; i >= 0; i--) {
		gs_swap(g, a, a + i);
		gs_sift_down(g, 0, i, a);
	}
}

static void gs_order2(struct gosort *g, long *a, long *b, int *swaps)
{
	if (gs_less(g, *b, *a)) {
		long t = *a;
		*a = *b;
		*b = t;
		(*swaps)++;
	}
}

static long gs_median(struct gosort *g, long a, long b, long c, int *swaps)
{
	gs_order2(g, &a, &b, swaps);
	gs_order2(g, &b, &c, swaps);
	gs_order2(g, &a, &b, swaps);
	return b;
}

enum { GS_UNKNOWN, GS_INCREASING, GS_DECREASING };

static long gs_choose_pivot(struct gosort *g, long a, long b, int *hint)
{
	long l = b - a;
	int swaps = 0;
	long i = a + l / 4 * 1, j = a + l / 4 * 2, k = a + l / 4 * 3;
	if (l >= 8) {
		if (l >= 50) { /* Tukey's ninther */
			i = gs_median(g, i - 1, i, i + 1, &swaps);
			j = gs_median(g, j - 1, j, j + 1, &swaps);
			k = gs_median(g, k - 1, k, k + 1, &swaps);
		}
		j = gs_median(g, i, j, k, &swaps);
	}
	*hint = swaps == 0 ? GS_INCREASING : swaps == 12 ? GS_DECREASING : GS_UNKNOWN;
	return j;
}

static void gs_reverse(struct gosort *g, long a, long b)
{
	for (long i = a, j = b - 1; i < j; i++, j--)
		gs_swap(g, i, j);
}

/* true when data[a:b] ended up sorted */
static bool gs_partial_insertion(struct gosort *g, long a, long b)
{
	long i = a + 1;
	for (int step = 0; step < 5; step++) {
		while (i < b && !gs_less(g, i, i - 1))
			i++;
		if (i == b)
			return true;
		if (b - a < 50)
			return false;
		gs_swap(g, i, i - 1);
		if (i - a >= 2) /* shift the smaller one left (Go's bound is index 1, not a + 1) */
			for (long j = i - 1; j >= 1 && gs_less(g, j, j - 1); j--)
				gs_swap(g, j, j - 1);
		if (b - i >= 2)
			for (long j = i + 1; j < b && gs_less(g, j, j - 1); j++)
				gs_swap(g, j, j - 1);
	}
	return false;
}

static long gs_partition(struct gosort *g, long a, long b, long pivot, bool *already)
{
	gs_swap(g, a, pivot);
	long i = a + 1, j = b - 1;
	while (i <= j && gs_less(g, i, a))
		i++;
	while (i <= j && !gs_less(g, j, a))
		j--;
	if (i > j) {
		gs_swap(g, j, a);
		*already = true;
		return j;
	}
	gs_swap(g, i, j);
	i++;
	j--;
	for (;;) {
		while (i <= j && gs_less(g, i, a))
			i++;
		while (i <= j && !gs_less(g, j, a))
			j--;
		if (i > j)
			break;
		gs_swap(g, i, j);
		i++;
		j--;
	}
	gs_swap(g, j, a);
	*already = false;
	return j;
}

static long gs_partition_equal(struct gosort *g, long a, long b, long pivot)
{
	gs_swap(g, a, pivot);
	long i = a + 1, j = b - 1;
	for (;;) {
		while (i <= j && !gs_less(g, a, i))
			i++;
		while (i <= j && gs_less(g, a, j))
			j--;
		if (i > j)
			break;
		gs_swap(g, i, j);
		i++;
		j--;
	}
	return i;
}

static unsigned gs_bits_len(uint64_t x)
{
	return x ? 64u - (unsigned)__builtin_clzll(x) : 0;
}

static void gs_break_patterns(struct gosort *g, long a, long b)
{
	long length = b - a;
	if (length < 8)
		return;
	uint64_t r = (uint64_t)length; /* Go 1.19's xorshift: <<13, >>17, <<5 */
	uint64_t modulus = (uint64_t)1 << gs_bits_len((uint64_t)length);
	for (long idx = a + (length / 4) * 2 - 1; idx <= a + (length / 4) * 2 + 1; idx++) {
		r ^= r << 13;
		r ^= r >> 17;
		r ^= r << 5;
		long other = (long)(r & (modulus - 1));
		if (other >= length)
			other -= length;
		gs_swap(g, idx, a + other);
	}
}

static void gs_pdqsort(struct gosort *g, long a, long b, unsigned limit)
{
	bool balanced = true, partitioned = true;
	for (;;) {
		long length = b - a;
		if (length <= 12) {
			gs_insertion(g, a, b);
			return;
		}
		if (limit == 0) {
			gs_heapsort(g, a, b);
			return;
		}
		if (!balanced) {
			gs_break_patterns(g, a, b);
			limit--;
		}
		int hint;
		long pivot = gs_choose_pivot(g, a, b, &hint);
		if (hint == GS_DECREASING) {
			gs_reverse(g, a, b);
			pivot = (b - 1) - (pivot - a);
			hint = GS_INCREASING;
		}
		if (balanced && partitioned && hint == GS_INCREASING && gs_partial_insertion(g, a, b))
			return;
		if (a > 0 && !gs_less(g, a - 1, pivot)) {
			a = gs_partition_equal(g, a, b, pivot);
			continue;
		}
		bool already;
		long mid = gs_partition(g, a, b, pivot, &already);
		partitioned = already;
		long left = mid - a, right = b - mid, threshold = length / 8;
		if (left < right) {
			balanced = left >= threshold;
			gs_pdqsort(g, a, mid, limit);
			a = mid + 1;
		} else {
			balanced = right >= threshold;
			gs_pdqsort(g, mid + 1, b, limit);
			b = mid;
		}
	}
}

/* Sorts v[0..n) as Prometheus' sort_desc (desc) or sort() (!desc) does,
 * ties included. */
void pq_go_sort(void *base, size_t n, size_t size, bool (*less)(const void *a, const void *b, void *ctx), void *ctx)
{
	if (n <= 1)
		return;
	if (size > PQ_GO_SORT_MAX_SIZE)
		abort(); /* a programming error: elements are small structs */
	struct gosort g = {base, size, less, ctx};
	gs_pdqsort(&g, 0, (long)n, gs_bits_len(n));
}
