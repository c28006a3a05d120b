/*
 * tmpl_internal.h - what the template engine (the parser, tmplparse.c, and
 * the run, template.c), its function library (tmplfuncs.c) and
 * Alertmanager's default templates (amdefaults.c) share; no other file includes it (the API is alert/template.h).
 *
 * A running template is a struct run: the values it makes are borrowed
 * within the run and live on its allocation list (tmpl_ralloc, tmpl_rstr,
 * tmpl_new_sample), freed when the run ends. The first failure is kept
 * (tmpl_fail); later ones are ignored, and callers check r->failed.
 * Thread context: a run belongs to one thread.
 */
#ifndef PANE_ALERT_TMPL_INTERNAL_H
#define PANE_ALERT_TMPL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert/template.h"
#include "base/buf.h"
#include "base/err.h"

/* ---- the tree (tmplparse.c builds it, template.c walks it) ---- */

/* Nesting bound of both the parser and a run. */
#define TMPL_MAX_DEPTH 100

enum nk {
	N_LIST,
	N_TEXT,
	N_ACTION,
	N_IF,
	N_RANGE,
	N_WITH,
	N_BREAK,
	N_CONTINUE,
	/* operands */
	N_FIELD,
	N_VAR,
	N_DOT,
	N_IDENT,
	N_STRING,
	N_NUMBER,
	N_BOOL,
	N_NIL,
	N_PIPE,
	N_CHAIN,
	N_TEMPLATE, /* {{template "name" pipeline}} (Alertmanager mode) */
};

struct node;

struct pipe {
	char **decl;
	size_t n_decl;
	bool assign;        /* = rather than := */
	struct node **cmds; /* each an N_LIST of operands (a command) */
	size_t n_cmds;
};

struct node {
	enum nk k;
	int pos;       /* byte offset in the text, where Go puts the node */
	int start;     /* where the operand's first token starts */
	char *text;    /* TEXT, STRING value, IDENT name, VAR name, NUMBER text, source form */
	size_t len;    /* TEXT length */
	char **fields; /* FIELD/VAR/CHAIN: .a.b */
	size_t n_fields;
	bool isint, b;
	int64_t i;
	double f;
	struct pipe *pipe;   /* ACTION/IF/RANGE/WITH/PIPE */
	struct node **items; /* LIST: children / command operands */
	size_t n_items;
	struct node *list, *elselist; /* IF/RANGE/WITH */
	struct node *operand;         /* CHAIN: (pipe).field */
};

/* Named templates ({{define}}): a set's files, or one text's own. */
struct deftab {
	char **names;
	struct node **bodies;
	size_t n;
};

/* Parses a template text: its tree, or NULL with err set ("template:
 * NAME:LINE: ..."). tmpl_parse_am: Alertmanager mode (its function map,
 * {{template}}); {{define}}s go to defs (the caller owns the names and
 * bodies moved there). */
struct node *tmpl_parse(const char *name, const char *src, size_t len, struct pane_err *err);
struct node *tmpl_parse_am(const char *name, const char *src, size_t len, struct deftab *defs, struct pane_err *err);
void tmpl_node_free(struct node *n);
/* Adds (takes name and body) or replaces a named template. */
void tmpl_deftab_put(struct deftab *t, char *name, struct node *body);
/* The named template, or NULL (t may be NULL). */
const struct node *tmpl_deftab_get(const struct deftab *t, const char *name);
void tmpl_deftab_release(struct deftab *t);
/* The 1-based line of byte pos in src. */
int tmpl_line_of(const char *src, size_t pos);
/* n's source form, as Go quotes a node in its errors ("at <.Labels.x>"). */
void tmpl_node_source(const struct node *n, struct pane_buf *b);

enum vk {
	V_NIL,
	V_STR,
	V_INT,
	V_FLOAT,
	V_BOOL,
	V_LABELS,
	V_VEC,
	V_SAMPLE,
	V_ARGS,
	V_DATA,
	V_HTML,
	/* Alertmanager's notification data (template.Data) */
	V_AM,
	V_ALERTS,
	V_ALERT,
	V_STRS,
	V_PAIRS,
	V_PAIR,
	V_TIME,
};

/* []Alert, []string or Pairs (names and values) */
struct tlist {
	const struct pane_tmpl_am_alert **al;
	const char **s, **s2;
	size_t n;
};

struct tsample;
struct tvec;
struct targs;

struct val {
	enum vk k;
	const char *s; /* STR, HTML */
	int64_t i;
	double f;
	bool b;
	const struct pane_labels *ls; /* LABELS (may be NULL: empty map) */
	struct tvec *vec;
	struct tsample *smp;
	struct targs *args;
	const struct pane_tmpl_am_alert *al; /* ALERT */
	struct tlist *lst;                   /* ALERTS, STRS, PAIRS */
	const char *s2;                      /* PAIR: s name, s2 value */
};

struct tsample {
	struct pane_labels labels;
	double value;
};

struct tvec {
	struct tsample **s;
	size_t n;
};

struct targs {
	struct val *v;
	size_t n;
};

struct var {
	const char *name;
	struct val v;
};

struct run {
	bool am;
	const struct pane_tmpl_am_data *amd;
	const struct deftab *set_defs, *local_defs;
	const char *name;
	const char *src;
	const struct pane_tmpl_data *d;
	struct pane_buf *out;
	struct pane_err *err;
	bool failed;
	void **allocs;
	size_t n_allocs, cap_allocs;
	struct tsample **samples;
	size_t n_samples, cap_samples;
	struct var *vars;
	size_t n_vars, cap_vars;
	int depth;
	int brk; /* 1 break, 2 continue */
};

/* ---- the engine's side (template.c) ---- */

/* Zeroed memory / a NUL-terminated copy of s[0..n) / an empty sample with
 * labels, owned by the run (freed when it ends). */
void *tmpl_ralloc(struct run *r, size_t n);
const char *tmpl_rstr(struct run *r, const char *s, size_t n);
struct tsample *tmpl_new_sample(struct run *r);
/* Records the run's first error, Go's "template: NAME:LINE:COL: executing
 * \"NAME\" at <NODE>: ..." with n's position and source form. */
void tmpl_fail(struct run *r, const struct node *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prints v as Go's text/template does ({{.}}); the string value of v. */
void tmpl_print_val(struct run *r, const struct val *v, struct pane_buf *b);
/* Go's name of v's type, as its error messages say it. */
const char *tmpl_type_name(const struct val *v);
/* Go's truth of v: {{if}}, and, or, not. */
bool tmpl_truth(const struct val *v);
/* A string value (s borrowed). */
struct val tmpl_sval(const char *s);
/* Go's strconv.FormatFloat(v, fmt, -1, 64) for fmt 'g' or 'e'. */
void tmpl_go_shortest(double v, char fmt, char *out, size_t outlen);

/* ---- the functions (tmplfuncs.c) ---- */

/* Calls template function fn (Prometheus' and Go's builtins; in an
 * Alertmanager run, Alertmanager's too) with the n evaluated arguments a
 * (dot is the pipeline's dot); the result, or {0} after tmpl_fail. */
struct val tmpl_call(struct run *r, const struct node *at, const char *fn, struct val *a, size_t n, struct val dot);

/* ---- Alertmanager's default templates (amdefaults.c) ---- */

/* The text every notification template set starts with (pane_tmpl_set_new). */
extern const char tmpl_am_defaults[];

#endif
