/*
 * binary.c - PromQL binary operators: arithmetic, comparisons (with and
 * without bool), and/or/unless, on/ignoring matching and group_left/right.
 *
 * Vector matching keys each side by its matching signature (an interned
 * subset of labels, eval_internal.h invariant 1); many-to-one results are
 * checked for duplicates as Prometheus does ("multiple matches for labels").
 * A result's labels are remembered by the left-hand position (struct
 * binmemo) and reused while the same two series meet there.
 */
#include "query/eval_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"

/* ---------------- binary operators ---------------- */

static const struct lset *signature(struct ev *ev, struct pq_node *n, const struct lset *m)
{
	return pq_subset(ev, n, m, n->on, n->mlabels, n->n_mlabels);
}

static const struct lset *result_metric(struct ev *ev, struct pq_node *n, const struct lset *l, const struct lset *r)
{
	struct lb b;
	pq_lb_from(ev, &b, l, n->n_include);
	if (drops_name(n->op))
		pq_lb_del(&b, "__name__");
	if (n->card == PQ_ONE_TO_ONE) {
		if (n->on) {
			size_t k = 0;
			for (size_t i = 0; i < b.n; i++)
				if (pq_in_list(b.l[i].name, n->mlabels, n->n_mlabels))
					b.l[k++] = b.l[i];
			b.n = k;
		} else {
			for (size_t i = 0; i < n->n_mlabels; i++)
				pq_lb_del(&b, n->mlabels[i]);
		}
	}
	for (size_t i = 0; i < n->n_include; i++) {
		const char *v = pq_lget(r, n->include[i]);
		pq_lb_set(ev, &b, n->include[i], v);
	}
	return pq_lb_done(ev, &b);
}

/* The binary node n's memo, with room for n positions. */
static struct binmemo *bin_memo(struct ev *ev, const struct pq_node *n, size_t npos)
{
	struct binmemo *bm = NULL;
	for (size_t i = 0; i < ev->binm_n && !bm; i++)
		if (ev->binm[i].bin == n)
			bm = &ev->binm[i];
	if (!bm) {
		ev->binm = pq_qgrow(ev, ev->binm, ev->binm_n, &ev->binm_cap, sizeof *ev->binm);
		bm = &ev->binm[ev->binm_n++];
		memset(bm, 0, sizeof *bm);
		bm->bin = n;
	}
	if (npos > bm->cap) { /* zeroed: no position remembered */
		bm->cap = npos * 2;
		bm->l = pq_qalloc(ev, bm->cap * sizeof *bm->l);
		bm->r = pq_qalloc(ev, bm->cap * sizeof *bm->r);
		bm->out = pq_qalloc(ev, bm->cap * sizeof *bm->out);
	}
	return bm;
}

static struct val eval_vv(struct ev *ev, struct pq_node *n, struct val l, struct val r, int64_t t)
{
	struct val v;
	if (n->op == PQ_AND || n->op == PQ_UNLESS) {
		struct pmap rs;
		pq_pmap_init(ev, &rs, r.n);
		for (size_t i = 0; i < r.n; i++) {
			bool f;
			pq_pmap_slot(ev, &rs, signature(ev, n, r.s[i].m), &f);
		}
		v = pq_vec_alloc(ev, l.n);
		for (size_t i = 0; i < l.n; i++) {
			bool has = pq_pmap_get(&rs, signature(ev, n, l.s[i].m)) != NULL;
			if (has == (n->op == PQ_AND))
				v.s[v.n++] = l.s[i];
		}
		return v;
	}
	if (n->op == PQ_OR) {
		struct pmap ls;
		pq_pmap_init(ev, &ls, l.n);
		v = pq_vec_alloc(ev, l.n + r.n);
		for (size_t i = 0; i < l.n; i++) {
			bool f;
			pq_pmap_slot(ev, &ls, signature(ev, n, l.s[i].m), &f);
			v.s[v.n++] = l.s[i];
		}
		for (size_t i = 0; i < r.n; i++)
			if (!pq_pmap_get(&ls, signature(ev, n, r.s[i].m)))
				v.s[v.n++] = r.s[i];
		return v;
	}
	bool swap = n->card == PQ_ONE_TO_MANY;
	struct val lhs = swap ? r : l, rhs = swap ? l : r;
	struct pmap rsig;
	pq_pmap_init(ev, &rsig, rhs.n);
	for (size_t i = 0; i < rhs.n; i++) {
		const struct lset *sig = signature(ev, n, rhs.s[i].m);
		bool f;
		size_t *slot = pq_pmap_slot(ev, &rsig, sig, &f);
		if (f) {
			struct pane_buf b1, b2, b3;
			pane_buf_init(&b1, 4096);
			pane_buf_init(&b2, 4096);
			pane_buf_init(&b3, 4096);
			const struct lset *s[3] = {sig, rhs.s[i].m, rhs.s[*slot].m};
			struct pane_buf *bs[3] = {&b1, &b2, &b3};
			for (int k = 0; k < 3; k++) {
				pane_buf_addc(bs[k], '{');
				for (uint32_t j = 0; j < s[k]->n; j++)
					pane_buf_addf(bs[k], "%s%s=\"%s\"", j ? ", " : "", s[k]->l[j].name,
					              s[k]->l[j].value);
				pane_buf_addc(bs[k], '}');
			}
			char msg[PANE_ERR_MSG_MAX];
			snprintf(
			    msg, sizeof msg,
			    "found duplicate series for the match group %s on the %s hand-side of the operation: [%s, "
			    "%s];many-to-many matching not allowed: matching labels must be unique on one side",
			    b1.data, swap ? "left" : "right", b2.data, b3.data);
			pane_buf_release(&b1);
			pane_buf_release(&b2);
			pane_buf_release(&b3);
			pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL, "%s", msg);
		}
		*slot = i;
	}
	struct pmap matched;
	pq_pmap_init(ev, &matched, lhs.n);
	struct pmap inserted; /* for many-to-one: result metrics already produced */
	pq_pmap_init(ev, &inserted, lhs.n);
	v = pq_vec_alloc(ev, lhs.n);
	struct binmemo *bm = bin_memo(ev, n, lhs.n);
	for (size_t i = 0; i < lhs.n; i++) {
		const struct lset *sig = signature(ev, n, lhs.s[i].m);
		size_t *ri = pq_pmap_get(&rsig, sig);
		if (!ri)
			continue;
		const struct sample *rs = &rhs.s[*ri];
		double vl = lhs.s[i].v, vr = rs->v;
		if (swap) {
			double tmp = vl;
			vl = vr;
			vr = tmp;
		}
		double value;
		bool keep = pq_binop_val(n->op, vl, vr, &value);
		if (n->bool_mod) {
			value = keep ? 1 : 0;
		} else if (!keep) {
			continue;
		}
		const struct lset *metric;
		if (bm->l[i] == lhs.s[i].m && bm->r[i] == rs->m) {
			metric = bm->out[i];
		} else {
			metric = result_metric(ev, n, lhs.s[i].m, rs->m);
			if (n->bool_mod)
				metric = pq_drop_name(ev, metric);
			bm->l[i] = lhs.s[i].m;
			bm->r[i] = rs->m;
			bm->out[i] = metric;
		}
		bool f;
		if (n->card == PQ_ONE_TO_ONE) {
			pq_pmap_slot(ev, &matched, sig, &f);
			if (f)
				pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL,
				           "multiple matches for labels: many-to-one matching must be explicit "
				           "(group_left/group_right)");
		} else {
			/* the result labels contain the matching labels, so the metric alone
			 * identifies the (signature, metric) pair Prometheus tracks */
			const struct lset *kk = metric;
			pq_pmap_slot(ev, &inserted, kk, &f);
			if (f)
				pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL,
				           "multiple matches for labels: grouping labels must ensure unique matches");
		}
		v.s[v.n++] = (struct sample){metric, value, t};
	}
	return v;
}

struct val pq_eval_bin(struct ev *ev, struct pq_node *n, int64_t t)
{
	struct val l = pq_eval(ev, n->a, t);
	struct val r = pq_eval(ev, n->b, t);
	struct val v;
	if (l.type == PQ_T_SCALAR && r.type == PQ_T_SCALAR) {
		double out;
		bool keep = pq_binop_val(n->op, l.scalar, r.scalar, &out);
		if (n->bool_mod)
			out = keep ? 1 : 0;
		return (struct val){.type = PQ_T_SCALAR, .scalar = out};
	}
	if (l.type == PQ_T_VECTOR && r.type == PQ_T_VECTOR) {
		v = eval_vv(ev, n, l, r, t);
	} else {
		bool swap = l.type == PQ_T_SCALAR;
		struct val vec = swap ? r : l;
		double sc = swap ? l.scalar : r.scalar;
		v = pq_vec_alloc(ev, vec.n);
		for (size_t i = 0; i < vec.n; i++) {
			double lv = vec.s[i].v, rv = sc;
			if (swap) {
				lv = sc;
				rv = vec.s[i].v;
			}
			double value;
			bool keep = pq_binop_val(n->op, lv, rv, &value);
			if (is_cmp(n->op) && swap)
				value = rv;
			if (n->bool_mod) {
				value = keep ? 1 : 0;
				keep = true;
			}
			if (!keep)
				continue;
			const struct lset *m = vec.s[i].m;
			if (drops_name(n->op) || n->bool_mod)
				m = pq_drop_name(ev, m);
			v.s[v.n++] = (struct sample){m, value, t};
		}
	}
	pq_check_dups(ev, &v);
	return v;
}
