/*
 * eval.c - one evaluation of a rule group, with Prometheus 2.42's semantics.
 *
 * Rules run in file order; each rule's output is written (through the env's
 * writer) before the next rule runs, so a later rule reads an earlier one's
 * series at the same timestamp. A rule that returned a series last time and
 * not this time gets a stale marker for it, as Prometheus writes them.
 *
 * Alert state machine per alert (identified by its label set after the
 * rule's labels are applied):
 *
 *      (new sample)          held >= for                 no sample (and keep_firing_for over)
 *   --------------> PENDING -------------> FIRING --------------------------------> INACTIVE
 *                     |  no sample: dropped            (resolved_at = ts; kept 15 min, then dropped)
 *
 * An INACTIVE alert that matches again starts over as PENDING with a new
 * active_at. ALERTS{alertstate} = 1 and ALERTS_FOR_STATE = active_at (Unix
 * seconds) are written for pending and firing alerts when env->write_alerts.
 * Failures (query error, duplicate label sets, limit) set the rule's
 * last_error and count; they never stop the group.
 *
 * Threads: the caller owns g for the call; g->mu is held while rule state
 * changes so the API can read it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert.h"
#include "alert/rules.h"
#include "alert/template.h"
#include "base/clock.h"
#include "base/mem.h"
#include "query/query.h"

#define RESOLVED_RETENTION_MS (15 * 60 * 1000)

const char *pane_alert_state_name(enum pane_alert_state s)
{
	return s == PANE_ALERT_FIRING ? "firing" : s == PANE_ALERT_PENDING ? "pending" : "inactive";
}

static void set_error(struct pane_rule *r, const char *msg)
{
	free(r->last_error);
	r->last_error = msg ? pane_xstrdup(msg) : NULL;
}

/* The previous/current series sets for stale markers. */
struct outset {
	struct pane_labels *v;
	size_t n, cap;
};

static void outset_add(struct outset *o, const struct pane_labels *ls)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 8;
		o->v = pane_xrealloc(o->v, pane_mul_size(o->cap, sizeof *o->v));
	}
	pane_labels_copy(&o->v[o->n++], ls);
}

static int lcmp(const void *a, const void *b)
{
	return pane_labels_cmp(a, b);
}

/* A rule's output, written in one call when the rule is done (one WAL
 * append for the rule rather than one per sample). */
struct batch {
	struct pane_labels *ls; /* without __name__ */
	char **names;
	struct pane_sample *s;
	size_t n, cap;
};

static int write_one(struct batch *b, const struct pane_labels *ls, int64_t ts, double v, struct pane_err *err)
{
	(void)err;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->ls = pane_xrealloc(b->ls, pane_mul_size(b->cap, sizeof *b->ls));
		b->names = pane_xrealloc(b->names, pane_mul_size(b->cap, sizeof *b->names));
		b->s = pane_xrealloc(b->s, pane_mul_size(b->cap, sizeof *b->s));
	}
	const char *name = pane_labels_get(ls, "__name__");
	b->names[b->n] = pane_xstrdup(name ? name : "");
	b->s[b->n].ts_ms = ts;
	b->s[b->n].value = v;
	pane_labels_copy(&b->ls[b->n], ls);
	pane_labels_set(&b->ls[b->n], "__name__", "");
	b->n++;
	return 0;
}

static int batch_flush(struct batch *b, const struct pane_rules_env *env, struct pane_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < b->n; i++) {
		b->s[i].name = b->names[i];
		b->s[i].labels = &b->ls[i];
	}
	if (b->n && env->out.write)
		rc = env->out.write(env->out.ctx, b->s, b->n, err);
	for (size_t i = 0; i < b->n; i++) {
		pane_labels_release(&b->ls[i]);
		free(b->names[i]);
	}
	b->n = 0;
	return rc;
}

static void batch_release(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		pane_labels_release(&b->ls[i]);
		free(b->names[i]);
	}
	free(b->ls);
	free(b->names);
	free(b->s);
}

/* Writes stale markers for series in r->prev missing from cur, then makes cur the new prev. */
static void finish_output(struct pane_rule *r, struct batch *bt, struct outset *cur, int64_t ts)
{
	if (cur->n > 1)
		qsort(cur->v, cur->n, sizeof *cur->v, lcmp);
	size_t j = 0;
	for (size_t i = 0; i < r->n_prev; i++) {
		while (j < cur->n && pane_labels_cmp(&cur->v[j], &r->prev[i]) < 0)
			j++;
		if (j < cur->n && pane_labels_cmp(&cur->v[j], &r->prev[i]) == 0)
			continue;
		struct pane_err e;
		write_one(bt, &r->prev[i], ts, pane_stale_nan(), &e);
	}
	for (size_t i = 0; i < r->n_prev; i++)
		pane_labels_release(&r->prev[i]);
	free(r->prev);
	r->prev = cur->v;
	r->n_prev = cur->n;
}

static int query(const struct pane_rules_env *env, const char *expr, int64_t ts, struct pane_query_result *res,
                 struct pane_err *err)
{
	struct pane_query_opts o = {.lookback_ms = env->lookback_ms};
	enum pane_query_errclass cls;
	int rc = pane_query_exec(env->reader, &o, expr, ts, ts, 0, res, &cls, err);
	if (rc < 0)
		return rc;
	if (res->type == PANE_QT_SCALAR) {
		double v = res->scalar;
		pane_query_result_release(res);
		memset(res, 0, sizeof *res);
		res->type = PANE_QT_VECTOR;
		res->series = pane_xcalloc(1, sizeof *res->series);
		res->n = 1;
		pane_labels_init(&res->series[0].labels);
		res->series[0].ts = pane_xmalloc(sizeof(int64_t));
		res->series[0].values = pane_xmalloc(sizeof(double));
		res->series[0].ts[0] = ts;
		res->series[0].values[0] = v;
		res->series[0].n = 1;
	} else if (res->type != PANE_QT_VECTOR) {
		pane_query_result_release(res);
		return pane_err_set(err, PANE_EINVAL, "rule result is not a vector or scalar");
	}
	return 0;
}

static int has_dup(struct outset *o)
{
	if (o->n > 1)
		qsort(o->v, o->n, sizeof *o->v, lcmp);
	for (size_t i = 1; i < o->n; i++)
		if (pane_labels_cmp(&o->v[i - 1], &o->v[i]) == 0)
			return 1;
	return 0;
}

static void outset_release(struct outset *o)
{
	for (size_t i = 0; i < o->n; i++)
		pane_labels_release(&o->v[i]);
	free(o->v);
}

static int eval_recording(struct pane_rule_group *g, struct pane_rule *r, const struct pane_rules_env *env,
                          struct batch *bt, int64_t ts, struct pane_err *err)
{
	struct pane_query_result res;
	if (query(env, r->expr, ts, &res, err) < 0)
		return PANE_EINVAL;
	struct outset cur = {0};
	for (size_t i = 0; i < res.n; i++) {
		struct pane_labels ls;
		pane_labels_copy(&ls, &res.series[i].labels);
		pane_labels_set(&ls, "__name__", r->name);
		for (size_t k = 0; k < r->n_labels; k++)
			pane_labels_set(&ls, r->labels[k].name, r->labels[k].value);
		outset_add(&cur, &ls);
		pane_labels_release(&ls);
	}
	/* the values follow their label sets: keep a parallel copy before sorting */
	double *vals = pane_xcalloc(res.n ? res.n : 1, sizeof *vals);
	struct outset tmp = {0};
	for (size_t i = 0; i < res.n; i++) {
		outset_add(&tmp, &cur.v[i]);
		vals[i] = res.series[i].values[0];
	}
	pane_query_result_release(&res);
	int rc = 0;
	if (has_dup(&cur)) {
		rc = pane_err_set(err, PANE_EINVAL,
		                  "vector contains metrics with the same labelset after applying rule labels");
	} else if (g->limit > 0 && (int64_t)cur.n > g->limit) {
		rc = pane_err_set(err, PANE_EINVAL, "exceeded limit of %lld with %zu series", (long long)g->limit,
		                  cur.n);
	}
	if (rc == 0) {
		for (size_t i = 0; i < tmp.n && rc == 0; i++)
			rc = write_one(bt, &tmp.v[i], ts, vals[i], err);
	}
	outset_release(&tmp);
	free(vals);
	if (rc < 0) {
		outset_release(&cur);
		return rc;
	}
	finish_output(r, bt, &cur, ts);
	return 0;
}

static struct pane_rule_alert *find_active(struct pane_rule *r, const struct pane_labels *ls, uint64_t h)
{
	for (size_t i = 0; i < r->n_active; i++)
		if (r->active[i]->hash == h && pane_labels_cmp(&r->active[i]->labels, ls) == 0)
			return r->active[i];
	return NULL;
}

static void kv_release(struct pane_rule_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].name);
		free(kv[i].value);
	}
	free(kv);
}

static void alert_free(struct pane_rule_alert *a)
{
	pane_labels_release(&a->labels);
	kv_release(a->ann, a->n_ann);
	free(a);
}

static char *expand(const struct pane_rule *r, const char *text, const struct pane_tmpl_data *d)
{
	char name[600];
	snprintf(name, sizeof name, "__alert_%s", r->name);
	struct pane_buf b;
	pane_buf_init(&b, 1 << 20);
	struct pane_err e;
	if (pane_tmpl_expand(name, text, d, &b, &e) < 0) {
		pane_buf_reset(&b);
		pane_buf_addf(&b, "<error expanding template: %s>", e.msg);
	}
	char *s = pane_buf_detach(&b, NULL);
	return s;
}

struct newalert {
	struct pane_labels labels;
	struct pane_rule_kv *ann;
	size_t n_ann;
	double value;
	uint64_t hash;
};

static void write_alert_series(struct pane_rule *r, struct batch *bt, struct outset *cur, struct pane_rule_alert *a,
                               int64_t ts)
{
	struct pane_labels ls;
	struct pane_err e;
	pane_labels_copy(&ls, &a->labels);
	pane_labels_set(&ls, "__name__", "ALERTS");
	pane_labels_set(&ls, "alertstate", pane_alert_state_name(a->state));
	write_one(bt, &ls, ts, 1, &e);
	outset_add(cur, &ls);
	pane_labels_release(&ls);
	pane_labels_copy(&ls, &a->labels);
	pane_labels_set(&ls, "__name__", "ALERTS_FOR_STATE");
	write_one(bt, &ls, ts, (double)(a->active_at / 1000), &e);
	outset_add(cur, &ls);
	pane_labels_release(&ls);
}

static int eval_alerting(struct pane_rule_group *g, struct pane_rule *r, const struct pane_rules_env *env,
                         struct batch *bt, int64_t ts, struct pane_err *err)
{
	struct pane_query_result res;
	if (query(env, r->expr, ts, &res, err) < 0)
		return PANE_EINVAL;
	struct newalert *na = pane_xcalloc(res.n ? res.n : 1, sizeof *na);
	size_t nn = 0;
	int rc = 0;
	for (size_t i = 0; i < res.n; i++) {
		const struct pane_labels *sl = &res.series[i].labels;
		double v = res.series[i].values[0];
		struct pane_tmpl_data d = {.labels = sl,
		                           .external_labels = env->external_labels,
		                           .external_url = env->external_url,
		                           .value = v,
		                           .reader = &env->reader,
		                           .ts = ts};
		struct newalert *a = &na[nn++];
		pane_labels_copy(&a->labels, sl);
		pane_labels_set(&a->labels, "__name__", "");
		for (size_t k = 0; k < r->n_labels; k++) {
			char *x = expand(r, r->labels[k].value, &d);
			pane_labels_set(&a->labels, r->labels[k].name, x);
			free(x);
		}
		pane_labels_set(&a->labels, "alertname", r->name);
		a->ann = pane_xcalloc(r->n_ann ? r->n_ann : 1, sizeof *a->ann);
		for (size_t k = 0; k < r->n_ann; k++) {
			a->ann[k].name = pane_xstrdup(r->ann[k].name);
			a->ann[k].value = expand(r, r->ann[k].value, &d);
		}
		a->n_ann = r->n_ann;
		a->value = v;
		a->hash = pane_labels_hash(&a->labels);
		for (size_t j = 0; j + 1 < nn; j++)
			if (na[j].hash == a->hash && pane_labels_cmp(&na[j].labels, &a->labels) == 0) {
				rc = pane_err_set(
				    err, PANE_EINVAL,
				    "vector contains metrics with the same labelset after applying alert labels");
				break;
			}
		if (rc < 0)
			break;
	}
	pane_query_result_release(&res);
	if (rc == 0) {
		for (size_t i = 0; i < r->n_active; i++)
			r->active[i]->seen = false;
		for (size_t i = 0; i < nn; i++) {
			struct pane_rule_alert *a = find_active(r, &na[i].labels, na[i].hash);
			if (a && a->state != PANE_ALERT_INACTIVE) {
				a->value = na[i].value;
				kv_release(a->ann, a->n_ann);
				a->ann = na[i].ann;
				a->n_ann = na[i].n_ann;
				na[i].ann = NULL;
				na[i].n_ann = 0;
				a->seen = true;
				continue;
			}
			if (!a) {
				a = pane_xcalloc(1, sizeof *a);
				if (r->n_active == r->cap_active) {
					r->cap_active = r->cap_active ? r->cap_active * 2 : 8;
					r->active =
					    pane_xrealloc(r->active, pane_mul_size(r->cap_active, sizeof *r->active));
				}
				r->active[r->n_active++] = a;
			} else {
				pane_labels_release(&a->labels);
				kv_release(a->ann, a->n_ann);
				memset(a, 0, sizeof *a);
			}
			a->labels = na[i].labels;
			pane_labels_init(&na[i].labels);
			a->ann = na[i].ann;
			a->n_ann = na[i].n_ann;
			na[i].ann = NULL;
			na[i].n_ann = 0;
			a->hash = na[i].hash;
			a->state = PANE_ALERT_PENDING;
			a->value = na[i].value;
			a->active_at = ts;
			a->seen = true;
		}
	}
	for (size_t i = 0; i < nn; i++) {
		pane_labels_release(&na[i].labels);
		kv_release(na[i].ann, na[i].n_ann);
	}
	free(na);
	if (rc < 0)
		return rc;

	struct outset cur = {0};
	int64_t n_active_pending = 0;
	size_t w = 0;
	for (size_t i = 0; i < r->n_active; i++) {
		struct pane_rule_alert *a = r->active[i];
		if (!a->seen) {
			bool keep = false;
			if (a->state == PANE_ALERT_FIRING && r->keep_firing_for_ms > 0) {
				if (!a->keep_firing_since)
					a->keep_firing_since = ts;
				if (ts - a->keep_firing_since < r->keep_firing_for_ms)
					keep = true;
			}
			bool drop = a->state == PANE_ALERT_PENDING ||
			            (a->resolved_at && ts - a->resolved_at > RESOLVED_RETENTION_MS);
			if (a->state != PANE_ALERT_INACTIVE && !keep) {
				a->state = PANE_ALERT_INACTIVE;
				a->resolved_at = ts;
			}
			if (drop) {
				alert_free(a);
				continue;
			}
			r->active[w++] = a;
			if (!keep)
				continue;
		} else {
			a->keep_firing_since = 0;
			r->active[w++] = a;
		}
		n_active_pending++;
		if (a->state == PANE_ALERT_PENDING && ts - a->active_at >= r->for_ms) {
			a->state = PANE_ALERT_FIRING;
			a->fired_at = ts;
		}
		if (env->write_alerts)
			write_alert_series(r, bt, &cur, a, ts);
	}
	r->n_active = w;
	if (g->limit > 0 && n_active_pending > g->limit) {
		for (size_t i = 0; i < r->n_active; i++)
			alert_free(r->active[i]);
		r->n_active = 0;
		outset_release(&cur);
		return pane_err_set(err, PANE_EINVAL, "exceeded limit of %lld with %lld alerts", (long long)g->limit,
		                    (long long)n_active_pending);
	}
	finish_output(r, bt, &cur, ts);
	return 0;
}

void pane_rules_group_eval(struct pane_rule_group *g, const struct pane_rules_env *env, int64_t ts)
{
	pthread_mutex_lock(&g->mu);
	int64_t g0 = pane_mono_ns();
	for (size_t i = 0; i < g->n_rules; i++) {
		struct pane_rule *r = &g->rules[i];
		struct pane_err e;
		int64_t t0 = pane_mono_ns();
		struct batch bt = {0};
		int rc = r->alerting ? eval_alerting(g, r, env, &bt, ts, &e) : eval_recording(g, r, env, &bt, ts, &e);
		if (batch_flush(&bt, env, rc < 0 ? NULL : &e) < 0 && rc == 0)
			rc = PANE_EIO;
		batch_release(&bt);
		r->eval_seconds = (double)(pane_mono_ns() - t0) / 1e9;
		r->last_eval_ms = ts;
		r->evaluated = true;
		r->evaluations++;
		if (rc < 0) {
			r->failures++;
			set_error(r, e.msg);
		} else {
			set_error(r, NULL);
		}
	}
	g->eval_seconds = (double)(pane_mono_ns() - g0) / 1e9;
	g->last_eval_ms = ts;
	pthread_mutex_unlock(&g->mu);
}

static void url_escape(const char *s, struct pane_buf *b)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		    *p == '_' || *p == '.' || *p == '~')
			pane_buf_addc(b, (char)*p);
		else if (*p == ' ')
			pane_buf_addc(b, '+');
		else
			pane_buf_addf(b, "%%%02X", *p);
	}
}

size_t pane_rules_group_send(struct pane_rule_group *g, int64_t ts, int64_t resend_delay_ms, int64_t interval_ms,
                             const char *external_url, const struct pane_alert_sink *sink)
{
	int64_t delta = resend_delay_ms > interval_ms ? resend_delay_ms : interval_ms;
	pthread_mutex_lock(&g->mu);
	size_t cap = 0, n = 0;
	for (size_t i = 0; i < g->n_rules; i++)
		cap += g->rules[i].n_active;
	struct pane_alert *out = pane_xcalloc(cap ? cap : 1, sizeof *out);
	struct pane_labels *anns = pane_xcalloc(cap ? cap : 1, sizeof *anns);
	char **urls = pane_xcalloc(cap ? cap : 1, sizeof *urls);
	for (size_t i = 0; i < g->n_rules; i++) {
		struct pane_rule *r = &g->rules[i];
		if (!r->alerting)
			continue;
		for (size_t k = 0; k < r->n_active; k++) {
			struct pane_rule_alert *a = r->active[k];
			if (a->state == PANE_ALERT_PENDING)
				continue;
			bool need = !a->last_sent_at || (a->resolved_at && a->resolved_at > a->last_sent_at) ||
			            a->last_sent_at + resend_delay_ms < ts;
			if (!need)
				continue;
			a->last_sent_at = ts;
			a->valid_until = ts + 4 * delta;
			pane_labels_init(&anns[n]);
			for (size_t q = 0; q < a->n_ann; q++)
				pane_labels_set(&anns[n], a->ann[q].name, a->ann[q].value);
			struct pane_buf u;
			pane_buf_init(&u, PANE_BUF_NOLIMIT);
			pane_buf_adds(&u, external_url ? external_url : "");
			pane_buf_adds(&u, "/graph?g0.expr=");
			url_escape(r->expr, &u);
			pane_buf_adds(&u, "&g0.tab=1");
			urls[n] = pane_buf_detach(&u, NULL);
			out[n] = (struct pane_alert){.labels = &a->labels,
			                             .annotations = &anns[n],
			                             .starts_at_ms = a->fired_at,
			                             .ends_at_ms = a->resolved_at ? a->resolved_at : a->valid_until,
			                             .generator_url = urls[n]};
			n++;
		}
	}
	if (n && sink)
		sink->send(sink->ctx, out, n);
	pthread_mutex_unlock(&g->mu);
	for (size_t i = 0; i < n; i++) {
		pane_labels_release(&anns[i]);
		free(urls[i]);
	}
	free(anns);
	free(urls);
	free(out);
	return n;
}
