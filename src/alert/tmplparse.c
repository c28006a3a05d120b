/*
 * tmplparse.c - Go's text/template syntax into a tree: the parser of
 * Prometheus' alert templates and Alertmanager's notification templates.
 *
 * Idea: one recursive-descent pass over the text that builds the tree
 * template.c walks (tmpl_internal.h: struct node, struct pipe), refusing
 * what Go's parser refuses with Go's words and line ("template: NAME:LINE:
 * ..."): an unknown function (Prometheus' or Alertmanager's function map,
 * by mode), an undefined variable, {{break}} outside {{range}}, a {{define}}
 * not at the top level. In Alertmanager mode {{define}}s go to the caller's
 * table of named templates (struct deftab) and {{template}} is allowed.
 * The tree keeps each node's byte offset and source form, so run-time
 * errors can quote it as Go does (tmpl_node_source).
 *
 * Invariants:
 *   (1) nesting is bounded (TMPL_MAX_DEPTH): hostile templates cannot blow
 *       the stack;
 *   (2) a failed parse frees everything it built and returns NULL with err
 *       set (the first error only);
 *   (3) a later {{define}} of a name replaces the earlier one (Go's
 *       AddParseTree).
 * Threads: no shared state.
 */
#include "alert/tmpl_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void tmpl_deftab_put(struct deftab *t, char *name, struct node *body)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->names[i], name)) { /* a later definition replaces (Go's AddParseTree) */
			free(name);
			tmpl_node_free(t->bodies[i]);
			t->bodies[i] = body;
			return;
		}
	t->names = pane_xrealloc(t->names, pane_mul_size(t->n + 1, sizeof *t->names));
	t->bodies = pane_xrealloc(t->bodies, pane_mul_size(t->n + 1, sizeof *t->bodies));
	t->names[t->n] = name;
	t->bodies[t->n++] = body;
}

const struct node *tmpl_deftab_get(const struct deftab *t, const char *name)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (!strcmp(t->names[i], name))
			return t->bodies[i];
	return NULL;
}

void tmpl_deftab_release(struct deftab *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->names[i]);
		tmpl_node_free(t->bodies[i]);
	}
	free(t->names);
	free(t->bodies);
	memset(t, 0, sizeof *t);
}

struct parser {
	bool am;             /* Alertmanager's notification templates: its functions, define/template */
	struct deftab *defs; /* where {{define}} puts what it defines (am) */
	bool in_define;
	const char *name;
	const char *src;
	size_t len;
	size_t p;
	char **vars;
	size_t n_vars, cap_vars;
	int range_depth;
	int depth;
	struct pane_err *err;
	bool failed;
	bool trim_next; /* the previous action ended with -}} */
};

static void pipe_free(struct pipe *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_decl; i++)
		free(p->decl[i]);
	free(p->decl);
	for (size_t i = 0; i < p->n_cmds; i++)
		tmpl_node_free(p->cmds[i]);
	free(p->cmds);
	free(p);
}

void tmpl_node_free(struct node *n)
{
	if (!n)
		return;
	free(n->text);
	for (size_t i = 0; i < n->n_fields; i++)
		free(n->fields[i]);
	free(n->fields);
	pipe_free(n->pipe);
	for (size_t i = 0; i < n->n_items; i++)
		tmpl_node_free(n->items[i]);
	free(n->items);
	tmpl_node_free(n->list);
	tmpl_node_free(n->elselist);
	tmpl_node_free(n->operand);
	free(n);
}

static struct node *nnew(enum nk k, int pos)
{
	struct node *n = pane_xcalloc(1, sizeof *n);
	n->k = k;
	n->pos = pos;
	return n;
}

static void add_item(struct node *list, struct node *c)
{
	list->items = pane_xrealloc(list->items, pane_mul_size(list->n_items + 1, sizeof *list->items));
	list->items[list->n_items++] = c;
}

int tmpl_line_of(const char *src, size_t pos)
{
	int line = 1;
	for (size_t i = 0; i < pos && src[i]; i++)
		line += src[i] == '\n';
	return line;
}

static void perr(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void perr(struct parser *ps, const char *fmt, ...)
{
	if (ps->failed)
		return;
	ps->failed = true;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	pane_err_set(ps->err, PANE_EINVAL, "template: %s:%d: %s", ps->name, tmpl_line_of(ps->src, ps->p), msg);
}

/* function names known at parse time (Go: "function %q not defined") */
static const char *const funcs[] = {
    "and",
    "or",
    "not",
    "len",
    "index",
    "slice",
    "print",
    "printf",
    "println",
    "html",
    "js",
    "urlquery",
    "call",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "args",
    "reReplaceAll",
    "safeHtml",
    "match",
    "title",
    "toUpper",
    "toLower",
    "graphLink",
    "tableLink",
    "sortByLabel",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "toTime",
    "pathPrefix",
    "externalURL",
    "stripPort",
    "parseDuration",
    NULL,
};

/* Alertmanager 0.25's function map (template.DefaultFuncs) besides Go's builtins */
static const char *const am_funcs[] = {
    "and",     "or",       "not",  "len",   "index",    "slice",        "print",       "printf", "println", "html",
    "js",      "urlquery", "call", "eq",    "ne",       "lt",           "le",          "gt",     "ge",      "toUpper",
    "toLower", "title",    "join", "match", "safeHtml", "reReplaceAll", "stringSlice", NULL,
};

static bool func_known(const struct parser *ps, const char *s)
{
	const char *const *f = ps->am ? am_funcs : funcs;
	for (size_t i = 0; f[i]; i++)
		if (strcmp(f[i], s) == 0)
			return true;
	return false;
}

static bool var_known(struct parser *ps, const char *v)
{
	if (strcmp(v, "$") == 0)
		return true;
	for (size_t i = ps->n_vars; i-- > 0;)
		if (strcmp(ps->vars[i], v) == 0)
			return true;
	return false;
}

static void var_push(struct parser *ps, const char *v)
{
	if (ps->n_vars == ps->cap_vars) {
		ps->cap_vars = ps->cap_vars ? ps->cap_vars * 2 : 16;
		ps->vars = pane_xrealloc(ps->vars, pane_mul_size(ps->cap_vars, sizeof *ps->vars));
	}
	ps->vars[ps->n_vars++] = pane_xstrdup(v);
}

static void vars_pop(struct parser *ps, size_t to)
{
	while (ps->n_vars > to)
		free(ps->vars[--ps->n_vars]);
}

static void skip_space(struct parser *ps)
{
	while (ps->p < ps->len &&
	       (ps->src[ps->p] == ' ' || ps->src[ps->p] == '\t' || ps->src[ps->p] == '\n' || ps->src[ps->p] == '\r'))
		ps->p++;
}

/* at "}}" or " -}}" (after skip_space) */
static bool at_close(struct parser *ps)
{
	const char *s = ps->src + ps->p;
	size_t left = ps->len - ps->p;
	if (left >= 2 && s[0] == '}' && s[1] == '}')
		return true;
	return left >= 3 && s[0] == '-' && s[1] == '}' && s[2] == '}';
}

static void eat_close(struct parser *ps)
{
	skip_space(ps);
	if (!at_close(ps)) {
		if (ps->p >= ps->len)
			perr(ps, "unclosed action");
		else
			perr(ps, "unexpected \"%c\" in command", ps->src[ps->p]);
		return;
	}
	if (ps->src[ps->p] == '-') {
		ps->p += 3;
		ps->trim_next = true;
	} else {
		ps->p += 2;
	}
}

static bool is_ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool is_ident(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static char *read_word(struct parser *ps)
{
	size_t s = ps->p;
	while (ps->p < ps->len && is_ident(ps->src[ps->p]))
		ps->p++;
	return pane_xstrndup(ps->src + s, ps->p - s);
}

static bool peek_word(struct parser *ps, const char *w)
{
	size_t n = strlen(w);
	return ps->len - ps->p >= n && memcmp(ps->src + ps->p, w, n) == 0 &&
	       (ps->p + n >= ps->len || !is_ident(ps->src[ps->p + n]));
}

static void read_fields(struct parser *ps, struct node *n)
{
	size_t first = n->n_fields;
	while (ps->p < ps->len && ps->src[ps->p] == '.' && ps->p + 1 < ps->len && is_ident_start(ps->src[ps->p + 1])) {
		ps->p++;
		/* Go positions a field chain at its first field after the term */
		if (n->n_fields == first + (n->k == N_FIELD ? 1 : 0))
			n->pos = (int)ps->p - 1;
		n->fields = pane_xrealloc(n->fields, pane_mul_size(n->n_fields + 1, sizeof *n->fields));
		n->fields[n->n_fields++] = read_word(ps);
	}
}

static struct pipe *parse_pipe(struct parser *ps, bool decl_ok, bool range);

static int unquote(struct parser *ps, struct pane_buf *b)
{
	char q = ps->src[ps->p++];
	while (ps->p < ps->len && ps->src[ps->p] != q) {
		char c = ps->src[ps->p++];
		if (q == '`') {
			pane_buf_addc(b, c);
			continue;
		}
		if (c == '\n') {
			perr(ps, "unterminated quoted string");
			return -1;
		}
		if (c != '\\') {
			pane_buf_addc(b, c);
			continue;
		}
		if (ps->p >= ps->len)
			break;
		c = ps->src[ps->p++];
		switch (c) {
		case 'n': pane_buf_addc(b, '\n'); break;
		case 't': pane_buf_addc(b, '\t'); break;
		case 'r': pane_buf_addc(b, '\r'); break;
		case 'a': pane_buf_addc(b, '\a'); break;
		case 'b': pane_buf_addc(b, '\b'); break;
		case 'f': pane_buf_addc(b, '\f'); break;
		case 'v': pane_buf_addc(b, '\v'); break;
		case '\\':
		case '"':
		case '\'': pane_buf_addc(b, c); break;
		case 'x': {
			if (ps->p + 2 > ps->len || !isxdigit((unsigned char)ps->src[ps->p]) ||
			    !isxdigit((unsigned char)ps->src[ps->p + 1])) {
				perr(ps, "invalid syntax");
				return -1;
			}
			char h[3] = {ps->src[ps->p], ps->src[ps->p + 1], 0};
			pane_buf_addc(b, (char)strtol(h, NULL, 16));
			ps->p += 2;
			break;
		}
		default: perr(ps, "invalid syntax"); return -1;
		}
	}
	if (ps->p >= ps->len) {
		perr(ps, q == '`' ? "unterminated raw quoted string" : "unterminated quoted string");
		return -1;
	}
	ps->p++;
	return 0;
}

/* One operand (term plus .field chain), or NULL at the end of a command. */
static struct node *parse_operand(struct parser *ps)
{
	skip_space(ps);
	if (ps->p >= ps->len || at_close(ps))
		return NULL;
	int pos = (int)ps->p;
	char c = ps->src[ps->p];
	struct node *n = NULL;
	if (c == '.' && (ps->p + 1 >= ps->len || !is_ident_start(ps->src[ps->p + 1]))) {
		ps->p++;
		n = nnew(N_DOT, pos);
	} else if (c == '.') {
		n = nnew(N_FIELD, pos);
		read_fields(ps, n);
		return n;
	} else if (c == '$') {
		ps->p++;
		char *w = read_word(ps);
		n = nnew(N_VAR, pos);
		n->text = pane_xmalloc(strlen(w) + 2);
		n->text[0] = '$';
		memcpy(n->text + 1, w, strlen(w) + 1);
		free(w);
		if (!var_known(ps, n->text)) {
			perr(ps, "undefined variable \"%s\"", n->text);
			tmpl_node_free(n);
			return NULL;
		}
		read_fields(ps, n);
		return n;
	} else if (c == '"' || c == '`') {
		struct pane_buf b;
		pane_buf_init(&b, PANE_BUF_NOLIMIT);
		if (unquote(ps, &b) < 0) {
			pane_buf_release(&b);
			return NULL;
		}
		n = nnew(N_STRING, pos);
		n->len = b.len;
		n->text = pane_xstrndup(b.len ? b.data : "", b.len);
		pane_buf_release(&b);
	} else if (c == '\'') {
		ps->p++;
		if (ps->p + 1 >= ps->len || ps->src[ps->p + 1] != '\'') {
			perr(ps, "malformed character constant");
			return NULL;
		}
		n = nnew(N_NUMBER, pos);
		n->isint = true;
		n->i = (unsigned char)ps->src[ps->p];
		n->f = (double)n->i;
		ps->p += 2;
		n->text = pane_xstrndup(ps->src + pos, ps->p - (size_t)pos);
	} else if (isdigit((unsigned char)c) ||
	           ((c == '-' || c == '+') && ps->p + 1 < ps->len &&
	            (isdigit((unsigned char)ps->src[ps->p + 1]) || ps->src[ps->p + 1] == '.'))) {
		size_t s = ps->p;
		ps->p++;
		while (ps->p < ps->len &&
		       (isalnum((unsigned char)ps->src[ps->p]) || ps->src[ps->p] == '.' || ps->src[ps->p] == '_' ||
		        ((ps->src[ps->p] == '-' || ps->src[ps->p] == '+') &&
		         (ps->src[ps->p - 1] == 'e' || ps->src[ps->p - 1] == 'E'))))
			ps->p++;
		n = nnew(N_NUMBER, pos);
		n->text = pane_xstrndup(ps->src + s, ps->p - s);
		char *end;
		bool hex = strstr(n->text, "0x") || strstr(n->text, "0X");
		if (!hex && !strpbrk(n->text, ".eE")) {
			n->isint = true;
			n->i = strtoll(n->text, &end, 10);
			n->f = (double)n->i;
		} else if (hex) {
			n->isint = true;
			n->i = strtoll(n->text, &end, 16);
			n->f = (double)n->i;
		} else {
			n->f = strtod(n->text, &end);
		}
		if (*end) {
			perr(ps, "bad number syntax: \"%s\"", n->text);
			tmpl_node_free(n);
			return NULL;
		}
	} else if (c == '(') {
		ps->p++;
		if (++ps->depth > TMPL_MAX_DEPTH) {
			perr(ps, "nested too deeply");
			return NULL;
		}
		struct pipe *pp = parse_pipe(ps, false, false);
		ps->depth--;
		if (!pp)
			return NULL;
		skip_space(ps);
		if (ps->p >= ps->len || ps->src[ps->p] != ')') {
			pipe_free(pp);
			perr(ps, "unclosed left paren");
			return NULL;
		}
		ps->p++;
		n = nnew(N_PIPE, pos);
		n->pipe = pp;
	} else if (is_ident_start(c)) {
		char *w = read_word(ps);
		if (strcmp(w, "true") == 0 || strcmp(w, "false") == 0) {
			n = nnew(N_BOOL, pos);
			n->b = w[0] == 't';
			free(w);
		} else if (strcmp(w, "nil") == 0) {
			n = nnew(N_NIL, pos);
			free(w);
		} else {
			if (!func_known(ps, w)) {
				perr(ps, "function \"%s\" not defined", w);
				free(w);
				return NULL;
			}
			n = nnew(N_IDENT, pos);
			n->text = w;
		}
	} else {
		perr(ps, "unexpected \"%c\" in command", c);
		return NULL;
	}
	/* a field chain after a term: (x).a, $.a handled above */
	if (ps->p < ps->len && ps->src[ps->p] == '.' && ps->p + 1 < ps->len && is_ident_start(ps->src[ps->p + 1])) {
		if (n->k == N_BOOL || n->k == N_NIL || n->k == N_STRING || n->k == N_NUMBER) {
			perr(ps, "unexpected . after term");
			tmpl_node_free(n);
			return NULL;
		}
		struct node *ch = nnew(N_CHAIN, pos);
		ch->operand = n;
		read_fields(ps, ch);
		n = ch;
	}
	return n;
}

/* A pipeline up to "}}" or ")" (not consumed). */
static struct pipe *parse_pipe(struct parser *ps, bool decl_ok, bool range)
{
	struct pipe *pp = pane_xcalloc(1, sizeof *pp);
	skip_space(ps);
	/* declarations: $x := / $x = / $i, $e := */
	if (decl_ok && ps->p < ps->len && ps->src[ps->p] == '$') {
		size_t save = ps->p;
		char *names[2] = {0};
		size_t nn = 0;
		for (;;) {
			if (ps->src[ps->p] != '$')
				break;
			ps->p++;
			char *w = read_word(ps);
			names[nn] = pane_xmalloc(strlen(w) + 2);
			names[nn][0] = '$';
			memcpy(names[nn] + 1, w, strlen(w) + 1);
			free(w);
			nn++;
			skip_space(ps);
			if (range && nn == 1 && ps->p < ps->len && ps->src[ps->p] == ',') {
				ps->p++;
				skip_space(ps);
				continue;
			}
			break;
		}
		bool is_decl = ps->len - ps->p >= 2 && ps->src[ps->p] == ':' && ps->src[ps->p + 1] == '=';
		bool is_assign = !is_decl && ps->p < ps->len && ps->src[ps->p] == '=' &&
		                 (ps->p + 1 >= ps->len || ps->src[ps->p + 1] != '=');
		if (is_decl || is_assign) {
			ps->p += is_decl ? 2 : 1;
			pp->assign = is_assign;
			pp->decl = pane_xcalloc(2, sizeof *pp->decl);
			for (size_t i = 0; i < nn; i++) {
				pp->decl[i] = names[i];
				if (is_assign && !var_known(ps, names[i]))
					perr(ps, "undefined variable \"%s\"", names[i]);
			}
			pp->n_decl = nn;
		} else {
			for (size_t i = 0; i < nn; i++)
				free(names[i]);
			ps->p = save;
		}
	}
	for (;;) {
		struct node *cmd = nnew(N_LIST, (int)ps->p);
		for (;;) {
			skip_space(ps);
			if (ps->p >= ps->len || at_close(ps) || ps->src[ps->p] == ')' || ps->src[ps->p] == '|')
				break;
			size_t at = ps->p;
			struct node *o = parse_operand(ps);
			if (!o)
				break;
			o->start = (int)at;
			if (cmd->n_items == 0)
				cmd->pos = (int)at;
			add_item(cmd, o);
		}
		if (ps->failed) {
			tmpl_node_free(cmd);
			pipe_free(pp);
			return NULL;
		}
		if (cmd->n_items == 0) {
			tmpl_node_free(cmd);
			perr(ps, pp->n_cmds ? "missing command" : "missing value for command");
			pipe_free(pp);
			return NULL;
		}
		pp->cmds = pane_xrealloc(pp->cmds, pane_mul_size(pp->n_cmds + 1, sizeof *pp->cmds));
		pp->cmds[pp->n_cmds++] = cmd;
		skip_space(ps);
		if (ps->p < ps->len && ps->src[ps->p] == '|') {
			ps->p++;
			continue;
		}
		break;
	}
	if (!pp->assign)
		for (size_t i = 0; i < pp->n_decl; i++)
			var_push(ps, pp->decl[i]);
	return pp;
}

enum stop { STOP_EOF, STOP_END, STOP_ELSE };

static struct node *parse_list(struct parser *ps, enum stop *stop, bool *else_if);

/* Text up to the next "{{", honouring trim markers. */
static void parse_text(struct parser *ps, struct node *list)
{
	size_t s = ps->p;
	const char *o = NULL;
	for (size_t i = ps->p; i + 1 < ps->len; i++)
		if (ps->src[i] == '{' && ps->src[i + 1] == '{') {
			o = ps->src + i;
			break;
		}
	size_t e = o ? (size_t)(o - ps->src) : ps->len;
	size_t ts = s, te = e;
	if (ps->trim_next) {
		while (ts < te && isspace((unsigned char)ps->src[ts]))
			ts++;
		ps->trim_next = false;
	}
	/* "{{- " trims the text before it */
	if (o && e + 3 < ps->len + 1 && ps->src[e + 2] == '-' && e + 3 < ps->len &&
	    isspace((unsigned char)ps->src[e + 3]))
		while (te > ts && isspace((unsigned char)ps->src[te - 1]))
			te--;
	if (te > ts) {
		struct node *t = nnew(N_TEXT, (int)ts);
		t->text = pane_xstrndup(ps->src + ts, te - ts);
		t->len = te - ts;
		add_item(list, t);
	}
	ps->p = e;
}

/* The quoted name after {{define or {{template (Alertmanager's templates),
 * malloc'd; NULL after an error. */
static char *clause_name(struct parser *ps, const char *clause)
{
	skip_space(ps);
	if (ps->p >= ps->len || (ps->src[ps->p] != '"' && ps->src[ps->p] != '`')) {
		perr(ps, "unexpected token in %s clause", clause);
		return NULL;
	}
	struct pane_buf nm;
	pane_buf_init(&nm, 4096);
	char *name = unquote(ps, &nm) < 0 ? NULL : pane_xstrdup(nm.data ? nm.data : "");
	pane_buf_release(&nm);
	return name;
}

/* After "{{" (and an optional "- "): the action's keyword or pipeline. */
static struct node *parse_action(struct parser *ps, enum stop *stop, bool *else_if)
{
	int pos = (int)ps->p;
	skip_space(ps);
	if (ps->len - ps->p >= 2 && ps->src[ps->p] == '/' && ps->src[ps->p + 1] == '*') {
		const char *e = NULL;
		for (size_t i = ps->p + 2; i + 1 < ps->len; i++)
			if (ps->src[i] == '*' && ps->src[i + 1] == '/') {
				e = ps->src + i;
				break;
			}
		if (!e) {
			perr(ps, "unclosed comment");
			return NULL;
		}
		ps->p = (size_t)(e - ps->src) + 2;
		eat_close(ps);
		return nnew(N_LIST, pos); /* empty */
	}
	if (peek_word(ps, "end")) {
		ps->p += 3;
		eat_close(ps);
		*stop = STOP_END;
		return NULL;
	}
	if (peek_word(ps, "else")) {
		ps->p += 4;
		skip_space(ps);
		*stop = STOP_ELSE;
		if (peek_word(ps, "if") || peek_word(ps, "with")) {
			*else_if = true; /* the caller parses the "if ..." that follows */
			return NULL;
		}
		eat_close(ps);
		return NULL;
	}
	if (peek_word(ps, "break") || peek_word(ps, "continue")) {
		bool br = ps->src[ps->p] == 'b';
		if (!ps->range_depth) {
			perr(ps, "{{%s}} outside {{range}}", br ? "break" : "continue");
			return NULL;
		}
		ps->p += br ? 5 : 8;
		eat_close(ps);
		return nnew(br ? N_BREAK : N_CONTINUE, pos);
	}
	enum nk k = N_ACTION;
	if (peek_word(ps, "if")) {
		k = N_IF;
		ps->p += 2;
	} else if (peek_word(ps, "range")) {
		k = N_RANGE;
		ps->p += 5;
	} else if (peek_word(ps, "with")) {
		k = N_WITH;
		ps->p += 4;
	} else if (ps->am && peek_word(ps, "define")) {
		if (ps->depth || ps->in_define) {
			perr(ps, "unexpected <define> in command");
			return NULL;
		}
		ps->p += 6;
		char *name = clause_name(ps, "define");
		if (!name)
			return NULL;
		eat_close(ps);
		enum stop st = STOP_EOF;
		bool eif = false;
		size_t vars = ps->n_vars;
		ps->in_define = true;
		struct node *body = parse_list(ps, &st, &eif);
		ps->in_define = false;
		vars_pop(ps, vars);
		if (!ps->failed && st != STOP_END)
			perr(ps, "unexpected %s in define clause", st == STOP_ELSE ? "{{else}}" : "EOF");
		if (ps->failed) {
			free(name);
			tmpl_node_free(body);
			return NULL;
		}
		tmpl_deftab_put(ps->defs, name, body);
		return nnew(N_LIST, pos); /* empty where it stood */
	} else if (ps->am && peek_word(ps, "template")) {
		ps->p += 8;
		char *name = clause_name(ps, "template");
		if (!name)
			return NULL;
		struct node *n = nnew(N_TEMPLATE, pos);
		n->text = name;
		skip_space(ps);
		if (!at_close(ps)) {
			n->pipe = parse_pipe(ps, false, false);
			if (!n->pipe) {
				tmpl_node_free(n);
				return NULL;
			}
		}
		eat_close(ps);
		return n;
	} else if (peek_word(ps, "define") || peek_word(ps, "template") || peek_word(ps, "block")) {
		perr(ps, "define, template and block are not supported in alert templates");
		return NULL;
	}
	size_t vars = ps->n_vars;
	struct pipe *pp = parse_pipe(ps, true, k == N_RANGE);
	if (!pp)
		return NULL;
	eat_close(ps);
	struct node *n = nnew(k, pos);
	n->pipe = pp;
	if (ps->failed)
		return n;
	if (k == N_ACTION)
		return n;
	if (++ps->depth > TMPL_MAX_DEPTH) {
		perr(ps, "nested too deeply");
		return n;
	}
	if (k == N_RANGE)
		ps->range_depth++;
	enum stop st = STOP_EOF;
	bool eif = false;
	n->list = parse_list(ps, &st, &eif);
	if (k == N_RANGE)
		ps->range_depth--;
	if (!ps->failed && st == STOP_ELSE) {
		if (eif) {
			/* else if / else with: a nested node that shares our {{end}} */
			n->elselist = nnew(N_LIST, (int)ps->p);
			enum stop st2 = STOP_EOF;
			bool eif2 = false;
			struct node *inner = parse_action(ps, &st2, &eif2);
			if (inner)
				add_item(n->elselist, inner);
			st = STOP_END;
		} else {
			n->elselist = parse_list(ps, &st, &eif);
			if (!ps->failed && st != STOP_END)
				perr(ps, "expected end; found %s", st == STOP_ELSE ? "{{else}}" : "EOF");
		}
	} else if (!ps->failed && st != STOP_END) {
		perr(ps, "unexpected EOF");
	}
	ps->depth--;
	vars_pop(ps, vars);
	return n;
}

static struct node *parse_list(struct parser *ps, enum stop *stop, bool *else_if)
{
	struct node *list = nnew(N_LIST, (int)ps->p);
	*stop = STOP_EOF;
	while (!ps->failed && ps->p < ps->len) {
		parse_text(ps, list);
		if (ps->p >= ps->len)
			break;
		ps->p += 2; /* {{ */
		if (ps->p + 1 < ps->len && ps->src[ps->p] == '-' && isspace((unsigned char)ps->src[ps->p + 1]))
			ps->p++;
		enum stop st = STOP_EOF;
		struct node *a = parse_action(ps, &st, else_if);
		if (a)
			add_item(list, a);
		if (st != STOP_EOF) {
			*stop = st;
			return list;
		}
	}
	return list;
}

/* defs != NULL: Alertmanager mode, {{define}}s go there */
struct node *tmpl_parse_am(const char *name, const char *src, size_t len, struct deftab *defs, struct pane_err *err)
{
	struct parser ps = {.name = name, .src = src, .len = len, .err = err, .am = defs != NULL, .defs = defs};
	enum stop st;
	bool eif = false;
	struct node *root = parse_list(&ps, &st, &eif);
	if (!ps.failed && st == STOP_END)
		perr(&ps, "unexpected {{end}}");
	if (!ps.failed && st == STOP_ELSE)
		perr(&ps, "unexpected {{else}}");
	vars_pop(&ps, 0);
	free(ps.vars);
	if (ps.failed) {
		tmpl_node_free(root);
		return NULL;
	}
	return root;
}

struct node *tmpl_parse(const char *name, const char *src, size_t len, struct pane_err *err)
{
	return tmpl_parse_am(name, src, len, NULL, err);
}

static void pipe_source(const struct pipe *p, struct pane_buf *b)
{
	for (size_t i = 0; i < p->n_decl; i++)
		pane_buf_addf(b, "%s%s", i ? ", " : "", p->decl[i]);
	if (p->n_decl)
		pane_buf_adds(b, p->assign ? " = " : " := ");
	for (size_t i = 0; i < p->n_cmds; i++) {
		if (i)
			pane_buf_adds(b, " | ");
		tmpl_node_source(p->cmds[i], b);
	}
}

void tmpl_node_source(const struct node *n, struct pane_buf *b)
{
	switch (n->k) {
	case N_LIST:
		for (size_t i = 0; i < n->n_items; i++) {
			if (i)
				pane_buf_addc(b, ' ');
			tmpl_node_source(n->items[i], b);
		}
		break;
	case N_FIELD:
		for (size_t i = 0; i < n->n_fields; i++)
			pane_buf_addf(b, ".%s", n->fields[i]);
		break;
	case N_VAR:
		pane_buf_adds(b, n->text);
		for (size_t i = 0; i < n->n_fields; i++)
			pane_buf_addf(b, ".%s", n->fields[i]);
		break;
	case N_DOT: pane_buf_addc(b, '.'); break;
	case N_IDENT:
	case N_NUMBER: pane_buf_adds(b, n->text); break;
	case N_STRING: {
		pane_buf_addc(b, '"');
		for (size_t i = 0; i < n->len; i++) {
			char c = n->text[i];
			if (c == '"' || c == '\\')
				pane_buf_addc(b, '\\');
			if (c == '\n')
				pane_buf_adds(b, "\\n");
			else
				pane_buf_addc(b, c);
		}
		pane_buf_addc(b, '"');
		break;
	}
	case N_BOOL: pane_buf_adds(b, n->b ? "true" : "false"); break;
	case N_NIL: pane_buf_adds(b, "nil"); break;
	case N_PIPE:
		pane_buf_addc(b, '(');
		pipe_source(n->pipe, b);
		pane_buf_addc(b, ')');
		break;
	case N_CHAIN:
		tmpl_node_source(n->operand, b);
		for (size_t i = 0; i < n->n_fields; i++)
			pane_buf_addf(b, ".%s", n->fields[i]);
		break;
	default: break;
	}
}
