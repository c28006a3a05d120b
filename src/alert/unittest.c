/*
 * unittest.c - `pane rules test`: promtool's rule unit-test files, unchanged.
 *
 * The same algorithm as promtool 2.42 (cmd/promtool/unittest.go), so the
 * verdicts agree: per test group, input series in the expanding notation
 * (a+bxN, axN, _, _xN, stale) are loaded into an in-memory store
 * (query/memstore.h) that only shows samples up to the current evaluation
 * time; the rule groups run from 0 to the largest eval_time every
 * evaluation_interval, writing their output back into the same store; alert
 * expectations are compared after the evaluation at the latest step not
 * after their eval_time; promql_expr_test expressions run at the end.
 * Messages and diffs are promtool's byte for byte (FAILED lines on stderr,
 * the rest on stdout), so a CI log reads the same with either tool.
 *
 * Ownership: everything is per file and freed before the next one.
 */
#include <glob.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/memstore.h"
#include "alert/rules.h"
#include "base/buf.h"
#include "base/mem.h"
#include "config/config.h"
#include "query/ast.h"
#include "query/query.h"

/* Prometheus' model.Duration.String() */
static void model_duration(int64_t ms, char *out, size_t len)
{
	if (ms == 0) {
		snprintf(out, len, "0s");
		return;
	}
	struct {
		const char *u;
		int64_t m;
		bool exact;
	} units[] = {
	    {"y", 365LL * 86400000, true}, {"w", 7LL * 86400000, true}, {"d", 86400000, false}, {"h", 3600000, false},
	    {"m", 60000, false},           {"s", 1000, false},          {"ms", 1, false}};
	size_t o = 0;
	out[0] = 0;
	for (size_t i = 0; i < 7; i++) {
		if (units[i].exact && ms % units[i].m)
			continue;
		int64_t v = ms / units[i].m;
		if (v > 0 && o < len) {
			o += (size_t)snprintf(out + o, len - o, "%lld%s", (long long)v, units[i].u);
			ms -= v * units[i].m;
		}
	}
}

/* Go's time.Duration.String() for whole milliseconds */
static void go_duration(int64_t ms, char *out, size_t len)
{
	if (ms == 0) {
		snprintf(out, len, "0s");
		return;
	}
	const char *sign = ms < 0 ? "-" : "";
	if (ms < 0)
		ms = -ms;
	if (ms < 1000) {
		snprintf(out, len, "%s%lldms", sign, (long long)ms);
		return;
	}
	int64_t h = ms / 3600000, m = (ms / 60000) % 60, s = (ms / 1000) % 60, frac = ms % 1000;
	char sec[32];
	if (frac) {
		snprintf(sec, sizeof sec, "%lld.%03lld", (long long)s, (long long)frac);
		size_t n = strlen(sec);
		while (sec[n - 1] == '0')
			sec[--n] = 0;
	} else {
		snprintf(sec, sizeof sec, "%lld", (long long)s);
	}
	if (h)
		snprintf(out, len, "%s%lldh%lldm%ss", sign, (long long)h, (long long)m, sec);
	else if (m)
		snprintf(out, len, "%s%lldm%ss", sign, (long long)m, sec);
	else
		snprintf(out, len, "%s%ss", sign, sec);
}

/* Go's strconv.FormatFloat(v, 'E', -1, 64) */
static void fmt_E(double v, char *out, size_t len)
{
	if (isnan(v)) {
		snprintf(out, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, len, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		snprintf(out, len, "%s0E+00", signbit(v) ? "-" : "");
		return;
	}
	char d[18];
	bool neg;
	int exp = pane_query_float_digits(v, d, &neg);
	snprintf(out, len, "%s%c%s%sE%c%02d", neg ? "-" : "", d[0], d[1] ? "." : "", d + 1, exp < 0 ? '-' : '+',
	         abs(exp));
}

static const char *sval(const struct pane_cfg_node *n)
{
	return n && n->kind == PANE_CFG_SCALAR ? n->value : "";
}

static int parse_dur(const struct pane_cfg_node *n, int64_t *ms)
{
	*ms = 0;
	const char *s = sval(n);
	if (!*s || strcmp(s, "0") == 0)
		return 0;
	return pq_duration_parse(s, strlen(s), ms);
}

/* ---- the expanding notation ---- */

static size_t scan_number(const char *p, double *v)
{
	const char *s = p;
	if (*p == '+' || *p == '-')
		p++;
	if (strncmp(p, "Inf", 3) == 0 || strncmp(p, "NaN", 3) == 0 || strncmp(p, "inf", 3) == 0) {
		bool nan = p[0] == 'N';
		p += 3;
		*v = nan ? NAN : (s[0] == '-' ? -INFINITY : INFINITY);
		return (size_t)(p - s);
	}
	const char *d0 = p;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (p == d0 || (p == d0 + 1 && *d0 == '.'))
		return 0;
	if ((*p == 'e' || *p == 'E') && (p[1] == '+' || p[1] == '-' || (p[1] >= '0' && p[1] <= '9'))) {
		const char *q = p + 1;
		if (*q == '+' || *q == '-')
			q++;
		if (*q >= '0' && *q <= '9') {
			while (*q >= '0' && *q <= '9')
				q++;
			p = q;
		}
	}
	char buf[64];
	size_t n = (size_t)(p - s);
	if (n >= sizeof buf)
		return 0;
	memcpy(buf, s, n);
	buf[n] = 0;
	*v = strtod(buf, NULL);
	return n;
}

struct seqval {
	bool omitted;
	double v;
};

static int parse_values(const char *s, struct seqval **out, size_t *nout, struct pane_err *err)
{
	struct seqval *v = NULL;
	size_t n = 0, cap = 0;
#define PUSH(o, x)                                                                                                     \
	do {                                                                                                           \
		if (n == cap) {                                                                                        \
			cap = cap ? cap * 2 : 64;                                                                      \
			v = pane_xrealloc(v, pane_mul_size(cap, sizeof *v));                                           \
		}                                                                                                      \
		v[n].omitted = (o);                                                                                    \
		v[n++].v = (x);                                                                                        \
	} while (0)
	const char *p = s;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		const char *tok = p;
		if (*p == '_') {
			p++;
			if (*p == 'x') {
				char *e;
				unsigned long long k = strtoull(p + 1, &e, 10);
				if (e == p + 1 || k > 10000000)
					goto bad;
				for (unsigned long long i = 0; i < k; i++)
					PUSH(true, 0);
				p = e;
			} else {
				PUSH(true, 0);
			}
		} else if (strncmp(p, "stale", 5) == 0) {
			p += 5;
			PUSH(false, pane_stale_nan());
		} else {
			double a, b = 0;
			size_t k = scan_number(p, &a);
			if (!k)
				goto bad;
			p += k;
			bool has_b = false;
			if (*p == '+' || *p == '-') {
				size_t k2 = scan_number(p, &b);
				if (!k2)
					goto bad;
				p += k2;
				has_b = true;
			}
			if (*p == 'x') {
				char *e;
				unsigned long long times = strtoull(p + 1, &e, 10);
				if (e == p + 1 || times > 10000000)
					goto bad;
				p = e;
				for (unsigned long long i = 0; i <= times; i++) {
					PUSH(false, a);
					a += b;
				}
			} else if (has_b) {
				goto bad;
			} else {
				PUSH(false, a);
			}
		}
		if (*p && *p != ' ' && *p != '\t' && *p != '\n') {
			p = tok;
			goto bad;
		}
	}
#undef PUSH
	*out = v;
	*nout = n;
	return 0;
bad:
	free(v);
	return pane_err_set(err, PANE_EINVAL, "bad series values %s", s);
}

/* ---- one test file ---- */

struct errs {
	char **v;
	size_t n;
};

static void add_err(struct errs *e, struct pane_buf *b)
{
	e->v = pane_xrealloc(e->v, pane_mul_size(e->n + 1, sizeof *e->v));
	e->v[e->n++] = pane_buf_detach(b, NULL);
}

static void add_errf(struct errs *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_errf(struct errs *e, const char *fmt, ...)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	va_list ap;
	va_start(ap, fmt);
	pane_buf_addvf(&b, fmt, ap);
	va_end(ap);
	add_err(e, &b);
}

static int mem_write(void *ctx, const struct pane_sample *s, size_t n, struct pane_err *err)
{
	struct pane_memstore *m = ctx;
	(void)err;
	for (size_t i = 0; i < n; i++) {
		struct pane_labels ls;
		pane_labels_copy(&ls, s[i].labels);
		pane_labels_set(&ls, "__name__", s[i].name);
		pane_memstore_append(m, &ls, s[i].ts_ms, s[i].value);
		pane_labels_release(&ls);
	}
	return 0;
}

/* an alert as compared: labels and annotations (annotations may hold empty values) */
struct la {
	struct pane_labels labels;
	struct pane_rule_kv *ann;
	size_t n_ann;
};

static int kv_cmp_list(const struct pane_rule_kv *a, size_t na, const struct pane_rule_kv *b, size_t nb)
{
	size_t n = na < nb ? na : nb;
	for (size_t i = 0; i < n; i++) {
		int c = strcmp(a[i].name, b[i].name);
		if (c)
			return c;
		c = strcmp(a[i].value, b[i].value);
		if (c)
			return c;
	}
	return na < nb ? -1 : na > nb;
}

static int la_cmp(const void *x, const void *y)
{
	const struct la *a = x, *b = y;
	int c = pane_labels_cmp(&a->labels, &b->labels);
	if (c)
		return c;
	return kv_cmp_list(a->ann, a->n_ann, b->ann, b->n_ann);
}

static void kv_string(const struct pane_rule_kv *kv, size_t n, struct pane_buf *b)
{
	pane_buf_addc(b, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			pane_buf_adds(b, ", ");
		pane_buf_adds(b, kv[i].name);
		pane_buf_addc(b, '=');
		pane_buf_add_go_quoted(b, kv[i].value);
	}
	pane_buf_addc(b, '}');
}

/* promtool's labelsAndAnnotations.String() indented by indentLines(s, "            ") */
static void la_string(const struct la *v, size_t n, struct pane_buf *b)
{
	const char *ind = "            ";
	if (n == 0) {
		pane_buf_adds(b, "[]");
		return;
	}
	pane_buf_adds(b, "[\n");
	for (size_t i = 0; i < n; i++) {
		if (i)
			pane_buf_adds(b, ",\n");
		pane_buf_addf(b, "%s%zu:\n%s  Labels:", ind, i, ind);
		pane_rules_labels_string(&v[i].labels, b);
		pane_buf_addf(b, "\n%s  Annotations:", ind);
		kv_string(v[i].ann, v[i].n_ann, b);
	}
	pane_buf_addf(b, "\n%s]", ind);
}

static int kvsort(const void *a, const void *b)
{
	return strcmp(((const struct pane_rule_kv *)a)->name, ((const struct pane_rule_kv *)b)->name);
}

struct ps {
	struct pane_labels labels;
	double v;
};

static int ps_cmp(const void *x, const void *y)
{
	return pane_labels_cmp(&((const struct ps *)x)->labels, &((const struct ps *)y)->labels);
}

static void ps_string(const struct ps *v, size_t n, struct pane_buf *b)
{
	if (n == 0) {
		pane_buf_adds(b, "nil");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char f[64];
		if (i)
			pane_buf_adds(b, ", ");
		pane_rules_labels_string(&v[i].labels, b);
		fmt_E(v[i].v, f, sizeof f);
		pane_buf_addf(b, " %s", f);
	}
}

static int64_t max_eval_time(const struct pane_cfg_node *t)
{
	int64_t mx = 0, d;
	const char *lists[] = {"alert_rule_test", "promql_expr_test"};
	for (size_t k = 0; k < 2; k++) {
		const struct pane_cfg_node *l = pane_cfg_get(t, lists[k]);
		for (size_t i = 0; l && l->kind == PANE_CFG_SEQ && i < l->n_items; i++)
			if (parse_dur(pane_cfg_get(l->items[i], "eval_time"), &d) == 0 && d > mx)
				mx = d;
	}
	return mx;
}

static int i64cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void run_group(const struct pane_cfg_node *t, int64_t eval_interval, char *const *rule_files, size_t n_files,
                      const struct pane_cfg_node *order, struct errs *errs)
{
	const char *tname = sval(pane_cfg_get(t, "name"));
	int64_t interval;
	if (parse_dur(pane_cfg_get(t, "interval"), &interval) < 0 || interval == 0)
		interval = eval_interval;
	struct pane_memstore *m = pane_memstore_new();
	struct pane_rules *rs = NULL;
	struct pane_labels ext;
	pane_labels_init(&ext);
	const struct pane_cfg_node *el = pane_cfg_get(t, "external_labels");
	for (size_t i = 0; el && el->kind == PANE_CFG_MAP && i < el->n_items; i++)
		pane_labels_set(&ext, el->items[i]->key, sval(el->items[i]));
	const char *ext_url = sval(pane_cfg_get(t, "external_url"));

	/* input series */
	const struct pane_cfg_node *in = pane_cfg_get(t, "input_series");
	for (size_t i = 0; in && in->kind == PANE_CFG_SEQ && i < in->n_items; i++) {
		const struct pane_cfg_node *sn = in->items[i];
		struct pane_labels ls;
		struct pane_err e;
		if (pane_rules_parse_metric(sval(pane_cfg_get(sn, "series")), &ls, &e) < 0) {
			add_errf(errs, "%s", e.msg);
			goto out;
		}
		struct seqval *vals = NULL;
		size_t nv = 0;
		if (parse_values(sval(pane_cfg_get(sn, "values")), &vals, &nv, &e) < 0) {
			pane_labels_release(&ls);
			add_errf(errs, "%s", e.msg);
			goto out;
		}
		for (size_t k = 0; k < nv; k++)
			if (!vals[k].omitted)
				pane_memstore_append(m, &ls, (int64_t)k * interval, vals[k].v);
		free(vals);
		pane_labels_release(&ls);
	}

	struct pane_err e;
	rs = pane_rules_load(rule_files, n_files, &e);
	if (!rs) {
		add_errf(errs, "%s", e.msg);
		if (e.detail[0]) {
			char *d = pane_xstrdup(e.detail), *save = NULL;
			for (char *l = strtok_r(d, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
				add_errf(errs, "%s", l);
			free(d);
		}
		goto out;
	}
	/* group order: group_eval_order first (in its order), then the rest in file order */
	size_t ng = rs->n_groups;
	struct pane_rule_group **gs = pane_xcalloc(ng ? ng : 1, sizeof *gs);
	size_t k = 0;
	bool *used = pane_xcalloc(ng ? ng : 1, sizeof *used);
	for (size_t i = 0; order && order->kind == PANE_CFG_SEQ && i < order->n_items; i++)
		for (size_t j = 0; j < ng; j++)
			if (!used[j] && strcmp(rs->groups[j].name, sval(order->items[i])) == 0) {
				used[j] = true;
				gs[k++] = &rs->groups[j];
			}
	/* promtool sorts by the order map where missing names count as 0: those come first */
	struct pane_rule_group **rest = pane_xcalloc(ng ? ng : 1, sizeof *rest);
	size_t nr = 0;
	for (size_t j = 0; j < ng; j++)
		if (!used[j])
			rest[nr++] = &rs->groups[j];
	memmove(gs + nr, gs, k * sizeof *gs);
	memcpy(gs, rest, nr * sizeof *gs);
	free(rest);
	free(used);

	/* alert tests by eval time */
	const struct pane_cfg_node *at = pane_cfg_get(t, "alert_rule_test");
	size_t nat = at && at->kind == PANE_CFG_SEQ ? at->n_items : 0;
	int64_t *times = pane_xcalloc(nat ? nat : 1, sizeof *times);
	size_t nt = 0;
	for (size_t i = 0; i < nat; i++) {
		int64_t d;
		parse_dur(pane_cfg_get(at->items[i], "eval_time"), &d);
		bool dup = false;
		for (size_t j = 0; j < nt && !dup; j++)
			dup = times[j] == d;
		if (!dup)
			times[nt++] = d;
	}
	if (nt > 1)
		qsort(times, nt, sizeof *times, i64cmp);
	size_t curr = 0;
	int64_t maxt = max_eval_time(t);
	struct pane_rules_env env = {.reader = pane_memstore_reader(m),
	                             .out = {.write = mem_write, .ctx = m},
	                             .external_labels = &ext,
	                             .external_url = ext_url,
	                             .write_alerts = true};
	bool stop = false;
	int64_t last_ts = 0;
	for (int64_t ts = 0; ts <= maxt && !stop; ts += eval_interval) {
		last_ts = ts;
		pane_memstore_set_limit(m, ts);
		size_t nerr = errs->n;
		for (size_t gi = 0; gi < ng; gi++) {
			pane_rules_group_eval(gs[gi], &env, ts);
			for (size_t ri = 0; ri < gs[gi]->n_rules; ri++) {
				struct pane_rule *r = &gs[gi]->rules[ri];
				if (r->last_error) {
					char d[64];
					go_duration(ts, d, sizeof d);
					add_errf(errs, "    rule: %s, time: %s, err: %s", r->name, d, r->last_error);
				}
			}
		}
		if (errs->n != nerr) {
			stop = true;
			break;
		}
		while (curr < nt && ts <= times[curr] && times[curr] < ts + eval_interval) {
			int64_t tt = times[curr];
			for (size_t i = 0; i < nat; i++) {
				const struct pane_cfg_node *tc = at->items[i];
				int64_t d;
				parse_dur(pane_cfg_get(tc, "eval_time"), &d);
				if (d != tt)
					continue;
				const char *aname = sval(pane_cfg_get(tc, "alertname"));
				/* got: firing alerts of every rule with this name */
				struct la *got = NULL;
				size_t ngot = 0;
				for (size_t gi = 0; gi < ng; gi++)
					for (size_t ri = 0; ri < gs[gi]->n_rules; ri++) {
						struct pane_rule *r = &gs[gi]->rules[ri];
						if (!r->alerting || strcmp(r->name, aname))
							continue;
						for (size_t ai = 0; ai < r->n_active; ai++) {
							struct pane_rule_alert *a = r->active[ai];
							if (a->state != PANE_ALERT_FIRING)
								continue;
							got = pane_xrealloc(got, pane_mul_size(ngot + 1, sizeof *got));
							pane_labels_copy(&got[ngot].labels, &a->labels);
							got[ngot].ann = pane_xcalloc(a->n_ann ? a->n_ann : 1,
							                             sizeof(struct pane_rule_kv));
							for (size_t q = 0; q < a->n_ann; q++) {
								got[ngot].ann[q].name = a->ann[q].name;
								got[ngot].ann[q].value = a->ann[q].value;
							}
							got[ngot].n_ann = a->n_ann;
							ngot++;
						}
					}
				const struct pane_cfg_node *ea = pane_cfg_get(tc, "exp_alerts");
				size_t nexp = ea && ea->kind == PANE_CFG_SEQ ? ea->n_items : 0;
				struct la *exp = pane_xcalloc(nexp ? nexp : 1, sizeof *exp);
				for (size_t q = 0; q < nexp; q++) {
					const struct pane_cfg_node *x = ea->items[q];
					pane_labels_init(&exp[q].labels);
					const struct pane_cfg_node *xl = pane_cfg_get(x, "exp_labels");
					for (size_t y = 0; xl && xl->kind == PANE_CFG_MAP && y < xl->n_items; y++)
						pane_labels_set(&exp[q].labels, xl->items[y]->key, sval(xl->items[y]));
					pane_labels_set(&exp[q].labels, "alertname", aname);
					const struct pane_cfg_node *xa = pane_cfg_get(x, "exp_annotations");
					size_t nxa = xa && xa->kind == PANE_CFG_MAP ? xa->n_items : 0;
					exp[q].ann = pane_xcalloc(nxa ? nxa : 1, sizeof(struct pane_rule_kv));
					for (size_t y = 0; y < nxa; y++) {
						exp[q].ann[y].name = xa->items[y]->key;
						exp[q].ann[y].value = (char *)sval(xa->items[y]);
					}
					exp[q].n_ann = nxa;
					if (nxa > 1)
						qsort(exp[q].ann, nxa, sizeof *exp[q].ann, kvsort);
				}
				if (ngot > 1)
					qsort(got, ngot, sizeof *got, la_cmp);
				if (nexp > 1)
					qsort(exp, nexp, sizeof *exp, la_cmp);
				bool equal = ngot == nexp;
				for (size_t q = 0; q < nexp && equal; q++)
					equal = la_cmp(&got[q], &exp[q]) == 0;
				if (!equal) {
					struct pane_buf b;
					pane_buf_init(&b, PANE_BUF_NOLIMIT);
					if (*tname)
						pane_buf_addf(&b, "    name: %s,\n", tname);
					char dd[64];
					model_duration(tt, dd, sizeof dd);
					pane_buf_addf(&b, "    alertname: %s, time: %s, \n        exp:", aname, dd);
					la_string(exp, nexp, &b);
					pane_buf_adds(&b, ", \n        got:");
					la_string(got, ngot, &b);
					add_err(errs, &b);
				}
				for (size_t q = 0; q < ngot; q++) {
					pane_labels_release(&got[q].labels);
					free(got[q].ann);
				}
				for (size_t q = 0; q < nexp; q++) {
					pane_labels_release(&exp[q].labels);
					free(exp[q].ann);
				}
				free(got);
				free(exp);
			}
			curr++;
		}
	}
	free(times);
	free(gs);
	if (stop)
		goto out;
	pane_memstore_set_limit(m, last_ts);

	/* promql_expr_test */
	const struct pane_cfg_node *pt = pane_cfg_get(t, "promql_expr_test");
	for (size_t i = 0; pt && pt->kind == PANE_CFG_SEQ && i < pt->n_items; i++) {
		const struct pane_cfg_node *tc = pt->items[i];
		const char *expr = sval(pane_cfg_get(tc, "expr"));
		int64_t et;
		parse_dur(pane_cfg_get(tc, "eval_time"), &et);
		char dd[64];
		model_duration(et, dd, sizeof dd);
		struct pane_buf qe;
		pane_buf_init(&qe, PANE_BUF_NOLIMIT);
		pane_buf_add_go_quoted(&qe, expr);
		struct pane_query_result res;
		enum pane_query_errclass cls;
		struct pane_query_opts o = {0};
		if (pane_query_exec(env.reader, &o, expr, et, et, 0, &res, &cls, &e) < 0) {
			add_errf(errs, "    expr: %s, time: %s, err: %s", qe.data, dd, e.msg);
			pane_buf_release(&qe);
			continue;
		}
		struct ps *got = NULL;
		size_t ngot = 0;
		if (res.type == PANE_QT_SCALAR) {
			got = pane_xcalloc(1, sizeof *got);
			pane_labels_init(&got[0].labels);
			got[0].v = res.scalar;
			ngot = 1;
		} else if (res.type == PANE_QT_VECTOR) {
			got = pane_xcalloc(res.n ? res.n : 1, sizeof *got);
			for (size_t q = 0; q < res.n; q++) {
				pane_labels_copy(&got[q].labels, &res.series[q].labels);
				got[q].v = res.series[q].values[0];
			}
			ngot = res.n;
		} else {
			pane_query_result_release(&res);
			add_errf(errs, "    expr: %s, time: %s, err: query result is not a vector or scalar", qe.data,
			         dd);
			pane_buf_release(&qe);
			continue;
		}
		pane_query_result_release(&res);
		const struct pane_cfg_node *es = pane_cfg_get(tc, "exp_samples");
		size_t nexp = es && es->kind == PANE_CFG_SEQ ? es->n_items : 0;
		struct ps *exp = pane_xcalloc(nexp ? nexp : 1, sizeof *exp);
		bool bad = false;
		for (size_t q = 0; q < nexp; q++) {
			const struct pane_cfg_node *x = es->items[q];
			const char *lt = sval(pane_cfg_get(x, "labels"));
			pane_labels_init(&exp[q].labels);
			if (*lt) {
				pane_labels_release(&exp[q].labels);
				if (pane_rules_parse_metric(lt, &exp[q].labels, &e) < 0) {
					struct pane_buf lq;
					pane_buf_init(&lq, PANE_BUF_NOLIMIT);
					pane_buf_add_go_quoted(&lq, lt);
					add_errf(errs, "    expr: %s, time: %s, err: labels %s: %s", qe.data, dd,
					         lq.data, e.msg);
					pane_buf_release(&lq);
					bad = true;
					nexp = q + 1;
					break;
				}
			}
			const char *vs = sval(pane_cfg_get(x, "value"));
			double v = 0;
			if (!strcmp(vs, ".inf") || !strcmp(vs, "+.inf") || !strcmp(vs, ".Inf"))
				v = INFINITY;
			else if (!strcmp(vs, "-.inf") || !strcmp(vs, "-.Inf"))
				v = -INFINITY;
			else if (!strcmp(vs, ".nan") || !strcmp(vs, ".NaN"))
				v = NAN;
			else
				v = strtod(vs, NULL);
			exp[q].v = v;
		}
		if (!bad) {
			if (nexp > 1)
				qsort(exp, nexp, sizeof *exp, ps_cmp);
			if (ngot > 1)
				qsort(got, ngot, sizeof *got, ps_cmp);
			bool equal = nexp == ngot;
			for (size_t q = 0; q < nexp && equal; q++)
				equal = pane_labels_cmp(&exp[q].labels, &got[q].labels) == 0 && exp[q].v == got[q].v;
			if (!equal) {
				struct pane_buf b;
				pane_buf_init(&b, PANE_BUF_NOLIMIT);
				pane_buf_addf(&b, "    expr: %s, time: %s,\n        exp: ", qe.data, dd);
				ps_string(exp, nexp, &b);
				pane_buf_adds(&b, "\n        got: ");
				ps_string(got, ngot, &b);
				add_err(errs, &b);
			}
		}
		for (size_t q = 0; q < ngot; q++)
			pane_labels_release(&got[q].labels);
		for (size_t q = 0; q < nexp; q++)
			pane_labels_release(&exp[q].labels);
		free(got);
		free(exp);
		pane_buf_release(&qe);
	}
out:
	pane_rules_free(rs);
	pane_memstore_free(m);
	pane_labels_release(&ext);
}

/* rule_files resolved against the test file's directory, globs expanded */
static char **resolve_files(const char *test_file, const struct pane_cfg_node *rf, size_t *n)
{
	char *dup = pane_xstrdup(test_file);
	const char *dir = dirname(dup);
	char **v = NULL;
	*n = 0;
	for (size_t i = 0; rf && rf->kind == PANE_CFG_SEQ && i < rf->n_items; i++) {
		const char *f = sval(rf->items[i]);
		struct pane_buf p;
		pane_buf_init(&p, PANE_BUF_NOLIMIT);
		if (f[0] == '/' || strcmp(dir, ".") == 0)
			pane_buf_adds(&p, f);
		else
			pane_buf_addf(&p, "%s/%s", dir, f);
		glob_t g;
		if (glob(p.data, 0, NULL, &g) == 0) {
			for (size_t k = 0; k < g.gl_pathc; k++) {
				v = pane_xrealloc(v, pane_mul_size(*n + 1, sizeof *v));
				v[(*n)++] = pane_xstrdup(g.gl_pathv[k]);
			}
			globfree(&g);
		} else {
			v = pane_xrealloc(v, pane_mul_size(*n + 1, sizeof *v));
			v[(*n)++] = pane_buf_detach(&p, NULL);
			continue;
		}
		pane_buf_release(&p);
	}
	free(dup);
	return v;
}

static void test_file(const char *file, struct errs *errs)
{
	struct pane_err e;
	struct pane_cfg *cfg = pane_cfg_load_raw(file, &e);
	if (!cfg) {
		add_errf(errs, "%s", e.msg);
		return;
	}
	static const char *const keys[] = {"rule_files", "evaluation_interval", "group_eval_order", "tests", NULL};
	for (size_t i = 0; i < cfg->root->n_items; i++) {
		bool ok = false;
		for (size_t k = 0; keys[k] && !ok; k++)
			ok = strcmp(keys[k], cfg->root->items[i]->key) == 0;
		if (!ok) {
			add_errf(errs, "%s:%d: field %s not found in type main.unitTestFile", file,
			         cfg->root->items[i]->line, cfg->root->items[i]->key);
			pane_cfg_free(cfg);
			return;
		}
	}
	int64_t ei;
	if (parse_dur(pane_cfg_get(cfg->root, "evaluation_interval"), &ei) < 0) {
		add_errf(errs, "%s: bad evaluation_interval", file);
		pane_cfg_free(cfg);
		return;
	}
	if (ei == 0)
		ei = 60000;
	size_t nf;
	char **files = resolve_files(file, pane_cfg_get(cfg->root, "rule_files"), &nf);
	const struct pane_cfg_node *tests = pane_cfg_get(cfg->root, "tests");
	const struct pane_cfg_node *order = pane_cfg_get(cfg->root, "group_eval_order");
	for (size_t i = 0; tests && tests->kind == PANE_CFG_SEQ && i < tests->n_items; i++)
		run_group(tests->items[i], ei, files, nf, order, errs);
	for (size_t i = 0; i < nf; i++)
		free(files[i]);
	free(files);
	pane_cfg_free(cfg);
}

int pane_rules_unittest(char *const *files, size_t n, bool debug)
{
	(void)debug;
	bool failed = false;
	for (size_t i = 0; i < n; i++) {
		printf("Unit Testing:  %s\n", files[i]);
		fflush(stdout);
		struct errs errs = {0};
		test_file(files[i], &errs);
		if (errs.n) {
			fprintf(stderr, "  FAILED:\n");
			fflush(stderr);
			for (size_t k = 0; k < errs.n; k++) {
				fprintf(stderr, "%s\n", errs.v[k]);
				fflush(stderr);
				printf("\n");
				fflush(stdout);
				free(errs.v[k]);
			}
			free(errs.v);
			failed = true;
		} else {
			printf("  SUCCESS\n");
		}
		printf("\n");
		fflush(stdout);
	}
	return failed ? 1 : 0;
}
