/*
 * ast.h - LogQL's syntax tree (internal to src/logql).
 *
 * parse.c builds it, pipeline.c runs a log expression's stages on one line,
 * eval.c walks the metric nodes. Every node and string is allocated from
 * the expression's arena (struct pane_logql_expr.mem) and freed with it;
 * compiled regexes are listed there too.
 */
#ifndef PANE_LOGQL_AST_H
#define PANE_LOGQL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/regex.h"
#include "logql/logql.h"
#include "pipeline/reader.h"

enum lq_line_op { LQ_CONTAINS, LQ_NOT_CONTAINS, LQ_MATCH, LQ_NOT_MATCH };

/* A label filter: a tree of and/or over comparisons. */
enum lq_lf_kind { LQ_LF_AND, LQ_LF_OR, LQ_LF_STR, LQ_LF_NUM };
enum lq_cmp { LQ_EQ, LQ_NE, LQ_RE, LQ_NRE, LQ_GT, LQ_GE, LQ_LT, LQ_LE };

struct lq_lf {
	enum lq_lf_kind kind;
	struct lq_lf *a, *b; /* AND / OR */
	const char *name;
	enum lq_cmp op;
	const char *str; /* STR */
	pcre2_code *re;  /* STR with =~ / !~ */
	double num;      /* NUM (durations in seconds) */
	bool duration;   /* NUM written as a duration: compare parsed durations */
};

/* line_format: literal text and {{.label}} / {{__line__}} references. */
struct lq_tpart {
	const char *text; /* literal, or the label name */
	size_t len;
	enum { LQ_T_TEXT, LQ_T_LABEL, LQ_T_LINE } kind;
};

enum lq_stage_kind { LQ_LINE_FILTER, LQ_JSON, LQ_LOGFMT, LQ_LINE_FORMAT, LQ_LABEL_FILTER, LQ_DROP, LQ_KEEP };

struct lq_stage {
	enum lq_stage_kind kind;
	enum lq_line_op lop; /* LINE_FILTER */
	const char *text;    /* LINE_FILTER */
	size_t text_len;
	pcre2_code *re;         /* LINE_FILTER |~ !~ */
	struct lq_lf *lf;       /* LABEL_FILTER */
	struct lq_tpart *parts; /* LINE_FORMAT */
	size_t n_parts;
	const char **names; /* DROP / KEEP */
	size_t n_names;
};

struct lq_log {
	struct pane_matcher *matchers;
	size_t n_matchers;
	struct lq_stage *stages;
	size_t n_stages;
	bool changes_labels; /* a stage adds, drops or filters on extracted labels */
};

enum lq_node_kind { LQ_N_RANGE, LQ_N_AGG, LQ_N_TOPK, LQ_N_BINARY, LQ_N_NUMBER, LQ_N_VECTOR };
enum lq_range_fn { LQ_COUNT_OVER_TIME, LQ_RATE, LQ_BYTES_OVER_TIME, LQ_BYTES_RATE };
enum lq_agg_op { LQ_SUM, LQ_AVG, LQ_MIN, LQ_MAX, LQ_COUNT };

struct lq_node {
	enum lq_node_kind kind;
	enum lq_range_fn fn; /* RANGE */
	struct lq_log *log;  /* RANGE */
	int64_t range_ms;    /* RANGE */
	enum lq_agg_op agg;  /* AGG */
	bool bottom;         /* TOPK: bottomk */
	bool without;        /* AGG: without (...) instead of by (...) */
	bool grouped;        /* AGG: by/without given */
	const char **names;  /* AGG grouping labels */
	size_t n_names;
	char op;               /* BINARY: + - * / % */
	struct lq_node *a, *b; /* AGG/TOPK: a; BINARY: a op b */
	double num;            /* NUMBER, VECTOR, TOPK's k */
};

struct lq_mem {
	void **v;
	size_t n, cap;
	pcre2_code **re;
	size_t n_re, cap_re;
};

struct pane_logql_expr {
	struct lq_mem mem;
	struct lq_log *log;   /* a log query */
	struct lq_node *root; /* a metric query */
};

void *lq_alloc(struct lq_mem *m, size_t size);
/* A Go/Prometheus duration ("5m", "1h30m", "1.5s", "250ms", "2d") in
 * seconds: 0, or -1 when s is not one. */
int lq_parse_duration(const char *s, size_t len, double *out);

/* pipeline.c: one line through a log expression's stages. */
struct lq_run {
	struct pane_labels labels; /* the line's labels after the stages (owned) */
	struct pane_buf line;      /* the line after line_format */
	struct pane_buf scratch;
	pcre2_match_data *md;
	const char *out; /* the line after the stages (the input or r->line) */
	size_t out_len;
};
void lq_run_init(struct lq_run *r);
void lq_run_release(struct lq_run *r);
/* 1 keep, 0 dropped by a filter, PANE_ETOOBIG when a regex hit its limit.
 * When !log->changes_labels, r->labels is left untouched (the caller uses
 * the stream's labels). */
int lq_pipeline(const struct lq_log *log, struct lq_run *r, const struct pane_labels *stream, const char *line,
                size_t len);

#endif
