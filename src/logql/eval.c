/*
 * eval.c - LogQL evaluation over the log reader seam.
 *
 * Idea: a log query streams the selected lines once through the pipeline
 * (pipeline.c), in the asked direction, and stops at `limit` kept lines.
 * A range aggregation reads its lines once, oldest first, over
 * (first step - range, last step], keeps per output series only the kept
 * lines' timestamps (and sizes, for the bytes functions), then slides a
 * window over them for every step: O(lines + steps) per series, whatever
 * the ratio of range to step. Everything above is a matrix of series x
 * steps (NaN = no point), so aggregations, topk and binary operators are
 * column-wise loops and an instant query is the one-step case. A sum
 * by/without directly over a range aggregation counts lines per group
 * while reading (the functions are sums of per-line terms), so
 * `sum by (level) (count_over_time({..} | logfmt [1m]))` never builds a
 * series per distinct extracted label set.
 *
 * Invariants:
 *   (1) Series x steps never exceeds PANE_LOGQL_MAX_POINTS, kept lines of
 *       a range aggregation never exceed MAX_LINES, lines of a log query
 *       never exceed the limit; past a bound the query fails (ETOOBIG).
 *   (2) The window for step t is (t - range, t], in ms; a log query's range
 *       is [start, end).
 *   (3) A series whose window is empty has no point at that step (NaN),
 *       as in Loki; a series with no point at all is not answered.
 *   (4) A text prefilter is handed to the store only when it is implied by
 *       a |= stage that runs before any line_format, so it never drops a
 *       line the pipeline would keep.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/map.h"
#include "base/mem.h"
#include "logql/ast.h"

#define MAX_LINES ((size_t)50 * 1000 * 1000)
#define MAX_LOG_BYTES ((size_t)256 << 20)

/* ---------- label keys ---------- */

static void labels_key(struct pane_buf *b, const struct pane_labels *ls)
{
	pane_buf_reset(b);
	for (size_t i = 0; i < ls->n; i++) {
		pane_buf_adds(b, ls->v[i].name);
		pane_buf_addc(b, '\xff');
		pane_buf_adds(b, ls->v[i].value);
		pane_buf_addc(b, '\xfe');
	}
	pane_buf_addc(b, '\0');
}

/* Whether label `name` stays under agg's by (...) / without (...). */
static bool kept_by(const struct lq_node *agg, const char *name)
{
	if (!agg->grouped)
		return false;
	bool listed = false;
	for (size_t k = 0; k < agg->n_names && !listed; k++)
		listed = !strcmp(name, agg->names[k]);
	return listed != agg->without;
}

/* The key of the labels that stay under agg (all of them when agg is NULL). */
static void group_key(struct pane_buf *b, const struct pane_labels *ls, const struct lq_node *agg)
{
	pane_buf_reset(b);
	for (size_t i = 0; i < ls->n; i++) {
		if (agg && !kept_by(agg, ls->v[i].name))
			continue;
		pane_buf_adds(b, ls->v[i].name);
		pane_buf_addc(b, '\xff');
		pane_buf_adds(b, ls->v[i].value);
		pane_buf_addc(b, '\xfe');
	}
	pane_buf_addc(b, '\0');
}

static const char *prefilter(const struct lq_log *log)
{
	const char *best = NULL;
	size_t bl = 0;
	for (size_t i = 0; i < log->n_stages; i++) {
		const struct lq_stage *st = &log->stages[i];
		if (st->kind == LQ_LINE_FORMAT)
			break;
		if (st->kind == LQ_LINE_FILTER && st->lop == LQ_CONTAINS && st->text_len > bl &&
		    st->text_len <= PANE_LOGREADER_CONTAINS_MAX && strlen(st->text) == st->text_len) {
			best = st->text;
			bl = st->text_len;
		}
	}
	return best;
}

/* ---------- log queries ---------- */

struct logctx {
	const struct lq_log *log;
	struct lq_run run;
	struct pane_buf key;
	struct pane_map idx; /* label key -> stream index + 1 */
	struct pane_logql_result *res;
	size_t cap, kept, limit, bytes;
	struct pane_err *err;
};

static int log_line(void *arg, const struct pane_log_line *l)
{
	struct logctx *c = arg;
	c->res->lines_read++;
	c->res->bytes_read += l->message_len;
	int k = lq_pipeline(c->log, &c->run, l->labels, l->message, l->message_len);
	if (k < 0)
		return pane_err_set(c->err, PANE_ETOOBIG, "a regex in the query hit its match limit");
	if (!k)
		return 0;
	const struct pane_labels *ls = c->log->changes_labels ? &c->run.labels : l->labels;
	labels_key(&c->key, ls);
	size_t i = (size_t)(uintptr_t)pane_map_get(&c->idx, c->key.data, c->key.len);
	struct pane_logql_result *res = c->res;
	if (!i) {
		if (res->n_streams == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 16;
			res->streams = pane_xrealloc(res->streams, pane_mul_size(c->cap, sizeof *res->streams));
		}
		struct pane_logql_stream *s = &res->streams[res->n_streams++];
		memset(s, 0, sizeof *s);
		pane_labels_copy(&s->labels, ls);
		i = res->n_streams;
		pane_map_put(&c->idx, c->key.data, c->key.len, (void *)(uintptr_t)i);
	}
	struct pane_logql_stream *s = &res->streams[i - 1];
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = pane_xrealloc(s->v, pane_mul_size(s->cap, sizeof *s->v));
	}
	c->bytes += c->run.out_len;
	if (c->bytes > MAX_LOG_BYTES)
		return pane_err_set(c->err, PANE_ETOOBIG, "the answer is over %zu MiB; lower the limit",
		                    MAX_LOG_BYTES >> 20);
	char *line = pane_xmalloc(c->run.out_len + 1);
	memcpy(line, c->run.out, c->run.out_len);
	line[c->run.out_len] = '\0';
	s->v[s->n++] = (struct pane_logql_entry){.ts_ms = l->ts_ms, .line = line, .len = c->run.out_len};
	return ++c->kept == c->limit ? 1 : 0;
}

static int64_t ns_to_ms_floor(int64_t ns)
{
	return ns >= 0 ? ns / 1000000 : -((-ns + 999999) / 1000000);
}

static int eval_log(const struct lq_log *log, const struct pane_logreader *r, const struct pane_logql_params *p,
                    struct pane_logql_result *res, struct pane_err *err)
{
	res->kind = PANE_LOGQL_STREAMS;
	struct logctx c = {.log = log, .res = res, .limit = p->limit, .err = err};
	lq_run_init(&c.run);
	pane_buf_init(&c.key, PANE_BUF_NOLIMIT);
	pane_map_init(&c.idx, NULL);
	/* [start, end) in ns -> [mint, maxt] in ms */
	struct pane_log_select s = {.matchers = log->matchers,
	                            .n_matchers = log->n_matchers,
	                            .mint = ns_to_ms_floor(p->start_ns),
	                            .maxt = ns_to_ms_floor(p->end_ns - 1),
	                            .forward = p->forward,
	                            .contains = prefilter(log)};
	int rc = s.maxt < s.mint ? 0 : r->ops->select(r->ctx, &s, log_line, &c, err);
	lq_run_release(&c.run);
	pane_buf_release(&c.key);
	pane_map_release(&c.idx);
	return rc;
}

/* ---------- metric queries ---------- */

struct mat {
	struct pane_logql_series *s;
	size_t n;
	bool scalar; /* one series without labels, the same number at every step */
};

struct env {
	const struct pane_logreader *r;
	int64_t start_ms, step_ms;
	size_t steps;
	struct pane_logql_result *res;
	struct pane_err *err;
	size_t points;
};

static void mat_free(struct mat *m)
{
	for (size_t i = 0; i < m->n; i++) {
		pane_labels_release(&m->s[i].labels);
		free(m->s[i].v);
	}
	free(m->s);
	m->s = NULL;
	m->n = 0;
}

static int mat_add(struct env *e, struct mat *m, size_t *cap, const struct pane_labels *ls, double fill)
{
	e->points += e->steps;
	if (e->points > PANE_LOGQL_MAX_POINTS)
		return pane_err_set(e->err, PANE_ETOOBIG,
		                    "the query would answer more than %d points (series x steps); narrow the selector "
		                    "or raise the step",
		                    PANE_LOGQL_MAX_POINTS);
	if (m->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		m->s = pane_xrealloc(m->s, pane_mul_size(*cap, sizeof *m->s));
	}
	struct pane_logql_series *s = &m->s[m->n++];
	if (ls)
		pane_labels_copy(&s->labels, ls);
	else
		pane_labels_init(&s->labels);
	s->v = pane_xmalloc(pane_mul_size(e->steps, sizeof *s->v));
	for (size_t i = 0; i < e->steps; i++)
		s->v[i] = fill;
	return 0;
}

struct acc {
	struct pane_labels labels;
	int64_t *ts;
	uint32_t *bytes;
	size_t n, cap;
};

struct rangectx {
	const struct lq_node *node;
	const struct lq_node *group; /* a sum by/without over this range: lines counted per group */
	struct lq_run run;
	struct pane_buf key;
	struct pane_map by_ptr; /* stream labels pointer -> acc index + 1 (labels unchanged) */
	struct pane_map by_key; /* label key -> acc index + 1 */
	struct acc *acc;
	size_t n_acc, cap_acc, lines;
	bool want_bytes;
	struct env *e;
};

static int range_line(void *arg, const struct pane_log_line *l)
{
	struct rangectx *c = arg;
	c->e->res->lines_read++;
	c->e->res->bytes_read += l->message_len;
	const struct lq_log *log = c->node->log;
	int k = lq_pipeline(log, &c->run, l->labels, l->message, l->message_len);
	if (k < 0)
		return pane_err_set(c->e->err, PANE_ETOOBIG, "a regex in the query hit its match limit");
	if (!k)
		return 0;
	size_t i = 0;
	if (!log->changes_labels)
		i = (size_t)(uintptr_t)pane_map_get(&c->by_ptr, &l->labels, sizeof l->labels);
	if (!i) {
		const struct pane_labels *ls = log->changes_labels ? &c->run.labels : l->labels;
		group_key(&c->key, ls, c->group);
		i = (size_t)(uintptr_t)pane_map_get(&c->by_key, c->key.data, c->key.len);
		if (!i) {
			if (c->n_acc == c->cap_acc) {
				c->cap_acc = c->cap_acc ? c->cap_acc * 2 : 16;
				c->acc = pane_xrealloc(c->acc, pane_mul_size(c->cap_acc, sizeof *c->acc));
			}
			struct acc *a = &c->acc[c->n_acc++];
			memset(a, 0, sizeof *a);
			if (c->group) {
				pane_labels_init(&a->labels);
				for (size_t q = 0; q < ls->n; q++)
					if (kept_by(c->group, ls->v[q].name))
						pane_labels_set(&a->labels, ls->v[q].name, ls->v[q].value);
			} else {
				pane_labels_copy(&a->labels, ls);
			}
			i = c->n_acc;
			pane_map_put(&c->by_key, c->key.data, c->key.len, (void *)(uintptr_t)i);
		}
		if (!log->changes_labels)
			pane_map_put(&c->by_ptr, &l->labels, sizeof l->labels, (void *)(uintptr_t)i);
	}
	if (++c->lines > MAX_LINES)
		return pane_err_set(c->e->err, PANE_ETOOBIG, "the query reads more than %zu lines; narrow it",
		                    MAX_LINES);
	struct acc *a = &c->acc[i - 1];
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->ts = pane_xrealloc(a->ts, pane_mul_size(a->cap, sizeof *a->ts));
		if (c->want_bytes)
			a->bytes = pane_xrealloc(a->bytes, pane_mul_size(a->cap, sizeof *a->bytes));
	}
	a->ts[a->n] = l->ts_ms;
	if (c->want_bytes)
		a->bytes[a->n] = (uint32_t)c->run.out_len;
	a->n++;
	return 0;
}

/* group: a sum by/without (...) directly over n, whose value per group is
 * the range function over the group's lines together (all four functions
 * are sums of per-line terms), so lines are counted per group and no
 * per-stream series is built; NULL for one series per label set. */
static int eval_range(struct env *e, const struct lq_node *n, const struct lq_node *group, struct mat *out)
{
	struct rangectx c = {
	    .node = n, .group = group, .e = e, .want_bytes = n->fn == LQ_BYTES_OVER_TIME || n->fn == LQ_BYTES_RATE};
	lq_run_init(&c.run);
	pane_buf_init(&c.key, PANE_BUF_NOLIMIT);
	pane_map_init(&c.by_ptr, NULL);
	pane_map_init(&c.by_key, NULL);
	int64_t last = e->start_ms + (int64_t)(e->steps - 1) * e->step_ms;
	struct pane_log_select s = {.matchers = n->log->matchers,
	                            .n_matchers = n->log->n_matchers,
	                            .mint = e->start_ms - n->range_ms + 1,
	                            .maxt = last,
	                            .forward = true,
	                            .contains = prefilter(n->log)};
	int rc = e->r->ops->select(e->r->ctx, &s, range_line, &c, e->err);
	size_t cap = 0;
	double secs = (double)n->range_ms / 1000.0;
	for (size_t i = 0; i < c.n_acc && rc == 0; i++) {
		struct acc *a = &c.acc[i];
		if ((rc = mat_add(e, out, &cap, &a->labels, NAN)) < 0)
			break;
		double *v = out->s[out->n - 1].v;
		size_t lo = 0, hi = 0;
		double bsum = 0;
		bool any = false;
		for (size_t k = 0; k < e->steps; k++) {
			int64_t t = e->start_ms + (int64_t)k * e->step_ms;
			while (hi < a->n && a->ts[hi] <= t) {
				if (c.want_bytes)
					bsum += a->bytes[hi];
				hi++;
			}
			while (lo < hi && a->ts[lo] <= t - n->range_ms) {
				if (c.want_bytes)
					bsum -= a->bytes[lo];
				lo++;
			}
			if (hi == lo)
				continue;
			double cnt = (double)(hi - lo);
			any = true;
			switch (n->fn) {
			case LQ_COUNT_OVER_TIME: v[k] = cnt; break;
			case LQ_RATE: v[k] = cnt / secs; break;
			case LQ_BYTES_OVER_TIME: v[k] = bsum; break;
			case LQ_BYTES_RATE: v[k] = bsum / secs; break;
			}
		}
		if (!any) { /* invariant 3 */
			out->n--;
			e->points -= e->steps;
			pane_labels_release(&out->s[out->n].labels);
			free(out->s[out->n].v);
		}
	}
	for (size_t i = 0; i < c.n_acc; i++) {
		pane_labels_release(&c.acc[i].labels);
		free(c.acc[i].ts);
		free(c.acc[i].bytes);
	}
	free(c.acc);
	lq_run_release(&c.run);
	pane_buf_release(&c.key);
	pane_map_release(&c.by_ptr);
	pane_map_release(&c.by_key);
	if (rc < 0)
		mat_free(out);
	return rc;
}

static int eval_node(struct env *e, const struct lq_node *n, struct mat *out);

/* The labels a series keeps under by (...) / without (...). */
static void group_labels(const struct lq_node *n, const struct pane_labels *in, struct pane_labels *out)
{
	pane_labels_init(out);
	for (size_t i = 0; i < in->n; i++)
		if (kept_by(n, in->v[i].name))
			pane_labels_set(out, in->v[i].name, in->v[i].value);
}

static int eval_agg(struct env *e, const struct lq_node *n, struct mat *out)
{
	if (n->agg == LQ_SUM && n->a->kind == LQ_N_RANGE) {
		memset(out, 0, sizeof *out);
		return eval_range(e, n->a, n, out);
	}
	struct mat in = {0};
	int rc = eval_node(e, n->a, &in);
	if (rc < 0)
		return rc;
	if (in.scalar) {
		mat_free(&in);
		return pane_err_set(e->err, PANE_EINVAL, "an aggregation needs a vector, not a number");
	}
	struct pane_map groups;
	pane_map_init(&groups, NULL);
	struct pane_buf key;
	pane_buf_init(&key, PANE_BUF_NOLIMIT);
	size_t *gi = pane_xmalloc(pane_mul_size(in.n ? in.n : 1, sizeof *gi));
	size_t cap = 0;
	for (size_t i = 0; i < in.n && !rc; i++) {
		struct pane_labels g;
		group_labels(n, &in.s[i].labels, &g);
		labels_key(&key, &g);
		size_t idx = (size_t)(uintptr_t)pane_map_get(&groups, key.data, key.len);
		if (!idx) {
			rc = mat_add(e, out, &cap, &g, NAN);
			idx = out->n;
			pane_map_put(&groups, key.data, key.len, (void *)(uintptr_t)idx);
		}
		gi[i] = idx - 1;
		pane_labels_release(&g);
	}
	double *cnt = pane_xcalloc(out->n ? out->n : 1, sizeof *cnt);
	for (size_t k = 0; k < e->steps && !rc; k++) {
		memset(cnt, 0, (out->n ? out->n : 1) * sizeof *cnt);
		for (size_t i = 0; i < in.n; i++) {
			double x = in.s[i].v[k];
			if (isnan(x))
				continue;
			double *o = &out->s[gi[i]].v[k];
			double c = ++cnt[gi[i]];
			switch (n->agg) {
			case LQ_SUM:
			case LQ_AVG: *o = c == 1 ? x : *o + x; break;
			case LQ_MIN: *o = c == 1 || x < *o ? x : *o; break;
			case LQ_MAX: *o = c == 1 || x > *o ? x : *o; break;
			case LQ_COUNT: *o = c; break;
			}
		}
		if (n->agg == LQ_AVG)
			for (size_t g = 0; g < out->n; g++)
				if (cnt[g])
					out->s[g].v[k] /= cnt[g];
	}
	free(cnt);
	free(gi);
	pane_buf_release(&key);
	pane_map_release(&groups);
	mat_free(&in);
	if (rc < 0)
		mat_free(out);
	return rc;
}

static int eval_topk(struct env *e, const struct lq_node *n, struct mat *out)
{
	int rc = eval_node(e, n->a, out);
	if (rc < 0)
		return rc;
	if (out->scalar) {
		mat_free(out);
		return pane_err_set(e->err, PANE_EINVAL, "topk needs a vector, not a number");
	}
	size_t k = (size_t)n->num;
	/* per step and group: keep the k best, blank the others */
	struct pane_buf key;
	pane_buf_init(&key, PANE_BUF_NOLIMIT);
	struct pane_map groups;
	pane_map_init(&groups, NULL);
	size_t *gi = pane_xmalloc(pane_mul_size(out->n ? out->n : 1, sizeof *gi)), ng = 0;
	for (size_t i = 0; i < out->n; i++) {
		struct pane_labels g;
		group_labels(n, &out->s[i].labels, &g);
		labels_key(&key, &g);
		size_t idx = (size_t)(uintptr_t)pane_map_get(&groups, key.data, key.len);
		if (!idx) {
			idx = ++ng;
			pane_map_put(&groups, key.data, key.len, (void *)(uintptr_t)idx);
		}
		gi[i] = idx - 1;
		pane_labels_release(&g);
	}
	bool *keep = pane_xmalloc(out->n ? out->n : 1);
	for (size_t s = 0; s < e->steps; s++) {
		memset(keep, 0, out->n ? out->n : 1);
		for (size_t g = 0; g < ng; g++) {
			for (size_t round = 0; round < k; round++) {
				size_t best = SIZE_MAX;
				for (size_t i = 0; i < out->n; i++) {
					double x = out->s[i].v[s];
					if (gi[i] != g || keep[i] || isnan(x))
						continue;
					if (best == SIZE_MAX ||
					    (n->bottom ? x < out->s[best].v[s] : x > out->s[best].v[s]))
						best = i;
				}
				if (best == SIZE_MAX)
					break;
				keep[best] = true;
			}
		}
		for (size_t i = 0; i < out->n; i++)
			if (!keep[i])
				out->s[i].v[s] = NAN;
	}
	free(keep);
	free(gi);
	pane_buf_release(&key);
	pane_map_release(&groups);
	return 0;
}

static double binop(char op, double a, double b)
{
	switch (op) {
	case '+': return a + b;
	case '-': return a - b;
	case '*': return a * b;
	case '/': return a / b;
	default: return fmod(a, b);
	}
}

static int eval_binary(struct env *e, const struct lq_node *n, struct mat *out)
{
	struct mat a = {0}, b = {0};
	int rc = eval_node(e, n->a, &a);
	if (!rc)
		rc = eval_node(e, n->b, &b);
	if (rc < 0)
		goto done;
	size_t cap = 0;
	if (a.scalar || b.scalar) {
		struct mat *vec = a.scalar ? &b : &a, *sc = a.scalar ? &a : &b;
		out->scalar = a.scalar && b.scalar;
		for (size_t i = 0; i < vec->n && !rc; i++) {
			if ((rc = mat_add(e, out, &cap, &vec->s[i].labels, NAN)) < 0)
				break;
			for (size_t k = 0; k < e->steps; k++) {
				double x = vec->s[i].v[k], y = sc->s[0].v[k];
				if (!isnan(x))
					out->s[out->n - 1].v[k] = a.scalar ? binop(n->op, y, x) : binop(n->op, x, y);
			}
		}
		goto done;
	}
	/* vector op vector: one-to-one on equal label sets */
	struct pane_map idx;
	pane_map_init(&idx, NULL);
	struct pane_buf key;
	pane_buf_init(&key, PANE_BUF_NOLIMIT);
	for (size_t i = 0; i < b.n; i++) {
		labels_key(&key, &b.s[i].labels);
		pane_map_put(&idx, key.data, key.len, (void *)(uintptr_t)(i + 1));
	}
	for (size_t i = 0; i < a.n && !rc; i++) {
		labels_key(&key, &a.s[i].labels);
		size_t j = (size_t)(uintptr_t)pane_map_get(&idx, key.data, key.len);
		if (!j)
			continue;
		if ((rc = mat_add(e, out, &cap, &a.s[i].labels, NAN)) < 0)
			break;
		for (size_t k = 0; k < e->steps; k++) {
			double x = a.s[i].v[k], y = b.s[j - 1].v[k];
			if (!isnan(x) && !isnan(y))
				out->s[out->n - 1].v[k] = binop(n->op, x, y);
		}
	}
	pane_map_release(&idx);
	pane_buf_release(&key);
done:
	mat_free(&a);
	mat_free(&b);
	if (rc < 0)
		mat_free(out);
	return rc;
}

static int eval_node(struct env *e, const struct lq_node *n, struct mat *out)
{
	memset(out, 0, sizeof *out);
	size_t cap = 0;
	switch (n->kind) {
	case LQ_N_RANGE: return eval_range(e, n, NULL, out);
	case LQ_N_AGG: return eval_agg(e, n, out);
	case LQ_N_TOPK: return eval_topk(e, n, out);
	case LQ_N_BINARY: return eval_binary(e, n, out);
	case LQ_N_NUMBER: out->scalar = true; return mat_add(e, out, &cap, NULL, n->num);
	case LQ_N_VECTOR: return mat_add(e, out, &cap, NULL, n->num);
	}
	return 0;
}

int pane_logql_eval(const struct pane_logql_expr *x, const struct pane_logreader *r, const struct pane_logql_params *p,
                    struct pane_logql_result *out, struct pane_err *err)
{
	memset(out, 0, sizeof *out);
	if (p->end_ns < p->start_ns)
		return pane_err_set(err, PANE_EINVAL, "the end of the time range is before its start");
	if (x->log) {
		if (p->instant)
			return pane_err_set(
			    err, PANE_EINVAL,
			    "log queries are not supported as an instant query type, please change your "
			    "query to a range query type");
		if (!p->limit)
			return pane_err_set(err, PANE_EINVAL, "a log query needs a limit above 0");
		int rc = eval_log(x->log, r, p, out, err);
		if (rc < 0)
			pane_logql_result_free(out);
		return rc;
	}
	struct env e = {.r = r, .res = out, .err = err};
	if (p->instant) {
		e.start_ms = ns_to_ms_floor(p->end_ns);
		e.step_ms = 1;
		e.steps = 1;
	} else {
		if (p->step_ns <= 0)
			return pane_err_set(err, PANE_EINVAL, "the step must be above 0");
		e.start_ms = ns_to_ms_floor(p->start_ns);
		e.step_ms = p->step_ns / 1000000 > 0 ? p->step_ns / 1000000 : 1;
		int64_t span = ns_to_ms_floor(p->end_ns) - e.start_ms;
		if (span / e.step_ms + 1 > PANE_LOGQL_MAX_STEPS)
			return pane_err_set(
			    err, PANE_EINVAL,
			    "exceeded maximum resolution of %d points per time series. Try increasing the "
			    "value of the step parameter",
			    PANE_LOGQL_MAX_STEPS);
		e.steps = (size_t)(span / e.step_ms) + 1;
	}
	struct mat m;
	int rc = eval_node(&e, x->root, &m);
	if (rc < 0) {
		pane_logql_result_free(out);
		return rc;
	}
	out->kind = m.scalar ? PANE_LOGQL_SCALAR : PANE_LOGQL_MATRIX;
	out->series = m.s;
	out->n_series = m.n;
	out->n_steps = e.steps;
	out->start_ms = e.start_ms;
	out->step_ms = e.step_ms;
	return 0;
}

void pane_logql_result_free(struct pane_logql_result *res)
{
	for (size_t i = 0; i < res->n_streams; i++) {
		for (size_t k = 0; k < res->streams[i].n; k++)
			free(res->streams[i].v[k].line);
		free(res->streams[i].v);
		pane_labels_release(&res->streams[i].labels);
	}
	free(res->streams);
	for (size_t i = 0; i < res->n_series; i++) {
		pane_labels_release(&res->series[i].labels);
		free(res->series[i].v);
	}
	free(res->series);
	memset(res, 0, sizeof *res);
}
