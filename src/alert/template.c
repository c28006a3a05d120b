/*
 * template.c - the Go text/template engine of Prometheus' alert templates
 * and Alertmanager's notification templates: running a parsed template.
 *
 * The idea: the whole text is parsed into a small tree (text, actions, if,
 * range, with) once (tmplparse.c), then walked with a dynamically typed
 * value (string, int, float, bool, label map, query result, sample, args
 * map, the data root), doing what Go's text/template does for the same types: how a value
 * prints, which values are "true", how a number literal becomes an int or a
 * float64, which comparisons are errors. Prometheus wraps every template in
 * four definitions ({{$labels := .Labels}}...), so positions in error
 * messages count them too, as Go's do.
 *
 * Invariants: 1. every allocation made while running a template goes on the
 * run's list and is freed when it ends (values are borrowed within a run);
 * 2. output is bounded by the caller's pane_buf maximum; 3. recursion depth
 * is bounded (hostile templates cannot blow the stack).
 * Errors: "template: NAME:LINE: ..." for parse errors and
 * "template: NAME:LINE:COL: executing \"NAME\" at <NODE>: ..." while running,
 * wrapped by pane_tmpl_expand as Prometheus does ("error executing template").
 * Deliberately elsewhere: the syntax and the tree (tmplparse.c), what each
 * function does (tmplfuncs.c: the engine hands it every call by name,
 * tmpl_call), Alertmanager's default templates (amdefaults.c); what they
 * share is tmpl_internal.h.
 * Threads: no shared state.
 */
#include "alert/template.h"

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

static const char alert_defs[] = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
                                 "{{$externalURL := .ExternalURL}}{{$value := .Value}}";

void *tmpl_ralloc(struct run *r, size_t n)
{
	void *p = pane_xcalloc(1, n ? n : 1);
	if (r->n_allocs == r->cap_allocs) {
		r->cap_allocs = r->cap_allocs ? r->cap_allocs * 2 : 32;
		r->allocs = pane_xrealloc(r->allocs, pane_mul_size(r->cap_allocs, sizeof *r->allocs));
	}
	r->allocs[r->n_allocs++] = p;
	return p;
}

const char *tmpl_rstr(struct run *r, const char *s, size_t n)
{
	char *p = tmpl_ralloc(r, n + 1);
	memcpy(p, s, n);
	return p;
}

struct tsample *tmpl_new_sample(struct run *r)
{
	struct tsample *s = pane_xcalloc(1, sizeof *s);
	pane_labels_init(&s->labels);
	if (r->n_samples == r->cap_samples) {
		r->cap_samples = r->cap_samples ? r->cap_samples * 2 : 16;
		r->samples = pane_xrealloc(r->samples, pane_mul_size(r->cap_samples, sizeof *r->samples));
	}
	r->samples[r->n_samples++] = s;
	return s;
}

void tmpl_fail(struct run *r, const struct node *n, const char *fmt, ...)
{
	if (r->failed)
		return;
	r->failed = true;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int pos = n ? n->pos : 0;
	int line = tmpl_line_of(r->src, (size_t)pos);
	int col = pos;
	for (int i = pos - 1; i >= 0; i--)
		if (r->src[i] == '\n') {
			col = pos - i - 1;
			break;
		}
	struct pane_buf b;
	pane_buf_init(&b, 300);
	if (n)
		tmpl_node_source(n, &b);
	if (b.len >= 300 - 1) {
		pane_buf_truncate(&b, 20);
		pane_buf_adds(&b, "...");
	}
	pane_err_set(r->err, PANE_EINVAL, "template: %s:%d:%d: executing \"%s\" at <%s>: %s", r->name, line, col,
	             r->name, b.len ? b.data : "", msg);
	pane_buf_release(&b);
}

/* Go strconv.FormatFloat(v, fmt, -1, 64) for fmt 'g' (eprec 6 as %v uses) or 'e' */
void tmpl_go_shortest(double v, char fmt, char *out, size_t outlen)
{
	if (isnan(v)) {
		snprintf(out, outlen, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, outlen, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		snprintf(out, outlen, "%s%s", signbit(v) ? "-" : "", fmt == 'e' ? "0e+00" : "0");
		return;
	}
	char d[18];
	bool neg;
	int exp = pane_query_float_digits(v, d, &neg);
	const char *sign = neg ? "-" : "";
	size_t nd = strlen(d);
	if (fmt == 'e' || exp < -4 || exp >= 6) {
		char mant[40];
		if (nd > 1)
			snprintf(mant, sizeof mant, "%c.%s", d[0], d + 1);
		else
			snprintf(mant, sizeof mant, "%c", d[0]);
		snprintf(out, outlen, "%s%se%c%02d", sign, mant, exp < 0 ? '-' : '+', abs(exp));
		return;
	}
	struct pane_buf b;
	pane_buf_init(&b, 64);
	pane_buf_adds(&b, sign);
	if (exp < 0) {
		pane_buf_adds(&b, "0.");
		for (int i = -1; i > exp; i--)
			pane_buf_addc(&b, '0');
		pane_buf_adds(&b, d);
	} else {
		for (int i = 0; i <= exp || (size_t)i < nd; i++) {
			if (i == exp + 1)
				pane_buf_addc(&b, '.');
			pane_buf_addc(&b, (size_t)i < nd ? d[i] : '0');
		}
	}
	snprintf(out, outlen, "%s", b.data);
	pane_buf_release(&b);
}

void pane_tmpl_fmt_float_v(double v, char *out, size_t outlen)
{
	tmpl_go_shortest(v, 'g', out, outlen);
}

void pane_tmpl_fmt_float_e(double v, char *out, size_t outlen)
{
	tmpl_go_shortest(v, 'e', out, outlen);
}

static void print_labels_map(const struct pane_labels *ls, struct pane_buf *b)
{
	pane_buf_adds(b, "map[");
	for (size_t i = 0; ls && i < ls->n; i++)
		pane_buf_addf(b, "%s%s:%s", i ? " " : "", ls->v[i].name, ls->v[i].value);
	pane_buf_addc(b, ']');
}

static void print_sample(const struct tsample *s, struct pane_buf *b)
{
	char f[64];
	tmpl_go_shortest(s->value, 'g', f, sizeof f);
	pane_buf_adds(b, "&{");
	print_labels_map(&s->labels, b);
	pane_buf_addf(b, " %s}", f);
}

/* Go's time.Time.String() for a UTC time; ms == 0 is Go's zero time */
static void go_time(int64_t ms, struct pane_buf *b)
{
	if (ms == 0) {
		pane_buf_adds(b, "0001-01-01 00:00:00 +0000 UTC");
		return;
	}
	int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	int frac = (int)(ms - sec * 1000);
	time_t t = (time_t)sec;
	struct tm tm;
	gmtime_r(&t, &tm);
	pane_buf_addf(b, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	              tm.tm_min, tm.tm_sec);
	if (frac) {
		char f[8];
		snprintf(f, sizeof f, ".%03d", frac);
		size_t n = strlen(f);
		while (f[n - 1] == '0')
			f[--n] = 0;
		pane_buf_adds(b, f);
	}
	pane_buf_adds(b, " +0000 UTC");
}

/* Go's %v of a template.Alert */
static void print_alert(const struct pane_tmpl_am_alert *a, struct pane_buf *b)
{
	pane_buf_addf(b, "{%s ", a->status);
	print_labels_map(a->labels, b);
	pane_buf_addc(b, ' ');
	print_labels_map(a->annotations, b);
	pane_buf_addc(b, ' ');
	go_time(a->starts_ms, b);
	pane_buf_addc(b, ' ');
	go_time(a->ends_ms, b);
	pane_buf_addf(b, " %s %s}", a->generator_url ? a->generator_url : "", a->fingerprint ? a->fingerprint : "");
}

void tmpl_print_val(struct run *r, const struct val *v, struct pane_buf *b)
{
	char f[64];
	switch (v->k) {
	case V_NIL: pane_buf_adds(b, "<no value>"); break;
	case V_STR:
	case V_HTML: pane_buf_adds(b, v->s); break;
	case V_INT: pane_buf_addf(b, "%lld", (long long)v->i); break;
	case V_FLOAT:
		tmpl_go_shortest(v->f, 'g', f, sizeof f);
		pane_buf_adds(b, f);
		break;
	case V_BOOL: pane_buf_adds(b, v->b ? "true" : "false"); break;
	case V_LABELS: print_labels_map(v->ls, b); break;
	case V_SAMPLE:
		if (v->smp)
			print_sample(v->smp, b);
		else
			pane_buf_adds(b, "<nil>");
		break;
	case V_VEC:
		pane_buf_addc(b, '[');
		for (size_t i = 0; v->vec && i < v->vec->n; i++) {
			if (i)
				pane_buf_addc(b, ' ');
			char p[32];
			snprintf(p, sizeof p, "%p", (void *)v->vec->s[i]);
			pane_buf_adds(b, p);
		}
		pane_buf_addc(b, ']');
		break;
	case V_ARGS:
		pane_buf_adds(b, "map[");
		for (size_t i = 0; v->args && i < v->args->n; i++) {
			pane_buf_addf(b, "%sarg%zu:", i ? " " : "", i);
			tmpl_print_val(r, &v->args->v[i], b);
		}
		pane_buf_addc(b, ']');
		break;
	case V_STRS:
	case V_PAIRS:
		pane_buf_addc(b, '[');
		for (size_t i = 0; v->lst && i < v->lst->n; i++) {
			if (i)
				pane_buf_addc(b, ' ');
			if (v->k == V_PAIRS)
				pane_buf_addf(b, "{%s %s}", v->lst->s[i], v->lst->s2[i]);
			else
				pane_buf_adds(b, v->lst->s[i]);
		}
		pane_buf_addc(b, ']');
		break;
	case V_PAIR: pane_buf_addf(b, "{%s %s}", v->s, v->s2); break;
	case V_TIME: go_time(v->i, b); break;
	case V_ALERT: print_alert(v->al, b); break;
	case V_ALERTS:
		pane_buf_addc(b, '[');
		for (size_t i = 0; v->lst && i < v->lst->n; i++) {
			if (i)
				pane_buf_addc(b, ' ');
			print_alert(v->lst->al[i], b);
		}
		pane_buf_addc(b, ']');
		break;
	case V_AM: pane_buf_addf(b, "<%s>", tmpl_type_name(v)); break;
	case V_DATA:
		pane_buf_adds(b, "{");
		print_labels_map(r->d->labels, b);
		pane_buf_adds(b, " ");
		print_labels_map(r->d->external_labels, b);
		tmpl_go_shortest(r->d->value, 'g', f, sizeof f);
		pane_buf_addf(b, " %s %s}", r->d->external_url ? r->d->external_url : "", f);
		break;
	}
}

const char *tmpl_type_name(const struct val *v)
{
	switch (v->k) {
	case V_NIL: return "<nil>";
	case V_STR: return "string";
	case V_HTML: return "template.HTML";
	case V_INT: return "int";
	case V_FLOAT: return "float64";
	case V_BOOL: return "bool";
	case V_LABELS: return "map[string]string";
	case V_VEC: return "template.queryResult";
	case V_SAMPLE: return "*template.sample";
	case V_ARGS: return "map[string]interface {}";
	case V_DATA:
		return "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value "
		       "interface {} }";
	case V_AM: return "*template.Data";
	case V_ALERTS: return "template.Alerts";
	case V_ALERT: return "template.Alert";
	case V_STRS: return "[]string";
	case V_PAIRS: return "template.Pairs";
	case V_PAIR: return "template.Pair";
	case V_TIME: return "time.Time";
	}
	return "?";
}

bool tmpl_truth(const struct val *v)
{
	switch (v->k) {
	case V_NIL: return false;
	case V_STR:
	case V_HTML: return v->s[0] != 0;
	case V_INT: return v->i != 0;
	case V_FLOAT: return v->f != 0;
	case V_BOOL: return v->b;
	case V_LABELS: return v->ls && v->ls->n > 0;
	case V_VEC: return v->vec && v->vec->n > 0;
	case V_SAMPLE: return v->smp != NULL;
	case V_ARGS: return v->args && v->args->n > 0;
	case V_DATA: return true;
	case V_ALERTS:
	case V_STRS:
	case V_PAIRS: return v->lst && v->lst->n > 0;
	case V_AM:
	case V_ALERT:
	case V_PAIR:
	case V_TIME: return true; /* structs */
	}
	return false;
}

static struct val eval_pipe(struct run *r, const struct pipe *p, struct val dot, const struct node *at);

struct val tmpl_sval(const char *s)
{
	return (struct val){.k = V_STR, .s = s};
}

static const struct val *var_get(struct run *r, const char *name)
{
	for (size_t i = r->n_vars; i-- > 0;)
		if (strcmp(r->vars[i].name, name) == 0)
			return &r->vars[i].v;
	return NULL;
}

static void var_set(struct run *r, const char *name, struct val v, bool assign)
{
	if (assign) {
		for (size_t i = r->n_vars; i-- > 0;)
			if (strcmp(r->vars[i].name, name) == 0) {
				r->vars[i].v = v;
				return;
			}
	}
	if (r->n_vars == r->cap_vars) {
		r->cap_vars = r->cap_vars ? r->cap_vars * 2 : 16;
		r->vars = pane_xrealloc(r->vars, pane_mul_size(r->cap_vars, sizeof *r->vars));
	}
	r->vars[r->n_vars++] = (struct var){.name = name, .v = v};
}

static struct val alerts_val(struct run *r, const struct pane_tmpl_am_alert *const *a, size_t n, const char *only)
{
	struct tlist *l = tmpl_ralloc(r, sizeof *l);
	l->al = tmpl_ralloc(r, (n ? n : 1) * sizeof *l->al);
	for (size_t i = 0; i < n; i++)
		if (!only || !strcmp(a[i]->status, only))
			l->al[l->n++] = a[i];
	return (struct val){.k = V_ALERTS, .lst = l};
}

/* KV.SortedPairs / .Names / .Values (a label set is sorted by name already) */
static struct val kv_method(struct run *r, const struct pane_labels *ls, const char *f)
{
	size_t n = ls ? ls->n : 0;
	struct tlist *l = tmpl_ralloc(r, sizeof *l);
	l->s = tmpl_ralloc(r, (n ? n : 1) * sizeof *l->s);
	l->s2 = tmpl_ralloc(r, (n ? n : 1) * sizeof *l->s2);
	for (size_t i = 0; i < n; i++) {
		l->s[i] = !strcmp(f, "Values") ? ls->v[i].value : ls->v[i].name;
		l->s2[i] = ls->v[i].value;
	}
	l->n = n;
	return (struct val){.k = !strcmp(f, "SortedPairs") ? V_PAIRS : V_STRS, .lst = l};
}

static struct val field(struct run *r, const struct node *at, struct val v, const char *f)
{
	switch (v.k) {
	case V_AM: {
		const struct pane_tmpl_am_data *d = r->amd;
		if (!strcmp(f, "Receiver"))
			return tmpl_sval(d->receiver ? d->receiver : "");
		if (!strcmp(f, "Status"))
			return tmpl_sval(d->status ? d->status : "");
		if (!strcmp(f, "ExternalURL"))
			return tmpl_sval(d->external_url ? d->external_url : "");
		if (!strcmp(f, "GroupLabels"))
			return (struct val){.k = V_LABELS, .ls = d->group_labels};
		if (!strcmp(f, "CommonLabels"))
			return (struct val){.k = V_LABELS, .ls = d->common_labels};
		if (!strcmp(f, "CommonAnnotations"))
			return (struct val){.k = V_LABELS, .ls = d->common_annotations};
		if (!strcmp(f, "Alerts")) {
			const struct pane_tmpl_am_alert **a =
			    tmpl_ralloc(r, (d->n_alerts ? d->n_alerts : 1) * sizeof *a);
			for (size_t i = 0; i < d->n_alerts; i++)
				a[i] = &d->alerts[i];
			return alerts_val(r, a, d->n_alerts, NULL);
		}
		tmpl_fail(r, at, "can't evaluate field %s in type %s", f, tmpl_type_name(&v));
		return (struct val){0};
	}
	case V_ALERTS:
		if (!strcmp(f, "Firing") || !strcmp(f, "Resolved"))
			return alerts_val(r, v.lst->al, v.lst->n, f[0] == 'F' ? "firing" : "resolved");
		tmpl_fail(r, at, "can't evaluate field %s in type %s", f, tmpl_type_name(&v));
		return (struct val){0};
	case V_ALERT:
		if (!strcmp(f, "Status"))
			return tmpl_sval(v.al->status);
		if (!strcmp(f, "Labels"))
			return (struct val){.k = V_LABELS, .ls = v.al->labels};
		if (!strcmp(f, "Annotations"))
			return (struct val){.k = V_LABELS, .ls = v.al->annotations};
		if (!strcmp(f, "StartsAt"))
			return (struct val){.k = V_TIME, .i = v.al->starts_ms};
		if (!strcmp(f, "EndsAt"))
			return (struct val){.k = V_TIME, .i = v.al->ends_ms};
		if (!strcmp(f, "GeneratorURL"))
			return tmpl_sval(v.al->generator_url ? v.al->generator_url : "");
		if (!strcmp(f, "Fingerprint"))
			return tmpl_sval(v.al->fingerprint ? v.al->fingerprint : "");
		tmpl_fail(r, at, "can't evaluate field %s in type %s", f, tmpl_type_name(&v));
		return (struct val){0};
	case V_PAIRS:
		if (!strcmp(f, "Names") || !strcmp(f, "Values")) {
			struct tlist *l = tmpl_ralloc(r, sizeof *l);
			*l = *v.lst;
			if (f[0] == 'V')
				l->s = v.lst->s2;
			return (struct val){.k = V_STRS, .lst = l};
		}
		tmpl_fail(r, at, "can't evaluate field %s in type %s", f, tmpl_type_name(&v));
		return (struct val){0};
	case V_PAIR:
		if (!strcmp(f, "Name"))
			return tmpl_sval(v.s);
		if (!strcmp(f, "Value"))
			return tmpl_sval(v.s2);
		tmpl_fail(r, at, "can't evaluate field %s in type %s", f, tmpl_type_name(&v));
		return (struct val){0};
	case V_DATA:
		if (strcmp(f, "Labels") == 0)
			return (struct val){.k = V_LABELS, .ls = r->d->labels};
		if (strcmp(f, "ExternalLabels") == 0)
			return (struct val){.k = V_LABELS, .ls = r->d->external_labels};
		if (strcmp(f, "ExternalURL") == 0)
			return tmpl_sval(r->d->external_url ? r->d->external_url : "");
		if (strcmp(f, "Value") == 0)
			return (struct val){.k = V_FLOAT, .f = r->d->value};
		tmpl_fail(r, at, "can't evaluate field %s in type %s", f, tmpl_type_name(&v));
		return (struct val){0};
	case V_LABELS: {
		if (r->am && (!strcmp(f, "SortedPairs") || !strcmp(f, "Names") || !strcmp(f, "Values")))
			return kv_method(r, v.ls, f); /* KV's methods come before its keys, as in Go */
		if (r->am && !strcmp(f, "Remove")) {
			tmpl_fail(r, at, "wrong number of args for Remove: want 1 got 0");
			return (struct val){0};
		}
		const char *s = v.ls ? pane_labels_get(v.ls, f) : NULL;
		return tmpl_sval(s ? s : ""); /* missingkey=zero, in Prometheus and Alertmanager alike */
	}
	case V_SAMPLE:
		if (!v.smp) {
			tmpl_fail(r, at, "nil pointer evaluating *template.sample.%s", f);
			return (struct val){0};
		}
		if (strcmp(f, "Labels") == 0)
			return (struct val){.k = V_LABELS, .ls = &v.smp->labels};
		if (strcmp(f, "Value") == 0)
			return (struct val){.k = V_FLOAT, .f = v.smp->value};
		tmpl_fail(r, at, "can't evaluate field %s in type *template.sample", f);
		return (struct val){0};
	case V_ARGS:
		for (size_t i = 0; v.args && i < v.args->n; i++) {
			char k[32];
			snprintf(k, sizeof k, "arg%zu", i);
			if (strcmp(k, f) == 0)
				return v.args->v[i];
		}
		return (struct val){.k = V_NIL};
	case V_NIL: tmpl_fail(r, at, "nil pointer evaluating interface {}.%s", f); return (struct val){0};
	default: tmpl_fail(r, at, "can't evaluate field %s in type %s", f, tmpl_type_name(&v)); return (struct val){0};
	}
}

static struct val eval_arg(struct run *r, const struct node *n, struct val dot)
{
	struct val v = {0};
	switch (n->k) {
	case N_DOT: return dot;
	case N_FIELD:
		v = dot;
		for (size_t i = 0; i < n->n_fields && !r->failed; i++)
			v = field(r, n, v, n->fields[i]);
		return v;
	case N_VAR: {
		const struct val *x = var_get(r, n->text);
		if (!x) {
			tmpl_fail(r, n, "undefined variable: %s", n->text);
			return v;
		}
		v = *x;
		for (size_t i = 0; i < n->n_fields && !r->failed; i++)
			v = field(r, n, v, n->fields[i]);
		return v;
	}
	case N_STRING: return tmpl_sval(n->text);
	case N_NUMBER:
		if (n->isint)
			return (struct val){.k = V_INT, .i = n->i};
		return (struct val){.k = V_FLOAT, .f = n->f};
	case N_BOOL: return (struct val){.k = V_BOOL, .b = n->b};
	case N_NIL: return (struct val){.k = V_NIL};
	case N_PIPE: return eval_pipe(r, n->pipe, dot, n);
	case N_CHAIN:
		v = eval_arg(r, n->operand, dot);
		for (size_t i = 0; i < n->n_fields && !r->failed; i++)
			v = field(r, n, v, n->fields[i]);
		return v;
	case N_IDENT:
		/* a function used as an argument with no args: called */
	default: break;
	}
	return v;
}

/* and/or evaluate lazily */
static struct val eval_cmd(struct run *r, const struct node *cmd, struct val dot, const struct val *final)
{
	const struct node *first = cmd->items[0];
	if (first->k == N_IDENT) {
		const char *fn = first->text;
		size_t n = cmd->n_items - 1 + (final ? 1 : 0);
		if (!strcmp(fn, "and") || !strcmp(fn, "or")) {
			if (n < 1) {
				tmpl_fail(r, first, "wrong number of args for %s: want at least 1 got 0", fn);
				return (struct val){0};
			}
			bool is_and = fn[0] == 'a';
			struct val v = {0};
			for (size_t i = 0; i < n; i++) {
				v = i < cmd->n_items - 1 ? eval_arg(r, cmd->items[i + 1], dot) : *final;
				if (r->failed)
					return v;
				if (tmpl_truth(&v) != is_and)
					return v;
			}
			return v;
		}
		struct val *args = tmpl_ralloc(r, (n ? n : 1) * sizeof *args);
		for (size_t i = 0; i + 1 < cmd->n_items && !r->failed; i++)
			args[i] = eval_arg(r, cmd->items[i + 1], dot);
		if (final)
			args[n - 1] = *final;
		if (r->failed)
			return (struct val){0};
		return tmpl_call(r, cmd, fn, args, n, dot);
	}
	if (r->am && (cmd->n_items > 1 || final) && (first->k == N_FIELD || first->k == N_VAR || first->k == N_CHAIN) &&
	    first->n_fields && !strcmp(first->fields[first->n_fields - 1], "Remove")) {
		/* KV.Remove(names []string): the one method with an argument */
		struct val recv = first->k == N_FIELD   ? dot
		                  : first->k == N_CHAIN ? eval_arg(r, first->operand, dot)
		                                        : (struct val){0};
		if (first->k == N_VAR) {
			const struct val *x = var_get(r, first->text);
			if (!x) {
				tmpl_fail(r, first, "undefined variable: %s", first->text);
				return (struct val){0};
			}
			recv = *x;
		}
		for (size_t i = 0; i + 1 < first->n_fields && !r->failed; i++)
			recv = field(r, first, recv, first->fields[i]);
		size_t na = cmd->n_items - 1 + (final ? 1 : 0);
		if (r->failed)
			return (struct val){0};
		if (recv.k != V_LABELS) {
			tmpl_fail(r, first, "can't evaluate field Remove in type %s", tmpl_type_name(&recv));
			return (struct val){0};
		}
		if (na != 1) {
			tmpl_fail(r, first, "wrong number of args for Remove: want 1 got %zu", na);
			return (struct val){0};
		}
		struct val arg = cmd->n_items > 1 ? eval_arg(r, cmd->items[1], dot) : *final;
		if (r->failed)
			return arg;
		if (arg.k != V_STRS) {
			tmpl_fail(r, first, "wrong type for value; expected []string; got %s", tmpl_type_name(&arg));
			return (struct val){0};
		}
		struct tsample *keep = tmpl_new_sample(r); /* owns the label set for the run */
		for (size_t i = 0; recv.ls && i < recv.ls->n; i++) {
			bool drop = false;
			for (size_t k = 0; arg.lst && k < arg.lst->n && !drop; k++)
				drop = !strcmp(arg.lst->s[k], recv.ls->v[i].name);
			if (!drop)
				pane_labels_set(&keep->labels, recv.ls->v[i].name, recv.ls->v[i].value);
		}
		return (struct val){.k = V_LABELS, .ls = &keep->labels};
	}
	if (cmd->n_items > 1 || final) {
		if (first->k == N_FIELD || first->k == N_VAR || first->k == N_CHAIN) {
			tmpl_fail(r, first, "%s has arguments but cannot be invoked as function",
			          first->n_fields ? first->fields[first->n_fields - 1] : first->text);
		} else {
			struct pane_buf b;
			pane_buf_init(&b, 200);
			tmpl_node_source(first, &b);
			tmpl_fail(r, first, "can't give argument to non-function %s", b.data);
			pane_buf_release(&b);
		}
		return (struct val){0};
	}
	return eval_arg(r, first, dot);
}

static struct val eval_pipe(struct run *r, const struct pipe *p, struct val dot, const struct node *at)
{
	struct val v = {0};
	(void)at;
	for (size_t i = 0; i < p->n_cmds && !r->failed; i++)
		v = eval_cmd(r, p->cmds[i], dot, i ? &v : NULL);
	if (r->failed)
		return v;
	for (size_t i = 0; i < p->n_decl; i++)
		var_set(r, p->decl[i], v, p->assign);
	return v;
}

static void walk(struct run *r, const struct node *n, struct val dot);

static void walk_list(struct run *r, const struct node *list, struct val dot)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n_items && !r->failed && !r->brk; i++)
		walk(r, list->items[i], dot);
}

static void walk(struct run *r, const struct node *n, struct val dot)
{
	if (r->failed)
		return;
	if (++r->depth > TMPL_MAX_DEPTH) {
		tmpl_fail(r, n, "exceeded maximum template depth (%d)", TMPL_MAX_DEPTH);
		return;
	}
	size_t vars = r->n_vars;
	switch (n->k) {
	case N_LIST: walk_list(r, n, dot); break;
	case N_TEXT:
		if (pane_buf_add(r->out, n->text, n->len) < 0)
			tmpl_fail(r, n, "output too large");
		break;
	case N_ACTION: {
		struct val v = eval_pipe(r, n->pipe, dot, n);
		if (!r->failed && n->pipe->n_decl == 0) {
			tmpl_print_val(r, &v, r->out);
		}
		break;
	}
	case N_IF:
	case N_WITH: {
		struct val v = eval_pipe(r, n->pipe, dot, n);
		if (r->failed)
			break;
		if (tmpl_truth(&v))
			walk_list(r, n->list, n->k == N_WITH ? v : dot);
		else
			walk_list(r, n->elselist, dot);
		break;
	}
	case N_RANGE: {
		struct pipe tmp = *n->pipe;
		tmp.n_decl = 0; /* range declares per element */
		struct val v = eval_pipe(r, &tmp, dot, n);
		if (r->failed)
			break;
		size_t cnt = 0;
		if (v.k == V_VEC)
			cnt = v.vec ? v.vec->n : 0;
		else if (v.k == V_LABELS)
			cnt = v.ls ? v.ls->n : 0;
		else if (v.k == V_ARGS)
			cnt = v.args ? v.args->n : 0;
		else if (v.k == V_ALERTS || v.k == V_STRS || v.k == V_PAIRS)
			cnt = v.lst ? v.lst->n : 0;
		else if (v.k == V_INT)
			cnt = v.i > 0 ? (size_t)v.i : 0;
		else if (v.k != V_NIL) {
			tmpl_fail(r, n, "range can't iterate over %s", v.k == V_STR ? v.s : tmpl_type_name(&v));
			break;
		}
		/* map keys of args sort as strings: arg0, arg1, arg10, arg2 ... */
		for (size_t i = 0; i < cnt && !r->failed; i++) {
			struct val key, elem;
			if (v.k == V_VEC) {
				key = (struct val){.k = V_INT, .i = (int64_t)i};
				elem = (struct val){.k = V_SAMPLE, .smp = v.vec->s[i]};
			} else if (v.k == V_ALERTS || v.k == V_STRS || v.k == V_PAIRS) {
				key = (struct val){.k = V_INT, .i = (int64_t)i};
				elem = v.k == V_STRS ? tmpl_sval(v.lst->s[i])
				       : v.k == V_ALERTS
				           ? (struct val){.k = V_ALERT, .al = v.lst->al[i]}
				           : (struct val){.k = V_PAIR, .s = v.lst->s[i], .s2 = v.lst->s2[i]};
			} else if (v.k == V_LABELS) {
				key = tmpl_sval(v.ls->v[i].name);
				elem = tmpl_sval(v.ls->v[i].value);
			} else if (v.k == V_INT) {
				key = (struct val){.k = V_INT, .i = (int64_t)i};
				elem = key;
			} else {
				char k[32];
				snprintf(k, sizeof k, "arg%zu", i);
				key = tmpl_sval(tmpl_rstr(r, k, strlen(k)));
				elem = v.args->v[i];
			}
			size_t vv = r->n_vars;
			if (n->pipe->n_decl == 1) {
				var_set(r, n->pipe->decl[0], elem, false);
			} else if (n->pipe->n_decl == 2) {
				var_set(r, n->pipe->decl[0], key, false);
				var_set(r, n->pipe->decl[1], elem, false);
			}
			walk_list(r, n->list, elem);
			r->n_vars = vv;
			if (r->brk == 1) {
				r->brk = 0;
				break;
			}
			r->brk = 0;
		}
		if (cnt == 0)
			walk_list(r, n->elselist, dot);
		break;
	}
	case N_TEMPLATE: {
		const struct node *body = tmpl_deftab_get(r->local_defs, n->text);
		if (!body)
			body = tmpl_deftab_get(r->set_defs, n->text);
		if (!body) {
			tmpl_fail(r, n, "template: no such template \"%s\"", n->text);
			break;
		}
		struct val v = n->pipe ? eval_pipe(r, n->pipe, dot, n) : (struct val){.k = V_NIL};
		if (r->failed)
			break;
		size_t vv = r->n_vars;
		walk_list(r, body, v);
		r->n_vars = vv;
		r->brk = 0;
		break;
	}
	case N_BREAK: r->brk = 1; break;
	case N_CONTINUE: r->brk = 2; break;
	default: break;
	}
	if (n->k == N_IF || n->k == N_WITH || n->k == N_RANGE)
		r->n_vars = vars;
	r->depth--;
}

/* Frees what a run allocated (values, samples, variables): the end of a run. */
static void run_release(struct run *r)
{
	for (size_t i = 0; i < r->n_allocs; i++)
		free(r->allocs[i]);
	free(r->allocs);
	for (size_t i = 0; i < r->n_samples; i++) {
		pane_labels_release(&r->samples[i]->labels);
		free(r->samples[i]);
	}
	free(r->samples);
	free(r->vars);
}

static char *with_defs(const char *text, size_t *len)
{
	size_t dl = strlen(alert_defs), tl = strlen(text);
	char *s = pane_xmalloc(dl + tl + 1);
	memcpy(s, alert_defs, dl);
	memcpy(s + dl, text, tl + 1);
	*len = dl + tl;
	return s;
}

int pane_tmpl_check(const char *name, const char *text, struct pane_err *err)
{
	size_t len;
	char *src = with_defs(text, &len);
	struct node *root = tmpl_parse(name, src, len, err);
	free(src);
	if (!root)
		return PANE_EINVAL;
	tmpl_node_free(root);
	return 0;
}

int pane_tmpl_expand(const char *name, const char *text, const struct pane_tmpl_data *d, struct pane_buf *out,
                     struct pane_err *err)
{
	size_t len;
	char *src = with_defs(text, &len);
	struct pane_err e;
	struct node *root = tmpl_parse(name, src, len, &e);
	if (!root) {
		free(src);
		return pane_err_set(err, PANE_EINVAL, "error parsing template %s: %s", name, e.msg);
	}
	struct run r = {.name = name, .src = src, .d = d, .out = out, .err = &e};
	walk(&r, root, (struct val){.k = V_DATA});
	run_release(&r);
	tmpl_node_free(root);
	free(src);
	if (r.failed)
		return pane_err_set(err, PANE_EINVAL, "error executing template %s: %s", name, e.msg);
	return 0;
}

struct pane_tmpl_set {
	struct deftab defs;
};

struct pane_tmpl_set *pane_tmpl_set_new(void)
{
	struct pane_tmpl_set *s = pane_xcalloc(1, sizeof *s);
	struct pane_err err;
	if (pane_tmpl_set_add(s, "default.tmpl", tmpl_am_defaults, &err) < 0) {
		fprintf(stderr, "pane: the default notification templates do not parse: %s\n", err.msg);
		abort();
	}
	return s;
}

int pane_tmpl_set_add(struct pane_tmpl_set *s, const char *name, const char *text, struct pane_err *err)
{
	struct deftab defs = {0};
	struct node *root = tmpl_parse_am(name, text, strlen(text), &defs, err);
	if (!root) {
		tmpl_deftab_release(&defs);
		return PANE_EINVAL;
	}
	tmpl_node_free(root); /* text outside {{define}} is not a template of the set (Go keeps it unnamed) */
	for (size_t i = 0; i < defs.n; i++)
		tmpl_deftab_put(&s->defs, defs.names[i], defs.bodies[i]);
	free(defs.names);
	free(defs.bodies);
	return 0;
}

void pane_tmpl_set_free(struct pane_tmpl_set *s)
{
	if (!s)
		return;
	tmpl_deftab_release(&s->defs);
	free(s);
}

int pane_tmpl_am_check(const struct pane_tmpl_set *s, const char *name, const char *text, struct pane_err *err)
{
	(void)s;
	struct deftab defs = {0};
	struct node *root = tmpl_parse_am(name, text, strlen(text), &defs, err);
	tmpl_deftab_release(&defs);
	if (!root)
		return PANE_EINVAL;
	tmpl_node_free(root);
	return 0;
}

int pane_tmpl_am_expand(const struct pane_tmpl_set *s, const char *name, const char *text,
                        const struct pane_tmpl_am_data *d, struct pane_buf *out, struct pane_err *err)
{
	struct deftab defs = {0};
	struct pane_err e;
	struct node *root = tmpl_parse_am(name, text, strlen(text), &defs, &e);
	if (!root) {
		tmpl_deftab_release(&defs);
		return pane_err_set(err, PANE_EINVAL, "error parsing template %s: %s", name, e.msg);
	}
	struct run r = {.am = true,
	                .amd = d,
	                .set_defs = s ? &s->defs : NULL,
	                .local_defs = &defs,
	                .name = name,
	                .src = text,
	                .out = out,
	                .err = &e};
	walk(&r, root, (struct val){.k = V_AM});
	run_release(&r);
	tmpl_node_free(root);
	tmpl_deftab_release(&defs);
	if (r.failed)
		return pane_err_set(err, PANE_EINVAL, "error executing template %s: %s", name, e.msg);
	return 0;
}
