/*
 * template.h - the Go text/template subset Prometheus rule files use.
 *
 * Text with actions: {{ pipeline }}, {{ if }}/{{ else if }}/{{ else }}/
 * {{ end }}, {{ with }}, {{ range }}, variables ($x := ...), fields
 * (.Labels.x, $labels.x), parenthesised pipelines, string/number/bool
 * literals, comments and trim markers ({{- -}}); and Prometheus' function
 * set (humanize*, printf, title, toUpper, toLower, reReplaceAll, match,
 * query/first/value/label/strvalue/sortByLabel, args, safeHtml, stripPort,
 * pathPrefix, externalURL, ...). Output follows Go for the same input.
 * Errors read like Go's: "template: NAME:1:12: executing \"NAME\" at <...>: ...".
 */
#ifndef PANE_ALERT_TEMPLATE_H
#define PANE_ALERT_TEMPLATE_H

#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "pipeline/record.h"
#include "pipeline/reader.h"

struct pane_tmpl_data {
	const struct pane_labels *labels;          /* $labels / .Labels */
	const struct pane_labels *external_labels; /* may be NULL */
	const char *external_url;                  /* may be NULL */
	double value;                              /* $value / .Value */
	const struct pane_reader *reader;          /* for query; NULL: query fails */
	int64_t ts;                                /* evaluation time for query (ms) */
};

/* Parses text as template NAME: 0 or PANE_EINVAL with Go's parse message. */
int pane_tmpl_check(const char *name, const char *text, struct pane_err *err);
/* Expands text with Prometheus' alert definitions ($labels, $externalLabels,
 * $externalURL, $value) into out. 0, or PANE_EINVAL with Go's message. */
int pane_tmpl_expand(const char *name, const char *text, const struct pane_tmpl_data *d, struct pane_buf *out,
                     struct pane_err *err);

/* ---- Alertmanager's notification templates ----
 * The same engine with Alertmanager 0.25's data (template.Data: .Receiver,
 * .Status, .Alerts with .Firing/.Resolved, .GroupLabels, .CommonLabels,
 * .CommonAnnotations, .ExternalURL; each alert's .Status, .Labels,
 * .Annotations, .StartsAt, .EndsAt, .GeneratorURL, .Fingerprint; label sets
 * with .SortedPairs, .Names, .Values, .Remove), its functions (toUpper,
 * toLower, title, join, match, safeHtml, reReplaceAll, stringSlice and Go's
 * builtins) and {{define}}/{{template}}. */
struct pane_tmpl_am_alert {
	const char *status; /* "firing" | "resolved" */
	const struct pane_labels *labels, *annotations;
	int64_t starts_ms, ends_ms; /* 0: Go's zero time */
	const char *generator_url;
	const char *fingerprint; /* 16 hex digits */
};

struct pane_tmpl_am_data {
	const char *receiver, *status, *external_url;
	const struct pane_tmpl_am_alert *alerts;
	size_t n_alerts;
	const struct pane_labels *group_labels, *common_labels, *common_annotations;
};

/* Named templates: Alertmanager's defaults (slack.default.title, __subject,
 * pagerduty.default.description, ...) plus the `templates:` files added. */
struct pane_tmpl_set;
struct pane_tmpl_set *pane_tmpl_set_new(void);
/* Adds the {{define}}s of a templates file (a later one replaces an earlier
 * one of the same name). 0, or PANE_EINVAL with Go's parse message. */
int pane_tmpl_set_add(struct pane_tmpl_set *s, const char *name, const char *text, struct pane_err *err);
void pane_tmpl_set_free(struct pane_tmpl_set *s);
/* Parses a receiver field's text (no execution). */
int pane_tmpl_am_check(const struct pane_tmpl_set *s, const char *name, const char *text, struct pane_err *err);
/* Expands text with d; {{template}} finds the text's own defines, then s's. */
int pane_tmpl_am_expand(const struct pane_tmpl_set *s, const char *name, const char *text,
                        const struct pane_tmpl_am_data *d, struct pane_buf *out, struct pane_err *err);

/* Go's fmt %v / strconv 'g' -1 for a float64 ("1", "0.5", "1e+06", "+Inf"). */
void pane_tmpl_fmt_float_v(double v, char *out, size_t outlen);
/* Go's strconv 'e' -1 for a float64 ("1.5e+00", "-2e-07", "NaN"): how
 * Prometheus' API writes an alert's value (alert/rules_api.c). */
void pane_tmpl_fmt_float_e(double v, char *out, size_t outlen);

#endif
