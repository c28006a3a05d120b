/*
 * aggregate.c - PromQL aggregations: sum, avg, min, max, count, group,
 * stddev, stdvar, topk, bottomk, quantile, count_values.
 *
 * Groups are keyed by the interned grouping label set (eval_internal.h
 * invariant 1), so grouping is a pointer map; topk/bottomk keep a bounded
 * heap per group and leave it in Go's heap order, as Prometheus does.
 * An aggregation remembers which group each input position went to
 * (struct aggmemo): when the next evaluation lists the same series in the
 * same order, as a range query's next step mostly does, no key is hashed.
 */
#include "query/eval_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"

/* ---------------- aggregation ---------------- */

struct group {
	const struct lset *m;
	double value, mean;
	size_t count;
	bool seen;
	struct sample *heap;
	size_t hn;
	double *vals;
	size_t nv, cv;
};

/* Go container/heap with Less(i, j) = a < b (NaN smallest) for topk, reversed for bottomk */
static bool heap_less(bool top, double a, double b)
{
	if (isnan(a))
		return true;
	return top ? a < b : a > b;
}

static void heap_up(struct sample *h, size_t j, bool top)
{
	while (j > 0) {
		size_t i = (j - 1) / 2;
		if (i == j || !heap_less(top, h[j].v, h[i].v))
			break;
		struct sample tmp = h[i];
		h[i] = h[j];
		h[j] = tmp;
		j = i;
	}
}

static void heap_down(struct sample *h, size_t i0, size_t n, bool top)
{
	size_t i = i0;
	for (;;) {
		size_t j1 = 2 * i + 1;
		if (j1 >= n)
			break;
		size_t j = j1;
		size_t j2 = j1 + 1;
		if (j2 < n && heap_less(top, h[j2].v, h[j1].v))
			j = j2;
		if (!heap_less(top, h[j].v, h[i].v))
			break;
		struct sample tmp = h[i];
		h[i] = h[j];
		h[j] = tmp;
		i = j;
	}
}

/* The heap's output order: Prometheus' sort.Sort(sort.Reverse(heap)) is
 * sort_desc's sort for topk and sort()'s for bottomk, ties included. */
static void heap_out(struct sample *h, size_t n, bool top)
{
	pq_go_sort_values(h, n, top);
}

/* The aggregation n's memo of its last grouping (created empty). */
static struct aggmemo *agg_memo(struct ev *ev, const struct pq_node *n)
{
	for (size_t i = 0; i < ev->aggm_n; i++)
		if (ev->aggm[i].agg == n)
			return &ev->aggm[i];
	ev->aggm = pq_qgrow(ev, ev->aggm, ev->aggm_n, &ev->aggm_cap, sizeof *ev->aggm);
	struct aggmemo *am = &ev->aggm[ev->aggm_n++];
	memset(am, 0, sizeof *am);
	am->agg = n;
	return am;
}

/* Whether in lists the same series in the same order as at am's last use. */
static bool agg_same_input(const struct aggmemo *am, const struct val *in)
{
	if (!am->m || am->n != in->n)
		return false;
	for (size_t i = 0; i < in->n; i++)
		if (am->m[i] != in->s[i].m)
			return false;
	return true;
}

struct val pq_eval_agg(struct ev *ev, struct pq_node *n, int64_t t)
{
	double param = 0;
	const char *vlabel = NULL;
	enum pq_op op = n->op;
	if (op == PQ_TOPK || op == PQ_BOTTOMK || op == PQ_QUANTILE)
		param = pq_scalar_arg(ev, n->param, t);
	if (op == PQ_COUNT_VALUES) {
		vlabel = pq_eval(ev, n->param, t).str;
		if (!pq_valid_label_name(vlabel))
			pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL, "invalid label name \"%s\"", vlabel);
	}
	struct val in = pq_eval(ev, n->a, t);
	int64_t k = 0;
	if (op == PQ_TOPK || op == PQ_BOTTOMK) {
		if (!(param >= -9.2e18 && param <= 9.2e18))
			pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL, "Scalar value %g overflows int64", param);
		k = (int64_t)param;
		if (k < 1)
			return pq_vec_alloc(ev, 0);
	}
	const char **grouping = n->grouping;
	size_t ngrp = n->n_grouping;
	if (vlabel && !n->without) {
		grouping = pq_salloc(ev, (ngrp + 1) * sizeof *grouping);
		if (ngrp)
			memcpy(grouping, n->grouping, ngrp * sizeof *grouping);
		grouping[ngrp++] = vlabel;
	}
	/* count_values groups by the values too: never the same twice */
	struct aggmemo *am = vlabel ? NULL : agg_memo(ev, n);
	bool reuse = am && agg_same_input(am, &in);
	if (am && !reuse) {
		if (in.n > am->cap) {
			am->cap = in.n * 2;
			am->m = pq_qalloc(ev, am->cap * sizeof *am->m);
			am->slot = pq_qalloc(ev, am->cap * sizeof *am->slot);
			am->gm = pq_qalloc(ev, am->cap * sizeof *am->gm);
		}
		am->n = in.n;
		for (size_t i = 0; i < in.n; i++)
			am->m[i] = in.s[i].m;
	}
	struct pmap idx;
	if (!reuse)
		pq_pmap_init(ev, &idx, in.n);
	struct group *g = pq_salloc(ev, (in.n + 1) * sizeof *g);
	size_t ng = 0;
	for (size_t i = 0; i < in.n; i++) {
		const struct lset *m = in.s[i].m;
		double x = in.s[i].v;
		size_t gi;
		if (reuse) {
			gi = am->slot[i];
		} else {
			if (vlabel) {
				char f[64];
				pane_query_fmt_float(x, f, sizeof f);
				struct lb lb;
				pq_lb_from(ev, &lb, m, 1);
				pq_lb_set(ev, &lb, vlabel, pq_sstrndup(ev, f, strlen(f)));
				m = pq_lb_done(ev, &lb);
			}
			const struct lset *key = pq_subset(ev, vlabel ? NULL : n, m, !n->without, grouping, ngrp);
			bool found;
			size_t *slot = pq_pmap_slot(ev, &idx, key, &found);
			if (!found) {
				*slot = ng;
				g[ng].m = key;
			}
			gi = *slot;
			if (am)
				am->slot[i] = gi;
		}
		/* groups are numbered in order of first appearance */
		if (gi == ng) {
			struct group *gr = &g[ng++];
			if (reuse)
				gr->m = am->gm[gi];
			else if (am)
				am->gm[gi] = gr->m;
			gr->value = x;
			gr->mean = x;
			gr->count = 1;
			if (op == PQ_COUNT || op == PQ_COUNT_VALUES)
				gr->value = 1;
			else if (op == PQ_GROUP)
				gr->value = 1;
			else if (op == PQ_STDDEV || op == PQ_STDVAR)
				gr->value = 0;
			if (op == PQ_TOPK || op == PQ_BOTTOMK) {
				size_t cap = (size_t)k < in.n ? (size_t)k : in.n;
				gr->heap = pq_salloc(ev, (cap + 1) * sizeof *gr->heap);
				gr->heap[0] = in.s[i];
				gr->hn = 1;
			}
			if (op == PQ_QUANTILE) {
				gr->cv = 8;
				gr->vals = pq_salloc(ev, gr->cv * sizeof *gr->vals);
				gr->vals[gr->nv++] = x;
			}
			continue;
		}
		struct group *gr = &g[gi];
		switch (op) {
		case PQ_SUM: gr->value += x; break;
		case PQ_AVG:
			gr->count++;
			if (isinf(gr->mean)) {
				if (isinf(x) && (gr->mean > 0) == (x > 0))
					break;
				if (!isinf(x) && !isnan(x))
					break;
			}
			gr->mean += x / (double)gr->count - gr->mean / (double)gr->count;
			break;
		case PQ_GROUP: break;
		case PQ_COUNT:
		case PQ_COUNT_VALUES:
			gr->count++;
			gr->value = (double)gr->count;
			break;
		case PQ_MAX:
			if (gr->value < x || isnan(gr->value))
				gr->value = x;
			break;
		case PQ_MIN:
			if (gr->value > x || isnan(gr->value))
				gr->value = x;
			break;
		case PQ_STDVAR:
		case PQ_STDDEV: {
			gr->count++;
			double delta = x - gr->mean;
			gr->mean += delta / (double)gr->count;
			gr->value += delta * (x - gr->mean);
			break;
		}
		case PQ_TOPK:
		case PQ_BOTTOMK: {
			/* Prometheus 2.42: a newcomer enters when the heap is not full,
			 * when it beats the root, or when the root is NaN (even for a NaN
			 * newcomer); a full heap pops its root first (k == 1 replaces it
			 * in place). Which of several tied series survive depends on
			 * exactly these moves, so they are Go's, step for step. */
			bool top = op == PQ_TOPK;
			double r = gr->heap[0].v;
			if (!((int64_t)gr->hn < k || (top ? r < x : r > x) || isnan(r)))
				break;
			if ((int64_t)gr->hn == k) {
				if (k == 1) {
					gr->heap[0] = in.s[i];
					break;
				}
				gr->hn--;
				struct sample tmp = gr->heap[0];
				gr->heap[0] = gr->heap[gr->hn];
				gr->heap[gr->hn] = tmp;
				heap_down(gr->heap, 0, gr->hn, top);
			}
			gr->heap[gr->hn] = in.s[i];
			heap_up(gr->heap, gr->hn, top);
			gr->hn++;
			break;
		}
		case PQ_QUANTILE:
			if (gr->nv == gr->cv) {
				double *nv = pq_salloc(ev, gr->cv * 2 * sizeof *nv);
				memcpy(nv, gr->vals, gr->nv * sizeof *nv);
				gr->vals = nv;
				gr->cv *= 2;
			}
			gr->vals[gr->nv++] = x;
			break;
		default: break;
		}
	}
	size_t total = 0;
	for (size_t i = 0; i < ng; i++)
		total += (op == PQ_TOPK || op == PQ_BOTTOMK) ? g[i].hn : 1;
	struct val v = pq_vec_alloc(ev, total);
	for (size_t i = 0; i < ng; i++) {
		struct group *gr = &g[i];
		double out = gr->value;
		switch (op) {
		case PQ_AVG: out = gr->mean; break;
		case PQ_COUNT:
		case PQ_COUNT_VALUES: out = (double)gr->count; break;
		case PQ_STDVAR: out = gr->value / (double)gr->count; break;
		case PQ_STDDEV: out = sqrt(gr->value / (double)gr->count); break;
		case PQ_QUANTILE: out = pq_quantile(param, gr->vals, gr->nv); break;
		case PQ_TOPK:
		case PQ_BOTTOMK:
			heap_out(gr->heap, gr->hn, op == PQ_TOPK);
			for (size_t j = 0; j < gr->hn; j++) {
				v.s[v.n] = gr->heap[j];
				v.s[v.n++].t = t;
			}
			continue;
		default: break;
		}
		v.s[v.n++] = (struct sample){gr->m, out, t};
	}
	return v;
}
