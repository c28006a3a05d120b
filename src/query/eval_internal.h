/*
 * eval_internal.h - what the evaluator's files share (internal to src/query).
 *
 * The evaluator is four files around one struct ev (one query's state):
 * eval.c (interning, arenas, planning and loading selectors, subqueries,
 * the dispatch pq_eval and the driver), functions.c, aggregate.c and
 * binary.c. Go's sort and number formatting are gosort.c and format.c.
 *
 * Invariants (every function here may rely on them and must keep them):
 *   1. Label sets are interned per query (pq_lb_done, pq_drop_name,
 *      pq_subset): equal sets are the same pointer, so matching, grouping
 *      and duplicate checks compare pointers. An interned set lives on the
 *      query arena (ev->qa) until the query ends and is never modified
 *      (its memo fields aside).
 *   2. Memory has lifetimes, not frees: what one step of the query makes
 *      lives on the step arena (ev->sa, pq_salloc), reset after each
 *      top-level step; a subquery parks the caller's step arena in
 *      ev->held and runs each inner step on a scratch one. Every arena
 *      counts against ev->budget (max_samples) before it allocates.
 *   3. Errors unwind by longjmp (pq_ev_fail, never returns) to
 *      pane_query_exec. Heap memory held across a call that can fail is
 *      registered with pq_ev_defer (at most 8 at once) and released with
 *      pq_ev_undefer; arena memory needs nothing.
 *   4. All recursion goes through pq_eval, which counts depth; the parser
 *      bounds the tree's height (PQ_MAX_HEIGHT), so the stack is bounded.
 *   5. A selector's series are loaded once per query (planned spans, one
 *      reader select). Stale markers never leave the selector functions:
 *      vectors and matrices hold real values only.
 *   6. The parser type-checked the tree: argument types are right, and a
 *      string argument is a literal, possibly in parentheses.
 *   7. One query, one thread: struct ev is not shared and nothing global
 *      is written.
 *   8. The memos (struct rmemo, cache.vidx, struct aggmemo, struct
 *      binmemo) live on the query arena, are filled only for what is
 *      evaluated at the top-level steps (not inside subqueries) or keyed
 *      by interned pointers (invariant 1), and give exactly what
 *      evaluating again would; one too big for the budget is switched off,
 *      never failed on.
 */
#ifndef PANE_QUERY_EVAL_INTERNAL_H
#define PANE_QUERY_EVAL_INTERNAL_H

#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/clock.h"
#include "base/regex.h"
#include "base/vec.h"
#include "query/ast.h"
#include "query/query.h"

/* ---------------- the evaluator's values ---------------- */

/* An interned label set (invariant 1), labels sorted by name. */
struct lset {
	uint64_t hash;
	uint32_t n;
	const struct lset *noname; /* memo: this set without __name__ */
	const void *memo_key;      /* memo: the node that last derived ... */
	const struct lset *memo;   /* ... this set from it (grouping, matching) */
	struct pane_label l[];
};

/* One point of an instant vector. */
struct sample {
	const struct lset *m;
	double v;
	int64_t t;
};

/* One series of a range vector: arrays on an arena or in a reader set. */
struct mseries {
	const struct lset *m;
	const int64_t *t;
	const double *v;
	size_t n;
};

/* What evaluating a node gives: a scalar, a string, a vector or a matrix. */
struct val {
	enum pq_vtype type;
	double scalar;
	const char *str;
	struct sample *s;   /* vector */
	struct mseries *ms; /* matrix */
	size_t n;
};

/* A selector's samples, loaded once per query: [mint, maxt] planned.
 * Per series, where the last window began and ended (hint[2i], hint[2i+1]):
 * a range query's steps move forward, so the next window is found by
 * galloping on from there instead of two binary searches over the whole
 * series; any other order (subqueries, @) still gets the right answer.
 * stale[i]: series i has a stale marker somewhere (else windows point into
 * the cache as they are). */
struct cache {
	bool planned, loaded;
	int64_t mint, maxt;
	struct mseries *series;
	size_t n;
	size_t *hint;
	bool *stale;
	/* an instant selector outside subqueries in a range query: the sample
	 * each series shows at each top-level step, found series by series at
	 * the first step (vidx[k * n + i], -1: none); nested: also inside a
	 * subquery (or vidx_off: too big), so step by step */
	bool top, nested, vidx_off;
	int32_t *vidx;
};

/* A range function over a matrix selector evaluated at the top-level steps
 * of a range query (not inside a subquery), computed for every step at its
 * first use, series by series (functions.c, memo_fill): each series' samples
 * are walked once in order instead of 200 series being visited at every
 * step. The same windows and the same arithmetic as step by step, so the same
 * values; v[k * nser + i] for step k, series i of the selector's cache. */
struct rmemo {
	const struct pq_node *call;
	bool filled, off; /* off: not worth it or over the budget: step by step */
	bool distinct;    /* no two series share output labels: no step has duplicates */
	size_t nser, nsteps;
	double *v;
	uint8_t *has;
	const struct lset **m; /* each series' output labels */
};

/* An aggregation's groups at its last evaluation: input series i went to
 * group slot[i]. A vector with the same series in the same order (the next
 * step, mostly) groups the same way without hashing (aggregate.c). */
struct aggmemo {
	const struct pq_node *agg;
	const struct lset **m;  /* the input's series */
	size_t *slot;           /* their groups */
	const struct lset **gm; /* each group's labels */
	size_t n, cap;
};

/* A vector-vector operator's result labels at its last evaluation, by
 * position of the left-hand sample: the same pair of series at the same
 * position (the next step, mostly) gets the same labels without building
 * and interning them again (binary.c). */
struct binmemo {
	const struct pq_node *bin;
	const struct lset **l, **r, **out;
	size_t cap;
};

/* A series being accumulated: a range query's output or a subquery's. */
struct outser {
	const struct lset *m;
	int64_t *t;
	double *v;
	size_t n, cap;
};

/* One query's state; one thread (invariant 7). */
struct ev {
	struct pane_reader reader;
	struct pq_expr *expr;
	struct pane_arena qa, sa;
	struct pane_arena_budget budget; /* qa, sa and held count against it */
	struct pane_arena *held;         /* step arenas of enclosing subqueries, while */
	int nheld, n_subq;               /* their inner steps run on a scratch sa */
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
	} defers[8]; /* cleanups for an error unwinding through a function */
	int ndefer;
	struct pane_vec sets; /* struct pane_series_set * to free */
	struct pane_vec out;  /* struct outser */
	struct rmemo *rmemo;  /* planned by plan(), on the query arena */
	size_t rmemo_n;
	struct aggmemo *aggm; /* on the query arena */
	size_t aggm_n, aggm_cap;
	struct binmemo *binm; /* on the query arena */
	size_t binm_n, binm_cap;
	int plan_subq; /* plan(): inside this many subqueries */
	size_t out_points;
	size_t step_points; /* subquery points made during this top-level step */
	unsigned tick;
	int depth; /* eval() recursion, bounded by PQ_MAX_HEIGHT */
	jmp_buf jb;
	enum pane_query_errclass cls;
	struct pane_err *err;
	pcre2_match_data *md;
};

/* A label builder on the step arena: copy, set, delete, then intern. */
struct lb {
	struct pane_label *l;
	size_t n, cap;
};

/* A pointer-keyed open-addressing map (interned sets to indexes) on an arena. */
struct pmap {
	const void **k;
	size_t *v;
	size_t cap, n;
	struct pane_arena *a;
};

static inline bool is_stale(double v)
{
	uint64_t b;
	memcpy(&b, &v, sizeof b);
	return b == PANE_STALE_NAN_BITS;
}

static inline bool drops_name(enum pq_op op)
{
	return op >= PQ_ADD && op <= PQ_POW;
}
static inline bool is_cmp(enum pq_op op)
{
	return op >= PQ_EQL && op <= PQ_LTE;
}
static inline void free_buf(void *p)
{
	pane_buf_release(p);
}
static inline void free_md(void *p)
{
	pcre2_match_data_free(p);
}
static inline void free_re(void *p)
{
	pcre2_code_free(p);
}

/* ---- eval.c: the core (label sets, arenas, selectors, subqueries, the driver) and numbers ---- */
int64_t pq_at_time(struct ev *ev, const struct pq_node *n, int64_t t);
void pq_check_dups(struct ev *ev, const struct val *v);
const struct lset *pq_drop_name(struct ev *ev, const struct lset *s);
void pq_ev_defer(struct ev *ev, void (*fn)(void *), void *arg);
void pq_ev_fail(struct ev *ev, enum pane_query_errclass cls, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));
void pq_ev_undefer(struct ev *ev, int n);
struct val pq_eval(struct ev *ev, struct pq_node *n, int64_t t);
struct cache *pq_load(struct ev *ev, struct pq_node *vs);
void *pq_qalloc(struct ev *ev, size_t n);
/* arr (n elements of size bytes, *cap allocated, on the query arena) with
 * room for one more: the same array, or a copy twice as large. */
void *pq_qgrow(struct ev *ev, void *arr, size_t n, size_t *cap, size_t size);
bool pq_slice(struct ev *ev, const struct cache *c, size_t i, int64_t lo, int64_t hi, struct mseries *out,
              int64_t *scratch_t, double *scratch_v);
bool pq_in_list(const char *name, const char **l, size_t n);
void pq_lb_del(struct lb *b, const char *name);
const struct lset *pq_lb_done(struct ev *ev, struct lb *b);
void pq_lb_from(struct ev *ev, struct lb *b, const struct lset *s, size_t extra);
void pq_lb_set(struct ev *ev, struct lb *b, const char *name, const char *value);
size_t *pq_pmap_get(struct pmap *m, const void *key);
void pq_pmap_init(struct ev *ev, struct pmap *m, size_t hint);
size_t *pq_pmap_slot(struct ev *ev, struct pmap *m, const void *key, bool *found);
double pq_quantile(double q, double *v, size_t n);
void *pq_salloc(struct ev *ev, size_t n);
char *pq_sstrndup(struct ev *ev, const char *p, size_t n);
const struct lset *pq_subset(struct ev *ev, const void *key, const struct lset *s, bool keep_listed, const char **l,
                             size_t n);
struct val pq_vec_alloc(struct ev *ev, size_t cap);

/* ---- functions.c: PromQL functions ---- */
struct val pq_eval_call(struct ev *ev, struct pq_node *n, int64_t t);
bool pq_memo_eligible(const struct pq_node *call);
void pq_go_sort_values(struct sample *v, size_t n, bool desc);
double pq_scalar_arg(struct ev *ev, struct pq_node *n, int64_t t);
bool pq_valid_label_name(const char *s);

/* ---- aggregate.c: sum, topk, quantile and the other aggregations ---- */
struct val pq_eval_agg(struct ev *ev, struct pq_node *n, int64_t t);

/* ---- binary.c: arithmetic, comparison and set operators, vector matching ---- */
struct val pq_eval_bin(struct ev *ev, struct pq_node *n, int64_t t);

/* ---- small helpers on hot paths, inline ---- */

static inline const char *pq_lget(const struct lset *s, const char *name)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (!strcmp(s->l[i].name, name))
			return s->l[i].value;
	return NULL;
}

static inline void pq_check_time(struct ev *ev)
{
	if ((++ev->tick & 255) == 0 && pane_mono_ns() > ev->deadline)
		pq_ev_fail(ev, PANE_QERR_TIMEOUT, PANE_ETIMEDOUT, "query timed out in expression evaluation");
}

static inline void pq_kahan_inc(double inc, double *sum, double *c)
{
	double t = *sum + inc;
	if (fabs(*sum) >= fabs(inc))
		*c += (*sum - t) + inc;
	else
		*c += (inc - t) + *sum;
	*sum = t;
}

static inline double pq_go_max(double a, double b)
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

static inline double pq_go_min(double a, double b)
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

static inline bool pq_binop_val(enum pq_op op, double l, double r, double *out)
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

#endif
