/*
 * parse.c - PromQL lexer, parser, type checker and printer.
 *
 * A hand-written recursive-descent parser with precedence climbing for the
 * binary operators (or < and/unless < comparisons < +- < * / % atan2 < ^,
 * ^ right-associative, unary minus binding looser than ^). It follows
 * Prometheus' grammar and checks types the way its parser does, so every
 * error is reported before evaluation as "LINE:COL: parse error: WHAT",
 * naming what was expected. Recursion depth is bounded (PQ_MAX_DEPTH) so
 * hostile nesting cannot exhaust the stack, and so is the height of the
 * tree it builds (PQ_MAX_HEIGHT: long operator chains), which bounds every
 * later recursive walk; everything lives in one arena.
 */
#include "query/ast.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/gostr.h"
#include "base/mem.h"
#include "base/regex.h"
#include "base/str.h"
#include "base/vec.h"
#include "query/query.h"

/* ---------------- functions ---------------- */

#define V PQ_T_VECTOR
#define M PQ_T_MATRIX
#define S PQ_T_SCALAR
#define STR PQ_T_STRING
static const struct pq_func funcs[] = {
    {"abs", F_ABS, {V}, 1, false, V},
    {"absent", F_ABSENT, {V}, 1, false, V},
    {"absent_over_time", F_ABSENT_OVER_TIME, {M}, 1, false, V},
    {"acos", F_ACOS, {V}, 1, false, V},
    {"acosh", F_ACOSH, {V}, 1, false, V},
    {"asin", F_ASIN, {V}, 1, false, V},
    {"asinh", F_ASINH, {V}, 1, false, V},
    {"atan", F_ATAN, {V}, 1, false, V},
    {"atanh", F_ATANH, {V}, 1, false, V},
    {"avg_over_time", F_AVG_OVER_TIME, {M}, 1, false, V},
    {"ceil", F_CEIL, {V}, 1, false, V},
    {"changes", F_CHANGES, {M}, 1, false, V},
    {"clamp", F_CLAMP, {V, S, S}, 3, false, V},
    {"clamp_max", F_CLAMP_MAX, {V, S}, 2, false, V},
    {"clamp_min", F_CLAMP_MIN, {V, S}, 2, false, V},
    {"cos", F_COS, {V}, 1, false, V},
    {"cosh", F_COSH, {V}, 1, false, V},
    {"count_over_time", F_COUNT_OVER_TIME, {M}, 1, false, V},
    {"day_of_month", F_DAY_OF_MONTH, {V}, 0, false, V},
    {"day_of_week", F_DAY_OF_WEEK, {V}, 0, false, V},
    {"day_of_year", F_DAY_OF_YEAR, {V}, 0, false, V},
    {"days_in_month", F_DAYS_IN_MONTH, {V}, 0, false, V},
    {"deg", F_DEG, {V}, 1, false, V},
    {"delta", F_DELTA, {M}, 1, false, V},
    {"deriv", F_DERIV, {M}, 1, false, V},
    {"exp", F_EXP, {V}, 1, false, V},
    {"floor", F_FLOOR, {V}, 1, false, V},
    {"histogram_quantile", F_HISTOGRAM_QUANTILE, {S, V}, 2, false, V},
    {"holt_winters", F_HOLT_WINTERS, {M, S, S}, 3, false, V},
    {"hour", F_HOUR, {V}, 0, false, V},
    {"idelta", F_IDELTA, {M}, 1, false, V},
    {"increase", F_INCREASE, {M}, 1, false, V},
    {"irate", F_IRATE, {M}, 1, false, V},
    {"label_join", F_LABEL_JOIN, {V, STR, STR, STR}, 3, true, V},
    {"label_replace", F_LABEL_REPLACE, {V, STR, STR, STR, STR}, 5, false, V},
    {"last_over_time", F_LAST_OVER_TIME, {M}, 1, false, V},
    {"ln", F_LN, {V}, 1, false, V},
    {"log10", F_LOG10, {V}, 1, false, V},
    {"log2", F_LOG2, {V}, 1, false, V},
    {"max_over_time", F_MAX_OVER_TIME, {M}, 1, false, V},
    {"min_over_time", F_MIN_OVER_TIME, {M}, 1, false, V},
    {"minute", F_MINUTE, {V}, 0, false, V},
    {"month", F_MONTH, {V}, 0, false, V},
    {"pi", F_PI, {PQ_T_NONE}, 0, false, S},
    {"predict_linear", F_PREDICT_LINEAR, {M, S}, 2, false, V},
    {"present_over_time", F_PRESENT_OVER_TIME, {M}, 1, false, V},
    {"quantile_over_time", F_QUANTILE_OVER_TIME, {S, M}, 2, false, V},
    {"rad", F_RAD, {V}, 1, false, V},
    {"rate", F_RATE, {M}, 1, false, V},
    {"resets", F_RESETS, {M}, 1, false, V},
    {"round", F_ROUND, {V, S}, 1, false, V},
    {"scalar", F_SCALAR, {V}, 1, false, S},
    {"sgn", F_SGN, {V}, 1, false, V},
    {"sin", F_SIN, {V}, 1, false, V},
    {"sinh", F_SINH, {V}, 1, false, V},
    {"sort", F_SORT, {V}, 1, false, V},
    {"sort_desc", F_SORT_DESC, {V}, 1, false, V},
    {"sqrt", F_SQRT, {V}, 1, false, V},
    {"stddev_over_time", F_STDDEV_OVER_TIME, {M}, 1, false, V},
    {"stdvar_over_time", F_STDVAR_OVER_TIME, {M}, 1, false, V},
    {"sum_over_time", F_SUM_OVER_TIME, {M}, 1, false, V},
    {"tan", F_TAN, {V}, 1, false, V},
    {"tanh", F_TANH, {V}, 1, false, V},
    {"time", F_TIME, {PQ_T_NONE}, 0, false, S},
    {"timestamp", F_TIMESTAMP, {V}, 1, false, V},
    {"vector", F_VECTOR, {S}, 1, false, V},
    {"year", F_YEAR, {V}, 0, false, V},
};
#undef V
#undef M
#undef S
#undef STR

const struct pq_func *pq_func_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
		if (strlen(funcs[i].name) == len && memcmp(funcs[i].name, name, len) == 0)
			return &funcs[i];
	return NULL;
}

static int func_nlisted(const struct pq_func *f)
{
	int n = 0;
	while (n < 6 && f->args[n] != PQ_T_NONE)
		n++;
	return n;
}

/* ---------------- lexer ---------------- */

enum tok {
	T_EOF,
	T_ERR,
	T_IDENT,
	T_NUMBER,
	T_DURATION,
	T_STRING,
	T_LPAREN,
	T_RPAREN,
	T_LBRACE,
	T_RBRACE,
	T_LBRACK,
	T_RBRACK,
	T_COMMA,
	T_COLON,
	T_AT,
	T_ASSIGN,
	T_EQLC,
	T_NEQ,
	T_RE,
	T_NRE,
	T_LSS,
	T_GTR,
	T_LTE,
	T_GTE,
	T_ADD,
	T_SUB,
	T_MUL,
	T_DIV,
	T_MOD,
	T_POW,
};

static const char *tok_desc[] = {
    "end of input", "error", "identifier", "number", "duration", "string", "\"(\"",  "\")\"",  "\"{\"",  "\"}\"",
    "\"[\"",        "\"]\"", "\",\"",      "\":\"",  "\"@\"",    "\"=\"",  "\"==\"", "\"!=\"", "\"=~\"", "\"!~\"",
    "\"<\"",        "\">\"", "\"<=\"",     "\">=\"", "\"+\"",    "\"-\"",  "\"*\"",  "\"/\"",  "\"%\"",  "\"^\"",
};

struct tokv {
	enum tok t;
	int pos;
	const char *s; /* raw text */
	size_t len;
	double num;
	int64_t dur;
	char *str; /* unescaped string (arena) */
};

struct parser {
	const char *in;
	size_t len;
	size_t off;
	struct tokv cur;
	bool have;
	struct pane_arena *a;
	struct pane_err *err;
	bool failed;
	int in_bracket;
	int depth;
	int n_sel;
};

static void perr(struct parser *p, int pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void perr(struct parser *p, int pos, const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = true;
	int line = 1, col = 1;
	for (int i = 0; i < pos && (size_t)i < p->len; i++) {
		if (p->in[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	pane_err_set(p->err, PANE_EINVAL, "%d:%d: parse error: %s", line, col, msg);
}

static bool is_ident_start(int c)
{
	return isalpha(c) || c == '_' || c == ':';
}
static bool is_ident_char(int c)
{
	return isalnum(c) || c == '_' || c == ':';
}

/* Lexes a string starting at p->off (a quote): Go's literal (base/gostr.h)
 * with Prometheus' messages and positions. */
static void lex_string(struct parser *p, struct tokv *t)
{
	struct pane_buf b;
	pane_buf_init(&b, PQ_MAX_EXPR_LEN);
	struct pane_gostr_error e;
	size_t n = pane_go_unquote(p->in + p->off, p->len - p->off, &b, &e);
	if (n == 0) {
		int at = (int)(p->off + e.at);
		switch (e.status) {
		case PANE_GOSTR_UNKNOWN_ESCAPE: perr(p, at, "unknown escape sequence U+%04X", (unsigned)e.ch); break;
		case PANE_GOSTR_BAD_DIGIT: perr(p, at, "illegal character in escape sequence"); break;
		case PANE_GOSTR_BAD_CODEPOINT: perr(p, at, "escape sequence is an invalid Unicode code point"); break;
		case PANE_GOSTR_OCTAL_RANGE: perr(p, at, "octal escape value > 255"); break;
		default: perr(p, at, "unterminated quoted string"); break;
		}
		pane_buf_release(&b);
		t->t = T_ERR;
		return;
	}
	t->t = T_STRING;
	t->str = pane_arena_strndup(p->a, b.data, b.len);
	t->len = n;
	p->off += n;
	pane_buf_release(&b);
}

static bool parse_go_float(const char *s, size_t n, double *out)
{
	if (n == 0 || n > 4096)
		return false;
	char *tmp = pane_xstrndup(s, n);
	bool ok = false;
	char *end;
	if (!strcasecmp(tmp, "inf") || !strcasecmp(tmp, "+inf")) {
		*out = INFINITY;
		ok = true;
	} else if (!strcasecmp(tmp, "nan")) {
		*out = NAN;
		ok = true;
	} else if (n > 2 && tmp[0] == '0' && (tmp[1] == 'x' || tmp[1] == 'X')) {
		ok = true;
		for (size_t k = 2; k < n; k++)
			if (pane_hexval((unsigned char)tmp[k]) < 0)
				ok = false;
		if (ok) {
			errno = 0;
			*out = strtod(tmp, &end); /* hex integers, any size (rounded like Go) */
			ok = *end == 0;
		}
	} else {
		ok = true;
		/* Go's ParseFloat: digits, one point, an exponent; strtod would also take
		 * "infinity", "nan(...)" and hex, which the checks above and here exclude */
		for (size_t k = 0; k < n; k++)
			if (!(isdigit((unsigned char)tmp[k]) || tmp[k] == '.' || tmp[k] == 'e' || tmp[k] == 'E' ||
			      tmp[k] == '+' || tmp[k] == '-'))
				ok = false;
		bool octal = n > 1 && tmp[0] == '0';
		for (size_t k = 0; k < n && octal; k++)
			octal = tmp[k] >= '0' && tmp[k] <= '7';
		if (ok && octal) {
			/* Go's ParseInt(s, 0, 64), tried first, reads "017" as octal */
			errno = 0;
			unsigned long long v = strtoull(tmp, &end, 8);
			*out = (double)v;
			ok = *end == 0 && errno == 0 && v <= INT64_MAX;
		} else if (ok) {
			errno = 0;
			*out = strtod(tmp, &end);
			/* Go's ParseFloat fails on overflow ("1e400"); underflow to 0 is fine */
			ok = *end == 0 && !(errno == ERANGE && isinf(*out));
		}
	}
	free(tmp);
	return ok;
}

static void lex(struct parser *p, struct tokv *t)
{
	memset(t, 0, sizeof *t);
	for (;;) {
		while (p->off < p->len && isspace((unsigned char)p->in[p->off]))
			p->off++;
		if (p->off < p->len && p->in[p->off] == '#') {
			while (p->off < p->len && p->in[p->off] != '\n')
				p->off++;
			continue;
		}
		break;
	}
	t->pos = (int)p->off;
	t->s = p->in + p->off;
	if (p->off >= p->len) {
		t->t = T_EOF;
		return;
	}
	unsigned char c = (unsigned char)p->in[p->off];
	unsigned char c2 = p->off + 1 < p->len ? (unsigned char)p->in[p->off + 1] : 0;
	size_t start = p->off;
	if (c == '"' || c == '\'' || c == '`') {
		lex_string(p, t);
		return;
	}
	if (isdigit(c) || (c == '.' && isdigit(c2))) {
		size_t i = p->off;
		if (c == '0' && (c2 == 'x' || c2 == 'X')) {
			i += 2;
			while (i < p->len && isxdigit((unsigned char)p->in[i]))
				i++;
		} else {
			while (i < p->len && (isalnum((unsigned char)p->in[i]) || p->in[i] == '.')) {
				if ((p->in[i] == 'e' || p->in[i] == 'E') && i + 1 < p->len &&
				    (p->in[i + 1] == '+' || p->in[i + 1] == '-')) {
					i += 2;
					continue;
				}
				i++;
			}
		}
		t->len = i - start;
		p->off = i;
		if (pq_duration_parse(t->s, t->len, &t->dur) == 0) {
			t->t = T_DURATION;
			return;
		}
		if (parse_go_float(t->s, t->len, &t->num)) {
			t->t = T_NUMBER;
			return;
		}
		perr(p, t->pos, "bad number or duration syntax: \"%.*s\"", (int)t->len, t->s);
		t->t = T_ERR;
		return;
	}
	if (c == ':' && p->in_bracket) {
		t->t = T_COLON;
		t->len = 1;
		p->off++;
		return;
	}
	if (is_ident_start(c)) {
		size_t i = p->off;
		while (i < p->len && is_ident_char((unsigned char)p->in[i]))
			i++;
		t->len = i - start;
		p->off = i;
		t->t = T_IDENT;
		if ((t->len == 3 && !strncasecmp(t->s, "inf", 3)) || (t->len == 3 && !strncasecmp(t->s, "nan", 3))) {
			t->t = T_NUMBER;
			t->num = tolower((unsigned char)t->s[0]) == 'i' ? INFINITY : NAN;
		}
		return;
	}
	struct {
		const char *s;
		enum tok t;
	} ops[] = {
	    {"==", T_EQLC},  {"!=", T_NEQ},   {"=~", T_RE},    {"!~", T_NRE},   {"<=", T_LTE},   {">=", T_GTE},
	    {"(", T_LPAREN}, {")", T_RPAREN}, {"{", T_LBRACE}, {"}", T_RBRACE}, {"[", T_LBRACK}, {"]", T_RBRACK},
	    {",", T_COMMA},  {":", T_COLON},  {"@", T_AT},     {"=", T_ASSIGN}, {"<", T_LSS},    {">", T_GTR},
	    {"+", T_ADD},    {"-", T_SUB},    {"*", T_MUL},    {"/", T_DIV},    {"%", T_MOD},    {"^", T_POW},
	};
	for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
		size_t n = strlen(ops[k].s);
		if (p->len - p->off >= n && memcmp(p->in + p->off, ops[k].s, n) == 0) {
			t->t = ops[k].t;
			t->len = n;
			p->off += n;
			return;
		}
	}
	if (c == '!')
		perr(p, t->pos, "unexpected character after '!': %s", c2 ? "expected \"=\" or \"~\"" : "end of input");
	else if (c >= 0x20 && c < 0x7f)
		perr(p, t->pos, "unexpected character: '%c'", c);
	else
		perr(p, t->pos, "unexpected character: 0x%02x", c);
	t->t = T_ERR;
}

static struct tokv *peek(struct parser *p)
{
	if (!p->have) {
		lex(p, &p->cur);
		p->have = true;
	}
	return &p->cur;
}

static struct tokv next(struct parser *p)
{
	struct tokv t = *peek(p);
	p->have = false;
	return t;
}

static bool tok_is_kw(const struct tokv *t, const char *kw)
{
	return t->t == T_IDENT && strlen(kw) == t->len && !strncasecmp(t->s, kw, t->len);
}

static void unexpected(struct parser *p, const struct tokv *t, const char *ctx, const char *expected)
{
	char what[96];
	if (t->t == T_IDENT || t->t == T_NUMBER || t->t == T_DURATION)
		snprintf(what, sizeof what, "%s \"%.*s\"", tok_desc[t->t], (int)(t->len > 40 ? 40 : t->len), t->s);
	else
		snprintf(what, sizeof what, "%s", tok_desc[t->t]);
	if (t->t == T_ERR)
		return;
	if (expected)
		perr(p, t->pos, "unexpected %s%s%s, expected %s", what, ctx ? " in " : "", ctx ? ctx : "", expected);
	else
		perr(p, t->pos, "unexpected %s%s%s", what, ctx ? " in " : "", ctx ? ctx : "");
}

static bool expect(struct parser *p, enum tok tt, const char *ctx)
{
	struct tokv *t = peek(p);
	if (t->t != tt) {
		unexpected(p, t, ctx, tok_desc[tt]);
		return false;
	}
	next(p);
	return true;
}

static struct pq_node *new_node(struct parser *p, enum pq_kind k, int pos)
{
	struct pq_node *n = pane_arena_alloc(p->a, sizeof *n);
	n->kind = k;
	n->pos = pos;
	n->cache_id = -1;
	return n;
}

const char *pq_type_name(enum pq_vtype t)
{
	switch (t) {
	case PQ_T_SCALAR: return "scalar";
	case PQ_T_STRING: return "string";
	case PQ_T_VECTOR: return "instant vector";
	case PQ_T_MATRIX: return "range vector";
	default: return "none";
	}
}

static const struct {
	const char *name;
	enum pq_op op;
} aggrs[] = {
    {"sum", PQ_SUM},     {"avg", PQ_AVG},         {"min", PQ_MIN},           {"max", PQ_MAX},
    {"count", PQ_COUNT}, {"group", PQ_GROUP},     {"stddev", PQ_STDDEV},     {"stdvar", PQ_STDVAR},
    {"topk", PQ_TOPK},   {"bottomk", PQ_BOTTOMK}, {"quantile", PQ_QUANTILE}, {"count_values", PQ_COUNT_VALUES},
};

const char *pq_op_name(enum pq_op op)
{
	switch (op) {
	case PQ_ADD: return "+";
	case PQ_SUB: return "-";
	case PQ_MUL: return "*";
	case PQ_DIV: return "/";
	case PQ_MOD: return "%";
	case PQ_POW: return "^";
	case PQ_ATAN2: return "atan2";
	case PQ_EQL: return "==";
	case PQ_NEQ: return "!=";
	case PQ_GTR: return ">";
	case PQ_LSS: return "<";
	case PQ_GTE: return ">=";
	case PQ_LTE: return "<=";
	case PQ_AND: return "and";
	case PQ_OR: return "or";
	case PQ_UNLESS: return "unless";
	default:
		for (size_t i = 0; i < sizeof aggrs / sizeof aggrs[0]; i++)
			if (aggrs[i].op == op)
				return aggrs[i].name;
		return "?";
	}
}

static enum pq_op aggr_lookup(const struct tokv *t)
{
	for (size_t i = 0; i < sizeof aggrs / sizeof aggrs[0]; i++)
		if (tok_is_kw(t, aggrs[i].name))
			return aggrs[i].op;
	return PQ_OP_NONE;
}

static bool is_comparison(enum pq_op op)
{
	return op >= PQ_EQL && op <= PQ_LTE;
}
static bool is_setop(enum pq_op op)
{
	return op == PQ_AND || op == PQ_OR || op == PQ_UNLESS;
}

static int binop_prec(const struct tokv *t, enum pq_op *op)
{
	switch (t->t) {
	case T_ADD: *op = PQ_ADD; return 4;
	case T_SUB: *op = PQ_SUB; return 4;
	case T_MUL: *op = PQ_MUL; return 5;
	case T_DIV: *op = PQ_DIV; return 5;
	case T_MOD: *op = PQ_MOD; return 5;
	case T_POW: *op = PQ_POW; return 6;
	case T_EQLC: *op = PQ_EQL; return 3;
	case T_NEQ: *op = PQ_NEQ; return 3;
	case T_GTR: *op = PQ_GTR; return 3;
	case T_LSS: *op = PQ_LSS; return 3;
	case T_GTE: *op = PQ_GTE; return 3;
	case T_LTE: *op = PQ_LTE; return 3;
	case T_IDENT:
		if (tok_is_kw(t, "and")) {
			*op = PQ_AND;
			return 2;
		}
		if (tok_is_kw(t, "unless")) {
			*op = PQ_UNLESS;
			return 2;
		}
		if (tok_is_kw(t, "or")) {
			*op = PQ_OR;
			return 1;
		}
		if (tok_is_kw(t, "atan2")) {
			*op = PQ_ATAN2;
			return 5;
		}
		return 0;
	default: return 0;
	}
}

static struct pq_node *parse_expr(struct parser *p, int min_prec);

static bool label_name_ok(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

/* ( label, label, ... ) with an optional trailing comma. */
static bool parse_label_list(struct parser *p, const char ***out, size_t *n, const char *ctx)
{
	if (!expect(p, T_LPAREN, ctx))
		return false;
	struct pane_vec v;
	pane_vec_init(&v, sizeof(const char *));
	for (;;) {
		struct tokv *t = peek(p);
		if (t->t == T_RPAREN) {
			next(p);
			break;
		}
		if (t->t != T_IDENT || !label_name_ok(t->s, t->len)) {
			unexpected(p, t, ctx, "label name");
			pane_vec_release(&v);
			return false;
		}
		struct tokv lt = next(p);
		const char *s = pane_arena_strndup(p->a, lt.s, lt.len);
		pane_vec_push(&v, &s);
		t = peek(p);
		if (t->t == T_COMMA) {
			next(p);
			continue;
		}
		if (t->t != T_RPAREN) {
			unexpected(p, t, ctx, "\",\" or \")\"");
			pane_vec_release(&v);
			return false;
		}
	}
	*n = v.len;
	*out = pane_arena_alloc(p->a, (v.len ? v.len : 1) * sizeof(const char *));
	if (v.len)
		memcpy(*out, v.data, v.len * sizeof(const char *));
	pane_vec_release(&v);
	return true;
}

static bool matcher_matches_empty(struct parser *p, const struct pane_matcher *m)
{
	switch (m->op) {
	case PANE_MATCH_EQ: return m->value[0] == 0;
	case PANE_MATCH_NE: return m->value[0] != 0;
	default: {
		struct pane_err e = {0};
		pcre2_code *re = pane_regex_compile(m->value, PANE_REGEX_DOTALL, &e);
		if (!re)
			return false;
		int r = pane_regex_match(re, "", 0, NULL);
		pcre2_code_free(re);
		bool mt = r == 1;
		return m->op == PANE_MATCH_RE ? mt : !mt;
	}
	}
}

static struct pq_node *parse_selector(struct parser *p, const struct tokv *name)
{
	struct pq_node *n = new_node(p, PQ_VSEL, name ? name->pos : peek(p)->pos);
	n->type = PQ_T_VECTOR;
	n->cache_id = p->n_sel++;
	struct pane_vec v;
	pane_vec_init(&v, sizeof(struct pane_matcher));
	if (name) {
		n->metric = pane_arena_strndup(p->a, name->s, name->len);
		struct pane_matcher m = {"__name__", n->metric, PANE_MATCH_EQ};
		pane_vec_push(&v, &m);
	}
	if (peek(p)->t == T_LBRACE) {
		int bpos = next(p).pos;
		for (;;) {
			struct tokv *t = peek(p);
			if (t->t == T_RBRACE) {
				next(p);
				break;
			}
			if (t->t != T_IDENT || !label_name_ok(t->s, t->len)) {
				unexpected(p, t, "label matching", "label name");
				goto fail;
			}
			struct tokv lt = next(p);
			struct tokv ot = next(p);
			enum pane_match_op op;
			switch (ot.t) {
			case T_ASSIGN: op = PANE_MATCH_EQ; break;
			case T_NEQ: op = PANE_MATCH_NE; break;
			case T_RE: op = PANE_MATCH_RE; break;
			case T_NRE: op = PANE_MATCH_NRE; break;
			default: unexpected(p, &ot, "label matching", "\"=\", \"!=\", \"=~\" or \"!~\""); goto fail;
			}
			struct tokv vt = next(p);
			if (vt.t != T_STRING) {
				unexpected(p, &vt, "label matching", "string");
				goto fail;
			}
			struct pane_matcher m = {pane_arena_strndup(p->a, lt.s, lt.len), vt.str, op};
			if (op == PANE_MATCH_RE || op == PANE_MATCH_NRE) {
				struct pane_err e = {0};
				pcre2_code *re = pane_regex_compile(vt.str, PANE_REGEX_DOTALL, &e);
				if (!re) {
					perr(p, vt.pos, "%s", e.msg);
					goto fail;
				}
				pcre2_code_free(re);
			}
			if (name && strcmp(m.name, "__name__") == 0) {
				perr(p, lt.pos, "metric name must not be set twice: %s", n->metric);
				goto fail;
			}
			pane_vec_push(&v, &m);
			t = peek(p);
			if (t->t == T_COMMA) {
				next(p);
				continue;
			}
			if (t->t != T_RBRACE) {
				unexpected(p, t, "label matching", "\",\" or \"}\"");
				goto fail;
			}
		}
		(void)bpos;
	}
	bool nonempty = false;
	for (size_t i = 0; i < v.len; i++)
		if (!matcher_matches_empty(p, pane_vec_at(&v, i)))
			nonempty = true;
	if (!nonempty) {
		perr(p, n->pos, "vector selector must contain at least one non-empty matcher");
		goto fail;
	}
	n->n_matchers = v.len;
	n->matchers = pane_arena_alloc(p->a, v.len * sizeof(struct pane_matcher));
	memcpy(n->matchers, v.data, v.len * sizeof(struct pane_matcher));
	pane_vec_release(&v);
	return n;
fail:
	pane_vec_release(&v);
	return NULL;
}

static bool check_arg_type(struct parser *p, struct pq_node *arg, enum pq_vtype want, const char *ctx)
{
	if (arg->type != want) {
		perr(p, arg->pos, "expected type %s in %s, got %s", pq_type_name(want), ctx, pq_type_name(arg->type));
		return false;
	}
	return true;
}

static struct pq_node *parse_call(struct parser *p, const struct tokv *name, const struct pq_func *f)
{
	struct pq_node *n = new_node(p, PQ_CALL, name->pos);
	n->func = f;
	n->type = f->ret;
	next(p); /* ( */
	struct pane_vec v;
	pane_vec_init(&v, sizeof(struct pq_node *));
	if (peek(p)->t != T_RPAREN) {
		for (;;) {
			struct pq_node *a = parse_expr(p, 0);
			if (!a)
				goto fail;
			pane_vec_push(&v, &a);
			struct tokv *t = peek(p);
			if (t->t == T_COMMA) {
				next(p);
				if (peek(p)->t == T_RPAREN)
					break;
				continue;
			}
			if (t->t != T_RPAREN) {
				unexpected(p, t, "function call", "\",\" or \")\"");
				goto fail;
			}
			break;
		}
	}
	next(p); /* ) */
	int nl = func_nlisted(f);
	int na = (int)v.len;
	if (f->variadic ? na < f->min_args : (na < f->min_args || na > nl)) {
		if (na < f->min_args)
			perr(p, name->pos, "expected %s%d argument(s) in call to \"%s\", got %d",
			     (f->variadic || f->min_args < nl) ? "at least " : "", f->min_args, f->name, na);
		else
			perr(p, name->pos, "expected %s%d argument(s) in call to \"%s\", got %d",
			     f->min_args < nl ? "at most " : "", nl, f->name, na);
		goto fail;
	}
	n->nargs = v.len;
	n->args = pane_arena_alloc(p->a, (v.len ? v.len : 1) * sizeof(struct pq_node *));
	if (v.len)
		memcpy(n->args, v.data, v.len * sizeof(struct pq_node *));
	pane_vec_release(&v);
	char ctx[96];
	snprintf(ctx, sizeof ctx, "call to function \"%s\"", f->name);
	for (size_t i = 0; i < n->nargs; i++) {
		enum pq_vtype want = f->args[(int)i < nl ? (int)i : nl - 1];
		if (!check_arg_type(p, n->args[i], want, ctx))
			return NULL;
	}
	return n;
fail:
	pane_vec_release(&v);
	return NULL;
}

static bool parse_grouping(struct parser *p, struct pq_node *n)
{
	struct tokv *t = peek(p);
	if (tok_is_kw(t, "by") || tok_is_kw(t, "without")) {
		if (n->has_grouping) {
			perr(p, t->pos, "aggregation must only contain one grouping clause");
			return false;
		}
		n->without = tok_is_kw(t, "without");
		n->has_grouping = true;
		next(p);
		return parse_label_list(p, &n->grouping, &n->n_grouping, "grouping opts");
	}
	return true;
}

static struct pq_node *parse_aggr(struct parser *p, const struct tokv *name, enum pq_op op)
{
	struct pq_node *n = new_node(p, PQ_AGG, name->pos);
	n->op = op;
	n->type = PQ_T_VECTOR;
	if (!parse_grouping(p, n))
		return NULL;
	if (peek(p)->t != T_LPAREN) {
		unexpected(p, peek(p), "aggregation", "\"(\"");
		return NULL;
	}
	next(p);
	struct pq_node *args[2] = {0};
	int na = 0;
	if (peek(p)->t != T_RPAREN) {
		for (;;) {
			struct pq_node *a = parse_expr(p, 0);
			if (!a)
				return NULL;
			if (na == 2) {
				perr(p, a->pos,
				     "wrong number of arguments for aggregate expression provided, expected 1 or 2, "
				     "got 3");
				return NULL;
			}
			args[na++] = a;
			struct tokv *t = peek(p);
			if (t->t == T_COMMA) {
				next(p);
				if (peek(p)->t == T_RPAREN)
					break;
				continue;
			}
			if (t->t != T_RPAREN) {
				unexpected(p, t, "aggregation", "\",\" or \")\"");
				return NULL;
			}
			break;
		}
	}
	next(p);
	bool want_param = op == PQ_TOPK || op == PQ_BOTTOMK || op == PQ_QUANTILE || op == PQ_COUNT_VALUES;
	if (na != (want_param ? 2 : 1)) {
		perr(p, name->pos, "wrong number of arguments for aggregate expression provided, expected %d, got %d",
		     want_param ? 2 : 1, na);
		return NULL;
	}
	n->a = args[na - 1];
	if (want_param)
		n->param = args[0];
	if (!parse_grouping(p, n))
		return NULL;
	if (!check_arg_type(p, n->a, PQ_T_VECTOR, "aggregation expression"))
		return NULL;
	if (want_param &&
	    !check_arg_type(p, n->param, op == PQ_COUNT_VALUES ? PQ_T_STRING : PQ_T_SCALAR, "aggregation parameter"))
		return NULL;
	return n;
}

static bool parse_at(struct parser *p, struct pq_node *n)
{
	struct tokv at = next(p);
	if (n->at_kind != PQ_AT_NONE) {
		perr(p, at.pos, "@ <timestamp> may not be set multiple times");
		return false;
	}
	struct tokv *t = peek(p);
	if (tok_is_kw(t, "start") || tok_is_kw(t, "end")) {
		n->at_kind = tok_is_kw(t, "start") ? PQ_AT_START : PQ_AT_END;
		next(p);
		if (!expect(p, T_LPAREN, "@ modifier") || !expect(p, T_RPAREN, "@ modifier"))
			return false;
		return true;
	}
	double sign = 1;
	if (t->t == T_SUB || t->t == T_ADD) {
		sign = t->t == T_SUB ? -1 : 1;
		next(p);
		t = peek(p);
	}
	if (t->t != T_NUMBER && t->t != T_DURATION) {
		unexpected(p, t, "@ modifier", "timestamp, start() or end()");
		return false;
	}
	struct tokv nt = next(p);
	double v = nt.t == T_NUMBER ? nt.num : (double)nt.dur / 1000.0;
	if (nt.t == T_DURATION) {
		/* a plain integer lexes as a duration only with a unit, so this is e.g. "5m" */
		perr(p, nt.pos, "unexpected duration in @ modifier, expected timestamp");
		return false;
	}
	v *= sign;
	if (!isfinite(v) || fabs(v) > (double)PQ_MAX_TIME_MS / 1000) {
		perr(p, nt.pos, "timestamp out of bounds for @ modifier: %g", v);
		return false;
	}
	n->at_kind = PQ_AT_TS;
	n->at = (int64_t)llround(v * 1000.0);
	return true;
}

static struct pq_node *parse_postfix(struct parser *p, struct pq_node *n)
{
	for (;;) {
		struct tokv *t = peek(p);
		if (t->t == T_LBRACK) {
			p->in_bracket++;
			int pos = next(p).pos;
			struct tokv d = next(p);
			struct tokv *c = peek(p);
			p->in_bracket--;
			if (d.t != T_DURATION) {
				unexpected(p, &d, "range or subquery", "duration");
				return NULL;
			}
			if (d.dur <= 0) {
				perr(p, d.pos, "duration must be greater than 0");
				return NULL;
			}
			if (c->t == T_RBRACK) {
				next(p);
				if (n->kind != PQ_VSEL || n->offset || n->at_kind != PQ_AT_NONE) {
					perr(p, pos,
					     n->kind == PQ_VSEL ? "no offset or @ modifiers allowed before range"
					                        : "ranges only allowed for vector selectors");
					return NULL;
				}
				struct pq_node *m = new_node(p, PQ_MSEL, n->pos);
				m->type = PQ_T_MATRIX;
				m->a = n;
				m->range = d.dur;
				n = m;
				continue;
			}
			if (c->t != T_COLON) {
				unexpected(p, c, "range or subquery", "\"]\" or \":\"");
				return NULL;
			}
			next(p);
			int64_t step = 0;
			if (peek(p)->t == T_DURATION) {
				step = next(p).dur;
				if (step <= 0) {
					perr(p, pos, "step must be greater than 0");
					return NULL;
				}
			}
			if (!expect(p, T_RBRACK, "subquery"))
				return NULL;
			if (n->type != PQ_T_VECTOR) {
				perr(p, n->pos, "subquery is only allowed on instant vector, got %s instead",
				     pq_type_name(n->type));
				return NULL;
			}
			struct pq_node *s = new_node(p, PQ_SUBQ, n->pos);
			s->type = PQ_T_MATRIX;
			s->a = n;
			s->range = d.dur;
			s->step = step;
			n = s;
			continue;
		}
		if (tok_is_kw(t, "offset")) {
			int pos = next(p).pos;
			struct pq_node *target = n->kind == PQ_MSEL ? n->a : n;
			if (!(n->kind == PQ_VSEL || n->kind == PQ_MSEL || n->kind == PQ_SUBQ)) {
				perr(p, pos,
				     "offset modifier must be preceded by an instant vector selector or range vector "
				     "selector or a subquery");
				return NULL;
			}
			if (target->offset) {
				perr(p, pos, "offset may not be set multiple times");
				return NULL;
			}
			int64_t sign = 1;
			if (peek(p)->t == T_SUB || peek(p)->t == T_ADD) {
				sign = next(p).t == T_SUB ? -1 : 1;
			}
			struct tokv d = next(p);
			if (d.t != T_DURATION) {
				unexpected(p, &d, "offset", "duration");
				return NULL;
			}
			target->offset = sign * d.dur;
			continue;
		}
		if (t->t == T_AT) {
			struct pq_node *target = n->kind == PQ_MSEL ? n->a : n;
			if (!(n->kind == PQ_VSEL || n->kind == PQ_MSEL || n->kind == PQ_SUBQ)) {
				perr(p, t->pos,
				     "@ modifier must be preceded by an instant vector selector or range vector "
				     "selector or a subquery");
				return NULL;
			}
			if (!parse_at(p, target))
				return NULL;
			continue;
		}
		return n;
	}
}

static struct pq_node *parse_primary(struct parser *p)
{
	struct tokv *t = peek(p);
	switch (t->t) {
	case T_NUMBER: {
		struct tokv nt = next(p);
		struct pq_node *n = new_node(p, PQ_NUM, nt.pos);
		n->type = PQ_T_SCALAR;
		n->num = nt.num;
		return n;
	}
	case T_STRING: {
		struct tokv st = next(p);
		struct pq_node *n = new_node(p, PQ_STR, st.pos);
		n->type = PQ_T_STRING;
		n->str = st.str;
		return n;
	}
	case T_LPAREN: {
		int pos = next(p).pos;
		struct pq_node *in = parse_expr(p, 0);
		if (!in)
			return NULL;
		if (!expect(p, T_RPAREN, "parenthesized expression"))
			return NULL;
		struct pq_node *n = new_node(p, PQ_PAREN, pos);
		n->a = in;
		n->type = in->type;
		return n;
	}
	case T_LBRACE: return parse_selector(p, NULL);
	case T_IDENT: {
		struct tokv it = next(p);
		struct tokv *after = peek(p);
		enum pq_op ag = aggr_lookup(&it);
		if (ag != PQ_OP_NONE && (after->t == T_LPAREN || tok_is_kw(after, "by") || tok_is_kw(after, "without")))
			return parse_aggr(p, &it, ag);
		if (after->t == T_LPAREN) {
			const struct pq_func *f = pq_func_lookup(it.s, it.len);
			if (!f) {
				perr(p, it.pos, "unknown function with name \"%.*s\"", (int)(it.len > 64 ? 64 : it.len),
				     it.s);
				return NULL;
			}
			return parse_call(p, &it, f);
		}
		static const char *kws[] = {"by",   "without", "on",  "ignoring", "group_left", "group_right",
		                            "bool", "offset",  "and", "or",       "unless",     "atan2"};
		for (size_t k = 0; k < sizeof kws / sizeof kws[0]; k++)
			if (tok_is_kw(&it, kws[k])) {
				unexpected(p, &it, NULL, "an expression");
				return NULL;
			}
		if (ag != PQ_OP_NONE) {
			perr(p, it.pos, "unexpected aggregation \"%.*s\" without \"(\"", (int)it.len, it.s);
			return NULL;
		}
		return parse_selector(p, &it);
	}
	default:
		if (t->t == T_EOF) { /* Prometheus' wording at the end of the input */
			int open = 0;
			for (size_t i = 0; i < p->len; i++) {
				char c = p->in[i];
				if (c == '"' || c == '\'' ||
				    c == '`') { /* skip string literals (closed: the lexer got here) */
					for (i++; i < p->len && p->in[i] != c; i++)
						if (p->in[i] == '\\' && c != '`')
							i++;
					continue;
				}
				if (c == '#') { /* comment to end of line */
					while (i < p->len && p->in[i] != '\n')
						i++;
					continue;
				}
				open += c == '(' ? 1 : c == ')' ? -1 : 0;
			}
			if (open > 0)
				perr(p, t->pos, "unclosed left parenthesis");
			else
				unexpected(p, t, NULL, NULL);
		} else {
			unexpected(p, t, NULL, "an expression");
		}
		return NULL;
	}
}

static struct pq_node *parse_unary(struct parser *p)
{
	struct tokv *t = peek(p);
	if (t->t == T_ADD || t->t == T_SUB) {
		struct tokv ot = next(p);
		if (++p->depth > PQ_MAX_DEPTH) {
			perr(p, ot.pos, "expression nests too deeply (more than %d levels)", PQ_MAX_DEPTH);
			return NULL;
		}
		struct pq_node *in = parse_expr(p, 6);
		p->depth--;
		if (!in)
			return NULL;
		if (in->type != PQ_T_SCALAR && in->type != PQ_T_VECTOR) {
			perr(p, ot.pos,
			     "unary expression only allowed on expressions of type scalar or instant vector, got %s",
			     pq_type_name(in->type));
			return NULL;
		}
		if (in->kind == PQ_NUM) {
			if (ot.t == T_SUB)
				in->num = -in->num;
			in->pos = ot.pos;
			return in;
		}
		struct pq_node *n = new_node(p, PQ_UNARY, ot.pos);
		n->op = ot.t == T_SUB ? PQ_SUB : PQ_ADD;
		n->a = in;
		n->type = in->type;
		return n;
	}
	struct pq_node *n = parse_primary(p);
	if (!n)
		return NULL;
	return parse_postfix(p, n);
}

static bool parse_bin_modifiers(struct parser *p, struct pq_node *n)
{
	struct tokv *t = peek(p);
	if (tok_is_kw(t, "bool")) {
		next(p);
		n->bool_mod = true;
		t = peek(p);
	}
	if (tok_is_kw(t, "on") || tok_is_kw(t, "ignoring")) {
		n->has_matching = true;
		n->on = tok_is_kw(t, "on");
		next(p);
		if (!parse_label_list(p, &n->mlabels, &n->n_mlabels, "grouping opts"))
			return false;
		t = peek(p);
		if (tok_is_kw(t, "group_left") || tok_is_kw(t, "group_right")) {
			n->card = tok_is_kw(t, "group_left") ? PQ_MANY_TO_ONE : PQ_ONE_TO_MANY;
			next(p);
			if (peek(p)->t == T_LPAREN) {
				if (!parse_label_list(p, &n->include, &n->n_include, "grouping opts"))
					return false;
			}
		}
	} else if (tok_is_kw(t, "group_left") || tok_is_kw(t, "group_right")) {
		perr(p, t->pos, "unexpected %.*s, expected \"on\" or \"ignoring\" before it", (int)t->len, t->s);
		return false;
	}
	return true;
}

static bool check_binary(struct parser *p, struct pq_node *n)
{
	enum pq_vtype lt = n->a->type, rt = n->b->type;
	if ((lt != PQ_T_SCALAR && lt != PQ_T_VECTOR) || (rt != PQ_T_SCALAR && rt != PQ_T_VECTOR)) {
		perr(p, n->pos, "binary expression must contain only scalar and instant vector types");
		return false;
	}
	if (n->bool_mod && !is_comparison(n->op)) {
		perr(p, n->pos, "bool modifier can only be used on comparison operators");
		return false;
	}
	if (is_comparison(n->op) && !n->bool_mod && lt == PQ_T_SCALAR && rt == PQ_T_SCALAR) {
		perr(p, n->pos, "comparisons between scalars must use BOOL modifier");
		return false;
	}
	if (is_setop(n->op)) {
		if (lt == PQ_T_SCALAR || rt == PQ_T_SCALAR) {
			perr(p, n->pos, "set operator \"%s\" not allowed in binary scalar expression",
			     pq_op_name(n->op));
			return false;
		}
		if (n->card == PQ_MANY_TO_ONE || n->card == PQ_ONE_TO_MANY) {
			perr(p, n->pos, "no grouping allowed for \"%s\" operation", pq_op_name(n->op));
			return false;
		}
		n->card = PQ_MANY_TO_MANY;
	}
	if ((lt != PQ_T_VECTOR || rt != PQ_T_VECTOR) && n->has_matching) {
		perr(p, n->pos, "vector matching only allowed between instant vectors");
		return false;
	}
	if (n->has_matching && n->on)
		for (size_t i = 0; i < n->n_include; i++)
			for (size_t j = 0; j < n->n_mlabels; j++)
				if (!strcmp(n->include[i], n->mlabels[j])) {
					perr(p, n->pos, "label \"%s\" must not occur in ON and GROUP clause at once",
					     n->include[i]);
					return false;
				}
	n->type = (lt == PQ_T_VECTOR || rt == PQ_T_VECTOR) ? PQ_T_VECTOR : PQ_T_SCALAR;
	return true;
}

static struct pq_node *parse_expr(struct parser *p, int min_prec)
{
	if (++p->depth > PQ_MAX_DEPTH) {
		perr(p, peek(p)->pos, "expression nests too deeply (more than %d levels)", PQ_MAX_DEPTH);
		return NULL;
	}
	struct pq_node *lhs = parse_unary(p);
	while (lhs && !p->failed) {
		enum pq_op op;
		int prec = binop_prec(peek(p), &op);
		if (prec == 0 || prec < min_prec)
			break;
		struct tokv ot = next(p);
		struct pq_node *n = new_node(p, PQ_BIN, ot.pos);
		n->op = op;
		n->a = lhs;
		if (!parse_bin_modifiers(p, n)) {
			lhs = NULL;
			break;
		}
		struct pq_node *rhs = parse_expr(p, op == PQ_POW ? prec : prec + 1);
		if (!rhs) {
			lhs = NULL;
			break;
		}
		n->b = rhs;
		if (!check_binary(p, n)) {
			lhs = NULL;
			break;
		}
		lhs = n;
	}
	p->depth--;
	return p->failed ? NULL : lhs;
}

/* The tree's height bounds every recursive walk after parsing (evaluation,
 * planning, printing). Operator chains (x + x + ... + x, a or b or ...)
 * parse iteratively yet nest in the tree, so they are counted here, not by
 * the parser's recursion depth. The walk itself stops at the bound. */
static bool check_height(struct parser *p, const struct pq_node *n, int h)
{
	if (!n)
		return true;
	if (h > PQ_MAX_HEIGHT) {
		perr(p, n->pos, "expression nests too deeply (more than %d operators, calls or parentheses in a row)",
		     PQ_MAX_HEIGHT);
		return false;
	}
	for (size_t i = 0; i < n->nargs; i++)
		if (!check_height(p, n->args[i], h + 1))
			return false;
	return check_height(p, n->a, h + 1) && check_height(p, n->b, h + 1) && check_height(p, n->param, h + 1);
}

struct pq_expr *pq_parse(const char *input, struct pane_err *err)
{
	size_t len = strlen(input);
	if (len > PQ_MAX_EXPR_LEN) {
		pane_err_set(err, PANE_ETOOBIG, "query is too long (%zu bytes, at most %d)", len, PQ_MAX_EXPR_LEN);
		return NULL;
	}
	struct pq_expr *e = pane_xcalloc(1, sizeof *e);
	pane_arena_init(&e->arena, 0);
	struct parser p = {.in = input, .len = len, .a = &e->arena, .err = err};
	if (peek(&p)->t == T_EOF) {
		perr(&p, 0, "no expression found in input");
		goto fail;
	}
	e->root = parse_expr(&p, 0);
	if (!e->root || p.failed)
		goto fail;
	if (peek(&p)->t != T_EOF) {
		unexpected(&p, peek(&p), NULL, "end of input or an operator");
		goto fail;
	}
	if (!check_height(&p, e->root, 1))
		goto fail;
	e->n_selectors = p.n_sel;
	return e;
fail:
	if (!p.failed)
		perr(&p, (int)p.off, "invalid expression");
	pq_expr_free(e);
	return NULL;
}

void pq_expr_free(struct pq_expr *e)
{
	if (!e)
		return;
	pane_arena_release(&e->arena);
	free(e);
}

/* ---------------- printer ---------------- */

static void print_str(struct pane_buf *b, const char *s)
{
	pane_buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			pane_buf_addf(b, "\\%c", c);
		else if (c == '\n')
			pane_buf_adds(b, "\\n");
		else if (c < 0x20)
			pane_buf_addf(b, "\\x%02x", c);
		else
			pane_buf_addc(b, (char)c);
	}
	pane_buf_addc(b, '"');
}

static void print_labels(struct pane_buf *b, const char **l, size_t n)
{
	pane_buf_addc(b, '(');
	for (size_t i = 0; i < n; i++)
		pane_buf_addf(b, "%s%s", i ? ", " : "", l[i]);
	pane_buf_addc(b, ')');
}

static void print_mods(struct pane_buf *b, const struct pq_node *n)
{
	char d[64];
	if (n->offset) {
		pq_duration_format(n->offset, d, sizeof d);
		pane_buf_addf(b, " offset %s", d);
	}
	if (n->at_kind == PQ_AT_TS)
		pane_buf_addf(b, " @ %.3f", (double)n->at / 1000.0);
	else if (n->at_kind == PQ_AT_START)
		pane_buf_adds(b, " @ start()");
	else if (n->at_kind == PQ_AT_END)
		pane_buf_adds(b, " @ end()");
}

static void print_vsel(struct pane_buf *b, const struct pq_node *n)
{
	static const char *ops[] = {"=", "!=", "=~", "!~"};
	size_t first = 0;
	if (n->metric) {
		pane_buf_adds(b, n->metric);
		first = 1;
	}
	if (n->n_matchers > first || !n->metric) {
		pane_buf_addc(b, '{');
		for (size_t i = first; i < n->n_matchers; i++) {
			pane_buf_addf(b, "%s%s%s", i > first ? ", " : "", n->matchers[i].name, ops[n->matchers[i].op]);
			print_str(b, n->matchers[i].value);
		}
		pane_buf_addc(b, '}');
	}
}

void pq_print(const struct pq_node *n, struct pane_buf *b)
{
	char d[64], s[64];
	switch (n->kind) {
	case PQ_NUM: {
		char f[400];
		pane_query_fmt_float(n->num, f, sizeof f);
		pane_buf_adds(b, f);
		break;
	}
	case PQ_STR: print_str(b, n->str); break;
	case PQ_VSEL:
		print_vsel(b, n);
		print_mods(b, n);
		break;
	case PQ_MSEL:
		print_vsel(b, n->a);
		pq_duration_format(n->range, d, sizeof d);
		pane_buf_addf(b, "[%s]", d);
		print_mods(b, n->a);
		break;
	case PQ_SUBQ:
		pq_print(n->a, b);
		pq_duration_format(n->range, d, sizeof d);
		if (n->step) {
			pq_duration_format(n->step, s, sizeof s);
			pane_buf_addf(b, "[%s:%s]", d, s);
		} else {
			pane_buf_addf(b, "[%s:]", d);
		}
		print_mods(b, n);
		break;
	case PQ_CALL:
		pane_buf_addf(b, "%s(", n->func->name);
		for (size_t i = 0; i < n->nargs; i++) {
			if (i)
				pane_buf_adds(b, ", ");
			pq_print(n->args[i], b);
		}
		pane_buf_addc(b, ')');
		break;
	case PQ_AGG:
		pane_buf_adds(b, pq_op_name(n->op));
		if (n->has_grouping) {
			pane_buf_adds(b, n->without ? " without " : " by ");
			print_labels(b, n->grouping, n->n_grouping);
			pane_buf_addc(b, ' ');
		}
		pane_buf_addc(b, '(');
		if (n->param) {
			pq_print(n->param, b);
			pane_buf_adds(b, ", ");
		}
		pq_print(n->a, b);
		pane_buf_addc(b, ')');
		break;
	case PQ_BIN:
		/* Prometheus prints the literal Inf as "+Inf"; left of ^ that would
		 * read back as +(Inf ^ x) (unary binds looser than ^), so print it
		 * bare there to keep print(parse(print(e))) == print(e) */
		if (n->op == PQ_POW && n->a->kind == PQ_NUM && isinf(n->a->num) && n->a->num > 0)
			pane_buf_adds(b, "Inf");
		else
			pq_print(n->a, b);
		pane_buf_addf(b, " %s ", pq_op_name(n->op));
		if (n->bool_mod)
			pane_buf_adds(b, "bool ");
		if (n->has_matching) {
			pane_buf_adds(b, n->on ? "on" : "ignoring");
			print_labels(b, n->mlabels, n->n_mlabels);
			pane_buf_addc(b, ' ');
			if (n->card == PQ_MANY_TO_ONE || n->card == PQ_ONE_TO_MANY) {
				pane_buf_adds(b, n->card == PQ_MANY_TO_ONE ? "group_left" : "group_right");
				print_labels(b, n->include, n->n_include);
				pane_buf_addc(b, ' ');
			}
		}
		pq_print(n->b, b);
		break;
	case PQ_UNARY:
		pane_buf_adds(b, n->op == PQ_SUB ? "-" : "+");
		pq_print(n->a, b);
		break;
	case PQ_PAREN:
		pane_buf_addc(b, '(');
		pq_print(n->a, b);
		pane_buf_addc(b, ')');
		break;
	}
}
