/*
 * attach.h - rules in `pane serve`: the `rules:` section, evaluation
 * threads, reload, GET /api/v1/rules and /api/v1/alerts (Prometheus' JSON).
 */
#ifndef PANE_ALERT_ATTACH_H
#define PANE_ALERT_ATTACH_H

#include "base/err.h"
#include "host/host.h"
#include "pipeline/reader.h"

/* Reads `rules:`, loads the rule files (an error names file:line:col),
 * registers the routes, starts a thread per group, and registers stop and
 * reload callbacks. Alerts go to s->alerts when set. */
int pane_rules_attach(struct pane_host *s, struct pane_reader rd, struct pane_err *err);

#endif
