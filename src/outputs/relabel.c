/*
 * relabel.c - Prometheus relabel_config actions over a label set.
 *
 * Idea: a rule list is compiled once (regexes through base/regex.h, so they
 * are anchored and bounded like every other label regex in pane) and applied
 * per series to a small, unsorted vector of heap strings; the vector is
 * sorted once at the end. A linear search per lookup beats a map for the
 * label counts series have (at most 64).
 *
 * Invariants:
 *   1. Semantics follow Prometheus' model/relabel (v2.x): defaults
 *      separator ";", regex "(.*)", replacement "$1", action replace; an
 *      empty value removes a label; an invalid target name skips the rule.
 *   2. Replacement expansion follows Go's regexp.Expand (expand()).
 *   3. A regex that hits the match limits counts as "no match" (the
 *      series is then kept by keep-less rules, dropped by keep).
 *
 * Threads: compiled rules are read-only; each thread has its own
 * pcre2_match_data (a thread-specific key).
 */
#include "outputs/relabel.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/regex.h"
#include "base/str.h"
#include "config/config.h"

enum action {
	A_REPLACE,
	A_LOWERCASE,
	A_UPPERCASE,
	A_KEEP,
	A_DROP,
	A_KEEPEQUAL,
	A_DROPEQUAL,
	A_HASHMOD,
	A_LABELMAP,
	A_LABELDROP,
	A_LABELKEEP,
};

static const char *const action_names[] = {
    "replace",   "lowercase", "uppercase", "keep",      "drop",      "keepequal",
    "dropequal", "hashmod",   "labelmap",  "labeldrop", "labelkeep", NULL,
};

struct rule {
	enum action action;
	char **source;
	size_t n_source;
	char *separator;
	char *target;
	char *replacement;
	uint64_t modulus;
	pcre2_code *re;
	bool re_default; /* "(.*)": matches everything, group 1 = the whole value */
};

struct pane_relabel {
	struct rule *rules;
	size_t n;
};

struct rule_cfg {
	struct pane_cfg_strlist source_labels;
	char *separator;
	char *target_label;
	char *regex;
	int64_t modulus;
	char *replacement;
	char *action;
};

static const struct pane_cfg_field rule_fields[] = {
    {"source_labels", PANE_CFT_STRLIST, offsetof(struct rule_cfg, source_labels), NULL, 0,
     "labels whose values are joined and matched", 0, 0},
    {"separator", PANE_CFT_STRING, offsetof(struct rule_cfg, separator), ";", 0,
     "placed between the joined source values", 0, 0},
    {"target_label", PANE_CFT_STRING, offsetof(struct rule_cfg, target_label), NULL, 0,
     "label written by replace, lowercase, uppercase, hashmod; compared by keepequal, dropequal", 0, 0},
    {"regex", PANE_CFT_STRING, offsetof(struct rule_cfg, regex), "(.*)", 0, "anchored regular expression", 0, 0},
    {"modulus", PANE_CFT_INT, offsetof(struct rule_cfg, modulus), "0", 0, "hashmod's modulus", 0, INT64_MAX},
    {"replacement", PANE_CFT_STRING, offsetof(struct rule_cfg, replacement), "$1", 0,
     "value (or label name for labelmap) written, with $1/${name} groups", 0, 0},
    {"action", PANE_CFT_STRING, offsetof(struct rule_cfg, action), "replace", 0,
     "replace, lowercase, uppercase, keep, drop, keepequal, dropequal, hashmod, labelmap, labeldrop, "
     "labelkeep",
     0, 0},
    {NULL, 0, 0, NULL, 0, NULL, 0, 0},
};

static bool name_valid(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

static void rule_release(struct rule *r)
{
	for (size_t i = 0; i < r->n_source; i++)
		free(r->source[i]);
	free(r->source);
	free(r->separator);
	free(r->target);
	free(r->replacement);
	if (r->re)
		pcre2_code_free(r->re);
}

static int parse_rule(const struct pane_cfg *cfg, const struct pane_cfg_node *node, struct rule *out,
                      struct pane_err *err)
{
	struct rule_cfg c = {0};
	int rc;
	if (node->kind != PANE_CFG_MAP) {
		rc = pane_cfg_error(cfg, node, err, "a relabel rule is a map (source_labels, regex, action, ...)");
		goto done;
	}
	if ((rc = pane_cfg_bind(cfg, node, rule_fields, &c, err)) < 0)
		goto done;
	int a = -1;
	for (int i = 0; action_names[i]; i++)
		if (pane_streq_nocase(c.action, action_names[i]))
			a = i;
	const struct pane_cfg_node *an = pane_cfg_get(node, "action");
	if (a < 0) {
		rc = pane_cfg_error(cfg, an ? an : node, err,
		                    "unknown relabel action \"%s\" (replace, lowercase, uppercase, keep, drop, "
		                    "keepequal, dropequal, hashmod, labelmap, labeldrop, labelkeep)",
		                    c.action);
		goto done;
	}
	out->action = (enum action)a;
	bool needs_target = a == A_REPLACE || a == A_LOWERCASE || a == A_UPPERCASE || a == A_HASHMOD ||
	                    a == A_KEEPEQUAL || a == A_DROPEQUAL;
	if (needs_target && (!c.target_label || !*c.target_label)) {
		rc = pane_cfg_error(cfg, node, err, "relabel action %s needs target_label", action_names[a]);
		goto done;
	}
	if (c.target_label &&
	    (a == A_LOWERCASE || a == A_UPPERCASE || a == A_HASHMOD || a == A_KEEPEQUAL || a == A_DROPEQUAL) &&
	    !name_valid(c.target_label, strlen(c.target_label))) {
		rc = pane_cfg_error(cfg, pane_cfg_get(node, "target_label"), err, "\"%s\" is not a valid label name",
		                    c.target_label);
		goto done;
	}
	if (c.target_label && a == A_REPLACE && !strchr(c.target_label, '$') &&
	    !name_valid(c.target_label, strlen(c.target_label))) {
		rc = pane_cfg_error(cfg, pane_cfg_get(node, "target_label"), err, "\"%s\" is not a valid label name",
		                    c.target_label);
		goto done;
	}
	if (a == A_HASHMOD && c.modulus <= 0) {
		rc = pane_cfg_error(cfg, node, err, "relabel action hashmod needs a modulus above 0");
		goto done;
	}
	if ((a == A_KEEPEQUAL || a == A_DROPEQUAL) && strcmp(c.regex, "(.*)") != 0) {
		rc = pane_cfg_error(cfg, pane_cfg_get(node, "regex"), err, "relabel action %s takes no regex",
		                    action_names[a]);
		goto done;
	}
	if ((a == A_LABELDROP || a == A_LABELKEEP) && (c.target_label || c.source_labels.n)) {
		rc = pane_cfg_error(cfg, node, err, "relabel action %s takes only regex", action_names[a]);
		goto done;
	}
	if ((a == A_KEEP || a == A_DROP || a == A_REPLACE || a == A_LOWERCASE || a == A_UPPERCASE || a == A_HASHMOD ||
	     a == A_KEEPEQUAL || a == A_DROPEQUAL) &&
	    c.source_labels.n == 0 && a != A_REPLACE) {
		rc = pane_cfg_error(cfg, node, err, "relabel action %s needs source_labels", action_names[a]);
		goto done;
	}
	for (size_t i = 0; i < c.source_labels.n; i++) {
		const char *s = c.source_labels.items[i];
		if (!name_valid(s, strlen(s))) {
			rc = pane_cfg_error(cfg, pane_cfg_get(node, "source_labels"), err,
			                    "\"%s\" is not a valid label name", s);
			goto done;
		}
	}
	struct pane_err re_err = {0};
	out->re = pane_regex_compile(c.regex, 0, &re_err);
	if (!out->re) {
		rc = pane_cfg_error(cfg, pane_cfg_get(node, "regex"), err, "%s", re_err.msg);
		goto done;
	}
	out->re_default = strcmp(c.regex, "(.*)") == 0;
	out->source = c.source_labels.items;
	out->n_source = c.source_labels.n;
	c.source_labels.items = NULL;
	c.source_labels.n = 0;
	out->separator = c.separator;
	out->target = c.target_label;
	out->replacement = c.replacement;
	c.separator = c.target_label = c.replacement = NULL;
	out->modulus = (uint64_t)c.modulus;
	rc = 0;
done:
	pane_cfg_unbind(rule_fields, &c);
	return rc;
}

struct pane_relabel *pane_relabel_parse(const struct pane_cfg *cfg, const struct pane_cfg_node *seq,
                                        struct pane_err *err)
{
	struct pane_relabel *r = pane_xcalloc(1, sizeof *r);
	if (!seq || seq->kind == PANE_CFG_NULL)
		return r;
	if (seq->kind != PANE_CFG_SEQ) {
		pane_cfg_error(cfg, seq, err, "a list of relabel rules is expected");
		free(r);
		return NULL;
	}
	r->rules = pane_xcalloc(seq->n_items ? seq->n_items : 1, sizeof *r->rules);
	for (size_t i = 0; i < seq->n_items; i++) {
		if (parse_rule(cfg, seq->items[i], &r->rules[i], err) < 0) {
			rule_release(&r->rules[i]);
			pane_relabel_free(r);
			return NULL;
		}
		r->n++;
	}
	return r;
}

void pane_relabel_free(struct pane_relabel *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		rule_release(&r->rules[i]);
	free(r->rules);
	free(r);
}

size_t pane_relabel_count(const struct pane_relabel *r)
{
	return r ? r->n : 0;
}

/* ---- label vectors ---- */

void pane_relabel_labels_init(struct pane_relabel_labels *ls)
{
	memset(ls, 0, sizeof *ls);
}

void pane_relabel_labels_reset(struct pane_relabel_labels *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		free(ls->names[i]);
		free(ls->values[i]);
	}
	ls->n = 0;
}

void pane_relabel_labels_release(struct pane_relabel_labels *ls)
{
	pane_relabel_labels_reset(ls);
	free(ls->names);
	free(ls->values);
	memset(ls, 0, sizeof *ls);
}

static ssize_t find(const struct pane_relabel_labels *ls, const char *name, size_t nlen)
{
	for (size_t i = 0; i < ls->n; i++)
		if (strlen(ls->names[i]) == nlen && memcmp(ls->names[i], name, nlen) == 0)
			return (ssize_t)i;
	return -1;
}

static void remove_at(struct pane_relabel_labels *ls, size_t i)
{
	free(ls->names[i]);
	free(ls->values[i]);
	ls->names[i] = ls->names[ls->n - 1];
	ls->values[i] = ls->values[ls->n - 1];
	ls->n--;
}

void pane_relabel_labels_set(struct pane_relabel_labels *ls, const char *name, size_t nlen, const char *value,
                             size_t vlen)
{
	ssize_t i = find(ls, name, nlen);
	if (i >= 0) {
		if (vlen == 0) {
			remove_at(ls, (size_t)i);
			return;
		}
		free(ls->values[i]);
		ls->values[i] = pane_xstrndup(value, vlen);
		return;
	}
	if (vlen == 0)
		return;
	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? ls->cap * 2 : 16;
		ls->names = pane_xrealloc(ls->names, ls->cap * sizeof *ls->names);
		ls->values = pane_xrealloc(ls->values, ls->cap * sizeof *ls->values);
	}
	ls->names[ls->n] = pane_xstrndup(name, nlen);
	ls->values[ls->n] = pane_xstrndup(value, vlen);
	ls->n++;
}

const char *pane_relabel_labels_get(const struct pane_relabel_labels *ls, const char *name)
{
	ssize_t i = find(ls, name, strlen(name));
	return i >= 0 ? ls->values[i] : NULL;
}

void pane_relabel_labels_sort(struct pane_relabel_labels *ls)
{
	/* insertion sort: label sets are small and usually nearly sorted */
	for (size_t i = 1; i < ls->n; i++) {
		char *n = ls->names[i], *v = ls->values[i];
		size_t j = i;
		while (j > 0 && strcmp(ls->names[j - 1], n) > 0) {
			ls->names[j] = ls->names[j - 1];
			ls->values[j] = ls->values[j - 1];
			j--;
		}
		ls->names[j] = n;
		ls->values[j] = v;
	}
}

/* ---- applying ---- */

static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_destroy(void *p)
{
	pcre2_match_data_free(p);
}

static void md_key_make(void)
{
	pthread_key_create(&md_key, md_destroy);
}

static pcre2_match_data *thread_md(void)
{
	pthread_once(&md_once, md_key_make);
	pcre2_match_data *md = pthread_getspecific(md_key);
	if (!md) {
		md = pcre2_match_data_create(64, NULL);
		if (!md)
			pane_xmalloc((size_t)-1); /* aborts with the size, like every allocation */
		pthread_setspecific(md_key, md);
	}
	return md;
}

/* Go's regexp.Expand of tmpl with the groups of the last match of re on src. */
static void expand(struct pane_buf *out, const char *tmpl, const pcre2_code *re, const char *src, pcre2_match_data *md)
{
	const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	uint32_t npairs = pcre2_get_ovector_count(md);
	const char *p = tmpl;
	while (*p) {
		const char *d = strchr(p, '$');
		if (!d) {
			pane_buf_adds(out, p);
			return;
		}
		pane_buf_add(out, p, (size_t)(d - p));
		p = d + 1;
		if (*p == '$') {
			pane_buf_addc(out, '$');
			p++;
			continue;
		}
		bool brace = *p == '{';
		const char *s = brace ? p + 1 : p, *e = s;
		while (*e && (isalnum((unsigned char)*e) || *e == '_'))
			e++;
		if (e == s || (brace && *e != '}')) {
			pane_buf_addc(out, '$'); /* malformed: the $ is text */
			continue;
		}
		p = brace ? e + 1 : e;
		long num = 0;
		for (const char *q = s; q < e && num >= 0; q++)
			num = isdigit((unsigned char)*q) && num < 100000000 ? num * 10 + (*q - '0') : -1;
		if (num < 0) {
			char name[256];
			size_t nl = (size_t)(e - s);
			if (nl >= sizeof name)
				continue;
			memcpy(name, s, nl);
			name[nl] = 0;
			int n = pcre2_substring_number_from_name(re, (PCRE2_SPTR)name);
			if (n < 0)
				continue;
			num = n;
		}
		if ((uint32_t)num < npairs && ov[2 * num] != PCRE2_UNSET)
			pane_buf_add(out, src + ov[2 * num], ov[2 * num + 1] - ov[2 * num]);
	}
}

static void join_sources(const struct rule *r, const struct pane_relabel_labels *ls, struct pane_buf *out)
{
	pane_buf_reset(out);
	for (size_t i = 0; i < r->n_source; i++) {
		if (i)
			pane_buf_adds(out, r->separator);
		const char *v = pane_relabel_labels_get(ls, r->source[i]);
		if (v)
			pane_buf_adds(out, v);
	}
}

static bool match(const struct rule *r, const char *s, size_t n, pcre2_match_data *md)
{
	return pane_regex_match(r->re, s, n, md) == 1;
}

static uint64_t hashmod(const char *s, size_t n, uint64_t mod)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	if (!EVP_Digest(s, n, d, &dl, EVP_md5(), NULL) || dl != 16)
		return 0;
	uint64_t v = 0;
	for (int i = 8; i < 16; i++)
		v = v << 8 | d[i];
	return v % mod;
}

bool pane_relabel_apply(const struct pane_relabel *r, struct pane_relabel_labels *ls)
{
	if (!r || r->n == 0) {
		pane_relabel_labels_sort(ls);
		return true;
	}
	pcre2_match_data *md = thread_md();
	struct pane_buf val, tmp, tgt;
	pane_buf_init(&val, 1 << 20);
	pane_buf_init(&tmp, 1 << 20);
	pane_buf_init(&tgt, 1 << 20);
	bool keep = true;
	for (size_t k = 0; k < r->n && keep; k++) {
		const struct rule *ru = &r->rules[k];
		join_sources(ru, ls, &val);
		const char *v = val.data ? val.data : "";
		size_t vn = val.len;
		switch (ru->action) {
		case A_REPLACE:
			if (!match(ru, v, vn, md))
				break;
			pane_buf_reset(&tgt);
			expand(&tgt, ru->target, ru->re, v, md);
			pane_buf_reset(&tmp);
			expand(&tmp, ru->replacement, ru->re, v, md);
			if (!tgt.len || !name_valid(tgt.data, tgt.len))
				break;
			pane_relabel_labels_set(ls, tgt.data, tgt.len, tmp.data ? tmp.data : "", tmp.len);
			break;
		case A_LOWERCASE:
		case A_UPPERCASE:
			pane_buf_reset(&tmp);
			for (size_t i = 0; i < vn; i++)
				pane_buf_addc(&tmp, (char)(ru->action == A_LOWERCASE ? tolower((unsigned char)v[i])
				                                                     : toupper((unsigned char)v[i])));
			pane_relabel_labels_set(ls, ru->target, strlen(ru->target), tmp.data ? tmp.data : "", tmp.len);
			break;
		case A_KEEP: keep = match(ru, v, vn, md); break;
		case A_DROP: keep = !match(ru, v, vn, md); break;
		case A_KEEPEQUAL:
		case A_DROPEQUAL: {
			const char *t = pane_relabel_labels_get(ls, ru->target);
			bool eq = strlen(t ? t : "") == vn && memcmp(t ? t : "", v, vn) == 0;
			keep = ru->action == A_KEEPEQUAL ? eq : !eq;
			break;
		}
		case A_HASHMOD: {
			char num[32];
			int nl = snprintf(num, sizeof num, "%llu", (unsigned long long)hashmod(v, vn, ru->modulus));
			pane_relabel_labels_set(ls, ru->target, strlen(ru->target), num, (size_t)nl);
			break;
		}
		case A_LABELMAP: {
			size_t n0 = ls->n; /* new labels are appended; only the original ones are mapped */
			for (size_t i = 0; i < n0; i++) {
				const char *nm = ls->names[i];
				if (!match(ru, nm, strlen(nm), md))
					continue;
				pane_buf_reset(&tmp);
				expand(&tmp, ru->replacement, ru->re, nm, md);
				if (tmp.len && name_valid(tmp.data, tmp.len)) {
					char *value = pane_xstrdup(ls->values[i]);
					pane_relabel_labels_set(ls, tmp.data, tmp.len, value, strlen(value));
					free(value);
				}
			}
			break;
		}
		case A_LABELDROP:
		case A_LABELKEEP:
			for (size_t i = 0; i < ls->n;) {
				bool m = match(ru, ls->names[i], strlen(ls->names[i]), md);
				if (m == (ru->action == A_LABELDROP))
					remove_at(ls, i);
				else
					i++;
			}
			break;
		}
	}
	pane_buf_release(&val);
	pane_buf_release(&tmp);
	pane_buf_release(&tgt);
	if (keep)
		pane_relabel_labels_sort(ls);
	return keep;
}
