/*
 * tmplfuncs.c - the functions a template can call: Prometheus' template
 * functions (humanize*, query, first, label, value, sortByLabel, printf,
 * reReplaceAll, title, toUpper, ...), Go's builtins (eq, lt, len, index,
 * ...) and, in Alertmanager's notification templates, Alertmanager's (join,
 * safeHtml, stringSlice, ...).
 *
 * Idea: the engine (tmplparse.c parses, template.c walks a template) hands
 * every function call here, by name, with evaluated arguments; this file only
 * turns values into values, with each function's Go/Prometheus semantics
 * and error wording (Go's "wrong number of args for %s: want %d got %d",
 * "error calling %s: ..."). A name the parser accepted but this file does
 * not implement in the current mode fails with "%s is not a function here".
 *
 * Invariants: 1. results are owned by the run (tmpl_ralloc/tmpl_rstr),
 * never by the caller; 2. {{query}} runs through r->d's reader with the
 * query engine's default limits, and its samples live on the run; 3.
 * regular expressions use base/regex.h's bounded matching.
 * Deliberately elsewhere: parsing, printing values, truth and variables
 * (template.c); Alertmanager's default templates (amdefaults.c).
 * Threads: no shared state (a run belongs to one thread).
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert/tmpl_internal.h"
#include "base/mem.h"
#include "base/regex.h"
#include "query/ast.h"
#include "query/query.h"

/* C printf of one float conversion, with Go's spelling of NaN/Inf */
static void fmt_float_c(struct pane_buf *b, const char *flags, int width, int prec, char conv, double v)
{
	if (isnan(v) || isinf(v)) {
		const char *s = isnan(v) ? (strchr(flags, '+') ? "+NaN" : "NaN") : v > 0 ? "+Inf" : "-Inf";
		if (isinf(v) && v > 0 && !strchr(flags, '+'))
			s = "+Inf";
		bool left = strchr(flags, '-') != NULL;
		pane_buf_addf(b, left ? "%-*s" : "%*s", width, s);
		return;
	}
	char f[32];
	if (prec >= 0)
		snprintf(f, sizeof f, "%%%s%d.%d%c", flags, width, prec, conv);
	else
		snprintf(f, sizeof f, "%%%s%d%c", flags, width, conv);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	pane_buf_addf(b, f, v);
#pragma GCC diagnostic pop
}

/* Go's convertToFloat */
static int to_float(struct run *r, const struct node *at, const char *fn, const struct val *v, double *out)
{
	switch (v->k) {
	case V_FLOAT: *out = v->f; return 0;
	case V_INT: *out = (double)v->i; return 0;
	case V_STR:
	case V_HTML: {
		char *end;
		const char *s = v->s;
		double d = 0;
		bool ok = *s != 0;
		if (ok) {
			if (strcmp(s, "NaN") == 0 || strcmp(s, "nan") == 0)
				d = NAN;
			else if (!strcmp(s, "Inf") || !strcmp(s, "+Inf") || !strcmp(s, "inf") || !strcmp(s, "+inf"))
				d = INFINITY;
			else if (!strcmp(s, "-Inf") || !strcmp(s, "-inf"))
				d = -INFINITY;
			else {
				d = strtod(s, &end);
				ok = *end == 0 && !isspace((unsigned char)*s);
			}
		}
		if (!ok) {
			tmpl_fail(r, at, "error calling %s: strconv.ParseFloat: parsing \"%s\": invalid syntax", fn, s);
			return -1;
		}
		*out = d;
		return 0;
	}
	default: tmpl_fail(r, at, "error calling %s: can't convert %s to float", fn, tmpl_type_name(v)); return -1;
	}
}

static const char *want_str(struct run *r, const struct node *at, const struct val *v, size_t argi, const char *fn)
{
	if (v->k == V_STR || v->k == V_HTML)
		return v->s;
	tmpl_fail(r, at, "wrong type for value; expected string; got %s", tmpl_type_name(v));
	(void)argi;
	(void)fn;
	return NULL;
}

static const char *g4(struct run *r, double v, const char *suffix)
{
	char b[64];
	if (isnan(v))
		snprintf(b, sizeof b, "NaN%s", suffix);
	else if (isinf(v))
		snprintf(b, sizeof b, "%s%s", v > 0 ? "+Inf" : "-Inf", suffix);
	else
		snprintf(b, sizeof b, "%.4g%s", v, suffix);
	return tmpl_rstr(r, b, strlen(b));
}

static const char *humanize(struct run *r, double v)
{
	if (v == 0 || isnan(v) || isinf(v))
		return g4(r, v, "");
	static const char *const big[] = {"k", "M", "G", "T", "P", "E", "Z", "Y"};
	static const char *const small[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
	const char *prefix = "";
	if (fabs(v) >= 1) {
		for (size_t i = 0; i < 8; i++) {
			if (fabs(v) < 1000)
				break;
			prefix = big[i];
			v /= 1000;
		}
		return g4(r, v, prefix);
	}
	for (size_t i = 0; i < 8; i++) {
		if (fabs(v) >= 1)
			break;
		prefix = small[i];
		v *= 1000;
	}
	return g4(r, v, prefix);
}

static const char *humanize1024(struct run *r, double v)
{
	if (fabs(v) <= 1 || isnan(v) || isinf(v))
		return g4(r, v, "");
	static const char *const big[] = {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"};
	const char *prefix = "";
	for (size_t i = 0; i < 8; i++) {
		if (fabs(v) < 1024)
			break;
		prefix = big[i];
		v /= 1024;
	}
	return g4(r, v, prefix);
}

static const char *humanize_duration(struct run *r, double v)
{
	if (isnan(v) || isinf(v))
		return g4(r, v, "");
	if (v == 0)
		return g4(r, v, "s");
	char b[128];
	if (fabs(v) >= 1) {
		const char *sign = "";
		if (v < 0) {
			sign = "-";
			v = -v;
		}
		int64_t d = (int64_t)v;
		long long s = d % 60, m = (d / 60) % 60, h = (d / 3600) % 24, days = d / 86400;
		if (days)
			snprintf(b, sizeof b, "%s%lldd %lldh %lldm %llds", sign, days, h, m, s);
		else if (h)
			snprintf(b, sizeof b, "%s%lldh %lldm %llds", sign, h, m, s);
		else if (m)
			snprintf(b, sizeof b, "%s%lldm %llds", sign, m, s);
		else
			snprintf(b, sizeof b, "%s%.4gs", sign, v);
		return tmpl_rstr(r, b, strlen(b));
	}
	static const char *const small[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
	const char *prefix = "";
	for (size_t i = 0; i < 8; i++) {
		if (fabs(v) >= 1)
			break;
		prefix = small[i];
		v *= 1000;
	}
	snprintf(b, sizeof b, "%.4g%ss", v, prefix);
	return tmpl_rstr(r, b, strlen(b));
}

/* Go's time.Time.String() in UTC: "2006-01-02 15:04:05.999999999 +0000 UTC" */
static const char *time_string(struct run *r, double v, const struct node *at, const char *fn)
{
	if (isnan(v) || isinf(v))
		return g4(r, v, "");
	double sec = floor(v);
	double frac = v - sec;
	int64_t ns = (int64_t)llround(frac * 1e9);
	if (ns >= 1000000000) {
		sec += 1;
		ns -= 1000000000;
	}
	if (sec > 9.2e15 || sec < -9.2e15) {
		tmpl_fail(r, at, "error calling %s: timestamp out of range", fn);
		return NULL;
	}
	time_t t = (time_t)sec;
	struct tm tm;
	gmtime_r(&t, &tm);
	char b[128];
	char fr[16] = "";
	if (ns) {
		snprintf(fr, sizeof fr, ".%09lld", (long long)ns);
		size_t n = strlen(fr);
		while (n > 1 && fr[n - 1] == '0')
			fr[--n] = 0;
	}
	snprintf(b, sizeof b, "%04d-%02d-%02d %02d:%02d:%02d%s +0000 UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, fr);
	return tmpl_rstr(r, b, strlen(b));
}

/* Go fmt.Sprintf for the verbs templates use */
static void go_printf(struct run *r, const char *f, const struct val *args, size_t n, struct pane_buf *b)
{
	size_t ai = 0;
	for (const char *p = f; *p; p++) {
		if (*p != '%') {
			pane_buf_addc(b, *p);
			continue;
		}
		p++;
		if (*p == '%') {
			pane_buf_addc(b, '%');
			continue;
		}
		char flags[8] = "";
		size_t nf = 0;
		while (*p && strchr("-+# 0", *p) && nf < sizeof flags - 1)
			flags[nf++] = *p++;
		int width = 0, prec = -1;
		while (isdigit((unsigned char)*p))
			width = width * 10 + (*p++ - '0');
		if (*p == '.') {
			p++;
			prec = 0;
			while (isdigit((unsigned char)*p))
				prec = prec * 10 + (*p++ - '0');
		}
		char conv = *p;
		if (!conv) {
			pane_buf_adds(b, "%!(NOVERB)");
			break;
		}
		if (ai >= n) {
			pane_buf_addf(b, "%%!%c(MISSING)", conv);
			continue;
		}
		const struct val *v = &args[ai++];
		struct pane_buf t;
		pane_buf_init(&t, PANE_BUF_NOLIMIT);
		bool bad = false;
		switch (conv) {
		case 'v':
			if (v->k == V_FLOAT && prec < 0) {
				char x[64];
				tmpl_go_shortest(v->f, 'g', x, sizeof x);
				pane_buf_adds(&t, x);
			} else if (v->k == V_FLOAT) {
				fmt_float_c(&t, "", 0, prec, 'g', v->f);
			} else {
				tmpl_print_val(r, v, &t);
			}
			break;
		case 's':
			if (v->k == V_STR || v->k == V_HTML) {
				if (prec >= 0 && (size_t)prec < strlen(v->s))
					pane_buf_add(&t, v->s, (size_t)prec);
				else
					pane_buf_adds(&t, v->s);
			} else if (v->k == V_LABELS || v->k == V_ARGS || v->k == V_VEC || v->k == V_SAMPLE) {
				tmpl_print_val(r, v, &t);
			} else {
				bad = true;
			}
			break;
		case 'q':
			if (v->k == V_STR || v->k == V_HTML) {
				pane_buf_addc(&t, '"');
				for (const char *s = v->s; *s; s++) {
					if (*s == '"' || *s == '\\')
						pane_buf_addc(&t, '\\');
					if (*s == '\n')
						pane_buf_adds(&t, "\\n");
					else
						pane_buf_addc(&t, *s);
				}
				pane_buf_addc(&t, '"');
			} else {
				bad = true;
			}
			break;
		case 'd':
			if (v->k == V_INT)
				pane_buf_addf(&t, "%lld", (long long)v->i);
			else
				bad = true;
			break;
		case 'x':
		case 'X':
			if (v->k == V_INT)
				pane_buf_addf(&t, conv == 'x' ? "%llx" : "%llX", (long long)v->i);
			else if (v->k == V_STR)
				for (const char *s = v->s; *s; s++)
					pane_buf_addf(&t, conv == 'x' ? "%02x" : "%02X", (unsigned char)*s);
			else
				bad = true;
			break;
		case 't':
			if (v->k == V_BOOL)
				pane_buf_adds(&t, v->b ? "true" : "false");
			else
				bad = true;
			break;
		case 'f':
		case 'F':
		case 'e':
		case 'E':
		case 'g':
		case 'G':
			if (v->k == V_FLOAT) {
				if ((conv == 'g' || conv == 'G') && prec < 0) {
					char x[64];
					tmpl_go_shortest(v->f, 'g', x, sizeof x);
					pane_buf_adds(&t, x);
				} else if ((conv == 'e' || conv == 'E') && prec < 0) {
					fmt_float_c(&t, "", 0, 6, conv, v->f);
				} else {
					fmt_float_c(&t, "", 0, prec < 0 ? 6 : prec, conv == 'F' ? 'f' : conv, v->f);
				}
				/* width and flags are applied below */
			} else {
				bad = true;
			}
			break;
		default: bad = true;
		}
		if (bad) {
			pane_buf_reset(&t);
			pane_buf_addf(&t, "%%!%c(%s=", conv, v->k == V_NIL ? "<nil>" : tmpl_type_name(v));
			if (v->k != V_NIL)
				tmpl_print_val(r, v, &t);
			pane_buf_addc(&t, ')');
			if (v->k == V_NIL) {
				pane_buf_reset(&t);
				pane_buf_addf(&t, "%%!%c(<nil>)", conv);
			}
		}
		/* padding */
		const char *s = t.len ? t.data : "";
		size_t len = t.len;
		if ((int)len < width && !bad) {
			bool left = strchr(flags, '-') != NULL;
			bool zero = strchr(flags, '0') && !left && conv != 's' && conv != 'q' && conv != 'v';
			size_t pad = (size_t)width - len;
			if (left) {
				pane_buf_add(b, s, len);
				for (size_t i = 0; i < pad; i++)
					pane_buf_addc(b, ' ');
			} else if (zero) {
				size_t sg = (s[0] == '-' || s[0] == '+') ? 1 : 0;
				pane_buf_add(b, s, sg);
				for (size_t i = 0; i < pad; i++)
					pane_buf_addc(b, '0');
				pane_buf_add(b, s + sg, len - sg);
			} else {
				for (size_t i = 0; i < pad; i++)
					pane_buf_addc(b, ' ');
				pane_buf_add(b, s, len);
			}
		} else {
			pane_buf_add(b, s, len);
		}
		pane_buf_release(&t);
	}
	if (ai < n) {
		pane_buf_adds(b, "%!(EXTRA ");
		for (size_t i = ai; i < n; i++) {
			if (i > ai)
				pane_buf_adds(b, ", ");
			pane_buf_addf(b, "%s=", tmpl_type_name(&args[i]));
			tmpl_print_val(r, &args[i], b);
		}
		pane_buf_addc(b, ')');
	}
}

/* Go's "title": strings.Title, first letter of each word upper-cased */
static const char *title(struct run *r, const char *s)
{
	size_t n = strlen(s);
	char *o = tmpl_ralloc(r, n + 1);
	bool prev_letter = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool letter = isalnum(c) || c == '_' || c == '\'' || c >= 0x80;
		o[i] = (char)(!prev_letter && c < 0x80 ? toupper(c) : c);
		prev_letter = letter;
	}
	return o;
}

static const char *map_case(struct run *r, const char *s, int (*f)(int))
{
	size_t n = strlen(s);
	char *o = tmpl_ralloc(r, n + 1);
	for (size_t i = 0; i < n; i++)
		o[i] = (unsigned char)s[i] < 0x80 ? (char)f((unsigned char)s[i]) : s[i];
	return o;
}

/* Go regexp (RE2) is unanchored for match/ReplaceAll; PCRE2 is close enough
 * for the common syntax. Compiled and run through base/regex, so a template
 * regex has the same match/depth/heap limits as every label matcher. */
static pcre2_code *re_compile(struct run *r, const struct node *at, const char *fn, const char *pat)
{
	struct pane_err e = {0};
	pcre2_code *c = pane_regex_compile(pat, PANE_REGEX_UNANCHORED, &e);
	if (!c)
		tmpl_fail(r, at, "error calling %s: %s", fn, e.msg);
	return c;
}

static void re_limit(struct run *r, const struct node *at, const char *fn, int rc)
{
	tmpl_fail(r, at, "error calling %s: %s", fn,
	          rc == PANE_ETOOBIG ? "regular expression too costly (match, depth or heap limit)"
	                             : "regular expression match failed");
}

/* Width of the UTF-8 sequence at s[i] (1 for a stray byte, as Go's DecodeRuneInString). */
static size_t rune_width(const char *s, size_t i, size_t len)
{
	unsigned char c = (unsigned char)s[i];
	size_t w = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	if (i + w > len)
		return 1;
	for (size_t k = 1; k < w; k++)
		if (((unsigned char)s[i + k] & 0xc0) != 0x80)
			return 1;
	return w;
}

/* Go's regexp.ReplaceAllString: a match of the empty string right after
 * another match is not replaced, and the search always advances at least
 * one character. */
static const char *re_replace_all(struct run *r, const struct node *at, const char *pat, const char *repl,
                                  const char *text)
{
	pcre2_code *re = re_compile(r, at, "reReplaceAll", pat);
	if (!re)
		return NULL;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	struct pane_buf b;
	pane_buf_init(&b, 1 << 20);
	size_t len = strlen(text), pos = 0, last = 0;
	uint32_t ncap = 0;
	pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &ncap);
	bool failed = false;
	while (pos <= len) {
		int rc = pane_regex_search(re, text, len, pos, 0, md);
		if (rc < 0) {
			re_limit(r, at, "reReplaceAll", rc);
			failed = true;
			break;
		}
		if (rc == 0)
			break;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		pane_buf_add(&b, text + last, ov[0] - last);
		if (ov[1] > last || ov[0] == 0) {
			/* Go's Expand: $1, ${1}, ${name}, $$ */
			for (const char *p = repl; *p; p++) {
				if (*p != '$') {
					pane_buf_addc(&b, *p);
					continue;
				}
				p++;
				if (*p == '$') {
					pane_buf_addc(&b, '$');
					continue;
				}
				char name[64];
				size_t k = 0;
				bool brace = *p == '{';
				if (brace)
					p++;
				while ((isalnum((unsigned char)*p) || *p == '_') && k + 1 < sizeof name)
					name[k++] = *p++;
				name[k] = 0;
				if (brace) {
					if (*p != '}') {
						pane_buf_addc(&b, '$');
						p = p - k - 2;
						continue;
					}
				} else {
					p--;
				}
				if (!k) {
					pane_buf_addc(&b, '$');
					continue;
				}
				char *end;
				long gi = strtol(name, &end, 10);
				int idx = -1;
				if (*end == 0)
					idx = (int)gi;
				else
					idx = pcre2_substring_number_from_name(re, (PCRE2_SPTR)name);
				if (idx >= 0 && (uint32_t)idx <= ncap && idx < rc && ov[2 * idx] != PCRE2_UNSET)
					pane_buf_add(&b, text + ov[2 * idx], ov[2 * idx + 1] - ov[2 * idx]);
			}
		}
		last = ov[1];
		size_t w = pos < len ? rune_width(text, pos, len) : 0;
		if (pos + w > ov[1])
			pos += w;
		else if (pos + 1 > ov[1])
			pos++;
		else
			pos = ov[1];
	}
	if (last < len)
		pane_buf_add(&b, text + last, len - last);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	const char *s = failed ? NULL : tmpl_rstr(r, b.len ? b.data : "", b.len);
	pane_buf_release(&b);
	return s;
}

static struct val do_query(struct run *r, const struct node *at, const char *q)
{
	struct val v = {.k = V_VEC};
	v.vec = tmpl_ralloc(r, sizeof *v.vec);
	if (!r->d->reader) {
		tmpl_fail(r, at, "error calling query: no query engine here");
		return v;
	}
	struct pane_query_result res;
	enum pane_query_errclass cls;
	struct pane_err e;
	struct pane_query_opts o = {0};
	if (pane_query_exec(*r->d->reader, &o, q, r->d->ts, r->d->ts, 0, &res, &cls, &e) < 0) {
		tmpl_fail(r, at, "error calling query: %s", e.msg);
		return v;
	}
	if (res.type == PANE_QT_SCALAR) {
		v.vec->s = tmpl_ralloc(r, sizeof *v.vec->s);
		struct tsample *s = tmpl_new_sample(r);
		s->value = res.scalar;
		v.vec->s[0] = s;
		v.vec->n = 1;
	} else if (res.type == PANE_QT_VECTOR) {
		v.vec->s = tmpl_ralloc(r, (res.n ? res.n : 1) * sizeof *v.vec->s);
		for (size_t i = 0; i < res.n; i++) {
			struct tsample *s = tmpl_new_sample(r);
			pane_labels_copy(&s->labels, &res.series[i].labels);
			s->value = res.series[i].values[0];
			v.vec->s[v.vec->n++] = s;
		}
	} else {
		tmpl_fail(r, at, "error calling query: query result is not a vector or scalar");
	}
	pane_query_result_release(&res);
	return v;
}

static __thread const char *sort_label;
static int sample_by_label(const void *a, const void *b)
{
	const struct tsample *x = *(struct tsample *const *)a, *y = *(struct tsample *const *)b;
	const char *vx = pane_labels_get(&x->labels, sort_label), *vy = pane_labels_get(&y->labels, sort_label);
	return strcmp(vx ? vx : "", vy ? vy : "");
}

static int kind_class(const struct val *v)
{
	switch (v->k) {
	case V_INT: return 1;
	case V_FLOAT: return 2;
	case V_STR:
	case V_HTML: return 3;
	case V_BOOL: return 4;
	default: return 0;
	}
}

/* -1/0/1 or -2 on incompatible */
static int compare(const struct val *a, const struct val *b, bool ordered)
{
	int ka = kind_class(a), kb = kind_class(b);
	if (!ka || !kb || ka != kb)
		return -2;
	switch (ka) {
	case 1: return a->i < b->i ? -1 : a->i > b->i;
	case 2: return a->f < b->f ? -1 : a->f > b->f ? 1 : a->f == b->f ? 0 : 3; /* NaN: unordered */
	case 3: {
		int c = strcmp(a->s, b->s);
		return c < 0 ? -1 : c > 0;
	}
	case 4:
		if (ordered)
			return -3;
		return a->b == b->b ? 0 : 1;
	}
	return -2;
}

struct val tmpl_call(struct run *r, const struct node *at, const char *fn, struct val *a, size_t n, struct val dot)
{
	struct val none = {0};
	(void)dot;
#define NARGS(k)                                                                                                       \
	do {                                                                                                           \
		if (n != (k)) {                                                                                        \
			tmpl_fail(r, at, "wrong number of args for %s: want %d got %zu", fn, (k), n);                  \
			return none;                                                                                   \
		}                                                                                                      \
	} while (0)
	double f;
	if (!strcmp(fn, "humanize") || !strcmp(fn, "humanize1024") || !strcmp(fn, "humanizeDuration") ||
	    !strcmp(fn, "humanizePercentage") || !strcmp(fn, "humanizeTimestamp") || !strcmp(fn, "toTime")) {
		NARGS(1);
		if (to_float(r, at, fn, &a[0], &f) < 0)
			return none;
		const char *s;
		if (!strcmp(fn, "humanize"))
			s = humanize(r, f);
		else if (!strcmp(fn, "humanize1024"))
			s = humanize1024(r, f);
		else if (!strcmp(fn, "humanizeDuration"))
			s = humanize_duration(r, f);
		else if (!strcmp(fn, "humanizePercentage"))
			s = g4(r, f * 100, "%");
		else
			s = time_string(r, f, at, fn);
		return s ? tmpl_sval(s) : none;
	}
	if (!strcmp(fn, "printf") || !strcmp(fn, "print") || !strcmp(fn, "println")) {
		struct pane_buf b;
		pane_buf_init(&b, 1 << 20);
		if (!strcmp(fn, "printf")) {
			if (n < 1) {
				tmpl_fail(r, at, "wrong number of args for printf: want at least 1 got 0");
				pane_buf_release(&b);
				return none;
			}
			const char *fs = want_str(r, at, &a[0], 0, fn);
			if (!fs) {
				pane_buf_release(&b);
				return none;
			}
			go_printf(r, fs, a + 1, n - 1, &b);
		} else {
			for (size_t i = 0; i < n; i++) {
				bool str = a[i].k == V_STR || a[i].k == V_HTML;
				bool pstr = i > 0 && (a[i - 1].k == V_STR || a[i - 1].k == V_HTML);
				if (i > 0 && (!strcmp(fn, "println") || (!str && !pstr)))
					pane_buf_addc(&b, ' ');
				tmpl_print_val(r, &a[i], &b);
			}
			if (!strcmp(fn, "println"))
				pane_buf_addc(&b, '\n');
		}
		struct val v = tmpl_sval(tmpl_rstr(r, b.len ? b.data : "", b.len));
		pane_buf_release(&b);
		return v;
	}
	if (!strcmp(fn, "title") || !strcmp(fn, "toUpper") || !strcmp(fn, "toLower") || !strcmp(fn, "safeHtml") ||
	    !strcmp(fn, "stripPort") || !strcmp(fn, "query") || !strcmp(fn, "html") || !strcmp(fn, "urlquery") ||
	    !strcmp(fn, "js")) {
		NARGS(1);
		const char *s = want_str(r, at, &a[0], 0, fn);
		if (!s)
			return none;
		if (!strcmp(fn, "title"))
			return tmpl_sval(title(r, s));
		if (!strcmp(fn, "toUpper"))
			return tmpl_sval(map_case(r, s, toupper));
		if (!strcmp(fn, "toLower"))
			return tmpl_sval(map_case(r, s, tolower));
		if (!strcmp(fn, "safeHtml"))
			return (struct val){.k = V_HTML, .s = s};
		if (!strcmp(fn, "query"))
			return do_query(r, at, s);
		if (!strcmp(fn, "stripPort")) {
			/* net.SplitHostPort: "host:port" or "[v6]:port"; otherwise unchanged */
			const char *colon = strrchr(s, ':');
			if (s[0] == '[') {
				const char *rb = strchr(s, ']');
				if (rb && rb[1] == ':' && !strchr(rb + 2, ':'))
					return tmpl_sval(tmpl_rstr(r, s + 1, (size_t)(rb - s - 1)));
				return tmpl_sval(s);
			}
			if (!colon || strchr(s, ':') != colon || strchr(s, '[') || strchr(s, ']'))
				return tmpl_sval(s);
			return tmpl_sval(tmpl_rstr(r, s, (size_t)(colon - s)));
		}
		struct pane_buf b;
		pane_buf_init(&b, 1 << 20);
		for (const char *p = s; *p; p++) {
			unsigned char c = (unsigned char)*p;
			if (!strcmp(fn, "html")) {
				switch (c) {
				case '<': pane_buf_adds(&b, "&lt;"); break;
				case '>': pane_buf_adds(&b, "&gt;"); break;
				case '&': pane_buf_adds(&b, "&amp;"); break;
				case '\'': pane_buf_adds(&b, "&#39;"); break;
				case '"': pane_buf_adds(&b, "&#34;"); break;
				case 0: pane_buf_adds(&b, "\xef\xbf\xbd"); break;
				default: pane_buf_addc(&b, (char)c);
				}
			} else if (!strcmp(fn, "urlquery")) {
				if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
					pane_buf_addc(&b, (char)c);
				else if (c == ' ')
					pane_buf_addc(&b, '+');
				else
					pane_buf_addf(&b, "%%%02X", c);
			} else {
				switch (c) {
				case '\\': pane_buf_adds(&b, "\\\\"); break;
				case '\'': pane_buf_adds(&b, "\\'"); break;
				case '"': pane_buf_adds(&b, "\\\""); break;
				case '<': pane_buf_adds(&b, "\\u003C"); break;
				case '>': pane_buf_adds(&b, "\\u003E"); break;
				case '&': pane_buf_adds(&b, "\\u0026"); break;
				case '=': pane_buf_adds(&b, "\\u003D"); break;
				default:
					if (c < 0x20)
						pane_buf_addf(&b, "\\u%04X", c);
					else
						pane_buf_addc(&b, (char)c);
				}
			}
		}
		struct val v = tmpl_sval(tmpl_rstr(r, b.len ? b.data : "", b.len));
		pane_buf_release(&b);
		return v;
	}
	if (!strcmp(fn, "match") || !strcmp(fn, "reReplaceAll")) {
		NARGS(!strcmp(fn, "match") ? 2 : 3);
		const char *s0 = want_str(r, at, &a[0], 0, fn);
		const char *s1 = s0 ? want_str(r, at, &a[1], 1, fn) : NULL;
		if (!s1)
			return none;
		if (!strcmp(fn, "reReplaceAll")) {
			const char *s2 = want_str(r, at, &a[2], 2, fn);
			if (!s2)
				return none;
			const char *o = re_replace_all(r, at, s0, s1, s2);
			return o ? tmpl_sval(o) : none;
		}
		pcre2_code *re = re_compile(r, at, fn, s0);
		if (!re)
			return none;
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
		int rc = pane_regex_search(re, s1, strlen(s1), 0, 0, md);
		pcre2_match_data_free(md);
		pcre2_code_free(re);
		if (rc < 0) {
			re_limit(r, at, fn, rc);
			return none;
		}
		return (struct val){.k = V_BOOL, .b = rc > 0};
	}
	if (!strcmp(fn, "first")) {
		NARGS(1);
		if (a[0].k != V_VEC) {
			tmpl_fail(r, at, "wrong type for value; expected template.queryResult; got %s",
			          tmpl_type_name(&a[0]));
			return none;
		}
		if (!a[0].vec || a[0].vec->n == 0) {
			tmpl_fail(r, at, "error calling first: first() called on vector with no elements");
			return none;
		}
		return (struct val){.k = V_SAMPLE, .smp = a[0].vec->s[0]};
	}
	if (!strcmp(fn, "value") || !strcmp(fn, "strvalue")) {
		NARGS(1);
		if (a[0].k != V_SAMPLE) {
			tmpl_fail(r, at, "wrong type for value; expected *template.sample; got %s",
			          tmpl_type_name(&a[0]));
			return none;
		}
		if (!strcmp(fn, "value"))
			return (struct val){.k = V_FLOAT, .f = a[0].smp ? a[0].smp->value : 0};
		const char *s = a[0].smp ? pane_labels_get(&a[0].smp->labels, "__value__") : NULL;
		return tmpl_sval(s ? s : "");
	}
	if (!strcmp(fn, "label")) {
		NARGS(2);
		const char *l = want_str(r, at, &a[0], 0, fn);
		if (!l)
			return none;
		if (a[1].k != V_SAMPLE) {
			tmpl_fail(r, at, "wrong type for value; expected *template.sample; got %s",
			          tmpl_type_name(&a[1]));
			return none;
		}
		const char *s = a[1].smp ? pane_labels_get(&a[1].smp->labels, l) : NULL;
		return tmpl_sval(s ? s : "");
	}
	if (!strcmp(fn, "sortByLabel")) {
		NARGS(2);
		const char *l = want_str(r, at, &a[0], 0, fn);
		if (!l)
			return none;
		if (a[1].k != V_VEC) {
			tmpl_fail(r, at, "wrong type for value; expected template.queryResult; got %s",
			          tmpl_type_name(&a[1]));
			return none;
		}
		struct val v = {.k = V_VEC, .vec = tmpl_ralloc(r, sizeof(struct tvec))};
		size_t cnt = a[1].vec ? a[1].vec->n : 0;
		v.vec->s = tmpl_ralloc(r, (cnt ? cnt : 1) * sizeof *v.vec->s);
		for (size_t i = 0; i < cnt; i++)
			v.vec->s[i] = a[1].vec->s[i];
		v.vec->n = cnt;
		sort_label = l; /* qsort has no context argument; templates run one at a time per thread */
		if (cnt > 1)
			qsort(v.vec->s, cnt, sizeof *v.vec->s, sample_by_label);
		return v;
	}
	if (!strcmp(fn, "args")) {
		struct val v = {.k = V_ARGS, .args = tmpl_ralloc(r, sizeof(struct targs))};
		v.args->v = tmpl_ralloc(r, (n ? n : 1) * sizeof *v.args->v);
		for (size_t i = 0; i < n; i++)
			v.args->v[i] = a[i];
		v.args->n = n;
		return v;
	}
	if (!strcmp(fn, "pathPrefix") || !strcmp(fn, "externalURL")) {
		NARGS(0);
		const char *u = r->d->external_url ? r->d->external_url : "";
		if (!strcmp(fn, "externalURL"))
			return tmpl_sval(u);
		const char *sch = strstr(u, "://");
		const char *path = sch ? strchr(sch + 3, '/') : NULL;
		if (!path)
			return tmpl_sval("");
		const char *q = strpbrk(path, "?#");
		return tmpl_sval(tmpl_rstr(r, path, q ? (size_t)(q - path) : strlen(path)));
	}
	if (!strcmp(fn, "graphLink") || !strcmp(fn, "tableLink")) {
		NARGS(1);
		const char *s = want_str(r, at, &a[0], 0, fn);
		if (!s)
			return none;
		struct pane_buf b;
		pane_buf_init(&b, 1 << 20);
		pane_buf_addf(&b, "/graph?g0.expr=");
		for (const char *p = s; *p; p++) {
			unsigned char c = (unsigned char)*p;
			if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
				pane_buf_addc(&b, (char)c);
			else if (c == ' ')
				pane_buf_addc(&b, '+');
			else
				pane_buf_addf(&b, "%%%02X", c);
		}
		pane_buf_addf(&b, "&g0.tab=%d", !strcmp(fn, "graphLink") ? 0 : 1);
		struct val v = tmpl_sval(tmpl_rstr(r, b.data, b.len));
		pane_buf_release(&b);
		return v;
	}
	if (!strcmp(fn, "parseDuration")) {
		NARGS(1);
		const char *s = want_str(r, at, &a[0], 0, fn);
		if (!s)
			return none;
		int64_t ms;
		if (pq_duration_parse(s, strlen(s), &ms) < 0) {
			tmpl_fail(r, at, "error calling parseDuration: not a valid duration string: \"%s\"", s);
			return none;
		}
		return (struct val){.k = V_FLOAT, .f = (double)ms / 1000.0};
	}
	if (!strcmp(fn, "join")) { /* Alertmanager: join(sep string, s []string) */
		NARGS(2);
		const char *sep = want_str(r, at, &a[0], 0, fn);
		if (!sep)
			return none;
		if (a[1].k != V_STRS) {
			tmpl_fail(r, at, "wrong type for value; expected []string; got %s", tmpl_type_name(&a[1]));
			return none;
		}
		struct pane_buf b;
		pane_buf_init(&b, 1 << 20);
		for (size_t i = 0; a[1].lst && i < a[1].lst->n; i++) {
			if (i)
				pane_buf_adds(&b, sep);
			pane_buf_adds(&b, a[1].lst->s[i]);
		}
		const char *o = tmpl_rstr(r, b.len ? b.data : "", b.len);
		pane_buf_release(&b);
		return tmpl_sval(o);
	}
	if (!strcmp(fn, "stringSlice")) {
		struct tlist *l = tmpl_ralloc(r, sizeof *l);
		l->s = tmpl_ralloc(r, (n ? n : 1) * sizeof *l->s);
		for (size_t i = 0; i < n; i++) {
			l->s[i] = want_str(r, at, &a[i], i, fn);
			if (!l->s[i])
				return none;
		}
		l->n = n;
		return (struct val){.k = V_STRS, .lst = l};
	}
	if (!strcmp(fn, "not")) {
		NARGS(1);
		return (struct val){.k = V_BOOL, .b = !tmpl_truth(&a[0])};
	}
	if (!strcmp(fn, "len")) {
		NARGS(1);
		int64_t l = 0;
		switch (a[0].k) {
		case V_STR:
		case V_HTML: l = (int64_t)strlen(a[0].s); break;
		case V_LABELS: l = a[0].ls ? (int64_t)a[0].ls->n : 0; break;
		case V_VEC: l = a[0].vec ? (int64_t)a[0].vec->n : 0; break;
		case V_ARGS: l = a[0].args ? (int64_t)a[0].args->n : 0; break;
		case V_ALERTS:
		case V_STRS:
		case V_PAIRS: l = a[0].lst ? (int64_t)a[0].lst->n : 0; break;
		default: tmpl_fail(r, at, "error calling len: len of type %s", tmpl_type_name(&a[0])); return none;
		}
		return (struct val){.k = V_INT, .i = l};
	}
	if (!strcmp(fn, "index")) {
		if (n < 1) {
			tmpl_fail(r, at, "wrong number of args for index: want at least 1 got 0");
			return none;
		}
		struct val v = a[0];
		for (size_t i = 1; i < n && !r->failed; i++) {
			if (v.k == V_LABELS) {
				const char *k = want_str(r, at, &a[i], i, fn);
				if (!k)
					return none;
				const char *s = v.ls ? pane_labels_get(v.ls, k) : NULL;
				v = tmpl_sval(s ? s : "");
			} else if (v.k == V_VEC && a[i].k == V_INT) {
				if (!v.vec || a[i].i < 0 || (size_t)a[i].i >= v.vec->n) {
					tmpl_fail(r, at, "error calling index: index out of range: %lld",
					          (long long)a[i].i);
					return none;
				}
				v = (struct val){.k = V_SAMPLE, .smp = v.vec->s[a[i].i]};
			} else if ((v.k == V_STRS || v.k == V_ALERTS || v.k == V_PAIRS) && a[i].k == V_INT) {
				if (!v.lst || a[i].i < 0 || (size_t)a[i].i >= v.lst->n) {
					tmpl_fail(r, at, "error calling index: index out of range: %lld",
					          (long long)a[i].i);
					return none;
				}
				size_t k = (size_t)a[i].i;
				v = v.k == V_STRS     ? tmpl_sval(v.lst->s[k])
				    : v.k == V_ALERTS ? (struct val){.k = V_ALERT, .al = v.lst->al[k]}
				                      : (struct val){.k = V_PAIR, .s = v.lst->s[k], .s2 = v.lst->s2[k]};
			} else {
				tmpl_fail(r, at, "error calling index: can't index item of type %s",
				          tmpl_type_name(&v));
				return none;
			}
		}
		return v;
	}
	if (!strcmp(fn, "eq") || !strcmp(fn, "ne") || !strcmp(fn, "lt") || !strcmp(fn, "le") || !strcmp(fn, "gt") ||
	    !strcmp(fn, "ge")) {
		bool is_eq = !strcmp(fn, "eq");
		if (is_eq ? n < 2 : n != 2) {
			tmpl_fail(r, at, "wrong number of args for %s: want 2 got %zu", fn, n);
			return none;
		}
		bool res = false;
		for (size_t i = 1; i < n; i++) {
			int c = compare(&a[0], &a[i], !is_eq && strcmp(fn, "ne"));
			if (c == -2) {
				tmpl_fail(r, at, "error calling %s: incompatible types for comparison", fn);
				return none;
			}
			if (c == -3) {
				tmpl_fail(r, at, "error calling %s: invalid type for comparison", fn);
				return none;
			}
			if (is_eq) {
				if (c == 0) {
					res = true;
					break;
				}
				continue;
			}
			if (!strcmp(fn, "ne"))
				res = c != 0;
			else if (!strcmp(fn, "lt"))
				res = c == -1;
			else if (!strcmp(fn, "le"))
				res = c == -1 || c == 0;
			else if (!strcmp(fn, "gt"))
				res = c == 1;
			else
				res = c == 1 || c == 0;
		}
		return (struct val){.k = V_BOOL, .b = res};
	}
	tmpl_fail(r, at, "%s is not a function here", fn);
	return none;
#undef NARGS
}
