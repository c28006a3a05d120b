/*
 * memreader.c - struct pane_reader over series held in memory (tests only).
 *
 * The file is parsed once into series (sorted label sets incl. __name__,
 * samples sorted by time); select filters series by matchers and slices
 * samples by binary search. The sets it returns point into the database.
 */
#include "memreader.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/regex.h"
#include "base/str.h"

struct mser {
	struct pane_labels labels;
	int64_t *ts;
	double *v;
	size_t n, cap;
};

struct pt_memdb {
	struct mser *s;
	size_t n, cap;
};

static int lab_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pane_label *)a)->name, ((const struct pane_label *)b)->name);
}

static int ser_cmp(const void *a, const void *b)
{
	const struct pane_labels *x = &((const struct mser *)a)->labels, *y = &((const struct mser *)b)->labels;
	size_t n = x->n < y->n ? x->n : y->n;
	for (size_t i = 0; i < n; i++) {
		int c = strcmp(x->v[i].name, y->v[i].name);
		if (c)
			return c;
		c = strcmp(x->v[i].value, y->v[i].value);
		if (c)
			return c;
	}
	return (int)x->n - (int)y->n;
}

static bool labels_eq(const struct pane_labels *x, const struct pane_labels *y)
{
	if (x->n != y->n)
		return false;
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->v[i].name, y->v[i].name) || strcmp(x->v[i].value, y->v[i].value))
			return false;
	return true;
}

static int add_sample(struct pt_memdb *db, struct pane_labels *lsp, int64_t ts, double v);

static int parse_line(struct pt_memdb *db, const char *line, size_t len, int lineno, struct pane_err *err)
{
	size_t i = 0;
	struct pane_labels ls = {0};
	ls.owned = true;
	struct pane_label tmp[64];
	size_t nt = 0;
	while (i < len && (isalnum((unsigned char)line[i]) || line[i] == '_' || line[i] == ':'))
		i++;
	if (i == 0)
		return pane_err_set(err, PANE_EINVAL, "line %d: expected a metric name", lineno);
	tmp[nt].name = pane_xstrdup("__name__");
	tmp[nt++].value = pane_xstrndup(line, i);
	if (i < len && line[i] == '{') {
		i++;
		while (i < len && line[i] != '}') {
			size_t ns = i;
			while (i < len && line[i] != '=')
				i++;
			if (i + 1 >= len || line[i + 1] != '"' || nt == 64)
				return pane_err_set(err, PANE_EINVAL, "line %d: bad label", lineno);
			char *name = pane_xstrndup(line + ns, i - ns);
			i += 2;
			struct pane_buf b;
			pane_buf_init(&b, 65536);
			while (i < len && line[i] != '"') {
				if (line[i] == '\\' && i + 1 < len) {
					i++;
					pane_buf_addc(&b, line[i] == 'n' ? '\n' : line[i]);
				} else {
					pane_buf_addc(&b, line[i]);
				}
				i++;
			}
			i++;
			tmp[nt].name = name;
			tmp[nt++].value = pane_buf_detach(&b, NULL);
			if (i < len && line[i] == ',')
				i++;
		}
		i++;
	}
	while (i < len && line[i] == ' ')
		i++;
	size_t vs = i;
	while (i < len && line[i] != ' ')
		i++;
	struct pane_str vstr = pane_str_make(line + vs, i - vs);
	double v;
	if (pane_str_eqc(vstr, "stale"))
		v = pane_stale_nan();
	else if (pane_str_to_double(vstr, &v) != 0)
		return pane_err_set(err, PANE_EINVAL, "line %d: bad value", lineno);
	while (i < len && line[i] == ' ')
		i++;
	double tsec;
	if (pane_str_to_double(pane_str_make(line + i, len - i), &tsec) != 0)
		return pane_err_set(err, PANE_EINVAL, "line %d: bad timestamp", lineno);
	int64_t ts = (int64_t)llround(tsec * 1000);
	/* drop empty values, sort */
	size_t k = 0;
	for (size_t j = 0; j < nt; j++) {
		if (tmp[j].value[0]) {
			tmp[k++] = tmp[j];
		} else {
			free((char *)tmp[j].name);
			free((char *)tmp[j].value);
		}
	}
	qsort(tmp, k, sizeof tmp[0], lab_cmp);
	ls.v = pane_xmalloc((k ? k : 1) * sizeof tmp[0]);
	memcpy(ls.v, tmp, k * sizeof tmp[0]);
	ls.n = ls.cap = k;
	if (add_sample(db, &ls, ts, v) < 0)
		return pane_err_set(err, PANE_EINVAL, "line %d: timestamps must increase within a series", lineno);
	return 0;
}

/* Appends (ts, v) to the series labelled ls (sorted, owned: taken over or
 * released). -1 when ts does not follow the series' last timestamp. */
static int add_sample(struct pt_memdb *db, struct pane_labels *lsp, int64_t ts, double v)
{
	struct pane_labels ls = *lsp;
	struct mser *s = NULL;
	for (size_t j = db->n; j-- > 0;)
		if (labels_eq(&db->s[j].labels, &ls)) {
			s = &db->s[j];
			break;
		}
	if (s) {
		pane_labels_release(&ls);
	} else {
		if (db->n == db->cap) {
			db->cap = db->cap ? db->cap * 2 : 64;
			db->s = pane_xrealloc(db->s, db->cap * sizeof *db->s);
		}
		s = &db->s[db->n++];
		memset(s, 0, sizeof *s);
		s->labels = ls;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->ts = pane_xrealloc(s->ts, s->cap * sizeof *s->ts);
		s->v = pane_xrealloc(s->v, s->cap * sizeof *s->v);
	}
	if (s->n && s->ts[s->n - 1] >= ts)
		return -1;
	s->ts[s->n] = ts;
	s->v[s->n++] = v;
	return 0;
}

struct pt_memdb *pt_memdb_parse(const char *text, struct pane_err *err)
{
	struct pt_memdb *db = pane_xcalloc(1, sizeof *db);
	int lineno = 0;
	const char *p = text;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		lineno++;
		if (len && p[0] != '#') {
			if (parse_line(db, p, len, lineno, err) < 0) {
				pt_memdb_free(db);
				return NULL;
			}
		}
		if (!e)
			break;
		p = e + 1;
	}
	if (db->n)
		qsort(db->s, db->n, sizeof *db->s, ser_cmp);
	return db;
}

struct pt_memdb *pt_memdb_new(void)
{
	return pane_xcalloc(1, sizeof(struct pt_memdb));
}

int pt_memdb_add(struct pt_memdb *db, const struct pane_label *l, size_t n, int64_t ts, double v,
		 struct pane_err *err)
{
	struct pane_labels ls = {0};
	ls.owned = true;
	ls.v = pane_xcalloc(n ? n : 1, sizeof *ls.v);
	for (size_t i = 0; i < n; i++) {
		if (!l[i].value[0])
			continue;
		ls.v[ls.n].name = pane_xstrdup(l[i].name);
		ls.v[ls.n++].value = pane_xstrdup(l[i].value);
	}
	ls.cap = n;
	qsort(ls.v, ls.n, sizeof *ls.v, lab_cmp);
	for (size_t i = 1; i < ls.n; i++)
		if (!strcmp(ls.v[i - 1].name, ls.v[i].name)) {
			pane_err_set(err, PANE_EINVAL, "label %s given twice", ls.v[i].name);
			pane_labels_release(&ls);
			return PANE_EINVAL;
		}
	if (add_sample(db, &ls, ts, v) < 0)
		return pane_err_set(err, PANE_EINVAL, "timestamps must increase within a series");
	return 0;
}

void pt_memdb_seal(struct pt_memdb *db)
{
	if (db->n)
		qsort(db->s, db->n, sizeof *db->s, ser_cmp);
}

struct pt_memdb *pt_memdb_load(const char *path, struct pane_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		pane_err_set(err, PANE_EIO, "cannot open %s", path);
		return NULL;
	}
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		pane_buf_add(&b, chunk, n);
	fclose(f);
	struct pt_memdb *db = pt_memdb_parse(b.data, err);
	pane_buf_release(&b);
	return db;
}

void pt_memdb_free(struct pt_memdb *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->n; i++) {
		pane_labels_release(&db->s[i].labels);
		free(db->s[i].ts);
		free(db->s[i].v);
	}
	free(db->s);
	free(db);
}

size_t pt_memdb_series(const struct pt_memdb *db)
{
	return db->n;
}

struct compiled {
	pcre2_code **re;
	size_t n;
};

static int compile(const struct pane_matcher *m, size_t n, struct compiled *c, struct pane_err *err)
{
	c->n = n;
	c->re = pane_xcalloc(n ? n : 1, sizeof *c->re);
	for (size_t i = 0; i < n; i++) {
		if (m[i].op != PANE_MATCH_RE && m[i].op != PANE_MATCH_NRE)
			continue;
		c->re[i] = pane_regex_compile(m[i].value, PANE_REGEX_DOTALL, err);
		if (!c->re[i])
			return PANE_EINVAL;
	}
	return 0;
}

static void compiled_free(struct compiled *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->re[i])
			pcre2_code_free(c->re[i]);
	free(c->re);
}

static int matches(const struct mser *s, const struct pane_matcher *m, size_t n, const struct compiled *c)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = pane_labels_get(&s->labels, m[i].name);
		if (!v)
			v = "";
		bool ok;
		switch (m[i].op) {
		case PANE_MATCH_EQ: ok = !strcmp(v, m[i].value); break;
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

static size_t lb(const int64_t *t, size_t n, int64_t x)
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

static void set_free(struct pane_series_set *set)
{
	free(set->series);
	free(set);
}

static int mem_select(void *ctx, const struct pane_matcher *m, size_t nm, int64_t mint, int64_t maxt,
		      size_t max_samples, struct pane_series_set **out, struct pane_err *err)
{
	struct pt_memdb *db = ctx;
	struct compiled c;
	int rc = compile(m, nm, &c, err);
	if (rc < 0) {
		compiled_free(&c);
		return rc;
	}
	struct pane_series_set *set = pane_xcalloc(1, sizeof *set);
	set->free = set_free;
	set->series = pane_xcalloc(db->n ? db->n : 1, sizeof *set->series);
	size_t total = 0;
	for (size_t i = 0; i < db->n; i++) {
		int r = matches(&db->s[i], m, nm, &c);
		if (r < 0) {
			compiled_free(&c);
			set_free(set);
			return pane_err_set(err, PANE_EINVAL, "regular expression match failed (limit exceeded)");
		}
		if (!r)
			continue;
		const struct mser *s = &db->s[i];
		size_t a = lb(s->ts, s->n, mint), b = lb(s->ts, s->n, maxt == INT64_MAX ? maxt : maxt + 1);
		if (b <= a)
			continue;
		total += b - a;
		if (total > max_samples) {
			compiled_free(&c);
			set_free(set);
			return pane_err_set(err, PANE_ETOOBIG, "query processing would load too many samples into memory in query execution");
		}
		struct pane_series *o = &set->series[set->n++];
		o->labels = s->labels;
		o->labels.owned = false;
		o->ts = s->ts + a;
		o->values = s->v + a;
		o->n = b - a;
	}
	compiled_free(&c);
	*out = set;
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int collect(struct pt_memdb *db, const char *label, const struct pane_matcher *m, size_t nm, int64_t mint,
		   int64_t maxt, char ***out, size_t *nout, struct pane_err *err)
{
	struct compiled c;
	int rc = compile(m, nm, &c, err);
	if (rc < 0) {
		compiled_free(&c);
		return rc;
	}
	size_t cap = 16, n = 0;
	char **v = pane_xmalloc(cap * sizeof *v);
	for (size_t i = 0; i < db->n; i++) {
		const struct mser *s = &db->s[i];
		if (matches(s, m, nm, &c) != 1)
			continue;
		size_t a = lb(s->ts, s->n, mint), b = lb(s->ts, s->n, maxt == INT64_MAX ? maxt : maxt + 1);
		if (b <= a)
			continue;
		for (size_t j = 0; j < s->labels.n; j++) {
			const char *x = label ? (strcmp(s->labels.v[j].name, label) ? NULL : s->labels.v[j].value)
					      : s->labels.v[j].name;
			if (!x)
				continue;
			bool dup = false;
			for (size_t k = 0; k < n && !dup; k++)
				dup = !strcmp(v[k], x);
			if (dup)
				continue;
			if (n == cap) {
				cap *= 2;
				v = pane_xrealloc(v, cap * sizeof *v);
			}
			v[n++] = pane_xstrdup(x);
		}
	}
	compiled_free(&c);
	qsort(v, n, sizeof *v, str_cmp);
	*out = v;
	*nout = n;
	return 0;
}

static int mem_label_names(void *ctx, const struct pane_matcher *m, size_t nm, int64_t mint, int64_t maxt,
			   char ***names, size_t *n, struct pane_err *err)
{
	return collect(ctx, NULL, m, nm, mint, maxt, names, n, err);
}

static int mem_label_values(void *ctx, const char *name, const struct pane_matcher *m, size_t nm, int64_t mint,
			    int64_t maxt, char ***values, size_t *n, struct pane_err *err)
{
	return collect(ctx, name, m, nm, mint, maxt, values, n, err);
}

/* no metadata: the in-memory reader loads samples only (metadata stays NULL) */
static const struct pane_reader_ops mem_ops = {
	.select = mem_select, .label_names = mem_label_names, .label_values = mem_label_values,
};

struct pane_reader pt_memdb_reader(struct pt_memdb *db)
{
	return (struct pane_reader){&mem_ops, db};
}
