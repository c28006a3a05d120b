/*
 * ruleload.c - Prometheus rule files into groups of rules.
 *
 * The file is read with pane's YAML tree (config/config.h, verbatim scalars:
 * no ${ENV} expansion in rule files) so every value knows its line and
 * column, then checked the way Prometheus' rulefmt checks it: unknown fields
 * refused, one of record/alert, expr parsed by the PromQL engine, label and
 * annotation names valid, templates parsed, group names unique in a file.
 * Messages are promtool's: "FILE: LINE:COL: group "g", rule N, "name": ...".
 * All problems of a file are reported (one per line), not only the first.
 *
 * Ownership: pane_rules owns everything; pane_rules_free releases it.
 */
#include "alert/rules.h"

#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/template.h"
#include "base/mem.h"
#include "config/config.h"
#include "query/ast.h"
#include "query/query.h"

static void kv_free(struct pane_rule_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].name);
		free(kv[i].value);
	}
	free(kv);
}

static void alert_free(struct pane_rule_alert *a)
{
	if (!a)
		return;
	pane_labels_release(&a->labels);
	kv_free(a->ann, a->n_ann);
	free(a);
}

static void rule_release(struct pane_rule *r)
{
	free(r->name);
	free(r->expr);
	kv_free(r->labels, r->n_labels);
	kv_free(r->ann, r->n_ann);
	for (size_t i = 0; i < r->n_active; i++)
		alert_free(r->active[i]);
	free(r->active);
	for (size_t i = 0; i < r->n_prev; i++)
		pane_labels_release(&r->prev[i]);
	free(r->prev);
	free(r->last_error);
}

void pane_rules_free(struct pane_rules *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n_groups; i++) {
		struct pane_rule_group *g = &rs->groups[i];
		for (size_t j = 0; j < g->n_rules; j++)
			rule_release(&g->rules[j]);
		free(g->rules);
		free(g->name);
		free(g->file);
		pthread_mutex_destroy(&g->mu);
	}
	free(rs->groups);
	free(rs);
}

struct loader {
	const char *file;
	struct pane_buf errs;
	size_t n_errs;
};

static void lerr(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lerr(struct loader *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (l->errs.len)
		pane_buf_addc(&l->errs, '\n');
	pane_buf_addf(&l->errs, "%s: ", l->file);
	pane_buf_addvf(&l->errs, fmt, ap);
	va_end(ap);
	l->n_errs++;
}

static void rerr(struct loader *l, const struct pane_cfg_node *n, const char *group, size_t idx, const char *rname,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void rerr(struct loader *l, const struct pane_cfg_node *n, const char *group, size_t idx, const char *rname,
                 const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct pane_buf q;
	pane_buf_init(&q, PANE_BUF_NOLIMIT);
	pane_buf_adds(&q, "group ");
	pane_buf_add_go_quoted(&q, group);
	pane_buf_addf(&q, ", rule %zu, ", idx);
	pane_buf_add_go_quoted(&q, rname);
	if (n)
		lerr(l, "%d:%d: %s: %s", n->vline, n->vcol, q.data, msg);
	else
		lerr(l, "%s: %s", q.data, msg);
	pane_buf_release(&q);
}

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pane_rule_kv *)a)->name, ((const struct pane_rule_kv *)b)->name);
}

static bool scalar(const struct pane_cfg_node *n)
{
	return n && (n->kind == PANE_CFG_SCALAR || n->kind == PANE_CFG_NULL);
}

static const char *sval(const struct pane_cfg_node *n)
{
	return n && n->kind == PANE_CFG_SCALAR ? n->value : "";
}

static int read_kv(struct loader *l, const struct pane_cfg_node *map, struct pane_rule_kv **out, size_t *nout,
                   const char *what)
{
	*out = NULL;
	*nout = 0;
	if (!map || map->kind == PANE_CFG_NULL)
		return 0;
	if (map->kind != PANE_CFG_MAP) {
		lerr(l, "%d:%d: %s must be a map", map->vline, map->vcol, what);
		return -1;
	}
	struct pane_rule_kv *kv = pane_xcalloc(map->n_items ? map->n_items : 1, sizeof *kv);
	for (size_t i = 0; i < map->n_items; i++) {
		const struct pane_cfg_node *c = map->items[i];
		if (!scalar(c)) {
			kv_free(kv, i);
			lerr(l, "%d:%d: %s.%s must be a string", c->vline, c->vcol, what, c->key);
			return -1;
		}
		kv[i].name = pane_xstrdup(c->key);
		kv[i].value = pane_xstrdup(sval(c));
	}
	qsort(kv, map->n_items, sizeof *kv, kv_cmp);
	*out = kv;
	*nout = map->n_items;
	return 0;
}

static bool dur(const struct pane_cfg_node *n, int64_t *ms)
{
	*ms = 0;
	if (!n || n->kind == PANE_CFG_NULL)
		return true;
	if (n->kind != PANE_CFG_SCALAR)
		return false;
	if (strcmp(n->value, "0") == 0)
		return true;
	return pq_duration_parse(n->value, strlen(n->value), ms) == 0;
}

static const char *const rule_keys[] = {"record",          "alert",  "expr",        "for",
                                        "keep_firing_for", "labels", "annotations", NULL};
static const char *const group_keys[] = {"name", "interval", "limit", "rules", NULL};

static const char *unknown_key(const struct pane_cfg_node *map, const char *const *keys)
{
	for (size_t i = 0; i < map->n_items; i++) {
		bool ok = false;
		for (size_t j = 0; keys[j] && !ok; j++)
			ok = strcmp(keys[j], map->items[i]->key) == 0;
		if (!ok)
			return map->items[i]->key;
	}
	return NULL;
}

static void load_rule(struct loader *l, struct pane_rule_group *g, const struct pane_cfg_node *rn, size_t idx)
{
	if (rn->kind != PANE_CFG_MAP) {
		lerr(l, "%d:%d: group \"%s\": a rule must be a map", rn->vline, rn->vcol, g->name);
		return;
	}
	const char *uk = unknown_key(rn, rule_keys);
	if (uk) {
		lerr(l, "%d:%d: field %s not found in type rulefmt.RuleNode", rn->vline, rn->vcol, uk);
		return;
	}
	const struct pane_cfg_node *rec = pane_cfg_get(rn, "record"), *al = pane_cfg_get(rn, "alert"),
	                           *ex = pane_cfg_get(rn, "expr");
	const char *rname = *sval(al) ? sval(al) : sval(rec);
	size_t before = l->n_errs;
	if (*sval(rec) && *sval(al))
		rerr(l, rec, g->name, idx, rname, "only one of 'record' and 'alert' must be set");
	if (!*sval(rec) && !*sval(al))
		rerr(l, rn, g->name, idx, rname, "one of 'record' or 'alert' must be set");
	if (!*sval(ex)) {
		rerr(l, ex ? ex : rn, g->name, idx, rname, "field 'expr' must be set in rule");
	} else {
		struct pane_err e;
		if (pane_query_check(sval(ex), &e) < 0)
			rerr(l, ex, g->name, idx, rname, "could not parse expression: %s", e.msg);
	}
	const struct pane_cfg_node *fo = pane_cfg_get(rn, "for"), *kf = pane_cfg_get(rn, "keep_firing_for"),
	                           *lb = pane_cfg_get(rn, "labels"), *an = pane_cfg_get(rn, "annotations");
	struct pane_rule r = {.alerting = *sval(al) != 0};
	if (!dur(fo, &r.for_ms))
		rerr(l, fo, g->name, idx, rname, "not a valid duration string: \"%s\"", sval(fo));
	if (!dur(kf, &r.keep_firing_for_ms))
		rerr(l, kf, g->name, idx, rname, "not a valid duration string: \"%s\"", sval(kf));
	if (*sval(rec)) {
		if (an && an->n_items)
			rerr(l, rec, g->name, idx, rname, "invalid field 'annotations' in recording rule");
		if (fo)
			rerr(l, rec, g->name, idx, rname, "invalid field 'for' in recording rule");
		if (kf)
			rerr(l, rec, g->name, idx, rname, "invalid field 'keep_firing_for' in recording rule");
		if (!pane_metric_name_valid(sval(rec), strlen(sval(rec))))
			rerr(l, rec, g->name, idx, rname, "invalid recording rule name: %s", sval(rec));
	}
	if (read_kv(l, lb, &r.labels, &r.n_labels, "labels") < 0 ||
	    read_kv(l, an, &r.ann, &r.n_ann, "annotations") < 0) {
		rule_release(&r);
		return;
	}
	for (size_t i = 0; i < r.n_labels; i++) {
		const char *k = r.labels[i].name;
		if (!pane_label_name_valid(k, strlen(k)) || strcmp(k, "__name__") == 0)
			rerr(l, NULL, g->name, idx, rname, "invalid label name: %s", k);
	}
	for (size_t i = 0; i < r.n_ann; i++) {
		const char *k = r.ann[i].name;
		if (!pane_label_name_valid(k, strlen(k)))
			rerr(l, NULL, g->name, idx, rname, "invalid annotation name: %s", k);
	}
	if (r.alerting) {
		char tname[600];
		snprintf(tname, sizeof tname, "__alert_%s", rname);
		struct pane_err e;
		for (size_t i = 0; i < r.n_labels; i++)
			if (pane_tmpl_check(tname, r.labels[i].value, &e) < 0)
				rerr(l, NULL, g->name, idx, rname, "label \"%s\": %s", r.labels[i].name, e.msg);
		for (size_t i = 0; i < r.n_ann; i++)
			if (pane_tmpl_check(tname, r.ann[i].value, &e) < 0)
				rerr(l, NULL, g->name, idx, rname, "annotation \"%s\": %s", r.ann[i].name, e.msg);
	}
	if (l->n_errs != before) {
		rule_release(&r);
		return;
	}
	r.name = pane_xstrdup(rname);
	r.expr = pane_xstrdup(sval(ex));
	g->rules = pane_xrealloc(g->rules, pane_mul_size(g->n_rules + 1, sizeof *g->rules));
	g->rules[g->n_rules++] = r;
}

static void load_file(struct loader *l, struct pane_rules *rs, const char *path)
{
	struct pane_err e;
	struct pane_cfg *cfg = pane_cfg_load_raw(path, &e);
	if (!cfg) {
		if (l->errs.len)
			pane_buf_addc(&l->errs, '\n');
		pane_buf_adds(&l->errs, e.msg);
		l->n_errs++;
		return;
	}
	const struct pane_cfg_node *root = cfg->root;
	for (size_t i = 0; i < root->n_items; i++)
		if (strcmp(root->items[i]->key, "groups") != 0)
			lerr(l, "%d:%d: field %s not found in type rulefmt.RuleGroups", root->items[i]->line, 1,
			     root->items[i]->key);
	const struct pane_cfg_node *groups = pane_cfg_get(root, "groups");
	if (groups && groups->kind != PANE_CFG_SEQ && groups->kind != PANE_CFG_NULL)
		lerr(l, "%d:%d: groups must be a list", groups->vline, groups->vcol);
	size_t first = rs->n_groups;
	for (size_t i = 0; groups && groups->kind == PANE_CFG_SEQ && i < groups->n_items; i++) {
		const struct pane_cfg_node *gn = groups->items[i];
		if (gn->kind != PANE_CFG_MAP) {
			lerr(l, "%d:%d: a group must be a map", gn->vline, gn->vcol);
			continue;
		}
		const char *uk = unknown_key(gn, group_keys);
		if (uk) {
			lerr(l, "%d:%d: field %s not found in type rulefmt.RuleGroup", gn->vline, gn->vcol, uk);
			continue;
		}
		const struct pane_cfg_node *nm = pane_cfg_get(gn, "name");
		const char *name = sval(nm);
		if (!*name) {
			lerr(l, "%d:%d: Groupname must not be empty", gn->vline, gn->vcol);
			continue;
		}
		bool dup = false;
		for (size_t j = first; j < rs->n_groups && !dup; j++)
			dup = strcmp(rs->groups[j].name, name) == 0;
		if (dup) /* reported; its rules are still checked, as Prometheus does */
			lerr(l, "%d:%d: groupname: \"%s\" is repeated in the same file", gn->vline, gn->vcol, name);
		struct pane_rule_group g = {0};
		g.name = pane_xstrdup(name);
		g.file = pane_xstrdup(path);
		pthread_mutex_init(&g.mu, NULL);
		const struct pane_cfg_node *iv = pane_cfg_get(gn, "interval"), *lim = pane_cfg_get(gn, "limit");
		if (!dur(iv, &g.interval_ms))
			lerr(l, "%d:%d: not a valid duration string: \"%s\"", iv->vline, iv->vcol, sval(iv));
		if (lim && lim->kind == PANE_CFG_SCALAR) {
			char *end;
			long long v = strtoll(lim->value, &end, 10);
			if (*end || v < 0)
				lerr(l, "%d:%d: limit must be a non-negative integer", lim->vline, lim->vcol);
			g.limit = v;
		}
		const struct pane_cfg_node *rules = pane_cfg_get(gn, "rules");
		if (rules && rules->kind == PANE_CFG_SEQ)
			for (size_t j = 0; j < rules->n_items; j++)
				load_rule(l, &g, rules->items[j], j + 1);
		else if (rules && rules->kind != PANE_CFG_NULL)
			lerr(l, "%d:%d: rules must be a list", rules->vline, rules->vcol);
		rs->groups = pane_xrealloc(rs->groups, pane_mul_size(rs->n_groups + 1, sizeof *rs->groups));
		rs->groups[rs->n_groups++] = g;
	}
	pane_cfg_free(cfg);
}

struct pane_rules *pane_rules_load(char *const *files, size_t n, struct pane_err *err)
{
	struct pane_rules *rs = pane_xcalloc(1, sizeof *rs);
	struct loader l = {0};
	pane_buf_init(&l.errs, 1 << 20);
	for (size_t i = 0; i < n; i++) {
		l.file = files[i];
		load_file(&l, rs, files[i]);
	}
	if (l.n_errs) {
		/* the first problem in msg, all of them in detail when there are more */
		char *nl = strchr(l.errs.data, '\n');
		pane_err_set(err, PANE_EINVAL, "%.*s", nl ? (int)(nl - l.errs.data) : (int)l.errs.len, l.errs.data);
		if (nl)
			pane_err_detail(err, "%s", nl + 1);
		pane_buf_release(&l.errs);
		pane_rules_free(rs);
		return NULL;
	}
	pane_buf_release(&l.errs);
	return rs;
}

static bool same_rule(const struct pane_rule *a, const struct pane_rule *b)
{
	return a->alerting == b->alerting && strcmp(a->name, b->name) == 0 && strcmp(a->expr, b->expr) == 0 &&
	       a->for_ms == b->for_ms;
}

void pane_rules_carry_state(struct pane_rules *nw, struct pane_rules *old)
{
	if (!nw || !old)
		return;
	for (size_t i = 0; i < nw->n_groups; i++) {
		struct pane_rule_group *g = &nw->groups[i];
		for (size_t j = 0; j < old->n_groups; j++) {
			struct pane_rule_group *o = &old->groups[j];
			if (strcmp(g->name, o->name) || strcmp(g->file, o->file))
				continue;
			pthread_mutex_lock(&o->mu);
			g->last_eval_ms = o->last_eval_ms;
			g->eval_seconds = o->eval_seconds;
			for (size_t k = 0; k < g->n_rules && k < o->n_rules; k++) {
				struct pane_rule *r = &g->rules[k], * or = &o->rules[k];
				if (!same_rule(r, or))
					continue;
#define MOVE(f)                                                                                                        \
	do {                                                                                                           \
		r->f = or->f;                                                                                          \
		or->f = 0;                                                                                             \
	} while (0)
				MOVE(active);
				MOVE(n_active);
				MOVE(cap_active);
				MOVE(prev);
				MOVE(n_prev);
				MOVE(last_error);
				MOVE(evaluated);
				MOVE(last_eval_ms);
				MOVE(eval_seconds);
				MOVE(evaluations);
				MOVE(failures);
#undef MOVE
			}
			pthread_mutex_unlock(&o->mu);
			break;
		}
	}
}
