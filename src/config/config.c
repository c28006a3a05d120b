/*
 * config.c - YAML to a node tree, ${ENV} expansion, and field binding.
 *
 * Idea: libyaml's event parser is driven recursively into a small tree in
 * which every node knows its line and dotted path, so any later check - made
 * by whichever part owns that section - can produce "file:line: path: why"
 * without keeping parser state around. Expansion happens once at load time,
 * which makes an unset ${VAR} a start-up failure rather than a surprise at
 * the first scrape.
 *
 * Invariants:
 *   (1) root is always a MAP; duplicate keys in one map are rejected.
 *   (2) depth <= PANE_CFG_MAX_DEPTH and node count <= PANE_CFG_MAX_NODES.
 *   (3) YAML aliases are refused (they make paths ambiguous and allow
 *       billion-laughs expansion).
 */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "base/str.h"

struct builder {
	yaml_parser_t parser;
	const char *name;
	size_t nodes;
	bool raw; /* keep scalars verbatim (no ${ENV} expansion) */
	struct pane_err *err;
};

static void node_free(struct pane_cfg_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n_items; i++)
		node_free(n->items[i]);
	free(n->items);
	free(n->key);
	free(n->path);
	free(n->value);
	free(n);
}

void pane_cfg_free(struct pane_cfg *cfg)
{
	if (!cfg)
		return;
	node_free(cfg->root);
	free(cfg->file);
	free(cfg);
}

static struct pane_cfg_node *node_new(struct builder *b, enum pane_cfg_kind kind, int line)
{
	struct pane_cfg_node *n = pane_xcalloc(1, sizeof *n);
	n->kind = kind;
	n->line = line;
	n->vline = line;
	b->nodes++;
	return n;
}

static void node_add(struct pane_cfg_node *parent, struct pane_cfg_node *child)
{
	parent->items = pane_xrealloc(parent->items, pane_mul_size(parent->n_items + 1, sizeof *parent->items));
	parent->items[parent->n_items++] = child;
}

static char *child_path(const char *parent, const char *key, size_t index, bool is_seq)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_BUF_NOLIMIT);
	if (is_seq)
		pane_buf_addf(&b, "%s[%zu]", parent, index);
	else if (*parent)
		pane_buf_addf(&b, "%s.%s", parent, key);
	else
		pane_buf_adds(&b, key);
	return pane_buf_detach(&b, NULL);
}

static int fail(struct builder *b, int line, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct builder *b, int line, const char *path, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (path && *path)
		pane_err_set(b->err, PANE_EINVAL, "%s:%d: %s: %s", b->name, line, path, msg);
	else
		pane_err_set(b->err, PANE_EINVAL, "%s:%d: %s", b->name, line, msg);
	return PANE_EINVAL;
}

static int next_event(struct builder *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->parser, ev)) {
		int line = (int)b->parser.problem_mark.line + 1;
		const char *prob = b->parser.problem ? b->parser.problem : "syntax error";
		if (b->parser.context)
			return fail(b, line, NULL, "YAML syntax error: %s %s", prob, b->parser.context);
		return fail(b, line, NULL, "YAML syntax error: %s", prob);
	}
	return 0;
}

static bool is_null_scalar(const yaml_event_t *ev)
{
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)ev->data.scalar.value;
	return ev->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	       strcmp(v, "NULL") == 0;
}

/* Builds the node that starts with *ev (already read); consumes its events. */
static int build(struct builder *b, yaml_event_t *ev, const char *path, int depth, struct pane_cfg_node **out)
{
	int line = (int)ev->start_mark.line + 1;
	int col = (int)ev->start_mark.column + 1;
	*out = NULL;
	if (depth > PANE_CFG_MAX_DEPTH)
		return fail(b, line, path, "nested more than %d levels deep", PANE_CFG_MAX_DEPTH);
	if (b->nodes >= PANE_CFG_MAX_NODES)
		return fail(b, line, path, "more than %d values in one file", PANE_CFG_MAX_NODES);

	switch (ev->type) {
	case YAML_ALIAS_EVENT: return fail(b, line, path, "YAML aliases (*name) are not supported; repeat the value");
	case YAML_SCALAR_EVENT: {
		if (is_null_scalar(ev)) {
			*out = node_new(b, PANE_CFG_NULL, line);
			(*out)->vcol = col;
			return 0;
		}
		struct pane_err e;
		bool whole = false;
		char *v = b->raw ? pane_xstrdup((const char *)ev->data.scalar.value)
		                 : pane_cfg_expand_env((const char *)ev->data.scalar.value, &whole, &e);
		if (!v)
			return fail(b, line, path, "%s", e.msg);
		struct pane_cfg_node *n = node_new(b, PANE_CFG_SCALAR, line);
		n->vcol = col;
		n->value = v;
		n->from_env = whole;
		*out = n;
		return 0;
	}
	case YAML_SEQUENCE_START_EVENT: {
		struct pane_cfg_node *n = node_new(b, PANE_CFG_SEQ, line);
		n->vcol = col;
		for (;;) {
			yaml_event_t cev;
			if (next_event(b, &cev) < 0) {
				node_free(n);
				return PANE_EINVAL;
			}
			if (cev.type == YAML_SEQUENCE_END_EVENT) {
				yaml_event_delete(&cev);
				break;
			}
			char *cpath = child_path(path, NULL, n->n_items, true);
			struct pane_cfg_node *c;
			int rc = build(b, &cev, cpath, depth + 1, &c);
			yaml_event_delete(&cev);
			if (rc < 0) {
				free(cpath);
				node_free(n);
				return rc;
			}
			c->path = cpath;
			node_add(n, c);
		}
		*out = n;
		return 0;
	}
	case YAML_MAPPING_START_EVENT: {
		struct pane_cfg_node *n = node_new(b, PANE_CFG_MAP, line);
		n->vcol = col;
		for (;;) {
			yaml_event_t kev;
			if (next_event(b, &kev) < 0) {
				node_free(n);
				return PANE_EINVAL;
			}
			if (kev.type == YAML_MAPPING_END_EVENT) {
				yaml_event_delete(&kev);
				break;
			}
			int kline = (int)kev.start_mark.line + 1;
			if (kev.type != YAML_SCALAR_EVENT) {
				yaml_event_delete(&kev);
				node_free(n);
				return fail(b, kline, path, "map keys must be plain strings");
			}
			char *key = pane_xstrdup((const char *)kev.data.scalar.value);
			yaml_event_delete(&kev);
			if (pane_cfg_get(n, key)) {
				int rc = fail(b, kline, path, "duplicate key '%s'", key);
				free(key);
				node_free(n);
				return rc;
			}
			char *cpath = child_path(path, key, 0, false);
			yaml_event_t vev;
			if (next_event(b, &vev) < 0) {
				free(key);
				free(cpath);
				node_free(n);
				return PANE_EINVAL;
			}
			struct pane_cfg_node *c;
			int rc = build(b, &vev, cpath, depth + 1, &c);
			yaml_event_delete(&vev);
			if (rc < 0) {
				free(key);
				free(cpath);
				node_free(n);
				return rc;
			}
			c->key = key;
			c->path = cpath;
			c->line = kline;
			node_add(n, c);
		}
		*out = n;
		return 0;
	}
	default: return fail(b, line, path, "unexpected YAML construct");
	}
}

struct pane_cfg *pane_cfg_empty(void)
{
	struct pane_cfg *cfg = pane_xcalloc(1, sizeof *cfg);
	cfg->file = pane_xstrdup("(defaults)");
	cfg->root = pane_xcalloc(1, sizeof *cfg->root);
	cfg->root->kind = PANE_CFG_MAP;
	cfg->root->path = pane_xstrdup("");
	return cfg;
}

static struct pane_cfg *parse(const char *name, const char *text, size_t len, bool raw, struct pane_err *err)
{
	struct builder b = {.name = name, .raw = raw, .err = err};
	struct pane_cfg_node *root = NULL;
	yaml_event_t ev;
	int rc = 0;
	bool started = false;

	if (len > PANE_CFG_MAX_BYTES) {
		pane_err_set(err, PANE_ETOOBIG, "%s: file is larger than %u bytes", name, PANE_CFG_MAX_BYTES);
		return NULL;
	}
	if (memchr(text, '\0', len)) {
		pane_err_set(err, PANE_EINVAL, "%s: file contains a NUL byte; is it a text file?", name);
		return NULL;
	}
	yaml_parser_initialize(&b.parser);
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
	while (rc == 0) {
		if ((rc = next_event(&b, &ev)) < 0)
			break;
		yaml_event_type_t t = ev.type;
		if (t == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (t == YAML_DOCUMENT_START_EVENT) {
			if (started) {
				rc = fail(&b, (int)ev.start_mark.line + 1, NULL,
				          "more than one YAML document; pane.yaml holds one");
			}
			started = true;
		} else if (t == YAML_MAPPING_START_EVENT || t == YAML_SEQUENCE_START_EVENT || t == YAML_SCALAR_EVENT ||
		           t == YAML_ALIAS_EVENT) {
			struct pane_cfg_node *n;
			rc = build(&b, &ev, "", 0, &n);
			if (rc == 0 && n->kind == PANE_CFG_NULL) {
				node_free(n);
			} else if (rc == 0 && n->kind != PANE_CFG_MAP) {
				rc = fail(&b, n->line, NULL, "the top level must be a map of sections (key: value)");
				node_free(n);
			} else if (rc == 0) {
				root = n;
			}
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&b.parser);
	if (rc < 0) {
		node_free(root);
		return NULL;
	}
	struct pane_cfg *cfg = pane_xcalloc(1, sizeof *cfg);
	cfg->file = pane_xstrdup(name);
	if (!root) {
		root = pane_xcalloc(1, sizeof *root);
		root->kind = PANE_CFG_MAP;
		root->line = 1;
	}
	root->path = pane_xstrdup("");
	cfg->root = root;
	return cfg;
}

struct pane_cfg *pane_cfg_parse(const char *name, const char *text, size_t len, struct pane_err *err)
{
	return parse(name, text, len, false, err);
}

struct pane_cfg *pane_cfg_parse_raw(const char *name, const char *text, size_t len, struct pane_err *err)
{
	return parse(name, text, len, true, err);
}

static struct pane_cfg *load(const char *path, bool raw, struct pane_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		pane_err_set(err, PANE_EIO, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	struct pane_buf b;
	pane_buf_init(&b, PANE_CFG_MAX_BYTES);
	char chunk[8192];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if ((rc = pane_buf_add(&b, chunk, n)) < 0)
			break;
	bool ioerr = ferror(f);
	fclose(f);
	if (rc < 0) {
		pane_buf_release(&b);
		pane_err_set(err, PANE_ETOOBIG, "%s: file is larger than %u bytes", path, PANE_CFG_MAX_BYTES);
		return NULL;
	}
	if (ioerr) {
		pane_buf_release(&b);
		pane_err_set(err, PANE_EIO, "%s: read error", path);
		return NULL;
	}
	struct pane_cfg *cfg = parse(path, b.data, b.len, raw, err);
	pane_buf_release(&b);
	return cfg;
}

struct pane_cfg *pane_cfg_load(const char *path, struct pane_err *err)
{
	return load(path, false, err);
}

struct pane_cfg *pane_cfg_load_raw(const char *path, struct pane_err *err)
{
	return load(path, true, err);
}

const struct pane_cfg_node *pane_cfg_get(const struct pane_cfg_node *map, const char *key)
{
	if (!map || map->kind != PANE_CFG_MAP)
		return NULL;
	for (size_t i = 0; i < map->n_items; i++)
		if (strcmp(map->items[i]->key, key) == 0)
			return map->items[i];
	return NULL;
}

const struct pane_cfg_node *pane_cfg_lookup(const struct pane_cfg_node *node, const char *dotted)
{
	char part[128];
	const char *p = dotted;
	while (node && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof part)
			return NULL;
		memcpy(part, p, n);
		part[n] = '\0';
		node = pane_cfg_get(node, part);
		p += n + (dot ? 1 : 0);
	}
	return node;
}

int pane_cfg_error(const struct pane_cfg *cfg, const struct pane_cfg_node *node, struct pane_err *err, const char *fmt,
                   ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	const char *path = node && node->path ? node->path : "";
	int line = node ? node->line : 0;
	if (*path)
		return pane_err_set(err, PANE_EINVAL, "%s:%d: %s: %s", cfg->file, line, path, msg);
	return pane_err_set(err, PANE_EINVAL, "%s:%d: %s", cfg->file, line, msg);
}

char *pane_cfg_expand_env(const char *s, bool *whole_ref, struct pane_err *err)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_CFG_MAX_BYTES);
	size_t refs = 0;
	bool other = false;
	for (const char *p = s; *p;) {
		if (p[0] == '$' && p[1] == '$') {
			pane_buf_addc(&b, '$');
			other = true;
			p += 2;
			continue;
		}
		if (p[0] != '$' || p[1] != '{') {
			pane_buf_addc(&b, *p++);
			other = true;
			continue;
		}
		const char *close = strchr(p + 2, '}');
		if (!close) {
			pane_buf_release(&b);
			pane_err_set(err, PANE_EINVAL, "unterminated ${ in '%s' (write $$ for a literal $)", s);
			return NULL;
		}
		const char *name = p + 2;
		const char *dflt = NULL;
		size_t nlen = (size_t)(close - name);
		const char *sep = strstr(name, ":-");
		if (sep && sep < close) {
			nlen = (size_t)(sep - name);
			dflt = sep + 2;
		}
		bool ok = nlen > 0 && !isdigit((unsigned char)name[0]);
		for (size_t i = 0; i < nlen && ok; i++)
			ok = isalnum((unsigned char)name[i]) || name[i] == '_';
		if (!ok) {
			pane_buf_release(&b);
			pane_err_set(err, PANE_EINVAL, "bad variable name in '${%.*s}'", (int)(close - name), name);
			return NULL;
		}
		char var[256];
		if (nlen >= sizeof var) {
			pane_buf_release(&b);
			pane_err_set(err, PANE_EINVAL, "variable name too long");
			return NULL;
		}
		memcpy(var, name, nlen);
		var[nlen] = '\0';
		const char *val = getenv(var);
		if (val && *val) {
			pane_buf_adds(&b, val);
		} else if (dflt) {
			pane_buf_add(&b, dflt, (size_t)(close - dflt));
		} else if (val) {
			/* set but empty: allowed, means "" */
		} else {
			pane_buf_release(&b);
			pane_err_set(err, PANE_EINVAL,
			             "environment variable %s is not set (export it, or write ${%s:-default})", var,
			             var);
			return NULL;
		}
		refs++;
		p = close + 1;
	}
	if (whole_ref)
		*whole_ref = refs == 1 && !other;
	return pane_buf_detach(&b, NULL);
}

int pane_cfg_parse_bool(const char *s, bool *out)
{
	static const char *yes[] = {"true", "yes", "on", "1"};
	static const char *no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (pane_streq_nocase(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (pane_streq_nocase(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return PANE_EINVAL;
}

int pane_cfg_parse_size(const char *s, int64_t *out)
{
	static const struct {
		const char *u;
		double mul;
	} units[] = {
	    {"", 1},
	    {"b", 1},
	    {"k", 1e3},
	    {"kb", 1e3},
	    {"kib", 1024.0},
	    {"m", 1e6},
	    {"mb", 1e6},
	    {"mib", 1048576.0},
	    {"g", 1e9},
	    {"gb", 1e9},
	    {"gib", 1073741824.0},
	    {"t", 1e12},
	    {"tb", 1e12},
	    {"tib", 1099511627776.0},
	};
	const char *p = s;
	while (*p && (isdigit((unsigned char)*p) || *p == '.'))
		p++;
	if (p == s)
		return PANE_EINVAL;
	double num;
	if (pane_str_to_double(pane_str_make(s, (size_t)(p - s)), &num) < 0)
		return PANE_EINVAL;
	while (*p == ' ')
		p++;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (pane_streq_nocase(p, units[i].u)) {
			double v = num * units[i].mul;
			if (!isfinite(v) || v > 9.2e18)
				return PANE_EINVAL;
			*out = (int64_t)llround(v);
			return 0;
		}
	}
	return PANE_EINVAL;
}

static const char *type_name(enum pane_cfg_type t)
{
	switch (t) {
	case PANE_CFT_STRING: return "a string";
	case PANE_CFT_INT: return "a whole number";
	case PANE_CFT_DOUBLE: return "a number";
	case PANE_CFT_BOOL: return "true or false";
	case PANE_CFT_DURATION: return "a duration such as 30s, 5m or 7d";
	case PANE_CFT_SIZE: return "a size such as 512KiB, 10MB or 1GB";
	case PANE_CFT_STRLIST: return "a list of strings";
	case PANE_CFT_SECTION: return "a section";
	}
	return "a value";
}

static int bind_value(const struct pane_cfg *cfg, const struct pane_cfg_node *node, const struct pane_cfg_field *f,
                      const char *text, void *obj, struct pane_err *err)
{
	char *slot = (char *)obj + f->offset;
	int64_t i64 = 0;
	switch (f->type) {
	case PANE_CFT_STRING:
		free(*(char **)slot);
		*(char **)slot = pane_xstrdup(text);
		return 0;
	case PANE_CFT_BOOL:
		if (pane_cfg_parse_bool(text, (bool *)slot) < 0)
			goto bad;
		return 0;
	case PANE_CFT_DOUBLE: {
		double d;
		if (pane_str_to_double(pane_str_c(text), &d) < 0 || isnan(d))
			goto bad;
		*(double *)slot = d;
		return 0;
	}
	case PANE_CFT_INT:
		if (pane_str_to_i64(pane_str_c(text), &i64) < 0)
			goto bad;
		break;
	case PANE_CFT_DURATION: {
		/* a bare 0 needs no unit: the docs say "0 = off/keep" for several */
		struct pane_str t = pane_str_trim(pane_str_c(text));
		if (t.len == 1 && t.p[0] == '0')
			i64 = 0;
		else if (pane_duration_parse(t, 0, &i64) < 0)
			goto bad;
		break;
	}
	case PANE_CFT_SIZE:
		if (pane_cfg_parse_size(text, &i64) < 0)
			goto bad;
		break;
	case PANE_CFT_STRLIST: {
		struct pane_cfg_strlist *l = (struct pane_cfg_strlist *)slot;
		struct pane_str rest = pane_str_c(text), item;
		for (;;) {
			bool more = pane_str_cut(rest, ',', &item, &rest);
			item = pane_str_trim(item);
			if (item.len) {
				l->items = pane_xrealloc(l->items, pane_mul_size(l->n + 1, sizeof *l->items));
				l->items[l->n++] = pane_str_dup(item);
			}
			if (!more)
				break;
		}
		return 0;
	}
	case PANE_CFT_SECTION: return 0;
	}
	if (f->min < f->max && (i64 < f->min || i64 > f->max)) {
		char lo[32], hi[32];
		if (f->type == PANE_CFT_DURATION) {
			pane_duration_format(f->min, lo, sizeof lo);
			pane_duration_format(f->max, hi, sizeof hi);
		} else {
			snprintf(lo, sizeof lo, "%lld", (long long)f->min);
			snprintf(hi, sizeof hi, "%lld", (long long)f->max);
		}
		return pane_cfg_error(cfg, node, err, "'%s' is out of range (%s to %s)", text, lo, hi);
	}
	*(int64_t *)slot = i64;
	return 0;
bad:
	return pane_cfg_error(cfg, node, err, "'%s' is not %s", text, type_name(f->type));
}

int pane_cfg_bind(const struct pane_cfg *cfg, const struct pane_cfg_node *map, const struct pane_cfg_field *fields,
                  void *obj, struct pane_err *err)
{
	if (map && map->kind != PANE_CFG_MAP && map->kind != PANE_CFG_NULL)
		return pane_cfg_error(cfg, map, err, "expected a map of settings (key: value)");
	if (map && map->kind == PANE_CFG_MAP) {
		for (size_t i = 0; i < map->n_items; i++) {
			const struct pane_cfg_node *c = map->items[i];
			const struct pane_cfg_field *f = fields;
			while (f->key && strcmp(f->key, c->key) != 0)
				f++;
			if (!f->key) {
				struct pane_buf known;
				pane_buf_init(&known, 1024);
				for (f = fields; f->key; f++)
					pane_buf_addf(&known, "%s%s", f == fields ? "" : ", ", f->key);
				int rc = pane_cfg_error(cfg, c, err, "unknown key (known keys: %s)", known.data);
				pane_buf_release(&known);
				return rc;
			}
		}
	}
	for (const struct pane_cfg_field *f = fields; f->key; f++) {
		const struct pane_cfg_node *c = pane_cfg_get(map, f->key);
		if (c && c->kind == PANE_CFG_NULL)
			c = NULL;
		if (f->type == PANE_CFT_SECTION)
			continue;
		if (!c) {
			if (f->flags & PANE_CFG_REQUIRED) {
				const char *path = map && map->path ? map->path : "";
				return pane_err_set(err, PANE_EINVAL, "%s:%d: %s%s%s: required", cfg->file,
				                    map ? map->line : 0, path, *path ? "." : "", f->key);
			}
			if (f->def) {
				int rc = bind_value(cfg, map, f, f->def, obj, err);
				if (rc < 0)
					return rc;
			}
			continue;
		}
		if ((f->flags & PANE_CFG_SECRET) && !c->from_env && c->kind == PANE_CFG_SCALAR && *c->value)
			return pane_cfg_error(cfg, c, err,
			                      "secrets are read only from the environment; write it as ${SOME_VAR}");
		if (f->type == PANE_CFT_STRLIST && c->kind == PANE_CFG_SEQ) {
			for (size_t i = 0; i < c->n_items; i++) {
				const struct pane_cfg_node *it = c->items[i];
				if (it->kind != PANE_CFG_SCALAR)
					return pane_cfg_error(cfg, it, err, "expected a string");
				int rc = bind_value(cfg, it, f, it->value, obj, err);
				if (rc < 0)
					return rc;
			}
			continue;
		}
		if (c->kind != PANE_CFG_SCALAR)
			return pane_cfg_error(cfg, c, err, "expected %s", type_name(f->type));
		if ((f->flags & PANE_CFG_REQUIRED) && f->type == PANE_CFT_STRING && !*c->value)
			return pane_cfg_error(cfg, c, err, "required (it is empty%s)",
			                      c->from_env ? "; is the environment variable set?" : "");
		int rc = bind_value(cfg, c, f, c->value, obj, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void pane_cfg_unbind(const struct pane_cfg_field *fields, void *obj)
{
	for (const struct pane_cfg_field *f = fields; f->key; f++) {
		char *slot = (char *)obj + f->offset;
		if (f->type == PANE_CFT_STRING) {
			free(*(char **)slot);
			*(char **)slot = NULL;
		} else if (f->type == PANE_CFT_STRLIST) {
			struct pane_cfg_strlist *l = (struct pane_cfg_strlist *)slot;
			for (size_t i = 0; i < l->n; i++)
				free(l->items[i]);
			free(l->items);
			l->items = NULL;
			l->n = 0;
		}
	}
}
