/*
 * functions.c - PromQL's functions (rate, *_over_time, histogram_quantile,
 * label_replace, date parts, math, sort, ...), as Prometheus 2.42 computes them.
 *
 * One entry point, pq_eval_call, dispatches on the function id the parser
 * resolved; argument types are the parser's (eval_internal.h invariant 6).
 * Matrix functions see stale-free windows (invariant 5); rate/increase/delta
 * extrapolate exactly as Prometheus' extrapolatedRate. Ties in sort() keep
 * Go's order (gosort.c).
 *
 * In a range query, a range function without scalar arguments over a plain
 * selector outside subqueries is computed for every step at its first use,
 * series by series (memo_fill: each series' samples walked once, in order,
 * avg_over_time four windows at a time), and each step reads its row
 * (memo_step); range_value is the one computation of a window either way.
 * A big table (FILL_PAR_CELLS) is filled by the query's thread and one
 * helper thread, claiming series from a counter: each column is computed
 * the same way by whichever thread, so the answer is the same bits.
 */
#include "query/eval_internal.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "base/str.h"
#include "query/gosort.h"

/* ---------------- functions ---------------- */

double pq_scalar_arg(struct ev *ev, struct pq_node *n, int64_t t)
{
	struct val v = pq_eval(ev, n, t);
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
		*ref = pq_at_time(ev, arg->a, t) - arg->a->offset;
	} else {
		*range = arg->range;
		*ref = pq_at_time(ev, arg, t) - arg->offset;
	}
}

/* (double)ms / 1000, the correctly rounded seconds; a whole number of
 * seconds (timestamps of a scrape, steps, ranges: most of them) is that
 * quotient exactly, by an integer division the compiler makes a multiply */
static inline double ms_to_s(int64_t ms)
{
	if (ms % 1000 == 0 && ms < ((int64_t)1 << 53) && ms > -((int64_t)1 << 53))
		return (double)(ms / 1000);
	return (double)ms / 1000;
}

/* no_resets: the caller knows no sample of s is below the one before it,
 * so only the first sample's comparison with 0 is left of the loop. */
static bool extrapolated(const struct mseries *s, int64_t range, int64_t ref, bool counter, bool is_rate,
                         bool no_resets, double *out)
{
	if (s->n < 2)
		return false;
	int64_t rstart = ref - range, rend = ref;
	double result = s->v[s->n - 1] - s->v[0];
	if (counter && no_resets) {
		if (s->v[0] < 0)
			result += 0; /* as the loop would: -0 becomes 0 */
	} else if (counter) {
		double last = 0;
		for (size_t i = 0; i < s->n; i++) {
			if (s->v[i] < last)
				result += last;
			last = s->v[i];
		}
	}
	double to_start = ms_to_s(s->t[0] - rstart);
	double to_end = ms_to_s(rend - s->t[s->n - 1]);
	double sampled = ms_to_s(s->t[s->n - 1] - s->t[0]);
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
		result = result / ms_to_s(range);
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
		double x = ms_to_s(s->t[i] - icpt);
		pq_kahan_inc(x, &sx, &cx);
		pq_kahan_inc(s->v[i], &sy, &cy);
		pq_kahan_inc(x * s->v[i], &sxy, &cxy);
		pq_kahan_inc(x * x, &sx2, &cx2);
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
			pq_kahan_inc(x / count - mean / count, &mean, &c);
		}
		if (isinf(mean))
			return mean;
		return mean + c;
	}
	case F_SUM_OVER_TIME: {
		double sum = 0, c = 0;
		for (size_t i = 0; i < s->n; i++)
			pq_kahan_inc(s->v[i], &sum, &c);
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
			pq_kahan_inc(delta / count, &mean, &cm);
			pq_kahan_inc(delta * (s->v[i] - (mean + cm)), &aux, &ca);
		}
		double var = (aux + ca) / count;
		return f == F_STDDEV_OVER_TIME ? sqrt(var) : var;
	}
	case F_QUANTILE_OVER_TIME: {
		double *tmp = pq_salloc(ev, s->n * sizeof *tmp);
		memcpy(tmp, s->v, s->n * sizeof *tmp);
		return pq_quantile(q, tmp, s->n);
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

/* The value of range function f (rate ... resets, quantile_over_time,
 * predict_linear, holt_winters with their scalars p1, p2) over one
 * stale-free window s of a matrix argument with this range, ending at ref,
 * evaluated at t. false: no value (too few samples). */
static bool range_value(struct ev *ev, enum pq_fn f, const struct mseries *s, int64_t range, int64_t ref, int64_t t,
                        double p1, double p2, bool no_resets, double *outp)
{
	double out = 0;
	bool ok = true;
	switch (f) {
	case F_RATE: ok = extrapolated(s, range, ref, true, true, no_resets, &out); break;
	case F_INCREASE: ok = extrapolated(s, range, ref, true, false, no_resets, &out); break;
	case F_DELTA: ok = extrapolated(s, range, ref, false, false, false, &out); break;
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
	*outp = out;
	return ok;
}

/* ---------------- range functions for every step at once ---------------- */

/* A call whose every step memo_fill can compute ahead: a range function
 * without scalar arguments over a matrix selector (not a subquery). */
bool pq_memo_eligible(const struct pq_node *call)
{
	switch (call->func->id) {
	case F_RATE:
	case F_INCREASE:
	case F_DELTA:
	case F_IRATE:
	case F_IDELTA:
	case F_DERIV:
	case F_AVG_OVER_TIME:
	case F_SUM_OVER_TIME:
	case F_COUNT_OVER_TIME:
	case F_MIN_OVER_TIME:
	case F_MAX_OVER_TIME:
	case F_STDDEV_OVER_TIME:
	case F_STDVAR_OVER_TIME:
	case F_LAST_OVER_TIME:
	case F_PRESENT_OVER_TIME:
	case F_CHANGES:
	case F_RESETS: break;
	default: return false;
	}
	return call->nargs == 1 && unparen(call->args[0])->kind == PQ_MSEL;
}

/* avg_over_time of AVG_LANES windows at once (windows of neighbouring
 * steps): each lane does exactly over_time()'s operations in its order, so
 * the same bits, but the lanes' division chains overlap in the CPU instead
 * of waiting on each other. A lane with n == 0 gives nothing. */
#define AVG_LANES 4
static void avg_over_time_lanes(const struct mseries *w, double *out)
{
	double mean[AVG_LANES] = {0}, count[AVG_LANES] = {0}, c[AVG_LANES] = {0};
	size_t nmax = 0;
	for (int l = 0; l < AVG_LANES; l++)
		if (w[l].n > nmax)
			nmax = w[l].n;
	for (size_t j = 0; j < nmax; j++)
		for (int l = 0; l < AVG_LANES; l++) {
			if (j >= w[l].n)
				continue;
			double x = w[l].v[j];
			count[l]++;
			if (isinf(mean[l])) {
				if (isinf(x) && (mean[l] > 0) == (x > 0))
					continue;
				if (!isinf(x) && !isnan(x))
					continue;
			}
			pq_kahan_inc(x / count[l] - mean[l] / count[l], &mean[l], &c[l]);
		}
	for (int l = 0; l < AVG_LANES; l++)
		out[l] = isinf(mean[l]) ? mean[l] : mean[l] + c[l];
}

/* memo_fill's shared state: the series are claimed FILL_CLAIM at a time
 * by the query's thread and, for a big table, one helper thread. Each
 * series' column is computed by exactly the same operations whoever
 * computes it, and only its own cells and hints are written, so the table
 * is the same bytes either way. */
#define FILL_CLAIM 16
#define FILL_PAR_CELLS 65536 /* smaller tables: one thread (a thread costs ~50 us) */

struct fill {
	struct ev *ev;
	struct rmemo *m;
	struct cache *c;
	struct pq_node *marg, *vs;
	enum pq_fn f;
	size_t nsteps, maxn;
	atomic_size_t next;
	atomic_bool late; /* the query's time is up: both threads stop claiming */
};

/* Computes series i's column of f->m (st, sv: maxn + 1 each; resets too,
 * for rate and increase). Reads ev, never allocates from it. */
static void fill_series(struct fill *fl, size_t i, int64_t *st, double *sv, uint32_t *resets)
{
	struct ev *ev = fl->ev;
	struct rmemo *m = fl->m;
	struct cache *c = fl->c;
	struct pq_node *marg = fl->marg, *vs = fl->vs;
	enum pq_fn f = fl->f;
	size_t nsteps = fl->nsteps;
	const struct mseries *cs = &c->series[i];
	if (resets) {
		resets[0] = 0;
		for (size_t j = 0; j < cs->n; j++)
			resets[j + 1] = resets[j] + (j > 0 && cs->v[j] < cs->v[j - 1]);
	}
	int64_t t = ev->start;
	size_t k = 0;
	if (f == F_AVG_OVER_TIME && !c->stale[i]) /* windows point into the cache */
		for (; k + AVG_LANES <= nsteps; k += AVG_LANES) {
			struct mseries w[AVG_LANES];
			double out[AVG_LANES];
			for (int l = 0; l < AVG_LANES; l++, t += ev->step) {
				int64_t ref = pq_at_time(ev, vs, t) - vs->offset;
				if (!pq_slice(ev, c, i, ref - marg->range, ref, &w[l], NULL, NULL))
					w[l].n = 0;
			}
			avg_over_time_lanes(w, out);
			for (int l = 0; l < AVG_LANES; l++) {
				m->has[(k + l) * c->n + i] = w[l].n > 0;
				m->v[(k + l) * c->n + i] = w[l].n > 0 ? out[l] : 0;
			}
		}
	for (; k < nsteps; k++, t += ev->step) {
		int64_t ref = pq_at_time(ev, vs, t) - vs->offset;
		struct mseries w;
		double out = 0;
		bool ok = pq_slice(ev, c, i, ref - marg->range, ref, &w, st, sv);
		bool no_resets = false;
		if (ok && resets && w.v >= cs->v && w.v < cs->v + cs->n) { /* not a copy */
			size_t a = (size_t)(w.v - cs->v);
			no_resets = resets[a + w.n] == resets[a + 1];
		}
		ok = ok && range_value(ev, f, &w, marg->range, ref, t, 0, 0, no_resets, &out);
		m->has[k * c->n + i] = ok;
		m->v[k * c->n + i] = out;
	}
}

/* watch: the query's thread, which looks at the clock between claims
 * (pq_check_time's longjmp must wait until the helper is done). */
static void fill_claims(struct fill *fl, int64_t *st, double *sv, uint32_t *resets, bool watch)
{
	for (;;) {
		if (watch && pane_mono_ns() > fl->ev->deadline)
			atomic_store(&fl->late, true);
		if (atomic_load(&fl->late))
			return;
		size_t i0 = atomic_fetch_add(&fl->next, FILL_CLAIM);
		if (i0 >= fl->c->n)
			return;
		for (size_t i = i0; i < i0 + FILL_CLAIM && i < fl->c->n; i++)
			fill_series(fl, i, st, sv, resets);
	}
}

/* The helper thread: its own scratch (malloc: the query's arenas are the
 * query thread's). */
static void *fill_helper(void *arg)
{
	struct fill *fl = arg;
	int64_t *st = pane_xmalloc((fl->maxn + 1) * sizeof *st);
	double *sv = pane_xmalloc((fl->maxn + 1) * sizeof *sv);
	bool counter = fl->f == F_RATE || fl->f == F_INCREASE;
	uint32_t *resets = counter ? pane_xmalloc((fl->maxn + 1) * sizeof *resets) : NULL;
	fill_claims(fl, st, sv, resets, false);
	free(st);
	free(sv);
	free(resets);
	return NULL;
}

/* Computes m for every top-level step, series by series; false (and m->off)
 * when the table would take more than a quarter of what the query's budget
 * has left, so a query that fit before still fits. A big table is shared
 * with a helper thread (struct fill); the query's thread looks at the
 * clock between claims and fails the query only once the helper is done
 * (pq_ev_fail leaves by longjmp, never while the helper writes into the
 * table). */
static bool memo_fill(struct ev *ev, struct rmemo *m)
{
	enum pq_fn f = m->call->func->id;
	struct pq_node *marg = unparen(m->call->args[0]);
	struct pq_node *vs = marg->a;
	struct cache *c = pq_load(ev, vs);
	size_t nsteps = (size_t)((ev->end - ev->start) / ev->step) + 1;
	size_t maxn = 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->series[i].n > maxn)
			maxn = c->series[i].n;
	size_t cells = c->n * nsteps;
	size_t need = cells * (sizeof(double) + 1) + c->n * sizeof *m->m + maxn * 16 + 64;
	size_t left = ev->budget.limit > ev->budget.used ? ev->budget.limit - ev->budget.used : 0;
	if (nsteps < 2 || cells / nsteps != c->n || need > left / 4) {
		m->off = true;
		return false;
	}
	m->nser = c->n;
	m->nsteps = nsteps;
	m->v = pq_qalloc(ev, cells * sizeof *m->v + 1);
	m->has = pq_qalloc(ev, cells + 1);
	m->m = pq_qalloc(ev, (c->n + 1) * sizeof *m->m);
	int64_t *st = pq_qalloc(ev, (maxn + 1) * sizeof *st);
	double *sv = pq_qalloc(ev, (maxn + 1) * sizeof *sv);
	/* rate, increase: resets[j] = how many samples before j are below their
	 * predecessor, so a window without one skips extrapolated()'s scan */
	bool counter = f == F_RATE || f == F_INCREASE;
	uint32_t *resets = counter ? pq_qalloc(ev, (maxn + 1) * sizeof *resets) : NULL;
	for (size_t i = 0; i < c->n; i++)
		m->m[i] = f == F_LAST_OVER_TIME ? c->series[i].m : pq_drop_name(ev, c->series[i].m);
	struct fill fl = {.ev = ev, .m = m, .c = c, .marg = marg, .vs = vs, .f = f, .nsteps = nsteps, .maxn = maxn};
	atomic_init(&fl.next, 0);
	atomic_init(&fl.late, false);
	pthread_t helper;
	if (cells >= FILL_PAR_CELLS && c->n >= 2 * FILL_CLAIM && pthread_create(&helper, NULL, fill_helper, &fl) == 0) {
		fill_claims(&fl, st, sv, resets, true);
		pthread_join(helper, NULL);
		if (atomic_load(&fl.late)) /* the clock was read before every claim: no further check */
			pq_ev_fail(ev, PANE_QERR_TIMEOUT, PANE_ETIMEDOUT, "query timed out in expression evaluation");
	} else
		for (size_t i = 0; i < c->n; i++) {
			fill_series(&fl, i, st, sv, resets);
			pq_check_time(ev);
		}
	struct pmap seen;
	pq_pmap_init(ev, &seen, c->n);
	m->distinct = true;
	for (size_t i = 0; i < c->n && m->distinct; i++) {
		bool found;
		pq_pmap_slot(ev, &seen, m->m[i], &found);
		m->distinct = !found;
	}
	m->filled = true;
	return true;
}

/* The vector of a memoised call at top-level step t, into *v; false when the
 * call is not memoised (then it is evaluated step by step). *distinct: the
 * vector cannot hold two series with the same labels. */
static bool memo_step(struct ev *ev, struct pq_node *n, int64_t t, struct val *v, bool *distinct)
{
	struct rmemo *m = NULL;
	for (size_t i = 0; i < ev->rmemo_n; i++)
		if (ev->rmemo[i].call == n)
			m = &ev->rmemo[i];
	if (!m || m->off || (t - ev->start) % ev->step)
		return false;
	if (!m->filled && !memo_fill(ev, m))
		return false;
	size_t k = (size_t)((t - ev->start) / ev->step);
	if (k >= m->nsteps)
		return false;
	*v = pq_vec_alloc(ev, m->nser);
	const uint8_t *has = m->has + k * m->nser;
	const double *val = m->v + k * m->nser;
	for (size_t i = 0; i < m->nser; i++)
		if (has[i])
			v->s[v->n++] = (struct sample){m->m[i], val[i], t};
	*distinct = m->distinct;
	return true;
}

static struct val absent_labels(struct ev *ev, struct pq_node *arg)
{
	arg = unparen(arg);
	struct pq_node *vs = arg->kind == PQ_MSEL ? arg->a : arg->kind == PQ_VSEL ? arg : NULL;
	struct lb b = {0};
	b.cap = 8;
	b.l = pq_salloc(ev, b.cap * sizeof *b.l);
	if (vs) {
		const char **drop = pq_salloc(ev, (vs->n_matchers + 1) * sizeof *drop);
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
				pq_lb_set(ev, &b, m->name, m->value);
			else
				drop[nd++] = m->name;
		}
		for (size_t i = 0; i < nd; i++)
			pq_lb_del(&b, drop[i]);
	}
	struct val v = pq_vec_alloc(ev, 1);
	v.s[0].m = pq_lb_done(ev, &b);
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

bool pq_valid_label_name(const char *s)
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
	struct val in = pq_eval(ev, n->args[0], t);
	const char *dst = str_arg(n->args[1]), *repl = str_arg(n->args[2]), *src = str_arg(n->args[3]),
	           *rx = str_arg(n->args[4]);
	struct pane_err rerr = {0};
	pcre2_code *re = pane_regex_compile(rx, 0, &rerr); /* no dot-all: Go's default, as Prometheus 2.x */
	if (!re)
		pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL, "invalid regular expression in label_replace(): %s",
		           rx);
	if (!pq_valid_label_name(dst)) {
		pcre2_code_free(re);
		pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL,
		           "invalid destination label name in label_replace(): %s", dst);
	}
	pq_ev_defer(ev, free_re, re);
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	pq_ev_defer(ev, free_md, md);
	struct pane_buf *b = pq_salloc(ev, sizeof *b);
	pane_buf_init(b, 1 << 20);
	pq_ev_defer(ev, free_buf, b);
	struct val v = pq_vec_alloc(ev, in.n);
	int failrc = 0;
	for (size_t i = 0; i < in.n; i++) {
		const char *sv = pq_lget(in.s[i].m, src);
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
			pq_lb_from(ev, &lb, m, 1);
			pq_lb_del(&lb, dst);
			if (b->len)
				pq_lb_set(ev, &lb, pq_sstrndup(ev, dst, strlen(dst)), pq_sstrndup(ev, b->data, b->len));
			m = pq_lb_done(ev, &lb);
		}
		v.s[v.n] = in.s[i];
		v.s[v.n].m = m;
		v.n++;
	}
	pq_ev_undefer(ev, 3);
	if (failrc)
		pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL,
		           "regular expression in label_replace() failed on a label value (match limit exceeded?)");
	return v;
}

static struct val fn_label_join(struct ev *ev, struct pq_node *n, int64_t t)
{
	struct val in = pq_eval(ev, n->args[0], t);
	const char *dst = str_arg(n->args[1]), *sep = str_arg(n->args[2]);
	if (!pq_valid_label_name(dst))
		pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL, "invalid destination label name in label_join(): %s",
		           dst);
	for (size_t k = 3; k < n->nargs; k++)
		if (!pq_valid_label_name(str_arg(n->args[k])))
			pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL,
			           "invalid source label name in label_join(): %s", str_arg(n->args[k]));
	struct val v = pq_vec_alloc(ev, in.n);
	struct pane_buf *b = pq_salloc(ev, sizeof *b);
	pane_buf_init(b, 1 << 20);
	pq_ev_defer(ev, free_buf, b);
	for (size_t i = 0; i < in.n; i++) {
		if (b->len) /* an empty buffer points at a shared static "" (base/buf.c) */
			pane_buf_reset(b);
		for (size_t k = 3; k < n->nargs; k++) {
			if (k > 3)
				pane_buf_adds(b, sep);
			const char *sv = pq_lget(in.s[i].m, str_arg(n->args[k]));
			if (sv)
				pane_buf_adds(b, sv);
		}
		struct lb lb;
		pq_lb_from(ev, &lb, in.s[i].m, 1);
		pq_lb_set(ev, &lb, dst, pq_sstrndup(ev, b->data, b->len));
		v.s[v.n] = in.s[i];
		v.s[v.n].m = pq_lb_done(ev, &lb);
		v.n++;
	}
	pq_ev_undefer(ev, 1);
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
	double q = pq_scalar_arg(ev, n->args[0], t);
	struct val in = pq_eval(ev, n->args[1], t);
	struct pmap idx;
	pq_pmap_init(ev, &idx, in.n);
	struct bucket *bk = pq_salloc(ev, (in.n + 1) * sizeof *bk);
	size_t *grp = pq_salloc(ev, (in.n + 1) * sizeof *grp);
	const struct lset **gm = pq_salloc(ev, (in.n + 1) * sizeof *gm);
	size_t ng = 0, nb = 0;
	for (size_t i = 0; i < in.n; i++) {
		const char *le = pq_lget(in.s[i].m, "le");
		if (!le)
			continue;
		double ub;
		if (pane_str_to_double(pane_str_c(le), &ub) != 0)
			continue;
		/* grouped with the metric name, output without it: buckets of two
		 * histograms with the same labels are not merged; the result then
		 * holds a duplicate set and fails, as in Prometheus (its #9910) */
		struct lb lb;
		pq_lb_from(ev, &lb, in.s[i].m, 0);
		pq_lb_del(&lb, "le");
		const struct lset *m = pq_lb_done(ev, &lb);
		bool f;
		size_t *slot = pq_pmap_slot(ev, &idx, m, &f);
		if (!f) {
			*slot = ng;
			gm[ng++] = pq_drop_name(ev, m);
		}
		bk[nb].ub = ub;
		bk[nb].count = in.s[i].v;
		grp[nb++] = *slot;
	}
	struct val v = pq_vec_alloc(ev, ng);
	struct bucket *tmp = pq_salloc(ev, (nb + 1) * sizeof *tmp);
	for (size_t g = 0; g < ng; g++) {
		size_t k = 0;
		for (size_t i = 0; i < nb; i++)
			if (grp[i] == g)
				tmp[k++] = bk[i];
		v.s[v.n].m = gm[g];
		v.s[v.n].t = t;
		v.s[v.n++].v = bucket_quantile(q, tmp, k);
	}
	pq_check_dups(ev, &v);
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

void pq_go_sort_values(struct sample *v, size_t n, bool desc)
{
	pq_go_sort(v, n, sizeof *v, sample_less, &desc);
}

struct val pq_eval_call(struct ev *ev, struct pq_node *n, int64_t t)
{
	enum pq_fn f = n->func->id;
	struct val v;
	switch (f) {
	case F_TIME: return (struct val){.type = PQ_T_SCALAR, .scalar = (double)t / 1000};
	case F_PI: return (struct val){.type = PQ_T_SCALAR, .scalar = M_PI};
	case F_VECTOR: {
		double s = pq_scalar_arg(ev, n->args[0], t);
		v = pq_vec_alloc(ev, 1);
		v.s[0] = (struct sample){ev->empty, s, t};
		v.n = 1;
		return v;
	}
	case F_SCALAR: {
		struct val in = pq_eval(ev, n->args[0], t);
		return (struct val){.type = PQ_T_SCALAR, .scalar = in.n == 1 ? in.s[0].v : NAN};
	}
	case F_LABEL_REPLACE: v = fn_label_replace(ev, n, t); break;
	case F_LABEL_JOIN: v = fn_label_join(ev, n, t); break;
	case F_HISTOGRAM_QUANTILE: v = fn_histogram_quantile(ev, n, t); break;
	case F_ABSENT: {
		struct val in = pq_eval(ev, n->args[0], t);
		if (in.n)
			return pq_vec_alloc(ev, 0);
		v = absent_labels(ev, n->args[0]);
		break;
	}
	case F_ABSENT_OVER_TIME: {
		struct val in = pq_eval(ev, n->args[0], t);
		if (in.n)
			return pq_vec_alloc(ev, 0);
		v = absent_labels(ev, n->args[0]);
		break;
	}
	case F_TIMESTAMP: {
		struct val in = pq_eval(ev, n->args[0], t);
		bool raw = unparen(n->args[0])->kind == PQ_VSEL; /* timestamp(((m))) too, as Prometheus */
		v = pq_vec_alloc(ev, in.n);
		for (size_t i = 0; i < in.n; i++)
			v.s[v.n++] =
			    (struct sample){pq_drop_name(ev, in.s[i].m), (double)(raw ? in.s[i].t : t) / 1000, t};
		break;
	}
	case F_SORT:
	case F_SORT_DESC: {
		struct val in = pq_eval(ev, n->args[0], t);
		v = pq_vec_alloc(ev, in.n);
		memcpy(v.s, in.s, in.n * sizeof *v.s);
		v.n = in.n;
		pq_go_sort_values(v.s, v.n, f != F_SORT);
		break;
	}
	case F_DAY_OF_MONTH:
	case F_DAY_OF_WEEK:
	case F_DAY_OF_YEAR:
	case F_DAYS_IN_MONTH:
	case F_HOUR:
	case F_MINUTE:
	case F_MONTH:
	case F_YEAR: {
		if (n->nargs == 0) {
			v = pq_vec_alloc(ev, 1);
			v.s[0] = (struct sample){ev->empty, date_part(f, floor((double)t / 1000)), t};
			v.n = 1;
			return v;
		}
		struct val in = pq_eval(ev, n->args[0], t);
		v = pq_vec_alloc(ev, in.n);
		for (size_t i = 0; i < in.n; i++)
			v.s[v.n++] = (struct sample){pq_drop_name(ev, in.s[i].m), date_part(f, in.s[i].v), t};
		break;
	}
	case F_CLAMP:
	case F_CLAMP_MIN:
	case F_CLAMP_MAX: {
		struct val in = pq_eval(ev, n->args[0], t);
		double lo = -INFINITY, hi = INFINITY;
		if (f == F_CLAMP) {
			lo = pq_scalar_arg(ev, n->args[1], t);
			hi = pq_scalar_arg(ev, n->args[2], t);
			if (hi < lo)
				return pq_vec_alloc(ev, 0);
		} else if (f == F_CLAMP_MIN) {
			lo = pq_scalar_arg(ev, n->args[1], t);
		} else {
			hi = pq_scalar_arg(ev, n->args[1], t);
		}
		v = pq_vec_alloc(ev, in.n);
		for (size_t i = 0; i < in.n; i++) {
			double x = in.s[i].v;
			if (f == F_CLAMP)
				x = pq_go_max(lo, pq_go_min(hi, x));
			else if (f == F_CLAMP_MIN)
				x = pq_go_max(lo, x);
			else
				x = pq_go_min(hi, x);
			v.s[v.n++] = (struct sample){pq_drop_name(ev, in.s[i].m), x, t};
		}
		break;
	}
	case F_ROUND: {
		struct val in = pq_eval(ev, n->args[0], t);
		double to = n->nargs > 1 ? pq_scalar_arg(ev, n->args[1], t) : 1;
		double inv = 1.0 / to;
		v = pq_vec_alloc(ev, in.n);
		for (size_t i = 0; i < in.n; i++)
			v.s[v.n++] =
			    (struct sample){pq_drop_name(ev, in.s[i].m), floor(in.s[i].v * inv + 0.5) / inv, t};
		break;
	}
	case F_RATE:
	case F_INCREASE:
	case F_DELTA:
	case F_IRATE:
	case F_IDELTA:
	case F_DERIV:
	case F_PREDICT_LINEAR:
	case F_HOLT_WINTERS:
	case F_AVG_OVER_TIME:
	case F_SUM_OVER_TIME:
	case F_COUNT_OVER_TIME:
	case F_MIN_OVER_TIME:
	case F_MAX_OVER_TIME:
	case F_STDDEV_OVER_TIME:
	case F_STDVAR_OVER_TIME:
	case F_QUANTILE_OVER_TIME:
	case F_LAST_OVER_TIME:
	case F_PRESENT_OVER_TIME:
	case F_CHANGES:
	case F_RESETS: {
		struct pq_node *marg = f == F_QUANTILE_OVER_TIME ? n->args[1] : n->args[0];
		double p1 = 0, p2 = 0;
		if (f == F_QUANTILE_OVER_TIME)
			p1 = pq_scalar_arg(ev, n->args[0], t);
		else if (f == F_PREDICT_LINEAR)
			p1 = pq_scalar_arg(ev, n->args[1], t);
		else if (f == F_HOLT_WINTERS) {
			p1 = pq_scalar_arg(ev, n->args[1], t);
			p2 = pq_scalar_arg(ev, n->args[2], t);
			if (p1 <= 0 || p1 >= 1)
				pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL,
				           "invalid smoothing factor. Expected: 0 < sf < 1, got: %g", p1);
			if (p2 <= 0 || p2 >= 1)
				pq_ev_fail(ev, PANE_QERR_EXECUTION, PANE_EINVAL,
				           "invalid trend factor. Expected: 0 < tf < 1, got: %g", p2);
		}
		bool distinct = false;
		if (ev->rmemo_n && memo_step(ev, n, t, &v, &distinct)) {
			if (distinct)
				return v;
			break;
		}
		struct val in = pq_eval(ev, marg, t);
		int64_t range, ref;
		matrix_window(ev, marg, t, &range, &ref);
		v = pq_vec_alloc(ev, in.n);
		for (size_t i = 0; i < in.n; i++) {
			const struct mseries *s = &in.ms[i];
			double out;
			pq_check_time(ev);
			if (!range_value(ev, f, s, range, ref, t, p1, p2, false, &out))
				continue;
			v.s[v.n++] = (struct sample){f == F_LAST_OVER_TIME ? s->m : pq_drop_name(ev, s->m), out, t};
		}
		break;
	}
	default: {
		struct val in = pq_eval(ev, n->args[0], t);
		v = pq_vec_alloc(ev, in.n);
		for (size_t i = 0; i < in.n; i++)
			v.s[v.n++] = (struct sample){pq_drop_name(ev, in.s[i].m), math1(f, in.s[i].v), t};
		break;
	}
	}
	pq_check_dups(ev, &v);
	return v;
}
