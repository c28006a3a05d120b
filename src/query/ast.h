/*
 * ast.h - the PromQL syntax tree, its arena, and the parser/printer (internal).
 *
 * Every node and string of one parsed expression lives in one arena and is
 * freed with it. The parser type-checks as Prometheus' does, so the
 * evaluator may assume argument types are right.
 */
#ifndef PANE_QUERY_AST_H
#define PANE_QUERY_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "pipeline/reader.h"

#include "base/arena.h"
#include "base/clock.h"
#include "base/regex.h" /* pcre2.h */

enum pq_vtype { PQ_T_NONE, PQ_T_SCALAR, PQ_T_STRING, PQ_T_VECTOR, PQ_T_MATRIX };

enum pq_kind { PQ_NUM, PQ_STR, PQ_VSEL, PQ_MSEL, PQ_SUBQ, PQ_CALL, PQ_AGG, PQ_BIN, PQ_UNARY, PQ_PAREN };

enum pq_op {
	PQ_OP_NONE,
	/* arithmetic */
	PQ_ADD,
	PQ_SUB,
	PQ_MUL,
	PQ_DIV,
	PQ_MOD,
	PQ_POW,
	PQ_ATAN2,
	/* comparison */
	PQ_EQL,
	PQ_NEQ,
	PQ_GTR,
	PQ_LSS,
	PQ_GTE,
	PQ_LTE,
	/* set */
	PQ_AND,
	PQ_OR,
	PQ_UNLESS,
	/* aggregations */
	PQ_SUM,
	PQ_AVG,
	PQ_MIN,
	PQ_MAX,
	PQ_COUNT,
	PQ_GROUP,
	PQ_STDDEV,
	PQ_STDVAR,
	PQ_TOPK,
	PQ_BOTTOMK,
	PQ_QUANTILE,
	PQ_COUNT_VALUES,
};

enum pq_card { PQ_ONE_TO_ONE, PQ_MANY_TO_ONE, PQ_ONE_TO_MANY, PQ_MANY_TO_MANY };
enum pq_at { PQ_AT_NONE, PQ_AT_TS, PQ_AT_START, PQ_AT_END };

struct pq_func;

struct pq_node {
	enum pq_kind kind;
	enum pq_vtype type;
	int pos;         /* byte offset in the expression */
	double num;      /* PQ_NUM */
	const char *str; /* PQ_STR */
	/* PQ_VSEL */
	const char *metric; /* name given before the braces, or NULL */
	struct pane_matcher *matchers;
	size_t n_matchers;
	/* PQ_VSEL/PQ_SUBQ: modifiers */
	int64_t offset; /* ms, may be negative */
	enum pq_at at_kind;
	int64_t at; /* ms, PQ_AT_TS */
	/* PQ_MSEL/PQ_SUBQ */
	int64_t range, step; /* ms; step 0: default */
	/* children: unary/paren/msel/subq use a; binary a, b; aggregation a and param */
	struct pq_node *a, *b, *param;
	/* PQ_CALL */
	const struct pq_func *func;
	struct pq_node **args;
	size_t nargs;
	/* PQ_BIN / PQ_UNARY / PQ_AGG */
	enum pq_op op;
	bool bool_mod;
	bool has_matching; /* on/ignoring given */
	bool on;
	enum pq_card card;
	const char **mlabels; /* on/ignoring labels */
	size_t n_mlabels;
	const char **include; /* group_left/right labels */
	size_t n_include;
	/* PQ_AGG */
	bool without, has_grouping;
	const char **grouping;
	size_t n_grouping;
	/* evaluator scratch: index into the selector cache */
	int cache_id;
};

enum pq_fn {
	F_ABS,
	F_ABSENT,
	F_ABSENT_OVER_TIME,
	F_ACOS,
	F_ACOSH,
	F_ASIN,
	F_ASINH,
	F_ATAN,
	F_ATANH,
	F_AVG_OVER_TIME,
	F_CEIL,
	F_CHANGES,
	F_CLAMP,
	F_CLAMP_MAX,
	F_CLAMP_MIN,
	F_COS,
	F_COSH,
	F_COUNT_OVER_TIME,
	F_DAYS_IN_MONTH,
	F_DAY_OF_MONTH,
	F_DAY_OF_WEEK,
	F_DAY_OF_YEAR,
	F_DEG,
	F_DELTA,
	F_DERIV,
	F_EXP,
	F_FLOOR,
	F_HISTOGRAM_QUANTILE,
	F_HOLT_WINTERS,
	F_HOUR,
	F_IDELTA,
	F_INCREASE,
	F_IRATE,
	F_LABEL_REPLACE,
	F_LABEL_JOIN,
	F_LAST_OVER_TIME,
	F_LN,
	F_LOG10,
	F_LOG2,
	F_MAX_OVER_TIME,
	F_MIN_OVER_TIME,
	F_MINUTE,
	F_MONTH,
	F_PI,
	F_PREDICT_LINEAR,
	F_PRESENT_OVER_TIME,
	F_QUANTILE_OVER_TIME,
	F_RAD,
	F_RATE,
	F_RESETS,
	F_ROUND,
	F_SCALAR,
	F_SGN,
	F_SIN,
	F_SINH,
	F_SORT,
	F_SORT_DESC,
	F_SQRT,
	F_STDDEV_OVER_TIME,
	F_STDVAR_OVER_TIME,
	F_SUM_OVER_TIME,
	F_TAN,
	F_TANH,
	F_TIME,
	F_TIMESTAMP,
	F_VECTOR,
	F_YEAR,
};

struct pq_func {
	const char *name;
	enum pq_fn id;
	enum pq_vtype args[6]; /* PQ_T_NONE terminates */
	int min_args;          /* fewer than listed: optional trailing args */
	bool variadic;         /* last listed type repeats */
	enum pq_vtype ret;
};
const struct pq_func *pq_func_lookup(const char *name, size_t len);

struct pq_expr {
	struct pane_arena arena;
	struct pq_node *root;
	int n_selectors; /* cache ids 0..n-1 */
};

#define PQ_MAX_DEPTH 200 /* parser recursion bound: parentheses, calls, operators */
/* Tree height bound (root to deepest leaf, any node kind): what the
 * evaluator's recursion needs; a chain of N binary operators is N high. */
#define PQ_MAX_HEIGHT 1000
#define PQ_MAX_EXPR_LEN (256 * 1024)
/* Bounds that keep every time computation (t - offset - range - lookback)
 * far inside int64 milliseconds. */
#define PQ_MAX_DURATION_MS PANE_PROM_DURATION_MAX_MS /* base/clock.h owns the grammar */
#define PQ_MAX_TIME_MS 9223372036854775LL            /* ~292,000 years */

/* Parses and type-checks. NULL with "1:7: parse error: ..." in err. */
struct pq_expr *pq_parse(const char *input, struct pane_err *err);
void pq_expr_free(struct pq_expr *e);
void pq_print(const struct pq_node *n, struct pane_buf *b);
const char *pq_op_name(enum pq_op op);
const char *pq_type_name(enum pq_vtype t);
/* Durations as Prometheus writes them: 1y2w3d4h5m6s7ms, units in order. */
/* PromQL's names for base/clock.h's Prometheus durations (one grammar). */
static inline int pq_duration_parse(const char *s, size_t len, int64_t *ms)
{
	return pane_prom_duration_parse(s, len, ms);
}
static inline void pq_duration_format(int64_t ms, char *out, size_t len)
{
	pane_prom_duration_format(ms, out, len);
}

#endif
