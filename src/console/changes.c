/*
 * changes.c - "what changed?": log templates and series scores (changes.h).
 *
 * Idea, logs: most log lines are a fixed text with variable fields. Masking
 * the obvious variables (numbers, ids, addresses, quoted text) and then
 * grouping like Drain (a two-level prefix tree: token count, then first
 * token; inside a leaf the template with the most equal tokens, if at least
 * half, absorbs the line and its differing tokens become <*>) turns
 * thousands of lines into a few dozen templates whose counts can be
 * compared between two windows. A smoothed ratio (count+1)/(before+1)
 * ranks them, so a template seen 3 times where it was never seen is not
 * ranked above one that went from 100 to 5,000 only by division by zero.
 *
 * Idea, series: a level shift shows as a moved median; dividing by the
 * median absolute deviation of the window before says how unusual that
 * move is for this series, and both are robust to a few spikes.
 */
#include "console/changes.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/mem.h"

#define MAX_TOKENS 64
#define MAX_TEMPLATES 2000
#define EXAMPLE_MAX 300

/* ---------- masking ---------- */

static bool is_hex(char c)
{
	return isxdigit((unsigned char)c) != 0;
}

/* True when the token (trimmed of punctuation) is a variable. */
static bool variable(const char *s, size_t n)
{
	if (n == 0)
		return false;
	size_t digits = 0, hex = 0, dots = 0, dashes = 0, colons = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (isdigit((unsigned char)c))
			digits++;
		if (is_hex(c))
			hex++;
		if (c == '.')
			dots++;
		if (c == '-')
			dashes++;
		if (c == ':')
			colons++;
	}
	if (digits == 0)
		return false;
	/* a number, a decimal, a version, an IPv4 address, a time like 12:30:01 */
	if (digits + dots + colons + (s[0] == '-' || s[0] == '+') == n)
		return true;
	/* a number with a unit: 12ms, 3.5s, 200KB, 1e5 */
	size_t i = 0;
	while (i < n && (isdigit((unsigned char)s[i]) || s[i] == '.'))
		i++;
	if (i > 0 && n - i <= 3) {
		bool alpha = true;
		for (size_t j = i; j < n; j++)
			alpha = alpha && isalpha((unsigned char)s[j]);
		if (alpha)
			return true;
	}
	/* UUIDs and hex ids (at least 6 hex characters, some digits), 0x... */
	if (hex + dashes == n && hex >= 6)
		return true;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return true;
	/* ids like dep-d0000000000000000288, req_12345: mostly digits */
	if (digits * 2 >= n)
		return true;
	return false;
}

void pane_console_mask(const char *msg, size_t len, struct pane_buf *out)
{
	size_t i = 0, ntok = 0;
	while (i < len && ntok < MAX_TOKENS) {
		while (i < len && isspace((unsigned char)msg[i]))
			i++;
		if (i >= len)
			break;
		if (ntok++)
			pane_buf_addc(out, ' ');
		char q = msg[i];
		if (q == '"' || q == '\'' || q == '`') {
			/* a quoted string: up to the closing quote (backslash escapes) */
			size_t j = i + 1;
			while (j < len && msg[j] != q) {
				if (msg[j] == '\\' && j + 1 < len)
					j++;
				j++;
			}
			pane_buf_adds(out, "<*>");
			i = j < len ? j + 1 : len;
			/* what is glued to the closing quote (a comma, a colon) stays */
			while (i < len && !isspace((unsigned char)msg[i]) && ispunct((unsigned char)msg[i]))
				pane_buf_addc(out, msg[i++]);
			continue;
		}
		size_t j = i;
		while (j < len && !isspace((unsigned char)msg[j]))
			j++;
		/* split the token on '/', '=' and ',' so /api/items/285 and id=7 keep their fixed part */
		size_t k = i;
		while (k < j) {
			size_t e = k;
			while (e < j && msg[e] != '/' && msg[e] != '=' && msg[e] != ',' && msg[e] != '?' &&
			       msg[e] != '&')
				e++;
			/* trim surrounding punctuation before classifying */
			size_t a = k, b = e;
			while (a < b && strchr("([{<", msg[a]))
				a++;
			while (b > a && strchr(")]}>:;.!", msg[b - 1]))
				b--;
			pane_buf_add(out, msg + k, a - k);
			if (variable(msg + a, b - a))
				pane_buf_adds(out, "<*>");
			else
				pane_buf_add(out, msg + a, b - a);
			pane_buf_add(out, msg + b, e - b);
			if (e < j)
				pane_buf_addc(out, msg[e]);
			k = e < j ? e + 1 : e;
		}
		i = j;
	}
}

/* ---------- Drain-style grouping ---------- */

struct tmpl {
	char **tok;
	size_t n;
	size_t count[2];
	char *example;
	char severity[8];
};

struct pane_console_templates {
	struct tmpl *v;
	size_t n, cap;
	size_t overflow;
};

struct pane_console_templates *pane_console_templates_new(void)
{
	return pane_xcalloc(1, sizeof(struct pane_console_templates));
}

void pane_console_templates_free(struct pane_console_templates *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		for (size_t j = 0; j < t->v[i].n; j++)
			free(t->v[i].tok[j]);
		free(t->v[i].tok);
		free(t->v[i].example);
	}
	free(t->v);
	free(t);
}

static size_t split(char *s, char **tok)
{
	size_t n = 0;
	char *p = s;
	while (*p && n < MAX_TOKENS) {
		tok[n++] = p;
		char *sp = strchr(p, ' ');
		if (!sp)
			break;
		*sp = '\0';
		p = sp + 1;
	}
	return n;
}

void pane_console_templates_add(struct pane_console_templates *t, const char *msg, size_t len, const char *severity,
                                int which)
{
	struct pane_buf b;
	pane_buf_init(&b, 64 * 1024);
	pane_console_mask(msg, len, &b);
	pane_buf_addc(&b, '\0');
	char *tok[MAX_TOKENS];
	size_t n = split(b.data, tok);
	which = which ? 1 : 0;
	/* the leaf: same token count and first token; the most similar template in it */
	struct tmpl *best = NULL;
	size_t best_eq = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct tmpl *c = &t->v[i];
		if (c->n != n || (n && strcmp(c->tok[0], tok[0])))
			continue;
		size_t eq = 0;
		for (size_t j = 0; j < n; j++)
			eq += !strcmp(c->tok[j], tok[j]) || !strcmp(c->tok[j], "<*>");
		if (!best || eq > best_eq) {
			best = c;
			best_eq = eq;
		}
	}
	if (best && (n == 0 || best_eq * 2 >= n)) {
		for (size_t j = 0; j < n; j++)
			if (strcmp(best->tok[j], tok[j]) && strcmp(best->tok[j], "<*>")) {
				free(best->tok[j]);
				best->tok[j] = pane_xstrdup("<*>");
			}
		best->count[which]++;
		if (which == 0 && best->count[0] == 1) {
			free(best->example);
			best->example = pane_xstrndup(msg, len < EXAMPLE_MAX ? len : EXAMPLE_MAX);
		}
	} else if (t->n < MAX_TEMPLATES) {
		if (t->n == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 64;
			t->v = pane_xrealloc(t->v, t->cap * sizeof *t->v);
		}
		struct tmpl *c = &t->v[t->n++];
		memset(c, 0, sizeof *c);
		c->n = n;
		c->tok = pane_xcalloc(n ? n : 1, sizeof *c->tok);
		for (size_t j = 0; j < n; j++)
			c->tok[j] = pane_xstrdup(tok[j]);
		c->count[which] = 1;
		c->example = pane_xstrndup(msg, len < EXAMPLE_MAX ? len : EXAMPLE_MAX);
		snprintf(c->severity, sizeof c->severity, "%s", severity ? severity : "");
	} else {
		t->overflow++;
	}
	pane_buf_release(&b);
}

static double tscore(const struct tmpl *c)
{
	return ((double)c->count[0] + 1.0) / ((double)c->count[1] + 1.0);
}

static int by_rank(const void *a, const void *b)
{
	const struct tmpl *x = *(const struct tmpl *const *)a, *y = *(const struct tmpl *const *)b;
	/* new ones first (by count), then by smoothed ratio, then by count */
	bool nx = x->count[1] == 0, ny = y->count[1] == 0;
	if (nx != ny)
		return nx ? -1 : 1;
	double sx = tscore(x), sy = tscore(y);
	if (!nx && sx != sy)
		return sx > sy ? -1 : 1;
	if (x->count[0] != y->count[0])
		return x->count[0] > y->count[0] ? -1 : 1;
	return 0;
}

void pane_console_templates_json(const struct pane_console_templates *t, size_t max, struct pane_buf *out)
{
	const struct tmpl **list = pane_xcalloc(t->n ? t->n : 1, sizeof *list);
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].count[0] > t->v[i].count[1] && (t->v[i].count[1] == 0 || tscore(&t->v[i]) >= 1.5))
			list[n++] = &t->v[i];
	qsort(list, n, sizeof *list, by_rank);
	struct pane_json jo;
	pane_json_init(&jo, out);
	pane_json_arr(&jo);
	for (size_t i = 0; i < n && i < max; i++) {
		const struct tmpl *c = list[i];
		struct pane_buf s;
		pane_buf_init(&s, 64 * 1024);
		for (size_t j = 0; j < c->n; j++) {
			if (j)
				pane_buf_addc(&s, ' ');
			pane_buf_adds(&s, c->tok[j]);
		}
		pane_json_obj(&jo);
		pane_json_key(&jo, "template");
		pane_json_strn(&jo, s.data ? s.data : "", s.len);
		pane_json_key(&jo, "count");
		pane_json_uint(&jo, c->count[0]);
		pane_json_key(&jo, "before");
		pane_json_uint(&jo, c->count[1]);
		pane_json_key(&jo, "score");
		pane_json_rawf(&jo, "%.3f", tscore(c));
		pane_json_key(&jo, "example");
		pane_json_str(&jo, c->example ? c->example : "");
		pane_json_key(&jo, "severity");
		pane_json_str(&jo, c->severity);
		pane_json_obj_end(&jo);
		pane_buf_release(&s);
	}
	pane_json_arr_end(&jo);
	free(list);
}

/* ---------- series ---------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median of the finite values of v (n of them), sorted in place into tmp. */
static double median(const double *v, size_t n, double *tmp, size_t *m)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(v[i]))
			tmp[k++] = v[i];
	*m = k;
	if (!k)
		return NAN;
	qsort(tmp, k, sizeof *tmp, cmp_double);
	return k % 2 ? tmp[k / 2] : (tmp[k / 2 - 1] + tmp[k / 2]) / 2.0;
}

double pane_console_change_score(const double *w, size_t nw, const double *p, size_t np, double *med_w, double *med_p)
{
	size_t cap = nw > np ? nw : np;
	double *tmp = pane_xmalloc((cap ? cap : 1) * sizeof *tmp);
	size_t kw, kp;
	double mw = median(w, nw, tmp, &kw);
	double mp = median(p, np, tmp, &kp);
	double score = NAN;
	if (kw && kp) {
		/* MAD(p): the median of |p - median(p)| (tmp holds p's finite values) */
		for (size_t i = 0; i < kp; i++)
			tmp[i] = fabs(tmp[i] - mp);
		size_t km;
		double mad = median(tmp, kp, tmp, &km);
		double eps = fmax(1e-9, 0.01 * fabs(mp));
		score = fabs(mw - mp) / (mad + eps);
	}
	free(tmp);
	if (med_w)
		*med_w = mw;
	if (med_p)
		*med_p = mp;
	return score;
}

struct scored {
	size_t idx;
	double score, mw, mp;
};

static int by_score(const void *a, const void *b)
{
	const struct scored *x = a, *y = b;
	return x->score > y->score ? -1 : x->score < y->score;
}

int pane_console_series_changes(struct pane_reader reader, const struct pane_matcher *m, size_t n_matchers,
                                int64_t start, int64_t end, size_t max, struct pane_buf *out, struct pane_err *err)
{
	int64_t len = end - start;
	if (len <= 0)
		return pane_err_set(err, PANE_EINVAL, "the window is empty (end <= start)");
	struct pane_series_set *set = NULL;
	int rc = reader.ops->select(reader.ctx, m, n_matchers, start - len, end, 20u * 1000 * 1000, &set, err);
	if (rc < 0)
		return rc;
	struct scored *sc = pane_xcalloc(set->n ? set->n : 1, sizeof *sc);
	size_t ns = 0;
	for (size_t i = 0; i < set->n; i++) {
		const struct pane_series *s = &set->series[i];
		/* samples before start are W', the rest W; stale markers are NaN and skipped */
		size_t cut = 0;
		while (cut < s->n && s->ts[cut] < start)
			cut++;
		double mw, mp;
		double score = pane_console_change_score(s->values + cut, s->n - cut, s->values, cut, &mw, &mp);
		if (isfinite(score) && score > 0)
			sc[ns++] = (struct scored){i, score, mw, mp};
	}
	qsort(sc, ns, sizeof *sc, by_score);
	struct pane_json jo;
	pane_json_init(&jo, out);
	pane_json_arr(&jo);
	for (size_t i = 0; i < ns && i < max; i++) {
		const struct pane_series *s = &set->series[sc[i].idx];
		pane_json_obj(&jo);
		pane_json_key(&jo, "labels");
		pane_json_obj(&jo);
		for (size_t j = 0; j < s->labels.n; j++) {
			pane_json_key(&jo, s->labels.v[j].name);
			pane_json_str(&jo, s->labels.v[j].value);
		}
		pane_json_obj_end(&jo);
		pane_json_key(&jo, "median");
		pane_json_num(&jo, sc[i].mw);
		pane_json_key(&jo, "median_before");
		pane_json_num(&jo, sc[i].mp);
		pane_json_key(&jo, "score");
		pane_json_num(&jo, sc[i].score);
		pane_json_obj_end(&jo);
	}
	pane_json_arr_end(&jo);
	free(sc);
	set->free(set);
	return 0;
}
