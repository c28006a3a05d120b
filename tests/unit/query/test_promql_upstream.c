/*
 * test_promql_upstream.c - Prometheus' own PromQL test files run through pane's engine.
 *
 * Reads files in the language of Prometheus 2.42's promql/test.go
 * (every .test file of tests/promql/upstream by default) and runs them over the in-memory
 * reader (memreader.h):
 *
 *   load <step>                      series follow, one a line, until a blank line:
 *     name{l="v"} 0+10x5 _ stale 1x3   values at 0, step, 2*step, ...
 *   clear                            forget every series
 *   eval[_fail|_ordered] instant at <time> <expr>
 *     {l="v"} 1                      expected samples (or one number: a scalar)
 *
 * Value sequences follow Prometheus' series notation: "a+bxN" is N+1 values
 * from a in steps of b (accumulated, like Go's parser), "axN" N+1 times a,
 * "_" one missing value, "_xN" N missing, "stale" a stale marker.
 * An eval passes as test.go decides: same series (labels compared as sets),
 * values equal within 1e-6 relative (NaN equals NaN), the order checked only
 * for eval_ordered; eval_fail passes on any error. Like test.go, each eval
 * also runs as a range query from <time>-1m to <time>+1m step 1m, and the
 * point at <time> must give the same answer (not for eval_ordered).
 *
 * Later Prometheus versions' additions are read too: "eval range from <t>
 * to <t> step <d> <expr>" with a value sequence per series, eval_warn and
 * eval_info (pane makes no annotations: plain evals), and in an eval_fail
 * "expected_fail_message MSG" / "expected_fail_regexp RE".
 *
 * Usage: test_promql_upstream [-v] [--expect-fail] [DIR|FILE ...]; without arguments the
 * directory named by PANE_PROMQL_TESTDIR, else
 * $PANE_SOURCE_ROOT/tests/promql/upstream. Prints every failed eval with
 * file:line and a summary "N evals, N passed, N failed"; exits 1 when an
 * eval failed or a file could not be read or parsed. --expect-fail turns
 * that around (every eval must fail), to test the runner itself.
 */
#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/regex.h"
#include "memreader.h"
#include "support.h"
#include "query/ast.h"
#include "query/query.h"

#define MAX_LABELS 64

struct expect {
	struct pane_label l[MAX_LABELS]; /* owned strings, sorted by name */
	size_t n;
	double v;     /* instant */
	int64_t *idx; /* range: step index of each expected point ("_" leaves gaps) */
	double *vals;
	size_t nv;
	bool seen;
};

struct evalcmd {
	int line;
	bool fail, ordered, scalar, range;
	int64_t at;
	int64_t start, end, step; /* range */
	char *fail_msg;           /* expected_fail_message: the error must equal it */
	char *fail_re;            /* expected_fail_regexp: the error must match it */
	char *expr;
	struct expect *e;
	size_t n, cap;
	double scalar_v;
};

struct totals {
	size_t evals, passed, failed, file_errors;
};

static bool verbose;

/* ---------------- small parsers ---------------- */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* model.ParseDuration: "0" or units y w d h m s ms in order. */
static bool parse_dur(const char *s, size_t len, int64_t *ms)
{
	if (len == 1 && s[0] == '0') {
		*ms = 0;
		return true;
	}
	return pq_duration_parse(s, len, ms) == 0;
}

/* A number as Prometheus' series lexer reads it (no hex): [+-] Inf|NaN|digits[.digits][e[+-]digits]. */
static const char *scan_number(const char *p, double *out)
{
	const char *s = p;
	if (*p == '+' || *p == '-')
		p++;
	if (!strncasecmp(p, "inf", 3) && !isalnum((unsigned char)p[3])) {
		*out = *s == '-' ? -INFINITY : INFINITY;
		return p + 3;
	}
	if (!strncasecmp(p, "nan", 3) && !isalnum((unsigned char)p[3])) {
		*out = NAN;
		return p + 3;
	}
	const char *d = p;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (p == d || (p == d + 1 && *d == '.'))
		return NULL;
	if (*p == 'e' || *p == 'E') {
		const char *q = p + 1;
		if (*q == '+' || *q == '-')
			q++;
		if (isdigit((unsigned char)*q)) {
			while (isdigit((unsigned char)*q))
				q++;
			p = q;
		}
	}
	char tmp[64];
	size_t n = (size_t)(p - s);
	if (n >= sizeof tmp)
		return NULL;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	*out = strtod(tmp, NULL);
	return p;
}

static const char *scan_uint(const char *p, unsigned long *out)
{
	if (!isdigit((unsigned char)*p))
		return NULL;
	char *e;
	*out = strtoul(p, &e, 10);
	if (*out > 1000000)
		return NULL;
	return e;
}

/* A quoted label value with Go's escapes; returns the position after the closing quote. */
static const char *scan_quoted(const char *p, char **out)
{
	char q = *p++;
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	while (*p && *p != q) {
		if (*p == '\\' && q != '`') {
			p++;
			switch (*p) {
			case 'n': pane_buf_addc(&b, '\n'); break;
			case 't': pane_buf_addc(&b, '\t'); break;
			case 'r': pane_buf_addc(&b, '\r'); break;
			case 0: pane_buf_release(&b); return NULL;
			default: pane_buf_addc(&b, *p); break;
			}
			p++;
		} else {
			pane_buf_addc(&b, *p++);
		}
	}
	if (*p != q) {
		pane_buf_release(&b);
		return NULL;
	}
	pane_buf_addc(&b, 0);
	*out = pane_buf_detach(&b, NULL);
	return p + 1;
}

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pane_label *)a)->name, ((const struct pane_label *)b)->name);
}

static void labels_free(struct pane_label *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)l[i].name);
		free((char *)l[i].value);
	}
}

static bool is_name_start(char c)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':';
}

static bool is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == ':';
}

/* name{l="v", ...}: labels into l (sorted, empty values dropped); returns the
 * position after the metric or NULL. */
static const char *scan_metric(const char *p, struct pane_label *l, size_t *n)
{
	*n = 0;
	p = skip_ws(p);
	const char *start = p;
	if (is_name_start(*p)) {
		const char *s = p;
		while (is_name_char(*p))
			p++;
		l[*n].name = pane_xstrdup("__name__");
		l[(*n)++].value = pane_xstrndup(s, (size_t)(p - s));
	}
	if (*p == '{') {
		p = skip_ws(p + 1);
		while (*p != '}') {
			if (!is_name_start(*p) || *n == MAX_LABELS)
				goto bad;
			const char *s = p;
			while (is_name_char(*p))
				p++;
			size_t nl = (size_t)(p - s);
			p = skip_ws(p);
			if (*p != '=')
				goto bad;
			p = skip_ws(p + 1);
			if (*p != '"' && *p != '\'' && *p != '`')
				goto bad;
			char *v;
			p = scan_quoted(p, &v);
			if (!p)
				goto bad;
			l[*n].name = pane_xstrndup(s, nl);
			l[(*n)++].value = v;
			p = skip_ws(p);
			if (*p == ',')
				p = skip_ws(p + 1);
			else if (*p != '}')
				goto bad;
		}
		p++;
	}
	if (p == start)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < *n; i++) {
		if (l[i].value[0]) {
			l[k++] = l[i];
		} else {
			free((char *)l[i].name);
			free((char *)l[i].value);
		}
	}
	*n = k;
	qsort(l, k, sizeof *l, label_cmp);
	return p;
bad:
	labels_free(l, *n);
	*n = 0;
	return NULL;
}

/* One series of a load command. */
struct lser {
	struct pane_label l[MAX_LABELS];
	size_t nl;
	int64_t *ts;
	double *v;
	size_t n, cap;
};

static void lser_push(struct lser *s, int64_t ts, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->ts = pane_xrealloc(s->ts, s->cap * sizeof *s->ts);
		s->v = pane_xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->ts[s->n] = ts;
	s->v[s->n++] = v;
}

static void lser_release(struct lser *s)
{
	labels_free(s->l, s->nl);
	free(s->ts);
	free(s->v);
}

/* One load line: the metric, then its value sequence into *s. */
static bool load_line(struct lser *s, const char *line, int64_t step, char *why, size_t wl)
{
	memset(s, 0, sizeof *s);
	const char *p = scan_metric(line, s->l, &s->nl);
	if (!p) {
		snprintf(why, wl, "bad series description");
		return false;
	}
	int64_t i = 0;
	for (p = skip_ws(p); *p; p = skip_ws(p)) {
		unsigned long times = 0;
		if (*p == '_') {
			p++;
			times = 1;
			if (*p == 'x' && !(p = scan_uint(p + 1, &times)))
				goto bad;
			if (*p && *p != ' ' && *p != '\t')
				goto bad;
			i += (int64_t)times;
			continue;
		}
		double v, inc = 0;
		if (!strncmp(p, "stale", 5)) {
			v = pane_stale_nan();
			p += 5;
		} else if (!(p = scan_number(p, &v))) {
			goto bad;
		}
		if (*p == '+' || *p == '-') {
			if (!(p = scan_number(p, &inc)) || *p != 'x')
				goto bad;
		}
		if (*p == 'x' && !(p = scan_uint(p + 1, &times)))
			goto bad;
		if (*p && *p != ' ' && *p != '\t')
			goto bad;
		for (unsigned long k = 0; k <= times; k++) {
			lser_push(s, i * step, v);
			i++;
			v += inc;
		}
	}
	return true;
bad:
	snprintf(why, wl, "bad value sequence");
	lser_release(s);
	return false;
}

static bool same_labels(const struct lser *a, const struct lser *b)
{
	if (a->nl != b->nl)
		return false;
	for (size_t i = 0; i < a->nl; i++)
		if (strcmp(a->l[i].name, b->l[i].name) || strcmp(a->l[i].value, b->l[i].value))
			return false;
	return true;
}

/* A load command's series into db; as in test.go a later line for the same
 * series replaces an earlier one. */
static bool load_flush(struct pt_memdb *db, struct lser *s, size_t n, char *why, size_t wl)
{
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		bool replaced = false;
		for (size_t j = i + 1; j < n && !replaced; j++)
			replaced = same_labels(&s[i], &s[j]);
		for (size_t k = 0; k < s[i].n && ok && !replaced; k++) {
			struct pane_err err = {0};
			if (pt_memdb_add(db, s[i].l, s[i].nl, s[i].ts[k], s[i].v[k], &err) < 0) {
				snprintf(why, wl, "%s", err.msg);
				ok = false;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		lser_release(&s[i]);
	return ok;
}

/* One expected line of an eval: a number (scalar) or a metric with one value. */
static bool expect_line(struct evalcmd *c, const char *line, char *why, size_t wl)
{
	double v;
	if (!strncmp(line, "expected_fail_message ", 22) || !strncmp(line, "expected_fail_regexp ", 21)) {
		bool msg = line[14] == 'm';
		char **dst = msg ? &c->fail_msg : &c->fail_re;
		free(*dst);
		*dst = pane_xstrdup(skip_ws(line + (msg ? 22 : 21)));
		return true;
	}
	if (c->range) {
		/* a series and its values per step, in load's notation */
		struct lser ls;
		if (!load_line(&ls, line, 1, why, wl))
			return false;
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 8;
			c->e = pane_xrealloc(c->e, c->cap * sizeof *c->e);
		}
		struct expect *e = &c->e[c->n++];
		memset(e, 0, sizeof *e);
		memcpy(e->l, ls.l, ls.nl * sizeof *ls.l);
		e->n = ls.nl;
		e->idx = ls.ts;
		e->vals = ls.v;
		e->nv = ls.n;
		return true;
	}
	const char *p = scan_number(line, &v);
	if (p && !*skip_ws(p)) {
		c->scalar = true;
		c->scalar_v = v;
		return true;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 8;
		c->e = pane_xrealloc(c->e, c->cap * sizeof *c->e);
	}
	struct expect *e = &c->e[c->n];
	memset(e, 0, sizeof *e);
	p = scan_metric(line, e->l, &e->n);
	if (!p) {
		snprintf(why, wl, "bad expected series");
		return false;
	}
	p = skip_ws(p);
	if (!strncmp(p, "stale", 5)) {
		e->v = pane_stale_nan();
		p += 5;
	} else {
		p = scan_number(p, &e->v);
	}
	if (!p || *skip_ws(p)) {
		labels_free(e->l, e->n);
		snprintf(why, wl, "expected one value after the series");
		return false;
	}
	c->n++;
	return true;
}

static void evalcmd_release(struct evalcmd *c)
{
	for (size_t i = 0; i < c->n; i++) {
		labels_free(c->e[i].l, c->e[i].n);
		free(c->e[i].idx);
		free(c->e[i].vals);
	}
	free(c->e);
	free(c->fail_msg);
	free(c->fail_re);
	free(c->expr);
	memset(c, 0, sizeof *c);
}

/* ---------------- comparing ---------------- */

static bool almost_equal(double a, double b)
{
	const double eps = 0.000001, min_normal = 2.2250738585072014e-308;
	if (isnan(a) && isnan(b))
		return true;
	if (a == b)
		return true;
	double diff = fabs(a - b);
	if (a == 0 || b == 0 || diff < min_normal)
		return diff < eps * min_normal;
	return diff / (fabs(a) + fabs(b)) < eps;
}

static bool labels_match(const struct expect *e, const struct pane_labels *l)
{
	if (e->n != l->n)
		return false;
	for (size_t i = 0; i < e->n; i++) {
		const char *v = pane_labels_get(l, e->l[i].name);
		if (!v || strcmp(v, e->l[i].value))
			return false;
	}
	return true;
}

static void fmt_labels(const struct pane_labels *l, char *out, size_t len)
{
	size_t o = 0;
	o += (size_t)snprintf(out + o, len - o, "{");
	for (size_t i = 0; i < l->n && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s=\"%s\"", i ? ", " : "", l->v[i].name, l->v[i].value);
	if (o < len)
		snprintf(out + o, len - o, "}");
}

/* Compares one answer (n series, value i at vals[i]) with what c expects. */
static bool compare(struct evalcmd *c, const struct pane_query_series *s, const double *vals, size_t n, bool scalar,
                    double sv, bool check_order, char *why, size_t wl)
{
	char lb[512];
	if (c->scalar) {
		if (!scalar) {
			snprintf(why, wl, "expected a scalar, got a vector of %zu", n);
			return false;
		}
		if (!almost_equal(c->scalar_v, sv)) {
			snprintf(why, wl, "expected scalar %.17g, got %.17g", c->scalar_v, sv);
			return false;
		}
		return true;
	}
	if (scalar) {
		snprintf(why, wl, "expected a vector, got scalar %.17g", sv);
		return false;
	}
	for (size_t j = 0; j < c->n; j++)
		c->e[j].seen = false;
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < c->n && !labels_match(&c->e[j], &s[i].labels))
			j++;
		fmt_labels(&s[i].labels, lb, sizeof lb);
		if (j == c->n) {
			snprintf(why, wl, "unexpected metric %s in result", lb);
			return false;
		}
		if (check_order && j != i) {
			snprintf(why, wl, "expected metric %s at position %zu but was at %zu", lb, j + 1, i + 1);
			return false;
		}
		if (!almost_equal(c->e[j].v, vals[i])) {
			snprintf(why, wl, "expected %.17g for %s but got %.17g", c->e[j].v, lb, vals[i]);
			return false;
		}
		c->e[j].seen = true;
	}
	for (size_t j = 0; j < c->n; j++)
		if (!c->e[j].seen) {
			struct pane_labels l = {.v = c->e[j].l, .n = c->e[j].n};
			fmt_labels(&l, lb, sizeof lb);
			snprintf(why, wl, "expected metric %s with %.17g not found", lb, c->e[j].v);
			return false;
		}
	return true;
}

/* A range eval: every series expected, each point at start + i * step. */
static bool compare_range(struct evalcmd *c, const struct pane_query_result *r, char *why, size_t wl)
{
	char lb[512];
	for (size_t j = 0; j < c->n; j++)
		c->e[j].seen = false;
	for (size_t i = 0; i < r->n; i++) {
		const struct pane_query_series *s = &r->series[i];
		size_t j = 0;
		while (j < c->n && !labels_match(&c->e[j], &s->labels))
			j++;
		fmt_labels(&s->labels, lb, sizeof lb);
		if (j == c->n) {
			snprintf(why, wl, "unexpected metric %s in result", lb);
			return false;
		}
		struct expect *e = &c->e[j];
		e->seen = true;
		if (e->nv != s->n) {
			snprintf(why, wl, "expected %zu points for %s, got %zu", e->nv, lb, s->n);
			return false;
		}
		for (size_t k = 0; k < e->nv; k++) {
			int64_t t = c->start + e->idx[k] * c->step;
			if (t > c->end) {
				snprintf(why, wl, "expected %zu points for %s, but the range cannot hold them", e->nv,
				         lb);
				return false;
			}
			if (s->ts[k] != t || !almost_equal(e->vals[k], s->values[k])) {
				snprintf(why, wl,
				         "expected %.17g at %" PRId64 " ms for %s, got %.17g at %" PRId64 " ms",
				         e->vals[k], t, lb, s->values[k], s->ts[k]);
				return false;
			}
		}
	}
	for (size_t j = 0; j < c->n; j++)
		if (!c->e[j].seen) {
			struct pane_labels l = {.v = c->e[j].l, .n = c->e[j].n};
			fmt_labels(&l, lb, sizeof lb);
			snprintf(why, wl, "expected metric %s not found", lb);
			return false;
		}
	return true;
}

/* An eval_fail's error against expected_fail_message / _regexp, if given. */
static bool fail_matches(const struct evalcmd *c, const char *msg, char *why, size_t wl)
{
	if (c->fail_msg && strcmp(c->fail_msg, msg)) {
		snprintf(why, wl, "expected error \"%s\", got \"%s\"", c->fail_msg, msg);
		return false;
	}
	if (c->fail_re) {
		struct pane_err e = {0};
		/* Go's MatchString is unanchored; the wrapper anchors */
		size_t n = strlen(c->fail_re) + 16;
		char *pat = pane_xmalloc(n);
		snprintf(pat, n, ".*(?:%s).*", c->fail_re);
		pcre2_code *re = pane_regex_compile(pat, PANE_REGEX_DOTALL, &e);
		free(pat);
		int m = re ? pane_regex_match(re, msg, strlen(msg), NULL) : -1;
		if (re)
			pcre2_code_free(re);
		if (m != 1) {
			snprintf(why, wl, "error \"%s\" does not match /%s/", msg, c->fail_re);
			return false;
		}
	}
	return true;
}

static bool run_eval(struct pt_memdb *db, struct evalcmd *c, char *why, size_t wl)
{
	struct pane_query_opts opts = {0};
	struct pane_query_result r;
	enum pane_query_errclass cls;
	struct pane_err err = {0};
	pt_memdb_seal(db);
	struct pane_reader rd = pt_memdb_reader(db);
	if (c->range) {
		int rrc = pane_query_exec(rd, &opts, c->expr, c->start, c->end, c->step, &r, &cls, &err);
		if (rrc < 0) {
			if (c->fail)
				return fail_matches(c, err.msg, why, wl);
			snprintf(why, wl, "error evaluating query: %s", err.msg);
			return false;
		}
		bool rok = !c->fail && compare_range(c, &r, why, wl);
		if (c->fail)
			snprintf(why, wl, "expected an error evaluating the query but got none");
		pane_query_result_release(&r);
		return rok;
	}
	int rc = pane_query_exec(rd, &opts, c->expr, c->at, c->at, 0, &r, &cls, &err);
	if (rc < 0) {
		if (c->fail)
			return fail_matches(c, err.msg, why, wl);
		snprintf(why, wl, "error evaluating query: %s", err.msg);
		return false;
	}
	if (c->fail) {
		pane_query_result_release(&r);
		snprintf(why, wl, "expected an error evaluating the query but got none");
		return false;
	}
	bool ok;
	if (r.type == PANE_QT_MATRIX) {
		snprintf(why, wl, "received range result on instant evaluation");
		ok = false;
	} else if (r.type == PANE_QT_STRING) {
		snprintf(why, wl, "received a string result (\"%s\")", r.string);
		ok = false;
	} else {
		double *vals = pane_xcalloc(r.n ? r.n : 1, sizeof *vals);
		for (size_t i = 0; i < r.n; i++)
			vals[i] = r.series[i].values[0];
		ok = compare(c, r.series, vals, r.n, r.type == PANE_QT_SCALAR, r.scalar, c->ordered, why, wl);
		free(vals);
	}
	bool was_scalar = r.type == PANE_QT_SCALAR;
	pane_query_result_release(&r);
	if (!ok || c->ordered)
		return ok;
	/* the same query in range mode, the point at c->at */
	memset(&err, 0, sizeof err);
	rc = pane_query_exec(rd, &opts, c->expr, c->at - 60000, c->at + 60000, 60000, &r, &cls, &err);
	if (rc < 0) {
		snprintf(why, wl, "error evaluating query in range mode: %s", err.msg);
		return false;
	}
	struct pane_query_series *picked = pane_xcalloc(r.n ? r.n : 1, sizeof *picked);
	double *vals = pane_xcalloc(r.n ? r.n : 1, sizeof *vals);
	size_t np = 0;
	for (size_t i = 0; i < r.n; i++)
		for (size_t k = 0; k < r.series[i].n; k++)
			if (r.series[i].ts[k] == c->at) {
				picked[np] = r.series[i];
				vals[np++] = r.series[i].values[k];
				break;
			}
	char w2[900];
	if (was_scalar)
		ok = np > 0 && compare(c, NULL, NULL, 0, true, vals[0], false, w2, sizeof w2);
	else
		ok = compare(c, picked, vals, np, false, 0, false, w2, sizeof w2);
	if (!ok)
		snprintf(why, wl, "in range mode: %s", np || !was_scalar ? w2 : "no point at the evaluation time");
	free(picked);
	free(vals);
	pane_query_result_release(&r);
	return ok;
}

/* ---------------- files ---------------- */

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = 0;
	return s;
}

static void file_error(struct totals *t, const char *path, int line, const char *why)
{
	fprintf(stderr, "%s:%d: %s\n", path, line, why);
	t->file_errors++;
}

static void run_file(const char *path, struct totals *t)
{
	char *text = pt_read_file(path);
	if (!text) {
		file_error(t, path, 0, "cannot read");
		return;
	}
	/* lines as test.go's getLines: trimmed, comments blank */
	size_t nlines = 0, cap = 256;
	char **lines = pane_xmalloc(cap * sizeof *lines);
	for (char *p = text; p;) {
		char *e = strchr(p, '\n');
		if (e)
			*e = 0;
		if (nlines == cap) {
			cap *= 2;
			lines = pane_xrealloc(lines, cap * sizeof *lines);
		}
		char *l = trim(p);
		lines[nlines++] = l[0] == '#' ? l + strlen(l) : l;
		p = e ? e + 1 : NULL;
	}
	struct pt_memdb *db = pt_memdb_new();
	size_t evals = 0, passed = 0;
	char why[1024];
	for (size_t i = 0; i < nlines; i++) {
		char *l = lines[i];
		if (!*l)
			continue;
		int lineno = (int)i + 1;
		if (!strcmp(l, "clear")) {
			pt_memdb_free(db);
			db = pt_memdb_new();
		} else if (!strncmp(l, "load", 4) && (l[4] == ' ' || l[4] == '\t')) {
			const char *d = skip_ws(l + 4);
			int64_t step;
			if (!parse_dur(d, strlen(d), &step) || step <= 0) {
				file_error(t, path, lineno, "bad load step");
				break;
			}
			bool ok = true;
			struct lser *ls = NULL;
			size_t nls = 0;
			while (ok && i + 1 < nlines && lines[i + 1][0]) {
				i++;
				ls = pane_xrealloc(ls, (nls + 1) * sizeof *ls);
				ok = load_line(&ls[nls], lines[i], step, why, sizeof why);
				if (ok)
					nls++;
				else
					file_error(t, path, (int)i + 1, why);
			}
			if (ok && !load_flush(db, ls, nls, why, sizeof why)) {
				file_error(t, path, lineno, why);
				ok = false;
			} else if (!ok) {
				for (size_t k = 0; k < nls; k++)
					lser_release(&ls[k]);
			}
			free(ls);
			if (!ok)
				break;
		} else if (!strncmp(l, "eval", 4)) {
			struct evalcmd c = {.line = lineno};
			const char *p = l + 4;
			if (!strncmp(p, "_fail", 5)) {
				c.fail = true;
				p += 5;
			} else if (!strncmp(p, "_ordered", 8)) {
				c.ordered = true;
				p += 8;
			} else if (!strncmp(p, "_warn", 5) || !strncmp(p, "_info", 5)) {
				p += 5; /* later Prometheus: the same eval, expecting annotations pane does not make */
			}
			const char *q = skip_ws(p);
			bool ok = q != p;
			if (ok && !strncmp(q, "range", 5) && (q[5] == ' ' || q[5] == '\t')) {
				/* later Prometheus: eval range from <t> to <t> step <d> <expr> */
				static const char *const kw[] = {"from", "to", "step"};
				int64_t *dst[] = {&c.start, &c.end, &c.step};
				q = skip_ws(q + 5);
				for (int k = 0; k < 3 && ok; k++) {
					size_t kl = strlen(kw[k]);
					ok = !strncmp(q, kw[k], kl) && (q[kl] == ' ' || q[kl] == '\t');
					if (!ok)
						break;
					q = skip_ws(q + kl);
					const char *te = q;
					while (*te && *te != ' ' && *te != '\t')
						te++;
					ok = parse_dur(q, (size_t)(te - q), dst[k]);
					q = skip_ws(te);
				}
				ok = ok && c.step > 0 && c.end >= c.start && *q;
				if (ok) {
					c.range = true;
					c.expr = pane_xstrdup(q);
				}
			} else if (ok && !strncmp(q, "instant", 7)) {
				q = skip_ws(q + 7);
				ok = !strncmp(q, "at", 2) && (q[2] == ' ' || q[2] == '\t');
				if (ok) {
					q = skip_ws(q + 2);
					const char *te = q;
					while (*te && *te != ' ' && *te != '\t')
						te++;
					ok = parse_dur(q, (size_t)(te - q), &c.at) && *skip_ws(te);
					if (ok)
						c.expr = pane_xstrdup(skip_ws(te));
				}
			} else {
				ok = false;
			}
			if (!ok) {
				file_error(t, path, lineno,
				           "expected \"eval[_fail|_ordered|_warn|_info] instant at <time> <expr>\" or "
				           "\"eval range from <time> to <time> step <duration> <expr>\"");
				evalcmd_release(&c);
				break;
			}
			while (ok && i + 1 < nlines && lines[i + 1][0]) {
				i++;
				ok = expect_line(&c, lines[i], why, sizeof why);
				if (!ok)
					file_error(t, path, (int)i + 1, why);
			}
			if (!ok) {
				evalcmd_release(&c);
				break;
			}
			evals++;
			if (run_eval(db, &c, why, sizeof why)) {
				passed++;
				if (verbose)
					printf("ok   %s:%d: %s\n", path, lineno, c.expr);
			} else {
				printf("FAIL %s:%d: %s\n     %s\n", path, lineno, c.expr, why);
			}
			evalcmd_release(&c);
		} else {
			file_error(t, path, lineno, "unknown command");
			break;
		}
	}
	printf("%s: %zu evals, %zu passed\n", path, evals, passed);
	t->evals += evals;
	t->passed += passed;
	t->failed += evals - passed;
	pt_memdb_free(db);
	free(lines);
	free(text);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path, struct totals *t)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		file_error(t, path, 0, "no such file or directory");
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		run_file(path, t);
		return;
	}
	DIR *d = opendir(path);
	if (!d) {
		file_error(t, path, 0, "cannot open directory");
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".test"))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = pane_xrealloc(names, cap * sizeof *names);
		}
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		pane_buf_addf(&b, "%s/%s", path, de->d_name);
		pane_buf_addc(&b, 0);
		names[n++] = pane_buf_detach(&b, NULL);
	}
	closedir(d);
	if (n == 0)
		file_error(t, path, 0, "no .test files");
	qsort(names, n, sizeof *names, name_cmp);
	for (size_t i = 0; i < n; i++) {
		run_file(names[i], t);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	struct totals t = {0};
	int first = 1;
	setvbuf(stdout, NULL, _IOLBF, 0); /* a crash still shows the evals before it */
	bool expect_fail = false;
	for (; first < argc && argv[first][0] == '-'; first++) {
		if (!strcmp(argv[first], "-v"))
			verbose = true;
		else if (!strcmp(argv[first], "--expect-fail"))
			expect_fail = true;
		else {
			fprintf(stderr, "usage: %s [-v] [--expect-fail] [DIR|FILE ...]\n", argv[0]);
			return 2;
		}
	}
	if (first < argc) {
		for (int i = first; i < argc; i++)
			run_path(argv[i], &t);
	} else if (getenv("PANE_PROMQL_TESTDIR") && *getenv("PANE_PROMQL_TESTDIR")) {
		run_path(getenv("PANE_PROMQL_TESTDIR"), &t);
	} else {
		const char *root = getenv("PANE_SOURCE_ROOT");
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		pane_buf_addf(&b, "%s/tests/promql/upstream", root ? root : ".");
		pane_buf_addc(&b, 0);
		char *dir = pane_buf_detach(&b, NULL);
		run_path(dir, &t);
		free(dir);
	}
	printf("%zu evals, %zu passed, %zu failed", t.evals, t.passed, t.failed);
	if (t.file_errors)
		printf(", %zu file errors", t.file_errors);
	printf("\n");
	if (expect_fail) /* the runner's own check: every eval must be caught */
		return t.passed || t.file_errors || t.evals == 0 ? 1 : 0;
	return t.failed || t.file_errors || t.evals == 0 ? 1 : 0;
}
