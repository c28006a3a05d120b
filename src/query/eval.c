/*
 * eval.c - PromQL evaluation with Prometheus' semantics.
 *
 * A range query is evaluated step by step: at each step timestamp the whole
 * tree is evaluated as an instant query and the resulting vector is folded
 * into output series (Prometheus' rangeEval does the same per node). What
 * makes this cheap is that each selector loads its data once for the whole
 * query: a planning pass computes, per selector, the time span every step
 * (and every subquery step) will need, and one reader select fetches it.
 * Per step, instant selectors binary-search their cached samples.
 *
 * Label sets are interned per query (struct lset): equal sets are the same
 * pointer, so matching, grouping and duplicate detection compare pointers.
 * Memory: a query arena (interned labels, output) and a step arena that is
 * dropped after each top-level step; both are bounded, as are the samples
 * loaded (max_samples) and the wall time (timeout, checked in loops).
 * Errors unwind with longjmp to pane_query_exec; everything they could leak
 * lives in the arenas or in lists freed there.
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
#include "base/mem.h"
#include "base/regex.h"
#include "base/str.h"
#include "base/vec.h"
#include "query/ast.h"
#include "query/gosort.h"

/* Memory a query may hold in its arenas: proportional to max_samples
 * (a point is 16-24 bytes; arrays that grow by doubling inside an arena
 * leave their old copies behind, up to 4x; maps and label sets come with
 * them), plus a fixed allowance for small queries. */
#define BYTES_PER_SAMPLE 64
#define BUDGET_FIXED ((size_t)8 << 20)
/* After a query that held this much, unused heap goes back to the system. */
#define TRIM_AFTER_BYTES ((size_t)32 << 20)
#define DEFAULT_SUBQUERY_STEP 60000

/* ---------------- interned label sets ---------------- */

struct lset {
	uint64_t hash;
	uint32_t n;
	const struct lset *noname;     /* memo: this set without __name__ */
	const void *memo_key;          /* memo: the node that last derived ... */
	const struct lset *memo;       /* ... this set from it (grouping, matching) */
	struct pane_label l[];
};

struct sample {
	const struct lset *m;
	double v;
	int64_t t;
};

struct mseries {
	const struct lset *m;
	const int64_t *t;
	const double *v;
	size_t n;
};

struct val {
	enum pq_vtype type;
	double scalar;
	const char *str;
	struct sample *s;     /* vector */
	struct mseries *ms;   /* matrix */
	size_t n;
};

struct cache {
	bool planned, loaded;
	int64_t mint, maxt;
	struct mseries *series;
	size_t n;
};

struct outser {
	const struct lset *m;
	int64_t *t;
	double *v;
	size_t n, cap;
};

struct ev {
	struct pane_reader reader;
	struct pq_expr *expr;
	struct pq_arena qa, sa;
	struct pq_budget budget;   /* qa, sa and held count against it */
	struct pq_arena *held;     /* step arenas of enclosing subqueries, while */
	int nheld, n_subq;         /* their inner steps run on a scratch sa */
	struct lset **itab;
	size_t icap, in;
	const struct lset *empty;
	int64_t start, end, step, lookback;
	int64_t deadline;
	size_t max_samples, loaded_samples, loaded_series;
	struct cache *caches;
	struct {
		void (*fn)(void *);
		void *arg;
	} defers[8];             /* cleanups for an error unwinding through a function */
	int ndefer;
	struct pane_vec sets; /* struct pane_series_set * to free */
	struct pane_vec out;  /* struct outser */
	size_t out_points;
	size_t step_points;   /* subquery points made during this top-level step */
	unsigned tick;
	int depth;            /* eval() recursion, bounded by PQ_MAX_HEIGHT */
	jmp_buf jb;
	enum pane_query_errclass cls;
	struct pane_err *err;
	pcre2_match_data *md;
};

static void ev_fail(struct ev *ev, enum pane_query_errclass cls, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), noreturn));
static void ev_fail(struct ev *ev, enum pane_query_errclass cls, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pane_err_setv(ev->err, code, fmt, ap);
	va_end(ap);
	ev->cls = cls;
	longjmp(ev->jb, 1);
}

static inline bool is_stale(double v)
{
	uint64_t b;
	memcpy(&b, &v, sizeof b);
	return b == PANE_STALE_NAN_BITS;
}

/* Registers fn(arg) to run if an error unwinds before ev_undefer(). */
static void ev_defer(struct ev *ev, void (*fn)(void *), void *arg)
{
	if (ev->ndefer == (int)(sizeof ev->defers / sizeof ev->defers[0]))
		abort();
	ev->defers[ev->ndefer].fn = fn;
	ev->defers[ev->ndefer].arg = arg;
	ev->ndefer++;
}

/* Runs and drops the last n cleanups (the normal path). */
static void ev_undefer(struct ev *ev, int n)
{
	while (n-- > 0 && ev->ndefer > 0) {
		ev->ndefer--;
		ev->defers[ev->ndefer].fn(ev->defers[ev->ndefer].arg);
	}
}

static void free_re(void *p) { pcre2_code_free(p); }
static void free_md(void *p) { pcre2_match_data_free(p); }
static void free_buf(void *p) { pane_buf_release(p); }

static void *salloc(struct ev *ev, size_t n)
{
	void *p = pq_arena_alloc(&ev->sa, n);
	if (!p)
		ev_fail(ev, PANE_QERR_EXECUTION, PANE_ETOOBIG,
			"query processing would load too many samples into memory in query execution");
	return p;
}

static char *sstrndup(struct ev *ev, const char *p, size_t n)
{
	char *d = salloc(ev, n + 1);
	memcpy(d, p, n);
	d[n] = 0;
	return d;
}

static void *qalloc(struct ev *ev, size_t n)
{
	void *p = pq_arena_alloc(&ev->qa, n);
	if (!p)
		ev_fail(ev, PANE_QERR_EXECUTION, PANE_ETOOBIG,
			"query processing would load too many samples into memory in query execution");
	return p;
}

static void check_time(struct ev *ev)
{
	if ((++ev->tick & 255) == 0 && pane_mono_ns() > ev->deadline)
		ev_fail(ev, PANE_QERR_TIMEOUT, PANE_ETIMEDOUT, "query timed out in expression evaluation");
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
	struct lset *s = qalloc(ev, sizeof *s + n * sizeof(struct pane_label));
	s->hash = h;
	s->n = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(l[i].name), vl = strlen(l[i].value);
		char *nm = qalloc(ev, nl + vl + 2);
		memcpy(nm, l[i].name, nl + 1);
		memcpy(nm + nl + 1, l[i].value, vl + 1);
		s->l[i].name = nm;
		s->l[i].value = nm + nl + 1;
	}
	ev->itab[j] = s;
	ev->in++;
	return s;
}

static const char *lget(const struct lset *s, const char *name)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (!strcmp(s->l[i].name, name))
			return s->l[i].value;
	return NULL;
}

/* A label builder on the step arena: copy, set, delete, then intern. */
struct lb {
	struct pane_label *l;
	size_t n, cap;
};

static void lb_from(struct ev *ev, struct lb *b, const struct lset *s, size_t extra)
{
	b->cap = s->n + extra + 1;
	b->l = salloc(ev, b->cap * sizeof *b->l);
	memcpy(b->l, s->l, s->n * sizeof *b->l);
	b->n = s->n;
}

static void lb_del(struct lb *b, const char *name)
{
	for (size_t i = 0; i < b->n; i++)
		if (!strcmp(b->l[i].name, name)) {
			memmove(&b->l[i], &b->l[i + 1], (b->n - i - 1) * sizeof *b->l);
			b->n--;
			return;
		}
}

static void lb_set(struct ev *ev, struct lb *b, const char *name, const char *value)
{
	if (!value || !*value) {
		lb_del(b, name);
		return;
	}
	for (size_t i = 0; i < b->n; i++)
		if (!strcmp(b->l[i].name, name)) {
			b->l[i].value = value;
			return;
		}
	if (b->n == b->cap) {
		struct pane_label *nl = salloc(ev, b->cap * 2 * sizeof *nl);
		memcpy(nl, b->l, b->n * sizeof *nl);
		b->l = nl;
		b->cap *= 2;
	}
	b->l[b->n].name = name;
	b->l[b->n].value = value;
	b->n++;
	qsort(b->l, b->n, sizeof *b->l, label_cmp);
}

static const struct lset *lb_done(struct ev *ev, struct lb *b)
{
	return intern(ev, b->l, b->n);
}

static const struct lset *drop_name(struct ev *ev, const struct lset *s)
{
	if (s->noname)
		return s->noname;
	const struct lset *r = s;
	if (lget(s, "__name__")) {
		struct lb b;
		lb_from(ev, &b, s, 0);
		lb_del(&b, "__name__");
		r = lb_done(ev, &b);
	}
	((struct lset *)s)->noname = r;
	return r;
}

static bool in_list(const char *name, const char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i], name))
			return true;
	return false;
}

/* Labels kept (on/by: only the listed; ignoring/without: all but the listed and __name__). */
static const struct lset *subset_raw(struct ev *ev, const struct lset *s, bool keep_listed, const char **l, size_t n);
/* key: the node asking (its lists never change), or NULL for no memo */
static const struct lset *subset(struct ev *ev, const void *key, const struct lset *s, bool keep_listed,
				 const char **l, size_t n)
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
	struct pane_label *tmp = salloc(ev, (s->n + 1) * sizeof *tmp);
	size_t k = 0;
	for (uint32_t i = 0; i < s->n; i++) {
		bool listed = in_list(s->l[i].name, l, n);
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

struct pmap {
	const void **k;
	size_t *v;
	size_t cap, n;
	struct pq_arena *a;
};

static void *aalloc(struct ev *ev, struct pq_arena *a, size_t n)
{
	void *p = pq_arena_alloc(a, n);
	if (!p)
		ev_fail(ev, PANE_QERR_EXECUTION, PANE_ETOOBIG,
			"query processing would load too many samples into memory in query execution");
	return p;
}

/* A map on arena a (NULL: the step arena). */
static void pmap_init_in(struct ev *ev, struct pq_arena *a, struct pmap *m, size_t hint)
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

static void pmap_init(struct ev *ev, struct pmap *m, size_t hint)
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
static size_t *pmap_slot(struct ev *ev, struct pmap *m, const void *key, bool *found)
{
	if ((m->n + 1) * 10 >= m->cap * 7) {
		struct pmap nm;
		pmap_init_in(ev, m->a, &nm, m->cap);
		for (size_t i = 0; i < m->cap; i++)
			if (m->k[i]) {
				bool f;
				*pmap_slot(ev, &nm, m->k[i], &f) = m->v[i];
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

static size_t *pmap_get(struct pmap *m, const void *key)
{
	size_t j = phash(key) & (m->cap - 1);
	while (m->k[j]) {
		if (m->k[j] == key)
			return &m->v[j];
		j = (j + 1) & (m->cap - 1);
	}
	return NULL;
}

static void check_dups(struct ev *ev, const struct val *v)
{
	if (v->type != PQ_T_VECTOR || v->n < 2)
		return;
	struct pmap m;
	pmap_init(ev, &m, v->n);
	for (size_t i = 0; i < v->n; i++) {
		bool f;
		pmap_slot(ev, &m, v->s[i].m, &f);
		if (f)
			ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL, "vector cannot contain metrics with the same labelset");
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
			int64_t at = vs->at_kind == PQ_AT_TS ? vs->at : vs->at_kind == PQ_AT_START ? ev->start : ev->end;
			lo = hi = at;
		}
		lo -= vs->offset;
		hi -= vs->offset;
		lo -= n->kind == PQ_MSEL ? n->range : ev->lookback;
		struct cache *c = &ev->caches[vs->cache_id];
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
		plan(ev, n->a, lo - n->offset - n->range, hi - n->offset);
		return;
	}
	case PQ_CALL:
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

static struct cache *load(struct ev *ev, struct pq_node *vs)
{
	struct cache *c = &ev->caches[vs->cache_id];
	if (c->loaded)
		return c;
	struct pane_series_set *set = NULL;
	struct pane_err e = {0};
	size_t budget = ev->max_samples > ev->loaded_samples ? ev->max_samples - ev->loaded_samples : 0;
	int rc = ev->reader.ops->select(ev->reader.ctx, vs->matchers, vs->n_matchers, c->mint, c->maxt, budget, &set, &e);
	if (rc == PANE_ETOOBIG)
		ev_fail(ev, PANE_QERR_EXECUTION, rc, "query processing would load too many samples into memory in query execution");
	if (rc == PANE_ETIMEDOUT)
		ev_fail(ev, PANE_QERR_TIMEOUT, rc, "query timed out in expression evaluation");
	if (rc < 0)
		ev_fail(ev, PANE_QERR_EXECUTION, rc, "%s", e.msg[0] ? e.msg : "reading series failed");
	pane_vec_push(&ev->sets, &set);
	ev->loaded_series += set->n;
	c->series = qalloc(ev, (set->n + 1) * sizeof *c->series);
	c->n = 0;
	for (size_t i = 0; i < set->n; i++) {
		struct pane_series *s = &set->series[i];
		ev->loaded_samples += s->n;
		if (ev->loaded_samples > ev->max_samples)
			ev_fail(ev, PANE_QERR_EXECUTION, PANE_ETOOBIG,
				"query processing would load too many samples into memory in query execution");
		struct pane_label *tmp = salloc(ev, (s->labels.n + 1) * sizeof *tmp);
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

static int64_t at_time(struct ev *ev, const struct pq_node *n, int64_t t)
{
	switch (n->at_kind) {
	case PQ_AT_TS: return n->at;
	case PQ_AT_START: return ev->start;
	case PQ_AT_END: return ev->end;
	default: return t;
	}
}

static struct val eval(struct ev *ev, struct pq_node *n, int64_t t);

static struct val vec_alloc(struct ev *ev, size_t cap)
{
	struct val v = {.type = PQ_T_VECTOR};
	v.s = salloc(ev, (cap ? cap : 1) * sizeof *v.s);
	return v;
}

static struct val eval_vsel(struct ev *ev, struct pq_node *n, int64_t t)
{
	struct cache *c = load(ev, n);
	int64_t ref = at_time(ev, n, t) - n->offset;
	struct val v = vec_alloc(ev, c->n);
	for (size_t i = 0; i < c->n; i++) {
		struct mseries *s = &c->series[i];
		size_t k = lower_bound(s->t, s->n, ref + 1);
		if (k == 0)
			continue;
		k--;
		if (s->t[k] < ref - ev->lookback || is_stale(s->v[k]))
			continue;
		v.s[v.n].m = s->m;
		v.s[v.n].v = s->v[k];
		v.s[v.n].t = s->t[k];
		v.n++;
	}
	check_time(ev);
	return v;
}

/* Samples in [lo, hi] without stale markers; points into the cache when possible. */
static bool slice(struct ev *ev, const struct mseries *s, int64_t lo, int64_t hi, struct mseries *out)
{
	size_t a = lower_bound(s->t, s->n, lo), b = lower_bound(s->t, s->n, hi + 1);
	out->m = s->m;
	out->t = s->t + a;
	out->v = s->v + a;
	out->n = b > a ? b - a : 0;
	bool stale = false;
	for (size_t i = 0; i < out->n; i++)
		if (is_stale(out->v[i])) {
			stale = true;
			break;
		}
	if (stale) {
		int64_t *nt = salloc(ev, out->n * sizeof *nt);
		double *nv = salloc(ev, out->n * sizeof *nv);
		size_t k = 0;
		for (size_t i = 0; i < out->n; i++)
			if (!is_stale(out->v[i])) {
				nt[k] = out->t[i];
				nv[k++] = out->v[i];
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
	struct cache *c = load(ev, vs);
	int64_t ref = at_time(ev, vs, t) - vs->offset;
	struct val v = {.type = PQ_T_MATRIX};
	v.ms = salloc(ev, (c->n ? c->n : 1) * sizeof *v.ms);
	for (size_t i = 0; i < c->n; i++)
		if (slice(ev, &c->series[i], ref - n->range, ref, &v.ms[v.n]))
			v.n++;
	check_time(ev);
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
	int64_t ref = at_time(ev, n, t) - n->offset;
	int64_t step = n->step ? n->step : DEFAULT_SUBQUERY_STEP;
	int64_t lo = ref - n->range;
	int64_t s0 = step * (lo / step);
	if (s0 < lo)
		s0 += step;
	size_t npts = ref >= s0 ? (size_t)((ref - s0) / step) + 1 : 0;
	if (npts > ev->max_samples)
		ev_fail(ev, PANE_QERR_EXECUTION, PANE_ETOOBIG,
			"query processing would load too many samples into memory in query execution");
	if (ev->nheld >= ev->n_subq)
		abort(); /* plan() counted the subqueries */
	int hi = ev->nheld++;
	ev->held[hi] = ev->sa;
	struct pq_arena *outer = &ev->held[hi];
	pq_arena_init_budget(&ev->sa, &ev->budget);
	struct pmap idx;
	pmap_init_in(ev, outer, &idx, 16);
	size_t nacc = 0, cacc = 16;
	struct outser *acc = aalloc(ev, outer, cacc * sizeof *acc);
	for (int64_t ts = s0; ts <= ref; ts += step) {
		check_time(ev);
		struct val in = eval(ev, n->a, ts);
		ev->step_points += in.n;
		if (ev->step_points > ev->max_samples)
			ev_fail(ev, PANE_QERR_EXECUTION, PANE_ETOOBIG,
				"query processing would load too many samples into memory in query execution");
		for (size_t i = 0; i < in.n; i++) {
			bool f;
			size_t *slot = pmap_slot(ev, &idx, in.s[i].m, &f);
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
		pq_arena_reset(&ev->sa);
	}
	pq_arena_release(&ev->sa);
	ev->sa = ev->held[hi];
	ev->nheld--;
	struct val v = {.type = PQ_T_MATRIX};
	v.ms = salloc(ev, (nacc ? nacc : 1) * sizeof *v.ms);
	for (size_t i = 0; i < nacc; i++)
		v.ms[v.n++] = (struct mseries){acc[i].m, acc[i].t, acc[i].v, acc[i].n};
	qsort(v.ms, v.n, sizeof *v.ms, mseries_cmp);
	return v;
}

/* ---------------- numbers ---------------- */

static double go_max(double a, double b)
{
	if (isinf(a) && a > 0)
		return a;
	if (isinf(b) && b > 0)
		return b;
	if (isnan(a) || isnan(b))
		return NAN;
	if (a == 0 && b == 0)
		return signbit(a) ? b : a;
	return a > b ? a : b;
}

static double go_min(double a, double b)
{
	if (isinf(a) && a < 0)
		return a;
	if (isinf(b) && b < 0)
		return b;
	if (isnan(a) || isnan(b))
		return NAN;
	if (a == 0 && b == 0)
		return signbit(a) ? a : b;
	return a < b ? a : b;
}

static void kahan_inc(double inc, double *sum, double *c)
{
	double t = *sum + inc;
	if (fabs(*sum) >= fabs(inc))
		*c += (*sum - t) + inc;
	else
		*c += (inc - t) + *sum;
	*sum = t;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	/* Go's sort.Float64s: NaN first */
	if (isnan(x))
		return isnan(y) ? 0 : -1;
	if (isnan(y))
		return 1;
	return x < y ? -1 : x > y ? 1 : 0;
}

static double quantile(double q, double *v, size_t n)
{
	if (n == 0 || isnan(q))
		return NAN;
	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	qsort(v, n, sizeof *v, dbl_cmp);
	double rank = q * (double)(n - 1);
	double lower = fmax(0, floor(rank));
	double upper = fmin((double)(n - 1), lower + 1);
	double w = rank - floor(rank);
	return v[(size_t)lower] * (1 - w) + v[(size_t)upper] * w;
}

static bool binop_val(enum pq_op op, double l, double r, double *out)
{
	switch (op) {
	case PQ_ADD: *out = l + r; return true;
	case PQ_SUB: *out = l - r; return true;
	case PQ_MUL: *out = l * r; return true;
	case PQ_DIV: *out = l / r; return true;
	case PQ_POW: *out = pow(l, r); return true;
	case PQ_MOD: *out = fmod(l, r); return true;
	case PQ_ATAN2: *out = atan2(l, r); return true;
	case PQ_EQL: *out = l; return l == r;
	case PQ_NEQ: *out = l; return l != r;
	case PQ_GTR: *out = l; return l > r;
	case PQ_LSS: *out = l; return l < r;
	case PQ_GTE: *out = l; return l >= r;
	case PQ_LTE: *out = l; return l <= r;
	default: *out = NAN; return false;
	}
}

static bool is_cmp(enum pq_op op) { return op >= PQ_EQL && op <= PQ_LTE; }
static bool drops_name(enum pq_op op) { return op >= PQ_ADD && op <= PQ_POW; }

/* ---------------- functions ---------------- */

static double scalar_arg(struct ev *ev, struct pq_node *n, int64_t t)
{
	struct val v = eval(ev, n, t);
	return v.scalar;
}

static struct pq_node *unparen(struct pq_node *n)
{
	while (n->kind == PQ_PAREN)
		n = n->a;
	return n;
}

/* A string argument: a literal, maybe in parentheses (the parser allows
 * nothing else of type string). */
static const char *str_arg(struct pq_node *n)
{
	return unparen(n)->str;
}

/* Range and reference time of a matrix argument (selector or subquery). */
static void matrix_window(struct ev *ev, struct pq_node *arg, int64_t t, int64_t *range, int64_t *ref)
{
	arg = unparen(arg);
	if (arg->kind == PQ_MSEL) {
		*range = arg->range;
		*ref = at_time(ev, arg->a, t) - arg->a->offset;
	} else {
		*range = arg->range;
		*ref = at_time(ev, arg, t) - arg->offset;
	}
}

static bool extrapolated(const struct mseries *s, int64_t range, int64_t ref, bool counter, bool is_rate, double *out)
{
	if (s->n < 2)
		return false;
	int64_t rstart = ref - range, rend = ref;
	double result = s->v[s->n - 1] - s->v[0];
	if (counter) {
		double last = 0;
		for (size_t i = 0; i < s->n; i++) {
			if (s->v[i] < last)
				result += last;
			last = s->v[i];
		}
	}
	double to_start = (double)(s->t[0] - rstart) / 1000;
	double to_end = (double)(rend - s->t[s->n - 1]) / 1000;
	double sampled = (double)(s->t[s->n - 1] - s->t[0]) / 1000;
	double avg = sampled / (double)(s->n - 1);
	if (counter && result > 0 && s->v[0] >= 0) {
		double to_zero = sampled * (s->v[0] / result);
		if (to_zero < to_start)
			to_start = to_zero;
	}
	double thr = avg * 1.1;
	double interval = sampled;
	interval += to_start < thr ? to_start : avg / 2;
	interval += to_end < thr ? to_end : avg / 2;
	result = result * (interval / sampled);
	if (is_rate)
		result = result / ((double)range / 1000);
	*out = result;
	return true;
}

static void linreg(const struct mseries *s, int64_t icpt, double *slope, double *intercept)
{
	double n = 0, sx = 0, cx = 0, sy = 0, cy = 0, sxy = 0, cxy = 0, sx2 = 0, cx2 = 0;
	double inity = s->v[0];
	bool consty = true;
	for (size_t i = 0; i < s->n; i++) {
		if (consty && i > 0 && s->v[i] != inity)
			consty = false;
		n += 1;
		double x = (double)(s->t[i] - icpt) / 1e3;
		kahan_inc(x, &sx, &cx);
		kahan_inc(s->v[i], &sy, &cy);
		kahan_inc(x * s->v[i], &sxy, &cxy);
		kahan_inc(x * x, &sx2, &cx2);
	}
	if (consty) {
		if (isinf(inity)) {
			*slope = NAN;
			*intercept = NAN;
			return;
		}
		*slope = 0;
		*intercept = inity;
		return;
	}
	sx += cx;
	sy += cy;
	sxy += cxy;
	sx2 += cx2;
	double cov = sxy - sx * sy / n;
	double var = sx2 - sx * sx / n;
	*slope = cov / var;
	*intercept = sy / n - *slope * sx / n;
}

static double over_time(struct ev *ev, enum pq_fn f, const struct mseries *s, double q)
{
	switch (f) {
	case F_AVG_OVER_TIME: {
		double mean = 0, count = 0, c = 0;
		for (size_t i = 0; i < s->n; i++) {
			double x = s->v[i];
			count++;
			if (isinf(mean)) {
				if (isinf(x) && (mean > 0) == (x > 0))
					continue;
				if (!isinf(x) && !isnan(x))
					continue;
			}
			kahan_inc(x / count - mean / count, &mean, &c);
		}
		if (isinf(mean))
			return mean;
		return mean + c;
	}
	case F_SUM_OVER_TIME: {
		double sum = 0, c = 0;
		for (size_t i = 0; i < s->n; i++)
			kahan_inc(s->v[i], &sum, &c);
		if (isinf(sum))
			return sum;
		return sum + c;
	}
	case F_COUNT_OVER_TIME: return (double)s->n;
	case F_MIN_OVER_TIME: {
		double m = s->v[0];
		for (size_t i = 0; i < s->n; i++)
			if (s->v[i] < m || isnan(m))
				m = s->v[i];
		return m;
	}
	case F_MAX_OVER_TIME: {
		double m = s->v[0];
		for (size_t i = 0; i < s->n; i++)
			if (s->v[i] > m || isnan(m))
				m = s->v[i];
		return m;
	}
	case F_STDDEV_OVER_TIME:
	case F_STDVAR_OVER_TIME: {
		double count = 0, mean = 0, cm = 0, aux = 0, ca = 0;
		for (size_t i = 0; i < s->n; i++) {
			count++;
			double delta = s->v[i] - (mean + cm);
			kahan_inc(delta / count, &mean, &cm);
			kahan_inc(delta * (s->v[i] - (mean + cm)), &aux, &ca);
		}
		double var = (aux + ca) / count;
		return f == F_STDDEV_OVER_TIME ? sqrt(var) : var;
	}
	case F_QUANTILE_OVER_TIME: {
		double *tmp = salloc(ev, s->n * sizeof *tmp);
		memcpy(tmp, s->v, s->n * sizeof *tmp);
		return quantile(q, tmp, s->n);
	}
	case F_LAST_OVER_TIME: return s->v[s->n - 1];
	case F_PRESENT_OVER_TIME: return 1;
	case F_CHANGES: {
		double ch = 0;
		for (size_t i = 1; i < s->n; i++) {
			double a = s->v[i - 1], b = s->v[i];
			if (a != b && !(isnan(a) && isnan(b)))
				ch++;
		}
		return ch;
	}
	case F_RESETS: {
		double r = 0;
		for (size_t i = 1; i < s->n; i++)
			if (s->v[i] < s->v[i - 1])
				r++;
		return r;
	}
	default: return NAN;
	}
}

static double holt_winters(const struct mseries *s, double sf, double tf, bool *ok)
{
	*ok = false;
	if (s->n < 2)
		return 0;
	double s0 = 0, s1 = s->v[0], b = s->v[1] - s->v[0], x, y;
	for (size_t i = 1; i < s->n; i++) {
		x = sf * s->v[i];
		if (i > 1)
			b = tf * (s1 - s0) + (1 - tf) * b;
		y = (1 - sf) * (s1 + b);
		s0 = s1;
		s1 = x + y;
	}
	*ok = true;
	return s1;
}

static struct val absent_labels(struct ev *ev, struct pq_node *arg)
{
	arg = unparen(arg);
	struct pq_node *vs = arg->kind == PQ_MSEL ? arg->a : arg->kind == PQ_VSEL ? arg : NULL;
	struct lb b = {0};
	b.cap = 8;
	b.l = salloc(ev, b.cap * sizeof *b.l);
	if (vs) {
		const char **drop = salloc(ev, (vs->n_matchers + 1) * sizeof *drop);
		size_t nd = 0;
		for (size_t i = 0; i < vs->n_matchers; i++) {
			struct pane_matcher *m = &vs->matchers[i];
			if (!strcmp(m->name, "__name__"))
				continue;
			bool has = false;
			for (size_t j = 0; j < b.n; j++)
				if (!strcmp(b.l[j].name, m->name))
					has = true;
			if (m->op == PANE_MATCH_EQ && !has)
				lb_set(ev, &b, m->name, m->value);
			else
				drop[nd++] = m->name;
		}
		for (size_t i = 0; i < nd; i++)
			lb_del(&b, drop[i]);
	}
	struct val v = vec_alloc(ev, 1);
	v.s[0].m = lb_done(ev, &b);
	v.s[0].v = 1;
	v.n = 1;
	return v;
}

/* Go regexp.Expand-style template: $1, ${1}, $name, ${name}, $$ */
static void expand_template(struct ev *ev, pcre2_code *re, pcre2_match_data *md, const char *src, const char *tmpl,
			    struct pane_buf *out)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	uint32_t ngroups = pcre2_get_ovector_count(md);
	for (const char *p = tmpl; *p;) {
		if (*p != '$') {
			pane_buf_addc(out, *p++);
			continue;
		}
		p++;
		if (*p == '$') {
			pane_buf_addc(out, '$');
			p++;
			continue;
		}
		const char *ns, *ne;
		bool brace = *p == '{';
		if (brace) {
			ns = p + 1;
			ne = ns;
			while (*ne && (isalnum((unsigned char)*ne) || *ne == '_'))
				ne++;
			if (*ne != '}' || ne == ns) {
				pane_buf_addc(out, '$');
				continue;
			}
			p = ne + 1;
		} else {
			ns = p;
			ne = ns;
			while (*ne && (isalnum((unsigned char)*ne) || *ne == '_'))
				ne++;
			if (ne == ns) {
				pane_buf_addc(out, '$');
				continue;
			}
			p = ne;
		}
		size_t nl = (size_t)(ne - ns);
		bool num = true;
		for (size_t i = 0; i < nl; i++)
			if (!isdigit((unsigned char)ns[i]))
				num = false;
		long g = -1;
		if (num) {
			g = nl > 9 ? -1 : strtol(ns, NULL, 10);
		} else {
			char name[128];
			if (nl < sizeof name) {
				memcpy(name, ns, nl);
				name[nl] = 0;
				int r = pcre2_substring_number_from_name(re, (PCRE2_SPTR)name);
				g = r >= 0 ? r : -1;
			}
		}
		if (g >= 0 && (uint32_t)g < ngroups && ov[2 * g] != PCRE2_UNSET)
			pane_buf_add(out, src + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
	}
	(void)ev;
}

static bool valid_label_name(const char *s)
{
	if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

static struct val fn_label_replace(struct ev *ev, struct pq_node *n, int64_t t)
{
	struct val in = eval(ev, n->args[0], t);
	const char *dst = str_arg(n->args[1]), *repl = str_arg(n->args[2]), *src = str_arg(n->args[3]),
		   *rx = str_arg(n->args[4]);
	struct pane_err rerr = {0};
	pcre2_code *re = pane_regex_compile(rx, 0, &rerr); /* no dot-all: Go's default, as Prometheus 2.x */
	if (!re)
		ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL, "invalid regular expression in label_replace(): %s", rx);
	if (!valid_label_name(dst)) {
		pcre2_code_free(re);
		ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL, "invalid destination label name in label_replace(): %s", dst);
	}
	ev_defer(ev, free_re, re);
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	ev_defer(ev, free_md, md);
	struct pane_buf *b = salloc(ev, sizeof *b);
	pane_buf_init(b, 1 << 20);
	ev_defer(ev, free_buf, b);
	struct val v = vec_alloc(ev, in.n);
	int failrc = 0;
	for (size_t i = 0; i < in.n; i++) {
		const char *sv = lget(in.s[i].m, src);
		if (!sv)
			sv = "";
		int r = pane_regex_match(re, sv, strlen(sv), md);
		const struct lset *m = in.s[i].m;
		if (r < 0) {
			failrc = r;
			break;
		}
		if (r == 1) {
			if (b->len) /* an empty buffer points at a shared static "" (base/buf.c) */
				pane_buf_reset(b);
			expand_template(ev, re, md, sv, repl, b);
			struct lb lb;
			lb_from(ev, &lb, m, 1);
			lb_del(&lb, dst);
			if (b->len)
				lb_set(ev, &lb, sstrndup(ev, dst, strlen(dst)),
				       sstrndup(ev, b->data, b->len));
			m = lb_done(ev, &lb);
		}
		v.s[v.n] = in.s[i];
		v.s[v.n].m = m;
		v.n++;
	}
	ev_undefer(ev, 3);
	if (failrc)
		ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL,
			"regular expression in label_replace() failed on a label value (match limit exceeded?)");
	return v;
}

static struct val fn_label_join(struct ev *ev, struct pq_node *n, int64_t t)
{
	struct val in = eval(ev, n->args[0], t);
	const char *dst = str_arg(n->args[1]), *sep = str_arg(n->args[2]);
	if (!valid_label_name(dst))
		ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL, "invalid destination label name in label_join(): %s", dst);
	for (size_t k = 3; k < n->nargs; k++)
		if (!valid_label_name(str_arg(n->args[k])))
			ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL, "invalid source label name in label_join(): %s",
				str_arg(n->args[k]));
	struct val v = vec_alloc(ev, in.n);
	struct pane_buf *b = salloc(ev, sizeof *b);
	pane_buf_init(b, 1 << 20);
	ev_defer(ev, free_buf, b);
	for (size_t i = 0; i < in.n; i++) {
		if (b->len) /* an empty buffer points at a shared static "" (base/buf.c) */
			pane_buf_reset(b);
		for (size_t k = 3; k < n->nargs; k++) {
			if (k > 3)
				pane_buf_adds(b, sep);
			const char *sv = lget(in.s[i].m, str_arg(n->args[k]));
			if (sv)
				pane_buf_adds(b, sv);
		}
		struct lb lb;
		lb_from(ev, &lb, in.s[i].m, 1);
		lb_set(ev, &lb, dst, sstrndup(ev, b->data, b->len));
		v.s[v.n] = in.s[i];
		v.s[v.n].m = lb_done(ev, &lb);
		v.n++;
	}
	ev_undefer(ev, 1);
	return v;
}

struct bucket {
	double ub, count;
};

static int bucket_cmp(const void *a, const void *b)
{
	double x = ((const struct bucket *)a)->ub, y = ((const struct bucket *)b)->ub;
	return x < y ? -1 : x > y ? 1 : 0;
}

static double bucket_quantile(double q, struct bucket *b, size_t n)
{
	if (isnan(q))
		return NAN;
	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	qsort(b, n, sizeof *b, bucket_cmp);
	if (n == 0 || !(isinf(b[n - 1].ub) && b[n - 1].ub > 0))
		return NAN;
	/* coalesce equal bounds */
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && b[k - 1].ub == b[i].ub)
			b[k - 1].count += b[i].count;
		else
			b[k++] = b[i];
	}
	n = k;
	double mx = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		if (b[i].count > mx)
			mx = b[i].count;
		else if (b[i].count < mx)
			b[i].count = mx;
	}
	if (n < 2)
		return NAN;
	double obs = b[n - 1].count;
	if (obs == 0)
		return NAN;
	double rank = q * obs;
	size_t lo = 0, hi = n - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (b[mid].count >= rank)
			hi = mid;
		else
			lo = mid + 1;
	}
	size_t i = lo;
	if (i == n - 1)
		return b[n - 2].ub;
	if (i == 0 && b[0].ub <= 0)
		return b[0].ub;
	double start = 0, end = b[i].ub, count = b[i].count;
	if (i > 0) {
		start = b[i - 1].ub;
		count -= b[i - 1].count;
		rank -= b[i - 1].count;
	}
	return start + (end - start) * (rank / count);
}

static struct val fn_histogram_quantile(struct ev *ev, struct pq_node *n, int64_t t)
{
	double q = scalar_arg(ev, n->args[0], t);
	struct val in = eval(ev, n->args[1], t);
	struct pmap idx;
	pmap_init(ev, &idx, in.n);
	struct bucket *bk = salloc(ev, (in.n + 1) * sizeof *bk);
	size_t *grp = salloc(ev, (in.n + 1) * sizeof *grp);
	const struct lset **gm = salloc(ev, (in.n + 1) * sizeof *gm);
	size_t ng = 0, nb = 0;
	for (size_t i = 0; i < in.n; i++) {
		const char *le = lget(in.s[i].m, "le");
		if (!le)
			continue;
		double ub;
		if (pane_str_to_double(pane_str_c(le), &ub) != 0)
			continue;
		/* grouped with the metric name, output without it: buckets of two
		 * histograms with the same labels are not merged; the result then
		 * holds a duplicate set and fails, as in Prometheus (its #9910) */
		struct lb lb;
		lb_from(ev, &lb, in.s[i].m, 0);
		lb_del(&lb, "le");
		const struct lset *m = lb_done(ev, &lb);
		bool f;
		size_t *slot = pmap_slot(ev, &idx, m, &f);
		if (!f) {
			*slot = ng;
			gm[ng++] = drop_name(ev, m);
		}
		bk[nb].ub = ub;
		bk[nb].count = in.s[i].v;
		grp[nb++] = *slot;
	}
	struct val v = vec_alloc(ev, ng);
	struct bucket *tmp = salloc(ev, (nb + 1) * sizeof *tmp);
	for (size_t g = 0; g < ng; g++) {
		size_t k = 0;
		for (size_t i = 0; i < nb; i++)
			if (grp[i] == g)
				tmp[k++] = bk[i];
		v.s[v.n].m = gm[g];
		v.s[v.n].t = t;
		v.s[v.n++].v = bucket_quantile(q, tmp, k);
	}
	check_dups(ev, &v);
	return v;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static double date_part(enum pq_fn f, double secs)
{
	if (isnan(secs) || isinf(secs) || fabs(secs) > 1e15)
		return NAN;
	time_t tt = (time_t)(int64_t)secs;
	struct tm tm;
	if (!gmtime_r(&tt, &tm))
		return NAN;
	int year = tm.tm_year + 1900;
	switch (f) {
	case F_DAY_OF_MONTH: return tm.tm_mday;
	case F_DAY_OF_WEEK: return tm.tm_wday;
	case F_DAY_OF_YEAR: return tm.tm_yday + 1;
	case F_HOUR: return tm.tm_hour;
	case F_MINUTE: return tm.tm_min;
	case F_MONTH: return tm.tm_mon + 1;
	case F_YEAR: return year;
	case F_DAYS_IN_MONTH: {
		int m = tm.tm_mon + 1;
		int64_t a = days_from_civil(year, (unsigned)m, 1);
		int64_t b = m == 12 ? days_from_civil(year + 1, 1, 1) : days_from_civil(year, (unsigned)m + 1, 1);
		return (double)(b - a);
	}
	default: return NAN;
	}
}

static double math1(enum pq_fn f, double x)
{
	switch (f) {
	case F_ABS: return fabs(x);
	case F_CEIL: return ceil(x);
	case F_FLOOR: return floor(x);
	case F_EXP: return exp(x);
	case F_SQRT: return sqrt(x);
	case F_LN: return log(x);
	case F_LOG2: return log2(x);
	case F_LOG10: return log10(x);
	case F_SGN: return x > 0 ? 1 : x < 0 ? -1 : x;
	case F_ACOS: return acos(x);
	case F_ACOSH: return acosh(x);
	case F_ASIN: return asin(x);
	case F_ASINH: return asinh(x);
	case F_ATAN: return atan(x);
	case F_ATANH: return atanh(x);
	case F_COS: return cos(x);
	case F_COSH: return cosh(x);
	case F_SIN: return sin(x);
	case F_SINH: return sinh(x);
	case F_TAN: return tan(x);
	case F_TANH: return tanh(x);
	case F_DEG: return x * 180 / M_PI;
	case F_RAD: return x * M_PI / 180;
	default: return NAN;
	}
}

/* sort() and sort_desc() order as Prometheus' sort.Sort(sort.Reverse(h))
 * over a value heap (gosort.c has why the algorithm matters): Less(i, j) is
 * the heap's Less(j, i); for desc the heap is vectorByValueHeap (NaN
 * smallest), otherwise vectorByReverseValueHeap. */
static bool sample_less(const void *x, const void *y, void *ctx)
{
	bool desc = *(const bool *)ctx;
	double a = ((const struct sample *)y)->v, b = ((const struct sample *)x)->v;
	if (isnan(a))
		return true;
	return desc ? a < b : a > b;
}

static void go_sort_values(struct sample *v, size_t n, bool desc)
{
	pq_go_sort(v, n, sizeof *v, sample_less, &desc);
}

static struct val eval_call(struct ev *ev, struct pq_node *n, int64_t t)
{
	enum pq_fn f = n->func->id;
	struct val v;
	switch (f) {
	case F_TIME: return (struct val){.type = PQ_T_SCALAR, .scalar = (double)t / 1000};
	case F_PI: return (struct val){.type = PQ_T_SCALAR, .scalar = M_PI};
	case F_VECTOR: {
		double s = scalar_arg(ev, n->args[0], t);
		v = vec_alloc(ev, 1);
		v.s[0] = (struct sample){ev->empty, s, t};
		v.n = 1;
		return v;
	}
	case F_SCALAR: {
		struct val in = eval(ev, n->args[0], t);
		return (struct val){.type = PQ_T_SCALAR, .scalar = in.n == 1 ? in.s[0].v : NAN};
	}
	case F_LABEL_REPLACE: v = fn_label_replace(ev, n, t); break;
	case F_LABEL_JOIN: v = fn_label_join(ev, n, t); break;
	case F_HISTOGRAM_QUANTILE: v = fn_histogram_quantile(ev, n, t); break;
	case F_ABSENT: {
		struct val in = eval(ev, n->args[0], t);
		if (in.n)
			return vec_alloc(ev, 0);
		v = absent_labels(ev, n->args[0]);
		break;
	}
	case F_ABSENT_OVER_TIME: {
		struct val in = eval(ev, n->args[0], t);
		if (in.n)
			return vec_alloc(ev, 0);
		v = absent_labels(ev, n->args[0]);
		break;
	}
	case F_TIMESTAMP: {
		struct val in = eval(ev, n->args[0], t);
		bool raw = unparen(n->args[0])->kind == PQ_VSEL; /* timestamp(((m))) too, as Prometheus */
		v = vec_alloc(ev, in.n);
		for (size_t i = 0; i < in.n; i++)
			v.s[v.n++] = (struct sample){drop_name(ev, in.s[i].m), (double)(raw ? in.s[i].t : t) / 1000, t};
		break;
	}
	case F_SORT:
	case F_SORT_DESC: {
		struct val in = eval(ev, n->args[0], t);
		v = vec_alloc(ev, in.n);
		memcpy(v.s, in.s, in.n * sizeof *v.s);
		v.n = in.n;
		go_sort_values(v.s, v.n, f != F_SORT);
		break;
	}
	case F_DAY_OF_MONTH: case F_DAY_OF_WEEK: case F_DAY_OF_YEAR: case F_DAYS_IN_MONTH: case F_HOUR:
	case F_MINUTE: case F_MONTH: case F_YEAR: {
		if (n->nargs == 0) {
			v = vec_alloc(ev, 1);
			v.s[0] = (struct sample){ev->empty, date_part(f, floor((double)t / 1000)), t};
			v.n = 1;
			return v;
		}
		struct val in = eval(ev, n->args[0], t);
		v = vec_alloc(ev, in.n);
		for (size_t i = 0; i < in.n; i++)
			v.s[v.n++] = (struct sample){drop_name(ev, in.s[i].m), date_part(f, in.s[i].v), t};
		break;
	}
	case F_CLAMP: case F_CLAMP_MIN: case F_CLAMP_MAX: {
		struct val in = eval(ev, n->args[0], t);
		double lo = -INFINITY, hi = INFINITY;
		if (f == F_CLAMP) {
			lo = scalar_arg(ev, n->args[1], t);
			hi = scalar_arg(ev, n->args[2], t);
			if (hi < lo)
				return vec_alloc(ev, 0);
		} else if (f == F_CLAMP_MIN) {
			lo = scalar_arg(ev, n->args[1], t);
		} else {
			hi = scalar_arg(ev, n->args[1], t);
		}
		v = vec_alloc(ev, in.n);
		for (size_t i = 0; i < in.n; i++) {
			double x = in.s[i].v;
			if (f == F_CLAMP)
				x = go_max(lo, go_min(hi, x));
			else if (f == F_CLAMP_MIN)
				x = go_max(lo, x);
			else
				x = go_min(hi, x);
			v.s[v.n++] = (struct sample){drop_name(ev, in.s[i].m), x, t};
		}
		break;
	}
	case F_ROUND: {
		struct val in = eval(ev, n->args[0], t);
		double to = n->nargs > 1 ? scalar_arg(ev, n->args[1], t) : 1;
		double inv = 1.0 / to;
		v = vec_alloc(ev, in.n);
		for (size_t i = 0; i < in.n; i++)
			v.s[v.n++] = (struct sample){drop_name(ev, in.s[i].m), floor(in.s[i].v * inv + 0.5) / inv, t};
		break;
	}
	case F_RATE: case F_INCREASE: case F_DELTA: case F_IRATE: case F_IDELTA: case F_DERIV:
	case F_PREDICT_LINEAR: case F_HOLT_WINTERS: case F_AVG_OVER_TIME: case F_SUM_OVER_TIME:
	case F_COUNT_OVER_TIME: case F_MIN_OVER_TIME: case F_MAX_OVER_TIME: case F_STDDEV_OVER_TIME:
	case F_STDVAR_OVER_TIME: case F_QUANTILE_OVER_TIME: case F_LAST_OVER_TIME: case F_PRESENT_OVER_TIME:
	case F_CHANGES: case F_RESETS: {
		struct pq_node *marg = f == F_QUANTILE_OVER_TIME ? n->args[1] : n->args[0];
		double p1 = 0, p2 = 0;
		if (f == F_QUANTILE_OVER_TIME)
			p1 = scalar_arg(ev, n->args[0], t);
		else if (f == F_PREDICT_LINEAR)
			p1 = scalar_arg(ev, n->args[1], t);
		else if (f == F_HOLT_WINTERS) {
			p1 = scalar_arg(ev, n->args[1], t);
			p2 = scalar_arg(ev, n->args[2], t);
			if (p1 <= 0 || p1 >= 1)
				ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL, "invalid smoothing factor. Expected: 0 < sf < 1, got: %g", p1);
			if (p2 <= 0 || p2 >= 1)
				ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL, "invalid trend factor. Expected: 0 < tf < 1, got: %g", p2);
		}
		struct val in = eval(ev, marg, t);
		int64_t range, ref;
		matrix_window(ev, marg, t, &range, &ref);
		v = vec_alloc(ev, in.n);
		for (size_t i = 0; i < in.n; i++) {
			const struct mseries *s = &in.ms[i];
			double out;
			bool ok = true;
			check_time(ev);
			switch (f) {
			case F_RATE: ok = extrapolated(s, range, ref, true, true, &out); break;
			case F_INCREASE: ok = extrapolated(s, range, ref, true, false, &out); break;
			case F_DELTA: ok = extrapolated(s, range, ref, false, false, &out); break;
			case F_IRATE:
			case F_IDELTA: {
				if (s->n < 2) {
					ok = false;
					break;
				}
				double last = s->v[s->n - 1], prev = s->v[s->n - 2];
				out = (f == F_IRATE && last < prev) ? last : last - prev;
				int64_t dt = s->t[s->n - 1] - s->t[s->n - 2];
				if (dt == 0) {
					ok = false;
					break;
				}
				if (f == F_IRATE)
					out /= (double)dt / 1000;
				break;
			}
			case F_DERIV: {
				if (s->n < 2) {
					ok = false;
					break;
				}
				double sl, ic;
				linreg(s, s->t[0], &sl, &ic);
				out = sl;
				break;
			}
			case F_PREDICT_LINEAR: {
				if (s->n < 2) {
					ok = false;
					break;
				}
				double sl, ic;
				linreg(s, t, &sl, &ic);
				out = sl * p1 + ic;
				break;
			}
			case F_HOLT_WINTERS: out = holt_winters(s, p1, p2, &ok); break;
			default:
				if (s->n == 0) {
					ok = false;
					break;
				}
				out = over_time(ev, f, s, p1);
				break;
			}
			if (!ok)
				continue;
			v.s[v.n++] = (struct sample){f == F_LAST_OVER_TIME ? s->m : drop_name(ev, s->m), out, t};
		}
		break;
	}
	default: {
		struct val in = eval(ev, n->args[0], t);
		v = vec_alloc(ev, in.n);
		for (size_t i = 0; i < in.n; i++)
			v.s[v.n++] = (struct sample){drop_name(ev, in.s[i].m), math1(f, in.s[i].v), t};
		break;
	}
	}
	check_dups(ev, &v);
	return v;
}

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
	go_sort_values(h, n, top);
}

static struct val eval_agg(struct ev *ev, struct pq_node *n, int64_t t)
{
	double param = 0;
	const char *vlabel = NULL;
	enum pq_op op = n->op;
	if (op == PQ_TOPK || op == PQ_BOTTOMK || op == PQ_QUANTILE)
		param = scalar_arg(ev, n->param, t);
	if (op == PQ_COUNT_VALUES) {
		vlabel = eval(ev, n->param, t).str;
		if (!valid_label_name(vlabel))
			ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL, "invalid label name \"%s\"", vlabel);
	}
	struct val in = eval(ev, n->a, t);
	int64_t k = 0;
	if (op == PQ_TOPK || op == PQ_BOTTOMK) {
		if (!(param >= -9.2e18 && param <= 9.2e18))
			ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL, "Scalar value %g overflows int64", param);
		k = (int64_t)param;
		if (k < 1)
			return vec_alloc(ev, 0);
	}
	const char **grouping = n->grouping;
	size_t ngrp = n->n_grouping;
	if (vlabel && !n->without) {
		grouping = salloc(ev, (ngrp + 1) * sizeof *grouping);
		if (ngrp)
			memcpy(grouping, n->grouping, ngrp * sizeof *grouping);
		grouping[ngrp++] = vlabel;
	}
	struct pmap idx;
	pmap_init(ev, &idx, in.n);
	struct group *g = salloc(ev, (in.n + 1) * sizeof *g);
	size_t ng = 0;
	for (size_t i = 0; i < in.n; i++) {
		const struct lset *m = in.s[i].m;
		double x = in.s[i].v;
		if (vlabel) {
			char f[64];
			pane_query_fmt_float(x, f, sizeof f);
			struct lb lb;
			lb_from(ev, &lb, m, 1);
			lb_set(ev, &lb, vlabel, sstrndup(ev, f, strlen(f)));
			m = lb_done(ev, &lb);
		}
		const struct lset *key = subset(ev, vlabel ? NULL : n, m, !n->without, grouping, ngrp);
		bool found;
		size_t *slot = pmap_slot(ev, &idx, key, &found);
		if (!found) {
			*slot = ng;
			struct group *gr = &g[ng++];
			gr->m = key;
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
				gr->heap = salloc(ev, (cap + 1) * sizeof *gr->heap);
				gr->heap[0] = in.s[i];
				gr->hn = 1;
			}
			if (op == PQ_QUANTILE) {
				gr->cv = 8;
				gr->vals = salloc(ev, gr->cv * sizeof *gr->vals);
				gr->vals[gr->nv++] = x;
			}
			continue;
		}
		struct group *gr = &g[*slot];
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
		case PQ_COUNT: case PQ_COUNT_VALUES: gr->count++; gr->value = (double)gr->count; break;
		case PQ_MAX: if (gr->value < x || isnan(gr->value)) gr->value = x; break;
		case PQ_MIN: if (gr->value > x || isnan(gr->value)) gr->value = x; break;
		case PQ_STDVAR: case PQ_STDDEV: {
			gr->count++;
			double delta = x - gr->mean;
			gr->mean += delta / (double)gr->count;
			gr->value += delta * (x - gr->mean);
			break;
		}
		case PQ_TOPK: case PQ_BOTTOMK: {
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
				double *nv = salloc(ev, gr->cv * 2 * sizeof *nv);
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
	struct val v = vec_alloc(ev, total);
	for (size_t i = 0; i < ng; i++) {
		struct group *gr = &g[i];
		double out = gr->value;
		switch (op) {
		case PQ_AVG: out = gr->mean; break;
		case PQ_COUNT: case PQ_COUNT_VALUES: out = (double)gr->count; break;
		case PQ_STDVAR: out = gr->value / (double)gr->count; break;
		case PQ_STDDEV: out = sqrt(gr->value / (double)gr->count); break;
		case PQ_QUANTILE: out = quantile(param, gr->vals, gr->nv); break;
		case PQ_TOPK: case PQ_BOTTOMK:
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

/* ---------------- binary operators ---------------- */

static const struct lset *signature(struct ev *ev, struct pq_node *n, const struct lset *m)
{
	return subset(ev, n, m, n->on, n->mlabels, n->n_mlabels);
}

static const struct lset *result_metric(struct ev *ev, struct pq_node *n, const struct lset *l, const struct lset *r)
{
	struct lb b;
	lb_from(ev, &b, l, n->n_include);
	if (drops_name(n->op))
		lb_del(&b, "__name__");
	if (n->card == PQ_ONE_TO_ONE) {
		if (n->on) {
			size_t k = 0;
			for (size_t i = 0; i < b.n; i++)
				if (in_list(b.l[i].name, n->mlabels, n->n_mlabels))
					b.l[k++] = b.l[i];
			b.n = k;
		} else {
			for (size_t i = 0; i < n->n_mlabels; i++)
				lb_del(&b, n->mlabels[i]);
		}
	}
	for (size_t i = 0; i < n->n_include; i++) {
		const char *v = lget(r, n->include[i]);
		lb_set(ev, &b, n->include[i], v);
	}
	return lb_done(ev, &b);
}

static struct val eval_vv(struct ev *ev, struct pq_node *n, struct val l, struct val r, int64_t t)
{
	struct val v;
	if (n->op == PQ_AND || n->op == PQ_UNLESS) {
		struct pmap rs;
		pmap_init(ev, &rs, r.n);
		for (size_t i = 0; i < r.n; i++) {
			bool f;
			pmap_slot(ev, &rs, signature(ev, n, r.s[i].m), &f);
		}
		v = vec_alloc(ev, l.n);
		for (size_t i = 0; i < l.n; i++) {
			bool has = pmap_get(&rs, signature(ev, n, l.s[i].m)) != NULL;
			if (has == (n->op == PQ_AND))
				v.s[v.n++] = l.s[i];
		}
		return v;
	}
	if (n->op == PQ_OR) {
		struct pmap ls;
		pmap_init(ev, &ls, l.n);
		v = vec_alloc(ev, l.n + r.n);
		for (size_t i = 0; i < l.n; i++) {
			bool f;
			pmap_slot(ev, &ls, signature(ev, n, l.s[i].m), &f);
			v.s[v.n++] = l.s[i];
		}
		for (size_t i = 0; i < r.n; i++)
			if (!pmap_get(&ls, signature(ev, n, r.s[i].m)))
				v.s[v.n++] = r.s[i];
		return v;
	}
	bool swap = n->card == PQ_ONE_TO_MANY;
	struct val lhs = swap ? r : l, rhs = swap ? l : r;
	struct pmap rsig;
	pmap_init(ev, &rsig, rhs.n);
	for (size_t i = 0; i < rhs.n; i++) {
		const struct lset *sig = signature(ev, n, rhs.s[i].m);
		bool f;
		size_t *slot = pmap_slot(ev, &rsig, sig, &f);
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
					pane_buf_addf(bs[k], "%s%s=\"%s\"", j ? ", " : "", s[k]->l[j].name, s[k]->l[j].value);
				pane_buf_addc(bs[k], '}');
			}
			char msg[PANE_ERR_MSG_MAX];
			snprintf(msg, sizeof msg,
				 "found duplicate series for the match group %s on the %s hand-side of the operation: [%s, %s];many-to-many matching not allowed: matching labels must be unique on one side",
				 b1.data, swap ? "left" : "right", b2.data, b3.data);
			pane_buf_release(&b1);
			pane_buf_release(&b2);
			pane_buf_release(&b3);
			ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL, "%s", msg);
		}
		*slot = i;
	}
	struct pmap matched;
	pmap_init(ev, &matched, lhs.n);
	struct pmap inserted; /* for many-to-one: result metrics already produced */
	pmap_init(ev, &inserted, lhs.n);
	v = vec_alloc(ev, lhs.n);
	for (size_t i = 0; i < lhs.n; i++) {
		const struct lset *sig = signature(ev, n, lhs.s[i].m);
		size_t *ri = pmap_get(&rsig, sig);
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
		bool keep = binop_val(n->op, vl, vr, &value);
		if (n->bool_mod) {
			value = keep ? 1 : 0;
		} else if (!keep) {
			continue;
		}
		const struct lset *metric = result_metric(ev, n, lhs.s[i].m, rs->m);
		if (n->bool_mod)
			metric = drop_name(ev, metric);
		bool f;
		if (n->card == PQ_ONE_TO_ONE) {
			pmap_slot(ev, &matched, sig, &f);
			if (f)
				ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL,
					"multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)");
		} else {
			/* the result labels contain the matching labels, so the metric alone
			 * identifies the (signature, metric) pair Prometheus tracks */
			const struct lset *kk = metric;
			pmap_slot(ev, &inserted, kk, &f);
			if (f)
				ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL,
					"multiple matches for labels: grouping labels must ensure unique matches");
		}
		v.s[v.n++] = (struct sample){metric, value, t};
	}
	return v;
}

static struct val eval_bin(struct ev *ev, struct pq_node *n, int64_t t)
{
	struct val l = eval(ev, n->a, t);
	struct val r = eval(ev, n->b, t);
	struct val v;
	if (l.type == PQ_T_SCALAR && r.type == PQ_T_SCALAR) {
		double out;
		bool keep = binop_val(n->op, l.scalar, r.scalar, &out);
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
		v = vec_alloc(ev, vec.n);
		for (size_t i = 0; i < vec.n; i++) {
			double lv = vec.s[i].v, rv = sc;
			if (swap) {
				lv = sc;
				rv = vec.s[i].v;
			}
			double value;
			bool keep = binop_val(n->op, lv, rv, &value);
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
				m = drop_name(ev, m);
			v.s[v.n++] = (struct sample){m, value, t};
		}
	}
	check_dups(ev, &v);
	return v;
}

static struct val eval_node(struct ev *ev, struct pq_node *n, int64_t t);

/* Every recursion goes through here: the parser bounds the tree's height,
 * and this bound holds even if a future node kind recursed more. */
static struct val eval(struct ev *ev, struct pq_node *n, int64_t t)
{
	if (++ev->depth > PQ_MAX_HEIGHT + 8)
		ev_fail(ev, PANE_QERR_BAD_DATA, PANE_EINVAL, "expression nests too deeply (more than %d levels)",
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
	case PQ_PAREN: return eval(ev, n->a, t);
	case PQ_VSEL: return eval_vsel(ev, n, t);
	case PQ_MSEL: return eval_msel(ev, n, t);
	case PQ_SUBQ: return eval_subq(ev, n, t);
	case PQ_CALL: return eval_call(ev, n, t);
	case PQ_AGG: return eval_agg(ev, n, t);
	case PQ_BIN: return eval_bin(ev, n, t);
	case PQ_UNARY: {
		struct val in = eval(ev, n->a, t);
		if (n->op == PQ_ADD)
			return in;
		if (in.type == PQ_T_SCALAR) {
			in.scalar = -in.scalar;
			return in;
		}
		struct val v = vec_alloc(ev, in.n);
		for (size_t i = 0; i < in.n; i++)
			v.s[v.n++] = (struct sample){drop_name(ev, in.s[i].m), -in.s[i].v, t};
		check_dups(ev, &v);
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

static void out_add(struct ev *ev, struct pmap *idx, const struct lset *m, int64_t t, double v)
{
	bool f;
	size_t *slot = pmap_slot(ev, idx, m, &f);
	if (!f) {
		*slot = ev->out.len;
		struct outser *o = pane_vec_push_zero(&ev->out);
		o->m = m;
	}
	struct outser *o = pane_vec_at(&ev->out, *slot);
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 16;
		o->t = pane_xrealloc(o->t, o->cap * sizeof *o->t);
		o->v = pane_xrealloc(o->v, o->cap * sizeof *o->v);
	}
	o->t[o->n] = t;
	o->v[o->n++] = v;
	if (++ev->out_points > ev->max_samples)
		ev_fail(ev, PANE_QERR_EXECUTION, PANE_ETOOBIG,
			"query processing would load too many samples into memory in query execution");
}

static int outser_cmp(const void *a, const void *b)
{
	return lset_cmp(((const struct outser *)a)->m, ((const struct outser *)b)->m);
}

static void ev_cleanup(struct ev *ev)
{
	ev_undefer(ev, ev->ndefer);
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
	pq_arena_release(&ev->qa);
	pq_arena_release(&ev->sa);
	for (int i = 0; i < ev->nheld; i++)
		pq_arena_release(&ev->held[i]);
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
	pq_arena_init_budget(&ev->qa, &ev->budget);
	pq_arena_init_budget(&ev->sa, &ev->budget);
	ev->caches = pane_xcalloc((size_t)e->n_selectors + 1, sizeof *ev->caches);
	ev->empty = intern(ev, NULL, 0);
	plan(ev, e->root, ev->start, ev->end);
	ev->held = pane_xcalloc((size_t)ev->n_subq + 1, sizeof *ev->held);
	if (instant) {
		struct val v = eval(ev, e->root, ev->start);
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
		default:
			break;
		}
		return 0;
	}
	/* the output index lives on the query arena */
	pmap_init_in(ev, &ev->qa, &idx, 64);
	for (int64_t ts = ev->start; ts <= ev->end; ts += ev->step) {
		struct val v = eval(ev, e->root, ts);
		if (v.type == PQ_T_SCALAR)
			out_add(ev, &idx, ev->empty, ts, v.scalar);
		else
			for (size_t i = 0; i < v.n; i++)
				out_add(ev, &idx, v.s[i].m, ts, v.s[i].v);
		pq_arena_reset(&ev->sa);
		ev->step_points = 0;
		check_time(ev);
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

int pane_query_check_range(int64_t start, int64_t end, int64_t step, bool range, size_t max_points,
			   const char **param, struct pane_err *err)
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
		return pane_err_set(err, PANE_EINVAL,
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

int pane_query_exec(struct pane_reader reader, const struct pane_query_opts *opts, const char *expr,
		    int64_t start, int64_t end, int64_t step, struct pane_query_result *out,
		    enum pane_query_errclass *cls, struct pane_err *err)
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

static void json_labels(const struct pane_labels *l, struct pane_buf *b)
{
	pane_buf_addc(b, '{');
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			pane_buf_addc(b, ',');
		pane_buf_add_json_str(b, l->v[i].name, strlen(l->v[i].name));
		pane_buf_addc(b, ':');
		pane_buf_add_json_str(b, l->v[i].value, strlen(l->v[i].value));
	}
	pane_buf_addc(b, '}');
}

static int json_point(struct pane_buf *b, int64_t t, double v)
{
	char ts[48], vs[400];
	pane_query_fmt_ts(t, ts, sizeof ts);
	pane_query_fmt_float(v, vs, sizeof vs);
	pane_buf_addc(b, '[');
	pane_buf_adds(b, ts);
	pane_buf_add(b, ",\"", 2);
	pane_buf_adds(b, vs);
	return pane_buf_add(b, "\"]", 2);
}

int pane_query_result_json(const struct pane_query_result *r, struct pane_buf *b)
{
	static const char *names[] = {"scalar", "string", "vector", "matrix"};
	pane_buf_addf(b, "{\"resultType\":\"%s\",\"result\":", names[r->type]);
	switch (r->type) {
	case PANE_QT_SCALAR:
		json_point(b, r->ts, r->scalar);
		break;
	case PANE_QT_STRING: {
		char ts[48];
		pane_query_fmt_ts(r->ts, ts, sizeof ts);
		pane_buf_addf(b, "[%s,", ts);
		pane_buf_add_json_str(b, r->string, strlen(r->string));
		pane_buf_addc(b, ']');
		break;
	}
	case PANE_QT_VECTOR:
	case PANE_QT_MATRIX:
		pane_buf_addc(b, '[');
		for (size_t i = 0; i < r->n; i++) {
			const struct pane_query_series *s = &r->series[i];
			if (i)
				pane_buf_addc(b, ',');
			pane_buf_adds(b, "{\"metric\":");
			json_labels(&s->labels, b);
			if (r->type == PANE_QT_VECTOR) {
				pane_buf_adds(b, ",\"value\":");
				json_point(b, s->ts[0], s->values[0]);
			} else {
				pane_buf_adds(b, ",\"values\":[");
				for (size_t j = 0; j < s->n; j++) {
					if (j)
						pane_buf_addc(b, ',');
					json_point(b, s->ts[j], s->values[j]);
				}
				pane_buf_addc(b, ']');
			}
			pane_buf_addc(b, '}');
		}
		pane_buf_addc(b, ']');
		break;
	}
	return pane_buf_addc(b, '}');
}
