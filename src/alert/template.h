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

/* Go's fmt %v / strconv 'g' -1 for a float64 ("1", "0.5", "1e+06", "+Inf"). */
void pane_tmpl_fmt_float_v(double v, char *out, size_t outlen);

#endif
