/*
 * changes.h - "what changed?" over a window W against the window W' of the
 * same length just before it (GET /api/v1/console/changes).
 *
 * Two parts, each usable on its own (and tested on its own):
 *  - log templates: a line is masked (numbers, UUIDs, hex ids, IP
 *    addresses, quoted strings become <*>) and grouped Drain-style (by
 *    token count and first token, then the most similar template; differing
 *    tokens become <*>); templates are ranked by count in W against W'.
 *  - series: per series a robust change score
 *    |median(W) - median(W')| / (MAD(W') + eps), over the reader seam.
 */
#ifndef PANE_CONSOLE_CHANGES_H
#define PANE_CONSOLE_CHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "pipeline/reader.h"

/* Masks one message into out (bounded): variable tokens become "<*>",
 * tokens are joined by one space. */
void pane_console_mask(const char *msg, size_t len, struct pane_buf *out);

struct pane_console_templates;

struct pane_console_templates *pane_console_templates_new(void);
void pane_console_templates_free(struct pane_console_templates *t);
/* Adds a line (which = 0: the window W, 1: the window before). */
void pane_console_templates_add(struct pane_console_templates *t, const char *msg, size_t len, const char *severity,
                                int which);
/* Writes the templates new in W or risen most as a JSON array, at most max:
 * [{"template","count","before","score","example","severity"}]; score is
 * (count + 1) / (before + 1). Only templates with count > before. */
void pane_console_templates_json(const struct pane_console_templates *t, size_t max, struct pane_buf *out);

/* The robust change score of one series: |median(w) - median(p)| /
 * (MAD(p) + eps), eps = max(1e-9, 1% of |median(p)|). NaN when either
 * side has no finite value. med_w, med_p receive the medians. */
double pane_console_change_score(const double *w, size_t nw, const double *p, size_t np, double *med_w, double *med_p);

/* Scores every series matching the matchers over [start - (end - start),
 * end] and writes the top max by score (score > 0) as a JSON array
 * [{"labels":{...},"median","median_before","score"}]. */
int pane_console_series_changes(struct pane_reader reader, const struct pane_matcher *m, size_t n_matchers,
                                int64_t start, int64_t end, size_t max, struct pane_buf *out, struct pane_err *err);

#endif
