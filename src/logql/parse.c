/*
 * parse.c - LogQL text to a syntax tree (ast.h): a lexer and a recursive
 * descent parser.
 *
 * Idea: one token of lookahead over a bounded input; every node lives in
 * the expression's arena, so a failed parse frees everything in one call.
 * Each error names where it happened the way Loki does ("parse error at
 * line 1, col 12: syntax error: unexpected IDENTIFIER, expecting STRING"),
 * so a message copied from Grafana points at the same character.
 *
 * Invariants:
 *   (1) The input is at most PANE_LOGQL_MAX_QUERY bytes and the recursion
 *       at most PANE_LOGQL_MAX_DEPTH deep (nesting in metric expressions,
 *       label filter parentheses and binary chains all count).
 *   (2) Regexes compile through base/regex.h with its limits: label
 *       matchers and label filters anchored, line filters (|~ !~)
 *       unanchored, as in Loki.
 *   (3) A stream selector needs one matcher that cannot match the empty
 *       value ({a=""} alone would select every stream), as in Loki.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gostr.h"
#include "base/mem.h"
#include "logql/ast.h"

enum tok {
	T_EOF,
	T_IDENT,
	T_STRING,
	T_NUMBER,
	T_DURATION,
	T_LBRACE,
	T_RBRACE,
	T_LPAREN,
	T_RPAREN,
	T_LBRACK,
	T_RBRACK,
	T_COMMA,
	T_EQ,
	T_NEQ,
	T_RE,
	T_NRE,
	T_PIPE_EXACT,
	T_PIPE_MATCH,
	T_PIPE,
	T_EQEQ,
	T_GT,
	T_GE,
	T_LT,
	T_LE,
	T_ADD,
	T_SUB,
	T_MUL,
	T_DIV,
	T_MOD,
	T_BAD,
};

static const char *const tok_names[] = {
    "end of input",
    "IDENTIFIER",
    "STRING",
    "NUMBER",
    "DURATION",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    "=",
    "!=",
    "=~",
    "!~",
    "|=",
    "|~",
    "|",
    "==",
    ">",
    ">=",
    "<",
    "<=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "invalid character",
};

struct token {
	enum tok kind;
	const char *p;
	size_t len;
	int line, col;
	char *str; /* T_STRING: decoded (arena) */
	size_t str_len;
};

struct parser {
	const char *s;
	size_t len, pos;
	int line, col;
	struct token t;
	struct lq_mem *mem;
	struct pane_err *err;
	int depth;
	bool failed;
};

void *lq_alloc(struct lq_mem *m, size_t size)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 32;
		m->v = pane_xrealloc(m->v, pane_mul_size(m->cap, sizeof *m->v));
	}
	void *p = pane_xcalloc(1, size ? size : 1);
	m->v[m->n++] = p;
	return p;
}

static void mem_add_re(struct lq_mem *m, pcre2_code *re)
{
	if (m->n_re == m->cap_re) {
		m->cap_re = m->cap_re ? m->cap_re * 2 : 8;
		m->re = pane_xrealloc(m->re, pane_mul_size(m->cap_re, sizeof *m->re));
	}
	m->re[m->n_re++] = re;
}

static char *mem_strndup(struct lq_mem *m, const char *s, size_t n)
{
	char *d = lq_alloc(m, n + 1);
	memcpy(d, s, n);
	return d;
}

__attribute__((format(printf, 4, 5))) static void fail_at(struct parser *p, int line, int col, const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = true;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	pane_err_set(p->err, PANE_EINVAL, "parse error at line %d, col %d: %s", line, col, msg);
}

/* "syntax error: unexpected X, expecting Y" at the current token. */
static void unexpected(struct parser *p, const char *expecting)
{
	char what[80];
	if (p->t.kind == T_IDENT)
		snprintf(what, sizeof what, "IDENTIFIER %.*s", (int)(p->t.len > 40 ? 40 : p->t.len), p->t.p);
	else
		snprintf(what, sizeof what, "%s", tok_names[p->t.kind]);
	fail_at(p, p->t.line, p->t.col, "syntax error: unexpected %s, expecting %s", what, expecting);
}

/* ---------- lexer ---------- */

static char peekc(const struct parser *p, size_t k)
{
	return p->pos + k < p->len ? p->s[p->pos + k] : '\0';
}

static void advance(struct parser *p, size_t n)
{
	for (size_t i = 0; i < n && p->pos < p->len; i++, p->pos++) {
		if (p->s[p->pos] == '\n') {
			p->line++;
			p->col = 1;
		} else {
			p->col++;
		}
	}
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A string token at p->pos (a quote): Go's literal (base/gostr.h), as Loki
 * reads it (text/scanner, then Unquote), with Loki's messages: the token's
 * position when the literal never ends, the backslash's for a bad escape. */
static void lex_string(struct parser *p)
{
	struct pane_buf b;
	pane_buf_init(&b, PANE_LOGQL_MAX_QUERY);
	struct pane_gostr_error e;
	size_t n = pane_go_unquote(p->s + p->pos, p->len - p->pos, &b, &e);
	if (n > 0) {
		advance(p, n);
	} else if (e.status == PANE_GOSTR_UNTERMINATED && e.at == 0) {
		advance(p, p->len - p->pos);
		fail_at(p, p->t.line, p->t.col, "literal not terminated");
	} else {
		/* a bad escape, or a lone backslash at the very end */
		advance(p, e.status == PANE_GOSTR_UNTERMINATED ? e.at : e.escape);
		fail_at(p, p->line, p->col, "syntax error: invalid char escape");
	}
	p->t.str = mem_strndup(p->mem, b.data ? b.data : "", b.len);
	p->t.str_len = b.len;
	pane_buf_release(&b);
}

static void next(struct parser *p)
{
	while (p->pos < p->len &&
	       (peekc(p, 0) == ' ' || peekc(p, 0) == '\t' || peekc(p, 0) == '\n' || peekc(p, 0) == '\r'))
		advance(p, 1);
	/* # comments to the end of the line, as in Loki */
	if (peekc(p, 0) == '#') {
		while (p->pos < p->len && peekc(p, 0) != '\n')
			advance(p, 1);
		next(p);
		return;
	}
	struct token *t = &p->t;
	*t = (struct token){.kind = T_EOF, .p = p->s + p->pos, .line = p->line, .col = p->col};
	if (p->pos >= p->len)
		return;
	char c = peekc(p, 0), d = peekc(p, 1);
	size_t start = p->pos;
	if (is_ident_start(c)) {
		while (is_ident_start(peekc(p, 0)) || is_digit(peekc(p, 0)))
			advance(p, 1);
		t->kind = T_IDENT;
	} else if (is_digit(c) || (c == '.' && is_digit(d))) {
		while (is_digit(peekc(p, 0)) || peekc(p, 0) == '.')
			advance(p, 1);
		if ((peekc(p, 0) == 'e' || peekc(p, 0) == 'E') &&
		    (is_digit(peekc(p, 1)) || ((peekc(p, 1) == '-' || peekc(p, 1) == '+') && is_digit(peekc(p, 2))))) {
			advance(p, 2);
			while (is_digit(peekc(p, 0)))
				advance(p, 1);
		}
		t->kind = T_NUMBER;
		if (is_ident_start(peekc(p, 0)) || (unsigned char)peekc(p, 0) == 0xc2) {
			while (is_ident_start(peekc(p, 0)) || is_digit(peekc(p, 0)) || peekc(p, 0) == '.' ||
			       (unsigned char)peekc(p, 0) >= 0x80)
				advance(p, 1);
			t->kind = T_DURATION;
		}
	} else if (c == '"' || c == '`' || c == '\'') {
		t->kind = T_STRING;
		lex_string(p);
	} else {
		struct {
			const char *s;
			enum tok k;
		} ops[] = {{"|=", T_PIPE_EXACT}, {"|~", T_PIPE_MATCH}, {"!=", T_NEQ},   {"!~", T_NRE},
		           {"=~", T_RE},         {"==", T_EQEQ},       {">=", T_GE},    {"<=", T_LE},
		           {"{", T_LBRACE},      {"}", T_RBRACE},      {"(", T_LPAREN}, {")", T_RPAREN},
		           {"[", T_LBRACK},      {"]", T_RBRACK},      {",", T_COMMA},  {"=", T_EQ},
		           {"|", T_PIPE},        {">", T_GT},          {"<", T_LT},     {"+", T_ADD},
		           {"-", T_SUB},         {"*", T_MUL},         {"/", T_DIV},    {"%", T_MOD}};
		t->kind = T_BAD;
		for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
			size_t n = strlen(ops[i].s);
			if (p->pos + n <= p->len && !memcmp(p->s + p->pos, ops[i].s, n)) {
				t->kind = ops[i].k;
				advance(p, n);
				break;
			}
		}
		if (t->kind == T_BAD) {
			fail_at(p, t->line, t->col, "syntax error: unexpected character '%c'",
			        c >= 0x20 && c < 0x7f ? c : '?');
			advance(p, 1);
		}
	}
	t->len = p->pos - start;
}

static bool accept(struct parser *p, enum tok k)
{
	if (p->t.kind != k)
		return false;
	next(p);
	return true;
}

static bool expect(struct parser *p, enum tok k)
{
	if (p->t.kind == k) {
		next(p);
		return true;
	}
	unexpected(p, tok_names[k]);
	return false;
}

static bool is_kw(const struct parser *p, const char *kw)
{
	return p->t.kind == T_IDENT && p->t.len == strlen(kw) && !memcmp(p->t.p, kw, p->t.len);
}

static bool enter(struct parser *p)
{
	if (++p->depth > PANE_LOGQL_MAX_DEPTH) {
		fail_at(p, p->t.line, p->t.col, "the query nests more than %d levels deep", PANE_LOGQL_MAX_DEPTH);
		return false;
	}
	return true;
}

/* ---------- durations (also used for label values) ---------- */

int lq_parse_duration(const char *s, size_t len, double *out)
{
	static const struct {
		const char *u;
		double sec;
	} units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6}, {"ms", 1e-3},  {"s", 1},
	             {"m", 60},    {"h", 3600},  {"d", 86400},        {"w", 604800}, {"y", 31536000}};
	size_t i = 0;
	double total = 0;
	bool neg = false;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	if (i == len)
		return -1;
	while (i < len) {
		size_t st = i;
		while (i < len && (is_digit(s[i]) || s[i] == '.'))
			i++;
		if (i == st || i - st > 30)
			return -1;
		char num[32];
		memcpy(num, s + st, i - st);
		num[i - st] = '\0';
		char *end;
		double v = strtod(num, &end);
		if (*end)
			return -1;
		size_t best = 0;
		double sec = 0;
		for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
			size_t ul = strlen(units[u].u);
			if (ul > best && i + ul <= len && !memcmp(s + i, units[u].u, ul) &&
			    !(ul == 1 && i + 1 < len && s[i] == 'm' && s[i + 1] == 's')) {
				best = ul;
				sec = units[u].sec;
			}
		}
		if (!best)
			return -1;
		i += best;
		total += v * sec;
	}
	*out = neg ? -total : total;
	return 0;
}

/* ---------- log expressions ---------- */

static pcre2_code *compile_re(struct parser *p, const char *re, bool anchored, int line, int col)
{
	struct pane_err e = {0};
	pcre2_code *c;
	if (anchored) {
		c = pane_regex_compile(re, PANE_REGEX_DOTALL, &e);
	} else {
		size_t n = strlen(re);
		char *w = pane_xmalloc(n + 32);
		snprintf(w, n + 32, "(?s:.*?)(?:%s)(?s:.*)", re);
		c = pane_regex_compile(w, 0, &e);
		free(w);
	}
	if (!c) {
		fail_at(p, line, col, "%s", e.msg);
		return NULL;
	}
	mem_add_re(p->mem, c);
	return c;
}

static bool parse_selector(struct parser *p, struct lq_log *log)
{
	if (!expect(p, T_LBRACE))
		return false;
	size_t cap = 0;
	bool nonempty = false;
	while (p->t.kind != T_RBRACE && !p->failed) {
		if (p->t.kind != T_IDENT) {
			unexpected(p, "IDENTIFIER");
			return false;
		}
		if (log->n_matchers == PANE_LOGREADER_MAX_MATCHERS) {
			fail_at(p, p->t.line, p->t.col, "a stream selector has at most %d matchers",
			        PANE_LOGREADER_MAX_MATCHERS);
			return false;
		}
		const char *name = mem_strndup(p->mem, p->t.p, p->t.len);
		next(p);
		enum pane_match_op op;
		switch (p->t.kind) {
		case T_EQ: op = PANE_MATCH_EQ; break;
		case T_NEQ: op = PANE_MATCH_NE; break;
		case T_RE: op = PANE_MATCH_RE; break;
		case T_NRE: op = PANE_MATCH_NRE; break;
		default: unexpected(p, "=, !=, =~ or !~"); return false;
		}
		next(p);
		if (p->t.kind != T_STRING) {
			unexpected(p, "STRING");
			return false;
		}
		int line = p->t.line, col = p->t.col;
		const char *value = p->t.str;
		next(p);
		if (log->n_matchers == cap) {
			cap = cap ? cap * 2 : 4;
			struct pane_matcher *nm = lq_alloc(p->mem, cap * sizeof *nm);
			if (log->n_matchers)
				memcpy(nm, log->matchers, log->n_matchers * sizeof *nm);
			log->matchers = nm;
		}
		log->matchers[log->n_matchers++] = (struct pane_matcher){.name = name, .value = value, .op = op};
		if (op == PANE_MATCH_EQ && *value)
			nonempty = true;
		if (op == PANE_MATCH_RE) {
			pcre2_code *re = compile_re(p, value, true, line, col);
			if (!re)
				return false;
			if (pane_regex_match(re, "", 0, NULL) == 0)
				nonempty = true;
		} else if (op == PANE_MATCH_NRE && !compile_re(p, value, true, line, col)) {
			return false;
		}
		if (!accept(p, T_COMMA))
			break;
	}
	if (p->failed || !expect(p, T_RBRACE))
		return false;
	if (!nonempty) {
		p->failed = true;
		pane_err_set(
		    p->err, PANE_EINVAL,
		    "parse error : queries require at least one regexp or equality matcher that does not have an "
		    "empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but "
		    "app=~\".+\" will");
		return false;
	}
	return true;
}

static struct lq_lf *parse_lf_or(struct parser *p);

static struct lq_lf *parse_lf_cmp(struct parser *p)
{
	if (p->t.kind == T_LPAREN) {
		if (!enter(p))
			return NULL;
		next(p);
		struct lq_lf *f = parse_lf_or(p);
		p->depth--;
		if (!f || !expect(p, T_RPAREN))
			return NULL;
		return f;
	}
	if (p->t.kind != T_IDENT) {
		unexpected(p, "IDENTIFIER");
		return NULL;
	}
	struct lq_lf *f = lq_alloc(p->mem, sizeof *f);
	f->name = mem_strndup(p->mem, p->t.p, p->t.len);
	next(p);
	enum tok op = p->t.kind;
	int line = p->t.line, col = p->t.col;
	switch (op) {
	case T_EQ:
	case T_NEQ:
	case T_RE:
	case T_NRE:
	case T_EQEQ:
	case T_GT:
	case T_GE:
	case T_LT:
	case T_LE: break;
	default: unexpected(p, "a comparison (=, !=, =~, !~, ==, >, >=, <, <=)"); return NULL;
	}
	next(p);
	if (p->t.kind == T_STRING && (op == T_EQ || op == T_NEQ || op == T_RE || op == T_NRE)) {
		f->kind = LQ_LF_STR;
		f->str = p->t.str;
		f->op = op == T_EQ ? LQ_EQ : op == T_NEQ ? LQ_NE : op == T_RE ? LQ_RE : LQ_NRE;
		if ((op == T_RE || op == T_NRE) && !(f->re = compile_re(p, f->str, true, line, col)))
			return NULL;
		next(p);
		return f;
	}
	if (p->t.kind == T_NUMBER || p->t.kind == T_DURATION) {
		if (op == T_RE || op == T_NRE) {
			unexpected(p, "STRING");
			return NULL;
		}
		f->kind = LQ_LF_NUM;
		f->duration = p->t.kind == T_DURATION;
		char num[64];
		if (p->t.len >= sizeof num) {
			fail_at(p, p->t.line, p->t.col, "syntax error: number too long");
			return NULL;
		}
		memcpy(num, p->t.p, p->t.len);
		num[p->t.len] = '\0';
		char *end;
		if (f->duration ? lq_parse_duration(num, p->t.len, &f->num) < 0
		                : (f->num = strtod(num, &end), *end != '\0')) {
			fail_at(p, p->t.line, p->t.col, "syntax error: bad %s %s", f->duration ? "duration" : "number",
			        num);
			return NULL;
		}
		f->op = op == T_EQ || op == T_EQEQ ? LQ_EQ
		        : op == T_NEQ              ? LQ_NE
		        : op == T_GT               ? LQ_GT
		        : op == T_GE               ? LQ_GE
		        : op == T_LT               ? LQ_LT
		                                   : LQ_LE;
		next(p);
		return f;
	}
	unexpected(p, op == T_RE || op == T_NRE ? "STRING" : "STRING, NUMBER or DURATION");
	return NULL;
}

static struct lq_lf *parse_lf_and(struct parser *p)
{
	struct lq_lf *l = parse_lf_cmp(p);
	while (l && !p->failed) {
		if (is_kw(p, "and") || p->t.kind == T_COMMA)
			next(p);
		else if (p->t.kind != T_IDENT && p->t.kind != T_LPAREN)
			break;
		else if (is_kw(p, "or"))
			break;
		struct lq_lf *r = parse_lf_cmp(p);
		if (!r)
			return NULL;
		struct lq_lf *n = lq_alloc(p->mem, sizeof *n);
		*n = (struct lq_lf){.kind = LQ_LF_AND, .a = l, .b = r};
		l = n;
	}
	return l;
}

static struct lq_lf *parse_lf_or(struct parser *p)
{
	struct lq_lf *l = parse_lf_and(p);
	while (l && is_kw(p, "or")) {
		next(p);
		struct lq_lf *r = parse_lf_and(p);
		if (!r)
			return NULL;
		struct lq_lf *n = lq_alloc(p->mem, sizeof *n);
		*n = (struct lq_lf){.kind = LQ_LF_OR, .a = l, .b = r};
		l = n;
	}
	return l;
}

/* line_format's template: text with {{.name}}, {{ .name }} and {{__line__}}. */
static bool parse_template(struct parser *p, struct lq_stage *st, const char *t, size_t n, int line, int col)
{
	size_t cap = 8;
	st->parts = lq_alloc(p->mem, cap * sizeof *st->parts);
	size_t i = 0;
	while (i < n) {
		if (st->n_parts + 1 >= cap) {
			struct lq_tpart *np = lq_alloc(p->mem, cap * 2 * sizeof *np);
			memcpy(np, st->parts, st->n_parts * sizeof *np);
			st->parts = np;
			cap *= 2;
		}
		const char *open = NULL;
		for (size_t k = i; k + 1 < n; k++)
			if (t[k] == '{' && t[k + 1] == '{') {
				open = t + k;
				break;
			}
		if (!open) {
			st->parts[st->n_parts++] = (struct lq_tpart){.text = t + i, .len = n - i, .kind = LQ_T_TEXT};
			break;
		}
		if (open > t + i)
			st->parts[st->n_parts++] =
			    (struct lq_tpart){.text = t + i, .len = (size_t)(open - (t + i)), .kind = LQ_T_TEXT};
		const char *close = NULL;
		for (const char *k = open + 2; k + 1 < t + n; k++)
			if (k[0] == '}' && k[1] == '}') {
				close = k;
				break;
			}
		if (!close) {
			fail_at(p, line, col, "error parsing line_format template: unclosed action");
			return false;
		}
		const char *a = open + 2, *b = close;
		while (a < b && (*a == ' ' || *a == '-'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '-'))
			b--;
		size_t al = (size_t)(b - a);
		if (al == 8 && !memcmp(a, "__line__", 8)) {
			st->parts[st->n_parts++] = (struct lq_tpart){.kind = LQ_T_LINE};
		} else if (al > 1 && a[0] == '.' && pane_label_name_valid(a + 1, al - 1)) {
			st->parts[st->n_parts++] = (struct lq_tpart){
			    .text = mem_strndup(p->mem, a + 1, al - 1), .len = al - 1, .kind = LQ_T_LABEL};
		} else {
			fail_at(p, line, col,
			        "error parsing line_format template: unsupported action {{%.*s}} (pane supports "
			        "{{.label}} and {{__line__}})",
			        (int)(al > 60 ? 60 : al), a);
			return false;
		}
		i = (size_t)(close + 2 - t);
	}
	return true;
}

static bool parse_names(struct parser *p, struct lq_stage *st)
{
	size_t cap = 8;
	st->names = lq_alloc(p->mem, cap * sizeof *st->names);
	do {
		if (p->t.kind != T_IDENT) {
			unexpected(p, "IDENTIFIER");
			return false;
		}
		if (st->n_names == PANE_LABELS_MAX) {
			fail_at(p, p->t.line, p->t.col, "at most %d labels", PANE_LABELS_MAX);
			return false;
		}
		if (st->n_names == cap) {
			const char **nn = lq_alloc(p->mem, cap * 2 * sizeof *nn);
			memcpy(nn, st->names, cap * sizeof *nn);
			st->names = nn;
			cap *= 2;
		}
		st->names[st->n_names++] = mem_strndup(p->mem, p->t.p, p->t.len);
		next(p);
	} while (accept(p, T_COMMA));
	return true;
}

static bool parse_stages(struct parser *p, struct lq_log *log)
{
	size_t cap = 0;
	for (;;) {
		enum tok k = p->t.kind;
		if (k != T_PIPE_EXACT && k != T_NEQ && k != T_PIPE_MATCH && k != T_NRE && k != T_PIPE)
			return !p->failed;
		if (log->n_stages == 128) {
			fail_at(p, p->t.line, p->t.col, "a query has at most 128 pipeline stages");
			return false;
		}
		if (log->n_stages == cap) {
			cap = cap ? cap * 2 : 4;
			struct lq_stage *ns = lq_alloc(p->mem, cap * sizeof *ns);
			if (log->n_stages)
				memcpy(ns, log->stages, log->n_stages * sizeof *ns);
			log->stages = ns;
		}
		struct lq_stage *st = &log->stages[log->n_stages];
		memset(st, 0, sizeof *st);
		next(p);
		if (k != T_PIPE) {
			if (p->t.kind != T_STRING) {
				unexpected(p, "STRING");
				return false;
			}
			st->kind = LQ_LINE_FILTER;
			st->lop = k == T_PIPE_EXACT   ? LQ_CONTAINS
			          : k == T_NEQ        ? LQ_NOT_CONTAINS
			          : k == T_PIPE_MATCH ? LQ_MATCH
			                              : LQ_NOT_MATCH;
			st->text = p->t.str;
			st->text_len = p->t.str_len;
			if ((st->lop == LQ_MATCH || st->lop == LQ_NOT_MATCH) &&
			    !(st->re = compile_re(p, st->text, false, p->t.line, p->t.col)))
				return false;
			next(p);
			log->n_stages++;
			continue;
		}
		if (p->t.kind != T_IDENT && p->t.kind != T_LPAREN) {
			unexpected(p, "a parser, formatter or label filter");
			return false;
		}
		int line = p->t.line, col = p->t.col;
		bool filter_next = p->t.kind == T_LPAREN;
		if (!filter_next) {
			/* an identifier followed by a comparison is a label filter */
			struct parser save = *p;
			next(p);
			enum tok c = p->t.kind;
			filter_next = c == T_EQ || c == T_NEQ || c == T_RE || c == T_NRE || c == T_EQEQ || c == T_GT ||
			              c == T_GE || c == T_LT || c == T_LE;
			*p = save;
		}
		if (filter_next) {
			st->kind = LQ_LABEL_FILTER;
			if (!(st->lf = parse_lf_or(p)))
				return false;
			log->changes_labels = true;
		} else if (is_kw(p, "json")) {
			st->kind = LQ_JSON;
			log->changes_labels = true;
			next(p);
		} else if (is_kw(p, "logfmt")) {
			st->kind = LQ_LOGFMT;
			log->changes_labels = true;
			next(p);
		} else if (is_kw(p, "line_format")) {
			next(p);
			if (p->t.kind != T_STRING) {
				unexpected(p, "STRING");
				return false;
			}
			st->kind = LQ_LINE_FORMAT;
			if (!parse_template(p, st, p->t.str, p->t.str_len, p->t.line, p->t.col))
				return false;
			next(p);
		} else if (is_kw(p, "drop") || is_kw(p, "keep")) {
			st->kind = is_kw(p, "drop") ? LQ_DROP : LQ_KEEP;
			log->changes_labels = true;
			next(p);
			if (!parse_names(p, st))
				return false;
		} else {
			fail_at(
			    p, line, col,
			    "syntax error: unsupported pipeline stage %.*s (pane supports json, logfmt, line_format, "
			    "drop, keep and label filters)",
			    (int)(p->t.len > 40 ? 40 : p->t.len), p->t.p);
			return false;
		}
		log->n_stages++;
	}
}

static struct lq_log *parse_log(struct parser *p)
{
	struct lq_log *log = lq_alloc(p->mem, sizeof *log);
	if (!parse_selector(p, log) || !parse_stages(p, log))
		return NULL;
	return log;
}

/* ---------- metric expressions ---------- */

static struct lq_node *parse_expr(struct parser *p, int min_prec);

static bool parse_grouping(struct parser *p, struct lq_node *n)
{
	if (!is_kw(p, "by") && !is_kw(p, "without"))
		return true;
	if (n->grouped) {
		unexpected(p, "(");
		return false;
	}
	n->grouped = true;
	n->without = is_kw(p, "without");
	next(p);
	if (!expect(p, T_LPAREN))
		return false;
	struct lq_stage tmp = {0};
	if (p->t.kind != T_RPAREN && !parse_names(p, &tmp))
		return false;
	n->names = tmp.names;
	n->n_names = tmp.n_names;
	return expect(p, T_RPAREN);
}

static struct lq_node *parse_primary(struct parser *p)
{
	struct lq_node *n = lq_alloc(p->mem, sizeof *n);
	if (p->t.kind == T_NUMBER || p->t.kind == T_SUB || p->t.kind == T_ADD) {
		bool neg = p->t.kind == T_SUB;
		if (p->t.kind != T_NUMBER)
			next(p);
		if (p->t.kind != T_NUMBER) {
			unexpected(p, "NUMBER");
			return NULL;
		}
		char num[64];
		size_t l = p->t.len < sizeof num - 1 ? p->t.len : sizeof num - 1;
		memcpy(num, p->t.p, l);
		num[l] = '\0';
		char *end;
		n->kind = LQ_N_NUMBER;
		n->num = strtod(num, &end);
		if (*end) {
			fail_at(p, p->t.line, p->t.col, "syntax error: bad number %s", num);
			return NULL;
		}
		if (neg)
			n->num = -n->num;
		next(p);
		return n;
	}
	if (p->t.kind == T_LPAREN) {
		next(p);
		struct lq_node *in = parse_expr(p, 0);
		if (!in || !expect(p, T_RPAREN))
			return NULL;
		return in;
	}
	if (p->t.kind == T_LBRACE) {
		fail_at(p, p->t.line, p->t.col,
		        "syntax error: a log query cannot be combined with other expressions; use a metric "
		        "query like count_over_time({...}[5m])");
		return NULL;
	}
	if (p->t.kind != T_IDENT) {
		unexpected(p, "a metric expression");
		return NULL;
	}
	static const struct {
		const char *name;
		enum lq_range_fn fn;
	} ranges[] = {{"count_over_time", LQ_COUNT_OVER_TIME},
	              {"rate", LQ_RATE},
	              {"bytes_over_time", LQ_BYTES_OVER_TIME},
	              {"bytes_rate", LQ_BYTES_RATE}};
	static const struct {
		const char *name;
		enum lq_agg_op op;
	} aggs[] = {{"sum", LQ_SUM}, {"avg", LQ_AVG}, {"min", LQ_MIN}, {"max", LQ_MAX}, {"count", LQ_COUNT}};
	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
		if (!is_kw(p, ranges[i].name))
			continue;
		n->kind = LQ_N_RANGE;
		n->fn = ranges[i].fn;
		next(p);
		if (!expect(p, T_LPAREN))
			return NULL;
		if (p->t.kind != T_LBRACE) {
			unexpected(p, "{");
			return NULL;
		}
		if (!(n->log = parse_log(p)))
			return NULL;
		if (p->t.kind != T_LBRACK) {
			unexpected(p, "[");
			return NULL;
		}
		next(p);
		double sec;
		if (p->t.kind != T_DURATION || lq_parse_duration(p->t.p, p->t.len, &sec) < 0 || sec < 0.001 ||
		    sec > 366 * 86400.0) {
			fail_at(p, p->t.line, p->t.col,
			        "syntax error: expecting a range duration like 5m (1ms to 366d)");
			return NULL;
		}
		n->range_ms = (int64_t)llround(sec * 1000);
		next(p);
		if (!expect(p, T_RBRACK) || !expect(p, T_RPAREN))
			return NULL;
		return n;
	}
	for (size_t i = 0; i < sizeof aggs / sizeof aggs[0]; i++) {
		if (!is_kw(p, aggs[i].name))
			continue;
		n->kind = LQ_N_AGG;
		n->agg = aggs[i].op;
		next(p);
		if (!parse_grouping(p, n) || !expect(p, T_LPAREN))
			return NULL;
		if (!(n->a = parse_expr(p, 0)) || !expect(p, T_RPAREN) || !parse_grouping(p, n))
			return NULL;
		return n;
	}
	if (is_kw(p, "topk") || is_kw(p, "bottomk")) {
		n->kind = LQ_N_TOPK;
		n->bottom = is_kw(p, "bottomk");
		next(p);
		if (!parse_grouping(p, n) || !expect(p, T_LPAREN))
			return NULL;
		if (p->t.kind != T_NUMBER) {
			unexpected(p, "NUMBER");
			return NULL;
		}
		n->num = strtod(p->t.p, NULL);
		if (!(n->num >= 1 && n->num <= 1e6)) {
			fail_at(p, p->t.line, p->t.col, "syntax error: topk's k must be from 1 to 1000000");
			return NULL;
		}
		next(p);
		if (!expect(p, T_COMMA) || !(n->a = parse_expr(p, 0)) || !expect(p, T_RPAREN) || !parse_grouping(p, n))
			return NULL;
		return n;
	}
	if (is_kw(p, "vector")) {
		n->kind = LQ_N_VECTOR;
		next(p);
		if (!expect(p, T_LPAREN))
			return NULL;
		struct lq_node *v = parse_primary(p);
		if (!v)
			return NULL;
		if (v->kind != LQ_N_NUMBER) {
			fail_at(p, p->t.line, p->t.col, "syntax error: vector() takes a number");
			return NULL;
		}
		n->num = v->num;
		if (!expect(p, T_RPAREN))
			return NULL;
		return n;
	}
	fail_at(p, p->t.line, p->t.col,
	        "syntax error: unexpected IDENTIFIER %.*s (pane supports count_over_time, rate, bytes_over_time, "
	        "bytes_rate, sum, avg, min, max, count, topk, bottomk and vector)",
	        (int)(p->t.len > 40 ? 40 : p->t.len), p->t.p);
	return NULL;
}

static int prec_of(enum tok k)
{
	switch (k) {
	case T_ADD:
	case T_SUB: return 1;
	case T_MUL:
	case T_DIV:
	case T_MOD: return 2;
	default: return 0;
	}
}

static struct lq_node *parse_expr(struct parser *p, int min_prec)
{
	if (!enter(p))
		return NULL;
	struct lq_node *l = parse_primary(p);
	int chain = 0;
	while (l && !p->failed && prec_of(p->t.kind) > min_prec) {
		if (++chain + p->depth > PANE_LOGQL_MAX_DEPTH * 16) {
			fail_at(p, p->t.line, p->t.col, "the query has too many binary operators");
			l = NULL;
			break;
		}
		enum tok op = p->t.kind;
		next(p);
		struct lq_node *r = parse_expr(p, prec_of(op));
		if (!r) {
			l = NULL;
			break;
		}
		struct lq_node *n = lq_alloc(p->mem, sizeof *n);
		*n = (struct lq_node){.kind = LQ_N_BINARY,
		                      .a = l,
		                      .b = r,
		                      .op = op == T_ADD   ? '+'
		                            : op == T_SUB ? '-'
		                            : op == T_MUL ? '*'
		                            : op == T_DIV ? '/'
		                                          : '%'};
		l = n;
	}
	p->depth--;
	return l;
}

/* ---------- public ---------- */

void pane_logql_free(struct pane_logql_expr *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->mem.n; i++)
		free(e->mem.v[i]);
	for (size_t i = 0; i < e->mem.n_re; i++)
		pcre2_code_free(e->mem.re[i]);
	free(e->mem.v);
	free(e->mem.re);
	free(e);
}

struct pane_logql_expr *pane_logql_parse(const char *q, size_t len, struct pane_err *err)
{
	if (len > PANE_LOGQL_MAX_QUERY) {
		pane_err_set(err, PANE_EINVAL, "the query is %zu bytes, over the %d-byte limit", len,
		             PANE_LOGQL_MAX_QUERY);
		return NULL;
	}
	struct pane_logql_expr *e = pane_xcalloc(1, sizeof *e);
	struct parser p = {.s = q, .len = len, .line = 1, .col = 1, .mem = &e->mem, .err = err};
	next(&p);
	if (p.t.kind == T_EOF && !p.failed) {
		fail_at(&p, 1, 1, "syntax error: unexpected end of input, expecting a query");
	} else if (p.t.kind == T_LBRACE) {
		e->log = parse_log(&p);
		if (e->log && p.t.kind != T_EOF)
			unexpected(&p, "a pipeline stage or end of input");
	} else if (!p.failed) {
		e->root = parse_expr(&p, 0);
		if (e->root && p.t.kind != T_EOF)
			unexpected(&p, "end of input");
	}
	if (p.failed) {
		pane_logql_free(e);
		return NULL;
	}
	return e;
}

bool pane_logql_is_log(const struct pane_logql_expr *e)
{
	return e->log != NULL;
}

static const struct lq_log *first_log(const struct lq_node *n)
{
	if (!n)
		return NULL;
	if (n->kind == LQ_N_RANGE)
		return n->log;
	const struct lq_log *l = first_log(n->a);
	return l ? l : first_log(n->b);
}

const struct pane_matcher *pane_logql_matchers(const struct pane_logql_expr *e, size_t *n)
{
	const struct lq_log *l = e->log ? e->log : first_log(e->root);
	*n = l ? l->n_matchers : 0;
	return l ? l->matchers : NULL;
}
