/*
 * rules.h - Prometheus alerting and recording rules: load, evaluate, report.
 *
 * A rule file is Prometheus' format (groups of rules with interval, limit;
 * recording rules; alerting rules with for, keep_firing_for, labels,
 * annotations). pane_rules_load() reads files into groups, refusing anything
 * Prometheus would refuse with "FILE: LINE:COL: ..." as promtool prints it.
 * pane_rules_group_eval() evaluates one group at one timestamp with
 * Prometheus 2.42's semantics and hands the samples it produces (recording
 * rules' series, ALERTS, ALERTS_FOR_STATE, stale markers) to a writer, rule
 * by rule, so a later rule sees an earlier one's output.
 *
 * Threads: a group is evaluated by one thread at a time; the state of its
 * rules is guarded by the group's mutex (held during evaluation and by the
 * API's readers).
 */
#ifndef PANE_ALERT_RULES_H
#define PANE_ALERT_RULES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/map.h"
#include "pipeline/record.h"
#include "pipeline/reader.h"

struct pane_rule_kv {
	char *name;
	char *value;
};

enum pane_alert_state { PANE_ALERT_INACTIVE, PANE_ALERT_PENDING, PANE_ALERT_FIRING };

struct pane_rule_alert {
	struct pane_labels labels; /* the alert's labels (alertname, rule labels, series labels) */
	struct pane_rule_kv *ann;  /* expanded annotations, sorted by name */
	size_t n_ann;
	uint64_t hash;
	enum pane_alert_state state;
	double value;
	int64_t active_at, fired_at, resolved_at, last_sent_at, valid_until, keep_firing_since; /* ms; 0 = unset */
	bool seen; /* during an evaluation: the query returned it */
};

struct pane_rule {
	bool alerting;
	char *name; /* metric name (record) or alertname */
	char *expr;
	int64_t for_ms, keep_firing_for_ms;
	struct pane_rule_kv *labels; /* sorted by name; alerting rules' values are templates */
	size_t n_labels;
	struct pane_rule_kv *ann; /* alerting only; templates */
	size_t n_ann;
	/* state */
	struct pane_rule_alert **active; /* alerting: active and recently resolved alerts */
	size_t n_active, cap_active;
	struct pane_labels *prev; /* series written at the previous evaluation (for stale markers) */
	size_t n_prev;
	char *last_error; /* NULL when healthy */
	bool evaluated;
	int64_t last_eval_ms;
	double eval_seconds;
	uint64_t evaluations, failures;
};

struct pane_rule_group {
	char *name;
	char *file;
	int64_t interval_ms; /* 0: the global evaluation interval */
	int64_t limit;
	struct pane_rule *rules;
	size_t n_rules;
	pthread_mutex_t mu;
	int64_t last_eval_ms;
	double eval_seconds;
};

struct pane_rules {
	struct pane_rule_group *groups;
	size_t n_groups;
};

/* Loads rule files in order. Duplicate group names within a file are an
 * error, as are YAML errors, unknown fields, PromQL syntax errors and bad
 * templates. On error returns NULL with err set to every problem (one per
 * line), each "FILE: LINE:COL: ..." as promtool prints them. */
struct pane_rules *pane_rules_load(char *const *files, size_t n, struct pane_err *err);
void pane_rules_free(struct pane_rules *r);
/* Moves the state (active alerts, health) of rules that exist in both
 * (same group file+name, same rule name+expr, same position) from old to new. */
void pane_rules_carry_state(struct pane_rules *new_rules, struct pane_rules *old_rules);

/* Where a group's output goes (samples are borrowed for the call). */
struct pane_rules_writer {
	int (*write)(void *ctx, const struct pane_sample *s, size_t n, struct pane_err *err);
	void *ctx;
};

struct pane_rules_env {
	struct pane_reader reader;
	struct pane_rules_writer out;
	const struct pane_labels *external_labels; /* may be NULL */
	const char *external_url;                  /* may be NULL */
	int64_t default_interval_ms;
	int64_t lookback_ms; /* 0: 5 m */
	bool write_alerts;   /* write ALERTS / ALERTS_FOR_STATE (restored) */
};

/* Evaluates every rule of g at ts (ms). Rule failures are recorded on the
 * rule (last_error, failures), never returned. Takes g->mu. */
void pane_rules_group_eval(struct pane_rule_group *g, const struct pane_rules_env *env, int64_t ts);

struct pane_alert_sink;
/* Hands the alerts of g that need sending at ts to sink, with Prometheus'
 * rules: pending never; firing when never sent or last sent more than
 * resend_delay_ms ago; resolved when resolved since the last send (and again
 * every resend delay while kept). Sets last_sent_at and valid_until = ts +
 * 4 x max(resend delay, interval); ends_at = resolved_at or valid_until,
 * starts_at = fired_at. Returns how many were sent. Takes g->mu. */
size_t pane_rules_group_send(struct pane_rule_group *g, int64_t ts, int64_t resend_delay_ms, int64_t interval_ms,
                             const char *external_url, const struct pane_alert_sink *sink);

/* "ALERTS" sample value etc. helpers for the API. */
const char *pane_alert_state_name(enum pane_alert_state s);

/* Parses a series description "name{a="b"}" (also "{__name__="x"}") into ls
 * (initialised by this call, includes __name__). 0 or PANE_EINVAL. */
int pane_rules_parse_metric(const char *s, struct pane_labels *ls, struct pane_err *err);
/* Prometheus' labels.String(): {__name__="x", a="b"} */
void pane_rules_labels_string(const struct pane_labels *ls, struct pane_buf *b);

/* `pane rules` */
int pane_rules_cmd(int argc, char **argv);
int pane_rules_unittest(char *const *files, size_t n, bool debug);

#endif
