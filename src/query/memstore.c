/*
 * memstore.c - a small growable in-memory series store with a pane_reader.
 *
 * `pane rules test` needs what promtool's lazy loader gives it: input series
 * appended as evaluation time advances, the rules' own output (recording
 * rules, ALERTS, ALERTS_FOR_STATE) appended at each evaluation, and every
 * query seeing exactly the samples appended so far up to a visibility limit.
 * The embedded store is the wrong tool here (files, a data dir, background
 * threads); a map from label set to a growable sample array is enough.
 *
 * Invariants: 1. samples of a series are kept in timestamp order (an append
 * at an earlier or equal time replaces/inserts in place); 2. select answers
 * series sorted by label set, as reader.h requires; 3. samples after the
 * visibility limit are never returned.
 * Threads: one writer at a time; selects only read, so concurrent reads
 * of a store nothing appends to are safe (the query tests do that).
 */
#include "query/memstore.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/map.h"
#include "base/mem.h"
#include "base/regex.h"
#include "query/ast.h"

struct mser {
	struct pane_labels labels;
	int64_t *ts;
	double *v;
	size_t n, cap;
};

struct pane_memstore {
	struct pane_map index; /* serialized label set -> struct mser * */
	struct mser **s;
	size_t n, cap;
	int64_t limit;
	bool sorted; /* s[] is in label set order: select need not sort */
};

static void key_of(const struct pane_labels *ls, struct pane_buf *b)
{
	for (size_t i = 0; i < ls->n; i++) {
		pane_buf_adds(b, ls->v[i].name);
		pane_buf_addc(b, '\xff');
		pane_buf_adds(b, ls->v[i].value);
		pane_buf_addc(b, '\xfe');
	}
}

struct pane_memstore *pane_memstore_new(void)
{
	struct pane_memstore *m = pane_xcalloc(1, sizeof *m);
	pane_map_init(&m->index, NULL);
	m->limit = INT64_MAX;
	m->sorted = true;
	return m;
}

void pane_memstore_free(struct pane_memstore *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		pane_labels_release(&m->s[i]->labels);
		free(m->s[i]->ts);
		free(m->s[i]->v);
		free(m->s[i]);
	}
	free(m->s);
	pane_map_release(&m->index);
	free(m);
}

void pane_memstore_set_limit(struct pane_memstore *m, int64_t maxt)
{
	m->limit = maxt;
}

static int append(struct pane_memstore *m, const struct pane_labels *ls, int64_t ts, double v, bool after)
{
	struct pane_buf k;
	pane_buf_init(&k, PANE_BUF_NOLIMIT);
	key_of(ls, &k);
	struct mser *s = pane_map_get(&m->index, k.data, k.len);
	if (!s) {
		s = pane_xcalloc(1, sizeof *s);
		pane_labels_copy(&s->labels, ls);
		pane_map_put(&m->index, k.data, k.len, s);
		if (m->n && pane_labels_cmp(&m->s[m->n - 1]->labels, &s->labels) > 0)
			m->sorted = false;
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 64;
			m->s = pane_xrealloc(m->s, pane_mul_size(m->cap, sizeof *m->s));
		}
		m->s[m->n++] = s;
	}
	pane_buf_release(&k);
	if (after && s->n && s->ts[s->n - 1] >= ts)
		return PANE_EINVAL;
	size_t pos = s->n;
	while (pos > 0 && s->ts[pos - 1] >= ts)
		pos--;
	if (pos < s->n && s->ts[pos] == ts) {
		s->v[pos] = v;
		return 0;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->ts = pane_xrealloc(s->ts, pane_mul_size(s->cap, sizeof *s->ts));
		s->v = pane_xrealloc(s->v, pane_mul_size(s->cap, sizeof *s->v));
	}
	memmove(s->ts + pos + 1, s->ts + pos, (s->n - pos) * sizeof *s->ts);
	memmove(s->v + pos + 1, s->v + pos, (s->n - pos) * sizeof *s->v);
	s->ts[pos] = ts;
	s->v[pos] = v;
	s->n++;
	return 0;
}

int pane_memstore_append(struct pane_memstore *m, const struct pane_labels *ls, int64_t ts, double v)
{
	return append(m, ls, ts, v, false);
}

int pane_memstore_append_after(struct pane_memstore *m, const struct pane_labels *ls, int64_t ts, double v)
{
	return append(m, ls, ts, v, true);
}

static int mser_cmp(const void *a, const void *b)
{
	return pane_labels_cmp(&(*(struct mser *const *)a)->labels, &(*(struct mser *const *)b)->labels);
}

void pane_memstore_seal(struct pane_memstore *m)
{
	if (!m->sorted && m->n > 1)
		qsort(m->s, m->n, sizeof *m->s, mser_cmp);
	m->sorted = true;
}

size_t pane_memstore_series(const struct pane_memstore *m)
{
	return m->n;
}

struct compiled {
	pcre2_code **re;
	size_t n;
};

static void uncompile(struct compiled *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->re[i])
			pcre2_code_free(c->re[i]);
	free(c->re);
}

static int compile(const struct pane_matcher *m, size_t n, struct compiled *c, struct pane_err *err)
{
	c->n = n;
	c->re = pane_xcalloc(n ? n : 1, sizeof *c->re);
	for (size_t i = 0; i < n; i++) {
		if (m[i].op != PANE_MATCH_RE && m[i].op != PANE_MATCH_NRE)
			continue;
		c->re[i] = pane_regex_compile(m[i].value, PANE_REGEX_DOTALL, err);
		if (!c->re[i]) {
			uncompile(c);
			return PANE_EINVAL;
		}
	}
	return 0;
}

static int matches(const struct mser *s, const struct pane_matcher *m, size_t n, const struct compiled *c)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = pane_labels_get(&s->labels, m[i].name);
		if (!v)
			v = "";
		bool ok;
		switch (m[i].op) {
		case PANE_MATCH_EQ: ok = strcmp(v, m[i].value) == 0; break;
		case PANE_MATCH_NE: ok = strcmp(v, m[i].value) != 0; break;
		default: {
			int r = pane_regex_match(c->re[i], v, strlen(v), NULL);
			if (r < 0)
				return r;
			ok = (r == 1) == (m[i].op == PANE_MATCH_RE);
		}
		}
		if (!ok)
			return 0;
	}
	return 1;
}

static size_t lower(const int64_t *ts, size_t n, int64_t t)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ts[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void set_free(struct pane_series_set *set)
{
	free(set->series);
	free(set);
}

static int ser_cmp(const void *a, const void *b)
{
	return pane_labels_cmp(&((const struct pane_series *)a)->labels, &((const struct pane_series *)b)->labels);
}

static int ms_select(void *ctx, const struct pane_matcher *mt, size_t nm, int64_t mint, int64_t maxt,
                     size_t max_samples, struct pane_series_set **out, struct pane_err *err)
{
	struct pane_memstore *m = ctx;
	struct compiled c;
	if (compile(mt, nm, &c, err) < 0)
		return PANE_EINVAL;
	if (maxt > m->limit)
		maxt = m->limit;
	struct pane_series_set *set = pane_xcalloc(1, sizeof *set);
	set->free = set_free;
	size_t cap = 0, total = 0;
	int rc = 0;
	for (size_t i = 0; i < m->n && rc == 0; i++) {
		const struct mser *s = m->s[i];
		int r = matches(s, mt, nm, &c);
		if (r < 0) {
			rc = pane_err_set(err, PANE_EINVAL, "regular expression match failed (limit exceeded)");
			break;
		}
		if (r == 0)
			continue;
		size_t lo = lower(s->ts, s->n, mint), hi = lower(s->ts, s->n, maxt == INT64_MAX ? maxt : maxt + 1);
		if (maxt == INT64_MAX)
			hi = s->n;
		if (hi <= lo)
			continue;
		total += hi - lo;
		if (max_samples && total > max_samples) {
			rc =
			    pane_err_set(err, PANE_ETOOBIG, "query processing would load too many samples into memory");
			break;
		}
		if (set->n == cap) {
			cap = cap ? cap * 2 : 16;
			set->series = pane_xrealloc(set->series, pane_mul_size(cap, sizeof *set->series));
		}
		struct pane_series *o = &set->series[set->n++];
		*o = (struct pane_series){.labels = s->labels, .ts = s->ts + lo, .values = s->v + lo, .n = hi - lo};
		o->labels.owned = false; /* borrowed from the store */
	}
	uncompile(&c);
	if (rc < 0) {
		set_free(set);
		return rc;
	}
	if (!m->sorted && set->n > 1)
		qsort(set->series, set->n, sizeof *set->series, ser_cmp);
	*out = set;
	return 0;
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int collect(struct pane_memstore *m, const char *label, const struct pane_matcher *mt, size_t nm, int64_t mint,
                   int64_t maxt, char ***out, size_t *nout, struct pane_err *err)
{
	struct pane_series_set *set;
	int rc = ms_select(m, mt, nm, mint, maxt, 0, &set, err);
	if (rc < 0)
		return rc;
	struct pane_map seen;
	pane_map_init(&seen, NULL);
	char **v = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < set->n; i++) {
		const struct pane_labels *ls = &set->series[i].labels;
		for (size_t j = 0; j < ls->n; j++) {
			const char *s =
			    label ? (strcmp(ls->v[j].name, label) == 0 ? ls->v[j].value : NULL) : ls->v[j].name;
			if (!s || pane_map_gets(&seen, s))
				continue;
			pane_map_puts(&seen, s, (void *)1);
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				v = pane_xrealloc(v, pane_mul_size(cap, sizeof *v));
			}
			v[n++] = pane_xstrdup(s);
		}
	}
	pane_map_release(&seen);
	set->free(set);
	if (n > 1)
		qsort(v, n, sizeof *v, strp_cmp);
	*out = v;
	*nout = n;
	return 0;
}

static int ms_label_names(void *ctx, const struct pane_matcher *mt, size_t nm, int64_t mint, int64_t maxt,
                          char ***names, size_t *n, struct pane_err *err)
{
	return collect(ctx, NULL, mt, nm, mint, maxt, names, n, err);
}

static int ms_label_values(void *ctx, const char *name, const struct pane_matcher *mt, size_t nm, int64_t mint,
                           int64_t maxt, char ***values, size_t *n, struct pane_err *err)
{
	return collect(ctx, name, mt, nm, mint, maxt, values, n, err);
}

static const struct pane_reader_ops ms_ops = {
    .select = ms_select,
    .label_names = ms_label_names,
    .label_values = ms_label_values,
};

struct pane_reader pane_memstore_reader(struct pane_memstore *m)
{
	return (struct pane_reader){.ops = &ms_ops, .ctx = m};
}
