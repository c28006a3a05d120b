/*
 * promtext.c - Prometheus text 0.0.4 / OpenMetrics parser (see promtext.h).
 *
 * Idea: one pass over the bytes, line by line, with no allocation per line.
 * Names and unescaped label values are written into one batch arena (a
 * fixed block allocated once per parse); label sets are slices of a fixed
 * label pool, sorted in place (series have a handful of labels, insertion
 * sort wins). When the arena, the pool or the sample array could not take
 * the next line, the batch goes to the callback and everything is reused.
 * This keeps memory at a constant ~2 MiB whatever the input size and lets
 * the whole thing run at memory-scan speed.
 *
 * With a series cache (pane_promtext_parse_cached, promcache.h) a sample
 * line is first cut at the end of its series text (series_len: the name,
 * and the label set to its closing '}', quotes and escapes honoured); a
 * text seen before delivers the cached name and labels and only the value
 * and timestamp are parsed (parse_tail, the same code and errors as a full
 * parse). A text is cached only after a full parse of the line succeeded
 * and ended exactly where series_len ends it, so the cache can only repeat
 * what the parser said about those bytes.
 *
 * Metadata (# HELP/# TYPE/# UNIT), when the caller asks for it, collects
 * in up to META_BATCH fixed slots, one per family name, merged across
 * lines; full slots or the end of input hand them to the meta callback.
 * The slots are allocated only when asked for (~300 KiB).
 *
 * Invariants:
 *   (1) A line is either delivered whole or counted as bad; a bad line
 *       never stops the parse (only the callbacks or max_samples do).
 *   (2) Delivered label sets are sorted, unique, values non-empty, names
 *       valid per record.h, values valid UTF-8, sizes within record.h's
 *       bounds.
 *   (3) Reads never go past text + len (the input need not end in NUL or
 *       a newline).
 */
#include "receivers/promtext.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/utf8.h"
#include "pipeline/pipeline.h"
#include "receivers/promcache.h"

#define BATCH 512
#define POOL (BATCH * 16)
#define ARENA (2u << 20)
#define LINE_MAX_BYTES (512u << 10)
#define META_BATCH 64

struct meta_slot {
	char name[PANE_METRIC_NAME_MAX + 1];
	char help[PANE_METADATA_HELP_MAX + 2]; /* one byte over the bound, to cut at a character */
	char unit[PANE_METADATA_UNIT_MAX + 1];
	enum pane_metric_type type;
};

int pane_promtext_meta_to_pipeline(void *pipeline, const struct pane_metadata *m, size_t n, struct pane_err *err)
{
	(void)err;
	static struct pane_log_limit lim = {.burst = 3, .per_ms = 60000};
	struct pane_err e = {0};
	if (pane_pipeline_write_metadata(pipeline, m, n, &e) < 0)
		pane_log_limited(&lim, PANE_LOG_WARN, "receivers", "metadata not stored: %s", e.msg);
	return 0;
}

bool pane_promtext_is_openmetrics(const char *ct)
{
	return ct && strncasecmp(ct, "application/openmetrics-text", 28) == 0;
}

/* character classes: 1 = name start, 2 = name continue, 4 = metric-only ':' */
static unsigned char cls[256];
static void init_cls(void)
{
	if (cls['a'])
		return;
	for (int c = 0; c < 256; c++) {
		unsigned char v = 0;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
			v = 3;
		else if (c >= '0' && c <= '9')
			v = 2;
		else if (c == ':')
			v = 4;
		cls[c] = v;
	}
}

struct parser {
	const struct pane_promtext_opts *o;
	pane_promtext_fn fn;
	pane_promtext_cached_fn cfn; /* instead of fn, with a cache */
	void *arg;
	struct pane_promtext_result *res;
	char *arena;
	size_t used;
	struct pane_label *pool;
	size_t pool_used;
	struct pane_labels *lsets;
	struct pane_sample *samples;
	size_t n;
	size_t extra_bytes;
	struct meta_slot *meta; /* META_BATCH slots when opts->meta is set */
	size_t n_meta;
	/* the series cache (pane_promtext_parse_cached), else NULL */
	struct pane_promcache *cache;
	struct pane_promcache_entry **ents; /* BATCH: each sample's entry, or NULL */
	struct pane_promcache_entry *last;  /* the entry of the last line that had one (until a batch ends) */
	uint64_t last_hits;                 /* lines answered from last, for the cache's counters */
};

static int flush_meta(struct parser *ps, struct pane_err *err)
{
	if (!ps->n_meta)
		return 0;
	struct pane_metadata m[META_BATCH];
	for (size_t i = 0; i < ps->n_meta; i++)
		m[i] = (struct pane_metadata){.name = ps->meta[i].name,
		                              .type = ps->meta[i].type,
		                              .help = ps->meta[i].help,
		                              .unit = ps->meta[i].unit};
	size_t n = ps->n_meta;
	ps->n_meta = 0;
	return ps->o->meta(ps->o->meta_arg, m, n, err);
}

/* The slot of family name[0..len), a fresh one when it is not pending.
 * NULL with *rc set when handing full slots to the callback failed. */
static struct meta_slot *meta_slot(struct parser *ps, const char *name, size_t len, int *rc, struct pane_err *err)
{
	for (size_t i = 0; i < ps->n_meta; i++)
		if (strlen(ps->meta[i].name) == len && memcmp(ps->meta[i].name, name, len) == 0)
			return &ps->meta[i];
	if (ps->n_meta == META_BATCH && (*rc = flush_meta(ps, err)) < 0)
		return NULL;
	struct meta_slot *m = &ps->meta[ps->n_meta++];
	memcpy(m->name, name, len);
	m->name[len] = '\0';
	m->help[0] = m->unit[0] = '\0';
	m->type = PANE_METRIC_UNKNOWN;
	return m;
}

/* Help text as Prometheus unescapes it (\\ and \n; OpenMetrics also \"; any
 * other backslash stays), cut to PANE_METADATA_HELP_MAX bytes at a character. */
static void unescape_help(const char *p, size_t len, bool om, char *out)
{
	size_t w = 0;
	for (size_t i = 0; i < len && w <= PANE_METADATA_HELP_MAX; i++) {
		char c = p[i];
		if (c == '\\' && i + 1 < len) {
			char e = p[i + 1];
			if (e == '\\' || e == 'n' || (om && e == '"')) {
				c = e == 'n' ? '\n' : e;
				i++;
			}
		}
		out[w++] = c;
	}
	w = pane_utf8_cut(out, w, PANE_METADATA_HELP_MAX);
	out[w] = '\0';
}

static int flush_batch(struct parser *ps, struct pane_err *err)
{
	int rc = 0;
	if (ps->n)
		rc = ps->cfn ? ps->cfn(ps->arg, ps->samples, ps->ents, ps->n, err)
		             : ps->fn(ps->arg, ps->samples, ps->n, err);
	ps->res->samples += ps->n;
	ps->n = 0;
	ps->used = 0;
	ps->pool_used = 0;
	if (ps->cache) { /* nothing holds an entry now: the cache may be emptied */
		pane_promcache_batch_end(ps->cache, ps->last_hits);
		ps->last_hits = 0;
		ps->last = NULL;
	}
	return rc;
}

static void bad(struct parser *ps, size_t lineno, const char *what, const char *line, size_t len)
{
	ps->res->bad_lines++;
	if (ps->res->line)
		return;
	ps->res->line = lineno;
	snprintf(ps->res->first_error, sizeof ps->res->first_error, "line %zu: %s: %.*s", lineno, what,
	         (int)(len > 60 ? 60 : len), line);
}

static size_t skip_ws(const char *p, size_t i, size_t len)
{
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i;
}

/* A float the way Go and Prometheus write them. */
static int parse_float(const char *p, size_t len, double *out)
{
	if (len == 0 || len > 63)
		return -1;
	return pane_str_to_double(pane_str_make(p, len), out) < 0 ? -1 : 0;
}

/* Returns 1 at an OpenMetrics # EOF, 0 to go on, or a negative code from
 * the metadata callback. */
static int parse_comment(struct parser *ps, const char *line, size_t len, size_t lineno, struct pane_err *err)
{
	size_t i = skip_ws(line, 1, len);
	const char *kw = line + i;
	size_t kl = 0;
	while (i + kl < len && line[i + kl] != ' ' && line[i + kl] != '\t')
		kl++;
	if (kl == 3 && memcmp(kw, "EOF", 3) == 0 && skip_ws(line, i + 3, len) == len) {
		ps->res->saw_eof = true;
		return ps->o->openmetrics ? 1 : 0;
	}
	bool is_type = kl == 4 && memcmp(kw, "TYPE", 4) == 0;
	bool is_help = kl == 4 && memcmp(kw, "HELP", 4) == 0;
	bool is_unit = kl == 4 && memcmp(kw, "UNIT", 4) == 0;
	if (!is_type && !is_help && !is_unit)
		return 0; /* a plain comment */
	i = skip_ws(line, i + kl, len);
	size_t ns = i;
	while (i < len && line[i] != ' ' && line[i] != '\t')
		i++;
	size_t nlen = i - ns;
	if (!pane_metric_name_valid(line + ns, nlen)) {
		bad(ps, lineno, "bad metric name in metadata line", line, len);
		return 0;
	}
	size_t after_name = i;
	i = skip_ws(line, i, len);
	size_t vs = i; /* the rest: a type word or a unit */
	if (is_help)   /* Prometheus drops exactly one separator: further blanks belong to the help */
		vs = after_name < len ? after_name + 1 : len;
	enum pane_metric_type type = PANE_METRIC_UNKNOWN;
	if (is_type) {
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		if (pane_metric_type_parse(line + vs, i - vs, &type) < 0 || skip_ws(line, i, len) != len) {
			bad(ps, lineno, "unknown metric type", line, len);
			return 0;
		}
	} else if (is_unit) {
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		if (i - vs > PANE_METADATA_UNIT_MAX || skip_ws(line, i, len) != len ||
		    !pane_utf8_valid(line + vs, i - vs)) {
			bad(ps, lineno, "bad unit", line, len);
			return 0;
		}
	} else if (!pane_utf8_valid(line + vs, len - vs)) {
		bad(ps, lineno, "help text is not UTF-8", line, len);
		return 0;
	}
	if (!ps->meta)
		return 0;
	int rc = 0;
	struct meta_slot *m = meta_slot(ps, line + ns, nlen, &rc, err);
	if (!m)
		return rc;
	if (is_type) {
		m->type = type;
	} else if (is_unit) {
		memcpy(m->unit, line + vs, i - vs);
		m->unit[i - vs] = '\0';
	} else {
		unescape_help(line + vs, len - vs, ps->o->openmetrics, m->help);
	}
	return 0;
}

static void sort_labels(struct pane_label *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct pane_label x = v[i];
		size_t j = i;
		while (j > 0 && strcmp(v[j - 1].name, x.name) > 0) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

/* The rest of a sample line after its series text line[0..after):
 * blanks, the value, an optional timestamp, an optional exemplar. False
 * when the line is bad (counted and reported). */
static bool parse_tail(struct parser *ps, const char *line, size_t len, size_t after, size_t lineno, double *value,
                       int64_t *ts)
{
	const struct pane_promtext_opts *o = ps->o;
	size_t vs = skip_ws(line, after, len);
	if (vs == after || vs >= len) {
		bad(ps, lineno, "expected a space before the value", line, len);
		return false;
	}
	size_t i = vs;
	while (i < len && line[i] != ' ' && line[i] != '\t')
		i++;
	if (parse_float(line + vs, i - vs, value) < 0) {
		bad(ps, lineno, "bad sample value", line, len);
		return false;
	}
	*ts = o->default_ts_ms;
	i = skip_ws(line, i, len);
	if (i < len && line[i] != '#') {
		size_t ts0 = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		double t;
		if (o->openmetrics) {
			if (parse_float(line + ts0, i - ts0, &t) < 0 || !isfinite(t) || fabs(t) > 9.2e15) {
				bad(ps, lineno, "bad timestamp", line, len);
				return false;
			}
			*ts = (int64_t)llround(t * 1000.0);
		} else {
			int64_t ms;
			if (pane_str_to_i64(pane_str_make(line + ts0, i - ts0), &ms) < 0) {
				bad(ps, lineno, "bad timestamp (want integer milliseconds)", line, len);
				return false;
			}
			*ts = ms;
		}
		i = skip_ws(line, i, len);
	}
	if (i < len && line[i] != '#') {
		bad(ps, lineno, "unexpected text after the sample", line, len);
		return false;
	}
	/* ' # {...} v [ts]' is an exemplar: deliberately ignored */
	return true;
}

/* Length of a sample line's series text (promcache.h): the metric name,
 * then, when blanks and a '{' follow, the label set to the first '}' out
 * of quotes (escapes skipped). 0 when there is none or the set does not
 * close. For a line parse_sample takes, this is where it finds the series
 * to end; and it is decided by the text's own bytes, except that a text
 * without a label set also needs the line not to go on with a name
 * character or a '{' (same_end). */
static size_t series_len(const char *line, size_t len)
{
	size_t i = 0;
	while (i < len && cls[(unsigned char)line[i]])
		i++;
	size_t j = skip_ws(line, i, len);
	if (j >= len || line[j] != '{')
		return i;
	for (j++; j < len; j++) {
		if (line[j] == '}')
			return j + 1;
		if (line[j] == '"') {
			for (j++; j < len && line[j] != '"'; j++)
				if (line[j] == '\\')
					j++;
			if (j >= len)
				return 0;
		}
	}
	return 0;
}

/* Whether series_len(line, len) is kl, for a line whose first kl bytes are
 * a cached series text. */
static bool same_end(const char *line, size_t len, size_t kl)
{
	if (line[kl - 1] == '}') /* a label set: it closed within the text */
		return true;
	if (kl < len && cls[(unsigned char)line[kl]])
		return false;
	size_t j = skip_ws(line, kl, len);
	return j >= len || line[j] != '{';
}

/* The cache entry of the line's series, or NULL. The previous line's
 * entry is tried first: a file written series by series repeats it. */
static struct pane_promcache_entry *cached(struct parser *ps, const char *line, size_t len)
{
	struct pane_promcache_entry *e = ps->last;
	if (e && len >= e->text_len && memcmp(line, e->text, e->text_len) == 0 && same_end(line, len, e->text_len)) {
		ps->last_hits++;
		return e;
	}
	size_t kl = series_len(line, len);
	if (!kl)
		return NULL;
	e = pane_promcache_get(ps->cache, line, kl);
	if (e)
		ps->last = e;
	return e;
}

/* Adds a sample of a cached series (the line's first e->text_len bytes). */
static int add_cached(struct parser *ps, struct pane_promcache_entry *e, const char *line, size_t len, size_t lineno,
                      struct pane_err *err)
{
	double value;
	int64_t ts;
	if (!parse_tail(ps, line, len, e->text_len, lineno, &value, &ts))
		return 0;
	ps->samples[ps->n] = (struct pane_sample){.name = e->name, .labels = &e->labels, .ts_ms = ts, .value = value};
	ps->ents[ps->n] = e;
	ps->n++;
	if (ps->o->max_samples && ps->res->samples + ps->n > ps->o->max_samples)
		return pane_err_set(err, PANE_ETOOBIG, "more than %zu samples", ps->o->max_samples);
	return 0;
}

/* Parses one sample line into the batch. Returns 0 (delivered or counted as
 * bad) or a negative code from the callback. */
static int parse_sample(struct parser *ps, const char *line, size_t len, size_t lineno, struct pane_err *err)
{
	const struct pane_promtext_opts *o = ps->o;
	size_t extra_n = (o->extra ? o->extra->n : 0) + (o->defaults ? o->defaults->n : 0);
	if (len > LINE_MAX_BYTES) {
		bad(ps, lineno, "line too long", line, len);
		return 0;
	}
	size_t need = 2 * len + ps->extra_bytes + 16;
	if (ps->n == BATCH || ps->used + need > ARENA || ps->pool_used + PANE_LABELS_MAX + extra_n + 1 > POOL) {
		int rc = flush_batch(ps, err);
		if (rc < 0)
			return rc;
	}
	if (ps->cache) {
		struct pane_promcache_entry *e = cached(ps, line, len);
		if (e)
			return add_cached(ps, e, line, len, lineno, err);
	}
	char *a = ps->arena + ps->used;
	size_t au = 0;
	struct pane_label *lv = ps->pool + ps->pool_used;
	size_t nl = 0;

	size_t i = 0;
	size_t ns = 0;
	/* `{__name__="n",...}` (VictoriaMetrics' import format): the name comes from the label */
	bool name_in_labels = line[0] == '{';
	if (!name_in_labels && !(cls[(unsigned char)line[0]] & 1) && line[0] != ':') {
		bad(ps, lineno, "bad metric name", line, len);
		return 0;
	}
	while (i < len && cls[(unsigned char)line[i]])
		i++;
	if (i - ns > PANE_METRIC_NAME_MAX) {
		bad(ps, lineno, "metric name too long", line, len);
		return 0;
	}
	const char *name = a;
	memcpy(a, line, i);
	a[i] = '\0';
	au = i + 1;
	size_t after = i;
	i = skip_ws(line, i, len);
	if (i < len && line[i] == '{') {
		i++;
		for (;;) {
			i = skip_ws(line, i, len);
			if (i < len && line[i] == '}') {
				i++;
				break;
			}
			size_t ls = i;
			while (i < len && (cls[(unsigned char)line[i]] & 3) &&
			       (i > ls || (cls[(unsigned char)line[i]] & 1)))
				i++;
			size_t lnlen = i - ls;
			bool is_name = name_in_labels && lnlen == 8 && memcmp(line + ls, "__name__", 8) == 0;
			if (lnlen == 0 || (!is_name && !pane_label_name_valid(line + ls, lnlen))) {
				bad(ps, lineno, "bad label name", line, len);
				return 0;
			}
			i = skip_ws(line, i, len);
			if (i + 1 >= len || line[i] != '=') {
				bad(ps, lineno, "expected '=' after label name", line, len);
				return 0;
			}
			i = skip_ws(line, i + 1, len);
			if (i >= len || line[i] != '"') {
				bad(ps, lineno, "expected '\"' to open a label value", line, len);
				return 0;
			}
			i++;
			char *ln = a + au;
			memcpy(ln, line + ls, lnlen);
			ln[lnlen] = '\0';
			au += lnlen + 1;
			char *val = a + au;
			size_t vl = 0;
			bool closed = false;
			while (i < len) {
				char c = line[i++];
				if (c == '"') {
					closed = true;
					break;
				}
				if (c == '\0') {
					bad(ps, lineno, "NUL byte in label value", line, len);
					return 0;
				}
				if (c == '\\') {
					if (i >= len)
						break;
					char e = line[i++];
					c = e == 'n' ? '\n' : e == '\\' ? '\\' : e == '"' ? '"' : 0;
					if (!c) {
						bad(ps, lineno, "bad escape in label value", line, len);
						return 0;
					}
				}
				val[vl++] = c;
			}
			if (!closed) {
				bad(ps, lineno, "unterminated label value", line, len);
				return 0;
			}
			val[vl] = '\0';
			au += vl + 1;
			if (vl > PANE_LABEL_VALUE_MAX || !pane_utf8_valid(val, vl)) {
				bad(ps, lineno,
				    vl > PANE_LABEL_VALUE_MAX ? "label value too long" : "label value is not UTF-8",
				    line, len);
				return 0;
			}
			if (is_name) {
				if (*name || !pane_metric_name_valid(val, vl)) {
					bad(ps, lineno, *name ? "duplicate __name__" : "bad metric name", line, len);
					return 0;
				}
				name = val;
			} else if (vl > 0) {
				if (nl == PANE_LABELS_MAX) {
					bad(ps, lineno, "too many labels", line, len);
					return 0;
				}
				lv[nl].name = ln;
				lv[nl].value = val;
				nl++;
			}
			i = skip_ws(line, i, len);
			if (i < len && line[i] == ',') {
				i++;
				continue;
			}
			if (i < len && line[i] == '}') {
				i++;
				break;
			}
			bad(ps, lineno, "expected ',' or '}' in label set", line, len);
			return 0;
		}
		after = i;
	}
	if (!*name) {
		bad(ps, lineno, "no metric name (a label set alone needs __name__)", line, len);
		return 0;
	}
	double value;
	int64_t ts;
	if (!parse_tail(ps, line, len, after, lineno, &value, &ts))
		return 0;
	sort_labels(lv, nl);
	for (size_t k = 1; k < nl; k++)
		if (strcmp(lv[k - 1].name, lv[k].name) == 0) {
			bad(ps, lineno, "duplicate label name", line, len);
			return 0;
		}
	if (extra_n) {
		/* merge: extra labels win unless honor_labels */
		for (size_t e = 0; o->extra && e < o->extra->n; e++) {
			const struct pane_label *x = &o->extra->v[e];
			size_t k = 0;
			while (k < nl && strcmp(lv[k].name, x->name) != 0)
				k++;
			if (k < nl) {
				if (!o->honor_labels)
					lv[k].value = x->value;
			} else if (nl < PANE_LABELS_MAX) {
				lv[nl++] = *x;
			}
		}
		/* then defaults, only where the sample has no such label */
		size_t had = nl;
		for (size_t e = 0; o->defaults && e < o->defaults->n && nl < PANE_LABELS_MAX; e++) {
			const struct pane_label *x = &o->defaults->v[e];
			size_t k = 0;
			while (k < had && strcmp(lv[k].name, x->name) != 0)
				k++;
			if (k == had)
				lv[nl++] = *x;
		}
		sort_labels(lv, nl);
	}
	/* a series seen for the first time: cached by its text, when it ends
	 * where series_len finds it (the lookup of later lines) */
	struct pane_promcache_entry *e = NULL;
	if (ps->cache && series_len(line, len) == after)
		e = pane_promcache_put(ps->cache, line, after, name, lv, nl);
	if (e) {
		ps->last = e;
		ps->samples[ps->n] =
		    (struct pane_sample){.name = e->name, .labels = &e->labels, .ts_ms = ts, .value = value};
	} else {
		ps->used += au;
		ps->pool_used += nl;
		struct pane_labels *ls = &ps->lsets[ps->n];
		ls->v = lv;
		ls->n = nl;
		ls->cap = nl;
		ls->owned = false;
		ps->samples[ps->n] = (struct pane_sample){.name = name, .labels = ls, .ts_ms = ts, .value = value};
	}
	if (ps->ents)
		ps->ents[ps->n] = e;
	ps->n++;
	if (o->max_samples && ps->res->samples + ps->n > o->max_samples)
		return pane_err_set(err, PANE_ETOOBIG, "more than %zu samples", o->max_samples);
	return 0;
}

/* Parses every line of text with ps set up by the caller; frees nothing. */
static int parse_all(struct parser *ps, const char *text, size_t len, struct pane_err *err)
{
	const struct pane_promtext_opts *opts = ps->o;
	init_cls();
	if (opts->extra)
		for (size_t i = 0; i < opts->extra->n; i++)
			ps->extra_bytes += strlen(opts->extra->v[i].name) + strlen(opts->extra->v[i].value) + 2;
	if (opts->defaults)
		for (size_t i = 0; i < opts->defaults->n; i++)
			ps->extra_bytes += strlen(opts->defaults->v[i].name) + strlen(opts->defaults->v[i].value) + 2;
	ps->arena = pane_xmalloc(ARENA);
	ps->pool = pane_xmalloc(POOL * sizeof *ps->pool);
	ps->lsets = pane_xmalloc(BATCH * sizeof *ps->lsets);
	ps->samples = pane_xmalloc(BATCH * sizeof *ps->samples);
	if (opts->meta)
		ps->meta = pane_xmalloc(META_BATCH * sizeof *ps->meta);
	int rc = 0;
	size_t lineno = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *line = p;
		size_t ll = (size_t)(le - p);
		p = nl ? nl + 1 : end;
		lineno++;
		if (ll && line[ll - 1] == '\r')
			ll--;
		size_t s = skip_ws(line, 0, ll);
		line += s;
		ll -= s;
		if (ll == 0)
			continue;
		if (line[0] == '#') {
			rc = parse_comment(ps, line, ll, lineno, err);
			if (rc != 0) {
				rc = rc > 0 ? 0 : rc;
				break;
			}
			continue;
		}
		rc = parse_sample(ps, line, ll, lineno, err);
		if (rc < 0)
			break;
	}
	if (rc == 0)
		rc = flush_batch(ps, err);
	else if (ps->cache) /* stopped with a batch undelivered: nothing holds its entries either */
		pane_promcache_batch_end(ps->cache, ps->last_hits);
	if (rc == 0 && ps->meta)
		rc = flush_meta(ps, err);
	free(ps->meta);
	free(ps->arena);
	free(ps->pool);
	free(ps->lsets);
	free(ps->samples);
	return rc;
}

int pane_promtext_parse(const char *text, size_t len, const struct pane_promtext_opts *opts, pane_promtext_fn fn,
                        void *arg, struct pane_promtext_result *res, struct pane_err *err)
{
	memset(res, 0, sizeof *res);
	struct parser ps = {.o = opts, .fn = fn, .arg = arg, .res = res};
	return parse_all(&ps, text, len, err);
}

/* What decides the meaning of a series text besides its bytes, as bytes
 * (pane_promcache_context): honor_labels, the extra labels, the defaults. */
static void cache_context(const struct pane_promtext_opts *o, struct pane_buf *b)
{
	pane_buf_addc(b, o->honor_labels ? 'h' : '-');
	const struct pane_labels *sets[2] = {o->extra, o->defaults};
	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; sets[k] && i < sets[k]->n; i++) {
			pane_buf_add(b, sets[k]->v[i].name, strlen(sets[k]->v[i].name) + 1);
			pane_buf_add(b, sets[k]->v[i].value, strlen(sets[k]->v[i].value) + 1);
		}
		pane_buf_addc(b, '\x01');
	}
}

int pane_promtext_parse_cached(const char *text, size_t len, const struct pane_promtext_opts *opts,
                               struct pane_promcache *cache, pane_promtext_cached_fn fn, void *arg,
                               struct pane_promtext_result *res, struct pane_err *err)
{
	memset(res, 0, sizeof *res);
	struct pane_buf ctx;
	pane_buf_init(&ctx, PANE_BUF_NOLIMIT);
	cache_context(opts, &ctx);
	pane_promcache_context(cache, ctx.data, ctx.len);
	pane_buf_release(&ctx);
	struct parser ps = {.o = opts, .cfn = fn, .arg = arg, .res = res, .cache = cache};
	ps.ents = pane_xmalloc(BATCH * sizeof *ps.ents);
	int rc = parse_all(&ps, text, len, err);
	free(ps.ents);
	return rc;
}
