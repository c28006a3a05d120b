/*
 * pipeline.c - one log line through a LogQL expression's stages.
 *
 * Idea: stages run in order on a working copy of the line's labels and
 * text, reusing the run's buffers across lines, so a query over a million
 * lines allocates per distinct stage output, not per line. When no stage
 * touches labels the stream's own label set is used and never copied
 * (the common count_over_time({...} |= "x") case).
 *
 * As in Loki: line filters (|= != |~ !~) are case-sensitive and |~ is
 * unanchored; | json flattens nested objects with "_" (arrays skipped) and
 * | logfmt reads key=value pairs, both sanitising names and adding
 * "_extracted" when the stream already has the label; a line that does not
 * parse gets __error__="JSONParserErr" / "LogfmtParserErr"; label filter
 * regexes are anchored; a numeric filter on a value that is not a number
 * (or not a duration, for duration filters) does not match.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "logql/ast.h"

void lq_run_init(struct lq_run *r)
{
	memset(r, 0, sizeof *r);
	pane_labels_init(&r->labels);
	pane_buf_init(&r->line, PANE_LOG_MESSAGE_MAX * 2);
	pane_buf_init(&r->scratch, PANE_LOG_MESSAGE_MAX * 2);
	r->md = pcre2_match_data_create(32, NULL);
}

void lq_run_release(struct lq_run *r)
{
	pane_labels_release(&r->labels);
	pane_buf_release(&r->line);
	pane_buf_release(&r->scratch);
	pcre2_match_data_free(r->md);
}

/* Sets or (value NULL) removes a label by name without the naming rules,
 * for the reserved __error__ that pane_labels_set refuses. Keeps order. */
static void put_raw(struct pane_labels *ls, const char *name, const char *value)
{
	size_t i = 0;
	while (i < ls->n && strcmp(ls->v[i].name, name) < 0)
		i++;
	if (i < ls->n && !strcmp(ls->v[i].name, name)) {
		free((char *)ls->v[i].value);
		if (value) {
			ls->v[i].value = pane_xstrdup(value);
			return;
		}
		free((char *)ls->v[i].name);
		memmove(&ls->v[i], &ls->v[i + 1], (ls->n - i - 1) * sizeof *ls->v);
		ls->n--;
		return;
	}
	if (!value || ls->n >= PANE_LABELS_MAX)
		return;
	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? ls->cap * 2 : 8;
		ls->v = pane_xrealloc(ls->v, pane_mul_size(ls->cap, sizeof *ls->v));
	}
	memmove(&ls->v[i + 1], &ls->v[i], (ls->n - i) * sizeof *ls->v);
	ls->v[i] = (struct pane_label){.name = pane_xstrdup(name), .value = pane_xstrdup(value)};
	ls->n++;
	ls->owned = true;
}

/* Adds an extracted label: sanitised name, "_extracted" when the stream has it. */
static void add_extracted(struct lq_run *r, const struct pane_labels *stream, const char *name, size_t nlen,
                          const char *v, size_t vlen)
{
	if (!nlen)
		return;
	char *n = pane_name_sanitize(name, nlen, false);
	if (pane_labels_get(stream, n)) {
		size_t l = strlen(n);
		n = pane_xrealloc(n, l + 11);
		memcpy(n + l, "_extracted", 11);
	}
	if (vlen)
		(void)pane_labels_setn(&r->labels, n, strlen(n), v, vlen); /* past the bounds: not added */
	free(n);
}

static void json_flatten(struct lq_run *r, const struct pane_labels *stream, json_t *o, struct pane_buf *prefix,
                         int depth)
{
	const char *k;
	json_t *v;
	size_t plen = prefix->len;
	json_object_foreach(o, k, v)
	{
		pane_buf_truncate(prefix, plen);
		if (plen)
			pane_buf_addc(prefix, '_');
		pane_buf_adds(prefix, k);
		char num[64];
		switch (json_typeof(v)) {
		case JSON_OBJECT:
			if (depth < 16)
				json_flatten(r, stream, v, prefix, depth + 1);
			break;
		case JSON_STRING:
			add_extracted(r, stream, prefix->data, prefix->len, json_string_value(v),
			              json_string_length(v));
			break;
		case JSON_INTEGER:
			snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			add_extracted(r, stream, prefix->data, prefix->len, num, strlen(num));
			break;
		case JSON_REAL:
			snprintf(num, sizeof num, "%.15g", json_real_value(v));
			if (strtod(num, NULL) != json_real_value(v))
				snprintf(num, sizeof num, "%.17g", json_real_value(v));
			add_extracted(r, stream, prefix->data, prefix->len, num, strlen(num));
			break;
		case JSON_TRUE: add_extracted(r, stream, prefix->data, prefix->len, "true", 4); break;
		case JSON_FALSE: add_extracted(r, stream, prefix->data, prefix->len, "false", 5); break;
		default: break; /* arrays and null are skipped */
		}
	}
	pane_buf_truncate(prefix, plen);
}

static void stage_json(struct lq_run *r, const struct pane_labels *stream, const char *line, size_t len)
{
	json_error_t je;
	json_t *o = json_loadb(line, len, JSON_DECODE_ANY, &je);
	if (!json_is_object(o)) {
		put_raw(&r->labels, "__error__", "JSONParserErr");
	} else {
		pane_buf_reset(&r->scratch);
		json_flatten(r, stream, o, &r->scratch, 0);
	}
	json_decref(o);
}

static void stage_logfmt(struct lq_run *r, const struct pane_labels *stream, const char *s, size_t len)
{
	size_t i = 0;
	bool bad = false;
	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i >= len)
			break;
		size_t ks = i;
		while (i < len && s[i] != '=' && s[i] != ' ' && s[i] != '\t' && s[i] != '"')
			i++;
		size_t kl = i - ks;
		if (i < len && s[i] == '"') { /* a quote inside a key */
			bad = true;
			break;
		}
		if (i >= len || s[i] != '=') {
			continue; /* a bare key: no value */
		}
		i++;
		pane_buf_reset(&r->scratch);
		if (i < len && s[i] == '"') {
			i++;
			bool closed = false;
			while (i < len) {
				if (s[i] == '\\' && i + 1 < len) {
					char e = s[i + 1];
					pane_buf_addc(&r->scratch, e == 'n' ? '\n' : e == 't' ? '\t' : e);
					i += 2;
					continue;
				}
				if (s[i] == '"') {
					closed = true;
					i++;
					break;
				}
				pane_buf_addc(&r->scratch, s[i++]);
			}
			if (!closed) {
				bad = true;
				break;
			}
		} else {
			while (i < len && s[i] != ' ' && s[i] != '\t')
				pane_buf_addc(&r->scratch, s[i++]);
		}
		add_extracted(r, stream, s + ks, kl, r->scratch.data ? r->scratch.data : "", r->scratch.len);
	}
	if (bad)
		put_raw(&r->labels, "__error__", "LogfmtParserErr");
}

static int lf_eval(const struct lq_lf *f, const struct pane_labels *ls, pcre2_match_data *md)
{
	switch (f->kind) {
	case LQ_LF_AND: {
		int a = lf_eval(f->a, ls, md);
		return a <= 0 ? a : lf_eval(f->b, ls, md);
	}
	case LQ_LF_OR: {
		int a = lf_eval(f->a, ls, md);
		return a != 0 ? a : lf_eval(f->b, ls, md);
	}
	case LQ_LF_STR: {
		const char *v = pane_labels_get(ls, f->name);
		if (!v)
			v = "";
		int r;
		switch (f->op) {
		case LQ_EQ: return !strcmp(v, f->str);
		case LQ_NE: return strcmp(v, f->str) != 0;
		default:
			r = pane_regex_match(f->re, v, strlen(v), md);
			if (r < 0)
				return r;
			return f->op == LQ_RE ? r : !r;
		}
	}
	case LQ_LF_NUM: {
		const char *v = pane_labels_get(ls, f->name);
		if (!v || !*v)
			return 0;
		double x;
		if (f->duration) {
			if (lq_parse_duration(v, strlen(v), &x) < 0)
				return 0;
		} else {
			char *end;
			x = strtod(v, &end);
			if (*end || isnan(x))
				return 0;
		}
		switch (f->op) {
		case LQ_EQ: return x == f->num;
		case LQ_NE: return x != f->num;
		case LQ_GT: return x > f->num;
		case LQ_GE: return x >= f->num;
		case LQ_LT: return x < f->num;
		default: return x <= f->num;
		}
	}
	}
	return 0;
}

static void line_format(struct lq_run *r, const struct lq_stage *st, const struct pane_labels *ls)
{
	pane_buf_reset(&r->scratch);
	for (size_t i = 0; i < st->n_parts; i++) {
		const struct lq_tpart *t = &st->parts[i];
		if (t->kind == LQ_T_TEXT) {
			pane_buf_add(&r->scratch, t->text, t->len);
		} else if (t->kind == LQ_T_LINE) {
			pane_buf_add(&r->scratch, r->out, r->out_len);
		} else {
			const char *v = pane_labels_get(ls, t->text);
			if (v)
				pane_buf_adds(&r->scratch, v);
		}
	}
	/* swap: the new line lives in r->line, r->scratch is free again */
	struct pane_buf tmp = r->line;
	r->line = r->scratch;
	r->scratch = tmp;
	r->out = r->line.data ? r->line.data : "";
	r->out_len = r->line.len;
}

int lq_pipeline(const struct lq_log *log, struct lq_run *r, const struct pane_labels *stream, const char *line,
                size_t len)
{
	r->out = line;
	r->out_len = len;
	const struct pane_labels *ls = stream;
	if (log->changes_labels) {
		pane_labels_release(&r->labels);
		pane_labels_copy(&r->labels, stream);
		ls = &r->labels;
	}
	for (size_t i = 0; i < log->n_stages; i++) {
		const struct lq_stage *st = &log->stages[i];
		int m;
		switch (st->kind) {
		case LQ_LINE_FILTER:
			if (st->lop == LQ_CONTAINS || st->lop == LQ_NOT_CONTAINS) {
				bool has = !st->text_len || memmem(r->out, r->out_len, st->text, st->text_len) != NULL;
				if (has != (st->lop == LQ_CONTAINS))
					return 0;
			} else {
				m = pane_regex_match(st->re, r->out, r->out_len, r->md);
				if (m < 0)
					return m;
				if (m != (st->lop == LQ_MATCH))
					return 0;
			}
			break;
		case LQ_JSON: stage_json(r, stream, r->out, r->out_len); break;
		case LQ_LOGFMT: stage_logfmt(r, stream, r->out, r->out_len); break;
		case LQ_LINE_FORMAT: line_format(r, st, ls); break;
		case LQ_LABEL_FILTER:
			m = lf_eval(st->lf, ls, r->md);
			if (m <= 0)
				return m;
			break;
		case LQ_DROP:
			for (size_t k = 0; k < st->n_names; k++)
				put_raw(&r->labels, st->names[k], NULL);
			break;
		case LQ_KEEP: {
			struct pane_labels kept;
			pane_labels_init(&kept);
			for (size_t k = 0; k < st->n_names; k++) {
				const char *v = pane_labels_get(&r->labels, st->names[k]);
				if (v)
					put_raw(&kept, st->names[k], v);
			}
			pane_labels_release(&r->labels);
			r->labels = kept;
			break;
		}
		}
	}
	return 1;
}
