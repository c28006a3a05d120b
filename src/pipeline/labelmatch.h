/*
 * labelmatch.h - label matchers in Alertmanager's syntax: a=b, a!=b, a=~re,
 * a!~re, written "{a=\"b\", c=~\"d.*\"}" or "a=b,c!=d". Alertmanager's routes,
 * inhibit rules and silences use them (notify/amconfig.h), and so do the
 * rules' log metrics (alert/logmetrics.h) that count events.
 */
#ifndef PANE_PIPELINE_LABELMATCH_H
#define PANE_PIPELINE_LABELMATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "pipeline/record.h"

enum pane_am_op { PANE_AM_EQ, PANE_AM_NE, PANE_AM_RE, PANE_AM_NRE };

struct pane_am_matcher {
	char *name;
	char *value;
	enum pane_am_op op;
	void *re; /* pcre2_code for =~ and !~ (anchored) */
};

struct pane_am_matchers {
	struct pane_am_matcher *v;
	size_t n;
};

/* Parses "{a=\"b\", c=~\"d.*\"}" or "a=b,c!=d" (Alertmanager's syntax) and
 * appends to ms. 0 or PANE_EINVAL with a message in err. */
int pane_am_matchers_parse(struct pane_am_matchers *ms, const char *text, struct pane_err *err);
int pane_am_matcher_add(struct pane_am_matchers *ms, const char *name, const char *value, enum pane_am_op op,
                        struct pane_err *err);
void pane_am_matchers_release(struct pane_am_matchers *ms);
bool pane_am_matcher_matches(const struct pane_am_matcher *m, const char *value);
/* True when every matcher matches ls (a missing label has the value ""). */
bool pane_am_matchers_match(const struct pane_am_matchers *ms, const struct pane_labels *ls);
const char *pane_am_op_str(enum pane_am_op op);

#endif
