/*
 * eval.c - PromQL evaluation with Prometheus' semantics.
 *
 * A range query is evaluated step by step: at each step timestamp the whole
 * tree is evaluated as an instant query and the resulting vector is folded
 * into output series (Prometheus' rangeEval does the same per node). What
 * makes this cheap is that each selector loads its data once for the whole
 * query: a planning pass computes, per selector, the time span every step
 * (and every subquery step) will need, and one reader select fetches it.
 * Per step, selectors find their windows by galloping on from where the
 * last step's ended (per-series hints in the cache).
 *
 * Step by step visits every series at every step, which is slow for the
 * memory (a step touches a cache line of each of hundreds of series). So
 * what only depends on the top-level step is computed series by series at
 * its first use: an instant selector's sample at every step (vidx, here)
 * and a range function over a plain selector at every step (rmemo,
 * functions.c); each step then reads one row. Same windows, same
 * arithmetic in the same order, so the same bits (test_eval compares a
 * range query with the instant queries at its steps). Aggregations and
 * binary operators remember how the last step grouped and matched, by
 * position (aggregate.c, binary.c): the next step mostly lists the same
 * series in the same order.
 *
 * Label sets are interned per query (struct lset): equal sets are the same
 * pointer, so matching, grouping and duplicate detection compare pointers.
 * Memory: a query arena (interned labels, output) and a step arena that is
 * reset after each top-level step (and a scratch one per subquery step);
 * together they are bounded by a budget derived from max_samples, counted
 * before a chunk is allocated, as are the samples loaded and the wall time
 * (timeout, checked in loops). After a large query the freed heap goes
 * back to the system (malloc_trim).
 * Errors unwind with longjmp to pane_query_exec; everything they could leak
 * lives in the arenas or in lists freed there.
 *
 * This file is the core: interning, arenas, planning and loading, selectors
 * and subqueries, the dispatch (pq_eval), the driver and the JSON answer
 * (through base/json.h; a point is formatted here and handed over whole).
 * Functions, aggregations and binary operators are functions.c,
 * aggregate.c and binary.c; the invariants they share are numbered in
 * eval_internal.h.
 */
#include "query/query.h"

#include <ctype.h>
#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/regex.h"
#include "base/str.h"
#include "base/vec.h"
#include "query/ast.h"
#include "query/eval_internal.h"

/* Memory a query may hold in its arenas: proportional to max_samples
 * (a point is 16-24 bytes; arrays that grow by doubling inside an arena
 * leave their old copies behind, up to 4x; maps and label sets come with
 * them), plus a fixed allowance for small queries. */
#define BYTES_PER_SAMPLE 64
#define BUDGET_FIXED ((size_t)8 << 20)
/* After a query that held this much, unused heap goes back to the system. */
#define TRIM_AFTER_BYTES ((size_t)32 << 20)
#define DEFAULT_SUBQUERY_STEP 60000

void pq_ev_fail(struct ev *ev, enum pane_query_errclass cls, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pane_err_setv(ev->err, code, fmt, ap);
	va_end(ap);
	ev->cls = cls;
	longjmp(ev->jb, 1);
}

/* Registers fn(arg) to run if an error unwinds before pq_ev_undefer(). */
void pq_ev_defer(struct ev *ev, void (*fn)(void *), void *arg)
{
	if (ev->ndefer == (int)(sizeof ev->defers / sizeof ev->defers[0]))
		abort();
	ev->defers[ev->ndefer].fn = fn;
	ev->defers[ev->ndefer].arg = arg;
	ev->ndefer++;
}

/* Runs and drops the last n cleanups (the normal path). */
void pq_ev_undefer(struct ev *ev, int n)
{
	while (n-- > 0 && ev->ndefer > 0) {
		ev->ndefer--;
		ev->defers[ev->ndefer].fn(ev->defers[ev->ndefer].arg);
	}
}

void *pq_salloc(struct ev *ev, size_t n)
{
	void *p = pane_arena_alloc(&ev->sa, n);
	if (!p)
		pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_ETOOBIG,
		           "query processing would load too many samples into memory in query execution");
	return p;
}

char *pq_sstrndup(struct ev *ev, const char *p, size_t n)
{
	char *d = pq_salloc(ev, n + 1);
	memcpy(d, p, n);
	d[n] = 0;
	return d;
}

void *pq_qalloc(struct ev *ev, size_t n)
{
	void *p = pane_arena_alloc(&ev->qa, n);
	if (!p)
		pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_ETOOBIG,
		           "query processing would load too many samples into memory in query execution");
	return p;
}

void *pq_qgrow(struct ev *ev, void *arr, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return arr;
	size_t ncap = *cap ? *cap * 2 : 4;
	void *na = pq_qalloc(ev, ncap * size);
	if (n)
		memcpy(na, arr, n * size);
	*cap = ncap;
	return na;
}

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pane_label *)a)->name, ((const struct pane_label *)b)->name);
}

static uint64_t labels_hash(const struct pane_label *l, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		for (const char *p = l[i].name; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
		for (const char *p = l[i].value; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ 0xfe) * 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static bool lset_eq(const struct lset *s, const struct pane_label *l, size_t n)
{
	if (s->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(s->l[i].name, l[i].name) || strcmp(s->l[i].value, l[i].value))
			return false;
	return true;
}

/* Interns a label set given sorted, unique names with non-empty values. */
static const struct lset *intern(struct ev *ev, const struct pane_label *l, size_t n)
{
	uint64_t h = labels_hash(l, n);
	if (ev->in * 10 >= ev->icap * 7) {
		size_t nc = ev->icap ? ev->icap * 2 : 1024;
		struct lset **nt = pane_xcalloc(nc, sizeof *nt);
		for (size_t i = 0; i < ev->icap; i++) {
			struct lset *s = ev->itab[i];
			if (!s)
				continue;
			size_t j = s->hash & (nc - 1);
			while (nt[j])
				j = (j + 1) & (nc - 1);
			nt[j] = s;
		}
		free(ev->itab);
		ev->itab = nt;
		ev->icap = nc;
	}
	size_t j = h & (ev->icap - 1);
	while (ev->itab[j]) {
		if (ev->itab[j]->hash == h && lset_eq(ev->itab[j], l, n))
			return ev->itab[j];
		j = (j + 1) & (ev->icap - 1);
	}
	struct lset *s = pq_qalloc(ev, sizeof *s + n * sizeof(struct pane_label));
	s->hash = h;
	s->n = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(l[i].name), vl = strlen(l[i].value);
		char *nm = pq_qalloc(ev, nl + vl + 2);
		memcpy(nm, l[i].name, nl + 1);
		memcpy(nm + nl + 1, l[i].value, vl + 1);
		s->l[i].name = nm;
		s->l[i].value = nm + nl + 1;
	}
	ev->itab[j] = s;
	ev->in++;
	return s;
}

void pq_lb_from(struct ev *ev, struct lb *b, const struct lset *s, size_t extra)
{
	b->cap = s->n + extra + 1;
	b->l = pq_salloc(ev, b->cap * sizeof *b->l);
	memcpy(b->l, s->l, s->n * sizeof *b->l);
	b->n = s->n;
}

void pq_lb_del(struct lb *b, const char *name)
{
	for (size_t i = 0; i < b->n; i++)
		if (!strcmp(b->l[i].name, name)) {
			memmove(&b->l[i], &b->l[i + 1], (b->n - i - 1) * sizeof *b->l);
			b->n--;
			return;
		}
}

void pq_lb_set(struct ev *ev, struct lb *b, const char *name, const char *value)
{
	if (!value || !*value) {
		pq_lb_del(b, name);
		return;
	}
	for (size_t i = 0; i < b->n; i++)
		if (!strcmp(b->l[i].name, name)) {
			b->l[i].value = value;
			return;
		}
	if (b->n == b->cap) {
		struct pane_label *nl = pq_salloc(ev, b->cap * 2 * sizeof *nl);
		memcpy(nl, b->l, b->n * sizeof *nl);
		b->l = nl;
		b->cap *= 2;
	}
	b->l[b->n].name = name;
	b->l[b->n].value = value;
	b->n++;
	qsort(b->l, b->n, sizeof *b->l, label_cmp);
}

const struct lset *pq_lb_done(struct ev *ev, struct lb *b)
{
	return intern(ev, b->l, b->n);
}

const struct lset *pq_drop_name(struct ev *ev, const struct lset *s)
{
	if (s->noname)
		return s->noname;
	const struct lset *r = s;
	if (pq_lget(s, "__name__")) {
		struct lb b;
		pq_lb_from(ev, &b, s, 0);
		pq_lb_del(&b, "__name__");
		r = pq_lb_done(ev, &b);
	}
	((struct lset *)s)->noname = r;
	return r;
}

bool pq_in_list(const char *name, const char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i], name))
			return true;
	return false;
}

/* Labels kept (on/by: only the listed; ignoring/without: all but the listed and __name__). */
static const struct lset *subset_raw(struct ev *ev, const struct lset *s, bool keep_listed, const char **l, size_t n);
/* key: the node asking (its lists never change), or NULL for no memo */
const struct lset *pq_subset(struct ev *ev, const void *key, const struct lset *s, bool keep_listed, const char **l,
                             size_t n)
{
	/* one-slot memo per label set */
	if (key && s->memo_key == key)
		return s->memo;
	const struct lset *r = subset_raw(ev, s, keep_listed, l, n);
	if (key) {
		((struct lset *)s)->memo_key = key;
		((struct lset *)s)->memo = r;
	}
	return r;
}

static const struct lset *subset_raw(struct ev *ev, const struct lset *s, bool keep_listed, const char **l, size_t n)
{
	struct pane_label *tmp = pq_salloc(ev, (s->n + 1) * sizeof *tmp);
	size_t k = 0;
	for (uint32_t i = 0; i < s->n; i++) {
		bool listed = pq_in_list(s->l[i].name, l, n);
		if (keep_listed ? listed : (!listed && strcmp(s->l[i].name, "__name__")))
			tmp[k++] = s->l[i];
	}
	return intern(ev, tmp, k);
}

int pane_query_lset_cmp(const void *a, const void *b);
static int lset_cmp(const struct lset *a, const struct lset *b)
{
	uint32_t n = a->n < b->n ? a->n : b->n;
	for (uint32_t i = 0; i < n; i++) {
		int c = strcmp(a->l[i].name, b->l[i].name);
		if (c)
			return c;
		c = strcmp(a->l[i].value, b->l[i].value);
		if (c)
			return c;
	}
	return (int)a->n - (int)b->n;
}

/* ---------------- pointer sets/maps on the step arena ---------------- */

static void *aalloc(struct ev *ev, struct pane_arena *a, size_t n)
{
	void *p = pane_arena_alloc(a, n);
	if (!p)
		pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_ETOOBIG,
		           "query processing would load too many samples into memory in query execution");
	return p;
}

/* A map on arena a (NULL: the step arena). */
static void pmap_init_in(struct ev *ev, struct pane_arena *a, struct pmap *m, size_t hint)
{
	size_t c = 16;
	while (c < hint * 2)
		c *= 2;
	m->cap = c;
	m->n = 0;
	m->a = a;
	m->k = aalloc(ev, a, c * sizeof *m->k);
	m->v = aalloc(ev, a, c * sizeof *m->v);
}

void pq_pmap_init(struct ev *ev, struct pmap *m, size_t hint)
{
	pmap_init_in(ev, &ev->sa, m, hint);
}

static size_t phash(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (size_t)x;
}

/* Returns a pointer to the value slot; *found says if the key was there. */
size_t *pq_pmap_slot(struct ev *ev, struct pmap *m, const void *key, bool *found)
{
	if ((m->n + 1) * 10 >= m->cap * 7) {
		struct pmap nm;
		pmap_init_in(ev, m->a, &nm, m->cap);
		for (size_t i = 0; i < m->cap; i++)
			if (m->k[i]) {
				bool f;
				*pq_pmap_slot(ev, &nm, m->k[i], &f) = m->v[i];
			}
		*m = nm;
	}
	size_t j = phash(key) & (m->cap - 1);
	while (m->k[j]) {
		if (m->k[j] == key) {
			*found = true;
			return &m->v[j];
		}
		j = (j + 1) & (m->cap - 1);
	}
	*found = false;
	m->k[j] = key;
	m->n++;
	return &m->v[j];
}

size_t *pq_pmap_get(struct pmap *m, const void *key)
{
	size_t j = phash(key) & (m->cap - 1);
	while (m->k[j]) {
		if (m->k[j] == key)
			return &m->v[j];
		j = (j + 1) & (m->cap - 1);
	}
	return NULL;
}

void pq_check_dups(struct ev *ev, const struct val *v)
{
	if (v->type != PQ_T_VECTOR || v->n < 2)
		return;
	struct pmap m;
	pq_pmap_init(ev, &m, v->n);
	for (size_t i = 0; i < v->n; i++) {
		bool f;
		pq_pmap_slot(ev, &m, v->s[i].m, &f);
		if (f)
			pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL,
			           "vector cannot contain metrics with the same labelset");
	}
}

/* ---------------- planning and loading ---------------- */

static void plan(struct ev *ev, struct pq_node *n, int64_t tmin, int64_t tmax)
{
	if (!n)
		return;
	switch (n->kind) {
	case PQ_VSEL:
	case PQ_MSEL: {
		struct pq_node *vs = n->kind == PQ_MSEL ? n->a : n;
		int64_t lo = tmin, hi = tmax;
		if (vs->at_kind != PQ_AT_NONE) {
			int64_t at = vs->at_kind == PQ_AT_TS      ? vs->at
			             : vs->at_kind == PQ_AT_START ? ev->start
			                                          : ev->end;
			lo = hi = at;
		}
		lo -= vs->offset;
		hi -= vs->offset;
		lo -= n->kind == PQ_MSEL ? n->range : ev->lookback;
		struct cache *c = &ev->caches[vs->cache_id];
		if (n->kind == PQ_VSEL) {
			if (ev->plan_subq)
				c->nested = true;
			else
				c->top = true;
		}
		if (!c->planned || lo < c->mint)
			c->mint = lo;
		if (!c->planned || hi > c->maxt)
			c->maxt = hi;
		c->planned = true;
		return;
	}
	case PQ_SUBQ: {
		ev->n_subq++;
		int64_t lo = tmin, hi = tmax;
		if (n->at_kind != PQ_AT_NONE) {
			int64_t at = n->at_kind == PQ_AT_TS ? n->at : n->at_kind == PQ_AT_START ? ev->start : ev->end;
			lo = hi = at;
		}
		ev->plan_subq++;
		plan(ev, n->a, lo - n->offset - n->range, hi - n->offset);
		ev->plan_subq--;
		return;
	}
	case PQ_CALL:
		if (!ev->plan_subq && ev->end > ev->start && pq_memo_eligible(n)) {
			struct rmemo *nm = pq_qalloc(ev, (ev->rmemo_n + 1) * sizeof *nm);
			if (ev->rmemo_n)
				memcpy(nm, ev->rmemo, ev->rmemo_n * sizeof *nm);
			nm[ev->rmemo_n++] = (struct rmemo){.call = n};
			ev->rmemo = nm;
		}
		for (size_t i = 0; i < n->nargs; i++)
			plan(ev, n->args[i], tmin, tmax);
		return;
	default:
		plan(ev, n->a, tmin, tmax);
		plan(ev, n->b, tmin, tmax);
		plan(ev, n->param, tmin, tmax);
		return;
	}
}

static int mseries_cmp(const void *a, const void *b)
{
	return lset_cmp(((const struct mseries *)a)->m, ((const struct mseries *)b)->m);
}

struct cache *pq_load(struct ev *ev, struct pq_node *vs)
{
	struct cache *c = &ev->caches[vs->cache_id];
	if (c->loaded)
		return c;
	struct pane_series_set *set = NULL;
	struct pane_err e = {0};
	size_t budget = ev->max_samples > ev->loaded_samples ? ev->max_samples - ev->loaded_samples : 0;
	int rc =
	    ev->reader.ops->select(ev->reader.ctx, vs->matchers, vs->n_matchers, c->mint, c->maxt, budget, &set, &e);
	if (rc == PANE_ETOOBIG)
		pq_ev_fail(ev, PANE_QERR_EXECUTION, rc,
		           "query processing would load too many samples into memory in query execution");
	if (rc == PANE_ETIMEDOUT)
		pq_ev_fail(ev, PANE_QERR_TIMEOUT, rc, "query timed out in expression evaluation");
	if (rc < 0)
		pq_ev_fail(ev, PANE_QERR_EXECUTION, rc, "%s", e.msg[0] ? e.msg : "reading series failed");
	pane_vec_push(&ev->sets, &set);
	ev->loaded_series += set->n;
	c->series = pq_qalloc(ev, (set->n + 1) * sizeof *c->series);
	c->n = 0;
	for (size_t i = 0; i < set->n; i++) {
		struct pane_series *s = &set->series[i];
		ev->loaded_samples += s->n;
		if (ev->loaded_samples > ev->max_samples)
			pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_ETOOBIG,
			           "query processing would load too many samples into memory in query execution");
		struct pane_label *tmp = pq_salloc(ev, (s->labels.n + 1) * sizeof *tmp);
		size_t k = 0;
		for (size_t j = 0; j < s->labels.n; j++)
			if (s->labels.v[j].value && s->labels.v[j].value[0])
				tmp[k++] = s->labels.v[j];
		qsort(tmp, k, sizeof *tmp, label_cmp);
		struct mseries *m = &c->series[c->n++];
		m->m = intern(ev, tmp, k);
		m->t = s->ts;
		m->v = s->values;
		m->n = s->n;
	}
	qsort(c->series, c->n, sizeof *c->series, mseries_cmp);
	c->hint = pq_qalloc(ev, (2 * c->n + 1) * sizeof *c->hint);
	memset(c->hint, 0, (2 * c->n + 1) * sizeof *c->hint);
	c->stale = pq_qalloc(ev, (c->n + 1) * sizeof *c->stale);
	for (size_t i = 0; i < c->n; i++) {
		const struct mseries *m = &c->series[i];
		c->stale[i] = false;
		for (size_t j = 0; j < m->n; j++)
			if (is_stale(m->v[j])) {
				c->stale[i] = true;
				break;
			}
	}
	c->loaded = true;
	return c;
}

/* index of the first sample with t >= x */
static size_t lower_bound(const int64_t *t, size_t n, int64_t x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (t[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* lower_bound starting from *hint, the answer of the previous call: when x
 * moved forward (a range query's next step), gallop on from there; when it
 * moved back, search before it. Leaves the answer in *hint. */
static size_t seek(const int64_t *t, size_t n, int64_t x, size_t *hint)
{
	size_t h = *hint < n ? *hint : n, r;
	if (h > 0 && t[h - 1] >= x) {
		r = lower_bound(t, h, x);
	} else {
		/* every sample before lo is < x */
		size_t lo = h, hi = h, step = 1;
		while (hi < n && t[hi] < x) {
			lo = hi + 1;
			hi += step;
			step <<= 1;
		}
		if (hi > n)
			hi = n;
		r = lo + lower_bound(t + lo, hi - lo, x);
	}
	*hint = r;
	return r;
}

int64_t pq_at_time(struct ev *ev, const struct pq_node *n, int64_t t)
{
	switch (n->at_kind) {
	case PQ_AT_TS: return n->at;
	case PQ_AT_START: return ev->start;
	case PQ_AT_END: return ev->end;
	default: return t;
	}
}

struct val pq_vec_alloc(struct ev *ev, size_t cap)
{
	struct val v = {.type = PQ_T_VECTOR};
	v.s = pq_salloc(ev, (cap ? cap : 1) * sizeof *v.s);
	return v;
}

/* The last sample at or before ref within the lookback, not a stale
 * marker: its index in s, or -1. */
static ptrdiff_t vsel_sample(struct ev *ev, const struct mseries *s, int64_t ref, size_t *hint)
{
	size_t k = seek(s->t, s->n, ref + 1, hint);
	if (k == 0)
		return -1;
	k--;
	if (s->t[k] < ref - ev->lookback || is_stale(s->v[k]))
		return -1;
	return (ptrdiff_t)k;
}

/* Fills c->vidx for every top-level step, series by series (each series'
 * timestamps walked once, in order); false when it would take more than a
 * quarter of what the budget has left. */
static bool vsel_fill(struct ev *ev, struct pq_node *n, struct cache *c)
{
	size_t nsteps = (size_t)((ev->end - ev->start) / ev->step) + 1;
	size_t cells = c->n * nsteps;
	size_t left = ev->budget.limit > ev->budget.used ? ev->budget.limit - ev->budget.used : 0;
	bool fits = nsteps > 1 && cells / nsteps == c->n && cells * sizeof *c->vidx < left / 4;
	for (size_t i = 0; i < c->n && fits; i++)
		fits = c->series[i].n < INT32_MAX;
	if (!fits) {
		c->vidx_off = true;
		return false;
	}
	c->vidx = pq_qalloc(ev, cells * sizeof *c->vidx + 1);
	for (size_t i = 0; i < c->n; i++) {
		size_t hint = 0;
		int64_t t = ev->start;
		for (size_t k = 0; k < nsteps; k++, t += ev->step)
			c->vidx[k * c->n + i] =
			    (int32_t)vsel_sample(ev, &c->series[i], pq_at_time(ev, n, t) - n->offset, &hint);
		pq_check_time(ev);
	}
	return true;
}

static struct val eval_vsel(struct ev *ev, struct pq_node *n, int64_t t)
{
	struct cache *c = pq_load(ev, n);
	int64_t ref = pq_at_time(ev, n, t) - n->offset;
	struct val v = pq_vec_alloc(ev, c->n);
	if (c->top && !c->nested && !c->vidx_off && ev->end > ev->start && t >= ev->start && t <= ev->end &&
	    (t - ev->start) % ev->step == 0 && (c->vidx || vsel_fill(ev, n, c))) {
		const int32_t *row = c->vidx + (size_t)((t - ev->start) / ev->step) * c->n;
		for (size_t i = 0; i < c->n; i++)
			if (row[i] >= 0) {
				const struct mseries *s = &c->series[i];
				v.s[v.n++] = (struct sample){s->m, s->v[row[i]], s->t[row[i]]};
			}
		pq_check_time(ev);
		return v;
	}
	for (size_t i = 0; i < c->n; i++) {
		struct mseries *s = &c->series[i];
		ptrdiff_t k = vsel_sample(ev, s, ref, &c->hint[2 * i]);
		if (k < 0)
			continue;
		v.s[v.n].m = s->m;
		v.s[v.n].v = s->v[k];
		v.s[v.n].t = s->t[k];
		v.n++;
	}
	pq_check_time(ev);
	return v;
}

/* Samples of series i of c in [lo, hi] without stale markers; points into
 * the cache when possible, else copies them into scratch_t/scratch_v (room
 * for the series' length) or, without those, onto the step arena. */
bool pq_slice(struct ev *ev, const struct cache *c, size_t i, int64_t lo, int64_t hi, struct mseries *out,
              int64_t *scratch_t, double *scratch_v)
{
	const struct mseries *s = &c->series[i];
	size_t a = seek(s->t, s->n, lo, &c->hint[2 * i]), b = seek(s->t, s->n, hi + 1, &c->hint[2 * i + 1]);
	out->m = s->m;
	out->t = s->t + a;
	out->v = s->v + a;
	out->n = b > a ? b - a : 0;
	bool stale = false;
	if (c->stale[i])
		for (size_t j = 0; j < out->n; j++)
			if (is_stale(out->v[j])) {
				stale = true;
				break;
			}
	if (stale) {
		int64_t *nt = scratch_t ? scratch_t : pq_salloc(ev, out->n * sizeof *nt);
		double *nv = scratch_v ? scratch_v : pq_salloc(ev, out->n * sizeof *nv);
		size_t k = 0;
		for (size_t j = 0; j < out->n; j++)
			if (!is_stale(out->v[j])) {
				nt[k] = out->t[j];
				nv[k++] = out->v[j];
			}
		out->t = nt;
		out->v = nv;
		out->n = k;
	}
	return out->n > 0;
}

static struct val eval_msel(struct ev *ev, struct pq_node *n, int64_t t)
{
	struct pq_node *vs = n->a;
	struct cache *c = pq_load(ev, vs);
	int64_t ref = pq_at_time(ev, vs, t) - vs->offset;
	struct val v = {.type = PQ_T_MATRIX};
	v.ms = pq_salloc(ev, (c->n ? c->n : 1) * sizeof *v.ms);
	for (size_t i = 0; i < c->n; i++)
		if (pq_slice(ev, c, i, ref - n->range, ref, &v.ms[v.n], NULL, NULL))
			v.n++;
	pq_check_time(ev);
	return v;
}

/*
 * A subquery's result (the accumulated series, their arrays, the index)
 * lives on the caller's step arena, parked in ev->held while each inner
 * step runs on a scratch arena that is reset after it: what a subquery
 * holds is its result plus one inner step, not every step's garbage (a
 * nested subquery reading nothing used to grow to the 2 GiB arena limit).
 * Arrays grow by doubling, so a series present at few steps costs few.
 */
static struct val eval_subq(struct ev *ev, struct pq_node *n, int64_t t)
{
	int64_t ref = pq_at_time(ev, n, t) - n->offset;
	int64_t step = n->step ? n->step : DEFAULT_SUBQUERY_STEP;
	int64_t lo = ref - n->range;
	int64_t s0 = step * (lo / step);
	if (s0 < lo)
		s0 += step;
	size_t npts = ref >= s0 ? (size_t)((ref - s0) / step) + 1 : 0;
	if (npts > ev->max_samples)
		pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_ETOOBIG,
		           "query processing would load too many samples into memory in query execution");
	if (ev->nheld >= ev->n_subq)
		abort(); /* plan() counted the subqueries */
	int hi = ev->nheld++;
	ev->held[hi] = ev->sa;
	struct pane_arena *outer = &ev->held[hi];
	pane_arena_init_budget(&ev->sa, &ev->budget);
	struct pmap idx;
	pmap_init_in(ev, outer, &idx, 16);
	size_t nacc = 0, cacc = 16;
	struct outser *acc = aalloc(ev, outer, cacc * sizeof *acc);
	for (int64_t ts = s0; ts <= ref; ts += step) {
		pq_check_time(ev);
		struct val in = pq_eval(ev, n->a, ts);
		ev->step_points += in.n;
		if (ev->step_points > ev->max_samples)
			pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_ETOOBIG,
			           "query processing would load too many samples into memory in query execution");
		for (size_t i = 0; i < in.n; i++) {
			bool f;
			size_t *slot = pq_pmap_slot(ev, &idx, in.s[i].m, &f);
			if (!f) {
				if (nacc == cacc) {
					struct outser *na = aalloc(ev, outer, cacc * 2 * sizeof *na);
					memcpy(na, acc, nacc * sizeof *na);
					acc = na;
					cacc *= 2;
				}
				*slot = nacc;
				struct outser *o = &acc[nacc++];
				memset(o, 0, sizeof *o);
				o->m = in.s[i].m;
			}
			struct outser *o = &acc[*slot];
			if (o->n == o->cap) {
				if (o->cap == npts)
					continue;
				size_t nc = o->cap ? o->cap * 2 : 4;
				if (nc > npts)
					nc = npts;
				int64_t *nt = aalloc(ev, outer, nc * sizeof *nt);
				double *nv = aalloc(ev, outer, nc * sizeof *nv);
				if (o->n) {
					memcpy(nt, o->t, o->n * sizeof *nt);
					memcpy(nv, o->v, o->n * sizeof *nv);
				}
				o->t = nt;
				o->v = nv;
				o->cap = nc;
			}
			o->t[o->n] = ts;
			o->v[o->n++] = in.s[i].v;
		}
		pane_arena_reset(&ev->sa);
	}
	pane_arena_release(&ev->sa);
	ev->sa = ev->held[hi];
	ev->nheld--;
	struct val v = {.type = PQ_T_MATRIX};
	v.ms = pq_salloc(ev, (nacc ? nacc : 1) * sizeof *v.ms);
	for (size_t i = 0; i < nacc; i++)
		v.ms[v.n++] = (struct mseries){acc[i].m, acc[i].t, acc[i].v, acc[i].n};
	qsort(v.ms, v.n, sizeof *v.ms, mseries_cmp);
	return v;
}

/* ---------------- numbers ---------------- */

/* x sorts before y: Go's sort.Float64s order, NaN first */
static inline bool dbl_before(double x, double y)
{
	if (isnan(x))
		return !isnan(y);
	if (isnan(y))
		return false;
	return x < y;
}

/* A stable sort of v by dbl_before (tmp: room for n): insertion sort of
 * runs of 16, then merges. Stable, so the same order as the stable
 * qsort it replaces (glibc's merge sort) even among equals that are not
 * the same bits (-0 and 0, NaNs), without a call per comparison. */
static void sort_doubles(double *v, size_t n, double *tmp)
{
	const size_t run = 16;
	for (size_t lo = 0; lo < n; lo += run) {
		size_t hi = lo + run < n ? lo + run : n;
		for (size_t i = lo + 1; i < hi; i++) {
			double x = v[i];
			size_t j = i;
			while (j > lo && dbl_before(x, v[j - 1])) {
				v[j] = v[j - 1];
				j--;
			}
			v[j] = x;
		}
	}
	for (size_t w = run; w < n; w *= 2) {
		for (size_t lo = 0; lo + w < n; lo += 2 * w) {
			size_t mid = lo + w, hi = lo + 2 * w < n ? lo + 2 * w : n;
			if (!dbl_before(v[mid], v[mid - 1]))
				continue; /* already in order */
			size_t a = lo, b = mid, k = 0;
			while (a < mid && b < hi)
				tmp[k++] = dbl_before(v[b], v[a]) ? v[b++] : v[a++];
			while (a < mid)
				tmp[k++] = v[a++];
			memcpy(v + lo, tmp, k * sizeof *v); /* v[b..hi) is in place */
		}
	}
}

double pq_quantile(double q, double *v, size_t n)
{
	if (n == 0 || isnan(q))
		return NAN;
	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	double stack[256];
	double *tmp = n <= 256 ? stack : pane_xmalloc(n * sizeof *tmp);
	sort_doubles(v, n, tmp);
	if (tmp != stack)
		free(tmp);
	double rank = q * (double)(n - 1);
	double lower = fmax(0, floor(rank));
	double upper = fmin((double)(n - 1), lower + 1);
	double w = rank - floor(rank);
	return v[(size_t)lower] * (1 - w) + v[(size_t)upper] * w;
}

static struct val eval_node(struct ev *ev, struct pq_node *n, int64_t t);

/* Every recursion goes through here: the parser bounds the tree's height,
 * and this bound holds even if a future node kind recursed more. */
struct val pq_eval(struct ev *ev, struct pq_node *n, int64_t t)
{
	if (++ev->depth > PQ_MAX_HEIGHT + 8)
		pq_ev_fail(ev, PANE_QERR_BAD_DATA, PANE_EINVAL, "expression nests too deeply (more than %d levels)",
		           PQ_MAX_HEIGHT);
	struct val v = eval_node(ev, n, t);
	ev->depth--;
	return v;
}

static struct val eval_node(struct ev *ev, struct pq_node *n, int64_t t)
{
	switch (n->kind) {
	case PQ_NUM: return (struct val){.type = PQ_T_SCALAR, .scalar = n->num};
	case PQ_STR: return (struct val){.type = PQ_T_STRING, .str = n->str};
	case PQ_PAREN: return pq_eval(ev, n->a, t);
	case PQ_VSEL: return eval_vsel(ev, n, t);
	case PQ_MSEL: return eval_msel(ev, n, t);
	case PQ_SUBQ: return eval_subq(ev, n, t);
	case PQ_CALL: return pq_eval_call(ev, n, t);
	case PQ_AGG: return pq_eval_agg(ev, n, t);
	case PQ_BIN: return pq_eval_bin(ev, n, t);
	case PQ_UNARY: {
		struct val in = pq_eval(ev, n->a, t);
		if (n->op == PQ_ADD)
			return in;
		if (in.type == PQ_T_SCALAR) {
			in.scalar = -in.scalar;
			return in;
		}
		struct val v = pq_vec_alloc(ev, in.n);
		for (size_t i = 0; i < in.n; i++)
			v.s[v.n++] = (struct sample){pq_drop_name(ev, in.s[i].m), -in.s[i].v, t};
		pq_check_dups(ev, &v);
		return v;
	}
	}
	return (struct val){0};
}

/* ---------------- driver ---------------- */

static void lset_to_labels(const struct lset *s, struct pane_labels *out)
{
	pane_labels_init(out);
	out->owned = true;
	out->n = s->n;
	out->cap = s->n;
	out->v = pane_xcalloc(s->n ? s->n : 1, sizeof *out->v);
	for (uint32_t i = 0; i < s->n; i++) {
		out->v[i].name = pane_xstrdup(s->l[i].name);
		out->v[i].value = pane_xstrdup(s->l[i].value);
	}
}

/* Appends (t, v) to the output series of m. *guess: the output series the
 * caller expects (the one the same position had at the last step: vectors
 * mostly list the same series in the same order), checked before looking m
 * up; set to the series used. */
static void out_add(struct ev *ev, struct pmap *idx, const struct lset *m, int64_t t, double v, size_t *guess)
{
	struct outser *o = *guess < ev->out.len ? pane_vec_at(&ev->out, *guess) : NULL;
	if (!o || o->m != m) {
		bool f;
		size_t *slot = pq_pmap_slot(ev, idx, m, &f);
		if (!f) {
			*slot = ev->out.len;
			o = pane_vec_push_zero(&ev->out);
			o->m = m;
		}
		*guess = *slot;
		o = pane_vec_at(&ev->out, *slot);
	}
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 16;
		o->t = pane_xrealloc(o->t, o->cap * sizeof *o->t);
		o->v = pane_xrealloc(o->v, o->cap * sizeof *o->v);
	}
	o->t[o->n] = t;
	o->v[o->n++] = v;
	if (++ev->out_points > ev->max_samples)
		pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_ETOOBIG,
		           "query processing would load too many samples into memory in query execution");
}

static int outser_cmp(const void *a, const void *b)
{
	return lset_cmp(((const struct outser *)a)->m, ((const struct outser *)b)->m);
}

static void ev_cleanup(struct ev *ev)
{
	pq_ev_undefer(ev, ev->ndefer);
	for (size_t i = 0; i < ev->sets.len; i++) {
		struct pane_series_set *s = *(struct pane_series_set **)pane_vec_at(&ev->sets, i);
		if (s && s->free)
			s->free(s);
	}
	pane_vec_release(&ev->sets);
	for (size_t i = 0; i < ev->out.len; i++) {
		struct outser *o = pane_vec_at(&ev->out, i);
		free(o->t);
		free(o->v);
	}
	pane_vec_release(&ev->out);
	free(ev->itab);
	free(ev->caches);
	pane_arena_release(&ev->qa);
	pane_arena_release(&ev->sa);
	for (int i = 0; i < ev->nheld; i++)
		pane_arena_release(&ev->held[i]);
	free(ev->held);
	pq_expr_free(ev->expr);
}

int pane_query_check(const char *expr, struct pane_err *err)
{
	struct pq_expr *e = pq_parse(expr, err);
	if (!e)
		return PANE_EINVAL;
	pq_expr_free(e);
	return 0;
}

int pane_query_format(const char *expr, struct pane_buf *b, struct pane_err *err)
{
	struct pq_expr *e = pq_parse(expr, err);
	if (!e)
		return PANE_EINVAL;
	pq_print(e->root, b);
	pq_expr_free(e);
	return 0;
}

static int run(struct ev *ev, struct pq_expr *e, bool instant, struct pane_query_result *out)
{
	struct pmap idx;
	if (setjmp(ev->jb))
		return -1;
	pane_arena_init_budget(&ev->qa, &ev->budget);
	pane_arena_init_budget(&ev->sa, &ev->budget);
	ev->caches = pane_xcalloc((size_t)e->n_selectors + 1, sizeof *ev->caches);
	ev->empty = intern(ev, NULL, 0);
	plan(ev, e->root, ev->start, ev->end);
	ev->held = pane_xcalloc((size_t)ev->n_subq + 1, sizeof *ev->held);
	if (instant) {
		struct val v = pq_eval(ev, e->root, ev->start);
		out->ts = ev->start;
		switch (v.type) {
		case PQ_T_SCALAR:
			out->type = PANE_QT_SCALAR;
			out->scalar = v.scalar;
			break;
		case PQ_T_STRING:
			out->type = PANE_QT_STRING;
			out->string = pane_xstrdup(v.str);
			break;
		case PQ_T_VECTOR:
			out->type = PANE_QT_VECTOR;
			out->series = pane_xcalloc(v.n ? v.n : 1, sizeof *out->series);
			for (size_t i = 0; i < v.n; i++) {
				lset_to_labels(v.s[i].m, &out->series[i].labels);
				out->series[i].ts = pane_xmalloc(sizeof(int64_t));
				out->series[i].values = pane_xmalloc(sizeof(double));
				out->series[i].ts[0] = ev->start;
				out->series[i].values[0] = v.s[i].v;
				out->series[i].n = 1;
			}
			out->n = v.n;
			break;
		case PQ_T_MATRIX:
			out->type = PANE_QT_MATRIX;
			out->series = pane_xcalloc(v.n ? v.n : 1, sizeof *out->series);
			for (size_t i = 0; i < v.n; i++) {
				lset_to_labels(v.ms[i].m, &out->series[i].labels);
				out->series[i].ts = pane_xmalloc((v.ms[i].n + 1) * sizeof(int64_t));
				out->series[i].values = pane_xmalloc((v.ms[i].n + 1) * sizeof(double));
				if (v.ms[i].n) {
					memcpy(out->series[i].ts, v.ms[i].t, v.ms[i].n * sizeof(int64_t));
					memcpy(out->series[i].values, v.ms[i].v, v.ms[i].n * sizeof(double));
				}
				out->series[i].n = v.ms[i].n;
			}
			out->n = v.n;
			break;
		default: break;
		}
		return 0;
	}
	/* the output index lives on the query arena */
	pmap_init_in(ev, &ev->qa, &idx, 64);
	size_t *guess = NULL, nguess = 0;
	for (int64_t ts = ev->start; ts <= ev->end; ts += ev->step) {
		struct val v = pq_eval(ev, e->root, ts);
		if (v.type == PQ_T_SCALAR) {
			size_t g = 0;
			out_add(ev, &idx, ev->empty, ts, v.scalar, &g);
		} else {
			if (v.n > nguess) {
				size_t *ng = pq_qalloc(ev, v.n * 2 * sizeof *ng);
				memset(ng, 0xff, v.n * 2 * sizeof *ng);
				if (nguess)
					memcpy(ng, guess, nguess * sizeof *ng);
				guess = ng;
				nguess = v.n * 2;
			}
			for (size_t i = 0; i < v.n; i++)
				out_add(ev, &idx, v.s[i].m, ts, v.s[i].v, &guess[i]);
		}
		pane_arena_reset(&ev->sa);
		ev->step_points = 0;
		pq_check_time(ev);
	}
	if (ev->out.len)
		qsort(ev->out.data, ev->out.len, sizeof(struct outser), outser_cmp);
	out->type = PANE_QT_MATRIX;
	out->series = pane_xcalloc(ev->out.len ? ev->out.len : 1, sizeof *out->series);
	for (size_t i = 0; i < ev->out.len; i++) {
		struct outser *o = pane_vec_at(&ev->out, i);
		lset_to_labels(o->m, &out->series[i].labels);
		out->series[i].ts = o->t;
		out->series[i].values = o->v;
		out->series[i].n = o->n;
		o->t = NULL;
		o->v = NULL;
	}
	out->n = ev->out.len;
	return 0;
}

int pane_query_check_range(int64_t start, int64_t end, int64_t step, bool range, size_t max_points, const char **param,
                           struct pane_err *err)
{
	const char *dummy;
	if (!param)
		param = &dummy;
	*param = NULL;
	if (end < start) {
		*param = "end";
		return pane_err_set(err, PANE_EINVAL, "end timestamp must not be before start time");
	}
	if (!range)
		return 0;
	if (step <= 0) {
		*param = "step";
		return pane_err_set(
		    err, PANE_EINVAL,
		    "zero or negative query resolution step widths are not accepted. Try a positive integer");
	}
	size_t maxp = max_points ? max_points : 11000;
	if (((uint64_t)end - (uint64_t)start) / (uint64_t)step > maxp) { /* end >= start: no wrap */
		char num[32];
		int len = snprintf(num, sizeof num, "%zu", maxp);
		char grouped[48];
		size_t o = 0;
		for (int i = 0; i < len; i++) {
			if (i && (len - i) % 3 == 0)
				grouped[o++] = ',';
			grouped[o++] = num[i];
		}
		grouped[o] = 0;
		return pane_err_set(err, PANE_ETOOBIG,
		                    "exceeded maximum resolution of %s points per timeseries. Try decreasing the query "
		                    "resolution (?step=XX)",
		                    grouped);
	}
	return 0;
}

int pane_query_exec(struct pane_reader reader, const struct pane_query_opts *opts, const char *expr, int64_t start,
                    int64_t end, int64_t step, struct pane_query_result *out, enum pane_query_errclass *cls,
                    struct pane_err *err)
{
	memset(out, 0, sizeof *out);
	enum pane_query_errclass dummy;
	if (!cls)
		cls = &dummy;
	*cls = PANE_QERR_NONE;
	struct pq_expr *e = pq_parse(expr, err);
	if (!e) {
		*cls = PANE_QERR_BAD_DATA;
		return PANE_EINVAL;
	}
	bool instant = step == 0;
	if (start > PQ_MAX_TIME_MS || start < -PQ_MAX_TIME_MS || end > PQ_MAX_TIME_MS || end < -PQ_MAX_TIME_MS) {
		pq_expr_free(e);
		*cls = PANE_QERR_BAD_DATA;
		return pane_err_set(err, PANE_EINVAL, "timestamp out of range");
	}
	if (!instant) {
		int rrc = pane_query_check_range(start, end, step, true, opts ? opts->max_points : 0, NULL, err);
		if (rrc < 0) {
			pq_expr_free(e);
			*cls = PANE_QERR_BAD_DATA;
			return rrc;
		}
		if (e->root->type != PQ_T_SCALAR && e->root->type != PQ_T_VECTOR) {
			*cls = PANE_QERR_BAD_DATA;
			pane_err_set(err, PANE_EINVAL,
			             "invalid expression type \"%s\" for range query, must be Scalar or instant Vector",
			             pq_type_name(e->root->type));
			pq_expr_free(e);
			return PANE_EINVAL;
		}
	}
	struct ev *ev = pane_xcalloc(1, sizeof *ev);
	ev->reader = reader;
	ev->expr = e;
	ev->err = err;
	ev->start = start;
	ev->end = instant ? start : end;
	ev->step = instant ? 1 : step;
	ev->lookback = opts && opts->lookback_ms ? opts->lookback_ms : 5 * 60000;
	ev->max_samples = opts && opts->max_samples ? opts->max_samples : 50000000;
	ev->budget.limit = ev->max_samples < (SIZE_MAX - BUDGET_FIXED) / BYTES_PER_SAMPLE
	                       ? ev->max_samples * BYTES_PER_SAMPLE + BUDGET_FIXED
	                       : SIZE_MAX;
	int64_t to = opts && opts->timeout_ms ? opts->timeout_ms : 120000;
	ev->deadline = pane_mono_ns() + to * 1000000;
	pane_vec_init(&ev->sets, sizeof(struct pane_series_set *));
	pane_vec_init(&ev->out, sizeof(struct outser));
	int rc = run(ev, e, instant, out);
	if (rc < 0) {
		*cls = ev->cls;
		rc = ev->err && ev->err->code ? ev->err->code : PANE_EINVAL;
		pane_query_result_release(out);
	}
	/* the arenas' peak, or a rough size of the reader's sets */
	size_t heap_est = ev->budget.peak + ev->loaded_samples * 16 + ev->loaded_series * 512;
	if (opts && opts->stats) {
		opts->stats->peak_bytes = ev->budget.peak;
		opts->stats->samples = ev->loaded_samples;
	}
	ev_cleanup(ev);
	free(ev);
#ifdef __GLIBC__
	/* freed arenas and reader sets stay in the heap otherwise (RSS kept) */
	if (heap_est > TRIM_AFTER_BYTES)
		malloc_trim(0);
#endif
	return rc;
}

void pane_query_result_release(struct pane_query_result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		pane_labels_release(&r->series[i].labels);
		free(r->series[i].ts);
		free(r->series[i].values);
	}
	free(r->series);
	free(r->string);
	memset(r, 0, sizeof *r);
}

/* One point, [1700000000.5,"1.5"], formatted here and handed to the JSON
 * writer whole: an answer can hold millions of them. */
static void json_point(struct pane_json *j, int64_t t, double v)
{
	char p[480];
	size_t o = 0;
	p[o++] = '[';
	pane_query_fmt_ts(t, p + o, 48);
	o += strlen(p + o);
	p[o++] = ',';
	p[o++] = '"';
	pane_query_fmt_float(v, p + o, 400);
	o += strlen(p + o);
	p[o++] = '"';
	p[o++] = ']';
	pane_json_rawn(j, p, o);
}

int pane_query_result_json(const struct pane_query_result *r, struct pane_buf *b)
{
	static const char *names[] = {"scalar", "string", "vector", "matrix"};
	struct pane_json j;
	pane_json_init(&j, b);
	pane_json_obj(&j);
	pane_json_key(&j, "resultType");
	pane_json_str(&j, names[r->type]);
	pane_json_key(&j, "result");
	switch (r->type) {
	case PANE_QT_SCALAR: json_point(&j, r->ts, r->scalar); break;
	case PANE_QT_STRING: {
		char ts[48];
		pane_query_fmt_ts(r->ts, ts, sizeof ts);
		pane_json_arr(&j);
		pane_json_raw(&j, ts);
		pane_json_str(&j, r->string);
		pane_json_arr_end(&j);
		break;
	}
	case PANE_QT_VECTOR:
	case PANE_QT_MATRIX:
		pane_json_arr(&j);
		for (size_t i = 0; i < r->n; i++) {
			const struct pane_query_series *s = &r->series[i];
			pane_json_obj(&j);
			pane_json_key(&j, "metric");
			pane_labels_json_value(&j, &s->labels);
			if (r->type == PANE_QT_VECTOR) {
				pane_json_key(&j, "value");
				json_point(&j, s->ts[0], s->values[0]);
			} else {
				pane_json_key(&j, "values");
				pane_json_arr(&j);
				for (size_t k = 0; k < s->n; k++)
					json_point(&j, s->ts[k], s->values[k]);
				pane_json_arr_end(&j);
			}
			pane_json_obj_end(&j);
		}
		pane_json_arr_end(&j);
		break;
	}
	pane_json_obj_end(&j);
	return j.rc;
}
